"""The area profile's batched reads give exactly what the services give one at a time.

A profile's first view of a store state reads every visible indicator at two
periods on every level in one query (`queries.values_many`) instead of one
`queries.values` per indicator, period and level; and its page builds the
table rows as the plain dicts Dash sends (`profile._el`) instead of Dash
components. Both must be invisible: every row, value, status and
suppression the same, on the demo city and on a five-level territory with
small-number rules and linked indicators, for viewers below and above the
disclosure line.
"""
from __future__ import annotations

import pandas as pd
import pytest
from dash import html

from atlas.services import profiles, queries, territory
from atlas.web.pages import profile as page
from auth import ANONYMOUS, Principal

ADMIN = Principal("admin", "admin")
SCHOOL = Principal("schulamt", "steward", frozenset({"schule"}), logged_in=True)


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Gaps as None whatever the column's dtype (an all-empty column arrives as object, else as str)."""
    return frame.reset_index(drop=True).astype(object).where(frame.reset_index(drop=True).notna(), None)


def _compare(atlas, viewer, last: int) -> int:
    """Every visible indicator's last `last` periods at every level: batched rows == `values` rows."""
    pairs = [(r.id, p) for r in queries.visible_indicators(atlas, viewer).itertuples()
             for p in list(r.periods)[-last:]]
    levels = list(territory.level_ids(atlas))
    many = queries.values_many(atlas, viewer, pairs + [("no-such-indicator", "2020")], levels[::-1])
    assert "no-such-indicator" not in set(many["indicator_id"])
    compared = 0
    for level in levels:
        for ind_id, period in pairs:
            one = queries.values(atlas, viewer, ind_id, period, level)
            got = many[(many["level"] == level) & (many["indicator_id"] == ind_id) & (many["period"] == period)]
            if len(got):
                assert got["set_id"].iloc[0] == one.set_id
            cols = [c for c in one.rows.columns if c != "confidential"]
            pd.testing.assert_frame_equal(_plain(got[cols]), _plain(one.rows[cols]), check_dtype=False)
            if "confidential" in one.rows.columns:  # the owner's rows name why a cell is not for publication
                assert list(_plain(got[["confidential"]])["confidential"]) == \
                    list(_plain(one.rows[["confidential"]])["confidential"])
            compared += 1
    return compared


@pytest.mark.parametrize("viewer", [ANONYMOUS, SCHOOL, ADMIN], ids=["public", "school", "admin"])
def test_batched_values_equal_values_on_the_demo(atlas, viewer):
    assert _compare(atlas, viewer, 1) >= 3 * 15


def test_batched_values_equal_values_on_five_levels_with_disclosure(tmp_path, monkeypatch):
    from bench import workloads
    monkeypatch.setattr(workloads, "WORK", tmp_path)
    five = workloads.build_territory(workloads.TERRITORY_SMOKE)
    assert len(territory.level_ids(five)) == 5
    assert any(i.same_count_as for i in five.indicators)
    for viewer in (ANONYMOUS, ADMIN):
        assert _compare(five, viewer, 2) >= 5 * 10
        many = queries.values_many(five, viewer, [(i.id, queries.periods(five, viewer, i.id)[-1])
                                                  for i in five.indicators])
        if viewer is ANONYMOUS:  # the check above must have met suppressed cells to mean anything
            assert (many["status"] == "suppressed").any()


def test_profile_cells_equal_the_values_service(atlas):
    """The kept per-level cells a profile reads are `queries.values`, area by area."""
    for level in territory.level_ids(atlas):
        snap = profiles._snapshot(atlas, ANONYMOUS, level, None)
        assert snap
        for (ind_id, period), cells in list(snap.items())[:12]:
            alone = profiles._compute_cells(atlas, ANONYMOUS, ind_id, period, level)
            assert cells.set_id == alone.set_id and cells.index == alone.index
            assert list(cells.status) == list(alone.status) and list(cells.parents) == list(alone.parents)
            pd.testing.assert_series_equal(pd.Series(cells.values), pd.Series(alone.values))
            assert cells.distribution == alone.distribution


@pytest.mark.parametrize("tag, children, props", [
    ("Td", "12,3 %", {"className": "oa-num oa-status-ok oa-value", "data-label": "Wert"}),
    ("Td", "", {"className": "oa-num oa-empty"}),
    ("Th", [{"x": 1}, "b"], {"scope": "row", "className": "oa-ind"}),
    ("Span", "↑", {"className": "oa-arrow oa-arrow-up", "title": "steigend", "aria-hidden": "true"}),
    ("Img", None, {"src": "data:image/svg+xml;base64,AA==", "alt": "a", "title": "a", "className": "oa-strip"}),
    ("Tr", [], {"className": "oa-row oa-row-ok", "data-indicator": "x"}),
    ("Strong", "Titel", {}),
])
def test_plain_elements_are_what_dash_components_send(tag, children, props):
    component = getattr(html, tag)(children, **props)
    assert page._el(tag, children, **props) == component.to_plotly_json()
