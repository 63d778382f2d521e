"""Strict geography in the upload check: the key decides, names cross-check, "not assignable" and total rows.

Each test is a defect that was real: an unknown key with a known name was
stored on another area; a name column beside the key column was ignored;
a file ending with "Stadt insgesamt" failed as an unknown area.
"""
from __future__ import annotations

import re

import pytest

from atlas.ingest import bulkcheck
from atlas.ingest import checks as ingest
from atlas.services import queries
from auth import Principal

SOCIAL = Principal("sozialamt", "steward", frozenset({"soziales"}), logged_in=True)
STATS = Principal("statistik", "steward", frozenset({"statistik"}), logged_in=True)


def areas(atlas, period="2024") -> list[tuple[str, str, str]]:
    frame = queries.areas(atlas, "ortsteil", queries.set_for_period(atlas, period))
    return list(zip(frame["area_id"], frame["name"], frame["parent_id"]))


def check(atlas, viewer, lines: list[str], encoding="utf-8", **options) -> ingest.Checked:
    return ingest.check_upload(atlas, viewer, "x.csv", ("\n".join(lines) + "\n").encode(encoding), **options)


def test_an_unknown_key_is_an_error_even_when_the_name_is_known(atlas):
    checked = check(atlas, STATS, ["Ortsteilnummer;Name;Jahr;Indikator;Wert", "9999;Altstadt;2024-Q4;bev_gesamt;5"])
    assert not checked.report.ok and checked.values.empty  # never stored on Altstadt
    message = checked.report.errors[0]["message"]
    assert "Schlüssel 9999 gibt es im Gebietsstand gs2022" in message and "Altstadt (0101)" in message


def test_a_key_of_another_boundary_set_says_which_set_it_belongs_to(atlas):
    old_only = sorted({a for a, _, _ in areas(atlas, "2016")} - {a for a, _, _ in areas(atlas, "2024")})[0]
    checked = check(atlas, STATS, ["Ortsteil;Jahr;Indikator;Wert", f"{old_only};2024-Q4;bev_gesamt;5"])
    assert not checked.report.ok
    assert (f"Schlüssel {old_only} gehört zum Gebietsstand gs2012, gültig bis 31.12.2021"
            in checked.report.errors[0]["message"])


def test_key_and_name_columns_are_both_used_and_the_key_decides(atlas):
    rows = ["Ortsteilnummer;Ortsteil;Stichtag;Indikator;Wert"]
    rows += [f"{a};{n};31.12.2024;bev_gesamt;{1000 + i}" for i, (a, n, _) in enumerate(areas(atlas))]
    rows[2] = rows[2].replace(areas(atlas)[1][1], "Altstadt")  # the name of 0101 beside the key 0102
    checked = check(atlas, STATS, rows)
    assert checked.report.ok, checked.report.errors[:3]
    assert checked.report.mapping["area"] == "Ortsteilnummer" and checked.report.mapping["area_name"] == "Ortsteil"
    assert "0102" in set(checked.values["area_id"]) and len(checked.values) == len(areas(atlas))
    warnings = [w["message"] for w in checked.report.warnings if "passt nicht zu Schlüssel" in w["message"]]
    assert len(warnings) == 1
    assert "Name 'Altstadt' passt nicht zu Schlüssel 0102 (Altstadt-Nord)" in warnings[0]
    assert "Altstadt (0101)" in warnings[0] and "Zeile 3" in warnings[0]


def test_an_unknown_name_gets_the_closest_names_suggested(atlas):
    checked = check(atlas, STATS, ["Gebiet;Jahr;Indikator;Wert", "Altstadt Nordd;2024-Q4;bev_gesamt;5"])
    assert "meinten Sie 'Altstadt-Nord'" in checked.report.errors[0]["message"]


def test_not_assignable_rows_become_unassigned_cells_of_their_parent(atlas):
    rows = ["Ortsteil;Gebiet;Stichtag;Indikator;Wert"]
    rows += [f"{a};{n};31.12.2024;bev_gesamt;{1000 + i}" for i, (a, n, _) in enumerate(areas(atlas))]
    rows += ["0199;;31.12.2024;bev_gesamt;7",  # XX99: the rest of Stadtbezirk 01
             ";Oststadt (nicht zuzuordnen);31.12.2024;bev_gesamt;8",  # by the Stadtbezirk's name
             "03;;31.12.2024;bev_gesamt;9",  # a Stadtbezirk key alone
             ";ohne Zuordnung;31.12.2024;bev_gesamt;10",  # no parent: the city's
             "0499;;31.12.2024;bev_gesamt;-4"]  # checked like any count
    checked = check(atlas, STATS, rows)
    assert [e["row"] for e in checked.report.errors] == [len(rows)]
    assert "negative Anzahl" in checked.report.errors[0]["message"]
    fine = check(atlas, STATS, rows[:-1])
    assert fine.report.ok, fine.report.errors[:3]
    unassigned = fine.values[fine.values["area_id"].str.endswith("-nz")].set_index("area_id")["value"]
    assert unassigned.to_dict() == {"01-nz": 7, "02-nz": 8, "03-nz": 9, "00-nz": 10}


