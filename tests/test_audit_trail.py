"""The audit log as admins read it: every action named in German, filters, local time, a CSV that is safe."""
from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

from atlas.i18n import STRINGS
from atlas.services import audit_trail
from auth.audit import AuditLog
from auth.permissions import ANONYMOUS, Principal

ROOT = Path(__file__).resolve().parents[1]
ADMIN = Principal("admin", "admin", logged_in=True)
RECORD = re.compile(r"audit\.record\(\s*[\w.\"]+,\s*\"([a-z_]+)\"")


def test_every_action_written_anywhere_has_a_german_name():
    written = {m for path in list((ROOT / "atlas").rglob("*.py")) + list((ROOT / "auth").rglob("*.py"))
               for m in RECORD.findall(path.read_text(encoding="utf-8"))}
    assert {"version_withdrawn", "release_unscheduled", "token_created"} <= written  # the scan finds them
    assert written - set(audit_trail.ACTIONS) == set(), "add these to audit_trail.ACTIONS and atlas/i18n.py"
    assert all(f"audit_{a}" in STRINGS for a in audit_trail.ACTIONS)


class _Log:
    """A context with only an audit log (what audit_trail reads)."""

    def __init__(self, path: Path, lines: list[dict]):
        (path / "audit.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines), encoding="utf-8")
        self.audit = AuditLog(path)


def test_filters_local_times_and_a_csv_with_no_formulas(tmp_path, monkeypatch):
    monkeypatch.setenv("TZ", "Europe/Berlin")
    import time
    time.tzset()
    try:
        log = _Log(tmp_path, [
            {"at": "2026-03-01T08:00:00+00:00", "actor": "sozialamt", "action": "version_withdrawn",
             "target": "sgb2_quote v67", "detail": "draft → withdrawn; Grund: =HYPERLINK(\"x\")", "ip": ""},
            {"at": "2026-03-02T23:30:00+00:00", "actor": "admin", "action": "version_released",
             "target": "sgb2_quote_alt v3", "detail": "internal → public", "ip": ""},
            {"at": "2026-03-02T10:00:00+00:00", "actor": "admin", "action": "login", "target": "", "detail": "",
             "ip": "10.0.0.1"},
        ])
        everything = audit_trail.entries(log, ADMIN)
        assert [e["action"] for e in everything] == ["login", "version_released", "version_withdrawn"]  # newest first
        assert everything[1]["at"].isoformat() == "2026-03-03T00:30:00"  # UTC 23:30 is the next day in Berlin
        assert everything[2]["label"] == "Version zurückgezogen"
        only = audit_trail.entries(log, ADMIN, audit_trail.Filter(indicator="sgb2_quote"))
        assert [e["target"] for e in only] == ["sgb2_quote v67"]  # not the other indicator with that prefix
        assert [e["action"] for e in audit_trail.entries(log, ADMIN, audit_trail.Filter(
            start=date(2026, 3, 3), end=date(2026, 3, 3)))] == ["version_released"]
        assert [e["actor"] for e in audit_trail.entries(log, ADMIN, audit_trail.Filter(actor="sozialamt"))] == [
            "sozialamt"]
        assert audit_trail.to_csv(everything).decode("utf-8-sig").count("\r\n") == 4  # header and three entries
        reason_first = audit_trail.to_csv([{**everything[2], "detail": "=cmd|' /C calc'!A0"}]).decode("utf-8-sig")
        assert ";'=cmd|" in reason_first and "03.2026 09:00:00;sozialamt;Version zurückgezogen" in reason_first
        assert audit_trail.entries(log, Principal("sozialamt", "steward", frozenset({"soziales"}),
                                                  logged_in=True)) == []
        assert audit_trail.entries(log, ANONYMOUS) == [] and audit_trail.actors(log, ANONYMOUS) == []
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()
