"""What a browser review of every page at 390, 768, 1024 and 1280 px in German and English found (issue 16).

Each test checks the real page in headless Chromium for one defect the review saw, in a form that failed
before its fix: a control under 44 px on a tablet, release buttons cut off behind a sideways scroll, English
words read out on a German page.
"""
from __future__ import annotations

import pytest

from tests.test_explorer_browser import until
from tests.test_roles_browser import log_in

# Visible controls of the page's content (not the map's own zoom buttons) lower than a 44 px touch target.
SMALL_CONTROLS = """
const sel = '.dash-dropdown, .dash-input-element, .dash-input-stepper, .dash-options-list-option, '
          + 'main button, main summary, .oa-toc a';
return Array.from(document.querySelectorAll(sel)).filter(e => {
  if (e.closest('.leaflet-container')) return false;
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0 && r.height < 43.5;
}).map(e => `${e.id || e.className} "${e.textContent.trim().slice(0, 30)}" ${Math.round(e.getBoundingClientRect().height)} px`);
"""

# Buttons in a table that end beyond what the reader sees (the table's scroll box or the window).
CUT_OFF_BUTTONS = """
return Array.from(document.querySelectorAll('table.oa-versions button')).filter(b => {
  const r = b.getBoundingClientRect(), box = (b.closest('.oa-scroll') || document.body).getBoundingClientRect();
  return r.right > Math.min(box.right, window.innerWidth) + 1;
}).map(b => b.textContent.trim());
"""

STEPPER_LABELS = ("return Array.from(document.querySelectorAll('.dash-input-stepper'))"
                  ".map(b => b.getAttribute('aria-label'));")


def _settled(duo, selector: str) -> None:
    """Wait for the page's content and for Dash to have no callback in flight."""
    until(lambda: duo.find_elements(selector), timeout=40, message=selector)
    until(lambda: duo.driver.execute_script(
        "return document.readyState === 'complete' && !document.querySelector('[data-dash-is-loading=true]')"),
        message="callbacks settled")


@pytest.mark.parametrize("path, ready", [("/indizes", "#ix-level"), ("/planung", "#pl-al-level"),
                                         ("/upload", "#up-template-indicator")])
def test_every_control_on_a_tablet_is_a_touch_target(duo, path, ready):
    """At 768 px Dash's dropdowns were 34 px, number fields 32, radio options 27 and the index buttons 21 px."""
    log_in(duo, "jugendamt")
    duo.driver.set_window_size(768, 1024)
    duo.driver.get(duo.server_url + path)
    _settled(duo, ready)
    assert duo.driver.execute_script(SMALL_CONTROLS) == []


def test_release_buttons_are_not_cut_off_on_a_landscape_tablet(duo):
    """At 1024 px the release queue scrolled sideways and hid "Öffentlich freigeben …" behind its edge."""
    log_in(duo, "admin")
    duo.driver.set_window_size(1024, 768)
    duo.driver.get(duo.server_url + "/freigaben")
    _settled(duo, "table.oa-versions button")
    assert duo.driver.execute_script(CUT_OFF_BUTTONS) == []
    assert duo.driver.execute_script("return document.documentElement.scrollWidth") <= 1024


@pytest.mark.parametrize("lang, expected", [("de", {"Wert verringern", "Wert erhöhen"}),
                                            ("en", {"Decrease value", "Increase value"})])
def test_number_field_buttons_speak_the_pages_language(duo, lang, expected):
    """Dash labels its number steppers in English: a German screen reader heard "Decrease value"."""
    log_in(duo, "jugendamt")
    duo.driver.get(duo.server_url + f"/planung?lang={lang}")
    _settled(duo, "#pl-al-amount")
    until(lambda: set(duo.driver.execute_script(STEPPER_LABELS)) == expected, message=f"{lang} stepper labels")


# Tabs that overlap a neighbour, run out of their own box, or end beyond the row they sit in.
TABS_COLLIDE = """
const row = document.querySelector('.oa-cmp-tabs'), edge = row.getBoundingClientRect().right;
const tabs = Array.from(row.querySelectorAll('.tab')), boxes = tabs.map(t => t.getBoundingClientRect());
const bad = [];
tabs.forEach((t, i) => {
  const word = t.querySelector('span').getBoundingClientRect();
  if (word.left < boxes[i].left - 1 || word.right > boxes[i].right + 1 || boxes[i].right > edge + 1)
    bad.push(t.textContent.trim());
});
return bad;
"""