def test_a_realistic_german_excel_file_ending_with_its_total_passes(atlas):
    """The file from the issue: Ortsteilnummer and Ortsteil, thousands dots, Windows-1252, 'Stadt insgesamt'."""
    rows = ["Ortsteilnummer;Ortsteil;Stichtag;Indikator;Wert"]
    counts = [12_000 + 137 * i for i in range(len(areas(atlas)))]
    rows += [f"{a};{n};31.12.2024;bev_gesamt;{c:,}".replace(",", ".") for (a, n, _), c in zip(areas(atlas), counts)]
    rows.append(f";Stadt insgesamt;31.12.2024;bev_gesamt;{sum(counts):,}".replace(",", "."))
    checked = check(atlas, STATS, rows, encoding="cp1252")
    assert len(rows) == 53 and checked.report.ok, checked.report.errors[:3]
    assert len(checked.values) == len(areas(atlas)) and "00" not in set(checked.values["area_id"])

    rows[-1] = f";Stadt insgesamt;31.12.2024;bev_gesamt;{sum(counts) + 5:,}".replace(",", ".")
    refused = check(atlas, STATS, rows, encoding="cp1252")
    assert not refused.report.ok and refused.report.errors[0]["row"] == 53
    message = refused.report.errors[0]["message"]
    assert f"{sum(counts):,}".replace(",", ".") in message and "Differenz 5" in message
    assert "total_tolerance" in message and not re.search(r"\de[+-]?\d", message)  # German, never 1.2e+06
    assert check(atlas, STATS, rows, encoding="cp1252", total_tolerance="5").report.ok  # stated explicitly
    assert not check(atlas, STATS, rows, encoding="cp1252", total_tolerance="4").report.ok


@pytest.mark.parametrize("total", ["Insgesamt", "Summe", "Gesamt", "Stadt insgesamt", "Auenstadt insgesamt", "00"])
def test_total_rows_are_recognised_by_the_usual_words_and_the_city_key(atlas, total):
    rows = ["Gebiet;Stichtag;Indikator;Wert"]
    rows += [f"{a};31.12.2024;bev_gesamt;{100 + i}" for i, (a, _, _) in enumerate(areas(atlas))]
    rows.append(f"{total};31.12.2024;bev_gesamt;{sum(100 + i for i in range(len(areas(atlas))))}")
    checked = check(atlas, STATS, rows)
    assert checked.report.ok, checked.report.errors[:3]
    assert len(checked.values) == len(areas(atlas))


def test_a_parent_total_row_counts_its_children_and_its_unassigned_cases(atlas):
    mitte = [(a, n) for a, n, p in areas(atlas) if p == "01"]
    rows = ["Ortsteil;Gebiet;Stichtag;Indikator;Wert"]
    rows += [f"{a};{n};31.12.2024;bev_gesamt;100" for a, n in mitte]
    rows += ["0199;Mitte (nicht zuzuordnen);31.12.2024;bev_gesamt;3",
             f";Mitte insgesamt;31.12.2024;bev_gesamt;{100 * len(mitte) + 3}"]
    checked = check(atlas, STATS, rows)
    assert checked.report.ok, checked.report.errors[:3]
    rows[-1] = f";Mitte insgesamt;31.12.2024;bev_gesamt;{100 * len(mitte)}"  # short by the unassigned cases
    message = check(atlas, STATS, rows).report.errors[0]["message"]
    assert "Ortsteile von Mitte (mit den nicht zuordenbaren Fällen)" in message and "Differenz −3" in message


