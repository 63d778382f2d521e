"""Versions: storing a checked upload, releasing it, rolling it back, its history.

A confirmed upload becomes one immutable version per indicator, in state
`draft`, written in one store transaction: readers see all of it or none of
it. Releases move a version `draft → internal → public` (rights from
`auth.permissions`), optionally scheduled for a later time; a rollback
withdraws a version so its cells fall back to the version before. Every
step is written to the audit log with who and when. Nothing is overwritten.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from atlas.services import queries
from atlas.services.context import Atlas
from atlas.store.store import versions_table
from auth.permissions import (
    Principal,
    may_deliver,
    may_know,
    may_publish_directly,
    may_read_state,
    may_release,
    may_schedule_release,
    may_see_provenance,
    may_set_visibility,
    may_withdraw,
)


class VersionError(ValueError):
    """A workflow step that cannot be done; `status` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code = status, code
        super().__init__(message)


NOT_FOUND = VersionError(404, "not_found", "Version oder Upload nicht gefunden / version or upload not found")




# ------------------------------------------------------------------ store an upload
@dataclass(frozen=True)
class Delivery:
    """A checked upload ready to be stored: its cells and where they came from."""

    values: pd.DataFrame  # indicator_id, area_id, period, period_end, value, numerator, denominator, status
    file_name: str
    checksum: str
    note: str
    new_indicators: list[dict]
    set_id: str | None = None  # the boundary set the delivery named explicitly (else: by period)


def add_versions(atlas: Atlas, viewer: Principal, tx, delivery: Delivery) -> list[dict]:
    """Write one draft version per indicator of a delivery inside the caller's transaction.

    The caller (`atlas.ingest.uploads.confirm`) holds the write lock and has
    checked the rights; the versions and any new indicators land in the same
    transaction as the cells. Returns the new version rows; `audit_versions`
    records them once the transaction has committed.
    """
    values = delivery.values
    created = _create_indicators(atlas, viewer, tx, delivery.new_indicators)
    diffs = _diff(atlas, values)
    ids = {ind_id: tx.next_version_id() for ind_id in sorted(values["indicator_id"].unique())}
    # One file for the whole upload: one version per indicator, sorted so queries skip row groups.
    tx.add_values(min(ids.values()), values.assign(version_id=values["indicator_id"].map(ids)))
    new_rows = []
    for ind_id, vid in ids.items():
        added, changed, removed = diffs.get(ind_id, (0, 0, 0))
        new_rows.append({"version_id": vid, "indicator_id": ind_id, "state": "draft",
                         "created_by": viewer.name, "created_at": atlas.clock.now(),
                         "file_name": delivery.file_name, "checksum": delivery.checksum,
                         "row_count": int((values["indicator_id"] == ind_id).sum()), "note": delivery.note,
                         "n_added": added, "n_changed": changed, "n_removed": removed,
                         "set_id": delivery.set_id})
    _write_versions(tx, pd.concat([_stored_versions(tx), pd.DataFrame(new_rows)], ignore_index=True))
    return [{"created": created, **r} for r in new_rows]


def audit_versions(atlas: Atlas, viewer: Principal, delivery: Delivery, rows: list[dict]) -> None:
    """The audit entries of a stored delivery: new indicators, then one per version."""
    created = rows[0]["created"] if rows else []
    for ind in created:
        atlas.audit.record(viewer.name, "indicator_created", ind["id"],
                           f"{ind['title_de']} ({ind['visibility']}"
                           + (", öffentlich beantragt)" if ind["requested_visibility"] else ")"))
    for r in rows:
        atlas.audit.record(viewer.name, "version_created", f"{r['indicator_id']} v{r['version_id']}",
                           f"{r['row_count']} Werte aus {delivery.file_name} (sha256 {delivery.checksum[:12]}…); "
                           f"neu {r['n_added']}, geändert {r['n_changed']}, nicht erneut geliefert {r['n_removed']}")


def _create_indicators(atlas: Atlas, viewer: Principal, tx, definitions: list[dict]) -> list[dict]:
    """Add an upload's new indicators to the store's catalogue (same transaction as their values).

    A steward's request for public visibility is recorded; the indicator stays
    internal until an admin approves it (`set_visibility`).
    """
    if not definitions:
        return []
    existing = tx.read("catalog")
    taken = set(atlas.indicator_by_id) | (set(existing["id"]) if existing is not None else set())
    rows = []
    for d in definitions:
        if d["id"] in taken:
            raise VersionError(409, "indicator_exists", f"Indikator-ID {d['id']!r} wurde inzwischen angelegt")
        wants_public = d["visibility"] == "public" and not may_publish_directly(viewer)
        rows.append({**d, "visibility": "internal" if wants_public else d["visibility"],
                     "requested_visibility": "public" if wants_public else "",
                     "domain_order": atlas.domain_by_id[d["domain"]].order,
                     "created_by": viewer.name, "created_at": atlas.clock.now()})
    frame = pd.DataFrame(rows)
    tx.replace_table("catalog", frame if existing is None else pd.concat([existing, frame], ignore_index=True))
    return rows


