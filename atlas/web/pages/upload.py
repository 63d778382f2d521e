"""The data steward's page: upload, check, preview, store as draft, release; version history.

The file itself goes from the browser straight to `POST /api/v1/uploads`
(assets/upload.js: drag and drop, progress bar), never base64 through a
callback. The callbacks here only read the pending upload's report and call
the workflow services with `current_principal()`; each service checks the
rights again, so a hand-made callback request can do no more than the page.
"""
from __future__ import annotations

import base64

import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from atlas.export import pictures
from atlas.formatting import format_number, format_value
from atlas.ingest import uploads
from atlas.messages import in_language, say
from atlas.periods import period_label
from atlas.services import queries, territory, versions
from atlas.services.context import Atlas
from atlas.web import release_actions
from atlas.web.components import (
    action_panel,
    csrf_marker,
    data_table,
    drop_zone,
    indicator_picker,
    lang_link,
    scrolling,
    tr,
    version_table,
    viewer_lang,
    workflow_denied,
)
from atlas.web.http import current_atlas
from auth import Principal, current_principal
from auth.permissions import may_deliver, may_release_publicly, may_upload

ROLE_LABELS = {"area": "up_col_area", "area_name": "up_col_area_name", "indicator": "indicator",
               "period": "up_col_period", "value": "up_value", "numerator": "numerator", "denominator": "denominator"}


def deliverable(atlas: Atlas, viewer: Principal) -> list[dict]:
    """Indicators the viewer delivers (their departments'; all for admins)."""
    lang = viewer_lang()
    return [{"label": f"{i.title(lang)} ({i.id})", "value": i.id} for i in atlas.indicators
            if may_deliver(viewer, i.department)]


def layout(**_args) -> html.Div:
    atlas, viewer = current_atlas(), current_principal()
    if not may_upload(viewer):
        return workflow_denied(viewer, "/upload")
    limit = atlas.settings.upload_max_mb
    # Public release is for admins; the others get the controls hidden (the service refuses them anyway).
    release = [html.Button(tr("up_release_internal"), id="up-release-internal", className="oa-button", disabled=True),
               html.Div([html.Button(tr("up_release_public"), id="up-release-public", className="oa-chip",
                                     disabled=True),
                         html.Label(tr("up_release_at"), htmlFor="up-release-at",
                                    className="oa-label"),
                         dcc.Input(id="up-release-at", type="text", value="", placeholder=tr("up_date_placeholder"))],
                        hidden=not may_release_publicly(viewer), className="oa-links")]
    return html.Div([
        html.H1(tr("nav_upload")),
        html.P(tr("up_intro").format(limit=limit), className="oa-hint"),
        csrf_marker(limit),
        template_section(atlas, viewer),
        html.H3(tr("up_check_file")),
        html.Div([html.Label(tr("up_sheet"), htmlFor="up-sheet", className="oa-label"),
                  dcc.Input(id="up-sheet", value="", placeholder=tr("up_first_sheet"))], className="oa-field"),
        new_indicator_form(atlas, viewer),
        drop_zone("up-drop", "/api/v1/uploads", "up-status", ".csv,.txt,.xlsx", store="up-upload",
                  fields="sheet:up-sheet"),
        dcc.Store(id="up-new-indicators", data=[]),
        dcc.Store(id="up-remember-sink"),
        dcc.Store(id="up-upload"),
        dcc.Store(id="up-mapping-json"),
        dcc.Store(id="up-versions"),
        html.Div(id="up-report", **{"aria-live": "polite"}),
        html.Div([html.H3(tr("up_map_columns")),
                  html.Div([html.Div([html.Label(tr(label), className="oa-label"),
                                      dcc.Dropdown(id={"type": "up-map", "role": role}, options=[], value=None)],
                                     className="oa-field") for role, label in ROLE_LABELS.items()],
                           className="oa-grid"),
                  html.Button(tr("up_recheck"), id="up-recheck", className="oa-chip")],
                 id="up-mapping", hidden=True),
        html.Div(id="up-preview"),
        html.Div([html.Label(tr("up_projection"), htmlFor="up-projection", className="oa-label"),
                  dcc.Input(id="up-projection", type="text", maxLength=versions.MAX_PROJECTION, debounce=True,
                            placeholder=tr("up_projection_placeholder"), className="oa-input"),
                  html.P(tr("up_projection_hint"), className="oa-hint")], className="oa-field"),
        html.Div([html.Button(tr("up_save_draft"), id="up-confirm", className="oa-button", disabled=True),
                  html.Button(tr("up_discard"), id="up-cancel", className="oa-chip"),
                  html.Div(id="up-confirmed", role="status")], className="oa-links"),
        html.Div(release, className="oa-links"),
        html.Div(id="up-release-status", role="status"),
        html.H3(tr("up_history")),
        html.P([tr("up_history_intro"), html.A(tr("nav_releases"), href=lang_link("/freigaben")), "."],
               className="oa-hint"),
        indicator_picker("up-history-indicator", tr("indicator"), deliverable(atlas, viewer), None,
                         placeholder=tr("up_pick_indicator")),
        action_panel("uh"),
        html.Div(id="up-history-status", role="status", className="oa-status"),
        html.Div(id="up-history"),
    ], className="oa-page")


