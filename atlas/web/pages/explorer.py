"""The map explorer: choropleth, period, classing, time series, indicator info.

The layout function restores the view from the URL on the server, after the
viewer's rights are checked: a shared link to an indicator the viewer may not
see opens the default view with a neutral message. Callbacks are thin: each
asks a service with `current_principal()` and formats the answer.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from urllib.parse import urlencode

import dash_leaflet as dl
import pandas as pd
from dash import Input, Output, State, ctx, dcc, html, no_update

from atlas.classify import K_RANGE, METHODS, classing
from atlas.export import pictures
from atlas.export import tables as export
from atlas.formatting import gaps_note
from atlas.i18n import norm_lang, t
from atlas.periods import period_label
from atlas.services import (
    choropleth,
    crosswalk,
    notes,
    queries,
    table_view,
    territory,
    tiles,
)
from atlas.services.context import Atlas
from atlas.web.components import (
    chart_url,
    data_table,
    facts_list,
    indicator_facts,
    indicator_options,
    indicator_picker,
    legend,
    scrolling,
    timeseries_figure,
)
from atlas.web.http import current_atlas
from atlas.web.tiles_route import tiles_url
from auth import Principal, current_principal
from auth.permissions import ANONYMOUS

DEFAULT_INDICATOR = "sgb2_quote"
POINT_LAYERS = ("kita", "grundschule", "weiterfuehrende_schule", "familienzentrum")
INDICATOR_LIST_HEIGHT = 420  # px: about twelve entries at once (the dropdown's default showed four)


def _fn(name: str) -> dict:
    """A reference to a function in assets/map.js (dash-leaflet functional props)."""
    return {"variable": f"ortsatlas.map.{name}"}


# ------------------------------------------------------------------ state
@dataclass
class ViewState:
    indicator: str | None
    periods: list[str]
    period_index: int
    method: str
    k: int
    area: str | None
    lang: str
    notice: str = ""
    level: str = ""  # one of the store's levels; the base level when empty

    @property
    def period(self) -> str | None:
        return self.periods[self.period_index] if self.periods else None


def _default_indicator(visible: pd.DataFrame) -> str | None:
    if visible.empty:
        return None
    ids = visible["id"].tolist()
    return DEFAULT_INDICATOR if DEFAULT_INDICATOR in ids else ids[0]


def resolve_state(atlas: Atlas, viewer: Principal, args: dict) -> ViewState:
    """Turn URL parameters into a view the viewer may see; fall back silently-but-visibly."""
    lang = norm_lang(args.get("lang"))
    visible = queries.visible_indicators(atlas, viewer)
    wanted = args.get("indicator")
    notice = ""
    indicator = wanted if wanted in set(visible["id"]) else _default_indicator(visible)
    if wanted and wanted != indicator:
        notice = t("unavailable_view", lang)
    periods = list(visible.loc[visible["id"] == indicator, "periods"].iloc[0]) if indicator else []
    wanted_period = args.get("period")
    index = periods.index(wanted_period) if wanted_period in periods else max(len(periods) - 1, 0)
    method, k = classing(args.get("method"), args.get("k"))
    level = map_level(atlas, args.get("level"))
    area = args.get("area") if not notice else None
    if area and (not periods or area not in _area_ids(atlas, periods[index], level)):
        area = None
    return ViewState(indicator, periods, index, method, k, area, lang, notice, level)


def map_level(atlas: Atlas, wanted) -> str:
    """The level the map shows: one of the store's or a parallel grid, else the base level.

    A grid the viewer may not read is accepted here and then answers like an
    unknown indicator (the map service decides, as for every level).
    """
    if wanted in territory.level_ids(atlas) or (isinstance(wanted, str) and crosswalk.get_grid(atlas, wanted)):
        return wanted
    return territory.base_level(atlas)


def _area_ids(atlas: Atlas, period: str, level: str) -> set[str]:
    set_id = queries.set_for_period(atlas, period)
    return set(choropleth.map_areas(atlas, level, set_id)["area_id"]) if set_id else set()


def level_options(atlas: Atlas, viewer: Principal, lang: str) -> list[dict]:
    """The map's levels, then the parallel grids the viewer may read, marked as estimated."""
    options = [{"label": lv.label(lang, plural=True), "value": lv.id} for lv in territory.levels(atlas)]
    return options + [{"label": t("ex_grid_option", lang).format(name=g.plural_en if lang == "en" else g.plural_de),
                       "value": g.id} for g in crosswalk.readable_grids(atlas, viewer)]


def query_string(indicator: str, period: str, method: str, k: int, area: str | None, lang: str,
                 level: str = "") -> str:
    params = {"indicator": indicator, "period": period, "method": method, "k": k}
    if level:
        params["level"] = level
    if area:
        params["area"] = area
    if lang != "de":
        params["lang"] = lang
    return urlencode(params)


# ------------------------------------------------------------------ layout pieces
def slider_marks(periods: list[str]) -> dict:
    """Label the first period of every second year, so marks stay readable on phones."""
    marks: dict[int, str] = {}
    first_year, last_year = (int(periods[0][:4]), None) if periods else (0, None)
    for i, p in enumerate(periods):
        year = int(p[:4])
        if year != last_year and (year - first_year) % 2 == 0:
            marks[i] = p[:4]
        last_year = year
    return marks


def info_panel(atlas: Atlas, viewer: Principal, indicator_id: str | None, lang: str) -> list:
    items = indicator_facts(atlas, viewer, indicator_id, lang)
    if not items:
        return [html.P(t("no_indicators", lang), className="oa-hint")]
    return [facts_list(items), *notes_list(atlas, viewer, indicator_id, lang)]


TABLE_COLUMNS = (("area_id", "ex_tab_key"), ("name", "ex_tab_name"), ("parent", "ex_tab_parent"),
                 ("value", "ex_tab_value"), ("numerator", "numerator"), ("denominator", "denominator"),
                 ("status", "ex_tab_status"))


