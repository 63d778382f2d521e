"""Real Berlin boundaries nobody here made, through the store's own geometry code.

The 2006–2020 Planungsräume file has a real defect: key 06010102 appears
twice (the Charlottenburg feature should be 04030417, see SOURCES.md). The
loader must name it, not drop or merge a feature.
"""
from __future__ import annotations

import os
from datetime import date

import geopandas as gpd
import pytest
import shapely

from atlas.catalog import catalog_frame, load_catalog
from atlas.config import PROJECT_ROOT
from atlas.services.boundaries import (
    BoundaryError,
    BoundarySet,
    add_boundary_set,
    check_areas,
    read_boundary_file,
)
from atlas.store.store import Store
from tests.conftest import REALDATA

PLR = REALDATA / "berlin_lor_planungsraeume_2006_2020.geojson"
BEZIRKE = REALDATA / "berlin_bezirke.geojson"
# Outside CI a checkout without ../shared may skip; in CI a missing file must fail.
pytestmark = pytest.mark.skipif(not PLR.exists() and os.environ.get("CI") != "true",
                                reason="../shared/realdata is not present")


def test_duplicate_key_is_reported_with_both_features():
    plr = read_boundary_file(PLR, key_col="id", name_col="name")
    assert len(plr) == 448
    with pytest.raises(BoundaryError) as exc:
        check_areas(plr)
    problems = exc.value.problems
    assert len(problems) == 1
    message = problems[0]
    assert "Schlüssel '06010102' kommt 2-mal vor" in message and message.count("Schloßstraße") == 2
    assert "Key '06010102' appears 2 times" in message.text("en")
    assert "52.4" in message and "52.5" in message  # both locations, so a person can tell them apart
    assert len(plr) == 448 and (plr["area_id"] == "06010102").sum() == 2  # nothing dropped or merged


def _fixed_berlin_levels() -> tuple[dict[str, gpd.GeoDataFrame], str]:
    plr = read_boundary_file(PLR, key_col="id", name_col="name")
    wrong = (plr["area_id"] == "06010102") & (plr.geometry.bounds["miny"] > 52.5)
    assert wrong.sum() == 1
    plr.loc[wrong, "area_id"] = "04030417"  # the documented fix
    plr["parent_id"] = plr["area_id"].str[:2]
    bezirke = read_boundary_file(BEZIRKE, key_col="id", name_col="name")
    bezirke["parent_id"] = "11000000"
    city = gpd.GeoDataFrame({"area_id": ["11000000"], "name": ["Berlin"], "parent_id": [None]},
                            geometry=[shapely.union_all(bezirke.geometry.values)], crs="EPSG:4326")
    return {"ortsteil": plr, "stadtbezirk": bezirke, "stadt": city}, plr.attrs["source_crs"]


def test_berlin_boundaries_are_served_through_the_areas_api(tmp_path, monkeypatch):
    data_dir = tmp_path / "berlin"
    domains, indicators = load_catalog(PROJECT_ROOT / "layers")
    store = Store(data_dir, catalog_frame(indicators, domains))
    levels, crs = _fixed_berlin_levels()
    with store.writing() as tx:
        add_boundary_set(tx, BoundarySet("lor2006", date(2006, 1, 1), date(2020, 12, 31), "LOR 2006–2020", ""),
                         levels, crs)

    import dataclasses

    from atlas.config import load_settings
    from atlas.web.app import create_app
    client = create_app(dataclasses.replace(load_settings(), data_dir=data_dir)).server.test_client()

    body = client.get("/api/v1/areas?level=ortsteil&period=2019").get_json()
    features = body["features"]
    assert len(features) == 448 and body["boundary_set"] == "lor2006"
    ids = [f["properties"]["id"] for f in features]
    assert len(set(ids)) == 448 and "04030417" in ids and "01011101" in ids  # leading zeros kept
    assert all(f["properties"]["parent"] == f["properties"]["id"][:2] for f in features)
    assert all(f["properties"]["level"] == "ortsteil" for f in features)
    schloss = [f for f in features if f["properties"]["id"] in ("04030417", "06010102")]
    assert {f["properties"]["name"] for f in schloss} == {"Schloßstraße"}

    districts = client.get("/api/v1/areas?level=stadtbezirk&period=2019").get_json()["features"]
    assert sorted(f["properties"]["id"] for f in districts) == [f"{i:02d}" for i in range(1, 13)]
    assert client.get("/api/v1/areas?level=ortsteil&period=2023").status_code == 404  # outside validity
    assert client.get("/healthz").get_json()["status"] == "ok"

    # A store that is not the demo has no accounts at all: the demo admin cannot log in.
    from tests.conftest import login
    assert login(client, "admin").status_code == 401


def test_a_second_overlapping_set_is_refused(tmp_path):
    domains, indicators = load_catalog(PROJECT_ROOT / "layers")
    store = Store(tmp_path / "b", catalog_frame(indicators, domains))
    levels, crs = _fixed_berlin_levels()
    with store.writing() as tx:
        add_boundary_set(tx, BoundarySet("a", date(2006, 1, 1), date(2020, 12, 31), "A", ""), levels, crs)
    before = store.manifest_path.read_bytes()
    with pytest.raises(BoundaryError, match="overlaps set 'a'"):
        with store.writing() as tx:
            add_boundary_set(tx, BoundarySet("b", date(2019, 1, 1), None, "B", ""), levels, crs)
    assert store.manifest_path.read_bytes() == before
