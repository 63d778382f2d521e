"""Area profiles (Steckbriefe): how one area stands on every indicator the viewer may see.

Every number is read through `atlas.services.queries.values`, the very
service behind the map and the values API, so a profile can never show a
figure the map withholds, nor a different one. This module only selects
and compares what the services answer:

- each indicator at its latest readable period (or the latest on or before
  a chosen period), for the area, its parent and the whole territory;
- the difference to the territory and to the parent;
- a trend: the change against the same period `TREND_YEARS` years earlier,
  an arrow only when both values exist on the same ground;
- where the area stands among all areas of its level (quartiles and the
  values themselves) — never a rank: the position is a place on a strip,
  not "Platz 37 von 51";
- a short summary written from the numbers with the thresholds below.

Status of a row: `ok`, `missing` (no data), `suppressed` (withheld, small
numbers) or `boundary` (the area did not exist with this ground at that
period: a boundary change makes the value not comparable).

The per-level tables are kept per store state and viewer rights (`Atlas.remembered`),
so the second profile of a level costs a few dictionary look-ups.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from atlas.catalog import Indicator
from atlas.periods import period_end
from atlas.services import queries, territory
from atlas.services.context import Atlas
from atlas.store.store import UNASSIGNED_SUFFIX
from atlas.text_match import fold
from auth.permissions import Principal

# The trend compares a value with the same period this many years earlier …
TREND_YEARS = 3
# … and shows ↑ or ↓ when the relative change is at least this large, else →.
TREND_THRESHOLD = 0.05
# The summary names an indicator "deutlich über/unter" the territory's value from this relative deviation on …
SUMMARY_DEVIATION = 0.25
# … and "deutlich gestiegen/gesunken" from this relative change over the trend span on.
SUMMARY_CHANGE = 0.15
STATUSES = ("ok", "missing", "suppressed", "boundary")


@dataclass(frozen=True)
class Place:
    """An area as the profile names it."""

    area_id: str
    name: str
    level: str
    set_id: str


@dataclass(frozen=True)
class Distribution:
    """The usable values of all areas of the level at the row's period (sorted), and how many had none."""

    values: tuple[float, ...]
    missing: int
    suppressed: int

    @property
    def n(self) -> int:
        return len(self.values)

    def quantiles(self) -> dict[str, float] | None:
        return self._quantiles

    @functools.cached_property
    def _quantiles(self) -> dict[str, float] | None:  # asked for by every form of a row: computed once
        if not self.values:
            return None
        q = np.quantile(np.asarray(self.values), [0, 0.25, 0.5, 0.75, 1])
        return dict(zip(("min", "q1", "median", "q3", "max"), (float(x) for x in q)))

    @functools.cached_property
    def positions(self) -> np.ndarray:
        """Every value's place between the minimum (0) and the maximum (1); shared by all areas' strips."""
        values = np.asarray(self.values, dtype=float)
        if not len(values):
            return values
        low, span = values[0], values[-1] - values[0]
        return np.full(len(values), 0.5) if span == 0 else (values - low) / span

    @functools.cached_property
    def bins(self) -> np.ndarray:
        """How many values fall into each of 24 equal bins between minimum and maximum (large levels)."""
        return np.histogram(self.positions, bins=24, range=(0.0, 1.0))[0]


@dataclass(frozen=True)
class Trend:
    direction: str | None  # "up", "down", "flat"; None: no comparison possible
    from_period: str | None
    from_value: float | None
    change: float | None  # absolute change (value − earlier value), in the indicator's unit
    relative: float | None  # change / |earlier value|
    reason: str = ""  # why there is no arrow: "short", "self" (no value now), "missing", "suppressed", "boundary"


@dataclass(frozen=True)
class ProfileRow:
    indicator: Indicator
    period: str
    value: float | None
    status: str
    parent_value: float | None
    parent_status: str | None  # None: the area has no parent (it is the territory)
    territory_value: float | None
    territory_status: str
    trend: Trend
    distribution: Distribution

    @property
    def comparable(self) -> bool:
        """Rates, shares and indices compare across areas; counts (sums) depend on the area's size."""
        return self.indicator.aggregation != "sum"

    @property
    def difference(self) -> float | None:
        """Value minus the territory's value, in the indicator's unit (percentage points for %); None for counts."""
        if not self.comparable:
            return None
        return _diff(self.value, self.status, self.territory_value, self.territory_status)

    @property
    def difference_parent(self) -> float | None:
        if not self.comparable:
            return None
        return _diff(self.value, self.status, self.parent_value, self.parent_status)

    @property
    def share_of_territory(self) -> float | None:
        """For counts: the area's share of the territory's total, in % (None otherwise)."""
        if self.comparable or self.status != "ok" or self.territory_status != "ok" or not self.territory_value:
            return None
        return 100.0 * float(self.value) / float(self.territory_value)

    @property
    def deviation(self) -> float | None:
        """The difference relative to the territory's value (None where that is zero or missing)."""
        d = self.difference
        if d is None or not self.territory_value:
            return None
        return d / abs(self.territory_value)


