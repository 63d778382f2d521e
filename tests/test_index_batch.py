"""A composite index's batched read gives exactly what `queries.value_rows` gives input by input.

An index reads all its inputs with `queries.value_rows_many` (one query for
the inputs without a disclosure pattern) instead of one `value_rows` each.
That must be invisible: every row, its order, value, status and suppression
the same, for every period and for one, at every level, on the demo city and
on a five-level territory with small-number rules and linked indicators, for
viewers below and above the disclosure line.
"""
from __future__ import annotations

import pandas as pd
import pytest

from atlas.services import queries, territory
from auth import ANONYMOUS, Principal

ADMIN = Principal("admin", "admin")
SCHOOL = Principal("schulamt", "steward", frozenset({"schule"}), logged_in=True)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Gaps as None whatever the column's dtype (an all-empty column arrives as object, else as str)."""
    frame = frame.reset_index(drop=True)
    return frame.astype(object).where(frame.notna(), None)


def _compare(atlas, viewer, ids: list[str], period: str | None, level: str) -> int:
    """`value_rows_many` == `value_rows` per indicator (rows, order, columns); returns the rows compared."""
    many = queries.value_rows_many(atlas, viewer, ids + ["no-such-indicator"], period, level)
    assert "no-such-indicator" not in set(many["indicator_id"])
    visible = [i for i in ids if queries.get_indicator(atlas, viewer, i) is not None]
    assert list(dict.fromkeys(many["indicator_id"])) == [
        i for i in visible if len(queries.value_rows(atlas, viewer, i, period, level))]
    compared = 0
    for ind_id in visible:
        one = queries.value_rows(atlas, viewer, ind_id, period, level)
        got = many[many["indicator_id"] == ind_id]
        cols = [c for c in one.columns if c != "confidential"]
        pd.testing.assert_frame_equal(_plain(got[cols]), _plain(one[cols]), check_dtype=False)
        if "confidential" in one.columns:  # the owner's rows name why a cell is not for publication
            assert list(_plain(got[["confidential"]])["confidential"]) == \
                list(_plain(one[["confidential"]])["confidential"])
        elif "confidential" in got.columns:
            assert got["confidential"].isna().all()
        compared += len(one)
    return compared


@pytest.mark.parametrize("viewer", [ANONYMOUS, SCHOOL, ADMIN], ids=["public", "school", "admin"])
def test_batched_rows_equal_value_rows_on_the_demo(atlas, viewer):
    ids = [i.id for i in atlas.indicators]
    base = territory.base_level(atlas)  # levels above it: on five levels below
    assert _compare(atlas, viewer, ids, None, base) > 0
    assert _compare(atlas, viewer, ids, queries.periods(atlas, viewer, "sgb2_u15")[-1], base) > 0


def test_batched_rows_equal_value_rows_on_five_levels_with_disclosure(tmp_path, monkeypatch):
    from bench import workloads
    monkeypatch.setattr(workloads, "WORK", tmp_path)
    five = workloads.build_territory(workloads.TERRITORY_SMOKE)
    assert any(i.same_count_as for i in five.indicators)
    ids = [i.id for i in five.indicators]
    for viewer in (ANONYMOUS, ADMIN):
        for level in territory.level_ids(five)[:3]:
            assert _compare(five, viewer, ids, None, level) > 0
        many = queries.value_rows_many(five, viewer, ids, None)
        if viewer is ANONYMOUS:  # the check above must have met suppressed cells to mean anything
            assert (many["status"] == "suppressed").any()


def test_batched_rows_refuse_what_value_rows_refuses(atlas):
    with pytest.raises(ValueError):
        queries.value_rows_many(atlas, ADMIN, ["sgb2_u15"], "2024-13")
    with pytest.raises(ValueError):
        queries.value_rows_many(atlas, ADMIN, ["sgb2_u15"], None, "no-such-level")
    assert queries.value_rows_many(atlas, ADMIN, ["no-such-indicator"], None).empty
