"""Stewards and admins do the whole release workflow in the browser (headless Chromium), without the API.

- a steward takes a German Excel CSV (key and name columns, a 'Stadt insgesamt' total row) to an internal
  release, and an admin publishes it from the release queue;
- an admin schedules a public release from the queue (with its suppression report), cancels it, schedules
  it again and the clock lets it fall due;
- a steward withdraws a draft with a reason, which lands in the audit log; a public version is never
  offered for withdrawal to a steward;
- an admin creates an API token with an expiry (shown once), revokes it, and filters the audit log.

Every test writes to a private store copy (`scratch_duo`); time moves by the app's clock, never by sleeping.
"""
from __future__ import annotations

import base64
import re
from datetime import datetime

from selenium.webdriver.common.by import By

from atlas.services import queries
from auth import ANONYMOUS
from tests.conftest import fresh_client, writer
from tests.test_explorer_browser import until
from tests.test_roles_browser import log_in
from tests.test_upload_browser import DROP
from tests.test_workflow import extract, post, upload


def german_excel_csv(atlas, period_day: str = "31.03.2026", small: dict | None = None) -> bytes:
    """What an office's own system exports for Excel: key and name columns, thousands dots, a total row,
    Windows line ends and code page."""
    areas = queries.areas(atlas, "ortsteil", queries.current_set(atlas))[["area_id", "name"]]
    lines = ["Ortsteilnummer;Ortsteil;Stichtag;Indikator;Zähler;Nenner"]
    total_num = total_den = 0
    for i, (key, name) in enumerate(areas.itertuples(index=False)):
        num, den = (small or {}).get(key, (1200 + 13 * i, 9000 + 101 * i))
        total_num, total_den = total_num + num, total_den + den
        lines.append(f"{key};{name};{period_day};sgb2_quote;{num:,};{den:,}".replace(",", "."))
    lines.append(f";Stadt insgesamt;{period_day};sgb2_quote;{total_num:,};{total_den:,}".replace(",", "."))
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def drop_file(duo, body: bytes, name: str, zone: str = "up-drop") -> None:
    duo.driver.execute_script(DROP.replace("up-drop", zone), base64.b64encode(body).decode(), name)


def buttons(duo, container: str, label: str) -> list:
    """The buttons with this label inside a container (ids of version buttons are pattern ids)."""
    return duo.driver.find_elements(By.XPATH, f"//*[@id='{container}']//button[normalize-space()='{label}']")


def row_of(duo, container: str, version_id: int):
    """The table row of a version (its first cell is the version number)."""
    return duo.driver.find_element(By.XPATH, f"//*[@id='{container}']//tr[td[1][normalize-space()='{version_id}']]")


def click_in_row(duo, container: str, version_id: int, label: str) -> None:
    """Click a version's button; a table re-drawn meanwhile is looked up again (no stale element)."""
    def click() -> bool:
        row_of(duo, container, version_id).find_element(By.XPATH, f".//button[normalize-space()='{label}']").click()
        return True
    until(click, message=f"'{label}' for version {version_id}")


def text(duo, selector: str) -> str:
    return duo.find_element(selector).text


