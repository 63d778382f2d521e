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
from atlas.periods import period_label
from atlas.services import versions
from atlas.services.context import Atlas
from atlas.web.components import csrf_marker, data_table, drop_zone, indicator_picker
from atlas.web.http import current_atlas
from auth import Principal, current_principal
from auth.permissions import may_deliver, may_release_publicly, may_upload

ROLE_LABELS = {"area": "Gebietsschlüssel", "area_name": "Gebietsname", "indicator": "Indikator",
               "period": "Zeitraum / Stichtag", "value": "Wert", "numerator": "Zähler", "denominator": "Nenner"}
STATE_LABELS = {"draft": "Entwurf", "internal": "intern freigegeben", "public": "öffentlich",
                "withdrawn": "zurückgezogen"}


def deliverable(atlas: Atlas, viewer: Principal) -> list[dict]:
    """Indicators the viewer delivers (their departments'; all for admins)."""
    return [{"label": f"{i.title_de} ({i.id})", "value": i.id} for i in atlas.indicators
            if may_deliver(viewer, i.department)]


def layout(**_args) -> html.Div:
    atlas, viewer = current_atlas(), current_principal()
    if not may_upload(viewer):
        return html.Div(html.P("Für diese Seite fehlt Ihnen die Berechtigung (Datenpflege oder Administration).",
                               className="oa-notice"), className="oa-page")
    limit = atlas.settings.upload_max_mb
    # Public release is for admins; the others get the controls hidden (the service refuses them anyway).
    release = [html.Button("Intern freigeben", id="up-release-internal", className="oa-button", disabled=True),
               html.Div([html.Button("Öffentlich freigeben", id="up-release-public", className="oa-chip",
                                     disabled=True),
                         html.Label("Termin (optional, Sperrfrist):", htmlFor="up-release-at", className="oa-label"),
                         dcc.Input(id="up-release-at", type="datetime-local", value="")],
                        hidden=not may_release_publicly(viewer), className="oa-links")]
    return html.Div([
        html.H2("Daten hochladen"),
        html.P(f"CSV (wie Excel sie speichert: Semikolon, Dezimalkomma; oder Komma und Dezimalpunkt) oder XLSX, "
               f"bis {limit} MB. Lang (Gebiet, Indikator, Zeitraum, Wert[, Zähler, Nenner]) oder breit (eine Spalte "
               "je Indikator oder je Jahr). Nichts wird gespeichert, bevor Sie es bestätigen.", className="oa-hint"),
        csrf_marker(limit),
        html.Div([html.Label("Tabellenblatt (XLSX, optional):", htmlFor="up-sheet", className="oa-label"),
                  dcc.Input(id="up-sheet", value="", placeholder="erstes Blatt")], className="oa-field"),
        new_indicator_form(atlas, viewer),
        drop_zone("up-drop", "/api/v1/uploads", "up-status", ".csv,.txt,.xlsx", store="up-upload",
                  fields="sheet:up-sheet"),
        dcc.Store(id="up-new-indicators", data=[]),
        dcc.Store(id="up-remember-sink"),
        dcc.Store(id="up-upload"),
        dcc.Store(id="up-mapping-json"),
        dcc.Store(id="up-versions"),
        html.Div(id="up-report", **{"aria-live": "polite"}),
        html.Div([html.H3("Spalten zuordnen"),
                  html.Div([html.Div([html.Label(label, className="oa-label"),
                                      dcc.Dropdown(id={"type": "up-map", "role": role}, options=[], value=None)],
                                     className="oa-field") for role, label in ROLE_LABELS.items()],
                           className="oa-grid"),
                  html.Button("Erneut prüfen", id="up-recheck", className="oa-chip")],
                 id="up-mapping", hidden=True),
        html.Div(id="up-preview"),
        html.Div([html.Button("Als Entwurf speichern", id="up-confirm", className="oa-button", disabled=True),
                  html.Button("Verwerfen", id="up-cancel", className="oa-chip"),
                  html.Div(id="up-confirmed", role="status")], className="oa-links"),
        html.Div(release, className="oa-links"),
        html.Div(id="up-release-status", role="status"),
        html.H3("Versionsgeschichte"),
        indicator_picker("up-history-indicator", "Indikator", deliverable(atlas, viewer), None,
                         placeholder="Indikator wählen …"),
        html.Div(id="up-history-status", role="status"),
        html.Div(id="up-history"),
    ], className="oa-page")


# ------------------------------------------------------------------ pieces
NEW_FIELDS = [("id", "Kürzel (a–z, 0–9, _)"), ("title_de", "Titel"), ("unit", "Einheit"),
              ("numerator", "Zähler (bei Anteilen)"), ("denominator", "Nenner (bei Anteilen)"),
              ("source", "Quelle"), ("contact", "Ansprechperson"), ("licence", "Lizenz"),
              ("definition_de", "Definition")]