def table_panel(lang: str) -> html.Details:
    """The map's table twin (the skip links' "Tabelle"): filled once it was first opened, so a viewer who
    never opens it pays nothing on an indicator switch (html.Details does not report `open`; the
    summary's clicks, keyboard included, do)."""
    sorts = [{"label": t(f"ex_sort_{key}", lang), "value": key} for key in table_view.SORTS]
    return html.Details([
        html.Summary(t("ex_table", lang), id="ex-table-toggle"),
        html.Div([
            html.Div([html.Label(t("ex_tab_filter", lang), htmlFor="ex-table-filter", className="oa-label"),
                      dcc.Input(id="ex-table-filter", type="search", debounce=True, value="",
                                className="oa-input")], className="oa-field"),
            html.Div([html.Span(t("ex_tab_sort", lang), className="oa-label"),
                      dcc.RadioItems(id="ex-table-sort", value="key", options=sorts, className="oa-radio")],
                     className="oa-field"),
            html.P(id="ex-table-summary", className="oa-hint", **{"aria-live": "polite"}),
            html.Div(id="ex-table-body"),
        ], className="oa-section"),
    ], open=False, id="ex-table")


def table_children(view: table_view.TableView | None, lang: str) -> tuple[str, list]:
    """The summary line and the table (scrolling sideways on a phone)."""
    if view is None:
        return t("no_indicators", lang), []
    columns = [(key, t(label, lang)) for key, label in TABLE_COLUMNS]
    count = t("ex_tab_count", lang).format(shown=view.shown, total=view.total)
    return view.summary, [html.P(count, className="oa-hint"),
                          scrolling(data_table(view.rows, columns, id="ex-table-rows"))]


def notes_list(atlas: Atlas, viewer: Principal, indicator_id: str, lang: str) -> list:
    """The department's interpretation notes on the whole indicator ("Zählweise geändert ab 2023")."""
    found = [n for n in notes.visible(atlas, viewer, indicator_id, lang=lang) or [] if n["area"] is None]
    if not found:
        return []
    return [html.H3(t("ex_notes", lang)), html.Ul([html.Li(
        f"{period_label(n['period'], lang) + ': ' if n['period'] else ''}{n['text']} ({n['author']}, {n['date']})")
        for n in found], id="ex-notes")]


def dropdown_labels(lang: str) -> dict[str, str]:
    """The dropdown's own words (its search box said "Search" in the German UI)."""
    return {"search": t("ex_dd_search", lang), "clear_search": t("ex_dd_clear_search", lang),
            "clear_selection": t("ex_dd_clear_selection", lang), "select_all": t("ex_dd_select_all", lang),
            "deselect_all": t("ex_dd_deselect_all", lang), "no_options_found": t("ex_dd_none_found", lang)}


def legend_box(lang: str) -> html.Div:
    """The map legend behind a button, so a phone user can fold it away (folded at first on phones).

    A clientside callback (`ortsatlas.legend.toggle`, assets/map.js) sets the class and `aria-expanded`; the
    legend's entries come from `on_view` into `#ex-legend`.
    """
    return html.Div([
        html.Button(t("ex_legend", lang), id="ex-legend-toggle", type="button", className="oa-legend-toggle",
                    **{"aria-expanded": "true", "aria-controls": "ex-legend"}),
        html.Div([html.Div(id="ex-legend", **{"aria-live": "polite"}), symbols_help(lang)],
                 className="oa-legend-body"),
    ], id="ex-legend-box", className="oa-legend oa-legend-box")


def view_mark(atlas: Atlas, viewer: Principal, ind, view: choropleth.MapView, period: str, method: str, k: int,
              level: str, lang: str) -> str:
    """'intern', 'nur für <Fachamt>' or 'intern – noch nicht veröffentlicht' for this view; '' when public.

    A public indicator's view is compared with the public's view of the
    same map (both remembered), label by label: what differs is not public.
    """
    unpublished = False
    if ind.visibility == "public" and viewer.rights != ANONYMOUS.rights:
        public = choropleth.map_view(atlas, ANONYMOUS, ind.id, period, method, k, None, lang, level)
        unpublished = public is None or (public.area_ids, public.hideout["lab"]) != (view.area_ids,
                                                                                      view.hideout["lab"])
    return pictures.marking(atlas, ind, lang, unpublished)


def area_notes(atlas: Atlas, viewer: Principal, indicator_id: str, area: str | None, period: str,
               lang: str) -> list[str]:
    """The department's notes on this very area, for the shown period or for every period.

    "Anstieg durch Neubaugebiet, Erstbezug 2024" belongs next to the value a
    council member taps, not only in the time series below the fold.
    """
    if not area:
        return []
    found = notes.visible(atlas, viewer, indicator_id, area, period, lang) or []
    return [f"{period_label(n['period'], lang) + ': ' if n['period'] else ''}{n['text']} ({n['author']}, {n['date']})"
            for n in found if n["area"] == area]


def area_card(atlas: Atlas, view: choropleth.MapView, area: str | None, level: str, title: str,
              lang: str, mark: str = "", remarks: list[str] | None = None) -> list:
    """What a tap on an area shows: its name and key, the value with its unit, the period, and its parent.

    Built from the same map view that coloured the map (the labels already
    carry disclosure and the unit), so the card and the map never disagree;
    nothing needs a mouse hover.
    """
    if area is None or area not in view.area_ids:
        return [html.P(t("click_area", lang), className="oa-hint")]
    areas = choropleth.map_areas(atlas, level, view.set_id).set_index("area_id")
    row = areas.loc[area]
    value = view.hideout["lab"][view.area_ids.index(area)]
    body = [html.Div([html.Strong(row["name"], className="oa-area-name"), " ",
                      html.Span(area, className="oa-key")]),
            html.Div([html.Span(t("ex_area_value", lang) + ": ", className="oa-label-inline"),
                      html.Strong(value, className="oa-area-value")] +
                     ([" ", html.Span(mark, className="oa-mark-chip oa-mark-inline")] if mark else [])),
            html.Div(title, className="oa-hint")]
    parent = _parent(atlas, level, view.set_id, row["parent_id"], lang)
    if parent:
        body.append(html.Div(f"{t('ex_area_in', lang)} {parent}", className="oa-area-parent"))
    grid = crosswalk.grid_of_level(atlas, level)
    if grid is not None:  # an estimate: say how, and that series and profiles belong to the levels
        body.append(html.Div(t("ex_grid_card", lang).format(method=grid.method_label(lang)), className="oa-hint"))
    if remarks:
        body.append(html.Div([html.Span(t("ex_area_notes", lang), className="oa-label-inline"),
                              html.Ul([html.Li(r) for r in remarks], className="oa-area-notes")]))
    return body


