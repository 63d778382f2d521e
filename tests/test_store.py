"""Store and read services: visibility, versions, aggregation, boundaries, atomicity."""
from __future__ import annotations

import dataclasses
import shutil
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from atlas import queries
from atlas.bootstrap import Atlas
from auth import ANONYMOUS, Principal

STAFF = Principal("planer", "internal")
YOUTH_STEWARD = Principal("jugend1", "steward", frozenset({"jugend"}))
SCHOOL_STEWARD = Principal("schule1", "steward", frozenset({"schule"}))
SOCIAL_STEWARD = Principal("soziales1", "steward", frozenset({"soziales"}))
ADMIN = Principal("admin", "admin")


def visible_ids(atlas, viewer) -> set[str]:
    return set(queries.visible_indicators(atlas, viewer)["id"])


def test_public_sees_only_public_indicators(atlas):
    public = {i.id for i in atlas.indicators if i.visibility == "public"}
    assert visible_ids(atlas, ANONYMOUS) == public
    assert "kaufkraft" not in visible_ids(atlas, ANONYMOUS)


def test_staff_see_internal_but_not_restricted(atlas):
    seen = visible_ids(atlas, STAFF)
    assert {"kaufkraft", "wohngeld", "seu_sprachfoerder"} <= seen
    assert "hze_quote" not in seen
    assert seen == {i.id for i in atlas.indicators if i.visibility != "restricted"}


def test_restricted_only_for_owning_department_admin_or_grant(atlas):
    assert "hze_quote" in visible_ids(atlas, YOUTH_STEWARD)
    assert "hze_quote" in visible_ids(atlas, ADMIN)
    assert "hze_quote" not in visible_ids(atlas, SCHOOL_STEWARD)
    granted = Principal("planer2", "internal", grants=frozenset({"hze_quote"}))
    assert "hze_quote" in visible_ids(atlas, granted)


def test_invisible_indicator_is_indistinguishable_from_missing(atlas):
    assert queries.get_indicator(atlas, ANONYMOUS, "hze_quote") is None
    assert queries.get_indicator(atlas, ANONYMOUS, "does_not_exist") is None
    assert queries.value_rows(atlas, ANONYMOUS, "hze_quote", None) is None
    assert queries.timeseries(atlas, STAFF, "hze_quote", "0101") is None


def test_release_state_decides_which_periods_a_viewer_reads(atlas):
    # SGB II 2025-Q4 is a draft: only the owning department's stewards and admins read it.
    assert queries.periods(atlas, ANONYMOUS, "sgb2_quote")[-1] == "2025-Q3"
    assert queries.periods(atlas, STAFF, "sgb2_quote")[-1] == "2025-Q3"
    assert queries.periods(atlas, SCHOOL_STEWARD, "sgb2_quote")[-1] == "2025-Q3"
    assert queries.periods(atlas, SOCIAL_STEWARD, "sgb2_quote")[-1] == "2025-Q4"
    # Unemployment 2025-Q4 is released internally, not yet publicly.
    assert queries.periods(atlas, ANONYMOUS, "alo_quote")[-1] == "2025-Q3"
    assert queries.periods(atlas, STAFF, "alo_quote")[-1] == "2025-Q4"
    # Asking for an unreleased period directly yields no values, not the draft.
    rows = queries.value_rows(atlas, ANONYMOUS, "sgb2_quote", "2025-Q4")
    assert rows is not None and (rows["status"] == "ok").sum() == 0
    assert (queries.value_rows(atlas, SOCIAL_STEWARD, "sgb2_quote", "2025-Q4")["status"] == "ok").sum() > 40


def _raw_values(atlas, indicator_id: str, period: str) -> pd.DataFrame:
    """Straight from the Parquet files with pandas: the newest version per cell."""
    manifest = atlas.store.manifest()
    frames = [pd.read_parquet(atlas.store.data_dir / f) for f in manifest["tables"]["values"]]
    raw = pd.concat(frames)
    raw = raw[(raw["indicator_id"] == indicator_id) & (raw["period"] == period)]
    return raw.sort_values("version_id").drop_duplicates(["area_id"], keep="last")


