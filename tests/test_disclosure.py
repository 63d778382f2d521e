"""Disclosure control: the suppression algorithm on hand-made hierarchies, and the differencing attack.

The attack is what a curious reader does with published tables: a parent's
total minus its visible parts. It runs against the public API (and an
internal user's view) of the demo city for every indicator, period and
parent-child pair; it must recover nothing, and narrow nothing below the
threshold.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

from atlas.services import disclosure
from atlas.services.disclosure import Rule
from tests.conftest import fresh_client, login

COUNT = [Rule("value", 3.0)]


def tree(cells: dict[str, tuple[str | None, float]], period: str = "2024") -> pd.DataFrame:
    """Rows of a hand-made hierarchy: key -> (parent key, count); every cell published."""
    return pd.DataFrame([{"period": period, "area_id": k, "parent_id": p, "status": "ok", "value": v,
                          "numerator": v, "denominator": v * 10} for k, (p, v) in cells.items()])


def hidden(rows: pd.DataFrame, rules=COUNT, forced=None) -> dict[str, str]:
    pattern = disclosure.hidden_cells(rows, rules, forced)
    return dict(zip(pattern["area_id"], pattern["reason"]))


def test_one_hidden_child_takes_the_next_smallest_sibling_with_it():
    rows = tree({"P": (None, 23), "a": ("P", 1), "b": ("P", 5), "c": ("P", 7), "d": ("P", 10)})
    assert hidden(rows) == {"a": "primary", "b": "secondary"}


def test_two_small_hidden_children_still_need_a_cell_with_real_mass():
    # 1 + 2 = 3 would tell both: each must be 1..2, and the sum says which.
    rows = tree({"P": (None, 17), "a": ("P", 1), "b": ("P", 2), "c": ("P", 10), "d": ("P", 4)})
    assert hidden(rows) == {"a": "primary", "b": "primary", "d": "secondary"}


def test_zero_is_never_hidden_and_never_protects():
    rows = tree({"P": (None, 9), "a": ("P", 1), "z": ("P", 0), "b": ("P", 8)})
    assert hidden(rows) == {"a": "primary", "b": "secondary"}


def test_a_parent_with_one_child_is_hidden_with_it_and_protected_above():
    rows = tree({"C": (None, 28), "P": ("C", 2), "a": ("P", 2), "Q": ("C", 12), "R": ("C", 14)})
    got = hidden(rows)
    assert got["a"] == "primary" and got["P"] == "primary"
    assert got["Q"] == "secondary" and "R" not in got and "C" not in got


def test_a_parent_whose_only_small_child_cannot_be_protected_by_a_sibling_is_hidden():
    # Every sibling is zero: no sibling can carry mass, so the parent goes (and is protected above).
    rows = tree({"C": (None, 20), "P": ("C", 4), "a": ("P", 1), "x": ("P", 3), "z": ("P", 0),
                 "Q": ("C", 16)})
    got = hidden(rows)
    assert got["a"] == "primary" and got["x"] == "secondary"
    rows = tree({"C": (None, 17), "P": ("C", 1), "a": ("P", 1), "z": ("P", 0), "Q": ("C", 16)})
    got = hidden(rows)
    assert got["a"] == "primary" and got["P"] == "primary" and got["Q"] == "secondary"


def test_protection_reaches_every_level():
    # A district hidden to protect an Ortsteil must itself be protected in the city's equation.
    rows = tree({"C": (None, 60), "D1": ("C", 4), "a": ("D1", 1), "b": ("D1", 3),
                 "D2": ("C", 20), "c": ("D2", 20), "D3": ("C", 36), "d": ("D3", 36)})
    got = hidden(rows)
    assert {"a", "b"} <= set(got)
    assert _attack(rows, got, threshold=3) == []


def test_rates_are_protected_by_numerator_and_denominator():
    rows = tree({"P": (None, 30), "a": ("P", 10), "b": ("P", 10), "c": ("P", 10)})
    rows.loc[rows["area_id"] == "a", "numerator"] = 1
    rows.loc[rows["area_id"] == "P", "numerator"] = 21
    got = hidden(rows, [Rule("numerator", 3.0)])
    assert got == {"a": "primary", "b": "secondary"}


def test_indicators_sharing_a_count_are_suppressed_together():
    count = tree({"P": (None, 30), "a": ("P", 2), "b": ("P", 13), "c": ("P", 15)})
    share = count.copy()  # a share whose numerator is that count: no small denominators of its own
    own = hidden(share, [Rule("denominator", 3.0)])
    assert own == {}
    linked = disclosure.hidden_cells(count, COUNT)
    together = hidden(share, [Rule("denominator", 3.0)], forced=linked)
    assert together == {"a": "linked", "b": "linked"}


def test_several_periods_are_independent_and_equal_to_one_at_a_time():
    a = tree({"P": (None, 23), "a": ("P", 1), "b": ("P", 5), "c": ("P", 7), "d": ("P", 10)}, "2023")
    b = tree({"P": (None, 18), "a": ("P", 6), "b": ("P", 2), "c": ("P", 4), "d": ("P", 6)}, "2024")
    both = disclosure.hidden_cells(pd.concat([a, b], ignore_index=True), COUNT)
    one = pd.concat([disclosure.hidden_cells(a, COUNT), disclosure.hidden_cells(b, COUNT)], ignore_index=True)
    pd.testing.assert_frame_equal(both.sort_values(["period", "area_id"]).reset_index(drop=True),
                                  one.sort_values(["period", "area_id"]).reset_index(drop=True))


def test_count_indicators_have_the_offices_default_threshold(atlas):
    counts = [i for i in atlas.indicators if i.aggregation == "sum"]
    assert counts and all(disclosure.rules(i) == [Rule("value", 3.0)] for i in counts if i.suppress_value_below is None)
    zero = dataclasses.replace(counts[0], suppress_value_below=0)
    assert disclosure.rules(zero) == []


# ------------------------------------------------------------------ the attack
def _attack(rows: pd.DataFrame, hidden_cells, threshold: float, quantity: str = "value") -> list[str]:
    """What subtraction gives away: equations with exactly one hidden member, or hidden members whose
    total is below the threshold (each of them then lies in an interval narrower than the threshold)."""
    hide = set(hidden_cells)
    published = rows[rows["status"] == "ok"].set_index("area_id")
    findings = []
    for parent, children in published.groupby("parent_id"):
        if parent not in published.index:
            continue
        members = [parent] + list(children.index)
        unknown = [m for m in members if m in hide]
        if len(unknown) == 1:
            findings.append(f"{unknown[0]} = {parent} - visible parts")
        elif unknown and parent not in hide:
            rest = published.loc[parent, quantity] - children.loc[[c for c in children.index if c not in hide],
                                                                  quantity].sum()
            if 0 < rest < threshold:
                findings.append(f"{unknown} sum to {rest} under {parent}")
    return findings


def _published(client, indicator: str) -> pd.DataFrame:
    """Every level of an indicator, every period, as the API publishes it, with each row's parent."""
    frames = []
    for level in ("ortsteil", "stadtbezirk", "stadt"):
        resp = client.get(f"/api/v1/values?indicator={indicator}&level={level}")
        if resp.status_code == 404:  # not visible to this reader: nothing to attack
            return pd.DataFrame()
        frames.append(pd.DataFrame(resp.get_json()["rows"]).assign(level=level))
    rows = pd.concat(frames, ignore_index=True)
    return rows