def _parent(atlas: Atlas, level: str, set_id: str, parent_id, lang: str) -> str:
    """'Stadtbezirk Mitte': the parent's level and name, or '' at the top level."""
    ids = territory.level_ids(atlas)
    if not isinstance(parent_id, str) or level not in ids or ids.index(level) + 1 >= len(ids):
        return ""
    parent_level = ids[ids.index(level) + 1]
    names = queries.areas(atlas, parent_level, set_id).set_index("area_id")["name"]
    name = names.get(parent_id)
    return f"{territory.label(atlas, parent_level, lang)} {name}" if name else ""


def timeseries_section(lang: str) -> html.Div:
    """Where the time series goes: a hint until an area is selected, then the graph (`on_timeseries_shown`).

    The graph is not in the page before that, so plotly.js (1.4 MB, most of
    a throttled tablet's first load) is fetched only when a chart is shown.
    """
    return html.Div([html.Div(html.P(t("click_area", lang), className="oa-hint"), id="ex-ts-holder"),
                     html.P(gaps_note(lang), className="oa-hint")], className="oa-section")


def timeseries_graph(figure: dict) -> dcc.Graph:
    """The time-series graph; no mode bar (its 24 px buttons are too small to tap, and the picture
    downloads are in the export panel)."""
    # The Graph needs its own height: a responsive Dash 4 graph takes the container's (0 here).
    return dcc.Graph(id="ex-timeseries", figure=figure, style={"height": "300px"},
                     config={"displaylogo": False, "displayModeBar": False, "responsive": True})


def classing_help(lang: str) -> html.Details:
    """Plain words for the classing methods and the number of classes, one tap away."""
    items = [html.Li(t(f"ex_help_{method}", lang)) for method in METHODS] + [html.Li(t("ex_help_classes", lang))]
    return html.Details([html.Summary(t("ex_help", lang)), html.Ul(items)], className="oa-help", id="ex-help")


def symbols_help(lang: str) -> html.Details:
    """What the two gap symbols of the legend mean, one tap away from the legend."""
    return html.Details([html.Summary(t("ex_help", lang)),
                         html.Ul([html.Li(t("ex_help_missing", lang)), html.Li(t("ex_help_suppressed", lang))])],
                        className="oa-help", id="ex-symbols-help")


def export_panel(visible: pd.DataFrame, atlas: Atlas, lang: str) -> html.Div:
    """Choices for a download; the links themselves come from `on_export_links` (rights-checked)."""
    def radio(id_: str, value: str, options: list[tuple[str, str]]) -> dcc.RadioItems:
        return dcc.RadioItems(id=id_, value=value, className="oa-radio",
                              options=[{"label": label, "value": v} for v, label in options])
    return html.Div([
        html.H4(t("export_data", lang)),
        html.Div([html.Label(t("format", lang), htmlFor="ex-exp-format"),
                  dcc.Dropdown(id="ex-exp-format", value="csv-de", clearable=False, searchable=False,
                               options=[{"label": v[lang == "en"], "value": k}
                                        for k, v in export.FORMAT_LABELS.items()])], className="oa-field"),
        indicator_picker("ex-exp-more", t("more_indicators", lang),
                         indicator_options(visible, atlas, lang, headers=False), [], multi=True),
        html.Div([html.Span(t("periods_scope", lang), className="oa-label"),
                  radio("ex-exp-periods", "current", [("current", t("scope_current", lang)),
                                                      ("all", t("scope_all", lang))])], className="oa-field"),
        html.Div([html.Span(t("level", lang), className="oa-label"),
                  radio("ex-exp-level", territory.base_level(atlas),
                        [(lv.id, lv.label(lang)) for lv in territory.levels(atlas)])], className="oa-field"),
        html.Div([html.Span(t("layout", lang), className="oa-label"),
                  radio("ex-exp-layout", "long", [("long", t("layout_long", lang)),
                                                  ("wide", t("layout_wide", lang))])], className="oa-field"),
        html.A(t("download", lang), id="ex-exp-link", href="", download="", className="oa-button"),
        html.P(t("qgis_hint", lang), className="oa-hint"),
        html.H4(t("pictures", lang)),
        html.Div([html.Span(t("map_picture", lang) + ":", className="oa-label-inline")] +
                 [html.A(fmt.upper(), id=f"ex-map-{fmt}", href="", download="", className="oa-chip")
                  for fmt in ("png", "svg", "pdf")], className="oa-links"),
        html.Div([html.Span(t("chart_picture", lang) + ":", className="oa-label-inline")] +
                 [html.A(fmt.upper(), id=f"ex-chart-{fmt}", href="", download="", className="oa-chip")
                  for fmt in ("png", "svg")], className="oa-links", id="ex-chart-links"),
        html.A(t("print_view", lang), id="ex-print", href="", target="_blank", className="oa-chip"),
        html.H4(t("share", lang)),
        html.Div([html.Label(t("share", lang), htmlFor="ex-share-url", className="oa-visually-hidden"),
                  dcc.Input(id="ex-share-url", readOnly=True, value="", className="oa-share-url"),
                  html.Button(t("copy_link", lang), id="ex-share-copy", className="oa-chip"),
                  html.Span(id="ex-share-status", className="oa-hint", role="status")], className="oa-links"),
    ], className="oa-section")


