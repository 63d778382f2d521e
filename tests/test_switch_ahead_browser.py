"""The desktop dropdown's switch sent ahead, and the tiled map painted from an early answer (issue 19).

The demo city is forced onto the tile path (`tiled_atlas`: tiles stored for the 51 Ortsteile). The server
records every map request it answers (a `before_request` hook on the app under test), so a test can tell
when the map's request left and how often the server was asked: a press on a dropdown option sends the
map's request before Dash has the value (assets/switch.js), the click that follows takes that answer, and
`ortsatlas.map.paint` repaints the tile canvases from a hideout (assets/tiles.js).
"""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from tests.test_explorer_browser import until
from tests.test_tiles_browser import coloured, expected_fills, near, pixel_at

MAP_OUTPUT = ".ex-geojson.hideout."
TITLE, SEARCH = "Anteil Kinder unter 6 Jahren", "unter 6"
AREAS = (3, 17, 40)  # areas whose pixels are read (inside the map's first view)


class MapRequests:
    """The map callback's requests the server received, as (indicator value, request number)."""

    def __init__(self) -> None:
        self.indicators: list[str | None] = []
        self.fail_next_for: str | None = None  # answer the next map request for this indicator with a 500

    def record(self):
        """Flask `before_request`: note a map request's indicator; fail it when told to (`fail_next_for`)."""
        from flask import abort, request
        if not request.path.endswith("/_dash-update-component"):
            return None
        body = request.get_json(silent=True) or {}
        if MAP_OUTPUT not in str(body.get("output", "")):
            return None
        value = next((e.get("value") for e in body.get("inputs", []) if isinstance(e, dict)
                      and e.get("id") == "ex-indicator" and e.get("property") == "value"), None)
        self.indicators.append(value)
        if value is not None and value == self.fail_next_for:
            self.fail_next_for = None
            abort(500)
        return None

    def count(self, indicator: str) -> int:
        return self.indicators.count(indicator)


@pytest.fixture()
def ahead(dash_duo, tiled_atlas):
    """The tiled demo app in headless Chromium with its map requests recorded; no console errors but the
    failure a test asks for."""
    from atlas.web.app import create_app
    app = create_app(atlas=tiled_atlas)
    requests = MapRequests()
    app.server.before_request(requests.record)
    dash_duo.start_server(app)
    yield dash_duo, requests
    errors = [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"
              and not ("_dash-update-component" in e["message"] and "500" in e["message"])]
    assert errors == [], f"browser console errors: {errors}"


def indicator_id(atlas, title: str) -> str:
    return next(i for i, ind in atlas.indicator_by_id.items() if ind.title("de") == title)


def open_option(duo, title: str, search: str):
    """Open the desktop dropdown, type into its search, and return the option element for `title`."""
    duo.find_element("#ex-indicator").click()
    box = until(lambda: duo.find_element(".dash-dropdown-search"), message="search box")
    box.send_keys(search)
    option = until(lambda: next((o for o in duo.find_elements("[role=option]") if o.text == title), None),
                   message=f"option {title}")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", option)
    return option


def first_view(duo, atlas) -> tuple[str, list[str]]:
    """Wait for the coloured tiles and the view in the address; the address and its colours."""
    coloured(duo)
    until(lambda: urlsplit(duo.driver.current_url).query, message="the view in the address")
    url = duo.driver.current_url
    fills = expected_fills(atlas, url)
    until(lambda: all(near(pixel_at(duo, atlas, i), fills[i]) for i in AREAS), message="the first colours")
    return url, fills


def new_view(duo, atlas, first_url: str) -> list[str]:
    """The colours of the view the page moved to (after its address changed)."""
    until(lambda: duo.driver.current_url != first_url, message="the new view in the address")
    return expected_fills(atlas, duo.driver.current_url)


def test_a_press_on_an_option_sends_the_maps_request_and_its_click_takes_that_answer(ahead, tiled_atlas):
    duo, requests = ahead
    url, before = first_view(duo, tiled_atlas)
    target = indicator_id(tiled_atlas, TITLE)
    option = open_option(duo, TITLE, SEARCH)
    press = ActionChains(duo.driver).move_to_element(option).click_and_hold()
    press.perform()
    # Pressed, not yet chosen: the request has left, nothing is painted and Dash does not have the value.
    until(lambda: requests.count(target) == 1, message="the map's request sent on the press")
    assert all(near(pixel_at(duo, tiled_atlas, i), before[i]) for i in AREAS)
    assert duo.driver.current_url == url
    ActionChains(duo.driver).release().perform()
    after = new_view(duo, tiled_atlas, url)
    assert f"indicator={target}" in duo.driver.current_url
    assert [after[i] for i in AREAS] != [before[i] for i in AREAS]  # else the test could not tell
    until(lambda: all(near(pixel_at(duo, tiled_atlas, i), after[i]) for i in AREAS),
          message="the new indicator's colours on the canvases")
    until(lambda: coloured(duo) == after, message="every area in the new indicator's classes")
    until(lambda: duo.driver.execute_script("return !window.store.getState().isLoading"), message="a quiet page")
    assert requests.count(target) == 1  # Dash's own request took the answer sent ahead


