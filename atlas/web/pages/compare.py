"""Compare and explore (/vergleich): areas side by side, the change map, the relation of two indicators.

Every figure comes from `atlas.services.comparison` with `current_principal()`,
so a view shows only what the viewer may read, suppressed cells stay
suppressed, and a change or a correlation never uses a hidden cell. A hidden
indicator in any slot answers exactly like an unknown one. The view is in
the URL (tab, areas, indicators, periods, level), restored on the server
after the rights are checked.
"""
from __future__ import annotations

import functools
from urllib.parse import urlencode

import dash_leaflet as dl
import numpy as np
import pandas as pd
import plotly.io as pio
from dash import Input, Output, State, ctx, dcc, html, no_update

from atlas.classify import METHODS, MISSING_COLOR, SUPPRESSED_COLOR, classing
from atlas.export import pictures
from atlas.formatting import (
    format_number,
    format_value,
    gap_word,
    gaps_note,
)
from atlas.i18n import norm_lang, t
from atlas.periods import period_label
from atlas.services import choropleth, comparison, queries, territory
from atlas.services.context import Atlas
from atlas.web.components import (
    CHART_CONFIG,
    data_table,
    indicator_options,
    indicator_picker,
    legend,
    localise_dropdowns,
    plain_table,
    scrolling,
    timeseries_figure,
)
from atlas.web.http import current_atlas
from auth import Principal, current_principal

TABS = ("areas", "change", "relation", "maps", "similar", "bivariate", "play")
SIDES = (1, 2)
DEFAULTS = {"areas": [], "indicators": ["sgb2_quote", "bev_u6"], "x": "sgb2_u15", "y": "uebergang_gym",
            "change": "bev_gesamt", "m1": "seu_masern", "m2": "uebergang_gym", "play": "sgb2_u15"}
PICTURES = ("png", "svg", "pdf")
TABLE = ("csv",)  # German-Excel CSV, as every table the atlas hands out
PLAY_MS = 1500  # one period per 1.5 s: slow enough to read the period line and the legend
# Rows of an area table on the page (change, bivariate, similar); the CSV download holds them all. Why: 1,000
# rows were most of those views' time and payload (issue 14), and nobody reads a thousand rows on a page.
SHOWN_ROWS = 50


def _fn(name: str, ns: str = "map") -> dict:
    """A reference to a function in assets/map.js (the explorer's map styles, tooltips), or in assets/compare.js
    (`ns="brush"`: the same, with the brushed areas highlighted)."""
    return {"variable": f"ortsatlas.{ns}.{name}"}


def _split(value) -> list[str]:
    return [v for v in value.split(",") if v] if isinstance(value, str) else []


def _visible(atlas: Atlas, viewer: Principal, ids: list) -> list[str]:
    """The ids the viewer may see, in order: anything else is dropped like an unknown id."""
    return [i for i in ids if isinstance(i, str) and queries.get_indicator(atlas, viewer, i) is not None]


def _one(atlas: Atlas, viewer: Principal, wanted, fallback: str, visible: pd.DataFrame) -> str | None:
    for candidate in (wanted, fallback):
        if isinstance(candidate, str) and queries.get_indicator(atlas, viewer, candidate) is not None:
            return candidate
    return visible["id"].iloc[0] if len(visible) else None


# ------------------------------------------------------------------ layout
def layout(**args) -> html.Div:
    atlas, viewer = current_atlas(), current_principal()
    lang = norm_lang(args.get("lang"))
    visible = queries.visible_indicators(atlas, viewer)
    options = indicator_options(visible, atlas, lang, headers=False)
    tab = args.get("view") if args.get("view") in TABS else "areas"
    areas = [a.area_id for a in comparison.resolve_areas(atlas, _split(args.get("area")))]
    inds = _visible(atlas, viewer, _split(args.get("indicator"))) or _visible(atlas, viewer, DEFAULTS["indicators"])
    x = _one(atlas, viewer, args.get("x"), DEFAULTS["x"], visible)
    y = _one(atlas, viewer, args.get("y"), DEFAULTS["y"], visible)
    ch = _one(atlas, viewer, args.get("change"), DEFAULTS["change"], visible)
    levels = [{"label": territory.label(atlas, lv, lang, plural=True), "value": lv} for lv in territory.level_ids(atlas)]
    level = args.get("level") if args.get("level") in territory.level_ids(atlas) else territory.base_level(atlas)
    set_id = queries.current_set(atlas)
    return localise_dropdowns(html.Div([
        dcc.Store(id="cmp-lang", data=lang),
        dcc.Store(id="cmp-query"),
        dcc.Store(id="cmp-url-sink"),
        dcc.Store(id="cmp-set", data=f"{set_id}|{level}"),
        dcc.Store(id="cmp-wanted", data={"from": args.get("from"), "to": args.get("to")}),
        html.H1(t("cmp_title", lang), className="oa-cmp-title"),
        # Tabs side by side down to tablet width; stacked only on phones.
        dcc.Tabs(id="cmp-tab", value=tab, className="oa-cmp-tabs", mobile_breakpoint=560, children=[
            dcc.Tab(label=t("cmp_tab_areas", lang), value="areas", children=_areas_tab(atlas, options, areas, inds, lang)),
            dcc.Tab(label=t("cmp_tab_change", lang), value="change",
                    children=_change_tab(atlas, options, ch, levels, level, set_id, lang)),
            dcc.Tab(label=t("cmp_tab_relation", lang), value="relation",
                    children=_relation_tab(atlas, options, x, y, levels, level, set_id, lang)),
            dcc.Tab(label=t("cmp_tab_maps", lang), value="maps",
                    children=_maps_tab(atlas, viewer, options, visible, args, lang)),
            dcc.Tab(label=t("cmp_tab_similar", lang), value="similar",
                    children=_similar_tab(atlas, options, areas, inds, lang)),
            dcc.Tab(label=t("cmp_tab_bivariate", lang), value="bivariate",
                    children=_bivariate_tab(atlas, options, _one(atlas, viewer, args.get("bx"), x or "", visible),
                                            _one(atlas, viewer, args.get("by"), y or "", visible), levels, level,
                                            set_id, lang)),
            dcc.Tab(label=t("cmp_tab_play", lang), value="play",
                    children=_play_tab(atlas, viewer, options, visible, args, levels, level, set_id, lang)),
        ]),
        html.Div([html.Label(t("share", lang), htmlFor="cmp-share-url", className="oa-label"),
                  dcc.Input(id="cmp-share-url", readOnly=True, value="", className="oa-share-url")],
                 className="oa-links oa-cmp-share"),
    ], className="oa-compare"), lang)


def _scroll(table, lang: str) -> html.Div:
    """A wide table in a box that scrolls sideways, reachable by keyboard (a focusable, named region)."""
    return scrolling(table, tabIndex="0", role="region", **{"aria-label": t("cmp_table_region", lang)})


def shown_table(rows: list[dict], total: int, columns: list[tuple[str, str]], table_id: str, lang: str) -> list:
    """The rows shown (the first SHOWN_ROWS of `total`, built by the caller) as a scrolling table.

    When rows are left off, a line above says how many of how many and
    that the CSV download (the view's chip) holds them all. Rows keep the
    service's order (key order; similar areas by distance): no ranking.
    """
    out = []
    if total > len(rows):
        out.append(html.P(t("cmp_rows_shown", lang).format(shown=format_number(len(rows), 0, lang),
                                                           total=format_number(total, 0, lang)),
                          className="oa-hint oa-cmp-rows-shown", id=f"{table_id}-count"))
    return out + [_scroll(plain_table(rows, columns, "oa-table oa-cmp-table", id=table_id), lang)]


def _field(label: str, control, id_: str) -> html.Div:
    return html.Div([html.Label(label, htmlFor=id_), control], className="oa-field")


