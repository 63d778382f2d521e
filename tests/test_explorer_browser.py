"""The map explorer in real headless Chromium against the real app and store."""
from __future__ import annotations

import time
from urllib.parse import parse_qs, urlparse

import pytest

from atlas.i18n import t

CHOROPLETH_PATHS = "return Array.from(document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive'))"


def until(predicate, timeout: float = 10.0, message: str = "condition"):
    """Poll until `predicate()` is truthy; return its value or fail with `message`."""
    end = time.time() + timeout
    last = None
    while time.time() < end:
        try:
            last = predicate()
            if last:
                return last
        except Exception as exc:  # element not there yet
            last = exc
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {message} (last: {last!r})")


def fills(duo) -> list[str]:
    return duo.driver.execute_script(CHOROPLETH_PATHS + ".map(p => p.getAttribute('fill'))")


def legend_labels(duo) -> list[str]:
    return [e.text for e in duo.find_elements("#ex-legend li")]


def query(duo) -> dict:
    return {k: v[0] for k, v in parse_qs(urlparse(duo.driver.current_url).query).items()}


def coloured_map(duo, n: int = 51) -> list[str]:
    """Wait until the map shows n areas styled from the server's classes."""
    return until(lambda: (f := fills(duo)) and len(f) == n and f.count("#ffffff") < n // 2 and f,
                 message=f"{n} coloured areas")


def choose_indicator(duo, title: str, search: str | None = None) -> None:
    """Open the picker, type into its search as a user would, click the match."""
    duo.find_element("#ex-indicator").click()
    box = until(lambda: duo.find_element(".dash-dropdown-search"), message="search box")
    box.send_keys(search or title)
    option = until(lambda: next((o for o in duo.find_elements("[role=option]") if o.text == title), None),
                   message=f"option {title}")
    duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", option)
    option.click()




def test_map_draws_one_path_per_ortsteil_in_scale_colours(duo):
    colours = coloured_map(duo)
    assert len(colours) == 51
    legend = duo.find_elements("#ex-legend li.oa-legend-class .oa-swatch")
    scale = {duo.driver.execute_script("return getComputedStyle(arguments[0]).backgroundColor", s) for s in legend}
    assert len(legend) == 5
    rgb = {duo.driver.execute_script(
        "const d = document.createElement('div'); d.style.color = arguments[0]; document.body.appendChild(d);"
        "const c = getComputedStyle(d).color; d.remove(); return c;", c) for c in set(colours)}
    assert rgb <= scale  # every area wears a colour from the legend (SGB II has no gaps)
    assert "keine Daten" in duo.find_element("#ex-legend").text
    assert "geheim gehalten" in duo.find_element("#ex-legend").text
    assert duo.find_element("#ex-map-title").text.startswith("SGB-II-Quote")


def test_switching_indicator_changes_legend_fills_and_url(duo):
    before_fills = coloured_map(duo)
    before_legend = legend_labels(duo)
    choose_indicator(duo, "Anteil Kinder unter 6 Jahren", search="unter 6")
    until(lambda: legend_labels(duo) != before_legend, message="a new legend")
    after = coloured_map(duo)
    assert after != before_fills
    assert duo.find_element("#ex-map-title").text.startswith("Anteil Kinder unter 6 Jahren")
    assert until(lambda: query(duo).get("indicator") == "bev_u6", message="indicator in the URL")
    assert query(duo)["period"] == "2025"  # yearly indicator: the quarter's year is kept


