"""The index builder (/indizes): pick indicators, direction, standardisation, weights, periods and the
missing rule; preview the index as a map and a table with its method in words; save it as an indicator.

For stewards and admins (`may_build_index`); every callback asks the rights
again and reads through `atlas.services.indices`, which reads through the
query services: the builder sees only what they may see, a hidden indicator
is answered exactly like one that does not exist.
"""
from __future__ import annotations

from urllib.parse import urlencode

import dash_leaflet as dl
from dash import ALL, Input, Output, State, dcc, html

from atlas.classify import (
    MISSING_CLASS,
    MISSING_COLOR,
    SUPPRESSED_CLASS,
    SUPPRESSED_COLOR,
    classify,
    legend_entries,
)
from atlas.formatting import format_number
from atlas.i18n import norm_lang, t
from atlas.messages import say
from atlas.services import choropleth, indices, queries, territory
from atlas.web.components import (
    data_table,
    indicator_options,
    indicator_picker,
    legend,
    localise_dropdowns,
    scrolling,
)
from atlas.web.http import current_atlas
from auth import current_principal
from auth.permissions import may_build_index

_METHODS = [("zscore", "ix_zscore"), ("minmax", "ix_minmax"), ("rank", "ix_rank")]
_MISSING = [("exclude", "ix_exclude"), ("reweight", "ix_reweight")]


def layout(lang: str | None = None, inputs: str | None = None, **_args) -> html.Div:
    """The builder; `?inputs=a,b` picks indicators (those the viewer may not see are dropped like unknown ones)."""
    lang = norm_lang(lang)
    viewer = current_principal()
    if not may_build_index(viewer):
        return html.Div([html.H1(t("ix_title", lang)), html.P(t("ix_denied", lang), className="oa-notice")],
                        className="oa-page", id="ix-denied")
    atlas = current_atlas()
    options = indicator_options(queries.visible_indicators(atlas, viewer), atlas, lang)
    picked = [i for i in str(inputs or "").split(",") if queries.get_indicator(atlas, viewer, i) is not None]
    levels = [{"label": lv.label(lang, True), "value": lv.id} for lv in territory.levels(atlas)]
    return localise_dropdowns(html.Div([
        dcc.Store(id="ix-lang", data=lang),
        html.H1(t("ix_title", lang)),
        html.P(t("ix_intro", lang), className="oa-hint"),
        indicator_picker("ix-inputs", t("ix_inputs", lang), options, value=picked, multi=True),
        html.Div(id="ix-rows", className="oa-index-rows"),
        html.Div([
            html.Div([html.Label(t("ix_method", lang), htmlFor="ix-method"), dcc.RadioItems(
                id="ix-method", value="zscore", options=[{"label": t(k, lang), "value": v} for v, k in _METHODS])],
                className="oa-field"),
            html.Div([html.Label(t("ix_missing", lang), htmlFor="ix-missing"), dcc.RadioItems(
                id="ix-missing", value="exclude", options=[{"label": t(k, lang), "value": v} for v, k in _MISSING])],
                className="oa-field"),
            html.Div([html.Label(t("ix_period", lang), htmlFor="ix-period"),
                      dcc.Dropdown(id="ix-period", options=[], clearable=False)], className="oa-field"),
            html.Div([html.Label(t("ix_reference", lang), htmlFor="ix-reference"),
                      dcc.Dropdown(id="ix-reference", options=[])], className="oa-field"),
            html.Div([html.Label(t("ix_level", lang), htmlFor="ix-level"),
                      dcc.Dropdown(id="ix-level", options=levels, value=territory.base_level(atlas),
                                   clearable=False)], className="oa-field"),
        ], className="oa-index-settings"),
        html.Button(t("ix_preview", lang), id="ix-preview", n_clicks=0, className="oa-button"),
        html.Div(id="ix-message", role="status", className="oa-hint"),
        html.P(id="ix-method-text", className="oa-method"),
        html.Div([
            html.Div(dl.Map([dl.GeoJSON(id="ix-geojson", data=None, style=_fn("style"), hoverStyle=_fn("hover"),
                                        onEachFeature=_fn("tooltip"), hideout={}, zoomToBounds=True),
                             dl.ScaleControl(position="bottomright", imperial=False)],
                            id="ix-map", center=_center(atlas, queries.current_set(atlas)), zoom=11,
                            className="oa-map", zoomSnap=0.25), className="oa-map-inner"),
            html.Div(id="ix-legend", className="oa-legend"),
        ], className="oa-map-wrap oa-cmp-map oa-index-map"),
        html.Div(id="ix-table"),
        html.Div(id="ix-sensitivity"),
        html.Fieldset([
            html.Legend(t("ix_typology", lang)),
            html.Div([html.Label(t("ix_years", lang), htmlFor="ix-years"),
                      dcc.Input(id="ix-years", type="number", min=1, max=20, step=1, value=2)], className="oa-field"),
            html.Button(t("ix_typology_run", lang), id="ix-typology", n_clicks=0, className="oa-button"),
            html.P(id="ix-ty-method", className="oa-method"),
            html.Div([
                html.Div(dl.Map([dl.GeoJSON(id="ix-ty-geojson", data=None, style=_fn("style"),
                                            hoverStyle=_fn("hover"), onEachFeature=_fn("tooltip"), hideout={},
                                            zoomToBounds=True)],
                                id="ix-ty-map", center=_center(atlas, queries.current_set(atlas)), zoom=11,
                                className="oa-map", zoomSnap=0.25), className="oa-map-inner"),
            ], className="oa-map-wrap oa-cmp-map oa-index-map"),
            # Below the map, not over it: twelve groups explained in words are longer than a map is high.
            html.Div(id="ix-ty-legend", className="oa-typology-legend"),
        ], className="oa-index-typology"),
        html.Fieldset([
            html.Div([html.Label(t("ix_save_id", lang), htmlFor="ix-id"), dcc.Input(id="ix-id", type="text")],
                     className="oa-field"),
            html.Div([html.Label(t("ix_save_title", lang), htmlFor="ix-title"),
                      dcc.Input(id="ix-title", type="text")], className="oa-field"),
            dcc.Checklist(id="ix-public", options=[{"label": t("ix_request_public", lang), "value": "public"}],
                          value=[]),
            html.Button(t("ix_save", lang), id="ix-save", n_clicks=0, className="oa-button"),
            html.Div(id="ix-save-message", role="status", className="oa-hint"),
        ], className="oa-index-save"),
    ], className="oa-page", id="ix-page"), lang)


