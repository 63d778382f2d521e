"""Comparison services: areas next to each other, change between two periods, relations of two indicators.

Every number comes from `atlas.services.queries` with the viewer, so rights
and disclosure control (`atlas.services.disclosure`) apply before anything
is compared: a suppressed cell stays suppressed, and nothing derived from it
(a difference, a correlation) is ever computed. A change that involves a
suppressed cell is itself suppressed, so a published difference never
reveals a hidden value (visible value ± change = hidden value). An indicator
the viewer may not see answers like one that does not exist (None).

Levels are data (`atlas.services.territory`): no level id is named here.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.catalog import Indicator
from atlas.classify import (
    MISSING_COLOR,
    SUPPRESSED_COLOR,
    classify,
    colors_for,
    legend_entries,
)
from atlas.formatting import format_number, format_values, gap_word
from atlas.services import queries, territory
from atlas.services.context import Atlas
from auth.permissions import Principal

MAX_AREAS = 6
MAX_INDICATORS = 8
# In no scheme of classify.SCHEMES and apart from the gap colours: an area that broke across a boundary change.
NOT_COMPARABLE_COLOR = "#01665e"
CHANGE_STATUSES = ("ok", "missing", "suppressed", "not_comparable")


# ------------------------------------------------------------------ areas
@dataclass(frozen=True)
class AreaRef:
    """A chosen area as the newest boundary set knows it."""

    area_id: str
    name: str
    level: str
    set_id: str
    parent_id: str | None


def resolve_areas(atlas: Atlas, keys: list) -> list[AreaRef]:
    """The known areas among `keys` (any level), in the order given, without repeats, at most MAX_AREAS.

    Geography is public: unknown keys are dropped, known ones kept whatever
    the viewer may see of their values.
    """
    out: list[AreaRef] = []
    for key in keys or []:
        if not isinstance(key, str) or key in {a.area_id for a in out}:
            continue
        info = queries.newest_area_info(atlas, key)
        if info is None:
            continue
        out.append(AreaRef(key, info["name"], info["level"], info["set_id"], info["parent_id"]))
        if len(out) == MAX_AREAS:
            break
    return out


def area_options(atlas: Atlas, lang: str = "de") -> list[dict]:
    """Every area of the current boundary set at every level, for a search box: 'Name (key, level)'."""
    set_id = queries.current_set(atlas)
    options = []
    for level in territory.level_ids(atlas):
        label = territory.label(atlas, level, lang)
        for row in queries.areas(atlas, level, set_id).itertuples(index=False):
            options.append({"label": f"{row.name} ({row.area_id}, {label})", "value": row.area_id})
    return options


def _context_rows(atlas: Atlas, chosen: list[AreaRef]) -> list[tuple[str, str, str]]:
    """(role, level, key) of the chosen areas, then their parents, then the whole territory, without repeats."""
    top = territory.top_level(atlas)
    top_key = queries.areas(atlas, top, queries.current_set(atlas))["area_id"].iloc[0]
    rows = [("area", a.level, a.area_id) for a in chosen]
    for a in chosen:
        ups = queries.ancestors(atlas, a.set_id, a.area_id)
        if ups and ups[0][0] != top:
            rows.append(("parent", ups[0][0], ups[0][1]))
    rows.append(("territory", top, top_key))
    seen, out = set(), []
    for role, level, key in rows:
        if key not in seen:
            seen.add(key)
            out.append((role, level, key))
    return out


COMPARE_COLS = ["indicator_id", "period", "role", "level", "area_id", "name", "value", "numerator",
                "denominator", "status"]


def compare_table(atlas: Atlas, viewer: Principal, area_keys: list, indicator_ids: list,
                  period: str | None = None) -> pd.DataFrame:
    """The chosen areas, their parents and the territory for each visible indicator.

    Each indicator at `period` if the viewer may read it, else at its newest
    readable period. Hidden and unknown indicators are left out alike.
    Columns: COMPARE_COLS; role is 'area', 'parent' or 'territory'.
    """
    chosen = resolve_areas(atlas, area_keys)
    wanted = _visible_ids(atlas, viewer, indicator_ids)
    if not chosen or not wanted:
        return pd.DataFrame(columns=COMPARE_COLS)
    context = _context_rows(atlas, chosen)
    pairs = [(ind_id, _period_or_newest(atlas, viewer, ind_id, period)) for ind_id in wanted]
    levels = list(dict.fromkeys(level for _, level, _ in context))
    # One read of every chosen indicator at every level of the context (one `values` per indicator and level
    # was ~12 queries a click); `values_many` answers the same rows with the same suppression.
    read = queries.values_many(atlas, viewer, pairs, levels, keys=[key for _, _, key in context])
    found = {(r["indicator_id"], r["level"], r["area_id"]): r for r in read.to_dict("records")}
    parts = []
    for ind_id, at in pairs:
        for level in levels:
            for role, lv, key in context:
                if lv == level:
                    parts.append(_one_row(atlas, ind_id, at, role, level, key, found.get((ind_id, level, key))))
    return pd.DataFrame(parts, columns=COMPARE_COLS)


def _one_row(atlas: Atlas, ind_id: str, period: str, role: str, level: str, key: str, row: dict | None) -> dict:
    """One area's row; an area that does not exist at that period is 'missing' (no number)."""
    out = {"indicator_id": ind_id, "period": period, "role": role, "level": level, "area_id": key}
    if row is not None:
        return {**out, **{c: row[c] for c in ("name", "value", "numerator", "denominator", "status")}}
    info = queries.newest_area_info(atlas, key)
    return {**out, "name": info["name"] if info else key, "value": None, "numerator": None, "denominator": None,
            "status": "missing"}