def new_indicator_form(atlas: Atlas, viewer: Principal) -> html.Details:
    """Define an indicator the file brings for the first time; it is created when the upload is confirmed."""
    def choice(field, options, value):
        return html.Div([html.Label(field[1], className="oa-label"),
                         dcc.Dropdown(id={"type": "up-new", "field": field[0]}, options=options, value=value,
                                      clearable=False)], className="oa-field")
    departments = [{"label": atlas.departments[d]["de"], "value": d} for d in sorted(atlas.departments)
                   if may_deliver(viewer, d)]
    return html.Details([
        html.Summary("Neuer Indikator (für Werte, die es im Atlas noch nicht gibt)"),
        html.Div([html.Div([html.Label(label, className="oa-label"),
                            dcc.Input(id={"type": "up-new", "field": key}, value="", debounce=True)],
                           className="oa-field") for key, label in NEW_FIELDS]
                 + [choice(("aggregation", "Art"), [{"label": "Anteil/Quote (Zähler/Nenner)", "value": "ratio"},
                                                   {"label": "Anzahl", "value": "sum"}], "ratio"),
                    choice(("scale", "je"), [{"label": "100 (%)", "value": 100}, {"label": "1.000", "value": 1000}],
                           100),
                    choice(("periodicity", "Periodizität"), [{"label": "Jahr", "value": "year"},
                                                            {"label": "Quartal", "value": "quarter"}], "year"),
                    choice(("domain", "Themenfeld"), [{"label": d.title_de, "value": d.id} for d in atlas.domains],
                           atlas.domains[0].id),
                    choice(("department", "Fachamt"), departments, departments[0]["value"] if departments else None),
                    choice(("visibility", "Sichtbarkeit"), [
                        {"label": "öffentlich (gibt die Administration frei)", "value": "public"},
                        {"label": "intern", "value": "internal"},
                        {"label": "nur eigenes Fachamt", "value": "restricted"}], "internal"),
                    choice(("polarity", "Hoher Wert ist"), [{"label": "ungünstig", "value": "high_bad"},
                                                           {"label": "günstig", "value": "high_good"},
                                                           {"label": "neutral", "value": "neutral"}], "neutral")],
                 className="oa-grid"),
        html.Button("Indikator für diese Lieferung vormerken", id="up-new-add", className="oa-chip"),
        html.Div(id="up-new-list", className="oa-hint"),
    ], id="up-new")


def report_view(pending: uploads.Pending) -> list:
    report = pending.report
    summary = (f"{pending.file_name}: {report.get('rows', 0):,} Werte, Indikatoren "
               f"{', '.join(report.get('indicators', [])) or '–'}, Zeiträume "
               f"{', '.join(period_label(p) for p in report.get('periods', [])) or '–'}").replace(",", ",")
    out = [html.H3("Prüfbericht"), html.P(summary)]
    errors = report.get("errors", [])
    if errors:
        more = f" (und {report['more_errors']} weitere)" if report.get("more_errors") else ""
        out += [html.P(f"{len(errors)} Fehler{more}: die Datei kann so nicht gespeichert werden.",
                       className="oa-error"),
                data_table(errors, [("row", "Zeile"), ("column", "Spalte"), ("value", "Inhalt"),
                                    ("message", "Problem")], "oa-table oa-errors")]
    else:
        out.append(html.P("Keine Fehler.", className="oa-ok"))
    warnings = report.get("warnings", [])
    if warnings:
        out += [html.P(f"{len(warnings)} Hinweise (blockieren nicht):"),
                data_table(warnings, [("row", "Zeile"), ("message", "Hinweis")], "oa-table oa-warnings")]
    return out


def preview_view(atlas: Atlas, pending: uploads.Pending) -> list:
    values = uploads.Uploads(atlas.settings.data_dir).values(pending.upload_id)
    lookup = uploads.pending_indicators(atlas, pending)
    first = values.sort_values(["indicator_id", "period"]).iloc[-1]
    table = uploads.preview_table(atlas, values, lookup[first["indicator_id"]], first["period"])
    out = [html.H3("Vorschau")]
    if table is not None:
        picture = pictures.draw_map(atlas, table, "quantiles", 5, "png", dpi=60)
        src = "data:image/png;base64," + base64.b64encode(picture.body).decode("ascii")
        out.append(html.Img(src=src, alt=f"Vorschau {first['indicator_id']} {first['period']}",
                            className="oa-preview-map"))
    decimals = {i: lookup[i].decimals for i in values["indicator_id"].unique()}
    rows = [{"indicator_id": r.indicator_id, "area_id": r.area_id, "period": period_label(r.period),
             "value": format_value(r.value, r.status, decimals[r.indicator_id]),
             "numerator": "" if pd.isna(r.numerator) else format_number(r.numerator, 0),
             "denominator": "" if pd.isna(r.denominator) else format_number(r.denominator, 0)}
            for r in values.head(200).itertuples()]
    out.append(data_table(rows, [("indicator_id", "Indikator"), ("area_id", "Gebiet"), ("period", "Zeitraum"),
                             ("value", "Wert"), ("numerator", "Zähler"), ("denominator", "Nenner")]))
    if len(values) > 200:
        out.append(html.P(f"… und {len(values) - 200:,} weitere Werte.", className="oa-hint"))
    return out


