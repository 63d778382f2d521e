"""A steward's quarter in headless Chromium: drop the Excel extract, read the report, store, release internally."""
from __future__ import annotations

import io

from openpyxl import Workbook

from atlas.services import queries
from tests.test_explorer_browser import until
from tests.test_roles_browser import log_in


def quarter_workbook(area_ids: list[str], period: str) -> bytes:
    """What the social office exports from its own system: German headers, Stichtag as a date cell."""
    from datetime import date
    wb = Workbook()
    ws = wb.active
    ws.append(["Schlüssel", "Gebiet", "Stichtag", "Indikator", "Zähler", "Nenner"])
    year, quarter = int(period[:4]), int(period[-1])
    day = {1: date(year, 3, 31), 2: date(year, 6, 30), 3: date(year, 9, 30), 4: date(year, 12, 31)}[quarter]
    for i, area in enumerate(area_ids):
        ws.append([area, f"Gebiet {area}", day, "sgb2_quote", 200 + 7 * i, 2000 + 11 * i])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


DROP = """
const [b64, name] = arguments;
const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
const file = new File([bytes], name, {type: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"});
const data = new DataTransfer();
data.items.add(file);
document.getElementById("up-drop").dispatchEvent(new DragEvent("drop", {dataTransfer: data, bubbles: true}));
"""


def test_steward_takes_an_excel_extract_to_an_internal_release(scratch_duo, scratch_atlas):
    duo, atlas = scratch_duo, scratch_atlas
    import base64
    areas = list(queries.areas(atlas, "ortsteil", queries.current_set(atlas))["area_id"])
    log_in(duo, "sozialamt")
    duo.find_element("#oa-upload-link").click()
    until(lambda: duo.find_elements("#up-drop"), message="upload page")
    body = quarter_workbook(areas, "2026-Q2")
    duo.driver.execute_script(DROP, base64.b64encode(body).decode(), "sgb2_2026q2.xlsx")
    until(lambda: "Keine Fehler" in duo.find_element("#up-report").text, timeout=30, message="clean report")
    assert "51 Werte" in duo.find_element("#up-report").text
    until(lambda: duo.find_elements("#up-preview img"), message="preview map")
    assert duo.find_element("#up-preview table").text.count("SGB-II-Quote") >= 51  # titles and names, not ids
    assert queries.periods(atlas, atlas.users.get("intern").principal(), "sgb2_quote")[-1] != "2026-Q2"

    duo.find_element("#up-confirm").click()
    until(lambda: "Entwurf" in duo.find_element("#up-confirmed").text, message="stored as draft")
    intern = atlas.users.get("intern").principal()
    assert "2026-Q2" not in queries.periods(atlas, intern, "sgb2_quote")  # drafts stay with the department
    until(lambda: duo.find_element("#up-release-internal").is_enabled(), message="release button")
    duo.find_element("#up-release-internal").click()
    until(lambda: "intern freigegeben" in duo.find_element("#up-release-status").text, message="released")
    assert "2026-Q2" in queries.periods(atlas, intern, "sgb2_quote")
    assert not duo.find_element("#up-release-public").is_displayed()  # public release is the admins' step

    # The history shows the version with who, what and the release.
    duo.select_dcc_dropdown("#up-history-indicator", value="SGB-II-Quote (sgb2_quote)")
    until(lambda: "intern freigegeben" in duo.find_element("#up-history").text, message="history row")
    assert "sozialamt" in duo.find_element("#up-history").text and "sgb2_2026q2.xlsx" in duo.find_element(
        "#up-history").text