def test_steward_and_admin_take_an_excel_csv_to_a_public_release_in_the_browser(scratch_duo, scratch_atlas):
    duo, atlas = scratch_duo, scratch_atlas
    log_in(duo, "sozialamt")
    duo.find_element("#oa-upload-link").click()
    until(lambda: duo.find_elements("#up-drop"), message="upload page")
    assert not duo.find_elements("#oa-releases-link")  # the queue link is the admins'

    # The template is one pick away.
    duo.select_dcc_dropdown("#up-template-indicator", value="SGB-II-Quote (sgb2_quote)")
    until(lambda: duo.find_element("#up-template-xlsx").is_displayed(), message="template links")
    assert duo.find_element("#up-template-xlsx").get_attribute("href").endswith(
        "/api/v1/templates?indicator=sgb2_quote&format=xlsx")

    drop_file(duo, german_excel_csv(atlas), "SGB2_Q1_2026.csv")
    until(lambda: "Keine Fehler" in text(duo, "#up-report"), timeout=30, message="clean report")
    assert "Summenzeile" in text(duo, "#up-report")  # the total row was recognised and compared, not refused
    until(lambda: duo.find_elements("#up-preview table"), message="preview")
    assert "51 neu, 0 geändert" in text(duo, "#up-preview-summary")
    preview = text(duo, "#up-preview table")
    assert "Altstadt (0101)" in preview and "Q1 2026" in preview and "SGB-II-Quote" in preview
    assert len(duo.find_elements("#up-preview tr.oa-change-new")) == 51

    duo.find_element("#up-confirm").click()
    until(lambda: "Entwurf" in text(duo, "#up-confirmed"), message="stored as draft")
    vid = int(re.search(r"Version (\d+)", text(duo, "#up-confirmed")).group(1))
    # The history opens on the delivered indicator with the new draft and exactly the steward's steps.
    until(lambda: row_of(duo, "up-history", vid), message="history row of the new draft")
    row = row_of(duo, "up-history", vid)
    assert "Entwurf" in row.text and "Q1 2026" in row.text and "sozialamt" in row.text
    labels = {b.text for b in row.find_elements(By.TAG_NAME, "button")}
    assert labels == {"Intern freigeben", "Zurückziehen …"}
    for public_row in duo.driver.find_elements(By.XPATH, "//*[@id='up-history']//tr[contains(., 'öffentlich')]"):
        assert not public_row.find_elements(By.TAG_NAME, "button")  # a steward never withdraws a public version

    click_in_row(duo, "up-history", vid, "Intern freigeben")
    until(lambda: "intern freigegeben" in text(duo, "#up-history-status"), message="released internally")
    intern = atlas.users.get("intern").principal()
    assert "2026-Q1" in queries.periods(atlas, intern, "sgb2_quote")
    assert "2026-Q1" not in queries.periods(atlas, ANONYMOUS, "sgb2_quote")
    until(lambda: "intern freigegeben" in row_of(duo, "up-history", vid).text, message="state in the history")
    assert "Intern freigeben" not in row_of(duo, "up-history", vid).text

    # The admin finds it in the release queue (header link) and publishes it there.
    log_in(duo, "admin")
    duo.find_element("#oa-releases-link").click()
    until(lambda: row_of(duo, "rq-queue", vid), message="queue row")
    queued = row_of(duo, "rq-queue", vid).text
    assert "SGB-II-Quote" in queued and "sozialamt" in queued and "51 / 0 / 0" in queued
    assert "keine Zelle geheim gehalten" in queued
    click_in_row(duo, "rq-queue", vid, "Öffentlich freigeben …")
    until(lambda: duo.find_element("#rq-panel").is_displayed(), message="confirmation")
    assert f"Version {vid} – SGB-II-Quote, Q1 2026" in text(duo, "#rq-panel-text")
    duo.find_element("#rq-do").click()
    until(lambda: "ist öffentlich freigegeben" in text(duo, "#rq-status"), message="published")
    assert "2026-Q1" in queries.periods(atlas, ANONYMOUS, "sgb2_quote")
    until(lambda: not duo.driver.find_elements(By.XPATH, f"//*[@id='rq-queue']//tr[td[1][normalize-space()='{vid}']]"),
          message="gone from the queue")
    actions = [(e["actor"], e["action"], e["target"]) for e in atlas.audit.entries(20)]
    assert ("admin", "version_released", f"sgb2_quote v{vid}") in actions
    assert ("sozialamt", "version_released", f"sgb2_quote v{vid}") in actions


def schulamt_version(app, atlas, period: str = "2026") -> int:
    """A school office delivery with small numbers, released internally (set-up through the API)."""
    if atlas.users.get("schulamt-test") is None:
        atlas.users.add("schulamt-test", "steward", ["schule"], "school-steward-1", actor="test")
    from tests.conftest import csrf_token, login
    client = fresh_client(app)
    login(client, "schulamt-test", "school-steward-1")
    token = csrf_token(client)
    areas = queries.areas(atlas, "ortsteil", queries.current_set(atlas))["area_id"]
    small = {area: (1, 80) for area in list(areas)[:2]}  # two cells below the threshold of 3
    body = extract(atlas, "abgang_ohne", period, {a: small.get(a, (6 + i % 5, 90 + i)) for i, a in enumerate(areas)})
    report = upload(client, token, body).get_json()
    assert report["ok"], report["errors"][:3]
    vid = post(client, token, f"/api/v1/uploads/{report['upload_id']}/confirm").get_json()["version_id"]
    assert post(client, token, f"/api/v1/versions/{vid}/release", {"to": "internal"}).status_code == 200
    return vid


