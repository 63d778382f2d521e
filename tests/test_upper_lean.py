"""The rows above the base over all periods from the lean read equal the grid query's (issues 14 and 19).

`_upper_columns` answers what `_level_rows(..., None, _UPPER_LEVELS)` answers: DuckDB reads the cells alone, and
each period's boundary sets, the grid of base areas and every ancestor's group are put together in NumPy. The
reference is the grid query itself: every indicator of the demo city (a boundary change, gaps, "not
assignable" cells, drafts only a department and admins read, rates and counts) and of a five-level territory
with small numbers, for each kind of viewer. Time series and the compare page's chart draw their ancestors'
lines from these rows.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atlas.services import queries, territory
from auth import ANONYMOUS, Principal

ADMIN = Principal("admin", "admin")
STEWARD = Principal("sozialamt", "steward", frozenset({"soziales"}))
COLS = [*queries._ROW_COLS, "level", "has_cell"]
KEY = ["level", "area_id", "period", "set_id"]


def plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in one order, NULLs as None, numbers as floats: the two paths order their rows differently."""
    frame = frame[COLS].sort_values(KEY, kind="stable", ignore_index=True)
    out = frame.astype(object).where(frame.notna(), None)
    for c in queries._NUMBER_COLS:
        out[c] = frame[c].astype(float)
    out["has_cell"] = frame["has_cell"].astype(bool)
    return out


def assert_same(atlas, viewer, ind) -> int:
    got = plain(pd.DataFrame(queries._upper_columns(atlas, viewer, ind)))
    want = plain(queries._level_rows(atlas, viewer, ind, None, queries._UPPER_LEVELS))
    pd.testing.assert_frame_equal(got.drop(columns=list(queries._NUMBER_COLS)),
                                  want.drop(columns=list(queries._NUMBER_COLS)))
    for c in queries._NUMBER_COLS:  # sums in another order: equal up to the last bits
        np.testing.assert_allclose(got[c].to_numpy(), want[c].to_numpy(), rtol=1e-12, equal_nan=True)
    return len(want)


def compare_all(atlas, viewer) -> tuple[int, int]:
    indicators = rows = 0
    for ind in atlas.indicators:
        if queries.get_indicator(atlas, viewer, ind.id) is not None:
            rows += assert_same(atlas, viewer, ind)
            indicators += 1
    return indicators, rows


@pytest.mark.parametrize("viewer", [ANONYMOUS, STEWARD, ADMIN], ids=lambda v: v.role)
def test_demo_rows_above_the_base_equal_the_grid_query(atlas, viewer):
    indicators, rows = compare_all(atlas, viewer)
    assert indicators >= 15 and rows > 1000


def test_the_demo_meets_what_the_rule_must_handle(atlas):
    """The comparison above is only worth something if the demo has gaps, both sets and both kinds."""
    frames = [pd.DataFrame(queries._upper_columns(atlas, ADMIN, ind)) for ind in atlas.indicators
              if queries.get_indicator(atlas, ADMIN, ind.id) is not None]
    every = pd.concat(frames, ignore_index=True)
    assert every["set_id"].nunique() == 2
    assert (every["status"] == "missing").any() and (every["status"] == "ok").any()
    assert {ind.aggregation for ind in atlas.indicators} >= {"ratio", "sum"}


def test_a_draft_counts_only_for_whom_may_read_it(scratch_atlas):
    """A newer draft of a base cell moves its ancestors' figures for the department, not for the public."""
    atlas = scratch_atlas
    ind = queries.get_indicator(atlas, ADMIN, "sgb2_quote")
    period = queries.periods(atlas, ANONYMOUS, ind.id)[-1]
    base = queries._level_rows(atlas, ANONYMOUS, ind, period, territory.base_level(atlas))
    area = base.loc[base["status"] == "ok", "area_id"].iloc[0]
    before = pd.DataFrame(queries._upper_columns(atlas, ANONYMOUS, ind))
    with atlas.store.writing() as tx:
        vid = tx.next_version_id()
        tx.add_values(vid, pd.DataFrame({
            "indicator_id": [ind.id], "area_id": [area], "period": [period],
            "period_end": [queries.period_end(period)], "value": [99.5], "numerator": [19900.0],
            "denominator": [20000.0], "status": ["ok"], "version_id": [vid]}))
        versions = tx.read("versions")
        row = versions.iloc[[0]].copy()
        row["version_id"], row["indicator_id"], row["state"] = vid, ind.id, "draft"
        tx.replace_table("versions", pd.concat([versions, row], ignore_index=True))
    for viewer in (ANONYMOUS, STEWARD, ADMIN):
        assert_same(atlas, viewer, ind)
    public, steward = (pd.DataFrame(queries._upper_columns(atlas, v, ind)) for v in (ANONYMOUS, STEWARD))
    pd.testing.assert_frame_equal(plain(public), plain(before))
    both = plain(steward).merge(plain(public), on=KEY, suffixes=("_steward", "_public"))
    moved = both[(both["period"] == period) & both["numerator_public"].notna()
                 & (both["numerator_steward"] != both["numerator_public"])]
    assert len(moved) >= 1 and (moved["numerator_steward"] > moved["numerator_public"]).all()


