"""The services' refusals in one catalogue (issue 16): said in the reader's language, with their code unchanged.

Versions, targets, early-warning rules, the register, indices and clusters
raise catalogue `Message`s (German as their str value). The API says them in
the caller's `?lang=` (German by default) and the pages in the page's
language; the texts expected here come from the catalogue, so a refusal that
fell back to a fixed string, or to the other language, fails.
"""
from __future__ import annotations

import ast
import io
import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from atlas.i18n import STRINGS
from atlas.messages import Message
from atlas.services import indices
from auth.users import UserError
from tests.conftest import fresh_client, login, writer
from tests.dash_requests import callback_payload, find_output
from tests.test_languages import _data_words, foreign, open_page

ROOT = Path(__file__).resolve().parents[1]
PREFIXES = ("ver_", "tgt_", "ewr_", "msr_", "ix_err_", "cl_err_", "rel_err_")
FIELD = re.compile(r"\{(\w*)\}")


def refused(client, token: str, path: str, body, lang: str | None):
    """POST `body` to `path` (with `?lang=` when given); the answer's status and JSON."""
    url = path + (f"?lang={lang}" if lang else "")
    resp = client.post(url, data=json.dumps(body), content_type="application/json", headers={"X-CSRFToken": token})
    return resp.status_code, resp.get_json()


def assert_both_languages(client, token, path, body, status: int, code: str, message: Message) -> None:
    """German without `?lang=` and with `?lang=de`, English with `?lang=en`: the catalogue's text, the same code."""
    for lang, expected in ((None, "de"), ("de", "de"), ("en", "en")):
        got_status, got = refused(client, token, path, body, lang)
        assert (got_status, got["error"]) == (status, code), (lang, got)
        assert got["message"] == message.text(expected), (lang, got)
    assert message.text("de") != message.text("en")


# ------------------------------------------------------------------ catalogue
def test_the_refusal_keys_are_complete_and_each_text_speaks_one_language():
    keys = [k for k in STRINGS if k.startswith(PREFIXES)]
    assert len(keys) > 80
    for key in keys:
        de, en = STRINGS[key]
        assert de != en and " / " not in de and " / " not in en, key  # no more 'Deutsch / English'
        assert foreign([de], "de", []) == [], (key, de)
        assert foreign([en], "en", []) == [], (key, en)


def _message_calls() -> list[tuple[str, str, set[str] | None]]:
    """Every `Message("key", …)` in atlas/: where, the key, and its keyword names (None with **kwargs)."""
    calls = []
    for path in (ROOT / "atlas").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        if "Message(" not in source:
            continue
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Message" and node.args:
                keys = [node.args[0].value] if isinstance(node.args[0], ast.Constant) else \
                    [n.value for n in ast.walk(node.args[0]) if isinstance(n, ast.Constant) and isinstance(n.value, str)]
                names = None if any(k.arg is None for k in node.keywords) else {k.arg for k in node.keywords}
                calls += [(f"{path.relative_to(ROOT)}:{node.lineno}", k, names) for k in keys]
    return calls


def test_every_message_the_services_raise_is_in_the_catalogue_with_its_parameters():
    """A key missing from the catalogue, or a parameter the text asks for but the raise does not give, would
    only fail when that refusal happens; found here for every raise site of this catalogue block."""
    calls = [c for c in _message_calls() if c[1].startswith(PREFIXES)]
    assert len(calls) > 70
    missing = [(where, key) for where, key, _ in calls if key not in STRINGS]
    assert missing == []
    wrong = [(where, key, names) for where, key, names in calls if names is not None
             and set(FIELD.findall(STRINGS[key][0])) != names]
    assert wrong == []


# ------------------------------------------------------------------ the API, per service
def test_a_version_refusal_answers_in_the_callers_language(dash_app):
    admin, token = writer(dash_app, "admin")
    vid = admin.get("/api/v1/versions?indicator=sgb2_quote").get_json()["versions"][0]["version_id"]
    assert_both_languages(admin, token, f"/api/v1/versions/{vid}/release", {"to": "sideways"}, 400, "bad_state",
                          Message("ver_bad_state"))
    assert_both_languages(admin, token, "/api/v1/versions/999999/release", {"to": "internal"}, 404, "not_found",
                          Message("ver_not_found"))


