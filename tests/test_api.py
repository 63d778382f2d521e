"""The read API: viewer filtering, GeoJSON, statuses, errors."""
from __future__ import annotations

from atlas.services import queries


def test_indicators_lists_public_only_with_periods(client, atlas):
    body = client.get("/api/v1/indicators").get_json()
    ids = {i["id"] for i in body["indicators"]}
    assert ids == {i.id for i in atlas.indicators if i.visibility == "public"}
    sgb2 = next(i for i in body["indicators"] if i["id"] == "sgb2_quote")
    assert sgb2["periods"][0] == "2012-Q1" and sgb2["periods"][-1] == "2025-Q3"


def test_hidden_indicator_answers_like_a_missing_one(client):
    hidden = client.get("/api/v1/values?indicator=kaufkraft")
    missing = client.get("/api/v1/values?indicator=no_such_thing")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_data() == missing.get_data()


def test_values_rows_with_statuses(client):
    body = client.get("/api/v1/values?indicator=abgang_ohne&period=2024").get_json()
    statuses = {r["status"] for r in body["rows"]}
    assert {"ok", "suppressed"} <= statuses and body["count"] == 51
    hidden = [r for r in body["rows"] if r["status"] == "suppressed"]
    assert all(r["value"] is None and r["numerator"] is None for r in hidden)
    assert all(len(r["area_id"]) == 4 and isinstance(r["area_id"], str) for r in body["rows"])


def test_values_aggregated_level(client, atlas):
    body = client.get("/api/v1/values?indicator=bev_u6&period=2024&level=stadtbezirk").get_json()
    assert body["count"] == 8
    from auth import ANONYMOUS
    expected = queries.values(atlas, ANONYMOUS, "bev_u6", "2024", "stadtbezirk").rows
    assert sorted(r["value"] for r in body["rows"]) == sorted(expected["value"])


def test_areas_follow_boundary_versions(client):
    old = client.get("/api/v1/areas?level=ortsteil&period=2015").get_json()
    new = client.get("/api/v1/areas?level=ortsteil&period=2024").get_json()
    assert old["type"] == "FeatureCollection" and len(old["features"]) == 50 and len(new["features"]) == 51
    f = new["features"][0]
    assert set(f["properties"]) >= {"id", "name", "level", "parent"} and f["geometry"]["type"] == "Polygon"
    districts = client.get("/api/v1/areas?level=stadtbezirk").get_json()
    assert len(districts["features"]) == 8


def test_bad_arguments_get_clear_errors(client):
    r = client.get("/api/v1/areas?level=county")
    assert r.status_code == 400 and "ortsteil" in r.get_json()["message"]
    r = client.get("/api/v1/values?indicator=bev_u6&period=Q3-2024")
    assert r.status_code == 400 and "2024-Q3" in r.get_json()["message"]
    assert client.get("/api/v1/areas?period=1990").status_code == 404


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}  # nothing about the store (tests/test_security.py)


def test_points_geojson(client):
    body = client.get("/api/v1/points?layer=kita").get_json()
    assert body["features"] and {f["properties"]["layer"] for f in body["features"]} == {"kita"}
