"""Goals and measures: a short register that links goals to indicators and measures to a review date.

As Emden keeps it (1 Leitziel, 3 Teilziele, 16 measures): a goal is either a
Leitziel or a Teilziel below one, and names the indicators that show whether
it is reached (their targets and traffic lights are in `targets`). A measure
belongs to a goal, has a responsible unit and a review date
("Wiedervorlage"); a review that is due shows on the dashboard until the
measure gets a new date or is closed. Everything is kept in the store's
manifest with who and when, audited, and each entry is `public` or
`internal` (staff only). Linked indicators the viewer may not see are left
out of what the viewer reads.
"""
from __future__ import annotations

import secrets
from datetime import date

from atlas.messages import Message
from atlas.services import queries
from atlas.services.context import Atlas
from atlas.services.targets import TargetError
from auth.permissions import (
    Principal,
    may_plan_measures,
    may_set_goals,
    sees_internal_figures,
)

VISIBILITIES = ("public", "internal")
STATES = ("open", "done", "dropped")


def _text(raw: dict, name: str, limit: int = 300, required: bool = True) -> str:
    value = " ".join(str(raw.get(name) or "").split())[:limit]
    if required and not value:
        raise TargetError(400, "bad_register", Message("msr_required", name=name))
    return value


def _visibility(raw: dict) -> str:
    value = raw.get("visibility", "internal")
    if value not in VISIBILITIES:
        raise TargetError(400, "bad_register", Message("msr_visibility"))
    return value


def add_goal(atlas: Atlas, viewer: Principal, raw) -> dict:
    """A Leitziel, or a Teilziel with `parent`; `indicators` that show whether it is reached."""
    if not may_set_goals(viewer):
        raise TargetError(403, "forbidden", Message("msr_goals_admin_only"))
    if not isinstance(raw, dict):
        raise TargetError(400, "bad_register", Message("tgt_json_object"))
    register = _register(atlas)
    parent = raw.get("parent") or None
    if parent is not None and (not isinstance(parent, str) or parent not in register["goals"]):
        raise TargetError(404, "not_found", Message("msr_no_parent"))
    if parent is not None and register["goals"][parent]["parent"]:
        raise TargetError(409, "bad_register", Message("msr_parent_is_sub"))
    inds = raw.get("indicators", [])
    if not isinstance(inds, list) or not all(isinstance(i, str) for i in inds):
        raise TargetError(400, "bad_register", Message("msr_indicators"))
    if any(queries.get_indicator(atlas, viewer, i) is None for i in inds):
        raise TargetError(404, "not_found", Message("msr_unknown_indicator"))
    goal = {"id": "z" + secrets.token_hex(3), "title": _text(raw, "title"), "parent": parent,
            "indicators": list(dict.fromkeys(inds)), "visibility": _visibility(raw), **_stamp(atlas, viewer)}
    _save(atlas, "goals", goal)
    atlas.audit.record(viewer.name, "goal_added", goal["id"], goal["title"])
    return goal


def add_measure(atlas: Atlas, viewer: Principal, raw) -> dict:
    """A measure (or a new revision of one, with `id`): goal, title, responsible unit, review date, state."""
    if not isinstance(raw, dict):
        raise TargetError(400, "bad_register", Message("tgt_json_object"))
    register = _register(atlas)
    unit, goal, measure = raw.get("unit"), raw.get("goal"), raw.get("id") or None
    if not all(isinstance(v, str) for v in (unit, goal)) or not isinstance(measure, (str, type(None))):
        raise TargetError(400, "bad_register", Message("msr_ids"))
    if unit not in atlas.departments:
        raise TargetError(404, "not_found", Message("msr_unit", choices=sorted(atlas.departments)))
    if not may_plan_measures(viewer, unit):
        raise TargetError(403, "forbidden", Message("msr_unit_only"))
    if goal not in register["goals"]:
        raise TargetError(404, "not_found", Message("msr_no_goal"))
    try:
        review = date.fromisoformat(str(raw.get("review"))).isoformat()
    except ValueError:
        raise TargetError(400, "bad_register", Message("msr_review")) from None
    state = raw.get("state", "open")
    if state not in STATES:
        raise TargetError(400, "bad_register", Message("msr_state"))
    if measure is not None and measure not in register["measures"]:
        raise TargetError(404, "not_found", Message("msr_not_found"))
    measure_id = measure or "m" + secrets.token_hex(3)
    measure = {"id": measure_id, "goal": goal, "title": _text(raw, "title"), "unit": unit,
               "review": review, "state": state, "note": _text(raw, "note", required=False),
               "visibility": _visibility(raw), **_stamp(atlas, viewer)}
    _save(atlas, "measures", measure)
    atlas.audit.record(viewer.name, "measure_saved", measure_id, f"{measure['title']} – {state}, Wiedervorlage {review}")
    return measure


def register(atlas: Atlas, viewer: Principal) -> dict:
    """Goals (Leitziele with their Teilziele) and measures the viewer may read, and the reviews now due."""
    data, today = _register(atlas), atlas.clock.now().date().isoformat()
    visible = set(queries.visible_indicators(atlas, viewer)["id"])

    def readable(entry: dict) -> bool:
        return entry["visibility"] == "public" or sees_internal_figures(viewer)
    goals = [{**g, "indicators": [i for i in g["indicators"] if i in visible]}
             for g in data["goals"].values() if readable(g)]
    ids = {g["id"] for g in goals}
    measures = [m for m in data["measures"].values() if readable(m) and m["goal"] in ids]
    due = [m for m in measures if m["state"] == "open" and m["review"] <= today]
    return {"goals": goals, "measures": measures, "due": sorted(due, key=lambda m: m["review"])}


def _register(atlas: Atlas) -> dict:
    stored = atlas.store.manifest().get("register", {}) if atlas.store.exists() else {}
    return {"goals": stored.get("goals", {}), "measures": stored.get("measures", {})}


def _stamp(atlas: Atlas, viewer: Principal) -> dict:
    return {"by": viewer.name, "at": atlas.clock.now().isoformat(timespec="seconds")}


def _save(atlas: Atlas, kind: str, entry: dict) -> None:
    """Store the entry (a measure's earlier revision is kept in its history)."""
    with atlas.store.writing() as tx:
        table = tx.manifest.setdefault("register", {}).setdefault(kind, {})
        before = table.get(entry["id"])
        if before is not None:
            entry["history"] = before.get("history", []) + [{k: v for k, v in before.items() if k != "history"}]
        table[entry["id"]] = entry
