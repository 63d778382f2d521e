"""Planning (/planung): the budget allocation preview, "Reichen die Plätze?" and the cluster typology.

Three sections over the services that already answer the API
(`atlas.services.allocation`, `coverage`, `clusters`): each callback asks the
service with the viewer from `current_principal()` and formats its answer, so
the page shows exactly what `POST /api/v1/allocation/preview`, `GET
/api/v1/coverage` and `POST /api/v1/clusters/preview` return to the same
viewer. Supply and demand is for everyone, as its route is; the allocation and
the clusters are for the statistics office (`may_build_index`, the predicate
their routes use), asked again in every callback. A hidden indicator is
answered exactly like one that does not exist, and a suppressed input shows
as "geheim gehalten", never as a number. Every result has its method in words
beside it.
"""
from __future__ import annotations

import dash_leaflet as dl
import pandas as pd
from dash import Input, Output, State, dcc, html

from atlas.charts import projection_label
from atlas.classify import (
    MISSING_CLASS,
    MISSING_COLOR,
    SUPPRESSED_CLASS,
    SUPPRESSED_COLOR,
    classify,
    legend_entries,
)
from atlas.export.allocation_file import allocation_xlsx
from atlas.formatting import format_number, gap_word
from atlas.i18n import STRINGS, norm_lang, t
from atlas.messages import say
from atlas.services import allocation, choropleth, queries, territory
from atlas.services import clusters as cluster_service
from atlas.services import coverage as coverage_service
from atlas.web.components import (
    data_table,
    indicator_options,
    indicator_picker,
    legend,
    localise_dropdowns,
    scrolling,
)
from atlas.web.http import current_atlas
from atlas.web.pages.indices import _center, _fn
from auth import current_principal
from auth.permissions import may_build_index, sees_internal_figures

# Ten distinguishable colours for clusters (ColorBrewer "Paired", dark members first): categories, not an order.
CLUSTER_COLORS = ("#1f78b4", "#33a02c", "#e31a1c", "#ff7f00", "#6a3d9a", "#b15928", "#a6cee3", "#b2df8a",
                  "#fb9a99", "#cab2d6")
INTERNAL_MARK = "intern – nicht zur Veröffentlichung"  # the API's marking of a sheet staff download


# ------------------------------------------------------------------ layout
def layout(lang: str | None = None, indicator: str | None = None, **_args) -> html.Div:
    """The page; `?indicator=ID` (a saved index, say) preselects the allocation's basis if the viewer sees it."""
    lang = norm_lang(lang)
    atlas, viewer = current_atlas(), current_principal()
    options = indicator_options(queries.visible_indicators(atlas, viewer), atlas, lang)
    levels = [{"label": lv.label(lang, True), "value": lv.id} for lv in territory.levels(atlas)]
    base = territory.base_level(atlas)
    sections = [_coverage_section(atlas, options, levels, base, lang)]
    if may_build_index(viewer):
        picked = indicator if isinstance(indicator, str) and queries.get_indicator(atlas, viewer, indicator) else None
        sections = [_allocation_section(atlas, options, levels, base, picked, lang), *sections,
                    _cluster_section(atlas, options, levels, base, lang)]
    else:
        sections.append(html.P(t("pl_builders_only", lang), className="oa-notice", id="pl-builders-only"))
    return localise_dropdowns(html.Div([dcc.Store(id="pl-lang", data=lang), html.H1(t("pl_title", lang)),
                                        html.P(t("pl_intro", lang), className="oa-hint"), *sections],
                                       className="oa-page", id="pl-page"), lang)


def _field(label: str, control_id: str, control) -> html.Div:
    """A labelled control (every input has its label: WCAG 1.3.1, 4.1.2)."""
    return html.Div([html.Label(label, htmlFor=control_id), control], className="oa-field")


def _level_field(prefix: str, levels: list[dict], base: str, lang: str) -> html.Div:
    return _field(t("pl_level", lang), f"{prefix}-level",
                  dcc.Dropdown(id=f"{prefix}-level", options=levels, value=base, clearable=False))


