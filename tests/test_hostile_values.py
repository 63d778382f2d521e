"""Values that used to break reading for everyone (issue 18, finding 3): a 400-digit number stored as
infinity, `decimals: -1` in a new indicator, a period in full-width digits. The checks refuse or normalise
them, in the per-row path and the fast path alike, and readers survive what an older atlas stored.
"""
from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from atlas.ingest import bulkcheck
from atlas.ingest.cells import (
    MISSING_MARKS,
    SUPPRESSED_MARKS,
    parse_number,
    parse_period,
)
from atlas.ingest.checks import check_upload
from auth import Principal
from tests.conftest import writer

SOCIAL = Principal("sozialamt", "steward", frozenset({"soziales"}), logged_in=True)
LONG = "Ortsteil;Jahr;Indikator;Wert\n"
HOSTILE_NUMBERS = ["9" * 400, "-" + "9" * 400, "1e400", "1,5e400", "1E309", "１２", "１２,５", "١٢", "۱۲", "१२",
                   "12", "1.234,5", "1e15", "1e16", "-1e16", "1000000000000000", "10000000000000000", "٣,٥",
                   "inf", "NaN", "nan", "1_000", "０", "²", "½", "12\u00a0345", "𝟏𝟐"]


def _report(body: str, definitions=None):
    return check_upload(_report.atlas, SOCIAL, "x.csv", body.encode("utf-8"), definitions=definitions).report


@pytest.fixture(autouse=True)
def _atlas(atlas):
    _report.atlas = atlas


def _strict(text: str):
    """JSON as a strict client reads it: NaN and Infinity are errors."""
    def refuse(name):
        raise ValueError(f"not JSON: {name}")
    return json.loads(text, parse_constant=refuse)


@pytest.mark.parametrize("decimal", [",", "."])
def test_the_fast_path_is_never_more_lenient_than_the_per_row_path(decimal):
    cells = pd.Series(HOSTILE_NUMBERS, dtype=object)
    fast_status, fast_value = bulkcheck.parse_numbers(cells, decimal, MISSING_MARKS, SUPPRESSED_MARKS, text_only=True)
    for cell, status, value in zip(HOSTILE_NUMBERS, fast_status, fast_value):
        slow_status, slow_value, message = parse_number(cell, decimal)
        if status != "error":  # the fast path decided: the per-row path must decide the same
            assert (slow_status, slow_value if slow_value is not None else np.nan) == pytest.approx(
                (status, value), nan_ok=True), cell
        if slow_status == "ok":
            assert np.isfinite(slow_value) and abs(slow_value) <= 1e15, cell
        else:
            assert status != "ok", cell


NUMBERISH = st.text(alphabet=st.sampled_from(list("0123456789.,eE+- ") + ["１", "٣", "۱", "१", "\u00a0", "𝟏", "²"]),
                    max_size=30)


@settings(max_examples=300, deadline=None)
@given(cells=st.lists(NUMBERISH | st.sampled_from(HOSTILE_NUMBERS), min_size=1, max_size=20),
       decimal=st.sampled_from([",", "."]))
def test_property_fast_and_per_row_paths_agree_on_any_text(cells, decimal):
    fast_status, fast_value = bulkcheck.parse_numbers(pd.Series(cells, dtype=object), decimal, MISSING_MARKS,
                                                      SUPPRESSED_MARKS, text_only=True)
    for cell, status, value in zip(cells, fast_status, fast_value):
        slow_status, slow_value, _ = parse_number(cell, decimal)
        assert slow_status != "ok" or np.isfinite(slow_value)
        if status != "error":
            assert status == slow_status, cell
            if status == "ok":
                assert value == slow_value, cell


@pytest.mark.parametrize("cell", ["9" * 400, "1e400", "-1e16"])
def test_a_number_too_large_is_refused_with_a_message(cell):
    report = _report(LONG + f"0101;2024;kaufkraft;{cell}\n")
    assert not report.ok and "Zahl zu groß" in report.errors[0]["message"] and "Sie" in report.errors[0]["message"]


