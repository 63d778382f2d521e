"""Report templates: strict templates, the viewer's rights, the values service's numbers, and "as of" a date."""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from pypdf import PdfReader

from atlas.export import report_render
from atlas.services import queries, reports
from auth.permissions import ANONYMOUS, Principal
from tests.conftest import fresh_client, login, writer
from tests.test_workflow import extract, post, upload

STAFF = Principal("planer", "internal", logged_in=True)


def _text(pdf: bytes) -> str:
    return re.sub(r"\s+", " ", " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_shipped_templates_load_and_a_typo_is_named():
    loaded = reports.load_templates()
    assert {"bildungsbericht", "faktencheck"} <= set(loaded)
    titles = [c.title_de for c in loaded["bildungsbericht"].chapters]
    assert titles == ["Frühkindliche Bildung", "Übergänge in weiterführende Schulen", "Schulabgänge ohne Abschluss",
                      "Kinder- und Jugendhilfe", "Soziale Lage"]
    good = {"id": "x", "title_de": "X", "visibility": "public", "chapter": [{"title_de": "K", "block": [
        {"type": "map", "indicator": "sgb2_quote"}]}]}
    assert reports.parse_template(good, "x.toml").chapters[0].blocks[0].type == "map"
    for bad, needle in ((dict(good, visibility="secret"), "visibility"),
                        (dict(good, colour="red"), "colour"),
                        ({**good, "chapter": [{"title_de": "K", "block": [{"type": "pie", "indicator": "a"}]}]}, "type"),
                        ({**good, "chapter": [{"title_de": "K", "block": [{"type": "map"}]}]}, "indicator"),
                        ({**good, "chapter": [{"title_de": "K", "block": [
                            {"type": "comparison", "indicators": ["a"]}]}]}, "two")):
        with pytest.raises(reports.ReportError, match=needle) as err:
            reports.parse_template(bad, "x.toml")
        assert "x.toml" in str(err.value)


@pytest.mark.slow  # draws every map and chart of the Bildungsbericht twice
def test_public_report_leaves_out_what_the_public_may_not_see(atlas):
    public = report_render.report_html(reports.render(atlas, ANONYMOUS, "bildungsbericht"))
    staff = report_render.report_html(reports.render(atlas, STAFF, "bildungsbericht"))
    hidden = [i for i in atlas.indicators if i.visibility != "public"]
    for ind in hidden:
        assert ind.title_de not in public, ind.id
    assert atlas.indicator_by_id["kita_2jahre"].title_de in staff  # internal: in the staff's report
    assert atlas.indicator_by_id["hze_quote"].title_de not in staff  # restricted to the youth office
    assert "Öffentliche Fassung" in public and "INTERN" in staff


def test_table_blocks_are_the_values_service(atlas):
    data = reports.render(atlas, ANONYMOUS, "faktencheck")
    table = next(b for _, blocks in data.chapters for b in blocks if b.type == "table")
    for ind in table.indicators:
        period = table.options["periods"][ind.id]
        rows = queries.values(atlas, ANONYMOUS, ind.id, period, table.level).rows.set_index("area_id")
        for r in table.table.to_dict("records"):
            assert r[f"{ind.id}:status"] == rows.loc[r["area_id"], "status"]
            if r[f"{ind.id}:status"] == "ok":
                assert r[f"{ind.id}:value"] == pytest.approx(rows.loc[r["area_id"], "value"])


def test_routes_list_render_and_refuse(dash_app):
    client = fresh_client(dash_app)
    listed = client.get("/api/v1/reports").get_json()
    assert {r["id"] for r in listed["reports"]} == {"bildungsbericht", "faktencheck"}
    html = client.get("/api/v1/reports/faktencheck?format=html")
    assert html.status_code == 200 and html.mimetype == "text/html" and "Datengrundlage" in html.get_data(as_text=True)
    pdf = client.get("/api/v1/reports/faktencheck?format=pdf")
    assert pdf.mimetype == "application/pdf" and len(PdfReader(io.BytesIO(pdf.data)).pages) == 1  # one page
    text = _text(pdf.data)
    assert "Faktencheck" in text and "Versionen" in text and "as_of=" in text
    assert client.get("/api/v1/reports/nope").status_code == 404
    assert client.get("/api/v1/reports/faktencheck?as_of=gestern").status_code == 400
    assert client.get("/api/v1/reports/faktencheck?format=docx").status_code == 400


@pytest.mark.slow
def test_bildungsbericht_pdf_has_every_chapter(dash_app):
    pdf = fresh_client(dash_app).get("/api/v1/reports/bildungsbericht?format=pdf").data
    text = _text(pdf)
    for chapter in ("Frühkindliche Bildung", "Übergänge in weiterführende Schulen", "Schulabgänge ohne Abschluss",
                    "Kinder- und Jugendhilfe", "Soziale Lage", "Datengrundlage"):
        assert chapter in text


def test_a_report_as_of_an_earlier_date_ignores_a_later_upload(scratch_app, scratch_atlas):
    before = scratch_atlas.clock.now() - timedelta(minutes=1)
    stamp = before.isoformat(timespec="seconds")
    client = fresh_client(scratch_app)
    first = client.get(f"/api/v1/reports/faktencheck?format=html&as_of={stamp}").get_data(as_text=True)
    # a new quarter of the SGB II rate, released to the public after that moment
    steward, token = writer(scratch_app, "sozialamt")
    report = upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()
    vid = post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm").get_json()["version_id"]
    admin, admin_token = writer(scratch_app, "admin")
    assert post(admin, admin_token, f"/api/v1/versions/{vid}/release", {"to": "public"}).status_code == 200
    now = client.get("/api/v1/reports/faktencheck?format=html").get_data(as_text=True)
    assert "Q1 2026" in now and f"v{vid}" in now
    again = client.get(f"/api/v1/reports/faktencheck?format=html&as_of={stamp}").get_data(as_text=True)
    assert "Q1 2026" not in again and f"v{vid}" not in again

    def body(html: str) -> str:  # everything but the line saying when it was made
        return re.sub(r"Erstellt am [0-9.: ]+", "", html)
    assert body(again) == body(first)
    # the internal view as of then: the version did not exist, so not even as a draft
    staff = fresh_client(scratch_app)
    login(staff, "admin")
    assert f"v{vid}" not in staff.get(f"/api/v1/reports/faktencheck?format=html&as_of={stamp}").get_data(as_text=True)


def test_versions_as_of_replays_releases_and_withdrawals(scratch_app, scratch_atlas):
    steward, token = writer(scratch_app, "sozialamt")
    report = upload(steward, token, extract(scratch_atlas, "sgb2_quote", "2026-Q1")).get_json()
    vid = post(steward, token, f"/api/v1/uploads/{report['upload_id']}/confirm").get_json()["version_id"]
    created = scratch_atlas.clock.now()
    assert post(steward, token, f"/api/v1/versions/{vid}/release", {"to": "internal"}).status_code == 200
    assert post(steward, token, f"/api/v1/versions/{vid}/rollback", {"reason": "falsch"}).status_code == 200
    later = scratch_atlas.clock.now() + timedelta(minutes=1)
    then = reports.versions_as_of(scratch_atlas, later).set_index("version_id")
    assert then.loc[vid, "state"] == "withdrawn"
    assert vid not in set(reports.versions_as_of(scratch_atlas, created - timedelta(minutes=1))["version_id"])
