"""Sharing a restricted indicator with other organisations (a Gemeinde with its neighbour, the county office).

In a county every Gemeinde keeps its internal figures to itself; the owner
decides who else may see them. Sharing widens who *knows* the indicator and
reads its released values, exactly like the owner's own staff; small numbers
stay with the owner (`sees_unsuppressed`), and nothing about delivering changes.
"""
from __future__ import annotations

from atlas.messages import Message
from atlas.services import queries
from atlas.services.context import Atlas
from atlas.services.versions import NOT_FOUND, VersionError
from auth.permissions import Principal, may_share


def share(atlas: Atlas, viewer: Principal, indicator_id: str, organisations: list) -> dict:
    """Set the organisations a restricted indicator is shared with (the full list; [] ends all sharing)."""
    ind = queries.get_indicator(atlas, viewer, indicator_id) if isinstance(indicator_id, str) else None
    if ind is None:
        raise NOT_FOUND
    if not may_share(viewer, ind.department):
        raise VersionError(403, "forbidden", Message("shr_owner_only"))
    if ind.visibility != "restricted":
        raise VersionError(409, "not_restricted", Message("shr_not_restricted", id=indicator_id,
                                                          visibility=ind.visibility))
    if atlas.is_configured(indicator_id):
        raise VersionError(409, "configured", Message("shr_configured", id=indicator_id))
    wanted = _organisations(atlas, organisations, ind.department)
    with atlas.store.writing() as tx:
        frame = tx.read("catalog")
        hit = frame.index[frame["id"] == indicator_id]
        if "shared_with" not in frame:  # a catalogue stored before sharing existed
            frame = frame.assign(shared_with=[[] for _ in range(len(frame))])
        frame = frame.astype({"shared_with": object})
        stored = frame.at[hit[0], "shared_with"]
        before = "" if isinstance(stored, (str, float)) or stored is None else ", ".join(map(str, stored))
        frame.at[hit[0], "shared_with"] = list(wanted)  # a list, as uploads store same_count_as
        tx.replace_table("catalog", frame)
    atlas.audit.record(viewer.name, "indicator_shared", indicator_id,
                       f"geteilt mit: {before or '–'} → {', '.join(wanted) or '–'}")
    return {"indicator": indicator_id, "shared_with": wanted}


def _organisations(atlas: Atlas, organisations: list, owner: str) -> list[str]:
    """Known organisations other than the owner, sorted; anything else is a 400 that lists the known ones."""
    if not isinstance(organisations, list) or not all(isinstance(o, str) for o in organisations):
        raise VersionError(400, "bad_sharing", Message("shr_bad_list"))
    known = set(atlas.departments) - {owner}
    unknown = sorted(set(organisations) - known)
    if unknown:
        raise VersionError(404, "not_found", Message("shr_unknown", unknown=", ".join(unknown),
                                                     known=", ".join(sorted(known))))
    return sorted(set(organisations))
