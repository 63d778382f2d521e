"""Issue 18's security findings, each as the attack that found it: sessions after logout, what hidden
indicators give away, response headers and versions, Dash callbacks without a CSRF token, health output."""
from __future__ import annotations

import io
import json

import pytest

from tests.conftest import csrf_token, fresh_client, login, writer


def who(client) -> int:
    """How many indicators the client may see: 18 public, 31 internal (sozialamt too), 32 admin."""
    return client.get("/api/v1/indicators").get_json()["count"]


def upload_status(client, token: str) -> int:
    """POST a small extract to the upload API as this client; the status says whether it was let in."""
    body = "Ortsteil;Zeitraum;Indikator;Wert\n0101;2024-Q4;sgb2_quote;5,1\n".encode()
    return client.post("/api/v1/uploads", data={"file": (io.BytesIO(body), "x.csv")},
                       content_type="multipart/form-data", headers={"X-CSRFToken": token}).status_code


@pytest.fixture()
def two_workers(scratch_atlas):
    """Two apps on one data directory, each with its own context: what two gunicorn workers are."""
    from atlas.web.app import create_app
    return create_app(scratch_atlas.settings), create_app(scratch_atlas.settings)


# ------------------------------------------------------------------ finding 1: sessions end on the server
def thief(app, cookie: str):
    """A client that sends a copied session cookie (and ignores any answer that deletes it)."""
    client = fresh_client(app)
    client.set_cookie("session", cookie)
    return client


def test_a_copied_cookie_is_anonymous_after_logout_in_every_worker(two_workers):
    one, two = two_workers
    owner = fresh_client(one)
    login(owner, "sozialamt")
    token = csrf_token(owner)
    stolen = owner.get_cookie("session").value
    assert [who(thief(app, stolen)) for app in (one, two)] == [31, 31]  # signed in in both workers, as the owner

    assert owner.post("/logout", data={"csrf_token": token}).status_code == 303
    assert [who(thief(app, stolen)) for app in (one, two)] == [18, 18]
    assert [upload_status(thief(app, stolen), token) for app in (one, two)] == [401, 401]


def test_logout_in_one_worker_ends_only_that_session(two_workers):
    one, two = two_workers
    phone, desk = fresh_client(one), fresh_client(two)
    login(phone, "sozialamt")
    login(desk, "sozialamt")
    assert phone.post("/logout", data={"csrf_token": csrf_token(phone)}).status_code == 303
    assert who(phone) == 18 and who(desk) == 31 and who(thief(one, desk.get_cookie("session").value)) == 31


def test_signing_in_again_ends_the_previous_session(two_workers):
    one, two = two_workers
    client = fresh_client(one)
    login(client, "sozialamt")
    before = client.get_cookie("session").value
    login(client, "sozialamt")
    assert who(client) == 31 and who(thief(two, before)) == 18


@pytest.mark.parametrize("change", ["password", "role", "disable"])
def test_account_changes_end_sessions_in_every_worker(two_workers, scratch_atlas, change):
    one, two = two_workers
    client = fresh_client(one)
    login(client, "sozialamt")
    stolen = client.get_cookie("session").value
    users = scratch_atlas.users
    {"password": lambda: users.set_password("sozialamt", "a-new-password-1", actor="test"),
     "role": lambda: users.set_role("sozialamt", "internal", [], actor="test"),
     "disable": lambda: users.set_disabled("sozialamt", True, actor="test")}[change]()
    assert who(client) == 18 and who(thief(two, stolen)) == 18


def test_a_cookie_from_before_session_ids_is_anonymous(two_workers, scratch_atlas):
    """The old form `user:nonce` (no server session) signs nobody in."""
    one, _ = two_workers
    client = fresh_client(one)
    login(client, "sozialamt")
    with client.session_transaction() as s:
        s["_user_id"] = scratch_atlas.users.get("sozialamt").session_id
    assert who(client) == 18


# ------------------------------------------------------------------ the registry itself
def test_the_registry_is_shared_through_its_file_and_keeps_no_session_ids(tmp_path):
    from auth.sessions import SessionRegistry
    a, b = SessionRegistry(tmp_path, 3600), SessionRegistry(tmp_path, 3600)
    first, second = a.open("anna"), a.open("anna")
    assert b.is_open(first, "anna") and b.is_open(second, "anna")
    assert not b.is_open(first, "bert") and not b.is_open("made-up", "anna") and not b.is_open("", "anna")
    b.close(first)
    assert not a.is_open(first, "anna") and a.is_open(second, "anna")
    text = (tmp_path / "open.jsonl").read_text()
    assert first not in text and second not in text