def export_links(atlas: Atlas, viewer: Principal, indicator_id: str | None, period: str | None, method: str,
                 k: int, area: str | None, choice: dict, lang: str) -> dict[str, str]:
    """Download URLs for the current view; empty when the indicator is not visible.

    Extra indicators the viewer may not see are dropped silently, so a
    hand-made request learns nothing about them.
    """
    empty = {"data": "", "map": "", "chart": "", "print": ""}
    if not indicator_id or not period or queries.get_indicator(atlas, viewer, indicator_id) is None:
        return empty
    visible = set(queries.visible_indicators(atlas, viewer)["id"])
    more = [i for i in (choice.get("more") or []) if isinstance(i, str) and i in visible and i != indicator_id]
    fmt = choice.get("format") if choice.get("format") in export.FORMATS else "csv-de"
    level = map_level(atlas, choice.get("level"))
    layout = choice.get("layout") if choice.get("layout") in export.LAYOUTS else "long"
    data = [("indicator", i) for i in [indicator_id] + more]
    if choice.get("periods") != "all":
        data.append(("period", period))
    data += [("level", level), ("layout", layout), ("format", fmt), ("method", method), ("k", k)]
    view = {"indicator": indicator_id, "period": period, "method": method, "k": k, "lang": lang}
    urls = {"data": "/api/v1/export?" + urlencode(data), "map": "/api/v1/map?" + urlencode(view),
            "print": "/print?" + urlencode({**view, **({"area": area} if area else {})}), "chart": ""}
    if area:
        urls["chart"] = chart_url(indicator_id, area, lang)
    return urls


def point_overlays(lang: str) -> list:
    return [dl.Overlay(dl.GeoJSON(url=f"/api/v1/points?layer={layer}", pointToLayer=_fn("point"),
                                  id=f"ex-points-{layer}"),
                       name=t(f"layer_{layer}", lang), checked=False)
            for layer in POINT_LAYERS]


def layout(**args) -> html.Div:
    atlas = current_atlas()
    viewer = current_principal()
    state = resolve_state(atlas, viewer, args)
    lang = state.lang
    visible = queries.visible_indicators(atlas, viewer)
    center = _center(queries.areas(atlas, territory.top_level(atlas), queries.current_set(atlas)))
    base_layers = []
    if atlas.settings.basemap_url:
        base_layers.append(dl.TileLayer(url=atlas.settings.basemap_url,
                                        attribution=atlas.settings.basemap_attribution))
    set_id = queries.set_for_period(atlas, state.period) if state.period else queries.current_set(atlas)
    # The big path (issue 19): from ATLAS_CANVAS_FROM_AREAS areas on the base level, one canvas instead of an
    # SVG path per area, and geometry per zoom band, the first band fitting the whole territory.
    big = choropleth.area_count(atlas, set_id) >= atlas.settings.canvas_from_areas or \
        map_tiles(atlas, set_id, state.level) is not None
    band = choropleth.territory_band(atlas, set_id, state.level) if big else choropleth.FINEST
    # Geometry goes in `data`, not `url`: dash-leaflet 1.1.3 styles url-loaded
    # features with the props from mount time, losing a hideout that arrived first.
    map_children = base_layers + [
        dl.GeoJSON(id="ex-geojson", data=map_data(atlas, set_id, state.level, band), style=_fn("style"),
                   hoverStyle=_fn("hover"), onEachFeature=_fn("tooltip"), hideout={}, zoomToBounds=True),
        dl.LayersControl(point_overlays(lang), position="topright", collapsed=True),
        dl.ScaleControl(position="bottomright", imperial=False),
    ]
    controls = html.Div([
        indicator_picker("ex-indicator", t("indicator", lang), indicator_options(visible, atlas, lang),
                         state.indicator, touch=True, clearable=False, searchable=True,
                         placeholder=t("indicator_search", lang),
                         maxHeight=INDICATOR_LIST_HEIGHT, labels=dropdown_labels(lang)),
        html.Div([html.Span([t("period", lang), html.Span(period_label(state.period) if state.period else "",
                                                          id="ex-period-label", className="oa-period-label")],
                            className="oa-label"),
                  dcc.Slider(id="ex-period", min=0, max=max(len(state.periods) - 1, 0), step=1,
                             value=state.period_index, marks=slider_marks(state.periods), included=False,
                             updatemode="mouseup", allow_direct_input=False)], className="oa-field"),
        html.Div([html.Span(t("level", lang), className="oa-label"),
                  dcc.RadioItems(id="ex-level", value=state.level, className="oa-radio",
                                 options=level_options(atlas, viewer, lang))], className="oa-field"),
        html.Div([html.Span(t("method", lang), className="oa-label"),
                  dcc.RadioItems(id="ex-method", value=state.method, className="oa-radio",
                                 options=[{"label": v[1] if lang == "en" else v[0], "value": k}
                                          for k, v in METHODS.items()])], className="oa-field"),
        html.Div([html.Span(t("classes", lang), className="oa-label"),
                  dcc.RadioItems(id="ex-k", value=state.k, inline=True, className="oa-radio",
                                 options=[{"label": str(k), "value": k}
                                          for k in range(K_RANGE[0], K_RANGE[1] + 1)])], className="oa-field"),
        classing_help(lang),
    ], className="oa-section")
    return html.Div([
        dcc.Store(id="ex-lang", data=lang),
        dcc.Store(id="ex-selected", data=state.area),
        dcc.Store(id="ex-set", data=f"{set_id}|{state.level}"),
        dcc.Store(id="ex-grids", data=[g.id for g in crosswalk.readable_grids(atlas, viewer)]),
        dcc.Store(id="ex-band", data=band), dcc.Store(id="ex-banded", data=big), dcc.Store(id="ex-tiles"),
        dcc.Store(id="ex-query"),
        dcc.Store(id="ex-url-sink"),
        dcc.Store(id="ex-ts-on", data=False),
        html.Div([
            # No `bounds` prop: dash-leaflet 1.1.3 throws on it; zoomToBounds fits the city instead.
            html.Div(dl.Map(map_children, id="ex-map", center=center, className="oa-map",
                            zoom=choropleth.territory_zoom(atlas, set_id, state.level) if big else 11,
                            attributionControl=True, zoomSnap=0.25, preferCanvas=big), className="oa-map-inner",
                     **{"data-canvas": "1" if big else "0"}, **tiles_attribute(atlas, set_id, state.level)),
            html.Div([html.Div(id="ex-map-title"), html.Div(id="ex-mark", className="oa-mark-chip", hidden=True)],
                     className="oa-map-title"),
            legend_box(lang),
            html.Div(t("ex_offline", lang), id="ex-offline", className="oa-notice oa-offline", role="status",
                     hidden=True),  # assets/map.js shows it while the connection is down
            # Phones and portrait tablets: the time series sits below the map, out of sight; say so.
            html.A([t("ex_ts_below", lang), html.Span(" ↓", **{"aria-hidden": "true"})], href="#ex-ts-panel",
                   className="oa-ts-cue"),
        ], className="oa-map-wrap"),
        html.Aside([
            html.Div(state.notice, id="ex-notice", className="oa-notice", role="status"),
            html.Section([html.Div(id="ex-area", **{"aria-live": "polite"}),
                          html.Button(t("ex_area_close", lang), id="ex-area-clear", type="button",
                                      className="oa-chip", hidden=not state.area)],
                         className="oa-area", **{"aria-label": t("ex_area_value", lang)}),
            html.Details([html.Summary(t("controls", lang)), controls], open=True, id="ex-controls"),
            html.Details([html.Summary(t("timeseries", lang)), timeseries_section(lang),
                          html.A(t("profile", lang), id="ex-profile-link", href="", hidden=True,
                                 className="oa-chip oa-profile-link")], open=True, id="ex-ts-panel"),
            html.Details([html.Summary(t("info", lang)), html.Div(id="ex-info", className="oa-section")],
                         open=False),
            table_panel(lang),
            html.Details([html.Summary(t("export", lang)), export_panel(visible, atlas, lang)],
                         open=False, id="ex-export"),
        ], className="oa-panel"),
    ], className="oa-explorer")


