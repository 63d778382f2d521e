"""The compare page's area tables (change, bivariate, similar): plain dicts, the first rows, and a line saying so.

A table of 1,000 areas as Dash components was most of those views' time
and payload (issue 14). The page now sends the first SHOWN_ROWS rows, built
as the dicts Dash sends, with "50 von 1.000 Gebieten; alle in der
CSV-Tabelle" above them; the CSV download keeps every row.
"""
from __future__ import annotations

import json

import plotly
import pytest

from atlas.formatting import format_number
from atlas.i18n import t
from atlas.services import comparison, territory
from atlas.web.components import data_table, plain_table
from atlas.web.pages import compare
from auth.permissions import ANONYMOUS


def _json(component) -> object:
    return json.loads(json.dumps(component, cls=plotly.utils.PlotlyJSONEncoder))


def _texts(node) -> list:
    """The rows of a table as the browser gets them: each row's cell texts (header row first)."""
    if isinstance(node, list):
        return [x for child in node for x in _texts(child)]
    if not isinstance(node, dict) or "props" not in node:
        return []
    if node["type"] == "Tr":
        return [[c["props"]["children"] for c in node["props"]["children"]]]
    return _texts(node["props"].get("children"))


def _line(out: list) -> str | None:
    found = [x for x in _json(out) if isinstance(x, dict) and "oa-cmp-rows-shown" in (x["props"].get("className") or "")]
    return found[0]["props"]["children"] if found else None


def test_plain_table_is_what_data_table_sends():
    rows = [{"a": "0101", "b": 1.5, "c": None, "_class": "oa-cmp-reference"}, {"a": "0102", "b": 0, "c": "x"}]
    columns = [("a", "Schlüssel"), ("b", "Wert"), ("c", "Hinweis")]
    assert _json(plain_table(rows, columns, "oa-table oa-cmp-table", id="t")) == \
        _json(data_table(rows, columns, "oa-table oa-cmp-table", id="t"))
    assert _json(plain_table([], columns, None)) == _json(data_table([], columns, None))


@pytest.mark.parametrize("lang", ["de", "en"])
def test_change_table_shows_the_first_rows_in_key_order_and_says_how_many(atlas, lang):
    level = territory.base_level(atlas)
    table = comparison.change(atlas, ANONYMOUS, "bev_gesamt", "2015-Q4", "2024-Q4", level)
    labels = comparison.change_classes(table, 5, lang).labels
    out = compare.change_table(table, labels, lang)
    body = _texts(_json(out))[1:]
    total = len(table.rows)
    assert total > compare.SHOWN_ROWS  # the demo city has more areas than the page shows
    assert [r[0] for r in body] == table.rows["area_id"].tolist()[:compare.SHOWN_ROWS]  # key order, no ranking
    assert [r[4] for r in body] == labels[:compare.SHOWN_ROWS]
    assert _line(out) == t("cmp_rows_shown", lang).format(shown=format_number(compare.SHOWN_ROWS, 0, lang),
                                                          total=format_number(total, 0, lang))
    assert ("von" in _line(out)) == (lang == "de") and "CSV" in _line(out)


def test_all_rows_and_no_line_when_they_fit(atlas, monkeypatch):
    monkeypatch.setattr(compare, "SHOWN_ROWS", 1000)
    found = comparison.bivariate(atlas, ANONYMOUS, "sgb2_u15", "uebergang_gym")
    out = compare.bivariate_table(found, "de")
    assert [r[0] for r in _texts(_json(out))[1:]] == found.rows["area_id"].tolist() and _line(out) is None


def test_bivariate_and_similar_tables_are_cut_with_the_line(atlas, monkeypatch):
    monkeypatch.setattr(compare, "SHOWN_ROWS", 3)
    found = comparison.bivariate(atlas, ANONYMOUS, "sgb2_u15", "uebergang_gym")
    out = compare.bivariate_table(found, "en")
    assert [r[0] for r in _texts(_json(out))[1:]] == found.rows["area_id"].tolist()[:3]
    assert [r[4] for r in _texts(_json(out))[1:]] == found.rows["label"].tolist()[:3]
    assert _line(out) == f"3 of {len(found.rows)} areas; all in the CSV table"
    similar = comparison.similar(atlas, ANONYMOUS, "0101", ["sgb2_u15", "uebergang_gym"], None, 1.0)
    assert len(similar.rows) > 3
    out = compare.similar_list(atlas, similar, "de")
    shown = _texts(_json(out))[1:]
    assert [r[0] for r in shown] == similar.rows["area_id"].tolist()[:3] and shown[0][0] == "0101"  # nearest first
    assert _line(out) == f"3 von {len(similar.rows)} Gebieten; alle in der CSV-Tabelle"