def test_a_session_ends_after_the_absolute_lifetime(tmp_path, monkeypatch):
    import auth.sessions
    registry = auth.sessions.SessionRegistry(tmp_path, 12 * 3600)
    sid = registry.open("anna")
    opened = auth.sessions.time.time()
    monkeypatch.setattr(auth.sessions.time, "time", lambda: opened + 12 * 3600 + 1)
    assert not registry.is_open(sid, "anna")


def test_compaction_keeps_exactly_the_open_sessions(tmp_path, monkeypatch):
    import auth.sessions
    monkeypatch.setattr(auth.sessions, "COMPACT_MIN_LINES", 10)
    writer, reader = auth.sessions.SessionRegistry(tmp_path, 3600), auth.sessions.SessionRegistry(tmp_path, 3600)
    kept = writer.open("anna")
    assert reader.is_open(kept, "anna")  # the reader has read the first file
    closed = []
    for _ in range(20):
        sid = writer.open("bert")
        writer.close(sid)
        closed.append(sid)
    last = writer.open("carl")  # the open that compacts
    lines = (tmp_path / "open.jsonl").read_text().splitlines()
    assert len(lines) < 10  # compacted: a header and the open sessions
    assert reader.is_open(kept, "anna") and reader.is_open(last, "carl")
    assert not any(reader.is_open(sid, "bert") for sid in closed)
    assert json.loads(lines[0])["op"] == "file"


# ------------------------------------------------------------------ finding 8: Dash callbacks need the CSRF token
def plain_client(app):
    """A client that sends only what it is told (no renderer-like CSRF header), from its own address."""
    from flask.testing import FlaskClient
    client = FlaskClient(app.server, app.server.response_class, use_cookies=True)
    client.environ_base["REMOTE_ADDR"] = fresh_client(app).environ_base["REMOTE_ADDR"]
    return client


@pytest.mark.parametrize("origin", [None, "null"], ids=["no-origin", "origin-null"])
def test_a_signed_in_callback_without_the_csrf_token_is_refused(scratch_app, scratch_atlas, origin):
    from tests.test_leaks import admin_action
    admin = plain_client(scratch_app)
    login(admin, "admin")
    values = {"adm-new-name.value": "untergeschoben", "adm-new-role.value": "admin",
              "adm-new-password.value": "forged-password-1"}
    headers = {"Origin": origin} if origin else {}
    resp = admin.post("/_dash-update-component", json=admin_action(scratch_app, "add", values), headers=headers)
    assert resp.status_code == 400 and resp.get_json()["error"] == "csrf"
    assert scratch_atlas.users.get("untergeschoben") is None
    forged = admin.post("/_dash-update-component", json=admin_action(scratch_app, "add", values),
                        headers={**headers, "X-CSRFToken": "forged-token"})
    assert forged.status_code == 400 and scratch_atlas.users.get("untergeschoben") is None
    # The renderer's request (the token from the cookie it can read) goes through: the refusal is about the token.
    token = admin.get_cookie("_csrf_token").value
    ok = admin.post("/_dash-update-component", json=admin_action(scratch_app, "add", values),
                    headers={**headers, "X-CSRFToken": token})
    assert ok.status_code == 200 and scratch_atlas.users.get("untergeschoben").role == "admin"


def test_the_csrf_cookie_belongs_to_the_session(dash_app):
    anon = plain_client(dash_app)
    assert anon.get("/").status_code == 200 and anon.get_cookie("_csrf_token") is None  # nobody signed in
    client = plain_client(dash_app)
    login(client, "intern")
    cookie = client.get_cookie("_csrf_token")
    assert cookie is not None and cookie.http_only is False and cookie.same_site == "Lax"
    assert "Set-Cookie" not in client.get("/api/v1/indicators").headers  # set once, not with every answer
    client.post("/logout", data={"csrf_token": csrf_token(client)})
    assert client.get_cookie("_csrf_token") is None


def test_anonymous_callbacks_need_no_token(dash_app):
    from tests.dash_requests import callback_payload, find_output
    key = find_output(dash_app, "ex-info", "children")
    resp = plain_client(dash_app).post("/_dash-update-component", json=callback_payload(
        dash_app, key, {"ex-indicator.value": "bev_u6", "ex-lang.data": "de"}))
    assert resp.status_code == 200


