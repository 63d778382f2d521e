"""The audit log: who did what, when. Append-only JSON lines in the data directory.

A line-per-event file appended with O_APPEND is safe with several worker
processes and never rewrites history; admins read it on the admin page.
"""
from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path


class AuditLog:
    def __init__(self, data_dir: Path):
        self.path = Path(data_dir) / "audit.jsonl"

    def record(self, actor: str, action: str, target: str = "", detail: str = "", ip: str = "") -> None:
        entry = {"at": datetime.now(UTC).isoformat(timespec="seconds"), "actor": actor,
                 "action": action, "target": target, "detail": detail, "ip": ip}
        line = (json.dumps(entry, ensure_ascii=False) + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)

    def entries(self, limit: int = 200) -> list[dict]:
        """The newest entries first."""
        if not self.path.exists():
            return []
        lines = self.path.read_text(encoding="utf-8").splitlines()[-limit:]
        return [json.loads(line) for line in reversed(lines) if line.strip()]
