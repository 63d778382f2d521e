"""The index builder (/indizes): pick indicators, direction, standardisation, weights, periods and the
missing rule; preview the index as a map and a table with its method in words; save it as an indicator.

For stewards and admins (`may_build_index`); every callback asks the rights
again and reads through `atlas.services.indices`, which reads through the
query services: the builder sees only what they may see, a hidden indicator
is answered exactly like one that does not exist.
"""
from __future__ import annotations

import dash_leaflet as dl
from dash import ALL, Input, Output, State, dcc, html

from atlas.classify import (
    MISSING_COLOR,
    SUPPRESSED_COLOR,
    classify,
    legend_entries,
)
from atlas.formatting import format_number
from atlas.i18n import norm_lang, t
from atlas.services import choropleth, indices, queries, territory
from atlas.web.components import (
    data_table,
    indicator_options,
    indicator_picker,
    legend,
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
        return html.Div(html.P(t("ix_denied", lang), className="oa-notice"), className="oa-page", id="ix-denied")
    atlas = current_atlas()
    options = indicator_options(queries.visible_indicators(atlas, viewer), atlas, lang)
    picked = [i for i in str(inputs or "").split(",") if queries.get_indicator(atlas, viewer, i) is not None]
    levels = [{"label": lv.label(lang, True), "value": lv.id} for lv in territory.levels(atlas)]
    return html.Div([
        dcc.Store(id="ix-lang", data=lang),
        html.H2(t("ix_title", lang)),
        html.P(t("ix_intro", lang), className="oa-hint"),
        indicator_picker("ix-inputs", t("ix_inputs", lang), options, value=picked, multi=True),
        html.Div(id="ix-rows", className="oa-index-rows"),
        html.Div([
            html.Div([html.Label(t("ix_method", lang)), dcc.RadioItems(
                id="ix-method", value="zscore", options=[{"label": t(k, lang), "value": v} for v, k in _METHODS])],
                className="oa-field"),
            html.Div([html.Label(t("ix_missing", lang)), dcc.RadioItems(
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
        html.Button(t("ix_preview", lang), id="ix-preview", n_clicks=0),
        html.Div(id="ix-message", role="status", className="oa-hint"),
        html.P(id="ix-method-text", className="oa-method"),
        html.Div([
            html.Div(dl.Map([dl.GeoJSON(id="ix-geojson", data=None, style=_fn("style"), hoverStyle=_fn("hover"),
                                        onEachFeature=_fn("tooltip"), hideout={}, zoomToBounds=True),
                             dl.ScaleControl(position="bottomright", imperial=False)],
                            id="ix-map", center=_center(atlas, queries.current_set(atlas)), zoom=11,
                            className="oa-map", zoomSnap=0.25), className="oa-map-inner"),
            html.Div(id="ix-legend", className="oa-legend"),
        ], className="oa-index-map"),
        html.Div(id="ix-table"),
        html.Fieldset([
            html.Div([html.Label(t("ix_save_id", lang), htmlFor="ix-id"), dcc.Input(id="ix-id", type="text")],
                     className="oa-field"),
            html.Div([html.Label(t("ix_save_title", lang), htmlFor="ix-title"),
                      dcc.Input(id="ix-title", type="text")], className="oa-field"),
            dcc.Checklist(id="ix-public", options=[{"label": t("ix_request_public", lang), "value": "public"}],
                          value=[]),
            html.Button(t("ix_save", lang), id="ix-save", n_clicks=0),
            html.Div(id="ix-save-message", role="status", className="oa-hint"),
        ], className="oa-index-save"),
    ], className="oa-page", id="ix-page")


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
                  Output("ix-table", "children"), Output("ix-method-text", "children"),
                  Output("ix-message", "children"), Input("ix-preview", "n_clicks"), *_CONTROLS,
                  prevent_initial_call=True)
    def preview(_clicks, value, weights, weight_ids, pols, pol_ids, method, missing, period, reference, level,
                lang):
        viewer, lang = current_principal(), norm_lang(lang)
        if not may_build_index(viewer):
            return None, {}, [], [], "", t("ix_denied", lang)
        ids = _chosen(value)
        if not ids:
            return None, {}, [], [], "", t("ix_pick_first", lang)
        atlas = current_atlas()
        raw = _recipe(ids, weights, weight_ids, pols, pol_ids, method, missing, period, reference, level)
        try:
            result = indices.compute(atlas, viewer, indices.parse_recipe(raw))
        except indices.RecipeError as exc:
            return None, {}, [], [], "", str(exc)
        if result is None:
            return None, {}, [], [], "", t("ix_not_available", lang)
        method_text = result.method_en if lang == "en" else result.method_de
        return *_map(atlas, result, lang), _table(result, lang), method_text, ""

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
            return t("ix_not_available", lang) if exc.code == "not_found" else str(exc)
        return t("ix_saved", lang).format(id=saved["indicator"], version=saved["version_id"])

