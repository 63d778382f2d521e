"""Internal layers never leak: every callback and API route, posted to by hand.

The list of callbacks and routes is read from the app at test time, so a new
callback or route is covered without touching this file. For every hidden
indicator and every input or state of every server callback, the answer must
be byte-identical to the answer for an indicator that does not exist, and
must carry none of the indicator's titles or definitions.
"""
from __future__ import annotations

import json

import pytest

from tests.conftest import fresh_client, login
from tests.dash_requests import callback_payload

GHOST = "zz_no_such_indicator"


def _walk(node, found: dict) -> None:
    """Collect 'id.prop' → value from a serialised Dash component tree."""
    if isinstance(node, list):
        for child in node:
            _walk(child, found)
    elif isinstance(node, dict):
        props = node.get("props")
        if isinstance(props, dict) and isinstance(props.get("id"), str):
            for prop, value in props.items():
                if prop != "children":
                    found[f"{props['id']}.{prop}"] = value
        for value in (props or {}).values() if isinstance(props, dict) else node.values():
            if isinstance(value, (dict, list)):
                _walk(value, found)


def page_values(client, app, path: str = "/") -> dict:
    """Default values of every component, as the page would send them."""
    client.get(path)  # Dash registers its page router on the first request
    values = {"_pages_location.pathname": path, "_pages_location.search": ""}
    _walk(client.get("/_dash-layout").get_json(), values)
    router = next(k for k in app.callback_map if "_pages_content.children" in k)
    body = client.post("/_dash-update-component", json=callback_payload(app, router, values)).get_json()
    _walk(body, values)
    return values


def server_callbacks(app) -> list[str]:
    return [key for key, spec in app.callback_map.items() if spec.get("callback") is not None]


def positions(app, key: str) -> list[str]:
    spec = app.callback_map[key]
    return [f"{d['id']}.{d['property']}" for d in spec["inputs"] + spec.get("state", [])
            if not d["id"].startswith("{")]


def post(client, app, key: str, values: dict) -> tuple[int, str]:
    payload = callback_payload(app, key, values)
    for item in payload["inputs"]:  # pattern-matching inputs (ALL) take a list of matches
        if isinstance(item["id"], str) and item["id"].startswith("{"):
            item.clear()
    payload["inputs"] = [i if i else [] for i in payload["inputs"]]
    resp = client.post("/_dash-update-component", json=payload)
    return resp.status_code, resp.get_data(as_text=True)


def admin_action(app, action: str, values: dict) -> dict:
    """The request a browser sends when an admin-page button is clicked."""
    key = next(k for k in server_callbacks(app) if "adm-message.children" in k)
    payload = callback_payload(app, key, values)
    button = {"type": "adm-action", "action": action}
    payload["inputs"] = [[{"id": button, "property": "n_clicks", "value": 1}]]
    payload["changedPropIds"] = [json.dumps(button, sort_keys=True, separators=(",", ":")) + ".n_clicks"]
    return payload


def secrets(ind) -> list[str]:
    return [ind.title_de, ind.title_en, ind.definition_de, ind.definition_en]


def assert_no_leak_in_callbacks(client, app, hidden: list) -> int:
    defaults = page_values(client, app, "/")
    defaults.update(page_values(client, app, "/admin"))
    checked = 0
    for key in server_callbacks(app):
        for pos in positions(app, key):
            value = "?indicator={}" if pos == "_pages_location.search" else "{}"
            ghost = post(client, app, key, {**defaults, pos: value.format(GHOST)})
            for ind in hidden:
                status, body = post(client, app, key, {**defaults, pos: value.format(ind.id)})
                assert status == ghost[0], (key, pos, ind.id, status, ghost[0])
                assert body.replace(ind.id, GHOST) == ghost[1], f"{key} answers differently for {ind.id} via {pos}"
                for text in secrets(ind):
                    assert text not in body, (key, pos, text)
                checked += 1
    return checked


def api_routes(app) -> list[str]:
    return sorted({r.rule for r in app.server.url_map.iter_rules()
                   if r.rule.startswith("/api/") and "GET" in r.methods and "<" not in r.rule})


def assert_no_leak_in_api(client, app, hidden: list) -> None:
    routes = api_routes(app)
    assert "/api/v1/values" in routes and "/api/v1/indicators" in routes
    for route in routes:
        for period in ("", "2024", "2025-Q4"):
            # every parameter that names an indicator: `indicator`, the coverage's `demand`, a pair's x and y
            query = "indicator={i}&demand={i}&x={i}&y={i}&level=ortsteil&layer=kita" + (
                f"&period={period}" if period else "")
            ghost = client.get(f"{route}?{query.format(i=GHOST)}")
            for ind in hidden:
                resp = client.get(f"{route}?{query.format(i=ind.id)}")
                body = resp.get_data(as_text=True)
                assert resp.status_code == ghost.status_code, (route, ind.id)
                assert body.replace(ind.id, GHOST) == ghost.get_data(as_text=True), (route, ind.id)
                for text in secrets(ind):
                    assert text not in body, (route, text)


def test_anonymous_learns_nothing_of_internal_or_restricted_indicators(dash_app, atlas):
    hidden = [i for i in atlas.indicators if i.visibility != "public"]
    assert len(hidden) >= 10
    client = fresh_client(dash_app)
    checked = assert_no_leak_in_callbacks(client, dash_app, hidden)
    assert checked > 200  # the test really walked the callbacks
    assert_no_leak_in_api(client, dash_app, hidden)


