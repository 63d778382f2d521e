"""One upload cannot tie up a worker (issue 18, finding 4): limits on columns, rows, cell length and check
time, each refused with a message that names the limit and says what to do; header problems and duplicate
rows give a bounded report.
"""
from __future__ import annotations

import dataclasses
import io
import json

import pytest
from openpyxl import Workbook

from atlas.ingest.checks import MAX_ERRORS, check_upload
from atlas.services.context import Atlas
from auth import Principal

SOCIAL = Principal("sozialamt", "steward", frozenset({"soziales"}), logged_in=True)
LONG = "Ortsteil;Jahr;Indikator;Wert\n"


def _with(atlas, **limits) -> Atlas:
    """A context on the same (read-only) store with other limits, as an operator would set them."""
    return Atlas(dataclasses.replace(atlas.settings, **limits))


def _errors(atlas, body: bytes, name: str = "x.csv") -> tuple[list[dict], dict]:
    report = check_upload(atlas, SOCIAL, name, body).report
    assert not report.ok
    return report.errors, report.to_json()


def _xlsx(rows: list[list]) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _says_limit_and_remedy(message: str) -> bool:
    return "Grenze dieses Atlas" in message and ("teilen Sie" in message or "kürzen Sie" in message)


def test_a_million_columns_are_refused_before_they_are_parsed(atlas):
    wide = ";".join(f"c{i}" for i in range(1_000_000)) + "\n" + ";".join("1" for _ in range(1_000_000)) + "\n"
    errors, report = _errors(atlas, wide.encode())
    assert len(errors) == 1 and "1.000.000 Spalten, höchstens 2.000" in errors[0]["message"]
    assert _says_limit_and_remedy(errors[0]["message"]) and len(json.dumps(report)) < 5_000


def test_column_limit_in_xlsx_and_configurable(atlas):
    narrow = _with(atlas, upload_max_columns=5)
    header = ["Ortsteil", "Jahr", "Indikator", "Wert", "a", "b"]
    errors, _ = _errors(narrow, _xlsx([header, ["0101", 2024, "kaufkraft", 5, 1, 2]]), "x.xlsx")
    assert "höchstens 5 sind erlaubt" in errors[0]["message"] and _says_limit_and_remedy(errors[0]["message"])
    errors, _ = _errors(narrow, (";".join(header) + "\n0101;2024;kaufkraft;5;1;2\n").encode())
    assert "6 Spalten, höchstens 5" in errors[0]["message"]
    assert check_upload(atlas, SOCIAL, "x.xlsx", _xlsx([header[:4], ["0101", 2024, "kaufkraft", 5]])).report.ok


@pytest.mark.parametrize("name", ["x.csv", "x.xlsx"])
def test_row_limit(atlas, name):
    small = _with(atlas, upload_max_rows=3)
    rows = [["Ortsteil", "Jahr", "Indikator", "Wert"]] + [[a, "2024", "kaufkraft", "5"]
                                                          for a in ("0101", "0102", "0103", "0104")]
    body = _xlsx(rows) if name.endswith("xlsx") else "".join(";".join(r) + "\n" for r in rows).encode()
    errors, _ = _errors(small, body, name)
    assert "mehr als 3 Datenzeilen" in errors[0]["message"] and _says_limit_and_remedy(errors[0]["message"])
    assert check_upload(_with(atlas, upload_max_rows=4), SOCIAL, name, body).report.ok


@pytest.mark.parametrize("name", ["x.csv", "x.xlsx"])
def test_cell_length_limit(atlas, name):
    rows = [["Ortsteil", "Jahr", "Indikator", "Wert"], ["0101", "2024", "kaufkraft", "5" + " " * 5000]]
    body = _xlsx(rows) if name.endswith("xlsx") else "".join(";".join(r) + "\n" for r in rows).encode()
    errors, _ = _errors(atlas, body, name)
    assert "5.001 Zeichen, höchstens 1.000" in errors[0]["message"] and errors[0]["row"] == 2
    assert _says_limit_and_remedy(errors[0]["message"])


def test_a_check_past_its_time_limit_stops_with_a_message(atlas):
    hurried = _with(atlas, check_max_seconds=0.0)
    body = (LONG + "0101;2024;kaufkraft;5\n0102;2024;gibt_es_nicht;5\n").encode()
    errors, _ = _errors(hurried, body)
    assert len(errors) == 1 and "länger als 0 Sekunden" in errors[0]["message"]
    assert _says_limit_and_remedy(errors[0]["message"])
    assert check_upload(atlas, SOCIAL, "x.csv", (LONG + "0101;2024;kaufkraft;5\n").encode()).report.ok


def test_header_problems_obey_the_error_cap(atlas):
    body = (";".join("a" for _ in range(1999)) + "\n" + ";".join("1" for _ in range(1999)) + "\n").encode()
    errors, report = _errors(atlas, body)
    assert len(errors) <= MAX_ERRORS and "weitere Probleme mit Spaltenköpfen" in errors[-1]["message"]
    assert len(json.dumps(report)) < 200_000


def test_mapping_problems_obey_the_error_cap(atlas):
    mapping = {"area": "Ortsteil", "indicator_columns": {f"fehlt{i}": "kaufkraft" for i in range(5000)}}
    header = ";".join(["Ortsteil", "Jahr"] + [f"s{i}" for i in range(1500)])
    report = check_upload(atlas, SOCIAL, "x.csv", (header + "\n0101;2024\n").encode(), mapping).report
    assert not report.ok and len(report.errors) <= MAX_ERRORS and report.more_errors > 0
    assert len(json.dumps(report.to_json())) < 300_000  # each message names 30 columns, not 1,500


def test_many_duplicate_cells_give_a_bounded_report(atlas):
    areas = [f"{d:02d}{n:02d}" for d in range(1, 9) for n in range(1, 7)]
    body = LONG + "".join(f"{a};{year};kaufkraft;5\n" * 2 for a in areas for year in range(2013, 2025))
    errors, report = _errors(atlas, body.encode())
    duplicates = [e for e in errors if "doppelte Zeile" in e["message"]]
    assert len(duplicates) == min(MAX_ERRORS, len(duplicates)) and len(errors) <= MAX_ERRORS + 1
    assert len(json.dumps(report)) < 300_000


@pytest.mark.slow  # a million rows are read and checked
def test_a_million_duplicate_rows_give_a_bounded_report(atlas):
    errors, report = _errors(atlas, (LONG + "0101;2024;kaufkraft;5\n" * 1_000_000).encode())
    assert len(errors) == 1 and "(1.000.000 Zeilen)" in errors[0]["message"]
    assert len(json.dumps(report)) < 5_000


def test_limits_come_from_the_environment(monkeypatch):
    from atlas.config import load_settings
    monkeypatch.setenv("ATLAS_UPLOAD_MAX_ROWS", "10")
    monkeypatch.setenv("ATLAS_UPLOAD_MAX_COLUMNS", "20")
    monkeypatch.setenv("ATLAS_UPLOAD_MAX_CELL_CHARS", "30")
    monkeypatch.setenv("ATLAS_CHECK_MAX_SECONDS", "40")
    s = load_settings()
    assert (s.upload_max_rows, s.upload_max_columns, s.upload_max_cell_chars, s.check_max_seconds) == (10, 20, 30, 40)
    monkeypatch.setenv("ATLAS_UPLOAD_MAX_ROWS", "viele")
    with pytest.raises(ValueError, match="ATLAS_UPLOAD_MAX_ROWS"):
        load_settings()