def test_rates_aggregate_as_sum_of_counts_not_mean_of_rates(atlas):
    raw = _raw_values(atlas, "bev_u6", "2024")
    areas = pd.read_parquet(atlas.store.data_dir / atlas.store.manifest()["tables"]["areas"])
    parents = areas[(areas["set_id"] == "gs2022") & (areas["level"] == "ortsteil")][["area_id", "parent_id"]]
    merged = raw.merge(parents, on="area_id")
    expected = merged.groupby("parent_id").apply(
        lambda g: g["numerator"].sum() / g["denominator"].sum() * 100, include_groups=False)
    mean_of_rates = merged.groupby("parent_id")["value"].mean()

    got = queries.values(atlas, ANONYMOUS, "bev_u6", "2024", "stadtbezirk").rows.set_index("area_id")["value"]
    assert len(got) == 8
    np.testing.assert_allclose(got.sort_index(), expected.sort_index(), rtol=1e-12)
    assert (abs(got.sort_index() - mean_of_rates.sort_index()) > 1e-6).any(), "test cannot tell the two apart"

    city = queries.values(atlas, ANONYMOUS, "bev_u6", "2024", "stadt").rows.iloc[0]
    assert city["value"] == pytest.approx(merged["numerator"].sum() / merged["denominator"].sum() * 100)


def test_counts_aggregate_as_sums(atlas):
    ortsteile = queries.values(atlas, ANONYMOUS, "bev_gesamt", "2024-Q4", "ortsteil").rows
    city = queries.values(atlas, ANONYMOUS, "bev_gesamt", "2024-Q4", "stadt").rows.iloc[0]
    assert city["value"] == pytest.approx(ortsteile["value"].sum())


def test_aggregate_is_missing_when_a_child_is_missing(atlas):
    """A district with any Ortsteil gap is missing; a complete one is sum(num)/sum(den)."""
    seen = set()
    for year in range(2012, 2026):
        ortsteile = queries.values(atlas, ADMIN, "seu_sprachfoerder", str(year)).rows
        districts = queries.values(atlas, ADMIN, "seu_sprachfoerder", str(year), "stadtbezirk").rows
        districts = districts.set_index("area_id")
        for district, group in ortsteile.groupby("parent_id"):
            has_gap = bool((group["status"] != "ok").any())
            seen.add(has_gap)
            assert (districts.loc[district, "status"] == "missing") == has_gap
            if not has_gap:
                expected = group["numerator"].sum() / group["denominator"].sum() * 100
                assert districts.loc[district, "value"] == pytest.approx(expected)
    assert seen == {True, False}, "the demo data must have districts of both kinds"


def test_index_indicators_are_not_aggregated(atlas):
    rows = queries.values(atlas, ADMIN, "bildungsindex", "2024", "stadtbezirk").rows
    assert (rows["status"] == "missing").all()


def test_small_numbers_are_suppressed_outside_the_department(atlas):
    public = queries.values(atlas, ANONYMOUS, "abgang_ohne", "2024").rows.set_index("area_id")
    owner = queries.values(atlas, SCHOOL_STEWARD, "abgang_ohne", "2024").rows.set_index("area_id")
    hidden = public[public["status"] == "suppressed"]
    assert len(hidden) > 0
    assert hidden[["value", "numerator", "denominator"]].isna().all().all()
    small = owner.loc[hidden.index]
    assert (small["status"] == "ok").all() and small["numerator"].between(1, 2).all()
    # Zero is a value, not a secret: no suppressed cell has a zero count behind it.
    zero = owner[owner["numerator"] == 0].index
    assert (public.loc[zero, "status"] == "ok").all()


def test_missing_values_stay_missing(atlas):
    rows = queries.values(atlas, ADMIN, "seu_sprachfoerder", "2020").rows
    assert (rows["status"] == "missing").sum() > 10
    assert rows.loc[rows["status"] == "missing", "value"].isna().all()


def test_boundary_sets_follow_the_period(atlas):
    assert queries.set_for_period(atlas, "2021") == "gs2012"
    assert queries.set_for_period(atlas, "2021-Q4") == "gs2012"
    assert queries.set_for_period(atlas, "2022-Q1") == "gs2022"
    old = queries.values(atlas, ANONYMOUS, "bev_u6", "2021").rows
    new = queries.values(atlas, ANONYMOUS, "bev_u6", "2022").rows
    assert (len(old), len(new)) == (50, 51)
    split = set(new["area_id"]) - set(old["area_id"])
    gone = set(old["area_id"]) - set(new["area_id"])
    assert len(split) == 2 and len(gone) == 1


def test_timeseries_has_area_district_city_and_predecessor(atlas):
    areas = queries.areas(atlas, "ortsteil", "gs2022")
    split_area = areas[areas["predecessors"] != ""].iloc[0]
    ts = queries.timeseries(atlas, ANONYMOUS, "bev_u6", split_area["area_id"])
    roles = ts.groupby("role")["period"].apply(list)
    assert roles["area"][0] == "2022" and roles["predecessor"][-1] == "2021"
    assert len(roles["stadtbezirk"]) == len(roles["stadt"]) == 14


