"""Confirming an upload stores it exactly once: simultaneous confirmations, and a process killed (SIGKILL)
right after the store's commit or halfway through the audit entries, then retried (issue 18, finding 2).

The confirmations run in real child processes, as gunicorn workers would; the kill is placed by
patching a function in the child only, so the atlas itself has no test hook.
"""
from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from atlas.config import PROJECT_ROOT
from tests.conftest import writer
from tests.test_workflow import extract, post, upload

CHILD = """
import json, os, signal, sys, time
from pathlib import Path
from atlas.config import load_settings
from atlas.ingest import uploads
from atlas.services.context import Atlas
from atlas.services.versions import VersionError
import atlas.store.store as store_module
import auth.audit as audit_module

kill_at, upload_id, go = sys.argv[1], sys.argv[2], sys.argv[3]

def die_after(owner, name):
    original = getattr(owner, name)
    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
        return result
    setattr(owner, name, wrapped)

if kill_at == "commit":  # the manifest swap happened, nothing after it
    die_after(store_module.Transaction, "_commit")
elif kill_at == "audit":  # the first audit entry is written, the rest and the upload's state are not
    die_after(audit_module.AuditLog, "record")
atlas = Atlas(load_settings())
viewer = atlas.users.get("sozialamt").principal()
atlas.store.manifest()
if go != "-":
    Path(f"{go}.ready{os.getpid()}").touch()
while go != "-" and not Path(go).exists():  # start together with the other child
    time.sleep(0.001)
try:
    print(json.dumps({"ids": uploads.confirm(atlas, viewer, upload_id)}))
except VersionError as exc:
    print(json.dumps({"status": exc.status}))
"""


