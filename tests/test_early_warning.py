"""Early warning: rules per indicator fire on the newest released period, never on a hidden cell."""
from __future__ import annotations

import pandas as pd

from atlas.catalog import Indicator
from atlas.services import early_warning, queries
from tests.conftest import fresh_client, login, writer
from tests.test_workflow import extract, post, upload

_Ind = Indicator("x", "Quote", "Rate", "", "", "d", "%", "statistik", "public", "high_bad", 1, "ratio", "year",
                 "", "", "")


def _rows(values: dict, suppressed: tuple = ()) -> pd.DataFrame:
    return pd.DataFrame({"area_id": list(values), "name": [f"Gebiet {a}" for a in values],
                         "value": list(values.values()),
                         "status": ["suppressed" if a in suppressed else "ok" for a in values]})


def test_each_rule_on_a_hand_made_period():
    prev = _rows({"a": 9.0, "b": 11.0, "c": 5.0, "d": 5.0, "e": 5.0, "f": 30.0})
    cur = _rows({"a": 10.5, "b": 12.0, "c": 8.0, "d": 5.1, "e": 40.0, "f": 31.0}, suppressed=("e",))
    found = early_warning.evaluate(_Ind, {"above": 10.0, "change_pct": 50, "worst_class": True}, "2025", "2024",
                                   cur, prev)
    by_rule = {(w["rule"], w["area_id"]) for w in found}
    assert ("above", "a") in by_rule and ("above", "b") not in by_rule  # b was above already: no crossing
    assert ("change_pct", "c") in by_rule and ("change_pct", "d") not in by_rule
    assert not any(area == "e" for _, area in by_rule)  # a suppressed cell raises nothing
    assert ("worst_class", "f") not in by_rule  # f was in the worst fifth before
    message = next(w["message_de"] for w in found if w["rule"] == "change_pct")
    assert message == "Gebiet c (c): Quote 2025 +60 % gegenüber 2024 (5,0 % → 8,0 %)"
    # the same finding for a reader of English: its numbers, its words (the dashboard said "c (c): x 2025 – change_pct")
    english = next(w["message_en"] for w in found if w["rule"] == "change_pct")
    assert english == "Gebiet c (c): Rate 2025 +60 % against 2024 (5.0 % → 8.0 %)"
    above = next(w for w in found if w["rule"] == "above" and w["area_id"] == "a")
    assert above["message_de"].endswith("über der Schwelle 10,0 %: 9,0 % → 10,5 %")
    assert above["message_en"].endswith("above the threshold 10.0 %: 9.0 % → 10.5 %")


def test_a_warning_fires_when_a_version_is_released_and_only_for_those_who_read_it(scratch_app, scratch_atlas):
    steward, token = writer(scratch_app, "sozialamt")
    assert post(steward, token, "/api/v1/warning-rules", {"indicator": "sgb2_quote", "change_pct": 40}).status_code \
        == 201
    area = queries.areas(scratch_atlas, "ortsteil", queries.current_set(scratch_atlas))["area_id"].iloc[3]
    report = upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1",
                                            {area: (2900, 3000)})).get_json()
    vid = post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm").get_json()["version_id"]
    staff = fresh_client(scratch_app)
    login(staff, "intern")
    before = staff.get("/api/v1/warnings").get_json()["warnings"]
    assert not any(w["period"] == "2026-Q1" for w in before)  # a draft warns nobody outside the department
    assert post(steward, token, f"/api/v1/versions/{vid}/release", {"to": "internal"}).status_code == 200
    after = staff.get(f"/api/v1/warnings?area={area}").get_json()["warnings"]
    assert [(w["indicator"], w["period"], w["rule"]) for w in after] == [("sgb2_quote", "2026-Q1", "change_pct")]
    public = fresh_client(scratch_app).get("/api/v1/warnings").get_json()["warnings"]
    assert not any(w["period"] == "2026-Q1" for w in public)  # internal release: the public sees no warning


def test_rules_are_the_departments_and_checked(scratch_app):
    other, token = writer(scratch_app, "jugendamt")
    assert post(other, token, "/api/v1/warning-rules", {"indicator": "sgb2_quote", "above": 1}).status_code == 403
    steward, token = writer(scratch_app, "sozialamt")
    bad = post(steward, token, "/api/v1/warning-rules", {"indicator": "sgb2_quote", "change_pct": -3})
    assert bad.status_code == 400 and "change_pct" in bad.get_json()["message"]
    assert post(steward, token, "/api/v1/warning-rules", {"indicator": "gibtsnicht"}).status_code == 404