def test_messages_say_what_to_do_and_name_things_as_people_do(atlas):
    (first, name, _), = areas(atlas, "2025")[:1]
    stored = queries.cells(atlas, SOCIAL, [("sgb2_quote", "2025-Q2")]).set_index("area_id")["value"]
    rows = ["Ortsteil;Zeitraum;Indikator;Wert", f"{first};2025-Q3;sgb2_quote;{stored[first] * 2:.1f}".replace(".", ","),
            f"{areas(atlas, '2025')[1][0]};2025-Q3;sgb2_quote;-"]
    checked = check(atlas, SOCIAL, rows)
    assert checked.report.errors[0]["message"] == ("'-' ist mehrdeutig: schreiben Sie 0 für null, lassen Sie die "
                                                   "Zelle leer für 'keine Daten' oder '.' für geheim")
    ok = check(atlas, SOCIAL, rows[:2])
    jump = next(w["message"] for w in ok.report.warnings if "Änderung" in w["message"])
    old = f"{stored[first]:.1f}".replace(".", ",")
    new = f"{round(stored[first] * 2, 1):.1f}".replace(".", ",")
    assert jump.startswith(f"SGB-II-Quote, {name} ({first}): {old} (Q2 2025) → {new} % (Q3 2025)"), jump
    assert "sgb2_quote" not in jump and "Prüfen Sie" in jump


def test_the_fast_path_agrees_on_unassigned_totals_and_name_warnings(atlas, monkeypatch):
    """The column-wise path may take only plain areas; everything else must come out as the per-row path says."""
    import numpy as np
    import pandas as pd
    rows = ["Ortsteilnummer;Ortsteil;Stichtag;Indikator;Wert"]
    rows += [f"{a};{n};31.12.2024;bev_gesamt;{1000 + i}" for i, (a, n, _) in enumerate(areas(atlas))]
    rows[3] = rows[3].replace(areas(atlas)[2][1], "Altstadt")
    rows += ["0199;;31.12.2024;bev_gesamt;7", ";nicht zuzuordnen;31.12.2024;bev_gesamt;1",
             f";Stadt insgesamt;31.12.2024;bev_gesamt;{sum(1000 + i for i in range(len(areas(atlas)))) + 8}"]
    fast = check(atlas, STATS, rows)
    monkeypatch.setattr(bulkcheck, "accept", lambda frame, **_: (
        pd.DataFrame(columns=["indicator_id", "area_id", "period", "value", "numerator", "denominator", "status",
                              "row"]), np.ones(len(frame), dtype=bool)))
    slow = check(atlas, STATS, rows)
    assert fast.report.ok and fast.report.errors == slow.report.errors
    assert fast.report.warnings == slow.report.warnings
    pd.testing.assert_frame_equal(fast.values.reset_index(drop=True), slow.values.reset_index(drop=True),
                                  check_dtype=False)


def test_the_report_says_where_total_and_not_assignable_rows_went(atlas):
    rows = ["Ortsteil;Stichtag;Indikator;Wert"]
    rows += [f"{a};31.12.2024;bev_gesamt;100" for a, _, _ in areas(atlas)]
    rows += ["0199;31.12.2024;bev_gesamt;3", f"Stadt insgesamt;31.12.2024;bev_gesamt;{100 * len(areas(atlas)) + 3}"]
    notes = [n["message"] for n in check(atlas, STATS, rows).report.notes]
    assert len(notes) == 2, notes
    assert notes[0].startswith(f"1 Summenzeile (Zeile {len(rows)}) mit der Summe ihrer Gebiete verglichen")
    assert "Mitte – nicht zuordenbar (01-nz)" in notes[1] and f"Zeile {len(rows) - 1}" in notes[1]


def test_a_german_excel_workbook_with_number_keys_and_a_total_row_passes(atlas):
    """XLSX as Excel keeps it: the key column as numbers (0101 → 101), the total row at the end."""
    import io

    from openpyxl import Workbook
    wb = Workbook()
    ws = wb.active
    ws.append(["Ortsteilnummer", "Ortsteil", "Stichtag", "Indikator", "Wert"])
    for i, (a, n, _) in enumerate(areas(atlas)):
        ws.append([int(a), n, "31.12.2024", "bev_gesamt", 1000 + i])
    ws.append([None, "Stadt insgesamt", "31.12.2024", "bev_gesamt", sum(1000 + i for i in range(len(areas(atlas))))])
    buf = io.BytesIO()
    wb.save(buf)
    checked = ingest.check_upload(atlas, STATS, "auszug.xlsx", buf.getvalue())
    assert checked.report.ok, checked.report.errors[:3]
    assert sorted(checked.values["area_id"]) == sorted(a for a, _, _ in areas(atlas))
