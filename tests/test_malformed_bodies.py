"""Malformed bodies answer 400 with a specific message, never a server error (issue 18, finding 5):
the cases the attack run found, then property tests (hypothesis) of every POST route of /api/v1, the
login form and the Dash dispatch.
"""
from __future__ import annotations

import io
import json
import re
import zipfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from tests.conftest import fresh_client, writer

HEADER = "Ortsteil;Zeitraum;Indikator;Wert;Zähler;Nenner\n"
GOOD = "0101;2024-Q4;sgb2_quote;;300;3000\n"
PROPERTY = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _deep(n: int) -> str:
    return "[" * n + "]" * n


def _deep_object(n: int) -> str:
    return '{"a": ' * n + "1" + "}" * n


def _upload(client, token, content: bytes, name: str = "x.csv", **fields):
    data = {"file": (io.BytesIO(content), name), **fields}
    return client.post("/api/v1/uploads", data=data, content_type="multipart/form-data",
                       headers={"X-CSRFToken": token})


def _xlsx_without_sheets() -> bytes:
    """A workbook whose sheet list is empty (the attack run's file; openpyxl cannot write one)."""
    wb = Workbook()
    buf = io.BytesIO()
    wb.save(buf)
    out = io.BytesIO()
    with zipfile.ZipFile(buf) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/workbook.xml":
                data = re.sub(rb"<sheets>.*</sheets>", b"<sheets/>", data, flags=re.S)
            if item.filename.startswith("xl/worksheets/"):
                continue
            dst.writestr(item, data)
    return out.getvalue()


def _message(resp) -> str:
    body = resp.get_json(silent=True) or {}
    return " ".join([str(body.get("message", ""))] + [e.get("message", "") for e in body.get("errors", [])])


UPLOAD_CASES = [
    ("unicode digits, fast path", (HEADER + "".join(f"{a};２０２４-Q4;sgb2_quote;;３００;３０００\n"
                                                    for a in ("0101", "0102", "0103"))).encode(), {}, None),
    ("arabic digits", (HEADER + "0101;2024-Q4;sgb2_quote;;٣٠٠;3000\n").encode(), {}, "Ziffern 0–9"),
    ("xlsx without sheets", _xlsx_without_sheets(), {"name": "x.xlsx"}, "Blatt"),
    ("deeply nested mapping", (HEADER + GOOD).encode(), {"mapping": _deep_object(50_000)}, "verschachtelt"),
    ("deeply nested list mapping", (HEADER + GOOD).encode(), {"mapping": _deep(100_000)}, "verschachtelt"),
    ("deeply nested new_indicators", (HEADER + GOOD).encode(), {"new_indicators": _deep(100_000)},
     "verschachtelt"),
    ("mapping of the wrong shape", (HEADER + GOOD).encode(), {"mapping": '{"indicator_columns": "abc"}'},
     "falsche Form"),
    ("mapping with a list for a column", (HEADER + GOOD).encode(), {"mapping": '{"area": ["Ortsteil"]}'},
     "falsche Form"),
    ("scale abc", (HEADER + "0101;2024;neu_x;5;;\n").encode(), {"new_indicators": json.dumps([{
        "id": "neu_x", "title_de": "Neu", "title_en": "New", "definition_de": "d", "definition_en": "d",
        "domain": "soziales", "unit": "%", "department": "soziales", "visibility": "internal",
        "polarity": "neutral", "decimals": 1, "aggregation": "ratio", "periodicity": "year", "source": "s",
        "contact": "c", "licence": "l", "numerator": "a", "denominator": "b", "scale": "abc"}])}, "scale"),
    ("new_indicators not a list", (HEADER + GOOD).encode(), {"new_indicators": '{"id": 1}'}, "Liste"),
    ("a thousand new indicators", (HEADER + GOOD).encode(), {"new_indicators": json.dumps([{}] * 1000)},
     "höchstens 100"),
    ("total_tolerance text", (HEADER + GOOD).encode(), {"total_tolerance": "viel"}, "total_tolerance"),
]


@pytest.mark.parametrize("case,content,fields,words", UPLOAD_CASES, ids=[c[0] for c in UPLOAD_CASES])
def test_malformed_uploads_get_a_specific_answer(scratch_app, case, content, fields, words):
    client, token = writer(scratch_app, "sozialamt")
    fields = dict(fields)
    name = fields.pop("name", "x.csv")
    resp = _upload(client, token, content, name, **fields)
    if words is None:  # read as the digits they are: an ordinary check
        assert resp.status_code == 200, (case, resp.status_code, _message(resp))
        assert resp.get_json()["periods"] == ["2024-Q4"]
        return
    assert resp.status_code in (400, 422), (case, resp.status_code)
    assert words in _message(resp), (case, _message(resp))


def test_crlf_in_next_is_never_a_header(scratch_app):
    client = fresh_client(scratch_app)
    for target in ("/%0d%0aSet-Cookie:%20x=1", "/\r\nSet-Cookie: x=1", "/ok\nLocation: http://evil.example"):
        page = client.get("/login", query_string={"next": target})
        assert page.status_code == 200 and "Set-Cookie: x" not in page.headers.get("Location", "")
        from tests.conftest import csrf_token
        resp = client.post("/login", data={"username": "sozialamt", "password": "demo-sozialamt",
                                           "csrf_token": csrf_token(client), "next": target})
        assert resp.status_code in (303, 400), resp.status_code
        assert "\r" not in resp.headers.get("Location", "") and "\n" not in resp.headers.get("Location", "")
        assert "x=1" not in str(resp.headers.getlist("Set-Cookie"))
        client.post("/logout", data={"csrf_token": csrf_token(client)})


