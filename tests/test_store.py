"""Store and read services: visibility, versions, aggregation, boundaries, atomicity."""
from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import datetime

import numpy as np
import pandas as pd
import pytest

from atlas.services import queries
from atlas.services.context import Atlas
from atlas.store import store as store_module
from atlas.store.backup import BackupError, backup, referenced_files, restore, verify
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
    behind = owner.loc[hidden.index]
    assert (behind["status"] == "ok").all()
    # The owner sees why: small numbers are primary, the cells hidden to protect them secondary.
    assert set(behind["confidential"]) <= {"primary", "secondary"}
    primary = behind[behind["confidential"] == "primary"]
    assert len(primary) > 0 and primary["numerator"].between(1, 2).all()
    assert (behind.loc[behind["confidential"] == "secondary", "numerator"] >= 3).all()
    assert set(owner.index[owner["numerator"].between(1, 2)]) <= set(hidden.index)  # every small number hidden
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
    from atlas.store.store import Store
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


def _profile_from_all_cells(atlas, viewer, area_id) -> pd.DataFrame:
    """The area profile the slow way: over every value row, as the service did before its index."""
    vsql, params = queries._visible_versions_sql(viewer)
    rows = atlas.store.query(f"""
        WITH vv AS ({vsql})
        SELECT v.indicator_id, v.area_id, v.period, v.value, v.numerator, v.denominator, v.status
        FROM indicator_values v JOIN vv USING (version_id)
        WHERE v.area_id = ?
        QUALIFY row_number() OVER (PARTITION BY v.indicator_id ORDER BY v.period DESC, v.version_id DESC) = 1
    """, params + [area_id])
    parts = [queries.suppress(atlas, viewer, atlas.indicator_by_id[i], g, g["period"].iloc[0])
             for i, g in rows.groupby("indicator_id")]
    return pd.concat(parts).drop(columns=["area_id", "confidential"], errors="ignore") \
        .set_index("indicator_id").sort_index()


@pytest.mark.parametrize("viewer", [ANONYMOUS, STAFF, YOUTH_STEWARD, ADMIN], ids=lambda v: v.role)
def test_area_profile_index_agrees_with_reading_every_cell(scratch, viewer):
    """The per-file summary behind the profile must pick the same cells, also after new versions."""
    def compare():
        for area_id in ("0101", "0305", "0702"):
            fast = queries.area_profile(scratch, viewer, area_id).set_index("indicator_id").sort_index()
            slow = _profile_from_all_cells(scratch, viewer, area_id)
            assert list(fast.index) == list(slow.index)
            assert list(fast["period"]) == list(slow["period"]) and list(fast["status"]) == list(slow["status"])
            assert np.allclose(fast["value"].astype(float), slow["value"].astype(float), equal_nan=True)
    compare()
    with scratch.store.writing() as tx:  # a newer period in a draft, a correction made public
        _add_version(tx, "bev_u6", "0101", "2030", 7.0, "draft")
        _add_version(tx, "bev_u6", "0305", "2025", 42.0, "public")
    compare()
    profile = queries.area_profile(scratch, viewer, "0305").set_index("indicator_id")
    assert profile.loc["bev_u6", "value"] == pytest.approx(42.0)
    department = scratch.indicator_by_id["bev_u6"].department
    sees_draft = viewer.is_admin or (viewer.role == "steward" and department in viewer.departments)
    assert (queries.area_profile(scratch, viewer, "0101").set_index("indicator_id").loc["bev_u6", "period"]
            == "2030") == sees_draft


def test_a_store_without_value_index_reads_only_the_indicators_files(scratch):
    """Older manifests list no indicators per file: the store indexes the files itself, once."""
    expected = queries.values(scratch, ANONYMOUS, "bev_u6", "2024").rows
    manifest_path = scratch.store.manifest_path
    manifest = json.loads(manifest_path.read_text())
    index = manifest.pop("value_index")
    manifest_path.write_text(json.dumps(manifest))
    old = Atlas(dataclasses.replace(scratch.settings))
    relation = old.store.values_relation(["bev_u6"])
    holding = [f for f, ids in index.items() if "bev_u6" in ids]
    assert holding and all(f in relation for f in holding)
    assert not any(f in relation for f, ids in index.items() if "bev_u6" not in ids)
    pd.testing.assert_frame_equal(queries.values(old, ANONYMOUS, "bev_u6", "2024").rows, expected)