# ------------------------------------------------------------------ pieces
NEW_FIELDS = [("id", "up_new_id"), ("title_de", "up_new_title"), ("unit", "unit"),
              ("numerator", "up_new_numerator"), ("denominator", "up_new_denominator"),
              ("source", "source"), ("contact", "contact"), ("licence", "licence"),
              ("definition_de", "definition")]  # catalogue keys of the labels


def new_indicator_form(atlas: Atlas, viewer: Principal) -> html.Details:
    """Define an indicator the file brings for the first time; it is created when the upload is confirmed."""
    def choice(field, options, value):
        return html.Div([html.Label(tr(field[1]), className="oa-label"),
                         dcc.Dropdown(id={"type": "up-new", "field": field[0]}, options=options, value=value,
                                      clearable=False)], className="oa-field")
    departments = [{"label": atlas.department_name(d, viewer_lang()), "value": d} for d in sorted(atlas.departments)
                   if may_deliver(viewer, d)]
    return html.Details([
        html.Summary(tr("up_new")),
        html.Div([html.Div([html.Label(tr(label), className="oa-label"),
                            dcc.Input(id={"type": "up-new", "field": key}, value="", debounce=True)],
                           className="oa-field") for key, label in NEW_FIELDS]
                 + [choice(("aggregation", "up_kind"), [{"label": tr("up_kind_ratio"), "value": "ratio"},
                                                       {"label": tr("up_kind_sum"), "value": "sum"}], "ratio"),
                    choice(("scale", "up_per"), [{"label": "100 (%)", "value": 100}, {"label": "1.000", "value": 1000}],
                           100),
                    choice(("periodicity", "up_periodicity"), [{"label": tr("up_year"), "value": "year"},
                                                              {"label": tr("up_quarter"), "value": "quarter"}], "year"),
                    choice(("domain", "up_domain"), [{"label": d.title_en if viewer_lang() == "en" else d.title_de, "value": d.id}
                                                     for d in atlas.domains],
                           atlas.domains[0].id),
                    choice(("department", "department"), departments, departments[0]["value"] if departments else None),
                    choice(("visibility", "visibility"), [
                        {"label": tr("up_vis_public"), "value": "public"},
                        {"label": tr("vis_internal"), "value": "internal"},
                        {"label": tr("up_vis_restricted"), "value": "restricted"}], "internal"),
                    choice(("polarity", "up_polarity"), [{"label": tr("up_bad"), "value": "high_bad"},
                                                        {"label": tr("up_good"), "value": "high_good"},
                                                        {"label": tr("up_neutral"), "value": "neutral"}], "neutral")],
                 className="oa-grid"),
        html.Button(tr("up_new_add"), id="up-new-add", className="oa-chip"),
        html.Div(id="up-new-list", className="oa-hint"),
    ], id="up-new")


