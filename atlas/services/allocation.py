"""Budget allocation preview: an amount across areas, in proportion to need, with a floor and a cap.

What a council discusses before a Sozialraumbudget is decided: each area's
share of an amount in proportion to a weight — an indicator's value times a
population (an index × inhabitants), or an indicator's numerator (children
in SGB II households) — with a floor every area gets and a cap none exceeds.
Amounts are whole cents and add up to the amount exactly (largest remainder).

Disclosure: the weights are read with the viewer's rights, so a suppressed
cell is never used; its area gets the floor only and is listed as such,
because a share computed from a hidden count would reveal it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import numpy as np
import pandas as pd

from atlas.services import queries, territory
from atlas.services.context import Atlas
from auth.permissions import Principal

MAX_AMOUNT_CENTS = 10**15  # ten trillion euros: beyond any municipal budget, and exact in float64 below 2**53


class AllocationError(ValueError):
    """A request the allocation cannot serve; `status` is the HTTP answer, the message says what to change."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Request:
    amount_cents: int
    indicator: str
    period: str
    level: str
    basis: str = "value"  # "value" (× population if given) or "numerator"
    population: str | None = None  # an indicator whose value counts people (bev_gesamt)
    floor_cents: int = 0
    cap_cents: int | None = None


@dataclass
class Allocation:
    request: Request
    rows: pd.DataFrame  # area_id, name, weight, amount_cents, status ("ok", "floor_only", "capped")
    method_de: str
    method_en: str
    left_out: list[dict] = field(default_factory=list)


def parse(atlas: Atlas, raw: dict) -> Request:
    """A request from JSON, every field checked with a message that says what is expected."""
    if not isinstance(raw, dict):
        raise AllocationError(400, "ein JSON-Objekt erwartet / a JSON object is expected")
    amount = _cents(raw.get("amount"), "amount", required=True)
    floor = _cents(raw.get("floor", 0), "floor")
    cap = _cents(raw["cap"], "cap") if raw.get("cap") is not None else None
    level = raw.get("level") or territory.base_level(atlas)
    if level not in territory.level_ids(atlas):
        raise AllocationError(400, f"level: eine von {', '.join(territory.level_ids(atlas))}")
    basis = raw.get("basis", "value")
    if basis not in ("value", "numerator"):
        raise AllocationError(400, "basis: 'value' (Wert, mal Einwohnerzahl wenn 'population' angegeben) oder "
                                   "'numerator' (der Zähler des Indikators)")
    for name in ("indicator", "period"):
        if not isinstance(raw.get(name), str) or not raw.get(name):
            raise AllocationError(400, f"{name} fehlt / {name} is required")
    population = raw.get("population")
    if population is not None and not isinstance(population, str):
        raise AllocationError(400, "population: eine Indikator-ID")
    if population is not None and basis != "value":
        raise AllocationError(409, "population gilt nur mit basis 'value' (Wert × Einwohnerzahl)")
    if cap is not None and cap < floor:
        raise AllocationError(409, "cap muss mindestens so groß sein wie floor / cap must be at least floor")
    return Request(amount, raw["indicator"], raw["period"], level, basis, population, floor, cap)


def _cents(value, name: str, required: bool = False) -> int:
    """An amount in euros (number or text with a decimal point) as whole cents, 0 ≤ amount ≤ MAX."""
    if value is None and not required:
        return 0
    try:
        cents = (Decimal(str(value)) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)  # whole cents
    except (InvalidOperation, ValueError):
        cents = None
    if isinstance(value, bool) or cents is None or not cents.is_finite() or not 0 <= cents <= MAX_AMOUNT_CENTS:
        raise AllocationError(400, f"{name}: ein Betrag in Euro, 0 bis {MAX_AMOUNT_CENTS // 100:,} / an amount "
                                   "in euros".replace(",", "."))
    return int(cents)


