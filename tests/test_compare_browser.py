"""The compare page (/vergleich) in headless Chromium at desktop, tablet and phone sizes.

What the page shows must be what the API answers for the same viewer: six
areas side by side with parents and the territory, the change map with
'nicht vergleichbar' across the boundary change, and the stated correlation.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
import pytest
import requests

from atlas.formatting import format_number
from atlas.web.pages.compare import SHOWN_ROWS
from tests.test_explorer_browser import until

SIZES = {"desktop": (1280, 900), "tablet": (768, 1024), "phone": (390, 844)}
SHOTS = os.environ.get("ATLAS_SCREENSHOTS")  # a folder: keep the screenshots there to look at them
SIX = ["0101", "0208", "0201", "0301", "02", "0102"]


def _open(duo, path: str, size: str, ready: str) -> None:
    duo.driver.set_window_size(*SIZES[size])
    duo.driver.get(duo.server_url + path)
    until(lambda: duo.find_element(ready), timeout=20, message=ready)


def _shot(duo, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        duo.driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))


def _table(duo, table_id: str) -> list[list[str]]:
    return duo.driver.execute_script(
        f"return Array.from(document.querySelectorAll('#{table_id} tr')).map(r => "
        "Array.from(r.children).map(c => c.textContent.trim()));")


@pytest.mark.parametrize("size", ["desktop", "tablet", "phone"])
def test_six_areas_side_by_side_with_parents_and_territory(duo, atlas, size):
    _open(duo, f"/vergleich?area={','.join(SIX)}&indicator=sgb2_u15,bev_u6", size, "#cmp-area-values")
    until(lambda: duo.driver.execute_script(
        "return document.querySelectorAll('#cmp-area-chart .scatterlayer .trace').length") >= 6,
        timeout=20, message="time series lines")
    _shot(duo, f"compare_areas_{size}")
    rows = _table(duo, "cmp-area-values")
    header, body = rows[0], rows[1:]
    assert len(body) == 2
    for key in SIX + ["01", "03", "00"]:  # the chosen, their parents, the city
        assert any(h.endswith(f" {key}") for h in header), key
    api = requests.get(duo.server_url + "/api/v1/compare", timeout=30,
                       params={"area": SIX, "indicator": "sgb2_u15"}).json()["rows"]
    shown = dict(zip(header, body[0]))  # indicators in the order chosen
    for row in api:
        col = next(h for h in header if h.endswith(f" {row['area_id']}"))
        expected = format_number(row["value"], atlas.indicator_by_id["sgb2_u15"].decimals) if row["status"] == "ok" else None
        if expected is not None:
            assert shown[col] == expected, (row["area_id"], shown[col], expected)
    width = duo.driver.execute_script("return document.documentElement.scrollWidth")
    assert width <= SIZES[size][0] + 1  # the wide table scrolls in its box, not the page


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_change_map_across_the_boundary_change(duo, size):
    _open(duo, "/vergleich?view=change&change=bev_gesamt&from=2015-Q4&to=2024-Q4", size, "#cmp-ch-values")
    until(lambda: "nicht vergleichbar" in duo.find_element("#cmp-ch-legend").text, timeout=20, message="legend")
    until(lambda: duo.driver.execute_script("return document.querySelectorAll('#cmp-ch-map path.leaflet-interactive')"
                                            ".length") >= 50, timeout=20, message="areas drawn")
    _shot(duo, f"compare_change_{size}")
    rows = {r[0]: r for r in _table(duo, "cmp-ch-values")[1:]}
    api = requests.get(duo.server_url + "/api/v1/change", timeout=30,
                       params={"indicator": "bev_gesamt", "from": "2015-Q4", "to": "2024-Q4"}).json()["rows"]
    # the first rows in key order, and a line that says how many of how many (the CSV has them all)
    assert list(rows) == [r["area_id"] for r in api][:len(rows)] and 0 < len(rows) <= SHOWN_ROWS
    if len(api) > len(rows):
        line = duo.find_element("#cmp-ch-values-count").text
        assert line == f"{len(rows)} von {len(api)} Gebieten; alle in der CSV-Tabelle"
    for row in api[:len(rows)]:
        shown = rows[row["area_id"]][4]
        if row["status"] == "not_comparable":
            assert shown == "nicht vergleichbar"
        elif row["status"] == "ok":
            assert shown.startswith(("+", "−", "0")) and format_number(abs(row["change"]), 0) in shown
    assert rows["0208"][4] == rows["0209"][4] == "nicht vergleichbar"
    assert "view=change" in duo.driver.current_url and "from=2015-Q4" in duo.driver.current_url


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_scatter_states_the_correlation_and_what_it_left_out(duo, size):
    _open(duo, "/vergleich?view=relation&x=sgb2_u15&y=uebergang_gym", size, "#cmp-pearson")
    until(lambda: duo.driver.execute_script(
        "return document.querySelectorAll('#cmp-rel-chart .scatterlayer .point').length"), timeout=20,
        message="scatter points")
    _shot(duo, f"compare_relation_{size}")
    api = requests.get(duo.server_url + "/api/v1/correlation", timeout=30,
                       params={"x": "sgb2_u15", "y": "uebergang_gym"}).json()
    assert duo.find_element("#cmp-pearson").text == format_number(api["pearson"], 2)
    assert duo.find_element("#cmp-spearman").text == format_number(api["spearman"], 2)
    assert duo.find_element("#cmp-n").text == str(api["n"])
    points = duo.driver.execute_script("return document.querySelectorAll('#cmp-rel-chart .scatterlayer .point').length")
    assert points == api["n"]  # one dot per area used, none for the left-out ones
    left = _table(duo, "cmp-left-out")[1:]
    assert sorted(r[0] for r in left) == sorted(r["area_id"] for r in api["left_out"]) and left
    assert any("geheim gehalten" in " ".join(r) for r in left)


PATHS = "return Array.from(document.querySelectorAll('#cmp-m{}-map path.leaflet-interactive'))"


def _widths(duo, side: int) -> list[float]:
    return duo.driver.execute_script(PATHS.format(side) + ".map(p => Math.round(p.getBoundingClientRect().width));")


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_two_maps_share_zoom_and_selection(duo, size):
    _open(duo, "/vergleich?view=maps&m1=seu_masern&m2=uebergang_gym&p1=2024&p2=2024", size, "#cmp-m2-legend li")
    until(lambda: len(_widths(duo, 1)) >= 50 and len(_widths(duo, 2)) >= 50, timeout=20, message="both maps drawn")
    assert "Masern" in duo.find_element("#cmp-m1-title").text or duo.find_element("#cmp-m1-title").text
    assert duo.find_element("#cmp-m1-source").text and duo.find_element("#cmp-m2-source").text
    # the median ratio of the same areas' widths: Leaflet clips paths at the edges, which may differ a little
    same = lambda: abs(np.median(np.array(_widths(duo, 1)) / np.maximum(_widths(duo, 2), 1)) - 1) < 0.03  # noqa: E731
    until(same, timeout=10, message="both maps fitted alike")
    time.sleep(0.5)  # let both maps finish fitting their bounds (an animation) before zooming one of them
    before = _widths(duo, 2)
    duo.driver.find_element("css selector", "#cmp-m1-map .leaflet-control-zoom-in").click()
    until(lambda: _widths(duo, 2)[0] > before[0] * 1.5, timeout=10, message="the right map follows the zoom")
    until(same, timeout=10, message="both maps at the same scale")
    # a click on an area of the right map selects it on the left map too
    duo.driver.execute_script(PATHS.format(2) + "[10].dispatchEvent(new MouseEvent('click', {bubbles: true}));")
    until(lambda: duo.driver.execute_script(PATHS.format(1) + ".filter(p => p.getAttribute('stroke-width') === '4')"
                                            ".length") == 1, timeout=10, message="selection on the left map")
    until(lambda: "sel=" in duo.driver.current_url, timeout=10, message="selection in the URL")
    _shot(duo, f"compare_maps_{size}")


def test_two_maps_stack_with_a_toggle_on_a_phone(duo):
    _open(duo, "/vergleich?view=maps", "phone", "#cmp-m1-legend li")
    visible = "return getComputedStyle(document.querySelector('.oa-cmp-side-{}')).display !== 'none'"
    assert duo.driver.execute_script(visible.format(1)) and not duo.driver.execute_script(visible.format(2))
    _shot(duo, "compare_maps_phone_left")
    duo.driver.find_element("xpath", "//label[contains(., 'Rechte Karte')]").click()
    until(lambda: duo.driver.execute_script(visible.format(2)), timeout=10, message="right map shown")
    assert not duo.driver.execute_script(visible.format(1))
    until(lambda: len(_widths(duo, 2)) >= 50 and _widths(duo, 2)[0] > 0, timeout=10, message="right map drawn")
    _shot(duo, "compare_maps_phone_right")


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_similar_areas_list_is_the_api_answer(duo, size):
    _open(duo, "/vergleich?view=similar&area=0101&indicator=sgb2_u15,uebergang_gym", size, "#cmp-sim-values")
    _shot(duo, f"compare_similar_{size}")
    api = requests.get(duo.server_url + "/api/v1/similar", timeout=30, params={
        "area": "0101", "indicators": "sgb2_u15,uebergang_gym", "method": "range", "tolerance": 0.3}).json()
    shown = [r[0] for r in _table(duo, "cmp-sim-values")[1:]]
    assert shown == [r["area_id"] for r in api["rows"]][:SHOWN_ROWS] and shown[0] == "0101" and len(shown) > 1


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_bivariate_legend_counts_and_words_are_the_api_answer(duo, size):
    _open(duo, "/vergleich?view=bivariate&bx=sgb2_u15&by=uebergang_gym", size, "#cmp-bv-grid")
    until(lambda: duo.driver.execute_script("return document.querySelectorAll('#cmp-bv-map path.leaflet-interactive')"
                                            ".length") >= 50, timeout=20, message="areas drawn")
    _shot(duo, f"compare_bivariate_{size}")
    api = requests.get(duo.server_url + "/api/v1/bivariate", timeout=30,
                       params={"x": "sgb2_u15", "y": "uebergang_gym"}).json()
    cells = duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#cmp-bv-grid td')).map(c => "
        "[c.getAttribute('data-cell'), c.textContent.trim(), getComputedStyle(c.querySelector('.oa-swatch'))"
        ".backgroundColor]);")
    assert len(cells) == 9
    for cell, text, _ in cells:
        cx, cy = int(cell[0]), int(cell[1])
        n = sum(1 for r in api["rows"] if r["x_class"] == cx and r["y_class"] == cy)
        assert text.startswith(f"{n} – "), (cell, text)
        words = ("niedrig", "mittel", "hoch")
        assert f"{words[cx]}, " in text and text.endswith(words[cy])  # 'SGB-II … hoch, Übergang … niedrig'
    assert len({color for *_, color in cells}) == 9  # nine distinct colours
    assert sum(int(c[1].split(" ")[0]) for c in cells) + len(api["left_out"]) == api["count"]
    left = _table(duo, "cmp-bv-left-out")[1:]
    assert sorted(r[0] for r in left) == sorted(r["area_id"] for r in api["left_out"]) and left
    shown = {r[0]: r[4] for r in _table(duo, "cmp-bv-values")[1:]}
    assert list(shown) == [r["area_id"] for r in api["rows"]][:SHOWN_ROWS]  # the first rows, key order
    assert all(shown[r["area_id"]] == r["label"] for r in api["rows"][:SHOWN_ROWS])
    assert "bx=sgb2_u15" in duo.driver.current_url and "view=bivariate" in duo.driver.current_url


def test_play_steps_through_the_periods_with_fixed_classes(duo, atlas):
    from atlas.services import queries
    from auth.permissions import ANONYMOUS
    _open(duo, "/vergleich?view=play&play=sgb2_u15", "desktop", "#cmp-pl-legend li")
    periods = queries.periods(atlas, ANONYMOUS, "sgb2_u15")
    live = lambda: duo.find_element("#cmp-pl-live").text  # noqa: E731
    until(lambda: "(1 von" in live(), timeout=20, message="first period named")
    ranges = lambda: duo.driver.execute_script(  # noqa: E731
        "return Array.from(document.querySelectorAll('#cmp-pl-legend li.oa-legend-class')).map(li => "
        "li.children[1].textContent);")
    legend = ranges()
    # keyboard: focus 'next' and press Enter; the live line names the second period, the classes stay
    nxt = duo.driver.find_element("css selector", "#cmp-pl-next")
    nxt.send_keys("\n")
    until(lambda: "(2 von" in live(), timeout=10, message="second period named")
    assert ranges() == legend and len(legend) >= 3  # fixed classes: the same ranges in every period
    toggle = duo.driver.find_element("css selector", "#cmp-pl-toggle")
    toggle.send_keys(" ")
    until(lambda: toggle.get_attribute("aria-pressed") == "true" and "Anhalten" in toggle.text, timeout=10,
          message="playing")
    until(lambda: "(3 von" in live() or "(4 von" in live(), timeout=15, message="the animation moves on")
    toggle.send_keys(" ")
    until(lambda: toggle.get_attribute("aria-pressed") == "false", timeout=10, message="paused")
    time.sleep(0.3)
    stopped = live()
    time.sleep(2)  # longer than one step: a paused animation stays where it is
    assert live() == stopped
    assert "view=play" in duo.driver.current_url and "pp=" in duo.driver.current_url
    assert f"von {len(periods)})" in stopped and len(periods) > 3
    _shot(duo, "compare_play_desktop")


@pytest.mark.parametrize("view,ready", [("bivariate", "#cmp-bv-grid"), ("play", "#cmp-pl-legend li")])
def test_axe_is_clean_on_the_bivariate_and_play_views(duo, view, ready):
    """test_accessibility_browser walks /vergleich on its first tab; these views render their own content."""
    from tests.test_accessibility_browser import axe_violations, blocking
    _open(duo, f"/vergleich?view={view}", "desktop", ready)
    until(lambda: duo.driver.execute_script(
        "return document.readyState === 'complete' && !document.querySelector('[data-dash-is-loading=true]')"),
        timeout=20, message="callbacks settled")
    assert blocking(axe_violations(duo), view) == []


# Each view's download chips (issue 14): a table (German CSV) and, where a picture makes sense, PNG/SVG/PDF.
TAKE_AWAY = {
    "areas": ("/vergleich?area=0101,0202&indicator=sgb2_u15,uebergang_gym",
              ["cmp-area-csv", "cmp-area-chart-png", "cmp-area-chart-svg", "cmp-area-chart-pdf"]),
    "change": ("/vergleich?view=change&change=bev_gesamt&from=2015-Q4&to=2024-Q4",
               ["cmp-ch-csv", "cmp-ch-png", "cmp-ch-svg", "cmp-ch-pdf"]),
    "relation": ("/vergleich?view=relation&x=sgb2_u15&y=uebergang_gym",
                 ["cmp-rel-csv", "cmp-rel-png", "cmp-rel-svg", "cmp-rel-pdf"]),
    "maps": ("/vergleich?view=maps", [f"cmp-m{side}-{fmt}" for side in (1, 2) for fmt in ("csv", "png", "svg", "pdf")]),
    "similar": ("/vergleich?view=similar&area=0101&indicator=sgb2_u15,uebergang_gym", ["cmp-sim-csv"]),
    "bivariate": ("/vergleich?view=bivariate&bx=sgb2_u15&by=uebergang_gym",
                  ["cmp-bv-csv", "cmp-bv-png", "cmp-bv-svg", "cmp-bv-pdf"]),
}
TYPES = {"csv": "text/csv", "png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}


@pytest.mark.parametrize("size", ["desktop", "tablet"])
def test_every_view_can_be_taken_away_as_a_table_and_a_picture(duo, size):
    """Every chip is on screen (within the window, tablet too) and its address answers with the file."""
    for view, (path, chips) in TAKE_AWAY.items():
        _open(duo, path, size, f"#{chips[0]}")
        until(lambda: all(duo.find_element(f"#{c}").get_attribute("href") not in ("", None, duo.server_url + path)
                          and "format=" in duo.find_element(f"#{c}").get_attribute("href") for c in chips),
              timeout=30, message=f"{view}: download addresses")
        for chip in chips:
            element = duo.find_element(f"#{chip}")
            duo.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
            right = duo.driver.execute_script("return arguments[0].getBoundingClientRect().right;", element)
            assert element.is_displayed() and right <= SIZES[size][0], (view, chip)
            if size == "desktop":  # the files themselves once: the API tests check their content
                answer = requests.get(element.get_attribute("href"), timeout=60)
                assert answer.status_code == 200, (view, chip, answer.text[:200])
                assert answer.headers["Content-Type"].startswith(TYPES[chip.rsplit("-", 1)[1]]), (view, chip)