# ------------------------------------------------------------------ first paint
PREVIEW_MAX_POINTS = 60_000  # more vertices than this: no picture in the index page (it would outweigh the app)
PREVIEW_SIZE = 1000  # the picture's longer side in SVG units


def preview_svg(geometry: dict, hideout: dict) -> str | None:
    """The coloured map as a small SVG picture, from the geometry and classes the live map gets; None if too big.

    Lon/lat are drawn with the longitude shrunk by cos(latitude), which is
    what the eye expects at a city's scale; vertices closer than one unit of
    the picture are dropped.
    """
    import math
    rings = [(f["properties"]["i"], ring) for f in geometry.get("features", []) for ring in _rings(f["geometry"])]
    points = [pt for _, ring in rings for pt in ring]
    if not points or len(points) > PREVIEW_MAX_POINTS:
        return None
    xs, ys = [pt[0] for pt in points], [pt[1] for pt in points]
    # The bounds once: taken per vertex they made the picture quadratic (47 s at 3,000 areas, issue 19).
    x_min, x_max, y_min, y_max = min(xs), max(xs), min(ys), max(ys)
    kx = math.cos(math.radians((y_min + y_max) / 2))
    scale = PREVIEW_SIZE / max((x_max - x_min) * kx, y_max - y_min, 1e-9)
    width, height = (x_max - x_min) * kx * scale, (y_max - y_min) * scale
    paths: dict[int, list[str]] = {}
    for i, ring in rings:
        kept, last = [], None
        for x, y in ring:
            pt = ((x - x_min) * kx * scale, (y_max - y) * scale)
            if last is None or abs(pt[0] - last[0]) + abs(pt[1] - last[1]) >= 1:
                kept.append(f"{pt[0]:.0f} {pt[1]:.0f}")
                last = pt
        if len(kept) > 2:
            paths.setdefault(i, []).append("M" + "L".join(kept) + "Z")
    cls, colours = hideout.get("cls") or [], hideout.get("col") or []
    body = "".join(f'<path fill="{_preview_fill(cls[i] if i < len(cls) else -1, colours)}" d="{"".join(d)}"/>'
                   for i, d in paths.items())
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="-2 -2 {width + 4:.0f} {height + 4:.0f}">'
            f'<g stroke="#4d4d4d" stroke-width="1" stroke-linejoin="round">{body}</g></svg>')


def _rings(geom: dict) -> list:
    if geom.get("type") == "Polygon":
        return geom["coordinates"]
    if geom.get("type") == "MultiPolygon":
        return [ring for polygon in geom["coordinates"] for ring in polygon]
    return []


def _preview_fill(cls: int, colours: list[str]) -> str:
    if isinstance(cls, int) and 0 <= cls < len(colours):
        return colours[cls]
    return "#8c8c8c" if cls == -2 else "#ffffff"


def first_paint(atlas: Atlas, viewer: Principal, args: dict) -> str:
    """HTML for the index page before the app has started: the view's title and its map as a picture.

    On a throttled tablet Dash needs seconds to parse its scripts and fetch
    the layout; until then the page showed "Loading...". The picture is of
    the very view the app will show (rights checked, as in `layout`), and the
    app replaces it when it mounts. '' when there is nothing to show.
    """
    import base64
    from html import escape
    state = resolve_state(atlas, viewer, args)
    if not state.indicator or not state.period:
        return ""
    view = choropleth.map_view(atlas, viewer, state.indicator, state.period, state.method, state.k, None,
                               state.lang, state.level)
    if view is None or map_tiles(atlas, view.set_id, state.level) is not None:
        return ""  # a level drawn from tiles: its whole geometry is what the tiles spare the first request
    svg = atlas.remembered(("first_paint", viewer.rights, state.indicator, state.period, state.level, state.method,
                            state.k), lambda: preview_svg(choropleth.geometry(atlas, view.set_id, state.level),
                                                         view.hideout))
    if not svg:
        return ""
    ind = atlas.indicator_by_id[state.indicator]
    title = f"{ind.title(state.lang)}, {period_label(state.period)}"
    mark = view_mark(atlas, viewer, ind, view, state.period, state.method, state.k, state.level, state.lang)
    chip = f' <span class="oa-mark-chip">{escape(mark)}</span>' if mark else ""
    data = base64.b64encode(svg.encode()).decode()
    return (f'<div class="oa-first-paint"><p class="oa-first-title">{escape(title)}{chip}</p>'
            f'<img class="oa-first-map" alt="{escape(title)}" src="data:image/svg+xml;base64,{data}"></div>')


