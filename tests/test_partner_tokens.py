"""Partner tokens: a neighbouring authority reads exactly what it was granted, read-only, until it expires.

Everything outside the grant answers exactly like something that does not
exist, and every request the token makes is in the audit log.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import timedelta

import pytest

from atlas.config import PROJECT_ROOT
from atlas.services import partner_access
from auth.users import UserError
from tests.conftest import fresh_client


def _grant(atlas, account: str, indicators: str = "", domains: str = "", levels: str = "stadtbezirk",
           days: int = 30) -> tuple[str, str]:
    scope = partner_access.scope_from_names(atlas, indicators, domains, levels)
    new = atlas.tokens.add(account, "Landkreis (Partner)", actor="test", scope=scope,
                           expires_at=atlas.store.clock.now() + timedelta(days=days))
    return new.token, new.token_id


def _get(app, token: str, url: str):
    return fresh_client(app).get(url, headers={"Authorization": f"Bearer {token}"})


def _internal_indicator(atlas) -> str:
    return next(i.id for i in atlas.indicators if i.visibility == "internal")


def _body_without(resp, *words: str) -> str:
    text = resp.get_data(as_text=True)
    for word in words:
        text = text.replace(word, "<id>")
    return text


def test_a_partner_token_reads_only_its_indicators_at_its_levels(scratch_app, scratch_atlas):
    granted = _internal_indicator(scratch_atlas)
    other = next(i.id for i in scratch_atlas.indicators if i.visibility == "public")
    token, _ = _grant(scratch_atlas, "intern", indicators=granted)
    listed = _get(scratch_app, token, "/api/v1/indicators").get_json()
    assert [i["id"] for i in listed["indicators"]] == [granted]
    assert [lv["id"] for lv in _get(scratch_app, token, "/api/v1/levels").get_json()["levels"]] == ["stadtbezirk"]
    rows = _get(scratch_app, token, f"/api/v1/values?indicator={granted}").get_json()["rows"]  # default level
    districts = _get(scratch_app, token, "/api/v1/areas?level=stadtbezirk").get_json()
    assert rows and {r["area_id"] for r in rows} <= {f["id"] for f in districts["features"]}
    # A level outside the grant answers like a level that does not exist.
    outside = _get(scratch_app, token, f"/api/v1/values?indicator={granted}&level=ortsteil")
    missing = _get(scratch_app, token, f"/api/v1/values?indicator={granted}&level=nirgendwo")
    assert outside.status_code == missing.status_code == 400
    assert _body_without(outside, "ortsteil") == _body_without(missing, "nirgendwo")
    # An indicator outside the grant answers like one that does not exist (public or not).
    hidden = _get(scratch_app, token, f"/api/v1/values?indicator={other}&level=stadtbezirk")
    unknown = _get(scratch_app, token, "/api/v1/values?indicator=gibtsnicht&level=stadtbezirk")
    assert hidden.status_code == unknown.status_code == 404
    assert _body_without(hidden, other) == _body_without(unknown, "gibtsnicht")


def test_a_partner_token_reaches_no_other_route_and_writes_nothing(scratch_app, scratch_atlas):
    token, _ = _grant(scratch_atlas, "admin", indicators=_internal_indicator(scratch_atlas))
    nowhere = _get(scratch_app, token, "/api/v1/gibtesnicht")
    for url in ("/api/v1/profile?area=01", "/api/v1/versions", "/api/v1/audit", "/api/v1/releases",
                "/api/v1/compare?indicator=x", "/api/v1/openapi.json"):
        resp = _get(scratch_app, token, url)
        assert resp.status_code == 404 and resp.get_data() == nowhere.get_data(), url
    resp = fresh_client(scratch_app).post("/api/v1/uploads", headers={"Authorization": f"Bearer {token}"},
                                          data={"file": (io.BytesIO(b"a;b\n"), "x.csv")},
                                          content_type="multipart/form-data")
    assert resp.status_code == 404


def test_a_partner_never_sees_small_numbers_even_through_an_admin_account(scratch_app, scratch_atlas):
    """Scoped, an admin's token reads as internal staff: suppressed cells stay suppressed, drafts stay hidden."""
    token, _ = _grant(scratch_atlas, "admin", indicators="abgang_ohne", levels="ortsteil")
    admin = fresh_client(scratch_app)
    from tests.conftest import login
    login(admin, "admin")
    url = "/api/v1/values?indicator=abgang_ohne&level=ortsteil&period=2024"  # cells the owner sees, the public not
    own = {(r["area_id"], r["period"]): r["status"] for r in admin.get(url).get_json()["rows"]}
    partner = {(r["area_id"], r["period"]): r["status"] for r in _get(scratch_app, token, url).get_json()["rows"]}
    assert "suppressed" in partner.values()
    assert set(partner) <= set(own)
    assert all(own[k] == s or s == "suppressed" for k, s in partner.items())


