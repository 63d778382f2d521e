"""Parallel planning grids: area sets beside the hierarchy, and values estimated on them.

School planning thinks in Grundschulbezirke, youth planning in Sozialräume,
elections in Wahlbezirke; none of them nests in the base level. Such a grid is
stored with its geometry and a **crosswalk** to the base level of one
boundary set: rows (grid_area, base_area, weight), where `weight` is the share
of the base area's counts assigned to the grid area (a base area's weights
sum to 1 where the grid covers it). The crosswalk comes

- from **area overlap** (intersection areas in EPSG:3035, equal-area, so the
  shares are shares of ground), or
- from **population**: counts at points (addresses, buildings) inside each
  intersection; a base area without any point falls back to its area shares,
- or it is **uploaded** (CSV `grid_area;base_area;weight`, checked).

Two rules keep boundary noise out of the weights. A base area whose largest
overlap is at least `SNAP_SHARE` (99 %) of it goes wholly to that grid area
(two digitisations of one line leave slivers). A grid that nests in a level
of the hierarchy (Berlin's Ortsteile in the Bezirke) says so, and each base
area's weights then stay among the grid areas of its own ancestor at that
level, so the estimates add up exactly to that level's totals.

**Estimation.** Counts on the grid are Σ weight × base count: a count
indicator's value, a rate's numerator and denominator; a rate is then the
estimated numerator / estimated denominator × scale. Indicators without
counts (indices, averages) are not estimated. A grid cell with any
contributing base cell missing is missing (never a partial sum). Every
estimated cell carries its method ("geschätzt über Flächenanteile") and its
uncertainty as `split_share`: the share of its count that comes from base
areas split between grid areas (0 = exact; 0.4 = 40 % rests on the
assumption that people are spread like ground, or like the counted points).
The parents' "nicht zuordenbar" cases have no ground and reach no grid cell.

**Disclosure control on estimated cells** (the same `disclosure` rules):

1. a grid cell to which any withheld base cell contributes with weight > 0 is
   withheld (reason `contributor`): an estimate must not reveal, or narrow,
   a number the base level hides;
2. the primary rules run on the estimated counts (an estimated 2.4 is small);
3. secondary suppression protects the equations the grid publishes with the
   hierarchy: a grid cell belongs under the lowest area of the hierarchy it
   nests in whose whole ground it shares with the grid areas nested in it
   (else under the territory), and `area total = Σ its grid cells` must never
   have exactly one hidden member. The hierarchy's areas are published
   already, so where the rules would hide one, every grid cell under it is
   hidden instead.
Linked indicators (`same_count_as`) get the union of their grid patterns.
Rule 1 is deliberately blunt: a grid cell whose ground is exactly one area of
the hierarchy (Berlin's Alt-Treptow is Bezirksregion 090101) is withheld when
a withheld base cell lies in it, although its figure is that area's
published one. Why rule 1 is what protects the base: no published grid cell
holds any part of a withheld base cell, and every equation the grid adds
(an area's total = Σ the grid cells nested in it) holds each withheld base
cell of that area whole (all its weight stays inside), so subtraction yields
at most the sum of the area's withheld base cells, which the hierarchy's own
equations publish already and its pattern protects. Rules 2 and 3 keep small
estimates from showing and from being subtracted out.
"""
from __future__ import annotations

import io
import re
from dataclasses import asdict, dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from atlas.catalog import Indicator
from atlas.messages import Message
from atlas.periods import period_end
from atlas.services import disclosure, queries, territory
from atlas.services.context import Atlas
from auth.permissions import Principal, may_read_grid

METRIC_CRS = "EPSG:3035"  # equal-area: shares of intersection area are shares of ground
SNAP_SHARE = 0.99  # a base area with ≥ 99 % of its ground in one grid area goes wholly there
WEIGHT_TOLERANCE = 1e-3  # an uploaded base area's weights must sum to 1 ± this
CROSSWALK_COLS = ["grid_area", "base_area", "weight"]
_GRID_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
# How a value was estimated, German first (shown next to every estimated value and in exports).
METHODS = {
    "area": ("geschätzt über Flächenanteile", "estimated by area shares"),
    "population": ("geschätzt über Einwohneranteile", "estimated by population shares"),
    "upload": ("geschätzt über hochgeladene Gewichte", "estimated by uploaded weights"),
}
NOT_ESTIMATED = ("nicht geschätzt: der Indikator hat keine Zählwerte (Index oder Durchschnitt)",
                 "not estimated: the indicator has no counts (an index or an average)")