def serve_first_paint(app) -> None:
    """Put `first_paint` into the index page of the map page ("/") in place of Dash's "Loading..."."""
    from flask import request
    plain_index = app.interpolate_index
    loading = '<div class="_dash-loading">'

    def interpolate_index(**parts: str) -> str:
        entry = parts.get("app_entry", "")
        if request.path == "/" and loading in entry:
            try:
                html_ = first_paint(current_atlas(), current_principal(), request.args.to_dict())
            except Exception:  # the picture is a courtesy: the page must never fail for it
                html_ = ""
            if html_:
                start = entry.index(loading)
                end = entry.index("</div>", start) + len("</div>")
                parts["app_entry"] = entry[:start] + html_ + entry[end:]
        return plain_index(**parts)

    app.interpolate_index = interpolate_index


def _center(city: pd.DataFrame) -> list[float]:
    import shapely
    c = shapely.from_wkb(city["geometry"].iloc[0]).centroid
    return [c.y, c.x]


# ------------------------------------------------------------------ callbacks
def _period_at(atlas: Atlas, viewer: Principal, indicator_id: str | None, index) -> tuple[list[str], str | None]:
    """The viewer's periods for the indicator and the one at `index` (server-checked)."""
    if not indicator_id:
        return [], None
    periods = queries.periods(atlas, viewer, indicator_id)
    if not periods:
        return [], None
    try:
        i = min(max(int(index), 0), len(periods) - 1)
    except (TypeError, ValueError):
        i = len(periods) - 1
    return periods, periods[i]


def period_index_after_switch(periods: list[str], previous: str | None) -> int:
    """Keep the same period across indicators where it exists, else the same year's last, else the newest."""
    if previous in periods:
        return periods.index(previous)
    same_year = [i for i, p in enumerate(periods) if previous and p[:4] == previous[:4]]
    return same_year[-1] if same_year else len(periods) - 1


def band_switch_js() -> str:
    """The browser maps the zoom to a band itself: panning and zooming within a band ask the server nothing."""
    mins = [b.min_zoom for b in choropleth.BANDS]
    return f"""function (zoom, banded, band) {{
        const nu = window.dash_clientside.no_update;
        if (!banded || zoom === null || zoom === undefined) {{ return nu; }}
        const mins = {mins};
        let b = 0;
        mins.forEach(function (m, i) {{ if (zoom >= m) {{ b = i; }} }});
        return b === band ? nu : b;
    }}"""


def map_tiles(atlas: Atlas, set_id: str, level: str | None) -> dict | None:
    """What the map gets for a level drawn from vector tiles (issue 19); None: the level is drawn from GeoJSON.

    From ATLAS_TILES_FROM_AREAS areas, when the set's tiles are stored (a
    store without them keeps the canvas path): an empty FeatureCollection for
    the GeoJSON layer, plus the tiles' address, zooms and bounds for
    assets/tiles.js, which colours the tiles from the same hideout.
    """
    level = level or territory.base_level(atlas)
    if choropleth.area_count(atlas, set_id, level) < atlas.settings.tiles_from_areas:
        return None
    url = tiles_url(atlas, set_id, level)
    if url is None:
        return None
    info = tiles.tiles_info(tiles.stored_tiles(atlas.store, set_id, level))
    return {"type": "FeatureCollection", "features": [], "tiles": url, "minzoom": int(info["minzoom"]),
            "maxzoom": int(info["maxzoom"]), "bounds": [float(v) for v in info["bounds"].split(",")]}


def map_data(atlas: Atlas, set_id: str, level: str | None, band: int | None) -> dict:
    """The GeoJSON layer's data: the level's geometry at a zoom band, or the tiles' description (`map_tiles`)."""
    return map_tiles(atlas, set_id, level) or choropleth.geometry(atlas, set_id, level, band)


def tiles_attribute(atlas: Atlas, set_id: str, level: str) -> dict:
    """`data-tiles` for the map's box when the level is drawn from tiles: assets/tiles.js starts the tiles as soon
    as the map exists, instead of after the first hideout's round trip (~0.5 s of the first map at 11,000)."""
    found = map_tiles(atlas, set_id, level)
    return {} if found is None else {"data-tiles": json.dumps({k: v for k, v in found.items() if k != "features"})}


def map_hideout(atlas: Atlas, view: choropleth.MapView, level: str, query: dict, lang: str) -> dict:
    """The hideout the map gets: a tiled level's carries class codes and where its labels are asked (`lq`,
    the query of /api/v1/map-label) instead of a class and a label per area (117 KB a switch at 11,000)."""
    if map_tiles(atlas, view.set_id, level) is None:
        return view.hideout
    asked = {name: query[name] for name in ("indicator", "period", "level", "method", "k")}
    return {**choropleth.compact_hideout(view.hideout), "lq": urlencode({**asked, "lang": lang})}


def register_tile_callbacks(app) -> None:
    """The tiles follow the GeoJSON layer's hideout and data in the browser (assets/tiles.js); nothing to the server."""
    app.clientside_callback("function (h, d) { return window.ortsatlas.tiles.sync(h, d); }",
                            Output("ex-tiles", "data"), Input("ex-geojson", "hideout"), Input("ex-geojson", "data"))


def band_geometry(atlas: Atlas, current_set: str | None, band) -> dict | None:
    """The shown boundary set and level (`ex-set`, "set|level") at another zoom band; None if unknown."""
    if not current_set or "|" not in current_set or not isinstance(band, int):
        return None
    set_id, level = current_set.rsplit("|", 1)
    # Only stored sets and levels: geometry is remembered per key, so a made-up key must not grow the cache.
    if level not in {lv.id for lv in territory.levels(atlas)} or \
            set_id not in set(queries.boundary_sets(atlas)["set_id"]):
        return None
    if map_tiles(atlas, set_id, level) is not None:
        return None  # tiles: every zoom has its own, nothing to send
    return choropleth.geometry(atlas, set_id, level, band)


