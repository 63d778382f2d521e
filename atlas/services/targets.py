"""Targets (SMART goals) per indicator: a target value, a warning zone, a direction and a deadline.

Set by the owning department (`may_set_target`), versioned: every revision
is kept in the store's manifest (`targets`, indicator → list of revisions,
newest last) with who and when, and audited. The current status compares
the whole territory's newest readable value (through `queries.values`, so
rights and suppression apply) with the newest revision: green when the
target is reached, yellow in the warning zone, red beyond it, grey when
there is no value. Targets of indicators the viewer may not see are never
listed (answered like indicators that do not exist).
"""
from __future__ import annotations

from datetime import date

from atlas.catalog import Indicator
from atlas.messages import Message
from atlas.services import queries, territory
from atlas.services.context import Atlas
from auth.permissions import Principal, may_configure_dashboard, may_set_target

DIRECTIONS = ("up", "down")  # up: higher is better (reach at least the target); down: at most


class TargetError(ValueError):
    """A steering request (target, warning rules, register, tiles) that cannot be done; `status` and `code` for
    the HTTP answer, the message a catalogue `Message` said in the reader's language (`say(exc.args[0], lang)`)."""

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code = status, code
        super().__init__(message)


NOT_FOUND = TargetError(404, "not_found", Message("tgt_not_found"))