def _chosen(value) -> list[str]:
    """The picked indicator ids, whatever shape the request sends (a list, one id, nothing)."""
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)]


def _input_rows(atlas, viewer, ids: list[str], lang: str) -> tuple[list, list[str]]:
    """One row per visible picked indicator (weight, direction) and the periods all of them have."""
    rows, common = [], None
    for ind_id in ids:
        ind = queries.get_indicator(atlas, viewer, ind_id)
        if ind is None:
            continue
        periods = set(queries.periods(atlas, viewer, ind.id))
        common = periods if common is None else common & periods
        polarity = ind.polarity if ind.polarity in ("high_good", "high_bad") else "high_bad"
        rows.append(html.Div([
            html.Span(ind.title(lang), className="oa-index-input"),
            html.Label(t("ix_weight", lang)),
            dcc.Input(id={"type": "ix-weight", "index": ind.id}, type="number", min=0.1, step=0.1, value=1),
            html.Label(t("ix_direction", lang)),
            dcc.Dropdown(id={"type": "ix-pol", "index": ind.id}, value=polarity, clearable=False,
                         options=[{"label": t("ix_high_bad", lang), "value": "high_bad"},
                                  {"label": t("ix_high_good", lang), "value": "high_good"}]),
        ], className="oa-index-row"))
    return rows, sorted(common or [])


def _recipe(ids, weights, weight_ids, pols, pol_ids, method, missing, period, reference, level) -> dict:
    """The recipe the page's controls describe (the same JSON the API takes)."""
    weight_of = {i["index"]: w for i, w in zip(weight_ids or [], weights or []) if isinstance(i, dict)}
    pol_of = {i["index"]: p for i, p in zip(pol_ids or [], pols or []) if isinstance(i, dict)}
    return {"inputs": [{"indicator": i, "weight": weight_of.get(i) or 1, "polarity": pol_of.get(i) or ""}
                       for i in ids],
            "method": method or "zscore", "missing": missing or "exclude", "period": period or None,
            "reference": reference or None, "level": level or None}


def _fn(name: str) -> dict:
    """A function in assets/map.js (the explorer's map styles and tooltips)."""
    return {"variable": f"ortsatlas.map.{name}"}


def _center(atlas, set_id: str) -> list[float]:
    """The territory's centre (the map then fits its areas' bounds)."""
    import shapely
    top = queries.areas(atlas, territory.top_level(atlas), set_id)
    c = shapely.from_wkb(top["geometry"].iloc[0]).centroid
    return [c.y, c.x]