def _downloads(prefix: str, formats: tuple[str, ...], lang: str, extra: tuple = ()) -> html.Div:
    """A view's download chips `<prefix>-<format>`; its callback sets their addresses (empty: nothing to take)."""
    return html.Div([html.Span(t("download", lang) + ":", className="oa-label-inline"), *extra]
                    + [html.A(fmt.upper(), id=f"{prefix}-{fmt}", href="", download="", className="oa-chip")
                       for fmt in formats], className="oa-links")


def download_hrefs(route: str, query: dict, formats: tuple[str, ...]) -> tuple[str, ...]:
    """The addresses behind a view's chips: the view's parameters and one `format` each (the API checks rights)."""
    base = f"{route}?{urlencode({k: v for k, v in query.items() if v is not None}, doseq=True)}"
    return tuple(f"{base}&format={fmt}" for fmt in formats)


def _areas_tab(atlas: Atlas, options: list[dict], areas: list[str], inds: list[str], lang: str) -> html.Div:
    return html.Div([
        html.Div([
            _field(t("cmp_areas", lang), dcc.Dropdown(id="cmp-areas", options=comparison.area_options(atlas, lang),
                                                      value=areas, multi=True, placeholder=t("cmp_areas_search", lang)),
                   "cmp-areas"),
            indicator_picker("cmp-indicators", t("cmp_indicators", lang), options, inds, multi=True),
        ], className="oa-cmp-controls"),
        html.Div(id="cmp-area-table", className="oa-section", **{"aria-live": "polite"}),
        _downloads("cmp-area", TABLE, lang),
        html.Div([_field(t("cmp_chart_indicator", lang),
                         dcc.Dropdown(id="cmp-chart-indicator", options=[], value=None, clearable=False),
                         "cmp-chart-indicator"),
                  # A named figure around Plotly's SVG, which has no name; the table above holds its numbers.
                  html.Div(dcc.Graph(id="cmp-area-chart", style={"height": "340px"},
                                     config=CHART_CONFIG),
                           role="figure", **{"aria-label": t("cmp_chart_name", lang)}),
                  html.P(gaps_note(lang), className="oa-hint"),
                  _downloads("cmp-area-chart", PICTURES, lang)], className="oa-section"),
    ], className="oa-cmp-pane")


def _change_tab(atlas: Atlas, options: list[dict], indicator: str | None, levels: list[dict], level: str,
                set_id: str, lang: str) -> html.Div:
    return html.Div([
        html.Div([
            indicator_picker("cmp-ch-indicator", t("indicator", lang), options, indicator, clearable=False),
            _field(t("cmp_from", lang), dcc.Dropdown(id="cmp-ch-from", options=[], clearable=False), "cmp-ch-from"),
            _field(t("cmp_to", lang), dcc.Dropdown(id="cmp-ch-to", options=[], clearable=False), "cmp-ch-to"),
            _field(t("level", lang), dcc.Dropdown(id="cmp-ch-level", options=levels, value=level, clearable=False),
                   "cmp-ch-level"),
        ], className="oa-cmp-controls"),
        html.P(t("cmp_change_note", lang), className="oa-hint"),
        map_block(atlas, "cmp-ch", set_id, level, html.Div(id="cmp-ch-legend", className="oa-legend",
                                                             **{"aria-live": "polite"})),
        _downloads("cmp-ch", TABLE + PICTURES, lang),
        html.Div(id="cmp-ch-table", className="oa-section"),
    ], className="oa-cmp-pane")


def _maps_tab(atlas: Atlas, viewer: Principal, options: list[dict], visible: pd.DataFrame, args: dict,
              lang: str) -> html.Div:
    """Two maps, each with its own indicator, period, classing, legend and source; pan, zoom and the
    selected area shared. On a phone they stack and a toggle shows one at a time."""
    selected = args.get("sel") if isinstance(args.get("sel"), str) else None
    sides = [_map_side(atlas, viewer, options, visible, args, side, lang) for side in SIDES]
    toggle = dcc.RadioItems(id="cmp-m-show", value=1, inline=True, className="oa-radio oa-cmp-toggle",
                            options=[{"label": t("cmp_map_left", lang), "value": 1},
                                     {"label": t("cmp_map_right", lang), "value": 2}])
    return html.Div([dcc.Store(id="cmp-m-selected", data=selected), dcc.Store(id="cmp-m-sync"), toggle,
                     html.Div(sides, id="cmp-m-pair", className="oa-cmp-pair oa-cmp-show-1")],
                    className="oa-cmp-pane")


def _map_side(atlas: Atlas, viewer: Principal, options: list[dict], visible: pd.DataFrame, args: dict, side: int,
              lang: str) -> html.Div:
    """One of the two maps: its controls above it, title, legend and source line on it."""
    ind = _one(atlas, viewer, args.get(f"m{side}"), DEFAULTS[f"m{side}"], visible)
    periods = queries.periods(atlas, viewer, ind) if ind else []
    period = args.get(f"p{side}") if args.get(f"p{side}") in periods else (periods[-1] if periods else None)
    method, _ = classing(args.get(f"c{side}"), 5)
    set_id = (queries.set_for_period(atlas, period) if period else None) or queries.current_set(atlas)
    p = f"cmp-m{side}"
    return html.Div([
        html.Div([
            indicator_picker(f"{p}-indicator", t("indicator", lang), options, ind, clearable=False),
            _field(t("period", lang), dcc.Dropdown(id=f"{p}-period", value=period, clearable=False,
                                                   options=[{"label": period_label(x, lang), "value": x}
                                                            for x in periods]), f"{p}-period"),
            _field(t("method", lang), dcc.Dropdown(id=f"{p}-method", value=method, clearable=False, searchable=False,
                                                   options=[{"label": v[lang == "en"], "value": k}
                                                            for k, v in METHODS.items()]), f"{p}-method"),
        ], className="oa-cmp-controls"),
        dcc.Store(id=f"{p}-set", data=set_id),
        map_block(atlas, p, set_id, None, html.Div(id=f"{p}-legend", className="oa-legend",
                                                   **{"aria-live": "polite"}), trackViewport=True),
        html.P(id=f"{p}-source", className="oa-hint oa-cmp-source"),
        _downloads(p, TABLE + PICTURES, lang),
    ], className=f"oa-cmp-side oa-cmp-side-{side}")


def _similar_tab(atlas: Atlas, options: list[dict], areas: list[str], inds: list[str], lang: str) -> html.Div:
    """A reference area, indicators, a method and a tolerance; the list of areas like it."""
    return html.Div([
        html.Div([
            _field(t("cmp_reference", lang), dcc.Dropdown(id="cmp-sim-area", options=comparison.area_options(atlas, lang),
                                                          value=areas[0] if areas else None,
                                                          placeholder=t("cmp_areas_search", lang)), "cmp-sim-area"),
            indicator_picker("cmp-sim-indicators", t("cmp_indicators", lang), options, inds, multi=True),
            _field(t("cmp_sim_method", lang), dcc.Dropdown(
                id="cmp-sim-method", value="range", clearable=False, searchable=False,
                options=[{"label": t(f"cmp_method_{m}", lang), "value": m} for m in comparison.SIMILAR_METHODS]),
                "cmp-sim-method"),
            _field(t("cmp_tolerance", lang), dcc.Input(id="cmp-sim-tolerance", type="number", min=0, step=0.05,
                                                       value=0.3, className="oa-input", debounce=True),
                   "cmp-sim-tolerance"),
        ], className="oa-cmp-controls"),
        html.Div(id="cmp-sim-result", className="oa-section", **{"aria-live": "polite"}),
        _downloads("cmp-sim", TABLE, lang),
    ], className="oa-cmp-pane")


