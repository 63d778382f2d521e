"""The vector-tile path of the map (issue 19) in headless Chromium: the demo city forced onto it.

ATLAS_TILES_FROM_AREAS is lowered to 10 through the app's settings, so the
51 Ortsteile are drawn from tiles stored with their set; colours come from
the same hideout as the GeoJSON map, an indicator switch recolours without
fetching a tile again, and a click, hover and the table twin still work.
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
import shapely

from atlas.services import choropleth, queries
from tests.test_explorer_browser import choose_indicator, until

SHOWN = "return window.ortsatlas.map.shown()"
TILE_REQUESTS = "return performance.getEntriesByType('resource').filter(e => e.name.includes('/tiles/')).length"


@pytest.fixture()
def tiles_duo(dash_duo, tiled_atlas):
    from atlas.web.app import create_app
    dash_duo.start_server(create_app(atlas=tiled_atlas))
    yield dash_duo
    errors = [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]
    assert errors == [], f"browser console errors: {errors}"


def coloured(duo, n: int = 51) -> list[str]:
    """The fills of all n areas once the tiles show them (and most are coloured, not 'missing')."""
    def ready():
        if not duo.driver.execute_script("return !!(window.ortsatlas.tiles && window.ortsatlas.tiles.active())"):
            return None
        f = duo.driver.execute_script(SHOWN)
        return f if len(f) == n and f.count("#ffffff") < n // 2 else None
    return until(ready, timeout=20, message=f"{n} coloured areas from the tiles")


def expected_fills(atlas, url: str) -> list[str]:
    """The colours the server's map view gives every area for the view in the page's address."""
    from atlas.web.pages.explorer import resolve_state
    from auth.permissions import ANONYMOUS
    state = resolve_state(atlas, ANONYMOUS, dict(parse_qsl(urlsplit(url).query)))
    view = choropleth.map_view(atlas, ANONYMOUS, state.indicator, state.period, state.method, state.k)
    h = view.hideout
    return [h["col"][c] if c >= 0 else (h["sc"] if c == -2 else h["mc"]) for c in h["cls"]]


def click_area(duo, atlas, i: int, click: bool = True) -> str:
    """Point at (and click) area i at a point inside it; its name."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    areas = queries.areas(atlas, "ortsteil", queries.current_set(atlas))
    inside = shapely.from_wkb(areas["geometry"].iloc[i]).representative_point()
    spot = duo.driver.execute_script(f"return window.ortsatlas.tiles.spot({inside.y}, {inside.x})")
    actions = ActionBuilder(duo.driver)
    actions.pointer_action.move_to_location(int(spot["x"]), int(spot["y"]))
    if click:
        actions.pointer_action.click()
    actions.perform()
    return areas["name"].iloc[i]


def test_tiles_draw_the_map_in_the_hideouts_colours_and_recolour_without_refetching(tiles_duo, tiled_atlas):
    shown = coloured(tiles_duo)
    assert tiles_duo.find_elements(".leaflet-tile-pane canvas")  # the tiles, on canvases
    assert tiles_duo.find_elements(".leaflet-overlay-pane path.leaflet-interactive") == []  # no GeoJSON areas
    until(lambda: urlsplit(tiles_duo.driver.current_url).query, message="the view in the address")
    assert shown == expected_fills(tiled_atlas, tiles_duo.driver.current_url)
    fetched = tiles_duo.driver.execute_script(TILE_REQUESTS)
    assert fetched > 0
    choose_indicator(tiles_duo, "Anteil Kinder unter 6 Jahren", search="unter 6")
    after = until(lambda: (f := coloured(tiles_duo)) != shown and f, message="recoloured tiles")
    until(lambda: "indicator=" in tiles_duo.driver.current_url
          and expected_fills(tiled_atlas, tiles_duo.driver.current_url) == after, message="the new view's colours")
    assert tiles_duo.driver.execute_script(TILE_REQUESTS) == fetched  # values moved, tiles did not


def test_a_click_on_a_tile_selects_the_area_and_hover_names_it(tiles_duo, tiled_atlas):
    coloured(tiles_duo)
    name = click_area(tiles_duo, tiled_atlas, 7, click=False)
    assert until(lambda: tiles_duo.find_element(".leaflet-tooltip").text, message="tooltip").startswith(name)
    name = click_area(tiles_duo, tiled_atlas, 20)
    assert until(lambda: name in tiles_duo.find_element("#ex-area").text and name, message="the area card")
    until(lambda: "area=" in tiles_duo.driver.current_url, message="the selection in the address")


def test_the_table_twin_works_on_the_tile_path(tiles_duo):
    coloured(tiles_duo)
    tiles_duo.find_element("#ex-table-toggle").click()
    rows = until(lambda: tiles_duo.find_elements("#ex-table-rows tbody tr"), message="the table twin's rows")
    assert len(rows) == 51


