"""Early warning (Frühwarnung): rules per indicator, checked against each newly released period.

The owning department sets the rules (`may_set_warning_rules`), versioned in
the store's manifest like targets:
  - `above` / `below`: a threshold the value crosses (it was on the safe side
    in the previous period, or there was none);
  - `change_pct`: a change of more than x % against the previous period;
  - `worst_class`: an area moving into the worst fifth of all areas (by the
    indicator's polarity).
Warnings are computed from what the viewer may read, for the newest period
the viewer sees against the one before, so a release (or an embargo that
falls due) shows its warnings on the next read, and a suppressed cell never
raises one. Nothing is e-mailed: `GET /api/v1/warnings` is the JSON a town
hall connects its own notification to.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from atlas.formatting import format_number
from atlas.i18n import t
from atlas.messages import Message
from atlas.services import queries, territory
from atlas.services.context import Atlas
from atlas.services.targets import TargetError, steered_indicator
from auth.permissions import Principal, may_set_warning_rules

KINDS = ("above", "below", "change_pct", "worst_class")
WORST_SHARE = 0.2  # the worst fifth


def set_rules(atlas: Atlas, viewer: Principal, raw) -> dict:
    """A new revision of an indicator's rules (the full set; an empty set ends the warnings)."""
    ind = steered_indicator(atlas, viewer, raw, may_set_warning_rules, "bad_rules", Message("ewr_department_only"))
    rules = {}
    for kind in ("above", "below", "change_pct"):
        if raw.get(kind) is not None:
            value = raw[kind]
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
                raise TargetError(400, "bad_rules", Message("tgt_number", name=kind))
            if kind == "change_pct" and value <= 0:
                raise TargetError(400, "bad_rules", Message("ewr_change_pct"))
            rules[kind] = float(value)
    if raw.get("worst_class") is not None:
        if not isinstance(raw["worst_class"], bool):
            raise TargetError(400, "bad_rules", Message("ewr_worst_class"))
        if raw["worst_class"] and ind.polarity == "neutral":
            raise TargetError(409, "bad_rules", Message("ewr_neutral", id=ind.id))
        rules["worst_class"] = raw["worst_class"]
    with atlas.store.writing() as tx:
        kept = tx.manifest.setdefault("warning_rules", {}).setdefault(ind.id, [])
        revision = {"revision": len(kept) + 1, **rules, "set_by": viewer.name,
                    "set_at": atlas.clock.now().isoformat(timespec="seconds")}
        kept.append(revision)
    atlas.audit.record(viewer.name, "warning_rules_set", ind.id,
                       ", ".join(f"{k}={v}" for k, v in rules.items()) or "keine Regeln")
    return {"indicator": ind.id, **revision}


def current_rules(atlas: Atlas) -> dict[str, dict]:
    """The newest revision per indicator (rules only)."""
    stored = atlas.store.manifest().get("warning_rules", {}) if atlas.store.exists() else {}
    return {ind: {k: v for k, v in revs[-1].items() if k in KINDS} for ind, revs in stored.items() if revs}


def warnings(atlas: Atlas, viewer: Principal, area: str | None = None) -> list[dict]:
    """Every warning the viewer's readable data raise, newest period of each indicator; optionally one area's."""
    found = atlas.cached(("warnings", viewer.rights), lambda: _evaluate_all(atlas, viewer))
    return [w for w in found if area is None or w["area_id"] == area]


def _evaluate_all(atlas: Atlas, viewer: Principal) -> list[dict]:
    out = []
    for ind_id, rules in sorted(current_rules(atlas).items()):
        ind = queries.get_indicator(atlas, viewer, ind_id)
        if ind is None or not rules:
            continue
        periods = queries.periods(atlas, viewer, ind_id)
        if not periods:
            continue
        now, before = periods[-1], (periods[-2] if len(periods) > 1 else None)
        level = territory.base_level(atlas)
        cur = queries.value_rows(atlas, viewer, ind_id, now, level)
        prev = queries.value_rows(atlas, viewer, ind_id, before, level) if before else None
        out += evaluate(ind, rules, now, before, cur, prev)
    return out


def evaluate(ind, rules: dict, now: str, before: str | None, cur: pd.DataFrame,
             prev: pd.DataFrame | None) -> list[dict]:
    """The warnings of one indicator's newest period; only cells readable as numbers take part."""
    cur = cur[cur["status"] == "ok"].set_index("area_id")
    old = prev[prev["status"] == "ok"].set_index("area_id")["value"] if prev is not None else pd.Series(dtype=float)
    out = []

    def warn(area: str, kind: str, limit: float | None = None, change: float | None = None) -> None:
        was, value = old.get(area), float(cur.loc[area, "value"])
        texts = {lang: _message(ind, kind, lang, value, was, limit, change, before) for lang in ("de", "en")}
        out.append({"indicator": ind.id, "title": ind.title_de, "period": now, "previous_period": before,
                    "area_id": area, "name": cur.loc[area, "name"], "rule": kind,
                    "value": value, "previous": None if was is None else float(was),
                    **{f"message_{lang}": f"{cur.loc[area, 'name']} ({area}): {ind.title(lang)} {now} {text}"
                       for lang, text in texts.items()}})

    for area, value in cur["value"].items():
        was = old.get(area)
        if "above" in rules and value > rules["above"] and (was is None or was <= rules["above"]):
            warn(area, "above", limit=rules["above"])
        if "below" in rules and value < rules["below"] and (was is None or was >= rules["below"]):
            warn(area, "below", limit=rules["below"])
        if "change_pct" in rules and was is not None and was != 0:
            change = (value - was) / abs(was) * 100
            if abs(change) > rules["change_pct"]:
                warn(area, "change_pct", change=change)
    if rules.get("worst_class") and ind.polarity != "neutral":
        worst_now = _worst(cur["value"], ind.polarity)
        worst_before = _worst(old, ind.polarity) if len(old) else set()
        for area in sorted(worst_now - worst_before):
            warn(area, "worst_class")
    return out


def _message(ind, kind: str, lang: str, value: float, was: float | None, limit: float | None,
             change: float | None, before: str | None) -> str:
    """What a rule found, in `lang`: numbers in its format and the unit in its words (the JSON carries both)."""
    def fmt(v: float) -> str:
        return f"{format_number(v, ind.decimals, lang)} {ind.unit_in(lang)}".strip()
    step = "" if was is None else f"{fmt(was)} → "
    if kind == "change_pct":
        sign = "+" if change > 0 else "−"
        return t("ew_change", lang).format(change=f"{sign}{abs(change):.0f} %", before=before, was=fmt(was),
                                           value=fmt(value))
    if kind == "worst_class":
        return t("ew_worst", lang).format(value=fmt(value))
    return t(f"ew_{kind}", lang).format(limit=fmt(limit), step=step, value=fmt(value))


def _worst(values: pd.Series, polarity: str) -> set[str]:
    """Areas in the worst fifth: the highest values where high is bad, the lowest where high is good."""
    if len(values) < 5:
        return set()
    if polarity == "high_bad":
        return set(values.index[values >= np.quantile(values, 1 - WORST_SHARE)])
    return set(values.index[values <= np.quantile(values, WORST_SHARE)])