def _map(atlas, result, lang: str) -> tuple[dict, dict, list]:
    """Geometry, styling (classes in need colours, gaps in their own) and legend of the newest period."""
    period = result.periods[-1]
    set_id = queries.set_for_period(atlas, period) or queries.current_set(atlas)
    order = queries.areas(atlas, result.level, set_id)[["area_id"]]
    rows = order.merge(result.rows[result.rows["period"] == period], on="area_id", how="left")
    rows["status"] = rows["status"].fillna("missing")
    values = [None if v != v else float(v) for v in rows["value"]]
    c = classify(values, rows["status"].tolist(), "quantiles", 5, "high_bad", False)
    labels = [format_number(v, 2, lang) if v is not None else "–" for v in values]
    hideout = {"cls": c.classes, "col": c.colors, "lab": labels, "sel": None,
               "mc": MISSING_COLOR, "sc": SUPPRESSED_COLOR}
    return (choropleth.geometry(atlas, set_id, result.level), hideout,
            legend(legend_entries(c, 2, lang), f"{t('ix_value', lang)} {period}", lang))


def _table(result, lang: str) -> html.Div:
    rows = result.rows[result.rows["period"] == result.periods[-1]].sort_values("value", ascending=False)
    items = [{"area": f"{r.name} ({r.area_id})", "value": format_number(r.value, 2, lang) if r.value == r.value
              else "–", "status": r.status, "reason": r.reason} for r in rows.itertuples(index=False)]
    cols = [("area", t("ix_area", lang)), ("value", t("ix_value", lang)), ("status", t("ix_status", lang)),
            ("reason", t("ix_reason", lang))]
    return scrolling(data_table(items, cols, id="ix-table-rows"))


def _sensitivity(result, lang: str) -> html.Div:
    """The ±10/±25 % weight table: how many areas switch class, and which."""
    titles = result.titles
    items = [{"indicator": titles.get(e["indicator"], e["indicator"]), "change": f"{e['change']:+.0%}",
              "switched": e["switched"], "areas": ", ".join(e["areas"])} for e in indices.sensitivity(result)]
    cols = [("indicator", t("indicator", lang)), ("change", t("ix_change", lang)),
            ("switched", t("ix_switched", lang)), ("areas", t("ix_areas", lang))]
    return html.Div([html.H4(t("ix_sensitivity", lang)), scrolling(data_table(items, cols, id="ix-sens-rows"))])


# Typology groups: one hue per status class (low need → very high need), lighter to darker by dynamics.
GROUP_COLORS = ("#1a9850", "#66bd63", "#a6d96a", "#fee08b", "#fdd16a", "#fdae61",
                "#f46d43", "#e5533b", "#d73027", "#a50026", "#8b0020", "#67001f")


def _typology_view(atlas, found: dict, lang: str) -> tuple[dict, dict, list, str]:
    """Geometry, group colours and a legend that explains each group in words."""
    set_id = queries.set_for_period(atlas, found["period"]) or queries.current_set(atlas)
    order = queries.areas(atlas, found["level"], set_id)["area_id"].tolist()
    by_area = {r["area_id"]: r for r in found["rows"]}
    keys = [g["group"] for g in found["groups"]]
    classes, labels = [], []
    for area_id in order:
        r = by_area.get(area_id)
        if r is None or r["group"] is None:
            classes.append(SUPPRESSED_CLASS if r is not None and r["status"] == "suppressed" else MISSING_CLASS)
            labels.append("–")
        else:
            classes.append(keys.index(r["group"]))
            labels.append(r["group"])
    hideout = {"cls": classes, "col": list(GROUP_COLORS), "lab": labels, "sel": None,
               "mc": MISSING_COLOR, "sc": SUPPRESSED_COLOR}
    items = [html.Li([html.Span(className="oa-swatch", style={"background": GROUP_COLORS[i]}),
                      html.Strong(f"{g['group']} {g['label_en' if lang == 'en' else 'label_de']}"),
                      html.Span(str(g["count"]), className="oa-count"),
                      html.Div(g["explanation_en" if lang == "en" else "explanation_de"], className="oa-hint")])
             for i, g in enumerate(found["groups"])]
    legend_list = [html.H4(t("ix_group", lang)), html.Ul(items, id="ix-ty-groups")]
    method = found["method_en" if lang == "en" else "method_de"]
    return choropleth.geometry(atlas, set_id, found["level"]), hideout, legend_list, method


_CONTROLS = [State("ix-inputs", "value"), State({"type": "ix-weight", "index": ALL}, "value"),
             State({"type": "ix-weight", "index": ALL}, "id"), State({"type": "ix-pol", "index": ALL}, "value"),
             State({"type": "ix-pol", "index": ALL}, "id"), State("ix-method", "value"),
             State("ix-missing", "value"), State("ix-period", "value"), State("ix-reference", "value"),
             State("ix-level", "value"), State("ix-lang", "data")]


