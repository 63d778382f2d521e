"""The big path of the map (issue 19) in headless Chromium: the demo city forced onto it (canvas and zoom bands
from one area), so selection, hover, the tap card, the indicator switch and the table twin are proven there too."""
from __future__ import annotations

import dataclasses
import shutil
import time

import pytest

from tests.test_explorer_browser import choose_indicator, until

SHOWN = "return window.ortsatlas.map.shown()"


@pytest.fixture()
def big_duo(dash_duo, atlas, tmp_path):
    from atlas.services.context import Atlas
    from atlas.web.app import create_app
    shutil.copytree(atlas.store.data_dir, tmp_path / "data", ignore=shutil.ignore_patterns("uploads", "tmp"))
    settings = dataclasses.replace(atlas.settings, data_dir=tmp_path / "data", tmp_dir=tmp_path / "data" / "tmp",
                                   canvas_from_areas=1)
    dash_duo.start_server(create_app(atlas=Atlas(settings)))
    yield dash_duo
    errors = [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]
    assert errors == [], f"browser console errors: {errors}"


def coloured(duo, n: int = 51) -> list[str]:
    return until(lambda: (f := duo.driver.execute_script(SHOWN)) and len(f) == n and f.count("#ffffff") < n // 2
                 and f, message=f"{n} coloured areas on the canvas")


def at_area(duo, i: int, click: bool = False) -> None:
    """Put the pointer on area i (its label point, in viewport pixels), and click there if asked."""
    from selenium.webdriver.common.actions.action_builder import ActionBuilder
    spot = duo.driver.execute_script(f"return window.ortsatlas.map.spot({i})")
    actions = ActionBuilder(duo.driver)
    actions.pointer_action.move_to_location(int(spot["x"]), int(spot["y"]))
    if click:
        actions.pointer_action.click()
    actions.perform()


def test_big_path_draws_on_canvas_and_recolours_on_an_indicator_switch(big_duo):
    before = coloured(big_duo)
    assert big_duo.find_elements(".leaflet-overlay-pane canvas")
    assert big_duo.find_elements(".leaflet-overlay-pane path.leaflet-interactive") == []
    choose_indicator(big_duo, "Anteil Kinder unter 6 Jahren", search="unter 6")
    until(lambda: coloured(big_duo) != before, message="recoloured canvas")


def test_big_path_hover_and_tap_card_work_on_the_canvas(big_duo):
    coloured(big_duo)
    at_area(big_duo, 3)
    tip = until(lambda: big_duo.find_element(".leaflet-tooltip").text, message="tooltip over the canvas")
    name, value = tip.split("\n")
    assert len(name.split(" ")[-1]) == 4 and value.endswith(" %")
    at_area(big_duo, 10, click=True)
    until(lambda: len(big_duo.find_elements("#ex-timeseries .scatterlayer .trace")) >= 3,
          message="the tapped area's time series")
    assert until(lambda: big_duo.find_element("#ex-area").text, message="the area card")


def test_big_path_fetches_finer_geometry_only_when_the_zoom_crosses_a_band(big_duo):
    coloured(big_duo)
    before = big_duo.driver.execute_script("return window.ortsatlas.map.vertices()")
    calls = "return performance.getEntriesByType('resource').filter(e => e.name.includes('_dash-update')).length"
    for _ in range(5):  # five levels out from the city's ~12: the coarsest band (below zoom 9), which has no lower
        big_duo.find_element(".leaflet-control-zoom-out").click()
        time.sleep(0.4)  # Leaflet's zoom animation
    coarse = until(lambda: (v := big_duo.driver.execute_script("return window.ortsatlas.map.vertices()")) < before
                   and v, message="coarser geometry")
    assert coarse < before and len(coloured(big_duo)) == 51  # same areas, same colours, less detail
    settled = -1
    while settled != (now := big_duo.driver.execute_script(calls)):  # the last band's answer may still come
        settled = now
        time.sleep(1.0)
    big_duo.driver.execute_script("document.querySelector('.leaflet-control-zoom-out').click()")
    big_duo.driver.execute_script("document.querySelector('.leaflet-control-zoom-in').click()")
    time.sleep(1.0)  # give a wrongful request time to appear: zooming inside a band must ask nothing
    assert big_duo.driver.execute_script(calls) == settled


def test_big_path_keeps_the_table_twin(big_duo):
    coloured(big_duo)
    big_duo.find_element("#ex-table-toggle").click()
    rows = until(lambda: big_duo.find_elements("#ex-table-rows tbody tr"), message="the table twin's rows")
    assert len(rows) == 51