WARNINGS_SHOWN = 10  # more fold away: a quarter with many jumps should not push the preview off the page


def report_view(atlas: Atlas, pending: uploads.Pending) -> list:
    """The check report: what the file holds (titles, periods), errors, warnings, what became of special rows,
    and what to do next."""
    report = pending.report
    lookup = uploads.pending_indicators(atlas, pending)
    lang = viewer_lang()
    titles = [f"{lookup[i].title(lang)} ({i})" if i in lookup else i for i in report.get("indicators", [])]
    periods = report.get("periods", [])
    summary = tr("up_summary").format(
        file=pending.file_name, n=format_number(report.get("rows", 0), 0, lang),
        indicators=tr("indicator" if len(titles) == 1 else "up_indicators"), titles=", ".join(titles) or "–",
        periods=tr("period" if len(periods) == 1 else "vt_periods"),
        labels=", ".join(period_label(p, lang) for p in periods) or "–")
    out = [html.H3(tr("up_report")), html.P(summary)]
    errors = in_language(report.get("errors", []), lang)  # stored reports without keys keep their German text
    if errors:
        more = tr("up_more").format(n=format_number(report["more_errors"], 0, lang)) if report.get("more_errors") else ""
        out += [html.P(tr("up_errors").format(n=format_number(len(errors), 0, lang), more=more), className="oa-error"),
                scrolling(data_table(errors, [("row", tr("up_row")), ("column", tr("up_column")), ("value", tr("up_content")),
                                              ("message", tr("up_problem"))], "oa-table oa-errors"))]
    else:
        out.append(html.P(tr("up_no_errors"),
                          className="oa-ok"))
    notes = in_language(report.get("notes", []), lang)
    if notes:
        out += [html.P(tr("up_special_rows")), html.Ul([html.Li(n.get("message", "")) for n in notes],
                                                     className="oa-notes")]
    warnings = in_language(report.get("warnings", []), lang)
    if warnings:
        columns = [("row", tr("up_row")), ("message", tr("up_warning"))]
        out += [html.P(tr("up_warnings").format(n=format_number(len(warnings), 0, lang))),
                scrolling(data_table(warnings[:WARNINGS_SHOWN], columns, "oa-table oa-warnings"))]
        if len(warnings) > WARNINGS_SHOWN:
            out.append(html.Details([html.Summary(tr("up_more_warnings").format(
                n=format_number(len(warnings) - WARNINGS_SHOWN, 0, lang))),
                                     scrolling(data_table(warnings[WARNINGS_SHOWN:], columns,
                                                          "oa-table oa-warnings"))]))
    return out


def template_section(atlas: Atlas, viewer: Principal) -> html.Div:
    """Where a delivery starts: the template of an indicator, with its areas and the last period filled in."""
    return html.Div([
        html.H3(tr("up_template")),
        html.P(tr("up_template_intro"), className="oa-hint"),
        html.Div([indicator_picker("up-template-indicator", tr("indicator"), deliverable(atlas, viewer), None,
                                   placeholder=tr("up_pick_indicator")),
                  html.Div([html.A(tr("up_template_csv"), id="up-template-csv", className="oa-chip", href="",
                                   hidden=True),
                            html.A(tr("up_template_xlsx"), id="up-template-xlsx", className="oa-chip", href="",
                                   hidden=True)], className="oa-links")], className="oa-template"),
    ])


PREVIEW_LIMIT = 200
CHANGE_ORDER = {"changed": 0, "new": 1, "not_redelivered": 2, "same": 3}