def _period_field(prefix: str, lang: str) -> html.Div:
    return _field(t("pl_period", lang), f"{prefix}-period",
                  dcc.Dropdown(id=f"{prefix}-period", options=[], clearable=False))


def _map_block(prefix: str, atlas) -> html.Div:
    """A choropleth filled by a callback (geometry and styling arrive together, see README "Map")."""
    return html.Div([
        html.Div(dl.Map([dl.GeoJSON(id=f"{prefix}-geojson", data=None, style=_fn("style"), hoverStyle=_fn("hover"),
                                    onEachFeature=_fn("tooltip"), hideout={}, zoomToBounds=True),
                         dl.ScaleControl(position="bottomright", imperial=False)],
                        id=f"{prefix}-map", center=_center(atlas, queries.current_set(atlas)), zoom=11,
                        className="oa-map", zoomSnap=0.25), className="oa-map-inner"),
        # Hidden until there is a result (an empty legend box over an empty map says nothing). The map itself
        # stays laid out: Leaflet measures its box when it mounts and cannot fit bounds in a hidden one.
        html.Div(id=f"{prefix}-legend", className="oa-legend", hidden=True),
    ], className="oa-map-wrap oa-cmp-map oa-index-map")


def _results(prefix: str, atlas) -> list:
    """Status line, method in words, map and table of one section."""
    return [html.Div(id=f"{prefix}-message", role="status", className="oa-hint"),
            html.P(id=f"{prefix}-method", className="oa-method"), _map_block(prefix, atlas),
            html.Div(id=f"{prefix}-table")]


def _allocation_section(atlas, options, levels, base, picked, lang: str) -> html.Section:
    number = {"type": "number", "min": 0, "step": 0.01}
    return html.Section([
        html.H2(t("pl_al_title", lang)),
        html.P(t("pl_al_intro", lang), className="oa-hint"),
        indicator_picker("pl-al-indicator", t("pl_al_indicator", lang), options, value=picked),
        _field(t("pl_al_basis", lang), "pl-al-basis", dcc.RadioItems(id="pl-al-basis", value="value", options=[
            {"label": t("pl_al_basis_value", lang), "value": "value"},
            {"label": t("pl_al_basis_numerator", lang), "value": "numerator"}])),
        indicator_picker("pl-al-population", t("pl_al_population", lang), options),
        html.Div([
            _field(t("pl_al_amount", lang), "pl-al-amount", dcc.Input(id="pl-al-amount", value=None, **number)),
            _field(t("pl_al_floor", lang), "pl-al-floor", dcc.Input(id="pl-al-floor", value=None, **number)),
            _field(t("pl_al_cap", lang), "pl-al-cap", dcc.Input(id="pl-al-cap", value=None, **number)),
            _level_field("pl-al", levels, base, lang), _period_field("pl-al", lang),
        ], className="oa-index-settings"),
        html.Button(t("pl_al_run", lang), id="pl-al-run", n_clicks=0, className="oa-button"),
        html.Button(t("pl_al_xlsx", lang), id="pl-al-xlsx", n_clicks=0, className="oa-chip"),
        dcc.Download(id="pl-al-download"),
        html.P(id="pl-al-sum", className="oa-sum"),
        *_results("pl-al", atlas),
    ], className="oa-section", id="pl-allocation")


