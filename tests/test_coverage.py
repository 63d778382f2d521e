"""Supply and demand: places per 100 people in need, counted from the facilities, never revealing a hidden count."""
from __future__ import annotations

import numpy as np
import pytest
import shapely

from atlas.services import coverage, queries
from auth import ANONYMOUS
from tests.conftest import fresh_client


def test_capacity_is_counted_from_the_facilities_in_each_area_and_adds_up(atlas):
    found = coverage.coverage(atlas, ANONYMOUS, "kita", "bev_u6", "2024", "stadtbezirk")
    kitas = queries.points(atlas, "kita")
    assert found.rows["capacity"].sum() == kitas["capacity"].sum() == found.total["capacity"]
    areas = queries.areas(atlas, "stadtbezirk", queries.current_set(atlas))
    first = areas.iloc[0]
    shape = shapely.from_wkb(first["geometry"])
    inside = [shape.contains(shapely.Point(x, y)) for x, y in zip(kitas["lon"], kitas["lat"])]
    assert found.rows.set_index("area_id").loc[first["area_id"], "capacity"] == kitas.loc[inside, "capacity"].sum()
    children = queries.value_rows(atlas, ANONYMOUS, "bev_u6", "2024", "stadtbezirk").set_index("area_id")
    row = found.rows.set_index("area_id").loc[first["area_id"]]
    assert row["coverage"] == pytest.approx(row["capacity"] / children.loc[first["area_id"], "numerator"] * 100)
    assert "je 100" in found.method_de and "Standort im Gebiet" in found.method_de


def test_a_catchment_counts_more_and_says_so(atlas):
    plain = coverage.coverage(atlas, ANONYMOUS, "kita", "bev_u6", "2024")
    wide = coverage.coverage(atlas, ANONYMOUS, "kita", "bev_u6", "2024", radius_m=1000)
    assert (wide.rows["capacity"].to_numpy() >= plain.rows["capacity"].to_numpy()).all()
    assert wide.rows["capacity"].sum() > plain.rows["capacity"].sum() and "Einzugsbereich" in wide.method_de


def test_where_the_need_is_suppressed_the_coverage_is_too(atlas):
    found = coverage.coverage(atlas, ANONYMOUS, "grundschule", "abgang_ohne", "2024")
    hidden = set(queries.value_rows(atlas, ANONYMOUS, "abgang_ohne", "2024", "ortsteil")
                 .query("status == 'suppressed'")["area_id"])
    rows = found.rows.set_index("area_id")
    assert hidden and (rows.loc[sorted(hidden), "status"] == "suppressed").all()
    assert rows.loc[sorted(hidden), ["demand", "coverage"]].isna().all().all()


def test_the_route_answers_unknown_and_hidden_alike_and_refuses_bad_arguments(dash_app, atlas):
    client = fresh_client(dash_app)
    hidden = next(i.id for i in atlas.indicators if i.visibility == "internal")
    a = client.get(f"/api/v1/coverage?layer=kita&demand={hidden}&period=2024")
    b = client.get("/api/v1/coverage?layer=kita&demand=gibtsnicht&period=2024")
    assert a.status_code == b.status_code == 404 and a.data == b.data
    assert client.get("/api/v1/coverage?layer=schwimmbad&demand=bev_u6&period=2024").status_code == 404
    assert client.get("/api/v1/coverage?layer=kita&demand=bev_u6&period=2024&radius=-5").status_code == 400
    ok = client.get("/api/v1/coverage?layer=kita&demand=bev_u6&period=2024&level=stadtbezirk").get_json()
    assert len(ok["rows"]) == 8 and np.isclose(ok["total"]["coverage"], ok["total"]["capacity"]
                                               / ok["total"]["demand"] * 100)