WRONG_SET = ("nicht geschätzt: die Werte dieses Zeitraums liegen auf einem anderen Gebietsstand als das Raster",
             "not estimated: this period's values are on another boundary set than the grid's crosswalk")


class CrosswalkError(ValueError):
    """A crosswalk that cannot be used; `problems` name row and column."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class Grid:
    """A parallel grid's description (kept in the manifest's `grids`)."""

    id: str
    name_de: str
    name_en: str
    plural_de: str
    plural_en: str
    set_id: str  # the boundary set whose base level the crosswalk refers to
    method: str  # a key of METHODS
    nests_in: str = ""  # a level id the grid nests in ("" = none)
    note: str = ""

    def method_label(self, lang: str = "de") -> str:
        de, en = METHODS.get(self.method, METHODS["area"])
        return en if lang == "en" else de


# ----------------------------------------------------------------------------- computing crosswalks
def _shares(grid: gpd.GeoDataFrame, base: gpd.GeoDataFrame) -> pd.DataFrame:
    """Every (grid area, base area) overlap as the share of the base area's ground."""
    g = grid.to_crs(METRIC_CRS).geometry.values
    b = base.to_crs(METRIC_CRS).geometry.values
    bi, gi = shapely.STRtree(g).query(b, predicate="intersects")
    inter = shapely.area(shapely.intersection(b[bi], g[gi])) if len(bi) else np.zeros(0)
    base_area = shapely.area(b)
    frame = pd.DataFrame({"grid_area": grid["area_id"].to_numpy()[gi], "base_area": base["area_id"].to_numpy()[bi],
                          "weight": inter / np.where(base_area[bi] > 0, base_area[bi], 1.0)})
    return frame[frame["weight"] > 0].reset_index(drop=True)


def _finish(frame: pd.DataFrame, grid_parent: dict | None, base_parent: dict | None,
            snap: float) -> pd.DataFrame:
    """Keep weights inside the nesting parent, snap near-whole base areas, renormalise covered ones.

    A base area covered to at least `snap` is treated as wholly covered (its
    weights renormalised to 1: the uncovered rest is digitising noise); one
    covered less keeps its shares, the rest lying outside the grid. A grid
    that nests is taken to cover each of its parents wholly: a base area's
    shares inside its own parent are renormalised to 1, whatever the other
    digitisation put across the parent's border.
    """
    if grid_parent is not None and base_parent is not None:
        same = frame["grid_area"].map(grid_parent).to_numpy() == frame["base_area"].map(base_parent).to_numpy()
        inside = frame[same]
        lost = sorted(set(frame["base_area"]) - set(inside["base_area"]))
        if lost:
            raise CrosswalkError([Message("cw_outside_parent", base=b, parent=base_parent.get(b)) for b in lost[:20]])
        frame = inside.copy()
        frame["weight"] = frame["weight"] / frame.groupby("base_area")["weight"].transform("sum")
    covered = frame.groupby("base_area")["weight"].transform("sum")
    frame = frame.assign(weight=np.where(covered >= snap, frame["weight"] / covered, frame["weight"]))
    frame = frame.sort_values(["base_area", "weight", "grid_area"], ascending=[True, False, True])
    first = ~frame["base_area"].duplicated()
    best = frame[first].set_index("base_area")["weight"]
    whole = set(best.index[best >= snap])
    frame = frame[~frame["base_area"].isin(whole) | first].copy()
    frame.loc[frame["base_area"].isin(whole), "weight"] = 1.0
    return frame[CROSSWALK_COLS].sort_values(["base_area", "grid_area"]).reset_index(drop=True)