def test_a_target_refusal_answers_in_the_callers_language(dash_app):
    steward, token = writer(dash_app, "sozialamt")
    body = {"indicator": "sgb2_quote", "target": "zehn", "warn": 12, "direction": "down", "deadline": "2030-12-31"}
    assert_both_languages(steward, token, "/api/v1/targets", body, 400, "bad_target",
                          Message("tgt_number", name="target"))
    other, other_token = writer(dash_app, "jugendamt")
    assert_both_languages(other, other_token, "/api/v1/targets", {**body, "target": 10}, 403, "forbidden",
                          Message("tgt_department_only"))


def test_an_early_warning_refusal_answers_in_the_callers_language(dash_app):
    steward, token = writer(dash_app, "sozialamt")
    assert_both_languages(steward, token, "/api/v1/warning-rules", {"indicator": "sgb2_quote", "change_pct": -3},
                          400, "bad_rules", Message("ewr_change_pct"))


def test_a_register_refusal_answers_in_the_callers_language(dash_app):
    admin, token = writer(dash_app, "admin")
    assert_both_languages(admin, token, "/api/v1/register/goals", {"title": "x", "indicators": "sgb2_quote"},
                          400, "bad_register", Message("msr_indicators"))
    steward, stoken = writer(dash_app, "jugendamt")
    assert_both_languages(steward, stoken, "/api/v1/register/goals", {"title": "x"}, 403, "forbidden",
                          Message("msr_goals_admin_only"))


def test_an_index_refusal_answers_in_the_callers_language(dash_app):
    steward, token = writer(dash_app, "sozialamt")
    body = {"inputs": [{"indicator": "sgb2_u15", "weight": -1}], "period": "2024"}
    assert_both_languages(steward, token, "/api/v1/indices/preview", body, 400, "bad_weight",
                          Message("ix_err_weight"))
    assert_both_languages(steward, token, "/api/v1/indices/preview",
                          {"inputs": [{"indicator": "sgb2_u15"}], "method": "median"}, 400, "bad_method",
                          Message("ix_err_method", choices=list(indices.METHODS)))


def test_a_cluster_refusal_answers_in_the_callers_language(dash_app):
    steward, token = writer(dash_app, "sozialamt")
    body = {"indicators": ["sgb2_u15", "betreuung_u3"], "period": "2024", "k": 40}
    assert_both_languages(steward, token, "/api/v1/clusters/preview", body, 400, "bad_clusters",
                          Message("cl_err_k"))


# ------------------------------------------------------------------ a page
@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_index_builder_says_a_refused_weight_in_the_pages_language(dash_app, atlas, lang):
    """The preview callback of /indizes with a negative weight: the catalogue's text in the page's language,
    and nothing of the other language in it."""
    client = fresh_client(dash_app)
    login(client, "sozialamt")
    values, _ = open_page(dash_app, client, "/indizes", lang)
    key = find_output(dash_app, "ix-message", "children")
    payload = callback_payload(dash_app, key, {**values, "ix-preview.n_clicks": 1, "ix-inputs.value": ["sgb2_u15"],
                                               "ix-period.value": "2024"})
    weight = {"type": "ix-weight", "index": "sgb2_u15"}
    wildcard = {'{"index":["ALL"],"type":"ix-weight"}.value': [{"id": weight, "property": "value", "value": -1}],
                '{"index":["ALL"],"type":"ix-weight"}.id': [{"id": weight, "property": "id", "value": weight}]}
    payload["state"] = [wildcard.get(f"{s['id']}.{s['property']}", [] if s["id"].startswith("{") else s)
                        for s in payload["state"]]
    body = client.post("/_dash-update-component", json=payload).get_json()
    message = body["response"]["ix-message"]["children"]
    assert message == Message("ix_err_weight").text(lang)
    assert foreign([message], lang, _data_words(atlas)) == []


