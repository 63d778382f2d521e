"""Brushing on the compare page's scatter tab (issue 14), in headless Chromium at desktop and tablet sizes.

A box dragged in the scatter highlights exactly the areas whose points lie in
the box on the map next to it (computed here from the figure's data and the
box's axis range, not read back from the page's own list), and a click on an
area of the map selects its point in the scatter.
"""
from __future__ import annotations

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from tests.test_compare_browser import SIZES, _shot
from tests.test_explorer_browser import until

pytestmark = pytest.mark.browser

HIGHLIGHTED = """return Array.from(document.querySelectorAll('#cmp-rel-map path[data-area]'))
    .filter(p => p.getAttribute('stroke-width') === '3').map(p => p.getAttribute('data-area')).sort();"""


def _click_area(duo, key: str) -> None:
    """Click the area, then move the mouse off the map (hovering outlines an area as thickly as a highlight)."""
    path = duo.find_element(f"#cmp-rel-map path[data-area='{key}']")
    ActionChains(duo.driver).move_to_element(path).click().perform()
    ActionChains(duo.driver).move_to_element(duo.find_element(".oa-cmp-title")).perform()


def _open(duo, size: str) -> None:
    duo.driver.set_window_size(*SIZES[size])
    duo.driver.get(duo.server_url + "/vergleich?view=relation")
    until(lambda: duo.driver.execute_script(
        "return document.querySelectorAll('#cmp-rel-chart .scatterlayer .trace:first-child path.point').length") > 5,
        timeout=30, message="scatter points")
    until(lambda: duo.driver.execute_script(
        "return document.querySelectorAll('#cmp-rel-map path[data-area]').length") > 5, timeout=30,
        message="areas on the map")


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_a_box_in_the_scatter_highlights_its_areas_on_the_map(duo, size):
    _open(duo, size)
    assert duo.driver.execute_script(HIGHLIGHTED) == []  # nothing brushed: no area stands out
    drag = duo.find_element("#cmp-rel-chart .nsewdrag")
    w, h = drag.size["width"], drag.size["height"]
    # from 10 % to 60 % of the plot's width and from 10 % to 70 % of its height (Selenium 4.2: offsets from the top left)
    ActionChains(duo.driver).move_to_element_with_offset(drag, int(0.1 * w), int(0.1 * h)).click_and_hold() \
        .move_by_offset(int(0.25 * w), int(0.3 * h)).move_by_offset(int(0.25 * w), int(0.3 * h)).release().perform()
    # the box as plotly keeps it (data coordinates), and the points in it from the figure's own data
    inside = until(lambda: duo.driver.execute_script("""
        const gd = document.querySelector('#cmp-rel-chart .js-plotly-plot');
        const box = (gd._fullLayout.selections || [])[0];
        if (!box) { return null; }
        const [x0, x1] = [box.x0, box.x1].sort((a, b) => a - b), [y0, y1] = [box.y0, box.y1].sort((a, b) => a - b);
        const t = gd.data[0];
        return t.customdata.filter((k, i) => t.x[i] >= x0 && t.x[i] <= x1 && t.y[i] >= y0 && t.y[i] <= y1).sort();"""),
        timeout=10, message="the box drawn in the scatter")
    assert len(inside) >= 2, "the box should catch some points"
    until(lambda: duo.driver.execute_script(HIGHLIGHTED) == inside, timeout=10,
          message=f"map highlights {inside}, shows {duo.driver.execute_script(HIGHLIGHTED)}")
    _shot(duo, f"compare_brush_{size}")


@pytest.mark.parametrize("size", ["desktop"])
def test_a_click_on_an_area_selects_its_point_in_the_scatter(duo, size):
    _open(duo, size)
    key = duo.driver.execute_script(
        "return document.querySelector('#cmp-rel-chart .js-plotly-plot').data[0].customdata[3];")
    _click_area(duo, key)
    until(lambda: duo.driver.execute_script(HIGHLIGHTED) == [key], timeout=10, message=f"{key} highlighted")
    selected = until(lambda: duo.driver.execute_script(
        "const t = document.querySelector('#cmp-rel-chart .js-plotly-plot').data[0];"
        "return t.selectedpoints && t.selectedpoints.map(i => t.customdata[i]);"), timeout=10,
        message="the point selected in the scatter")
    assert selected == [key]
    # the selected point is drawn as selected: one point at full opacity, the others faded
    opaque = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#cmp-rel-chart .scatterlayer .trace:first-child path.point'))"
        ".filter(p => parseFloat(getComputedStyle(p).opacity) > 0.9).length;")
    assert opaque == 1
    _click_area(duo, key)  # a second click on the same area takes it out again
    until(lambda: duo.driver.execute_script(HIGHLIGHTED) == [], timeout=10, message="highlight removed")