def test_admin_schedules_a_public_release_cancels_it_and_lets_the_next_one_fall_due(scratch_duo, scratch_app,
                                                                                       scratch_atlas):
    duo, atlas = scratch_duo, scratch_atlas
    atlas.clock.set(datetime(2026, 11, 30, 8, 0))
    vid = schulamt_version(scratch_app, atlas)
    log_in(duo, "admin")
    duo.driver.get(f"{duo.server_url}/freigaben")
    until(lambda: row_of(duo, "rq-queue", vid), message="queue row")
    # The suppression report: how many cells the public will not see, why, and which.
    withheld = row_of(duo, "rq-queue", vid).find_element(By.CSS_SELECTOR, ".oa-withheld")
    assert re.search(r"\d+ Zellen geheim: 2 primär", withheld.text), withheld.text
    assert not duo.find_element(f"#rq-cells-{vid} table").is_displayed()
    withheld.find_element(By.LINK_TEXT, "Zellen ansehen").click()
    cells = until(lambda: duo.find_element(f"#rq-cells-{vid} table").is_displayed()
                  and duo.find_element(f"#rq-cells-{vid} table").text, message="withheld cells")
    assert "Altstadt (0101)" in cells and "primär (kleine Zahl)" in cells

    click_in_row(duo, "rq-queue", vid, "Öffentlich freigeben …")
    until(lambda: duo.find_element("#rq-at").is_displayed(), message="time field")
    assert not duo.find_element("#rq-reason").is_displayed()
    duo.find_element("#rq-at").send_keys("01.12.2026 09:00")
    duo.find_element("#rq-do").click()
    until(lambda: "geplant für 01.12.2026 09:00" in text(duo, "#rq-status"), message="scheduled")
    until(lambda: "geplant: öffentlich am 01.12.2026 09:00" in row_of(duo, "rq-queue", vid).text,
          message="schedule in the queue")
    assert "2026" not in queries.periods(atlas, ANONYMOUS, "abgang_ohne")

    click_in_row(duo, "rq-queue", vid, "Termin aufheben")
    until(lambda: "Termin aufgehoben" in text(duo, "#rq-status"), message="cancelled")
    assert "geplant" not in row_of(duo, "rq-queue", vid).text
    atlas.clock.set(datetime(2026, 12, 1, 9, 1))
    assert "2026" not in queries.periods(atlas, ANONYMOUS, "abgang_ohne")  # the cancelled time passed: nothing
    entry = atlas.audit.entries(1)[0]
    assert (entry["actor"], entry["action"], entry["target"]) == ("admin", "release_unscheduled", f"abgang_ohne v{vid}")

    # A new time, and the clock lets it fall due: no one writes at that moment.
    click_in_row(duo, "rq-queue", vid, "Öffentlich freigeben …")
    until(lambda: duo.find_element("#rq-at").is_displayed(), message="time field again")
    duo.find_element("#rq-at").send_keys("2.12.2026 10:30")
    duo.find_element("#rq-do").click()
    until(lambda: "geplant für 02.12.2026 10:30" in text(duo, "#rq-status"), message="scheduled again")
    atlas.clock.set(datetime(2026, 12, 2, 10, 30))
    assert "2026" in queries.periods(atlas, ANONYMOUS, "abgang_ohne")
    duo.find_element("#rq-refresh").click()
    until(lambda: not duo.driver.find_elements(By.XPATH, f"//*[@id='rq-queue']//tr[td[1][normalize-space()='{vid}']]"),
          message="published version leaves the queue")


def test_steward_withdraws_a_draft_with_a_reason_that_goes_to_the_audit_log(scratch_duo, scratch_atlas):
    duo, atlas = scratch_duo, scratch_atlas
    draft = int(atlas.store.query("SELECT max(version_id) AS v FROM versions WHERE indicator_id = 'sgb2_quote' "
                                  "AND state = 'draft'")["v"].iloc[0])
    log_in(duo, "sozialamt")
    duo.driver.get(f"{duo.server_url}/upload")
    until(lambda: duo.find_elements("#up-history-indicator"), message="upload page")
    duo.select_dcc_dropdown("#up-history-indicator", value="SGB-II-Quote (sgb2_quote)")
    click_in_row(duo, "up-history", draft, "Zurückziehen …")
    until(lambda: duo.find_element("#uh-panel").is_displayed(), message="confirmation")
    assert "Bitte geben Sie den Grund an" in text(duo, "#uh-panel-text")
    assert not duo.find_element("#uh-at").is_displayed()
    duo.find_element("#uh-do").click()  # no reason yet: refused, nothing changes
    until(lambda: "Grund" in text(duo, "#up-history-status"), message="reason required")
    assert "Entwurf" in row_of(duo, "up-history", draft).text
    duo.find_element("#uh-reason").send_keys("Nenner aus dem falschen Monat übernommen")
    duo.find_element("#uh-do").click()
    until(lambda: "zurückgezogen" in text(duo, "#up-history-status"), message="withdrawn")
    until(lambda: "zurückgezogen" in row_of(duo, "up-history", draft).text, message="state in the history")
    assert not row_of(duo, "up-history", draft).find_elements(By.TAG_NAME, "button")
    assert not duo.find_element("#uh-panel").is_displayed()
    entry = atlas.audit.entries(1)[0]
    assert (entry["actor"], entry["action"], entry["target"]) == ("sozialamt", "version_withdrawn",
                                                                  f"sgb2_quote v{draft}")
    assert "Grund: Nenner aus dem falschen Monat übernommen" in entry["detail"]
    sozialamt = atlas.users.get("sozialamt").principal()
    assert "2025-Q4" not in queries.periods(atlas, sozialamt, "sgb2_quote")  # the draft's only period is gone