@pytest.mark.parametrize("lang", ["de", "en"])
def test_compare_tabs_keep_their_words_on_a_tablet(duo, lang):
    """At 768 px "Veränderung" ran into "Zusammenhang" and "Zeitverlauf abspielen" was cut off at the edge."""
    duo.driver.set_window_size(768, 1024)
    duo.driver.get(duo.server_url + f"/vergleich?lang={lang}")
    _settled(duo, ".oa-cmp-tabs .tab")
    assert duo.driver.execute_script(TABS_COLLIDE) == []
    assert duo.driver.execute_script("return document.documentElement.scrollWidth") <= 768


def test_compare_chart_without_areas_asks_for_areas_not_for_a_map_tap(atlas):
    """The areas tab has no map, yet its empty chart said "Ein Gebiet in der Karte antippen …"."""
    from atlas.i18n import t
    from atlas.web.pages.compare import series_figure
    for lang in ("de", "en"):
        notes = [a["text"] for a in series_figure(atlas, None, "sgb2_quote", lang)["layout"]["annotations"]]
        assert notes == [t("cmp_pick_areas", lang)]


def test_the_explorer_tables_filter_is_a_touch_target(duo):
    """On a tablet the filter field of the map's table twin was 30 px high."""
    duo.driver.set_window_size(768, 1024)
    duo.driver.get(duo.server_url + "/?lang=de")
    _settled(duo, "#ex-table")
    duo.driver.execute_script("document.querySelector('#ex-table').open = true")
    height = until(lambda: duo.driver.execute_script(
        "const f = document.querySelector('#ex-table-filter'); return f && f.getBoundingClientRect().height"),
        message="table filter shown")
    assert height >= 43.5, height


# Profile cells whose text runs out of them into the neighbouring column.
OVERFLOWING_CELLS = ("return Array.from(document.querySelectorAll('.oa-profile-table th, .oa-profile-table td'))"
                     ".filter(c => c.scrollWidth > c.clientWidth + 1).map(c => c.textContent.trim());")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_signed_in_profile_units_stay_in_their_column(duo, lang):
    """Signed in, the profile has more rows: at 768 px "-2,39 Indexpunkte" ran into the next column."""
    log_in(duo, "admin")
    duo.driver.set_window_size(768, 1024)
    duo.driver.get(duo.server_url + f"/profil/0101?lang={lang}")
    _settled(duo, "#prof-article tr.oa-row")
    assert duo.driver.execute_script(OVERFLOWING_CELLS) == []


@pytest.mark.parametrize("lang, word", [("de", "Achsen zurücksetzen"), ("en", "Reset axes")])
def test_compare_chart_tool_bar_speaks_the_pages_language_and_shares_nothing(duo, lang, word):
    """plotly.js's tool bar said "Reset axes" and "Share chart..." (an upload to plotly's cloud) on German pages."""
    duo.driver.set_window_size(1280, 900)
    duo.driver.get(duo.server_url + f"/vergleich?lang={lang}")
    _settled(duo, "#cmp-area-chart .modebar-btn")
    titles = until(lambda: (t := duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#cmp-area-chart .modebar-btn')).map(b => b.dataset.title)"))
        and word in t and t, message=f"{lang} tool bar")
    assert not [t for t in titles if "share" in t.lower() or "cloud" in t.lower()], titles


def test_the_phones_time_series_cue_keeps_the_space_before_its_arrow(duo):
    """On a phone the cue over the map read "Time series below↓": the flex box dropped the space."""
    duo.driver.set_window_size(390, 844)
    duo.driver.get(duo.server_url + "/?lang=en")
    _settled(duo, ".oa-ts-cue")
    gap = until(lambda: duo.driver.execute_script(
        "const a = document.querySelector('.oa-ts-cue'), arrow = a.querySelector('span');"
        "if (!a.getBoundingClientRect().width) return null;"
        "const r = document.createRange(); r.selectNodeContents(a.firstChild);"
        "return {gap: arrow.getBoundingClientRect().left - r.getBoundingClientRect().right};"), message="cue shown")
    assert gap["gap"] >= 3, gap