# ------------------------------------------------------------------ finding 6: probes say nothing about content
def test_health_output_does_not_move_when_a_hidden_draft_is_stored(scratch_app, scratch_atlas):
    from tests.test_workflow import extract, post, upload
    probe = fresh_client(scratch_app)
    before = [probe.get(path).get_data() for path in ("/healthz", "/readyz")]
    steward, token = writer(scratch_app, "sozialamt")
    checked = upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()
    assert post(steward, token, f"/api/v1/uploads/{checked['upload_id']}/confirm").status_code == 201
    after = [probe.get(path).get_data() for path in ("/healthz", "/readyz")]
    assert after == before and json.loads(before[0]) == {"status": "ok"} and json.loads(before[1]) == {"status": "ok"}


@pytest.mark.parametrize("damage", ["manifest", "table file"])
def test_readyz_answers_503_without_details_when_the_store_cannot_be_read(scratch_app, scratch_atlas, damage):
    client = fresh_client(scratch_app)
    assert client.get("/readyz").status_code == 200
    store = scratch_atlas.store
    if damage == "manifest":
        store.manifest_path.write_text("{ not json")
    else:
        (store.data_dir / store.manifest()["tables"]["areas"]).unlink()
    resp = client.get("/readyz")
    assert resp.status_code == 503 and resp.get_json() == {"status": "unavailable"}
    assert resp.headers["Cache-Control"] == "no-store"
    health = client.get("/healthz")
    assert health.status_code == 200 and health.get_json() == {"status": "ok"}  # alive all the same


# ------------------------------------------------------------------ finding 6: upload checks and hidden indicators
HIDDEN = ("hze_quote", "Hilfen zur Erziehung je 1.000 unter 21")  # the youth office's restricted indicator
MADE_UP = ("xyz_quote", "Erfundene Hilfen je 1.000 unter 21")  # exists nowhere
SOCIAL = "sozialamt"  # a steward of another department: may not know HIDDEN exists


def wide_extract(atlas, column: str) -> bytes:
    """A wide extract with one indicator column, headed by an id or a title."""
    from atlas.services import queries
    areas = queries.areas(atlas, "ortsteil", queries.set_for_period(atlas, "2024"))["area_id"]
    lines = [f"Ortsteil;Zeitraum;{column}"] + [f"{a};2024;{10 + i},5" for i, a in enumerate(areas)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def report_text(atlas, username: str, content: bytes, definitions=None) -> str:
    from atlas.ingest.checks import check_upload
    viewer = atlas.users.get(username).principal()
    return json.dumps(check_upload(atlas, viewer, "extract.csv", content, definitions=definitions).report.to_json(),
                      ensure_ascii=False, sort_keys=True, default=str)


@pytest.mark.parametrize("which", [0, 1], ids=["id", "title"])
def test_a_column_named_after_a_hidden_indicator_is_an_unknown_column(atlas, which):
    hidden = report_text(atlas, SOCIAL, wide_extract(atlas, HIDDEN[which]))
    made_up = report_text(atlas, SOCIAL, wide_extract(atlas, MADE_UP[which]))
    assert HIDDEN[0] not in hidden.replace(HIDDEN[which], MADE_UP[which])  # the id appears only as the column name
    assert hidden.replace(HIDDEN[which], MADE_UP[which]) == made_up
    owner = report_text(atlas, "jugendamt", wide_extract(atlas, HIDDEN[which]))
    assert json.loads(owner)["mapping"]["indicator_columns"] == {HIDDEN[which]: HIDDEN[0]}  # the owner's is mapped


def new_indicator(ind_id: str, title: str) -> dict:
    return {"id": ind_id, "title_de": title, "title_en": "New", "definition_de": "Neu.", "definition_en": "New.",
            "domain": "soziales", "unit": "%", "department": "soziales", "visibility": "internal",
            "polarity": "high_bad", "decimals": 1, "aggregation": "ratio", "periodicity": "year",
            "source": "Sozialamt", "contact": "Sozialamt", "licence": "dl-de/by-2-0", "scale": 100,
            "numerator": "Fälle", "denominator": "Einwohner"}


def test_a_hidden_indicators_id_is_free_for_the_new_indicator_check(atlas):
    content = wide_extract(atlas, "Neuer Indikator")
    hidden = report_text(atlas, SOCIAL, content.replace(b"Neuer Indikator", HIDDEN[0].encode()),
                         [new_indicator(HIDDEN[0], "Neuer Indikator")])
    made_up = report_text(atlas, SOCIAL, content.replace(b"Neuer Indikator", MADE_UP[0].encode()),
                          [new_indicator(MADE_UP[0], "Neuer Indikator")])
    assert "gibt es schon" not in hidden and hidden.replace(HIDDEN[0], MADE_UP[0]) == made_up
    visible = report_text(atlas, SOCIAL, content, [new_indicator("bev_u6", "Neuer Indikator")])
    assert "'bev_u6' gibt es schon" in visible  # an indicator the steward may know is still taken


# ------------------------------------------------------------------ finding 7: headers and versions
ROUTES = ["/", "/login", "/admin", "/upload", "/api/v1/indicators", "/api/v1/values?indicator=no_such", "/healthz",
          "/readyz", "/print?indicator=sgb2_quote", "/assets/style.css", "/no/such/page.html", "/_dash-layout"]


@pytest.mark.parametrize("path", ROUTES)
def test_every_answer_carries_the_security_headers(dash_app, path):
    resp = fresh_client(dash_app).get(path)
    csp = dict(part.strip().split(" ", 1) for part in resp.headers["Content-Security-Policy"].split(";"))
    assert csp["frame-ancestors"] == "'none'" and csp["default-src"] == "'self'" and csp["object-src"] == "'none'"
    assert "unsafe-inline" not in csp["script-src"] and "unsafe-eval" not in csp["script-src"]
    assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_the_callback_answers_carry_them_too(dash_app):
    from tests.dash_requests import callback_payload, find_output
    key = find_output(dash_app, "ex-info", "children")
    resp = fresh_client(dash_app).post("/_dash-update-component", json=callback_payload(
        dash_app, key, {"ex-indicator.value": "bev_u6", "ex-lang.data": "de"}))
    assert resp.status_code == 200 and "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]


def test_the_script_hashes_are_exactly_dashs_inline_scripts(dash_app):
    """Every inline script of the page is allowed by its hash, and nothing else is."""
    import base64
    import hashlib
    import re
    resp = fresh_client(dash_app).get("/")
    page = re.sub(r"<!--.*?-->", "", resp.get_data(as_text=True), flags=re.S)  # Dash's old-IE note is a comment
    inline = [m.group(2) for m in re.finditer(r"<script([^>]*)>(.*?)</script>", page, re.S)
              if "src=" not in m.group(1) and "application/json" not in m.group(1)]
    expected = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in inline}
    script_src = next(p for p in resp.headers["Content-Security-Policy"].split(";") if "script-src" in p).split()
    assert inline and set(script_src[2:]) == expected and script_src[1] == "'self'"


