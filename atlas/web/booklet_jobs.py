"""Booklets as background jobs: start, ask how far it is, fetch the file.

A booklet of a whole level takes from seconds (51 Ortsteile) to minutes
(1,000 areas), longer than a request should wait. The request that starts
it gets a job id at once; the worker's background pool (atlas.web.background)
makes the file and writes its progress to `<data dir>/booklets/<job>.json` after each area, so
any worker process can answer the status request. Finished files are kept
for a day, then removed when the next job starts.
"""
from __future__ import annotations

import json
import logging
import os
import time
import uuid
from pathlib import Path

from atlas.services.context import Atlas
from atlas.web import background

log = logging.getLogger(__name__)
KEEP_SECONDS = 24 * 3600
FORMATS = {"pdf": "application/pdf", "zip": "application/zip"}


def _folder(atlas: Atlas, create: bool = False) -> Path:
    folder = Path(atlas.settings.data_dir) / "booklets"
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_state(path: Path, state: dict) -> None:
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps(state))
    os.replace(tmp, path)


def _clean(folder: Path) -> None:
    cutoff = time.time() - KEEP_SECONDS
    for f in folder.iterdir():
        if f.stat().st_mtime < cutoff:
            f.unlink(missing_ok=True)


def make(atlas: Atlas, level: str, fmt: str, view: str, lang: str = "de", progress=None) -> bytes:
    """The booklet itself, synchronously (reportlab and matplotlib load with the first booklet, not at start)."""
    from atlas.export import booklet

    build = booklet.booklet_pdf if fmt == "pdf" else booklet.booklet_zip
    return build(atlas, level, view, lang, progress)


def start(atlas: Atlas, level: str, fmt: str, view: str, lang: str, owner: str) -> str:
    """Start a booklet in a background thread; the job id to ask about it."""
    folder = _folder(atlas, create=True)
    _clean(folder)
    job = uuid.uuid4().hex[:16]
    state_path = folder / f"{job}.json"
    state = {"job": job, "state": "running", "done": 0, "total": None, "level": level, "format": fmt, "view": view,
             "owner": owner, "started": time.time()}
    _write_state(state_path, state)

    def progress(done: int, total: int) -> None:
        _write_state(state_path, {**state, "done": done, "total": total})

    def run() -> None:
        try:
            body = make(atlas, level, fmt, view, lang, progress)
            (folder / f"{job}.{fmt}").write_bytes(body)
            final = json.loads(state_path.read_text())
            _write_state(state_path, {**final, "state": "done", "size": len(body), "finished": time.time()})
        except Exception:  # a failed job must say so, not spin forever
            log.exception("booklet %s failed", job)
            _write_state(state_path, {**state, "state": "failed"})
    try:
        background.submit(atlas.settings, "booklet", run)
    except background.Busy:  # too many booklets at once in this worker: the job says so at the first status
        _write_state(state_path, {**state, "state": "failed", "reason": "busy"})
    return job


def status(atlas: Atlas, job: str) -> dict | None:
    if not isinstance(job, str) or not job.isalnum() or len(job) != 16:
        return None
    path = _folder(atlas) / f"{job}.json"
    return json.loads(path.read_text()) if path.exists() else None


def result(atlas: Atlas, job: str) -> tuple[Path, str] | None:
    state = status(atlas, job)
    if state is None or state["state"] != "done":
        return None
    return _folder(atlas) / f"{job}.{state['format']}", FORMATS[state["format"]]
