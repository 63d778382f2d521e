"""Disclosure control (Geheimhaltung): the one module that decides which cells are withheld.

German official statistics withhold small numbers (§16 BStatG; minimum case
number usually 3). Two steps, once per indicator, period and data view:

- **Primary suppression** hides a published cell whose count is small: a
  count indicator by its value, a rate by its numerator and/or denominator,
  with thresholds from the catalogue (counts default to 3, i.e. 1–2 are
  withheld). Zero is never small: it stays zero.
- **Secondary suppression** makes sure no hidden cell can be worked out by
  subtraction. Every published parent gives an equation
  ``parent = Σ children`` (for each count: numerator, denominator, value),
  at every parent–child pair of the hierarchy, the city included, whatever
  the levels are called. An equation with exactly one hidden member gives
  that member away; an equation whose hidden members are all small gives
  them away to an interval narrower than the threshold. So, until stable:
  an equation with one hidden member, or with a small hidden cell but no
  hidden cell carrying at least a threshold's worth of the same count, gets
  its next-smallest visible child with enough mass hidden too; where no
  child qualifies, the parent is hidden instead (and its own equation is
  then checked in turn).
- **Linked indicators** that publish the same count (`same_count_as` in the
  catalogue, e.g. a count and a share built on it) are suppressed together:
  a cell hidden in one is hidden in the others, and both are re-checked.

Who sees beneath the pattern (the owning department's stewards and admins)
is decided in `auth.permissions.sees_unsuppressed`; everybody else gets the
same pattern in every output: map, values API at every level, exports,
pictures, time series, profiles and comparisons, because they all read values
through `atlas.services.queries`, which applies `apply` below.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.catalog import Indicator
from auth.permissions import Principal, sees_unsuppressed

# The offices' minimum case number: counts of 1 and 2 are withheld unless the catalogue says otherwise.
DEFAULT_COUNT_THRESHOLD = 3
REASONS = ("primary", "secondary", "linked", "delivered")
PATTERN_COLS = ["period", "area_id", "reason"]
_SEP = "\x1f"


@dataclass(frozen=True)
class Rule:
    """Cells whose `quantity` is above zero and below `below` are small."""

    quantity: str  # "value" (counts), "numerator" or "denominator" (rates)
    below: float


def rules(ind: Indicator) -> list[Rule]:
    """The small-number rules of an indicator, from its catalogue entry."""
    if ind.aggregation == "sum":
        below = DEFAULT_COUNT_THRESHOLD if ind.suppress_value_below is None else ind.suppress_value_below
        return [Rule("value", float(below))] if below > 0 else []
    if ind.aggregation == "ratio":
        return [Rule(q, float(b)) for q, b in (("numerator", ind.suppress_numerator_below),
                                                ("denominator", ind.suppress_denominator_below)) if b and b > 0]
    return []  # an index has no counts to protect and is not aggregated


def sees_everything(viewer: Principal, ind: Indicator) -> bool:
    return sees_unsuppressed(viewer, ind.department)


def _empty_pattern() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="object") for c in PATTERN_COLS})


def hidden_cells(rows: pd.DataFrame, rule_list: list[Rule], forced: pd.DataFrame | None = None) -> pd.DataFrame:
    """The suppression pattern of one indicator over any number of periods.

    `rows` holds the published cells of every level (columns period, area_id,
    parent_id, status and the rule quantities); area keys are unique within a
    period's boundary set. `forced` (period, area_id) are cells to hide
    whatever their size (linked indicators). Returns period, area_id, reason.
    """
    if rows.empty or (not rule_list and (forced is None or forced.empty)):
        return _empty_pattern()
    period = rows["period"].astype(str).to_numpy()
    keys = pd.Index(np.char.add(np.char.add(period, _SEP), rows["area_id"].astype(str).to_numpy()))
    parent_ids = rows["parent_id"].astype(object).where(rows["parent_id"].notna(), None).to_numpy()
    parent_keys = [f"{p}{_SEP}{a}" if a is not None else "" for p, a in zip(period, parent_ids)]
    parent = keys.get_indexer(parent_keys)
    published = (rows["status"] == "ok").to_numpy()
    quantities = [r.quantity for r in rule_list] or ["value"]
    q = np.nan_to_num(np.column_stack([rows[c].to_numpy(dtype=float, na_value=np.nan) for c in quantities]))
    below = np.array([r.below for r in rule_list] or [0.0])
    small = published[:, None] & (q > 0) & (q < below)  # primary, per quantity
    hidden = small.any(axis=1)
    reason = np.where(hidden, "primary", "").astype(object)
    if forced is not None and len(forced):
        fkeys = np.char.add(np.char.add(forced["period"].astype(str).to_numpy(), _SEP),
                            forced["area_id"].astype(str).to_numpy())
        hit = keys.get_indexer(fkeys)
        hit = hit[(hit >= 0)]
        newly = hit[~hidden[hit] & published[hit]]
        hidden[newly], reason[newly] = True, "linked"
    _protect(parent, published, q, below, small, hidden, reason)
    out = pd.DataFrame({"period": rows["period"].to_numpy(), "area_id": rows["area_id"].to_numpy(),
                        "reason": reason})
    return out[hidden & published].reset_index(drop=True)


def _protect(parent: np.ndarray, published: np.ndarray, q: np.ndarray, below: np.ndarray,
             small: np.ndarray, hidden: np.ndarray, reason: np.ndarray) -> None:
    """Secondary suppression in place: iterate over all equations until none gives a cell away."""
    n, k = q.shape
    is_child = (parent >= 0) & published
    child = np.flatnonzero(is_child)
    par = parent[child]
    n_children = np.bincount(par, minlength=n)
    is_equation = published & (n_children > 0)
    enough = q >= below  # a hidden cell with at least a threshold's worth of this count
    for _ in range(n + 1):
        h = hidden.astype(float)
        unknown = h + np.bincount(par, weights=h[child], minlength=n)
        need = np.zeros((n, k), dtype=bool)
        for j in range(k):
            hs = (hidden & small[:, j]).astype(float)
            he = (hidden & enough[:, j]).astype(float)
            smalls = hs + np.bincount(par, weights=hs[child], minlength=n)
            protectors = he + np.bincount(par, weights=he[child], minlength=n)
            need[:, j] = (smalls > 0) & (protectors == 0)
        violated = is_equation & ((unknown == 1) | need.any(axis=1))
        if not violated.any():
            return
        # Which counts the added cell must carry: the unprotected ones, or (one unknown) all of them.
        required = np.where(need.any(axis=1)[:, None], need, True)
        progress = _hide_next_smallest(violated, required, child, par, q, enough, hidden, reason)
        if not progress:
            return  # nothing left that could be hidden: every equation is as protected as it can be


def _hide_next_smallest(violated: np.ndarray, required: np.ndarray, child: np.ndarray, par: np.ndarray,
                        q: np.ndarray, enough: np.ndarray, hidden: np.ndarray, reason: np.ndarray) -> bool:
    """For each violated equation hide its smallest suitable visible child, else its parent."""
    in_violation = violated[par]
    fits = (enough[child] | ~required[par]).all(axis=1) & (q[child].sum(axis=1) > 0)
    candidate = in_violation & ~hidden[child] & fits
    progress = False
    chosen_parents = np.zeros(len(violated), dtype=bool)
    if candidate.any():
        cand_child, cand_par = child[candidate], par[candidate]
        size = (q[cand_child] * required[cand_par]).sum(axis=1)
        order = np.lexsort((cand_child, size, cand_par))  # per parent: smallest mass first, then stable
        first = np.ones(len(order), dtype=bool)
        first[1:] = cand_par[order][1:] != cand_par[order][:-1]
        pick = cand_child[order][first]
        hidden[pick], reason[pick] = True, "secondary"
        chosen_parents[cand_par[order][first]] = True
        progress = True
    orphans = np.flatnonzero(violated & ~chosen_parents & ~hidden)
    if len(orphans):
        hidden[orphans], reason[orphans] = True, "secondary"
        progress = True
    return progress


def linked_pattern(patterns: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Cells hidden in any of a group of linked indicators (same period and area)."""
    frames = [p[["period", "area_id"]] for p in patterns.values() if len(p)]
    if not frames:
        return _empty_pattern()[["period", "area_id"]]
    return pd.concat(frames, ignore_index=True).drop_duplicates()