def test_huge_counts_are_refused_before_the_rate_is_computed():
    report = _report("Ortsteil;Zeitraum;Indikator;Wert;Zähler;Nenner\n0101;2024-Q4;sgb2_quote;;" + "9" * 400 + ";"
                     + "9" * 401 + "\n")
    assert not report.ok and "Zahl zu groß" in report.errors[0]["message"]


def test_full_width_digits_are_read_as_the_digits_they_are():
    checked = check_upload(_report.atlas, SOCIAL, "x.csv", (LONG + "0101;２０２４;kaufkraft;１２\n").encode())
    assert checked.report.ok and checked.report.periods == ["2024"]
    assert checked.values[["period", "value"]].to_dict("records") == [{"period": "2024", "value": 12.0}]
    assert parse_period("２０２４-Q3") == "2024-Q3"


def test_digits_of_another_script_are_refused_with_a_message():
    period = _report(LONG + "0101;٢٠٢٤;kaufkraft;5\n")
    assert not period.ok and "Zeitraum nicht lesbar" in period.errors[0]["message"]
    number = _report(LONG + "0101;2024;kaufkraft;١٢\n")
    assert not number.ok and "Ziffern 0–9" in number.errors[0]["message"]


def _definition(atlas, **changes) -> dict:
    base = dict(id="neu_x", title_de="Neu", title_en="New", definition_de="d", definition_en="d",
                domain=next(iter(atlas.domain_by_id)), unit="Anzahl", department="soziales", visibility="internal",
                polarity="neutral", decimals=0, aggregation="sum", periodicity="year", source="s", contact="c",
                licence="l")
    return {**base, **changes}


@pytest.mark.parametrize("field,value,words", [
    ("decimals", -1, "Nachkommastellen"), ("decimals", 10 ** 9, "Nachkommastellen"), ("decimals", "2", "0 bis 6"),
    ("decimals", True, "Nachkommastellen"), ("decimals", 1.5, "Nachkommastellen"),
    ("scale", "abc", "Faktor"), ("scale", 0, "Faktor"), ("scale", -100, "Faktor"), ("scale", 1e300, "Faktor"),
    ("scale", float("nan"), "Faktor"), ("scale", None, "Faktor"), ("title_de", ["x"], "Text"),
    ("title_de", "x" * 201, "höchstens 200"), ("unit", {"a": 1}, "Text"), ("diverging", "ja", "true oder false"),
])
def test_new_indicator_fields_are_bounded(atlas, field, value, words):
    report = _report(LONG + "0101;2024;neu_x;5\n", [_definition(atlas, **{field: value})])
    assert not report.ok, (field, value)
    assert any(words in e["message"] and e["column"] == "new_indicators" for e in report.errors), report.errors


def test_bounds_keep_sensible_definitions(atlas):
    for decimals, scale in ((0, 1), (6, 100), (2, 1_000_000), (1, 0.5)):
        report = _report(LONG + "0101;2024;neu_x;5\n", [_definition(atlas, decimals=decimals, scale=scale)])
        assert report.ok, (decimals, scale, report.errors)


def _store_bad_data(atlas) -> int:
    """What an older atlas let through: an infinite value, a period in full-width digits, decimals -1."""
    from atlas.services import versions
    admin = atlas.users.get("admin").principal()
    base = dict(area_id="0101", numerator=np.nan, denominator=np.nan, status="ok")
    values = pd.DataFrame([
        {**base, "indicator_id": "bev_u6", "period": "2031", "period_end": pd.Timestamp("2031-12-31").date(),
         "value": float("inf")},
        {**base, "indicator_id": "bev_u6", "period": "２０３２", "period_end": pd.Timestamp("2032-12-31").date(),
         "value": 5.0},
        {**base, "indicator_id": "alt_x", "period": "2024", "period_end": pd.Timestamp("2024-12-31").date(),
         "value": 1.23456},
    ])
    bad = _definition(atlas, id="alt_x", decimals=-1, scale=float("inf"), visibility="public",
                      department="statistik", requested_visibility="")
    bad.pop("requested_visibility")
    with atlas.store.writing() as tx:
        rows = versions.add_versions(atlas, admin, tx, versions.Delivery(values, "alt.csv", "0" * 64, "alt", [bad]))
    return rows[0]["version_id"]