@dataclass(frozen=True)
class Profile:
    area: Place
    parent: Place | None
    territory: Place
    chosen_period: str | None  # the period asked for (None: each indicator's latest)
    rows: tuple[ProfileRow, ...]
    summary: tuple[tuple[str, tuple[ProfileRow, ...]], ...] = field(default=())

    def domains(self) -> list[tuple[str, list[ProfileRow]]]:
        """Rows grouped by domain, in catalogue order (the rows are sorted so already)."""
        out: list[tuple[str, list[ProfileRow]]] = []
        for row in self.rows:
            if not out or out[-1][0] != row.indicator.domain:
                out.append((row.indicator.domain, []))
            out[-1][1].append(row)
        return out


def _diff(value, status, other, other_status) -> float | None:
    if status != "ok" or other_status != "ok" or value is None or other is None:
        return None
    return float(value) - float(other)


# ------------------------------------------------------------------ periods
def period_for(periods: list[str] | tuple[str, ...], chosen: str | None) -> str | None:
    """The indicator's latest period, or its latest ending on or before the chosen period's end."""
    if not periods:
        return None
    if chosen is None:
        return periods[-1]
    end = period_end(chosen)
    fitting = [p for p in periods if period_end(p) <= end]
    return fitting[-1] if fitting else None


def earlier_period(period: str, years: int = TREND_YEARS) -> str:
    """The same period `years` years earlier: 2025 → 2022, 2025-Q3 → 2022-Q3, 2025-06 → 2022-06."""
    return f"{int(period[:4]) - years:04d}{period[4:]}"


# ------------------------------------------------------------------ areas
def find_area(atlas: Atlas, area_id) -> Place | None:
    """The area under this key in its newest boundary set (None if no set has it)."""
    if not isinstance(area_id, str) or not area_id or len(area_id) > 64:
        return None
    index = atlas.cached(("profile_area_index",), lambda: {p.area_id: p for p in all_areas(atlas)})
    return index.get(area_id)


def parent_level(atlas: Atlas, level: str) -> str | None:
    ids = territory.level_ids(atlas)
    i = ids.index(level)
    return ids[i + 1] if i + 1 < len(ids) else None


def search(atlas: Atlas, text: str, limit: int = 30) -> list[Place]:
    """Areas of the current boundary set (and older ones) whose name holds `text` or whose key starts with it,
    tolerant of case, umlaut spelling and hyphens (`text_match.fold`).

    Areas carry no secrets (their boundaries are public), so everyone may search them.
    """
    needle, key = fold(text or ""), str(text or "").strip().casefold()
    if not needle:
        return []
    index = atlas.cached(("search_areas",), lambda: [(fold(p.name), p) for p in all_areas(atlas)])
    found = [(name == needle or p.area_id.casefold() == key, p) for name, p in index
             if needle in name or p.area_id.casefold().startswith(key)]
    found.sort(key=lambda hit: not hit[0])  # exact names and keys first, then level and key order
    return [p for _, p in found[:limit]]


def all_areas(atlas: Atlas) -> list[Place]:
    """Every area of every level, newest boundary set first, each key once (level order, then key)."""
    def load() -> list[Place]:
        sets = list(queries.boundary_sets(atlas)["set_id"])[::-1]
        seen, out = set(), []
        order = {lv: i for i, lv in enumerate(territory.level_ids(atlas))}
        for set_id in sets:
            for level in order:
                for r in queries.areas(atlas, level, set_id).itertuples():
                    if r.area_id not in seen:
                        seen.add(r.area_id)
                        out.append(Place(r.area_id, r.name, level, set_id))
        return sorted(out, key=lambda p: (order[p.level], p.area_id))
    return atlas.cached(("profile_all_areas",), load)


def areas_of_level(atlas: Atlas, level: str, set_id: str | None = None) -> list[Place]:
    """The areas of one level in one boundary set (default: the current one), by key."""
    set_id = set_id or queries.current_set(atlas)
    return [Place(r.area_id, r.name, level, set_id) for r in queries.areas(atlas, level, set_id).itertuples()]


