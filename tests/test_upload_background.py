"""Large uploads are checked in the background: 202 at once, progress while it runs, the report after.

The request that brings a 1 M-row file must not wait for its check (a worker
timeout would kill it half-way); the page polls the upload until it is done.
"""
from __future__ import annotations

import dataclasses
import threading
import time

import pytest

from atlas.ingest import checks, uploads
from atlas.web import background
from tests.conftest import writer
from tests.test_workflow import extract, post, upload

ASYNC = "respond-async"


def _upload_async(client, token, body: bytes):
    return upload(client, token, body, headers={"X-CSRFToken": token, "Prefer": ASYNC})


def _wait_until_checked(client, url: str, seen: list | None = None) -> dict:
    """Poll as assets/upload.js does, until the state is no longer `checking`."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = client.get(url).get_json()
        if body["state"] != "checking":
            return body
        if seen is not None:
            seen.append(body["progress"])
        time.sleep(0.05)
    raise AssertionError(f"{url} still checking after 120 s")


def test_a_large_file_is_accepted_at_once_checked_in_the_background_then_confirmed(scratch_app, scratch_atlas):
    steward, token = writer(scratch_app, "sozialamt")
    resp = _upload_async(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1"))
    assert resp.status_code == 202
    body = resp.get_json()
    assert body["state"] == "checking" and resp.headers["Location"] == f"/api/v1/uploads/{body['upload_id']}"
    report = _wait_until_checked(steward, resp.headers["Location"])
    assert report["state"] == "checked" and report["ok"] and report["rows"] == 51 and len(report["preview"]) == 51
    confirmed = post(steward, token, f"/api/v1/uploads/{body['upload_id']}/confirm")
    assert confirmed.status_code == 201


def test_the_size_threshold_decides_without_the_header(scratch_app, scratch_atlas):
    steward, token = writer(scratch_app, "sozialamt")
    small = extract(scratch_atlas, "sgb2_quote", "2026-Q1")
    assert upload(steward, token, small).status_code == 200  # below the threshold: checked in the request
    scratch_atlas.settings = dataclasses.replace(scratch_atlas.settings, upload_background_kb=1)
    resp = upload(steward, token, small)
    assert resp.status_code == 202
    assert _wait_until_checked(steward, resp.headers["Location"])["ok"]


def test_the_request_does_not_wait_for_the_check(scratch_app, scratch_atlas, monkeypatch):
    """The answer comes while the check is still held: a slow check cannot meet a worker timeout."""
    release = threading.Event()
    real = checks.check_upload

    def held_check(*args, **kwargs):
        assert release.wait(60)
        return real(*args, **kwargs)
    monkeypatch.setattr(uploads, "check_upload", held_check)
    steward, token = writer(scratch_app, "sozialamt")
    resp = _upload_async(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1"))
    assert resp.status_code == 202
    waiting = steward.get(resp.headers["Location"]).get_json()
    assert waiting["state"] == "checking" and waiting["progress"]["stage"] in ("queued", "read")
    assert post(steward, token, f"/api/v1/uploads/{waiting['upload_id']}/confirm").status_code == 409
    release.set()
    assert _wait_until_checked(steward, resp.headers["Location"])["state"] == "checked"


def test_a_check_reports_its_stages_in_order(scratch_atlas):
    heard: list[tuple[str, float]] = []
    steward = scratch_atlas.users.get("sozialamt").principal()
    checked = checks.check_upload(scratch_atlas, steward, "x.csv", extract(scratch_atlas, "sgb2_quote", "2026-Q1"),
                                  progress=lambda stage, share: heard.append((stage, share)))
    assert checked.report.ok
    assert [s for s, _ in heard] == ["read", "cells", "rows", "compare"]
    shares = [share for _, share in heard]
    assert shares == sorted(shares) and 0 <= shares[0] and shares[-1] <= 1


def test_only_the_owner_and_admins_see_a_running_check(scratch_app, scratch_atlas):
    steward, token = writer(scratch_app, "sozialamt")
    resp = _upload_async(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1"))
    url = resp.headers["Location"]
    other, _ = writer(scratch_app, "jugendamt")
    assert other.get(url).status_code == 404
    assert scratch_app.server.test_client().get(url).status_code == 404
    admin, _ = writer(scratch_app, "admin")
    assert admin.get(url).status_code == 200
    _wait_until_checked(steward, url)


def test_a_check_that_breaks_ends_failed_with_a_message_and_cannot_be_confirmed(scratch_app, scratch_atlas,
                                                                                monkeypatch):
    def broken(*args, **kwargs):
        raise MemoryError("simulated")
    monkeypatch.setattr(uploads, "check_upload", broken)
    steward, token = writer(scratch_app, "sozialamt")
    resp = _upload_async(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1"))
    report = _wait_until_checked(steward, resp.headers["Location"])
    assert report["state"] == "failed" and not report["ok"]
    assert report["errors"][0]["message"] == uploads.CHECK_FAILED
    assert post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm").status_code == 409


def test_a_check_whose_worker_died_is_reported_as_interrupted(scratch_atlas):
    steward = scratch_atlas.users.get("sozialamt").principal()
    waiting = uploads.Uploads(scratch_atlas.settings.data_dir)
    pending = waiting.reserve(steward, "x.csv", b"a;b\n")
    assert waiting.get(pending.upload_id, steward).state == "checking"
    pending.updated_at = time.time() - uploads.STALE_SECONDS - 1  # no sign of life since
    waiting._save(waiting.root / pending.upload_id, pending)
    again = waiting.get(pending.upload_id, steward)
    assert again.state == "failed" and again.report["errors"][0]["message"] == uploads.INTERRUPTED


def test_a_full_pool_refuses_with_503_and_retry_after(scratch_app, scratch_atlas):
    settings = dataclasses.replace(scratch_atlas.settings, background_threads=1, background_queue=0)
    scratch_atlas.settings = settings
    hold = threading.Event()
    started = background.submit(settings, "upload-check", lambda: hold.wait(60))
    try:
        with pytest.raises(background.Busy):
            background.submit(settings, "upload-check", lambda: None)
        steward, token = writer(scratch_app, "sozialamt")
        resp = _upload_async(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1"))
        assert resp.status_code == 503 and resp.headers["Retry-After"] == "30"
        assert "erneut" in resp.get_json()["message"]
        background.submit(settings, "booklet", lambda: None).result(10)  # another kind has its own pool
    finally:
        hold.set()
        started.result(10)



def test_a_pool_ends_its_threads_once_idle(scratch_atlas):
    """No idle thread is left in a worker: it would hold memory, and a test runner that kills
    leftover threads would otherwise leave a pool that swallows the next job."""
    settings = scratch_atlas.settings
    hold = threading.Event()
    first = background.submit(settings, "idle-kind", lambda: hold.wait(60))
    second = background.submit(settings, "idle-kind", lambda: None)
    threads = list(background._pools["idle-kind"]._threads)
    hold.set()
    first.result(10), second.result(10)
    for thread in threads:
        thread.join(10)
    assert "idle-kind" not in background._pools and not any(t.is_alive() for t in threads)
    assert background.submit(settings, "idle-kind", lambda: None).result(10) is None  # a new pool serves on
