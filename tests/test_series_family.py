"""Time series from one query over an area's subtree equal the series read one level at a time.

`queries.timeseries` reads a base area's series and its ancestors' below the
top in one query (`_level_rows` with `within`) and keeps each ancestor's
series; the next area below a kept ancestor reads only its own cells. Both
paths must give exactly what reading each series on its own gives (the way
the atlas did it before), suppression included, for every kind of viewer:
on the demo city (three levels, predecessors, a boundary change, gaps) and on
a five-level territory with small-number rules and linked indicators.
"""
from __future__ import annotations

import dataclasses
import random

import pandas as pd
import pytest

from atlas.services import queries, territory
from auth import ANONYMOUS, Principal

ADMIN = Principal("admin", "admin")
STEWARD = Principal("jugend1", "steward", frozenset({"jugend"}))


def series_one_by_one(atlas, viewer, indicator_id: str, area_id: str) -> pd.DataFrame:
    """The reference: every series (area, predecessors, each ancestor, the top) read by its own query."""
    ind = queries.get_indicator(atlas, viewer, indicator_id)
    info = queries.area_info(atlas, area_id)
    newest = info.iloc[0]
    level, top = newest["level"], territory.top_level(atlas)
    predecessors = [p for p in str(newest["predecessors"] or "").split(",") if p]
    series = [("area", level, area_id)] + [("predecessor", level, p) for p in predecessors] + \
        [(up, up, key) for up, key in queries.ancestors(atlas, newest["set_id"], area_id)]
    if level == top:
        series = [("area", level, area_id)]
    parts = []
    for role, lvl, key in series:
        rows = queries._level_rows(atlas, viewer, ind, None, lvl, None if lvl == top else key)
        part = queries.suppress(atlas, viewer, ind, rows, None).assign(role=role)
        changed = queries.changed_geometry_sets(atlas, lvl, key, newest["set_id"]) if role == "area" else set()
        if changed:
            part.loc[part["set_id"].isin(changed), "role"] = "predecessor"
        parts.append(part)
    out = pd.concat(parts, ignore_index=True)
    return out[queries._SERIES_COLS].sort_values(["role", "period"])


