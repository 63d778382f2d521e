"""Pending uploads: a checked file waits in `data_dir/uploads/<id>/` until its steward confirms it.

Outside the store: nothing there is ever read as data. An upload is visible
only to its owner (and admins); unconfirmed ones are purged after 30 days.
"""
from __future__ import annotations

import errno
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from atlas.catalog import Indicator
from atlas.ingest.checks import Checked, check_upload
from atlas.ingest.tablefile import problem
from atlas.messages import Message
from atlas.services import queries, territory, versions
from atlas.services.context import Atlas
from atlas.services.versions import NOT_FOUND, Delivery, VersionError
from atlas.store.shared_state import shared_for
from auth.permissions import Principal, may_deliver, owns_upload

log = logging.getLogger(__name__)
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
# A background check reports progress at least every few seconds; silence this long means its worker died.
STALE_SECONDS = 300
INTERRUPTED = Message("chk_interrupted")
CHECK_FAILED = Message("chk_check_failed")


def safe_file_name(name: str) -> str:
    """Only the base name, printable and short: never a path (`../../etc/passwd` → `passwd`)."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    return base[:120] or "upload"


@dataclass
class Pending:
    upload_id: str
    owner: str
    file_name: str
    checksum: str
    created_at: str
    report: dict
    state: str = "checked"  # (checking →) checked → confirmed | cancelled; checking → failed
    version_ids: list[int] = field(default_factory=list)
    progress: dict = field(default_factory=dict)  # while checking: stage, share done (0..1)
    updated_at: float = 0.0  # last sign of life of a background check (epoch seconds)


DISK_FULL = Message("chk_disk_full")
# The last upload this process checked, with the identity (size, mtime) of the file it wrote: confirming
# it stores that frame instead of reading a million rows back from disk (issue 19). One upload only, so a
# worker keeps at most one checked frame beyond its requests.
_LAST_CHECKED: dict[str, tuple[tuple[int, int], pd.DataFrame]] = {}
_LAST_CHECKED_LOCK = threading.Lock()


def _file_identity(path: Path) -> tuple[int, int] | None:
    """Size and modification time: a file rewritten or removed since the check no longer matches."""
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def _remember(upload_id: str, path: Path, values: pd.DataFrame) -> None:
    """Keep the frame just written to `path` as this process's last checked upload."""
    identity = _file_identity(path)
    with _LAST_CHECKED_LOCK:
        _LAST_CHECKED.clear()
        if identity is not None:
            _LAST_CHECKED[upload_id] = (identity, values)


def _recall(upload_id: str, path: Path) -> pd.DataFrame | None:
    """The remembered frame of this upload if `path` is still the file written with it; else None."""
    with _LAST_CHECKED_LOCK:
        kept = _LAST_CHECKED.get(upload_id)
    if kept is None or kept[0] != _file_identity(path):
        return None
    return kept[1]