def test_admin_manages_api_tokens_and_reads_the_audit_log_in_the_browser(scratch_duo, scratch_app, scratch_atlas):
    duo, atlas = scratch_duo, scratch_atlas
    atlas.clock.set(datetime(2026, 6, 1, 12, 0))
    log_in(duo, "admin")
    duo.driver.get(f"{duo.server_url}/admin#token")
    until(lambda: duo.find_elements("#adm-token-create"), message="token section")
    duo.select_dcc_dropdown("#adm-token-user", value="sozialamt")
    duo.find_element("#adm-token-label").send_keys("Fachverfahren SGB II")
    duo.driver.execute_script(  # a native date input types by locale: set it as the browser's picker would
        "const e = document.getElementById('adm-token-expires');"
        "const set = Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set;"
        "set.call(e, '2026-06-30'); e.dispatchEvent(new Event('input', {bubbles: true}));"
        "e.dispatchEvent(new Event('change', {bubbles: true}));")
    duo.find_element("#adm-token-create").click()
    token = until(lambda: duo.find_element("#adm-token-value").get_attribute("value"), message="token shown once")
    assert token.startswith("oa_") and token not in atlas.store.read_table("tokens").to_csv()
    listed = until(lambda: duo.find_element("#adm-tokens-table").text, message="token list")
    assert "sozialamt" in listed and "Fachverfahren SGB II" in listed and "30.06.2026" not in listed
    assert "01.07.2026 00:00" in listed and "aktiv" in listed  # valid through the 30th

    script = fresh_client(scratch_app)
    auth = {"Authorization": f"Bearer {token}"}
    assert script.get("/api/v1/versions?indicator=sgb2_quote", headers=auth).status_code == 200
    atlas.clock.set(datetime(2026, 7, 1, 0, 0))
    assert script.get("/api/v1/versions?indicator=sgb2_quote", headers=auth).status_code == 401  # expired
    atlas.clock.set(datetime(2026, 6, 2, 12, 0))
    assert script.get("/api/v1/versions?indicator=sgb2_quote", headers=auth).status_code == 200

    duo.driver.find_element(By.XPATH, "//*[@id='adm-tokens-table']//button[normalize-space()='Widerrufen']").click()
    until(lambda: "widerrufen" in duo.find_element("#adm-tokens-table").text, message="revoked")
    assert not duo.find_elements("#adm-token-value")  # the token is never shown again
    assert script.get("/api/v1/versions?indicator=sgb2_quote", headers=auth).status_code == 401

    # The audit log: German action names, local time, filters, and the CSV of exactly the filtered entries.
    duo.select_dcc_dropdown("#adm-audit-action", value="API-Token erstellt")
    until(lambda: "1 Einträge" in text(duo, "#adm-audit-count"), message="filtered log")
    shown = text(duo, "#adm-audit-table")
    assert "API-Token erstellt" in shown and "Anmeldung" not in shown and "gültig bis 01.07.2026 00:00" in shown
    href = duo.find_element("#adm-audit-csv").get_attribute("href")
    assert href.endswith("/api/v1/audit?format=csv&action=token_created")
    admin, _ = writer(scratch_app, "admin")
    body = admin.get(href[href.index("/api/"):]).get_data().decode("utf-8-sig")
    lines = body.strip().splitlines()
    assert lines[0].startswith("Zeit (Ortszeit);Wer;Aktion") and len(lines) == 2
    assert ";admin;API-Token erstellt;token_created;sozialamt;" in lines[1]
