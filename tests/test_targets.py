"""Targets: set by the owning department, versioned, a traffic light against the territory's value, no leaks."""
from __future__ import annotations

import pytest

from atlas.demo import DEMO_TARGETS
from atlas.services import queries, targets, territory
from auth.permissions import ANONYMOUS, Principal
from tests.conftest import fresh_client, writer

DEMO = [ind for ind, *_ in DEMO_TARGETS]  # the demo city's own targets (its /ziele is not empty)
STEWARD = Principal("sozialamt", "steward", frozenset({"soziales"}), logged_in=True)


def territory_value(atlas, viewer, indicator: str) -> float:
    period = queries.periods(atlas, viewer, indicator)[-1]
    rows = queries.values(atlas, viewer, indicator, period, territory.top_level(atlas)).rows
    return float(rows["value"].iloc[0])


@pytest.mark.parametrize("value,light", [(9.0, "green"), (10.0, "green"), (11.0, "yellow"), (12.0, "yellow"),
                                         (12.5, "red"), (None, "grey")])
def test_traffic_light_for_a_target_to_stay_below(value, light):
    assert targets.light(value, {"target": 10.0, "warn": 12.0, "direction": "down"}) == light


def test_traffic_light_for_a_target_to_reach():
    t = {"target": 50.0, "warn": 40.0, "direction": "up"}
    assert [targets.light(v, t) for v in (55, 45, 30)] == ["green", "yellow", "red"]


def test_department_sets_versioned_targets_and_the_tile_follows(scratch_atlas):
    atlas = scratch_atlas
    now = territory_value(atlas, ANONYMOUS, "sgb2_quote")
    first = targets.set_target(atlas, STEWARD, {"indicator": "sgb2_quote", "target": now - 2, "warn": now + 1,
                                                "direction": "down", "deadline": "2030-12-31"})
    assert first["revision"] == 1
    assert targets.status(atlas, ANONYMOUS, "sgb2_quote")["light"] == "yellow"
    targets.set_target(atlas, STEWARD, {"indicator": "sgb2_quote", "target": now - 2, "warn": now - 1,
                                        "direction": "down", "deadline": "2030-12-31"})
    tile = targets.status(atlas, ANONYMOUS, "sgb2_quote")
    assert tile["light"] == "red" and tile["target"]["revision"] == 2 and tile["value"] == pytest.approx(now)
    assert [r["revision"] for r in targets.history(atlas, ANONYMOUS, "sgb2_quote")] == [1, 2]
    assert sorted(t["indicator"] for t in targets.dashboard(atlas, ANONYMOUS)) == sorted(["sgb2_quote", *DEMO])
    assert atlas.audit.entries(1)[0]["action"] == "target_set"


def test_only_the_owning_department_sets_targets(scratch_atlas):
    other = Principal("jugendamt", "steward", frozenset({"jugend"}), logged_in=True)
    with pytest.raises(targets.TargetError) as exc:
        targets.set_target(scratch_atlas, other, {"indicator": "sgb2_quote", "target": 1, "warn": 2,
                                                  "direction": "down", "deadline": "2030-12-31"})
    assert exc.value.status == 403
    with pytest.raises(targets.TargetError) as exc:  # warning zone on the wrong side
        targets.set_target(scratch_atlas, STEWARD, {"indicator": "sgb2_quote", "target": 2, "warn": 1,
                                                    "direction": "down", "deadline": "2030-12-31"})
    assert exc.value.status == 400


def test_targets_of_hidden_indicators_answer_like_unknown_ones(scratch_app, scratch_atlas):
    hidden = next(i for i in scratch_atlas.indicators if i.visibility != "public")
    admin = Principal("admin", "admin", logged_in=True)
    targets.set_target(scratch_atlas, admin, {"indicator": hidden.id, "target": 1, "warn": 2, "direction": "down",
                                              "deadline": "2030-12-31"})
    public = fresh_client(scratch_app)
    ghost = public.get("/api/v1/targets?indicator=zz_none")
    resp = public.get(f"/api/v1/targets?indicator={hidden.id}")
    assert (resp.status_code, resp.get_data()) == (ghost.status_code, ghost.get_data()) and ghost.status_code == 404
    assert hidden.id not in public.get("/api/v1/targets").get_data(as_text=True)
    client, token = writer(scratch_app, "admin")
    assert hidden.id in client.get("/api/v1/targets").get_data(as_text=True)