def assert_same(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """Equal row for row; a gap may be None or NaN (a NULL column of an index aggregate is None on its own,
    NaN next to numbers in one query), as every reader treats both (`charts._line`)."""
    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reset_index(drop=True).astype(object)
        return frame.where(frame.notna(), None)
    pd.testing.assert_frame_equal(plain(got), plain(expected))


def compare(atlas, viewer, picks: list[tuple[str, str]]) -> int:
    compared = 0
    for indicator_id, area_id in picks:
        if queries.get_indicator(atlas, viewer, indicator_id) is None:
            continue
        assert_same(queries.timeseries(atlas, viewer, indicator_id, area_id),
                    series_one_by_one(atlas, viewer, indicator_id, area_id))
        compared += 1
    return compared


def _picks(atlas, seed: int, n: int) -> list[tuple[str, str]]:
    """Random indicators with areas of every level, and pairs of areas below one parent (the kept-ancestor path)."""
    rng = random.Random(seed)
    set_id = queries.current_set(atlas)
    indicators = [i.id for i in atlas.indicators]
    base = queries.areas(atlas, territory.base_level(atlas), set_id)
    picks = []
    for _ in range(n):
        ind = rng.choice(indicators)
        sibling = base[base["parent_id"] == rng.choice(base["parent_id"].tolist())]["area_id"].tolist()
        picks += [(ind, a) for a in rng.sample(sibling, min(2, len(sibling)))]
    for level in territory.level_ids(atlas)[1:]:
        picks.append((rng.choice(indicators), rng.choice(queries.areas(atlas, level, set_id)["area_id"].tolist())))
    return picks


@pytest.mark.parametrize("viewer", [ANONYMOUS, STEWARD, ADMIN], ids=lambda v: v.role)
def test_demo_series_equal_reading_each_series_alone(atlas, viewer):
    picks = _picks(atlas, 1, 8)
    # Areas with a predecessor and on changed ground (the demo's split Ortsteil), every third indicator.
    split = [a for a in queries.areas(atlas, territory.base_level(atlas), queries.current_set(atlas)).itertuples()
             if a.predecessors]
    assert split
    picks += [(i.id, split[0].area_id) for i in atlas.indicators[::3]]
    assert compare(atlas, viewer, picks) >= 14


def test_demo_series_first_views_equal_too(atlas):
    """With nothing remembered every series comes from the subtree's query (the bench's first view)."""
    forgetful = dataclasses.replace(atlas.settings, answer_cache_size=0)
    kept, atlas.settings = atlas.settings, forgetful
    try:
        assert compare(atlas, ADMIN, _picks(atlas, 2, 8)) >= 8
    finally:
        atlas.settings = kept


def test_five_level_series_equal_reading_each_series_alone(tmp_path, monkeypatch):
    from bench import workloads
    monkeypatch.setattr(workloads, "WORK", tmp_path)
    five = workloads.build_territory(workloads.TERRITORY_SMOKE)
    assert len(territory.level_ids(five)) == 5
    assert any(i.same_count_as for i in five.indicators)  # linked indicators: patterns of two
    for viewer in (ANONYMOUS, ADMIN):
        assert compare(five, viewer, _picks(five, 3, 6)) >= 12


# ---------------------------------------------------------------- issue 19: kept rows above the base, lean reads
def test_demo_series_equal_with_nothing_kept_and_when_kept(atlas):
    """The same series with the rows above the base aggregated per request (`series_cache_mb=0`), on their first
    use and picked out of the kept rows afterwards."""
    picks = _picks(atlas, 4, 3)
    kept = atlas.settings
    try:
        for viewer in (ANONYMOUS, ADMIN):
            seen = [p for p in picks if queries.get_indicator(atlas, viewer, p[0]) is not None]
            assert len(seen) >= 5
            alone = {p: series_one_by_one(atlas, viewer, *p) for p in seen}
            atlas.settings = dataclasses.replace(kept, answer_cache_size=0, series_cache_mb=0)
            for p in seen:
                assert_same(queries.timeseries(atlas, viewer, *p), alone[p])
            atlas.settings = dataclasses.replace(kept, answer_cache_size=0)
            for p in seen + seen:  # first use (unless an earlier test kept them), then kept
                assert_same(queries.timeseries(atlas, viewer, *p), alone[p])
            assert ("upper_series", viewer.rights, seen[0][0]) in atlas._sized
    finally:
        atlas.settings = kept


def _store_version(atlas, ind_id: str, cells: pd.DataFrame, state: str) -> None:
    """One version of `cells` (indicator_id, area_id, period, period_end, value, numerator, denominator, status)."""
    with atlas.store.writing() as tx:
        vid = tx.next_version_id()
        tx.add_values(vid, cells.assign(version_id=vid))
        versions = tx.read("versions")
        row = {"version_id": vid, "indicator_id": ind_id, "state": state, "created_by": "test",
               "created_at": pd.Timestamp("2026-12-01"), "file_name": "t.csv", "checksum": "", "row_count": len(cells),
               "note": ""}
        tx.replace_table("versions", pd.concat([versions, pd.DataFrame([row])], ignore_index=True)
                         .astype({"created_at": "datetime64[s]"}))


def test_a_new_version_is_drawn_at_once_and_a_draft_only_for_whom_may_read_it(scratch_atlas):
    """The kept rows belong to one store state and one kind of viewer: after a commit nobody is served the
    rows before it, and a draft reaches the district's and the city's line of whoever may read drafts only."""
    from atlas.periods import period_end
    atlas, ind_id = scratch_atlas, "bev_u6"
    base = queries.areas(atlas, territory.base_level(atlas), queries.current_set(atlas))
    area = base["area_id"].iloc[0]
    sibling = base[(base["parent_id"] == base["parent_id"].iloc[0]) & (base["area_id"] != area)]["area_id"].iloc[0]
    last = queries.periods(atlas, ANONYMOUS, ind_id)[-1]
    before = {v.role: queries.timeseries(atlas, v, ind_id, sibling) for v in (ANONYMOUS, ADMIN)}
    assert {("upper_series", v.rights, ind_id) for v in (ANONYMOUS, ADMIN)} <= set(atlas._sized)

    cell = queries.cells(atlas, ADMIN, [(ind_id, last)]).set_index("area_id").loc[area]
    rows = queries.value_rows(atlas, ADMIN, ind_id, last)
    mine = rows[rows["area_id"] == area].iloc[0]
    assert cell["status"] == "ok"
    changed = pd.DataFrame([{"indicator_id": ind_id, "area_id": area, "period": last, "period_end": period_end(last),
                             "value": mine["value"] * 2, "numerator": mine["numerator"] * 2,
                             "denominator": mine["denominator"], "status": "ok"}])

    def district_value(frame: pd.DataFrame) -> float:
        return frame[(frame["role"] == "stadtbezirk") & (frame["period"] == last)]["value"].iloc[0]

    _store_version(atlas, ind_id, changed, "draft")
    drafted = {v.role: queries.timeseries(atlas, v, ind_id, sibling) for v in (ANONYMOUS, ADMIN)}
    assert district_value(drafted["admin"]) > district_value(before["admin"])  # the admin reads the draft
    assert_same(drafted["public"], before["public"])  # the public does not
    for viewer in (ANONYMOUS, ADMIN):
        assert_same(drafted[viewer.role], series_one_by_one(atlas, viewer, ind_id, sibling))

    _store_version(atlas, ind_id, changed, "public")
    released = queries.timeseries(atlas, ANONYMOUS, ind_id, sibling)
    assert district_value(released) > district_value(before["public"])  # not the rows kept before the commit
    assert_same(released, series_one_by_one(atlas, ANONYMOUS, ind_id, sibling))
    own = queries.timeseries(atlas, ANONYMOUS, ind_id, area)
    assert own[(own["role"] == "area") & (own["period"] == last)]["value"].iloc[0] == mine["value"] * 2
    assert_same(own, series_one_by_one(atlas, ANONYMOUS, ind_id, area))


def test_kept_rows_stay_within_their_bound(atlas):
    """`Atlas.remembered_by_size`: least recently used dropped past `series_cache_mb`; a larger answer not kept."""
    from atlas.services.context import Atlas
    small = Atlas(dataclasses.replace(atlas.settings, series_cache_mb=1))
    mb = 1024 * 1024
    calls: list[str] = []

    def ask(key: str, size: int) -> str:
        return small.remembered_by_size((key,), lambda: calls.append(key) or key, lambda _: size)
    ask("a", mb // 2), ask("b", mb // 3), ask("a", mb // 2)  # a kept, then used again: b is the oldest
    assert calls == ["a", "b"]
    ask("c", mb // 3)  # 1/2 + 1/3 + 1/3 > 1 MB: b goes
    assert set(small._sized) == {("a",), ("c",)} and small._sized_bytes <= mb
    ask("huge", 2 * mb), ask("huge", 2 * mb)
    assert calls.count("huge") == 2 and ("huge",) not in small._sized
    off = Atlas(dataclasses.replace(atlas.settings, series_cache_mb=0))
    off.remembered_by_size(("x",), lambda: calls.append("x"), lambda _: 1)
    assert not off._sized


def test_a_big_territorys_ancestors_are_read_alone_unless_their_rows_are_kept(atlas, monkeypatch):
    """Above `UPPER_ON_MISS_UP_TO_AREAS` base areas a miss does not aggregate the indicator's whole territory
    (at 11,000 areas ~0.3–0.8 s, and 300 indicators' rows do not fit the bound): each ancestor's series is
    read alone. The series are the same either way, and kept rows are still used where they exist."""
    monkeypatch.setattr(queries, "UPPER_ON_MISS_UP_TO_AREAS", 0)  # the demo city as if it were a county
    calls = {"upper": 0, "alone": 0}
    read_upper, level_rows = queries._read_upper, queries._level_rows

    def counting_upper(*args):
        calls["upper"] += 1
        return read_upper(*args)

    def counting_rows(a, v, ind, period, level, area_filter=None):
        if area_filter is not None and level != territory.base_level(a):
            calls["alone"] += 1
        return level_rows(a, v, ind, period, level, area_filter)
    monkeypatch.setattr(queries, "_read_upper", counting_upper)
    monkeypatch.setattr(queries, "_level_rows", counting_rows)
    kept = atlas.settings
    atlas.settings = dataclasses.replace(kept, answer_cache_size=0)
    try:
        atlas._sized.clear()
        atlas._sized_bytes = 0
        picks = [p for p in _picks(atlas, 5, 3) if queries.get_indicator(atlas, ANONYMOUS, p[0]) is not None]
        base = [p for p in picks if queries.newest_area_info(atlas, p[1])["level"] == territory.base_level(atlas)]
        alone = {p: series_one_by_one(atlas, ANONYMOUS, *p) for p in picks}
        calls.update(upper=0, alone=0)
        for p in base:
            assert_same(queries.timeseries(atlas, ANONYMOUS, *p), alone[p])
        assert calls["alone"] >= len(base) and calls["upper"] == 0  # read alone: nothing aggregated on a miss
        queries._upper_series(atlas, ANONYMOUS, queries.get_indicator(atlas, ANONYMOUS, base[0][0]))  # kept now
        calls.update(upper=0, alone=0)
        assert_same(queries.timeseries(atlas, ANONYMOUS, *base[0]), alone[base[0]])
        assert calls == {"upper": 0, "alone": 0}  # picked out of the kept rows
    finally:
        atlas.settings = kept