def test_an_indicator_switch_restyles_the_areas_in_place_and_new_geometry_replaces_them(duo):
    """dash-leaflet re-adds every area on a new hideout; the map recolours the layers it has (issue 19: the
    cost of a switch at 11,000 areas). Geometry of another boundary set still replaces the layers."""
    before = coloured_map(duo)
    duo.driver.execute_script("window.ortsatlas.map.layer(0).oaTag = 'kept'; "
                              "window.oaPath0 = window.ortsatlas.map.layer(0)._path;")
    choose_indicator(duo, "Anteil Kinder unter 6 Jahren", search="unter 6")
    after = until(lambda: (f := coloured_map(duo)) != before and f, message="recoloured areas")
    assert len(after) == 51
    assert duo.driver.execute_script("return window.ortsatlas.map.layer(0).oaTag") == "kept"
    assert duo.driver.execute_script("return window.ortsatlas.map.layer(0)._path === window.oaPath0")
    shown = duo.driver.execute_script("return window.ortsatlas.map.shown()")
    assert shown == after  # the registry's layers are the ones on screen, in the new colours
    from selenium.webdriver.common.keys import Keys
    duo.find_element("#ex-period [role=slider]").send_keys(Keys.HOME)  # 2012: the old boundary set
    until(lambda: len(fills(duo)) == 50, message="the 50 Ortsteile of the old boundary set")
    assert duo.driver.execute_script("return window.ortsatlas.map.layer(0).oaTag") is None


def test_clicking_an_ortsteil_fills_the_time_series(duo):
    coloured_map(duo)
    assert duo.find_elements("#ex-timeseries .scatterlayer .trace") == []
    duo.driver.execute_script(CHOROPLETH_PATHS + "[10].dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    traces = until(lambda: len(duo.find_elements("#ex-timeseries .scatterlayer .trace")) >= 3 and
                   duo.find_elements("#ex-timeseries .scatterlayer .trace"), message="time series traces")
    assert len(traces) >= 3  # Ortsteil, Stadtbezirk, Stadt
    area = until(lambda: query(duo).get("area"), message="area in the URL")
    legend_text = duo.find_element("#ex-timeseries .legend").text
    assert "Auenstadt" in legend_text and "Stadtbezirk" in legend_text
    widths = duo.driver.execute_script(CHOROPLETH_PATHS + ".map(p => p.getAttribute('stroke-width'))")
    assert widths.count("4") == 1 and len(area) == 4


def test_url_state_restores_the_view(duo):
    url = f"{duo.server_url}/?indicator=bev_u6&period=2016&method=equal_interval&k=4&area=0103"
    duo.driver.get(url)
    coloured_map(duo, n=50)  # 2016 uses the boundaries before the 2022 split
    assert duo.find_element("#ex-indicator").text == "Anteil Kinder unter 6 Jahren"
    assert duo.find_element("#ex-period-label").text == "2016"
    assert len(duo.find_elements("#ex-legend li.oa-legend-class")) == 4
    assert duo.find_element("#ex-method input[value=equal_interval]").is_selected()
    until(lambda: len(duo.find_elements("#ex-timeseries .scatterlayer .trace")) >= 3, message="time series")
    widths = duo.driver.execute_script(CHOROPLETH_PATHS + ".map(p => p.getAttribute('stroke-width'))")
    assert widths.count("4") == 1
    assert query(duo) == {"indicator": "bev_u6", "period": "2016", "method": "equal_interval", "k": "4",
                          "area": "0103"}


@pytest.mark.parametrize("indicator", ["kaufkraft", "hze_quote", "no_such_indicator"])
def test_hidden_indicator_in_url_opens_default_view_with_neutral_message(duo, indicator):
    duo.driver.get(f"{duo.server_url}/?indicator={indicator}&area=0101")
    coloured_map(duo)
    assert duo.find_element("#ex-notice").text == t("unavailable_view")
    assert duo.find_element("#ex-indicator").text == "SGB-II-Quote"
    assert "Kaufkraft" not in duo.driver.page_source and "Hilfen zur Erziehung" not in duo.driver.page_source
    assert until(lambda: query(duo).get("indicator") == "sgb2_quote", message="default in URL")


def test_period_switch_to_old_boundaries_redraws_geometry(duo):
    from selenium.webdriver.common.keys import Keys
    coloured_map(duo)
    thumb = duo.find_element("#ex-period [role=slider]")
    thumb.send_keys(Keys.HOME)  # keyboard: the first period, 2012-Q1, before the split
    until(lambda: duo.find_element("#ex-period-label").text == "Q1 2012", message="first period selected")
    assert len(coloured_map(duo, n=50)) == 50
    thumb.send_keys(Keys.END)
    until(lambda: duo.find_element("#ex-period-label").text == "Q3 2025", message="last public period")
    assert len(coloured_map(duo, n=51)) == 51


