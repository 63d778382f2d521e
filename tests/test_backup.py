"""Backup and restore of a running store (`python -m atlas backup|restore|verify-backup`).

The promise: a backup taken while a steward keeps confirming uploads holds
one real moment of the store, and a restore of it into a new directory gives
exactly the answers the store gave at that moment, for every viewer,
indicator and level. A damaged backup is refused, naming the file, before
anything is written.
"""
from __future__ import annotations

import dataclasses
import json
import shutil
import threading
from pathlib import Path

import pytest

from atlas.services.context import Atlas
from atlas.store import backup as backup_module
from atlas.store.backup import CHECKSUMS, BackupError, backup, restore, verify
from atlas.web.app import create_app
from tests.conftest import csrf_token, fresh_client, login, writer
from tests.test_workflow import extract, post, upload

PERIODS = ("2026-Q1", "2026-Q2", "2026-Q3")  # one confirmed upload each, by the writer thread


def context_on(template: Atlas, data_dir: Path) -> Atlas:
    return Atlas(dataclasses.replace(template.settings, data_dir=data_dir, tmp_dir=data_dir / "tmp"))


def every_answer(app, username: str | None) -> dict:
    """What a viewer reads from the API: indicators, levels, areas and the values of every indicator at every level."""
    client = fresh_client(app)
    if username:
        assert login(client, username).status_code == 303  # signed in, sent on

    def get(url: str):
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code, resp.get_data(as_text=True)[:200])
        return resp.get_json()
    answers = {url: get(url) for url in ("/api/v1/indicators", "/api/v1/levels", "/api/v1/points")}
    levels = [lv["id"] for lv in answers["/api/v1/levels"]["levels"]]
    for level in levels:
        answers[f"areas {level}"] = get(f"/api/v1/areas?level={level}")
    for ind in answers["/api/v1/indicators"]["indicators"]:
        for level in levels:
            answers[f"values {ind['id']} {level}"] = get(f"/api/v1/values?indicator={ind['id']}&level={level}")
        answers[f"versions {ind['id']}"] = get(f"/api/v1/versions?indicator={ind['id']}")
    return answers


@pytest.mark.slow
def test_a_backup_during_uploads_restores_one_moment_with_every_answer(scratch_app, scratch_atlas, tmp_path,
                                                                        monkeypatch):
    source = scratch_atlas.store
    steward = fresh_client(scratch_app)
    login(steward, "sozialamt")
    token = csrf_token(steward)
    manifests: dict[int, bytes] = {}  # every state the writer left: generation → manifest
    first_stored, failures = threading.Event(), []

    def writer() -> None:
        try:
            for n, period in enumerate(PERIODS):
                body = extract(scratch_atlas, "sgb2_quote", period)
                upload_id = upload(steward, token, body).get_json()["upload_id"]
                assert post(steward, token, f"/api/v1/uploads/{upload_id}/confirm").status_code == 201
                manifests[source.generation()] = source.manifest_path.read_bytes()  # the only writer: its own state
                first_stored.set()
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
            first_stored.set()

    # The backup's snapshot is taken while the writer is busy, and the writer stores another
    # version after the snapshot and before the backup copies a single Parquet file.
    original_snapshot = backup_module._snapshot

    def snapshot_then_wait_for_a_newer_version(store):
        taken = original_snapshot(store)
        at = json.loads(taken[0])["generation"]
        for _ in range(600):
            if store.generation() > at or failures:
                break
            threading.Event().wait(0.1)
        return taken
    monkeypatch.setattr(backup_module, "_snapshot", snapshot_then_wait_for_a_newer_version)

    thread = threading.Thread(target=writer)
    thread.start()
    first_stored.wait(120)
    result = backup(source, tmp_path / "backup")
    thread.join(120)
    assert not failures, failures
    final = source.generation()
    assert len(manifests) == len(PERIODS)
    # The backup holds one real moment, not the first nor the last state of the run.
    assert (tmp_path / "backup" / "manifest.json").read_bytes() == manifests[result.generation]
    assert min(manifests) <= result.generation < final

    restore(tmp_path / "backup", tmp_path / "restored")
    restored_log = (tmp_path / "restored" / "audit.jsonl").read_bytes()  # before the logins below add to it
    restored = context_on(scratch_atlas, tmp_path / "restored")
    # What the store answered at that moment: its files with the manifest of that generation.
    shutil.copytree(source.data_dir, tmp_path / "then", ignore=shutil.ignore_patterns("uploads", "tmp", "booklets"))
    (tmp_path / "then" / "manifest.json").write_bytes(manifests[result.generation])
    then = context_on(scratch_atlas, tmp_path / "then")

    then_app, restored_app = create_app(atlas=then), create_app(atlas=restored)
    for viewer in (None, "admin"):  # the public, and everything (drafts, restricted, unsuppressed)
        expected, got = every_answer(then_app, viewer), every_answer(restored_app, viewer)
        assert expected.keys() == got.keys(), viewer
        different = [key for key in expected if expected[key] != got[key]]
        assert different == [], (viewer, different[:5])
    # The restored store really is the middle state: the writer's later versions are not in it.
    later = every_answer(scratch_app, "admin")["versions sgb2_quote"]["count"]
    assert got["versions sgb2_quote"]["count"] < later
    # Accounts, the session key and the audit log came along; the log up to the snapshot.
    assert (tmp_path / "restored" / "secret_key").read_bytes() == (source.data_dir / "secret_key").read_bytes()
    assert restored_log and (source.data_dir / "audit.jsonl").read_bytes().startswith(restored_log)
    assert not (tmp_path / "restored" / "uploads").exists()