def test_api_sets_a_target_with_csrf(scratch_app):
    client, token = writer(scratch_app, "sozialamt")
    body = {"indicator": "sgb2_quote", "target": 5, "warn": 8, "direction": "down", "deadline": "2030-12-31"}
    assert client.post("/api/v1/targets", json=body).status_code == 400  # no CSRF token
    resp = client.post("/api/v1/targets", json=body, headers={"X-CSRFToken": token})
    assert resp.status_code == 201 and resp.get_json()["revision"] == 1
    assert fresh_client(scratch_app).post("/api/v1/targets", json=body).status_code == 401
    tile = fresh_client(scratch_app).get("/api/v1/targets?indicator=sgb2_quote").get_json()["tile"]
    assert tile["light"] in ("green", "yellow", "red") and tile["target"]["target"] == 5


def test_dashboard_page_shows_tiles_with_gauges_and_names_no_hidden_indicator(scratch_app, scratch_atlas):
    from tests.dash_requests import callback_payload

    def page(client) -> str:
        client.get("/ziele")
        router = next(k for k in scratch_app.callback_map if "_pages_content.children" in k)
        values = {"_pages_location.pathname": "/ziele", "_pages_location.search": ""}
        return client.post("/_dash-update-component",
                           json=callback_payload(scratch_app, router, values)).get_data(as_text=True)
    hidden = next(i for i in scratch_atlas.indicators if i.visibility != "public")
    admin = Principal("admin", "admin", logged_in=True)
    now = territory_value(scratch_atlas, ANONYMOUS, "sgb2_quote")
    for ind in ("sgb2_quote", hidden.id):
        targets.set_target(scratch_atlas, admin, {"indicator": ind, "target": now - 2, "warn": now + 1,
                                                  "direction": "down", "deadline": "2030-12-31"})
    client = fresh_client(scratch_app)
    text = page(client)
    assert "tg-tile-sgb2_quote" in text and "Warnzone" in text and '"type":"indicator"' in text
    for secret in (hidden.id, hidden.title_de, hidden.title_en):
        assert secret not in text
    staff, _ = writer(scratch_app, "admin")
    assert f"tg-tile-{hidden.id}" in page(staff)


def test_an_organisation_chooses_its_dashboard_tiles_and_others_keep_theirs(scratch_app, scratch_atlas):
    atlas = scratch_atlas
    for ind in ("sgb2_quote", "alo_quote"):
        now = territory_value(atlas, ANONYMOUS, ind)
        targets.set_target(atlas, STEWARD, {"indicator": ind, "target": now - 2, "warn": now + 1,
                                            "direction": "down", "deadline": "2030-12-31"})
    client, token = writer(scratch_app, "sozialamt")
    chosen = client.post("/api/v1/dashboards", json={"organisation": "soziales", "indicators": ["alo_quote"]},
                         headers={"X-CSRFToken": token})
    assert chosen.status_code == 201
    social = atlas.users.get("sozialamt").principal()
    assert [t["indicator"] for t in targets.dashboard(atlas, social)] == ["alo_quote"]
    staff = atlas.users.get("intern").principal()  # no organisation of its own: every tile
    assert {t["indicator"] for t in targets.dashboard(atlas, staff)} == {"sgb2_quote", "alo_quote", *DEMO}
    youth, ytoken = writer(scratch_app, "jugendamt")
    assert youth.post("/api/v1/dashboards", json={"organisation": "soziales", "indicators": []},
                      headers={"X-CSRFToken": ytoken}).status_code == 403


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_demo_dashboard_speaks_in_words_names_and_the_readers_days(atlas, dash_app, lang):
    """The demo's /ziele has tiles, warnings and a register; each light is also a word (never colour alone),
    units are named, linked indicators titled, days and gauge numbers in the reader's format."""
    from atlas.formatting import format_day
    from atlas.i18n import t
    from tests.dash_requests import callback_payload
    client = fresh_client(dash_app)
    client.get(f"/ziele?lang={lang}")
    router = next(k for k in dash_app.callback_map if "_pages_content.children" in k)
    values = {"_pages_location.pathname": "/ziele", "_pages_location.search": f"?lang={lang}"}
    answer = client.post("/_dash-update-component", json=callback_payload(dash_app, router, values))
    text = answer.get_data(as_text=True)
    assert answer.get_json()["response"]["_pages_store"]["data"]["title"] == f"Ortsatlas – {t('nav_targets', lang)}"
    lights = {t["light"] for t in targets.dashboard(atlas, ANONYMOUS)}
    assert lights >= {"green", "yellow", "red"}  # the demo's targets show every colour
    assert all(f'"{t(f"tg_light_{light}", lang)}"' in text for light in lights)
    assert format_day("2030-12-31", lang) in text and ("2030-12-31" in text) == (lang == "en")
    assert ('"separators":",."' if lang == "de" else '"separators":".,"') in text
    youth = atlas.departments["jugend"][lang]
    title = next(i for i in atlas.indicators if i.id == "betreuung_u3")
    assert f"({youth})" in text and (title.title_en if lang == "en" else title.title_de) in text
    assert "(jugend)" not in text and "betreuung_u3)" not in text  # keys and ids are not words