def test_remembered_answers_are_bounded_and_dropped_when_the_store_changes(scratch):
    scratch.settings = dataclasses.replace(scratch.settings, answer_cache_size=3)
    computed = []

    def answer(n):
        return scratch.remembered(("n", n), lambda: computed.append(n) or n)
    for n in (1, 2, 3, 1, 4):  # 1 is used again, so 2 is the least recently used when 4 arrives
        assert answer(n) == n
    assert computed == [1, 2, 3, 4]
    answer(1), answer(3), answer(2)
    assert computed == [1, 2, 3, 4, 2]
    with scratch.store.writing() as tx:
        _add_version(tx, "bev_u6", "0101", "2024", 42.0, "public")
    answer(1)
    assert computed[-1] == 1 and len(computed) == 6


def test_an_answer_computed_while_the_store_changed_is_not_kept(scratch):
    """A slow answer read before a new version must not be served under the new state."""
    def slow_answer():
        with scratch.store.writing() as tx:  # another worker commits while this answer is computed
            _add_version(tx, "bev_u6", "0101", "2024", 42.0, "public")
        scratch.cached(("other",), lambda: "newer")  # someone already works on the new state
        return "older"
    assert scratch.remembered(("k",), slow_answer) == "older"
    assert scratch.remembered(("k",), lambda: "fresh") == "fresh"
    assert scratch.cached(("c",), slow_answer) == "older"
    assert scratch.cached(("c",), lambda: "fresh") == "fresh"


def test_remembered_map_views_and_series_follow_the_viewers_rights(scratch):
    """The same map asked by an admin first must still reach the public with its small numbers hidden."""
    from atlas.services.choropleth import map_view
    found = 0
    for ind in scratch.indicators:
        if ind.visibility != "public" or not (ind.suppress_numerator_below or ind.suppress_denominator_below):
            continue
        for period in queries.periods(scratch, ANONYMOUS, ind.id):
            admin = map_view(scratch, ADMIN, ind.id, period, "quantiles", 5)
            public = map_view(scratch, ANONYMOUS, ind.id, period, "quantiles", 5)
            hidden = [i for i, label in enumerate(public.hideout["lab"]) if label == "geheim gehalten"]
            opened = [i for i in hidden if admin.hideout["lab"][i] not in ("geheim gehalten", "keine Daten")]
            if not opened:
                continue
            area_id = public.area_ids[opened[0]]
            admin_ts = queries.timeseries(scratch, ADMIN, ind.id, area_id)
            public_ts = queries.timeseries(scratch, ANONYMOUS, ind.id, area_id)
            at = lambda ts: ts[(ts["role"] == "area") & (ts["period"] == period)].iloc[0]  # noqa: E731
            assert at(admin_ts)["status"] == "ok" and at(public_ts)["status"] == "suppressed"
            found += 1
            break
    assert found >= 3  # the demo has small numbers in several public indicators


@pytest.mark.parametrize("viewer", [ANONYMOUS, ADMIN], ids=lambda v: v.role)
def test_city_figures_from_the_kept_series_equal_aggregating_one_period(atlas, viewer):
    checked = 0
    for ind_id in sorted(visible_ids(atlas, viewer))[:8]:
        ind = atlas.indicator_by_id[ind_id]
        for period in queries.periods(atlas, viewer, ind_id)[-3:]:
            kept = queries.values(atlas, viewer, ind_id, period, "stadt").rows
            direct = queries.suppress(atlas, viewer, ind, queries._level_rows(atlas, viewer, ind, period, "stadt"),
                                      period)
            pd.testing.assert_frame_equal(kept, direct.drop(columns=["period", "set_id"]).reset_index(drop=True))
            checked += 1
    assert checked >= 16


# ------------------------------------------------------------ summaries written with each version
def _summary_frame(atlas, name: str) -> pd.DataFrame:
    """A summary as a process builds it, in a fixed order (every column) so two builds compare row by row."""
    table = atlas.store.summary(name)
    cols = list(atlas.store.query(f"SELECT * FROM {table} LIMIT 0").columns)
    return atlas.store.query(f"SELECT * FROM {table} ORDER BY {', '.join(cols)}")


def _without_summary_files(atlas) -> Atlas:
    """The same store as an older one: its manifest names no summary files (the files stay, unnamed)."""
    manifest = json.loads(atlas.store.manifest_path.read_text())
    manifest.pop("summaries", None)
    atlas.store.manifest_path.write_text(json.dumps(manifest))
    return Atlas(dataclasses.replace(atlas.settings))


def _answers(atlas) -> str:
    """What the summaries feed, for viewers of every kind: the catalogue's periods and area profiles (as text,
    so missing numbers compare equal)."""
    out = []
    for viewer in (ANONYMOUS, STAFF, YOUTH_STEWARD, ADMIN):
        catalogue = queries.visible_indicators(atlas, viewer)
        out.append(repr([(r.id, list(r.periods)) for r in catalogue.itertuples()]))
        if viewer in (ANONYMOUS, YOUTH_STEWARD):  # the public and a department with drafts (each costs patterns)
            out += [queries.area_profile(atlas, viewer, area_id).to_csv(index=False) for area_id in ("0101", "0305")]
    return "\n".join(out)


