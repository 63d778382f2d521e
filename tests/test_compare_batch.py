"""The compare page's batched reads answer exactly what the per-key reads answered (issue 14).

`comparison.compare_table` reads every chosen indicator at every level in
one `queries.values_many`, and `compare_series` every line in one
`queries.area_series`; before, it was one `queries.values` per indicator and
level and one `queries.timeseries` per key. The old paths are written out
here and compared on the demo store for viewers who see different things,
with areas across the boundary change and cells that are suppressed.
"""
from __future__ import annotations

import pandas as pd
import pytest

from atlas.services import comparison, queries
from auth.permissions import ANONYMOUS, Principal

STAFF = Principal("intern", "internal", logged_in=True)
ADMIN = Principal("admin", "admin")
VIEWERS = {"public": ANONYMOUS, "staff": STAFF, "admin": ADMIN}
# Base areas with suppressed cells (0202, 0207), across the split (0208), a district, and their parents.
AREAS = [["0202", "0207", "0208", "0101", "02", "0301"], ["03", "0209"], ["00", "0102"]]
INDICATORS = ["abgang_ohne", "seu_masern", "uebergang_gym", "sgb2_quote", "bev_u6", "kaufkraft"]
# With small-number rules, without them, and internal (hidden from the public): the old path is slow.
SERIES_INDICATORS = ["abgang_ohne", "sgb2_quote", "kaufkraft"]


def _old_table(atlas, viewer, keys, ids, period=None) -> pd.DataFrame:
    """`compare_table` as it was: one `queries.values` per indicator and level."""
    chosen = comparison.resolve_areas(atlas, keys)
    wanted = comparison._visible_ids(atlas, viewer, ids)
    if not chosen or not wanted:
        return pd.DataFrame(columns=comparison.COMPARE_COLS)
    context = comparison._context_rows(atlas, chosen)
    parts = []
    for ind_id in wanted:
        readable = queries.periods(atlas, viewer, ind_id)
        at = period if period in readable else readable[-1]
        for level in dict.fromkeys(level for _, level, _ in context):
            rows = queries.values(atlas, viewer, ind_id, at, level).rows.set_index("area_id")
            for role, lv, key in context:
                if lv != level:
                    continue
                r = rows.loc[key] if key in rows.index else None
                parts.append({"indicator_id": ind_id, "period": at, "role": role, "level": level, "area_id": key,
                              "name": r["name"] if r is not None else queries.area_info(atlas, key).iloc[0]["name"],
                              "value": r["value"] if r is not None else None,
                              "numerator": r["numerator"] if r is not None else None,
                              "denominator": r["denominator"] if r is not None else None,
                              "status": r["status"] if r is not None else "missing"})
    return pd.DataFrame(parts, columns=comparison.COMPARE_COLS)


def _old_series(atlas, viewer, keys, indicator_id) -> pd.DataFrame:
    """`compare_series` as it was: one `queries.timeseries` per area, parent and the territory."""
    parts = []
    for role, _, key in comparison._context_rows(atlas, comparison.resolve_areas(atlas, keys)):
        ts = queries.timeseries(atlas, viewer, indicator_id, key)
        own = ts[(ts["role"] == "area") & (ts["area_id"] == key)]
        if len(own):
            parts.append(own.assign(role=role))
    return pd.concat(parts, ignore_index=True)[comparison.SERIES_COLS].sort_values(["period"], kind="stable") \
        .reset_index(drop=True)


def _same(new: pd.DataFrame, old: pd.DataFrame, numbers: list[str]) -> None:
    """Equal row for row: text columns exactly, numbers to rounding, a missing number missing in both."""
    assert len(new) == len(old)
    text = [c for c in old.columns if c not in numbers]
    assert new[text].astype(object).values.tolist() == old[text].astype(object).values.tolist()
    for col in numbers:
        a, b = pd.to_numeric(new[col], errors="coerce"), pd.to_numeric(old[col], errors="coerce")
        assert (a.isna() == b.isna()).all(), col
        assert a[a.notna()].to_numpy() == pytest.approx(b[b.notna()].to_numpy()), col