def test_a_level_below_the_threshold_is_drawn_from_geojson_and_back_to_tiles(tiles_duo):
    coloured(tiles_duo)
    tiles_duo.driver.execute_script(
        "Array.from(document.querySelectorAll('#ex-level label')).find(l => l.innerText.includes('Stadtbezirk'))"
        ".querySelector('input').click()")
    until(lambda: not tiles_duo.driver.execute_script("return window.ortsatlas.tiles.active()")
          and len(tiles_duo.driver.execute_script(SHOWN)) == 8, message="the 8 Stadtbezirke as GeoJSON")
    assert not tiles_duo.find_elements(".leaflet-tile-pane canvas")
    tiles_duo.driver.execute_script(
        "Array.from(document.querySelectorAll('#ex-level label')).find(l => l.innerText.includes('Ortsteil'))"
        ".querySelector('input').click()")
    coloured(tiles_duo)  # the 51 Ortsteile from tiles again


PIXEL = """
const [x, y] = [arguments[0], arguments[1]];
const c = document.elementsFromPoint(x, y).find(e => e.tagName === 'CANVAS' && e.closest('.leaflet-tile-pane'));
if (!c) { return null; }
const r = c.getBoundingClientRect();
const d = c.getContext('2d').getImageData(Math.floor((x - r.left) * c.width / r.width),
                                          Math.floor((y - r.top) * c.height / r.height), 1, 1).data;
return [d[0], d[1], d[2], d[3]];
"""


def pixel_at(duo, atlas, i: int) -> list[int] | None:
    """The tile canvas's pixel inside area i (what is painted, not what the areas' options say)."""
    areas = queries.areas(atlas, "ortsteil", queries.current_set(atlas))
    inside = shapely.from_wkb(areas["geometry"].iloc[i]).representative_point()
    spot = duo.driver.execute_script(f"return window.ortsatlas.tiles.spot({inside.y}, {inside.x})")
    return duo.driver.execute_script(PIXEL, spot["x"], spot["y"])


def near(pixel: list[int] | None, colour: str) -> bool:
    rgb = [int(colour[k:k + 2], 16) for k in (1, 3, 5)]
    return pixel is not None and pixel[3] > 0 and all(abs(a - b) <= 3 for a, b in zip(pixel, rgb))


def test_a_switch_repaints_the_tile_canvases_in_the_new_colours(tiles_duo, tiled_atlas):
    """The tiles are painted once per switch from the hideout's class codes: the pixels follow, and the
    paint counter the bench waits for moves with them."""
    coloured(tiles_duo)
    until(lambda: urlsplit(tiles_duo.driver.current_url).query, message="the view in the address")
    areas = [3, 17, 40]
    first_url = tiles_duo.driver.current_url
    before = expected_fills(tiled_atlas, first_url)
    until(lambda: all(near(pixel_at(tiles_duo, tiled_atlas, i), before[i]) for i in areas),
          message="the first view's colours on the canvases")
    painted = tiles_duo.driver.execute_script("return window.ortsatlas.tiles.painted()")
    choose_indicator(tiles_duo, "Anteil Kinder unter 6 Jahren", search="unter 6")
    until(lambda: tiles_duo.driver.current_url != first_url, message="the new view in the address")
    after = expected_fills(tiled_atlas, tiles_duo.driver.current_url)
    assert [after[i] for i in areas] != [before[i] for i in areas]  # else the test could not tell
    until(lambda: all(near(pixel_at(tiles_duo, tiled_atlas, i), after[i]) for i in areas),
          message="the new view's colours on the canvases")
    assert tiles_duo.driver.execute_script("return window.ortsatlas.tiles.painted()") > painted


def test_hover_shows_the_label_asked_from_the_server(tiles_duo, tiled_atlas):
    """The tiled hideout has no labels: the tooltip's value comes from /api/v1/map-label, as the map view has it."""
    coloured(tiles_duo)
    until(lambda: urlsplit(tiles_duo.driver.current_url).query, message="the view in the address")
    from atlas.web.pages.explorer import resolve_state
    from auth.permissions import ANONYMOUS
    state = resolve_state(tiled_atlas, ANONYMOUS, dict(parse_qsl(urlsplit(tiles_duo.driver.current_url).query)))
    view = choropleth.map_view(tiled_atlas, ANONYMOUS, state.indicator, state.period, state.method, state.k)
    i = 12
    name = click_area(tiles_duo, tiled_atlas, i, click=False)
    label = view.hideout["lab"][i]
    assert label and any(ch.isdigit() for ch in label)
    text = until(lambda: (t := tiles_duo.find_element(".leaflet-tooltip").text) and label in t and t,
                 message=f"the label {label!r} in the tooltip")
    assert text.startswith(name)