def test_five_level_rows_above_the_base_equal_the_grid_query(tmp_path, monkeypatch):
    from bench import workloads
    monkeypatch.setattr(workloads, "WORK", tmp_path)
    five = workloads.build_territory(workloads.TERRITORY_SMOKE)
    for viewer in (ANONYMOUS, ADMIN):
        indicators, rows = compare_all(five, viewer)
        assert indicators >= 10 and rows > 100


@pytest.mark.parametrize("viewer", [ANONYMOUS, ADMIN], ids=lambda v: v.role)
def test_each_ancestors_kept_series_is_its_own_query(atlas, viewer):
    """What a time series picks from the kept rows is what the grid query answers for that area alone."""
    checked = 0
    for ind in atlas.indicators[::4]:
        if queries.get_indicator(atlas, viewer, ind.id) is None:
            continue
        upper = queries._read_upper(atlas, viewer, ind)
        for level in [lv for lv in territory.level_ids(atlas) if lv != territory.base_level(atlas)]:
            everyone = queries._level_rows(atlas, viewer, ind, None, level)
            pd.testing.assert_frame_equal(plain_rows(upper.level_rows(level)), plain_rows(everyone))
            for key in sorted(set(everyone["area_id"]))[:3]:
                alone = queries._level_rows(atlas, viewer, ind, None, level, key)
                got = pd.DataFrame(upper.columns(upper.at[(level, key)]))
                pd.testing.assert_frame_equal(plain_rows(got), plain_rows(alone))
                checked += 1
    assert checked >= 10


def plain_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[queries._ROW_COLS].sort_values(["period", "area_id", "set_id"], kind="stable", ignore_index=True)
    out = frame.astype(object).where(frame.notna(), None)
    for c in queries._NUMBER_COLS:
        out[c] = frame[c].astype(float).round(9)
    return out


def assert_same_many(atlas, viewer, pairs, levels, keys) -> int:
    """The keys' lean rows against the one query cut to the keys (`_many_level_rows(..., keys)`)."""
    inds = {i: atlas.indicator_by_id[i] for i, _ in pairs}
    got = queries._keys_level_rows(atlas, viewer, inds, pairs, levels, keys)
    want = queries._many_level_rows(atlas, viewer, inds, pairs, levels, keys)
    order = ["level", "indicator_id", "period", "area_id", "set_id"]

    def same(frame: pd.DataFrame) -> pd.DataFrame:
        frame = frame[queries._MANY_COLS].sort_values(order, kind="stable", ignore_index=True)
        out = frame.astype(object).where(frame.notna(), None)
        for c in queries._NUMBER_COLS:
            out[c] = frame[c].astype(float).round(9)
        return out
    pd.testing.assert_frame_equal(same(got), same(want))
    # and in the query's order: level as asked, indicator, period, key
    assert list(zip(got["level"], got["indicator_id"], got["period"], got["area_id"])) == \
        list(zip(want["level"], want["indicator_id"], want["period"], want["area_id"]))
    return len(want)


@pytest.mark.parametrize("viewer", [ANONYMOUS, STEWARD, ADMIN], ids=lambda v: v.role)
def test_compared_areas_rows_equal_the_one_query(atlas, viewer):
    """Six areas of any level, their parents and the territory, for four indicators at a period each: every
    period of the demo (both boundary sets, gaps), as the compare page's table asks."""
    import random
    rng = random.Random(14)
    visible = [i.id for i in atlas.indicators if queries.get_indicator(atlas, viewer, i.id) is not None]
    levels = territory.level_ids(atlas)
    every_key = sorted({k for lv in levels for s in queries.boundary_sets(atlas)["set_id"]
                        for k in queries.areas(atlas, lv, s)["area_id"]})
    rows = met_gap = 0
    for _ in range(25):
        chosen = rng.sample(visible, 4)
        pairs = [(i, rng.choice(queries.periods(atlas, viewer, i))) for i in chosen]
        base = queries._level_rows(atlas, viewer, atlas.indicator_by_id[pairs[0][0]], pairs[0][1],
                                   territory.base_level(atlas))
        gaps = sorted(base.loc[base["status"] != "ok", "area_id"])  # gaps and withheld cells, where there are
        keys = rng.sample(every_key, 6) + rng.sample(gaps, min(2, len(gaps)))
        rows += assert_same_many(atlas, viewer, pairs, rng.sample(levels, rng.randint(1, len(levels))), keys)
        met_gap += bool(gaps)
    assert rows > 100 and met_gap >= 3


def test_five_level_compared_rows_equal_the_one_query(tmp_path, monkeypatch):
    import random
    from bench import workloads
    monkeypatch.setattr(workloads, "WORK", tmp_path)
    five = workloads.build_territory(workloads.TERRITORY_SMOKE)
    rng = random.Random(5)
    levels = territory.level_ids(five)
    set_id = queries.current_set(five)
    rows = 0
    for viewer in (ANONYMOUS, ADMIN):
        for _ in range(10):
            chosen = rng.sample([i.id for i in five.indicators], 3)
            pairs = [(i, rng.choice(queries.periods(five, viewer, i))) for i in chosen]
            keys = [rng.choice(list(queries.areas(five, lv, set_id)["area_id"])) for lv in levels]
            rows += assert_same_many(five, viewer, pairs, levels, keys)
    assert rows > 50