def test_summaries_are_written_with_each_version_and_read_back_equal_to_rebuilt_ones(scratch, monkeypatch):
    before = scratch.store.manifest()["summaries"]
    with scratch.store.writing() as tx:
        _add_version(tx, "bev_u6", "0101", "2030", 7.0, "draft")
    manifest = scratch.store.manifest()
    stored = manifest["summaries"]
    assert stored["covers"] == len(manifest["tables"]["values"])  # every value file, the new one included
    for name in store_module.SUMMARIES:
        assert stored[name] != before[name] and (scratch.store.data_dir / stored[name]).is_file()
    latest = pd.read_parquet(scratch.store.data_dir / stored["latest_cells"])
    mine = latest[latest["version_id"] == manifest["last_version_id"]]
    assert mine[["indicator_id", "area_id", "period", "value"]].values.tolist() == [["bev_u6", "0101", "2030", 7.0]]

    # A new process reads the summary files: summarising the values again would run their SQL.
    with monkeypatch.context() as m:
        m.setattr(store_module.Store, "_build_summary", lambda *a: pytest.fail("summarised the values again"))
        read = Atlas(dataclasses.replace(scratch.settings))
        from_files = {name: _summary_frame(read, name) for name in store_module.SUMMARIES}
        answers = _answers(read)
    old = _without_summary_files(scratch)
    for name in store_module.SUMMARIES:
        from_values = _summary_frame(old, name)
        assert len(from_values) > 0
        pd.testing.assert_frame_equal(from_files[name], from_values)
    assert _answers(old) == answers


def test_an_older_store_without_summary_files_answers_the_same_and_can_have_them_written(scratch):
    expected = _answers(scratch)
    old = _without_summary_files(scratch)
    assert "summaries" not in old.store.manifest()
    assert _answers(old) == expected
    assert old.store.write_missing_summaries()
    assert old.store.manifest()["summaries"]["covers"] == len(old.store.manifest()["tables"]["values"])
    assert not old.store.write_missing_summaries()  # nothing missing: nothing written
    new = Atlas(dataclasses.replace(old.settings))
    assert _answers(new) == expected
    with new.store.writing() as tx:  # a correction made public: the summaries follow
        _add_version(tx, "bev_u6", "0305", "2025", 42.0, "public")
    after = _answers(new)
    assert after != expected
    assert _answers(Atlas(dataclasses.replace(new.settings))) == after
    # A process that summarised in memory and a writer with the files agree, part for part.
    rebuilt = _without_summary_files(new)
    for name in store_module.SUMMARIES:
        pd.testing.assert_frame_equal(_summary_frame(rebuilt, name), _summary_frame(new, name))


def test_backups_hold_the_summary_files_and_a_restore_reads_them(scratch, tmp_path):
    manifest = scratch.store.manifest()
    summary_files = [manifest["summaries"][name] for name in store_module.SUMMARIES]
    assert set(summary_files) <= set(referenced_files(manifest))
    backup(scratch.store, tmp_path / "backup")
    for rel in summary_files:
        assert (tmp_path / "backup" / rel).is_file()
    restore(tmp_path / "backup", tmp_path / "restored")
    restored = Atlas(dataclasses.replace(scratch.settings, data_dir=tmp_path / "restored"))
    assert stored_covers(restored) == len(manifest["tables"]["values"])
    assert _answers(restored) == _answers(scratch)
    (tmp_path / "backup" / summary_files[0]).unlink()
    with pytest.raises(BackupError, match="missing"):
        verify(tmp_path / "backup")


def stored_covers(atlas) -> int:
    return store_module.stored_summaries(atlas.store.manifest())[1]


def test_summary_files_that_do_not_match_the_value_files_are_not_used(scratch):
    """Summaries cover the first value files, ending with the one they name; a list changed otherwise reads values."""
    expected = _answers(scratch)
    manifest = json.loads(scratch.store.manifest_path.read_text())
    assert store_module.stored_summaries(manifest)[1] == len(manifest["tables"]["values"])
    manifest["summaries"]["last"] = manifest["tables"]["values"][0]  # as if files were reordered
    scratch.store.manifest_path.write_text(json.dumps(manifest))
    assert store_module.stored_summaries(manifest) == ({}, 0)
    assert _answers(Atlas(dataclasses.replace(scratch.settings))) == expected