def apply(rows: pd.DataFrame, pattern: pd.DataFrame, ind: Indicator, viewer: Principal) -> pd.DataFrame:
    """Withhold the pattern's cells from `rows` for everyone below the owning department.

    Cells stored as suppressed (delivered so) stay hidden for everyone. The
    owning department and admins see every number; their rows carry a
    `confidential` column naming why a cell is not for publication.
    """
    if rows.empty:
        return rows
    status = rows["status"].to_numpy(dtype=object)
    delivered = status == "suppressed"
    if len(pattern):
        period = rows["period"].astype(str).to_numpy()  # every caller reads rows with their period
        keys = pd.Index(np.char.add(np.char.add(pattern["period"].astype(str).to_numpy(), _SEP),
                                    pattern["area_id"].astype(str).to_numpy()))
        row_keys = np.char.add(np.char.add(period, _SEP), rows["area_id"].astype(str).to_numpy())
        where = keys.get_indexer(row_keys)
        in_pattern = (where >= 0) & (status == "ok")
    else:
        where, in_pattern = np.full(len(rows), -1), np.zeros(len(rows), dtype=bool)
    if sees_everything(viewer, ind):
        if in_pattern.any():
            rows = rows.copy()
            rows["confidential"] = np.where(in_pattern, pattern["reason"].to_numpy()[np.maximum(where, 0)], None)
        return rows
    hide = delivered | in_pattern
    if not hide.any():
        return rows
    rows = rows.copy()
    rows.loc[hide, ["value", "numerator", "denominator"]] = np.nan
    rows.loc[hide, "status"] = "suppressed"
    return rows