def similar_list(atlas: Atlas, found: comparison.Similar | None, lang: str) -> list:
    """The matching areas with every chosen indicator side by side, nearest first; then who was left out."""
    if found is None:
        return [html.P(t("cmp_pick_areas", lang), className="oa-hint")]
    if found.rows.empty:
        return [html.P(t("cmp_similar_none", lang), className="oa-hint")]
    columns = [("area_id", t("cmp_key_col", lang)), ("name", t("cmp_area_col", lang)),
               ("distance", t("cmp_distance", lang))]
    columns += [(i, f"{atlas.indicator_by_id[i].title(lang)}, {period_label(found.periods[i], lang)}")
                for i in found.indicators]
    rows = []
    for r in found.rows.head(SHOWN_ROWS).to_dict("records"):  # nearest first: the reference, then by distance
        row = {"area_id": r["area_id"], "name": r["name"], "distance": format_number(r["distance"], 2, lang)}
        row.update({i: format_number(r[i], atlas.indicator_by_id[i].decimals, lang) for i in found.indicators})
        if r["area_id"] == found.reference.area_id:
            row["_class"] = "oa-cmp-reference"
        rows.append(row)
    out = [html.P(f"{len(found.rows)} {t('cmp_similar_found', lang)}"),
           *shown_table(rows, len(found.rows), columns, "cmp-sim-values", lang)]
    if len(found.left_out):
        out.append(html.P(f"{t('cmp_left_out', lang)}: " + ", ".join(
            f"{n} ({k})" for k, n in zip(found.left_out["area_id"], found.left_out["name"])), className="oa-hint"))
    return out


def map_block(atlas: Atlas, prefix: str, set_id: str, level: str | None, *extra, ns: str = "map",
              **map_props) -> html.Div:
    """One of the page's maps: geometry once (values travel in `hideout`), scale bar, title and what follows.

    Ids follow the prefix: `<prefix>-geojson`, `-map`, `-title`. `ns` names the script of its styles.
    """
    geometry = choropleth.geometry(atlas, set_id, level) if level else choropleth.geometry(atlas, set_id)
    return html.Div([
        html.Div(dl.Map([dl.GeoJSON(id=f"{prefix}-geojson", data=geometry, style=_fn("style", ns), hoverStyle=_fn("hover"),
                                    onEachFeature=_fn("tooltip", ns), hideout={}, zoomToBounds=True),
                         dl.ScaleControl(position="bottomright", imperial=False)],
                        id=f"{prefix}-map", center=_center(atlas, set_id), zoom=11, className="oa-map", zoomSnap=0.25,
                        **map_props), className="oa-map-inner"),
        html.Div(id=f"{prefix}-title", className="oa-map-title"),
        *extra,
    ], className="oa-map-wrap oa-cmp-map")


def _center(atlas: Atlas, set_id: str) -> list[float]:
    """The territory's centre (the map then fits its areas' bounds)."""
    import shapely
    top = queries.areas(atlas, territory.top_level(atlas), set_id)
    c = shapely.from_wkb(top["geometry"].iloc[0]).centroid
    return [c.y, c.x]


def _pair_controls(x_id: str, y_id: str, level_id: str, options: list[dict], x: str | None, y: str | None,
                   levels: list[dict], level: str, lang: str) -> html.Div:
    """Two indicators and a level: the controls of the scatter and the bivariate map."""
    return html.Div([
        indicator_picker(x_id, t("cmp_x", lang), options, x, clearable=False),
        indicator_picker(y_id, t("cmp_y", lang), options, y, clearable=False),
        _field(t("level", lang), dcc.Dropdown(id=level_id, options=levels, value=level, clearable=False), level_id),
    ], className="oa-cmp-controls")


def _relation_tab(atlas: Atlas, options: list[dict], x: str | None, y: str | None, levels: list[dict], level: str,
                  set_id: str, lang: str) -> html.Div:
    """The scatter next to the map of the same pair: brushing points highlights their areas, clicking areas
    highlights their points, and the list of highlighted areas is the keyboard's way to do either."""
    return html.Div([
        _pair_controls("cmp-x", "cmp-y", "cmp-rel-level", options, x, y, levels, level, lang),
        html.Div(id="cmp-rel-stats", className="oa-section", role="status"),
        html.Div([
            html.Div(dcc.Graph(id="cmp-rel-chart", style={"height": "420px"},
                               config=CHART_CONFIG),
                     role="figure", **{"aria-label": t("cmp_rel_chart_name", lang)}),
            html.Div([dcc.Store(id="cmp-rel-set", data=f"{set_id}|{level}"), dcc.Store(id="cmp-rel-base"),
                      map_block(atlas, "cmp-rel", set_id, level, ns="brush")], className="oa-cmp-side"),
        ], className="oa-cmp-pair oa-cmp-brush"),
        _field(t("cmp_brushed", lang), dcc.Dropdown(id="cmp-rel-brushed", options=[], value=[], multi=True,
                                                    placeholder=t("cmp_brushed_hint", lang)), "cmp-rel-brushed"),
        html.P(t("cmp_correlation_note", lang), className="oa-hint"),
        _downloads("cmp-rel", TABLE + PICTURES, lang),
        html.Div(id="cmp-rel-left", className="oa-section"),
    ], className="oa-cmp-pane")


# ------------------------------------------------------------------ areas side by side
def area_table(atlas: Atlas, table: pd.DataFrame, lang: str) -> html.Div:
    """Indicators down, areas (then their parents, then the territory) across; the period per indicator."""
    if table.empty:
        return html.P(t("cmp_pick_areas", lang), className="oa-hint")
    # Plain lists, not itertuples and a group per indicator: those were ~80 % of building this small table.
    records = list(zip(*(table[c].tolist() for c in ("indicator_id", "period", "role", "level", "area_id", "name",
                                                      "value", "status"))))
    columns = [("indicator", t("indicator", lang)), ("period", t("period", lang))]
    roles = {"parent": f" ({t('cmp_parent', lang)})", "territory": f" ({t('cmp_territory', lang)})"}
    heads: set = set()
    for _, _, role, level, key, name, _, _ in records:  # each area once, where it first appears
        if key not in heads:
            heads.add(key)
            columns.append((key, f"{name}{roles.get(role, '')} · {territory.label(atlas, level, lang)} {key}"))
    rows: dict[str, dict] = {}  # one row per indicator, in the order they first appear
    for ind_id, period, _, _, key, _, value, status in records:
        ind = atlas.indicator_by_id[ind_id]
        row = rows.get(ind_id) or rows.setdefault(ind_id, {"indicator": f"{ind.title(lang)} ({ind.unit_in(lang)})",
                                                          "period": period_label(period, lang)})
        value = None if value is None or pd.isna(value) else float(value)
        row[key] = format_value(value, status, ind.decimals, "", lang)
    return _scroll(data_table(list(rows.values()), columns, "oa-table oa-cmp-table", id="cmp-area-values"), lang)


def series_figure(atlas: Atlas, series: pd.DataFrame | None, indicator_id: str | None, lang: str) -> dict:
    """One chart: a line per chosen area (colour), their parents (grey, dashed), the territory (dotted).

    The spec is `pictures.compare_series_spec`, so the chart's picture draws exactly these lines. Without
    areas the empty chart asks for them: the explorer's "tap an area on the map" is wrong on a tab with no map.
    """
    figure = timeseries_figure(pictures.compare_series_spec(atlas, series, indicator_id, lang), None, lang)
    for note in figure["layout"]["annotations"]:
        if note.get("text") == t("click_area", lang):
            note["text"] = t("cmp_pick_areas", lang)
    return figure


# ------------------------------------------------------------------ change map
def change_table(table: comparison.ChangeTable, labels: list[str], lang: str) -> list:
    """The change map's accessible twin, in key order (no ranking): its first SHOWN_ROWS areas."""
    ind = table.indicator
    columns = [("area_id", t("cmp_key_col", lang)), ("name", t("cmp_area_col", lang)),
               ("from", period_label(table.period_from, lang)), ("to", period_label(table.period_to, lang)),
               ("change", f"{t('cmp_change_col', lang)} ({comparison.change_unit(table, lang)})")]
    rows = [{"area_id": r.area_id, "name": r.name, "from": _cell(r.from_value, r.status, ind.decimals, lang),
             "to": _cell(r.to_value, r.status, ind.decimals, lang), "change": label}
            for r, label in zip(table.rows.head(SHOWN_ROWS).itertuples(index=False), labels)]
    return shown_table(rows, len(table.rows), columns, "cmp-ch-values", lang)


