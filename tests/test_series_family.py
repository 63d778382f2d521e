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
