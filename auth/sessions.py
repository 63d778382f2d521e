"""The server's record of open sign-in sessions, shared by every worker process.

Why: the session cookie is signed, not secret-free state on the server. A
copy of it (a proxy log, a shared PC, malware) stayed signed in after
logout, because the cookie alone decided. Now each sign-in gets a random
session id inside the cookie and a record here; logout closes the record,
and a cookie whose record is not open is anonymous, in every worker.

Deny by default: a session counts only while its record says "open", so a
lost or unreadable file signs everybody out instead of letting closed
sessions back in. Password, role and status changes end sessions through the
account's nonce (auth/users.py); this registry ends exactly one session.

Why a file and not a store table: every store write moves the manifest
generation, which rebuilds every worker's DuckDB tables and drops their
answer caches, and it waits for the writer lock while a large upload is
confirmed. A sign-in must do neither. The file is append-only JSON lines
(only SHA-256 hashes of the ids, never the ids), written under an exclusive
lock and read incrementally per request after a `stat` (no read when nothing
changed). It lives in `<data dir>/sessions/`, which backups leave out on
purpose: a restore signs everybody out rather than reopening sessions closed
after the backup. Several app servers on other hosts do not share this
file: with ATLAS_DATABASE_URL the app hands auth a registry in PostgreSQL
with the same three methods instead (atlas/store/shared_state.py,
docs/scaling.md).

Records are kept at most `max_age` seconds (the absolute session lifetime):
a session ends then however active it is, and the file is compacted to the
open records when it has grown well beyond them.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

COMPACT_MIN_LINES = 1000  # never compact a small file: rewriting it costs more than reading it


def _digest(session_id: str) -> str:
    """What the file keeps of a session id: its hash, so reading the file does not hand out sessions."""
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


def _header() -> bytes:
    """The first line of every sessions file: a random id of this file (see `_refresh`)."""
    return (json.dumps({"op": "file", "sid": "", "id": secrets.token_hex(8)}) + "\n").encode("utf-8")


def _file_id(first_line: bytes) -> str:
    try:
        record = json.loads(first_line)
        return str(record.get("id", "")) if record.get("op") == "file" else ""
    except (ValueError, AttributeError):
        return ""


@dataclass(frozen=True)
class OpenSession:
    username: str
    opened_at: float


class SessionRegistry:
    """Open sessions by hashed id; `open`, `close` and `is_open` are all a caller needs."""

    def __init__(self, folder: Path, max_age: float):
        self.folder = Path(folder)
        self.path = self.folder / "open.jsonl"
        self.max_age = float(max_age)
        self._mutex = threading.Lock()
        self._stamp: tuple[int, int] | None = None  # (inode, bytes read) of the file as last read
        self._file_id = ""  # the first line's id: tells a compacted file from the one read before
        self._open: dict[str, OpenSession] = {}
        self._lines = 0  # lines read since the last full read (for the compaction decision)

    # ------------------------------------------------------------------ the three operations
    def open(self, username: str) -> str:
        """Record a new session of `username`; returns its id (goes into the signed cookie only)."""
        session_id = secrets.token_urlsafe(32)
        self._append({"op": "open", "sid": _digest(session_id), "user": username, "at": round(time.time(), 3)})
        return session_id

    def close(self, session_id: str) -> None:
        """End one session everywhere (logout). Closing an unknown or closed id does nothing."""
        if session_id:
            self._append({"op": "close", "sid": _digest(session_id), "at": round(time.time(), 3)})

    def is_open(self, session_id: str, username: str) -> bool:
        """Is this session open, younger than the absolute lifetime, and the sign-in of this account?"""
        if not session_id:
            return False
        with self._mutex:
            self._refresh()
            found = self._open.get(_digest(session_id))
        return found is not None and found.username == username and time.time() - found.opened_at <= self.max_age

    # ------------------------------------------------------------------ the file
    def _append(self, record: dict) -> None:
        """One line, under the lock that compaction takes too (so no line lands in a replaced file)."""
        line = (json.dumps(record, separators=(",", ":")) + "\n").encode("utf-8")
        with self._locked():
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                if os.fstat(fd).st_size == 0:
                    line = _header() + line
                os.write(fd, line)
                os.fsync(fd)  # a logout must survive a crash right after it answered
            finally:
                os.close(fd)
            if record["op"] == "open":
                self._compact_if_large()

    def _locked(self):
        """An exclusive lock on `<folder>/.lock` for writers (readers never lock)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        return _FileLock(self.folder / ".lock")

    def _refresh(self) -> None:
        """Read what was appended since the last call; the whole file after a compaction replaced it."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            self._stamp, self._open, self._lines = None, {}, 0
            return
        if self._stamp is not None and self._stamp == (st.st_ino, st.st_size):
            return
        with open(self.path, "rb") as fh:
            # Another file than the one read before (compacted; an inode number can be reused): read it whole.
            full = (self._stamp is None or self._stamp[0] != st.st_ino or st.st_size < self._stamp[1]
                    or _file_id(fh.readline()) != self._file_id)
            start = 0 if full else self._stamp[1]
            if full:
                self._open, self._lines, self._file_id = {}, 0, ""
            fh.seek(start)
            data = fh.read(max(st.st_size - start, 0))
        complete = data[:data.rfind(b"\n") + 1]  # a line still being written is read next time
        for raw in complete.splitlines():
            self._apply(raw)
        self._stamp = (st.st_ino, start + len(complete))

    def _apply(self, raw: bytes) -> None:
        try:
            record = json.loads(raw)
            op, sid = record["op"], record["sid"]
        except (ValueError, KeyError, TypeError):
            return  # a damaged line opens nothing
        self._lines += 1
        if op == "file":
            self._file_id = str(record.get("id", ""))
        elif op == "open":
            self._open[sid] = OpenSession(str(record.get("user", "")), float(record.get("at", 0)))
        elif op == "close":
            self._open.pop(sid, None)

    def _compact_if_large(self) -> None:
        """Rewrite the file as its open, unexpired records once it is mostly closed or expired ones.

        Called with the lock held. Readers notice the new inode and read the
        new file whole.
        """
        with self._mutex:
            self._refresh()
            now = time.time()
            live = {sid: s for sid, s in self._open.items() if now - s.opened_at <= self.max_age}
            if self._lines < max(COMPACT_MIN_LINES, 4 * len(live)):
                return
            tmp = self.path.with_suffix(f".tmp{os.getpid()}")
            lines = [json.dumps({"op": "open", "sid": sid, "user": s.username, "at": s.opened_at},
                                separators=(",", ":")) for sid, s in live.items()]
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            try:
                os.write(fd, _header() + "".join(line + "\n" for line in lines).encode("utf-8"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, self.path)
            self._stamp = None
            self._refresh()


class _FileLock:
    """`with _FileLock(path):` an exclusive flock, held by one writer of any process at a time."""

    def __init__(self, path: Path):
        self.path = path
        self._fh = None

    def __enter__(self) -> _FileLock:
        self._fh = open(self.path, "a")
        fcntl.flock(self._fh, fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc) -> None:
        fcntl.flock(self._fh, fcntl.LOCK_UN)
        self._fh.close()