@pytest.mark.parametrize("path,status,code,key", [
    ("/api/v1/values?indicator=gibtesnicht", 404, "not_found", "api_indicator_not_found"),
    ("/api/v1/search?q=", 400, "missing_q", "api_missing_q"),
    ("/api/v1/similar?area=0101&indicators=sgb2_quote&method=nah", 400, "bad_method", "api_bad_method"),
])
def test_the_apis_own_refusals_speak_the_callers_language(dash_app, path, status, code, key):
    """Refusals the API words itself (not found, a missing or bad argument): one catalogue text per language,
    the same code; a hidden indicator's 404 is this very answer (it says nothing more)."""
    client = fresh_client(dash_app)
    for lang, index in (("", 0), ("&lang=de", 0), ("&lang=en", 1)):
        resp = client.get(path + lang)
        assert resp.status_code == status
        assert resp.get_json() == {"error": code, "message": STRINGS[key][index]}


# ------------------------------------------------------------------ once 'Deutsch / English' in one string
def assert_said(resp, status: int, code: str, message: Message, lang: str) -> None:
    """One refusal: its status and code unchanged, its text the catalogue's in `lang` and nothing of the other."""
    assert (resp.status_code, resp.get_json()) == (status, {"error": code, "message": message.text(lang)})
    assert message.text("de") != message.text("en")


@pytest.mark.parametrize("path,status,code,message", [
    ("/api/v1/similar?area=0101&indicators=sgb2_quote&tolerance=viel", 400, "bad_tolerance",
     Message("api_bad_tolerance")),
    ("/api/v1/profile?area=0101&period=2024-Q9", 400, "bad_period", Message("api_bad_period")),
    ("/api/v1/compare?indicator=sgb2_quote&area=gibtesnicht", 400, "missing_area", Message("api_compare_areas")),
    ("/api/v1/templates?indicator=sgb2_quote&format=pdf", 400, "bad_format",
     Message("api_bad_format", allowed=["csv-de", "xlsx"])),
    ("/api/v1/audit?from=gestern", 400, "bad_date", Message("api_bad_date")),
])
def test_argument_errors_speak_the_callers_language(dash_app, path, status, code, message):
    """The API's and the workflow's argument errors said 'Deutsch / English' in one string."""
    admin, _ = writer(dash_app, "admin")
    for suffix, lang in (("", "de"), ("&lang=de", "de"), ("&lang=en", "en")):
        assert_said(admin.get(path + suffix), status, code, message, lang)


def test_the_workflows_refusals_speak_the_callers_language(dash_app):
    """A missing upload file; a steward's boundary or grid file (admins only: auth decides, the words come from
    the catalogue, not from boundary_upload's German or grid_upload's 'Deutsch / English')."""
    steward, token = writer(dash_app, "sozialamt")
    assert_both_languages(steward, token, "/api/v1/uploads", {}, 400, "missing_file",
                          Message("api_upload_file_missing"))
    for path, form, message in (
            ("/api/v1/boundaries", {"valid_from": "2030-01-01", "key_col": "id", "name_col": "name"},
             Message("api_admins_boundaries")),
            ("/api/v1/grids", {"grid_id": "raster", "key_col": "id", "name_col": "name"},
             Message("api_admins_grids"))):
        for suffix, lang in (("", "de"), ("?lang=de", "de"), ("?lang=en", "en")):
            resp = steward.post(path + suffix, data={**form, "file": (io.BytesIO(b"{}"), "gebiete.geojson")},
                                headers={"X-CSRFToken": token}, content_type="multipart/form-data")
            assert_said(resp, 403, "forbidden", message, lang)


