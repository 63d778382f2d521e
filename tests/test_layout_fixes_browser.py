"""Three layout defects from a browser review, checked in headless Chromium.

1. A signed-in admin's header at 1280 px cut the brand ("Ortsatlas Auen…"):
   the city's name must be whole, in the header's one row, with every link.
2. On a phone the play tab's legend lay over a large part of its map: there it
   goes below the map; on a desktop it stays on the map.
3. The index builder's map showed an empty legend box before a preview: no box
   until there is a legend to show.

Set ATLAS_SCREENSHOTS to a folder to keep the screenshots.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.test_explorer_browser import until
from tests.test_roles_browser import log_in

pytestmark = pytest.mark.browser

SHOTS = os.environ.get("ATLAS_SCREENSHOTS")

BRAND = """
const box = e => e.getBoundingClientRect();
const brand = document.querySelector('.oa-brand'), city = brand.querySelector('small');
const header = document.querySelector('.oa-header');
const b = box(brand), c = box(city), h = box(header);
return {brandClient: brand.clientWidth, brandScroll: brand.scrollWidth,
        cityClient: city.clientWidth, cityScroll: city.scrollWidth,
        cityInside: c.left >= b.left - 0.5 && c.right <= b.right + 0.5 && c.top >= h.top && c.bottom <= h.bottom,
        brandInside: b.top >= h.top && b.bottom <= h.bottom,
        header: h.height, headerScroll: header.scrollWidth, headerClient: header.clientWidth,
        links: Array.from(document.querySelectorAll('#oa-nav a')).filter(a => a.offsetParent !== null).length};
"""

RECTS = """
const r = id => { const e = document.getElementById(id); if (!e || e.offsetParent === null) { return null; }
                  const b = e.getBoundingClientRect(); return {left: b.left, right: b.right, top: b.top,
                                                               bottom: b.bottom, width: b.width, height: b.height}; };
return {legend: r(arguments[0]), map: r(arguments[1])};
"""


def _shot(duo, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        duo.driver.save_screenshot(str(Path(SHOTS) / f"layout_{name}.png"))


def _overlap(a: dict, b: dict) -> float:
    """The area two rectangles share, in px²."""
    w = min(a["right"], b["right"]) - max(a["left"], b["left"])
    h = min(a["bottom"], b["bottom"]) - max(a["top"], b["top"])
    return max(w, 0) * max(h, 0)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_admin_header_shows_the_whole_brand_beside_every_link(duo, atlas, lang):
    log_in(duo, "admin")
    city = atlas.store.manifest()["city"]["name"]
    for width in (1280, 1366, 1440, 1600):  # the full row starts at 1280 px
        duo.driver.set_window_size(width, 900)
        duo.driver.get(duo.server_url + "/admin" + ("?lang=en" if lang == "en" else ""))
        until(lambda: duo.find_elements("#oa-admin-link") and duo.find_elements("main h1"), timeout=30,
              message="admin page")
        geo = duo.driver.execute_script(BRAND)
        _shot(duo, f"admin_header_{lang}_{width}")
        assert duo.find_element(".oa-brand small").text == city
        assert geo["brandScroll"] <= geo["brandClient"] and geo["cityScroll"] <= geo["cityClient"], (width, geo)
        assert geo["cityInside"] and geo["brandInside"], (width, geo)  # nothing cut, nothing outside the header
        assert geo["header"] <= 60 and geo["headerScroll"] <= geo["headerClient"], (width, geo)  # one row
        assert geo["links"] >= 9, (width, geo)  # every link of an admin stays in the row


def _play(duo, width: int, height: int) -> dict:
    duo.driver.set_window_size(width, height)
    duo.driver.get(duo.server_url + "/vergleich?view=play&play=sgb2_u15")
    until(lambda: duo.find_elements("#cmp-pl-legend li.oa-legend-class"), timeout=30, message="play legend")
    until(lambda: duo.find_elements("#cmp-pl-map path.leaflet-interactive"), timeout=30, message="play map")
    duo.driver.execute_script("document.getElementById('cmp-pl-map').scrollIntoView();")
    return duo.driver.execute_script(RECTS, "cmp-pl-legend", "cmp-pl-map")


def test_play_legend_goes_below_the_map_on_a_phone_and_stays_on_it_on_a_desktop(duo):
    phone = _play(duo, 390, 844)
    _shot(duo, "play_phone")
    legend, frame = phone["legend"], phone["map"]
    assert legend and frame and legend["height"] > 40, phone  # the legend is shown, whole
    assert _overlap(legend, frame) == 0, phone  # it covers none of the map
    assert legend["top"] >= frame["bottom"] - 1 and legend["top"] - frame["bottom"] < 60, phone  # right below it
    desktop = _play(duo, 1366, 900)
    _shot(duo, "play_desktop")
    legend, frame = desktop["legend"], desktop["map"]
    assert _overlap(legend, frame) == legend["width"] * legend["height"], desktop  # on the map, as before


def test_index_map_has_no_empty_legend_box_before_a_preview(duo):
    log_in(duo, "sozialamt")
    duo.driver.set_window_size(1366, 900)
    duo.driver.get(duo.server_url + "/indizes?inputs=sgb2_u15,jugend_alo")
    until(lambda: len(duo.find_elements(".oa-index-row")) == 2, timeout=30, message="the picked rows")
    until(lambda: duo.find_elements("#ix-map .leaflet-control-zoom"), timeout=30, message="the index map")
    duo.driver.execute_script("document.getElementById('ix-map').scrollIntoView();")
    _shot(duo, "index_before")
    before = duo.driver.execute_script(RECTS, "ix-legend", "ix-map")
    assert before["map"] is not None and before["legend"] is None, before  # no box over the empty map
    duo.find_element("#ix-preview").click()
    until(lambda: duo.find_elements("#ix-legend li.oa-legend-class"), timeout=30, message="the index legend")
    after = duo.driver.execute_script(RECTS, "ix-legend", "ix-map")
    _shot(duo, "index_after")
    assert after["legend"] and _overlap(after["legend"], after["map"]) > 0, after  # the legend, on its map
