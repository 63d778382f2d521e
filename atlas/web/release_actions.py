"""The release steps on the pages: a version table's buttons and the confirmation panel, one callback per page.

The upload page's version history and the release queue show versions with
the buttons `versions.allowed_actions` grants the viewer
(`components.version_table`) and a confirmation panel
(`components.action_panel`). This module turns a click into exactly the
service call the API makes (`versions.release`, `unschedule`, `rollback`),
so the pages can do everything the API can, with the same rights: the
services decide again on every request, and a hand-made callback request
can do no more than the page.

Releasing internally and cancelling a schedule happen at once; a public
release (now or at a time) and a withdrawal are confirmed first, and a
withdrawal needs a reason, which goes to the audit log.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from dash import ALL, Input, Output, State, ctx

from atlas.messages import Message, say
from atlas.services import indices, versions
from atlas.services.context import Atlas
from atlas.web.components import periods_text, tr, viewer_lang
from atlas.web.http import current_atlas
from auth import Principal, current_principal
from auth.permissions import may_upload

DIRECT = ("release_internal", "unschedule")
CONFIRMED = ("release_public", "rollback")
_GERMAN_TIME = re.compile(r"^\s*(\d{1,2})\.(\d{1,2})\.(\d{4})[ ,T]+(\d{1,2})[:.](\d{2})\s*(?:Uhr)?\s*$")


def parse_local_time(text) -> str | None:
    """A release time as people type it ('01.12.2026 09:00', '1.12.2026 9.00 Uhr', '2026-12-01T09:00') → ISO text;
    empty → None. ValueError says what is expected."""
    text = str(text or "").strip()
    if not text:
        return None
    match = _GERMAN_TIME.match(text)
    try:
        if match:
            day, month, year, hour, minute = map(int, match.groups())
            return datetime(year, month, day, hour, minute).isoformat(timespec="minutes")
        return datetime.fromisoformat(text.replace(" ", "T")).isoformat(timespec="minutes")
    except ValueError:
        raise ValueError(tr("ra_bad_time").format(text=repr(text))) from None


def perform(atlas: Atlas, viewer: Principal, action: str, version_id, at=None, reason: str = "") -> str:
    """Take one release step through its service; the message says what happened and what comes next.

    Raises `versions.VersionError` (refused by the service) or ValueError (an unreadable time).
    """
    if action == "release_internal":
        versions.release(atlas, viewer, version_id, "internal")
        indices.recompute_stale(atlas)  # saved indices over this input get a new draft
        return tr("ra_internal").format(v=version_id)
    if action == "release_public":
        result = versions.release(atlas, viewer, version_id, "public", parse_local_time(at))
        indices.recompute_stale(atlas)
        if result["scheduled"]:
            when = datetime.fromisoformat(result["scheduled"]["at"])
            return tr("ra_scheduled").format(v=version_id, when=f"{when:%d.%m.%Y %H:%M}")
        return tr("ra_public").format(v=version_id)
    if action == "unschedule":
        result = versions.unschedule(atlas, viewer, version_id)
        return tr("ra_unscheduled").format(v=version_id, state=tr("state_" + result["state"]))
    if action == "rollback":
        versions.rollback(atlas, viewer, version_id, reason)
        return tr("ra_rolled_back").format(v=version_id)
    raise versions.VersionError(400, "bad_action", Message("rel_err_bad_action"))


def _question(action: str, summary: dict) -> str:
    """What the confirmation asks, naming the version, the indicator and its periods."""
    title = summary.get("title_en") if viewer_lang() == "en" and summary.get("title_en") else summary["title_de"]
    what = f"{tr('vt_version')} {summary['version_id']} – {title}, {periods_text(summary['periods'])}"
    return tr("ra_ask_public" if action == "release_public" else "ra_ask_rollback").format(what=what)


CLOSED = (True, "", True, True, None, "", "")  # panel hidden, text, time field hidden, reason hidden, pending, …


def _opened(action: str, summary: dict) -> tuple:
    return (False, _question(action, summary), action != "release_public", action != "rollback",
            {"action": action, "version": summary["version_id"]}, "", "")


def register(app, prefix: str, table_id: str, status_id: str, inputs: list[Input],
             render: Callable[..., object]) -> None:
    """The callback of one page: its version buttons (`{prefix}-act`), the panel, and `inputs` that re-render.

    `render(atlas, viewer, *input values)` draws the table again after every
    step, so it always shows the state and the steps the server allows now.
    """
    @app.callback(
        Output(table_id, "children"), Output(status_id, "children"),
        Output(f"{prefix}-panel", "hidden"), Output(f"{prefix}-panel-text", "children"),
        Output(f"{prefix}-at-field", "hidden"), Output(f"{prefix}-reason-field", "hidden"),
        Output(f"{prefix}-pending", "data"), Output(f"{prefix}-reason", "value"), Output(f"{prefix}-at", "value"),
        Input({"type": f"{prefix}-act", "action": ALL, "version": ALL}, "n_clicks"),
        Input(f"{prefix}-do", "n_clicks"), Input(f"{prefix}-abort", "n_clicks"), *inputs,
        State(f"{prefix}-pending", "data"), State(f"{prefix}-at", "value"), State(f"{prefix}-reason", "value"),
    )
    def on_step(_clicks, _do, _abort, *rest):
        values, (pending, at, reason) = rest[:len(inputs)], rest[len(inputs):]
        atlas, viewer = current_atlas(), current_principal()
        if not may_upload(viewer):
            return ([], "", *CLOSED)
        status, panel = "", CLOSED
        trigger = ctx.triggered_id
        clicked = bool(ctx.triggered and ctx.triggered[0].get("value"))
        if isinstance(trigger, dict) and trigger.get("type") == f"{prefix}-act" and clicked:
            action, vid = trigger.get("action"), trigger.get("version")
            summary = versions.describe(atlas, viewer, vid)
            if summary is None:
                status = refusal(versions.NOT_FOUND)
            elif action in CONFIRMED:
                panel = _opened(action, summary)
            elif action in DIRECT:
                status = _attempt(atlas, viewer, action, vid)
        elif trigger == f"{prefix}-do" and clicked and isinstance(pending, dict):
            action, vid = pending.get("action"), pending.get("version")
            summary = versions.describe(atlas, viewer, vid)
            if summary is None or action not in CONFIRMED:
                status = refusal(versions.NOT_FOUND)
            elif action == "rollback" and not str(reason or "").strip():
                status = tr("ra_need_reason")
                panel = _opened(action, summary)
            else:
                try:
                    status = perform(atlas, viewer, action, vid, at, reason)
                except versions.VersionError as exc:
                    status = tr("ra_not_done").format(exc=refusal(exc))
                except ValueError as exc:  # an unreadable time: the panel stays open to correct it
                    status = tr("ra_not_done").format(exc=refusal(exc))
                    panel = _opened(action, summary)[:-1] + (at,)
        elif trigger == f"{prefix}-abort" and clicked:
            status = tr("ra_aborted")
        return (render(atlas, viewer, *values), status, *panel)

    app.clientside_callback(  # assets/release.js: bring an opened confirmation into view
        "function(hidden, id) { return window.ortsatlas.release.showPanel(hidden, id); }",
        Output(f"{prefix}-panel", "tabIndex"), Input(f"{prefix}-panel", "hidden"), State(f"{prefix}-panel", "id"),
        prevent_initial_call=True,
    )


def _attempt(atlas: Atlas, viewer: Principal, action: str, vid, at=None, reason: str = "") -> str:
    """`perform`, with a refusal turned into its message."""
    try:
        return perform(atlas, viewer, action, vid, at, reason)
    except (versions.VersionError, ValueError) as exc:
        return tr("ra_not_done").format(exc=refusal(exc))


def refusal(exc: Exception) -> str:
    """A refused step's reason in the page's language: the service's catalogue `Message` said in it (its str
    value is German), other text (a time already worded in the page's language) as it is."""
    return say(exc.args[0], viewer_lang()) if exc.args else str(exc)