def _cell(value, status: str, decimals: int, lang: str) -> str:
    if value is None or pd.isna(value):
        return gap_word("suppressed" if status == "suppressed" else "missing", lang) if status != "ok" else ""
    return format_number(float(value), decimals, lang)


# ------------------------------------------------------------------ relation
@functools.cache
def _white_template() -> dict:
    """plotly's 'plotly_white' as JSON: a dict figure cannot name a template (as in components)."""
    return pio.templates["plotly_white"].to_plotly_json()


def relation_figure(found: comparison.Relation | None, lang: str) -> dict:
    layout = {"margin": {"l": 56, "r": 12, "t": 12, "b": 48}, "template": _white_template(), "height": 420,
              "separators": ",." if lang == "de" else ".,", "showlegend": False, "dragmode": "select"}
    if found is None or found.points.empty:
        return {"data": [], "layout": {**layout, "xaxis": {"visible": False}, "yaxis": {"visible": False}}}
    p = found.points
    data = [{"type": "scatter", "mode": "markers", "x": p["x"].tolist(), "y": p["y"].tolist(),
             "text": [f"{n} ({k})" for n, k in zip(p["name"], p["area_id"])], "customdata": p["area_id"].tolist(),
             "hovertemplate": "%{text}<br>x: %{x}<br>y: %{y}<extra></extra>",
             "marker": {"size": 9, "color": "#0072b2", "line": {"color": "#ffffff", "width": 1}},
             # brushed points (in the scatter or from the map) stand out, the others fade like the map's areas
             "selected": {"marker": {"color": "#d55e00", "size": 12}}, "unselected": {"marker": {"opacity": 0.3}}}]
    if found.slope is not None:
        xs = [float(p["x"].min()), float(p["x"].max())]
        data.append({"type": "scatter", "mode": "lines", "x": xs, "y": [found.intercept + found.slope * v for v in xs],
                     "name": t("cmp_regression", lang), "hoverinfo": "skip",
                     "line": {"color": "#d55e00", "width": 2, "dash": "dash"}})
    layout["xaxis"] = {"title": {"text": f"{found.x.title(lang)} ({found.x.unit_in(lang)}), "
                                       f"{period_label(found.period_x, lang)}"}}
    layout["yaxis"] = {"title": {"text": f"{found.y.title(lang)} ({found.y.unit_in(lang)}), "
                                       f"{period_label(found.period_y, lang)}"}}
    return {"data": data, "layout": layout}


def brush_options(found: comparison.Relation) -> list[dict]:
    """The scatter's areas as the options of the highlight list (name and key), in key order."""
    return [{"label": f"{n} ({k})", "value": k} for k, n in sorted(zip(found.points["area_id"], found.points["name"]))]


def _pair_title(found: comparison.Relation, lang: str) -> str:
    return (f"{found.x.title(lang)} ({period_label(found.period_x, lang)}) × "
            f"{found.y.title(lang)} ({period_label(found.period_y, lang)})")


def relation_stats(found: comparison.Relation | None, lang: str) -> list:
    if found is None:
        return [html.P(t("no_indicators", lang), className="oa-hint")]
    if found.pearson is None:
        return [html.P(t("cmp_too_few", lang), className="oa-hint")]
    def num(v: float) -> str:
        return format_number(v, 2, lang)
    return [html.P([html.Strong("Pearson r = "), html.Span(num(found.pearson), id="cmp-pearson"), " · ",
                    html.Strong("Spearman ρ = "), html.Span(num(found.spearman), id="cmp-spearman"), " · ",
                    html.Strong("n = "), html.Span(str(found.n), id="cmp-n"), f" {t('cmp_n', lang)}"])]


def left_out_list(atlas: Atlas, found: comparison.Relation | None, lang: str,
                  table_id: str = "cmp-left-out") -> list:
    if found is None:
        return []
    if found.left_out.empty:
        return [html.P(t("cmp_none_left_out", lang), className="oa-hint")]
    rows = [{"area_id": r.area_id, "name": r.name, "x": gap_word(r.x_status, lang) if r.x_status != "ok" else "",
             "y": gap_word(r.y_status, lang) if r.y_status != "ok" else ""}
            for r in found.left_out.itertuples(index=False)]
    columns = [("area_id", t("cmp_key_col", lang)), ("name", t("cmp_area_col", lang)),
               ("x", found.x.title(lang)), ("y", found.y.title(lang))]
    return [html.H4(f"{t('cmp_left_out', lang)}: {len(rows)}"),
            _scroll(plain_table(rows, columns, "oa-table oa-cmp-table", id=table_id), lang)]


# ------------------------------------------------------------------ bivariate map
def _bivariate_tab(atlas: Atlas, options: list[dict], x: str | None, y: str | None, levels: list[dict], level: str,
                   set_id: str, lang: str) -> html.Div:
    """Two indicators, a level; the map in 3×3 colours, its 3×3 legend in words, the table twin, who is left out."""
    return html.Div([
        _pair_controls("cmp-bv-x", "cmp-bv-y", "cmp-bv-level", options, x, y, levels, level, lang),
        html.P(t("cmp_bv_note", lang), className="oa-hint"),
        dcc.Store(id="cmp-bv-set", data=f"{set_id}|{level}"),
        map_block(atlas, "cmp-bv", set_id, level),
        html.Div(id="cmp-bv-legend", className="oa-section", **{"aria-live": "polite"}),
        _downloads("cmp-bv", TABLE + PICTURES, lang,
                   (html.A("JSON", id="cmp-bv-json", href="", download="", className="oa-chip"),)),
        html.Div(id="cmp-bv-table", className="oa-section"),
        html.Div(id="cmp-bv-left", className="oa-section"),
    ], className="oa-cmp-pane")


def _swatch(color: str, extra: dict | None = None) -> html.Span:
    return html.Span(className="oa-swatch", style={"background": color, "display": "inline-block", "width": "1.6em",
                                                   "height": "1.6em", "verticalAlign": "middle", **(extra or {})})


def bivariate_legend(found: comparison.Bivariate | None, lang: str) -> list:
    """The 3×3 legend as a table: x low → high across, y high → low down; each cell its colour, words and count.

    The words of every cell are in the cell (visually hidden), so a screen
    reader reads 'SGB-II-Quote hoch, Übergang niedrig: 12 Gebiete' and not a colour.
    """
    if found is None:
        return [html.P(t("no_indicators", lang), className="oa-hint")]
    rel, rows = found.relation, found.rows
    words = comparison.TERCILE_WORDS["en" if lang == "en" else "de"]
    head = html.Tr([html.Th(f"{rel.y.title(lang)} ↓ / {rel.x.title(lang)} →", scope="col")]
                   + [html.Th(f"{rel.x.title(lang)} {words[cx]}", scope="col") for cx in range(3)])
    body = []
    for cy in (2, 1, 0):
        cells = [html.Th(f"{rel.y.title(lang)} {words[cy]}", scope="row")]
        for cx in range(3):
            n = int(((rows["x_class"] == cx) & (rows["y_class"] == cy)).sum())
            cells.append(html.Td([_swatch(comparison.BIVARIATE_COLORS[cy][cx]), " ", html.Span(str(n)),
                                  html.Span(f" – {comparison.bivariate_label(rel, cx, cy, 'ok', lang)}",
                                            className="oa-visually-hidden")],
                                 **{"data-cell": f"{cx}{cy}"}))
        body.append(html.Tr(cells))
    gaps = [html.Li([_swatch(MISSING_COLOR, {"border": "1px dashed #555"}), " ", gap_word("missing", lang), ": ",
                     str(int((rows["status"] == "missing").sum()))]),
            html.Li([_swatch(SUPPRESSED_COLOR), " ", gap_word("suppressed", lang), ": ",
                     str(int((rows["status"] == "suppressed").sum()))])]
    return [html.Table([html.Caption(t("cmp_bv_legend", lang)), html.Thead(head), html.Tbody(body)],
                       id="cmp-bv-grid", className="oa-table oa-cmp-bv-grid"),
            html.Ul(gaps, className="oa-legend-gaps", style={"listStyle": "none", "paddingLeft": 0})]


