"""Read services: every question the UI and the API ask of the store.

Each function takes the viewer and filters by visibility in SQL (through
`auth.permissions`), returns DataFrames or plain values (never Dash objects),
and treats an indicator the viewer may not see exactly like one that does not
exist: `None` or an empty result, with nothing that tells the two apart.

Numbers: a cell's value comes from the newest version the viewer may read
that holds that cell (a correction supersedes, never overwrites). Aggregates
are sum(numerator) / sum(denominator) × scale for rates and sums for counts;
an aggregate with any child missing is missing, never a silent partial sum.
Small numbers are suppressed after aggregation for viewers without the right.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atlas.catalog import Indicator
from atlas.periods import period_end
from atlas.services import disclosure, territory
from atlas.services.context import Atlas
from auth.permissions import (
    Principal,
    indicator_filter_sql,
    version_filter_sql,
)

STATUSES = ("ok", "missing", "suppressed")
_OPEN_END = "DATE '9999-12-31'"


def _visible_versions_sql(viewer: Principal) -> tuple[str, list]:
    """Versions the viewer may read, of indicators the viewer may see."""
    ind_clause, ind_params = indicator_filter_sql(viewer, "i")
    ver_clause, ver_params = version_filter_sql(viewer, "ver", "i")
    sql = (f"SELECT ver.version_id, ver.indicator_id, ver.created_at, ver.set_id FROM versions ver "
           f"JOIN indicators i ON i.id = ver.indicator_id WHERE {ind_clause} AND {ver_clause}")
    return sql, ind_params + ver_params


def visible_indicators(atlas: Atlas, viewer: Principal) -> pd.DataFrame:
    """The catalogue as the viewer sees it: only indicators with readable data.

    Columns: the catalogue fields plus `periods` (sorted list), `first_period`,
    `last_period` and `last_update`. Cached per store generation and rights.
    """
    return atlas.cached(("visible", viewer.rights), lambda: _visible_indicators(atlas, viewer))


def _visible_indicators(atlas: Atlas, viewer: Principal) -> pd.DataFrame:
    vsql, params = _visible_versions_sql(viewer)
    df = atlas.store.query(f"""
        WITH vv AS ({vsql})
        SELECT i.*, list_sort(list_distinct(list(v.period))) AS periods, max(vv.created_at) AS last_update
        FROM indicators i
        JOIN vv ON vv.indicator_id = i.id
        JOIN {atlas.store.summary("version_periods")} v ON v.version_id = vv.version_id
        GROUP BY ALL
        ORDER BY i.domain_order, i.title_de
    """, params)
    df["first_period"] = df["periods"].map(lambda p: p[0])
    df["last_period"] = df["periods"].map(lambda p: p[-1])
    return df


def get_indicator(atlas: Atlas, viewer: Principal, indicator_id: str) -> Indicator | None:
    """The indicator if the viewer may see it and it has readable data, else None."""
    if not isinstance(indicator_id, str) or indicator_id not in atlas.indicator_by_id:
        return None
    return atlas.indicator_by_id[indicator_id] if indicator_id in _periods_by_id(atlas, viewer) else None


def periods(atlas: Atlas, viewer: Principal, indicator_id: str) -> list[str]:
    """Readable periods of a visible indicator, oldest first ([] if not visible)."""
    if not isinstance(indicator_id, str):
        return []
    return list(_periods_by_id(atlas, viewer).get(indicator_id, ()))


def _periods_by_id(atlas: Atlas, viewer: Principal) -> dict[str, tuple[str, ...]]:
    """Every map switch asks twice (visible? which periods?): a dict, not a frame filter."""
    return atlas.cached(("periods_by_id", viewer.rights), lambda: {
        r.id: tuple(r.periods) for r in visible_indicators(atlas, viewer).itertuples()})


def projected_periods(atlas: Atlas, viewer: Principal, indicator_id: str) -> dict[str, str]:
    """The periods of an indicator whose figures are a projection, as the viewer reads them: period → variant.

    A period counts as projected when the newest version the viewer may read
    that holds it was confirmed as a projection (a later observed delivery of
    the same period supersedes the projection, as its cells do). Read from the
    versions and the store's period summary, not the cells, so the big value
    query stays as it is. {} for an indicator the viewer may not see.
    """
    if not isinstance(indicator_id, str) or get_indicator(atlas, viewer, indicator_id) is None:
        return {}
    return atlas.cached(("projected", viewer.rights, indicator_id),
                        lambda: _projected_periods(atlas, viewer, indicator_id))


def _projected_periods(atlas: Atlas, viewer: Principal, indicator_id: str) -> dict[str, str]:
    vsql, params = _visible_versions_sql(viewer)
    frame = atlas.store.query(f"""
        WITH vv AS ({vsql}),
        newest AS (
            SELECT p.period, ver.projection FROM vv
            JOIN {atlas.store.summary("version_periods")} p ON p.version_id = vv.version_id
            JOIN versions ver ON ver.version_id = vv.version_id
            WHERE vv.indicator_id = ?
            QUALIFY row_number() OVER (PARTITION BY p.period ORDER BY vv.version_id DESC) = 1
        )
        SELECT period, projection FROM newest WHERE coalesce(projection, '') <> '' ORDER BY period
    """, params + [indicator_id])
    return {str(r.period): str(r.projection) for r in frame.itertuples(index=False)}


# ------------------------------------------------------------ boundary sets
def boundary_sets(atlas: Atlas) -> pd.DataFrame:
    """Boundary sets with `valid_from`/`valid_to` as plain dates (`valid_to` None = open)."""
    def load() -> pd.DataFrame:
        frame = atlas.store.query("SELECT * FROM boundary_sets ORDER BY valid_from")
        frame["valid_from"] = [pd.Timestamp(v).date() for v in frame["valid_from"]]
        frame["valid_to"] = pd.Series([None if pd.isna(v) else pd.Timestamp(v).date() for v in frame["valid_to"]],
                                      dtype="object")
        return frame
    return atlas.cached(("boundary_sets",), load)


def _set_on(atlas: Atlas, day: date) -> str | None:
    spans = atlas.cached(("set_spans",), lambda: [(r.valid_from, r.valid_to or date.max, r.set_id)
                                                   for r in boundary_sets(atlas).itertuples()])
    return next((set_id for start, end, set_id in spans if start <= day <= end), None)


def set_for_period(atlas: Atlas, period: str) -> str | None:
    return _set_on(atlas, period_end(period))


def current_set(atlas: Atlas, on: date | None = None) -> str:
    return _set_on(atlas, on or atlas.clock.now().date()) or boundary_sets(atlas).iloc[-1]["set_id"]


def areas(atlas: Atlas, level: str, set_id: str) -> pd.DataFrame:
    """Areas of one level and set, sorted by key (the order the map uses); WKB as bytes."""
    def load() -> pd.DataFrame:
        frame = atlas.store.query(
            "SELECT a.set_id, a.area_id, a.name, a.level, a.parent_id, a.predecessors, a.area_km2, s.geometry "
            "FROM areas a JOIN area_shapes s USING (set_id, area_id, level) "
            "WHERE a.set_id = ? AND a.level = ? ORDER BY a.area_id", [set_id, level])
        frame["geometry"] = [bytes(g) for g in frame["geometry"]]
        return frame
    return atlas.cached(("areas", set_id, level), load)


def area_info(atlas: Atlas, area_id: str) -> pd.DataFrame:
    """Every set an area key appears in, newest first (name, level, parent)."""
    return atlas.store.query(
        "SELECT a.set_id, a.area_id, a.name, a.level, a.parent_id, a.predecessors, b.valid_from "
        "FROM areas a JOIN boundary_sets b USING (set_id) WHERE a.area_id = ? ORDER BY b.valid_from DESC",
        [area_id])


def points(atlas: Atlas, layer: str | None = None) -> pd.DataFrame:
    sql, params = "SELECT * FROM points", []
    if layer:
        sql, params = sql + " WHERE layer = ?", [layer]
    return atlas.store.query(sql + " ORDER BY point_id", params)


# ------------------------------------------------------------ values
_ROW_COLS = ["period", "set_id", "area_id", "name", "parent_id", "value", "numerator", "denominator", "status"]
_SERIES_COLS = ["period", "role", "area_id", "name", "value", "status"]


def _aggregate_sql(ind: Indicator) -> str:
    """Value of a group: sum(num)/sum(den) × scale for rates, sums for counts.

    A group with any child not 'ok' (or lacking counts) is missing: an honest
    gap, never a partial sum. Index indicators are not aggregated at all.
    """
    return _aggregate_by_sql("'" + str(ind.aggregation).replace("'", "''") + "'", repr(float(ind.scale)))


def _aggregate_by_sql(aggregation: str, scale: str) -> str:
    """`_aggregate_sql` with the indicator's aggregation and scale as SQL expressions (literals or columns),
    so a query over many indicators aggregates each by the same rule."""
    valid = (f"(g.n_ok = g.n AND CASE {aggregation} WHEN 'ratio' THEN g.n_den = g.n AND g.den > 0 "
             f"WHEN 'sum' THEN g.n_val = g.n ELSE FALSE END)")
    value = f"CASE {aggregation} WHEN 'ratio' THEN g.num / g.den * {scale} WHEN 'sum' THEN g.val END"
    return (f"CASE WHEN {valid} THEN {value} END AS value, CASE WHEN {valid} THEN g.num END AS numerator, "
            f"CASE WHEN {valid} THEN g.den END AS denominator, "
            f"CASE WHEN {valid} THEN 'ok' ELSE 'missing' END AS status")


def _level_rows(atlas: Atlas, viewer: Principal, ind: Indicator, period: str | None, level: str,
                area_filter: str | None = None) -> pd.DataFrame:
    """Rows of one level for one or all periods, in a single query.

    Base-level rows cover every base area of each period's boundary set;
    areas without a readable cell are 'missing', so gaps are explicit and
    reach the aggregates. A parent's "not assignable" cases (delivered as
    such) are base rows of their own, counted in the parent's and every
    ancestor's total. Higher levels group the base rows by their ancestor at
    that level (`area_ancestors`), so any depth works the same way.
    `area_filter` keeps only one area of the level (time series). `level`
    `_ALL_LEVELS` answers every level at once with a `level` column,
    `_UPPER_LEVELS` every level above the base (the kept rows time series
    draw their ancestors from). With either, `has_cell` tells a row with a
    stored cell (at a level above the base: one below it) from the grid's
    gaps, which a query for that area alone would not return.
    """
    if level not in territory.level_ids(atlas) and level not in (_ALL_LEVELS, _UPPER_LEVELS):
        raise ValueError(f"unknown level {level!r}")
    base_level = level == territory.base_level(atlas)
    if base_level and period and not area_filter:  # a map's values: the lean read, same rows
        return _base_period_rows(atlas, viewer, ind, period)
    vsql, vparams = _visible_versions_sql(viewer)
    period_clause, pparams = ("AND v.period = ?", [period]) if period else ("", [])
    # Narrow the scan early when one area is asked for: its own cells, or its descendants'.
    cell_scope, grid_scope, sparams = "", "", []
    if area_filter and base_level:
        cell_scope, grid_scope, sparams = "AND v.area_id = ?", "AND a.area_id = ?", [area_filter, area_filter]
    elif area_filter:
        scope = "(SELECT area_id FROM area_ancestors WHERE ancestor_id = ? AND ancestor_level = ?)"
        cell_scope, grid_scope = f"AND v.area_id IN {scope}", f"AND a.area_id IN {scope}"
        sparams = [area_filter, level, area_filter, level]
    base = f"""
        WITH vv AS ({vsql}),
        cells AS (
            SELECT v.*, vv.set_id AS on_set FROM {atlas.store.values_relation([ind.id])} v JOIN vv USING (version_id)
            WHERE v.indicator_id = ? {period_clause} {cell_scope}
            QUALIFY row_number() OVER (PARTITION BY v.area_id, v.period ORDER BY v.version_id DESC) = 1
        ),
        per AS (  -- the set a delivery named, else the set valid at the period's end
            SELECT DISTINCT c.period, coalesce(c.on_set, b.set_id) AS set_id FROM cells c LEFT JOIN boundary_sets b
              ON c.on_set IS NULL AND c.period_end BETWEEN b.valid_from AND coalesce(b.valid_to, {_OPEN_END})
        ),
        grid AS (
            SELECT per.period, a.set_id, a.area_id, a.name, a.parent_id, a.unassigned
            FROM per JOIN base_areas a ON a.set_id = per.set_id {grid_scope}
        ),
        rows AS (
            SELECT grid.* EXCLUDE (unassigned), c.value, c.numerator, c.denominator,
                   coalesce(c.status, 'missing') AS status, c.area_id IS NOT NULL AS has_cell
            FROM grid LEFT JOIN cells c USING (period, area_id)
            WHERE NOT grid.unassigned OR c.area_id IS NOT NULL
        )"""
    params = vparams + [ind.id] + pparams + sparams
    where, fparams = ("WHERE x.area_id = ?", [area_filter]) if area_filter else ("", [])
    if level in (_ALL_LEVELS, _UPPER_LEVELS):  # every level in one pass: the disclosure pattern needs all of them
        base_rows = ("""SELECT period, set_id, ? AS level, area_id, name, parent_id, value, numerator, denominator,
               status, has_cell FROM rows
        UNION ALL""" if level == _ALL_LEVELS else "")
        sql = f"""{base},
        g AS (
            SELECT r.period, r.set_id, up.ancestor_level AS level, up.ancestor_id AS area_id, count(*) AS n,
                   count_if(r.status = 'ok') AS n_ok, count(r.denominator) AS n_den, count(r.value) AS n_val,
                   sum(r.numerator) AS num, sum(r.denominator) AS den, sum(r.value) AS val,
                   bool_or(r.has_cell) AS has_cell
            FROM rows r JOIN area_ancestors up ON up.set_id = r.set_id AND up.area_id = r.area_id
            GROUP BY ALL
        )
        {base_rows}
        SELECT g.period, g.set_id, g.level, g.area_id, h.name, h.parent_id, {_aggregate_sql(ind)}, g.has_cell
        FROM g JOIN areas h ON h.set_id = g.set_id AND h.area_id = g.area_id"""
        return atlas.store.query(sql, params + ([territory.base_level(atlas)] if level == _ALL_LEVELS else []))
    if base_level:
        sql = f"{base} SELECT * FROM rows x {where} ORDER BY x.period, x.area_id"
    else:
        sql = f"""{base},
        g AS (
            SELECT r.period, r.set_id, up.ancestor_id AS area_id, count(*) AS n,
                   count_if(r.status = 'ok') AS n_ok, count(r.denominator) AS n_den, count(r.value) AS n_val,
                   sum(r.numerator) AS num, sum(r.denominator) AS den, sum(r.value) AS val
            FROM rows r JOIN area_ancestors up
              ON up.set_id = r.set_id AND up.area_id = r.area_id AND up.ancestor_level = ?
            GROUP BY ALL
        )
        SELECT x.* FROM (
            SELECT g.period, g.set_id, g.area_id, h.name, h.parent_id, {_aggregate_sql(ind)}
            FROM g JOIN areas h ON h.set_id = g.set_id AND h.area_id = g.area_id
        ) x {where} ORDER BY x.period, x.area_id"""
        params = params + [level]
    return atlas.store.query(sql, params + fparams)[_ROW_COLS]


_ALL_LEVELS = "*"


def _base_period_rows(atlas: Atlas, viewer: Principal, ind: Indicator, period: str) -> pd.DataFrame:
    """The base level's rows of one period: what `_level_rows(..., period, base)` answers, without its query.

    Why (issue 19): every map's first view asks this, and the grid query (readable versions joined, cells
    ranked, the period's boundary sets, the grid of base areas, the join) cost DuckDB ~35–45 ms at 1,000
    areas and 112 ms (p50, loaded) at 11,000, while reading the period's cells is a few row groups. Here
    DuckDB only reads the cells of the versions the viewer may read (constants, kept per rights and state);
    the newest per area, each cell's boundary set (the one its version named, else the set valid at the
    period's end) and the grid of each set's base areas (kept per state) are put together with NumPy.
    Gaps are rows with status 'missing'; "not assignable" slots only where a cell was delivered.
    """
    found = _readable_cells(atlas, viewer, ind, period)
    parts = [] if found is None else [_grid_rows(found, _base_grid(atlas, set_id), set_id, period)
                                      for set_id in sorted(_sets_by_period(atlas, viewer, ind, found))]
    if not parts:
        return _no_rows()
    table = pa.concat_tables(parts)
    return (table.sort_by("area_id") if len(parts) > 1 else table).to_pandas()


def _grid_rows(found: dict, grid: dict, set_id: str, period: str, wanted: pa.Array | None = None) -> pa.Table:
    """A set's base rows of one period (of the `wanted` keys, or all): each base area with its cell, a gap
    ('missing') where it has none, a "not assignable" slot only where a cell was delivered. In Arrow to the
    end, so pandas takes the text without a string per row."""
    at = _positions_in(grid["area_arrow"], found["area_id"])
    keep = ~grid["unassigned"] | (at >= 0)
    if wanted is not None:
        keep &= _positions_in(grid["area_arrow"], wanted) >= 0
    at, has = at[keep], at[keep] >= 0
    n, take, cell = int(keep.sum()), pa.array(np.where(has, at, 0)), pa.array(has)
    return pa.table({
        "period": pa.nulls(n, pa.string()).fill_null(period), "set_id": pa.nulls(n, pa.string()).fill_null(set_id),
        **{c: grid["arrow"].column(c).filter(pa.array(keep)) for c in ("area_id", "name", "parent_id")},
        **{c: pa.array(np.where(has, found[c][at], np.nan)) for c in _NUMBER_COLS},
        "status": pc.if_else(cell, found["status"].take(take), pa.scalar("missing"))})


def _upper_columns(atlas: Atlas, viewer: Principal, ind: Indicator,
                   table: pa.Table | None = None) -> dict[str, np.ndarray]:
    """Every level's rows above the base over all periods: what `_level_rows(..., None, _UPPER_LEVELS)`
    answers (with `level` and `has_cell`), as arrays (text as objects), without its query.

    Why (issues 14 and 19): the kept rows above the base are made on an indicator's first time series or
    compared areas' chart, and the grid query (versions joined, cells ranked, every period's grid of base
    areas, the join to every ancestor, the groups) cost DuckDB ~45 ms at 1,000 areas: half of a compare
    click. Here DuckDB reads the cells alone (`_readable_cells`); each period's boundary sets, the grid of
    their base areas and each base area's ancestors (kept per state) are put together with NumPy, and every
    ancestor's group counted and summed by the same rule as `_aggregate_sql` (~17 against ~43 ms).
    `table`: the indicator's cells already read (`_readable_table`, all periods), else they are read here.
    """
    found = _newest_of(table) if table is not None else _readable_cells(atlas, viewer, ind, None)
    parts = [] if found is None else [
        _upper_rows_of_set(ind, found, set_id, sorted(periods), _base_grid(atlas, set_id),
                           _ancestor_groups(atlas, set_id))
        for set_id, periods in sorted(_sets_by_period(atlas, viewer, ind, found).items())]
    if not parts:
        return {**{c: np.empty(0, dtype=float if c in _NUMBER_COLS else object) for c in (*_ROW_COLS, "level")},
                "has_cell": np.empty(0, dtype=bool)}
    return {c: np.concatenate([p[c] for p in parts]) for c in (*_ROW_COLS, "level", "has_cell")}


def _sets_by_period(atlas: Atlas, viewer: Principal, ind: Indicator,
                    found: dict[str, np.ndarray]) -> dict[str, set[str]]:
    """set → the periods whose grid it makes: a cell's version's set, else each set valid at the period's end
    (the grid query's `per`)."""
    versions = _readable_versions(atlas, viewer)[ind.id]
    coded = found["period"].dictionary_encode()
    period, names = coded.indices.to_numpy(), coded.dictionary.to_pylist()
    some = np.empty(len(names), dtype=np.int64)
    some[period] = np.arange(len(period))  # a row of each period: its end is the period's
    end = dict(enumerate(found["period_end"].take(pa.array(some)).to_pylist()))
    version = found["version_id"]
    pairs = (np.arange(len(names)) + version[0] * (len(names) + 1) if version.min() == version.max()
             else np.unique(version.astype(np.int64) * (len(names) + 1) + period))  # (version, period)
    out: dict[str, set[str]] = {}
    for vid, at in zip((pairs // (len(names) + 1)).tolist(), (pairs % (len(names) + 1)).tolist()):
        named = versions.get(vid)
        for set_id in [named] if named is not None else _sets_on(atlas, end[at]):
            out.setdefault(set_id, set()).add(names[at])
    return out


def _upper_rows_of_set(ind: Indicator, found: dict[str, np.ndarray], set_id: str, periods: list[str],
                       grid: dict[str, np.ndarray], groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One boundary set's share of `_upper_columns`: its periods × its ancestors with at least one grid row."""
    n_p, n_g = len(periods), len(groups["area_id"])
    n_b = len(grid["area_id"])
    cell_at = np.full((n_b, n_p), -1, dtype=np.int64)  # base area × period → cell, -1 none
    p_at = _positions_in(found["period"], pa.array(periods, pa.string()))
    a_at = _positions_in(found["area_id"], grid["area_arrow"])
    mine = (p_at >= 0) & (a_at >= 0)
    cell_at[a_at[mine], p_at[mine]] = np.flatnonzero(mine)
    has = cell_at >= 0
    at = np.where(has, cell_at, 0)
    # Per base area and period: a grid row (a slot only where delivered), an 'ok' cell, then per number column
    # whether there is one and the number; then whether there is a cell. Laid out base × statistic × period,
    # so every statistic of every period is summed into each ancestor of a level in one `reduceat` over the
    # base areas ordered by their ancestor there: a GROUP BY per level, in C.
    per_base = np.zeros((n_b, 9, n_p))
    per_base[:, 0, :] = ~grid["unassigned"][:, None] | has
    per_base[:, 1, :] = has & found["ok"][at]
    for k, column in ((2, "numerator"), (4, "denominator"), (6, "value")):
        numbers = np.where(has, found[column][at], np.nan)
        per_base[:, k, :] = ~np.isnan(numbers)
        per_base[:, k + 1, :] = np.nan_to_num(numbers, nan=0.0)
    per_base[:, 8, :] = has
    flat, summed = per_base.reshape(n_b, -1), np.zeros((n_g, 9 * n_p))
    for bases, starts, ancestors in groups["by_level"]:
        summed[ancestors] = np.add.reduceat(flat[bases], starts, axis=0)
    summed = summed.reshape(n_g, 9, n_p).transpose(1, 2, 0).reshape(9, n_p * n_g)  # statistic × (period, ancestor)
    n, n_ok, n_num, num, n_den, den, n_val, val, cells = summed
    num, den, val = (np.where(k > 0, x, np.nan) for k, x in ((n_num, num), (n_den, den), (n_val, val)))  # NULL sums
    if ind.aggregation == "ratio":
        valid = (n_ok == n) & (n_den == n) & (den > 0)
        value = np.where(valid, num / np.where(valid, den, 1.0) * float(ind.scale), np.nan)
    elif ind.aggregation == "sum":
        valid = (n_ok == n) & (n_val == n)
        value = np.where(valid, val, np.nan)
    else:
        valid = np.zeros(n_p * n_g, dtype=bool)
        value = np.full(n_p * n_g, np.nan)
    rows = np.flatnonzero(n > 0)  # GROUP BY makes a row only for a group with a grid row
    p_of, g_of = rows // n_g, rows % n_g
    return {"period": np.asarray(periods, dtype=object)[p_of], "set_id": np.full(len(rows), set_id, dtype=object),
            **{c: groups[c][g_of] for c in ("area_id", "name", "parent_id", "level")},
            "value": value[rows], "numerator": np.where(valid, num, np.nan)[rows],
            "denominator": np.where(valid, den, np.nan)[rows],
            "status": np.where(valid[rows], "ok", "missing").astype(object),
            "has_cell": cells[rows] > 0}


def _ancestor_groups(atlas: Atlas, set_id: str) -> dict[str, np.ndarray]:
    """A set's ancestors above the base (key, level, name, parent) and `by_level`: per level, the base areas
    (positions in `_base_grid`'s order) ordered by their ancestor there, where each ancestor's run starts, and
    which ancestor each run is; kept per state."""
    def read() -> dict[str, np.ndarray]:
        frame = atlas.store.query(
            "SELECT up.area_id AS base_id, up.ancestor_id, up.ancestor_level, h.name, h.parent_id "
            "FROM area_ancestors up JOIN areas h ON h.set_id = up.set_id AND h.area_id = up.ancestor_id "
            "WHERE up.set_id = ?", [set_id])
        codes, ancestors = pd.factorize(frame["ancestor_id"].astype(object), sort=True)
        first = pd.Series(np.arange(len(frame))).groupby(codes).first().to_numpy()
        parent = frame["parent_id"].astype(object)
        base_at = _positions_in(pa.array(frame["base_id"], pa.string()), _base_grid(atlas, set_id)["area_arrow"])
        level = frame["ancestor_level"].to_numpy(dtype=object)
        by_level = []
        for name in dict.fromkeys(level):  # each level's pairs by ancestor: where each ancestor's bases start
            pairs = np.flatnonzero(level == name)
            pairs = pairs[np.argsort(codes[pairs], kind="stable")]
            starts = np.flatnonzero(np.r_[True, codes[pairs][1:] != codes[pairs][:-1]])
            by_level.append((base_at[pairs], starts, codes[pairs][starts]))
        return {"by_level": by_level, "area_id": np.asarray(ancestors, dtype=object),
                "level": frame["ancestor_level"].to_numpy(dtype=object)[first],
                "name": frame["name"].to_numpy(dtype=object)[first],
                "parent_id": parent.where(parent.notna(), None).to_numpy(dtype=object)[first]}
    return atlas.cached(("ancestor_groups", set_id), read)


def _readable_cells(atlas: Atlas, viewer: Principal, ind: Indicator,
                    period: str | None) -> dict[str, np.ndarray] | None:
    """The indicator's stored cells (one period, or all), the newest version's the viewer may read per area and
    period: area_id, period, period_end and status (NULL as 'missing') as Arrow arrays, the numbers (NULL as
    NaN), `ok` (status 'ok') and version_id as NumPy's. None without any.

    DuckDB reads only the versions the viewer may read (constants, kept per rights and state) with a plain
    filtered scan; choosing the newest is NumPy's (a window in the query cost more than the read).
    """
    table = _readable_table(atlas, viewer, [ind.id], [period] if period else None)
    return None if table is None else _newest_of(table)


def _readable_table(atlas: Atlas, viewer: Principal, ind_ids: list[str], periods: list[str] | None,
                    keys: list[str] | None = None) -> pa.Table | None:
    """Every stored cell of these indicators (at these periods, or all; of these area keys, or all) in a
    version the viewer may read, as DuckDB reads it: one plain filtered scan (several pairs in one: each
    query is ~3 ms of parse and bind). `indicator_id` is a column only when several indicators are asked."""
    readable, ind_ids = _readable_versions(atlas, viewer), list(dict.fromkeys(ind_ids))
    versions = [v for i in ind_ids for v in readable.get(i) or {}]
    if not versions:
        return None
    marks, kinds = ", ".join("?" for _ in versions), ", ".join("?" for _ in ind_ids)
    clause = f"AND v.period IN ({', '.join('?' for _ in periods)}) " if periods else ""
    clause += f"AND v.area_id IN ({', '.join('?' for _ in keys)}) " if keys else ""
    several = "indicator_id, " if len(ind_ids) > 1 else ""  # one indicator: 80,000 keys less to read
    table = atlas.store.cursor().sql(
        f"SELECT {several}area_id, period, period_end, value, numerator, denominator, status, version_id "
        f"FROM {atlas.store.values_relation(ind_ids)} v WHERE v.indicator_id IN ({kinds}) "
        f"{clause}AND v.version_id IN ({marks})",
        params=[*ind_ids, *(periods or []), *(keys or []), *versions]).to_arrow_table()
    return table if table.num_rows else None


def _newest_of(table: pa.Table) -> dict[str, np.ndarray]:
    """`_readable_cells`' arrays from one indicator's rows of `_readable_table`."""
    table = table.combine_chunks()
    version = table.column("version_id").to_numpy()
    if version.min() != version.max():  # by area and period, newest version first; the first of each
        area, when = (table.column(c).chunk(0).dictionary_encode().indices.to_numpy() for c in ("area_id", "period"))
        order = np.lexsort((-version, when, area))
        a, w = area[order], when[order]
        table = table.take(order[np.r_[True, (a[1:] != a[:-1]) | (w[1:] != w[:-1])]]).combine_chunks()
    column = {c: table.column(c).chunk(0) for c in table.column_names}
    status = column["status"].fill_null("missing")
    return {**{c: column[c] for c in ("area_id", "period", "period_end")},
            **{c: column[c].fill_null(np.nan).to_numpy(zero_copy_only=False) for c in _NUMBER_COLS},
            "status": status, "ok": pc.equal(status, "ok").to_numpy(zero_copy_only=False),
            "version_id": column["version_id"].to_numpy()}


def _positions_in(keys: pa.Array, among: pa.Array) -> np.ndarray:
    """Each key's position in `among` (-1 where absent), in Arrow: no Python string per key."""
    return pc.index_in(keys, value_set=among).fill_null(-1).to_numpy(zero_copy_only=False)


def _no_rows() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=float if c in _NUMBER_COLS else object) for c in _ROW_COLS})


def _base_grid(atlas: Atlas, set_id: str) -> dict[str, np.ndarray]:
    """A boundary set's base areas (unassigned slots included) in key order, as arrays (and the text as an Arrow
    table, `arrow`); kept per state."""
    def read() -> dict[str, np.ndarray]:
        frame = atlas.store.query("SELECT area_id, name, parent_id, unassigned FROM base_areas WHERE set_id = ? "
                                  "ORDER BY area_id", [set_id])
        return {"area_id": frame["area_id"].to_numpy(dtype=object),
                "area_arrow": pa.array(frame["area_id"], pa.string()), "name": frame["name"].to_numpy(dtype=object),
                "parent_id": frame["parent_id"].astype(object).where(frame["parent_id"].notna(), None)
                .to_numpy(dtype=object), "unassigned": frame["unassigned"].to_numpy(dtype=bool),
                "arrow": pa.table({c: pa.array(frame[c].astype(object).where(frame[c].notna(), None), pa.string())
                                   for c in ("area_id", "name", "parent_id")})}
    return atlas.cached(("base_grid", set_id), read)
_UPPER_LEVELS = "^"


def base_areas_within(atlas: Atlas, key: str) -> set[str]:
    """Base areas (any boundary set) that lie in the area `key` of whatever level, itself if a base area."""
    inside = {key}
    for level in territory.level_ids(atlas):
        inside.update(_descendants(atlas, level, key))
    return inside


def _descendants(atlas: Atlas, level: str, key: str) -> list[str]:
    """Base areas (unassigned slots included) below an area of a level, in any boundary set; kept per state."""
    def index() -> dict[tuple[str, str], list[str]]:
        frame = atlas.store.query("SELECT ancestor_level, ancestor_id, list(DISTINCT area_id ORDER BY area_id) AS ids "
                                  "FROM area_ancestors GROUP BY ALL")
        return {(r.ancestor_level, r.ancestor_id): list(r.ids) for r in frame.itertuples()}
    return atlas.cached(("descendants",), index).get((level, key), [])
_CELL_COLS = ["indicator_id", "period", "area_id", "value", "status"]


def _top_series(atlas: Atlas, viewer: Principal, ind: Indicator) -> pd.DataFrame:
    """The whole territory's rows over all periods, once per indicator, rights and store state.

    Every time series shows the territory's line and the map's territory
    figure is one of its rows: a few dozen rows per indicator, cheaper kept
    than aggregated again per request. Taken from the indicator's rows above
    the base (`_upper_series`), which the same aggregation gives for every
    level at once: the first series of an indicator keeps its districts' too.
    """
    top = territory.top_level(atlas)

    def read() -> pd.DataFrame:
        if top == territory.base_level(atlas):  # one level: nothing above the base
            return _level_rows(atlas, viewer, ind, None, top)
        return _upper_series(atlas, viewer, ind).level_rows(top)
    return atlas.cached(("top_series", viewer.rights, ind.id), read)


_TEXT_COLS = ("period", "set_id", "area_id", "name", "parent_id", "status")
_NUMBER_COLS = ("value", "numerator", "denominator")


@dataclass(frozen=True)
class _Upper:
    """An indicator's rows of every level above the base over all periods, and where each area's series lies.

    The rows of `_level_rows(..., _UPPER_LEVELS)` sorted by level, area and
    period, held as columns: each text column (and `level`) as small integer
    codes into its sorted distinct values (`None` last, for code -1), a few
    keys, periods and names repeating on every row (a fifth of a frame's
    bytes), and the numbers as floats. `at`: (level, area key) → positions
    of the rows with a cell below them, in period order: the rows
    `_level_rows` answers for that area alone. `nbytes`: what it holds, for
    the bound of the kept ones.
    """
    codes: dict[str, np.ndarray]
    values: dict[str, np.ndarray]
    numbers: dict[str, np.ndarray]
    at: dict[tuple[str, str], np.ndarray]
    nbytes: int

    @property
    def level(self) -> np.ndarray:
        return self.values["level"][self.codes["level"]]

    def columns(self, positions: np.ndarray) -> dict[str, np.ndarray]:
        """`_ROW_COLS` of these rows as arrays (text as objects)."""
        return {c: self.values[c][self.codes[c][positions]] if c in self.codes else self.numbers[c][positions]
                for c in _ROW_COLS}

    def level_rows(self, level: str) -> pd.DataFrame:
        """Every row of one level (gaps included), ordered by period and area as `_level_rows` for the level."""
        mine = np.flatnonzero(self.level == level)
        order = np.lexsort((self.codes["area_id"][mine], self.codes["period"][mine]))  # stable; codes are ranks
        return pd.DataFrame(self.columns(mine[order]))

    def arrays(self, levels: set[str]) -> dict[str, np.ndarray]:
        """The rows of these levels with `level` and `has_cell` (every row, as `_level_rows` with levels gives)."""
        level = self.level
        mine = np.flatnonzero(np.isin(level, list(levels)))
        cell = np.zeros(len(level), dtype=bool)
        for positions in self.at.values():
            cell[positions] = True
        return {**self.columns(mine), "level": level[mine], "has_cell": cell[mine]}


# Above this many base areas an ancestor's series whose indicator has no kept rows above the base is read alone
# instead of aggregating the indicator's whole territory over all periods to keep them: at 11,000 areas that is
# 220,000 base rows per indicator (~0.3–0.8 s), and 300 indicators' rows (~0.9 MB each) do not fit the bound, so
# a random first view met it again and again (measured at 66 M values: p50 860 ms against 267 ms alone).
UPPER_ON_MISS_UP_TO_AREAS = 5_000


def _aggregate_upper_on_miss(atlas: Atlas, viewer: Principal, ind: Indicator) -> bool:
    """Whether an ancestor's series comes from the indicator's rows above the base: they are kept, or the
    territory is small enough to aggregate them now (and keep them for the next views)."""
    if atlas.kept_by_size(("upper_series", viewer.rights, ind.id)) is not None:
        return True
    return len(_base_area_index(atlas)) <= UPPER_ON_MISS_UP_TO_AREAS


def _as_arrays(frame: pd.DataFrame, more: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """`_ROW_COLS` (and `more`) of a frame as arrays, as `_Upper.columns` gives them (numbers as floats,
    `has_cell` as booleans, text as objects)."""
    kinds = {**dict.fromkeys(_NUMBER_COLS, float), "has_cell": bool}
    return {c: frame[c].to_numpy(dtype=kinds.get(c, object)) for c in (*_ROW_COLS, *more)}


def _upper_series(atlas: Atlas, viewer: Principal, ind: Indicator, table: pa.Table | None = None) -> _Upper:
    """The indicator's rows above the base, kept per rights and store state within `series_cache_mb`.

    Why (issue 19): an area's first time series needs its ancestors'
    series; aggregated per request over the area's district that was one
    five-CTE query of ~25–35 ms. Every level above the base over all periods
    is a few hundred rows per indicator in a city of 1,000 areas (~45 KB), so
    they are aggregated once with the territory's series and each ancestor's
    series is then picked out. The rows are those the viewer's rights may
    read, unsuppressed, like `_top_series`: each series is suppressed as
    before when it is drawn, and the key names the rights.
    """
    return atlas.remembered_by_size(("upper_series", viewer.rights, ind.id),
                                    lambda: _read_upper(atlas, viewer, ind, table), lambda kept: kept.nbytes)


def _read_upper(atlas: Atlas, viewer: Principal, ind: Indicator, table: pa.Table | None = None) -> _Upper:
    """`_upper_columns` as `_Upper` keeps them: by level, area and period, text as sorted codes.

    Straight from the arrays: a DataFrame of them (pandas' Arrow strings made one by one) and its sort cost
    as much as the aggregation."""
    rows = _upper_columns(atlas, viewer, ind, table)
    codes, values = {}, {}
    for c in (*_TEXT_COLS, "level"):
        code, uniques = pd.factorize(rows[c], sort=True)  # sorted: codes order as the values do
        values[c] = np.append(np.asarray(uniques, dtype=object), None)  # code -1 (a missing value) → None
        codes[c] = code.astype(np.int16 if len(uniques) < 2 ** 15 - 1 else np.int32)
    order = np.lexsort((codes["period"], codes["area_id"], codes["level"]))  # stable, as the codes order
    codes = {c: code[order] for c, code in codes.items()}
    numbers = {c: rows[c][order].astype(float) for c in _NUMBER_COLS}
    cell = rows["has_cell"][order].astype(bool)
    key = codes["level"].astype(np.int64) * (len(values["area_id"]) + 1) + codes["area_id"]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if len(key) else np.empty(0, dtype=np.intp)
    at = {}
    for start, end in zip(starts, [*starts[1:], len(key)]):
        positions = np.arange(start, end)
        at[(values["level"][codes["level"][start]], values["area_id"][codes["area_id"][start]])] = \
            positions[cell[start:end]].astype(np.int32)
    nbytes = (sum(a.nbytes for a in (*codes.values(), *numbers.values(), *at.values()))
              + sum(len(str(v)) + 64 for u in values.values() for v in u) + 200 * len(at))
    return _Upper(codes, values, numbers, at, nbytes)


def _area_cells(atlas: Atlas, viewer: Principal, ind: Indicator, key: str) -> dict[str, np.ndarray]:
    """A base area's rows over all periods as `_ROW_COLS` arrays (`_areas_cells` for one key)."""
    return _areas_cells(atlas, viewer, ind, [key])[key]


def _areas_cells(atlas: Atlas, viewer: Principal, ind: Indicator, keys: list[str],
                 every: pa.Table | None = None) -> dict[str, dict[str, np.ndarray]]:
    """Base areas' rows over all periods, per key as `_ROW_COLS` arrays, in one lean read.

    Each key's rows are those `_level_rows(..., None, base, key)` answers.
    Why (issue 19): for an area's own twenty cells the grid query (visible
    versions joined, cells ranked, boundary sets and base areas joined)
    cost ~15 ms, mostly DuckDB's planning and joins. Here the versions the
    viewer may read of this indicator (kept per rights and state) are
    constants of a plain filtered read of its value files, read as Arrow;
    the newest of them per area and period is kept in NumPy (a window in the
    query cost ~4 ms of the ~8), and each period's boundary
    set (the one its version named, else the set valid at the period's end)
    and the area's name and parent in that set come from indexes kept per
    state. A period whose set does not hold the key has no row, as in the grid.
    `every`: the indicator's cells already read (`_readable_table`, all periods), the keys' taken from them.
    """
    versions = _readable_versions(atlas, viewer).get(ind.id)
    keys = list(dict.fromkeys(keys))
    table = None
    if versions and keys and every is not None:
        table = every.filter(pc.is_in(every.column("area_id"), value_set=pa.array(keys, pa.string())))
        table = table if table.num_rows else None
    elif versions and keys:
        table = _readable_table(atlas, viewer, [ind.id], None, keys)
    rows: dict[str, list[tuple]] = {key: [] for key in keys}
    if table is None:
        return {key: _as_columns(mine) for key, mine in rows.items()}
    found = _newest_of(table)
    index, valid_on = _base_area_index(atlas), {}
    cells = zip(*(found[c].to_pylist() for c in ("area_id", "period", "period_end")),
                *(found[c].tolist() for c in _NUMBER_COLS), found["status"].to_pylist(), found["version_id"].tolist())
    for key, period, end, value, numerator, denominator, status, version_id in sorted(cells):
        named, in_sets = versions[version_id], index.get(key, {})
        if named is None and end not in valid_on:
            valid_on[end] = _sets_on(atlas, end)  # once per period end, not per cell
        for set_id in ([named] if named is not None else valid_on[end]):
            if set_id in in_sets:
                name, parent = in_sets[set_id]
                rows[key].append((period, set_id, key, name, parent, value, numerator, denominator, status))
    return {key: _as_columns(mine) for key, mine in rows.items()}


def _as_columns(rows: list[tuple]) -> dict[str, np.ndarray]:
    """Row tuples in `_ROW_COLS` order as one array per column (numbers as floats: a missing one is NaN)."""
    columns = list(zip(*rows)) if rows else [()] * len(_ROW_COLS)
    return {c: np.array(columns[i], dtype=float if c in _NUMBER_COLS else object) for i, c in enumerate(_ROW_COLS)}


def _readable_versions(atlas: Atlas, viewer: Principal) -> dict[str, dict[int, str | None]]:
    """Per indicator, the versions the viewer may read and the boundary set each names; kept per rights and state."""
    def index() -> dict[str, dict[int, str | None]]:
        vsql, params = _visible_versions_sql(viewer)
        out: dict[str, dict[int, str | None]] = {}
        for r in atlas.store.query(vsql, params).itertuples(index=False):
            out.setdefault(r.indicator_id, {})[int(r.version_id)] = r.set_id if isinstance(r.set_id, str) else None
        return out
    return atlas.cached(("readable_versions", viewer.rights), index)


def _base_area_index(atlas: Atlas) -> dict[str, dict[str, tuple[str, str | None]]]:
    """Per base area key (unassigned slots included), set → (name, parent key); kept per state."""
    def index() -> dict[str, dict[str, tuple[str, str | None]]]:
        out: dict[str, dict[str, tuple[str, str | None]]] = {}
        for r in atlas.store.query("SELECT set_id, area_id, name, parent_id FROM base_areas").itertuples(index=False):
            out.setdefault(r.area_id, {})[r.set_id] = (r.name, r.parent_id if isinstance(r.parent_id, str) else None)
        return out
    return atlas.cached(("base_area_index",), index)


def _sets_on(atlas: Atlas, day: date) -> list[str]:
    """Every boundary set valid on `day` (as the grid's join on validity finds them; normally one)."""
    spans = atlas.cached(("set_spans",), lambda: [(r.valid_from, r.valid_to or date.max, r.set_id)
                                                   for r in boundary_sets(atlas).itertuples()])
    return [set_id for start, end, set_id in spans if start <= day <= end]


def _rows(atlas: Atlas, viewer: Principal, ind: Indicator, period: str | None, level: str) -> pd.DataFrame:
    """Rows of a level for one or all periods; the whole territory's from its kept series."""
    if level != territory.top_level(atlas):
        return _level_rows(atlas, viewer, ind, period, level)
    top = _top_series(atlas, viewer, ind)
    return top if period is None else top[top["period"] == period].reset_index(drop=True)


def cells(atlas: Atlas, viewer: Principal, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """Ortsteil cells (newest version the viewer may read) for many (indicator, period) pairs in one query.

    Unsuppressed: for the plausibility checks of a delivering department,
    which sees its own small numbers anyway. Columns: indicator_id, period,
    area_id, value, status.
    """
    vsql, vparams = _visible_versions_sql(viewer)
    return _newest_cells(atlas, pairs, vsql, vparams)


def current_cells(atlas: Atlas, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """The same over every version not withdrawn, whoever may read it: what a new upload changes."""
    return _newest_cells(atlas, pairs, "SELECT version_id FROM versions WHERE state <> 'withdrawn'", [])


def _newest_cells(atlas: Atlas, pairs: list[tuple[str, str]], versions_sql: str, params: list) -> pd.DataFrame:
    pairs = sorted(set(pairs))
    if not pairs:
        return pd.DataFrame(columns=_CELL_COLS)
    wanted = ", ".join("(?, ?)" for _ in pairs)
    inds = sorted({i for i, _ in pairs})
    return atlas.store.query(f"""
        WITH vv AS ({versions_sql}), wanted(indicator_id, period) AS (VALUES {wanted})
        SELECT v.indicator_id, v.period, v.area_id, v.value, v.status
        FROM {atlas.store.values_relation(inds)} v JOIN vv ON vv.version_id = v.version_id
        JOIN wanted w ON w.indicator_id = v.indicator_id AND w.period = v.period
        QUALIFY row_number() OVER (PARTITION BY v.indicator_id, v.area_id, v.period ORDER BY v.version_id DESC) = 1
    """, params + [x for pair in pairs for x in pair])[_CELL_COLS]


def suppress(atlas: Atlas, viewer: Principal, ind: Indicator, rows: pd.DataFrame,
             period: str | None) -> pd.DataFrame:
    """Apply the indicator's disclosure pattern (`atlas.services.disclosure`) to rows of any level.

    `period` is the period the rows are of, or None for rows of several periods.
    """
    return disclosure.apply(rows, disclosure_pattern(atlas, viewer, ind, period), ind, viewer)


def disclosure_pattern(atlas: Atlas, viewer: Principal, ind: Indicator, period: str | None,
                       every_level: Callable[[], pd.DataFrame] | None = None) -> pd.DataFrame:
    """The cells withheld for this indicator in the viewer's data view: period, area_id, reason.

    Computed from the published rows of every level at once (secondary
    suppression needs every parent–child equation), with linked indicators
    (`same_count_as`) hidden together; remembered per store state and rights
    like the map views. `every_level`, when given, reads this indicator's
    rows of every level (`_level_rows` with `_ALL_LEVELS`) for a caller that
    wants them too; it is called only if the pattern is computed.
    """
    if not _may_have_pattern(atlas, ind):
        return _no_pattern()
    linked = [atlas.indicator_by_id[i] for i in ind.same_count_as if i in atlas.indicator_by_id]
    return atlas.remembered(("disclosure", viewer.rights, ind.id, period),
                            lambda: _linked_pattern(atlas, viewer, ind, linked, period, every_level))


def _may_have_pattern(atlas: Atlas, ind: Indicator) -> bool:
    """Whether anything of this indicator can be withheld beyond cells delivered as suppressed."""
    return bool(disclosure.rules(ind)) or any(i in atlas.indicator_by_id for i in ind.same_count_as)


@cache
def _no_pattern() -> pd.DataFrame:
    """The empty pattern, made once: an area profile asks for one per indicator (~2 ms each to build)."""
    return disclosure.hidden_cells(pd.DataFrame(), [])


def _linked_pattern(atlas: Atlas, viewer: Principal, ind: Indicator, linked: list[Indicator],
                    period: str | None, every_level: Callable[[], pd.DataFrame] | None = None) -> pd.DataFrame:
    """The pattern from every level's rows, read once per indicator in one query.

    Linked indicators publish the same count: a cell hidden in one is hidden
    in the others, and each is re-checked until no new cell is hidden.
    """
    group = [ind] + [o for o in linked if get_indicator(atlas, viewer, o.id) is not None]
    rows = {i.id: every_level() if every_level is not None and i.id == ind.id else
            _level_rows(atlas, viewer, i, period, _ALL_LEVELS) for i in group}
    rules = {i.id: disclosure.rules(i) for i in group}
    patterns = {i.id: disclosure.hidden_cells(rows[i.id], rules[i.id]) for i in group}
    for _ in range(len(group) * 4 if len(group) > 1 else 0):
        again = {i.id: disclosure.hidden_cells(rows[i.id], rules[i.id], disclosure.linked_pattern(
                     {k: v for k, v in patterns.items() if k != i.id})) for i in group}
        if all(len(again[k]) == len(patterns[k]) for k in patterns):
            return again[ind.id]
        patterns = again
    return patterns[ind.id]


def disclosure_report(atlas: Atlas, viewer: Principal, indicator_id: str, period: str) -> pd.DataFrame | None:
    """Every cell withheld at one period, at every level, with why: for the owning department and admins.

    Computed on the viewer's own data view (drafts included), so before a
    release it shows what the public will see once it is released. None for
    anyone who may not see beneath the pattern (answered like "not found").
    Columns: level, area_id, name, value, numerator, denominator, reason.
    """
    period_end(period)
    ind = get_indicator(atlas, viewer, indicator_id)
    if ind is None or not disclosure.sees_everything(viewer, ind):
        return None
    pattern = disclosure_pattern(atlas, viewer, ind, period)
    cols = ["level", "area_id", "name", "value", "numerator", "denominator", "reason"]
    if pattern.empty:
        return pd.DataFrame(columns=cols)
    # Every level in one query, as the pattern itself reads them (one read per level was the same work again).
    rows = _level_rows(atlas, viewer, ind, period, _ALL_LEVELS).merge(pattern, on=["period", "area_id"])
    order = {level: i for i, level in enumerate(territory.level_ids(atlas))}
    return rows.sort_values(["level", "area_id"], key=lambda c: c.map(order) if c.name == "level" else c)[cols] \
        .reset_index(drop=True)


def _suppressed_rows(atlas: Atlas, viewer: Principal, ind: Indicator, period: str | None,
                     level: str) -> pd.DataFrame:
    """`suppress(_rows(...))`: the rows of a level as the viewer may see them.

    Below the top, when the indicator's pattern has to be computed, its rows
    of every level are read once and serve both: the pattern, and the
    level's rows picked out of them (the same rows, in the same order, as
    `_level_rows` for that level alone). A map's first view on a territory
    with small-number rules was two queries over the same cells. (The top's
    rows come from its kept series: nothing to share.)
    """
    if level == territory.top_level(atlas) or not _may_have_pattern(atlas, ind):
        return suppress(atlas, viewer, ind, _rows(atlas, viewer, ind, period, level), period)
    read: dict[str, pd.DataFrame] = {}

    def every_level() -> pd.DataFrame:
        read["rows"] = _level_rows(atlas, viewer, ind, period, _ALL_LEVELS)
        return read["rows"]
    pattern = disclosure_pattern(atlas, viewer, ind, period, every_level)
    rows = _rows_of_level(read["rows"], level) if "rows" in read else _rows(atlas, viewer, ind, period, level)
    return disclosure.apply(rows, pattern, ind, viewer)


def _rows_of_level(every: pd.DataFrame, level: str) -> pd.DataFrame:
    """One level's rows out of `_level_rows(..., _ALL_LEVELS)`, as `_level_rows` for that level alone gives them
    (its columns, ordered by period and area key; DuckDB and Python both order strings by code point)."""
    rows = every[every["level"] == level]
    return rows.sort_values(["period", "area_id"], kind="stable")[_ROW_COLS].reset_index(drop=True)


@dataclass(frozen=True)
class ValueTable:
    indicator: Indicator
    period: str
    level: str
    set_id: str | None
    rows: pd.DataFrame  # area_id, name, parent_id, value, numerator, denominator, status


def values(atlas: Atlas, viewer: Principal, indicator_id: str, period: str,
           level: str | None = None) -> ValueTable | None:
    """All areas of a level (default: the base level) at one period; None if the indicator is not visible."""
    level = level or territory.base_level(atlas)
    ind = get_indicator(atlas, viewer, indicator_id)
    if ind is None:
        return None
    rows = _suppressed_rows(atlas, viewer, ind, period, level)
    set_id = rows["set_id"].iloc[0] if len(rows) else set_for_period(atlas, period)
    return ValueTable(ind, period, level, set_id, rows.drop(columns=["period", "set_id"]).reset_index(drop=True))


def value_rows(atlas: Atlas, viewer: Principal, indicator_id: str, period: str | None,
               level: str | None = None) -> pd.DataFrame | None:
    """Rows for one or all periods (API and exports); None if not visible.

    Raises ValueError for a malformed period key, so callers can say what is expected.
    """
    if period is not None:
        period_end(period)
    level = level or territory.base_level(atlas)
    ind = get_indicator(atlas, viewer, indicator_id)
    if ind is None:
        return None
    return _suppressed_rows(atlas, viewer, ind, period, level).reset_index(drop=True)


def values_many(atlas: Atlas, viewer: Principal, wanted: list[tuple[str, str]],
                levels: list[str] | None = None, keys: list[str] | None = None) -> pd.DataFrame:
    """`values` for many (indicator, period) pairs at several levels, read in one query: one frame of all rows.

    Why: an area profile shows every indicator at two periods on every level
    of the area's chain; one `values` per pair and level was ~1,000 queries
    (each ~20 ms, most of it planning) for the first profile of a store state.
    Columns: level, indicator_id, period, set_id and the rows `values`
    answers for the pair at that level (same order, same suppression:
    indicators with a pattern get it pair by pair, the others one
    `disclosure.apply` per kind of viewer, as in `area_profile`). Pairs of an
    indicator the viewer may not see are left out (`values` answers None); a
    pair without cells has no rows. `levels` default: the base level.
    `keys`, when given, keeps only the rows of those area keys (the compare
    page's few areas, their parents and the territory): the same rows as
    without it, filtered at the end of the query, so a few dozen rows
    travel and are suppressed instead of thousands (every aggregate is still
    computed over all of its children). Suppression is unchanged: a pattern
    is computed from every level's rows, never from the rows answered.
    """
    levels = list(dict.fromkeys(levels or [territory.base_level(atlas)]))
    unknown = [lv for lv in levels if lv not in territory.level_ids(atlas)]
    if unknown:
        raise ValueError(f"unknown level {unknown[0]!r}")
    inds: dict[str, Indicator] = {}
    pairs: list[tuple[str, str]] = []
    for ind_id, period in dict.fromkeys(wanted):
        ind = get_indicator(atlas, viewer, ind_id)
        if ind is not None:
            period_end(period)
            inds[ind.id] = ind
            pairs.append((ind.id, period))
    if not pairs:
        return pd.DataFrame(columns=["level", "indicator_id", *_ROW_COLS])
    frame = (_keys_level_rows(atlas, viewer, inds, pairs, levels, keys) if keys is not None
             else _many_level_rows(atlas, viewer, inds, pairs, levels))
    if frame.empty:
        return frame
    patterned = {i for i, ind in inds.items() if _may_have_pattern(atlas, ind)}
    seeing = [i for i, ind in inds.items() if disclosure.sees_everything(viewer, ind)]
    if not patterned and len(seeing) in (0, len(inds)):  # one `apply` for all rows: no copies, groups or concat
        return disclosure.apply(frame, _no_pattern(), inds[frame["indicator_id"].iat[0]], viewer) \
            .reset_index(drop=True)
    has_pattern = np.isin(frame["indicator_id"].to_numpy(dtype=object), list(patterned))
    # A pattern keys cells by period and area over all levels at once, so one `suppress` per pair covers them.
    parts = [suppress(atlas, viewer, inds[ind_id], part, period) for (ind_id, period), part in
             frame[has_pattern].groupby(["indicator_id", "period"], sort=False)]
    plain = frame[~has_pattern]
    sees = np.isin(plain["indicator_id"].to_numpy(dtype=object), seeing)
    parts += [disclosure.apply(part, _no_pattern(), inds[part["indicator_id"].iloc[0]], viewer)
              for _, part in plain.groupby(sees)]
    return pd.concat(parts).sort_index().reset_index(drop=True) if len(parts) > 1 else parts[0].reset_index(drop=True)


def value_rows_many(atlas: Atlas, viewer: Principal, indicator_ids: list[str], period: str | None,
                    level: str | None = None) -> pd.DataFrame:
    """`value_rows` of several indicators (one or all periods, one level) at once: one frame with `indicator_id`.

    Why: a composite index reads its inputs over every period; one
    `value_rows` per input was a query each, turned into pandas cell by cell
    (~1 s for ten inputs × 1,000 areas × 20 periods). For each indicator the
    rows, order and suppression are exactly what `value_rows` answers
    (indicators in the order asked; `confidential` where `value_rows` has
    it). Indicators without a disclosure pattern are read together in one
    query through Arrow (`_many_level_rows` over their readable periods),
    each then through `disclosure.apply` with the empty pattern as
    `value_rows` does; an indicator with a pattern goes through `value_rows`
    itself, whose one query over every level also computes its pattern.
    Indicators the viewer may not see are left out. Raises ValueError for a malformed period or an unknown level.
    """
    if period is not None:
        period_end(period)
    level = level or territory.base_level(atlas)
    if level not in territory.level_ids(atlas):
        raise ValueError(f"unknown level {level!r}")
    inds = {ind.id: ind for ind in (get_indicator(atlas, viewer, i) for i in dict.fromkeys(indicator_ids))
            if ind is not None}
    plain = {i: ind for i, ind in inds.items() if not _may_have_pattern(atlas, ind)}
    pairs = [(i, p) for i in plain for p in ([period] if period is not None else periods(atlas, viewer, i))]
    read = _many_level_rows(atlas, viewer, plain, pairs, [level]) if pairs else pd.DataFrame()
    by_id = dict(list(read.groupby("indicator_id", sort=False))) if len(read) else {}
    parts = []
    for ind_id, ind in inds.items():
        if ind_id not in plain:
            rows = value_rows(atlas, viewer, ind_id, period, level)
        elif ind_id in by_id:  # no pattern: only cells delivered as suppressed are withheld (~1 ms each)
            rows = disclosure.apply(by_id[ind_id][_ROW_COLS].reset_index(drop=True), _no_pattern(), ind, viewer)
        else:
            continue
        if len(rows):
            parts.append(rows.assign(indicator_id=ind_id))
    if not parts:
        return pd.DataFrame(columns=["indicator_id", *_ROW_COLS])
    out = pd.concat(parts, ignore_index=True)
    return out[["indicator_id"] + [c for c in out.columns if c != "indicator_id"]]


def _many_level_rows(atlas: Atlas, viewer: Principal, inds: dict[str, Indicator], pairs: list[tuple[str, str]],
                     levels: list[str], keys: list[str] | None = None) -> pd.DataFrame:
    """`_level_rows` of several levels for many (indicator, period) pairs in one query, with level and indicator.

    The same CTEs partitioned by indicator as well; each group is aggregated
    by its own indicator's rule (`_aggregate_by_sql` over a table of the
    indicators' aggregation and scale). The cells are read and ranked once
    for all levels. Sorted by level (as asked), indicator, period, area.
    `keys`: only these areas' rows (see `values_many`).
    """
    vsql, vparams = _visible_versions_sql(viewer)
    wanted = ", ".join("(?, ?)" for _ in pairs)
    periods = sorted({period for _, period in pairs})
    period_marks = ", ".join("?" for _ in periods)
    kinds = ", ".join("(?, ?, ?)" for _ in inds)
    base_level = territory.base_level(atlas)
    upper = [lv for lv in levels if lv != base_level]
    only = sorted({k for k in keys if isinstance(k, str)}) if keys is not None else None
    key_clause = "WHERE out.area_id IN (SELECT unnest(?::VARCHAR[]))" if only is not None else ""
    sql = f"""
        WITH vv AS ({vsql}),
        wanted(indicator_id, period) AS (VALUES {wanted}),
        cells AS (
            SELECT v.*, vv.set_id AS on_set FROM {atlas.store.values_relation(list(inds))} v JOIN vv USING (version_id)
            JOIN wanted w ON w.indicator_id = v.indicator_id AND w.period = v.period
            WHERE v.period IN ({period_marks})  -- constants: filtered while the files are read
            QUALIFY row_number() OVER (PARTITION BY v.indicator_id, v.area_id, v.period ORDER BY v.version_id DESC) = 1
        ),
        per AS (
            SELECT DISTINCT c.indicator_id, c.period, coalesce(c.on_set, b.set_id) AS set_id
            FROM cells c LEFT JOIN boundary_sets b
              ON c.on_set IS NULL AND c.period_end BETWEEN b.valid_from AND coalesce(b.valid_to, {_OPEN_END})
        ),
        grid AS (
            SELECT per.indicator_id, per.period, a.set_id, a.area_id, a.name, a.parent_id, a.unassigned
            FROM per JOIN base_areas a ON a.set_id = per.set_id
        ),
        rows AS (
            SELECT grid.* EXCLUDE (unassigned), c.value, c.numerator, c.denominator,
                   coalesce(c.status, 'missing') AS status
            FROM grid LEFT JOIN cells c USING (indicator_id, period, area_id)
            WHERE NOT grid.unassigned OR c.area_id IS NOT NULL
        ),
        {_upper_rows_sql(kinds, upper)}
        SELECT out.* FROM out JOIN (VALUES {", ".join("(?, ?)" for _ in levels)}) o(level, rank) USING (level)
        {key_clause}
        ORDER BY o.rank, out.indicator_id, out.period, out.area_id"""
    aggregated = [x for i in inds.values() for x in (i.id, str(i.aggregation), float(i.scale))] + upper \
        + [base_level, base_level in levels] if upper else [base_level]
    params = (vparams + [x for pair in pairs for x in pair] + periods + aggregated
              + [x for i, lv in enumerate(levels) for x in (lv, i)] + ([only] if key_clause else []))
    return _query_arrow(atlas, sql, params)


_MANY_COLS = ["level", "indicator_id", "period", "set_id", "area_id", "name", "parent_id", "value", "numerator",
              "denominator", "status"]


def _keys_level_rows(atlas: Atlas, viewer: Principal, inds: dict[str, Indicator], pairs: list[tuple[str, str]],
                     levels: list[str], keys: list[str]) -> pd.DataFrame:
    """`_many_level_rows` cut to a few area keys, without its query: the same rows, columns and order.

    Why (issue 14): the compare page's table asks for six areas, their parents and the territory; the one
    query aggregated every level of the whole territory for each pair and kept a dozen rows at the end
    (~35 ms at 1,000 areas, a third of a click). Here each pair's cells are read lean (`_readable_cells`),
    and the keys' base rows and their ancestors' groups are put together as `_base_period_rows` and
    `_upper_columns` do (every group still counts all of its children): ~3 ms a pair.
    """
    base = territory.base_level(atlas)
    wanted = pa.array(sorted({k for k in keys if isinstance(k, str)}), pa.string())
    rank = {level: i for i, level in enumerate(levels)}
    parts = []
    table = _readable_table(atlas, viewer, [i for i, _ in pairs], sorted({p for _, p in pairs}))
    for ind_id, period in pairs:
        mine = None if table is None else table.filter(
            pc.and_(pc.equal(table.column("indicator_id"), ind_id), pc.equal(table.column("period"), period))
            if "indicator_id" in table.column_names else pc.equal(table.column("period"), period))
        if mine is None or not mine.num_rows:
            continue
        found = _newest_of(mine)
        mine = []
        for set_id, _ in sorted(_sets_by_period(atlas, viewer, inds[ind_id], found).items()):
            grid = _base_grid(atlas, set_id)
            if base in rank:
                own = _grid_rows(found, grid, set_id, period, wanted)
                mine.append({**{c: own.column(c).to_numpy(zero_copy_only=False) for c in own.column_names},
                             "level": np.full(own.num_rows, base, dtype=object)})
            if len(rank) > (base in rank):
                up = _upper_rows_of_set(inds[ind_id], found, set_id, [period], grid, _ancestor_groups(atlas, set_id))
                asked = np.isin(up["level"], list(rank)) & (_positions_in(pa.array(up["area_id"], pa.string()),
                                                                          wanted) >= 0)
                mine.append({c: up[c][asked] for c in _MANY_COLS if c != "indicator_id"})
        parts += [{**part, "indicator_id": np.full(len(part["level"]), ind_id, dtype=object)} for part in mine]
    rows = [p for p in parts if len(p["level"])]
    if not rows:  # typed as the query's empty answer
        return pd.DataFrame({c: pd.Series(dtype=float if c in _NUMBER_COLS else "str") for c in _MANY_COLS})
    columns = {c: np.concatenate([p[c] for p in rows]) for c in _MANY_COLS}
    order = np.lexsort((*(columns[c].astype(str) for c in ("area_id", "period", "indicator_id")),
                        np.array([rank[level] for level in columns["level"]])))
    return pd.DataFrame({c: column[order] for c, column in columns.items()})


def _upper_rows_sql(kinds: str, upper: list[str]) -> str:
    """The `out` CTE of `_many_level_rows`: the base rows, and each level above the base aggregated by each
    indicator's rule; only the base rows when no level above it is asked (the scatter, the change map,
    similar areas), so DuckDB need not parse and bind the aggregation (~5-10 ms of such a view's query)."""
    if not upper:
        return "out AS (SELECT ? AS level, * FROM rows)"
    return f"""kinds(indicator_id, aggregation, scale) AS (VALUES {kinds}),
        g AS (
            SELECT up.ancestor_level AS level, r.indicator_id, r.period, r.set_id, up.ancestor_id AS area_id,
                   count(*) AS n, count_if(r.status = 'ok') AS n_ok, count(r.denominator) AS n_den,
                   count(r.value) AS n_val, sum(r.numerator) AS num, sum(r.denominator) AS den, sum(r.value) AS val
            FROM rows r JOIN area_ancestors up ON up.set_id = r.set_id AND up.area_id = r.area_id
            WHERE up.ancestor_level IN ({", ".join("?" for _ in upper)})
            GROUP BY ALL
        ),
        out AS (
            SELECT ? AS level, * FROM rows WHERE ?
            UNION ALL
            SELECT g.level, g.indicator_id, g.period, g.set_id, g.area_id, h.name, h.parent_id,
                   {_aggregate_by_sql("k.aggregation", "k.scale")}
            FROM g JOIN kinds k USING (indicator_id) JOIN areas h ON h.set_id = g.set_id AND h.area_id = g.area_id
        )"""


def _query_arrow(atlas: Atlas, sql: str, params: list) -> pd.DataFrame:
    """`Store.query` through Arrow, for answers of hundreds of thousands of rows.

    Why: pandas' string columns are then made from Arrow's buffers instead
    of one Python string per cell first (0.5 s against 2 s for the 420,000
    rows of a profile's base level). Only for queries whose numbers are
    DOUBLE or integers (a DECIMAL would arrive as Python decimals).
    """
    return atlas.store.cursor().sql(sql, params=params).to_arrow_table().to_pandas()


def timeseries(atlas: Atlas, viewer: Principal, indicator_id: str, area_id: str) -> pd.DataFrame | None:
    """An area, each of its ancestors and the whole territory over all readable periods.

    Columns: period, role, area_id, name, value, status. Roles are 'area',
    'predecessor' and, for each ancestor, its level id (e.g. 'stadtbezirk',
    'stadt'). An area created by a split also gets its predecessor's series,
    so the break is visible instead of silently joined.
    """
    ind = get_indicator(atlas, viewer, indicator_id)
    if ind is None or not isinstance(area_id, str):
        return None if ind is None else pd.DataFrame(columns=_SERIES_COLS)
    return atlas.remembered(("timeseries", viewer.rights, ind.id, area_id),
                            lambda: _timeseries(atlas, viewer, ind, area_id))


def ancestors(atlas: Atlas, set_id: str, area_id: str) -> list[tuple[str, str]]:
    """(level, area key) of every ancestor of an area in one boundary set, nearest first."""
    links = atlas.cached(("links", set_id), lambda: {
        r.area_id: (r.level, r.parent_id) for r in atlas.store.query(
            "SELECT area_id, level, parent_id FROM areas WHERE set_id = ?", [set_id]).itertuples()})
    out, key = [], links.get(area_id, (None, None))[1]
    while key is not None and key in links and len(out) < 10:
        out.append((links[key][0], key))
        key = links[key][1]
    return out


def _timeseries(atlas: Atlas, viewer: Principal, ind: Indicator, area_id: str) -> pd.DataFrame:
    """Each series picked or read alone: the top's and every ancestor's from the indicator's kept rows
    (`_top_series`, `_upper_series`), a base area's (and its predecessors') by a lean read of its own cells
    (`_area_cells`); all suppressed with the indicator's all-period pattern, as each series alone would be."""
    newest = _newest_area(atlas, area_id)
    if newest is None:
        return pd.DataFrame(columns=_SERIES_COLS)
    set_id, level, predecessors = newest
    top, base = territory.top_level(atlas), territory.base_level(atlas)
    series = [("area", level, area_id)] + [("predecessor", level, p) for p in predecessors] + \
        [(up_level, up_level, key) for up_level, key in ancestors(atlas, set_id, area_id)]
    if level == top:
        series = [("area", level, area_id)]
    upper: list[_Upper] = []  # read at most once per call, also when nothing may be kept (series_cache_mb=0)

    def rows(level: str, key: str) -> dict[str, np.ndarray]:
        if level == top:
            return _as_arrays(_top_series(atlas, viewer, ind))
        if level != base:
            if not upper and not _aggregate_upper_on_miss(atlas, viewer, ind):
                return _as_arrays(_level_rows(atlas, viewer, ind, None, level, key))
            upper[:] = upper or [_upper_series(atlas, viewer, ind)]
            return upper[0].columns(upper[0].at.get((level, key), np.empty(0, dtype=np.intp)))
        return _area_cells(atlas, viewer, ind, key)
    # Every series as arrays, one frame at the end: a frame per series cost more than the reads.
    parts = []
    for role, level, key in series:
        part = rows(level, key)
        part["role"] = np.full(len(part["period"]), role, dtype=object)
        changed = changed_geometry_sets(atlas, level, key, set_id) if role == "area" else set()
        if changed:  # the same key on other ground: its own line, never joined into the series
            part["role"][np.array([s in changed for s in part["set_id"]], dtype=bool)] = "predecessor"
        parts.append(part)
    columns = {c: np.concatenate([part[c] for part in parts]) for c in _SERIES_COLS + ["numerator", "denominator"]}
    # Ordered by role and period as `sort_values(["role", "period"])` orders (a stable lexsort; the index
    # keeps each row's position before), without a frame to sort: on twenty rows its cost was the sorting.
    order = np.lexsort((np.unique(columns["period"], return_inverse=True)[1],
                        np.unique(columns["role"], return_inverse=True)[1]))
    frame = pd.DataFrame({c: a[order] for c, a in columns.items()}, index=order)
    # The pattern keys cells by period and area: one `suppress` over every series is one per series.
    return suppress(atlas, viewer, ind, frame, None)[_SERIES_COLS]


def _newest_areas(atlas: Atlas) -> dict[str, dict]:
    """Per area key, the first row `area_info` answers (the newest boundary set holding the key): set_id, name,
    level, parent_id and its predecessor keys; one index of every area, kept per store state."""
    def index() -> dict[str, dict]:
        frame = atlas.store.query(
            "SELECT a.set_id, a.area_id, a.name, a.level, a.parent_id, a.predecessors FROM areas a "
            "JOIN boundary_sets b USING (set_id) ORDER BY b.valid_from DESC")
        out: dict[str, dict] = {}
        for r in frame.itertuples(index=False):
            if r.area_id not in out:
                out[r.area_id] = {"set_id": r.set_id, "name": r.name, "level": r.level,
                                  "parent_id": r.parent_id if isinstance(r.parent_id, str) else None,
                                  "predecessors": [p for p in str(r.predecessors or "").split(",") if p]}
        return out
    return atlas.cached(("newest_areas",), index)


def _newest_area(atlas: Atlas, area_id: str) -> tuple[str, str, list[str]] | None:
    """(set, level, predecessor keys) of the newest boundary set holding this key: a time series' first view
    runs no query for it."""
    info = _newest_areas(atlas).get(area_id)
    return None if info is None else (info["set_id"], info["level"], info["predecessors"])


def newest_area_info(atlas: Atlas, area_id: str) -> dict | None:
    """The first row `area_info` answers for the key (set_id, name, level, parent_id, predecessors), or None:
    the compare page resolves up to six keys twice per click, one query each was ~12 queries."""
    return _newest_areas(atlas).get(area_id) if isinstance(area_id, str) else None


def area_series(atlas: Atlas, viewer: Principal, indicator_id: str, keys: list[str]) -> pd.DataFrame | None:
    """Each key's own line of `timeseries` (its rows with role 'area'), for many keys of any level in one read.

    Why: the compare page draws six areas, their parents and the territory;
    one `timeseries` per key was a query (or two) each. Here every level's
    rows over all periods are read once: the whole territory when the
    disclosure pattern is still to compute (it reads just that, and shares
    it), else only the keys' subtrees (`_series_rows`). Each key's rows are
    then picked out as `timeseries` would answer them: periods with a cell of its own (or below it), the top's every
    period, suppressed with the same pattern (period None), and without the
    periods in which the key covers other ground (those are not its line).
    Columns: period, area_id, name, value, status; keys in the order given
    (unknown ones left out), each in period order. None if not visible.
    """
    cols = ["period", "area_id", "name", "value", "status"]
    ind = get_indicator(atlas, viewer, indicator_id)
    if ind is None:
        return None
    known = [(key, _newest_area(atlas, key)) for key in dict.fromkeys(k for k in keys if isinstance(k, str))]
    known = [(key, newest) for key, newest in known if newest is not None]
    if not known:
        return pd.DataFrame(columns=cols)
    read: dict[str, pd.DataFrame] = {}

    def every_level() -> pd.DataFrame:
        read["rows"] = _level_rows(atlas, viewer, ind, None, _ALL_LEVELS)
        return read["rows"]
    pattern = disclosure_pattern(atlas, viewer, ind, None, every_level)
    rows = _as_arrays(read["rows"], ("level", "has_cell")) if "rows" in read else \
        _series_rows(atlas, viewer, ind, known)
    level, area, set_ids, cell, period = (rows[c] for c in ("level", "area_id", "set_id", "has_cell", "period"))
    top = territory.top_level(atlas)
    picked = []
    for key, (set_id, key_level, _) in known:
        mine = (level == key_level) & (area == key) & (cell | (key_level == top))
        changed = changed_geometry_sets(atlas, key_level, key, set_id)
        if changed:
            mine &= ~np.isin(set_ids, list(changed))
        at = np.flatnonzero(mine)
        picked.append(at[np.argsort(period[at], kind="stable")])
    at = np.concatenate(picked)
    mine = pd.DataFrame({c: rows[c][at] for c in _ROW_COLS})  # one frame, of the rows drawn
    return disclosure.apply(mine, pattern, ind, viewer)[cols].reset_index(drop=True)


def _series_rows(atlas: Atlas, viewer: Principal, ind: Indicator,
                 known: list[tuple[str, tuple[str, str, list[str]]]]) -> dict[str, np.ndarray]:
    """The keys' rows of every level over all periods, with `level` and `has_cell`, as `timeseries` reads them,
    as arrays (a DataFrame per part and their concat made pandas build every text column again, ~10 ms).

    Keys above the base come from the indicator's kept rows above the base
    (`_upper_series`), the top's from its kept series, base areas from one
    lean read of their own cells (`_areas_cells`): six areas of a city of
    1,000, not the territory (or, when the rows above the base are still to
    make, the same read of every cell that makes them).
    """
    top, base = territory.top_level(atlas), territory.base_level(atlas)
    levels = {level for _, (_, level, _) in known}
    own = [key for key, (_, level, _) in known if level == base and level != top]
    every = None  # rows above the base not kept yet: one read of every cell makes them and the areas' own
    if own and levels - {top, base} and atlas.kept_by_size(("upper_series", viewer.rights, ind.id)) is None:
        every = _readable_table(atlas, viewer, [ind.id], None)
    parts = [_with_level(cells, base) for cells in _areas_cells(atlas, viewer, ind, own, every).values()] \
        if own else []
    if levels - {top, base}:
        parts.append(_upper_series(atlas, viewer, ind, every).arrays(levels - {top, base}))
    if top in levels:
        parts.append(_with_level(_as_arrays(_top_series(atlas, viewer, ind)), top))
    return {c: np.concatenate([p[c] for p in parts]) for c in (*_ROW_COLS, "level", "has_cell")}


def _with_level(rows: dict[str, np.ndarray], level: str) -> dict[str, np.ndarray]:
    """A level's own rows (each with a cell) as `_series_rows` joins them."""
    n = len(rows["period"])
    return {**rows, "level": np.full(n, level, dtype=object), "has_cell": np.ones(n, dtype=bool)}


# Two areas with one key are one series only when their ground is the same (intersection over union).
SAME_GROUND = 0.99


def changed_geometry_sets(atlas: Atlas, level: str, area_id: str, reference_set: str) -> set[str]:
    """Boundary sets in which `area_id` covers other ground than in `reference_set`.

    A key reused across sets joins one time series only where its geometry is
    the same (≥ 99 % overlap); elsewhere the series breaks. Remembered per
    store state: boundary sets change rarely.
    """
    def compute() -> set[str]:
        import shapely
        if (level, area_id) not in _keys_in_several_sets(atlas):  # one set: nothing to compare (most areas)
            return set()
        rows = atlas.store.query("SELECT set_id, geometry FROM area_shapes WHERE level = ? AND area_id = ?",
                                 [level, area_id])
        if len(rows) < 2:
            return set()
        geoms = dict(zip(rows["set_id"], shapely.from_wkb([bytes(g) for g in rows["geometry"]])))
        ref = geoms.get(reference_set)
        if ref is None:
            return set()
        changed = set()
        for set_id, geom in geoms.items():
            union = shapely.union(ref, geom).area
            if set_id != reference_set and union > 0 and shapely.intersection(ref, geom).area / union < SAME_GROUND:
                changed.add(set_id)
        return changed
    return atlas.cached(("changed_ground", level, area_id, reference_set), compute)


def _keys_in_several_sets(atlas: Atlas) -> frozenset[tuple[str, str]]:
    """(level, key) of areas present in more than one boundary set; kept per store state."""
    return atlas.cached(("keys_in_several_sets",), lambda: frozenset(
        atlas.store.query("SELECT level, area_id FROM areas GROUP BY ALL HAVING count(*) > 1")
        .itertuples(index=False, name=None)))


def area_profile(atlas: Atlas, viewer: Principal, area_id: str) -> pd.DataFrame:
    """Every indicator the viewer may see for one Ortsteil, at its latest readable period.

    Columns: indicator_id, period, value, numerator, denominator, status.
    Small numbers are suppressed per indicator as everywhere else.
    """
    cols = ["indicator_id", "period", "value", "numerator", "denominator", "status"]
    if not isinstance(area_id, str):
        return pd.DataFrame(columns=cols)
    vsql, params = _visible_versions_sql(viewer)
    rows = atlas.store.query(f"""
        WITH vv AS ({vsql})
        SELECT v.indicator_id, v.area_id, v.period, v.value, v.numerator, v.denominator, v.status
        FROM {atlas.store.summary("latest_cells")} v JOIN vv USING (version_id)
        WHERE v.area_id = ?
        QUALIFY row_number() OVER (PARTITION BY v.indicator_id ORDER BY v.period DESC, v.version_id DESC) = 1
        ORDER BY v.indicator_id
    """, params + [area_id])
    if rows.empty:
        return pd.DataFrame(columns=cols)
    # One row per indicator: each gets its indicator's pattern for that period. Indicators that
    # can have none (no small-number rules, none linked) only lose cells delivered as suppressed,
    # for whoever does not see everything: one `disclosure.apply` per answer to that, not per
    # indicator (hundreds of indicators, ~1 ms each).
    by_id = atlas.indicator_by_id
    patterned = rows["indicator_id"].map(lambda i: _may_have_pattern(atlas, by_id[i])).to_numpy(dtype=bool)
    parts = [suppress(atlas, viewer, by_id[ind_id], part, part["period"].iloc[0])
             for ind_id, part in rows[patterned].groupby("indicator_id", sort=True)]
    plain = rows[~patterned]
    sees = plain["indicator_id"].map(lambda i: disclosure.sees_everything(viewer, by_id[i]))
    parts += [disclosure.apply(part, _no_pattern(), by_id[part["indicator_id"].iloc[0]], viewer)
              for _, part in plain.groupby(sees)]
    return pd.concat(parts, ignore_index=True).sort_values("indicator_id", ignore_index=True).reindex(columns=cols)