class Uploads:
    """Pending uploads live in `data_dir/uploads/<id>/`, outside the store: nothing there is ever read as data.

    Their metadata (owner, state, report) is `meta.json` beside the values,
    or a row in PostgreSQL when the app runs with ATLAS_DATABASE_URL: one
    server checks an upload, another confirms it, and both must agree on
    its state at once (the values file is written before the state says so).
    """

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / "uploads"
        shared = shared_for(data_dir)
        self._meta = shared.uploads if shared is not None else None

    def _dir(self, upload_id: str) -> Path | None:
        if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
            return None
        path = self.root / upload_id
        if self._meta is not None:
            return path if self._meta.exists(upload_id) else None
        return path if (path / "meta.json").exists() else None

    def create(self, viewer: Principal, file_name: str, content: bytes, checked: Checked) -> Pending:
        """A pending upload checked in the request itself (small files)."""
        pending = self.reserve(viewer, file_name, content)
        try:
            self.finish(pending, checked)
        except OSError:  # a full disk: no upload is left waiting for a check that never comes
            self.give_up(pending, DISK_FULL)
            raise
        return pending

    def reserve(self, viewer: Principal, file_name: str, content: bytes) -> Pending:
        """A pending upload whose check is still to come (state `checking`)."""
        self.purge()  # housekeeping on the way: uploads nobody confirmed within 30 days go
        upload_id = secrets.token_urlsafe(18)
        folder = self.root / upload_id
        folder.mkdir(parents=True)
        pending = Pending(upload_id, viewer.name, safe_file_name(file_name), hashlib.sha256(content).hexdigest(),
                          datetime.now().replace(microsecond=0).isoformat(), {}, "checking",
                          progress={"stage": "queued", "share": 0.0}, updated_at=time.time())
        self._save(folder, pending)
        return pending

    def finish(self, pending: Pending, checked: Checked) -> None:
        """File the check's report (and the values, if it passed): the upload is `checked`."""
        folder = self.root / pending.upload_id
        if checked.report.ok:
            checked.values.to_parquet(folder / "values.parquet", index=False)
            _remember(pending.upload_id, folder / "values.parquet", checked.values)
        pending.report, pending.state, pending.progress = checked.report.to_json(), "checked", {}
        pending.updated_at = time.time()
        self._save(folder, pending)

    def fail(self, pending: Pending, message: str) -> None:
        """A check that could not finish: the steward reads why and uploads again."""
        pending.report = {"ok": False, "errors": [problem(message)], "warnings": []}
        pending.state, pending.progress, pending.updated_at = "failed", {}, time.time()
        self._save(self.root / pending.upload_id, pending)

    def give_up(self, pending: Pending, message: str) -> None:
        """A check that could not be kept: no half-written values, and the upload `failed` with why, or, when not
        even that record can be written (a full disk), no upload at all (the steward uploads again)."""
        (self.root / pending.upload_id / "values.parquet").unlink(missing_ok=True)
        try:
            self.fail(pending, message)
        except OSError:
            shutil.rmtree(self.root / pending.upload_id, ignore_errors=True)

    def note_progress(self, pending: Pending, stage: str, share: float) -> None:
        """How far a background check is; written at most twice a second (any worker reads it)."""
        now = time.time()
        if now - pending.updated_at < 0.5 and stage == pending.progress.get("stage"):
            return
        pending.progress, pending.updated_at = {"stage": stage, "share": round(min(max(share, 0.0), 1.0), 3)}, now
        self._save(self.root / pending.upload_id, pending)

    def _save(self, folder: Path, pending: Pending) -> None:
        if self._meta is not None:
            self._meta.save(pending.upload_id, asdict(pending))
            return
        tmp = folder / f"meta.json.tmp{os.getpid()}-{threading.get_ident()}"
        tmp.write_text(json.dumps(asdict(pending), ensure_ascii=False))
        tmp.replace(folder / "meta.json")

    def get(self, upload_id: str, viewer: Principal) -> Pending | None:
        """The upload if it is the viewer's own (admins see all); None otherwise, as if it did not exist."""
        folder = self._dir(upload_id)
        if folder is None:
            return None
        meta = self._meta.load(upload_id) if self._meta is not None else json.loads((folder / "meta.json").read_text())
        if meta is None:  # purged in between
            return None
        pending = Pending(**meta)
        if not owns_upload(viewer, pending.owner):
            return None
        if pending.state == "checking" and time.time() - pending.updated_at > STALE_SECONDS:
            self.fail(pending, INTERRUPTED)  # its worker died (restart, kill): say so instead of spinning
        return pending

    def values(self, upload_id: str) -> pd.DataFrame:
        """The checked values: the frame this process checked, if the file is still the one it wrote, else
        the file (another worker checked it, or this one has since checked another upload)."""
        path = self.root / upload_id / "values.parquet"
        frame = _recall(upload_id, path)
        # A shallow copy (copy-on-write): a caller that changes its frame cannot change what confirm stores.
        return frame.copy(deep=False) if frame is not None else pd.read_parquet(path)

    def mark(self, pending: Pending, state: str, version_ids: list[int] | None = None) -> None:
        folder = self._dir(pending.upload_id)
        pending.state = state
        pending.version_ids = version_ids or []
        self._save(folder, pending)
        with _LAST_CHECKED_LOCK:  # stored or dropped: the frame is not needed again
            _LAST_CHECKED.pop(pending.upload_id, None)
        if state == "cancelled":
            (folder / "values.parquet").unlink(missing_ok=True)

    def purge(self, older_than_days: int = 30) -> int:
        """Remove pending uploads nobody confirmed (housekeeping)."""
        n = 0
        cutoff = datetime.now().timestamp() - older_than_days * 86400
        for upload_id in self._meta.purge(cutoff) if self._meta is not None else []:
            shutil.rmtree(self.root / upload_id, ignore_errors=True)
            n += 1
        for folder in self.root.glob("*") if self.root.exists() else []:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                n += 1
        return n


def check_in_background(atlas: Atlas, viewer: Principal, pending: Pending, content: bytes, options: dict) -> None:
    """The body of a background check: check, file the outcome, report progress on the way.

    `options` are `check_upload`'s keyword arguments (mapping, sheet, ...).
    Any failure ends in the state `failed` with a message, never a check
    that spins for ever.
    """
    waiting = Uploads(atlas.settings.data_dir)
    try:
        checked = check_upload(atlas, viewer, pending.file_name, content,
                               progress=lambda stage, share: waiting.note_progress(pending, stage, share), **options)
        waiting.note_progress(pending, "saving", 1.0)
        waiting.finish(pending, checked)
        log.info("upload %s by %s checked in the background: %d rows, %d errors", pending.upload_id, viewer.name,
                 checked.report.rows, len(checked.report.errors))
    except Exception as exc:
        log.exception("background check of upload %s failed", pending.upload_id)
        full = isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)
        waiting.give_up(pending, DISK_FULL if full else CHECK_FAILED)