def area_crosswalk(grid: gpd.GeoDataFrame, base: gpd.GeoDataFrame, grid_parent: dict | None = None,
                   base_parent: dict | None = None, snap: float = SNAP_SHARE) -> pd.DataFrame:
    """Weights by area overlap. Both frames: area_id, geometry (any CRS).

    `grid_parent` / `base_parent` (key → ancestor key at the level the grid
    nests in) keep each base area's weights among its own ancestor's grid areas.
    """
    return _finish(_shares(grid, base), grid_parent, base_parent, snap)


def population_crosswalk(grid: gpd.GeoDataFrame, base: gpd.GeoDataFrame, points: pd.DataFrame,
                         grid_parent: dict | None = None, base_parent: dict | None = None,
                         snap: float = SNAP_SHARE) -> pd.DataFrame:
    """Weights by counts at points (columns lon, lat, count in EPSG:4326): people, not ground, are split.

    A base area without any counted point inside falls back to its area shares.
    """
    pts = gpd.GeoDataFrame({"count": pd.to_numeric(points["count"], errors="coerce").fillna(0).to_numpy()},
                           geometry=gpd.points_from_xy(points["lon"], points["lat"]), crs="EPSG:4326")
    in_base = gpd.sjoin(pts, base[["area_id", "geometry"]].to_crs("EPSG:4326"), predicate="within", how="inner")
    in_base = in_base.rename(columns={"area_id": "base_area"}).drop(columns="index_right")
    both = gpd.sjoin(in_base, grid[["area_id", "geometry"]].to_crs("EPSG:4326"), predicate="within", how="inner")
    counted = both.groupby(["area_id", "base_area"], as_index=False)["count"].sum()
    counted = counted.rename(columns={"area_id": "grid_area"})
    totals = in_base.groupby("base_area")["count"].sum()
    counted["weight"] = counted["count"] / counted["base_area"].map(totals)
    counted = counted[counted["weight"] > 0]
    by_area = _shares(grid, base)
    fallback = by_area[~by_area["base_area"].isin(counted["base_area"])]
    frame = pd.concat([counted[CROSSWALK_COLS], fallback[CROSSWALK_COLS]], ignore_index=True)
    return _finish(frame, grid_parent, base_parent, snap)


