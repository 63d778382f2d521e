"""The tiled map's switch answer and its labels on demand (issue 19, the 11,000-area county map).

On the tile path the hideout carries the classes as one character per area
and no labels (at 11,000 areas the labels were most of a 117 KB switch); a
hover or tap asks /api/v1/map-label for one area, with the same rights and
disclosure as the map's colours. The demo city is forced onto the tile path
(`tiled_atlas`: tiles from 10 areas).
"""
from __future__ import annotations

from urllib.parse import parse_qsl, urlencode

import pytest

from atlas.services import choropleth, queries
from atlas.web.pages.explorer import resolve_state
from auth.permissions import ANONYMOUS, Principal
from tests.conftest import fresh_client
from tests.dash_requests import call, find_output

GHOST = "zz_no_such_indicator"
ADMIN = Principal(role="admin")


@pytest.fixture()
def tiled_app(tiled_atlas):
    from atlas.web.app import create_app
    return create_app(atlas=tiled_atlas)


def switch_values(indicator: str, period_index: int, level: str = "ortsteil") -> dict:
    return {"ex-indicator.value": indicator, "ex-period.value": period_index, "ex-method.value": "quantiles",
            "ex-k.value": 5, "ex-selected.data": None, "ex-level.value": level, "ex-lang.data": "de"}


def map_answer(client, app, indicator: str, period_index: int, level: str = "ortsteil") -> dict:
    """The explorer's map callback answer as the browser gets it: {output id: {prop: value}}."""
    status, body = call(client, app, find_output(app, "ex-geojson", "hideout"),
                        switch_values(indicator, period_index, level))
    assert status == 200
    return body["response"]


def label_url(indicator: str, period: str, area: str, **more) -> str:
    query = {"indicator": indicator, "period": period, "level": "ortsteil", "method": "quantiles", "k": 5,
             "lang": "de", "area": area, **more}
    return "/api/v1/map-label?" + urlencode(query)


def test_the_tiled_switch_sends_class_codes_and_no_labels(tiled_app, tiled_atlas):
    state = resolve_state(tiled_atlas, ANONYMOUS, {})
    client = fresh_client(tiled_app)
    client.get("/")
    answer = map_answer(client, tiled_app, state.indicator, state.period_index)
    hideout = answer["ex-geojson"]["hideout"]
    view = choropleth.map_view(tiled_atlas, ANONYMOUS, state.indicator, state.period, "quantiles", 5)
    assert "lab" not in hideout and "cls" not in hideout
    assert len(hideout["cc"]) == len(view.area_ids) == 51
    decoded = [-2 if c == "*" else -1 if c == "-" else ord(c) - 48 for c in hideout["cc"]]
    assert decoded == list(view.hideout["cls"])  # the very classes the GeoJSON map gets
    assert hideout["col"] == view.hideout["col"]
    asked = dict(parse_qsl(hideout["lq"]))
    assert asked == {"indicator": state.indicator, "period": state.period, "level": "ortsteil",
                     "method": "quantiles", "k": "5", "lang": "de"}
    # The labels' address answers each area's label as the hideout's old `lab` had it.
    i = 5
    resp = client.get(f"/api/v1/map-label?{hideout['lq']}&area={view.area_ids[i]}")
    assert resp.status_code == 200
    assert resp.get_json() == {"area": view.area_ids[i], "label": view.hideout["lab"][i]}
    assert "no-store" in resp.headers["Cache-Control"]


def test_a_level_below_the_tiles_threshold_keeps_classes_and_labels_per_area(tiled_app, tiled_atlas):
    """The control: the GeoJSON path's hideout is unchanged (so the test above can tell the paths apart)."""
    state = resolve_state(tiled_atlas, ANONYMOUS, {})
    client = fresh_client(tiled_app)
    client.get("/")
    hideout = map_answer(client, tiled_app, state.indicator, state.period_index, "stadtbezirk")["ex-geojson"][
        "hideout"]
    assert "cc" not in hideout and len(hideout["cls"]) == len(hideout["lab"]) == 8


def suppressed_view(atlas):
    """A public indicator, period and area whose cell is suppressed at the Ortsteil level."""
    for ind in queries.visible_indicators(atlas, ANONYMOUS)["id"]:
        for period in queries.periods(atlas, ANONYMOUS, ind)[-1:]:  # the newest period suffices
            view = choropleth.map_view(atlas, ANONYMOUS, ind, period, "quantiles", 5)
            if view is not None and -2 in view.hideout["cls"]:
                return ind, period, view, list(view.hideout["cls"]).index(-2)
    raise AssertionError("the demo city has suppressed cells")


def test_a_suppressed_areas_label_stays_suppressed(tiled_app, tiled_atlas):
    ind, period, view, i = suppressed_view(tiled_atlas)
    client = fresh_client(tiled_app)
    found = client.get(label_url(ind, period, view.area_ids[i])).get_json()
    assert found["label"] == view.hideout["lab"][i]
    assert not any(ch.isdigit() for ch in found["label"])  # the gap word, no number
    # a classed area next to it does get its number: the label route is not simply mute
    ok = view.hideout["cls"].index(next(c for c in view.hideout["cls"] if c >= 0))
    assert any(ch.isdigit() for ch in client.get(label_url(ind, period, view.area_ids[ok])).get_json()["label"])


def test_a_hidden_indicator_answers_like_an_unknown_one(tiled_app, tiled_atlas):
    hidden = [i for i in tiled_atlas.indicators if i.visibility != "public"]
    assert hidden
    area = queries.areas(tiled_atlas, "ortsteil", queries.current_set(tiled_atlas))["area_id"].iloc[3]
    client = fresh_client(tiled_app)
    state = resolve_state(tiled_atlas, ANONYMOUS, {})
    ghost = client.get(label_url(GHOST, state.period, area))
    assert ghost.status_code == 404
    for ind in hidden[:5]:
        for period in queries.periods(tiled_atlas, ADMIN, ind.id)[-1:] or [state.period]:  # a period it has
            resp = client.get(label_url(ind.id, period, area))
            assert (resp.status_code, resp.get_data()) == (404, ghost.get_data()), ind.id
    # an area not on the map answers the same
    assert client.get(label_url(state.indicator, state.period, "zz-nowhere")).get_data() == ghost.get_data()
