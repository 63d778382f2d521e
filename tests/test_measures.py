"""Goals and measures: a register linking goals to indicators, measures to a review date that comes due."""
from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import fresh_client, login, writer
from tests.test_workflow import post


def test_goals_measures_and_due_reviews_with_rights_and_visibility(scratch_app, scratch_atlas):
    admin, token = writer(scratch_app, "admin")
    hidden = next(i.id for i in scratch_atlas.indicators if i.visibility == "internal")
    demo = fresh_client(scratch_app).get("/api/v1/register").get_json()  # the demo city's own goals and measures
    old = {e["id"] for kind in ("goals", "measures") for e in demo[kind]}

    def new(entries: list[dict]) -> list[dict]:
        return [e for e in entries if e["id"] not in old]
    lead = post(admin, token, "/api/v1/register/goals", {"title": "Bildungsteilhabe für alle Kinder",
                                                          "visibility": "public"}).get_json()
    part = post(admin, token, "/api/v1/register/goals", {
        "title": "Mehr Kinder unter 3 in Betreuung", "parent": lead["id"], "visibility": "public",
        "indicators": ["betreuung_u3", hidden]}).get_json()
    assert post(admin, token, "/api/v1/register/goals", {"title": "x", "parent": part["id"]}).status_code == 409
    steward, stoken = writer(scratch_app, "jugendamt")
    assert post(steward, stoken, "/api/v1/register/goals", {"title": "x"}).status_code == 403
    today = scratch_atlas.clock.now().date()
    soon = post(steward, stoken, "/api/v1/register/measures", {
        "goal": part["id"], "title": "Kita-Ausbau Oststadt", "unit": "jugend", "visibility": "public",
        "review": (today + timedelta(days=30)).isoformat()}).get_json()
    assert post(steward, stoken, "/api/v1/register/measures", {
        "goal": part["id"], "title": "x", "unit": "soziales", "review": "2027-01-01"}).status_code == 403
    internal = post(steward, stoken, "/api/v1/register/measures", {
        "goal": part["id"], "title": "Elternlotsen", "unit": "jugend", "review": today.isoformat()}).get_json()

    public = fresh_client(scratch_app).get("/api/v1/register").get_json()
    assert [g["title"] for g in new(public["goals"])] == ["Bildungsteilhabe für alle Kinder", "Mehr Kinder unter 3 "
                                                          "in Betreuung"]
    assert new(public["goals"])[1]["indicators"] == ["betreuung_u3"]  # the internal indicator is not named
    assert [m["id"] for m in new(public["measures"])] == [soon["id"]] and new(public["due"]) == []
    staff = fresh_client(scratch_app)
    login(staff, "intern")
    assert [m["id"] for m in new(staff.get("/api/v1/register").get_json()["due"])] == [internal["id"]]

    scratch_atlas.clock.set(datetime.combine(today + timedelta(days=31), datetime.min.time()))
    try:
        due = new(staff.get("/api/v1/register").get_json()["due"])
        assert [m["id"] for m in due] == [internal["id"], soon["id"]]  # oldest review first
        post(steward, stoken, "/api/v1/register/measures", {**soon, "state": "done"})
        register = staff.get("/api/v1/register").get_json()
        assert [m["id"] for m in new(register["due"])] == [internal["id"]]
        done = next(m for m in register["measures"] if m["id"] == soon["id"])
        assert done["state"] == "done" and done["history"][0]["state"] == "open"
    finally:
        scratch_atlas.clock.set(None)
    assert scratch_atlas.audit.entries(1)[0]["action"] == "measure_saved"


def test_the_dashboard_shows_due_reviews_and_the_register_to_whoever_may_read_them(scratch_app, scratch_atlas):
    from atlas.web.pages import steering
    admin, token = writer(scratch_app, "admin")
    goal = post(admin, token, "/api/v1/register/goals", {"title": "Gesund aufwachsen", "visibility": "public"})
    steward, stoken = writer(scratch_app, "jugendamt")
    today = scratch_atlas.clock.now().date().isoformat()
    for title, visibility in (("Sprachkitas ausbauen", "public"), ("Interne Prüfung", "internal")):
        post(steward, stoken, "/api/v1/register/measures", {"goal": goal.get_json()["id"], "title": title,
                                                             "unit": "jugend", "review": today,
                                                             "visibility": visibility})
    with scratch_app.server.test_request_context("/ziele"):
        shown = str(steering.register_section("de"))
    assert "Gesund aufwachsen" in shown and "Sprachkitas ausbauen" in shown and "Fällige Wiedervorlagen" in shown
    assert "Interne Prüfung" not in shown  # the anonymous public reads public entries only
