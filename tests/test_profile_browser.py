"""The area profile page in headless Chromium: desktop, tablet, phone and print.

What a department head sees on a tablet must be what the values API says,
with no rank anywhere, and the printed page must fit an A4 sheet.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import requests

from atlas.formatting import format_value
from tests.test_explorer_browser import until

SIZES = {"desktop": (1280, 900), "tablet": (768, 1024), "phone": (390, 844)}
RANK = re.compile(r"\bPlatz\b|\bRang\b|\brank\b|\d+\s*(von|of)\s*\d+", re.IGNORECASE)
SHOTS = os.environ.get("ATLAS_SCREENSHOTS")  # a folder: keep the screenshots there to look at them


FITS = ("const a = document.querySelector('#prof-article'); return Array.from(a.querySelectorAll("
        "'.oa-profile-table')).every(t => t.getBoundingClientRect().right <= a.getBoundingClientRect().right + 1);")


def _open(duo, path: str, size: str) -> None:
    duo.driver.set_window_size(*SIZES[size])
    duo.driver.get(duo.server_url + path)
    until(lambda: duo.find_element("#prof-article"), message="profile article")


def _shot(duo, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        duo.driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def _shown_values(duo) -> dict[str, str]:
    return duo.driver.execute_script(
        "const o = {}; document.querySelectorAll('tr.oa-row').forEach(r => "
        "{ o[r.dataset.indicator] = r.querySelector('td.oa-value').textContent.trim(); }); return o;")


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_profile_shows_the_values_api_and_no_rank(duo, atlas, size):
    _open(duo, "/profil/0101", size)
    _shot(duo, f"profil_0101_{size}")
    shown = _shown_values(duo)
    assert len(shown) >= 15
    # the values the public reads from the API, for the same area and period
    doc = requests.get(duo.server_url + "/api/v1/profile?area=0101", timeout=30).json()
    assert set(shown) == {r["indicator"] for r in doc["rows"]}
    for row in doc["rows"]:
        values = requests.get(duo.server_url + "/api/v1/values", timeout=30, params={
            "indicator": row["indicator"], "period": row["period"]}).json()["rows"]
        cell = next(v for v in values if v["area_id"] == "0101")
        ind = atlas.indicator_by_id[row["indicator"]]
        expected = format_value(cell["value"], cell["status"], ind.decimals, ind.unit)
        assert shown[row["indicator"]] == expected, row["indicator"]
    text = duo.find_element("#prof-article").text
    assert not RANK.search(text), RANK.search(text)
    # no sideways scrolling on a tablet: the page and every table fit the width
    assert duo.driver.execute_script("return document.documentElement.scrollWidth") <= SIZES[size][0]
    assert duo.driver.execute_script(FITS), "a table is wider than the profile"


# Cells whose text runs out of them (into the neighbouring column): a header word or a number with its unit
OVERFLOWING = ("return Array.from(document.querySelectorAll('.oa-profile-table th, .oa-profile-table td'))"
               ".filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent.trim());")


@pytest.mark.parametrize("path, size", [("/profil/0101", (768, 1024)), ("/profil/0101?lang=en", (1024, 768))])
def test_no_header_or_number_runs_into_its_neighbour(duo, path, size):
    """At 768 px "Stadtbezirk" ran into "Auenstadt"; at 1024 px "12,441 Personen" ran over three columns."""
    duo.driver.set_window_size(*size)
    duo.driver.get(duo.server_url + path)
    until(lambda: duo.find_element("#prof-article"), message="profile article")
    assert duo.driver.execute_script(OVERFLOWING) == []


def test_profile_on_a_phone_is_cards_and_prints_on_a4(duo):
    _open(duo, "/profil/0208", "phone")
    _shot(duo, "profil_0208_phone")
    duo.driver.execute_script("document.querySelector('tr[data-indicator=abgang_ohne]').scrollIntoView()")
    _shot(duo, "profil_0208_phone_cards")
    assert duo.driver.execute_script("return document.documentElement.scrollWidth") <= SIZES["phone"][0]
    display = duo.driver.execute_script("return getComputedStyle(document.querySelector('tr.oa-row')).display")
    assert display == "block"
    # the suppressed cell of this area looks different from a missing one
    cls = duo.driver.execute_script("return document.querySelector('tr[data-indicator=abgang_ohne] td.oa-value')"
                                    ".className")
    assert "oa-status-suppressed" in cls
    # print: A4 portrait is 210 mm wide, 12 mm margins: 186 mm = 703 CSS px; nothing may be wider
    duo.driver.set_window_size(703, 1000)
    duo.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        hidden = duo.driver.execute_script("return getComputedStyle(document.querySelector('.oa-header')).display")
        width = duo.driver.execute_script("return document.querySelector('#prof-article').scrollWidth")
        table = duo.driver.execute_script("return Math.max(...Array.from(document.querySelectorAll("
                                          "'.oa-profile-table')).map(t => t.scrollWidth))")
        _shot(duo, "profil_0208_print")
    finally:
        duo.driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})
    assert hidden == "none"
    assert width <= 703 and table <= 703, (width, table)


def test_map_selection_links_to_the_profile_and_search_finds_areas(duo):
    duo.driver.set_window_size(*SIZES["desktop"])
    duo.driver.get(duo.server_url + "/?indicator=sgb2_quote&area=0102")
    link = until(lambda: (a := duo.find_element("#ex-profile-link")) and a.get_attribute("href")
                 and not a.get_attribute("hidden") and a, message="profile link")
    assert link.get_attribute("href").endswith("/profil/0102")
    duo.driver.get(duo.server_url + "/profil?q=hafen")
    results = until(lambda: duo.find_elements("#prof-results a"), message="search results")
    assert {"Hafenviertel-Nord (Ortsteil 0208)", "Hafenviertel-Süd (Ortsteil 0209)"} <= {a.text for a in results}
    _open(duo, "/profil/0205", "desktop")  # split in 2022: not comparable now, with a way to its last profile
    assert "Gebietsänderung" in duo.find_element("tr.oa-row td.oa-value").text
    assert "/profil/0205?period=2021" in duo.find_element("#prof-gone a").get_attribute("href")


def test_admin_makes_a_booklet_with_a_progress_line(scratch_duo):
    from tests.test_roles_browser import log_in
    duo = scratch_duo  # the job writes its file into the store's folder: a private copy
    log_in(duo, "admin")
    duo.driver.set_window_size(*SIZES["tablet"])
    duo.driver.get(duo.server_url + "/profil")
    until(lambda: duo.find_element("#prof-booklet"), message="booklet section")
    _shot(duo, "profil_index_admin_tablet")
    duo.find_element("#book-format input[value=zip]").click()
    duo.find_element("#book-level").click()
    until(lambda: next(o for o in duo.find_elements("[role=option]") if o.text == "Stadtbezirke"),
          message="level option").click()
    duo.find_element("#book-start").click()
    link = until(lambda: duo.find_element("#book-download"), timeout=120, message="download link")
    assert link.get_attribute("href").endswith("/file")
    assert "Fertig" in duo.find_element("#book-status").text
    _shot(duo, "profil_booklet_done")
    # the report list is there for everyone, the booklet section only for admins
    assert {a.text for a in duo.find_elements("#prof-reports a")} == {"HTML", "PDF"}
