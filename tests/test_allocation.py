"""Budget allocation preview: exact to the cent, floors and caps kept, proportional otherwise, no hidden count used."""
from __future__ import annotations

import io

import numpy as np
import pytest
from openpyxl import load_workbook

from atlas.services import allocation, queries
from auth import ANONYMOUS
from tests.conftest import fresh_client, writer


@pytest.mark.parametrize("seed", range(20))
def test_amounts_add_up_to_the_cent_with_floors_and_caps_kept(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(3, 60))
    weights = rng.lognormal(0, 1.2, n) * (rng.random(n) > 0.15)  # some areas without a usable weight
    amount = int(rng.integers(n * 1000, 10_000_000))
    floor = int(rng.integers(0, amount // n // 2 + 1))
    cap = int(max(floor, amount / n * rng.uniform(1.1, 4)))
    cents, capped = allocation.distribute(amount, weights, floor, cap)
    assert cents.sum() == amount
    assert (cents >= floor).all() and (cents <= cap).all()
    free = ~capped & (weights > 0)
    if free.sum() >= 2:  # uncapped areas share what is above the floor in proportion to their weights
        above = (cents[free] - floor) / weights[free]
        assert np.ptp(above) <= 1.0 / weights[free].min() + 1e-9


def test_a_hand_computed_example():
    cents, capped = allocation.distribute(100_000, np.array([1.0, 1.0, 2.0, 0.0]), floor=10_000, cap=40_000)
    # 60,000 above the floors: 1:1:2 would give the third 30,000 + 10,000 = 40,000 (the cap, just), the
    # others 15,000 + 10,000; the fourth has no weight and gets the floor.
    assert cents.tolist() == [25_000, 25_000, 40_000, 10_000] and cents.sum() == 100_000
    cents, capped = allocation.distribute(100, np.array([1.0, 1.0, 1.0]))
    assert sorted(cents.tolist()) == [33, 33, 34] and cents.sum() == 100  # largest remainder, exact


def test_impossible_bounds_are_refused_with_a_reason():
    with pytest.raises(allocation.AllocationError, match="floor"):
        allocation.distribute(1000, np.ones(3), floor=400)
    with pytest.raises(allocation.AllocationError, match="cap"):
        allocation.distribute(1000, np.ones(3), cap=300)


def test_a_suppressed_count_is_never_used_and_its_area_gets_the_floor(atlas):
    req = allocation.parse(atlas, {"amount": "250000.00", "indicator": "abgang_ohne", "period": "2024",
                                   "basis": "numerator", "floor": 1000})
    public = allocation.allocate(atlas, ANONYMOUS, req)
    hidden = set(queries.value_rows(atlas, ANONYMOUS, "abgang_ohne", "2024", "ortsteil")
                 .query("status == 'suppressed'")["area_id"])
    assert hidden and public.rows["amount_cents"].sum() == 25_000_000
    floor_only = public.rows[public.rows["status"] == "floor_only"]
    assert hidden <= set(floor_only["area_id"]) and (floor_only["amount_cents"] == 100_000).all()
    assert {r["area_id"] for r in public.left_out} >= hidden
    assert "nur den Sockel" in public.method_de


def test_the_route_for_stewards_json_and_xlsx_and_nobody_else(dash_app, atlas):
    body = {"amount": 100000, "indicator": "sgb2_u15", "period": "2024", "population": "bev_gesamt",
            "level": "stadtbezirk", "floor": 2000}
    assert fresh_client(dash_app).post("/api/v1/allocation/preview", json=body).status_code == 404
    steward, token = writer(dash_app, "sozialamt")
    resp = steward.post("/api/v1/allocation/preview", json=body, headers={"X-CSRFToken": token})
    answer = resp.get_json()
    assert resp.status_code == 200 and round(sum(r["amount"] for r in answer["rows"]), 2) == 100000
    assert len(answer["rows"]) == 8 and "Einwohner" in answer["method_de"]
    sheet = steward.post("/api/v1/allocation/preview?format=xlsx", json=body, headers={"X-CSRFToken": token})
    book = load_workbook(io.BytesIO(sheet.data))
    cells = list(book["Verteilung"].iter_rows(values_only=True))
    assert cells[0][:4] == ("Schlüssel", "Gebiet", "Gewicht", "Betrag")
    assert round(sum(r[3] for r in cells[1:9]), 2) == 100000
    bad = steward.post("/api/v1/allocation/preview", json={**body, "amount": "12,5"}, headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "amount" in bad.get_json()["message"]
    quarterly = steward.post("/api/v1/allocation/preview", json={**body, "indicator": "sgb2_quote"},
                             headers={"X-CSRFToken": token})
    assert quarterly.status_code == 404 and "Zeitraum" in quarterly.get_json()["message"]
