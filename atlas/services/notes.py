"""Interpretation notes: a steward's or admin's short word on an indicator ("Zählweise geändert ab 2023").

A note belongs to an indicator and, optionally, to one period and/or one
area. It has its own visibility (public or internal), its author and date.
Notes are versioned: a change or a deletion appends a new revision, nothing
is overwritten, and every step goes to the audit log. They live in an
append-only JSON-lines file in the data directory (`notes.jsonl`), like the
audit log: written with O_APPEND under a lock, so several worker processes
can write, and a report made "as of" a date reads the notes as they were.
With `ATLAS_DATABASE_URL` (several app servers) the same lines are rows of
PostgreSQL instead (`atlas.store.shared_state.PgNotes`), because a file lock
is not trustworthy across hosts; everything above the storage is the same.

Who may write: the owning department's stewards and admins
(`may_write_note`). Who may read: whoever may see the indicator, public
notes for everyone and internal ones for staff (`may_read_note`). A note on
an indicator the viewer may not see answers exactly like one that does not
exist.
"""
from __future__ import annotations

import fcntl
import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from atlas.periods import period_end
from atlas.services import queries
from atlas.services.context import Atlas
from atlas.store.shared_state import PgNotes
from auth.permissions import (
    Principal,
    may_know,
    may_read_note,
    may_see_provenance,
    may_write_note,
)

FILE = "notes.jsonl"
MAX_TEXT = 500
VISIBILITIES = ("public", "internal")


class NoteError(ValueError):
    """A note request that cannot be done; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code = status, code
        super().__init__(message)


NOT_FOUND = NoteError(404, "not_found", "Indikator nicht gefunden / indicator not found")


@dataclass(frozen=True)
class Note:
    note_id: str
    rev: int
    indicator_id: str
    period: str | None
    area_id: str | None
    visibility: str
    text: str
    author: str
    at: datetime
    deleted: bool = False

    def as_dict(self, viewer: Principal, department_name: str) -> dict:
        """What the viewer may read: the public learns the department, not the person."""
        return {"id": self.note_id, "rev": self.rev, "indicator": self.indicator_id, "period": self.period,
                "area": self.area_id, "visibility": self.visibility, "text": self.text,
                "author": self.author if may_see_provenance(viewer) else department_name,
                "date": self.at.strftime("%Y-%m-%d"), "at": self.at.isoformat()}


# notes file (or database) → (its stamp, its revisions): read once per change
_READ: dict[str, tuple[tuple, list]] = {}


def _path(atlas: Atlas) -> Path:
    return Path(atlas.settings.data_dir) / FILE


def _database(atlas: Atlas) -> PgNotes | None:
    """The notes' table when the app keeps shared state in PostgreSQL; None: the file."""
    shared = getattr(atlas, "shared", None)
    return shared.notes if shared is not None else None


def revisions(atlas: Atlas) -> list[Note]:
    """Every revision ever written, oldest first (re-read only when the file or the table changed)."""
    database = _database(atlas)
    if database is not None:
        key, stamp = f"postgresql:{database.db.url}", database.stamp()
    else:
        path = _path(atlas)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return []
        key, stamp = str(path), (st.st_ino, st.st_mtime_ns, st.st_size)
    cached = _READ.get(key)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    lines = database.lines() if database is not None else path.read_text(encoding="utf-8").splitlines()
    out = [_parse(line) for line in lines if line.strip()]
    _READ[key] = (stamp, out)
    return out


def _parse(line: str) -> Note:
    """One revision from its JSON line (the same text in the file and in the table)."""
    raw = json.loads(line)
    return Note(raw["note_id"], int(raw["rev"]), raw["indicator_id"], raw.get("period"), raw.get("area_id"),
                raw["visibility"], raw["text"], raw["author"], datetime.fromisoformat(raw["at"]),
                bool(raw.get("deleted")))


def current(atlas: Atlas, as_of: datetime | None = None) -> list[Note]:
    """The newest revision of every note not deleted (as it stood at `as_of`, if given), oldest note first."""
    latest: dict[str, Note] = {}
    for note in revisions(atlas):
        if as_of is not None and note.at > as_of:
            continue
        if note.note_id not in latest or note.rev > latest[note.note_id].rev:
            latest[note.note_id] = note
    return [n for n in latest.values() if not n.deleted]


def _department(atlas: Atlas, indicator_id: str, lang: str = "de") -> str:
    ind = atlas.indicator_by_id[indicator_id]
    return atlas.department_name(ind.department, lang)


def visible(atlas: Atlas, viewer: Principal, indicator_id, area_id: str | None = None, period: str | None = None,
            lang: str = "de", as_of: datetime | None = None) -> list[dict] | None:
    """The notes the viewer may read on an indicator; None if the indicator is not visible to them.

    With `area_id`, notes on that area and notes on no area; with `period`,
    notes on that period and notes on no period.
    """
    if not isinstance(indicator_id, str) or queries.get_indicator(atlas, viewer, indicator_id) is None:
        return None
    dept = _department(atlas, indicator_id, lang)
    return [n.as_dict(viewer, dept) for n in current(atlas, as_of)
            if n.indicator_id == indicator_id and may_read_note(viewer, n.visibility)
            and (area_id is None or n.area_id in (None, area_id))
            and (period is None or n.period in (None, period))]