def _visible_ids(atlas: Atlas, viewer: Principal, indicator_ids: list) -> list[str]:
    """The requested indicators the viewer may see, in the order asked, at most MAX_INDICATORS."""
    out = []
    for ind_id in indicator_ids or []:
        if isinstance(ind_id, str) and ind_id not in out and queries.get_indicator(atlas, viewer, ind_id):
            out.append(ind_id)
    return out[:MAX_INDICATORS]


SERIES_COLS = ["period", "role", "area_id", "name", "value", "status"]


def compare_series(atlas: Atlas, viewer: Principal, area_keys: list, indicator_id: str) -> pd.DataFrame | None:
    """One indicator over time for the chosen areas, their parents and the territory (one chart).

    Each key's line as `queries.timeseries` draws it (`queries.area_series`:
    one read for all keys), so a key whose ground changed breaks its line
    (those periods are not the chosen area's and are left out). None if the
    indicator is not visible.
    """
    if queries.get_indicator(atlas, viewer, indicator_id) is None:
        return None
    chosen = resolve_areas(atlas, area_keys)
    if not chosen:
        return pd.DataFrame(columns=SERIES_COLS)
    context = _context_rows(atlas, chosen)
    lines = queries.area_series(atlas, viewer, indicator_id, [key for _, _, key in context])
    # Each key's rows with its role, in context order, then stably by period: positions picked with NumPy
    # (a boolean mask, `assign` and `concat` per key was ~20 % of the chart's time).
    area = lines["area_id"].to_numpy(dtype=object)
    picked = [(np.flatnonzero(area == key), role) for role, _, key in context]
    at = np.concatenate([rows for rows, _ in picked]) if picked else np.empty(0, dtype=np.intp)
    if not len(at):
        return pd.DataFrame(columns=SERIES_COLS)
    out = lines.take(at).reset_index(drop=True).assign(
        role=np.concatenate([np.full(len(rows), role, dtype=object) for rows, role in picked]))[SERIES_COLS]
    return out.take(np.argsort(out["period"].to_numpy(dtype=object), kind="stable")).reset_index(drop=True)


# ------------------------------------------------------------------ change between two periods
@dataclass(frozen=True)
class ChangeTable:
    indicator: Indicator
    period_from: str
    period_to: str
    level: str
    set_id: str | None
    measure: str  # 'pp' (percentage points), 'abs' (in the unit), with 'pct' also given for counts
    rows: pd.DataFrame  # CHANGE_COLS


CHANGE_COLS = ["area_id", "name", "from_value", "to_value", "change", "change_pct", "status"]


def change(atlas: Atlas, viewer: Principal, indicator_id: str, period_from: str, period_to: str,
           level: str | None = None) -> ChangeTable | None:
    """Change of one indicator between two readable periods over the areas of `period_to`'s boundary set.

    None if the indicator is not visible; ValueError if a period is not one
    the viewer may read (answered like a period that does not exist).
    Status per area: 'not_comparable' when the area has no same ground in
    the earlier set (a split, a merger, a moved boundary), else 'suppressed'
    if either cell is suppressed, 'missing' if either is missing, else 'ok'.
    Only 'ok' rows carry numbers: a change beside a hidden cell is hidden too.
    """
    ind = queries.get_indicator(atlas, viewer, indicator_id)
    if ind is None:
        return None
    readable = queries.periods(atlas, viewer, indicator_id)
    if period_from not in readable or period_to not in readable:
        raise ValueError("from/to: Zeiträume des Indikators / periods of the indicator")
    level = level or territory.base_level(atlas)
    if level not in territory.level_ids(atlas):
        raise ValueError("unknown level")
    tables = _value_tables(atlas, viewer, [(indicator_id, period_from), (indicator_id, period_to)], level)
    before, after = tables[(indicator_id, period_from)], tables[(indicator_id, period_to)]
    rows = _change_rows(atlas, ind, level, before, after)
    measure = "pp" if ind.unit.strip() == "%" else "abs"
    return ChangeTable(ind, period_from, period_to, level, after.set_id, measure, rows)


