"""Admins edit the metadata of indicators created through uploads: versioned, audited, effective at once.

Every test writes to a private store copy (`scratch_app`).
"""
from __future__ import annotations

import io
import json

from atlas.services import queries
from tests.conftest import fresh_client, login, writer
from tests.dash_requests import callback_payload
from tests.test_leaks import server_callbacks
from tests.test_workflow import extract, post

NEW = {"id": "tafel_quote", "title_de": "Tafel-Nutzung", "title_en": "Food bank use",
       "definition_de": "Anteil der Einwohner, die eine Tafel nutzen.", "definition_en": "Share using a food bank.",
       "domain": "soziales", "unit": "%", "department": "soziales", "visibility": "internal", "polarity": "high_bad",
       "decimals": 1, "aggregation": "ratio", "periodicity": "year", "source": "Tafel Auenstadt e. V.",
       "contact": "Sozialamt", "licence": "dl-de/by-2-0", "scale": 100, "numerator": "Nutzende",
       "denominator": "Einwohner"}


def created_indicator(app, atlas) -> None:
    """The social office delivers a new indicator with its first year (small counts in two areas)."""
    steward, token = writer(app, "sozialamt")
    areas = list(queries.areas(atlas, "ortsteil", queries.current_set(atlas))["area_id"])
    body = extract(atlas, "tafel_quote", "2025", {a: (2, 900) for a in areas[:2]})
    report = steward.post("/api/v1/uploads", data={"file": (io.BytesIO(body), "tafel.csv"),
                                                   "new_indicators": json.dumps([NEW])},
                          content_type="multipart/form-data", headers={"X-CSRFToken": token}).get_json()
    assert report["ok"], report["errors"][:3]
    assert post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm").status_code == 201


def save_request(app, indicator: str, fields: dict) -> dict:
    """The request the admin page sends on 'Metadaten speichern'."""
    key = next(k for k in server_callbacks(app) if "adm-meta-message.children" in k)
    payload = callback_payload(app, key, {"adm-meta-indicator.value": indicator, "adm-meta-save.n_clicks": 1})
    ids = [{"type": "adm-meta", "field": f} for f in fields]
    payload["state"] = [[{"id": i, "property": "value", "value": v} for i, v in zip(ids, fields.values())],
                        [{"id": i, "property": "id", "value": i} for i in ids]]
    payload["changedPropIds"] = ["adm-meta-save.n_clicks"]
    payload["outputs"][0] = [{"id": i, "property": "value"} for i in ids]  # the page's fields, matched by ALL
    return payload


def answer(client, payload) -> str:
    resp = client.post("/_dash-update-component", json=payload)
    return json.dumps(resp.get_json(silent=True), ensure_ascii=False)


def test_an_admin_edits_metadata_on_the_admin_page_as_a_new_audited_version(scratch_app, scratch_atlas):
    app, atlas = scratch_app, scratch_atlas
    created_indicator(app, atlas)
    admin = fresh_client(app)
    login(admin, "admin")
    changes = {"title_de": "Tafel-Nutzungsquote", "source": "Tafel Auenstadt e. V., Jahresstatistik",
               "suppress_numerator_below": "3"}
    body = answer(admin, save_request(app, "tafel_quote", changes))
    assert "Metadaten-Version 2" in body and "Tafel-Nutzungsquote" in body
    ind = atlas.indicator_by_id["tafel_quote"]
    assert (ind.title_de, ind.source, ind.suppress_numerator_below) == (
        "Tafel-Nutzungsquote", "Tafel Auenstadt e. V., Jahresstatistik", 3)
    entry = atlas.audit.entries(1)[0]
    assert (entry["actor"], entry["action"], entry["target"]) == ("admin", "metadata_changed", "tafel_quote")
    assert "'Tafel-Nutzung' → 'Tafel-Nutzungsquote'" in entry["detail"]
    # The threshold works at once: the two small counts are now withheld (and what they would give away).
    report = queries.disclosure_report(atlas, atlas.users.get("admin").principal(), "tafel_quote", "2025")
    assert (report["reason"] == "primary").sum() >= 2
    # Saving the same values again is no new version.
    assert "Nichts geändert" in answer(admin, save_request(app, "tafel_quote", changes))
    assert atlas.audit.entries(1)[0]["action"] == "metadata_changed"
    history = json.loads(atlas.store.read_table("catalog").set_index("id").loc["tafel_quote", "metadata_history"])
    assert [h["version"] for h in history] == [2] and history[0]["changes"]["suppress_numerator_below"] == [0, 3]
    # Who may see it is set in the same form (the approval of a public indicator, or any other change).
    body = answer(admin, save_request(app, "tafel_quote", {**changes, "visibility": "public"}))
    assert "Sichtbarkeit: öffentlich" in body and atlas.indicator_by_id["tafel_quote"].visibility == "public"
    assert atlas.audit.entries(1)[0]["action"] == "visibility_changed"


def test_metadata_are_the_admins_and_configured_indicators_stay_in_their_files(scratch_app, scratch_atlas):
    app, atlas = scratch_app, scratch_atlas
    created_indicator(app, atlas)
    steward = fresh_client(app)
    login(steward, "sozialamt")
    body = answer(steward, save_request(app, "tafel_quote", {"title_de": "Umbenannt"}))
    assert "Berechtigung" in body and atlas.indicator_by_id["tafel_quote"].title_de == "Tafel-Nutzung"
    social, token = writer(app, "sozialamt")
    assert post(social, token, "/api/v1/indicators/tafel_quote/metadata", {"title_de": "x"}).status_code == 403
    hidden = post(social, token, "/api/v1/indicators/hze_quote/metadata", {"title_de": "x"})  # the youth office's
    ghost = post(social, token, "/api/v1/indicators/zz_no_such_indicator/metadata", {"title_de": "x"})
    assert hidden.status_code == ghost.status_code and hidden.get_data() == ghost.get_data()
    admin, admin_token = writer(app, "admin")
    configured = post(admin, admin_token, "/api/v1/indicators/sgb2_quote/metadata", {"title_de": "x"})
    assert configured.status_code == 409 and "layers/*.toml" in configured.get_json()["message"]
    bad = post(admin, admin_token, "/api/v1/indicators/tafel_quote/metadata", {"suppress_numerator_below": "-1"})
    assert bad.status_code == 400 and "ganze Zahl" in bad.get_json()["message"]
    unknown = post(admin, admin_token, "/api/v1/indicators/tafel_quote/metadata", {"department": "jugend"})
    assert unknown.status_code == 400 and atlas.indicator_by_id["tafel_quote"].department == "soziales"
    ok = post(admin, admin_token, "/api/v1/indicators/tafel_quote/metadata", {"licence": "CC BY 4.0"})
    assert ok.status_code == 200 and ok.get_json() == {"indicator": "tafel_quote", "version": 2,
                                                        "changed": ["licence"]}