# ----------------------------------------------------------------- writes on a copy
@pytest.fixture()
def scratch(atlas, tmp_path):
    """A private copy of the demo store that a test may write to."""
    shutil.copytree(atlas.store.data_dir, tmp_path / "data")
    return Atlas(dataclasses.replace(atlas.settings, data_dir=tmp_path / "data"))


def _add_version(tx, indicator_id, area_id, period, value, state):
    vid = tx.next_version_id()
    row = {"indicator_id": indicator_id, "area_id": area_id, "period": period,
           "period_end": pd.Timestamp(f"{period}-12-31").date(), "value": value, "numerator": value,
           "denominator": 100.0, "status": "ok", "version_id": vid}
    tx.add_values(vid, pd.DataFrame([row]))
    versions = tx.read("versions")
    new = pd.DataFrame([{"version_id": vid, "indicator_id": indicator_id, "state": state, "created_by": "test",
                         "created_at": datetime(2026, 1, 1), "file_name": "t.csv", "checksum": "x",
                         "row_count": 1, "note": ""}])
    tx.replace_table("versions", pd.concat([versions, new]).astype({"created_at": "datetime64[s]"}))
    return vid


def test_a_new_version_supersedes_one_cell_and_keeps_history(scratch):
    before = queries.values(scratch, ANONYMOUS, "bev_u6", "2024").rows.set_index("area_id")
    files_before = set(scratch.store.manifest()["tables"]["values"])
    with scratch.store.writing() as tx:
        _add_version(tx, "bev_u6", "0101", "2024", 42.0, "public")
    after = queries.values(scratch, ANONYMOUS, "bev_u6", "2024").rows.set_index("area_id")
    assert after.loc["0101", "value"] == pytest.approx(42.0)
    others = after.index != "0101"
    pd.testing.assert_series_equal(after.loc[others, "value"], before.loc[others, "value"])
    assert files_before < set(scratch.store.manifest()["tables"]["values"])  # old files still referenced


def test_a_draft_does_not_change_what_the_public_sees(scratch):
    before = queries.values(scratch, ANONYMOUS, "bev_u6", "2024").rows.set_index("area_id")
    with scratch.store.writing() as tx:
        _add_version(tx, "bev_u6", "0101", "2024", 42.0, "draft")
    assert queries.values(scratch, ANONYMOUS, "bev_u6", "2024").rows.set_index("area_id").loc["0101", "value"] \
        == pytest.approx(before.loc["0101", "value"])
    assert queries.values(scratch, ADMIN, "bev_u6", "2024").rows.set_index("area_id").loc["0101", "value"] \
        == pytest.approx(42.0)


def test_a_failed_write_leaves_the_store_as_it_was(scratch):
    manifest_bytes = scratch.store.manifest_path.read_bytes()
    with pytest.raises(RuntimeError, match="boom"):
        with scratch.store.writing() as tx:
            _add_version(tx, "bev_u6", "0101", "2024", 42.0, "public")
            raise RuntimeError("boom")
    assert scratch.store.manifest_path.read_bytes() == manifest_bytes
    assert queries.values(scratch, ANONYMOUS, "bev_u6", "2024").rows.set_index("area_id").loc["0101", "value"] != 42.0


def test_readers_in_another_process_see_commits(scratch):
    """A second Store on the same directory (as another worker would be) sees the swap."""
    from atlas.store import Store
    other = Store(scratch.store.data_dir, scratch.store._catalog)
    gen = other.generation()
    other.query("SELECT count(*) FROM indicator_values")
    with scratch.store.writing() as tx:
        vid = _add_version(tx, "bev_u6", "0101", "2024", 42.0, "public")
    assert other.generation() == gen + 1
    n = other.query("SELECT count(*) AS n FROM indicator_values WHERE version_id = ?", [vid]).iloc[0]["n"]
    assert n == 1


def test_area_profile_lists_visible_indicators_at_their_latest_period(atlas):
    public = queries.area_profile(atlas, ANONYMOUS, "0101").set_index("indicator_id")
    staff = queries.area_profile(atlas, STAFF, "0101").set_index("indicator_id")
    assert set(public.index) == visible_ids(atlas, ANONYMOUS)
    assert set(staff.index) == visible_ids(atlas, STAFF)
    assert public.loc["sgb2_quote", "period"] == "2025-Q3" and public.loc["bev_u6", "period"] == "2025"
    expected = queries.values(atlas, ANONYMOUS, "bev_u6", "2025").rows.set_index("area_id").loc["0101", "value"]
    assert public.loc["bev_u6", "value"] == pytest.approx(expected)
