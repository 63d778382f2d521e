"""Dash pieces shared by the pages: legend, indicator picker, time series, drop zone, tables, indicator facts.

One definition each, so the explorer, the upload and admin pages and the
print view look and behave alike. The time series figure renders the
drawing spec of `atlas.charts`, the same one the chart pictures draw, so
the browser and a downloaded picture show the same lines and markers.
"""
from __future__ import annotations

import functools
from urllib.parse import urlencode

import pandas as pd
import plotly.io as pio
from dash import dcc, html
from flask_wtf.csrf import generate_csrf

from atlas.charts import CURRENT_COLOR, MARKER_COLOR, ChartSpec
from atlas.formatting import format_timestamp, gaps_note
from atlas.i18n import t
from atlas.periods import period_label
from atlas.services import queries
from atlas.services.context import Atlas
from auth import Principal


# ------------------------------------------------------------------ map legend
def legend(entries: list[dict], title: str, lang: str) -> list:
    """The map legend from `classify.legend_entries`: swatch, label, count; gaps get their own swatch."""
    items = []
    for e in entries:
        cls = "oa-swatch" + {"missing": " oa-swatch-missing", "suppressed": " oa-swatch-suppressed"}.get(e["kind"], "")
        style = {"background": e["color"]} if e["kind"] == "class" else {}
        items.append(html.Li([html.Span(className=cls, style=style), html.Span(e["label"]),
                              html.Span(str(e["count"]), className="oa-count")],
                             className=f"oa-legend-{e['kind']}"))
    return [html.H4(title), html.Ul(items)]


# ------------------------------------------------------------------ indicator picker
def indicator_options(visible: pd.DataFrame, atlas: Atlas, lang: str, headers: bool = True) -> list[dict]:
    """Options grouped by domain: a disabled header row (unless `headers` is off), then its indicators."""
    options: list[dict] = []
    for domain_id, group in visible.groupby("domain", sort=False):
        if headers:
            domain = atlas.domain_by_id[domain_id]
            options.append({"label": (domain.title_en if lang == "en" else domain.title_de).upper(),
                            "value": f"__domain__{domain_id}", "disabled": True})
        for row in group.itertuples(index=False):
            options.append({"label": row.title_en if lang == "en" else row.title_de, "value": row.id})
    return options


def indicator_picker(id_: str, label: str, options: list[dict], value=None, **dropdown) -> html.Div:
    """A labelled indicator dropdown; `dropdown` passes on dcc.Dropdown's own settings (multi, placeholder …)."""
    return html.Div([html.Label(label, htmlFor=id_),
                     dcc.Dropdown(id=id_, options=options, value=value, **dropdown)], className="oa-field")


# ------------------------------------------------------------------ time series
def timeseries_graph(graph_id: str, lang: str) -> html.Div:
    """The time-series graph and the line under it that explains the gaps."""
    # The Graph needs its own height: a responsive Dash 4 graph
    # takes the container's, which is otherwise 0 (and overflows).
    return html.Div([dcc.Graph(id=graph_id, style={"height": "300px"},
                               config={"displaylogo": False, "responsive": True}),
                     html.P(gaps_note(lang), className="oa-hint")], className="oa-section")


def chart_url(indicator_id: str, area_id: str, lang: str, fmt: str | None = None) -> str:
    """The chart picture of one area's time series (`/api/v1/chart`); without `fmt` the caller appends it."""
    params = {"indicator": indicator_id, "area": area_id, "lang": lang}
    return "/api/v1/chart?" + urlencode({**params, "format": fmt} if fmt else params)


def timeseries_figure(spec: ChartSpec | None, period: str | None, lang: str) -> dict:
    """The time-series chart as a plain plotly.js figure; without a spec, a hint to pick an area.

    A dict, not `go.Figure`: plotly's validation of every property cost more
    than the query behind the chart (~40 ms per click); plotly.js reads the
    same JSON either way. `period` (the map's) gets a thin line.
    """
    layout = {"margin": {"l": 48, "r": 12, "t": 12, "b": 36}, "height": 300, "template": _white_template(),
              "legend": {"orientation": "h", "y": -0.25}, "hovermode": "x unified",
              "separators": ",." if lang == "de" else ".,", "shapes": [], "annotations": []}
    if spec is None:
        layout["annotations"].append({"text": t("click_area", lang), "showarrow": False, "xref": "paper",
                                      "yref": "paper", "x": 0.5, "y": 0.5, "font": {"color": "#5b616b"}})
        layout["xaxis"], layout["yaxis"] = {"visible": False}, {"visible": False}
        return {"data": [], "layout": layout}
    x = list(spec.period_labels)
    data = [{"type": "scatter", "x": x, "y": list(line.values), "name": line.label, "mode": "lines+markers",
             "connectgaps": False, "line": {"color": line.color, "dash": line.dash, "width": line.width},
             "customdata": list(line.texts), "hovertemplate": "%{customdata}"} for line in spec.lines]
    for marker in spec.markers:
        layout["shapes"].append(_vline(marker.x, {"color": MARKER_COLOR, "dash": "dot"}))
        layout["annotations"].append({"x": marker.x, "y": 1, "yref": "paper", "showarrow": False,
                                      "xanchor": "left", "text": marker.label, "hovertext": marker.note,
                                      "font": {"color": MARKER_COLOR, "size": 11}})
    if period in spec.periods:
        layout["shapes"].append(_vline(spec.periods.index(period), {"color": CURRENT_COLOR, "width": 1}))
    layout["xaxis"] = {"type": "category", "nticks": 8}
    layout["yaxis"] = {"title": {"text": spec.unit}}
    return {"data": data, "layout": layout}