def _coverage_section(atlas, options, levels, base, lang: str) -> html.Section:
    # The layer with the most places first (day care, in a city): the question KLAR asks most.
    layers = queries.points(atlas).groupby("layer")["capacity"].sum().sort_values(ascending=False).index.tolist()
    layer_options = [{"label": t(f"layer_{x}", lang) if f"layer_{x}" in STRINGS else x, "value": x} for x in layers]
    return html.Section([
        html.H2(t("pl_cv_title", lang)),
        html.P(t("pl_cv_intro", lang), className="oa-hint"),
        html.Div([
            _field(t("pl_cv_layer", lang), "pl-cv-layer",
                   dcc.Dropdown(id="pl-cv-layer", options=layer_options, value=layers[0] if layers else None,
                                clearable=False)),
            indicator_picker("pl-cv-demand", t("pl_cv_demand", lang), options),
            _period_field("pl-cv", lang), _level_field("pl-cv", levels, base, lang),
            _field(t("pl_cv_radius", lang), "pl-cv-radius",
                   dcc.Input(id="pl-cv-radius", type="number", min=0, max=coverage_service.MAX_RADIUS_M, step=50,
                             value=0)),
        ], className="oa-index-settings"),
        html.Button(t("pl_cv_run", lang), id="pl-cv-run", n_clicks=0, className="oa-button"),
        html.P(id="pl-cv-total", className="oa-sum"),
        *_results("pl-cv", atlas),
    ], className="oa-section", id="pl-coverage")


def _cluster_section(atlas, options, levels, base, lang: str) -> html.Section:
    return html.Section([
        html.H2(t("pl_cl_title", lang)),
        html.P(t("pl_cl_intro", lang), className="oa-hint"),
        indicator_picker("pl-cl-indicators", t("pl_cl_indicators", lang), options, value=[], multi=True),
        html.Div([
            _field(t("pl_cl_k", lang), "pl-cl-k", dcc.Input(id="pl-cl-k", type="number", min=2, max=10, step=1,
                                                            value=4)),
            _field(t("pl_cl_method", lang), "pl-cl-method", dcc.RadioItems(id="pl-cl-method", value="kmeans", options=[
                {"label": t("pl_cl_kmeans", lang), "value": "kmeans"},
                {"label": t("pl_cl_ward", lang), "value": "ward"}])),
            _period_field("pl-cl", lang), _level_field("pl-cl", levels, base, lang),
        ], className="oa-index-settings"),
        html.Button(t("pl_cl_run", lang), id="pl-cl-run", n_clicks=0, className="oa-button"),
        *_results("pl-cl", atlas),
    ], className="oa-section", id="pl-clusters")


# ------------------------------------------------------------------ formatting the services' answers
def euro(cents: int, lang: str) -> str:
    """Whole cents as euros, exactly (integer arithmetic: no float rounding on the way to the page)."""
    whole, rest = divmod(int(cents), 100)
    thousands, decimal = (",", ".") if lang == "en" else (".", ",")
    return f"{whole:,}".replace(",", thousands) + f"{decimal}{rest:02d} €"


def period_options(atlas, viewer, ids: list[str], lang: str) -> list[dict]:
    """The periods every one of `ids` has for the viewer, newest last; projected ones say so."""
    common = None
    projected: dict[str, str] = {}
    for ind_id in ids:
        periods = set(queries.periods(atlas, viewer, ind_id))
        common = periods if common is None else common & periods
        projected.update(queries.projected_periods(atlas, viewer, ind_id))
    return [{"label": f"{p} – {projection_label(projected[p], lang)}" if p in projected else p, "value": p}
            for p in sorted(common or [])]


def _newest_observed(options: list[dict]) -> str | None:
    """The default period: the newest one not projected (a projection is chosen on purpose)."""
    observed = [o["value"] for o in options if o["label"] == o["value"]]
    return (observed or [o["value"] for o in options] or [None])[-1]


def _chosen(value) -> list[str]:
    """Picked indicator ids, whatever shape the request sends (a list, one id, nothing)."""
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)]


def _styled_map(atlas, level: str, period: str, rows: pd.DataFrame, polarity: str, decimals: int,
                title: str, lang: str) -> tuple[dict, dict, list]:
    """Geometry, classes and legend for `rows` (area_id, value, status, label) on the level's areas."""
    set_id = queries.set_for_period(atlas, period) or queries.current_set(atlas)
    order = queries.areas(atlas, level, set_id)[["area_id"]]
    shown = order.merge(rows, on="area_id", how="left")
    shown["status"] = shown["status"].fillna("missing")
    values = [None if v != v else float(v) for v in shown["value"]]
    c = classify(values, shown["status"].tolist(), "quantiles", 5, polarity, False)
    labels = [lab if isinstance(lab, str) else gap_word(st, lang) for lab, st in zip(shown["label"], shown["status"])]
    hideout = {"cls": c.classes, "col": c.colors, "lab": labels, "sel": None, "mc": MISSING_COLOR,
               "sc": SUPPRESSED_COLOR}
    return choropleth.geometry(atlas, set_id, level), hideout, legend(legend_entries(c, decimals, lang), title, lang)