def _value_tables(atlas: Atlas, viewer: Principal, pairs: list[tuple[str, str]],
                  level: str) -> dict[tuple[str, str], queries.ValueTable]:
    """`queries.values` of several (visible indicator, period) pairs at one level, read in one `values_many`.

    Why: a change, a relation or a similar-areas list asked `values` two to
    four times, a query of ~20-50 ms each on 1,000 areas. Each table is the
    one `values` answers (same rows, order and suppression; a pair without
    cells has no rows and the set valid at its period).
    """
    read = queries.values_many(atlas, viewer, pairs, [level])
    # Each pair's rows picked by position (a pandas group and a `drop` per pair were ~15 % of a view's time).
    inds, periods = (read[c].to_numpy(dtype=object) for c in ("indicator_id", "period"))
    body = read.drop(columns=["level", "indicator_id", "period", "set_id"])
    out = {}
    for ind_id, period in dict.fromkeys(pairs):
        at = np.flatnonzero((inds == ind_id) & (periods == period))
        set_id = read["set_id"].iat[at[0]] if len(at) else queries.set_for_period(atlas, period)
        rows = body.take(at).reset_index(drop=True)
        out[(ind_id, period)] = queries.ValueTable(atlas.indicator_by_id[ind_id], period, level, set_id, rows)
    return out


def _change_rows(atlas: Atlas, ind: Indicator, level: str, before: queries.ValueTable,
                 after: queries.ValueTable) -> pd.DataFrame:
    """One row per area of the later set, in key order (the map's order), computed column-wise.

    Why column-wise: one Python step per area (1,000 in a large city) was
    most of the service's time. Status: 'not_comparable' (other ground),
    else 'suppressed' if either cell is, 'missing' if either is not 'ok' or
    has no value, else 'ok' with the change (and its share of the earlier
    value for counts).
    """
    order = queries.areas(atlas, level, after.set_id)[["area_id", "name"]] if after.set_id else \
        after.rows[["area_id", "name"]]
    old, new = _side(before.rows, "0"), _side(after.rows, "1")
    frame = order.reset_index(drop=True).merge(old, on="area_id", how="left").merge(new, on="area_id", how="left")
    s0, s1 = (frame[c].fillna("missing").to_numpy(dtype=object) for c in ("status0", "status1"))
    v0, v1 = (frame[c].to_numpy(dtype=float, na_value=np.nan) for c in ("value0", "value1"))
    same = _same_ground(atlas, level, frame["area_id"].tolist(), frame["status0"].notna().to_numpy(),
                        before.set_id, after.set_id)
    suppressed = (s0 == "suppressed") | (s1 == "suppressed")
    ok = same & ~suppressed & (s0 == "ok") & (s1 == "ok") & ~np.isnan(v0) & ~np.isnan(v1)
    status = np.where(~same, "not_comparable", np.where(suppressed, "suppressed", np.where(ok, "ok", "missing")))
    diff = np.where(ok, v1 - v0, np.nan)
    share = np.full(len(frame), np.nan)
    if ind.aggregation == "sum":
        base = ok & (v0 != 0)
        share[base] = diff[base] / np.abs(v0[base]) * 100.0
    marks = [c0 if isinstance(c0, str) and c0 else (c1 if isinstance(c1, str) else None)
             for c0, c1 in zip(frame["confidential0"], frame["confidential1"])] \
        if frame["confidential0"].notna().any() or frame["confidential1"].notna().any() else None
    out = pd.DataFrame({"area_id": frame["area_id"], "name": frame["name"],
                        "from_value": np.where(s0 == "ok", v0, np.nan), "to_value": np.where(s1 == "ok", v1, np.nan),
                        "change": diff, "change_pct": share, "status": status.astype(object)})
    if marks is not None:
        out["confidential"] = marks
    return out


def _side(rows: pd.DataFrame, suffix: str) -> pd.DataFrame:
    """A period's value, status and confidential mark per area, the columns suffixed for the merge."""
    marks = rows["confidential"] if "confidential" in rows.columns else pd.Series(None, index=rows.index, dtype=object)
    side = pd.DataFrame({"area_id": rows["area_id"], "value": rows["value"].to_numpy(dtype=float, na_value=np.nan),
                         "status": rows["status"].astype(object), "confidential": marks.astype(object)})
    return side.drop_duplicates("area_id", keep="last").rename(columns=lambda c: c if c == "area_id" else c + suffix)


