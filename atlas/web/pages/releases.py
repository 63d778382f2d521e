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
    tr,
    version_table,
    viewer_lang,
    workflow_denied,
)
from auth import Principal, current_principal
from auth.permissions import may_release_publicly, may_upload

REASONS = {"primary": "rq_primary", "secondary": "rq_secondary", "linked": "rq_linked"}  # catalogue keys


def withheld_parts(atlas: Atlas, viewer: Principal, row) -> tuple[object, html.Details | None]:
    """How many cells the public will not see, by reason (for the table), and the cells themselves (below it).

    The cells go below the table, full width, behind a 'Zellen ansehen' link:
    inside a table cell a six-column list is unreadable.
    """
    cells = versions.withheld_cells(atlas, viewer, row["indicator_id"], list(row["periods"]))
    if cells is None:
        return "", None
    if cells.empty:
        return tr("rq_none_withheld"), None
    vid = int(row["version_id"])
    counts = cells["reason"].value_counts()
    lang = viewer_lang()
    summary = tr("rq_withheld").format(n=format_number(len(cells), 0, lang)) + ", ".join(
        f"{format_number(int(counts[r]), 0, lang)} {tr(label)}" for r, label in REASONS.items() if counts.get(r, 0))
    ind = atlas.indicator_by_id[row["indicator_id"]]
    levels = {lv.id: territory.label(atlas, lv.id, lang) for lv in territory.levels(atlas)}
    rows = [{"period": period_label(c.period, lang), "level": levels.get(c.level, c.level),
             "area": f"{c.name} ({c.area_id})",
             "value": format_value(c.value, "ok" if pd.notna(c.value) else "missing", ind.decimals,
                                   ind.unit_in(lang), lang),
             "counts": " / ".join("" if pd.isna(v) else format_number(v, 0, lang)
                                  for v in (c.numerator, c.denominator)),
             "reason": tr(REASONS[c.reason]) if c.reason in REASONS else c.reason}
            for c in cells.itertuples(index=False)]
    details = html.Details([
        html.Summary(f"{tr('vt_version')} {vid} – {ind.title(viewer_lang())}: {summary}"),
        scrolling(data_table(rows, [("period", tr("period")), ("level", tr("level")), ("area", tr("rq_area")),
                                    ("value", tr("up_value")), ("counts", tr("rq_counts")), ("reason", tr("rq_reason"))]))],
        id=f"rq-cells-{vid}", className="oa-withheld-cells")
    return html.Div([html.Span(summary), " ", html.A(tr("rq_see_cells"), href=f"#rq-cells-{vid}",
                                                     className="oa-open-details")], className="oa-withheld"), details


def queue_view(atlas: Atlas, viewer: Principal, *_inputs):
    """The queue, oldest first, with the steps the viewer may take; re-drawn after every step."""
    if not may_upload(viewer):
        return html.P(tr("not_allowed"), className="oa-notice")
    rows = versions.release_queue(atlas, viewer)
    if rows.empty:
        return html.P(tr("rq_empty"), className="oa-hint")
    parts = {int(r["version_id"]): withheld_parts(atlas, viewer, r) for _, r in rows.iterrows()}
    table = version_table(atlas, rows, "rq", show_indicator=True,
                          extra={"withheld": (tr("rq_withheld_col"), {vid: cell for vid, (cell, _) in parts.items()})})
    cells = [details for _, details in parts.values() if details is not None]
    return html.Div([table] + ([html.H3(tr("rq_withheld_cells"))] + cells if cells else []))


def layout(**_args) -> html.Div:
    viewer = current_principal()
    if not may_upload(viewer):
        return workflow_denied(viewer, "/freigaben", id="rq-denied")
    if may_release_publicly(viewer):
        intro = tr("rq_intro_admin")
    else:
        intro = tr("rq_intro_steward")
    return html.Div([
        html.H1(tr("nav_releases")),
        html.P(intro, className="oa-hint"),
        html.Button(tr("rq_refresh"), id="rq-refresh", className="oa-chip"),
        action_panel("rq"),
        html.Div(id="rq-status", role="status", className="oa-status"),
        html.Div(id="rq-queue"),  # drawn by the callback on load, and after every step
    ], className="oa-page")


def register_callbacks(app) -> None:
    release_actions.register(app, "rq", "rq-queue", "rq-status", [Input("rq-refresh", "n_clicks")], queue_view)
