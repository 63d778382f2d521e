"""A full disk during ingest (issue 18): a clear error, and nothing lost.

The disk fills up at three places: while the upload's own files are kept for
its check, while the confirmation writes the new version's Parquet file, and
while it writes the summaries and manifest. Each time the answer is 507 with
a message that says what happened and what to do, the store is exactly as it
was (same generation, same files listed, no half-written file left behind),
and once there is room again the same upload goes through.
"""
from __future__ import annotations

import errno

import pyarrow.parquet as pq
import pytest

import atlas.store.store as store_module
from atlas.services import queries
from tests.conftest import writer
from tests.test_workflow import extract, post, upload


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def _files(atlas) -> set[str]:
    root = atlas.store.data_dir
    return {str(p.relative_to(root)) for folder in ("values", "tables", "summaries") if (root / folder).exists()
            for p in (root / folder).rglob("*") if p.is_file()}


def _fill_disk_after(monkeypatch, calls: int) -> None:
    """The store's Parquet writer fails with ENOSPC from its (calls+1)-th file on."""
    original, seen = pq.write_table, {"n": 0}

    def write(*args, **kwargs):
        seen["n"] += 1
        if seen["n"] > calls:
            _disk_full()
        return original(*args, **kwargs)
    monkeypatch.setattr(store_module.pq, "write_table", write)


def _assert_disk_full_answer(resp) -> None:
    body = resp.get_json()
    assert resp.status_code == 507, (resp.status_code, body)
    assert body["error"] == "disk_full"
    assert "Speicherplatz" in body["message"] and "nichts" in body["message"].lower()
    assert "Traceback" not in resp.get_data(as_text=True)


@pytest.mark.parametrize("calls", [0, 1])
def test_a_full_disk_during_confirm_loses_nothing_and_the_retry_stores_it_once(scratch_app, scratch_atlas,
                                                                                 monkeypatch, calls):
    steward, token = writer(scratch_app, "sozialamt")
    report = upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()
    assert report["ok"]
    before = (scratch_atlas.store.generation(), _files(scratch_atlas))
    _fill_disk_after(monkeypatch, calls)  # 0: the value file itself fails; 1: a file after it
    _assert_disk_full_answer(post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm"))
    assert (scratch_atlas.store.generation(), _files(scratch_atlas)) == before
    assert not list(scratch_atlas.store.data_dir.rglob("*.part"))
    viewer = scratch_atlas.users.get("sozialamt").principal()
    assert "2026-Q1" not in queries.periods(scratch_atlas, viewer, "sgb2_quote")
    assert steward.get(f"/api/v1/uploads/{report['upload_id']}").get_json()["state"] == "checked"

    monkeypatch.undo()  # room again: the same upload goes through, once
    done = post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm")
    assert done.status_code == 201
    assert "2026-Q1" in queries.periods(scratch_atlas, viewer, "sgb2_quote")
    assert post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm").status_code == 409


def test_a_full_disk_while_an_upload_is_kept_for_its_check_leaves_no_upload_waiting(scratch_app, scratch_atlas,
                                                                                       monkeypatch):
    """The checked values cannot be kept: 507, the store untouched, and the upload (if its record could be
    written at all) says it failed and why, instead of waiting for ever in 'checking'."""
    import json

    import pandas as pd
    steward, token = writer(scratch_app, "sozialamt")
    before = (scratch_atlas.store.generation(), _files(scratch_atlas))
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _disk_full)
    _assert_disk_full_answer(upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")))
    assert (scratch_atlas.store.generation(), _files(scratch_atlas)) == before
    kept = [json.loads(m.read_text()) for m in (scratch_atlas.store.data_dir / "uploads").glob("*/meta.json")]
    assert kept and all(m["state"] != "checking" for m in kept)
    failed = [m for m in kept if m["state"] == "failed"]
    assert failed and "Speicherplatz" in failed[-1]["report"]["errors"][0]["message"]
    assert not list((scratch_atlas.store.data_dir / "uploads").glob("*/values.parquet"))
    monkeypatch.undo()  # room again: the same file is checked as ever
    assert upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()["ok"]


def test_a_full_disk_during_a_background_check_ends_it_failed_with_the_reason(scratch_app, scratch_atlas,
                                                                               monkeypatch):
    """A large file checked in the background: the steward's page reads 'failed' and why, not a generic error."""
    import pandas as pd

    from tests.test_upload_background import _upload_async, _wait_until_checked
    steward, token = writer(scratch_app, "sozialamt")
    before = (scratch_atlas.store.generation(), _files(scratch_atlas))
    monkeypatch.setattr(pd.DataFrame, "to_parquet", _disk_full)
    resp = _upload_async(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1"))
    assert resp.status_code == 202
    done = _wait_until_checked(steward, resp.headers["Location"])
    assert done["state"] == "failed" and "Speicherplatz" in done["errors"][0]["message"]
    assert (scratch_atlas.store.generation(), _files(scratch_atlas)) == before
    assert not list((scratch_atlas.store.data_dir / "uploads").glob("*/values.parquet"))
