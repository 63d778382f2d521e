"""Composite indices over every period at once, and the recompute that reuses the inputs' reads.

The build standardises every period in one pass and keeps each input's read
across store states while nothing it depends on moved (`indices._input_keys`);
these tests pin both against an independent computation and a fresh context.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from atlas.services import indices, queries, territory, versions
from atlas.services.context import Atlas
from tests.test_indices import ADMIN, INPUTS, STEWARD, _new_input_version, reference


def _reads(monkeypatch) -> list[list[str]]:
    """Record which inputs each batched read asks for (the build reads through `value_rows_many` only)."""
    asked: list[list[str]] = []
    real = queries.value_rows_many

    def spy(atlas, viewer, ids, period, level=None):
        asked.append(list(ids))
        return real(atlas, viewer, ids, period, level)
    monkeypatch.setattr(queries, "value_rows_many", spy)
    return asked


@pytest.mark.parametrize("method,reference_period", [("zscore", None), ("minmax", None), ("rank", None),
                                                     ("zscore", "2016"), ("minmax", "2020")])
def test_every_period_at_once_matches_the_reference_period_by_period(atlas, method, reference_period):
    raw = {"inputs": INPUTS, "method": method, **({"reference": reference_period} if reference_period else {})}
    result = indices.compute(Atlas(atlas.settings), STEWARD, indices.parse_recipe(raw))
    assert len(result.periods) >= 10
    for period in result.periods:
        got = result.rows[result.rows["period"] == period].set_index("area_id")["value"]
        want = reference(atlas, STEWARD, INPUTS, method, period, reference_period=reference_period)
        assert got.notna().sum() > 40
        pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False, rtol=1e-12,
                                       atol=1e-12)


def test_group_std_is_pandas_population_std_per_group_to_the_bit():
    rng = np.random.default_rng(15)
    for trial in range(60):
        n, k = int(rng.integers(1, 2_000)), int(rng.integers(1, 25))
        x = pd.Series(rng.normal(rng.uniform(-1e6, 1e6), rng.uniform(1e-3, 1e5), n) * 10.0 ** rng.integers(-8, 8))
        x[rng.random(n) < rng.uniform(0, 0.9)] = np.nan
        codes = rng.integers(0, k, n)
        if trial % 5 == 0:
            x[codes == 0] = np.nan  # a period without a single published value
        want = x.groupby(codes).transform(lambda v: v.std(ddof=0)).to_numpy()
        assert np.array_equal(indices._group_std(x, codes).to_numpy(), want, equal_nan=True)


def test_recompute_after_a_new_input_version_reads_it_alone_and_equals_a_fresh_build(scratch_atlas, monkeypatch):
    atlas = scratch_atlas
    raw = {"inputs": INPUTS, "method": "zscore"}
    indices.save(atlas, STEWARD, {**raw, "id": "frisch", "title_de": "Frischeindex"})
    _new_input_version(atlas, "jugend_alo", "2024", 1.7)
    asked = _reads(monkeypatch)
    done = indices.recompute_stale(atlas)
    assert [d["indicator"] for d in done] == ["idx_frisch"]
    assert asked == [["jugend_alo"]]  # the two inputs whose versions did not move were not read again

    recipe = indices.parse_recipe(raw)
    fresh = indices.compute(Atlas(atlas.settings), indices.INDEX_READER, recipe)
    pd.testing.assert_frame_equal(indices.compute(atlas, indices.INDEX_READER, recipe).rows, fresh.rows,
                                  check_exact=True)
    stored = queries.value_rows(atlas, ADMIN, "idx_frisch", None).set_index(["period", "area_id"])["value"]
    want = fresh.rows[fresh.rows["status"] != "missing"].set_index(["period", "area_id"])["value"]
    pd.testing.assert_series_equal(stored.loc[want.index], want, check_exact=True, check_names=False)


def test_kept_reads_are_dropped_when_an_input_moves(scratch_atlas, monkeypatch):
    atlas = scratch_atlas
    recipe = indices.parse_recipe({"inputs": INPUTS, "method": "minmax"})
    before = indices.compute(atlas, STEWARD, recipe)
    asked = _reads(monkeypatch)
    vid = _new_input_version(atlas, "sgb2_u15", "2024", 2.5)
    corrected = indices.compute(atlas, STEWARD, recipe)
    assert asked == [["sgb2_u15"]]
    assert not np.allclose(corrected.rows["value"].fillna(0), before.rows["value"].fillna(0))
    # Rolled back: no value file changed, only the version's state, and the first figures are back.
    versions.rollback(atlas, ADMIN, vid, "Test")
    again = indices.compute(atlas, STEWARD, recipe)
    assert asked[-1] == ["sgb2_u15"]
    pd.testing.assert_frame_equal(again.rows, before.rows, check_exact=True)

    _new_input_version(atlas, "betreuung_u3", "2024", 0.2)
    moved = indices.compute(atlas, STEWARD, recipe)
    assert asked[-1] == ["betreuung_u3"]
    pd.testing.assert_frame_equal(moved.rows, indices.compute(Atlas(atlas.settings), STEWARD, recipe).rows,
                                  check_exact=True)


def test_input_keys_move_with_the_input_and_with_anything_else_the_store_names(scratch_atlas, monkeypatch):
    atlas = scratch_atlas
    ids, base = [i["indicator"] for i in INPUTS], territory.base_level(atlas)
    first = indices._input_keys(atlas, STEWARD, ids, None, base)
    _new_input_version(atlas, "sgb2_u15", "2023", 1.1)
    second = indices._input_keys(atlas, STEWARD, ids, None, base)
    assert [first[i] == second[i] for i in ids] == [i != "sgb2_u15" for i in ids]
    assert indices._input_keys(atlas, ADMIN, ids, None, base) != second  # other rights, other reads
    manifest = atlas.store.manifest()
    moved = {**manifest, "tables": {**manifest["tables"], "areas": "tables/areas-elsewhere.parquet"}}
    monkeypatch.setattr(atlas.store, "manifest", lambda: moved)
    third = indices._input_keys(atlas, STEWARD, ids, None, base)
    assert all(third[i] != second[i] for i in ids)
