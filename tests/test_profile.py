"""Area profiles: every number is the values service's, gaps keep their kind, and there is no rank.

The profile reads through `queries.values` like the map and the values API,
so it can never show a withheld cell or a different figure; these tests
hold it to that for the public, staff and the owning department, at every
level, and read the PDF back.
"""
from __future__ import annotations

import io
import json
import math
import re

import pytest
from pypdf import PdfReader

from atlas.services import profiles, queries, territory
from auth.permissions import ANONYMOUS, Principal
from tests.conftest import fresh_client, login

STAFF = Principal("planer", "internal", logged_in=True)
SCHOOL = Principal("schulamt", "steward", frozenset({"schule"}), logged_in=True)
RANK = re.compile(r"\bPlatz\b|\bRang\b|\brank\b|\d+\s*(von|of)\s*\d+\b", re.IGNORECASE)


def _same(a, b) -> bool:
    if a is None or (isinstance(a, float) and math.isnan(a)):
        return b is None or (isinstance(b, float) and math.isnan(b))
    return b is not None and not (isinstance(b, float) and math.isnan(b)) and abs(float(a) - float(b)) < 1e-9


def _cell(atlas, viewer, ind_id, period, level, area_id):
    rows = queries.values(atlas, viewer, ind_id, period, level).rows
    hit = rows[rows["area_id"] == area_id]
    return (None, "boundary") if hit.empty else (hit["value"].iloc[0], hit["status"].iloc[0])


@pytest.mark.parametrize("viewer", [ANONYMOUS, STAFF, SCHOOL], ids=["public", "staff", "school"])
@pytest.mark.parametrize("area_id", ["0101", "0208", "03", "00"])
def test_every_row_is_the_values_service_for_area_parent_and_territory(atlas, viewer, area_id):
    p = profiles.profile(atlas, viewer, area_id)
    visible = queries.visible_indicators(atlas, viewer)
    assert [r.indicator.id for r in p.rows] == list(visible["id"])  # every indicator the viewer may see
    top = territory.top_level(atlas)
    for r in p.rows:
        assert r.period == list(visible.loc[visible["id"] == r.indicator.id, "periods"].iloc[0])[-1]
        value, status = _cell(atlas, viewer, r.indicator.id, r.period, p.area.level, area_id)
        assert r.status == status and _same(r.value, value), (r.indicator.id, r.value, value)
        t_value, t_status = _cell(atlas, viewer, r.indicator.id, r.period, top, p.territory.area_id)
        assert r.territory_status == t_status and _same(r.territory_value, t_value)
        if p.parent is not None and r.parent_status not in (None, "missing"):
            pv_, ps = _cell(atlas, viewer, r.indicator.id, r.period, p.parent.level, p.parent.area_id)
            assert r.parent_status == ps and _same(r.parent_value, pv_)
        if r.difference is not None:
            assert _same(r.difference, r.value - r.territory_value)


@pytest.mark.slow  # the first profiles of a run fill the per-level caches
def test_suppressed_stays_suppressed_for_the_public_in_json_and_pdf(dash_app, atlas):
    public = profiles.profile(atlas, ANONYMOUS, "0208")
    row = next(r for r in public.rows if r.indicator.id == "abgang_ohne")
    assert row.status == "suppressed" and row.value is None
    owner = profiles.profile(atlas, SCHOOL, "0208")  # the school office sees its own small number
    secret = next(r for r in owner.rows if r.indicator.id == "abgang_ohne").value
    assert secret is not None
    client = fresh_client(dash_app)
    doc = client.get("/api/v1/profile?area=0208").get_json()
    cell = next(r for r in doc["rows"] if r["indicator"] == "abgang_ohne")
    assert cell["status"] == "suppressed" and cell["value"] is None and cell["trend"]["direction"] is None
    assert cell["distribution"]["suppressed"] >= 1  # the strip leaves withheld areas out
    text = _pdf_text(client.get("/api/v1/profile?area=0208&format=pdf").data)
    assert "geheim gehalten" in text
    secret_text = f"{secret:.1f}".replace(".", ",")
    line = next(x for x in text.splitlines() if "Schulabgänge ohne" in x)
    assert secret_text not in line


def test_three_kinds_of_gap_stay_apart(atlas):
    gone = profiles.profile(atlas, ANONYMOUS, "0205")  # split in 2022: no such area in 2025
    assert {r.status for r in gone.rows} == {"boundary"}
    then = profiles.profile(atlas, ANONYMOUS, "0205", "2021")
    assert {r.status for r in then.rows} <= {"ok", "missing", "suppressed"}
    assert any(r.status == "ok" for r in then.rows)
    new = profiles.profile(atlas, ANONYMOUS, "0208", "2023")  # its trend would reach back before the split
    assert {r.trend.reason for r in new.rows if r.trend.from_period == "2020" and r.status == "ok"} == {"boundary"}
    assert all(r.trend.direction is None for r in new.rows if r.trend.from_period == "2020")


def test_period_picks_the_latest_period_up_to_it(atlas):
    p = profiles.profile(atlas, ANONYMOUS, "0101", "2023")
    by_id = {r.indicator.id: r.period for r in p.rows}
    assert by_id["sgb2_quote"] == "2023-Q4" and by_id["bev_u6"] == "2023"
    with pytest.raises(ValueError):
        profiles.profile(atlas, ANONYMOUS, "0101", "23")