# ----------------------------------------------------------------------------- uploaded crosswalks
def read_crosswalk_csv(content: bytes, grid_ids: set[str], base_ids: set[str],
                       tolerance: float = WEIGHT_TOLERANCE) -> pd.DataFrame:
    """An uploaded crosswalk (`grid_area;base_area;weight`, decimal comma or point), checked.

    Every problem names its row (as a spreadsheet counts them, the header
    being row 1) and column: unknown keys, weights that are not numbers
    between 0 and 1, and base areas whose weights do not sum to 1.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise CrosswalkError([Message("cw_encoding")]) from None
    try:
        frame = pd.read_csv(io.StringIO(text), sep=";", dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise CrosswalkError([Message("cw_unreadable", reason=str(exc)[:200])]) from None
    frame.columns = [c.strip() for c in frame.columns]
    missing = [c for c in CROSSWALK_COLS if c not in frame.columns]
    if missing:
        raise CrosswalkError([Message("cw_columns", columns=", ".join(missing))])
    problems = []
    weights = pd.to_numeric(frame["weight"].str.strip().str.replace(",", ".", regex=False), errors="coerce")
    for i, (g, b, raw, w) in enumerate(zip(frame["grid_area"].str.strip(), frame["base_area"].str.strip(),
                                           frame["weight"], weights), start=2):
        if g not in grid_ids:
            problems.append(Message("cw_unknown_grid_area", row=i, value=repr(g)))
        if b not in base_ids:
            problems.append(Message("cw_unknown_base_area", row=i, value=repr(b)))
        if not np.isfinite(w) or not 0 <= w <= 1:
            problems.append(Message("cw_weight", row=i, value=repr(raw)))
    out = pd.DataFrame({"grid_area": frame["grid_area"].str.strip(), "base_area": frame["base_area"].str.strip(),
                        "weight": weights})
    rows = pd.Series(range(2, len(out) + 2), index=out.index)
    for base_area, part in out[np.isfinite(out["weight"])].groupby("base_area", sort=True):
        total = part["weight"].sum()
        if abs(total - 1) > tolerance:
            where = ", ".join(str(r) for r in rows[part.index][:10])
            problems.append(Message("cw_weight_sum", rows=where, base=base_area, total=round(float(total), 4),
                                    tolerance=tolerance))
    dupes = out[out.duplicated(["grid_area", "base_area"], keep=False)]
    for (g, b), part in dupes.groupby(["grid_area", "base_area"], sort=True):
        problems.append(Message("cw_duplicate", rows=", ".join(str(r) for r in rows[part.index]), grid=g, base=b))
    if problems:
        raise CrosswalkError(problems[:50])
    return out[out["weight"] > 0].reset_index(drop=True)


# ----------------------------------------------------------------------------- storing and listing
def check_grid(grid: Grid) -> None:
    if not _GRID_ID.match(grid.id):
        raise CrosswalkError([Message("cw_grid_id", id=repr(grid.id))])
    if grid.method not in METHODS:
        raise CrosswalkError([Message("cw_method", method=repr(grid.method), allowed=", ".join(METHODS))])


def store_grid(atlas: Atlas, grid: Grid, areas: gpd.GeoDataFrame, crosswalk: pd.DataFrame) -> None:
    """Add (or replace) a grid, its areas in EPSG:4326 as WKB and its crosswalk, in one transaction."""
    check_grid(grid)
    if grid.id in territory.level_ids(atlas):
        raise CrosswalkError([Message("cw_is_level", id=repr(grid.id))])
    shapes = areas.to_crs("EPSG:4326")
    frame = pd.DataFrame({"area_id": shapes["area_id"].astype(str).to_numpy(),
                          "name": shapes["name"].astype(str).to_numpy(),
                          "geometry": shapely.to_wkb(shapes.geometry.values)})
    with atlas.store.writing() as tx:
        tx.put_grid(asdict(grid), frame, crosswalk[CROSSWALK_COLS].astype({"weight": float}))


def grids(atlas: Atlas) -> list[Grid]:
    """The store's parallel grids, in the order they were added."""
    def load() -> list[Grid]:
        raw = atlas.store.manifest().get("grids") if atlas.store.exists() else None
        return [Grid(**item) for item in raw or []]
    return atlas.cached(("grids",), load)


def get_grid(atlas: Atlas, grid_id: str) -> Grid | None:
    return next((g for g in grids(atlas) if g.id == grid_id), None)


def grid_of_level(atlas: Atlas, level: str) -> Grid | None:
    """The parallel grid a map's `level` names (the explorer offers grids beside the levels); None for the
    store's own levels and for unknown names."""
    return None if level in territory.level_ids(atlas) else get_grid(atlas, level)


def readable_grids(atlas: Atlas, viewer: Principal) -> list[Grid]:
    """The grids this viewer may read: all of them, for a partner token only those its scope names."""
    return [g for g in grids(atlas) if may_read_grid(viewer, g.id)]


def readable_grid(atlas: Atlas, viewer: Principal, grid_id: str) -> Grid | None:
    """One grid, or None when it does not exist or the viewer may not read it (answered alike)."""
    return next((g for g in readable_grids(atlas, viewer) if g.id == grid_id), None)


def _grid_table(atlas: Atlas, name: str, grid_id: str) -> pd.DataFrame:
    def load() -> pd.DataFrame:
        frame = atlas.store.read_table(name)
        return frame[frame["grid_id"] == grid_id].drop(columns="grid_id").reset_index(drop=True)
    return atlas.cached(("grid_table", name, grid_id), load)


def grid_areas(atlas: Atlas, grid_id: str) -> pd.DataFrame:
    """area_id, name, geometry (WKB) of a grid's areas, sorted by key."""
    return _grid_table(atlas, "grids", grid_id).sort_values("area_id", ignore_index=True)


def crosswalk(atlas: Atlas, grid_id: str) -> pd.DataFrame:
    return _grid_table(atlas, "crosswalks", grid_id)