def bivariate_hideout(found: comparison.Bivariate) -> dict:
    """The map script's payload: class 0..8 into the flattened 3×3 colours, gaps as -1/-2, a label per area."""
    classes = [comparison.bivariate_index(int(cx), int(cy))
               for cx, cy in zip(found.rows["x_class"], found.rows["y_class"])]
    return {"cls": classes, "col": [c for row in comparison.BIVARIATE_COLORS for c in row],
            "lab": found.rows["label"].tolist(), "sel": None, "mc": MISSING_COLOR, "sc": SUPPRESSED_COLOR}


def bivariate_table(found: comparison.Bivariate, lang: str) -> list:
    """The bivariate map's accessible twin in key order: both values and the class in words (first SHOWN_ROWS)."""
    rel = found.relation
    columns = [("area_id", t("cmp_key_col", lang)), ("name", t("cmp_area_col", lang)),
               ("x", f"{rel.x.title(lang)}, {period_label(rel.period_x, lang)}"),
               ("y", f"{rel.y.title(lang)}, {period_label(rel.period_y, lang)}"), ("label", t("cmp_bv_class", lang))]
    rows = [{"area_id": r.area_id, "name": r.name, "x": _cell(r.x, r.status, rel.x.decimals, lang),
             "y": _cell(r.y, r.status, rel.y.decimals, lang), "label": r.label}
            for r in found.rows.head(SHOWN_ROWS).itertuples(index=False)]
    return shown_table(rows, len(found.rows), columns, "cmp-bv-values", lang)


# ------------------------------------------------------------------ play over time
def _play_tab(atlas: Atlas, viewer: Principal, options: list[dict], visible: pd.DataFrame, args: dict,
              levels: list[dict], level: str, set_id: str, lang: str) -> html.Div:
    """One indicator stepped through its periods: Play/Pause, back, forward, a period list, an aria-live line."""
    ind = _one(atlas, viewer, args.get("play"), DEFAULTS["play"], visible)
    periods = queries.periods(atlas, viewer, ind) if ind else []
    period = args.get("pp") if args.get("pp") in periods else (periods[0] if periods else None)
    method, _ = classing(args.get("pc"), 5)
    play_level = args.get("pl") if args.get("pl") in territory.level_ids(atlas) else level
    return html.Div([
        html.Div([
            indicator_picker("cmp-pl-indicator", t("indicator", lang), options, ind, clearable=False),
            _field(t("level", lang), dcc.Dropdown(id="cmp-pl-level", options=levels, value=play_level,
                                                  clearable=False), "cmp-pl-level"),
            _field(t("method", lang), dcc.Dropdown(id="cmp-pl-method", value=method, clearable=False, searchable=False,
                                                   options=[{"label": v[lang == "en"], "value": k}
                                                            for k, v in METHODS.items()]), "cmp-pl-method"),
            _field(t("period", lang), dcc.Dropdown(id="cmp-pl-period", value=period, clearable=False,
                                                   options=[{"label": period_label(x, lang), "value": x}
                                                            for x in periods]), "cmp-pl-period"),
        ], className="oa-cmp-controls"),
        dcc.Checklist(id="cmp-pl-fixed", value=[] if args.get("pf") == "0" else ["fixed"], className="oa-radio",
                      options=[{"label": t("cmp_fixed", lang), "value": "fixed"}]),
        html.Div([html.Button("◀ " + t("cmp_prev", lang), id="cmp-pl-prev", n_clicks=0, className="oa-button"),
                  html.Button("▶ " + t("cmp_play", lang), id="cmp-pl-toggle", n_clicks=0, className="oa-button",
                              **{"aria-pressed": "false"}),
                  html.Button(t("cmp_next", lang) + " ▶", id="cmp-pl-next", n_clicks=0, className="oa-button")],
                 className="oa-links"),
        html.P(id="cmp-pl-live", role="status", **{"aria-live": "polite"}),
        dcc.Interval(id="cmp-pl-interval", interval=PLAY_MS, disabled=True, n_intervals=0),
        dcc.Store(id="cmp-pl-set", data=f"{set_id}|{play_level}"),
        # The legend follows the map, not inside it: on a phone it goes below the map (over it, it hid a large
        # part of the territory), wider screens lay it on the map (assets/style.css, .oa-cmp-pl-map).
        html.Div([map_block(atlas, "cmp-pl", set_id, play_level),
                  html.Div(id="cmp-pl-legend", className="oa-legend oa-cmp-pl-legend")], className="oa-cmp-pl-map"),
        html.P(t("cmp_play_note", lang), className="oa-hint"),
    ], className="oa-cmp-pane")


def _play(atlas: Atlas, viewer: Principal, indicator_id: str, level: str, method: str,
          lang: str) -> comparison.Play | None:
    """All frames at once, remembered per rights: each step of the animation then costs a lookup."""
    return atlas.remembered(("cmp_play", viewer.rights, indicator_id, level, method, lang),
                            lambda: comparison.play_frames(atlas, viewer, indicator_id, level, method, 5, lang))


def play_frame(atlas: Atlas, viewer: Principal, indicator_id, period, level: str, method: str, fixed: bool,
               lang: str) -> tuple[dict, list[dict], str | None] | None:
    """(hideout, legend entries, set id) of one period; fixed classes from all periods, else the period's own."""
    if not isinstance(indicator_id, str) or period not in queries.periods(atlas, viewer, indicator_id):
        return None
    if not fixed:
        view = choropleth.map_view(atlas, viewer, indicator_id, period, method, 5, None, lang, level)
        return (view.hideout, view.legend, view.set_id) if view else None
    play = _play(atlas, viewer, indicator_id, level, method, lang)
    frame = next((f for f in play.frames if f.period == period), None) if play else None
    if frame is None or frame.set_id is None:
        return None
    hideout = {"cls": frame.classes, "col": play.colors, "lab": frame.labels, "sel": None,
               "mc": MISSING_COLOR, "sc": SUPPRESSED_COLOR}
    return hideout, frame_legend(play.legend, frame.classes), frame.set_id


def frame_legend(entries: list[dict], classes: list[int]) -> list[dict]:
    """The fixed legend (the same ranges in every period) with this period's counts, so it still adds up."""
    cls = np.asarray(classes, dtype=int)
    kinds = {"missing": -1, "suppressed": -2}
    out, i = [], 0
    for e in entries:
        if e["kind"] == "class":
            out.append({**e, "count": int((cls == i).sum())})
            i += 1
        else:
            out.append({**e, "count": int((cls == kinds.get(e["kind"], -3)).sum())})
    return out


def _bivariate_play_params(atlas: Atlas, viewer: Principal, bx, by, bl, play, pp, pl, pc, pf) -> dict:
    """The bivariate map's and the animation's part of the URL; hidden ids never go in."""
    levels = territory.level_ids(atlas)
    params = {k: v for k, v in (("bx", bx), ("by", by)) if _visible(atlas, viewer, [v])}
    if bl in levels:
        params["bl"] = bl
    if _visible(atlas, viewer, [play]):
        params["play"] = play
        if pp in queries.periods(atlas, viewer, play):
            params["pp"] = pp
    if pl in levels:
        params["pl"] = pl
    if pc in METHODS:
        params["pc"] = pc
    if isinstance(pf, list) and "fixed" not in pf:
        params["pf"] = "0"
    return params


