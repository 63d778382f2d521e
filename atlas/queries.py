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

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from atlas.bootstrap import Atlas
from atlas.catalog import Indicator
from atlas.periods import period_end
from auth.permissions import Principal, indicator_filter_sql, sees_unsuppressed, version_filter_sql

STATUSES = ("ok", "missing", "suppressed")
_OPEN_END = "DATE '9999-12-31'"


def _visible_versions_sql(viewer: Principal) -> tuple[str, list]:
    """Versions the viewer may read, of indicators the viewer may see."""
    ind_clause, ind_params = indicator_filter_sql(viewer, "i")
    ver_clause, ver_params = version_filter_sql(viewer, "ver", "i")
    sql = (f"SELECT ver.version_id, ver.indicator_id, ver.created_at FROM versions ver "
           f"JOIN indicators i ON i.id = ver.indicator_id WHERE {ind_clause} AND {ver_clause}")
    return sql, ind_params + ver_params


def visible_indicators(atlas: Atlas, viewer: Principal) -> pd.DataFrame:
    """The catalogue as the viewer sees it: only indicators with readable data.

    Columns: the catalogue fields plus `periods` (sorted list), `first_period`,
    `last_period` and `last_update`.
    """
    vsql, params = _visible_versions_sql(viewer)
    df = atlas.store.query(f"""
        WITH vv AS ({vsql})
        SELECT i.*, list_sort(list_distinct(list(v.period))) AS periods, max(vv.created_at) AS last_update
        FROM indicators i
        JOIN vv ON vv.indicator_id = i.id
        JOIN indicator_values v ON v.version_id = vv.version_id
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
    vsql, params = _visible_versions_sql(viewer)
    hit = atlas.store.query(f"SELECT 1 FROM ({vsql}) vv WHERE vv.indicator_id = ? LIMIT 1",
                            params + [indicator_id])
    return atlas.indicator_by_id[indicator_id] if len(hit) else None


def periods(atlas: Atlas, viewer: Principal, indicator_id: str) -> list[str]:
    if not isinstance(indicator_id, str):
        return []
    vis = visible_indicators(atlas, viewer)
    row = vis[vis["id"] == indicator_id]
    return list(row.iloc[0]["periods"]) if len(row) else []


# ------------------------------------------------------------ boundary sets
def boundary_sets(atlas: Atlas) -> pd.DataFrame:
    return atlas.store.query("SELECT * FROM boundary_sets ORDER BY valid_from")


def set_for_period(atlas: Atlas, period: str) -> str | None:
    end = period_end(period)
    hit = atlas.store.query(
        f"SELECT set_id FROM boundary_sets WHERE valid_from <= ? AND coalesce(valid_to, {_OPEN_END}) >= ?",
        [end, end])
    return hit.iloc[0]["set_id"] if len(hit) else None


def current_set(atlas: Atlas, on: date | None = None) -> str:
    on = on or date.today()
    hit = atlas.store.query(
        f"SELECT set_id FROM boundary_sets WHERE valid_from <= ? AND coalesce(valid_to, {_OPEN_END}) >= ? ",
        [on, on])
    if len(hit):
        return hit.iloc[0]["set_id"]
    return boundary_sets(atlas).iloc[-1]["set_id"]


def areas(atlas: Atlas, level: str, set_id: str) -> pd.DataFrame:
    """Areas of one level and set, sorted by key (the order the map uses); WKB as bytes."""
    frame = atlas.store.query(
        "SELECT set_id, area_id, name, level, parent_id, predecessors, area_km2, geometry FROM areas "
        "WHERE set_id = ? AND level = ? ORDER BY area_id", [set_id, level])
    frame["geometry"] = [bytes(g) for g in frame["geometry"]]
    return frame


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
def _grid(atlas: Atlas, viewer: Principal, ind: Indicator, period: str | None) -> pd.DataFrame:
    """Ortsteil rows for every (period, area of that period's boundary set).

    Areas without a readable cell appear with status 'missing', so gaps are
    explicit and aggregates can see them.
    """
    vsql, vparams = _visible_versions_sql(viewer)
    period_clause, pparams = ("AND v.period = ?", [period]) if period else ("", [])
    return atlas.store.query(f"""
        WITH vv AS ({vsql}),
        cells AS (
            SELECT v.* FROM indicator_values v JOIN vv USING (version_id)
            WHERE v.indicator_id = ? {period_clause}
            QUALIFY row_number() OVER (PARTITION BY v.area_id, v.period ORDER BY v.version_id DESC) = 1
        ),
        per AS (SELECT DISTINCT period, period_end FROM cells),
        grid AS (
            SELECT per.period, a.set_id, a.area_id, a.name, a.parent_id
            FROM per JOIN boundary_sets b
              ON per.period_end BETWEEN b.valid_from AND coalesce(b.valid_to, {_OPEN_END})
            JOIN areas a ON a.set_id = b.set_id AND a.level = 'ortsteil'
        )
        SELECT grid.*, c.value, c.numerator, c.denominator,
               coalesce(c.status, 'missing') AS status, c.version_id
        FROM grid LEFT JOIN cells c USING (period, area_id)
        ORDER BY grid.period, grid.area_id
    """, vparams + [ind.id] + pparams)


def aggregate(rows: pd.DataFrame, ind: Indicator, by: list[str]) -> pd.DataFrame:
    """Aggregate Ortsteil rows to groups: sum(num)/sum(den) for rates, sums for counts."""
    def one(group: pd.DataFrame) -> pd.Series:
        complete = bool((group["status"] == "ok").all())
        num, den = group["numerator"].sum(), group["denominator"].sum()
        value = np.nan
        if complete and ind.aggregation == "ratio" and group["denominator"].notna().all() and den > 0:
            value = num / den * ind.scale
        elif complete and ind.aggregation == "sum" and group["value"].notna().all():
            value = group["value"].sum()
        ok = not np.isnan(value)
        return pd.Series({"value": value, "numerator": num if ok else np.nan,
                          "denominator": den if ok else np.nan, "status": "ok" if ok else "missing"})
    if rows.empty:
        return pd.DataFrame(columns=by + ["value", "numerator", "denominator", "status"])
    return rows.groupby(by, sort=True)[["value", "numerator", "denominator", "status"]].apply(one).reset_index()


def suppress(rows: pd.DataFrame, ind: Indicator, viewer: Principal) -> pd.DataFrame:
    """Hide small numbers from viewers outside the owning department."""
    if sees_unsuppressed(viewer, ind.department) or rows.empty:
        return rows
    rows = rows.copy()
    small = pd.Series(False, index=rows.index)
    if ind.suppress_numerator_below:
        small |= (rows["numerator"] > 0) & (rows["numerator"] < ind.suppress_numerator_below)
    if ind.suppress_denominator_below:
        small |= (rows["denominator"] > 0) & (rows["denominator"] < ind.suppress_denominator_below)
    small &= rows["status"] == "ok"
    rows.loc[small, ["value", "numerator", "denominator"]] = np.nan
    rows.loc[small, "status"] = "suppressed"
    stored_suppressed = rows["status"] == "suppressed"
    rows.loc[stored_suppressed, ["value", "numerator", "denominator"]] = np.nan
    return rows


def _to_level(atlas: Atlas, grid: pd.DataFrame, ind: Indicator, level: str) -> pd.DataFrame:
    """Ortsteil grid rows → rows of the requested level with names and parents."""
    cols = ["period", "set_id", "area_id", "name", "parent_id", "value", "numerator", "denominator", "status"]
    if level == "ortsteil":
        return grid[cols]
    if level not in ("stadtbezirk", "stadt"):
        raise ValueError(f"unknown level {level!r}")
    higher = atlas.store.query("SELECT set_id, area_id, name, level, parent_id FROM areas "
                               "WHERE level IN ('stadtbezirk', 'stadt')")
    rows = grid.rename(columns={"parent_id": "group_id"})
    if level == "stadt":
        district_parent = higher[higher["level"] == "stadtbezirk"][["set_id", "area_id", "parent_id"]]
        rows = rows.merge(district_parent.rename(columns={"area_id": "group_id", "parent_id": "city_id"}),
                          on=["set_id", "group_id"]).drop(columns="group_id").rename(columns={"city_id": "group_id"})
    agg = aggregate(rows, ind, ["period", "set_id", "group_id"]).rename(columns={"group_id": "area_id"})
    names = higher[higher["level"] == level][["set_id", "area_id", "name", "parent_id"]]
    return agg.merge(names, on=["set_id", "area_id"], how="left")[cols]


@dataclass(frozen=True)
class ValueTable:
    indicator: Indicator
    period: str
    level: str
    set_id: str | None
    rows: pd.DataFrame  # area_id, name, parent_id, value, numerator, denominator, status


def values(atlas: Atlas, viewer: Principal, indicator_id: str, period: str,
           level: str = "ortsteil") -> ValueTable | None:
    """All areas of a level at one period; None if the indicator is not visible."""
    ind = get_indicator(atlas, viewer, indicator_id)
    if ind is None:
        return None
    grid = _grid(atlas, viewer, ind, period)
    rows = suppress(_to_level(atlas, grid, ind, level), ind, viewer)
    set_id = rows["set_id"].iloc[0] if len(rows) else set_for_period(atlas, period)
    return ValueTable(ind, period, level, set_id, rows.drop(columns=["period", "set_id"]).reset_index(drop=True))


def value_rows(atlas: Atlas, viewer: Principal, indicator_id: str, period: str | None,
               level: str = "ortsteil") -> pd.DataFrame | None:
    """Rows for one or all periods (API and exports); None if not visible.

    Raises ValueError for a malformed period key, so callers can say what is expected.
    """
    if period is not None:
        period_end(period)
    ind = get_indicator(atlas, viewer, indicator_id)
    if ind is None:
        return None
    grid = _grid(atlas, viewer, ind, period)
    return suppress(_to_level(atlas, grid, ind, level), ind, viewer).reset_index(drop=True)


def timeseries(atlas: Atlas, viewer: Principal, indicator_id: str, area_id: str) -> pd.DataFrame | None:
    """The area, its Stadtbezirk and the city over all readable periods.

    Columns: period, role ('area', 'predecessor', 'stadtbezirk', 'stadt'),
    area_id, name, value, status. An Ortsteil created by a split also gets its
    predecessor's series, so the break is visible instead of silently joined.
    """
    ind = get_indicator(atlas, viewer, indicator_id)
    if ind is None:
        return None
    if not isinstance(area_id, str):
        return pd.DataFrame(columns=["period", "role", "area_id", "name", "value", "status"])
    info = area_info(atlas, area_id)
    info = info[info["level"] == "ortsteil"]
    if info.empty:
        return pd.DataFrame(columns=["period", "role", "area_id", "name", "value", "status"])
    grid = _grid(atlas, viewer, ind, None)
    parent_id = info.iloc[0]["parent_id"]
    predecessors = [p for p in str(info.iloc[0]["predecessors"] or "").split(",") if p]
    parts = [suppress(grid[grid["area_id"] == area_id], ind, viewer).assign(role="area")]
    for pre in predecessors:
        parts.append(suppress(grid[grid["area_id"] == pre], ind, viewer).assign(role="predecessor"))
    districts = _to_level(atlas, grid, ind, "stadtbezirk")
    parts.append(suppress(districts[districts["area_id"] == parent_id], ind, viewer).assign(role="stadtbezirk"))
    parts.append(suppress(_to_level(atlas, grid, ind, "stadt"), ind, viewer).assign(role="stadt"))
    out = pd.concat(parts, ignore_index=True)
    return out[["period", "role", "area_id", "name", "value", "status"]].sort_values(["role", "period"])