@pytest.mark.parametrize("who", list(VIEWERS))
def test_compare_table_in_one_read_is_the_per_level_reads(atlas, who):
    viewer, suppressed = VIEWERS[who], 0
    for keys, period in zip(AREAS, (None, "2019", None)):  # an older period too: the boundary set before the split
        new = comparison.compare_table(atlas, viewer, keys, INDICATORS, period)
        old = _old_table(atlas, viewer, keys, INDICATORS, period)
        _same(new, old, ["value", "numerator", "denominator"])
        suppressed += int((new["status"] == "suppressed").sum())
    if who == "public":  # the demo hides small numbers from the public: the comparison must have met some
        assert suppressed > 0


@pytest.mark.parametrize("who", list(VIEWERS))
def test_compare_series_in_one_read_is_the_per_key_time_series(atlas, who):
    viewer, suppressed = VIEWERS[who], 0
    for keys in AREAS:
        for ind_id in SERIES_INDICATORS:
            new = comparison.compare_series(atlas, viewer, keys, ind_id)
            if queries.get_indicator(atlas, viewer, ind_id) is None:
                assert new is None
                continue
            old = _old_series(atlas, viewer, keys, ind_id)
            assert len(new)
            _same(new, old, ["value"])
            suppressed += int((new["status"] == "suppressed").sum())
    if who == "public":
        assert suppressed > 0


def test_area_series_leaves_out_unknown_keys_and_hidden_indicators(atlas):
    lines = queries.area_series(atlas, ANONYMOUS, "bev_u6", ["nope", "0101", 7])
    assert set(lines["area_id"]) == {"0101"} and lines["period"].is_monotonic_increasing
    assert queries.area_series(atlas, ANONYMOUS, "kaufkraft", ["0101"]) is None  # internal: like unknown
    assert queries.newest_area_info(atlas, "nope") is None


@pytest.mark.parametrize("ind_id", ["bev_u6", "abgang_ohne"])
def test_area_series_reads_the_same_lines_from_the_subtrees_as_from_the_whole_territory(atlas, monkeypatch, ind_id):
    """The subtree read (no pattern to compute) and the whole read (shared with a pattern) give the same lines."""
    keys = ["0202", "0208", "0101", "03", "01", "00"]
    narrow = queries.area_series(atlas, STAFF, ind_id, keys)
    monkeypatch.setattr(queries, "_series_rows", lambda atlas, viewer, ind, known: queries._level_rows(
        atlas, viewer, ind, None, queries._ALL_LEVELS))
    whole = queries.area_series(atlas, STAFF, ind_id, keys)
    assert set(narrow["area_id"]) == set(keys)
    _same(narrow, whole, ["value"])


# ---------------------------------------------------------------- change, relation, bivariate, similar, play
def _per_pair_tables(atlas, viewer, pairs, level):
    """`comparison._value_tables` as it was: one `queries.values` per pair."""
    return {(i, p): queries.values(atlas, viewer, i, p, level) for i, p in dict.fromkeys(pairs)}


def _old_change_rows(atlas, ind, level, before, after) -> pd.DataFrame:
    """`comparison._change_rows` as it was: one Python step per area."""
    order = queries.areas(atlas, level, after.set_id)[["area_id", "name"]] if after.set_id else \
        after.rows[["area_id", "name"]]
    old, new = before.rows.set_index("area_id"), after.rows.set_index("area_id")

    def cell(frame, key):
        if key not in frame.index:
            return None, "missing", None
        r = frame.loc[key]
        mark = r["confidential"] if "confidential" in frame.columns and isinstance(r["confidential"], str) else None
        return (None if pd.isna(r["value"]) else float(r["value"])), r["status"], mark
    out = []
    for key, name in zip(order["area_id"], order["name"]):
        (v0, s0, c0), (v1, s1, c1) = cell(old, key), cell(new, key)
        row = {"area_id": key, "name": name, "from_value": v0 if s0 == "ok" else None,
               "to_value": v1 if s1 == "ok" else None, "change": None, "change_pct": None, "status": "ok",
               "confidential": c0 or c1}
        same = before.set_id == after.set_id or (before.set_id is not None and after.set_id is not None and
                                                  key in old.index and before.set_id not in
                                                  queries.changed_geometry_sets(atlas, level, key, after.set_id))
        if not same:
            row["status"] = "not_comparable"
        elif "suppressed" in (s0, s1):
            row["status"] = "suppressed"
        elif s0 != "ok" or s1 != "ok" or v0 is None or v1 is None:
            row["status"] = "missing"
        else:
            row["change"] = v1 - v0
            if ind.aggregation == "sum" and v0 != 0:
                row["change_pct"] = (v1 - v0) / abs(v0) * 100.0
        out.append(row)
    frame = pd.DataFrame(out, columns=comparison.CHANGE_COLS + ["confidential"])
    return frame.drop(columns=["confidential"]) if frame["confidential"].isna().all() else frame