@pytest.fixture()
def made(scratch_atlas, tmp_path) -> Path:
    """A fresh backup of the scratch store."""
    backup(scratch_atlas.store, tmp_path / "made")
    return tmp_path / "made"


def a_value_file(folder: Path) -> Path:
    return sorted((folder / "values").iterdir())[0]


def test_a_damaged_file_is_refused_by_name_and_nothing_is_written(made, tmp_path, monkeypatch, capsys):
    from atlas.__main__ import main
    damaged = a_value_file(made)
    data = bytearray(damaged.read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged.write_bytes(bytes(data))
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_path / "new"))
    assert main(["restore", str(made)]) == 1
    err = capsys.readouterr().err
    assert f"values/{damaged.name}: checksum does not match" in err and "nothing was restored" in err
    assert not (tmp_path / "new").exists()  # not even the session key load_settings would write
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no work folder left behind
    assert main(["verify-backup", str(made)]) == 1
    assert damaged.name in capsys.readouterr().err


@pytest.mark.parametrize("spoil,named", [
    (lambda b: a_value_file(b).unlink(), "missing"),
    (lambda b: (b / "values" / "extra.parquet").write_bytes(b"x"), "values/extra.parquet: not named in SHA256SUMS"),
    (lambda b: (b / CHECKSUMS).write_text((b / CHECKSUMS).read_text() + f"{'0' * 64}  ../secret_key\n"),
     "'../secret_key' is not a path inside the backup"),
    (lambda b: (b / CHECKSUMS).unlink(), "SHA256SUMS is missing"),
])
def test_an_incomplete_or_tampered_backup_is_refused(made, tmp_path, spoil, named):
    spoil(made)
    with pytest.raises(BackupError, match=named.replace("(", r"\(").replace(".", r"\.")):
        restore(made, tmp_path / "new")
    assert not (tmp_path / "new").exists()


def test_a_backup_restores_into_an_empty_directory_and_never_over_a_store(made, scratch_atlas, tmp_path, capsys,
                                                                          monkeypatch):
    from atlas.__main__ import main
    assert len(verify(made)) == len((made / CHECKSUMS).read_text().splitlines())
    with pytest.raises(BackupError, match="exists and is not empty"):
        restore(made, scratch_atlas.store.data_dir)
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_path / "empty"))
    assert main(["restore", str(made)]) == 0, capsys.readouterr().err
    restored = context_on(scratch_atlas, tmp_path / "empty")
    assert restored.store.generation() == scratch_atlas.store.generation()
    assert restored.users.get("admin") == scratch_atlas.users.get("admin")  # accounts are part of the store
    # The CLI backup refuses a directory that holds something, and writes a checkable one otherwise.
    monkeypatch.setenv("ATLAS_DATA_DIR", str(scratch_atlas.store.data_dir))
    assert main(["backup", str(tmp_path / "empty")]) == 1
    assert "exists and is not empty" in capsys.readouterr().err
    (scratch_atlas.store.data_dir / "mystery").mkdir()
    assert main(["backup", str(tmp_path / "second")]) == 0
    out = capsys.readouterr().out
    assert "checksums in SHA256SUMS" in out and "not backed up: mystery/ unknown folder" in out  # never quietly
    assert main(["verify-backup", str(tmp_path / "second")]) == 0


def test_an_interrupted_backup_leaves_no_backup_behind(scratch_atlas, tmp_path, monkeypatch):
    calls = []
    original = backup_module._copy

    def fail_on_the_third_file(src, dst, length=None):
        calls.append(src)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return original(src, dst, length)
    monkeypatch.setattr(backup_module, "_copy", fail_on_the_third_file)
    (tmp_path / "out").mkdir()
    with pytest.raises(OSError, match="No space left"):
        backup(scratch_atlas.store, tmp_path / "out" / "full")
    assert list((tmp_path / "out").iterdir()) == []  # neither the backup nor its work folder


def test_notes_come_along_in_an_embedded_backup(scratch_app, scratch_atlas, tmp_path):
    """notes.jsonl is backed up as an append-only log like the audit log, and nothing is named as taken from a
    database (with ATLAS_DATABASE_URL the notes are exported instead: tests/test_multiserver.py)."""
    steward, token = writer(scratch_app, "sozialamt")
    made = post(steward, token, "/api/v1/notes", {"indicator": "alo_quote", "text": "erste Fassung"}).get_json()
    post(steward, token, "/api/v1/notes", {"id": made["id"], "text": "zweite Fassung"})
    result = backup(scratch_atlas.store, tmp_path / "backup")
    assert "notes.jsonl" in verify(tmp_path / "backup")
    assert not any(name.startswith("PostgreSQL") for name in result.skipped)
    assert "exported_from_postgresql" not in json.loads((tmp_path / "backup" / "backup.json").read_text())
    restore(tmp_path / "backup", tmp_path / "restored")
    restored, _ = writer(create_app(atlas=context_on(scratch_atlas, tmp_path / "restored")), "sozialamt")
    for url in ("/api/v1/notes?indicator=alo_quote", f"/api/v1/notes/{made['id']}/history"):
        assert restored.get(url).get_json() == steward.get(url).get_json(), url
    assert len(steward.get(f"/api/v1/notes/{made['id']}/history").get_json()["revisions"]) == 2