def _vline(x: float, line: dict) -> dict:
    """A vertical line over the whole plot height at category position x."""
    return {"type": "line", "xref": "x", "yref": "y domain", "x0": x, "x1": x, "y0": 0, "y1": 1, "line": line}


@functools.cache
def _white_template() -> dict:
    """plotly's 'plotly_white' template as JSON (a dict figure cannot name it)."""
    return pio.templates["plotly_white"].to_plotly_json()


# ------------------------------------------------------------------ indicator facts
def indicator_facts(atlas: Atlas, viewer: Principal, indicator_id: str | None, lang: str) -> list[tuple[str, str]]:
    """What the viewer may know about an indicator, as (label, text) pairs; empty if it is not visible.

    The explorer's info panel and the print view show the same list.
    """
    visible = queries.visible_indicators(atlas, viewer)
    row = visible[visible["id"] == indicator_id]
    if row.empty:
        return []
    r = row.iloc[0]
    dept = atlas.departments.get(r["department"], {}).get(lang, r["department"])
    items = [(t("definition", lang), r["definition_en"] if lang == "en" else r["definition_de"]),
             (t("unit", lang), r["unit"])]
    if r["aggregation"] == "ratio":
        items += [(t("numerator", lang), r["numerator"]), (t("denominator", lang), r["denominator"])]
    elif r["aggregation"] == "none":
        items.append(("", t("not_aggregable", lang)))
    return items + [
        (t("periods", lang), f"{period_label(r['first_period'])} – {period_label(r['last_period'])}"),
        (t("source", lang), r["source"]),
        (t("department", lang), dept),
        (t("contact", lang), r["contact"]),
        (t("last_update", lang), format_timestamp(r["last_update"])),
        (t("licence", lang), r["licence"]),
        (t("visibility", lang), t(f"vis_{r['visibility']}", lang)),
    ]


def facts_list(items: list[tuple[str, str]]) -> html.Dl:
    """Indicator facts as a definition list."""
    children: list = []
    for label, text in items:
        children += [html.Dt(label), html.Dd(text)]
    return html.Dl(children, className="oa-info")


# ------------------------------------------------------------------ uploads
def csrf_marker(limit_mb: int) -> html.Div:
    """The CSRF token and size limit for assets/upload.js (API writes with the session cookie)."""
    return html.Div(id="oa-csrf", **{"data-token": generate_csrf(), "data-limit": str(limit_mb * 1024 * 1024)})


def drop_zone(zone_id: str, endpoint: str, status_id: str, accept: str, store: str = "", fields: str = "") -> html.Div:
    """A drop zone handled by assets/upload.js, its progress bar and its status line."""
    data = {"data-endpoint": endpoint, "data-status": status_id, "data-accept": accept, "data-fields": fields}
    if store:
        data["data-store"] = store
    return html.Div([
        html.Div([html.Strong("Datei hierher ziehen"), html.Span(" oder klicken, um sie auszuwählen")],
                 id=zone_id, className="oa-drop", tabIndex="0", role="button", **data),
        html.Div(html.Div(className="oa-progress-bar"), id=f"{zone_id}-progress", className="oa-progress",
                 hidden=True),
        html.Div(id=status_id, role="status", className="oa-hint"),
    ])


# ------------------------------------------------------------------ tables
def data_table(rows: list[dict], columns: list[tuple[str, str]], class_name: str | None = "oa-table",
               **table) -> html.Table:
    """A plain table of `rows` (dicts) in the order of `columns` ((key, header) pairs).

    Cells that are Dash components (a button in a row) stay components;
    None becomes an empty cell, anything else its text. `table` passes on
    html.Table's own props (an id).
    """
    def cell(value) -> html.Td:
        if value is None:
            return html.Td("")
        return html.Td(value if hasattr(value, "_prop_names") else str(value))
    head = html.Thead(html.Tr([html.Th(label) for _, label in columns]))
    body = html.Tbody([html.Tr([cell(r.get(key)) for key, _ in columns]) for r in rows])
    if class_name:
        table["className"] = class_name
    return html.Table([head, body], **table)