# ------------------------------------------------------------------ callbacks
def _periods_options(atlas: Atlas, viewer: Principal, indicator_id, lang: str) -> list[dict]:
    periods = queries.periods(atlas, viewer, indicator_id) if isinstance(indicator_id, str) else []
    return [{"label": period_label(p, lang), "value": p} for p in periods]


def _register_map_side(app, side: int) -> None:
    """The callbacks of one of the two maps: its periods, and its classes, legend, title and source."""
    p = f"cmp-m{side}"

    @app.callback(Output(f"{p}-period", "options"), Output(f"{p}-period", "value"),
                  Input(f"{p}-indicator", "value"), State(f"{p}-period", "value"), State("cmp-lang", "data"),
                  prevent_initial_call=True)
    def on_indicator(indicator_id, current, lang):
        """Keep the period where the new indicator has it, else its newest."""
        opts = _periods_options(current_atlas(), current_principal(), indicator_id, norm_lang(lang))
        values = [o["value"] for o in opts]
        return opts, (current if current in values else (values[-1] if values else None))

    @app.callback(Output(f"{p}-geojson", "hideout"), Output(f"{p}-geojson", "data"), Output(f"{p}-set", "data"),
                  Output(f"{p}-legend", "children"), Output(f"{p}-title", "children"),
                  Output(f"{p}-source", "children"), *[Output(f"{p}-{fmt}", "href") for fmt in TABLE + PICTURES],
                  Input(f"{p}-indicator", "value"), Input(f"{p}-period", "value"), Input(f"{p}-method", "value"),
                  Input("cmp-m-selected", "data"), State(f"{p}-set", "data"), State("cmp-lang", "data"))
    def on_view(indicator_id, period, method, selected, current_set, lang):
        """The explorer's map service; geometry travels only when the boundary set changes."""
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        method, k = classing(method, 5)
        readable = queries.periods(atlas, viewer, indicator_id) if isinstance(indicator_id, str) else []
        view = choropleth.map_view(atlas, viewer, indicator_id, period, method, k,
                                   selected if isinstance(selected, str) else None, lang) \
            if period in readable else None
        if view is None:  # unknown, hidden or not a readable period: the same empty answer
            return ({}, no_update, no_update, [html.P(t("no_indicators", lang))], "", "") \
                + ("",) * len(TABLE + PICTURES)
        ind = atlas.indicator_by_id[indicator_id]
        data = no_update if current_set == view.set_id else choropleth.geometry(atlas, view.set_id)
        # the explorer's routes: the map picture with this side's classing, the values as German CSV
        query = {"indicator": indicator_id, "period": period, "lang": lang}
        return (view.hideout, data, view.set_id, legend(view.legend, ind.unit_in(lang), lang),
                f"{ind.title(lang)}, {period_label(period, lang)}", f"{t('source', lang)}: {ind.source}") \
            + download_hrefs("/api/v1/export", query, ("csv-de",)) \
            + download_hrefs("/api/v1/map", {**query, "method": method, "k": k}, PICTURES)


