"""The stewards' workflow through its JSON API: upload, confirm, release, schedule, roll back, history.

Every test writes to a private copy of the demo store (`scratch_app`).
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime

import pytest

from atlas.services import queries
from auth import ANONYMOUS
from tests.conftest import fresh_client, writer


def extract(atlas, indicator: str, period: str, values: dict | None = None, sep: str = ";") -> bytes:
    """A complete quarterly extract as Excel writes it: every Ortsteil with counts."""
    areas = queries.areas(atlas, "ortsteil", queries.set_for_period(atlas, period))["area_id"]
    lines = [sep.join(["Ortsteil", "Zeitraum", "Indikator", "Zähler", "Nenner"])]
    for i, area in enumerate(areas):
        num, den = (values or {}).get(area, (300 + i, 3000 + 10 * i))
        lines.append(sep.join([area, period, indicator, str(num), str(den)]))
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def upload(client, token, body: bytes, name: str = "extract.csv", mapping: dict | None = None, headers=None):
    data = {"file": (io.BytesIO(body), name)}
    if mapping:
        data["mapping"] = json.dumps(mapping)
    return client.post("/api/v1/uploads", data=data, content_type="multipart/form-data",
                       headers=headers if headers is not None else {"X-CSRFToken": token})


def post(client, token, path: str, body: dict | None = None):
    return client.post(path, json=body or {}, headers={"X-CSRFToken": token})


def public_periods(app, indicator: str) -> list[str]:
    rows = fresh_client(app).get(f"/api/v1/values?indicator={indicator}&level=stadt").get_json()["rows"]
    return sorted({r["period"] for r in rows})


def test_quarterly_extract_from_upload_to_public(scratch_app, scratch_atlas):
    steward, token = writer(scratch_app, "sozialamt")
    resp = upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1"))
    report = resp.get_json()
    assert resp.status_code == 200 and report["ok"] and report["rows"] == 51 and report["errors"] == []
    assert report["indicators"] == ["sgb2_quote"] and report["periods"] == ["2026-Q1"]
    # Nothing is stored before the confirmation.
    assert "2026-Q1" not in queries.periods(scratch_atlas, scratch_atlas.users.get("sozialamt").principal(),
                                            "sgb2_quote")
    again = steward.get(f"/api/v1/uploads/{report['upload_id']}").get_json()  # the report, for the page
    assert again["state"] == "checked" and again["ok"] and len(again["preview"]) == 51
    confirmed = post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm")
    assert confirmed.status_code == 201 and confirmed.get_json()["state"] == "draft"
    vid = confirmed.get_json()["version_id"]
    assert post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm").status_code == 409
    assert "2026-Q1" not in public_periods(scratch_app, "sgb2_quote")

    assert post(steward, token, f"/api/v1/versions/{vid}/release", {"to": "public"}).status_code == 403
    assert post(steward, token, f"/api/v1/versions/{vid}/release", {"to": "internal"}).status_code == 200
    staff = fresh_client(scratch_app)
    from tests.conftest import login
    login(staff, "intern")
    assert any(r["period"] == "2026-Q1" for r in staff.get("/api/v1/values?indicator=sgb2_quote").get_json()["rows"])
    assert "2026-Q1" not in public_periods(scratch_app, "sgb2_quote")

    admin, admin_token = writer(scratch_app, "admin")
    assert post(admin, admin_token, f"/api/v1/versions/{vid}/release", {"to": "public"}).status_code == 200
    assert "2026-Q1" in public_periods(scratch_app, "sgb2_quote")
    # Values read back exactly as delivered, city aggregated from the counts.
    rows = fresh_client(scratch_app).get("/api/v1/values?indicator=sgb2_quote&period=2026-Q1").get_json()["rows"]
    assert rows[0]["numerator"] == 300 and rows[0]["denominator"] == 3000 and rows[0]["value"] == pytest.approx(10)

    actions = [e["action"] for e in scratch_atlas.audit.entries(10) if e["target"] == f"sgb2_quote v{vid}"]
    assert actions == ["version_released", "version_released", "version_created"]
    history = steward.get("/api/v1/versions?indicator=sgb2_quote").get_json()["versions"]
    newest = history[0]
    assert newest["version_id"] == vid and newest["state"] == "public" and newest["created_by"] == "sozialamt"
    assert newest["released_by"] == "admin" and newest["file_name"] == "extract.csv"
    assert newest["row_count"] == 51 and newest["n_added"] == 51 and len(newest["checksum"]) == 64


def test_public_keeps_the_released_version_while_a_correction_is_a_draft(scratch_app, scratch_atlas):
    before = queries.values(scratch_atlas, ANONYMOUS, "sgb2_quote", "2025-Q3").rows.set_index("area_id")
    steward, token = writer(scratch_app, "sozialamt")
    body = extract(scratch_atlas, "sgb2_quote", "2025-Q3", {"0101": (1, 1000)})
    upload_id = upload(steward, token, body).get_json()["upload_id"]
    vid = post(steward, token, f"/api/v1/uploads/{upload_id}/confirm").get_json()["version_id"]
    after = queries.values(scratch_atlas, ANONYMOUS, "sgb2_quote", "2025-Q3").rows.set_index("area_id")
    assert after.loc["0101", "value"] == before.loc["0101", "value"]
    own = queries.values(scratch_atlas, scratch_atlas.users.get("sozialamt").principal(), "sgb2_quote", "2025-Q3")
    assert own.rows.set_index("area_id").loc["0101", "value"] == pytest.approx(0.1)
    newest = steward.get("/api/v1/versions?indicator=sgb2_quote").get_json()["versions"][0]
    assert newest["version_id"] == vid and newest["n_added"] == 0 and newest["n_changed"] == 51

    # Rollback: the draft is withdrawn, its cells fall back, the history keeps it.
    assert post(steward, token, f"/api/v1/versions/{vid}/rollback").get_json()["state"] == "withdrawn"
    own = queries.values(scratch_atlas, scratch_atlas.users.get("sozialamt").principal(), "sgb2_quote", "2025-Q3")
    assert own.rows.set_index("area_id").loc["0101", "value"] == pytest.approx(before.loc["0101", "value"])
    states = {v["version_id"]: v["state"] for v in steward.get("/api/v1/versions?indicator=sgb2_quote")
              .get_json()["versions"]}
    assert states[vid] == "withdrawn"


def test_history_shows_the_public_only_public_versions_without_names(scratch_app):
    body = fresh_client(scratch_app).get("/api/v1/versions?indicator=sgb2_quote").get_json()
    assert body["count"] >= 1 and {v["state"] for v in body["versions"]} == {"public"}
    assert all(v["created_by"] is None and v["released_by"] is None for v in body["versions"])
    hidden = fresh_client(scratch_app).get("/api/v1/versions?indicator=kaufkraft")
    ghost = fresh_client(scratch_app).get("/api/v1/versions?indicator=zz_ghost")
    assert hidden.status_code == ghost.status_code == 404 and hidden.get_data() == ghost.get_data()


def test_a_release_can_be_scheduled(scratch_app, scratch_atlas):
    scratch_atlas.clock.set(datetime(2026, 11, 30, 8, 0))  # the app's clock, not the wall clock
    steward, token = writer(scratch_app, "sozialamt")
    upload_id = upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()["upload_id"]
    vid = post(steward, token, f"/api/v1/uploads/{upload_id}/confirm").get_json()["version_id"]
    post(steward, token, f"/api/v1/versions/{vid}/release", {"to": "internal"})
    admin, admin_token = writer(scratch_app, "admin")
    past = post(admin, admin_token, f"/api/v1/versions/{vid}/release", {"to": "public", "at": "2026-11-30T07:59"})
    assert past.status_code == 400
    scheduled = post(admin, admin_token, f"/api/v1/versions/{vid}/release", {"to": "public", "at": "2026-12-01T09:00"})
    assert scheduled.status_code == 200 and scheduled.get_json()["scheduled"]["to"] == "public"
    assert "2026-Q1" not in public_periods(scratch_app, "sgb2_quote")  # embargo holds
    scratch_atlas.clock.set(datetime(2026, 12, 1, 8, 59))
    assert "2026-Q1" not in public_periods(scratch_app, "sgb2_quote")  # a minute before: still embargoed
    scratch_atlas.clock.set(datetime(2026, 12, 1, 9, 0))
    assert "2026-Q1" in public_periods(scratch_app, "sgb2_quote")  # no one wrote: the time came
    assert scratch_atlas.audit.entries(5)[0]["action"] == "release_scheduled"


def test_rights_are_checked_on_every_step(scratch_app, scratch_atlas):
    anonymous = fresh_client(scratch_app)
    assert upload(anonymous, "", b"x").status_code == 401
    staff, staff_token = writer(scratch_app, "intern")
    assert upload(staff, staff_token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).status_code == 403
    youth, youth_token = writer(scratch_app, "jugendamt")
    report = upload(youth, youth_token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()
    assert not report["ok"] and "Fachamt 'soziales'" in report["errors"][0]["message"]
    # Another steward cannot confirm, release or even see someone else's upload or draft.
    social, social_token = writer(scratch_app, "sozialamt")
    upload_id = upload(social, social_token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()["upload_id"]
    assert youth.get(f"/api/v1/uploads/{upload_id}").status_code == 404
    assert post(youth, youth_token, f"/api/v1/uploads/{upload_id}/confirm").status_code == 404
    vid = post(social, social_token, f"/api/v1/uploads/{upload_id}/confirm").get_json()["version_id"]
    assert post(youth, youth_token, f"/api/v1/versions/{vid}/release", {"to": "internal"}).status_code == 404
    assert post(social, social_token, f"/api/v1/versions/{vid}/rollback").status_code == 200
    # The cookie alone is not enough to write: the CSRF token is required.
    assert upload(social, social_token, extract(scratch_atlas, "sgb2_quote", "2026-Q1"),
                  headers={}).status_code == 400


def test_bearer_tokens_drive_the_workflow_and_can_be_revoked(scratch_app, scratch_atlas, capsys, monkeypatch):
    from atlas.__main__ import main
    monkeypatch.setenv("ATLAS_DATA_DIR", str(scratch_atlas.store.data_dir))  # the CLI's store is the environment's
    assert main(["tokens", "add", "sozialamt", "--label", "Fachverfahren"]) == 0
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("oa_")
    stored = scratch_atlas.store.read_table("tokens")
    assert token not in stored.to_csv() and len(stored) == 1  # only the hash is kept
    script = fresh_client(scratch_app)
    auth = {"Authorization": f"Bearer {token}"}
    resp = upload(script, None, extract(scratch_atlas, "sgb2_quote", "2026-Q1"), headers=auth)
    assert resp.status_code == 200, resp.get_json()
    confirmed = script.post(f"/api/v1/uploads/{resp.get_json()['upload_id']}/confirm", headers=auth)
    vid = confirmed.get_json()["version_id"]
    assert script.post(f"/api/v1/versions/{vid}/release", json={"to": "internal"}, headers=auth).status_code == 200
    assert main(["tokens", "revoke", stored.iloc[0]["token_id"]]) == 0
    assert script.get("/api/v1/versions?indicator=sgb2_quote", headers=auth).status_code == 401
    assert script.get("/api/v1/versions?indicator=sgb2_quote",
                      headers={"Authorization": "Bearer oa_forged"}).status_code == 401


def test_two_stewards_confirming_at_once_both_get_their_versions(scratch_app, scratch_atlas):
    social, social_token = writer(scratch_app, "sozialamt")
    admin, admin_token = writer(scratch_app, "admin")
    a = upload(social, social_token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()["upload_id"]
    b = upload(admin, admin_token, extract(scratch_atlas, "alo_quote", "2026-Q1")).get_json()["upload_id"]
    results = {}

    def confirm(name, client, token, upload_id):
        results[name] = post(client, token, f"/api/v1/uploads/{upload_id}/confirm").get_json()
    threads = [threading.Thread(target=confirm, args=("a", social, social_token, a)),
               threading.Thread(target=confirm, args=("b", admin, admin_token, b))]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    ids = {results["a"]["version_id"], results["b"]["version_id"]}
    versions = scratch_atlas.store.read_table("versions")
    assert len(ids) == 2 and ids <= set(versions["version_id"])
    assert set(versions.loc[versions["version_id"].isin(ids), "indicator_id"]) == {"sgb2_quote", "alo_quote"}


def test_a_writer_killed_halfway_leaves_the_store_as_it_was(scratch_atlas):
    store_dir = scratch_atlas.store.data_dir
    manifest = (store_dir / "manifest.json").read_bytes()
    script = textwrap.dedent(f"""
        import os, signal, pandas as pd
        os.environ["ATLAS_DATA_DIR"] = {str(store_dir)!r}
        from atlas.config import load_settings
        from atlas.services.context import Atlas
        atlas = Atlas(load_settings())
        with atlas.store.writing() as tx:
            vid = tx.next_version_id()
            tx.add_values(vid, pd.DataFrame([{{"indicator_id": "bev_u6", "area_id": "0101", "period": "2030",
                "period_end": pd.Timestamp("2030-12-31").date(), "value": 1.0, "numerator": 1.0,
                "denominator": 100.0, "status": "ok", "version_id": vid}}]))
            os.kill(os.getpid(), signal.SIGKILL)  # the power goes out before the manifest swap
    """)
    from atlas.config import PROJECT_ROOT
    proc = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, timeout=120)
    assert proc.returncode == -9
    assert (store_dir / "manifest.json").read_bytes() == manifest
    assert "2030" not in queries.periods(scratch_atlas, ANONYMOUS, "bev_u6")
    with scratch_atlas.store.writing() as tx:  # the lock died with the process: the next writer proceeds
        tx.next_version_id()


def boundary_post(client, token, gdf, **fields):
    form = {"file": (io.BytesIO(gdf.to_json().encode()), "grenzen.geojson"), "valid_from": "2027-01-01",
            "key_col": "key", "name_col": "name", "parent_col": "parent", **fields}
    return client.post("/api/v1/boundaries", data=form, content_type="multipart/form-data",
                       headers={"X-CSRFToken": token})


def test_boundary_uploads_are_checked_for_overlaps_gaps_and_rights(scratch_app, scratch_atlas):
    import geopandas as gpd
    import shapely
    areas = queries.areas(scratch_atlas, "ortsteil", queries.current_set(scratch_atlas))
    gdf = gpd.GeoDataFrame({"key": areas["area_id"], "name": areas["name"], "parent": areas["parent_id"]},
                           geometry=shapely.from_wkb(areas["geometry"].values), crs="EPSG:4326").to_crs(25832)
    admin, token = writer(scratch_app, "admin")
    steward, steward_token = writer(scratch_app, "sozialamt")
    before = scratch_atlas.store.manifest_path.read_bytes()
    assert boundary_post(steward, steward_token, gdf).status_code == 403

    overlapping = gdf.copy()
    overlapping.loc[0, "geometry"] = overlapping.geometry.iloc[0].buffer(300)  # grows into its neighbours
    body = boundary_post(admin, token, overlapping).get_json()
    assert not body["ok"] and any("überlappen sich" in e["message"] and areas["area_id"].iloc[0] in e["message"]
                                  for e in body["errors"])
    holed = gdf.copy()
    inner = holed.geometry.iloc[20]
    holed.loc[20, "geometry"] = inner.difference(inner.centroid.buffer(150))  # a hole inside the city
    body = boundary_post(admin, token, holed).get_json()
    assert not body["ok"] and any("Lücke" in e["message"] for e in body["errors"])
    assert boundary_post(admin, token, gdf, key_col="Schluessel").get_json()["errors"][0]["message"].startswith(
        "Spalte 'Schluessel' nicht gefunden")
    assert scratch_atlas.store.manifest_path.read_bytes() == before  # nothing of it was stored

    stored = boundary_post(admin, token, gdf)
    assert stored.status_code == 201 and stored.get_json()["source_crs"] == "EPSG:25832"
    sets = queries.boundary_sets(scratch_atlas).set_index("set_id")
    assert str(sets.loc[queries.current_set(scratch_atlas, date_of("2026-06-30")), "valid_to"]) == "2026-12-31"
    assert queries.set_for_period(scratch_atlas, "2027") == "gs20270101"
    assert scratch_atlas.audit.entries(1)[0]["action"] == "boundaries_added"


def date_of(text: str):
    from datetime import date
    return date.fromisoformat(text)


def test_a_cancelled_upload_cannot_be_confirmed_and_old_ones_are_purged(scratch_app, scratch_atlas):
    import os

    from atlas.ingest.uploads import Uploads
    steward, token = writer(scratch_app, "sozialamt")
    first = upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()["upload_id"]
    assert post(steward, token, f"/api/v1/uploads/{first}/cancel").get_json()["state"] == "cancelled"
    assert post(steward, token, f"/api/v1/uploads/{first}/confirm").status_code == 409
    folder = Uploads(scratch_atlas.settings.data_dir).root / first
    old = time.time() - 31 * 86400
    os.utime(folder, (old, old))
    upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1"))  # housekeeping runs on the way
    assert not folder.exists()


def test_a_json_body_that_is_not_an_object_is_treated_as_empty(scratch_app):
    """An array or string body to a write route is a 400 with a message, never a server error."""
    admin, token = writer(scratch_app, "admin")
    for path in ("/api/v1/versions/1/release", "/api/v1/indicators/bev_u6/visibility"):
        resp = admin.post(path, data="[null, null]", content_type="application/json", headers={"X-CSRFToken": token})
        assert 400 <= resp.status_code < 500 and resp.get_json()["message"]