# Click the option (or press Enter in the search box), then note, in the first frame whose tiles are painted
# anew, whether Dash's store still held the map's old hideout (the colours came from the answer as it arrived,
# not through Dash's renderer).
CHOOSE = """
const [target, how, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const hideout = () => {
  const state = window.store.getState(), path = state.paths.strs['ex-geojson'];
  let node = state.layout;
  path.forEach(k => { node = node[k]; });
  return node.props.hideout;
};
const [old, painted, t0] = [hideout(), window.ortsatlas.tiles.painted(), performance.now()];
if (how === 'enter') {
  target.dispatchEvent(new KeyboardEvent('keydown', {key: 'Enter', bubbles: true}));
  target.dispatchEvent(new KeyboardEvent('keyup', {key: 'Enter', bubbles: true}));
} else {
  target.click();
}
const poll = () => {
  if (window.ortsatlas.tiles.painted() !== painted) { done(hideout() === old); return; }
  if (performance.now() - t0 > 20000) { done(null); return; }
  requestAnimationFrame(poll);
};
requestAnimationFrame(poll);
"""


def test_a_click_alone_sends_ahead_once_and_paints_before_dash(ahead, tiled_atlas):
    """The bench's switch (the option's click, no press): one request; the tiles are painted from the answer
    before Dash has put it into its store, and only once (Dash's same colours later cost no second paint)."""
    duo, requests = ahead
    url, before = first_view(duo, tiled_atlas)
    target = indicator_id(tiled_atlas, TITLE)
    painted = duo.driver.execute_script("return window.ortsatlas.tiles.painted()")
    option = open_option(duo, TITLE, SEARCH)
    assert duo.driver.execute_async_script(CHOOSE, option, "click") is True
    after = new_view(duo, tiled_atlas, url)
    until(lambda: coloured(duo) == after, message="every area in the new indicator's classes")
    until(lambda: duo.driver.execute_script("return !window.store.getState().isLoading"), message="a quiet page")
    assert requests.count(target) == 1
    assert duo.driver.execute_script("return window.ortsatlas.tiles.painted()") == painted + 1


def test_enter_in_the_search_box_takes_the_same_path(ahead, tiled_atlas):
    """Enter in the dropdown's search chooses the first match: its map request is sent ahead and painted early."""
    duo, requests = ahead
    url, _before = first_view(duo, tiled_atlas)
    target = indicator_id(tiled_atlas, TITLE)
    open_option(duo, TITLE, SEARCH)
    box = duo.find_element(".dash-dropdown-search")
    duo.driver.execute_script("const o = window.ortsatlas, send = o.sendAhead; window.__sent = [];"
                              "o.sendAhead = function (id, v) { window.__sent.push([id, v]); return send(id, v); };")
    assert duo.driver.execute_async_script(CHOOSE, box, "enter") is True
    assert duo.driver.execute_script("return window.__sent") == [["ex-indicator", target]]
    after = new_view(duo, tiled_atlas, url)
    assert f"indicator={target}" in duo.driver.current_url
    until(lambda: coloured(duo) == after, message="every area in the new indicator's classes")
    until(lambda: duo.driver.execute_script("return !window.store.getState().isLoading"), message="a quiet page")
    assert requests.count(target) == 1


def test_a_failed_early_request_leaves_the_switch_to_dash(ahead, tiled_atlas):
    """The request sent on the press fails: it is forgotten, Dash asks again on the click, the map follows."""
    duo, requests = ahead
    url, before = first_view(duo, tiled_atlas)
    target = indicator_id(tiled_atlas, TITLE)
    requests.fail_next_for = target
    option = open_option(duo, TITLE, SEARCH)
    ActionChains(duo.driver).move_to_element(option).click_and_hold().perform()
    until(lambda: requests.count(target) == 1 and requests.fail_next_for is None, message="the failed request")
    ActionChains(duo.driver).release().perform()
    after = new_view(duo, tiled_atlas, url)
    until(lambda: coloured(duo) == after, message="every area in the new indicator's classes")
    assert requests.count(target) == 2


PAINT = """
const h = {cc: '0'.repeat(arguments[0]), col: [arguments[1]], mc: '#ffffff', sc: '#bdbdbd', sel: null};
const before = window.ortsatlas.tiles.painted();
const first = window.ortsatlas.map.paint(h);
const again = window.ortsatlas.map.paint(Object.assign({}, h));
return [first, again, window.ortsatlas.tiles.painted() - before];
"""


def test_paint_repaints_the_tiles_from_a_hideout_once(ahead, tiled_atlas):
    """`ortsatlas.map.paint` on a tiled level: the canvases take the hideout's colours at once; the same colours
    again (as Dash hands them over after an early paint) are not painted a second time."""
    duo, _requests = ahead
    _url, before = first_view(duo, tiled_atlas)
    colour = "#123456"
    assert colour not in before
    first, again, paints = duo.driver.execute_script(PAINT, 51, colour)
    assert first is True and again is True
    assert paints == 1
    assert all(near(pixel_at(duo, tiled_atlas, i), colour) for i in AREAS)
    assert set(duo.driver.execute_script("return window.ortsatlas.map.shown()")) == {colour}