def register_band_callbacks(app) -> None:
    """Geometry travels again only when the zoom crosses into another band (big territories only)."""
    app.clientside_callback(band_switch_js(), Output("ex-band", "data"), Input("ex-map", "zoom"),
                            State("ex-banded", "data"), State("ex-band", "data"), prevent_initial_call=True)

    @app.callback(Output("ex-geojson", "data", allow_duplicate=True), Output("ex-geojson", "zoomToBounds"),
                  Input("ex-band", "data"), State("ex-set", "data"), prevent_initial_call=True)
    def on_band(band, current_set):
        """New detail for the same areas: the view stays where the user zoomed it (no fit to bounds)."""
        data = band_geometry(current_atlas(), current_set, band)
        return (no_update, no_update) if data is None else (data, False)


NO_VIEW = {"period": None, "qs": None}  # `ex-query` when nothing can be shown (unknown, hidden: alike)


def register_callbacks(app) -> None:
    serve_first_paint(app)
    @app.callback(
        Output("ex-geojson", "hideout"), Output("ex-geojson", "data"), Output("ex-set", "data"),
        Output("ex-query", "data"),
        Output("ex-period", "max"), Output("ex-period", "marks"), Output("ex-period", "value"),
        Input("ex-indicator", "value"), Input("ex-period", "value"), Input("ex-method", "value"),
        Input("ex-k", "value"), Input("ex-selected", "data"), Input("ex-level", "value"),
        State("ex-set", "data"), State("ex-lang", "data"), State("ex-query", "data"), State("ex-period", "marks"),
        State("ex-band", "data"),
    )
    def on_view(indicator_id, period_index, method, k, selected, level, current_set, lang, last, marks, band=None):
        """The map's colours: only values and classes travel; geometry only when the boundary set or level changes.

        A switch of indicator also sets the period slider here, in the same
        answer: as a callback of its own it cost a second round trip and the
        renderer's work in between before the map could recolour. The words
        (legend, title, card, marking) follow in a chained answer
        (`on_view_text`, from the view this one puts into `ex-query`): every
        part of an answer is another update the renderer walks the page for,
        and on a throttled tablet the map recoloured ~30 % sooner without them.
        """
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        method, k = classing(method, k)
        level = map_level(atlas, level)
        slider = (no_update, no_update, no_update)
        changed = ctx.triggered_prop_ids
        if "ex-indicator.value" in changed and "ex-period.value" not in changed:
            periods = queries.periods(atlas, viewer, indicator_id) if indicator_id else []
            index = period_index_after_switch(periods, (last or {}).get("period")) if periods else 0
            new_marks = slider_marks(periods)
            # Unchanged props stay out of the answer: a slider re-rendered with new marks costs a slow tablet
            # more than the whole map recolouring.
            same = {str(i): label for i, label in new_marks.items()} == {str(i): v for i, v in (marks or {}).items()}
            slider = ((no_update, no_update) if same else (max(len(periods) - 1, 0), new_marks)) + \
                (no_update if index == period_index else index,)
            period_index = index
        _, period = _period_at(atlas, viewer, indicator_id, period_index)
        view = (choropleth.map_view(atlas, viewer, indicator_id, period, method, k, selected, lang, level)
                if period else None)
        if view is None:  # unknown or not visible: the same empty answer either way
            return ({}, no_update, no_update, dict(NO_VIEW), *slider)
        area = selected if selected in view.area_ids else None
        shown = level if level != territory.base_level(atlas) else ""
        query = {"period": period, "qs": query_string(indicator_id, period, method, k, area, lang, shown),
                 "indicator": indicator_id, "method": method, "k": k, "level": level, "area": area}
        key = f"{view.set_id}|{level}"
        data = no_update if current_set == key else map_data(atlas, view.set_id, level, band)
        return (map_hideout(atlas, view, level, query, lang), data, key, query, *slider)

    @app.callback(
        Output("ex-legend", "children"), Output("ex-map-title", "children"), Output("ex-period-label", "children"),
        Output("ex-area", "children"), Output("ex-mark", "children"), Output("ex-mark", "hidden"),
        Input("ex-query", "data"), State("ex-lang", "data"),
    )
    def on_view_text(query, lang):
        """The words of the view the map now shows (its `ex-query`): legend, title, period, card, marking.

        Computed from the same remembered map view as the colours, for the
        view the map answer named, so words and colours never disagree.
        """
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        view_of = query if isinstance(query, dict) else {}
        indicator_id, period = view_of.get("indicator"), view_of.get("period")
        method, k = classing(view_of.get("method"), view_of.get("k"))
        level = map_level(atlas, view_of.get("level"))
        area = view_of.get("area") if isinstance(view_of.get("area"), str) else None
        view = (choropleth.map_view(atlas, viewer, indicator_id, period, method, k, area, lang, level)
                if isinstance(indicator_id, str) and isinstance(period, str) else None)
        if view is None:
            return [html.P(t("no_indicators", lang))], "", "", [], "", True
        ind = atlas.indicator_by_id[indicator_id]
        title = pictures.map_title(atlas, viewer, ind, period, lang)  # says "Prognose (…)" for a projected period
        mark = view_mark(atlas, viewer, ind, view, period, method, k, level, lang)
        return (legend(view.legend, ind.unit_in(lang), lang), title, period_label(period),
                area_card(atlas, view, area, level, title, lang, mark,
                          area_notes(atlas, viewer, indicator_id, area, period, lang)), mark, not mark)

    register_band_callbacks(app)
    register_tile_callbacks(app)

    @app.callback(Output("ex-selected", "data"), Input("ex-geojson", "clickData"),
                  Input("ex-area-clear", "n_clicks"), prevent_initial_call=True)
    def on_click(feature, _clear):
        """A tap (click) selects an area; the card's button clears the selection."""
        if ctx.triggered_id == "ex-area-clear":
            return None if _clear else no_update
        area_id = ((feature or {}).get("properties") or {}).get("id")
        return area_id if isinstance(area_id, str) else no_update

    @app.callback(
        Output("ex-timeseries", "figure"),
        Input("ex-indicator", "value"), Input("ex-selected", "data"), Input("ex-period", "value"),
        State("ex-lang", "data"),
    )
    def on_timeseries(indicator_id, area_id, period_index, lang):
        return _timeseries(indicator_id, area_id, period_index, lang)

    app.clientside_callback(  # flips only when an area gets selected or cleared, not on every click
        "function(a, on) { return !!a === on ? window.dash_clientside.no_update : !!a; }",
        Output("ex-ts-on", "data"), Input("ex-selected", "data"), State("ex-ts-on", "data"),
    )

    @app.callback(
        Output("ex-ts-holder", "children"), Input("ex-ts-on", "data"),
        State("ex-indicator", "value"), State("ex-selected", "data"), State("ex-period", "value"),
        State("ex-lang", "data"), prevent_initial_call=True,
    )
    def on_timeseries_shown(on, indicator_id, area_id, period_index, lang):
        """The graph enters the page with the first selected area (and plotly.js with it), and leaves with it."""
        if not on:
            return html.P(t("click_area", norm_lang(lang)), className="oa-hint")
        return timeseries_graph(_timeseries(indicator_id, area_id, period_index, lang))

    def _timeseries(indicator_id, area_id, period_index, lang) -> dict:
        atlas, viewer = current_atlas(), current_principal()
        lang = norm_lang(lang)
        _, period = _period_at(atlas, viewer, indicator_id, period_index)
        # The same spec the chart picture draws (atlas.charts), so the download matches the screen.
        spec = pictures.chart_spec(atlas, viewer, indicator_id, area_id, lang) if indicator_id and area_id else None
        return timeseries_figure(spec, period, lang)

    @app.callback(
        Output("ex-table-summary", "children"), Output("ex-table-body", "children"),
        Input("ex-table-toggle", "n_clicks"), Input("ex-query", "data"), Input("ex-table-sort", "value"),
        Input("ex-table-filter", "value"), State("ex-indicator", "value"), State("ex-level", "value"),
        State("ex-lang", "data"),
    )
    def on_table(opened, query, sort, text, indicator_id, level, lang):
        """The table twin of the map as it is shown (same indicator, period and level), once opened."""
        if not opened or not isinstance(query, dict) or not query.get("period") or not indicator_id:
            return no_update, no_update
        atlas, lang = current_atlas(), norm_lang(lang)
        found = table_view.map_table(atlas, current_principal(), indicator_id, query.get("period"),
                                     map_level(atlas, level), sort if isinstance(sort, str) else "key",
                                     text if isinstance(text, str) else "", lang)
        return table_children(found, lang)

    @app.callback(Output("ex-info", "children"), Input("ex-indicator", "value"), State("ex-lang", "data"))
    def on_info(indicator_id, lang):
        return info_panel(current_atlas(), current_principal(), indicator_id, norm_lang(lang))

    @app.callback(
        Output("ex-exp-link", "href"), Output("ex-map-png", "href"), Output("ex-map-svg", "href"),
        Output("ex-map-pdf", "href"), Output("ex-chart-png", "href"), Output("ex-chart-svg", "href"),
        Output("ex-chart-links", "hidden"), Output("ex-print", "href"),
        Input("ex-indicator", "value"), Input("ex-period", "value"), Input("ex-method", "value"),
        Input("ex-k", "value"), Input("ex-selected", "data"), Input("ex-exp-format", "value"),
        Input("ex-exp-more", "value"), Input("ex-exp-periods", "value"), Input("ex-exp-level", "value"),
        Input("ex-exp-layout", "value"), State("ex-lang", "data"),
    )
    def on_export_links(indicator_id, period_index, method, k, area, fmt, more, periods, level, layout, lang):
        atlas, viewer = current_atlas(), current_principal()
        method, k = classing(method, k)
        _, period = _period_at(atlas, viewer, indicator_id, period_index)
        area = area if isinstance(area, str) else None
        choice = {"format": fmt, "more": more if isinstance(more, list) else [], "periods": periods,
                  "level": level, "layout": layout}
        urls = export_links(atlas, viewer, indicator_id, period, method, k, area, choice, norm_lang(lang))
        pictures = [f"{urls['map']}&format={f}" if urls["map"] else "" for f in ("png", "svg", "pdf")]
        charts = [f"{urls['chart']}&format={f}" if urls["chart"] else "" for f in ("png", "svg")]
        return (urls["data"], *pictures, *charts, not urls["chart"], urls["print"])

    app.clientside_callback(  # the card's button clears a selection; nothing to clear without one
        "function(a) { return !a; }",
        Output("ex-area-clear", "hidden"), Input("ex-selected", "data"),
    )
    app.clientside_callback(  # the legend folds away; folded at first on phones
        "function(n) { return window.ortsatlas.legend.toggle(n); }",
        Output("ex-legend-box", "className"), Output("ex-legend-toggle", "aria-expanded"),
        Input("ex-legend-toggle", "n_clicks"),
    )
    app.clientside_callback(
        "function(q) { return window.ortsatlas.url.share(q && q.qs); }",
        Output("ex-share-url", "value"), Input("ex-query", "data"),
    )
    app.clientside_callback(
        "function(n) { return window.ortsatlas.url.copy(n, 'ex-share-url'); }",
        Output("ex-share-status", "children"), Input("ex-share-copy", "n_clicks"), prevent_initial_call=True,
    )
    app.clientside_callback(  # the selected area's profile (/profil/<area>): a link, checked when it is opened;
        # a grid's areas have no profile (profiles belong to the levels)
        "function(a, lv, l, grids) { return a && (grids || []).indexOf(lv) < 0 ?"
        " ['/profil/' + encodeURIComponent(a) + (l === 'en' ? '?lang=en' : ''), false] : ['', true]; }",
        Output("ex-profile-link", "href"), Output("ex-profile-link", "hidden"),
        Input("ex-selected", "data"), Input("ex-level", "value"), State("ex-lang", "data"), State("ex-grids", "data"),
    )
    app.clientside_callback(
        "function(q) { return window.ortsatlas.url.write(q && q.qs); }",
        Output("ex-url-sink", "data"), Input("ex-query", "data"),
    )