def _number(raw, name: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise TargetError(400, "bad_target", Message("tgt_number", name=name)) from None
    if value != value or value in (float("inf"), float("-inf")):
        raise TargetError(400, "bad_target", Message("tgt_number", name=name))
    return value


def steered_indicator(atlas: Atlas, viewer: Principal, raw, may, code: str, refusal: Message) -> Indicator:
    """The indicator a steering request (a target, warning rules) names, if `may` lets the viewer steer it.

    Not visible: 404 like an unknown one; visible but another department's: 403 with `refusal`.
    """
    if not isinstance(raw, dict):
        raise TargetError(400, code, Message("tgt_json_object"))
    ind = queries.get_indicator(atlas, viewer, raw.get("indicator")) if isinstance(raw.get("indicator"), str) \
        else None
    if ind is None:
        raise NOT_FOUND
    if not may(viewer, ind.department):
        raise TargetError(403, "forbidden", refusal)
    return ind


def set_target(atlas: Atlas, viewer: Principal, raw) -> dict:
    """Add a revision of an indicator's target; returns it. The warning zone lies before the target."""
    ind = steered_indicator(atlas, viewer, raw, may_set_target, "bad_target", Message("tgt_department_only"))
    target, warn = _number(raw.get("target"), "target"), _number(raw.get("warn"), "warn")
    direction = raw.get("direction")
    if direction not in DIRECTIONS:
        raise TargetError(400, "bad_target", Message("tgt_direction"))
    if (direction == "up" and not warn < target) or (direction == "down" and not warn > target):
        raise TargetError(400, "bad_target", Message("tgt_warn_side"))
    try:
        deadline = date.fromisoformat(str(raw.get("deadline"))).isoformat()
    except ValueError:
        raise TargetError(400, "bad_target", Message("tgt_deadline")) from None
    note = " ".join(str(raw.get("note") or "").split())[:300]
    with atlas.store.writing() as tx:
        kept = tx.manifest.setdefault("targets", {}).setdefault(ind.id, [])
        revision = {"revision": len(kept) + 1, "target": target, "warn": warn, "direction": direction,
                    "deadline": deadline, "note": note, "set_by": viewer.name,
                    "set_at": atlas.clock.now().isoformat(timespec="seconds")}
        kept.append(revision)
    atlas.audit.record(viewer.name, "target_set", ind.id,
                       f"Ziel {target:g} ({direction}), Warnschwelle {warn:g}, bis {deadline}")
    return {"indicator": ind.id, **revision}


def _revisions(atlas: Atlas) -> dict[str, list[dict]]:
    return atlas.store.manifest().get("targets", {}) if atlas.store.exists() else {}


def history(atlas: Atlas, viewer: Principal, indicator_id: str) -> list[dict] | None:
    """Every revision of a visible indicator's target, oldest first; None if the indicator is not visible."""
    if queries.get_indicator(atlas, viewer, indicator_id) is None:
        return None
    return list(_revisions(atlas).get(indicator_id, []))


def light(value: float | None, target: dict) -> str:
    """green (reached), yellow (in the warning zone), red (beyond it) or grey (no value)."""
    if value is None or value != value:
        return "grey"
    sign = 1 if target["direction"] == "up" else -1
    if sign * value >= sign * target["target"]:
        return "green"
    return "yellow" if sign * value >= sign * target["warn"] else "red"


def status(atlas: Atlas, viewer: Principal, indicator_id: str) -> dict | None:
    """The tile of one indicator: its newest territory value, target, light and trend; None if not visible
    or without a target."""
    ind = queries.get_indicator(atlas, viewer, indicator_id)
    kept = _revisions(atlas).get(indicator_id) if ind is not None else None
    if not kept:
        return None
    target = kept[-1]
    periods = queries.periods(atlas, viewer, ind.id)
    top = territory.top_level(atlas)

    def territory_value(period: str) -> float | None:
        rows = queries.values(atlas, viewer, ind.id, period, top).rows
        ok = rows[rows["status"] == "ok"]
        return float(ok["value"].iloc[0]) if len(ok) else None
    value = territory_value(periods[-1]) if periods else None
    before = territory_value(periods[-2]) if len(periods) > 1 else None
    trend = None if value is None or before is None else ("up" if value > before else "down" if value < before
                                                          else "flat")
    return {"indicator": ind.id, "title_de": ind.title_de, "title_en": ind.title_en, "unit": ind.unit,
            "unit_en": ind.unit_in("en"),
            "period": periods[-1] if periods else None, "value": value, "previous": before, "trend": trend,
            "light": light(value, target), "target": target}


def dashboard(atlas: Atlas, viewer: Principal) -> list[dict]:
    """Tiles of every indicator the viewer may see that has a target, in catalogue order; where one of the
    viewer's organisations chose its tiles, those (a Gemeinde's dashboard shows what it steers)."""
    visible = queries.visible_indicators(atlas, viewer)["id"].tolist()
    kept = _revisions(atlas)
    chosen = set().union(*[set(tiles_of(atlas, org) or ()) for org in viewer.departments]) \
        if viewer.departments else set()
    return [tile for i in visible if i in kept and (not chosen or i in chosen)
            for tile in [status(atlas, viewer, i)] if tile is not None]


def tiles_of(atlas: Atlas, organisation: str) -> list[str] | None:
    """The indicators an organisation chose for its dashboard, or None (it shows every tile)."""
    return (atlas.store.manifest().get("dashboards", {}) if atlas.store.exists() else {}).get(organisation)


def choose_tiles(atlas: Atlas, viewer: Principal, raw) -> dict:
    """An organisation's choice of dashboard tiles (its stewards, admins); [] shows every tile again."""
    if not isinstance(raw, dict) or not isinstance(raw.get("indicators"), list):
        raise TargetError(400, "bad_tiles", Message("tgt_tiles"))
    org = raw.get("organisation")
    if not isinstance(org, str) or org not in atlas.departments:
        raise TargetError(404, "not_found", Message("tgt_organisation", choices=sorted(atlas.departments)))
    if not may_configure_dashboard(viewer, org):
        raise TargetError(403, "forbidden", Message("tgt_tiles_own"))
    unknown = [i for i in raw["indicators"] if not isinstance(i, str) or queries.get_indicator(atlas, viewer, i)
               is None]
    if unknown:
        raise TargetError(404, "not_found", Message("tgt_unknown", ids=[str(i) for i in unknown[:10]]))
    with atlas.store.writing() as tx:
        tx.manifest.setdefault("dashboards", {})[org] = list(dict.fromkeys(raw["indicators"]))
    atlas.audit.record(viewer.name, "dashboard_configured", org, ", ".join(raw["indicators"]) or "alle Kacheln")
    return {"organisation": org, "indicators": list(dict.fromkeys(raw["indicators"]))}
