"""Backups of a running store: one moment's manifest and exactly its files, with checksums.

Why this works while the app serves and writes: value and table files are
immutable and never deleted, and the manifest that names them is replaced
atomically. A backup therefore takes the store's write lock only for the few
milliseconds it needs to read `manifest.json` and the other small top-level
files (`secret_key`) and to note the length of the append-only logs
(`audit.jsonl`, `notes.jsonl`); it copies the Parquet files the manifest names
and the logs' lines up to that length after releasing the lock, while writers
carry on. Later writes add new files and a new manifest, which the backup
never sees. Accounts and tokens are tables of the store, so they come with
the manifest.

Every file's SHA-256 goes into `SHA256SUMS` (the format of `sha256sum -c`).
A restore checks every file against it, and that nothing is missing or added,
before it writes anything, and it writes only into a new or empty directory:
restoring over a live store is never what anyone wants.

Not backed up: `uploads/` (checked uploads waiting for confirmation; the
steward uploads the file again), `sessions/` (a restore signs everybody
out), `booklets/` and `tmp/` (generated output); see SKIPPED_DIRS.

With `ATLAS_DATABASE_URL` (several app servers) the audit log and the notes
live in PostgreSQL, not in the data directory: the backup exports them, up
to the newest row at the moment of the manifest, as `audit.jsonl` and
`notes.jsonl` (the files' own format, listed in SHA256SUMS like every other
file), and ignores copies of those files an earlier adoption left behind.
The backup is therefore the same folder in both modes. A restore writes the
files into the new data directory; an embedded atlas reads them there, and
a PostgreSQL-mode atlas started on an empty database adopts them (with the
manifest) on its first start. Sessions and pending uploads in the database
are not backed up, as their files are not (see SKIPPED_DATABASE).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from atlas.store.shared_state import AUDIT, IN_POSTGRES, NOTES, Shared, shared_for
from atlas.store.store import MANIFEST, SUMMARIES, Store, map_band_files, map_tiles_files

CHECKSUMS = "SHA256SUMS"
INFO = "backup.json"
# Directories of the data directory left out, and why (printed with every backup).
SKIPPED_DIRS = {
    "uploads": "pending uploads not yet confirmed (upload the file again)",
    "booklets": "generated profile booklets (make them again)",
    "tmp": "scratch space of exports",
    "sessions": "open sign-in sessions (everybody signs in again after a restore)",
}
# With PostgreSQL: its tables left out, and why (the backup exports the audit log and the notes only).
SKIPPED_DATABASE = {
    "PostgreSQL atlas_sessions": "open sign-in sessions (everybody signs in again after a restore)",
    "PostgreSQL atlas_uploads": "pending uploads not yet confirmed (upload the file again)",
}
STORE_DIRS = ("tables", "values")  # only the files the manifest names are copied from these
_CHUNK = 1 << 20
_SUM_LINE = re.compile(r"^([0-9a-f]{64}) [ *](.+)$")


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message names the file or directory and why."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    generation: int
    files: int
    bytes: int
    skipped: dict[str, str]


# ----------------------------------------------------------------------------- backup
def backup(store: Store, target: Path) -> BackupResult:
    """Copy the store as it stands at one moment into `target` (new or empty), with a checksum file.

    Written into a hidden sibling folder first and renamed at the end: a
    backup that was interrupted never looks like a complete one.
    """
    target = Path(target).resolve()
    _require_new_or_empty(target, "backup")
    if not store.exists():
        raise BackupError(f"no store in {store.data_dir} (manifest.json missing): nothing to back up")
    shared = shared_for(store.data_dir)
    if shared is None and (store.data_dir / IN_POSTGRES).exists():
        raise BackupError(f"{store.data_dir} keeps its audit log and notes in PostgreSQL: run the backup with "
                          "ATLAS_DATABASE_URL set as on the app servers (without it they would be missing)")
    manifest_bytes, logs, small, marks = _snapshot(store)
    manifest = json.loads(manifest_bytes)
    work = _sibling(target, "backup")
    try:
        sums: dict[str, str] = {}
        total = 0
        exported = _export(shared, marks)
        for rel, data in {MANIFEST: manifest_bytes, **small, **exported}.items():
            _write_bytes(work / rel, data)
            sums[rel] = hashlib.sha256(data).hexdigest()
            total += len(data)
        for rel, length in logs.items():
            sums[rel], size = _copy(store.data_dir / rel, work / rel, length)
            total += size
        for rel in referenced_files(manifest):
            if not (store.data_dir / rel).is_file():
                raise BackupError(f"{rel} is named by the manifest but missing from {store.data_dir}")
            sums[rel], size = _copy(store.data_dir / rel, work / rel)
            total += size
        skipped = _skipped_dirs(store.data_dir) | (SKIPPED_DATABASE if shared is not None else {})
        info = {"format": 1, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "source": str(store.data_dir), "generation": int(manifest["generation"]),
                "files": len(sums) + 1, "skipped": skipped}
        if shared is not None:
            info["exported_from_postgresql"] = sorted(exported)
        info_bytes = (json.dumps(info, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
        _write_bytes(work / INFO, info_bytes)
        sums[INFO] = hashlib.sha256(info_bytes).hexdigest()
        _write_bytes(work / CHECKSUMS, "".join(f"{h}  {rel}\n" for rel, h in sorted(sums.items())).encode())
        _fsync_tree(work)
        _move_into_place(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return BackupResult(target, int(manifest["generation"]), len(sums) + 1, total, skipped)


def _snapshot(store: Store) -> tuple[bytes, dict[str, int], dict[str, bytes], dict[str, int]]:
    """Under the write lock: the manifest's bytes, the logs' lengths, the other small files' bytes, and
    (with PostgreSQL) the newest row of the logs kept there.

    Append-only logs are copied later up to the length (or row) they had at
    this moment (an entry written after it is not part of the backup); the
    other top-level files (the session key) are small and read right here.
    With PostgreSQL the audit log and the notes are the database's: files of
    those names in the data directory are what an adoption left behind, not
    the log, and are skipped.
    """
    logs: dict[str, int] = {}
    small: dict[str, bytes] = {}
    marks: dict[str, int] = {}
    shared = shared_for(store.data_dir)
    in_database = (AUDIT, NOTES) if shared is not None else ()
    with store.writing():  # nothing is written in the block, so nothing is committed
        manifest_bytes = store.manifest_path.read_bytes()
        for path in sorted(store.data_dir.iterdir()):
            if path.is_file() and _is_side_file(path.name) and path.name not in in_database:
                if path.suffix == ".jsonl":
                    logs[path.name] = path.stat().st_size
                else:
                    small[path.name] = path.read_bytes()
        if shared is not None:
            marks = {AUDIT: shared.audit.last_seq(), NOTES: shared.notes.stamp()[0]}
    return manifest_bytes, logs, small, marks


def _export(shared: Shared | None, marks: dict[str, int]) -> dict[str, bytes]:
    """The audit log and the notes from PostgreSQL up to the snapshot's rows, as their files' bytes.

    Read after the lock is released (writers carry on); an empty log is left
    out, as an embedded store without entries has no file.
    """
    if shared is None:
        return {}
    out = {AUDIT: shared.audit.export(marks[AUDIT]), NOTES: shared.notes.export(marks[NOTES])}
    return {rel: data for rel, data in out.items() if data}


def _skipped_dirs(data_dir: Path) -> dict[str, str]:
    """The data directory's folders a backup leaves out, with why (an unknown one is named, never passed over quietly)."""
    return {f"{path.name}/": SKIPPED_DIRS.get(path.name, "unknown folder: not backed up")
            for path in sorted(data_dir.iterdir())
            if path.is_dir() and path.name not in STORE_DIRS and not path.name.startswith(".")}


