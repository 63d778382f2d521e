"""A map's values (the base level at one period) from the lean read equal the grid query's rows (issue 19).

`_level_rows(..., period, base)` answers from `_base_period_rows`: DuckDB reads only the cells of the versions
the viewer may read; the newest per area, each cell's boundary set and the grid of base areas are put together
in NumPy. The reference is the grid query itself, over all periods (the same SQL as before), cut to the period:
for every indicator and period of the demo city (a boundary change, gaps, "not assignable" cells, drafts only
a department and admins read) and of a five-level territory, for each kind of viewer.
"""
from __future__ import annotations

import pandas as pd
import pytest

from atlas.services import queries, territory
from auth import ANONYMOUS, Principal

ADMIN = Principal("admin", "admin")
STEWARD = Principal("sozialamt", "steward", frozenset({"soziales"}))


def reference(atlas, viewer, ind, period: str) -> pd.DataFrame:
    """The grid query's rows of every period (its SQL path), those of `period`."""
    every = queries._level_rows(atlas, viewer, ind, None, territory.base_level(atlas))
    return every[every["period"] == period].reset_index(drop=True)


def assert_same(got: pd.DataFrame, want: pd.DataFrame) -> None:
    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame.reset_index(drop=True)[queries._ROW_COLS].astype(object)
        return frame.where(frame.notna(), None)
    pd.testing.assert_frame_equal(plain(got), plain(want))


def compare_all(atlas, viewer, every_nth: int = 1) -> int:
    compared, base = 0, territory.base_level(atlas)
    for ind in atlas.indicators[::every_nth]:
        if queries.get_indicator(atlas, viewer, ind.id) is None:
            continue
        every = queries._level_rows(atlas, viewer, ind, None, base)  # the grid query, every period at once
        for period in queries.periods(atlas, viewer, ind.id):
            got = queries._level_rows(atlas, viewer, ind, period, base)
            assert_same(got, every[every["period"] == period])
            compared += 1
    return compared


@pytest.mark.parametrize("viewer", [ANONYMOUS, STEWARD, ADMIN], ids=lambda v: v.role)
def test_demo_map_values_equal_the_grid_query(atlas, viewer):
    assert compare_all(atlas, viewer, every_nth=3) >= 50


def test_the_split_periods_and_gaps_are_kept(atlas):
    """Around the boundary change the rows follow each period's set; missing areas are rows, not dropped."""
    ind = queries.get_indicator(atlas, ADMIN, "sgb2_quote")
    periods = queries.periods(atlas, ADMIN, ind.id)
    sets = {queries._level_rows(atlas, ADMIN, ind, p, territory.base_level(atlas))["set_id"].iloc[0]
            for p in periods}
    assert len(sets) == 2  # both boundary sets are met
    missing = sum((queries._level_rows(atlas, ANONYMOUS, ind, p, territory.base_level(atlas))["status"]
                   == "missing").sum() for p in periods)
    assert missing == sum((reference(atlas, ANONYMOUS, ind, p)["status"] == "missing").sum() for p in periods)


def test_a_draft_only_for_whom_may_read_it(scratch_atlas):
    """A newer draft of a cell is the department's and an admin's value; the public keeps the released one."""
    atlas = scratch_atlas
    ind = queries.get_indicator(atlas, ADMIN, "sgb2_quote")
    period = queries.periods(atlas, ANONYMOUS, ind.id)[-1]
    base = territory.base_level(atlas)
    before = queries._level_rows(atlas, ANONYMOUS, ind, period, base)
    area = before["area_id"].iloc[0]
    with atlas.store.writing() as tx:
        vid = tx.next_version_id()
        tx.add_values(vid, pd.DataFrame({
            "indicator_id": [ind.id], "area_id": [area], "period": [period],
            "period_end": [queries.period_end(period)], "value": [99.5], "numerator": [199.0],
            "denominator": [200.0], "status": ["ok"], "version_id": [vid]}))
        versions = tx.read("versions")
        row = versions.iloc[[0]].copy()
        row["version_id"], row["indicator_id"], row["state"] = vid, ind.id, "draft"
        tx.replace_table("versions", pd.concat([versions, row], ignore_index=True))
    for viewer, drafted in ((ANONYMOUS, False), (STEWARD, True), (ADMIN, True)):
        got = queries._level_rows(atlas, viewer, ind, period, base)
        assert_same(got, reference(atlas, viewer, ind, period))
        assert (got.loc[got["area_id"] == area, "value"].iloc[0] == 99.5) == drafted


def test_five_level_map_values_equal_the_grid_query(tmp_path, monkeypatch):
    from bench import workloads
    monkeypatch.setattr(workloads, "WORK", tmp_path)
    five = workloads.build_territory(workloads.TERRITORY_SMOKE)
    for viewer in (ANONYMOUS, ADMIN):
        assert compare_all(five, viewer, every_nth=2) >= 10