def allocate(atlas: Atlas, viewer: Principal, req: Request) -> Allocation | None:
    """The preview; None when an indicator is not visible to the viewer (like one that does not exist)."""
    try:
        rows = queries.value_rows(atlas, viewer, req.indicator, req.period, req.level)
        people = (queries.value_rows(atlas, viewer, req.population, req.period, req.level)
                  if req.population else None)
    except ValueError as exc:
        raise AllocationError(400, f"period: {exc}") from None
    if rows is None or (req.population and people is None):
        return None
    rows = rows[~rows["area_id"].str.endswith("-nz")]  # not-assignable cases get no money: they are nowhere
    if rows.empty:
        raise AllocationError(404, f"{req.indicator} hat für {req.period} keine Gebiete auf der Ebene {req.level}; "
                                   "prüfen Sie den Zeitraum (Jahr oder Quartal, wie der Indikator geführt wird)")
    column = "numerator" if req.basis == "numerator" else "value"
    weight = rows[column].astype(float)
    if people is not None:
        weight = weight * rows["area_id"].map(people.set_index("area_id")["value"]).astype(float)
    usable = (rows["status"] == "ok") & weight.notna()
    if (weight[usable] < 0).any():
        raise AllocationError(409, "Gewichte müssen ≥ 0 sein; nehmen Sie einen Index mit Min-Max- oder "
                                   "Rang-Standardisierung, nicht z-Werte / weights must not be negative")
    cents, capped = distribute(req.amount_cents, np.where(usable, weight, 0.0), req.floor_cents, req.cap_cents)
    status = np.where(~usable, "floor_only", np.where(capped, "capped", "ok"))
    out = pd.DataFrame({"area_id": rows["area_id"].to_numpy(), "name": rows["name"].to_numpy(),
                        "weight": np.where(usable, weight, np.nan), "amount_cents": cents, "status": status})
    left_out = [{"area_id": r.area_id, "name": r.name, "status": s} for r, s in
                zip(rows.itertuples(index=False), rows["status"]) if s != "ok"]
    de, en = _method(atlas, req)
    return Allocation(req, out, de, en, left_out)


def distribute(amount: int, weights: np.ndarray, floor: int = 0, cap: int | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """Whole cents per area: the floor for each, the rest in proportion to the weights, none above the cap.

    Water-filling: areas whose proportional share would pass the cap get the
    cap, the rest is shared again among the others. Then the largest remainder
    method turns shares into cents that add up to `amount` exactly.
    Returns (cents, capped).
    """
    n = len(weights)
    if n == 0:
        raise AllocationError(404, "keine Gebiete auf dieser Ebene / no areas on this level")
    if floor * n > amount:
        raise AllocationError(409, f"floor × {n} Gebiete ist mehr als der Betrag / floor times the areas exceeds "
                                   "the amount")
    if cap is not None and cap * n < amount:
        raise AllocationError(409, f"cap × {n} Gebiete ist weniger als der Betrag: er ließe sich nicht ganz "
                                   "verteilen / cap times the areas is below the amount")
    share = np.full(n, float(floor))
    capped = np.zeros(n, dtype=bool)
    active = weights > 0
    if not active.any():
        active = np.ones(n, dtype=bool)  # no usable weight anywhere: the rest in equal parts
        weights = np.ones(n)
    rest = amount - floor * n
    while True:
        total = weights[active & ~capped].sum()
        extra = np.where(active & ~capped, rest * weights / total if total else 0.0, 0.0)
        over = ~capped & (share + extra > (cap if cap is not None else np.inf) + 1e-9)
        if not over.any():
            share = share + extra
            break
        rest -= (cap - share[over]).sum()
        share[over] = cap
        capped |= over
        if not (active & ~capped).any():  # every weighted area at its cap: the others take the rest equally
            active = ~capped
            weights = np.ones(n)
    cents = np.floor(share + 1e-9).astype(np.int64)
    missing = int(amount - cents.sum())
    room = np.where(capped, 0, 1)  # a capped area is at its cap already
    order = np.lexsort((np.arange(n), -(share - cents) * room))
    cents[order[:missing]] += 1
    return cents, capped


def _method(atlas: Atlas, req: Request) -> tuple[str, str]:
    ind = atlas.indicator_by_id[req.indicator]
    euro = f"{req.amount_cents / 100:,.2f} €".replace(",", "X").replace(".", ",").replace("X", ".")
    if req.basis == "numerator":
        basis_de = f"dem Zähler von „{ind.title_de}“ ({ind.numerator})"
        basis_en = f"the numerator of {ind.title_en}"
    elif req.population:
        pop = atlas.indicator_by_id[req.population]
        basis_de, basis_en = (f"„{ind.title_de}“ × „{pop.title_de}“", f"{ind.title_en} × {pop.title_en}")
    else:
        basis_de, basis_en = f"„{ind.title_de}“", ind.title_en
    bounds_de = f"; Sockel {req.floor_cents / 100:.2f} € je Gebiet".replace(".", ",") if req.floor_cents else ""
    bounds_de += f"; höchstens {req.cap_cents / 100:.2f} € je Gebiet".replace(".", ",") if req.cap_cents else ""
    de = (f"{euro} verteilt im Verhältnis zu {basis_de}, {req.period}{bounds_de}. Gebiete ohne verwendbaren Wert "
          "(fehlend oder geheim gehalten) erhalten nur den Sockel. Beträge auf Cent gerundet (größte Reste), "
          "Summe exakt.")
    en = (f"{req.amount_cents / 100:,.2f} EUR distributed in proportion to {basis_en}, {req.period}; areas without "
          "a usable value (missing or suppressed) get the floor only. Whole cents, largest remainder, exact sum.")
    return de, en