def _area_names(atlas: Atlas, periods) -> dict[tuple[str, str], str]:
    """(period, area key) → area name, on the boundary set of each period."""
    level = territory.base_level(atlas)
    names = {}
    for period in periods:
        set_id = queries.set_for_period(atlas, period)
        if set_id is None:
            continue
        for r in queries.areas(atlas, level, set_id)[["area_id", "name"]].itertuples(index=False):
            names[(period, r.area_id)] = r.name
    return names


def preview_rows(atlas: Atlas, values: pd.DataFrame, lookup: dict) -> tuple[list[dict], dict[str, int]]:
    """The delivery cell by cell against what the atlas holds now: names, before, after, the change.

    Changed cells first, then new ones, then cells of the delivered periods the
    file leaves out (they keep their value), then the unchanged ones.
    """
    lang = viewer_lang()
    cells = versions.compare(atlas, values)
    counts = {c: int((cells["change"] == c).sum()) for c in versions.CHANGES}
    names = _area_names(atlas, cells["period"].unique())
    cells = cells.assign(order=cells["change"].map(CHANGE_ORDER)).sort_values(
        ["order", "indicator_id", "period", "area_id"]).head(PREVIEW_LIMIT)
    rows = []
    for r in cells.itertuples(index=False):
        ind = lookup.get(r.indicator_id)
        decimals, unit = (ind.decimals, ind.unit) if ind else (1, "")
        before = "" if r.change == "new" else format_value(r.value_old, r.status_old, decimals, unit, lang)
        after = tr("up_not_in_file") if r.change == "not_redelivered" else \
            format_value(r.value, r.status, decimals, unit, lang)
        delta = ""
        if r.change == "changed" and r.status == "ok" and r.status_old == "ok":
            diff = r.value - r.value_old
            delta = ("+" if diff > 0 else "") + format_number(diff, decimals, lang)
        name = names.get((r.period, r.area_id))
        rows.append({"indicator": ind.title(lang) if ind else r.indicator_id,
                     "area": f"{name} ({r.area_id})" if name else r.area_id, "period": period_label(r.period, lang),
                     "before": before, "after": after, "delta": delta, "change": tr(f"change_{r.change}"),
                     "_class": f"oa-change-{r.change}"})
    return rows, counts


def preview_view(atlas: Atlas, pending: uploads.Pending) -> list:
    values = uploads.Uploads(atlas.settings.data_dir).values(pending.upload_id)
    lookup = uploads.pending_indicators(atlas, pending)
    first = values.sort_values(["indicator_id", "period"]).iloc[-1]
    table = uploads.preview_table(atlas, values, lookup[first["indicator_id"]], first["period"])
    out = [html.H3(tr("up_preview"))]
    if table is not None:
        picture = pictures.draw_map(atlas, table, "quantiles", 5, "png", dpi=60)
        src = "data:image/png;base64," + base64.b64encode(picture.body).decode("ascii")
        out.append(html.Img(src=src, alt=f"{tr('up_preview')} {first['indicator_id']} {first['period']}",
                            className="oa-preview-map"))
    rows, counts = preview_rows(atlas, values, lookup)
    lang = viewer_lang()
    out.append(html.P(
        tr("up_counts").format(n=format_number(len(values), 0, lang), new=format_number(counts["new"], 0, lang),
                               changed=format_number(counts["changed"], 0, lang),
                               same=format_number(counts["same"], 0, lang))
        + (tr("up_missing").format(n=format_number(counts["not_redelivered"], 0, lang))
           if counts["not_redelivered"] else ""),
        id="up-preview-summary", className="oa-hint"))
    out.append(html.Div(data_table(rows, [("indicator", tr("indicator")), ("area", tr("rq_area")), ("period", tr("period")),
                                          ("before", tr("up_before")), ("after", tr("up_delivery")),
                                          ("delta", tr("up_delta")),
                                          ("change", "")], "oa-table oa-preview"), className="oa-preview-wrap"))
    shown = len(rows)
    total = len(values) + counts["not_redelivered"]
    if total > shown:
        out.append(html.P(tr("up_shown").format(shown=format_number(shown, 0, lang),
                                                total=format_number(total, 0, lang)),
                          className="oa-hint"))
    return out


