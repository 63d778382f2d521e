"""One log line per request (JSON or text): request id, user, route, status, duration; no query strings,
cookies, tokens or passwords (issue 18, deployment)."""
from __future__ import annotations

import dataclasses
import io
import json
import logging

import pytest

from atlas.web.request_log import JsonFormatter, _RequestIdFilter
from tests.conftest import DEMO_PASSWORDS, csrf_token, fresh_client, login


@pytest.fixture()
def request_lines():
    """The `atlas.request` lines written during the test, each parsed from JSON."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(_RequestIdFilter())
    logger = logging.getLogger("atlas.request")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_a_request_line_names_id_user_route_status_and_duration(dash_app, request_lines):
    client = fresh_client(dash_app)
    login(client, "intern")
    resp = client.get("/api/v1/values?indicator=bev_u6&level=stadt&note=geheim-im-query")
    line = next(e for e in request_lines() if e["path"] == "/api/v1/values")
    assert line["request_id"] == resp.headers["X-Request-Id"] and len(line["request_id"]) == 32
    assert (line["method"], line["route"], line["status"], line["user"]) == ("GET", "/api/v1/values", 200, "intern")
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "INFO" and line["logger"] == "atlas.request" and "T" in line["time"]
    profile = fresh_client(dash_app).get("/profil/0101")
    assert next(e for e in request_lines() if e["path"] == "/profil/0101")["user"] == "-"  # anonymous
    assert profile.headers["X-Request-Id"] != resp.headers["X-Request-Id"]


def test_no_secret_reaches_the_log(dash_app, request_lines):
    client = fresh_client(dash_app)
    login(client, "sozialamt")
    token = csrf_token(client)
    client.get("/api/v1/indicators?q=geheim-im-query")
    client.post("/logout", data={"csrf_token": token})
    text = json.dumps(request_lines())
    assert "geheim-im-query" not in text and DEMO_PASSWORDS["sozialamt"] not in text and token not in text
    assert client.get_cookie("session") is None or client.get_cookie("session").value not in text
    assert "csrf" not in text.lower() and "cookie" not in text.lower() and "password" not in text.lower()
    assert {e["path"] for e in request_lines()} >= {"/login", "/api/v1/indicators", "/logout"}


def test_health_probes_log_at_debug_unless_they_fail(dash_app, request_lines):
    fresh_client(dash_app).get("/healthz")
    fresh_client(dash_app).get("/api/v1/values?indicator=no_such")
    levels = {e["path"]: e["level"] for e in request_lines()}
    assert levels["/healthz"] == "DEBUG" and levels["/api/v1/values"] == "INFO"


def test_the_proxys_request_id_is_kept_only_behind_the_proxy(atlas, request_lines):
    from atlas.services.context import Atlas
    from atlas.web.app import create_app
    proxied = create_app(atlas=Atlas(dataclasses.replace(atlas.settings, behind_proxy=True)))
    assert fresh_client(proxied).get("/healthz", headers={"X-Request-Id": "nginx-4f2a"}).headers[
        "X-Request-Id"] == "nginx-4f2a"
    forged = fresh_client(proxied).get("/healthz", headers={"X-Request-Id": "x injected;line"})
    assert "injected" not in forged.headers["X-Request-Id"] and len(forged.headers["X-Request-Id"]) == 32


def test_without_the_proxy_an_offered_request_id_is_ignored(dash_app):
    resp = fresh_client(dash_app).get("/healthz", headers={"X-Request-Id": "chosen-by-the-client"})
    assert resp.headers["X-Request-Id"] != "chosen-by-the-client"


def test_the_text_line_cannot_be_split_by_a_path(dash_app, caplog):
    with caplog.at_level(logging.INFO, logger="atlas.request"):
        fresh_client(dash_app).get("/api/v1/no%0A2026-01-01 INFO forged")
    line = next(r.getMessage() for r in caplog.records if r.name == "atlas.request")
    assert "\n" not in line and "\\x0a" in line and line.startswith("GET /api/v1/no") and " 404 " in line


def test_other_lines_of_a_request_carry_its_id_and_tracebacks_stay_in_one_json_line(dash_app):
    record = logging.LogRecord("atlas.x", logging.ERROR, __file__, 1, "boom %s", ("here",), None)
    with dash_app.server.test_request_context("/"):
        from flask import g
        g.request_id = "abc123"
        _RequestIdFilter().filter(record)
    try:
        raise RuntimeError("inner detail")
    except RuntimeError:
        import sys
        record.exc_info = sys.exc_info()
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert "\n" not in line and entry["request_id"] == "abc123" and entry["message"] == "boom here"
    assert "RuntimeError: inner detail" in entry["exception"]


@pytest.mark.parametrize("value,expected", [("", "text"), ("json", "json"), ("JSON", "json"), ("text", "text")])
def test_the_log_format_setting(monkeypatch, value, expected):
    from atlas.config import load_settings
    monkeypatch.setenv("ATLAS_LOG_FORMAT", value)
    assert load_settings().log_format == expected


def test_an_unknown_log_format_stops_the_start(monkeypatch):
    from atlas.config import load_settings
    monkeypatch.setenv("ATLAS_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="ATLAS_LOG_FORMAT"):
        load_settings()