# ----------------------------------------------------------------------------- estimating
def estimate(base: pd.DataFrame, weights: pd.DataFrame, ind: Indicator) -> pd.DataFrame:
    """Grid cells from base cells: Σ weight × count; rates from the estimated counts.

    `base`: area_id, value, numerator, denominator, status, hidden (a base
    cell withheld from this viewer's public). Returns grid_area, value,
    numerator, denominator, status ('ok'/'missing'), `hidden_input`
    (a withheld base cell contributes) and `split_share`, the estimate's
    uncertainty: the share of its count (a rate's denominator) that comes
    from base areas split between grid areas (0: every contributor lies
    wholly inside, so the figure is exact). Values are computed from every
    contributor; `*_visible` columns count withheld contributors as 0, which
    is what the pattern may be computed from (the public knows no more).
    """
    w = weights[weights["weight"] > 0]
    rows = w.merge(base, left_on="base_area", right_on="area_id", how="left")
    # A withheld cell holds data (the viewer's public just may not see it): it counts as present.
    hidden = rows["hidden"].astype("boolean").fillna(False).to_numpy(dtype=bool)
    ok = rows["status"].eq("ok").to_numpy() | hidden
    weight = rows["weight"].to_numpy(dtype=float)
    frame = pd.DataFrame({"grid_area": rows["grid_area"].to_numpy(), "bad": ~ok, "hidden": hidden})
    for col in ("value", "numerator", "denominator"):
        x = rows[col].to_numpy(dtype=float, na_value=np.nan) * weight
        frame[col] = x
        frame[f"{col}_visible"] = np.where(hidden, 0.0, x)
        frame[f"n_{col}"] = ~np.isnan(x) | hidden
    # The uncertainty of an estimate: how much of it comes from base areas split between grid areas.
    mass = frame["denominator" if ind.aggregation == "ratio" else "value"].to_numpy()
    frame["split"] = np.where(weight < 1, mass, 0.0)
    frame["mass"] = mass
    g = frame.groupby("grid_area", sort=True).agg(
        n=("bad", "size"), bad=("bad", "any"), hidden_input=("hidden", "any"), split=("split", "sum"),
        mass=("mass", "sum"),
        **{c: (c, lambda s: s.sum(min_count=1)) for c in ("value", "numerator", "denominator", "value_visible",
                                                            "numerator_visible", "denominator_visible")},
        **{f"n_{c}": (f"n_{c}", "sum") for c in ("value", "numerator", "denominator")})
    if ind.aggregation == "ratio":
        valid = ~g["bad"] & (g["n_numerator"] == g["n"]) & (g["n_denominator"] == g["n"]) & (
            (g["denominator"] > 0) | g["hidden_input"])  # the public's partial sum may be empty: withheld
        value = g["numerator"] / g["denominator"].where(g["denominator"] > 0) * float(ind.scale)
    elif ind.aggregation == "sum":
        valid = ~g["bad"] & (g["n_value"] == g["n"])
        value = g["value"]
    else:
        valid, value = pd.Series(False, index=g.index), pd.Series(np.nan, index=g.index)
    out = pd.DataFrame({"grid_area": g.index, "value": value.where(valid).to_numpy(),
                        "numerator": g["numerator"].where(valid).to_numpy() if ind.aggregation == "ratio" else np.nan,
                        "denominator": g["denominator"].where(valid).to_numpy()
                        if ind.aggregation == "ratio" else np.nan,
                        "status": np.where(valid, "ok", "missing"), "hidden_input": g["hidden_input"].to_numpy()})
    for col in ("value", "numerator", "denominator"):
        out[f"{col}_visible"] = g[f"{col}_visible"].where(valid).to_numpy()
    out["split_share"] = (g["split"] / g["mass"].where(g["mass"] > 0)).where(valid).to_numpy()
    return out.reset_index(drop=True)