def set_visibility(atlas: Atlas, viewer: Principal, indicator_id: str, to: str) -> dict:
    """Admins decide who may see an indicator created through an upload (public needs this approval)."""
    if not may_set_visibility(viewer):
        raise VersionError(403, "forbidden", "nur die Administration ändert die Sichtbarkeit")
    if to not in ("public", "internal", "restricted"):
        raise VersionError(400, "bad_visibility", "'to' muss public, internal oder restricted sein")
    if atlas.is_configured(indicator_id):
        raise VersionError(409, "configured", f"{indicator_id} ist in layers/*.toml definiert; dort ändern")
    with atlas.store.writing() as tx:
        frame = tx.read("catalog")
        hit = None if frame is None else frame.index[frame["id"] == indicator_id]
        if hit is None or not len(hit):
            raise NOT_FOUND
        before = frame.loc[hit[0], "visibility"]
        frame.loc[hit, ["visibility", "requested_visibility"]] = [to, ""]
        tx.replace_table("catalog", frame)
    atlas.audit.record(viewer.name, "visibility_changed", indicator_id, f"{before} → {to}")
    return {"indicator": indicator_id, "visibility": to}


def visibility_requests(atlas: Atlas, viewer: Principal) -> list[dict]:
    """Indicators created through uploads whose department asked for public visibility (admins only)."""
    if not may_set_visibility(viewer):
        return []
    frame = atlas.store.read_table("catalog")
    if frame is None or "requested_visibility" not in frame:
        return []
    return frame[frame["requested_visibility"] == "public"].to_dict("records")


def _diff(atlas: Atlas, new: pd.DataFrame) -> dict[str, tuple[int, int, int]]:
    """Per indicator: cells added, changed, and not delivered again, against the newest non-withdrawn
    cells of the same periods (one query for the whole upload)."""
    pairs = list(new[["indicator_id", "period"]].drop_duplicates().itertuples(index=False, name=None))
    old = queries.current_cells(atlas, pairs)
    keys = ["indicator_id", "area_id", "period"]
    merged = new[keys + ["value", "status"]].merge(old, on=keys, how="outer", suffixes=("", "_old"), indicator=True)
    both = merged["_merge"] == "both"
    same = (merged["status"] == merged["status_old"]) & (
        (merged["value"] - merged["value_old"]).abs().fillna(0).le(1e-9)
        | (merged["value"].isna() & merged["value_old"].isna()))
    counts = pd.DataFrame({"indicator_id": merged["indicator_id"], "added": merged["_merge"] == "left_only",
                           "changed": both & ~same, "removed": merged["_merge"] == "right_only"})
    totals = counts.groupby("indicator_id")[["added", "changed", "removed"]].sum()
    return {ind: (int(r.added), int(r.changed), int(r.removed)) for ind, r in totals.iterrows()}


def _stored_versions(tx) -> pd.DataFrame:
    """The stored table (without applying due schedules: those are applied when read)."""
    return versions_table(tx.read("versions"))


def _write_versions(tx, frame: pd.DataFrame) -> None:
    tx.replace_table("versions", versions_table(frame))


def state_counts(atlas: Atlas) -> pd.DataFrame:
    """How many versions are in each release state (the CLI's `info`)."""
    return atlas.store.query("SELECT state, count(*) AS versions FROM versions GROUP BY 1 ORDER BY 1")


def _readable_versions(atlas: Atlas) -> pd.DataFrame:
    """The versions as readers see them (due schedules applied): the store's in-memory table, no file read."""
    return atlas.store.query("SELECT * FROM versions ORDER BY version_id")


# ------------------------------------------------------------------ release, rollback
@dataclass(frozen=True)
class VersionInfo:
    version_id: int
    indicator_id: str
    state: str
    department: str


def _version(atlas: Atlas, viewer: Principal, version_id) -> VersionInfo:
    """The version if the viewer may read it; NOT_FOUND otherwise (never 'forbidden': that would confirm it exists)."""
    try:
        vid = int(version_id)
    except (TypeError, ValueError):
        raise NOT_FOUND from None
    versions = _readable_versions(atlas)
    row = versions[versions["version_id"] == vid]
    if row.empty:
        raise NOT_FOUND
    r = row.iloc[0]
    ind = atlas.indicator_by_id.get(r["indicator_id"])
    if ind is None or not may_know(viewer, ind.visibility, ind.department, ind.id) \
            or not may_read_state(viewer, ind.department, r["state"]):
        raise NOT_FOUND
    return VersionInfo(vid, ind.id, r["state"], ind.department)


