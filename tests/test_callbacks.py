"""The explorer's callbacks, posted as a client would, without a browser."""
from __future__ import annotations

import json

from tests.dash_requests import call, find_output


def view_values(indicator="sgb2_quote", period_index=40, current_set="gs2022|ortsteil", selected=None, k=5):
    return {"ex-indicator.value": indicator, "ex-period.value": period_index, "ex-method.value": "quantiles",
            "ex-k.value": k, "ex-selected.data": selected, "ex-set.data": current_set, "ex-lang.data": "de"}


def test_switching_indicator_sends_values_not_geometry(client, dash_app):
    key = find_output(dash_app, "ex-geojson", "hideout")
    status, body = call(client, dash_app, key, view_values("bev_u6", period_index=12))
    assert status == 200
    props = body["response"]
    assert "hideout" in props["ex-geojson"] and "data" not in props["ex-geojson"]
    hideout = props["ex-geojson"]["hideout"]
    assert len(hideout["cls"]) == len(hideout["lab"]) == 51
    assert len(json.dumps(body)) < 8_000


def test_changing_boundary_set_sends_geometry_once(client, dash_app):
    key = find_output(dash_app, "ex-geojson", "hideout")
    _, body = call(client, dash_app, key, view_values("bev_u6", period_index=0))  # 2012: old set
    geometry = body["response"]["ex-geojson"]["data"]
    assert len(geometry["features"]) == 50 and body["response"]["ex-set"]["data"] == "gs2012|ortsteil"
    _, again = call(client, dash_app, key, view_values("bev_u6", period_index=1, current_set="gs2012|ortsteil"))
    assert "data" not in again["response"]["ex-geojson"]


def test_hidden_indicator_answers_like_a_missing_one(client, dash_app):
    key = find_output(dash_app, "ex-geojson", "hideout")
    hidden = call(client, dash_app, key, view_values("kaufkraft"))
    missing = call(client, dash_app, key, view_values("no_such_indicator"))
    assert hidden == missing
    assert "Kaufkraft" not in json.dumps(hidden[1]) and "kaufkraft" not in json.dumps(hidden[1])
    words = find_output(dash_app, "ex-legend", "children")  # the legend, title and card, asked for directly
    view = {"period": "2024", "qs": "", "indicator": "kaufkraft", "method": "quantiles", "k": 5, "level": "ortsteil",
            "area": "0101"}
    hidden = call(client, dash_app, words, {"ex-query.data": view, "ex-lang.data": "de"})
    missing = call(client, dash_app, words, {"ex-query.data": {**view, "indicator": "no_such_indicator"},
                                             "ex-lang.data": "de"})
    assert hidden == missing and "Kaufkraft" not in json.dumps(hidden[1])


def test_the_words_follow_the_view_the_map_answer_names(client, dash_app):
    """Colours first, then legend, title, period and card for exactly that view (a chained answer)."""
    key = find_output(dash_app, "ex-geojson", "hideout")
    _, body = call(client, dash_app, key, view_values("bev_u6", period_index=12, selected="0101"))
    view = body["response"]["ex-query"]["data"]
    assert view["indicator"] == "bev_u6" and view["area"] == "0101" and "ex-legend" not in body["response"]
    _, text = call(client, dash_app, find_output(dash_app, "ex-legend", "children"),
                   {"ex-query.data": view, "ex-lang.data": "de"})
    words = text["response"]
    assert words["ex-map-title"]["children"].startswith("Anteil Kinder unter 6 Jahren")
    assert words["ex-period-label"]["children"] == view["period"]
    assert "0101" in json.dumps(words["ex-area"]["children"]) and words["ex-mark"]["hidden"] is True


def test_time_series_of_hidden_indicator_is_empty(client, dash_app):
    key = find_output(dash_app, "ex-timeseries", "figure")
    values = {"ex-indicator.value": "hze_quote", "ex-selected.data": "0101", "ex-period.value": 5,
              "ex-lang.data": "de"}
    status, body = call(client, dash_app, key, values)
    assert status == 200
    assert body["response"]["ex-timeseries"]["figure"]["data"] == []


def test_info_panel_of_hidden_indicator_says_nothing_about_it(client, dash_app):
    key = find_output(dash_app, "ex-info", "children")
    _, body = call(client, dash_app, key, {"ex-indicator.value": "kaufkraft", "ex-lang.data": "de"})
    text = json.dumps(body)
    assert "Kaufkraft" not in text and "Datenanbieter" not in text


def _tile_layers(component) -> list:
    found = [component] if type(component).__name__ == "TileLayer" else []
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else ([children] if children is not None else []):
        if hasattr(child, "_prop_names"):
            found += _tile_layers(child)
    return found


def test_basemap_is_configuration(dash_app, atlas, monkeypatch):
    import dataclasses

    from atlas.web.pages import explorer
    with dash_app.server.test_request_context("/"):
        assert _tile_layers(explorer.layout()) == []  # default: no tile server, no network
        monkeypatch.setattr(atlas, "settings", dataclasses.replace(
            atlas.settings, basemap_url="https://tiles.example.invalid/{z}/{x}/{y}.png"))
        layers = _tile_layers(explorer.layout())
    assert [layer.url for layer in layers] == ["https://tiles.example.invalid/{z}/{x}/{y}.png"]