def nesting_parents(weights: pd.DataFrame, ancestors_of: dict[str, dict[str, str]], level_order: list[str],
                    top_key: str) -> dict[str, str]:
    """Per grid area, the hierarchy area whose total equals the sum of the grid areas under it.

    The lowest level at which all of a grid area's base areas share one
    ancestor A and A's base areas send all their weight to grid areas that
    nest in A; else the territory (`top_key`). `ancestors_of`: base area →
    {level: ancestor key}.
    """
    w = weights[weights["weight"] > 0]
    parent: dict[str, str] = {}
    for level in level_order:
        anc = w["base_area"].map(lambda b, lv=level: ancestors_of.get(b, {}).get(lv))
        per_grid = anc.groupby(w["grid_area"]).agg(lambda s: s.iloc[0] if s.notna().all() and s.nunique() == 1
                                                    else None)
        nested_in = w["grid_area"].map(per_grid)
        closed = (nested_in == anc).groupby(anc).all()
        for grid_area, a in per_grid.items():
            if grid_area not in parent and a is not None and closed.get(a, False):
                parent[grid_area] = f"{level}:{a}"
    for grid_area in w["grid_area"].unique():
        parent.setdefault(grid_area, f"top:{top_key}")
    return parent


def grid_pattern(cells: pd.DataFrame, parent: dict[str, str], ind: Indicator,
                 forced: pd.DataFrame | None = None) -> pd.DataFrame:
    """The withheld grid cells (area_id, reason) of one period, by the three rules of the module docstring.

    `cells`: estimate()'s frame. `forced`: area_id of cells hidden in a linked indicator.
    """
    rule_list = disclosure.rules(ind)
    quantities = [r.quantity for r in rule_list] or ["value"]
    rows = pd.DataFrame({"period": "p", "area_id": cells["grid_area"].to_numpy(),
                         "parent_id": cells["grid_area"].map(parent).to_numpy(),
                         "status": cells["status"].to_numpy()})
    for q in quantities:
        rows[q] = cells[f"{q}_visible"].to_numpy()
    parents = rows.groupby("parent_id", as_index=False)[quantities].sum()
    parents = parents.rename(columns={"parent_id": "area_id"}).assign(period="p", parent_id=None, status="ok")
    rows = pd.concat([rows, parents[rows.columns]], ignore_index=True)
    force = set(cells.loc[cells["hidden_input"] & cells["status"].eq("ok"), "grid_area"])
    force |= set(forced["area_id"]) if forced is not None else set()
    forced_frame = pd.DataFrame({"period": "p", "area_id": sorted(force)})
    hidden = disclosure.hidden_cells(rows, rule_list, forced_frame)
    reason = dict(zip(hidden["area_id"], hidden["reason"]))
    base_hidden = set(cells.loc[cells["hidden_input"], "grid_area"])
    for area in list(reason):
        if area in set(parents["area_id"]):  # a published area of the hierarchy: hide its grid cells instead
            del reason[area]
            for child in rows.loc[rows["parent_id"] == area, "area_id"]:
                reason.setdefault(child, "secondary")
    out = pd.DataFrame({"area_id": list(reason), "reason": list(reason.values())})
    out.loc[out["area_id"].isin(base_hidden), "reason"] = "contributor"
    published = set(cells.loc[cells["status"].eq("ok"), "grid_area"])
    return out[out["area_id"].isin(published)].sort_values("area_id", ignore_index=True)


@dataclass(frozen=True)
class GridTable:
    grid: Grid
    indicator: Indicator
    period: str
    estimated: bool  # False: the indicator has no counts, or the period lies on another boundary set
    note_de: str
    note_en: str
    rows: pd.DataFrame  # area_id, name, value, numerator, denominator, status, method, split_share[, confidential]


def _base_rows(atlas: Atlas, viewer: Principal, ind: Indicator, period: str) -> pd.DataFrame:
    """Base-level cells as the viewer reads them, with `hidden`: withheld from the viewer's public."""
    rows = queries.value_rows(atlas, viewer, ind.id, period, territory.base_level(atlas))
    hidden = rows["status"].eq("suppressed")
    if "confidential" in rows:
        hidden |= rows["confidential"].notna()
    return rows.assign(hidden=hidden.to_numpy())


def _parents(atlas: Atlas, grid: Grid) -> dict[str, str]:
    """Nesting parents of a grid's areas (per store state)."""
    def compute() -> dict[str, str]:
        weights = crosswalk(atlas, grid.id)
        ancestors_of = {b: {lv: key for lv, key in queries.ancestors(atlas, grid.set_id, b)}
                        for b in weights["base_area"].unique()}
        order = list(territory.level_ids(atlas)[1:-1])
        tops = queries.areas(atlas, territory.top_level(atlas), grid.set_id)["area_id"]
        return nesting_parents(weights, ancestors_of, order, tops.iloc[0] if len(tops) else "*")
    return atlas.cached(("grid_parents", grid.id), compute)


