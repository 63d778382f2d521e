"""axe-core on every page, anonymous and signed in, at desktop and phone size (issue 16, BITV 2.0 / WCAG 2.1 AA).

axe-core is vendored under tests/vendor/axe-core (never fetched): it is
injected into each page after the page has rendered and must report no
serious or critical violation. One browser session per role walks its pages;
each page is checked at 1280×800 and again at 390×844 (device emulation, so
the phone layout's media queries apply) without loading it twice.

The pages walked here are the pages the accessibility statement names as
checked (atlas/web/pages/accessibility_audit.toml): a page added to one list
and not the other fails `test_the_statement_names_exactly_the_pages_checked`.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from atlas.i18n import t
from tests.test_explorer_browser import coloured_map, until
from tests.test_roles_browser import log_in

AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
SIZES = {"desktop": (1280, 800, False), "phone": (390, 844, True)}

# page name: (path, CSS selector present once the page's own content has rendered)
PAGES: dict[str, tuple[str, str]] = {
    "explorer": ("/", "#ex-legend li"),
    "profile": ("/profil/0101", "#prof-title"),
    "compare": ("/vergleich", ".oa-cmp-title"),
    "indices": ("/indizes", "#ix-page, #ix-denied"),
    "planning": ("/planung", "#pl-page"),
    "targets": ("/ziele", "#tg-page"),
    "releases": ("/freigaben", "main .oa-page"),
    "upload": ("/upload", "main .oa-page"),
    "admin": ("/admin", "#adm-users-table, #adm-denied, #username"),  # anonymous: the sign-in form
    "login": ("/login", "#username"),
    "print": ("/print?indicator=sgb2_quote&area=0101", "[data-oa-print]"),
    "not_found": ("/gibt-es-nicht", "#oa-not-found"),
    "accessibility": ("/barrierefreiheit", "#legal-accessibility"),
    "imprint": ("/impressum", "#legal-imprint"),
    "privacy": ("/datenschutz", "#legal-privacy"),
}
# Who walks which pages: everybody every page; signed in, the pages whose content depends on the role;
# in English, the pages that have an English version (html lang and the words change with it).
ROLE_PAGES: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "anonymous": (None, tuple(PAGES)),
    "steward": ("jugendamt", ("explorer", "profile", "compare", "indices", "planning", "targets", "upload",
                                 "accessibility")),
    "admin": ("admin", ("admin", "releases", "upload", "explorer")),
    "anonymous_en": (None, ("explorer", "profile", "compare", "login", "not_found", "accessibility")),
}
RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']},
                   resultTypes: ['violations']})
  .then(r => done(JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                                          nodes: v.nodes.map(n => n.target.join(' '))})))))
  .catch(e => done(JSON.stringify([{id: 'axe-error', impact: 'critical', help: String(e), nodes: []}])));
"""


def rendered(duo, name: str) -> None:
    """Wait until the page's content is there and Dash has no callback in flight."""
    path, selector = PAGES[name]
    if name == "explorer":
        coloured_map(duo)
    # a signed-in profile reads every indicator the viewer may see: on a loaded 2-core machine, seconds
    until(lambda: duo.find_elements(selector), timeout=40, message=f"{name} ({path}) rendered")
    until(lambda: duo.driver.execute_script(
        "return document.readyState === 'complete' && !document.querySelector('[data-dash-is-loading=true]')"),
        message=f"{name}: callbacks settled")


def emulate(duo, size: str) -> None:
    width, height, mobile = SIZES[size]
    duo.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile,
        "screenWidth": width, "screenHeight": height})
    # screen, not window: a page wider than a phone (the print view's A4 sheets) widens the layout viewport
    until(lambda: duo.driver.execute_script("return window.screen.width") == width, message=f"{size} viewport")


def axe_violations(duo) -> list[dict]:
    """axe-core's violations on the current page (injected once per document)."""
    if not duo.driver.execute_script("return typeof window.axe === 'object'"):
        duo.driver.execute_script(AXE.read_text(encoding="utf-8"))
    duo.driver.set_script_timeout(60)
    return json.loads(duo.driver.execute_async_script(RUN_AXE))


