"""Login, sessions and accounts, as a browser or a script would use them."""
from __future__ import annotations

import io
import time

import pytest

from tests.conftest import PRODUCTION_HASHER, csrf_token, fresh_client, login


@pytest.fixture()
def anon(dash_app):
    return fresh_client(dash_app)


def who(client) -> int:
    """How many indicators the client may see: 18 public, 31 internal, 32 with youth data."""
    return client.get("/api/v1/indicators").get_json()["count"]


def test_login_page_is_german_first_with_english(anon):
    de = anon.get("/login").get_data(as_text=True)
    en = anon.get("/login?lang=en").get_data(as_text=True)
    assert 'name="username"' in de and 'name="password"' in de and 'name="csrf_token"' in de
    assert "Anmelden" in de and "Passwort" in de and "Sign in" in en and "Password" in en


@pytest.mark.parametrize("user,count", [("oeffentlich", 18), ("intern", 31), ("jugendamt", 32),
                                        ("sozialamt", 31), ("admin", 32)])
def test_each_demo_role_sees_its_indicators(dash_app, user, count):
    client = fresh_client(dash_app)
    resp = login(client, user)
    assert resp.status_code == 303 and resp.headers["Location"] == "/"
    assert who(client) == count


def test_the_atlas_hashes_passwords_at_full_cost():
    """The test run hashes cheaply (tests/conftest.py); the atlas itself uses argon2id at RFC 9106's cost."""
    from argon2 import Type
    assert PRODUCTION_HASHER.type is Type.ID
    assert PRODUCTION_HASHER.time_cost >= 3 and PRODUCTION_HASHER.memory_cost >= 64 * 1024


def test_wrong_password_is_refused_and_audited(scratch_app, scratch_atlas):
    anon, atlas = fresh_client(scratch_app), scratch_atlas  # reads the last audit entry: a log of its own
    resp = login(anon, "intern", "not-the-password")
    assert resp.status_code == 401 and "Benutzername oder Passwort ist falsch." in resp.get_data(as_text=True)
    assert who(anon) == 18
    last = atlas.audit.entries(1)[0]
    assert (last["action"], last["target"]) == ("login_failed", "intern")


def test_unknown_user_gets_the_same_answer(anon):
    a = login(anon, "intern", "not-the-password").get_data(as_text=True)
    b = login(anon, "nobody-here", "not-the-password").get_data(as_text=True)
    strip = lambda html: html.split('name="csrf_token" value="')[0]  # noqa: E731
    assert strip(a) == strip(b)


def test_missing_csrf_token_is_refused(anon):
    resp = anon.post("/login", data={"username": "intern", "password": "demo-intern-2026"})
    assert resp.status_code == 400 and "Formular" in resp.get_data(as_text=True)
    assert who(anon) == 18


def test_failed_logins_are_rate_limited_with_a_clear_message(anon):
    for _ in range(5):
        assert login(anon, "intern", "wrong-password-x").status_code == 401
    blocked = login(anon, "intern")  # even the right password waits
    assert blocked.status_code == 429
    assert "Zu viele fehlgeschlagene Anmeldeversuche" in blocked.get_data(as_text=True)
    assert who(anon) == 18


def test_successful_logins_do_not_use_up_the_limit(dash_app):
    client = fresh_client(dash_app)
    for _ in range(7):
        assert login(client, "intern").status_code == 303


def test_disabled_user_cannot_log_in_and_loses_open_sessions(scratch_app, scratch_atlas):
    dash_app, atlas = scratch_app, scratch_atlas  # adds and disables an account: a private store copy
    atlas.users.add("kurzzeit", "internal", [], "temporary-pass-1", actor="test")
    client = fresh_client(dash_app)
    assert login(client, "kurzzeit", "temporary-pass-1").status_code == 303 and who(client) == 31
    atlas.users.set_disabled("kurzzeit", True, actor="test")
    assert who(client) == 18  # the open session ended
    assert login(fresh_client(dash_app), "kurzzeit", "temporary-pass-1").status_code == 401


def test_password_change_ends_sessions(scratch_app, scratch_atlas):
    dash_app, atlas = scratch_app, scratch_atlas  # adds an account: a private store copy
    atlas.users.add("wechsel", "internal", [], "first-password-1", actor="test")
    client = fresh_client(dash_app)
    login(client, "wechsel", "first-password-1")
    atlas.users.set_password("wechsel", "second-password-2", actor="test")
    assert who(client) == 18
    assert login(client, "wechsel", "second-password-2").status_code == 303 and who(client) == 31


def test_session_expires_after_inactivity(dash_app, atlas):
    client = fresh_client(dash_app)
    login(client, "intern")
    with client.session_transaction() as s:
        s["seen"] = time.time() - atlas.settings.session_idle_minutes * 60 - 5
    assert who(client) == 18


def test_logout_needs_csrf_and_ends_the_session(dash_app):
    client = fresh_client(dash_app)
    login(client, "intern")
    assert client.post("/logout").status_code == 400 and who(client) == 31
    assert client.post("/logout", data={"csrf_token": csrf_token(client)}).status_code == 303
    assert who(client) == 18


def test_cookie_flags(dash_app):
    plain = session_set_cookie(login(fresh_client(dash_app), "intern"))
    assert "HttpOnly" in plain and "SameSite=Lax" in plain and "Secure" not in plain
    client = fresh_client(dash_app)
    page = client.get("/login", base_url="https://atlas.example").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    resp = client.post("/login", base_url="https://atlas.example",
                       headers={"Referer": "https://atlas.example/login"},
                       data={"username": "intern", "password": "demo-intern-2026", "csrf_token": token})
    assert resp.status_code == 303 and "Secure" in session_set_cookie(resp)


