"""Logs: one line per request, as JSON for a log collector or as text for a developer (ATLAS_LOG_FORMAT).

Each request line says: request id, method, route (the URL rule) and path,
status, duration in milliseconds and who asked (an account name, or "-").
Never logged: query strings (they may carry what a viewer typed), cookies,
headers, form fields or bodies. Every other log line written while a request
runs carries the same request id, and the answer returns it in
`X-Request-Id` so a person can quote it. Behind the reverse proxy
(ATLAS_BEHIND_PROXY=1) the proxy's `X-Request-Id` is kept, so nginx's access
log and the app's lines join up.

Health probes (/healthz, /readyz) log at DEBUG while they answer 200: a
load balancer asks every few seconds.
"""
from __future__ import annotations

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request

from auth import current_principal

log = logging.getLogger("atlas.request")
FORMATS = ("text", "json")
PROBES = ("/healthz", "/readyz")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; anything else was passed in `extra` and goes into the JSON line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request id, the `extra` fields, and
    the exception's traceback as one string (a stack trace stays in the log, never in an answer)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
                 "level": record.levelname, "logger": record.name, "message": record.getMessage()}
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD and not k.startswith("_")})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class _RequestIdFilter(logging.Filter):
    """Stamp every record written during a request with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None) and has_request_context():
            record.request_id = g.get("request_id")
        return True


def configure_logging(log_format: str) -> None:
    """The root logger's one handler, in the chosen format (idempotent: several apps in one process).

    Leaves a root logger alone that someone else configured already (gunicorn
    with --log-config, pytest), as logging.basicConfig would.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if getattr(h, "_atlas", False)]
    if root.handlers and not ours:
        return
    handler = ours[0] if ours else logging.StreamHandler()
    handler._atlas = True
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(_TEXT_FORMAT))
    if not any(isinstance(f, _RequestIdFilter) for f in handler.filters):
        handler.addFilter(_RequestIdFilter())
    if not ours:
        root.addHandler(handler)
    root.setLevel(logging.INFO)


def install_request_log(server: Flask, behind_proxy: bool) -> None:
    """Time every request from its first hook, and log one line when its answer is ready."""

    def start() -> None:
        g.request_started = time.perf_counter()
        offered = request.headers.get("X-Request-Id", "") if behind_proxy else ""
        g.request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex

    def finish(response: Response) -> Response:
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers["X-Request-Id"] = request_id
        started = g.get("request_started")
        duration = round((time.perf_counter() - started) * 1000, 1) if started is not None else None
        viewer = current_principal()
        fields = {"request_id": request_id, "method": request.method,
                  "route": request.url_rule.rule if request.url_rule is not None else "-",
                  "path": request.path, "status": response.status_code, "duration_ms": duration,
                  "user": viewer.name if viewer.logged_in else "-"}
        level = logging.ERROR if response.status_code >= 500 else logging.INFO
        if request.path in PROBES and response.status_code == 200:
            level = logging.DEBUG
        log.log(level, _text_line(fields), extra=fields)  # the JSON line also has each field on its own
        return response

    server.before_request_funcs.setdefault(None, []).insert(0, start)  # before the auth hooks: time them too
    server.after_request(finish)


def _text_line(fields: dict) -> str:
    """`GET /api/v1/values 200 12.3 ms user=intern id=…`, the path with control characters escaped
    (a decoded %0A must not start a forged line)."""
    path = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", fields["path"])
    return (f"{fields['method']} {path} {fields['status']} {fields['duration_ms']} ms "
            f"user={fields['user']} id={fields['request_id']}")