def test_refusals_of_malformed_requests_speak_the_callers_language(dash_app):
    """JSON nested too deeply and a callback body no page sends (Dash's renderer sends no ?lang=: German)."""
    steward, token = writer(dash_app, "sozialamt")
    deep = "[" * 100_000 + "]" * 100_000
    for suffix, lang in (("", "de"), ("?lang=en", "en")):
        resp = steward.post("/api/v1/register/goals" + suffix, data=deep, content_type="application/json",
                            headers={"X-CSRFToken": token})
        assert_said(resp, 400, "too_deep", Message("api_too_deep"), lang)
        resp = steward.post("/_dash-update-component" + suffix, json={"output": 1})
        assert_said(resp, 400, "bad_callback", Message("api_bad_callback"), lang)


def auth_refusals(atlas) -> list[UserError]:
    """Every refusal auth words itself (auth/users.py, auth/tokens.py), raised for real."""
    from auth.permissions import Scope
    users, tokens, pw = atlas.users, atlas.tokens, "lang-genug-2026"
    past, future = datetime(2000, 1, 1), atlas.clock.now() + timedelta(days=30)
    attempts = [lambda: users.add("neu.konto", "internal", [], "kurz", actor="t"),
                lambda: users.add("neu.konto", "chef", [], pw, actor="t"),
                lambda: users.add("neu.konto", "steward", ["mondamt"], pw, actor="t"),
                lambda: users.add("neu.konto", "steward", [], pw, actor="t"),
                lambda: users.add("?", "internal", [], pw, actor="t"),
                lambda: users.add("intern", "internal", [], pw, actor="t"),
                lambda: users.set_password("niemand", pw, actor="t"),
                lambda: tokens.add("niemand", "x", actor="t"),
                lambda: tokens.add("intern", "x", actor="t", expires_at=past),
                lambda: tokens.add("intern", "x", actor="t", expires_at=future, scope=Scope()),
                lambda: tokens.add("intern", "x", actor="t",
                                   scope=Scope(indicators=frozenset({"sgb2_quote"}), levels=frozenset({"ortsteil"}))),
                lambda: tokens.revoke("ffffffff", actor="t")]
    refusals = []
    for attempt in attempts:
        with pytest.raises(UserError) as caught:
            attempt()
        refusals.append(caught.value)
    return refusals


def test_every_refusal_of_auth_is_said_in_the_admin_pages_language(scratch_atlas):
    """auth has no catalogue (it imports no atlas code) and words its refusals in English; the admin page once
    showed 'Nicht gespeichert: the password must have at least 12 characters'. Each is a catalogue message
    now, and a refusal auth gains without one fails here (its raise sites are counted)."""
    from atlas.web.pages.admin import USER_ERRORS, user_error_reason
    raised = sum(path.read_text(encoding="utf-8").count("raise UserError(") for path in (ROOT / "auth").glob("*.py"))
    refusals = auth_refusals(scratch_atlas)
    assert len(refusals) == raised == len(USER_ERRORS)
    reasons = [user_error_reason(exc) for exc in refusals]
    assert [r.key for r in reasons if isinstance(r, Message)] == [key for _, key in USER_ERRORS], \
        [str(exc) for exc, r in zip(refusals, reasons) if not isinstance(r, Message)]
    for reason in reasons:
        assert reason.text("de") != reason.text("en")
        assert foreign([reason.text("de")], "de", ["intern", "niemand", "neu.konto"]) == [], reason.text("de")
        assert foreign([reason.text("en")], "en", ["intern", "niemand", "neu.konto"]) == [], reason.text("en")


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_admin_page_says_auths_refusal_in_the_pages_language(scratch_app, lang):
    from auth.users import MIN_PASSWORD
    from tests.test_leaks import admin_action
    client = fresh_client(scratch_app)
    login(client, "admin")
    values, _ = open_page(scratch_app, client, "/admin", lang)
    payload = admin_action(scratch_app, "add", {**values, "adm-new-name.value": "neu.konto",
                                                "adm-new-role.value": "internal", "adm-new-password.value": "kurz"})
    body = client.post("/_dash-update-component", json=payload).get_json()
    expected = Message("adm_not_saved", exc=Message("adm_ue_password", n=MIN_PASSWORD))
    assert body["response"]["adm-message"]["children"] == expected.text(lang)