def register_callbacks(app) -> None:
    @app.callback(Output("ix-rows", "children"), Output("ix-period", "options"), Output("ix-period", "value"),
                  Output("ix-reference", "options"), Input("ix-inputs", "value"), State("ix-lang", "data"))
    def inputs_changed(value, lang):
        viewer, lang = current_principal(), norm_lang(lang)
        if not may_build_index(viewer):
            return [], [], None, []
        rows, periods = _input_rows(current_atlas(), viewer, _chosen(value), lang)
        options = [{"label": p, "value": p} for p in periods]
        return rows, options, (periods[-1] if periods else None), options

    @app.callback(Output("ix-geojson", "data"), Output("ix-geojson", "hideout"), Output("ix-legend", "children"),
                  Output("ix-table", "children"), Output("ix-sensitivity", "children"), Output("ix-method-text", "children"),
                  Output("ix-message", "children"), Input("ix-preview", "n_clicks"), *_CONTROLS,
                  prevent_initial_call=True)
    def preview(_clicks, value, weights, weight_ids, pols, pol_ids, method, missing, period, reference, level,
                lang):
        viewer, lang = current_principal(), norm_lang(lang)
        if not may_build_index(viewer):
            return None, {}, [], [], [], "", t("ix_denied", lang)
        ids = _chosen(value)
        if not ids:
            return None, {}, [], [], [], "", t("ix_pick_first", lang)
        atlas = current_atlas()
        raw = _recipe(ids, weights, weight_ids, pols, pol_ids, method, missing, period, reference, level)
        try:
            result = indices.compute(atlas, viewer, indices.parse_recipe(raw))
        except indices.RecipeError as exc:  # its catalogue message in the page's language
            return None, {}, [], [], [], "", say(exc.args[0], lang)
        if result is None:
            return None, {}, [], [], [], "", t("ix_not_available", lang)
        method_text = result.method_en if lang == "en" else result.method_de
        return *_map(atlas, result, lang), _table(result, lang), _sensitivity(result, lang), method_text, ""

    @app.callback(Output("ix-ty-geojson", "data"), Output("ix-ty-geojson", "hideout"),
                  Output("ix-ty-legend", "children"), Output("ix-ty-method", "children"),
                  Input("ix-typology", "n_clicks"), *_CONTROLS, State("ix-years", "value"), prevent_initial_call=True)
    def typology(_clicks, value, weights, weight_ids, pols, pol_ids, method, missing, period, reference, level,
                 lang, years):
        viewer, lang = current_principal(), norm_lang(lang)
        if not may_build_index(viewer):
            return None, {}, [], t("ix_denied", lang)
        ids = _chosen(value)
        if not ids:
            return None, {}, [], t("ix_pick_first", lang)
        raw = _recipe(ids, weights, weight_ids, pols, pol_ids, method, missing, period, None, level)
        raw["years"] = int(years) if isinstance(years, (int, float)) and not isinstance(years, bool) else 2
        atlas = current_atlas()
        try:
            found = indices.typology(atlas, viewer, raw)
        except indices.RecipeError as exc:
            return None, {}, [], say(exc.args[0], lang)
        if found is None:
            return None, {}, [], t("ix_not_available", lang)
        return _typology_view(atlas, found, lang)

    @app.callback(Output("ix-save-message", "children"), Input("ix-save", "n_clicks"), *_CONTROLS,
                  State("ix-id", "value"), State("ix-title", "value"), State("ix-public", "value"),
                  prevent_initial_call=True)
    def save(_clicks, value, weights, weight_ids, pols, pol_ids, method, missing, period, reference, level, lang,
             slug, title, public):
        viewer, lang = current_principal(), norm_lang(lang)
        if not may_build_index(viewer):
            return t("ix_denied", lang)
        ids = _chosen(value)
        if not ids:
            return t("ix_pick_first", lang)
        raw = _recipe(ids, weights, weight_ids, pols, pol_ids, method, missing, period, reference, None)
        raw.update(id=slug or "", title_de=title or "",
                   visibility="public" if "public" in (public or []) else "internal")
        try:
            saved = indices.save(current_atlas(), viewer, raw)
        except indices.RecipeError as exc:
            return t("ix_not_available", lang) if exc.code == "not_found" else say(exc.args[0], lang)
        # The next step the statistics office takes with a saved index: a budget allocation from it.
        return [t("ix_saved", lang).format(id=saved["indicator"], version=saved["version_id"]), " ",
                html.A(t("ix_to_planning", lang), id="ix-to-planning",
                       href=f"/planung?{urlencode({'indicator': saved['indicator'], 'lang': lang})}")]