def _number(value) -> float | None:
    """A number from an input (None stays None; booleans are not amounts)."""
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def allocation_request(indicator, basis, population, amount, floor, cap, level, period) -> dict:
    """The JSON `POST /api/v1/allocation/preview` takes, from the page's controls."""
    raw = {"indicator": indicator, "basis": basis or "value", "amount": amount, "floor": floor or 0,
           "level": level, "period": period}
    if cap is not None:
        raw["cap"] = cap
    if population and (basis or "value") == "value":
        raw["population"] = population
    return raw


def allocation_view(atlas, result: allocation.Allocation, lang: str) -> tuple:
    """Map, legend, table, sum line and method of an allocation (amounts exact to the cent)."""
    req, rows = result.request, result.rows
    gap = {r["area_id"]: r["status"] for r in result.left_out}
    amounts = rows.assign(value=rows["amount_cents"] / 100, status="ok",
                          label=[euro(c, lang) for c in rows["amount_cents"]])
    data, hideout, legend_list = _styled_map(atlas, req.level, req.period, amounts[["area_id", "value", "status", "label"]],
                                             "high_bad", 2, t("pl_al_map_title", lang), lang)
    ordered = rows.sort_values(["amount_cents", "area_id"], ascending=[False, True])
    items = [{"area": f"{r.name} ({r.area_id})",
              "weight": format_number(r.weight, 2, lang) if r.weight == r.weight else gap_word(gap.get(r.area_id, ""),
                                                                                                lang),
              "amount": euro(r.amount_cents, lang), "how": t(f"pl_al_st_{r.status}", lang)}
             for r in ordered.itertuples(index=False)]
    cols = [("area", t("ix_area", lang)), ("weight", t("pl_al_weight", lang)), ("amount", t("pl_al_amount_col", lang)),
            ("how", t("pl_al_how", lang))]
    table = scrolling(data_table(items, cols, id="pl-al-rows"))
    total = t("pl_al_sum", lang).format(sum=euro(int(rows["amount_cents"].sum()), lang), n=len(rows))
    method = result.method_en if lang == "en" else result.method_de
    return data, hideout, legend_list, table, total, method


def coverage_view(atlas, found: coverage_service.Coverage, level: str, period: str, lang: str) -> tuple:
    """Map, legend, table, territory line and method of a coverage ratio; gaps in words, never as numbers."""
    rows = found.rows
    status = rows["status"].where(rows["status"].isin(["ok", "suppressed"]), "missing")
    labels = [format_number(v, 1, lang) if s == "ok" else None for v, s in zip(rows["coverage"], rows["status"])]
    shown = pd.DataFrame({"area_id": rows["area_id"], "value": rows["coverage"], "status": status, "label": labels})
    data, hideout, legend_list = _styled_map(atlas, level, period, shown, "high_good", 1, t("pl_cv_ratio", lang), lang)

    def gap_or(value, st: str, decimals: int) -> str:
        if st == "ok":
            return format_number(value, decimals, lang)
        return t("pl_cv_no_demand", lang) if st == "no_demand" else gap_word(st, lang)

    items = [{"area": f"{r.name} ({r.area_id})", "places": format_number(r.capacity, 0, lang),
              "demand": gap_or(r.demand, r.status, 0), "ratio": gap_or(r.coverage, r.status, 1)}
             for r in rows.itertuples(index=False)]
    cols = [("area", t("ix_area", lang)), ("places", t("pl_cv_places", lang)),
            ("demand", t("pl_cv_demand_col", lang)), ("ratio", t("pl_cv_ratio", lang))]
    table = scrolling(data_table(items, cols, id="pl-cv-rows"))
    tot = found.total
    known = tot["demand"] is not None
    total = t("pl_cv_total", lang).format(
        places=format_number(tot["capacity"], 0, lang),
        demand=format_number(tot["demand"], 0, lang) if known else gap_word("suppressed", lang),
        ratio=format_number(tot["coverage"], 1, lang) if known else gap_word("suppressed", lang))
    method = found.method_en if lang == "en" else found.method_de
    return data, hideout, legend_list, table, total, method


