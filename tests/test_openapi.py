"""The OpenAPI description of /api/v1: complete, and true of the app (schemathesis).

Schemathesis generates requests from the document for every operation, sends
them to the app in-process (WSGI) anonymously and with a steward's bearer
token on a scratch store, and checks every answer: no server error, a status
code, content type and body the document declares. Bounded in examples, so
the run stays under about a minute; a failure prints the request to replay.
"""
from __future__ import annotations

import re

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from atlas.web.http import EXTENSION
from atlas.web.openapi import ROUTES, spec


def described(app) -> set[tuple[str, str]]:
    return {(op.method, op.path) for op in ROUTES}


def served(app) -> set[tuple[str, str]]:
    """Every (method, path) under /api/v1 the app answers, with Flask's <name> as OpenAPI's {name}."""
    out = set()
    for rule in app.server.url_map.iter_rules():
        if rule.rule.startswith("/api/v1/"):
            path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
            out |= {(m.lower(), path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    return out


def test_every_route_under_api_v1_is_described_and_nothing_else(dash_app):
    missing, stale = served(dash_app) - described(dash_app), described(dash_app) - served(dash_app)
    assert missing == set(), f"add an Op(...) to atlas/web/openapi.py ROUTES for: {sorted(missing)}"
    assert stale == set(), f"ROUTES describes routes the app does not have: {sorted(stale)}"


def test_the_document_is_served_and_every_reference_resolves(client, atlas):
    resp = client.get("/api/v1/openapi.json")
    assert resp.status_code == 200 and resp.mimetype == "application/json"
    doc = resp.get_json()
    assert doc == spec(atlas) and doc["openapi"].startswith("3.1")
    refs = set(re.findall(r'"#/components/schemas/([^"]+)"', resp.get_data(as_text=True)))
    assert refs and refs <= set(doc["components"]["schemas"])
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            declared = {p["name"] for p in op["parameters"] if p["in"] == "path"}
            assert declared == set(re.findall(r"{([^}]+)}", path)), (method, path)


@pytest.fixture(scope="module")
def api_app(atlas, tmp_path_factory):
    """One scratch copy of the demo store for every run here (the runs write drafts and tokens to it)."""
    import dataclasses
    import shutil

    from atlas.services.context import Atlas
    from atlas.web.app import create_app
    data = tmp_path_factory.mktemp("openapi") / "data"
    shutil.copytree(atlas.store.data_dir, data, ignore=shutil.ignore_patterns("uploads", "tmp", "sessions"))
    return create_app(atlas=Atlas(dataclasses.replace(atlas.settings, data_dir=data, tmp_dir=data / "tmp")))


@pytest.fixture(params=["anonymous", "steward"])
def auth_headers(request, api_app) -> dict:
    """No credentials, or a steward's bearer token (the store's own, as `python -m atlas tokens add` makes).

    Uncompressed answers: the in-process transport hands schemathesis the bytes as sent.
    """
    plain = {"Accept-Encoding": "identity"}
    if request.param == "anonymous":
        return plain
    tokens = api_app.server.extensions[EXTENSION].tokens
    return {**plain, "Authorization": f"Bearer {tokens.add('sozialamt', 'schemathesis', actor='test').token}"}


# Answers besides 2xx/401/403/404/409 that a request the document allows may get, and why. Files are
# checked by the server (422 lists every problem; a form field's JSON is read then); the other 400s
# are reported to be changed in the routes (404 like every other "does not exist"; accept 7.0).
ALSO_ACCEPTED = {
    "POST /api/v1/uploads": ([400, 422], "the file's content and JSON form fields are checked by the server"),
    "POST /api/v1/boundaries": ([400, 422], "the file's content and JSON form fields are checked by the server"),
    "POST /api/v1/grids": ([400, 422], "the grid file, crosswalk and points files are checked by the server"),
    "GET /api/v1/change": ([400], "a period key the indicator does not have answers 400; /values answers no rows"),
    "GET /api/v1/compare": ([400], "an unknown area key answers 400; /profile answers 404"),
    "POST /api/v1/typology/preview": ([400], "'years': 7.0 is an integer in JSON (Schema) but answers 400"),
}
# Operations with a query parameter or a body: the only places a request can break the document.
NEGATABLE = [f"{op.method.upper()} {op.path}" for op in ROUTES
             if op.body is not None or any(p["in"] == "query" for p in op.params)]


def load(app, mode: str):
    config = schemathesis.Config.from_dict({
        "generation": {"mode": mode},
        "operations": [{"include-name": name, "checks": {"positive_data_acceptance": {
            "expected-statuses": ["2XX", "3XX", 401, 403, 404, 409, 429, *also]}}}
            for name, (also, _why) in ALSO_ACCEPTED.items()],
    })
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app.server, config=config)


@pytest.fixture()
def allowed_requests(api_app, auth_headers):
    return load(api_app, "positive")


@pytest.fixture()
def forbidden_requests(api_app, auth_headers):
    return load(api_app, "negative")


def bounded(examples: int):
    """Few examples per operation (about 45 operations, two viewers): the run stays near a minute."""
    return settings(max_examples=examples, deadline=None, database=None, derandomize=True,
                    phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))


@pytest.mark.slow
@schemathesis.pytest.from_fixture("allowed_requests").parametrize()
@bounded(4)
def test_requests_the_document_allows_get_the_answers_it_describes(case, auth_headers):
    """Every check: no server error, and status, content type and body as documented."""
    case.call_and_validate(headers=auth_headers)


@pytest.mark.slow
@schemathesis.pytest.from_fixture("forbidden_requests").include(name=NEGATABLE).parametrize()
@bounded(3)
def test_requests_the_document_forbids_never_crash_the_server(case, auth_headers):
    """The server may be more lenient than the document (an unknown `lang` is German), never fail."""
    case.call_and_validate(headers=auth_headers, checks=[not_a_server_error])
