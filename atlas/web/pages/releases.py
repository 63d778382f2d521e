"""The release queue (/freigaben): versions released internally that wait for their public release.

For admins, who decide: each version with who delivered and released it
when, what it changed, and the cells the public will not see (the
suppression report of the disclosure control, by reason, with the cells
themselves), and "Öffentlich freigeben" now or at a time, or a scheduled
release cancelled. A steward sees their own departments' waiting versions,
without the public release. The services decide every step again.
"""
from __future__ import annotations

import pandas as pd
from dash import Input, html

from atlas.formatting import format_number, format_value
from atlas.periods import period_label
from atlas.services import territory, versions
from atlas.services.context import Atlas
from atlas.web import release_actions
from atlas.web.components import (
    action_panel,
    data_table,
    scrolling,
    version_table,
    workflow_denied,
)
from auth import Principal, current_principal
from auth.permissions import may_release_publicly, may_upload

REASONS = {"primary": "primär (kleine Zahl)", "secondary": "sekundär (Rückrechnung)",
           "linked": "verknüpft (gleiche Zählung)"}


def withheld_parts(atlas: Atlas, viewer: Principal, row) -> tuple[object, html.Details | None]:
    """How many cells the public will not see, by reason (for the table), and the cells themselves (below it).

    The cells go below the table, full width, behind a 'Zellen ansehen' link:
    inside a table cell a six-column list is unreadable.
    """
    cells = versions.withheld_cells(atlas, viewer, row["indicator_id"], list(row["periods"]))
    if cells is None:
        return "", None
    if cells.empty:
        return "keine Zelle geheim gehalten", None
    vid = int(row["version_id"])
    counts = cells["reason"].value_counts()
    summary = f"{format_number(len(cells), 0)} Zellen geheim: " + ", ".join(
        f"{format_number(int(counts[r]), 0)} {label}" for r, label in REASONS.items() if counts.get(r, 0))
    ind = atlas.indicator_by_id[row["indicator_id"]]
    levels = {lv.id: lv.name_de for lv in territory.levels(atlas)}
    rows = [{"period": period_label(c.period), "level": levels.get(c.level, c.level),
             "area": f"{c.name} ({c.area_id})",
             "value": format_value(c.value, "ok" if pd.notna(c.value) else "missing", ind.decimals, ind.unit),
             "counts": " / ".join("" if pd.isna(v) else format_number(v, 0) for v in (c.numerator, c.denominator)),
             "reason": REASONS.get(c.reason, c.reason)} for c in cells.itertuples(index=False)]
    details = html.Details([
        html.Summary(f"Version {vid} – {ind.title_de}: {summary}"),
        scrolling(data_table(rows, [("period", "Zeitraum"), ("level", "Ebene"), ("area", "Gebiet"),
                                    ("value", "Wert"), ("counts", "Zähler / Nenner"), ("reason", "Grund")]))],
        id=f"rq-cells-{vid}", className="oa-withheld-cells")
    return html.Div([html.Span(summary), " ", html.A("Zellen ansehen", href=f"#rq-cells-{vid}",
                                                     className="oa-open-details")], className="oa-withheld"), details


def queue_view(atlas: Atlas, viewer: Principal, *_inputs):
    """The queue, oldest first, with the steps the viewer may take; re-drawn after every step."""
    if not may_upload(viewer):
        return html.P("Für diese Seite fehlt Ihnen die Berechtigung.", className="oa-notice")
    rows = versions.release_queue(atlas, viewer)
    if rows.empty:
        return html.P("Nichts wartet auf die öffentliche Freigabe.", className="oa-hint")
    parts = {int(r["version_id"]): withheld_parts(atlas, viewer, r) for _, r in rows.iterrows()}
    table = version_table(atlas, rows, "rq", show_indicator=True,
                          extra={"withheld": ("Geheimhaltung", {vid: cell for vid, (cell, _) in parts.items()})})
    cells = [details for _, details in parts.values() if details is not None]
    return html.Div([table] + ([html.H3("Geheim gehaltene Zellen")] + cells if cells else []))


def layout(**_args) -> html.Div:
    viewer = current_principal()
    if not may_upload(viewer):
        return workflow_denied(viewer, "/freigaben", id="rq-denied")
    if may_release_publicly(viewer):
        intro = ("Versionen, die intern freigegeben sind und auf die öffentliche Freigabe warten, die älteste "
                 "zuerst. Prüfen Sie, was sich geändert hat und welche Zellen geheim gehalten werden; dann "
                 "„Öffentlich freigeben …“: sofort oder zu einem Termin (Sperrfrist). Einen Termin können Sie bis "
                 "dahin aufheben. „Geheimhaltung“ zählt die Zellen, die die Öffentlichkeit nicht sieht (kleine "
                 "Fallzahlen und was sich aus ihnen zurückrechnen ließe).")
    else:
        intro = ("Die intern freigegebenen Versionen Ihres Fachamts, die auf die öffentliche Freigabe durch die "
                 "Administration warten.")
    return html.Div([
        html.H1("Freigaben"),
        html.P(intro, className="oa-hint"),
        html.Button("Aktualisieren", id="rq-refresh", className="oa-chip"),
        action_panel("rq"),
        html.Div(id="rq-status", role="status", className="oa-status"),
        html.Div(id="rq-queue"),  # drawn by the callback on load, and after every step
    ], className="oa-page")


def register_callbacks(app) -> None:
    release_actions.register(app, "rq", "rq-queue", "rq-status", [Input("rq-refresh", "n_clicks")], queue_view)
