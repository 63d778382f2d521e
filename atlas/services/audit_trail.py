"""The audit log as admins read it: filtered, in local time, with German action names, and as CSV.

The log itself (`auth.audit.AuditLog`) is append-only JSON lines in UTC;
this module only reads it. Who may read it is `may_administer`: everybody
else gets nothing, whatever the filters.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime

from atlas.i18n import STRINGS, t
from atlas.services.context import Atlas
from auth.permissions import Principal, may_administer

# Every action written to the log (auth.users, auth.tokens, auth.login, atlas.services.versions, the API);
# each has a label "audit_<action>" in atlas/i18n.py. An action not listed here is shown by its id.
ACTIONS = ("login", "login_failed", "logout", "user_added", "password_changed", "user_disabled", "user_enabled",
           "role_changed", "grants_changed", "token_created", "token_revoked", "boundaries_added",
           "indicator_created", "metadata_changed", "visibility_changed", "version_created", "version_released",
           "release_scheduled", "release_unscheduled", "version_withdrawn", "target_set", "note_added",
           "note_changed", "note_deleted", "partner_read", "indicator_shared", "warning_rules_set",
           "goal_added", "measure_saved", "grid_added",
           "dashboard_configured")
CSV_HEADER = ("Zeit (Ortszeit)", "Wer", "Aktion", "Aktion (Kennung)", "Betroffen", "Details", "IP")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def action_label(action: str, lang: str = "de") -> str:
    """The action in words ('Version zurückgezogen'); unknown ones by their id."""
    key = f"audit_{action}"
    return t(key, lang) if key in STRINGS else action


@dataclass(frozen=True)
class Filter:
    """What an admin narrows the log to; empty fields do not filter."""

    actor: str = ""
    action: str = ""
    indicator: str = ""
    start: date | None = None  # local date, inclusive
    end: date | None = None  # local date, inclusive

    def keeps(self, entry: dict, local: datetime) -> bool:
        target = str(entry.get("target") or "")
        return ((not self.actor or entry.get("actor") == self.actor)
                and (not self.action or entry.get("action") == self.action)
                and (not self.indicator or target == self.indicator or target.startswith(self.indicator + " "))
                and (self.start is None or local.date() >= self.start)
                and (self.end is None or local.date() <= self.end))


def local_time(at: str) -> datetime | None:
    """A logged UTC time in the server's local time zone (naive), or None if unreadable."""
    try:
        when = datetime.fromisoformat(str(at))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return when.astimezone().replace(tzinfo=None)


def entries(atlas: Atlas, viewer: Principal, where: Filter = Filter(), limit: int | None = 500,
            lang: str = "de") -> list[dict]:
    """Matching entries, newest first: at (local datetime), actor, action, label, target, detail, ip.

    Empty for anyone who may not administer. `limit` None: all of them (the CSV export).
    """
    if not may_administer(viewer):
        return []
    out = []
    for entry in atlas.audit.entries(limit=10**9):
        local = local_time(entry.get("at", ""))
        if local is None or not where.keeps(entry, local):
            continue
        out.append({"at": local, "actor": entry.get("actor", ""), "action": entry.get("action", ""),
                    "label": action_label(entry.get("action", ""), lang), "target": entry.get("target", ""),
                    "detail": entry.get("detail", ""), "ip": entry.get("ip", "")})
        if limit is not None and len(out) >= limit:
            break
    return out


def actors(atlas: Atlas, viewer: Principal) -> list[str]:
    """Everyone who appears in the log (for the filter), sorted; empty for non-admins."""
    if not may_administer(viewer):
        return []
    return sorted({str(e.get("actor", "")) for e in atlas.audit.entries(limit=10**9)} - {""})


def _safe(text) -> str:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (a withdrawal reason is free text)."""
    text = "" if text is None else str(text)
    return "'" + text if text.startswith(FORMULA_START) else text


def to_csv(rows: list[dict]) -> bytes:
    """German-Excel CSV (semicolon, UTF-8 with BOM) of `entries` rows."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow([f"{r['at']:%d.%m.%Y %H:%M:%S}", _safe(r["actor"]), _safe(r["label"]), r["action"],
                         _safe(r["target"]), _safe(r["detail"]), _safe(r["ip"])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")