NOT_OBJECTS = ["[1, 2]", '"to"', "17", "null", "true", _deep(100_000), _deep_object(100_000), "{", "\ud800",
               '{"to": ["public"]}', '{"to": {"a": 1}}', '{"at": 12}', '{"reason": ["x"]}']
WRITE_ROUTES = ["/api/v1/versions/1/release", "/api/v1/versions/1/rollback", "/api/v1/versions/1/unschedule",
                "/api/v1/indicators/bev_u6/visibility", "/api/v1/indicators/bev_u6/metadata",
                "/api/v1/uploads/xxxxxxxxxxxxxxxxxxxxxxxx/confirm", "/api/v1/uploads/xxxxxxxxxxxxxxxxxxxxxxxx/cancel",
                "/api/v1/notes", "/api/v1/indices/preview", "/api/v1/typology/preview", "/api/v1/indices",
                "/api/v1/indices/recompute", "/api/v1/targets", "/api/v1/uploads", "/api/v1/boundaries"]


@pytest.mark.parametrize("route", WRITE_ROUTES)
def test_json_that_is_not_what_a_route_expects_is_a_client_error(scratch_app, route):
    admin, token = writer(scratch_app, "admin")
    for body in NOT_OBJECTS:
        resp = admin.post(route, data=body.encode("utf-8", "surrogatepass"), content_type="application/json",
                          headers={"X-CSRFToken": token})
        assert resp.status_code < 500, (route, body[:30], resp.status_code)
        if resp.status_code >= 400:  # a route whose body is optional may ignore what is not an object
            answer = resp.get_json()
            assert answer.get("message") or answer.get("errors"), (route, body[:30])


def test_dash_dispatch_refuses_malformed_bodies_with_400(scratch_app):
    for client in (fresh_client(scratch_app), writer(scratch_app, "admin")[0]):
        for body in NOT_OBJECTS + ['{"output": 1}', '{"output": "x.y", "inputs": 5}',
                                   '{"output": "a.b", "outputs": {"id": "a", "property": "b"}, "inputs": [], '
                                   '"changedPropIds": []}']:
            resp = client.post("/_dash-update-component", data=body.encode("utf-8", "surrogatepass"),
                               content_type="application/json")
            assert 400 <= resp.status_code < 500, (body[:40], resp.status_code)


JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                                 max_size=4), max_leaves=12)
KEYS = st.sampled_from(["to", "at", "reason", "title_de", "indicator_id", "text", "recipe", "components", "level",
                        "period", "target", "value", "area_id", "weights", "name", "method", "k", "indicators"])
BODIES = st.dictionaries(KEYS, JSON, max_size=5) | JSON


@PROPERTY
@given(route=st.sampled_from(WRITE_ROUTES[:-2]), body=BODIES)
def test_property_no_post_route_answers_5xx(scratch_app, route, body):
    client, token = _admin(scratch_app)
    resp = client.post(route, json=body, headers={"X-CSRFToken": token})
    assert resp.status_code < 500, (route, body, resp.status_code)


@PROPERTY
@given(fields=st.dictionaries(st.sampled_from(["mapping", "new_indicators", "sheet", "total_tolerance",
                                               "boundary_set"]), JSON.map(json.dumps) | st.text(max_size=40),
                              max_size=4),
       content=st.sampled_from([(HEADER + GOOD).encode(), b"a;b\n1;2\n", _xlsx_without_sheets(), b"",
                                (HEADER + "0101;２０２４-Q4;sgb2_quote;;1;10\n").encode()]))
def test_property_uploads_never_answer_5xx(scratch_app, fields, content):
    client, token = _admin(scratch_app)
    resp = _upload(client, token, content, **fields)
    assert resp.status_code < 500, (fields, resp.status_code)


@PROPERTY
@given(body=BODIES)
def test_property_dash_dispatch_never_answers_5xx(scratch_app, body):
    resp = fresh_client(scratch_app).post("/_dash-update-component", json=body)
    assert resp.status_code < 500, (body, resp.status_code)


def _admin(app):
    cached = getattr(app, "_malformed_admin", None)
    if cached is None:
        cached = app._malformed_admin = writer(app, "admin")
        resp = cached[0].post("/api/v1/versions/999999/release", json={"to": "internal"},
                              headers={"X-CSRFToken": cached[1]})
        assert resp.status_code == 404  # signed in with a valid CSRF token: the routes are really reached
    return cached


@PROPERTY
@given(data=st.data())
def test_property_callbacks_never_answer_5xx_to_any_input_values(scratch_app, data):
    """Every callback, with whatever values a hand-made request puts in its inputs and states."""
    from tests.dash_requests import callback_payload
    fresh_client(scratch_app).get("/_dash-dependencies")  # Dash completes its callback map on the first request
    key = data.draw(st.sampled_from(sorted(scratch_app.callback_map)), label="callback")
    spec = scratch_app.callback_map[key]
    names = [f"{d['id']}.{d['property']}" for d in spec["inputs"] + spec.get("state", [])]
    values = {n: data.draw(JSON, label=n) for n in names}
    client = data.draw(st.sampled_from(["anonymous", "admin"]), label="client")
    http = fresh_client(scratch_app) if client == "anonymous" else _admin(scratch_app)[0]
    resp = http.post("/_dash-update-component", json=callback_payload(scratch_app, key, values))
    assert resp.status_code < 500, (key, values, resp.status_code)
