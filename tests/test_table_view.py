"""The map's table twin: the map's own values in key order, a summary in words, sorting and filtering."""
from __future__ import annotations

import pytest

from atlas.services import queries, table_view
from auth import ANONYMOUS
from tests.test_explorer_browser import until


def test_the_table_holds_the_maps_values_in_key_order_with_a_summary(atlas):
    view = table_view.map_table(atlas, ANONYMOUS, "abgang_ohne", "2024", "ortsteil")
    rows = queries.value_rows(atlas, ANONYMOUS, "abgang_ohne", "2024", "ortsteil")
    assert [r["area_id"] for r in view.rows] == sorted(rows["area_id"])  # kein Ranking: key order first
    hidden = set(rows.loc[rows["status"] == "suppressed", "area_id"])
    assert {r["area_id"] for r in view.rows if r["value"] == "geheim gehalten"} == hidden
    assert all(r["numerator"] == "" for r in view.rows if r["area_id"] in hidden)  # no count behind a secret
    ok = rows[rows["status"] == "ok"]
    high = ok.loc[ok["value"].idxmax(), "name"]
    assert f"in {high}" in view.summary and f"geheim gehalten: {len(hidden)}" in view.summary


@pytest.mark.parametrize("sort", ["value_desc", "value_asc"])
def test_sorting_by_value_keeps_the_gaps_last(atlas, sort):
    view = table_view.map_table(atlas, ANONYMOUS, "abgang_ohne", "2024", "ortsteil", sort)
    statuses = [r["status"] for r in view.rows]
    assert statuses == sorted(statuses, key=lambda s: s != "")  # numbers first, then gaps
    numbers = [float(r["value"].split()[0].replace(",", ".")) for r in view.rows if r["status"] == ""]
    assert numbers == sorted(numbers, reverse=sort == "value_desc")


def test_the_filter_finds_names_as_people_type_them(atlas):
    view = table_view.map_table(atlas, ANONYMOUS, "sgb2_u15", "2024", "ortsteil", text="ALTSTADT nord")
    assert [r["name"] for r in view.rows] == ["Altstadt-Nord"] and view.total > view.shown


def test_the_table_panel_in_the_browser(duo):
    duo.wait_for_element("#ex-table")
    duo.driver.execute_script("document.querySelector('#ex-table summary').click()")
    until(lambda: len(duo.find_elements("#ex-table-rows tbody tr")) > 40, timeout=20, message="table rows")
    assert "am höchsten" in duo.find_element("#ex-table-summary").text
    box = duo.find_element("#ex-table-filter")
    box.send_keys("Altstadt\n")
    until(lambda: len(duo.find_elements("#ex-table-rows tbody tr")) == 2, timeout=15, message="filtered rows")