def test_readers_survive_what_an_older_atlas_stored(scratch_app, scratch_atlas):
    _store_bad_data(scratch_atlas)
    admin, _ = writer(scratch_app, "admin")
    ind = next(i for i in scratch_atlas.indicators if i.id == "alt_x")
    assert (ind.decimals, ind.scale) == (0, 1.0)  # read within bounds; the stored row stays as it was
    for path in ("/api/v1/values?indicator=bev_u6&period=2031", "/api/v1/values?indicator=bev_u6",
                 "/api/v1/values?indicator=alt_x", "/api/v1/indicators", "/api/v1/profile?area=0101"):
        resp = admin.get(path)
        assert resp.status_code == 200, path
        _strict(resp.get_data(as_text=True))  # valid JSON: no Infinity, no NaN
    rows = _strict(admin.get("/api/v1/values?indicator=bev_u6&period=2031").get_data(as_text=True))["rows"]
    assert any(r["area_id"] == "0101" and r["value"] is None for r in rows)
    xlsx = admin.get("/api/v1/export?indicator=bev_u6&period=2031&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.get_data())).worksheets[0]
    assert sheet.max_row > 1
    wide = admin.get("/api/v1/export?indicator=bev_u6&format=csv")
    assert wide.status_code == 200 and wide.headers["Content-Disposition"].isascii()
    odd = admin.get("/api/v1/export?indicator=bev_u6&period=２０３２&format=csv-de")
    assert odd.status_code in (200, 404) and odd.headers.get("Content-Disposition", "").isascii()
    for path in ("/api/v1/export?indicator=alt_x&period=2024&format=geojson",
                 "/api/v1/export?indicator=bev_u6&period=2031&format=geojson"):
        geo = admin.get(path)
        assert geo.status_code == 200, path
        _strict(geo.get_data(as_text=True))
    for path in ("/api/v1/map?indicator=bev_u6&period=2031&format=png",
                 "/api/v1/map?indicator=alt_x&period=2024&format=png", "/print?indicator=alt_x&period=2024"):
        assert admin.get(path).status_code == 200, path


def _xlsx_with_raw_numbers(rows: list[list], raw: dict[str, str]) -> bytes:
    """A workbook whose cells hold numbers no spreadsheet program writes (a 400-digit integer): openpyxl
    refuses to write them, so placeholders are replaced in the sheet's XML."""
    import zipfile

    from openpyxl import Workbook
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf, out = io.BytesIO(), io.BytesIO()
    wb.save(buf)
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                for placeholder, number in raw.items():
                    data = data.replace(f"<v>{placeholder}</v>".encode(), f"<v>{number}</v>".encode())
            dst.writestr(item, data)
    return out.getvalue()


def test_a_400_digit_integer_in_a_workbook_is_refused_not_a_crash(atlas):
    body = _xlsx_with_raw_numbers([["Ortsteil", "Jahr", "Indikator", "Wert"], ["0101", 2024, "kaufkraft", 987654321],
                                   ["0102", 111222333, "kaufkraft", 5], ["0103", 2024, "kaufkraft", 7]],
                                  {"987654321": "9" * 400, "111222333": "7" * 400})
    report = check_upload(atlas, SOCIAL, "x.xlsx", body).report
    messages = [e["message"] for e in report.errors]
    assert not report.ok and any("Zahl zu groß" in m for m in messages) and any("Zeitraum" in m for m in messages)


def test_a_download_name_outside_ascii_is_sent_as_ascii_with_the_original_beside_it(dash_app):
    from flask import Response

    from atlas.web.api import _ascii_file_names
    resp = Response("x")
    resp.headers["Content-Disposition"] = 'attachment; filename="ortsatlas_bev_u6_２０３２.csv"'
    header = _ascii_file_names(resp).headers["Content-Disposition"]
    assert header.isascii() and header.startswith('attachment; filename="ortsatlas_bev_u6_____.csv"')
    assert header.endswith("filename*=UTF-8''ortsatlas_bev_u6_%EF%BC%92%EF%BC%90%EF%BC%93%EF%BC%92.csv")
    plain = Response("x")
    plain.headers["Content-Disposition"] = 'attachment; filename="ortsatlas.csv"'
    assert _ascii_file_names(plain).headers["Content-Disposition"] == 'attachment; filename="ortsatlas.csv"'
