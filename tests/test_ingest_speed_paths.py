"""The faster ingest paths of issue 19 store exactly what the plain paths store.

A confirmation stores the frame its own process just checked instead of
reading the pending file back; the stored cells (values, counts, statuses,
suppressed and missing markers, versions and their row counts) must be the
same cell by cell as when the confirmation reads the file, and a pending file
changed since the check must be read, never the remembered frame.
"""
from __future__ import annotations

import dataclasses
import shutil

import pandas as pd

from atlas.ingest import checks as ingest
from atlas.ingest import uploads
from atlas.services import queries
from atlas.services.context import Atlas
from auth import Principal

SOCIAL = Principal("sozialamt", "steward", frozenset({"soziales"}), logged_in=True)


def _extract(atlas) -> bytes:
    """A German-Excel extract with plain numbers, thousands separators, counts, suppressed ('·') and missing
    ('k.A.') cells, over two indicators (a ratio from counts and a plain value)."""
    frame = queries.areas(atlas, "ortsteil", queries.set_for_period(atlas, "2025"))
    rows = ["Ortsteil;Zeitraum;Indikator;Wert;Zähler;Nenner"]
    for i, area in enumerate(frame["area_id"]):
        rows.append(f"{area};2025-Q3;sgb2_quote;;{100 + i};{1000 + 7 * i}")
        cell = ("·", "k.A.", f"21.{i:03d},5", f"2{i:04d},25")[i % 4]
        rows.append(f"{area};2025;kaufkraft;{cell};;")
    return ("\n".join(rows) + "\n").encode("utf-8")


def _copy(atlas, folder) -> Atlas:
    shutil.copytree(atlas.store.data_dir, folder / "data", ignore=shutil.ignore_patterns("uploads", "tmp"))
    return Atlas(dataclasses.replace(atlas.settings, data_dir=folder / "data", tmp_dir=folder / "data" / "tmp"))


def _store(atlas, content: bytes, remembered: bool) -> tuple[pd.DataFrame, dict[str, int]]:
    """Check, keep and confirm `content`; the stored cells of the new versions and the versions' rows."""
    checked = ingest.check_upload(atlas, SOCIAL, "x.csv", content)
    assert checked.report.ok, checked.report.errors[:3]
    pending = uploads.Uploads(atlas.settings.data_dir).create(SOCIAL, "x.csv", content, checked)
    if not remembered:
        uploads._LAST_CHECKED.clear()
    else:
        assert pending.upload_id in uploads._LAST_CHECKED  # the path under test is really taken
    ids = uploads.confirm(atlas, SOCIAL, pending.upload_id)
    manifest = atlas.store.manifest()
    new_files = [f for f in manifest["tables"]["values"] if f not in _before[id(atlas)]]
    stored = pd.concat([pd.read_parquet(atlas.store.data_dir / f) for f in new_files], ignore_index=True)
    stored = stored.drop(columns="version_id").sort_values(["indicator_id", "period", "area_id"]).reset_index(drop=True)
    versions = atlas.store.read_table("versions")
    counts = versions[versions["version_id"].isin(ids)].set_index("indicator_id")["row_count"].to_dict()
    assert len(ids) == 2
    return stored, counts


_before: dict[int, set[str]] = {}


def test_a_confirmation_stores_the_checked_frame_exactly_as_the_file(atlas, tmp_path):
    fast, slow = _copy(atlas, tmp_path / "a"), _copy(atlas, tmp_path / "b")
    content = _extract(fast)
    for a in (fast, slow):
        _before[id(a)] = set(a.store.manifest()["tables"]["values"])
    via_frame, counts = _store(fast, content, remembered=True)
    via_file, counts_from_file = _store(slow, content, remembered=False)
    assert counts == counts_from_file == via_frame["indicator_id"].value_counts().to_dict()
    assert len(via_frame) == 2 * len(queries.areas(fast, "ortsteil", queries.set_for_period(fast, "2025")))
    assert set(via_frame["status"]) >= {"ok", "suppressed", "missing"}  # every kind of cell was stored
    pd.testing.assert_frame_equal(via_frame, via_file)  # cell by cell, dtypes included
    assert not uploads._LAST_CHECKED  # a stored upload's frame is not kept


