"""HTTP helpers every route and callback shares: the app's context, error bodies, JSON cells.

`current_atlas()` is the one way web code reaches the application context:
the context belongs to the app that serves the request (two apps in one
process, as in tests, never share one).
"""
from __future__ import annotations

import math

import pandas as pd
from flask import Response, current_app, g, has_request_context, jsonify, request

from atlas.i18n import norm_lang
from atlas.messages import Message, say
from atlas.services import territory
from atlas.services.context import Atlas
from auth import current_principal
from auth.login import csrf
from auth.permissions import may_read_level

EXTENSION = "ortsatlas"


def current_atlas() -> Atlas:
    """The context of the app serving this request (set by `atlas.web.app.create_app`)."""
    return current_app.extensions[EXTENSION]


def not_found() -> Response:
    """The one answer for 'does not exist' and 'you may not see it': nothing tells them apart (the same words
    for both, in the caller's language)."""
    return error_response(404, "not_found", Message("api_indicator_not_found"))


def error_response(status: int, code: str, message: str) -> Response:
    """A refusal as JSON: `code` for the client to branch on, `message` for a person. A catalogue `Message` (a
    service's refusal) is said in the caller's language, `?lang=` and German by default like every API answer;
    other text is sent as it is."""
    lang = norm_lang(request.args.get("lang")) if has_request_context() else "de"
    resp = jsonify({"error": code, "message": say(message, lang)})
    resp.status_code = status
    return resp


def clean(value):
    """JSON has no NaN: missing numbers become null."""
    if (isinstance(value, float) and math.isnan(value)) or value is pd.NaT or value is pd.NA:
        return None
    if hasattr(value, "item"):
        return clean(value.item())
    return value


def records(frame, columns) -> list[dict]:
    return [{c: clean(v) for c, v in zip(columns, row)} for row in frame[columns].itertuples(index=False)]


def readable_levels() -> tuple[str, ...]:
    """The store's level ids the viewer may read, base first (a partner token: its granted levels)."""
    viewer = current_principal()
    return tuple(lv for lv in territory.level_ids(current_atlas()) if may_read_level(viewer, lv))


def level_arg() -> str | Response:
    """The `level` argument: one of the levels the viewer may read (default: the lowest of them)."""
    ids = readable_levels()
    level = request.args.get("level") or (ids[0] if ids else "")
    if level not in ids:
        return error_response(400, "bad_level", f"level must be one of {', '.join(ids)}; got {level!r}")
    return level


def needs_csrf() -> None:
    """A write with a session cookie must carry the CSRF token (raises CSRFError → 400); bearer tokens need not."""
    if g.get("bearer_principal") is None:
        csrf.protect()


def signed_in_write() -> Response | None:
    """A write by a signed-in viewer: a 401 answer without an account, else the CSRF check; None when it may go on."""
    if not current_principal().logged_in:
        return error_response(401, "unauthorized", Message("api_sign_in"))
    needs_csrf()
    return None