def _parents(atlas) -> dict[tuple[str, str], str]:
    """(set, area) -> parent, from the areas the API serves (the attacker has them too)."""
    from atlas.services import queries
    out = {}
    for set_id in queries.boundary_sets(atlas)["set_id"]:
        for level in ("ortsteil", "stadtbezirk", "stadt"):
            for r in queries.areas(atlas, level, set_id).itertuples():
                out[(set_id, r.area_id)] = r.parent_id
    return out


def _attack_indicator(atlas, client, ind) -> tuple[int, list[str]]:
    from atlas.services import queries
    rows = _published(client, ind.id)
    if rows.empty:
        return 0, []
    parents = _parents(atlas)
    rows["set_id"] = [queries.set_for_period(atlas, p) for p in rows["period"]]
    rows["parent_id"] = [parents.get((s, a), a[:-3] if a.endswith("-nz") else None)
                         for s, a in zip(rows["set_id"], rows["area_id"])]
    findings, n_hidden = [], 0
    rule_list = disclosure.rules(ind)
    quantities = [(r.quantity, r.below) for r in rule_list]
    for period, part in rows.groupby("period"):
        hide = set(part.loc[part["status"] == "suppressed", "area_id"])
        n_hidden += len(hide)
        part = part.assign(status=np.where(part["status"] == "suppressed", "ok", part["status"]))
        for quantity, below in quantities:
            # What the attacker can read: published counts; hidden cells are unknown (NaN -> excluded).
            findings += [f"{ind.id} {period}: {f}" for f in _attack(part, hide, below, quantity)]
    return n_hidden, findings


