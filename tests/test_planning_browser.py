"""The planning page in the browser: a steward previews a budget allocation and downloads it as XLSX."""
from __future__ import annotations

from pathlib import Path

from openpyxl import load_workbook

from tests.test_explorer_browser import until
from tests.test_roles_browser import log_in


def euros_to_cents(text: str) -> int:
    """'12.345,67 €' as shown in the table → 1234567."""
    return int(text.replace("€", "").strip().replace(".", "").replace(",", ""))


def test_steward_allocates_an_amount_and_downloads_the_sheet(duo, atlas):
    log_in(duo, "sozialamt")
    assert duo.find_elements("#oa-planning-link")
    duo.driver.get(f"{duo.server_url}/planung?indicator=sgb2_u15")
    until(lambda: duo.find_elements("#pl-al-amount"), message="the allocation form")
    duo.find_element("#pl-al-basis input[value=numerator]").click()
    until(lambda: "2025" in duo.find_element("#pl-al-period").text, message="the newest period chosen")
    duo.find_element("#pl-al-amount").send_keys("123456.78")
    duo.find_element("#pl-al-floor").send_keys("500")
    duo.find_element("#pl-al-run").click()
    until(lambda: len(duo.find_elements("#pl-al-rows tbody tr")) > 40, message="the allocation table")
    amounts = [euros_to_cents(td.text) for td in duo.find_elements("#pl-al-rows tbody td[data-label=Betrag]")]
    assert sum(amounts) == 12_345_678 and min(amounts) >= 50_000
    assert "123.456,78 €" in duo.find_element("#pl-al-sum").text
    assert "Summe exakt" in duo.find_element("#pl-al-method").text
    until(lambda: duo.find_elements("#pl-al-map path.leaflet-interactive"), message="the allocation map")

    duo.find_element("#pl-al-xlsx").click()
    sheet = Path(duo.download_path) / "verteilung_sgb2_u15.xlsx"
    until(lambda: sheet.is_file() and sheet.stat().st_size > 0, timeout=15, message="the downloaded sheet")
    rows = list(load_workbook(sheet)["Verteilung"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Schlüssel", "Gebiet", "Gewicht", "Betrag")
    body = rows[1:1 + len(amounts)]
    assert round(sum(r[3] for r in body), 2) == 123456.78


def test_the_public_sees_coverage_but_no_allocation(duo):
    duo.driver.get(f"{duo.server_url}/planung")
    until(lambda: duo.find_elements("#pl-builders-only"), message="the notice")
    assert not duo.find_elements("#pl-al-amount") and not duo.find_elements("#pl-cl-run")
    duo.find_element("#pl-cv-run").click()
    until(lambda: "Bitte" in duo.find_element("#pl-cv-message").text, message="asks for a demand indicator")
