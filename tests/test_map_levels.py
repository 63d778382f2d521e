"""The map shows any level of the territory: a level switch in the explorer, kept in the URL."""
from __future__ import annotations

from atlas.services import choropleth, territory
from atlas.web.pages import explorer
from auth.permissions import ANONYMOUS
from tests.dash_requests import call, find_output


def test_every_level_can_be_mapped(atlas):
    for level in territory.level_ids(atlas):
        view = choropleth.map_view(atlas, ANONYMOUS, "bev_u6", "2024", "quantiles", 5, level=level)
        geometry = choropleth.geometry(atlas, view.set_id, level)
        assert len(view.area_ids) == len(geometry["features"]) == len(view.hideout["cls"]) > 0
        assert all(f["properties"]["level"] == level for f in geometry["features"])


def test_the_level_switch_moves_geometry_and_values_and_lands_in_the_url(atlas, dash_app):
    client = dash_app.server.test_client()
    key = find_output(dash_app, "ex-geojson", "hideout")
    values = {"ex-indicator.value": "bev_u6", "ex-period.value": 12, "ex-method.value": "quantiles",
              "ex-k.value": 5, "ex-selected.data": None, "ex-level.value": "stadtbezirk",
              "ex-set.data": "gs2022|ortsteil", "ex-lang.data": "de"}
    status, body = call(client, dash_app, key, values)
    assert status == 200
    response = body["response"]
    features = response["ex-geojson"]["data"]["features"]
    assert {f["properties"]["level"] for f in features} == {"stadtbezirk"} and len(features) == 8
    assert len(response["ex-geojson"]["hideout"]["cls"]) == 8
    assert "level=stadtbezirk" in response["ex-query"]["data"]["qs"]
    state = explorer.resolve_state(atlas, ANONYMOUS, {"indicator": "bev_u6", "level": "stadtbezirk", "area": "02"})
    assert state.level == "stadtbezirk" and state.area == "02"
    assert explorer.resolve_state(atlas, ANONYMOUS, {"level": "planet"}).level == territory.base_level(atlas)