def test_every_partner_read_is_audited_with_its_token(scratch_app, scratch_atlas):
    ind = _internal_indicator(scratch_atlas)
    token, token_id = _grant(scratch_atlas, "intern", indicators=ind)
    _get(scratch_app, token, f"/api/v1/values?indicator={ind}&level=stadtbezirk")
    _get(scratch_app, token, "/api/v1/profile?area=01")
    lines = [json.loads(line) for line in scratch_atlas.audit.path.read_text().splitlines()]
    reads = [e for e in lines if e["action"] == "partner_read"]
    assert [e["target"] for e in reads][-2:] == ["/api/v1/values", "/api/v1/profile"]
    assert all(e["actor"] == "intern" and f"token {token_id}" in e["detail"] for e in reads[-2:])
    assert reads[-2]["detail"].endswith("→ 200") and reads[-1]["detail"].endswith("→ 404")


def test_a_partner_token_stops_at_its_expiry(scratch_app, scratch_atlas):
    ind = _internal_indicator(scratch_atlas)
    token, _ = _grant(scratch_atlas, "intern", indicators=ind, days=2)
    assert _get(scratch_app, token, "/api/v1/indicators").status_code == 200
    scratch_atlas.store.clock.advance(timedelta(days=3))
    try:
        assert _get(scratch_app, token, "/api/v1/indicators").status_code == 401
    finally:
        scratch_atlas.store.clock.set(None)


def test_a_domain_grant_reads_the_domains_indicators(scratch_app, scratch_atlas):
    domain = scratch_atlas.domains[0].id
    token, _ = _grant(scratch_atlas, "oeffentlich", domains=domain)
    listed = {i["id"] for i in _get(scratch_app, token, "/api/v1/indicators").get_json()["indicators"]}
    public_of_domain = {i.id for i in scratch_atlas.indicators if i.domain == domain and i.visibility == "public"}
    assert listed == public_of_domain and listed


def test_a_scope_must_name_real_things_and_expire(scratch_atlas):
    with pytest.raises(partner_access.ScopeError, match="unknown levels: kreis"):
        partner_access.scope_from_names(scratch_atlas, _internal_indicator(scratch_atlas), "", "kreis")
    with pytest.raises(partner_access.ScopeError, match="at least one indicator"):
        partner_access.scope_from_names(scratch_atlas, "", "", "stadt")
    scope = partner_access.scope_from_names(scratch_atlas, _internal_indicator(scratch_atlas), "", "stadt")
    with pytest.raises(UserError, match="expiry"):
        scratch_atlas.tokens.add("intern", "x", actor="test", scope=scope)


def test_the_cli_grants_a_partner_token_and_refuses_an_unknown_level(scratch_atlas):
    env = {"ATLAS_DATA_DIR": str(scratch_atlas.settings.data_dir), "PATH": "/usr/bin:/bin"}
    base = [sys.executable, "-m", "atlas", "tokens", "add", "intern", "--indicators",
            _internal_indicator(scratch_atlas), "--expires", "2099-12-31"]
    bad = subprocess.run(base + ["--levels", "kreis"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "unknown levels: kreis" in bad.stderr
    good = subprocess.run(base + ["--levels", "stadt"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert good.returncode == 0 and good.stdout.strip().splitlines()[-1].startswith("oa_")