def test_the_index_page_names_no_versions(dash_app):
    import sys
    from importlib.metadata import version
    resp = fresh_client(dash_app).get("/")
    page = resp.get_data(as_text=True)
    versions = [sys.version.split()[0]] + [version(p) for p in ("dash", "plotly", "dash-leaflet", "flask", "werkzeug")]
    for number in versions:
        assert number not in page and number.replace(".", "_") not in page, number
    assert "?v=" not in page and "dash_version" not in page and "python_version" not in page
    assert "Server" not in resp.headers or "Python" not in resp.headers["Server"]


def test_script_urls_carry_a_content_hash_and_still_load(dash_app):
    import re
    client = fresh_client(dash_app)
    urls = re.findall(r'src="(/_dash-component-suites/[^"]+)"', client.get("/").get_data(as_text=True))
    assert urls and all(re.search(r"\.vhm[0-9a-f]{16}\.", u) for u in urls)
    for url in urls[:3]:
        served = client.get(url)
        plain = client.get(re.sub(r"\.vhm[0-9a-f]{16}\.", ".", url))
        assert served.status_code == 200 and served.get_data() == plain.get_data()
        assert "max-age" in served.headers.get("Cache-Control", "")  # cached long: the URL changes with the file


def test_the_basemap_host_may_serve_images(monkeypatch):
    from atlas.web.hardening import _basemap_sources, content_security_policy
    assert _basemap_sources("https://{s}.tile.example.org/{z}/{x}/{y}.png") == ("https://*.tile.example.org",)
    assert _basemap_sources("") == () and _basemap_sources("javascript:alert(1)") == ()
    policy = content_security_policy([], _basemap_sources("https://tiles.example.org/{z}/{x}/{y}.png"))
    assert "img-src 'self' data: blob: https://tiles.example.org;" in policy


def test_the_development_server_does_not_name_its_software(dash_app):
    """`python app.py` serves through Werkzeug, whose `Server` says "Werkzeug/x Python/y" (app.py passes this
    handler; gunicorn says only "gunicorn")."""
    import threading

    import requests
    from werkzeug.serving import make_server

    from atlas.web.hardening import QuietRequestHandler
    server = make_server("127.0.0.1", 0, dash_app.server, threaded=True, request_handler=QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        resp = requests.get(f"http://127.0.0.1:{server.server_port}/healthz", timeout=30)
    finally:
        server.shutdown()
        thread.join()
    assert resp.status_code == 200 and resp.headers["Server"] == "Ortsatlas"
