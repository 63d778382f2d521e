"""Reading what stewards actually have: dialects, encodings, layouts, headers, periods, area names.

These call the ingest service directly (nothing is stored); the workflow
and the broken-file corpus are tested through the API elsewhere.
"""
from __future__ import annotations

import io
from datetime import date, datetime

import numpy as np
import pandas as pd
import pytest
from openpyxl import Workbook

from atlas.ingest import cells
from atlas.ingest import checks as ingest
from atlas.ingest.areas import AreaMatch, AreaMatcher, fold
from atlas.services import queries
from auth import Principal

SOCIAL = Principal("sozialamt", "steward", frozenset({"soziales"}), logged_in=True)
STATS = Principal("statistik", "steward", frozenset({"statistik"}), logged_in=True)


def areas(atlas, period="2024") -> list[tuple[str, str]]:
    frame = queries.areas(atlas, "ortsteil", queries.set_for_period(atlas, period))
    return list(zip(frame["area_id"], frame["name"]))


def check(atlas, viewer, content: bytes, name="x.csv", mapping=None, sheet=None) -> ingest.Checked:
    return ingest.check_upload(atlas, viewer, name, content, mapping, sheet)


@pytest.mark.parametrize("text,decimal,expected", [
    ("1.234,5", ",", 1234.5), ("1234,5", ",", 1234.5), ("12", ",", 12.0), ("-0,5", ",", -0.5),
    ("1,234.5", ".", 1234.5), ("1234.5", ".", 1234.5), (" 7 ", ".", 7.0), ("1 234,5", ",", 1234.5),
])
def test_numbers_in_both_conventions(text, decimal, expected):
    assert cells.parse_number(text, decimal) == ("ok", expected, "")


@pytest.mark.parametrize("text,status", [("", "missing"), ("…", "missing"), ("·", "suppressed"), (".", "suppressed"),
                                         ("geheim", "suppressed"), ("-", "error"), ("12.5", "error")])
def test_missing_suppressed_and_ambiguous_cells(text, status):
    assert cells.parse_number(text, ",")[0] == status


@pytest.mark.parametrize("cell,periodicity,expected", [
    ("2024", None, "2024"), (2024, None, "2024"), ("2024-Q3", None, "2024-Q3"), ("Q3/2024", None, "2024-Q3"),
    ("3. Quartal 2024", None, "2024-Q3"), ("30.09.2024", "quarter", "2024-Q3"), ("31.12.2024", "year", "2024"),
    ("31.12.2024", "quarter", "2024-Q4"), ("2024-09-30", None, "2024-Q3"), (date(2024, 6, 30), None, "2024-Q2"),
    (datetime(2024, 12, 31), "year", "2024"), ("30.08.2024", None, None), ("Sommer", None, None),
])
def test_periods_as_people_write_them(cell, periodicity, expected):
    assert cells.parse_period(cell, periodicity) == expected


def test_german_excel_csv_in_windows_1252_with_names_instead_of_keys(atlas):
    rows = ["Gebiet;Stichtag;Indikator;Wert"] + [f"{name};31.12.2024;bev_gesamt;1.{i:03d}" for i, (_, name)
                                                 in enumerate(areas(atlas))]
    checked = check(atlas, STATS, ("\n".join(rows) + "\n").encode("cp1252"))
    assert checked.report.ok, checked.report.errors[:3]
    assert checked.report.mapping == {"area": "Gebiet", "period": "Stichtag", "indicator": "Indikator",
                                      "value": "Wert"}
    assert len(checked.values) == 51 and set(checked.values["period"]) == {"2024-Q4"}
    assert sorted(checked.values["value"])[1] == 1001  # "1.001": a thousands dot in German


def test_plain_csv_wide_by_indicator_with_english_headers(atlas):
    rows = ["area,year,bev_u6,bev_65plus"] + [f"{a},2024,{5 + i / 10},{20 + i / 10}" for i, (a, _) in
                                               enumerate(areas(atlas))]
    checked = check(atlas, STATS, "\n".join(rows).encode())
    assert checked.report.ok, checked.report.errors[:3]
    assert set(checked.values["indicator_id"]) == {"bev_u6", "bev_65plus"} and len(checked.values) == 102


