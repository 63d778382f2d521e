"""Versions: storing a checked upload, releasing it, rolling it back, its history.

A confirmed upload becomes one immutable version per indicator, in state
`draft`, written in one store transaction: readers see all of it or none of
it. Releases move a version `draft → internal → public` (rights from
`auth.permissions`), optionally scheduled for a later time; a rollback
withdraws a version so its cells fall back to the version before. Every
step is written to the audit log with who and when. Nothing is overwritten.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd

from atlas.messages import Message
from atlas.services import queries
from atlas.services.context import Atlas
from atlas.store.store import versions_table
from auth.permissions import (
    Principal,
    may_deliver,
    may_edit_metadata,
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
    """A workflow step that cannot be done; `status` is the HTTP status to answer with.

    The message is a catalogue `Message` (German as its str value), so the page
    and the API say it in the reader's language: `say(exc.args[0], lang)`.
    """

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code = status, code
        super().__init__(message)


NOT_FOUND = VersionError(404, "not_found", Message("ver_not_found"))




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
    projection: str | None = None  # a projection's variant ("Hauptvariante 2025"); None: observed figures


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
    # Codes per indicator, counted once: a comparison per indicator over a million rows cost 1.7 s (issue 19).
    codes, distinct = pd.factorize(values["indicator_id"], sort=True)
    row_counts = np.bincount(codes, minlength=len(distinct))
    ids = {ind_id: tx.next_version_id() for ind_id in distinct}
    # One file for the whole upload: one version per indicator, sorted so queries skip row groups.
    tx.add_values(min(ids.values()), values.assign(
        version_id=np.array(list(ids.values()) + [0], dtype=np.int64)[codes]))
    new_rows = []
    for ind_id, vid in ids.items():
        added, changed, removed = diffs.get(ind_id, (0, 0, 0))
        new_rows.append({"version_id": vid, "indicator_id": ind_id, "state": "draft",
                         "created_by": viewer.name, "created_at": atlas.clock.now(),
                         "file_name": delivery.file_name, "checksum": delivery.checksum,
                         "row_count": int(row_counts[distinct.get_loc(ind_id)]), "note": delivery.note,
                         "n_added": added, "n_changed": changed, "n_removed": removed,
                         "set_id": delivery.set_id, "projection": delivery.projection})
    _write_versions(tx, pd.concat([_stored_versions(tx), pd.DataFrame(new_rows)], ignore_index=True))
    return [{"created": created, **r} for r in new_rows]


def audit_versions(atlas: Atlas, viewer: Principal, delivery: Delivery, rows: list[dict], ref: str = "") -> None:
    """The audit entries of a stored delivery: new indicators, then one per version.

    With `ref` (the upload's id) each entry is written once however often
    this runs: a confirmation retried after its process died between the
    store's commit and the log completes the entries instead of doubling them.
    """
    actor = (rows[0].get("created_by") if rows else None) or viewer.name  # who stored it, also on a retry

    def record(action: str, target: str, detail: str) -> None:
        if ref:
            atlas.audit.record_once(f"{ref}:{action}:{target}", actor, action, target, detail)
        else:
            atlas.audit.record(actor, action, target, detail)
    created = rows[0]["created"] if rows else []
    for ind in created:
        record("indicator_created", ind["id"], f"{ind['title_de']} ({ind['visibility']}"
               + (", öffentlich beantragt)" if ind["requested_visibility"] else ")"))
    for r in rows:
        record("version_created", f"{r['indicator_id']} v{r['version_id']}",
               f"{r['row_count']} Werte aus {delivery.file_name} (sha256 {delivery.checksum[:12]}…); "
               f"neu {r['n_added']}, geändert {r['n_changed']}, nicht erneut geliefert {r['n_removed']}")


def upload_note(upload_id: str) -> str:
    """The note a confirmed upload's versions carry: it records the upload in the store's own transaction."""
    return f"Upload {upload_id}"


MAX_PROJECTION = 80


def projection_variant(value) -> str | None:
    """The variant a confirmation names for a projection ("Hauptvariante 2025"), whitespace tidied; None: observed.

    Why: the variant is shown in chart notes and map titles ("Prognose (…)"),
    so it must be short plain text; anything else is refused, not cut.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = " ".join(value.split()) if isinstance(value, str) else ""
    if not text or len(text) > MAX_PROJECTION or not text.isprintable():
        raise VersionError(400, "bad_projection", Message("ver_bad_projection", n=MAX_PROJECTION))
    return text


def stored_delivery(tx, upload_id: str, new_indicator_ids: list[str]) -> list[dict]:
    """The version rows an earlier confirmation of this upload stored (as `add_versions` returned them), or [].

    Why: the store is the one record of whether an upload was stored. A
    confirmation that died after the manifest swap left its upload marked
    'checked'; the retry finds the versions here and stores nothing again.
    """
    stored = _stored_versions(tx)
    rows = stored[stored["note"] == upload_note(upload_id)].sort_values("version_id")
    if rows.empty:
        return []
    catalog = tx.read("catalog")
    created = [] if catalog is None or not new_indicator_ids else [
        {"id": r["id"], "title_de": r["title_de"], "visibility": r["visibility"],
         "requested_visibility": r.get("requested_visibility") or ""}
        for r in catalog[catalog["id"].isin(new_indicator_ids)].to_dict("records")]
    out = []
    for r in rows.to_dict("records"):
        counts = {k: int(r[k]) if pd.notna(r[k]) else 0 for k in ("row_count", "n_added", "n_changed", "n_removed")}
        out.append({"created": created, "version_id": int(r["version_id"]), "indicator_id": r["indicator_id"],
                    "created_by": r["created_by"], **counts})
    return out


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
            raise VersionError(409, "indicator_exists", Message("ver_indicator_exists", id=repr(d["id"])))
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
        raise VersionError(403, "forbidden", Message("ver_visibility_admin_only"))
    if to not in ("public", "internal", "restricted"):
        raise VersionError(400, "bad_visibility", Message("ver_bad_visibility"))
    if atlas.is_configured(indicator_id):
        raise VersionError(409, "configured", Message("ver_configured", id=indicator_id))
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
    cells of the same periods (one query for the whole upload; the cells themselves: `compare`)."""
    old = queries.current_cells(atlas, _delivered_pairs(new))
    if old.empty:  # new periods only (the usual delivery): every cell is new, no million-row merge (issue 19)
        return {ind: (int(n), 0, 0) for ind, n in new["indicator_id"].value_counts(sort=False).items()}
    cells = _compare(new, old)
    counts = pd.crosstab(cells["indicator_id"], cells["change"]).reindex(columns=list(CHANGES), fill_value=0)
    return {ind: (int(r.new), int(r.changed), int(r.not_redelivered)) for ind, r in counts.iterrows()}


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
        raise VersionError(400, "bad_state", Message("ver_bad_state"))
    allowed = may_schedule_release if at else may_release
    if not allowed(viewer, info.department, to):
        raise VersionError(403, "forbidden", Message("ver_public_admin_only" if to == "public"
                                                     else "ver_internal_department_only"))
    order = {"draft": 0, "internal": 1, "public": 2}
    if info.state not in order or order[info.state] >= order[to]:
        if info.state == to and not at:
            _complete_release_entry(atlas, info, to)
        raise VersionError(409, "bad_transition", Message("ver_bad_transition", state=info.state, to=to))
    ind = atlas.indicator_by_id[info.indicator_id]
    if to == "public" and ind.visibility != "public":
        raise VersionError(409, "not_public_indicator", Message("ver_not_public_indicator", id=ind.id,
                                                                visibility=ind.visibility))
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
                       f"{info.state} → {to}" + (f" am {when:%d.%m.%Y %H:%M}" if when else ""),
                       ref="" if when else f"release:{info.version_id}:{to}")
    return {"version_id": info.version_id, "state": info.state if when else to,
            "scheduled": {"to": to, "at": when.isoformat()} if when else None}


# The detail of an entry written by the retry of a step whose process died between the store's commit and
# the log: the step is in the store, its entry was not.
RECOVERED = "nachgetragen: der Schritt war gespeichert, sein Eintrag fehlte (Prozess abgebrochen)"


def _complete_release_entry(atlas: Atlas, info: VersionInfo, to: str) -> None:
    """A release the store holds but the log may not: written once, in the releaser's name.

    Why: the audit entry follows the store's commit; a process killed in
    between left a release without its entry. The retry (which answers 409:
    the version is released) completes it. Entries carry a `ref`, so this
    writes nothing when the entry exists.
    """
    row = _readable_versions(atlas).set_index("version_id").loc[info.version_id]
    by = row["released_by"]
    target = f"{info.indicator_id} v{info.version_id}"

    def same(e: dict) -> bool:  # an entry written before entries had a ref
        return (e.get("action") == "version_released" and e.get("target") == target
                and str(e.get("detail", "")).endswith(f"→ {to}"))
    if isinstance(by, str) and by and row["state"] == to:
        atlas.audit.record_once(f"release:{info.version_id}:{to}", by, "version_released", target,
                                f"→ {to}; {RECOVERED}", same=same)


def _parse_time(text: str, now: datetime) -> datetime:
    try:
        when = datetime.fromisoformat(str(text))
    except ValueError:
        raise VersionError(400, "bad_time", Message("ver_bad_time")) from None
    if when <= now:
        raise VersionError(400, "bad_time", Message("ver_time_past"))
    return when.replace(tzinfo=None, microsecond=0)


def rollback(atlas: Atlas, viewer: Principal, version_id, reason: str = "") -> dict:
    """Withdraw a version: its cells fall back to the version before. The version itself stays in the history.

    `reason` (the page asks for one) goes to the audit log, so a withdrawn
    figure can be explained later.
    """
    info = _version(atlas, viewer, version_id)
    if info.state == "withdrawn":
        target = f"{info.indicator_id} v{info.version_id}"
        if may_deliver(viewer, info.department):  # only the department or an admin completes its entry
            atlas.audit.record_once(f"withdraw:{info.version_id}", viewer.name, "version_withdrawn", target,
                                    RECOVERED, same=lambda e: e.get("action") == "version_withdrawn"
                                    and e.get("target") == target)
        raise VersionError(409, "bad_transition", Message("ver_already_withdrawn"))
    if not may_withdraw(viewer, info.department, info.state):
        raise VersionError(403, "forbidden", Message("ver_withdraw_admin_only"))
    with atlas.store.writing() as tx:
        versions = _stored_versions(tx)
        i = versions.index[versions["version_id"] == info.version_id][0]
        versions.loc[i, ["state", "release_to", "release_at"]] = ["withdrawn", None, pd.NaT]
        _write_versions(tx, versions)
    reason = " ".join(str(reason or "").split())[:500]
    atlas.audit.record(viewer.name, "version_withdrawn", f"{info.indicator_id} v{info.version_id}",
                       f"{info.state} → withdrawn" + (f"; Grund: {reason}" if reason else ""),
                       ref=f"withdraw:{info.version_id}")
    return {"version_id": info.version_id, "state": "withdrawn"}


# ------------------------------------------------------------------ history
HISTORY_FIELDS = ["version_id", "indicator_id", "state", "created_by", "created_at", "file_name", "checksum",
                  "row_count", "note", "released_by", "released_at", "release_to", "release_at", "n_added",
                  "n_changed", "n_removed", "projection", "periods", "actions"]


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
    rows = _with_periods_and_actions(atlas, viewer, rows)
    rows = rows[HISTORY_FIELDS].sort_values("version_id", ascending=False).reset_index(drop=True)
    return rows.astype({c: "Int64" for c in ("row_count", "n_added", "n_changed", "n_removed")})


# ------------------------------------------------------------------ what a viewer may do with a version
# The steps a page offers for a version; each is exactly one service call above.
ACTIONS = ("release_internal", "release_public", "unschedule", "rollback")


def is_scheduled(release_to, release_at, now: datetime) -> bool:
    """A release is set for a later time and has not fallen due yet."""
    return isinstance(release_to, str) and bool(release_to) and pd.notna(release_at) and release_at > now


def allowed_actions(atlas: Atlas, viewer: Principal, row) -> list[str]:
    """The steps the services would accept from this viewer for this version (a row of the versions table).

    The pages offer only these, so nobody is shown a button that ends in a
    refusal (a steward never sees 'withdraw' on a public version). The
    services still decide on every request.
    """
    ind = atlas.indicator_by_id.get(row["indicator_id"])
    state = row["state"]
    if ind is None or state == "withdrawn":
        return []
    out = []
    if state == "draft" and may_release(viewer, ind.department, "internal"):
        out.append("release_internal")
    if state in ("draft", "internal") and ind.visibility == "public" and may_release(viewer, ind.department, "public"):
        out.append("release_public")
    if is_scheduled(row["release_to"], row["release_at"], atlas.clock.now()) \
            and may_schedule_release(viewer, ind.department, row["release_to"]):
        out.append("unschedule")
    if may_withdraw(viewer, ind.department, state):
        out.append("rollback")
    return out


def version_periods(atlas: Atlas, version_ids: list[int]) -> dict[int, list[str]]:
    """The periods each version holds, sorted (from the store's summary; no value file is read)."""
    ids = sorted({int(v) for v in version_ids})
    if not ids:
        return {}
    frame = atlas.store.query(
        f"SELECT version_id, list_sort(list(DISTINCT period)) AS periods FROM {atlas.store.summary('version_periods')} "
        f"WHERE version_id IN ({', '.join('?' for _ in ids)}) GROUP BY version_id", ids)
    return {int(r.version_id): [str(p) for p in r.periods] for r in frame.itertuples(index=False)}


def _with_periods_and_actions(atlas: Atlas, viewer: Principal, rows: pd.DataFrame) -> pd.DataFrame:
    """Add each version's periods and the steps this viewer may take with it."""
    periods = version_periods(atlas, list(rows["version_id"]))
    return rows.assign(periods=[periods.get(int(v), []) for v in rows["version_id"]],
                       actions=[allowed_actions(atlas, viewer, r) for _, r in rows.iterrows()])


def unschedule(atlas: Atlas, viewer: Principal, version_id) -> dict:
    """Cancel a scheduled release before it falls due; the version keeps its state. Audited.

    Needs the rights of the release it cancels (`may_schedule_release`):
    stopping a publication is the same decision as making it.
    """
    info = _version(atlas, viewer, version_id)
    row = _readable_versions(atlas).set_index("version_id").loc[info.version_id]
    now = atlas.clock.now()
    if not is_scheduled(row["release_to"], row["release_at"], now):
        raise VersionError(409, "not_scheduled", Message("ver_not_scheduled"))
    to, at = row["release_to"], row["release_at"]
    if not may_schedule_release(viewer, info.department, to):
        raise VersionError(403, "forbidden", Message("ver_unschedule_admin_only" if to == "public"
                                                     else "ver_unschedule_department_only"))
    with atlas.store.writing() as tx:
        versions = _stored_versions(tx)
        i = versions.index[versions["version_id"] == info.version_id][0]
        if versions.loc[i, "release_to"] != to or versions.loc[i, "release_at"] != at:  # changed meanwhile
            raise VersionError(409, "not_scheduled", Message("ver_schedule_changed"))
        versions.loc[i, ["release_to", "release_at"]] = [None, pd.NaT]
        _write_versions(tx, versions)
    atlas.audit.record(viewer.name, "release_unscheduled", f"{info.indicator_id} v{info.version_id}",
                       f"geplante Freigabe {info.state} → {to} am {at:%d.%m.%Y %H:%M} aufgehoben")
    return {"version_id": info.version_id, "state": info.state, "scheduled": None}


# ------------------------------------------------------------------ the release queue
def release_queue(atlas: Atlas, viewer: Principal) -> pd.DataFrame:
    """Versions released internally that wait for their public release, oldest first (HISTORY_FIELDS).

    Only versions of public indicators: the others can never be published.
    Admins see every department's, since they decide; a steward sees their
    own departments' (read-only: where their deliveries stand); anyone else
    an empty queue.
    """
    versions = _readable_versions(atlas)
    waiting = versions[versions["state"] == "internal"]

    def listed(indicator_id: str) -> bool:
        ind = atlas.indicator_by_id.get(indicator_id)
        return ind is not None and ind.visibility == "public" and (
            may_release(viewer, ind.department, "public") or may_deliver(viewer, ind.department))
    rows = waiting[waiting["indicator_id"].map(listed)]
    rows = _with_periods_and_actions(atlas, viewer, rows)
    rows = rows[HISTORY_FIELDS].sort_values("version_id").reset_index(drop=True)
    return rows.astype({c: "Int64" for c in ("row_count", "n_added", "n_changed", "n_removed")})


# ------------------------------------------------------------------ what a delivery changes, cell by cell
CHANGES = ("new", "changed", "same", "not_redelivered")


def compare(atlas: Atlas, new: pd.DataFrame) -> pd.DataFrame:
    """Each cell of a delivery against the newest cell not withdrawn of the same indicator, area and period.

    Columns: indicator_id, area_id, period, value, status, value_old,
    status_old, change (one of CHANGES). Cells of the delivered periods that
    the delivery leaves out come last, as 'not_redelivered'. For the
    delivering department (whose cells these are), never for other viewers.
    """
    return _compare(new, queries.current_cells(atlas, _delivered_pairs(new)))


def _delivered_pairs(new: pd.DataFrame) -> list[tuple[str, str]]:
    """The (indicator, period) pairs a delivery holds: the stored cells it is compared with."""
    return list(new[["indicator_id", "period"]].drop_duplicates().itertuples(index=False, name=None))


def _compare(new: pd.DataFrame, old: pd.DataFrame) -> pd.DataFrame:
    """`compare` on the stored cells already read."""
    keys = ["indicator_id", "area_id", "period"]
    merged = new[keys + ["value", "status"]].merge(old[keys + ["value", "status"]], on=keys, how="outer",
                                                   suffixes=("", "_old"), indicator=True)
    both = merged["_merge"] == "both"
    same = (merged["status"] == merged["status_old"]) & (
        (merged["value"] - merged["value_old"]).abs().fillna(0).le(1e-9)
        | (merged["value"].isna() & merged["value_old"].isna()))
    change = pd.Series("same", index=merged.index)
    change[merged["_merge"] == "left_only"] = "new"
    change[merged["_merge"] == "right_only"] = "not_redelivered"
    change[both & ~same] = "changed"
    return merged.drop(columns="_merge").assign(change=change.values)


def withheld_cells(atlas: Atlas, viewer: Principal, indicator_id: str, periods: list[str]) -> pd.DataFrame | None:
    """The cells the public would not see for these periods, at every level, with why (primary, secondary,
    linked): `queries.disclosure_report` per period, one table with a `period` column.

    None for viewers who may not see beneath the suppression pattern. Computed
    on the viewer's data view: a newer draft of the same period counts too.
    """
    parts = []
    for period in periods:
        report = queries.disclosure_report(atlas, viewer, indicator_id, period)
        if report is None:
            return None
        parts.append(report.assign(period=period))
    if not parts:
        return pd.DataFrame(columns=["period", "level", "area_id", "name", "value", "numerator", "denominator",
                                     "reason"])
    return pd.concat(parts, ignore_index=True)[["period"] + list(parts[0].columns[:-1])]


def describe(atlas: Atlas, viewer: Principal, version_id) -> dict | None:
    """Indicator, state and periods of a version the viewer may read (for a confirmation); None otherwise."""
    try:
        info = _version(atlas, viewer, version_id)
    except VersionError:
        return None
    ind = atlas.indicator_by_id[info.indicator_id]
    return {"version_id": info.version_id, "indicator_id": ind.id, "title_de": ind.title_de,
            "title_en": ind.title_en, "state": info.state,
            "periods": version_periods(atlas, [info.version_id]).get(info.version_id, [])}


# ------------------------------------------------------------------ metadata of indicators created through uploads
EDITABLE = ("title_de", "title_en", "definition_de", "definition_en", "unit", "unit_en", "source", "contact",
            "licence", "suppress_numerator_below", "suppress_denominator_below", "suppress_value_below")
THRESHOLDS = ("suppress_numerator_below", "suppress_denominator_below", "suppress_value_below")
REQUIRED_TEXT = ("title_de", "title_en", "unit")


def editable_indicators(atlas: Atlas, viewer: Principal) -> list:
    """Indicators created through uploads, whose metadata the viewer may edit (the others live in layers/*.toml)."""
    if not may_edit_metadata(viewer):
        return []
    return [i for i in atlas.indicators if not atlas.is_configured(i.id)]


def metadata(atlas: Atlas, viewer: Principal, indicator_id: str) -> dict | None:
    """The editable fields of an indicator created through an upload, its metadata version and history
    (newest change first); None if the viewer may not edit it or it is not one of those."""
    if not may_edit_metadata(viewer) or not isinstance(indicator_id, str) or atlas.is_configured(indicator_id):
        return None
    frame = atlas.store.read_table("catalog")
    rows = None if frame is None else frame[frame["id"] == indicator_id]
    if rows is None or rows.empty:
        return None
    row = rows.iloc[0]
    return {"fields": {f: _plain(row.get(f)) for f in EDITABLE + ("visibility",)}, "version": _meta_version(row),
            "history": list(reversed(json.loads(row.get("metadata_history") or "[]")))}


def update_metadata(atlas: Atlas, viewer: Principal, indicator_id: str, changes: dict) -> dict:
    """Change the metadata of an indicator created through an upload: a new metadata version, the previous
    values kept in its history, one audit entry naming each change. Configured indicators are edited in
    layers/*.toml. Returns {"indicator", "version", "changed": [fields]}."""
    if not may_edit_metadata(viewer):
        raise VersionError(403, "forbidden", Message("ver_metadata_admin_only"))
    if not isinstance(indicator_id, str) or atlas.is_configured(indicator_id):
        raise VersionError(409, "configured", Message("ver_configured", id=str(indicator_id)))
    wanted = _checked_metadata(changes)
    with atlas.store.writing() as tx:
        frame = tx.read("catalog")
        hit = None if frame is None else frame.index[frame["id"] == indicator_id]
        if hit is None or not len(hit):
            raise NOT_FOUND
        i = hit[0]
        diff = {f: [_plain(frame.loc[i, f]) if f in frame else None, v] for f, v in wanted.items()
                if (_plain(frame.loc[i, f]) if f in frame else None) != v}
        if not diff:
            return {"indicator": indicator_id, "version": _meta_version(frame.loc[i]), "changed": []}
        frame = frame.astype({c: object for c in frame.columns if c in EDITABLE or c.startswith("metadata_")})
        version = _meta_version(frame.loc[i]) + 1
        history = json.loads(frame.loc[i, "metadata_history"] or "[]") if "metadata_history" in frame else []
        history.append({"version": version, "by": viewer.name, "at": atlas.clock.now().isoformat(), "changes": diff})
        for f, (_, new) in diff.items():
            frame.loc[i, f] = new
        frame.loc[i, "metadata_version"] = version
        frame.loc[i, "metadata_history"] = json.dumps(history, ensure_ascii=False)
        tx.replace_table("catalog", frame)
    atlas.audit.record(viewer.name, "metadata_changed", indicator_id, f"Metadaten-Version {version}: " + "; ".join(
        f"{f}: {_short(old)} → {_short(new)}" for f, (old, new) in diff.items()))
    return {"indicator": indicator_id, "version": version, "changed": list(diff)}


def _checked_metadata(changes: dict) -> dict:
    """Only editable fields; texts stripped (titles and unit not empty); thresholds whole numbers ≥ 0."""
    if not isinstance(changes, dict):
        raise VersionError(400, "bad_metadata", Message("ver_bad_metadata"))
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise VersionError(400, "bad_metadata", Message("ver_metadata_fixed", fields=sorted(map(str, unknown)),
                                                        editable=list(EDITABLE)))
    out = {}
    for f, v in changes.items():
        if f in THRESHOLDS:
            if v in (None, "") and f == "suppress_value_below":
                out[f] = None  # the offices' default
                continue
            try:
                number = int(str(v).strip())
            except ValueError:
                raise VersionError(400, "bad_metadata", Message("ver_metadata_threshold", field=f,
                                                                value=repr(v))) from None
            if number < 0:
                raise VersionError(400, "bad_metadata", Message("ver_metadata_negative", field=f, value=str(number)))
            out[f] = number
        else:
            text = " ".join(str(v or "").split()) if f not in ("definition_de", "definition_en") else \
                str(v or "").strip()
            if f in REQUIRED_TEXT and not text:
                raise VersionError(400, "bad_metadata", Message("ver_metadata_empty", field=f))
            out[f] = text
    return out


def _plain(value):
    """A catalogue cell as a plain Python value (None for missing, ints for whole numbers)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if hasattr(value, "item"):
        value = value.item()
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _meta_version(row) -> int:
    version = row.get("metadata_version") if hasattr(row, "get") else None
    return 1 if version is None or pd.isna(version) else int(version)


def _short(value) -> str:
    text = "leer" if value in (None, "") else str(value)
    return repr(text[:60] + "…") if len(text) > 60 else repr(text)