def _child(data_dir, kill_at: str, upload_id: str, go: str = "-") -> subprocess.Popen:
    env = {**os.environ, "ATLAS_DATA_DIR": str(data_dir)}
    return subprocess.Popen([sys.executable, "-c", textwrap.dedent(CHILD), kill_at, upload_id, go], cwd=PROJECT_ROOT,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _stored(atlas, upload_id: str):
    versions = atlas.store.read_table("versions")
    return versions[versions["note"] == f"Upload {upload_id}"]


def _audit_of(atlas, upload_id: str) -> list[dict]:
    lines = (atlas.settings.data_dir / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    return [e for e in map(json.loads, lines) if str(e.get("ref", "")).startswith(f"upload:{upload_id}:")]


def _pending(app, atlas, indicators=("sgb2_quote",)) -> tuple:
    client, token = writer(app, "sozialamt")
    body = b"".join(extract(atlas, ind, "2026-Q1") if i == 0 else
                    extract(atlas, ind, "2026-Q1").split(b"\n", 1)[1] for i, ind in enumerate(indicators))
    resp = upload(client, token, body)
    assert resp.status_code == 200, resp.get_json()
    return client, token, resp.get_json()["upload_id"]


@pytest.mark.parametrize("kill_at", ["commit", "audit"])
def test_a_confirmation_killed_after_the_commit_is_completed_by_the_retry(scratch_app, scratch_atlas, kill_at):
    client, token, upload_id = _pending(scratch_app, scratch_atlas, ("sgb2_quote", "alo_quote"))
    proc = _child(scratch_atlas.settings.data_dir, kill_at, upload_id)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    stored = _stored(scratch_atlas, upload_id)
    assert sorted(stored["indicator_id"]) == ["alo_quote", "sgb2_quote"]  # the store has it: the swap happened
    assert client.get(f"/api/v1/uploads/{upload_id}").get_json()["state"] == "checked"  # what the kill left

    retried = post(client, token, f"/api/v1/uploads/{upload_id}/confirm")
    assert retried.status_code == 201
    assert sorted(retried.get_json()["version_ids"]) == sorted(stored["version_id"].tolist())
    assert len(_stored(scratch_atlas, upload_id)) == 2  # stored once, not again
    entries = _audit_of(scratch_atlas, upload_id)
    assert sorted(e["target"] for e in entries) == sorted(f"{r.indicator_id} v{r.version_id}"
                                                          for r in stored.itertuples())
    assert {e["action"] for e in entries} == {"version_created"} and {e["actor"] for e in entries} == {"sozialamt"}
    report = client.get(f"/api/v1/uploads/{upload_id}").get_json()
    assert report["state"] == "confirmed" and sorted(report["version_ids"]) == sorted(stored["version_id"])
    assert post(client, token, f"/api/v1/uploads/{upload_id}/confirm").status_code == 409
    assert len(_stored(scratch_atlas, upload_id)) == 2 and len(_audit_of(scratch_atlas, upload_id)) == 2


def test_a_half_confirmed_upload_cannot_be_cancelled(scratch_app, scratch_atlas):
    client, token, upload_id = _pending(scratch_app, scratch_atlas)
    proc = _child(scratch_atlas.settings.data_dir, "commit", upload_id)
    proc.communicate(timeout=120)
    assert proc.returncode == -signal.SIGKILL
    assert post(client, token, f"/api/v1/uploads/{upload_id}/cancel").status_code == 409
    assert post(client, token, f"/api/v1/uploads/{upload_id}/confirm").status_code == 201


@pytest.mark.slow  # three rounds of two processes that each import the atlas
def test_simultaneous_confirmations_store_the_upload_once(scratch_app, scratch_atlas, tmp_path):
    for round_ in range(3):
        _, _, upload_id = _pending(scratch_app, scratch_atlas)
        go = tmp_path / f"go{round_}"
        children = [_child(scratch_atlas.settings.data_dir, "none", upload_id, str(go)) for _ in range(2)]
        deadline = time.monotonic() + 120  # both have imported everything and wait for the go file
        while time.monotonic() < deadline and len(list(tmp_path.glob(f"go{round_}.ready*"))) < 2:
            time.sleep(0.05)
        go.touch()
        answers = [json.loads(c.communicate(timeout=120)[0].strip().splitlines()[-1]) for c in children]
        stored = _stored(scratch_atlas, upload_id)
        assert len(stored) == 1, answers  # one version, whoever won
        ids = [a["ids"] for a in answers if "ids" in a]
        assert ids and all(i == [int(stored["version_id"].iloc[0])] for i in ids), answers
        assert all(a.get("status") == 409 for a in answers if "ids" not in a), answers
        assert len(_audit_of(scratch_atlas, upload_id)) == 1


def test_a_hidden_indicators_id_is_refused_at_confirm_like_an_id_taken_meanwhile(scratch_app, scratch_atlas):
    """Indicator ids are one namespace for all departments, so a steward cannot create an indicator under a
    hidden one's id. The check treats that id as free (tests/test_security.py); the confirmation refuses it with
    the same answer as for an id another upload took between check and confirmation (issue 18, finding 6)."""
    from tests.test_security import HIDDEN, MADE_UP, new_indicator, wide_extract

    client, token = writer(scratch_app, "sozialamt")

    def checked(ind_id: str) -> str:
        resp = client.post("/api/v1/uploads", data={
            "file": (io.BytesIO(wide_extract(scratch_atlas, ind_id)), "neu.csv"),
            "new_indicators": json.dumps([new_indicator(ind_id, "Neuer Indikator")]),
            "mapping": json.dumps({"area": "Ortsteil", "period": "Zeitraum", "indicator_columns": {ind_id: ind_id}})},
            content_type="multipart/form-data", headers={"X-CSRFToken": token})
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["upload_id"]

    hidden = post(client, token, f"/api/v1/uploads/{checked(HIDDEN[0])}/confirm")
    first, second = checked(MADE_UP[0]), checked(MADE_UP[0])
    assert post(client, token, f"/api/v1/uploads/{first}/confirm").status_code == 201
    taken = post(client, token, f"/api/v1/uploads/{second}/confirm")
    assert hidden.status_code == taken.status_code == 409
    assert json.dumps(hidden.get_json()).replace(HIDDEN[0], MADE_UP[0]) == json.dumps(taken.get_json())


STEP_CHILD = """
import os, signal, sys
from atlas.config import load_settings
from atlas.services import versions
from atlas.services.context import Atlas
import atlas.store.store as store_module

step, version_id = sys.argv[1], int(sys.argv[2])
original = store_module.Transaction._commit
def commit_then_die(self):
    original(self)
    os.kill(os.getpid(), signal.SIGKILL)  # the store has the step, the audit log not yet
store_module.Transaction._commit = commit_then_die
atlas = Atlas(load_settings())
viewer = atlas.users.get("sozialamt").principal()
if step == "release":
    versions.release(atlas, viewer, version_id, "internal")
else:
    versions.rollback(atlas, viewer, version_id, "falsche Lieferung")
"""


@pytest.mark.parametrize("step,action,state", [("release", "version_released", "internal"),
                                               ("rollback", "version_withdrawn", "withdrawn")])
def test_a_release_or_rollback_killed_after_the_commit_gets_its_entry_from_the_retry(scratch_app, scratch_atlas,
                                                                                      step, action, state):
    client, token, upload_id = _pending(scratch_app, scratch_atlas)
    vid = post(client, token, f"/api/v1/uploads/{upload_id}/confirm").get_json()["version_id"]
    env = {**os.environ, "ATLAS_DATA_DIR": str(scratch_atlas.settings.data_dir)}
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(STEP_CHILD), step, str(vid)], cwd=PROJECT_ROOT,
                          env=env, capture_output=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    versions = scratch_atlas.store.read_table("versions").set_index("version_id")
    assert versions.loc[vid, "state"] == state  # the step is stored

    def entries() -> list[dict]:
        lines = (scratch_atlas.settings.data_dir / "audit.jsonl").read_text(encoding="utf-8").splitlines()
        return [e for e in map(json.loads, lines) if e["action"] == action and e["target"].endswith(f" v{vid}")]
    assert entries() == []  # what the kill left: no entry
    body = {"to": "internal"} if step == "release" else {"reason": "falsche Lieferung"}
    for _ in range(2):  # the retry completes the entry; a second retry adds none
        assert post(client, token, f"/api/v1/versions/{vid}/{step}", body).status_code == 409
        assert len(entries()) == 1 and entries()[0]["actor"] == "sozialamt"


def test_an_entry_is_written_once_by_its_ref_or_recognised_without_one(tmp_path):
    from auth.audit import AuditLog
    log = AuditLog(tmp_path)
    assert log.record_once("release:7:internal", "a", "version_released", "x v7", "draft → internal")
    assert not log.record_once("release:7:internal", "a", "version_released", "x v7", "nachgetragen")
    log.record("b", "version_withdrawn", "x v8", "internal → withdrawn")  # written before entries had a ref
    def same(target):
        return lambda e: e["action"] == "version_withdrawn" and e["target"] == target
    assert not log.record_once("withdraw:8", "b", "version_withdrawn", "x v8", "nachgetragen", same=same("x v8"))
    assert log.record_once("withdraw:9", "b", "version_withdrawn", "x v9", "nachgetragen", same=same("x v9"))
    assert [e["target"] for e in reversed(log.entries())] == ["x v7", "x v8", "x v9"]