def test_broken_extract_gets_a_precise_report_and_no_confirm(scratch_duo):
    duo = scratch_duo
    import base64
    log_in(duo, "sozialamt")
    duo.driver.get(f"{duo.server_url}/upload")
    until(lambda: duo.find_elements("#up-drop"), message="upload page")
    csv_text = "Ortsteil;Jahr;Indikator;Wert\n0101;2024;kaufkraft;12,5\n9999;2024;kaufkraft;abc\n"
    duo.driver.execute_script(DROP, base64.b64encode(csv_text.encode("utf-8")).decode(), "kaputt.csv")
    until(lambda: "Fehler" in duo.find_element("#up-report").text, timeout=30, message="error report")
    text = duo.find_element("#up-report").text
    assert "9999" in text and "unbekanntes Gebiet" in text and "abc" in text
    assert not duo.find_element("#up-confirm").is_enabled()
    duo.find_element("#up-cancel").click()
    until(lambda: "Verworfen" in duo.find_element("#up-confirmed").text, message="cancelled")
    assert duo.find_element("#up-report").text == ""


def test_admin_uploads_boundaries_on_the_admin_page(scratch_duo, scratch_atlas):
    """A new boundary set from a GeoJSON in another CRS; the old set keeps the earlier periods."""
    import base64

    import geopandas as gpd
    duo, atlas = scratch_duo, scratch_atlas
    current = queries.current_set(atlas)
    areas = queries.areas(atlas, "ortsteil", current)
    import shapely
    gdf = gpd.GeoDataFrame({"OT_NR": areas["area_id"], "OT_NAME": areas["name"], "BEZ": areas["parent_id"]},
                           geometry=shapely.from_wkb(areas["geometry"].values), crs="EPSG:4326").to_crs(25832)
    body = gdf.to_json().encode("utf-8")
    log_in(duo, "admin")
    duo.driver.get(f"{duo.server_url}/admin")
    until(lambda: duo.find_elements("#bd-drop"), message="boundary section")
    for field, value in (("#bd-valid-from", "2027-01-01"), ("#bd-key", "OT_NR"), ("#bd-name", "OT_NAME"),
                         ("#bd-parent", "BEZ"), ("#bd-label", "Gebietsstand 2027")):
        duo.find_element(field).send_keys(value)
    duo.driver.execute_script(DROP.replace("up-drop", "bd-drop"), base64.b64encode(body).decode(), "ot2027.geojson")
    until(lambda: "Gespeichert" in duo.find_element("#bd-status").text, timeout=60, message="boundaries stored")
    assert queries.set_for_period(atlas, "2027") == "gs20270101"
    assert queries.set_for_period(atlas, "2025") == current  # earlier periods keep their boundaries
    assert len(queries.areas(atlas, "ortsteil", "gs20270101")) == len(areas)


def test_a_large_file_shows_the_checks_progress_then_its_report(scratch_duo, scratch_atlas, monkeypatch):
    """From ATLAS_UPLOAD_BACKGROUND_KB on, the page follows a background check instead of waiting on the request."""
    import base64
    import dataclasses
    import threading

    from atlas.ingest import checks, uploads
    duo, atlas = scratch_duo, scratch_atlas
    atlas.settings = dataclasses.replace(atlas.settings, upload_background_kb=0)
    release, real = threading.Event(), checks.check_upload

    def held_check(*args, **kwargs):  # the check waits until the page has shown that it runs
        kwargs["progress"]("read", 0.0)
        assert release.wait(60)
        return real(*args, **kwargs)
    monkeypatch.setattr(uploads, "check_upload", held_check)
    areas = list(queries.areas(atlas, "ortsteil", queries.current_set(atlas))["area_id"])
    log_in(duo, "sozialamt")
    duo.find_element("#oa-upload-link").click()
    until(lambda: duo.find_elements("#up-drop"), message="upload page")
    duo.driver.execute_script(DROP, base64.b64encode(quarter_workbook(areas, "2026-Q2")).decode(), "gross.xlsx")
    until(lambda: "Prüfung läuft: Datei lesen" in duo.find_element("#up-status").text, timeout=30,
          message="progress of the background check")
    release.set()
    until(lambda: "Keine Fehler" in duo.find_element("#up-report").text, timeout=30, message="clean report")
    assert "51 Werte" in duo.find_element("#up-report").text