def test_a_pending_file_changed_since_the_check_is_read_not_the_remembered_frame(scratch_atlas):
    content = _extract(scratch_atlas)
    checked = ingest.check_upload(scratch_atlas, SOCIAL, "x.csv", content)
    keep = uploads.Uploads(scratch_atlas.settings.data_dir)
    pending = keep.create(SOCIAL, "x.csv", content, checked)
    path = keep.root / pending.upload_id / "values.parquet"
    changed = checked.values.iloc[:3]
    changed.to_parquet(path, index=False)  # another writer's file (a different size)
    assert len(keep.values(pending.upload_id)) == 3
    assert uploads._recall(pending.upload_id, path) is None


def test_the_diff_of_a_delivery_of_new_periods_counts_what_the_cell_comparison_counts(atlas):
    """`_diff` skips the merge when nothing of the delivered periods is stored: its counts stay the comparison's."""
    from atlas.services import versions
    values = ingest.check_upload(atlas, SOCIAL, "x.csv", _extract(atlas).replace(b";2025", b";2031")).values
    assert len(values) and queries.current_cells(atlas, versions._delivered_pairs(values)).empty
    cells = versions.compare(atlas, values)
    expected = {ind: (int((part["change"] == "new").sum()), int((part["change"] == "changed").sum()),
                      int((part["change"] == "not_redelivered").sum())) for ind, part in cells.groupby("indicator_id")}
    assert versions._diff(atlas, values) == expected
    assert set(expected) == {"sgb2_quote", "kaufkraft"} and all(n > 0 for n, _, _ in expected.values())


def test_arrow_reads_a_plain_csv_as_pandas_reads_it_and_leaves_the_rest_to_pandas(atlas, monkeypatch):
    """`tablefile._arrow_csv` takes only files it reads exactly as pandas' parser: same cells, same types,
    same report; quoted cells, short, long and blank lines go to pandas (which words the errors)."""
    from atlas.ingest import tablefile
    plain = _extract(atlas).replace(b"\n", b"\r\n")
    assert tablefile._arrow_csv(plain.decode(), ";", 6) is not None  # the path under test is taken
    for body in (b"a;b\n1;2\n\n\nLegende\n", b'a;b\n"1;5";2\n', b"a;b\n1;2;3\n", b"a;b;c\n1;2\n"):
        assert tablefile._arrow_csv(body.decode(), ";", len(body.split(b"\n")[0].split(b";"))) is None
    fast = ingest.check_upload(atlas, SOCIAL, "x.csv", plain)
    fast_raw = tablefile.read_table(plain, "x.csv")
    monkeypatch.setattr(tablefile, "_arrow_csv", lambda *_: None)
    slow = ingest.check_upload(atlas, SOCIAL, "x.csv", plain)
    slow_raw = tablefile.read_table(plain, "x.csv")
    pd.testing.assert_frame_equal(fast_raw.table, slow_raw.table)
    assert (fast_raw.header, list(fast_raw.numbers), fast_raw.notes) == (slow_raw.header, list(slow_raw.numbers),
                                                                         slow_raw.notes)
    assert fast.report.to_json() == slow.report.to_json() and fast.report.ok
    pd.testing.assert_frame_equal(fast.values, slow.values)


def test_a_caller_changing_the_values_it_was_given_does_not_change_what_is_stored(scratch_atlas):
    content = _extract(scratch_atlas)
    checked = ingest.check_upload(scratch_atlas, SOCIAL, "x.csv", content)
    keep = uploads.Uploads(scratch_atlas.settings.data_dir)
    pending = keep.create(SOCIAL, "x.csv", content, checked)
    shown = keep.values(pending.upload_id)
    shown["value"] = -1.0  # a preview that scribbles on its frame
    shown.loc[0, "status"] = "suppressed"
    again = keep.values(pending.upload_id)
    assert again is not shown and (again["value"] != -1.0).any()
    pd.testing.assert_frame_equal(again, checked.values)
    pd.testing.assert_frame_equal(again, pd.read_parquet(keep.root / pending.upload_id / "values.parquet"),
                                  check_dtype=False)  # text as objects in memory, as strings in the file
