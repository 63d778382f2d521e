"""Upload templates for data stewards: the file a department fills in for its next delivery.

A template has the columns the upload check recognises without a mapping
(area key and name, indicator, period, and the counts or the value), one row
per area of the current boundary set, and the last period the department
delivered filled in with its values. So a steward copies it, changes the
period and the numbers, and uploads; uploaded unchanged, it passes the check
and changes nothing (tests/test_templates.py).

Two forms: German-Excel CSV (semicolon, decimal comma, UTF-8 with BOM) and
XLSX with a drop-down of the department's indicators in the indicator column
and a protected header row (the cells below stay editable).
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.catalog import Indicator
from atlas.services import queries, territory
from atlas.services.context import Atlas
from auth.permissions import Principal, may_deliver, may_know

TEMPLATE_FORMATS = ("csv-de", "xlsx")
KEY, NAME, INDICATOR, PERIOD = "Gebietsschlüssel", "Gebietsname", "Indikator", "Zeitraum"
SUPPRESSED_MARK = "."  # read back as 'geheim gehalten' by the upload check


@dataclass(frozen=True)
class Template:
    file_name: str
    mimetype: str
    body: bytes


def deliverable_indicator(atlas: Atlas, viewer: Principal, indicator_id: str) -> Indicator | None:
    """The indicator if the viewer delivers it (its department's stewards, admins); None otherwise.

    None for everybody else, also for indicators they may see: a template holds
    the department's unsuppressed values, so it is its own, like a draft.
    """
    ind = atlas.indicator_by_id.get(indicator_id) if isinstance(indicator_id, str) else None
    if ind is None or not may_know(viewer, ind.visibility, ind.department, ind.id) \
            or not may_deliver(viewer, ind.department):
        return None
    return ind


def value_columns(ind: Indicator) -> list[tuple[str, str]]:
    """(header, field) of the numbers: counts and the value for rates, else the value.

    A rate's value may be left empty in a delivery (it is computed from the
    counts); the template carries it so that its own values come back exactly
    as stored, even when they were delivered rounded.
    """
    if ind.aggregation == "ratio":
        return [("Zähler", "numerator"), ("Nenner", "denominator"), ("Wert", "value")]
    return [("Wert", "value")]


def template_rows(atlas: Atlas, viewer: Principal, ind: Indicator) -> tuple[pd.DataFrame, str | None]:
    """One row per area of the current boundary set with the last delivered period's cells, and that period.

    The values come from the viewer's own view (the department's newest
    version, drafts included, unsuppressed). When the last period lies on an
    older boundary set, its values cannot be keyed on today's areas: the
    period and numbers stay empty for the steward to fill in.
    """
    level = territory.base_level(atlas)
    current = queries.current_set(atlas)
    areas = queries.areas(atlas, level, current)[["area_id", "name"]].sort_values("area_id")
    periods = queries.periods(atlas, viewer, ind.id)
    last = periods[-1] if periods else None
    if last is None or queries.set_for_period(atlas, last) != current:
        return areas.assign(period="", value=np.nan, numerator=np.nan, denominator=np.nan,
                            status="missing").reset_index(drop=True), None
    cells = queries.value_rows(atlas, viewer, ind.id, last, level)
    rows = areas.merge(cells[["area_id", "value", "numerator", "denominator", "status"]], on="area_id", how="left")
    rows["status"] = rows["status"].fillna("missing")
    return rows.assign(period=last).reset_index(drop=True), last


def _de_number(value) -> str:
    """A number as German Excel shows it, at full precision: decimal comma, no thousands dot."""
    if value is None or pd.isna(value):
        return ""
    text = np.format_float_positional(float(value), trim="-")
    return text.replace(".", ",")


def _cell(row, field: str) -> str:
    """The CSV text of one number: the value, empty for no data, '.' for withheld."""
    if row["status"] == "suppressed":
        return SUPPRESSED_MARK
    return _de_number(row[field])


def csv_de(ind: Indicator, rows: pd.DataFrame) -> bytes:
    """German-Excel CSV: semicolon, decimal comma, UTF-8 with BOM (Excel opens it by double-click)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    numbers = value_columns(ind)
    writer.writerow([KEY, NAME, INDICATOR, PERIOD] + [h for h, _ in numbers])
    for _, r in rows.iterrows():
        writer.writerow([r["area_id"], r["name"], ind.id, r["period"]] + [_cell(r, f) for _, f in numbers])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx(ind: Indicator, rows: pd.DataFrame, choices: list[str]) -> bytes:
    """XLSX: sheet 'Werte' with a protected header row and a drop-down of `choices` in the indicator column.

    The sheet is protected without a password (a guard against typing over
    the headers, not a lock): the cells below the header stay editable, rows
    may be added, deleted and sorted. The indicator list lives on a hidden
    sheet, so it may be longer than Excel's 255 characters for inline lists.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    numbers = value_columns(ind)
    headers = [KEY, NAME, INDICATOR, PERIOD] + [h for h, _ in numbers]
    wb = Workbook()
    ws = wb.active
    ws.title = "Werte"
    ws.append(headers)
    for _, r in rows.iterrows():
        cells = []
        for _, field in numbers:
            if r["status"] == "suppressed":
                cells.append(SUPPRESSED_MARK)
            else:
                cells.append(None if pd.isna(r[field]) else float(r[field]))
        ws.append([str(r["area_id"]), str(r["name"]), ind.id, r["period"] or None] + cells)
    unlocked = Protection(locked=False)
    for col in range(1, len(headers) + 1):
        letter = get_column_letter(col)
        ws.column_dimensions[letter].protection = unlocked  # rows the steward adds below stay editable
        ws.column_dimensions[letter].width = 14 if col != 2 else 28
        for cell in ws[letter][1:]:
            cell.protection = unlocked
        if col in (1, 4):
            for cell in ws[letter][1:]:
                cell.number_format = "@"  # keys and periods are text: leading zeros stay
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDE3EA")
    ws.freeze_panes = "A2"
    lists = wb.create_sheet("Indikatoren")
    for i, choice in enumerate(choices, start=1):
        lists.cell(row=i, column=1, value=choice)
    lists.sheet_state = "hidden"
    check = DataValidation(type="list", formula1=f"=Indikatoren!$A$1:$A${max(len(choices), 1)}", allow_blank=True,
                           showErrorMessage=True, errorTitle="Unbekannter Indikator",
                           error="Bitte einen Indikator aus der Liste wählen.")
    check.add(f"C2:C{max(len(rows) + 1, 2) + 1000}")
    ws.add_data_validation(check)
    ws.protection.sheet = True
    for allowed in ("insertRows", "deleteRows", "sort", "autoFilter", "formatColumns", "formatCells"):
        setattr(ws.protection, allowed, False)  # False: the protected sheet still allows this
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def build(atlas: Atlas, viewer: Principal, indicator_id: str, fmt: str) -> Template | None:
    """The template of one indicator in `fmt` (TEMPLATE_FORMATS); None if the viewer does not deliver it."""
    ind = deliverable_indicator(atlas, viewer, indicator_id)
    if ind is None:
        return None
    rows, period = template_rows(atlas, viewer, ind)
    stem = f"vorlage_{ind.id}" + (f"_{period}" if period else "")
    if fmt == "xlsx":
        choices = [i.id for i in atlas.indicators if may_deliver(viewer, i.department)]
        return Template(f"{stem}.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        xlsx(ind, rows, choices))
    return Template(f"{stem}.csv", "text/csv; charset=utf-8", csv_de(ind, rows))
