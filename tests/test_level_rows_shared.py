"""A view below the top with a disclosure pattern to compute reads its indicator's cells once.

`queries.values` and `queries.value_rows` at a level below the top used to
read that level's rows, then the pattern read the rows of every level again.
Now one read of every level serves both (`queries._suppressed_rows`); the
rows, their order and their suppression must be exactly what the two reads
gave, at every level of a five-level territory with small-number rules and
linked indicators, for a viewer below the disclosure line and one above it.
"""
from __future__ import annotations

import dataclasses
import random

import pandas as pd
import pytest

from atlas.services import queries, territory
from auth import ANONYMOUS, Principal

ADMIN = Principal("admin", "admin")


@pytest.fixture(scope="module")
def five(tmp_path_factory):
    from bench import workloads
    kept = workloads.WORK
    workloads.WORK = tmp_path_factory.mktemp("five")
    try:
        atlas = workloads.build_territory(workloads.TERRITORY_SMOKE)
    finally:
        workloads.WORK = kept
    atlas.settings = dataclasses.replace(atlas.settings, answer_cache_size=0)  # every pattern computed anew
    return atlas


def _two_reads(atlas, viewer, ind, period, level) -> pd.DataFrame:
    """As before: the level's rows alone, then the pattern from its own read of every level."""
    return queries.suppress(atlas, viewer, ind, queries._level_rows(atlas, viewer, ind, period, level), period)


@pytest.mark.parametrize("viewer", [ANONYMOUS, ADMIN], ids=["public", "admin"])
def test_one_read_gives_the_rows_of_two(five, viewer, monkeypatch):
    below_top = territory.level_ids(five)[:-1]
    ruled = [i for i in five.indicators if queries._may_have_pattern(five, i)]
    assert any(i.same_count_as for i in ruled)
    rng = random.Random(12)
    reads: list[str] = []
    real = queries._level_rows
    monkeypatch.setattr(queries, "_level_rows", lambda *a, **k: reads.append(a[4]) or real(*a, **k))
    suppressed = 0
    for ind in ruled:
        for period in rng.sample(queries.periods(five, viewer, ind.id), 2) + [None]:
            level = rng.choice(below_top)
            reads.clear()
            got = queries.value_rows(five, viewer, ind.id, period, level) if period is None else \
                queries.values(five, viewer, ind.id, period, level).rows
            linked = sum(1 for i in ind.same_count_as if queries.get_indicator(five, viewer, i))
            assert reads == [queries._ALL_LEVELS] * (1 + linked)  # no second read of the level's rows
            want = _two_reads(five, viewer, ind, period, level)
            if period is not None:
                want = want.drop(columns=["period", "set_id"])
            pd.testing.assert_frame_equal(got.reset_index(drop=True), want.reset_index(drop=True))
            suppressed += int((got["status"] == "suppressed").sum())
    if viewer is ANONYMOUS:
        assert suppressed > 0  # the comparison met withheld cells


def test_the_top_and_indicators_without_rules_read_as_before(five, monkeypatch):
    reads: list[str] = []
    real = queries._level_rows
    monkeypatch.setattr(queries, "_level_rows", lambda *a, **k: reads.append(a[4]) or real(*a, **k))
    top, base = territory.top_level(five), territory.base_level(five)
    ind = next(i for i in five.indicators if queries._may_have_pattern(five, i) and not i.same_count_as)
    period = queries.periods(five, ANONYMOUS, ind.id)[-1]
    queries._top_series(five, ANONYMOUS, ind)  # the top's rows: kept per indicator, as a worker keeps them
    reads.clear()
    queries.values(five, ANONYMOUS, ind.id, period, top)
    assert reads == [queries._ALL_LEVELS]  # only the pattern's read
    plain = next((i for i in five.indicators if not queries._may_have_pattern(five, i)), None)
    if plain is not None:
        reads.clear()
        queries.values(five, ANONYMOUS, plain.id, queries.periods(five, ANONYMOUS, plain.id)[-1], base)
        assert reads == [base]
