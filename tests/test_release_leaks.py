"""The release queue, version steps, tokens, audit log and templates keep departments apart.

A steward posting the pages' callbacks or the API by hand reaches nothing of
another department beyond what staff may read anyway (internal versions): no
drafts, no queue entries, no tokens, no audit log, no templates; a refused
step changes nothing, and a hidden version answers like one that does not
exist. (tests/test_leaks.py walks every callback and GET route, these new
ones included, for hidden indicators; this file adds what that walk cannot
know: other departments' versions and tokens.)
"""
from __future__ import annotations

import json

from tests.conftest import fresh_client, login, writer
from tests.dash_requests import callback_payload
from tests.test_leaks import server_callbacks
from tests.test_workflow import post

SOCIAL_DRAFT_SQL = "SELECT max(version_id) AS v FROM versions WHERE indicator_id = 'sgb2_quote' AND state = 'draft'"
SOCIAL_WAITING = "alo_quote"  # the demo's internal version of a public indicator: the queue's one entry
GHOST_VERSION = 987654


def step_key(app, table_id: str) -> str:
    return next(k for k in server_callbacks(app) if f"{table_id}.children" in k and "-pending.data" in k)


def click_step(client, app, table_id: str, prefix: str, action: str, version: int) -> str:
    """The request the browser sends when a version's button is clicked."""
    payload = callback_payload(app, step_key(app, table_id), {})
    button = {"type": f"{prefix}-act", "action": action, "version": version}
    payload["inputs"][0] = [{"id": button, "property": "n_clicks", "value": 1}]
    payload["changedPropIds"] = [json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"]
    return answer(client, payload)


def answer(client, payload: dict) -> str:
    """The callback's answer as text, umlauts as they are (Dash escapes them in its JSON)."""
    resp = client.post("/_dash-update-component", json=payload)
    return json.dumps(resp.get_json(silent=True), ensure_ascii=False) if resp.status_code == 200 else resp.status


def confirm_step(client, app, table_id: str, prefix: str, action: str, version: int, reason: str = "",
                 at: str = "") -> str:
    """The request the browser sends on 'Bestätigen' in the confirmation panel."""
    values = {f"{prefix}-do.n_clicks": 1, f"{prefix}-pending.data": {"action": action, "version": version},
              f"{prefix}-reason.value": reason, f"{prefix}-at.value": at}
    payload = callback_payload(app, step_key(app, table_id), values)
    payload["inputs"][0] = []
    payload["changedPropIds"] = [f"{prefix}-do.n_clicks"]
    return answer(client, payload)


def state_of(atlas, version: int) -> str:
    frame = atlas.store.query("SELECT state FROM versions WHERE version_id = ?", [version])
    return frame["state"].iloc[0]


def test_a_steward_reaches_no_other_departments_draft_through_the_page_steps(scratch_app, scratch_atlas):
    app, atlas = scratch_app, scratch_atlas
    draft = int(atlas.store.query(SOCIAL_DRAFT_SQL)["v"].iloc[0])
    youth = fresh_client(app)
    login(youth, "jugendamt")
    for table, prefix in (("up-history", "uh"), ("rq-queue", "rq")):
        for action in ("release_internal", "unschedule"):
            hidden = click_step(youth, app, table, prefix, action, draft)
            ghost = click_step(youth, app, table, prefix, action, GHOST_VERSION)
            assert hidden == ghost and "nicht gefunden" in hidden
        for action in ("release_public", "rollback"):
            assert click_step(youth, app, table, prefix, action, draft) == \
                click_step(youth, app, table, prefix, action, GHOST_VERSION)  # not even a confirmation opens
            hidden = confirm_step(youth, app, table, prefix, action, draft, reason="weg damit")
            ghost = confirm_step(youth, app, table, prefix, action, GHOST_VERSION, reason="weg damit")
            assert hidden == ghost and "nicht gefunden" in hidden
    assert state_of(atlas, draft) == "draft"
    # The owner's very same request does withdraw it: the refusal is about rights.
    social = fresh_client(app)
    login(social, "sozialamt")
    assert "zurückgezogen" in confirm_step(social, app, "up-history", "uh", "rollback", draft, reason="Test")
    assert state_of(atlas, draft) == "withdrawn"


def test_a_steward_reaches_no_other_departments_draft_through_the_api(scratch_app, scratch_atlas):
    app, atlas = scratch_app, scratch_atlas
    draft = int(atlas.store.query(SOCIAL_DRAFT_SQL)["v"].iloc[0])
    youth, token = writer(app, "jugendamt")
    for step, body in (("release", {"to": "internal"}), ("rollback", {"reason": "x"}), ("unschedule", {})):
        hidden = post(youth, token, f"/api/v1/versions/{draft}/{step}", body)
        ghost = post(youth, token, f"/api/v1/versions/{GHOST_VERSION}/{step}", body)
        assert hidden.status_code == ghost.status_code == 404 and hidden.get_data() == ghost.get_data()
    assert state_of(atlas, draft) == "draft"


def test_the_queue_shows_a_steward_only_their_departments_versions_and_no_public_release(scratch_app, scratch_atlas):
    app = scratch_app
    def queue(user):
        client = fresh_client(app)
        login(client, user)
        return client.get("/api/v1/releases").get_json()["versions"], client
    admin_queue, _ = queue("admin")
    assert [v["indicator_id"] for v in admin_queue] == [SOCIAL_WAITING]
    assert "release_public" in admin_queue[0]["actions"] and admin_queue[0]["withheld"]["cells"] == 0
    social_queue, _ = queue("sozialamt")
    assert [v["indicator_id"] for v in social_queue] == [SOCIAL_WAITING]
    assert "release_public" not in social_queue[0]["actions"]
    youth_queue, youth = queue("jugendamt")
    assert youth_queue == []
    # The page's callback says the same: nothing of the social office for the youth office.
    payload = callback_payload(app, step_key(app, "rq-queue"), {"rq-refresh.n_clicks": 1})
    payload["inputs"][0] = []
    payload["changedPropIds"] = ["rq-refresh.n_clicks"]
    body = answer(youth, payload)
    assert "Nichts wartet" in body and SOCIAL_WAITING not in body and "Arbeitslosenanteil" not in body
    for user in (None, "oeffentlich", "intern"):
        client = fresh_client(app)
        if user:
            login(client, user)
        assert client.get("/api/v1/releases").get_json() == {"count": 0, "versions": []}


def test_a_steward_cannot_cancel_an_admins_scheduled_public_release(scratch_app, scratch_atlas):
    app, atlas = scratch_app, scratch_atlas
    admin, admin_token = writer(app, "admin")
    waiting = admin.get("/api/v1/releases").get_json()["versions"][0]["version_id"]
    assert post(admin, admin_token, f"/api/v1/versions/{waiting}/release",
                {"to": "public", "at": "2099-01-01T09:00"}).status_code == 200
    social, social_token = writer(app, "sozialamt")
    refused = post(social, social_token, f"/api/v1/versions/{waiting}/unschedule")
    assert refused.status_code == 403 and "Administration" in refused.get_json()["message"]
    assert "unschedule" not in social.get("/api/v1/releases").get_json()["versions"][0]["actions"]
    assert "Nicht ausgeführt" in click_step(social, app, "rq-queue", "rq", "unschedule", waiting)
    assert admin.get("/api/v1/releases").get_json()["versions"][0]["release_at"] == "2099-01-01T09:00:00"
    assert post(admin, admin_token, f"/api/v1/versions/{waiting}/unschedule").status_code == 200
    assert atlas.audit.entries(1)[0]["action"] == "release_unscheduled"


def token_request(app, trigger: dict | str, values: dict) -> dict:
    key = next(k for k in server_callbacks(app) if "adm-token-new.children" in k)
    payload = callback_payload(app, key, values)
    if isinstance(trigger, dict):
        payload["inputs"][1] = [{"id": trigger, "property": "n_clicks", "value": 1}]
        payload["changedPropIds"] = [json.dumps(trigger, sort_keys=True, separators=(",", ":")) + ".n_clicks"]
    else:
        payload["inputs"][1] = []
        payload["changedPropIds"] = [f"{trigger}.n_clicks"]
    return payload


def test_tokens_and_the_audit_log_are_the_admins_alone(scratch_app, scratch_atlas):
    app, atlas = scratch_app, scratch_atlas
    existing = atlas.tokens.add("sozialamt", "Fachverfahren", actor="test")
    for user in ("sozialamt", "jugendamt", "intern"):
        client = fresh_client(app)
        login(client, user)
        create = token_request(app, "adm-token-create", {"adm-token-create.n_clicks": 1,
                                                         "adm-token-user.value": user,
                                                         "adm-token-label.value": "meins"})
        body = answer(client, create)
        assert "Berechtigung" in body and "oa_" not in body
        revoke = token_request(app, {"type": "adm-token-revoke", "token": existing.token_id}, {})
        body = answer(client, revoke)
        assert "Berechtigung" in body and existing.token_id not in body
        assert client.get("/api/v1/audit").status_code == 404
        assert client.get("/api/v1/audit?format=csv").get_data() == fresh_client(app).get(
            "/api/v1/audit?format=csv").get_data()
    frame = atlas.tokens.all()
    assert len(frame) == 1 and frame["revoked_at"].isna().all()
    # The admin's same requests work: the refusal is about rights.
    admin = fresh_client(app)
    login(admin, "admin")
    body = answer(admin, token_request(
        app, "adm-token-create", {"adm-token-create.n_clicks": 1, "adm-token-user.value": "jugendamt",
                                  "adm-token-label.value": "Kita-Verfahren"}))
    assert "oa_" in body and len(atlas.tokens.all()) == 2
    admin.post("/_dash-update-component",
               json=token_request(app, {"type": "adm-token-revoke", "token": existing.token_id}, {}))
    assert atlas.tokens.all().set_index("token_id").loc[existing.token_id, "revoked_at"] is not None
    assert admin.get("/api/v1/audit?action=token_revoked").get_json()["entries"][0]["actor"] == "admin"
