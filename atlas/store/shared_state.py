"""State that every app server must see alike: in the data directory (embedded) or in PostgreSQL.

Why one module: the embedded default keeps this state in files of the data
directory, held consistent by `flock` (one host, any number of worker
processes). Several hosts sharing the data directory over network storage
cannot trust `flock` or a `stat` cache, so with `ATLAS_DATABASE_URL` set the
same pieces live in PostgreSQL instead, behind the same small interfaces:

- `FilePointer` / `PgPointer`: the writer lock and the current manifest
  (`Store.manifest` and `Store.writing` use nothing else). PostgreSQL holds
  the lock as `pg_advisory_lock` on the writer's own connection and the
  manifest as one row (generation + body), swapped in one transaction;
  readers ask for the generation (one indexed row, no body) and read the
  body only when it moved. `manifest.json` is still written after every
  swap as a mirror, so backups and an embedded start read the same store.
- `PgSessions`: the open sign-in sessions (the file version is
  `auth.sessions.SessionRegistry`; same three methods).
- `PgAuditLog`: the audit log (the file version is `auth.audit.AuditLog`;
  same methods, `record_once` kept idempotent by a unique `ref`).
- `PgUploadMeta`: the metadata of pending uploads (their value files stay
  on shared storage; the file version is `meta.json` per upload).
- `PgNotes`: the revisions of interpretation notes (the file version is
  `notes.jsonl`, written by `atlas.services.notes`; same lines, one row each).

Accounts and tokens are store tables listed in the manifest, so they follow
the pointer. The schema is created on first use (`CREATE TABLE IF NOT
EXISTS`, serialised by an advisory lock); a store that already exists in the
data directory is adopted on first use (its manifest, audit log and notes
are copied in once). One database (or schema: `?options=-csearch_path=...`) per
store; lock keys include the schema, so two stores in one database do not
wait for each other.

This module imports no auth code (the store layer sits below it): the
session and audit classes match auth's by their methods, and the app's
context hands them to auth (`atlas.services.context.Atlas`).
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol, runtime_checkable

MANIFEST = "manifest.json"
AUDIT = "audit.jsonl"  # the file names of the embedded side, also used by backups in PostgreSQL mode
NOTES = "notes.jsonl"
# Left in the data directory by the first start with PostgreSQL: a backup run without ATLAS_DATABASE_URL
# would copy only the files and miss the audit log and the notes, so it refuses (atlas/store/backup.py).
IN_POSTGRES = ".postgresql"


# ============================================================================ the interfaces
@runtime_checkable
class Pointer(Protocol):
    """The current manifest and the writer lock (`FilePointer`, `PgPointer`); `Store` uses nothing else."""

    def exists(self) -> bool: ...
    def stamp(self) -> tuple: ...
    def read(self) -> dict: ...
    def locked(self): ...  # a context manager yielding the lock holder's handle: `current()`, `swap(manifest)`
    def current(self) -> dict | None: ...
    def swap(self, manifest: dict) -> None: ...


@runtime_checkable
class Sessions(Protocol):
    """Open sign-in sessions (`auth.sessions.SessionRegistry`, `PgSessions`)."""

    def open(self, username: str) -> str: ...
    def close(self, session_id: str) -> None: ...
    def is_open(self, session_id: str, username: str) -> bool: ...


@runtime_checkable
class Audit(Protocol):
    """The audit log (`auth.audit.AuditLog`, `PgAuditLog`); `path` is None when it is not a file."""

    def record(self, actor: str, action: str, target: str = "", detail: str = "", ip: str = "",
               ref: str = "") -> None: ...
    def record_once(self, ref: str, actor: str, action: str, target: str = "", detail: str = "",
                    ip: str = "", same=None) -> bool: ...
    def has(self, ref: str, same=None) -> bool: ...
    def entries(self, limit: int = 200) -> list[dict]: ...

SCHEMA = """
CREATE TABLE IF NOT EXISTS atlas_manifest (
    id integer PRIMARY KEY CHECK (id = 1),
    generation bigint NOT NULL,
    body text NOT NULL,          -- the manifest as written (text keeps its key order)
    written_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE IF NOT EXISTS atlas_sessions (
    sid text PRIMARY KEY,        -- SHA-256 of the session id, never the id
    username text NOT NULL,
    opened_at double precision NOT NULL,
    closed_at double precision);
CREATE INDEX IF NOT EXISTS atlas_sessions_opened ON atlas_sessions (opened_at);
CREATE TABLE IF NOT EXISTS atlas_audit (
    seq bigserial PRIMARY KEY,
    at text NOT NULL, actor text NOT NULL, action text NOT NULL,
    target text NOT NULL DEFAULT '', detail text NOT NULL DEFAULT '', ip text NOT NULL DEFAULT '',
    ref text);
CREATE UNIQUE INDEX IF NOT EXISTS atlas_audit_ref ON atlas_audit (ref) WHERE ref IS NOT NULL;
CREATE TABLE IF NOT EXISTS atlas_uploads (
    upload_id text PRIMARY KEY,
    body text NOT NULL,          -- the pending upload's metadata (atlas.ingest.uploads.Pending as JSON)
    created_at double precision NOT NULL,
    updated_at double precision NOT NULL);
CREATE TABLE IF NOT EXISTS atlas_notes (
    seq bigserial PRIMARY KEY,   -- append order; appends are serialised, so it is also commit order
    note_id text NOT NULL,
    rev integer NOT NULL,
    body text NOT NULL,          -- the revision exactly as a line of notes.jsonl (one JSON object)
    UNIQUE (note_id, rev));
"""


# ============================================================================ the embedded default
class FilePointer:
    """The manifest as `manifest.json` (swapped with `os.replace`) and the writer lock as `flock`."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.path = self.data_dir / MANIFEST

    def exists(self) -> bool:
        return self.path.exists()

    def stamp(self) -> tuple:
        """Changes whenever the manifest was replaced; FileNotFoundError when there is none."""
        st = os.stat(self.path)
        return st.st_ino, st.st_mtime_ns, st.st_size

    def read(self) -> dict:
        return json.loads(self.path.read_text())

    @contextmanager
    def locked(self) -> Iterator[FilePointer]:
        """The writer lock of every process on this host; `swap` inside it is the commit."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.data_dir / ".write.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield self
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def current(self) -> dict | None:
        """The manifest as the lock holder sees it (None: no store yet)."""
        return self.read() if self.exists() else None

    def swap(self, manifest: dict) -> None:
        write_manifest_file(self.path, manifest)


def write_manifest_file(path: Path, manifest: dict) -> None:
    """Write `manifest.json` whole and durable, then replace the old one: readers see one or the other."""
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    try:
        tmp.write_text(json.dumps(manifest, indent=1))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
    except BaseException:  # a full disk: the old manifest stays, and no half-written copy beside it
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


# ============================================================================ PostgreSQL
class Database:
    """Connections to the shared PostgreSQL: one per thread and process (never across a fork)."""

    def __init__(self, url: str, data_dir: Path):
        self.url = url
        self.data_dir = Path(data_dir)
        self._local = threading.local()
        self._ready = False
        self._ready_lock = threading.Lock()

    def connect(self, autocommit: bool = True):
        """A new connection (the writer's own: its advisory lock ends with it, also when the process dies)."""
        import psycopg  # only installed setups with ATLAS_DATABASE_URL need it at all
        return psycopg.connect(self.url, autocommit=autocommit, connect_timeout=10)

    def conn(self):
        """This thread's connection in autocommit mode, opened on first use after any fork."""
        held = getattr(self._local, "conn", None)
        if held is None or held[0] != os.getpid() or held[1].closed or held[1].broken:
            held = (os.getpid(), self.connect())
            self._local.conn = held
            self.ensure_schema()
        return held[1]

    def execute(self, sql: str, params: tuple | list = ()) -> list[tuple]:
        """One statement on this thread's connection; its rows (none for a write).

        A read on a connection the server dropped (PostgreSQL restarted, a
        failover) is tried once more on a new connection, so one restart does
        not fail one request per thread; a write is not repeated (it may
        have happened), its request fails and the next one reconnects.
        """
        import psycopg
        try:
            cur = self.conn().execute(sql, params)
        except psycopg.OperationalError:
            if not sql.lstrip().upper().startswith("SELECT"):
                raise
            self._local.conn = None
            cur = self.conn().execute(sql, params)
        return cur.fetchall() if cur.description else []

    def lock_key(self, name: str) -> int:
        """A 64-bit advisory lock key for `name` in the connection's schema (stores per schema do not collide)."""
        schema = self.conn().execute("SELECT current_schema()").fetchone()[0] or "public"
        digest = hashlib.sha256(f"ortsatlas:{schema}:{name}".encode()).digest()
        return int.from_bytes(digest[:8], "big", signed=True)

    def ensure_schema(self) -> None:
        """The tables, created once by whichever server comes first; a store already in the data dir adopted."""
        if self._ready:
            return
        with self._ready_lock:
            if self._ready:
                return
            with self.connect(autocommit=False) as conn:
                schema = conn.execute("SELECT current_schema()").fetchone()[0] or "public"
                key = int.from_bytes(hashlib.sha256(f"ortsatlas:{schema}:schema".encode()).digest()[:8], "big",
                                     signed=True)
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
                conn.execute(SCHEMA)
                self._adopt(conn)
                conn.commit()
            self._mark()
            self._ready = True

    def _mark(self) -> None:
        """Note in the data directory that its state is in PostgreSQL (once; a read-only mount is no error)."""
        marker = self.data_dir / IN_POSTGRES
        if not marker.exists():
            try:
                marker.write_text("The audit log, notes, sessions and pending uploads of this data directory are "
                                  "kept in PostgreSQL (ATLAS_DATABASE_URL); see docs/scaling.md.\n")
            except OSError:
                pass

    def _adopt(self, conn) -> None:
        """Copy an embedded store's (or a restored backup's) manifest, audit log and notes in, once.

        Each is taken only into an empty table, so a restart never copies
        twice and a file left behind after the adoption is never read again.
        """
        manifest = self.data_dir / MANIFEST
        if conn.execute("SELECT 1 FROM atlas_manifest").fetchone() is None and manifest.exists():
            body = manifest.read_text()
            conn.execute("INSERT INTO atlas_manifest (id, generation, body) VALUES (1, %s, %s)",
                         (int(json.loads(body)["generation"]), body))
        audit = self.data_dir / AUDIT
        if conn.execute("SELECT 1 FROM atlas_audit LIMIT 1").fetchone() is None and audit.exists():
            for line in audit.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    e = json.loads(line)
                    conn.execute("INSERT INTO atlas_audit (at, actor, action, target, detail, ip, ref) "
                                 "VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                                 (e.get("at", ""), e.get("actor", ""), e.get("action", ""), e.get("target", ""),
                                  e.get("detail", ""), e.get("ip", ""), e.get("ref") or None))
        notes = self.data_dir / NOTES
        if conn.execute("SELECT 1 FROM atlas_notes LIMIT 1").fetchone() is None and notes.exists():
            for line in notes.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    raw = json.loads(line)
                    conn.execute("INSERT INTO atlas_notes (note_id, rev, body) VALUES (%s, %s, %s) "
                                 "ON CONFLICT DO NOTHING", (raw["note_id"], int(raw["rev"]), line.strip()))


class PgPointer:
    """The current manifest and the writer lock in PostgreSQL (see the module's doc)."""

    def __init__(self, db: Database):
        self.db = db
        self.path = db.data_dir / MANIFEST  # the mirror
        self._writer = None  # the lock holder's connection, only inside `locked`

    def exists(self) -> bool:
        return bool(self.db.execute("SELECT 1 FROM atlas_manifest WHERE id = 1"))

    def stamp(self) -> tuple:
        """The generation alone (one small row): the body is read only when it moved."""
        rows = self.db.execute("SELECT generation FROM atlas_manifest WHERE id = 1")
        if not rows:
            raise FileNotFoundError("no manifest in the database")
        return (rows[0][0],)

    def read(self) -> dict:
        rows = self.db.execute("SELECT body FROM atlas_manifest WHERE id = 1")
        if not rows:
            raise FileNotFoundError("no manifest in the database")
        return json.loads(rows[0][0])

    @contextmanager
    def locked(self) -> Iterator[PgPointer]:
        """`pg_advisory_lock` on a connection of this writer's own, for as long as it writes.

        A writer that dies loses its connection and so the lock; a swap it
        had not committed is rolled back by PostgreSQL.
        """
        self.db.ensure_schema()
        key = self.db.lock_key("writer")
        conn = self.db.connect(autocommit=True)
        try:
            conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            writer = PgPointer(self.db)
            writer._writer = conn
            yield writer
        finally:
            try:
                conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
            finally:
                conn.close()

    def current(self) -> dict | None:
        """The manifest as the lock holder sees it: always read from the database, never a cache.

        A writer killed between its commit and the mirror leaves `manifest.json`
        one generation behind; the next writer puts it right before it starts.
        """
        row = self._writer.execute("SELECT body FROM atlas_manifest WHERE id = 1").fetchone()
        if row is None:
            return None
        manifest = json.loads(row[0])
        try:
            mirrored = json.loads(self.path.read_text()).get("generation")
        except (OSError, ValueError):
            mirrored = None
        if mirrored != manifest["generation"]:
            write_manifest_file(self.path, manifest)
        return manifest

    def swap(self, manifest: dict) -> None:
        """Generation and body in one transaction (the commit), then the mirror file."""
        body = json.dumps(manifest, indent=1)
        with self._writer.transaction():
            self._writer.execute(
                "INSERT INTO atlas_manifest (id, generation, body) VALUES (1, %s, %s) ON CONFLICT (id) DO UPDATE "
                "SET generation = EXCLUDED.generation, body = EXCLUDED.body, written_at = now()",
                (int(manifest["generation"]), body))
        write_manifest_file(self.path, manifest)


class PgSessions:
    """Open sign-in sessions by hashed id, like `auth.sessions.SessionRegistry` (open, close, is_open)."""

    def __init__(self, db: Database, max_age: float):
        self.db = db
        self.max_age = float(max_age)

    def open(self, username: str) -> str:
        session_id = secrets.token_urlsafe(32)
        now = time.time()
        self.db.execute("INSERT INTO atlas_sessions (sid, username, opened_at) VALUES (%s, %s, %s)",
                        (_digest(session_id), username, now))
        # Housekeeping on the way: records past the absolute lifetime can never count again.
        self.db.execute("DELETE FROM atlas_sessions WHERE opened_at < %s", (now - self.max_age - 60,))
        return session_id

    def close(self, session_id: str) -> None:
        if session_id:
            self.db.execute("UPDATE atlas_sessions SET closed_at = %s WHERE sid = %s AND closed_at IS NULL",
                            (time.time(), _digest(session_id)))

    def is_open(self, session_id: str, username: str) -> bool:
        """Deny by default: only an open record of this account younger than the lifetime counts."""
        if not session_id:
            return False
        rows = self.db.execute("SELECT username, opened_at FROM atlas_sessions WHERE sid = %s AND closed_at IS NULL",
                               (_digest(session_id),))
        return bool(rows) and rows[0][0] == username and time.time() - rows[0][1] <= self.max_age


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8")).hexdigest()


AUDIT_COLUMNS = ("at", "actor", "action", "target", "detail", "ip", "ref")


class PgAuditLog:
    """The audit log as a table, with `auth.audit.AuditLog`'s methods (append-only: no update, no delete)."""

    path = None  # no file: readers use `entries`

    def __init__(self, db: Database):
        self.db = db

    def record(self, actor: str, action: str, target: str = "", detail: str = "", ip: str = "",
               ref: str = "") -> None:
        self._insert(actor, action, target, detail, ip, ref)

    def _insert(self, actor: str, action: str, target: str, detail: str, ip: str, ref: str) -> bool:
        at = datetime.now(UTC).isoformat(timespec="seconds")
        rows = self.db.execute(
            "INSERT INTO atlas_audit (at, actor, action, target, detail, ip, ref) VALUES (%s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT (ref) WHERE ref IS NOT NULL DO NOTHING RETURNING seq",
            (at, actor, action, target or "", detail or "", ip or "", ref or None))
        return bool(rows)

    def record_once(self, ref: str, actor: str, action: str, target: str = "", detail: str = "",
                    ip: str = "", same=None) -> bool:
        """Written unless an entry with this `ref` exists (the unique index decides, across every server)."""
        if same is not None and self.has("", same):
            return False
        return self._insert(actor, action, target, detail, ip, ref)

    def has(self, ref: str, same=None) -> bool:
        if ref and self.db.execute("SELECT 1 FROM atlas_audit WHERE ref = %s", (ref,)):
            return True
        if same is not None:  # entries from before refs existed (adopted from a file): a scan, retries only
            return any(same(e) for e in self._select("WHERE ref IS NULL", ()))
        return False

    def entries(self, limit: int = 200) -> list[dict]:
        """The newest entries first."""
        return self._select("ORDER BY seq DESC LIMIT %s", (int(limit),))

    def last_seq(self) -> int:
        """The newest entry's sequence number (0: none); a backup exports up to it."""
        return int(self.db.execute("SELECT coalesce(max(seq), 0) FROM atlas_audit")[0][0])

    def export(self, upto: int) -> bytes:
        """The entries up to `upto`, oldest first, as the lines of `audit.jsonl` (the file side's format)."""
        entries = self._select("WHERE seq <= %s ORDER BY seq", (int(upto),))
        return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode("utf-8")

    def _select(self, tail: str, params: tuple) -> list[dict]:
        rows = self.db.execute(f"SELECT {', '.join(AUDIT_COLUMNS)} FROM atlas_audit {tail}", params)
        out = []
        for row in rows:
            entry = dict(zip(AUDIT_COLUMNS, row))
            if not entry["ref"]:
                entry.pop("ref")
            out.append(entry)
        return out


class PgUploadMeta:
    """The metadata of pending uploads, one row each (the file version is `meta.json` per upload)."""

    def __init__(self, db: Database):
        self.db = db

    def exists(self, upload_id: str) -> bool:
        return bool(self.db.execute("SELECT 1 FROM atlas_uploads WHERE upload_id = %s", (upload_id,)))

    def load(self, upload_id: str) -> dict | None:
        rows = self.db.execute("SELECT body FROM atlas_uploads WHERE upload_id = %s", (upload_id,))
        return json.loads(rows[0][0]) if rows else None

    def save(self, upload_id: str, meta: dict) -> None:
        now = time.time()
        self.db.execute("INSERT INTO atlas_uploads (upload_id, body, created_at, updated_at) VALUES (%s, %s, %s, %s) "
                        "ON CONFLICT (upload_id) DO UPDATE SET body = EXCLUDED.body, updated_at = EXCLUDED.updated_at",
                        (upload_id, json.dumps(meta, ensure_ascii=False), now, now))

    def purge(self, older_than: float) -> list[str]:
        """Drop the records untouched since `older_than` (epoch seconds); their ids, for their folders."""
        return [r[0] for r in self.db.execute("DELETE FROM atlas_uploads WHERE updated_at < %s RETURNING upload_id",
                                              (older_than,))]


class PgNotes:
    """The revisions of interpretation notes, one row each holding the line `notes.jsonl` would hold.

    Append-only like the file: a change or a deletion is a new revision.
    Appends are serialised by a transaction-scoped advisory lock (the file
    side's `flock`), which numbers revisions without gaps and keeps `seq` in
    commit order, so the newest `seq` is a stamp that moves with every append.
    """

    def __init__(self, db: Database):
        self.db = db

    def stamp(self) -> tuple:
        """Moves with every append (one index lookup): readers re-read the rows only then."""
        return (int(self.db.execute("SELECT coalesce(max(seq), 0) FROM atlas_notes")[0][0]),)

    def lines(self, upto: int | None = None) -> list[str]:
        """Every revision (up to `seq` `upto`), oldest first, as JSON lines."""
        if upto is None:
            return [r[0] for r in self.db.execute("SELECT body FROM atlas_notes ORDER BY seq")]
        return [r[0] for r in self.db.execute("SELECT body FROM atlas_notes WHERE seq <= %s ORDER BY seq",
                                              (int(upto),))]

    def append(self, record: dict) -> dict:
        """Store `record` as the next revision of its note (sets `record['rev']`); across every server."""
        key = self.db.lock_key("notes")
        conn = self.db.conn()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (key,))
            rev = conn.execute("SELECT coalesce(max(rev), 0) + 1 FROM atlas_notes WHERE note_id = %s",
                               (record["note_id"],)).fetchone()[0]
            record["rev"] = int(rev)
            conn.execute("INSERT INTO atlas_notes (note_id, rev, body) VALUES (%s, %s, %s)",
                         (record["note_id"], record["rev"], json.dumps(record, ensure_ascii=False)))
        return record

    def export(self, upto: int) -> bytes:
        """The revisions up to `upto` as the bytes of `notes.jsonl`."""
        return "".join(line + "\n" for line in self.lines(upto)).encode("utf-8")