def for_profile(atlas: Atlas, viewer: Principal, prof, lang: str = "de",
                as_of: datetime | None = None) -> dict[str, list[dict]]:
    """Indicator id → the notes a profile row shows: on its area (or none) and its period (or none)."""
    if not prof.rows:
        return {}
    wanted = {r.indicator.id: r.period for r in prof.rows}
    out: dict[str, list[dict]] = {}
    for n in current(atlas, as_of):
        period = wanted.get(n.indicator_id)
        if period is None or not may_read_note(viewer, n.visibility):
            continue
        if n.area_id in (None, prof.area.area_id) and n.period in (None, period):
            out.setdefault(n.indicator_id, []).append(n.as_dict(viewer, _department(atlas, n.indicator_id, lang)))
    return out


# ------------------------------------------------------------------ writing
def _writable(atlas: Atlas, viewer: Principal, indicator_id) -> None:
    """Refuse like 'not found' when the viewer may not know the indicator; 403 when they may not write."""
    ind = atlas.indicator_by_id.get(indicator_id) if isinstance(indicator_id, str) else None
    if ind is None or not may_know(viewer, ind.visibility, ind.department, ind.id):
        raise NOT_FOUND
    if not may_write_note(viewer, ind.department):
        raise NoteError(403, "forbidden", "Hinweise schreiben nur das zuständige Fachamt und die Administration / "
                                          "only the owning department and admins write notes")


def _clean_text(text) -> str:
    text = " ".join(str(text or "").split())
    if not text:
        raise NoteError(400, "empty", "Der Hinweis ist leer / the note is empty")
    if len(text) > MAX_TEXT:
        raise NoteError(400, "too_long", f"höchstens {MAX_TEXT} Zeichen / at most {MAX_TEXT} characters")
    return text


def _clean_period(period) -> str | None:
    if period in (None, ""):
        return None
    try:
        period_end(str(period))
    except ValueError:
        raise NoteError(400, "bad_period", "Zeitraum: 2024, 2024-Q3 oder 2024-06 / period: 2024, 2024-Q3 or 2024-06") \
            from None
    return str(period)


def _clean_area(atlas: Atlas, area_id) -> str | None:
    if area_id in (None, ""):
        return None
    if not isinstance(area_id, str) or queries.area_info(atlas, area_id).empty:
        raise NoteError(400, "bad_area", "Gebiet unbekannt / unknown area")
    return area_id


def _append(atlas: Atlas, record: dict) -> None:
    """Append one revision (a line) under the notes lock, with the next revision number for its note."""
    database = _database(atlas)
    if database is not None:  # numbered and appended under PostgreSQL's lock, for every server alike
        database.append(record)
        return
    path = _path(atlas)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            record["rev"] = 1 + max((n.rev for n in revisions(atlas) if n.note_id == record["note_id"]), default=0)
            line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, line)
            finally:
                os.close(fd)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def write(atlas: Atlas, viewer: Principal, data: dict) -> dict:
    """Add a note, or change or delete one (`id` given; `delete: true`). Returns the new revision.

    Raises NoteError: 404 for an indicator (or note) the viewer may not
    know, 403 without the right to write, 400 for bad input.
    """
    if not isinstance(data, dict):
        raise NoteError(400, "bad_request", "JSON-Objekt erwartet / a JSON object is expected")
    note_id = data.get("id")
    old = None
    if note_id is not None:
        old = next((n for n in current(atlas) if n.note_id == note_id), None)
        if old is None:
            raise NOT_FOUND
        _writable(atlas, viewer, old.indicator_id)
    else:
        _writable(atlas, viewer, data.get("indicator"))
    if old is not None and data.get("delete") is True:
        record = {**_record(old), "deleted": True}
        action = "note_deleted"
    else:
        visibility = data.get("visibility", old.visibility if old else "internal")
        if visibility not in VISIBILITIES:
            raise NoteError(400, "bad_visibility", "visibility: public oder internal")
        record = {"note_id": old.note_id if old else uuid.uuid4().hex[:12],
                  "indicator_id": old.indicator_id if old else data["indicator"],
                  "period": _clean_period(data.get("period", old.period if old else None)),
                  "area_id": _clean_area(atlas, data.get("area", old.area_id if old else None)),
                  "visibility": visibility, "text": _clean_text(data.get("text", old.text if old else "")),
                  "deleted": False}
        action = "note_changed" if old else "note_added"
    record.update(author=viewer.name, at=atlas.clock.now().isoformat())
    _append(atlas, record)
    atlas.audit.record(viewer.name, action, f"{record['indicator_id']} n{record['note_id']}",
                       f"{record['visibility']}; {record.get('period') or '–'}; {record.get('area_id') or '–'}; "
                       f"{record['text'][:120]}")
    saved = next(n for n in reversed(revisions(atlas)) if n.note_id == record["note_id"])
    return saved.as_dict(viewer, _department(atlas, saved.indicator_id)) | {"deleted": saved.deleted}


def _record(n: Note) -> dict:
    return {"note_id": n.note_id, "indicator_id": n.indicator_id, "period": n.period, "area_id": n.area_id,
            "visibility": n.visibility, "text": n.text}


def history(atlas: Atlas, viewer: Principal, note_id) -> list[dict] | None:
    """Every revision of a note, oldest first, for those who may write it; None otherwise (like 'not found')."""
    revs = [n for n in revisions(atlas) if n.note_id == note_id]
    if not revs:
        return None
    try:
        _writable(atlas, viewer, revs[0].indicator_id)
    except NoteError:
        return None
    dept = _department(atlas, revs[0].indicator_id)
    return [n.as_dict(viewer, dept) | {"deleted": n.deleted} for n in revs]
