"""Real Berlin data through the whole workflow, as an admin and a steward would take it.

An empty store for Berlin; the admin uploads the 2006–2020 Planungsraum
boundaries (448 areas) and gets their real duplicate-key defect reported;
after the documented fix the set is stored. The statistics office uploads
the half-yearly population file (wide: one column per count), creating
three indicators with numerator and denominator; after release, the public
API returns exactly the file's figures, and the Bezirk aggregates match the
official Bezirk table.
"""
from __future__ import annotations

import io
import json
import os

import pandas as pd
import pytest

from tests.conftest import REALDATA, csrf_token, fresh_client, login

PLR = REALDATA / "berlin_lor_planungsraeume_2006_2020.geojson"
POPULATION = REALDATA / "berlin_population_planungsraeume_2015_2020_lor2006.csv"
BEZIRKE = REALDATA / "berlin_population_bezirke_2015_2024.csv"
BEZIRK_SHAPES = REALDATA / "berlin_bezirke.geojson"
pytestmark = pytest.mark.skipif(not PLR.exists() and os.environ.get("CI") != "true",
                                reason="../shared/realdata is not present")

SOURCE = "Amt für Statistik Berlin-Brandenburg, Einwohnerregister (Statistischer Bericht A I 16)"


def definition(ind_id: str, title: str, aggregation: str, unit: str, numerator: str = "", denominator: str = "",
               visibility: str = "public") -> dict:
    d = {"id": ind_id, "title_de": title, "title_en": title, "definition_de": title, "definition_en": title,
         "domain": "demografie", "unit": unit, "department": "statistik", "visibility": visibility,
         "polarity": "neutral", "decimals": 1 if aggregation == "ratio" else 0, "aggregation": aggregation,
         "periodicity": "quarter", "source": SOURCE, "contact": "Statistik", "licence": "CC BY 3.0 DE"}
    if aggregation == "ratio":
        d.update(scale=100, numerator=numerator, denominator=denominator)
    return d


NEW_INDICATORS = [
    definition("berlin_einwohner", "Einwohnerinnen und Einwohner", "sum", "Personen"),
    definition("berlin_anteil_u6", "Anteil unter 6 Jahren", "ratio", "%", "Einwohner unter 6", "Einwohner"),
    definition("berlin_anteil_migration", "Anteil mit Migrationshintergrund", "ratio", "%",
               "Einwohner mit Migrationshintergrund", "Einwohner"),
]
MAPPING = {"area": "plr_id", "period": "reference_date", "measures": {
    "berlin_einwohner": {"value": "inhabitants"},
    "berlin_anteil_u6": {"numerator": "inhabitants_age_below_6", "denominator": "inhabitants"},
    "berlin_anteil_migration": {"numerator": "inhabitants_with_migration_background", "denominator": "inhabitants"},
}}


@pytest.fixture()
def berlin(tmp_path, monkeypatch):
    monkeypatch.setenv("ATLAS_DATA_DIR", str(tmp_path / "berlin"))
    from atlas.__main__ import main
    assert main(["init", "--city", "Berlin", "--key", "11000000"]) == 0
    from atlas.config import load_settings
    from atlas.services.context import Atlas
    atlas = Atlas(load_settings())
    atlas.users.add("admin", "admin", [], "berlin-admin-2026", actor="test")
    atlas.users.add("statistik", "steward", ["statistik"], "berlin-statistik-1", actor="test")
    from atlas.web.app import create_app
    return atlas, create_app(atlas=atlas)


def signed_in(app, username: str, password: str):
    client = fresh_client(app)
    assert login(client, username, password).status_code == 303
    return client, {"X-CSRFToken": csrf_token(client)}


def boundary_form(body: bytes) -> dict:
    shapes = json.loads(BEZIRK_SHAPES.read_text(encoding="utf-8"))
    names = {f["properties"]["id"]: f["properties"]["name"] for f in shapes["features"]}
    return {"file": (io.BytesIO(body), "planungsraeume.geojson"), "valid_from": "2015-01-01", "set_id": "lor2006",
            "label": "LOR 2006 (Stand 2019)", "key_col": "id", "name_col": "name", "parent_key_length": "2",
            "parent_names": json.dumps(names), "city_name": "Berlin", "city_key": "11000000"}


def fixed_boundaries() -> bytes:
    """The documented fix: the Charlottenburg 'Schloßstraße' (north of 52.5° N) is 04030417."""
    doc = json.loads(PLR.read_text(encoding="utf-8"))
    twins = [f for f in doc["features"] if f["properties"]["id"] == "06010102"]

    def latitudes(coords) -> list[float]:
        return [coords[1]] if isinstance(coords[0], (int, float)) else [y for c in coords for y in latitudes(c)]
    max(twins, key=lambda f: max(latitudes(f["geometry"]["coordinates"])))["properties"]["id"] = "04030417"
    return json.dumps(doc).encode("utf-8")