def test_trend_follows_its_stated_rule(atlas):
    p = profiles.profile(atlas, ANONYMOUS, "0101")
    checked = 0
    for r in p.rows:
        tr = r.trend
        if tr.direction is None:
            continue
        assert tr.from_period == profiles.earlier_period(r.period)
        then, _ = _cell(atlas, ANONYMOUS, r.indicator.id, tr.from_period, "ortsteil", "0101")
        assert _same(tr.from_value, then)
        rel = (r.value - then) / abs(then)
        expected = "up" if rel >= profiles.TREND_THRESHOLD else "down" if rel <= -profiles.TREND_THRESHOLD else "flat"
        assert tr.direction == expected
        checked += 1
    assert checked >= 10


def test_summary_names_exactly_the_rows_beyond_its_thresholds(atlas):
    p = profiles.profile(atlas, ANONYMOUS, "0101")
    found = dict(p.summary)
    above = {r.indicator.id for r in p.rows if r.deviation is not None and r.deviation >= profiles.SUMMARY_DEVIATION}
    below = {r.indicator.id for r in p.rows if r.deviation is not None and r.deviation <= -profiles.SUMMARY_DEVIATION}
    assert above and {r.indicator.id for r in found.get("above", ())} == above
    assert {r.indicator.id for r in found.get("below", ())} == below
    assert all(r.comparable for r in found.get("above", ()) + found.get("below", ()))  # no counts vs the city total


def test_distribution_is_the_levels_usable_values(atlas):
    p = profiles.profile(atlas, ANONYMOUS, "0101")
    r = next(r for r in p.rows if r.indicator.id == "sgb2_quote")
    rows = queries.values(atlas, ANONYMOUS, "sgb2_quote", r.period, "ortsteil").rows
    ok = sorted(rows.loc[rows["status"] == "ok", "value"])
    assert list(r.distribution.values) == pytest.approx(ok)


def test_staff_see_internal_indicators_and_the_internal_marking(dash_app):
    public = fresh_client(dash_app).get("/api/v1/profile?area=0101").get_json()
    staff = fresh_client(dash_app)
    login(staff, "intern")
    internal = staff.get("/api/v1/profile?area=0101").get_json()
    assert public["view"] == "public" and internal["view"] == "internal"
    assert "kaufkraft" in {r["indicator"] for r in internal["rows"]}
    assert "kaufkraft" not in {r["indicator"] for r in public["rows"]}
    assert "INTERN" in _pdf_text(staff.get("/api/v1/profile?area=0101&format=pdf").data)
    assert "INTERN" not in _pdf_text(fresh_client(dash_app).get("/api/v1/profile?area=0101&format=pdf").data)


def test_no_rank_anywhere_for_any_area(dash_app, atlas):
    client = fresh_client(dash_app)
    for place in profiles.areas_of_level(atlas, "ortsteil")[:12] + profiles.areas_of_level(atlas, "stadtbezirk"):
        body = client.get(f"/api/v1/profile?area={place.area_id}").get_json()
        assert not {"rank", "position", "place"} & set(body["rows"][0])
        text = " ".join(body["rules"] + [s["headline"] + s["items"] for s in body["summary"]])
        assert not RANK.search(text), RANK.search(text)
        page = client.get(f"/profil/{place.area_id}")
        assert page.status_code == 200
    text = _pdf_text(client.get("/api/v1/profile?area=0101&format=pdf").data)
    assert not RANK.search(text.replace("Seite", "")), RANK.search(text)


def test_pdf_reads_back_with_title_dates_sources_and_every_indicator(dash_app, atlas):
    client = fresh_client(dash_app)
    body = client.get("/api/v1/profile?area=0101&format=pdf")
    assert body.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(body.data))
    assert 1 <= len(reader.pages) <= 4
    assert all(abs(float(page.mediabox.width) - 595.28) < 1 and abs(float(page.mediabox.height) - 841.89) < 1
               for page in reader.pages)  # A4 portrait
    text = _pdf_text(body.data)
    for needle in ("Gebietsprofil Altstadt", "Erstellt am", "Datenstand", "Quellen und Lizenzen", "dl-de/by-2-0",
                   "Öffentliche Fassung", "So lesen Sie das Profil"):
        assert needle in text, needle
    flat = re.sub(r"\s+", " ", text)
    for ind_id in json.loads(client.get("/api/v1/profile?area=0101").data)["rows"]:
        words = atlas.indicator_by_id[ind_id["indicator"]].title_de.split()[:2]
        assert " ".join(words) in flat, words


def test_route_refuses_clearly(dash_app):
    client = fresh_client(dash_app)
    assert client.get("/api/v1/profile").status_code == 400
    assert client.get("/api/v1/profile?area=9999").status_code == 404
    bad = client.get("/api/v1/profile?area=0101&period=2024-Q9")
    assert bad.status_code == 400 and "2024-Q9" not in bad.get_data(as_text=True)
    assert client.get("/api/v1/profile?area=0101&format=docx").status_code == 400
    assert client.get("/profil/9999").status_code == 200  # the page says "no such area" (Dash renders it)


def test_search_by_name_or_key(atlas):
    assert [p.area_id for p in profiles.search(atlas, "altstadt")][:2] == ["0101", "0102"]
    assert [p.area_id for p in profiles.search(atlas, "0208")] == ["0208"]
    assert profiles.search(atlas, "   ") == []


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