def cluster_words(atlas, profile: dict, lang: str) -> str:
    """A cluster in words: the service's German description, or the same rule (mean z beyond ±NOTABLE_SD)
    with the indicators' English titles."""
    if lang != "en":
        return profile["description_de"]
    high = [atlas.indicator_by_id[i].title_en for i, z in profile["z"].items() if z >= cluster_service.NOTABLE_SD]
    low = [atlas.indicator_by_id[i].title_en for i, z in profile["z"].items() if z <= -cluster_service.NOTABLE_SD]
    parts = ([t("pl_cl_above", lang) + ", ".join(high)] if high else []) + (
        [t("pl_cl_below", lang) + ", ".join(low)] if low else [])
    return "; ".join(parts) or t("pl_cl_average", lang)


def cluster_view(atlas, found: cluster_service.Clusters, req: dict, lang: str) -> tuple:
    """Map in one colour per cluster, a legend in words, the table of cluster means, the areas left out."""
    set_id = queries.set_for_period(atlas, req["period"]) or queries.current_set(atlas)
    order = queries.areas(atlas, req["level"], set_id)["area_id"].tolist()
    member = dict(zip(found.areas["area_id"], found.areas["cluster"]))
    hidden = {r["area_id"] for r in found.left_out if any(s.endswith("suppressed") for s in r["reasons"])}
    classes = [member[a] - 1 if a in member else SUPPRESSED_CLASS if a in hidden else MISSING_CLASS for a in order]
    labels = [f"{t('pl_cl_cluster', lang)} {member[a]}" if a in member else
              gap_word("suppressed" if a in hidden else "missing", lang) for a in order]
    hideout = {"cls": classes, "col": list(CLUSTER_COLORS), "lab": labels, "sel": None, "mc": MISSING_COLOR,
               "sc": SUPPRESSED_COLOR}
    items = [html.Li([html.Span(className="oa-swatch", style={"background": CLUSTER_COLORS[p["cluster"] - 1]}),
                      html.Strong(f"{t('pl_cl_cluster', lang)} {p['cluster']}"),
                      html.Span(str(p["size"]), className="oa-count")])  # described in words in the table
             for p in found.profiles]
    gaps = [(f"{gap_word('missing', lang)}", sum(c == MISSING_CLASS for c in classes), "oa-swatch-missing"),
            (f"{gap_word('suppressed', lang)}", sum(c == SUPPRESSED_CLASS for c in classes), "oa-swatch-suppressed")]
    items += [html.Li([html.Span(className=f"oa-swatch {cls}"), html.Span(word), html.Span(str(n), className="oa-count")])
              for word, n, cls in gaps]
    legend_list = [html.H4(t("pl_cl_cluster", lang)), html.Ul(items, id="pl-cl-groups")]
    inds = list(found.profiles[0]["means"]) if found.profiles else []
    decimals = {i: atlas.indicator_by_id[i].decimals for i in inds}
    rows = [{"cluster": p["cluster"], "size": p["size"], "words": cluster_words(atlas, p, lang),
             **{i: format_number(p["means"][i], decimals[i], lang) for i in inds}} for p in found.profiles]
    cols = [("cluster", t("pl_cl_cluster", lang)), ("size", t("pl_cl_size", lang)),
            *[(i, atlas.indicator_by_id[i].title(lang)) for i in inds], ("words", t("pl_cl_words", lang))]
    left = [f"{r['name']} ({r['area_id']})" for r in found.left_out]
    table = html.Div([html.H3(t("pl_cl_means", lang)), scrolling(data_table(rows, cols, id="pl-cl-rows")),
                      html.P(t("pl_cl_left_out", lang).format(n=len(left), areas=", ".join(left) or "–"),
                             className="oa-hint", id="pl-cl-left-out")])
    method = found.method_en if lang == "en" else found.method_de
    return choropleth.geometry(atlas, set_id, req["level"]), hideout, legend_list, table, method


