"""Delivery templates (GET /api/v1/templates): the department's own, re-uploaded unchanged they change nothing.

Every upload here goes to a private store copy (`scratch_app`).
"""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from atlas.services import queries
from tests.conftest import fresh_client, login, writer
from tests.test_workflow import post, upload


def template(client, indicator: str, fmt: str = "csv-de"):
    return client.get(f"/api/v1/templates?indicator={indicator}&format={fmt}")


@pytest.mark.parametrize("fmt,name", [("csv-de", "vorlage_sgb2_quote_2025-Q4.csv"),
                                      ("xlsx", "vorlage_sgb2_quote_2025-Q4.xlsx")])
def test_a_template_uploaded_unchanged_passes_the_check_and_changes_nothing(scratch_app, scratch_atlas, fmt, name):
    steward, token = writer(scratch_app, "sozialamt")
    resp = template(steward, "sgb2_quote", fmt)
    assert resp.status_code == 200 and name in resp.headers["Content-Disposition"]
    assert resp.headers["Cache-Control"] == "private, no-store"
    report = upload(steward, token, resp.get_data(), name).get_json()
    assert report["ok"] and report["errors"] == [], report["errors"][:3]
    assert report["rows"] == 51 and report["periods"] == ["2025-Q4"]  # the last period, every area of today's set
    version = post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm").get_json()["version_id"]
    newest = steward.get("/api/v1/versions?indicator=sgb2_quote").get_json()["versions"][0]
    assert newest["version_id"] == version
    assert (newest["n_added"], newest["n_changed"], newest["n_removed"]) == (0, 0, 0)


def test_the_csv_template_is_german_excel_with_keys_names_and_the_last_period(scratch_app, atlas):
    client = fresh_client(scratch_app)
    login(client, "sozialamt")
    body = template(client, "sgb2_quote").get_data()
    assert body.startswith("\ufeff".encode())  # Excel opens UTF-8 with BOM by double-click
    lines = body.decode("utf-8-sig").splitlines()
    assert lines[0] == "Gebietsschlüssel;Gebietsname;Indikator;Zeitraum;Zähler;Nenner;Wert"
    areas = queries.areas(atlas, "ortsteil", queries.current_set(atlas))
    assert len(lines) == 1 + len(areas)
    first = lines[1].split(";")
    assert first[:4] == ["0101", "Altstadt", "sgb2_quote", "2025-Q4"] and "," in first[6]  # decimal comma
    assert any(line.endswith(";;;") for line in lines[1:])  # an area without data stays empty, never 0


def test_the_xlsx_template_has_an_indicator_drop_down_and_a_protected_header(scratch_app):
    client = fresh_client(scratch_app)
    login(client, "sozialamt")
    wb = load_workbook(io.BytesIO(template(client, "sgb2_quote", "xlsx").get_data()))
    ws = wb["Werte"]
    assert [c.value for c in ws[1]] == ["Gebietsschlüssel", "Gebietsname", "Indikator", "Zeitraum", "Zähler",
                                        "Nenner", "Wert"]
    assert ws.protection.sheet and all(c.protection.locked for c in ws[1])
    assert not ws["E2"].protection.locked and not ws["A2"].protection.locked
    assert ws["A2"].value == "0101" and isinstance(ws["E2"].value, (int, float))  # numbers as numbers
    lists = [dv for dv in ws.data_validations.dataValidation if dv.type == "list"]
    assert len(lists) == 1 and "C2" in lists[0].sqref
    choices = {r[0] for r in wb["Indikatoren"].iter_rows(values_only=True)}
    assert "sgb2_quote" in choices and "kaufkraft" in choices and "kita_2jahre" not in choices  # own department's
    assert wb["Indikatoren"].sheet_state == "hidden"


@pytest.mark.parametrize("user", [None, "oeffentlich", "intern", "jugendamt"])
def test_others_get_the_answer_for_an_indicator_that_does_not_exist(dash_app, user):
    client = fresh_client(dash_app)
    if user:
        login(client, user)
    ghost = template(client, "zz_no_such_indicator")
    for indicator in ("sgb2_quote", "kaufkraft"):  # public and internal indicators of the social office
        resp = template(client, indicator)
        assert resp.status_code == ghost.status_code == 404
        assert resp.get_data() == ghost.get_data()


def test_admins_get_every_template_and_a_bad_format_is_named(dash_app):
    admin = fresh_client(dash_app)
    login(admin, "admin")
    assert template(admin, "hze_quote").status_code == 200
    resp = template(admin, "hze_quote", "ods")
    assert resp.status_code == 400 and "csv-de" in resp.get_json()["message"]