def test_wide_by_period_from_xlsx_with_a_chosen_sheet(atlas):
    wb = Workbook()
    wb.active.title = "Hinweise"
    wb.active.append(["Dieses Blatt enthält nur Erläuterungen."])
    ws = wb.create_sheet("Daten")
    ws.append(["Schlüssel", "Indikator", "Q4/2022", "Q4/2023", "31.12.2024"])
    for i, (a, _) in enumerate(areas(atlas)):
        ws.append([a, "bev_gesamt", 1000 + i, 1010 + i, 1020 + i])
    buf = io.BytesIO()
    wb.save(buf)
    checked = check(atlas, STATS, buf.getvalue(), "daten.xlsx", sheet="Daten")
    assert checked.report.ok, checked.report.errors[:3]
    assert sorted(checked.values["period"].unique()) == ["2022-Q4", "2023-Q4", "2024-Q4"]
    assert len(checked.values) == 153


def test_a_mapping_the_steward_confirms_when_headers_are_unknown(atlas):
    rows = ["Stadtteil-Nr;Berichtsjahr;Kennziffer;Anzahl"] + [f"{a};2024-Q4;bev_gesamt;{1000 + i}" for i, (a, _) in
                                                               enumerate(areas(atlas))]
    content = "\n".join(rows).encode()
    first = check(atlas, STATS, content)
    assert not first.report.ok and {e["column"] for e in first.report.errors} >= {"indicator", "period", "value"}
    assert first.report.mapping["area"] == "Stadtteil-Nr"  # a key column is recognised by its ending
    assert all("mapping" in e["message"] for e in first.report.errors)  # each says how to answer
    mapping = {"area": "Stadtteil-Nr", "period": "Berichtsjahr", "indicator": "Kennziffer", "value": "Anzahl"}
    assert check(atlas, STATS, content, mapping=mapping).report.ok


def test_area_names_tolerate_spelling_but_never_guess(atlas):
    matcher = AreaMatcher(atlas)
    set_id = queries.set_for_period(atlas, "2024")
    key = next(a for a, n in areas(atlas) if n == "Altstadt-Nord")
    for spelling in ("Altstadt-Nord", "altstadt nord", "Altstadt Nord", "ALTSTADT–NORD "):
        assert matcher.match(set_id, None, spelling) == AreaMatch("area", key), spelling
    assert matcher.match(set_id, "101", None) == AreaMatch("area", "0101")  # Excel dropped the leading zero
    matcher = AreaMatcher(atlas)
    matcher.index(set_id).by_name[fold("Altstadt-Nord")] = [key, "0999"]  # two areas of the same name
    found = matcher.match(set_id, None, "Altstadt Nord (2)")
    assert found.kind == "error" and "meinten Sie" in found.error
    found = matcher.match(set_id, None, "Altstadt Nord")
    assert found.kind == "error" and "mehrere Gebiete" in found.error and key in found.error


def test_plausibility_warnings_do_not_block(atlas):
    rows = ["Ortsteil;Zeitraum;Indikator;Wert;Zähler;Nenner"]
    keep = areas(atlas, "2025")[:-3]  # three Ortsteile missing
    for i, (a, _) in enumerate(keep):
        num = 9000 if i == 0 else 300 + i  # one jump / outlier
        rows.append(f"{a};2025-Q3;sgb2_quote;;{num};{10000 + i}")
    rows.append("00;2025-Q3;sgb2_quote;1;;")  # a city rate that does not match the Ortsteile
    checked = check(atlas, SOCIAL, ("\n".join(rows) + "\n").encode())
    assert checked.report.ok, checked.report.errors[:3]
    text = " ".join(w["message"] for w in checked.report.warnings)
    assert "3 Ortsteile fehlen" in text and "Ausreißer" in text and "Änderung" in text
    assert "die Summenzeile '00' nennt 1,0 %" in text
    assert "00" not in set(checked.values["area_id"])  # the total is checked, not stored


