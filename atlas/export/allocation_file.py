"""A budget allocation preview as the XLSX a council's paper is made from: amounts, method, sources."""
from __future__ import annotations

import io

import xlsxwriter

from atlas.services.allocation import Allocation

STATUS_DE = {"ok": "anteilig", "capped": "Obergrenze erreicht", "floor_only": "nur Sockel (kein verwendbarer Wert)"}


def allocation_xlsx(result: Allocation, marking: str = "") -> bytes:
    """One sheet of areas (key, name, weight, euros, how the amount came about) and the method below it."""
    buf = io.BytesIO()
    book = xlsxwriter.Workbook(buf, {"in_memory": True})
    sheet = book.add_worksheet("Verteilung")
    bold, euro = book.add_format({"bold": True}), book.add_format({"num_format": "#,##0.00 €"})
    sheet.write_row(0, 0, ["Schlüssel", "Gebiet", "Gewicht", "Betrag", "Zustandekommen"], bold)
    for i, row in enumerate(result.rows.itertuples(index=False), start=1):
        sheet.write(i, 0, row.area_id)
        sheet.write(i, 1, row.name)
        if row.weight == row.weight:  # NaN: no usable weight, an empty cell
            sheet.write_number(i, 2, float(row.weight))
        sheet.write_number(i, 3, row.amount_cents / 100, euro)
        sheet.write(i, 4, STATUS_DE[row.status])
    end = len(result.rows) + 1
    sheet.write(end, 1, "Summe", bold)
    sheet.write_formula(end, 3, f"=SUM(D2:D{end})", euro, result.rows["amount_cents"].sum() / 100)
    sheet.write(end + 2, 0, "Methode", bold)
    sheet.write(end + 2, 1, result.method_de)
    if marking:
        sheet.write(end + 3, 0, marking, bold)
    sheet.set_column(0, 0, 12)
    sheet.set_column(1, 1, 32)
    sheet.set_column(2, 4, 16)
    book.close()
    return buf.getvalue()