def preview_table(atlas: Atlas, values: pd.DataFrame, indicator: Indicator, period: str) -> queries.ValueTable | None:
    """An upload's values for one indicator and period, shaped like the map's table (for the preview map)."""
    part = values[(values["indicator_id"] == indicator.id) & (values["period"] == period)]
    set_id = queries.set_for_period(atlas, period)
    if part.empty or set_id is None:
        return None
    base = territory.base_level(atlas)
    areas = queries.areas(atlas, base, set_id)[["area_id", "name", "parent_id"]]
    rows = areas.merge(part[["area_id", "value", "numerator", "denominator", "status"]], on="area_id", how="left")
    rows["status"] = rows["status"].fillna("missing")
    return queries.ValueTable(indicator, period, base, set_id, rows)


def pending_indicators(atlas: Atlas, pending: Pending) -> dict[str, Indicator]:
    """The catalogue as the upload sees it: existing indicators plus those it creates."""
    created = {d["id"]: Indicator(**d) for d in pending.report.get("new_indicators", [])}
    return {**atlas.indicator_by_id, **created}


def confirm(atlas: Atlas, viewer: Principal, upload_id: str, projection: str | None = None) -> list[int]:
    """Store a checked upload as new draft versions; returns their ids.

    `projection` names the variant when the upload holds projected figures
    ("Hauptvariante 2025"): its versions are marked so charts and maps say
    "Prognose". A retry returns what the first confirmation stored.

    Idempotent: the versions record their upload (`versions.upload_note`) in
    the store's transaction, and under the store's write lock a confirmation
    first looks for them. So a double click or two stewards confirming at
    once store it once (the second gets the same ids, or 409 once the first
    has finished), and a retry after the process died right after the
    manifest swap stores nothing again but completes what the first left
    undone: the audit entries (each written once) and the upload's state.
    """
    uploads = Uploads(atlas.settings.data_dir)
    if uploads.get(upload_id, viewer) is None:
        raise NOT_FOUND
    variant = versions.projection_variant(projection)
    with atlas.store.writing() as tx:
        pending = uploads.get(upload_id, viewer)
        new_ids = [d["id"] for d in pending.report.get("new_indicators", [])]
        stored = versions.stored_delivery(tx, upload_id, new_ids)
        if stored and pending.state != "confirmed":  # stored, but its confirmation did not finish: finish it
            _finish_confirm(atlas, viewer, uploads, pending, stored)
            return [r["version_id"] for r in stored]
        if pending.state != "checked" or not pending.report.get("ok"):
            raise VersionError(409, "not_confirmable", Message(
                "chk_not_confirmable" if pending.report.get("ok") else "chk_not_confirmable_errors",
                state=pending.state))
        values = uploads.values(upload_id)
        lookup = pending_indicators(atlas, pending)
        for ind_id in values["indicator_id"].unique():
            ind = lookup.get(ind_id)
            if ind is None or not may_deliver(viewer, ind.department):  # rights may have changed since the check
                raise VersionError(403, "forbidden", Message("chk_no_right_for", id=ind_id))
        delivery = Delivery(values, pending.file_name, pending.checksum, versions.upload_note(upload_id),
                            pending.report.get("new_indicators", []), pending.report.get("boundary_set"),
                            variant)
        rows = versions.add_versions(atlas, viewer, tx, delivery)
    with atlas.store.writing():  # commits nothing: serialises finishing with a concurrent retry
        pending = uploads.get(upload_id, viewer)
        if pending.state != "confirmed":
            _finish_confirm(atlas, viewer, uploads, pending, rows)
    return [r["version_id"] for r in rows]


def _finish_confirm(atlas: Atlas, viewer: Principal, uploads: Uploads, pending: Pending, rows: list[dict]) -> None:
    """After the store's commit: the audit entries (once each, keyed by the upload), then the upload's state.

    In this order, so an upload marked confirmed always has its entries; the
    caller holds the store's write lock.
    """
    delivery = Delivery(pd.DataFrame(), pending.file_name, pending.checksum, versions.upload_note(pending.upload_id),
                        pending.report.get("new_indicators", []), pending.report.get("boundary_set"))
    versions.audit_versions(atlas, viewer, delivery, rows, ref=f"upload:{pending.upload_id}")
    uploads.mark(pending, "confirmed", [r["version_id"] for r in rows])


def cancel(atlas: Atlas, viewer: Principal, upload_id: str) -> None:
    """Drop a checked upload the steward does not want stored."""
    uploads = Uploads(atlas.settings.data_dir)
    pending = uploads.get(upload_id, viewer)
    if pending is None:
        raise NOT_FOUND
    with atlas.store.writing() as tx:  # not while a confirmation stores it, nor after one that died half done
        pending = uploads.get(upload_id, viewer)
        if pending.state == "checked" and versions.stored_delivery(tx, upload_id, []):
            raise VersionError(409, "not_cancellable", Message("chk_already_stored"))
        if pending.state == "checked":
            uploads.mark(pending, "cancelled")