def _is_side_file(name: str) -> bool:
    """Top-level state files (secret_key, audit.jsonl, notes.jsonl, …), not the manifest, locks or temp files."""
    return not (name == MANIFEST or name.startswith(".") or ".tmp" in name or name.endswith(".part"))


def referenced_files(manifest: dict) -> list[str]:
    """Every store-relative file the manifest names (single tables, value files, the values' summaries,
    the map's stored zoom bands and vector tiles).

    Summary files and bands are part of the store, backed up and checked like
    the files they are built from, so a restored store starts as fast as the
    original (a backup of an older store has none and reads the same).
    """
    out: list[str] = []
    for entry in manifest.get("tables", {}).values():
        if isinstance(entry, str) and entry:
            out.append(entry)
        elif isinstance(entry, list):
            out.extend(e for e in entry if isinstance(e, str) and e)
    summaries = manifest.get("summaries") or {}
    out.extend(summaries[name] for name in SUMMARIES if isinstance(summaries.get(name), str) and summaries[name])
    out.extend(map_band_files(manifest))
    out.extend(map_tiles_files(manifest))  # the map's vector tiles (MBTiles files)
    return out


# ----------------------------------------------------------------------------- verify and restore
def verify(source: Path) -> dict[str, str]:
    """Check a backup completely; returns its files and their checksums, or raises naming every bad file.

    Every listed file must exist and match its SHA-256, no file may be there
    that the list does not name, and the manifest's files must all be listed.
    """
    source = Path(source).resolve()
    sums_path = source / CHECKSUMS
    if not sums_path.is_file():
        raise BackupError(f"{source} is not a backup of the atlas: {CHECKSUMS} is missing")
    sums = _read_sums(sums_path)
    problems = []
    for rel, expected in sorted(sums.items()):
        path = source / rel
        if not path.is_file():
            problems.append(f"{rel}: missing")
        elif _sha256(path) != expected:
            problems.append(f"{rel}: checksum does not match (the file is damaged or was changed)")
    listed = set(sums) | {CHECKSUMS}
    problems += [f"{rel}: not named in {CHECKSUMS}" for rel in sorted(_all_files(source)) if rel not in listed]
    if MANIFEST not in sums:
        problems.append(f"{MANIFEST}: not named in {CHECKSUMS}")
    elif not problems:
        try:
            manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise BackupError(f"{source / MANIFEST} is not valid JSON: {exc}") from exc
        problems += [f"{rel}: named by the manifest but not in the backup"
                     for rel in referenced_files(manifest) if rel not in sums]
    if problems:
        shown = "\n  ".join(problems[:20]) + (f"\n  … and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise BackupError(f"the backup in {source} failed its check; nothing was restored:\n  {shown}")
    return sums


def restore(source: Path, data_dir: Path) -> int:
    """Restore a verified backup into `data_dir`, which must be new or empty; returns the store's generation.

    Copied into a hidden sibling folder and renamed at the end, each file's
    checksum taken again while copying (a file that changed after the check
    stops the restore), so `data_dir` is either the whole backup or untouched.
    """
    source, data_dir = Path(source).resolve(), Path(data_dir).resolve()
    _require_new_or_empty(data_dir, "restore")
    sums = verify(source)
    work = _sibling(data_dir, "restore")
    try:
        for rel, expected in sorted(sums.items()):
            if rel == INFO:
                continue  # describes the backup, not the store
            got, _ = _copy(source / rel, work / rel)
            if got != expected:
                raise BackupError(f"{source / rel} changed while it was restored; nothing was restored")
        _fsync_tree(work)
        _move_into_place(work, data_dir)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return int(json.loads((data_dir / MANIFEST).read_text(encoding="utf-8"))["generation"])


def _read_sums(path: Path) -> dict[str, str]:
    """`SHA256SUMS` as {relative path: hex digest}; a malformed line or an unsafe path is refused."""
    sums = {}
    for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        match = _SUM_LINE.match(line)
        if match is None:
            raise BackupError(f"{path}, line {n}: not a checksum line ({line[:80]!r})")
        rel = match.group(2)
        if not _safe_relative(rel):
            raise BackupError(f"{path}, line {n}: {rel!r} is not a path inside the backup")
        sums[rel] = match.group(1)
    return sums


def _safe_relative(rel: str) -> bool:
    """A plain relative path below the backup: never absolute, never `..`, never the checksum file itself."""
    pure = PurePosixPath(rel)
    return (not pure.is_absolute() and ".." not in pure.parts and "\\" not in rel and rel != CHECKSUMS
            and all(p not in ("", ".") for p in rel.split("/")))


def _all_files(root: Path) -> list[str]:
    return [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() or p.is_symlink()]


# ----------------------------------------------------------------------------- files
def _require_new_or_empty(path: Path, what: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise BackupError(f"{path} exists and is not empty: {what} writes only into a new or empty directory "
                          "(move the old one aside or choose another path)")
    if not path.parent.is_dir():
        raise BackupError(f"{path.parent} does not exist: create it first")


def _sibling(target: Path, what: str) -> Path:
    """A private work folder beside the target (same file system, so the final rename is atomic)."""
    work = target.parent / f".{target.name}.{what}-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(mode=0o700)
    return work


def _move_into_place(work: Path, target: Path) -> None:
    if target.exists():
        target.rmdir()  # checked empty before; fails loudly if someone filled it meanwhile
    os.rename(work, target)
    _fsync_dir(target.parent)


def _copy(src: Path, dst: Path, length: int | None = None) -> tuple[str, int]:
    """Copy a file (or its first `length` bytes, cut back to a whole line) and return its SHA-256 and size."""
    dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    digest, size = hashlib.sha256(), 0
    with open(src, "rb") as fin:
        if length is None:
            chunks = iter(lambda: fin.read(_CHUNK), b"")
        else:  # an append-only log: whole lines up to its length at the snapshot
            head = fin.read(length)
            chunks = iter([head[:head.rfind(b"\n") + 1]])
        fd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fout:
            for chunk in chunks:
                fout.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            fout.flush()
            os.fsync(fout.fileno())
    return digest.hexdigest(), size


def _write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync_tree(root: Path) -> None:
    """Directories too: a file's name survives a power cut only once its directory is synced."""
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
