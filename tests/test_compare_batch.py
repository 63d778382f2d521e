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
        for ind_id in INDICATORS:
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
