"""The shared Dash pieces: tables keep components in cells, the time series figure renders a spec."""
from __future__ import annotations

from dash import html

from atlas import charts
from atlas.web.components import data_table, timeseries_figure


def cells(table: html.Table) -> list[list]:
    body = table.children[1]
    return [[td.children for td in tr.children] for tr in body.children]


def test_data_table_orders_columns_and_keeps_components():
    button = html.Button("Zurückziehen", id={"type": "x", "version": 1})
    table = data_table([{"b": 2, "a": None, "c": button}], [("a", "A"), ("b", "B"), ("c", "")],
                       class_name=None, id="t")
    assert table.id == "t" and "className" not in table.to_plotly_json()["props"]
    assert [th.children for th in table.children[0].children.children] == ["A", "B", ""]
    assert cells(table) == [["", "2", button]]
    assert data_table([], [("a", "A")]).className == "oa-table"


def test_timeseries_figure_without_spec_asks_for_an_area():
    figure = timeseries_figure(None, None, "de")
    assert figure["data"] == [] and "Gebiet" in figure["layout"]["annotations"][0]["text"]


def test_timeseries_figure_draws_every_line_marker_and_the_current_period():
    line = charts.Line("area", "Neuort", "#0b5cad", "solid", 3, (1.0, None, 2.0), ("ok", "suppressed", "ok"),
                       ("1,0", "geheim gehalten", "2,0"))
    spec = charts.ChartSpec("Quote – Neuort", "%", 1, ("2021", "2022", "2023"), ("2021", "2022", "2023"),
                            (line,), (charts.BoundaryMarker("2022", 0.5, "Gebietsstand 2022", "geteilt"),), "")
    figure = timeseries_figure(spec, "2023", "de")
    trace = figure["data"][0]
    assert trace["name"] == "Neuort" and trace["y"] == [1.0, None, 2.0] and trace["connectgaps"] is False
    assert trace["customdata"][1] == "geheim gehalten"
    assert [(a["text"], a["x"], a["hovertext"]) for a in figure["layout"]["annotations"]] == [
        ("Gebietsstand 2022", 0.5, "geteilt")]
    assert [s["x0"] for s in figure["layout"]["shapes"]] == [0.5, 2]  # marker, then the map's period
