"""An admin adds a parallel planning grid over HTTP; everybody reads estimates on it with their own rights."""
from __future__ import annotations

import io

import geopandas as gpd
import pytest
import shapely

from atlas.services import queries
from tests.conftest import fresh_client, writer


def _halves(atlas) -> bytes:
    """Two 'Schulbezirke': the city cut into a west and an east half."""
    city = shapely.from_wkb(queries.areas(atlas, "stadt", queries.current_set(atlas))["geometry"].iloc[0])
    minx, miny, maxx, maxy = city.bounds
    mid = (minx + maxx) / 2
    parts = [city.intersection(shapely.box(minx - 1, miny - 1, mid, maxy + 1)),
             city.intersection(shapely.box(mid, miny - 1, maxx + 1, maxy + 1))]
    return gpd.GeoDataFrame({"nr": ["W", "O"], "bezirk": ["Schulbezirk West", "Schulbezirk Ost"]}, geometry=parts,
                            crs="EPSG:4326").to_json().encode()


def _form(atlas, **extra) -> dict:
    return {"file": (io.BytesIO(_halves(atlas)), "schulbezirke.geojson"), "grid_id": "schulbezirk",
            "name_de": "Schulbezirk", "name_en": "school district", "plural_de": "Schulbezirke",
            "plural_en": "school districts", "key_col": "nr", "name_col": "bezirk", **extra}


def test_an_admin_adds_a_grid_and_the_city_total_is_kept(scratch_app, scratch_atlas):
    steward, stoken = writer(scratch_app, "sozialamt")
    refused = steward.post("/api/v1/grids", data=_form(scratch_atlas), content_type="multipart/form-data",
                           headers={"X-CSRFToken": stoken})
    assert refused.status_code == 403
    admin, token = writer(scratch_app, "admin")
    resp = admin.post("/api/v1/grids", data=_form(scratch_atlas), content_type="multipart/form-data",
                      headers={"X-CSRFToken": token})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["areas"] == 2 and scratch_atlas.audit.entries(1)[0]["action"] == "grid_added"
    client = fresh_client(scratch_app)
    assert "schulbezirk" in {g["id"] for g in client.get("/api/v1/grids").get_json()["grids"]}
    rows = client.get("/api/v1/grids/schulbezirk/values?indicator=bev_gesamt&period=2024-Q4").get_json()["rows"]
    city = client.get("/api/v1/values?indicator=bev_gesamt&period=2024-Q4&level=stadt").get_json()["rows"][0]
    assert sum(r["value"] for r in rows) == pytest.approx(city["value"])
    assert {r["method"] for r in rows} == {"geschätzt über Flächenanteile"}


def test_bad_points_are_refused_with_row_and_column(scratch_app, scratch_atlas):
    admin, token = writer(scratch_app, "admin")
    points = (io.BytesIO(b"lon;lat;count\n8.5;50.9;12\n8.6;neunzig;3\n"), "punkte.csv")
    resp = admin.post("/api/v1/grids", data=_form(scratch_atlas, points=points), content_type="multipart/form-data",
                      headers={"X-CSRFToken": token})
    assert resp.status_code == 422
    assert resp.get_json()["errors"][0]["message"].startswith("Punkte, Zeile 3, Spalte lat: 'neunzig'")