def test_berlin_from_boundaries_to_public_figures(berlin):
    atlas, app = berlin
    admin, admin_csrf = signed_in(app, "admin", "berlin-admin-2026")

    raw = admin.post("/api/v1/boundaries", data=boundary_form(PLR.read_bytes()), headers=admin_csrf,
                     content_type="multipart/form-data")
    assert raw.status_code == 422
    messages = [e["message"] for e in raw.get_json()["errors"]]
    assert len(messages) == 1 and "Schlüssel '06010102' kommt 2-mal vor" in messages[0]  # reported, not swallowed
    assert len(atlas.store.read_table("areas")) == 0

    stored = admin.post("/api/v1/boundaries", data=boundary_form(fixed_boundaries()), headers=admin_csrf,
                        content_type="multipart/form-data")
    assert stored.status_code == 201, stored.get_json()
    assert stored.get_json()["areas"] == 448 and stored.get_json()["districts"] == 12
    features = fresh_client(app).get("/api/v1/areas?period=2019").get_json()["features"]
    assert len(features) == 448 and "04030417" in {f["properties"]["id"] for f in features}

    steward, steward_csrf = signed_in(app, "statistik", "berlin-statistik-1")
    resp = steward.post("/api/v1/uploads", headers=steward_csrf, content_type="multipart/form-data", data={
        "file": (io.BytesIO(POPULATION.read_bytes()), POPULATION.name), "mapping": json.dumps(MAPPING),
        "new_indicators": json.dumps(NEW_INDICATORS)})
    report = resp.get_json()
    assert resp.status_code == 200 and report["ok"], report["errors"][:5]
    file = pd.read_csv(POPULATION, dtype={"plr_id": str, "bezirk_id": str})
    assert report["rows"] == 3 * len(file) and len(report["periods"]) == 12
    # Allende II (09041403) was split off in 2019: the report says it is missing before, and only then.
    gaps = [w["message"] for w in report["warnings"] if "fehlen" in w["message"]]
    assert gaps and all("09041403" in g for g in gaps) and not any("2019" in g or "2020" in g for g in gaps)

    ids = post_json(steward, steward_csrf, f"/api/v1/uploads/{report['upload_id']}/confirm")["version_ids"]
    for vid in ids:
        assert post_json(steward, steward_csrf, f"/api/v1/versions/{vid}/release", {"to": "internal"})
    anonymous_ids = {i["id"] for i in fresh_client(app).get("/api/v1/indicators").get_json()["indicators"]}
    assert not anonymous_ids & {i["id"] for i in NEW_INDICATORS}  # requested public, internal until approved
    from atlas.services import versions
    assert {r["id"] for r in versions.visibility_requests(atlas, atlas.users.get("admin").principal())} == {
        i["id"] for i in NEW_INDICATORS}
    for ind in NEW_INDICATORS:  # public visibility is the admin's decision, then the public release
        assert post_json(admin, admin_csrf, f"/api/v1/indicators/{ind['id']}/visibility", {"to": "public"})
    for vid in ids:
        assert post_json(admin, admin_csrf, f"/api/v1/versions/{vid}/release", {"to": "public"})

    public = fresh_client(app)
    file["period"] = file["reference_date"].map(lambda d: f"{d[:4]}-Q{(int(d[5:7]) - 1) // 3 + 1}")
    people = read_values(public, "berlin_einwohner", "ortsteil").merge(
        file, left_on=["area_id", "period"], right_on=["plr_id", "period"], how="outer", indicator=True)
    delivered = people[people["_merge"] != "left_only"]
    assert (delivered["_merge"] == "both").all()  # every row of the file is served
    assert (delivered["value"] == delivered["inhabitants"]).all()
    u6 = read_values(public, "berlin_anteil_u6", "ortsteil").merge(
        file, left_on=["area_id", "period"], right_on=["plr_id", "period"])
    assert (u6["numerator"] == u6["inhabitants_age_below_6"]).all() and (u6["denominator"] == u6["inhabitants"]).all()

    official = pd.read_csv(BEZIRKE, dtype={"bezirk_id": str})
    official = official[official["reference_date"] <= "2020-12-31"].copy()
    official["period"] = official["reference_date"].map(lambda d: f"{d[:4]}-Q{(int(d[5:7]) - 1) // 3 + 1}")
    for ind, column in (("berlin_einwohner", None), ("berlin_anteil_u6", "inhabitants_age_below_6"),
                        ("berlin_anteil_migration", "inhabitants_with_migration_background")):
        agg = read_values(public, ind, "stadtbezirk").merge(official, left_on=["area_id", "period"],
                                                            right_on=["bezirk_id", "period"])
        assert len(agg) == 12 * 12
        allende_gap = (agg["area_id"] == "09") & (agg["period"] < "2019")
        assert (agg.loc[allende_gap, "status"] == "missing").all()  # a gap, never a partial sum
        ok = agg[~allende_gap]
        expected = ok["inhabitants"] if column is None else ok[column] / ok["inhabitants"] * 100
        assert (ok["status"] == "ok").all()
        assert ok["value"].to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-12)


def post_json(client, headers, path: str, body: dict | None = None) -> dict:
    resp = client.post(path, json=body or {}, headers=headers)
    assert resp.status_code in (200, 201), (path, resp.get_json())
    return resp.get_json()


def read_values(client, indicator: str, level: str) -> pd.DataFrame:
    body = client.get(f"/api/v1/values?indicator={indicator}&level={level}").get_json()
    return pd.DataFrame(body["rows"])