# ============================================================================ which one
class Shared:
    """The shared state of one store: PostgreSQL when a URL is given, else None (the files)."""

    def __init__(self, url: str, data_dir: Path, session_max_age: float):
        self.db = Database(url, data_dir)
        self.pointer = PgPointer(self.db)
        self.sessions = PgSessions(self.db, session_max_age)
        self.audit = PgAuditLog(self.db)
        self.uploads = PgUploadMeta(self.db)
        self.notes = PgNotes(self.db)


_BY_DATA_DIR: dict[str, Shared] = {}
_BY_DATA_DIR_LOCK = threading.Lock()


def open_shared(url: str, data_dir: Path, session_max_age: float) -> Shared | None:
    """The shared state for a data directory: None (embedded, files) unless `url` names a PostgreSQL.

    Kept per data directory in the process, so code that is handed only the
    data directory (pending uploads) finds the same state as the store.
    """
    key = str(Path(data_dir).resolve())
    with _BY_DATA_DIR_LOCK:
        if not url:
            _BY_DATA_DIR.pop(key, None)
            return None
        found = _BY_DATA_DIR.get(key)
        if found is None or found.db.url != url:
            found = _BY_DATA_DIR[key] = Shared(url, data_dir, session_max_age)
        return found


def shared_for(data_dir: Path) -> Shared | None:
    """The PostgreSQL state opened for this data directory in this process, or None (embedded)."""
    return _BY_DATA_DIR.get(str(Path(data_dir).resolve()))