# ------------------------------------------------------------------ the per-level tables
@dataclass(frozen=True)
class _Cells:
    """One indicator at one period and level, as the values service answers it, held as arrays.

    `index` (area → row) is shared by every indicator with the same areas, so
    a level of 1,000 areas × 300 indicators costs a few MB, not a dict per cell.
    """

    index: dict[str, int]
    values: np.ndarray  # float, NaN where there is no usable value
    status: np.ndarray  # object: ok / missing / suppressed
    parents: np.ndarray  # object: parent key or None
    set_id: str
    distribution: Distribution

    def get(self, area_id: str) -> tuple[float | None, str, str | None, str] | None:
        """(value, status, parent, boundary set) of one area; None if the level has no such area then."""
        i = self.index.get(area_id)
        if i is None:
            return None
        v, s = self.values[i], self.status[i]
        return (None if s != "ok" or v != v else float(v)), str(s), self.parents[i], self.set_id  # v != v: NaN

    def first(self) -> tuple[str | None, float | None, str]:
        """The only area of the top level: (key, value, status)."""
        for area_id in self.index:
            v, s, _, _ = self.get(area_id)
            return area_id, v, s
        return None, None, "missing"


def _index(atlas: Atlas, set_id: str, level: str, area_ids: np.ndarray) -> dict[str, int]:
    kept = atlas.cached(("profile_index", set_id, level), lambda: (area_ids, {a: i for i, a in enumerate(area_ids)}))
    if len(kept[0]) == len(area_ids) and np.array_equal(kept[0], area_ids):
        return kept[1]
    return {a: i for i, a in enumerate(area_ids)}


def _compute_cells(atlas: Atlas, viewer: Principal, ind_id: str, period: str, level: str) -> _Cells:
    """`queries.values` for one indicator, period and level, reduced to what a profile needs."""
    table = queries.values(atlas, viewer, ind_id, period, level)
    rows = table.rows if table is not None else pd.DataFrame(columns=["area_id", "value", "status", "parent_id"])
    return _cells_of(atlas, level, str(table.set_id) if table is not None else "", *_columns(rows))