def history_view(atlas: Atlas, viewer: Principal, indicator_id, _released=None):
    """The version history of one indicator with the steps the viewer may take (re-drawn after each step)."""
    if not may_upload(viewer) or not isinstance(indicator_id, str) or not indicator_id:
        return html.P(tr("up_history_pick"), className="oa-hint")
    rows = versions.history(atlas, viewer, indicator_id)
    if rows is None or rows.empty:
        return html.P(tr("up_no_versions"), className="oa-hint")
    return version_table(atlas, rows, "uh")


# ------------------------------------------------------------------ callbacks
def register_callbacks(app) -> None:
    @app.callback(
        Output("up-report", "children"), Output("up-preview", "children"), Output("up-confirm", "disabled"),
        Output("up-mapping", "hidden"), Output({"type": "up-map", "role": ALL}, "options"),
        Output({"type": "up-map", "role": ALL}, "value"), Output("up-confirmed", "children", allow_duplicate=True),
        Input("up-upload", "data"), prevent_initial_call=True,
    )
    def on_upload(data):
        atlas, viewer = current_atlas(), current_principal()
        n = len(ROLE_LABELS)
        upload_id = (data or {}).get("upload_id") if isinstance(data, dict) else None
        pending = uploads.Uploads(atlas.settings.data_dir).get(upload_id, viewer) if may_upload(viewer) else None
        if pending is None:
            return [], [], True, True, [[]] * n, [None] * n, ""
        report = pending.report
        columns = [{"label": c, "value": c} for c in report.get("columns", []) if c]
        mapping = report.get("mapping", {})
        values = [mapping.get(role) for role in ROLE_LABELS]
        ok = bool(report.get("ok")) and pending.state == "checked"
        needs_mapping = bool(columns) and not ok
        preview = preview_view(atlas, pending) if ok else []
        return report_view(atlas, pending), preview, not ok, not needs_mapping, [columns] * n, values, ""

    @app.callback(Output("up-mapping-json", "data"), Input({"type": "up-map", "role": ALL}, "value"))
    def on_mapping(values):
        return {role: v for role, v in zip(ROLE_LABELS, values or []) if isinstance(v, str) and v}

    app.clientside_callback(
        "function(n, mapping) { return window.ortsatlas.upload.recheck(n, mapping, 'up-drop'); }",
        Output("up-status", "children"), Input("up-recheck", "n_clicks"), State("up-mapping-json", "data"),
        prevent_initial_call=True,
    )

    @app.callback(
        Output("up-new-indicators", "data"), Output("up-new-list", "children"),
        Input("up-new-add", "n_clicks"), State({"type": "up-new", "field": ALL}, "value"),
        State({"type": "up-new", "field": ALL}, "id"), State("up-new-indicators", "data"),
        prevent_initial_call=True,
    )
    def on_new_indicator(_n, values, ids, current):
        """Only collects the definition; ingest checks it with the file and versions.confirm creates it."""
        viewer = current_principal()
        if not may_upload(viewer):
            return no_update, ""
        d = {i["field"]: v for i, v in zip(ids or [], values or []) if isinstance(i, dict)}
        d = {k: v for k, v in d.items() if v not in ("", None)}
        d.update(title_en=d.get("title_de", ""), definition_en=d.get("definition_de", ""),
                 decimals=1 if d.get("aggregation") == "ratio" else 0)
        if d.get("aggregation") != "ratio":
            for key in ("numerator", "denominator", "scale"):
                d.pop(key, None)
        kept = [x for x in (current if isinstance(current, list) else []) if x.get("id") != d.get("id")] + [d]
        return kept, tr("up_noted").format(ids=", ".join(f"{x.get('id')} ({x.get('title_de', '')})" for x in kept))

    app.clientside_callback(
        "function(defs) { return window.ortsatlas.upload.remember(defs, 'up-drop', 'new_indicators'); }",
        Output("up-remember-sink", "data"), Input("up-new-indicators", "data"),
    )

    @app.callback(
        Output("up-confirmed", "children"), Output("up-versions", "data"), Output("up-confirm", "disabled",
                                                                                   allow_duplicate=True),
        Output("up-release-internal", "disabled"), Output("up-release-public", "disabled"),
        Output("up-history-indicator", "value"),
        Input("up-confirm", "n_clicks"), State("up-upload", "data"), State("up-projection", "value"),
        prevent_initial_call=True,
    )
    def on_confirm(_n, data, projection=None):
        """Store the checked upload as drafts (a projection when a variant is named), then show their history."""
        atlas, viewer = current_atlas(), current_principal()
        upload_id = (data or {}).get("upload_id") if isinstance(data, dict) else None
        try:
            ids = uploads.confirm(atlas, viewer, upload_id, projection or None)
        except versions.VersionError as exc:
            return html.P(say(exc.args[0], viewer_lang()), className="oa-error"), no_update, True, True, True, no_update
        saved = html.P(tr("up_saved").format(ids=", ".join(map(str, ids))),
                       className="oa-ok")
        shown = versions.describe(atlas, viewer, ids[0])
        return saved, ids, True, False, not may_release_publicly(viewer), shown["indicator_id"] if shown else None

    @app.callback(
        Output("up-confirmed", "children", allow_duplicate=True), Output("up-confirm", "disabled",
                                                                          allow_duplicate=True),
        Output("up-report", "children", allow_duplicate=True), Output("up-preview", "children",
                                                                       allow_duplicate=True),
        Input("up-cancel", "n_clicks"), State("up-upload", "data"), prevent_initial_call=True,
    )
    def on_cancel(_n, data):
        """Drop a checked upload that should not be stored (nothing of it reached the store)."""
        atlas, viewer = current_atlas(), current_principal()
        upload_id = (data or {}).get("upload_id") if isinstance(data, dict) else None
        try:
            uploads.cancel(atlas, viewer, upload_id)
        except versions.VersionError as exc:
            return html.P(say(exc.args[0], viewer_lang()), className="oa-error"), True, no_update, no_update
        return html.P(tr("up_discarded"), className="oa-hint"), True, [], []

    @app.callback(
        Output("up-release-status", "children"),
        Input("up-release-internal", "n_clicks"), Input("up-release-public", "n_clicks"),
        State("up-versions", "data"), State("up-release-at", "value"), prevent_initial_call=True,
    )
    def on_release(_internal, _public, ids, at):
        """Release the versions just stored: the same steps as in the history, for the whole upload at once."""
        atlas, viewer = current_atlas(), current_principal()
        action = "release_public" if ctx.triggered_id == "up-release-public" else "release_internal"
        messages = []
        for vid in ids if isinstance(ids, list) else []:
            try:
                messages.append(release_actions.perform(atlas, viewer, action, vid, at))
            except (versions.VersionError, ValueError) as exc:
                messages.append(f"{tr('vt_version')} {vid}: "
                                f"{tr('ra_not_done').format(exc=release_actions.refusal(exc))}")
        return html.P(" ".join(messages) or tr("up_no_version"))

    release_actions.register(app, "uh", "up-history", "up-history-status",
                             [Input("up-history-indicator", "value"), Input("up-release-status", "children")],
                             history_view)

    app.clientside_callback(
        """function(ind) {
            if (!ind) { return ["", "", true, true]; }
            const base = "/api/v1/templates?indicator=" + encodeURIComponent(ind);
            return [base + "&format=csv-de", base + "&format=xlsx", false, false];
        }""",
        Output("up-template-csv", "href"), Output("up-template-xlsx", "href"),
        Output("up-template-csv", "hidden"), Output("up-template-xlsx", "hidden"),
        Input("up-template-indicator", "value"),
    )