def release(atlas: Atlas, viewer: Principal, version_id, to, at: str | None = None) -> dict:
    """Move a version to `internal` or `public`, now or at `at` (ISO date/time, an embargo)."""
    info = _version(atlas, viewer, version_id)
    if to not in ("internal", "public"):
        raise VersionError(400, "bad_state", "'to' muss 'internal' oder 'public' sein / must be internal or public")
    allowed = may_schedule_release if at else may_release
    if not allowed(viewer, info.department, to):
        raise VersionError(403, "forbidden", "Freigabe für die Öffentlichkeit nur durch die Administration"
                           if to == "public" else "nur das zuständige Fachamt gibt intern frei")
    order = {"draft": 0, "internal": 1, "public": 2}
    if info.state not in order or order[info.state] >= order[to]:
        raise VersionError(409, "bad_transition", f"Version ist '{info.state}'; '{to}' ist kein Schritt nach vorn")
    ind = atlas.indicator_by_id[info.indicator_id]
    if to == "public" and ind.visibility != "public":
        raise VersionError(409, "not_public_indicator", f"{ind.id} ist als '{ind.visibility}' katalogisiert; "
                           "eine öffentliche Freigabe ist nicht möglich")
    when = _parse_time(at, atlas.clock.now()) if at else None
    with atlas.store.writing() as tx:
        versions = _stored_versions(tx)
        i = versions.index[versions["version_id"] == info.version_id][0]
        if when:
            versions.loc[i, ["release_to", "release_at"]] = [to, pd.Timestamp(when)]
        else:
            versions.loc[i, ["state", "released_by", "released_at", "release_to", "release_at"]] = \
                [to, viewer.name, pd.Timestamp(atlas.clock.now()), None, pd.NaT]
        _write_versions(tx, versions)
    action = "release_scheduled" if when else "version_released"
    atlas.audit.record(viewer.name, action, f"{info.indicator_id} v{info.version_id}",
                      f"{info.state} → {to}" + (f" am {when:%d.%m.%Y %H:%M}" if when else ""))
    return {"version_id": info.version_id, "state": info.state if when else to,
            "scheduled": {"to": to, "at": when.isoformat()} if when else None}


def _parse_time(text: str, now: datetime) -> datetime:
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        raise VersionError(400, "bad_time", "'at' als Datum/Uhrzeit, z. B. 2026-12-01T09:00") from None
    if when <= now:
        raise VersionError(400, "bad_time", "der Freigabetermin muss in der Zukunft liegen")
    return when.replace(tzinfo=None, microsecond=0)


def rollback(atlas: Atlas, viewer: Principal, version_id) -> dict:
    """Withdraw a version: its cells fall back to the version before. The version itself stays in the history."""
    info = _version(atlas, viewer, version_id)
    if info.state == "withdrawn":
        raise VersionError(409, "bad_transition", "Version ist bereits zurückgezogen")
    if not may_withdraw(viewer, info.department, info.state):
        raise VersionError(403, "forbidden", "öffentliche Versionen zieht nur die Administration zurück")
    with atlas.store.writing() as tx:
        versions = _stored_versions(tx)
        i = versions.index[versions["version_id"] == info.version_id][0]
        versions.loc[i, ["state", "release_to", "release_at"]] = ["withdrawn", None, pd.NaT]
        _write_versions(tx, versions)
    atlas.audit.record(viewer.name, "version_withdrawn", f"{info.indicator_id} v{info.version_id}",
                      f"{info.state} → withdrawn")
    return {"version_id": info.version_id, "state": "withdrawn"}


# ------------------------------------------------------------------ history
HISTORY_FIELDS = ["version_id", "indicator_id", "state", "created_by", "created_at", "file_name", "checksum",
                  "row_count", "note", "released_by", "released_at", "release_to", "release_at", "n_added",
                  "n_changed", "n_removed"]


def history(atlas: Atlas, viewer: Principal, indicator_id: str) -> pd.DataFrame | None:
    """The versions of an indicator the viewer may read, newest first; None if the indicator is unknown to them."""
    ind = atlas.indicator_by_id.get(indicator_id) if isinstance(indicator_id, str) else None
    if ind is None or not may_know(viewer, ind.visibility, ind.department, ind.id):
        return None
    versions = _readable_versions(atlas)
    rows = versions[(versions["indicator_id"] == ind.id)
                    & versions["state"].map(lambda s: may_read_state(viewer, ind.department, s))]
    if not may_see_provenance(viewer):  # the public learns what was released, not who typed it in
        rows = rows.assign(created_by=None, released_by=None, checksum=None, note=None)
    if rows.empty and not may_deliver(viewer, ind.department):
        return None
    rows = rows[HISTORY_FIELDS].sort_values("version_id", ascending=False).reset_index(drop=True)
    return rows.astype({c: "Int64" for c in ("row_count", "n_added", "n_changed", "n_removed")})
