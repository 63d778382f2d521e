"""The page header at phone, tablet and desktop sizes (issue 16), in headless Chromium.

On phones and tablets the header is one row (brand, language, menu button)
and the navigation a drawer the button opens: by tap and by keyboard, with
aria-expanded telling screen readers its state, Escape closing it, and
touch targets of at least 44×44 px. On a desktop every link is in the row,
without overflowing it, even for an admin (the most links). The language
link keeps the page and its view. Set ATLAS_SCREENSHOTS to a folder to keep
the screenshots.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from selenium.webdriver.common.keys import Keys

from tests.test_explorer_browser import until
from tests.test_roles_browser import log_in

pytestmark = pytest.mark.browser

SIZES = {"phone": (390, 844), "tablet": (768, 1024), "desktop": (1280, 900)}
SHOTS = os.environ.get("ATLAS_SCREENSHOTS")
ROW = 60  # px: one row of 44 px targets with the header's padding; two rows would be 90 and more

GEOMETRY = """
const box = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
const header = document.querySelector('.oa-header');
const nav = document.getElementById('oa-nav');
const shown = e => e.offsetParent !== null && getComputedStyle(e).visibility !== 'hidden';
const targets = Array.from(header.querySelectorAll('a, button')).filter(shown);
return {header: box(header), headerScroll: header.scrollWidth, headerClient: header.clientWidth,
        page: document.documentElement.scrollWidth, navShown: shown(nav),
        toggleShown: shown(document.getElementById('oa-menu-toggle')),
        expanded: document.getElementById('oa-menu-toggle').getAttribute('aria-expanded'),
        small: targets.map(e => [e.id || e.textContent.trim(), ...box(e)]).filter(t => t[1] < 44 || t[2] < 44),
        links: Array.from(nav.querySelectorAll('a')).filter(shown).map(a => a.id || a.textContent.trim())};
"""


def _shot(duo, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        duo.driver.save_screenshot(str(Path(SHOTS) / f"header_{name}.png"))


def _open(duo, path: str, size: str) -> dict:
    duo.driver.set_window_size(*SIZES[size])
    duo.driver.get(duo.server_url + path)
    until(lambda: duo.find_elements("#oa-menu-toggle") and duo.find_elements("main h1"), timeout=30,
          message=f"{path} rendered")
    return duo.driver.execute_script(GEOMETRY)


def _check_drawer(duo, size: str, name: str, staff: bool) -> None:
    """One row; the drawer opens by tap, shows every link as a 44 px target, and the page never scrolls sideways."""
    closed = duo.driver.execute_script(GEOMETRY)
    assert closed["header"][1] <= ROW, closed
    assert closed["page"] <= SIZES[size][0], closed  # no horizontal scrolling
    assert closed["toggleShown"] and not closed["navShown"] and closed["expanded"] == "false", closed
    assert closed["small"] == [], closed
    _shot(duo, f"{name}_{size}")
    duo.find_element("#oa-menu-toggle").click()
    opened = until(lambda: (g := duo.driver.execute_script(GEOMETRY))["navShown"] and g, message="drawer open")
    assert opened["expanded"] == "true"
    assert opened["header"][1] <= ROW  # the drawer lies over the page; the header keeps its one row
    assert opened["small"] == [], opened
    assert "oa-compare-link" in opened["links"] and "oa-profiles-link" in opened["links"]
    assert ("oa-upload-link" in opened["links"]) == staff
    assert opened["page"] <= SIZES[size][0], opened
    _shot(duo, f"{name}_{size}_open")
    duo.find_element("#oa-menu-toggle").click()
    until(lambda: not duo.driver.execute_script(GEOMETRY)["navShown"], message="drawer closed")


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_phone_and_tablet_header_is_one_row_with_a_drawer(duo, size):
    _open(duo, "/", size)
    _check_drawer(duo, size, "explorer", staff=False)
    log_in(duo, "admin")
    _open(duo, "/admin?lang=en", size)
    _check_drawer(duo, size, "admin_en", staff=True)


def test_the_drawer_works_by_keyboard(duo):
    _open(duo, "/vergleich", "phone")
    toggle = duo.find_element("#oa-menu-toggle")
    duo.driver.execute_script("arguments[0].focus();", toggle)
    toggle.send_keys(Keys.ENTER)
    until(lambda: toggle.get_attribute("aria-expanded") == "true", message="opened by Enter")
    assert toggle.get_attribute("aria-controls") == "oa-nav"
    duo.driver.switch_to.active_element.send_keys(Keys.TAB)
    focused = duo.driver.switch_to.active_element
    assert focused.tag_name == "a" and duo.driver.execute_script(
        "return document.getElementById('oa-nav').contains(arguments[0]);", focused)  # Tab goes into the drawer
    focused.send_keys(Keys.ESCAPE)
    until(lambda: toggle.get_attribute("aria-expanded") == "false", message="closed by Escape")
    assert duo.driver.switch_to.active_element == toggle  # focus back where it came from
    assert not duo.driver.execute_script(GEOMETRY)["navShown"]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_desktop_header_holds_every_link_of_an_admin_in_one_row(duo, lang):
    log_in(duo, "admin")
    geo = _open(duo, "/admin" + ("?lang=en" if lang == "en" else ""), "desktop")
    _shot(duo, f"admin_desktop_{lang}")
    assert not geo["toggleShown"] and geo["navShown"], geo
    assert geo["header"][1] <= ROW and geo["headerScroll"] <= geo["headerClient"], geo  # nothing spills over
    assert geo["page"] <= SIZES["desktop"][0], geo
    assert geo["small"] == [], geo
    for link in ("oa-upload-link", "oa-indices-link", "oa-releases-link", "oa-admin-link", "oa-compare-link"):
        assert link in geo["links"], link


def test_the_language_link_keeps_the_page_and_its_view(duo):
    _open(duo, "/vergleich?view=relation", "phone")
    switch = duo.find_element("#oa-lang-switch")
    assert switch.text == "English" and switch.get_attribute("lang") == "en"
    switch.click()
    until(lambda: "lang=en" in duo.driver.current_url, message="English")
    until(lambda: duo.find_elements("#oa-lang-switch") and duo.find_element("#oa-lang-switch").text == "Deutsch",
          timeout=30, message="the English page")
    assert "/vergleich" in duo.driver.current_url and "view=relation" in duo.driver.current_url
    assert duo.driver.execute_script("return document.documentElement.lang") == "en"
    assert duo.find_element("#oa-menu-toggle").text.strip().endswith("Menu")
    duo.find_element("#oa-lang-switch").click()
    until(lambda: "lang=en" not in duo.driver.current_url and duo.find_element("#oa-lang-switch").text == "English",
          timeout=30, message="back in German")
    assert "view=relation" in duo.driver.current_url
