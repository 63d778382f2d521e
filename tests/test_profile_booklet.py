"""The profile booklet: read back (pypdf, zip), every area present, nothing internal in the public edition."""
from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from pypdf import PdfReader

from atlas.services import profiles
from tests.conftest import fresh_client, login


def _admin(app):
    client = fresh_client(app)
    login(client, "admin")
    return client


@pytest.mark.slow
def test_public_booklet_of_all_ortsteile(dash_app, atlas):
    resp = _admin(dash_app).get("/api/v1/booklet?level=ortsteil&format=pdf&view=public&wait=1")
    assert resp.status_code == 200 and resp.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(resp.data))
    places = profiles.areas_of_level(atlas, "ortsteil")
    assert len(places) == 51
    # cover, contents (2 pages), indicators, methods, then at least one page per area
    assert len(reader.pages) >= len(places) + 4
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    for place in places:
        assert f"Gebietsprofil {place.name}" in text, place.name
        assert f"{place.name} ({place.area_id})" in text  # in the table of contents
    assert [o.title for o in reader.outline][:3] == [f"{p.name} ({p.area_id})" for p in places[:3]]
    for ind in atlas.indicators:
        if ind.visibility != "public":
            assert ind.title_de not in text, ind.id
    assert "INTERN" not in text and "Öffentliche Fassung" in text
    assert "Methoden und Quellen" in text and "Die Indikatoren" in text


@pytest.mark.slow
def test_booklet_job_with_progress_and_the_internal_zip(scratch_app, scratch_atlas):
    admin = _admin(scratch_app)
    started = admin.get("/api/v1/booklet?level=stadtbezirk&format=zip&view=internal")
    assert started.status_code == 202
    status_url = started.get_json()["status_url"]
    for _ in range(600):  # a background thread: poll like the page does
        state = admin.get(status_url).get_json()
        if state["state"] != "running":
            break
        time.sleep(0.1)
    assert state["state"] == "done" and state["done"] == state["total"] == 8
    body = admin.get(state["download"])
    assert body.status_code == 200 and body.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(body.data)) as z:
        names = set(z.namelist())
        assert names == {"index.html"} | {f"{p.area_id}.html" for p in profiles.areas_of_level(scratch_atlas,
                                                                                            "stadtbezirk")}
        page = z.read("01.html").decode()
    assert "INTERN" in page and scratch_atlas.indicator_by_id["kaufkraft"].title_de in page
    assert scratch_atlas.indicator_by_id["hze_quote"].title_de not in page  # restricted: not in the internal view


def test_only_admins_make_booklets(dash_app):
    for user in (None, "intern", "jugendamt"):
        client = fresh_client(dash_app)
        if user:
            login(client, user)
        assert client.get("/api/v1/booklet?level=ortsteil&wait=1").status_code == 404
        assert client.get("/api/v1/booklet/jobs/0123456789abcdef").status_code == 404
    assert _admin(dash_app).get("/api/v1/booklet?level=nowhere").status_code == 400