# ------------------------------------------------------------------ callbacks
_EMPTY_MAP = (None, {}, [], [])
_AL_CONTROLS = [State("pl-al-indicator", "value"), State("pl-al-basis", "value"), State("pl-al-population", "value"),
                State("pl-al-amount", "value"), State("pl-al-floor", "value"), State("pl-al-cap", "value"),
                State("pl-al-level", "value"), State("pl-al-period", "value"), State("pl-lang", "data")]


def compute_allocation(atlas, viewer, controls: tuple) -> allocation.Allocation | str:
    """The allocation the controls describe, or the words that say why there is none.

    The same rights predicate and service as `POST /api/v1/allocation/preview`:
    anyone else gets the refusal, a hidden indicator the same words as a missing one.
    """
    *fields, lang = controls
    lang = norm_lang(lang)
    if not may_build_index(viewer):
        return t("ix_denied", lang)
    indicator, basis, population, amount, floor, cap, level, period = fields
    if not isinstance(indicator, str) or not indicator or _number(amount) is None:
        return t("pl_al_pick_first", lang)
    raw = allocation_request(indicator, basis, population if isinstance(population, str) else None, _number(amount),
                             _number(floor), _number(cap), level, period)
    try:
        result = allocation.allocate(atlas, viewer, allocation.parse(atlas, raw))
    except allocation.AllocationError as exc:
        return str(exc)
    return t("ix_not_available", lang) if result is None else result


