"""The index's repeated work: what a recompute check and a second preview may skip, and what they may not.

`recompute_stale` decides from the periods and the input versions whether a
saved index is stale, so an up-to-date index costs no value read; a stale
one is built once and its fingerprint worked out once. A builder's second
preview reuses the inputs' reads, but only within one store state and one
set of rights: a new input version is read afresh.
"""
from __future__ import annotations

import pandas as pd
import pytest

from atlas.services import indices, queries
from auth.permissions import Principal
from tests.test_indices import ADMIN, INPUTS, STEWARD, _new_input_version


def _counting(monkeypatch, name: str) -> list:
    """Record each call of `queries.<name>` (still answered): how often the inputs are read."""
    calls: list = []
    real = getattr(queries, name)

    def spy(*args, **kwargs):
        calls.append(args[2])
        return real(*args, **kwargs)
    monkeypatch.setattr(queries, name, spy)
    return calls


def test_an_up_to_date_index_is_checked_without_reading_values(scratch_atlas, monkeypatch):
    atlas = scratch_atlas
    indices.save(atlas, STEWARD, {"id": "teilhabe", "title_de": "Teilhabeindex", "inputs": INPUTS})
    reads = _counting(monkeypatch, "value_rows_many")
    one_by_one = _counting(monkeypatch, "value_rows")
    assert indices.recompute_stale(atlas) == []
    assert reads == [] and one_by_one == []

    _new_input_version(atlas, "sgb2_u15", "2024", 3.0)
    done = indices.recompute_stale(atlas)
    assert [d["indicator"] for d in done] == ["idx_teilhabe"]
    assert len(reads) == 1  # built once, all inputs in one read
    assert indices.recompute_stale(atlas) == []  # and the version written records what it was built from


def test_the_recomputed_version_holds_the_index_of_the_new_inputs(scratch_atlas):
    atlas = scratch_atlas
    indices.save(atlas, STEWARD, {"id": "teilhabe", "title_de": "Teilhabeindex", "inputs": INPUTS})
    _new_input_version(atlas, "sgb2_u15", "2024", 3.0)
    indices.recompute_stale(atlas)
    stored = queries.value_rows(atlas, STEWARD, "idx_teilhabe", None).set_index(["period", "area_id"])
    recipe = indices.parse_recipe({"inputs": INPUTS})
    built = indices.compute(atlas, indices.INDEX_READER, recipe).rows
    built = built[built["status"] != "missing"].set_index(["period", "area_id"])
    assert len(built) > 40
    pd.testing.assert_series_equal(stored["value"].reindex(built.index), built["value"], check_names=False)


def test_a_second_preview_reuses_the_reads_until_the_store_changes(scratch_atlas, monkeypatch):
    atlas = scratch_atlas
    reads = _counting(monkeypatch, "value_rows_many")
    first = indices.compute(atlas, ADMIN, indices.parse_recipe({"inputs": INPUTS}))
    other = indices.compute(atlas, ADMIN, indices.parse_recipe({"inputs": INPUTS, "method": "rank"}))
    assert len(reads) == 1 and other.rows["value"].notna().sum() > 40
    staff = Principal("i", "internal", logged_in=True)  # other rights: read on their own
    indices.compute(atlas, staff, indices.parse_recipe({"inputs": INPUTS}))
    assert len(reads) == 2
    _new_input_version(atlas, "sgb2_u15", "2024", 3.0)
    again = indices.compute(atlas, ADMIN, indices.parse_recipe({"inputs": INPUTS}))
    assert len(reads) == 3
    before = first.rows.set_index(["period", "area_id"])["value"]
    after = again.rows.set_index(["period", "area_id"])["value"]
    assert not before.equals(after)


@pytest.mark.parametrize("method", indices.METHODS)
def test_a_remembered_read_gives_the_same_index(atlas, method):
    recipe = indices.parse_recipe({"inputs": INPUTS, "method": method, "reference": "2022"})
    once, twice = indices.compute(atlas, STEWARD, recipe), indices.compute(atlas, STEWARD, recipe)
    pd.testing.assert_frame_equal(once.rows, twice.rows)