def register_callbacks(app) -> None:
    @app.callback(Output("cmp-chart-indicator", "options"), Output("cmp-chart-indicator", "value"),
                  Input("cmp-indicators", "value"), State("cmp-chart-indicator", "value"), State("cmp-lang", "data"))
    def on_chart_choices(indicator_ids, current, lang):
        """The time series can show any of the chosen indicators the viewer may see."""
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        ids = _visible(atlas, viewer, indicator_ids if isinstance(indicator_ids, list) else [])
        opts = [{"label": atlas.indicator_by_id[i].title(lang), "value": i} for i in ids]
        return opts, current if current in ids else (ids[0] if ids else None)

    @app.callback(Output("cmp-area-table", "children"), Output("cmp-area-chart", "figure"),
                  *[Output(f"cmp-area-{fmt}", "href") for fmt in TABLE],
                  *[Output(f"cmp-area-chart-{fmt}", "href") for fmt in PICTURES],
                  Input("cmp-areas", "value"), Input("cmp-indicators", "value"), Input("cmp-chart-indicator", "value"),
                  State("cmp-lang", "data"))
    def on_areas(area_keys, indicator_ids, chart_id, lang):
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        keys = area_keys if isinstance(area_keys, list) else []
        ids = indicator_ids if isinstance(indicator_ids, list) else []
        table = comparison.compare_table(atlas, viewer, keys, ids)
        chart_id = chart_id if chart_id in _visible(atlas, viewer, ids) else None
        series = comparison.compare_series(atlas, viewer, keys, chart_id) if chart_id else None
        query = {"area": list(dict.fromkeys(table.loc[table["role"] == "area", "area_id"])),
                 "indicator": list(dict.fromkeys(table["indicator_id"])), "lang": lang}
        csv = download_hrefs("/api/v1/compare", query, TABLE) if len(table) else ("",) * len(TABLE)
        pics = download_hrefs("/api/v1/compare", {**query, "chart": chart_id}, PICTURES) \
            if series is not None and len(series) else ("",) * len(PICTURES)
        return (area_table(atlas, table, lang), series_figure(atlas, series, chart_id, lang)) + csv + pics

    @app.callback(Output("cmp-ch-from", "options"), Output("cmp-ch-from", "value"),
                  Output("cmp-ch-to", "options"), Output("cmp-ch-to", "value"),
                  Input("cmp-ch-indicator", "value"), State("cmp-wanted", "data"), State("cmp-lang", "data"))
    def on_change_periods(indicator_id, wanted, lang):
        """Readable periods only; the default compares the newest with the same period five years before."""
        atlas, viewer = current_atlas(), current_principal()
        opts = _periods_options(atlas, viewer, indicator_id, norm_lang(lang))
        periods = [o["value"] for o in opts]
        if not periods:
            return [], None, [], None
        wanted = wanted if isinstance(wanted, dict) else {}
        to = wanted.get("to") if wanted.get("to") in periods else periods[-1]
        earlier = [p for p in periods if p < to and p[4:] == to[4:] and int(p[:4]) <= int(to[:4]) - 5]
        start = wanted.get("from") if wanted.get("from") in periods else (earlier[-1] if earlier else periods[0])
        return opts, start, opts, to

    @app.callback(Output("cmp-ch-geojson", "hideout"), Output("cmp-ch-geojson", "data"), Output("cmp-set", "data"),
                  Output("cmp-ch-legend", "children"), Output("cmp-ch-title", "children"),
                  Output("cmp-ch-table", "children"), *[Output(f"cmp-ch-{fmt}", "href") for fmt in TABLE + PICTURES],
                  Input("cmp-ch-indicator", "value"), Input("cmp-ch-from", "value"), Input("cmp-ch-to", "value"),
                  Input("cmp-ch-level", "value"), State("cmp-set", "data"), State("cmp-lang", "data"))
    def on_change(indicator_id, period_from, period_to, level, current_set, lang):
        """Values, classes and legend travel; geometry only when the set or level changes."""
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        level = level if level in territory.level_ids(atlas) else territory.base_level(atlas)
        try:
            table = comparison.change(atlas, viewer, indicator_id, period_from, period_to, level) \
                if isinstance(indicator_id, str) else None
        except ValueError:
            table = None
        if table is None or table.set_id is None:
            return ({}, no_update, no_update, [html.P(t("no_indicators", lang))], "", "") \
                + ("",) * len(TABLE + PICTURES)
        c = comparison.change_classes(table, 5, lang)
        hideout = {"cls": c.classes, "col": c.colors, "lab": c.labels, "sel": None,
                   "mc": MISSING_COLOR, "sc": SUPPRESSED_COLOR}
        geo_key = f"{table.set_id}|{level}"
        data = no_update if current_set == geo_key else choropleth.geometry(atlas, table.set_id, level)
        title = (f"{table.indicator.title(lang)}: {period_label(table.period_from, lang)} → "
                 f"{period_label(table.period_to, lang)}")
        return (hideout, data, geo_key, legend(c.legend, comparison.change_unit(table, lang), lang), title,
                change_table(table, c.labels, lang)) + download_hrefs(
            "/api/v1/change", {"indicator": indicator_id, "from": period_from, "to": period_to, "level": level,
                               "lang": lang}, TABLE + PICTURES)

    @app.callback(Output("cmp-rel-chart", "figure"), Output("cmp-rel-stats", "children"),
                  Output("cmp-rel-left", "children"), Output("cmp-rel-base", "data"),
                  Output("cmp-rel-geojson", "data"), Output("cmp-rel-set", "data"), Output("cmp-rel-title", "children"),
                  Output("cmp-rel-brushed", "options"), *[Output(f"cmp-rel-{fmt}", "href") for fmt in TABLE + PICTURES],
                  Input("cmp-x", "value"), Input("cmp-y", "value"), Input("cmp-rel-level", "value"),
                  State("cmp-rel-set", "data"), State("cmp-lang", "data"))
    def on_relation(x_id, y_id, level, current_set, lang):
        """The scatter and, next to it, the same pair as a bivariate map (geometry only when set or level change)."""
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        level = level if level in territory.level_ids(atlas) else territory.base_level(atlas)
        both = comparison.bivariate(atlas, viewer, x_id, y_id, None, level, lang) \
            if isinstance(x_id, str) and isinstance(y_id, str) else None
        found = both.relation if both else None
        shown = (relation_figure(found, lang), relation_stats(found, lang), left_out_list(atlas, found, lang))
        if both is None or both.set_id is None:
            return shown + ({}, no_update, no_update, "", []) + ("",) * len(TABLE + PICTURES)
        geo_key = f"{both.set_id}|{level}"
        data = no_update if current_set == geo_key else choropleth.geometry(atlas, both.set_id, level)
        return shown + (bivariate_hideout(both), data, geo_key, _pair_title(found, lang), brush_options(found)) \
            + download_hrefs("/api/v1/correlation", {"x": x_id, "y": y_id, "level": level, "lang": lang},
                             TABLE + PICTURES)

    @app.callback(Output("cmp-sim-result", "children"), *[Output(f"cmp-sim-{fmt}", "href") for fmt in TABLE],
                  Input("cmp-sim-area", "value"), Input("cmp-sim-indicators", "value"),
                  Input("cmp-sim-method", "value"), Input("cmp-sim-tolerance", "value"), State("cmp-lang", "data"))
    def on_similar(area, indicator_ids, method, tolerance, lang):
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        try:
            tolerance = float(tolerance) if tolerance is not None else None
        except (TypeError, ValueError):
            tolerance = None
        found = comparison.similar(atlas, viewer, area, indicator_ids if isinstance(indicator_ids, list) else [],
                                   None, tolerance, method if method in comparison.SIMILAR_METHODS else "range") \
            if isinstance(area, str) else None
        csv = download_hrefs("/api/v1/similar", {
            "area": found.reference.area_id, "indicators": ",".join(found.indicators), "method": found.method,
            "tolerance": found.tolerance}, TABLE) if found is not None else ("",) * len(TABLE)
        return (similar_list(atlas, found, lang), *csv)

    @app.callback(Output("cmp-query", "data"),
                  Input("cmp-tab", "value"), Input("cmp-areas", "value"), Input("cmp-indicators", "value"),
                  Input("cmp-ch-indicator", "value"), Input("cmp-ch-from", "value"), Input("cmp-ch-to", "value"),
                  Input("cmp-ch-level", "value"), Input("cmp-x", "value"), Input("cmp-y", "value"),
                  Input("cmp-m1-indicator", "value"), Input("cmp-m1-period", "value"), Input("cmp-m1-method", "value"),
                  Input("cmp-m2-indicator", "value"), Input("cmp-m2-period", "value"), Input("cmp-m2-method", "value"),
                  Input("cmp-m-selected", "data"),
                  Input("cmp-bv-x", "value"), Input("cmp-bv-y", "value"), Input("cmp-bv-level", "value"),
                  Input("cmp-pl-indicator", "value"), Input("cmp-pl-period", "value"), Input("cmp-pl-level", "value"),
                  Input("cmp-pl-method", "value"), Input("cmp-pl-fixed", "value"), State("cmp-lang", "data"))
    def on_query(tab, areas, inds, ch, p_from, p_to, level, x, y, m1, p1, c1, m2, p2, c2, sel,
                 bx, by, bl, play, pp, pl, pc, pf, lang):
        """The URL of this view: only what the viewer may see goes in (a link never names a hidden id)."""
        atlas, viewer = current_atlas(), current_principal()
        params = {"view": tab if tab in TABS else "areas"}
        keys = [a.area_id for a in comparison.resolve_areas(atlas, areas if isinstance(areas, list) else [])]
        if keys:
            params["area"] = ",".join(keys)
        ids = _visible(atlas, viewer, inds if isinstance(inds, list) else [])
        if ids:
            params["indicator"] = ",".join(ids)
        if _visible(atlas, viewer, [ch]):
            params["change"] = ch
            readable = queries.periods(atlas, viewer, ch)
            params.update({k: v for k, v in (("from", p_from), ("to", p_to)) if v in readable})
        if level in territory.level_ids(atlas):
            params["level"] = level
        params.update({k: v for k, v in (("x", x), ("y", y)) if _visible(atlas, viewer, [v])})
        for side, (m, period, method) in zip(SIDES, ((m1, p1, c1), (m2, p2, c2))):
            if _visible(atlas, viewer, [m]):
                params[f"m{side}"] = m
                if period in queries.periods(atlas, viewer, m):
                    params[f"p{side}"] = period
            if method in METHODS:
                params[f"c{side}"] = method
        if comparison.resolve_areas(atlas, [sel]):
            params["sel"] = sel
        params.update(_bivariate_play_params(atlas, viewer, bx, by, bl, play, pp, pl, pc, pf))
        if norm_lang(lang) != "de":
            params["lang"] = "en"
        return {"qs": urlencode(params)}

    for side in SIDES:
        _register_map_side(app, side)
    _register_bivariate_and_play(app)

    @app.callback(Output("cmp-m-selected", "data"), Input("cmp-m1-geojson", "clickData"),
                  Input("cmp-m2-geojson", "clickData"), prevent_initial_call=True)
    def on_map_click(left, right):
        """A click on either map selects the area on both (keys are geography, public)."""
        feature = (ctx.triggered[0]["value"] if ctx.triggered else None) or {}
        area_id = (feature.get("properties") or {}).get("id") if isinstance(feature, dict) else None
        return area_id if isinstance(area_id, str) else no_update

    app.clientside_callback(  # pan and zoom follow whichever map moved last
        """function(c1, z1, c2, z2) {
            const t = (window.dash_clientside.callback_context.triggered[0] || {}).prop_id || "";
            const nu = window.dash_clientside.no_update;
            if (!c1 || !c2) { return [nu, nu]; }
            const same = Math.abs(c1[0] - c2[0]) < 1e-6 && Math.abs(c1[1] - c2[1]) < 1e-6 && z1 === z2;
            if (same) { return [nu, nu]; }
            if (t.startsWith("cmp-m1-map")) { return [nu, {center: c1, zoom: z1, transition: "setView"}]; }
            return [{center: c2, zoom: z2, transition: "setView"}, nu];
        }""",
        Output("cmp-m1-map", "viewport"), Output("cmp-m2-map", "viewport"),
        Input("cmp-m1-map", "center"), Input("cmp-m1-map", "zoom"),
        Input("cmp-m2-map", "center"), Input("cmp-m2-map", "zoom"), prevent_initial_call=True,
    )
    app.clientside_callback(  # phones: one map at a time; Leaflet re-measures the one shown
        "function(v) { return ['oa-cmp-pair oa-cmp-show-' + (v === 2 ? 2 : 1), Date.now(), Date.now()]; }",
        Output("cmp-m-pair", "className"), Output("cmp-m1-map", "invalidateSize"),
        Output("cmp-m2-map", "invalidateSize"), Input("cmp-m-show", "value"), prevent_initial_call=True,
    )
    app.clientside_callback(
        "function(q) { return window.ortsatlas.url.write(q && q.qs); }",
        Output("cmp-url-sink", "data"), Input("cmp-query", "data"),
    )
    app.clientside_callback(
        "function(q) { return window.ortsatlas.url.share(q && q.qs); }",
        Output("cmp-share-url", "value"), Input("cmp-query", "data"),
    )
    _register_brushing(app)


