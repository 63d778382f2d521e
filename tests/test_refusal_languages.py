"""The services' refusals in one catalogue (issue 16): said in the reader's language, with their code unchanged.

Versions, targets, early-warning rules, the register, indices and clusters
raise catalogue `Message`s (German as their str value). The API says them in
the caller's `?lang=` (German by default) and the pages in the page's
language; the texts expected here come from the catalogue, so a refusal that
fell back to a fixed string, or to the other language, fails.
"""
from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

from atlas.i18n import STRINGS
from atlas.messages import Message
from atlas.services import indices
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