def test_point_layers_can_be_toggled(duo):
    from selenium.webdriver.common.action_chains import ActionChains
    coloured_map(duo)
    ActionChains(duo.driver).move_to_element(duo.find_element(".leaflet-control-layers-toggle")).perform()
    label = until(lambda: next(lbl for lbl in duo.find_elements(".leaflet-control-layers-overlays label")
                               if lbl.text.strip() == "Kitas"), message="Kitas toggle")
    label.click()
    until(lambda: len(fills(duo)) > 51, message="Kita markers")
    label.click()
    until(lambda: len(fills(duo)) == 51, message="Kita markers removed")


def test_no_request_leaves_the_machine(duo):
    coloured_map(duo)
    names = duo.driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert names and all(n.startswith(duo.server_url) for n in names), names


@pytest.mark.parametrize("size,side_by_side", [((1024, 768), True), ((768, 1024), False), ((390, 844), False)])
def test_tablet_and_phone_layouts(duo, size, side_by_side):
    duo.driver.set_window_size(*size)
    duo.driver.get(duo.server_url)
    coloured_map(duo)
    rect = "return arguments[0].getBoundingClientRect().toJSON()"
    map_box = duo.driver.execute_script(rect, duo.find_element(".oa-map-wrap"))
    panel_box = duo.driver.execute_script(rect, duo.find_element(".oa-panel"))
    if side_by_side:
        assert panel_box["left"] >= map_box["right"] - 1 and map_box["width"] > panel_box["width"]
    else:
        assert panel_box["top"] >= map_box["bottom"] - 1 and map_box["top"] < panel_box["top"]
        assert map_box["height"] > 0.5 * duo.driver.execute_script("return window.innerHeight")
    for selector in (".oa-panel summary", ".leaflet-control-zoom a", "#ex-method label"):
        for el in duo.find_elements(selector):
            box = duo.driver.execute_script(rect, el)
            assert box["height"] >= 44, (selector, box)


def test_hover_shows_name_value_and_unit(duo):
    from selenium.webdriver.common.action_chains import ActionChains
    coloured_map(duo)
    path = duo.driver.execute_script(CHOROPLETH_PATHS + "[3]")
    ActionChains(duo.driver).move_to_element(path).perform()
    tip = until(lambda: duo.find_element(".leaflet-tooltip").text, message="tooltip")
    name, value = tip.split("\n")
    assert name.split(" ")[-1].isdigit() and len(name.split(" ")[-1]) == 4  # "<Name> 0103"
    assert value.endswith(" %") and "," in value  # German decimal comma and the unit


def test_info_panel_and_boundary_change_in_time_series(duo):
    duo.driver.get(f"{duo.server_url}/?indicator=bev_u6&area=0208")
    coloured_map(duo)
    duo.find_element("#ex-info").find_element("xpath", "../summary").click()  # the panel is collapsed
    info = until(lambda: duo.find_element("#ex-info").text, message="info panel")
    for expected in ("Einwohner unter 6 Jahren je 100 Einwohner.", "Statistikstelle", "Einwohnermelderegister",
                     "2012 – 2025", "öffentlich", "Letzte Aktualisierung"):
        assert expected in info
    annotations = until(lambda: duo.find_element("#ex-timeseries").text, message="time series text")
    assert "Gebietsstand 2022" in annotations
    assert "Vorgänger: Hafenviertel" in duo.find_element("#ex-timeseries .legend").text


def test_export_panel_adds_no_page_height_and_focus_keeps_the_app_in_place(duo):
    duo.driver.set_window_size(1024, 768)
    duo.driver.get(duo.server_url)
    coloured_map(duo)
    height = "return [document.documentElement.scrollHeight, window.scrollY]"
    before, _ = duo.driver.execute_script(height)
    duo.find_element("#ex-export summary").click()
    duo.driver.execute_script("document.getElementById('ex-share-url').focus()")
    after, scrolled = duo.driver.execute_script(height)
    assert after == before and scrolled == 0, (before, after, scrolled)  # was ~1,000 px more, and scrolled away