def test_jumps_compare_each_cell_with_its_previous_period_stored_or_uploaded(atlas):
    """2025-Q3 is compared with the stored 2025-Q2; 2025-Q4 with 2025-Q3 of the same upload."""
    (first, _), (second, _) = areas(atlas, "2025")[:2]
    stored = queries.cells(atlas, SOCIAL, [("sgb2_quote", "2025-Q2")]).set_index("area_id")["value"]
    rows = ["Ortsteil;Zeitraum;Indikator;Wert"]
    rows.append(f"{first};2025-Q3;sgb2_quote;{stored[first] * 2:.1f}".replace(".", ","))  # +100 % on the store
    rows.append(f"{second};2025-Q3;sgb2_quote;{stored[second]:.1f}".replace(".", ","))  # unchanged
    rows.append(f"{second};2025-Q4;sgb2_quote;{stored[second] * 3:.1f}".replace(".", ","))  # +200 % on the upload
    checked = check(atlas, SOCIAL, ("\n".join(rows) + "\n").encode())
    jumps = [w for w in checked.report.warnings if "Änderung" in w["message"]]
    assert [w["row"] for w in jumps] == [2, 4], jumps
    assert "(Q2 2025)" in jumps[0]["message"] and "+100 %" in jumps[0]["message"]
    assert "(Q3 2025)" in jumps[1]["message"] and "+200 %" in jumps[1]["message"]
    assert jumps[0]["message"].startswith(f"SGB-II-Quote, Altstadt ({first}): ")  # titles and names, not ids


def test_another_departments_indicator_is_refused_by_name(atlas):
    content = "Ortsteil;Jahr;Indikator;Wert\n0101;2024;bev_u6;1\n".encode()
    checked = check(atlas, SOCIAL, content)
    assert checked.report.errors[0]["message"].startswith("Indikator gehört dem Fachamt 'statistik'")


def _mixed_extract(atlas) -> bytes:
    """Clean cells and every kind of problem, interleaved, as a real extract has them."""
    rows = ["Ortsteil;Gebiet;Zeitraum;Indikator;Wert;Zähler;Nenner"]
    cells = ["{a};;2025-Q3;sgb2_quote;;{n};{d}", "{a};;2025;sgb2_u15;12,5;;", "{a};;2025;sgb2_u15;·;;",
             "{a};;2025;jugend_alo;;;", "{a};;2025;alo_u25;1.234,5;;", "{a};;2025;kaufkraft;-3;;",
             "{a};;Q3/2025;alo_quote;7,0;70;1000", "{a};;Q3/2025;alo_quote;9,0;70;1000", "{a};;2025;wohngeld;;5;0",
             "{a};;2025;wohngeld;;50;10", "9{a};;2025;sgb2_u15;1;;", ";Altstadt Nord;2025;ueberschuldung;3,5;;",
             "{a};;2025;bev_u6;1;;", "{a};;30.06.2025;alo_quote;;1;10", "00;;2025;sgb2_u15;5;;",
             "{a};;2025;sgb2_u15;12.5;;", "{a};;1990;sgb2_u15;1;;", "{a};;2025;sgb2_u15;-;;"]
    for i, (a, _) in enumerate(areas(atlas, "2025")):
        template = cells[i % len(cells)]
        rows.append(template.format(a=a, n=100 + i, d=1000 + i))
    return ("\n".join(rows) + "\n").encode("utf-8")


def test_the_fast_path_accepts_exactly_what_the_per_row_path_accepts(atlas, monkeypatch):
    """bulkcheck may only take over cells the per-row checks would accept, with the same values."""
    from atlas.ingest import bulkcheck
    files = [_mixed_extract(atlas), "\n".join(["area,year,bev_u6,bev_65plus"] + [
        f"{a},2024,{5 + i / 10},{20 + i / 10}" for i, (a, _) in enumerate(areas(atlas))]).encode()]
    fast = [check(atlas, SOCIAL if n == 0 else STATS, body) for n, body in enumerate(files)]
    monkeypatch.setattr(bulkcheck, "accept", lambda frame, **_: (
        pd.DataFrame(columns=["indicator_id", "area_id", "period", "value", "numerator", "denominator", "status",
                              "row"]), np.ones(len(frame), dtype=bool)))
    slow = [check(atlas, SOCIAL if n == 0 else STATS, body) for n, body in enumerate(files)]
    for f, s in zip(fast, slow):
        assert f.report.errors == s.report.errors and f.report.warnings == s.report.warnings
        assert f.report.rows == s.report.rows
        pd.testing.assert_frame_equal(f.values.reset_index(drop=True), s.values.reset_index(drop=True),
                                      check_dtype=False)
    assert fast[0].report.errors and fast[1].report.ok  # both kinds of file were really exercised