@pytest.mark.parametrize("who", [None, "intern"], ids=["public", "internal"])
def test_the_differencing_attack_recovers_nothing(atlas, dash_app, who):
    client = fresh_client(dash_app)
    if who:
        login(client, who)
    total_hidden, findings = 0, []
    for ind in atlas.indicators:
        if not disclosure.rules(ind):
            continue
        n, found = _attack_indicator(atlas, client, ind)
        total_hidden += n
        findings += found
    assert total_hidden > 50, "the demo must have suppressed cells for the attack to mean anything"
    assert findings == []


def test_the_attack_finds_what_primary_suppression_alone_leaves_open():
    """The attack itself can fail: with primary suppression only, it recovers the hidden cell."""
    rows = tree({"P": (None, 23), "a": ("P", 1), "b": ("P", 5), "c": ("P", 7), "d": ("P", 10)})
    assert _attack(rows, {"a"}, threshold=3) == ["a = P - visible parts"]
    assert _attack(rows, {"a", "b"}, threshold=3) == []


def test_without_secondary_suppression_the_attack_recovers_cells(scratch_atlas, scratch_app, monkeypatch):
    """The API attack can fail: switch secondary suppression off and it finds what it found before."""
    monkeypatch.setattr(disclosure, "_protect", lambda *args: None)
    client = fresh_client(scratch_app)
    findings = []
    for ind in scratch_atlas.indicators:
        if disclosure.rules(ind) and ind.visibility == "public":
            findings += _attack_indicator(scratch_atlas, client, ind)[1]
    assert len(findings) > 10


def test_the_owner_gets_a_suppression_report_and_nobody_else_does(atlas, dash_app):
    anonymous, staff = fresh_client(dash_app), fresh_client(dash_app)
    login(staff, "intern")
    admin = fresh_client(dash_app)
    login(admin, "admin")
    url = "/api/v1/disclosure?indicator=abgang_ohne&period=2024"
    report = admin.get(url).get_json()
    assert report["withheld"] > 0 and report["reasons"]["primary"] > 0 and report["reasons"]["secondary"] > 0
    public_rows = anonymous.get("/api/v1/values?indicator=abgang_ohne&period=2024").get_json()["rows"]
    hidden_for_public = {r["area_id"] for r in public_rows if r["status"] == "suppressed"}
    reported = {c["area_id"] for c in report["cells"] if c["level"] == "ortsteil"}
    assert reported == hidden_for_public  # the report says exactly what the public will not see
    assert all(c["value"] is not None for c in report["cells"])  # the owner sees the numbers behind it
    missing = anonymous.get("/api/v1/disclosure?indicator=no_such_thing&period=2024")
    for client in (anonymous, staff):
        resp = client.get(url)
        assert (resp.status_code, resp.data) == (missing.status_code, missing.data)  # like a missing indicator


def test_the_owners_export_marks_what_is_not_for_publication(atlas, dash_app):
    import csv
    import io
    admin, anonymous = fresh_client(dash_app), fresh_client(dash_app)
    login(admin, "admin")
    url = "/api/v1/export?indicator=abgang_ohne&period=2024&format=csv"
    own = list(csv.DictReader(io.StringIO(admin.get(url).get_data(as_text=True))))
    marked = [r for r in own if r.get("confidential")]
    assert marked and all(r["status"] == "ok" and r["value"] for r in marked)  # numbers shown, but marked
    public = list(csv.DictReader(io.StringIO(anonymous.get(url).get_data(as_text=True))))
    assert "confidential" not in public[0]
    hidden = {r["area_id"] for r in public if r["status"] == "suppressed"}
    assert hidden == {r["area_id"] for r in marked}