@pytest.mark.parametrize("user", ["intern", "schulamt-test"])
def test_staff_learn_nothing_of_another_departments_restricted_indicators(scratch_app, scratch_atlas, user):
    dash_app, atlas = scratch_app, scratch_atlas  # adds an account: a private store copy
    if user == "schulamt-test" and atlas.users.get(user) is None:
        atlas.users.add(user, "steward", ["schule"], "school-steward-1", actor="test")
    client = fresh_client(dash_app)
    assert login(client, user, None if user == "intern" else "school-steward-1").status_code == 303
    hidden = [i for i in atlas.indicators if i.visibility == "restricted"]
    assert hidden and all(i.department != "schule" for i in hidden)
    assert_no_leak_in_callbacks(client, dash_app, hidden)
    assert_no_leak_in_api(client, dash_app, hidden)
    # ... while the internal layers themselves are there for staff
    assert "kaufkraft" in {i["id"] for i in client.get("/api/v1/indicators").get_json()["indicators"]}


def test_layout_and_page_shell_name_no_hidden_indicator(dash_app, atlas):
    client = fresh_client(dash_app)
    text = json.dumps(page_values(client, dash_app, "/")) + client.get("/_dash-layout").get_data(as_text=True)
    text += client.get("/?indicator=kaufkraft").get_data(as_text=True)
    for ind in (i for i in atlas.indicators if i.visibility != "public"):
        for secret in secrets(ind):
            assert secret not in text


def test_admin_callbacks_refuse_non_admins(scratch_app, scratch_atlas):
    dash_app, atlas = scratch_app, scratch_atlas  # the admin's request adds an account: a private store copy
    client = fresh_client(dash_app)
    login(client, "intern")
    values = {"adm-new-name.value": "eindringling", "adm-new-role.value": "admin",
              "adm-new-password.value": "sneaky-password-1"}
    body = client.post("/_dash-update-component", json=admin_action(dash_app, "add", values)).get_data(as_text=True)
    assert atlas.users.get("eindringling") is None
    assert "Berechtigung" in body and "admin" not in body.replace("adm-", "")
    # The very same request from an admin does create the account: the refusal is about rights.
    admin = fresh_client(dash_app)
    login(admin, "admin")
    admin.post("/_dash-update-component", json=admin_action(dash_app, "add", {**values, "adm-new-name.value": "legitim"}))
    assert atlas.users.get("legitim").role == "admin"


def test_no_machine_client_endpoint(dash_app):
    """Dash 4 can serve callbacks and layouts over MCP; that would bypass nothing, but is not wanted."""
    assert not [r.rule for r in dash_app.server.url_map.iter_rules() if "mcp" in r.rule.lower()]


UNRELEASED = [("sgb2_quote", "2025-Q4"), ("alo_quote", "2025-Q4")]  # a draft, and internal-only


@pytest.mark.parametrize("indicator,period", UNRELEASED)
def test_unreleased_versions_behave_like_periods_that_do_not_exist(dash_app, indicator, period):
    client = fresh_client(dash_app)
    listed = next(i for i in client.get("/api/v1/indicators").get_json()["indicators"] if i["id"] == indicator)
    assert period not in listed["periods"]
    for route in api_routes(dash_app):
        for level in ("ortsteil", "stadt"):
            asked = client.get(f"{route}?indicator={indicator}&period={period}&level={level}")
            ghost = client.get(f"{route}?indicator={indicator}&period=2031-Q4&level={level}")
            assert asked.status_code == ghost.status_code
            assert asked.get_data() == ghost.get_data(), route  # no route echoes the period back
    whole = client.get(f"/api/v1/values?indicator={indicator}").get_json()["rows"]
    assert whole and period not in {r["period"] for r in whole}
    key = next(k for k in server_callbacks(dash_app) if k == "ex-timeseries.figure")
    _, body = post(client, dash_app, key, {"ex-indicator.value": indicator, "ex-selected.data": "0101",
                                           "ex-period.value": 999, "ex-lang.data": "de"})
    assert period not in body


def test_staff_do_not_read_drafts(dash_app):
    client = fresh_client(dash_app)
    login(client, "intern")
    rows = client.get("/api/v1/values?indicator=sgb2_quote").get_json()["rows"]
    assert "2025-Q4" not in {r["period"] for r in rows}
    steward = fresh_client(dash_app)
    login(steward, "sozialamt")
    rows = steward.get("/api/v1/values?indicator=sgb2_quote").get_json()["rows"]
    assert "2025-Q4" in {r["period"] for r in rows}


def test_admin_grants_a_restricted_indicator_to_one_user(scratch_app, scratch_atlas):
    dash_app, atlas = scratch_app, scratch_atlas  # adds an account and a grant: a private store copy
    if atlas.users.get("planerin.grant") is None:
        atlas.users.add("planerin.grant", "internal", [], "grant-me-please", actor="test")
    staff = fresh_client(dash_app)
    login(staff, "planerin.grant", "grant-me-please")
    assert staff.get("/api/v1/values?indicator=hze_quote").status_code == 404

    admin = fresh_client(dash_app)
    login(admin, "admin")
    values = {"adm-user.value": "planerin.grant", "adm-role.value": "internal", "adm-depts.value": [],
              "adm-grants.value": ["hze_quote"], "adm-password.value": ""}
    assert admin.post("/_dash-update-component", json=admin_action(dash_app, "save", values)).status_code == 200

    assert atlas.users.get("planerin.grant").grants == ("hze_quote",)
    assert staff.get("/api/v1/values?indicator=hze_quote").status_code == 200  # same session, new right
    assert fresh_client(dash_app).get("/api/v1/values?indicator=hze_quote").status_code == 404
    assert atlas.audit.entries(1)[0]["action"] == "grants_changed"