def register_callbacks(app) -> None:
    @app.callback(Output("pl-al-period", "options"), Output("pl-al-period", "value"),
                  Input("pl-al-indicator", "value"), Input("pl-al-population", "value"),
                  Input("pl-al-basis", "value"), State("pl-lang", "data"))
    def allocation_periods(value, population, basis, lang):
        """The periods the indicator (and the population it is multiplied by) both have: a yearly index
        times a quarterly population would leave every area without a weight."""
        viewer = current_principal()
        if not may_build_index(viewer) or not _chosen(value):
            return [], None
        ids = _chosen(value)[:1] + (_chosen(population)[:1] if (basis or "value") == "value" else [])
        options = period_options(current_atlas(), viewer, ids, norm_lang(lang))
        return options, _newest_observed(options)

    @app.callback(Output("pl-cv-period", "options"), Output("pl-cv-period", "value"),
                  Input("pl-cv-demand", "value"), State("pl-lang", "data"))
    def coverage_periods(value, lang):
        options = period_options(current_atlas(), current_principal(), _chosen(value)[:1], norm_lang(lang))
        return options, _newest_observed(options)

    @app.callback(Output("pl-cl-period", "options"), Output("pl-cl-period", "value"),
                  Input("pl-cl-indicators", "value"), State("pl-lang", "data"))
    def cluster_periods(value, lang):
        viewer = current_principal()
        if not may_build_index(viewer):
            return [], None
        options = period_options(current_atlas(), viewer, _chosen(value), norm_lang(lang))
        return options, _newest_observed(options)

    @app.callback(Output("pl-al-geojson", "data"), Output("pl-al-geojson", "hideout"), Output("pl-al-legend", "children"),
                  Output("pl-al-table", "children"), Output("pl-al-sum", "children"), Output("pl-al-method", "children"),
                  Output("pl-al-message", "children"), Output("pl-al-legend", "hidden"),
                  Input("pl-al-run", "n_clicks"), *_AL_CONTROLS, prevent_initial_call=True)
    def allocate(_clicks, *controls):
        atlas = current_atlas()
        result = compute_allocation(atlas, current_principal(), controls)
        if isinstance(result, str):
            return *_EMPTY_MAP, "", "", result, True
        return *allocation_view(atlas, result, norm_lang(controls[-1])), "", False

    @app.callback(Output("pl-al-download", "data"), Output("pl-al-message", "children", allow_duplicate=True),
                  Input("pl-al-xlsx", "n_clicks"), *_AL_CONTROLS, prevent_initial_call=True)
    def download(_clicks, *controls):
        viewer = current_principal()
        result = compute_allocation(current_atlas(), viewer, controls)
        if isinstance(result, str):
            return None, result
        marking = INTERNAL_MARK if sees_internal_figures(viewer) else ""
        return dcc.send_bytes(allocation_xlsx(result, marking), f"verteilung_{result.request.indicator}.xlsx"), ""

    @app.callback(Output("pl-cv-geojson", "data"), Output("pl-cv-geojson", "hideout"), Output("pl-cv-legend", "children"),
                  Output("pl-cv-table", "children"), Output("pl-cv-total", "children"), Output("pl-cv-method", "children"),
                  Output("pl-cv-message", "children"), Output("pl-cv-legend", "hidden"),
                  Input("pl-cv-run", "n_clicks"), State("pl-cv-layer", "value"),
                  State("pl-cv-demand", "value"), State("pl-cv-period", "value"), State("pl-cv-level", "value"),
                  State("pl-cv-radius", "value"), State("pl-lang", "data"), prevent_initial_call=True)
    def supply(_clicks, layer, demand, period, level, radius, lang):
        lang, atlas = norm_lang(lang), current_atlas()
        if not all(isinstance(x, str) and x for x in (layer, demand, period)):
            return *_EMPTY_MAP, "", "", t("pl_cv_pick_first", lang), True
        try:
            found = coverage_service.coverage(atlas, current_principal(), layer, demand, period,
                                              level if isinstance(level, str) else None, float(_number(radius) or 0))
        except (coverage_service.CoverageError, ValueError) as exc:
            return *_EMPTY_MAP, "", "", str(exc), True
        if found is None:
            return *_EMPTY_MAP, "", "", t("ix_not_available", lang), True
        return *coverage_view(atlas, found, level or territory.base_level(atlas), period, lang), "", False

    @app.callback(Output("pl-cl-geojson", "data"), Output("pl-cl-geojson", "hideout"), Output("pl-cl-legend", "children"),
                  Output("pl-cl-table", "children"), Output("pl-cl-method", "children"),
                  Output("pl-cl-message", "children"), Output("pl-cl-legend", "hidden"), Input("pl-cl-run", "n_clicks"),
                  State("pl-cl-indicators", "value"), State("pl-cl-k", "value"), State("pl-cl-method", "value"),
                  State("pl-cl-period", "value"), State("pl-cl-level", "value"), State("pl-lang", "data"),
                  prevent_initial_call=True)
    def typology(_clicks, value, k, method, period, level, lang):
        viewer, lang, atlas = current_principal(), norm_lang(lang), current_atlas()
        if not may_build_index(viewer):
            return *_EMPTY_MAP, "", t("ix_denied", lang), True
        raw = {"indicators": _chosen(value), "k": _number(k) if _number(k) is not None else 4,
               "method": method or "kmeans", "period": period, "level": level}
        try:
            req = cluster_service.parse(atlas, raw)
            found = cluster_service.cluster(atlas, viewer, req)
        except cluster_service.ClusterError as exc:  # its catalogue message in the page's language
            return *_EMPTY_MAP, "", say(exc.args[0], lang), True
        except ValueError as exc:  # a malformed period
            return *_EMPTY_MAP, "", str(exc), True
        if found is None:
            return *_EMPTY_MAP, "", t("ix_not_available", lang), True
        return *cluster_view(atlas, found, req, lang), "", False