@pytest.mark.parametrize("who", list(VIEWERS))
def test_change_in_one_read_and_column_wise_is_the_per_area_change(atlas, monkeypatch, who):
    viewer, statuses = VIEWERS[who], set()
    cases = [("bev_gesamt", "2015-Q4", "2024-Q4"), ("seu_masern", "2019", "2025"), ("abgang_ohne", "2020", "2025"),
             ("kaufkraft", "2019", "2024"), ("sgb2_quote", "2016-Q4", "2016-Q4")]
    for ind_id, p0, p1 in cases:
        readable = queries.periods(atlas, viewer, ind_id)
        if not readable:
            continue
        p0, p1 = (p if p in readable else readable[0] for p in (p0, p1))
        for level in ("ortsteil", "stadtbezirk"):
            new = comparison.change(atlas, viewer, ind_id, p0, p1, level)
            with monkeypatch.context() as m:
                m.setattr(comparison, "_value_tables", _per_pair_tables)
                m.setattr(comparison, "_change_rows", _old_change_rows)
                old = comparison.change(atlas, viewer, ind_id, p0, p1, level)
            assert new.set_id == old.set_id and list(new.rows.columns) == list(old.rows.columns)
            _same(new.rows, old.rows, ["from_value", "to_value", "change", "change_pct"])
            statuses |= set(new.rows["status"])
    assert {"ok", "not_comparable"} <= statuses and (who != "public" or "suppressed" in statuses)


@pytest.mark.parametrize("who", ["public", "admin"])
def test_relation_bivariate_similar_and_play_in_one_read_are_the_per_indicator_reads(atlas, monkeypatch, who):
    viewer = VIEWERS[who]

    def both(call):
        new = call()
        with monkeypatch.context() as m:
            m.setattr(comparison, "_value_tables", _per_pair_tables)
            return new, call()
    for x, y, level in (("sgb2_u15", "uebergang_gym", "ortsteil"), ("abgang_ohne", "seu_masern", "stadtbezirk"),
                        ("bev_u6", "bev_u6", "ortsteil")):
        new, old = both(lambda: comparison.bivariate(atlas, viewer, x, y, None, level))
        assert new.set_id == old.set_id and new.x_edges == old.x_edges and new.y_edges == old.y_edges
        _same(new.rows, old.rows, ["x", "y"])
        _same(new.relation.left_out, old.relation.left_out, [])
        assert (new.relation.pearson, new.relation.n) == (old.relation.pearson, old.relation.n)
    new, old = both(lambda: comparison.similar(atlas, viewer, "0101", ["sgb2_u15", "uebergang_gym", "abgang_ohne"],
                                               None, 1.0))
    assert new.periods == old.periods and len(new.rows) > 1
    _same(new.rows, old.rows, ["distance", "sgb2_u15", "uebergang_gym", "abgang_ohne"])
    _same(new.left_out, old.left_out, [])
    new, old = both(lambda: comparison.play_frames(atlas, viewer, "abgang_ohne", "ortsteil"))
    assert new.breaks == old.breaks and new.legend == old.legend and new.frames == old.frames