def _same_ground(atlas: Atlas, level: str, area_ids: list[str], in_old: np.ndarray, set_from: str | None,
                 set_to: str | None) -> np.ndarray:
    """Does each area cover the same ground at both periods (same set, or the same key on ≥ 99 % the same area)?"""
    if set_from == set_to:
        return np.ones(len(area_ids), dtype=bool)
    if set_from is None or set_to is None:
        return np.zeros(len(area_ids), dtype=bool)
    return np.array([bool(there) and set_from not in queries.changed_geometry_sets(atlas, level, key, set_to)
                     for key, there in zip(area_ids, in_old)], dtype=bool)


@dataclass(frozen=True)
class ChangeClasses:
    """Classes of the change map: symmetric about zero, 'not comparable' as a class of its own."""

    classes: list[int]
    colors: list[str]
    legend: list[dict]
    labels: list[str]


def change_classes(table: ChangeTable, k: int = 5, lang: str = "de") -> ChangeClasses:
    """Equal-width classes over [-m, m] (m = the largest absolute change), a diverging scheme centred on zero.

    With an odd k the middle class holds zero; a 'bad' increase is the warm
    end (the indicator's polarity). Not comparable areas get the extra class
    after the scheme's colours, so the map script needs nothing new.
    """
    k = max(3, min(7, int(k)))
    rows = table.rows
    ok = rows["status"] == "ok"
    values = rows["change"].where(ok).to_numpy(dtype=float, na_value=np.nan)
    m = float(np.nanmax(np.abs(values))) if ok.any() else 0.0
    m = m or 1.0
    edges = np.linspace(-m, m, k + 1)
    colors = colors_for(table.indicator.polarity, True, k)
    classes = np.full(len(rows), -1, dtype=int)
    classes[ok.to_numpy()] = np.clip(np.searchsorted(edges[1:-1], values[ok.to_numpy()], side="left"), 0, k - 1)
    classes[(rows["status"] == "suppressed").to_numpy()] = -2
    classes[(rows["status"] == "not_comparable").to_numpy()] = k
    decimals = table.indicator.decimals
    legend = [{"color": colors[i], "label": f"{_signed(edges[i], decimals, lang)} – {_signed(edges[i + 1], decimals, lang)}",
               "count": int((classes == i).sum()), "kind": "class"} for i in range(k)]
    legend += [{"color": NOT_COMPARABLE_COLOR, "label": not_comparable_word(lang),
                "count": int((classes == k).sum()), "kind": "class"},
               {"color": MISSING_COLOR, "label": gap_word("missing", lang), "count": int((classes == -1).sum()),
                "kind": "missing"},
               {"color": SUPPRESSED_COLOR, "label": gap_word("suppressed", lang),
                "count": int((classes == -2).sum()), "kind": "suppressed"}]
    # only the columns a label needs: iterating the areas' Arrow-backed key and name columns cost more than the labels
    labels = [change_label(r, table, lang) for r in rows[["status", "change", "change_pct"]].itertuples(index=False)]
    return ChangeClasses(classes.tolist(), colors + [NOT_COMPARABLE_COLOR], legend, labels)


def _signed(value: float, decimals: int, lang: str) -> str:
    text = format_number(abs(value), decimals, lang)
    return text if abs(value) < 10 ** -(decimals + 1) else ("+" if value > 0 else "−") + text


def not_comparable_word(lang: str = "de") -> str:
    return "not comparable" if lang == "en" else "nicht vergleichbar"


def change_unit(table: ChangeTable, lang: str = "de") -> str:
    """'Prozentpunkte' for percentages, else the indicator's unit."""
    if table.measure == "pp":
        return "percentage points" if lang == "en" else "Prozentpunkte"
    return table.indicator.unit_in(lang)


def change_label(row, table: ChangeTable, lang: str = "de") -> str:
    """'+1,2 Prozentpunkte', '+350 Personen (+4,1 %)', or the gap's word."""
    if row.status == "not_comparable":
        return not_comparable_word(lang)
    if row.status != "ok":
        return gap_word(row.status, lang)
    text = f"{_signed(row.change, table.indicator.decimals, lang)} {change_unit(table, lang)}"
    if row.change_pct is not None and not pd.isna(row.change_pct):
        text += f" ({_signed(row.change_pct, 1, lang)} %)"
    return text