def _estimated(atlas: Atlas, viewer: Principal, grid: Grid, ind: Indicator, period: str) -> pd.DataFrame | None:
    base = _base_rows(atlas, viewer, ind, period)
    base = base[base["set_id"] == grid.set_id]
    if base.empty:
        return None
    return estimate(base, crosswalk(atlas, grid.id), ind)


def _pattern(atlas: Atlas, viewer: Principal, grid: Grid, ind: Indicator, period: str,
             cells: pd.DataFrame) -> pd.DataFrame:
    """The grid pattern, with linked indicators' grid patterns hidden together (until stable)."""
    parent = _parents(atlas, grid)
    pattern = grid_pattern(cells, parent, ind)
    linked = [atlas.indicator_by_id[i] for i in ind.same_count_as if i in atlas.indicator_by_id]
    others = {o.id: _estimated(atlas, viewer, grid, o, period) for o in linked
              if queries.get_indicator(atlas, viewer, o.id) is not None}
    others = {k: v for k, v in others.items() if v is not None}
    if not others:
        return pattern
    patterns = {ind.id: pattern, **{k: grid_pattern(v, parent, atlas.indicator_by_id[k]) for k, v in others.items()}}
    frames = {ind.id: cells, **others}
    for _ in range(4 * len(patterns)):
        union = pd.concat([p[["area_id"]] for p in patterns.values()], ignore_index=True).drop_duplicates()
        again = {k: grid_pattern(frames[k], parent, atlas.indicator_by_id[k], union) for k in patterns}
        if all(len(again[k]) == len(patterns[k]) for k in patterns):
            break
        patterns = again
    return patterns[ind.id]


def grid_values(atlas: Atlas, viewer: Principal, grid_id: str, indicator_id: str,
                period: str | None = None) -> GridTable | None:
    """Estimated values of one indicator on a grid at one period (default: its latest).

    None when the grid or the indicator does not exist or the viewer may not
    see it (or is a partner not granted the grid): answered alike. Raises
    ValueError for a malformed period.
    """
    grid = get_grid(atlas, grid_id) if isinstance(grid_id, str) else None
    ind = queries.get_indicator(atlas, viewer, indicator_id)
    if grid is None or ind is None or not may_read_grid(viewer, grid.id):
        return None
    if period is not None:
        period_end(period)  # a malformed key is the caller's error (ValueError), not an empty answer
    readable = queries.periods(atlas, viewer, ind.id)
    period = period or readable[-1]
    areas = grid_areas(atlas, grid.id)[["area_id", "name"]]
    note = METHODS.get(grid.method, METHODS["area"])
    cells = _estimated(atlas, viewer, grid, ind, period) if ind.aggregation in ("sum", "ratio") else None
    if cells is None:
        note = NOT_ESTIMATED if ind.aggregation not in ("sum", "ratio") else WRONG_SET
        rows = areas.assign(value=np.nan, numerator=np.nan, denominator=np.nan, status="missing", method=note[0],
                            split_share=np.nan)
        return GridTable(grid, ind, period, False, note[0], note[1], rows)
    pattern = _pattern(atlas, viewer, grid, ind, period, cells)
    rows = areas.merge(cells.rename(columns={"grid_area": "area_id"}), on="area_id", how="left")
    rows["status"] = rows["status"].fillna("missing")
    rows = rows.assign(period=period, method=note[0])
    shown = disclosure.apply(rows, pattern.assign(period=period), ind, viewer)
    shown["split_share"] = shown["split_share"].where(shown["status"] == "ok")  # a ratio of withheld counts
    cols = ["area_id", "name", "value", "numerator", "denominator", "status", "method", "split_share"]
    cols += ["confidential"] if "confidential" in shown else []
    return GridTable(grid, ind, period, True, note[0], note[1], shown[cols].reset_index(drop=True))