def _columns(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(area keys, values, statuses, parent keys or None) of value rows as NumPy arrays."""
    parents = rows["parent_id"].astype(object).to_numpy()
    parents = np.where(pd.isna(parents), None, parents.astype(str)) if len(parents) else parents
    return (rows["area_id"].to_numpy(dtype=object).astype(str), rows["value"].to_numpy(dtype=float, na_value=np.nan),
            rows["status"].to_numpy(dtype=object), parents)


def _cells_of(atlas: Atlas, level: str, set_id: str, area_ids: np.ndarray, values: np.ndarray, status: np.ndarray,
              parents: np.ndarray) -> _Cells:
    """One indicator-period's rows reduced to what a profile needs (areas without a place of their own dropped)."""
    if len(area_ids):
        keep = ~np.char.endswith(area_ids, UNASSIGNED_SUFFIX)
        area_ids, values, status, parents = area_ids[keep], values[keep], status[keep], parents[keep]
    ok = (status == "ok") & ~np.isnan(values)
    dist = Distribution(tuple(np.sort(values[ok]).tolist()), int((status == "missing").sum()),
                        int((status == "suppressed").sum()))
    return _Cells(_index(atlas, set_id, level, area_ids), values, status, parents, set_id, dist)


def _level_cells(atlas: Atlas, viewer: Principal, wanted: list[tuple[str, str]],
                 levels: list[str]) -> dict[str, dict[tuple[str, str], _Cells]]:
    """`_compute_cells` for many indicator-periods at every level asked: one query (`queries.values_many`, the
    same rows as `queries.values` pair by pair), then NumPy slices of its columns. level → (id, period) → cells."""
    frame = queries.values_many(atlas, viewer, wanted, levels)
    visible = [(i, p) for i, p in dict.fromkeys(wanted) if queries.get_indicator(atlas, viewer, i) is not None]
    columns = _columns(frame)
    sets = frame["set_id"].to_numpy(dtype=object)
    groups = frame.groupby(["level", "indicator_id", "period"], sort=False).indices if len(frame) else {}
    none = np.zeros(0, dtype=int)
    out: dict[str, dict[tuple[str, str], _Cells]] = {}
    for level in levels:
        cells = out[level] = {}
        for ind_id, period in visible:
            at = groups.get((level, ind_id, period), none)
            set_id = str(sets[at[0]] if len(at) else queries.set_for_period(atlas, period))
            cells[(ind_id, period)] = _cells_of(atlas, level, set_id, *(c[at] for c in columns))
    return out


def _snapshot(atlas: Atlas, viewer: Principal, level: str, chosen: str | None) -> dict[tuple[str, str], _Cells]:
    """Every visible indicator at its profile period and TREND_YEARS earlier, for one level: (id, period) → cells.

    One kept object for all levels per rights and chosen period, read in one
    query: the first profile of a store state reads every indicator once
    (a profile needs the area's, its parent's and the territory's level),
    each further profile only looks up.
    """
    def compute() -> dict[str, dict[tuple[str, str], _Cells]]:
        wanted = []
        for r in queries.visible_indicators(atlas, viewer).itertuples(index=False):
            periods = list(r.periods)
            period = period_for(periods, chosen)
            if period is not None:
                wanted += [(r.id, p) for p in (period, earlier_period(period)) if p in periods]
        return _level_cells(atlas, viewer, wanted, territory.level_ids(atlas))
    key = ("profile_levels", viewer.rights, chosen)
    kept = atlas.cached(key, compute) if chosen is None else atlas.remembered(key, compute)
    return kept[level]


class _Reader:
    """The cells a profile reads, from the kept snapshots of its levels (computed when missing)."""

    def __init__(self, atlas: Atlas, viewer: Principal, chosen: str | None):
        self.atlas, self.viewer, self.chosen, self.snaps = atlas, viewer, chosen, {}

    def __call__(self, ind_id: str, period: str, level: str) -> _Cells:
        if level not in self.snaps:
            self.snaps[level] = _snapshot(self.atlas, self.viewer, level, self.chosen)
        found = self.snaps[level].get((ind_id, period))
        return found if found is not None else _compute_cells(self.atlas, self.viewer, ind_id, period, level)


# ------------------------------------------------------------------ the profile
def profile(atlas: Atlas, viewer: Principal, area_id, period: str | None = None) -> Profile | None:
    """The profile of one area at any level; None if no boundary set knows the key.

    `period` (optional) picks, per indicator, its latest period ending on or
    before that period's end; raises ValueError for a malformed period key.
    """
    if period is not None:
        period_end(period)
    area = find_area(atlas, area_id)
    if area is None:
        return None
    top = territory.top_level(atlas)
    up = parent_level(atlas, area.level)
    cells = _Reader(atlas, viewer, period)
    rows = []
    territory_place, parent_place = None, None
    by_id = atlas.indicator_by_id  # once: each look-up of the property checks the store's catalogue file
    for ind_id, ind_periods in _periods_of(atlas, viewer):
        ind = by_id.get(ind_id)
        chosen = period_for(ind_periods, period)
        if ind is None or chosen is None:
            continue
        row, parent_id, top_id = _row(atlas, cells, ind, ind_periods, chosen, area, up, top)
        rows.append(row)
        if parent_id and parent_place is None:
            parent_place = _place(atlas, parent_id, up)
        if top_id and territory_place is None:
            territory_place = _place(atlas, top_id, top)
    territory_place = territory_place or _territory(atlas, area)
    if area.level == top:
        territory_place = area
    if parent_place is None and up is not None:
        parent_place = _parent_of(atlas, area, up)
    result = Profile(area, parent_place, territory_place, period, tuple(rows))
    return Profile(area, parent_place, territory_place, period, tuple(rows), summarise(result))


def _periods_of(atlas: Atlas, viewer: Principal) -> list[tuple[str, list[str]]]:
    """(indicator id, readable periods) in catalogue order, kept per store state and rights: a profile
    walks them once per request, and iterating the catalogue frame's rows costs more than the profile's sums."""
    return atlas.cached(("profile_periods", viewer.rights), lambda: [
        (str(i), list(p)) for i, p in zip(queries.visible_indicators(atlas, viewer)["id"],
                                          queries.visible_indicators(atlas, viewer)["periods"])])


def _row(atlas: Atlas, cells: _Reader, ind: Indicator, periods: list[str], period: str, area: Place,
         up: str | None, top: str) -> tuple[ProfileRow, str | None, str | None]:
    here = cells(ind.id, period, area.level)
    cell = here.get(area.area_id)
    if cell is None:  # no such area in this period's boundary set: not comparable
        value, status, parent_id, set_id = None, "boundary", None, ""
    else:
        value, status, parent_id, set_id = cell
        if set_id and set_id != area.set_id and set_id in queries.changed_geometry_sets(
                atlas, area.level, area.area_id, area.set_id):
            value, status = None, "boundary"  # the same key on other ground
    parent_value, parent_status = None, None
    if up is not None:
        parent_status = "missing"
        if parent_id is not None:
            p = cells(ind.id, period, up).get(parent_id)
            if p is not None:
                parent_value, parent_status = p[0], p[1]
    top_id, territory_value, territory_status = cells(ind.id, period, top).first()
    trend = _trend(atlas, cells, ind, periods, period, area, value, status, set_id)
    return (ProfileRow(ind, period, value, status, parent_value, parent_status, territory_value, territory_status,
                       trend, here.distribution), parent_id, top_id)


def _trend(atlas: Atlas, cells: _Reader, ind: Indicator, periods: list[str], period: str, area: Place,
           value: float | None, status: str, set_id: str) -> Trend:
    """Change against the same period TREND_YEARS earlier, on the same ground only."""
    before = earlier_period(period)
    if before not in periods:
        return Trend(None, None, None, None, None, "short")
    if status != "ok":
        return Trend(None, before, None, None, None, "self")  # no value of its own to compare
    cell = cells(ind.id, before, area.level).get(area.area_id)
    if cell is None:
        return Trend(None, before, None, None, None, "boundary")
    then, then_status, _, then_set = cell
    if then_set and then_set != set_id and then_set in queries.changed_geometry_sets(
            atlas, area.level, area.area_id, set_id or area.set_id):
        return Trend(None, before, None, None, None, "boundary")
    if then_status != "ok" or then is None:
        return Trend(None, before, None, None, None, then_status)
    change = float(value) - then
    relative = change / abs(then) if then else None
    if relative is None:
        direction = "flat" if change == 0 else ("up" if change > 0 else "down")
    else:
        direction = "up" if relative >= TREND_THRESHOLD else "down" if relative <= -TREND_THRESHOLD else "flat"
    return Trend(direction, before, then, change, relative)


def _place(atlas: Atlas, area_id: str, level: str) -> Place:
    found = find_area(atlas, area_id)
    return found if found is not None else Place(area_id, area_id, level, "")


def _parent_of(atlas: Atlas, area: Place, up: str) -> Place | None:
    links = queries.ancestors(atlas, area.set_id, area.area_id)
    return next((_place(atlas, key, level) for level, key in links if level == up), None)


def _territory(atlas: Atlas, area: Place) -> Place:
    top = territory.top_level(atlas)
    if area.level == top:
        return area
    links = queries.ancestors(atlas, area.set_id, area.area_id)
    key = next((k for level, k in links if level == top), None)
    return _place(atlas, key, top) if key else area


# ------------------------------------------------------------------ the summary
def summarise(p: Profile) -> tuple[tuple[str, tuple[ProfileRow, ...]], ...]:
    """What stands out, by rule: (kind, rows) for each kind that has rows.

    Kinds: "above" / "below" (deviation from the territory's value of at
    least SUMMARY_DEVIATION), "rising" / "falling" (change over the trend
    span of at least SUMMARY_CHANGE), "withheld" (suppressed values). The
    area that is the territory itself gets no comparison with itself.
    """
    rows = [r for r in p.rows if r.status == "ok"]
    out = []
    if p.area.level != p.territory.level:
        above = [r for r in rows if r.deviation is not None and r.deviation >= SUMMARY_DEVIATION]
        below = [r for r in rows if r.deviation is not None and r.deviation <= -SUMMARY_DEVIATION]
        out += [("above", tuple(sorted(above, key=lambda r: -r.deviation))),
                ("below", tuple(sorted(below, key=lambda r: r.deviation)))]
    rising = [r for r in rows if r.trend.relative is not None and r.trend.relative >= SUMMARY_CHANGE]
    falling = [r for r in rows if r.trend.relative is not None and r.trend.relative <= -SUMMARY_CHANGE]
    out += [("rising", tuple(sorted(rising, key=lambda r: -r.trend.relative))),
            ("falling", tuple(sorted(falling, key=lambda r: r.trend.relative))),
            ("withheld", tuple(r for r in p.rows if r.status == "suppressed"))]
    return tuple((kind, found) for kind, found in out if found)


def data_as_of(atlas: Atlas, viewer: Principal):
    """The newest version the viewer reads (its creation time): the data a profile or report shows.

    None when the viewer reads no data at all.
    """
    visible = queries.visible_indicators(atlas, viewer)
    if visible.empty or visible["last_update"].isna().all():
        return None
    return pd.Timestamp(visible["last_update"].max()).to_pydatetime()