# ------------------------------------------------------------------ relation of two indicators
@dataclass(frozen=True)
class Relation:
    x: Indicator
    y: Indicator
    period_x: str
    period_y: str
    level: str
    points: pd.DataFrame  # area_id, name, x, y (used areas)
    left_out: pd.DataFrame  # area_id, name, x_status, y_status
    pearson: float | None
    spearman: float | None
    slope: float | None
    intercept: float | None

    @property
    def n(self) -> int:
        return len(self.points)


def relation(atlas: Atlas, viewer: Principal, x_id: str, y_id: str, period: str | None = None,
             level: str | None = None) -> Relation | None:
    """Two indicators over all areas of a level: Pearson, Spearman, least-squares line, n, and who is left out.

    Each indicator at `period` if readable, else its newest readable period
    (the answer says which). Only areas 'ok' in both take part; missing and
    suppressed ones are listed as left out, never dropped silently. None if
    either indicator is not visible.
    """
    found = _relation(atlas, viewer, x_id, y_id, period, level)
    return found[0] if found else None


def _relation(atlas: Atlas, viewer: Principal, x_id: str, y_id: str, period: str | None,
              level: str | None) -> tuple[Relation, str | None] | None:
    """`relation` and the boundary set of y's table (the bivariate map's), from one read of both indicators."""
    if queries.get_indicator(atlas, viewer, x_id) is None or queries.get_indicator(atlas, viewer, y_id) is None:
        return None
    level = level or territory.base_level(atlas)
    if level not in territory.level_ids(atlas):
        raise ValueError("unknown level")
    px, py = (_period_or_newest(atlas, viewer, i, period) for i in (x_id, y_id))
    tables = _value_tables(atlas, viewer, [(x_id, px), (y_id, py)], level)
    tx, ty = tables[(x_id, px)], tables[(y_id, py)]
    # Every area of either table in key order (an outer merge's order), x's name (none for an area only y has).
    keys = _union_keys([tx.rows, ty.rows])
    at_x, at_y = _positions(tx.rows, keys), _positions(ty.rows, keys)
    name = _aligned(tx.rows, "name", at_x, np.nan)
    vx, vy = _numbers(tx.rows["value"], at_x), _numbers(ty.rows["value"], at_y)
    sx, sy = _aligned(tx.rows, "status", at_x, "missing"), _aligned(ty.rows, "status", at_y, "missing")
    used = (sx == "ok") & (sy == "ok") & ~np.isnan(vx) & ~np.isnan(vy)
    points = pd.DataFrame({"area_id": _text(keys[used]), "name": _text(name[used]), "x": vx[used], "y": vy[used]})
    left = pd.DataFrame({"area_id": _text(keys[~used]), "name": _text(name[~used]), "x_status": _text(sx[~used]),
                         "y_status": _text(sy[~used])})
    stats = _correlate(points["x"].to_numpy(dtype=float), points["y"].to_numpy(dtype=float))
    return Relation(tx.indicator, ty.indicator, px, py, level, points, left, *stats), ty.set_id


def _text(values: np.ndarray) -> pd.Series:
    """A text column as pandas makes it from strings (`str`, NaN for a gap), also when it is empty."""
    return pd.Series(values, dtype="str")


def _union_keys(tables: list[pd.DataFrame]) -> np.ndarray:
    """Every area key of the tables, sorted (the order of an outer merge on the key), as an object array."""
    keys = np.unique(np.concatenate([t["area_id"].to_numpy(dtype=object) for t in tables]))
    return keys.astype(object)


def _positions(rows: pd.DataFrame, keys: np.ndarray) -> np.ndarray:
    """Where each of `keys` is in `rows` (its area keys are unique), -1 where it has no row."""
    return pd.Index(rows["area_id"].to_numpy(dtype=object)).get_indexer(keys)


def _aligned(rows: pd.DataFrame, column: str, at: np.ndarray, gap) -> np.ndarray:
    """`rows[column]` at positions `at` (`_positions`), `gap` where -1: a merge's column without the merge
    (two pandas merges were a third of the scatter's time). An object array."""
    values = rows[column].to_numpy(dtype=object)
    return np.where(at >= 0, values[np.maximum(at, 0)] if len(values) else gap, gap).astype(object)


def _numbers(column: pd.Series, at: np.ndarray) -> np.ndarray:
    """A numeric column at positions `at`, NaN where -1 (or where it has no number)."""
    values = column.to_numpy(dtype=float, na_value=np.nan)
    return np.where(at >= 0, values[np.maximum(at, 0)], np.nan) if len(values) else np.full(len(at), np.nan)


def _period_or_newest(atlas: Atlas, viewer: Principal, ind_id: str, period: str | None) -> str:
    readable = queries.periods(atlas, viewer, ind_id)
    return period if period in readable else readable[-1]