def blocking(found: list[dict], where: str) -> list[str]:
    """The serious and critical violations, one line each, with the elements they concern."""
    return [f"{where}: {v['id']} ({v['impact']}) {v['help']} – {', '.join(v['nodes'][:4])}"
            for v in found if v["impact"] in BLOCKING]


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_axe_finds_no_serious_violation(duo, role):
    username, names = ROLE_PAGES[role]
    if username:
        log_in(duo, username)
    problems: list[str] = []
    for name in names:
        emulate(duo, "desktop")
        path = PAGES[name][0]
        duo.driver.get(duo.server_url + path + (("&" if "?" in path else "?") + "lang=en" if role.endswith("_en") else ""))
        rendered(duo, name)
        lang = duo.driver.execute_script("return document.documentElement.lang")
        if lang != ("en" if role.endswith("_en") else "de"):
            problems.append(f"{role} {name}: <html lang={lang!r}>")
        problems += blocking(axe_violations(duo), f"{role} {name} desktop")
        emulate(duo, "phone")
        rendered(duo, name)
        problems += blocking(axe_violations(duo), f"{role} {name} phone")
    duo.driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert problems == [], "\n".join(problems)


def test_the_statement_names_exactly_the_pages_checked():
    """The statement's list of checked pages is the list this test walks: neither can grow alone."""
    from atlas.web.pages import legal
    checked = {page["path"] for page in legal.audit()["pages"]}
    assert checked == {path for path, _ in PAGES.values()}


def test_the_first_tab_stops_are_the_skip_links_to_what_the_page_has(duo):
    """On the map page: content, map and controls (the table's link only once the page has a table)."""
    from selenium.webdriver.common.keys import Keys
    duo.driver.get(duo.server_url)
    rendered(duo, "explorer")
    shown = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.oa-skip-links a'))"
        ".filter(a => getComputedStyle(a).display !== 'none').map(a => a.getAttribute('href'))")
    expected = ["#oa-main", "#ex-map"] + (["#ex-table"] if duo.find_elements("#ex-table") else []) + ["#ex-controls"]
    assert shown == expected
    duo.find_element("body").send_keys(Keys.TAB)
    focused = duo.driver.switch_to.active_element
    assert focused.get_attribute("href").endswith("#oa-main")
    assert focused.rect["y"] >= 0  # moved into view when focused
    focused.send_keys(Keys.ENTER)
    until(lambda: duo.driver.execute_script("return document.activeElement.id") == "oa-main",
          message="focus in the main landmark")


def test_dropdowns_and_radio_groups_work_from_the_keyboard(duo):
    """The repairs of assets/a11y.js keep Dash's controls usable without a mouse: a dropdown's button is the
    Tab stop (its hidden decoy is not) and opens with the keyboard; a radio group is named and arrow keys
    choose within it."""
    from selenium.webdriver.common.keys import Keys
    duo.driver.get(duo.server_url)
    rendered(duo, "explorer")
    stops = duo.driver.execute_script(
        "const b = document.querySelector('#ex-indicator');"
        "return [b.tabIndex, b.previousElementSibling.tabIndex, document.activeElement === b]")
    assert stops[:2] == [0, -1]
    button = duo.find_element("#ex-indicator")
    duo.driver.execute_script("arguments[0].focus()", button)
    button.send_keys(Keys.ARROW_DOWN)
    until(lambda: duo.find_elements(".dash-dropdown-content [role=option]"), message="options open by keyboard")
    duo.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    until(lambda: not duo.find_elements(".dash-dropdown-content"), message="options closed")
    group = duo.find_element("#ex-method")
    assert group.get_attribute("role") == "radiogroup"
    label_id = group.get_attribute("aria-labelledby")
    assert label_id and duo.find_element(f"#{label_id}").text == t("method")
    assert not duo.find_elements("#ex-method [role=option]")
    checked = duo.find_element("#ex-method input:checked")
    before = checked.get_attribute("value")
    duo.driver.execute_script("arguments[0].focus()", checked)
    checked.send_keys(Keys.ARROW_UP)  # wraps to equal intervals (natural breaks would import mapclassify)
    until(lambda: duo.find_element("#ex-method input:checked").get_attribute("value") != before,
          message="the next method chosen by arrow key")
    coloured_map(duo)