def session_set_cookie(resp) -> str:
    """The Set-Cookie header of the session cookie (the answer may set Dash's CSRF cookie too)."""
    return next(h for h in resp.headers.getlist("Set-Cookie") if h.startswith("session="))


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "javascript:alert(1)"])
def test_no_open_redirect_after_login(dash_app, target):
    client = fresh_client(dash_app)
    resp = client.post("/login", data={"username": "intern", "password": "demo-intern-2026", "next": target,
                                       "csrf_token": csrf_token(client)})
    assert resp.headers["Location"] == "/"


def test_cross_origin_posts_are_refused(dash_app):
    client = fresh_client(dash_app)
    login(client, "admin")
    resp = client.post("/_dash-update-component", json={}, headers={"Origin": "https://evil.example"})
    assert resp.status_code == 403


def test_admin_page_is_guarded_on_the_server(dash_app):
    assert fresh_client(dash_app).get("/admin").status_code == 303
    staff = fresh_client(dash_app)
    login(staff, "intern")
    assert staff.get("/admin").status_code == 403
    admin = fresh_client(dash_app)
    login(admin, "admin")
    assert admin.get("/admin").status_code == 200


# ------------------------------------------------------------------ parallel requests and the CSRF token
def session_cookie(client) -> str:
    return client.get_cookie("session").value


def form_token(layout: dict) -> str:
    """The CSRF token the page's logout form carries (from the Dash layout JSON)."""
    stack = [layout]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            if node.get("name") == "csrf_token":
                return node["value"]
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    raise AssertionError("no csrf_token in the layout")


@pytest.mark.parametrize("seen_ago", [0, 120], ids=["just-signed-in", "seen-two-minutes-ago"])
def test_a_late_answer_to_a_parallel_request_keeps_the_csrf_token(dash_app, seen_ago):
    """The page's first requests run in parallel; whichever answer the browser stores last, logout works.

    Request A renders the page with the token; request B left with the cookie
    from before A and is answered after it. The browser applies A's cookie,
    then B's (if B sent one): the session must still hold A's token.
    """
    client = fresh_client(dash_app)
    login(client, "intern")
    if seen_ago:
        with client.session_transaction() as s:
            s["seen"] -= seen_ago
    before_a = session_cookie(client)
    token = form_token(client.get("/_dash-layout").get_json())  # A
    after_a = session_cookie(client)
    client.set_cookie("session", before_a)
    late = client.get("/api/v1/indicators")  # B, sent with the cookie from before A
    after_b = session_cookie(client) if "Set-Cookie" in late.headers else None
    client.set_cookie("session", after_a)  # the browser stores the answers in the order they arrive
    if after_b is not None:
        client.set_cookie("session", after_b)
    assert who(client) == 31
    resp = client.post("/logout", data={"csrf_token": token})
    assert resp.status_code == 303 and who(client) == 18


def test_the_cookie_is_rewritten_only_when_activity_is_noted(dash_app, atlas):
    """No new cookie per request (so none to arrive late); a minute on, activity is noted and keeps the session."""
    client = fresh_client(dash_app)
    login(client, "intern")
    assert "Set-Cookie" not in client.get("/api/v1/indicators").headers
    almost = atlas.settings.session_idle_minutes * 60 - 30
    with client.session_transaction() as s:
        s["seen"] -= almost
    resp = client.get("/api/v1/indicators")
    assert resp.get_json()["count"] == 31 and "Set-Cookie" in resp.headers
    with client.session_transaction() as s:
        assert time.time() - s["seen"] < almost  # noted: the idle time starts again


# ------------------------------------------------------------------ a refused CSRF token, as people see it
def test_a_refused_form_gets_a_german_page_with_ways_on(dash_app):
    client = fresh_client(dash_app)
    login(client, "intern")
    resp = client.post("/logout", data={"csrf_token": "stale-token-of-another-session"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and resp.mimetype == "text/html" and page != "CSRF"
    assert "Ihre Sitzung ist abgelaufen oder das Formular ist veraltet" in page and 'lang="de"' in page
    assert 'href="/"' in page and 'href="/login"' in page and who(client) == 31  # nothing was done
    fresh = page.split('name="csrf_token" value="')[1].split('"')[0]  # the page's own sign-out button works
    assert client.post("/logout", data={"csrf_token": fresh}).status_code == 303 and who(client) == 18


@pytest.mark.parametrize("how", [{"query_string": {"lang": "en"}}, {"headers": {"Accept-Language": "en-GB,en;q=0.9"}}])
def test_a_refused_form_speaks_english_when_asked(dash_app, how):
    client = fresh_client(dash_app)
    login(client, "intern")
    resp = client.post("/logout", **how)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and "Your session has expired or the form is out of date" in page
    assert 'href="/?lang=en"' in page and 'href="/login?lang=en"' in page and "abgelaufen" not in page


def test_a_refused_api_call_gets_json(dash_app):
    client = fresh_client(dash_app)
    login(client, "sozialamt")
    resp = client.post("/api/v1/uploads", data={"file": (io.BytesIO(b"a;b\n1;2\n"), "x.csv")},
                       content_type="multipart/form-data")  # no X-CSRFToken
    body = resp.get_json()
    assert resp.status_code == 400 and body["error"] == "csrf"
    assert "Sitzung abgelaufen" in body["message"] and "session expired" in body["message"]