def _correlate(x: np.ndarray, y: np.ndarray) -> tuple[float | None, float | None, float | None, float | None]:
    """(pearson, spearman, slope, intercept); None where undefined (fewer than 3 points, no spread)."""
    if len(x) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return None, None, None, None
    pearson = float(np.corrcoef(x, y)[0, 1])
    rx, ry = pd.Series(x).rank().to_numpy(), pd.Series(y).rank().to_numpy()  # average ranks for ties
    spearman = float(np.corrcoef(rx, ry)[0, 1])
    slope, intercept = np.polyfit(x, y, 1)
    return pearson, spearman, float(slope), float(intercept)


# ------------------------------------------------------------------ similar areas
SIMILAR_METHODS = {"range": 0.1, "zscore": 0.5}  # method → default tolerance


@dataclass(frozen=True)
class Similar:
    reference: AreaRef
    indicators: list[str]
    periods: dict[str, str]
    method: str
    tolerance: float
    rows: pd.DataFrame  # area_id, name, distance, one column per indicator; reference first, then by distance
    left_out: pd.DataFrame  # area_id, name: areas without an 'ok' value in every indicator


def similar(atlas: Atlas, viewer: Principal, area_key: str, indicator_ids: list, period: str | None = None,
            tolerance: float | None = None, method: str = "range") -> Similar | None:
    """Areas of the reference area's level that resemble it in every chosen indicator.

    'range': each indicator within ± tolerance × its spread (max − min over
    the level's areas); distance = the largest of these shares. 'zscore':
    the root-mean-square difference in standard deviations, within
    tolerance. Only areas 'ok' in every indicator are compared, and the
    others are listed as left out; if the reference itself is not 'ok'
    everywhere, nothing matches. None when no chosen indicator is visible
    or the area is unknown; hidden indicators are left out like unknown ones.
    """
    ids = _visible_ids(atlas, viewer, indicator_ids)
    refs = resolve_areas(atlas, [area_key])
    if not ids or not refs:
        return None
    method = method if method in SIMILAR_METHODS else "range"
    tolerance = float(tolerance) if tolerance is not None and np.isfinite(float(tolerance)) and float(tolerance) >= 0 \
        else SIMILAR_METHODS[method]
    ref = refs[0]
    periods = {i: _period_or_newest(atlas, viewer, i, period) for i in ids}
    tables = _value_tables(atlas, viewer, list(periods.items()), ref.level)
    keys, names, values = _ok_values(tables, [(i, periods[i]) for i in ids])
    complete = ~np.isnan(values).any(axis=1)
    left_out = pd.DataFrame({"area_id": _text(keys[~complete]), "name": _text(names[~complete])})
    columns = ["area_id", "name", "distance"] + ids
    at_ref = np.flatnonzero(complete & (keys == ref.area_id))
    if not len(at_ref):  # nothing matches: the empty frame keeps the columns' old order (distance last)
        return Similar(ref, ids, periods, method, tolerance, _similar_rows(
            keys[:0], names[:0], np.empty(0), values[:0], ids)[["area_id", "name"] + ids + ["distance"]], left_out)
    data = values[complete]
    distance = _distances(data, int(np.flatnonzero(keys[complete] == ref.area_id)[0]), method)
    hit = np.flatnonzero(distance <= tolerance + 1e-12)
    hit = hit[np.argsort(distance[hit], kind="stable")]  # by distance, then key (the rows are in key order)
    return Similar(ref, ids, periods, method, tolerance,
                   _similar_rows(keys[complete][hit], names[complete][hit], distance[hit], data[hit], ids)[columns],
                   left_out)


