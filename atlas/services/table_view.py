"""The map's table twin and its text summary: the same values as the map, readable without seeing it.

For a screen-reader user, a keyboard user and a planner who wants the
numbers: every area of the level with key, name, parent, value, numerator,
denominator and status, in key order by default ("kein Ranking": sorting by
value is offered, never the default), filterable by name or key. The summary
says in words what the map shows: the highest and lowest value, the whole
territory's value, and how many areas have no data or are kept secret.
Everything is read through `queries.value_rows` (a parallel grid's estimates
through `crosswalk.grid_values`), so rights and disclosure are those of the map.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from atlas.formatting import format_number, format_value, gap_word
from atlas.periods import period_label
from atlas.services import crosswalk, queries, territory
from atlas.services.context import Atlas
from atlas.text_match import fold
from auth.permissions import Principal

SORTS = ("key", "name", "value_desc", "value_asc")


@dataclass(frozen=True)
class TableView:
    rows: list[dict]  # area_id, name, parent, value (text), numerator, denominator, status (words)
    summary: str
    shown: int
    total: int


def map_table(atlas: Atlas, viewer: Principal, indicator_id: str, period: str, level: str, sort: str = "key",
              text: str = "", lang: str = "de") -> TableView | None:
    """The table of one map view; None when the indicator is not visible (like the map)."""
    grid = crosswalk.grid_of_level(atlas, level)
    rows = _grid_rows(atlas, viewer, grid, indicator_id, period) if grid else \
        queries.value_rows(atlas, viewer, indicator_id, period, level)
    if rows is None:
        return None
    ind = atlas.indicator_by_id[indicator_id]
    rows = rows[~rows["area_id"].str.endswith("-nz")].reset_index(drop=True)
    parents = _parent_names(atlas, rows)
    areas = (grid.plural_en if lang == "en" else grid.plural_de) if grid else None
    summary = _summary(atlas, viewer, ind, rows, period, level, lang, areas)
    shown = _filtered(rows, text)
    shown = _sorted(shown, sort if sort in SORTS else "key")
    out = [{"area_id": r.area_id, "name": r.name, "parent": parents.get(r.parent_id, r.parent_id or ""),
            "value": format_value(r.value, r.status, ind.decimals, ind.unit_in(lang), lang),
            "numerator": _count(r.numerator, r.status, lang), "denominator": _count(r.denominator, r.status, lang),
            "status": _status_word(r.status, lang)} for r in shown.itertuples(index=False)]
    return TableView(out, summary, len(out), len(rows))


def _grid_rows(atlas: Atlas, viewer: Principal, grid: crosswalk.Grid, indicator_id: str,
               period: str) -> pd.DataFrame | None:
    """A grid's estimates as value rows (no parent: a grid stands beside the levels)."""
    table = crosswalk.grid_values(atlas, viewer, grid.id, indicator_id, period)
    return None if table is None else table.rows.assign(set_id=grid.set_id, parent_id=None)


def _parent_names(atlas: Atlas, rows: pd.DataFrame) -> dict[str, str]:
    names = {}
    for set_id in rows["set_id"].dropna().unique():
        for level in territory.level_ids(atlas):
            frame = queries.areas(atlas, level, set_id)
            names.update(zip(frame["area_id"], frame["name"]))
    return names


def _filtered(rows: pd.DataFrame, text: str) -> pd.DataFrame:
    needle = fold(text or "")
    if not needle:
        return rows
    keep = [needle in fold(n) or a.casefold().startswith(str(text).strip().casefold())
            for a, n in zip(rows["area_id"], rows["name"])]
    return rows[keep]


def _sorted(rows: pd.DataFrame, sort: str) -> pd.DataFrame:
    if sort == "name":
        return rows.sort_values("name", key=lambda s: s.map(fold), kind="stable")
    if sort in ("value_desc", "value_asc"):  # gaps last either way
        ok = rows["status"] == "ok"
        ordered = rows[ok].sort_values(["value", "area_id"], ascending=[sort == "value_asc", True], kind="stable")
        return pd.concat([ordered, rows[~ok]])
    return rows.sort_values("area_id", kind="stable")


def _count(value, status: str, lang: str) -> str:
    if status != "ok" or value is None or value != value:
        return ""
    return format_number(value, 0, lang)


def _status_word(status: str, lang: str) -> str:
    if status == "ok":
        return ""
    return gap_word(status, lang)


def _summary(atlas: Atlas, viewer: Principal, ind, rows: pd.DataFrame, period: str, level: str, lang: str,
             areas: str | None = None) -> str:
    """What the map shows, in one or two sentences, written from the numbers (`areas`: a grid's plural)."""
    ok = rows[rows["status"] == "ok"]
    fmt = lambda v: format_value(v, "ok", ind.decimals, ind.unit_in(lang), lang)  # noqa: E731
    top = queries.value_rows(atlas, viewer, ind.id, period, territory.top_level(atlas))
    whole = top.iloc[0] if top is not None and len(top) else None
    missing, secret = int((rows["status"] == "missing").sum()), int((rows["status"] == "suppressed").sum())
    areas = areas or territory.label(atlas, level, lang, plural=True)
    when = period_label(period, lang)
    if ok.empty:
        return (f"{ind.title(lang)}, {when}: no area has a value." if lang == "en"
                else f"{ind.title(lang)}, {when}: für kein Gebiet liegt ein Wert vor.")
    high, low = ok.loc[ok["value"].idxmax()], ok.loc[ok["value"].idxmin()]
    whole_text = "" if whole is None else format_value(whole["value"], whole["status"], ind.decimals, ind.unit_in(lang), lang)
    if lang == "en":
        text = (f"{ind.title('en')}, {when}, {len(rows)} {areas}: highest {fmt(high['value'])} in {high['name']}, "
                f"lowest {fmt(low['value'])} in {low['name']}")
        text += f"; whole territory {whole_text}." if whole_text else "."
        return text + f" No data: {missing}, suppressed: {secret}."
    text = (f"{ind.title('de')}, {when}, {len(rows)} {areas}: am höchsten {fmt(high['value'])} in {high['name']}, "
            f"am niedrigsten {fmt(low['value'])} in {low['name']}")
    text += f"; Gesamtgebiet {whole_text}." if whole_text else "."
    return text + f" Ohne Daten: {missing}, geheim gehalten: {secret}."
