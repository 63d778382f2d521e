"""The audit log: who did what, when. Append-only JSON lines in the data directory.

A line-per-event file appended with O_APPEND is safe with several worker
processes and never rewrites history; admins read it on the admin page.
Several app servers (ATLAS_DATABASE_URL) keep the log in PostgreSQL instead,
behind the same methods (atlas/store/shared_state.py: PgAuditLog).
"""
from __future__ import annotations

import fcntl
import json
import os
from datetime import UTC, datetime
from pathlib import Path


class AuditLog:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "audit.jsonl"

    def record(self, actor: str, action: str, target: str = "", detail: str = "", ip: str = "",
               ref: str = "") -> None:
        """Append one entry. `ref` names the event for `record_once` (kept only when given)."""
        entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "actor": actor,
                 "action": action, "target": target, "detail": detail, "ip": ip}
        if ref:
            entry["ref"] = ref
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def record_once(self, ref: str, actor: str, action: str, target: str = "", detail: str = "",
                    ip: str = "", same=None) -> bool:
        """Append the entry unless one with this `ref` is already in the log; True if it was written.

        Why: a step whose effect is in the store (a stored upload) is audited
        after the store's commit; when the process dies in between, the retry
        writes the missing entries, and only those. Check and append happen
        under an exclusive lock, so two processes finishing the same step
        write the entry once. `same(entry)` also recognises the entry as
        written before entries had a `ref`.
        """
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "ab") as lock:  # the log itself is the lock: no second file in the data dir
            os.chmod(self.path, 0o600)
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                if self.has(ref, same):
                    return False
                self.record(actor, action, target, detail, ip, ref=ref)
                return True
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def has(self, ref: str, same=None) -> bool:
        """Whether an entry with this `ref` exists, or one `same(entry)` accepts (a scan of the log: only
        retries and confirmations ask)."""
        if not ref or not self.path.exists():
            return False
        needle = json.dumps(ref, ensure_ascii=False).encode("utf-8")
        with open(self.path, "rb") as fh:
            for line in fh:
                if needle in line and json.loads(line).get("ref") == ref:
                    return True
                if same is not None and line.strip() and same(json.loads(line)):
                    return True
        return False

    def entries(self, limit: int = 200) -> list[dict]:
        """The newest entries first."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()[-limit:]
        return [json.loads(line) for line in reversed(lines) if line.strip()]