def _ok_values(tables: dict, pairs: list[tuple[str, str]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(keys, names, values): every area of any pair's table in key order (an outer merge's order), the first
    table's name (NaN for an area it lacks), and per pair the value where its status is 'ok', else NaN."""
    rows = [tables[pair].rows for pair in pairs]
    keys = _union_keys(rows)
    at = [_positions(r, keys) for r in rows]
    names = _aligned(rows[0], "name", at[0], np.nan)
    values = np.column_stack([np.where(_aligned(r, "status", where, "missing") == "ok", _numbers(r["value"], where),
                                       np.nan) for r, where in zip(rows, at)])
    return keys, names, values


def _similar_rows(keys: np.ndarray, names: np.ndarray, distance: np.ndarray, values: np.ndarray,
                  ids: list[str]) -> pd.DataFrame:
    """The similar-areas frame: area_id, name, distance, one float column per indicator."""
    return pd.DataFrame({"area_id": _text(keys), "name": _text(names), "distance": distance.astype(float),
                         **{i: values[:, k] for k, i in enumerate(ids)}})


def _distances(values: np.ndarray, ref: int, method: str) -> np.ndarray:
    """Distance of every row to row `ref` (see `similar`); a column without spread counts as no difference."""
    diff = values - values[ref]
    if method == "zscore":
        sd = values.std(axis=0, ddof=1) if len(values) > 1 else np.zeros(values.shape[1])
        z = np.divide(diff, sd, out=np.zeros_like(diff), where=sd > 0)
        return np.sqrt((z ** 2).mean(axis=1))
    spread = values.max(axis=0) - values.min(axis=0)
    share = np.divide(np.abs(diff), spread, out=np.zeros_like(diff), where=spread > 0)
    return share.max(axis=1)


# ------------------------------------------------------------------ bivariate map
# Joshua Stevens' 3×3 blue–red bivariate scheme (colour-blind-safe; cf. Teuling et al. 2011):
# BIVARIATE_COLORS[y_class][x_class]; x grows towards red, y towards blue, both high is dark.
BIVARIATE_COLORS = (("#e8e8e8", "#e4acac", "#c85a5a"),
                    ("#b0d5df", "#ad9ea5", "#985356"),
                    ("#64acbe", "#627f8c", "#574249"))
TERCILE_WORDS = {"de": ("niedrig", "mittel", "hoch"), "en": ("low", "medium", "high")}
BIVARIATE_COLS = ["area_id", "name", "x", "y", "x_class", "y_class", "status", "label"]


@dataclass(frozen=True)
class Bivariate:
    """Two indicators in 3×3 classes; `rows` has every area of the level in key order (the map's order)."""

    relation: Relation
    set_id: str | None
    x_edges: list[float]  # the two tercile limits of x (a value ≤ edge is in the lower class)
    y_edges: list[float]
    rows: pd.DataFrame  # BIVARIATE_COLS; x_class/y_class 0..2, or -1 (missing) / -2 (suppressed)

    @property
    def left_out(self) -> pd.DataFrame:
        return self.relation.left_out


def terciles(values: np.ndarray) -> list[float]:
    """The 1/3 and 2/3 quantiles (numpy's linear interpolation): the limits of three about equal classes."""
    return [float(q) for q in np.quantile(values, [1 / 3, 2 / 3])] if len(values) else []


def tercile_class(values: np.ndarray, edges: list[float]) -> np.ndarray:
    """0, 1 or 2: how many tercile limits lie strictly below the value (a value on a limit stays below it)."""
    return np.searchsorted(np.asarray(edges, dtype=float), values, side="left").astype(int)


def bivariate(atlas: Atlas, viewer: Principal, x_id: str, y_id: str, period: str | None = None,
              level: str | None = None, lang: str = "de") -> Bivariate | None:
    """Terciles of x and of y over the areas 'ok' in both (the scatter's areas), 9 classes in all.

    Built on `relation`, so the same areas take part and the same ones are
    left out: an area missing or suppressed in either indicator is never
    classed, keeps its gap status (suppressed wins over missing) and is
    listed. None if either indicator is not visible; ValueError for an
    unknown level.
    """
    read = _relation(atlas, viewer, x_id, y_id, period, level)
    if read is None:
        return None
    found, set_id = read
    px, py = (found.points[c].to_numpy(dtype=float) for c in ("x", "y"))
    x_edges, y_edges = terciles(px), terciles(py)
    left = found.left_out
    gap = np.where((left["x_status"].to_numpy(dtype=object) == "suppressed")
                   | (left["y_status"].to_numpy(dtype=object) == "suppressed"), "suppressed", "missing")
    # The scatter's areas, then those left out; each area of the map's set (key order) takes its row, an area
    # without one is missing. Picked by position instead of a concat and a merge.
    keys = np.concatenate([found.points["area_id"].to_numpy(dtype=object), left["area_id"].to_numpy(dtype=object)])
    xs = np.concatenate([px, np.full(len(left), np.nan)])
    ys = np.concatenate([py, np.full(len(left), np.nan)])
    gap_class = np.where(gap == "suppressed", -2, -1)
    cx = np.concatenate([tercile_class(px, x_edges), gap_class]).astype(int)
    cy = np.concatenate([tercile_class(py, y_edges), gap_class]).astype(int)
    status = np.concatenate([np.full(len(px), "ok", dtype=object), gap.astype(object)])
    names = np.concatenate([found.points["name"].to_numpy(dtype=object), left["name"].to_numpy(dtype=object)])
    order = queries.areas(atlas, found.level, set_id)[["area_id", "name"]] if set_id else \
        pd.DataFrame({"area_id": keys, "name": names})
    at = pd.Index(keys).get_indexer(order["area_id"].to_numpy(dtype=object))
    there, at = at >= 0, np.maximum(at, 0)
    pick = (lambda col, gap_: np.where(there, col[at], gap_)) if len(keys) else (lambda col, gap_: np.full(
        len(order), gap_))
    cx, cy, status = pick(cx, -1).astype(int), pick(cy, -1).astype(int), pick(status, "missing").astype(object)
    words: dict[tuple, str] = {}  # nine classes and two gaps: each label made once, not once per area
    labels = [words.get(k) or words.setdefault(k, bivariate_label(found, *k, lang))
              for k in zip(cx.tolist(), cy.tolist(), status.tolist())]
    rows = pd.DataFrame({"area_id": _text(order["area_id"].to_numpy(dtype=object)),
                         "name": _text(order["name"].to_numpy(dtype=object)),
                         "x": pick(xs, np.nan).astype(float), "y": pick(ys, np.nan).astype(float),
                         "x_class": cx, "y_class": cy, "status": _text(status), "label": _text(labels)})
    return Bivariate(found, set_id, x_edges, y_edges, rows[BIVARIATE_COLS])


def bivariate_label(found: Relation, x_class: int, y_class: int, status: str = "ok", lang: str = "de") -> str:
    """'SGB-II-Quote hoch, Übergang Gymnasium niedrig' ('high …, low …' in English), or the gap's word."""
    if status != "ok" or x_class < 0 or y_class < 0:
        return gap_word(status if status in ("missing", "suppressed") else "missing", lang)
    words = TERCILE_WORDS["en" if lang == "en" else "de"]
    if lang == "en":
        return f"{words[x_class]} {found.x.title(lang)}, {words[y_class]} {found.y.title(lang)}"
    return f"{found.x.title(lang)} {words[x_class]}, {found.y.title(lang)} {words[y_class]}"


def bivariate_index(x_class: int, y_class: int) -> int:
    """The colour index (0..8) of a cell in the flattened BIVARIATE_COLORS; gaps keep their negative class."""
    return y_class * 3 + x_class if x_class >= 0 and y_class >= 0 else min(x_class, y_class)


# ------------------------------------------------------------------ play over time with fixed classes
@dataclass(frozen=True)
class Frame:
    """One period of the animation: classes aligned with the areas of its boundary set, in key order."""

    period: str
    set_id: str | None
    area_ids: list[str]
    classes: list[int]
    labels: list[str]


@dataclass(frozen=True)
class Play:
    indicator: Indicator
    level: str
    method: str
    breaks: list[float]
    colors: list[str]
    legend: list[dict]  # over all periods' values together
    frames: list[Frame]


def play_frames(atlas: Atlas, viewer: Principal, indicator_id: str, level: str | None = None,
                method: str = "quantiles", k: int = 5, lang: str = "de") -> Play | None:
    """Every readable period of an indicator classed with one set of breaks ('feste Klassen über alle Zeiträume').

    The breaks come from `atlas.classify.classify` over the 'ok' values of all
    periods at once, so a colour means the same value range in every frame and
    a change of colour is a change of value. Suppressed and missing cells keep
    their own classes in every frame. None if the indicator is not visible.
    """
    ind = queries.get_indicator(atlas, viewer, indicator_id)
    if ind is None:
        return None
    level = level or territory.base_level(atlas)
    if level not in territory.level_ids(atlas):
        raise ValueError("unknown level")
    tables = []
    readable = [(indicator_id, period) for period in queries.periods(atlas, viewer, indicator_id)]
    for table in _value_tables(atlas, viewer, readable, level).values():  # every period in one read
        period = table.period
        order = queries.areas(atlas, level, table.set_id)[["area_id"]] if table.set_id else table.rows[["area_id"]]
        rows = order.merge(table.rows, on="area_id", how="left")
        rows["status"] = rows["status"].fillna("missing")
        tables.append((period, table.set_id, rows))
    values = [None if pd.isna(v) else float(v) for _, _, rows in tables for v in rows["value"]]
    statuses = [s for _, _, rows in tables for s in rows["status"]]
    c = classify(values, statuses, method, k, ind.polarity, ind.diverging)
    frames, start = [], 0
    for period, set_id, rows in tables:
        n = len(rows)
        labels = format_values(rows["value"].to_numpy(dtype=float, na_value=np.nan),
                               rows["status"].to_numpy(dtype=object), ind.decimals, ind.unit_in(lang), lang)
        frames.append(Frame(period, set_id, rows["area_id"].tolist(), c.classes[start:start + n], list(labels)))
        start += n
    return Play(ind, level, c.method, c.breaks, c.colors, legend_entries(c, ind.decimals, lang), frames)
