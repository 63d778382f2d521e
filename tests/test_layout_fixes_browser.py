"""Layout defects from a browser review, checked in headless Chromium.

1. A signed-in admin's header at 1280 px cut the brand ("Ortsatlas Auen…"):
   the city's name must be whole, in the header's one row, with every link.

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

def _shot(duo, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        duo.driver.save_screenshot(str(Path(SHOTS) / f"layout_{name}.png"))


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