HISTORY_COLUMNS = [("version", "Version"), ("state", "Stand"), ("created", "hochgeladen"), ("by", "von"),
                   ("file", "Datei"), ("rows", "Werte"), ("changes", "neu/geändert/nicht erneut"),
                   ("release", "Freigabe"), ("action", "")]


def history_view(rows: pd.DataFrame) -> html.Table:
    body = []
    for r in rows.itertuples():
        scheduled = (f"geplant: {STATE_LABELS.get(r.release_to, r.release_to)} am {r.release_at:%d.%m.%Y %H:%M}"
                     if isinstance(r.release_to, str) and pd.notna(r.release_at) else "")
        released = f"{r.released_by} am {r.released_at:%d.%m.%Y}" if pd.notna(r.released_at) else ""
        action = (html.Button("Zurückziehen", id={"type": "up-rollback", "version": int(r.version_id)},
                              className="oa-chip") if r.state != "withdrawn" else "")
        changes = "/".join("" if pd.isna(v) else str(int(v)) for v in (r.n_added, r.n_changed, r.n_removed))
        body.append({"version": r.version_id, "state": STATE_LABELS.get(r.state, r.state),
                     "created": f"{r.created_at:%d.%m.%Y %H:%M}", "by": r.created_by or "", "file": r.file_name or "",
                     "rows": r.row_count, "changes": changes,
                     "release": " ".join(x for x in (released, scheduled) if x), "action": action})
    return data_table(body, HISTORY_COLUMNS)


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
        return report_view(pending), preview, not ok, not needs_mapping, [columns] * n, values, ""

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
        return kept, "Vorgemerkt: " + ", ".join(f"{x.get('id')} ({x.get('title_de', '')})" for x in kept) + \
            ". Jetzt die Datei hochladen; geprüft wird beides zusammen."

    app.clientside_callback(
        "function(defs) { return window.ortsatlas.upload.remember(defs, 'up-drop', 'new_indicators'); }",
        Output("up-remember-sink", "data"), Input("up-new-indicators", "data"),
    )

    @app.callback(
        Output("up-confirmed", "children"), Output("up-versions", "data"), Output("up-confirm", "disabled",
                                                                                   allow_duplicate=True),
        Output("up-release-internal", "disabled"), Output("up-release-public", "disabled"),
        Input("up-confirm", "n_clicks"), State("up-upload", "data"), prevent_initial_call=True,
    )
    def on_confirm(_n, data):
        atlas, viewer = current_atlas(), current_principal()
        upload_id = (data or {}).get("upload_id") if isinstance(data, dict) else None
        try:
            ids = uploads.confirm(atlas, viewer, upload_id)
        except versions.VersionError as exc:
            return html.P(str(exc), className="oa-error"), no_update, True, True, True
        saved = html.P(f"Gespeichert als Entwurf: Version {', '.join(map(str, ids))}. Noch nicht sichtbar für "
                       "andere – jetzt intern freigeben.", className="oa-ok")
        return saved, ids, True, False, not may_release_publicly(viewer)

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
            return html.P(str(exc), className="oa-error"), True, no_update, no_update
        return html.P("Verworfen. Nichts wurde gespeichert.", className="oa-hint"), True, [], []

    @app.callback(
        Output("up-release-status", "children"),
        Input("up-release-internal", "n_clicks"), Input("up-release-public", "n_clicks"),
        State("up-versions", "data"), State("up-release-at", "value"), prevent_initial_call=True,
    )
    def on_release(_internal, _public, ids, at):
        atlas, viewer = current_atlas(), current_principal()
        to = "public" if ctx.triggered_id == "up-release-public" else "internal"
        messages = []
        for vid in ids if isinstance(ids, list) else []:
            try:
                result = versions.release(atlas, viewer, vid, to, (at or None) if to == "public" else None)
                when = result["scheduled"]
                messages.append(f"Version {vid}: " + (f"Freigabe geplant für {when['at'].replace('T', ' ')}"
                                                      if when else STATE_LABELS[result["state"]]))
            except versions.VersionError as exc:
                messages.append(f"Version {vid}: {exc}")
        return html.P("; ".join(messages) or "Keine Version gewählt.")

    @app.callback(
        Output("up-history", "children"), Output("up-history-status", "children"),
        Input("up-history-indicator", "value"), Input({"type": "up-rollback", "version": ALL}, "n_clicks"),
        Input("up-release-status", "children"),
    )
    def on_history(indicator_id, _clicks, _released):
        atlas, viewer = current_atlas(), current_principal()
        status = ""
        trigger = ctx.triggered_id
        if isinstance(trigger, dict) and trigger.get("type") == "up-rollback" and any(_clicks or []):
            try:
                versions.rollback(atlas, viewer, trigger.get("version"))
                status = f"Version {trigger.get('version')} zurückgezogen; es gelten wieder die Werte davor."
            except versions.VersionError as exc:
                status = str(exc)
        if not may_upload(viewer) or not isinstance(indicator_id, str):
            return [], status
        rows = versions.history(atlas, viewer, indicator_id)
        if rows is None or rows.empty:
            return html.P("Keine Versionen.", className="oa-hint"), status
        return history_view(rows), status