def _register_brushing(app) -> None:
    """Scatter ↔ map: the highlight list holds the brushed areas; a box or lasso in the scatter, a click on an
    area or the list itself change it, and the map's highlight and the scatter's selected points follow it.
    Area keys are public geography, so all of it runs in the browser (assets/compare.js)."""
    app.clientside_callback(
        "function(s, c, x, y, l, click, ids, options) { return window.ortsatlas.brush.update(s, click, ids, options); }",
        Output("cmp-rel-brushed", "value"),
        Input("cmp-rel-chart", "selectedData"), Input("cmp-rel-geojson", "n_clicks"),
        Input("cmp-x", "value"), Input("cmp-y", "value"), Input("cmp-rel-level", "value"),
        State("cmp-rel-geojson", "clickData"), State("cmp-rel-brushed", "value"), State("cmp-rel-brushed", "options"),
        prevent_initial_call=True,
    )
    app.clientside_callback(
        "function(base, ids) { return Object.assign({}, base || {}, {hl: ids || []}); }",
        Output("cmp-rel-geojson", "hideout"), Input("cmp-rel-base", "data"), Input("cmp-rel-brushed", "value"),
    )
    app.clientside_callback(
        "function(ids, figure, selected) { return window.ortsatlas.brush.points(ids, figure, selected); }",
        Output("cmp-rel-chart", "figure", allow_duplicate=True),
        Input("cmp-rel-brushed", "value"), State("cmp-rel-chart", "figure"), State("cmp-rel-chart", "selectedData"),
        prevent_initial_call=True,
    )


def _register_bivariate_and_play(app) -> None:
    """The bivariate map's and the animation's callbacks."""

    @app.callback(Output("cmp-bv-geojson", "hideout"), Output("cmp-bv-geojson", "data"), Output("cmp-bv-set", "data"),
                  Output("cmp-bv-legend", "children"), Output("cmp-bv-title", "children"),
                  Output("cmp-bv-table", "children"), Output("cmp-bv-left", "children"), Output("cmp-bv-json", "href"),
                  *[Output(f"cmp-bv-{fmt}", "href") for fmt in TABLE + PICTURES],
                  Input("cmp-bv-x", "value"), Input("cmp-bv-y", "value"), Input("cmp-bv-level", "value"),
                  State("cmp-bv-set", "data"), State("cmp-lang", "data"))
    def on_bivariate(x_id, y_id, level, current_set, lang):
        """Classes, legend and labels travel; geometry only when the set or level changes."""
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        level = level if level in territory.level_ids(atlas) else territory.base_level(atlas)
        found = comparison.bivariate(atlas, viewer, x_id, y_id, None, level, lang) \
            if isinstance(x_id, str) and isinstance(y_id, str) else None
        if found is None or found.set_id is None:
            return ({}, no_update, no_update, bivariate_legend(None, lang), "", "", [], "") \
                + ("",) * len(TABLE + PICTURES)
        geo_key = f"{found.set_id}|{level}"
        data = no_update if current_set == geo_key else choropleth.geometry(atlas, found.set_id, level)
        rel = found.relation
        title = _pair_title(rel, lang)
        query = {"x": x_id, "y": y_id, "level": level, "lang": lang}
        href = "/api/v1/bivariate?" + urlencode(query)
        return (bivariate_hideout(found), data, geo_key, bivariate_legend(found, lang), title,
                bivariate_table(found, lang), left_out_list(atlas, rel, lang, "cmp-bv-left-out"), href) \
            + download_hrefs("/api/v1/bivariate", query, TABLE + PICTURES)

    @app.callback(Output("cmp-pl-interval", "disabled"), Output("cmp-pl-toggle", "children"),
                  Output("cmp-pl-toggle", "aria-pressed"),
                  Input("cmp-pl-toggle", "n_clicks"), State("cmp-pl-interval", "disabled"), State("cmp-lang", "data"),
                  prevent_initial_call=True)
    def on_toggle(_, disabled, lang):
        """Play starts the interval, Pause stops it; the button says what it will do next."""
        lang = norm_lang(lang)
        playing = bool(disabled)  # it was stopped: now it plays
        label = ("⏸ " + t("cmp_pause", lang)) if playing else ("▶ " + t("cmp_play", lang))
        return not playing, label, "true" if playing else "false"

    @app.callback(Output("cmp-pl-period", "options"), Output("cmp-pl-period", "value"),
                  Input("cmp-pl-indicator", "value"), Input("cmp-pl-interval", "n_intervals"),
                  Input("cmp-pl-prev", "n_clicks"), Input("cmp-pl-next", "n_clicks"),
                  State("cmp-pl-period", "value"), State("cmp-lang", "data"), prevent_initial_call=True)
    def on_step(indicator_id, _tick, _prev, _next, current, lang):
        """A tick or 'next' goes one period on (after the last, back to the first); 'previous' one back."""
        opts = _periods_options(current_atlas(), current_principal(), indicator_id, norm_lang(lang))
        periods = [o["value"] for o in opts]
        if not periods:
            return [], None
        if current not in periods:
            return opts, periods[0]
        step = {"cmp-pl-prev": -1, "cmp-pl-next": 1, "cmp-pl-interval": 1}.get(ctx.triggered_id, 0)
        return opts, periods[(periods.index(current) + step) % len(periods)]

    @app.callback(Output("cmp-pl-geojson", "hideout"), Output("cmp-pl-geojson", "data"), Output("cmp-pl-set", "data"),
                  Output("cmp-pl-legend", "children"), Output("cmp-pl-title", "children"),
                  Output("cmp-pl-live", "children"),
                  Input("cmp-pl-indicator", "value"), Input("cmp-pl-period", "value"), Input("cmp-pl-level", "value"),
                  Input("cmp-pl-method", "value"), Input("cmp-pl-fixed", "value"),
                  State("cmp-pl-set", "data"), State("cmp-lang", "data"))
    def on_frame(indicator_id, period, level, method, fixed, current_set, lang):
        """One period's map; the live line names it ('Gezeigt: 2019 (3 von 10)') for screen readers."""
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        level = level if level in territory.level_ids(atlas) else territory.base_level(atlas)
        method, _ = classing(method, 5)
        shown = play_frame(atlas, viewer, indicator_id, period, level, method,
                           isinstance(fixed, list) and "fixed" in fixed, lang)
        if shown is None:
            return {}, no_update, no_update, [html.P(t("no_indicators", lang))], "", ""
        hideout, entries, set_id = shown
        geo_key = f"{set_id}|{level}"
        data = no_update if current_set == geo_key else choropleth.geometry(atlas, set_id, level)
        ind = atlas.indicator_by_id[indicator_id]
        periods = queries.periods(atlas, viewer, indicator_id)
        live = (f"{t('cmp_shown', lang)}: {ind.title(lang)}, {period_label(period, lang)} "
                f"({periods.index(period) + 1} {t('cmp_of', lang)} {len(periods)})")
        return (hideout, data, geo_key, legend(entries, ind.unit_in(lang), lang),
                f"{ind.title(lang)}, {period_label(period, lang)}", live)
