"""Interpretation notes: who may write them, who may read them, versions, audit, and where they show."""
from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from atlas.services import notes
from tests.conftest import fresh_client, writer

TEXT = "Anstieg durch Neubaugebiet Am Hang, Erstbezug 2024"


def _post(client, token, body: dict):
    return client.post("/api/v1/notes", json=body, headers={"X-CSRFToken": token})


def test_owning_steward_writes_public_and_internal_notes_readers_see_their_share(scratch_app):
    steward, token = writer(scratch_app, "sozialamt")
    public = _post(steward, token, {"indicator": "sgb2_quote", "text": TEXT, "visibility": "public",
                                    "area": "0101", "period": "2025-Q3"})
    assert public.status_code == 201, public.get_json()
    internal = _post(steward, token, {"indicator": "sgb2_quote", "text": "Zählweise geändert ab 2023",
                                      "visibility": "internal"})
    assert internal.status_code == 201
    anonymous = fresh_client(scratch_app).get("/api/v1/notes?indicator=sgb2_quote").get_json()
    assert [n["text"] for n in anonymous["notes"]] == [TEXT]
    assert anonymous["notes"][0]["author"] != "sozialamt"  # the public learns the department, not the person
    staff, _ = writer(scratch_app, "intern")
    seen = staff.get("/api/v1/notes?indicator=sgb2_quote").get_json()["notes"]
    assert {n["text"] for n in seen} == {TEXT, "Zählweise geändert ab 2023"}
    assert {n["author"] for n in seen} == {"sozialamt"}
    # an area filter keeps notes on that area and notes on no area
    other = staff.get("/api/v1/notes?indicator=sgb2_quote&area=0102").get_json()["notes"]
    assert [n["text"] for n in other] == ["Zählweise geändert ab 2023"]


def test_who_may_not_write(scratch_app):
    for user, expected in (("jugendamt", 403), ("intern", 403)):
        client, token = writer(scratch_app, user)
        assert _post(client, token, {"indicator": "sgb2_quote", "text": TEXT}).status_code == expected, user
    anonymous = fresh_client(scratch_app)
    assert anonymous.post("/api/v1/notes", json={"indicator": "sgb2_quote", "text": TEXT}).status_code == 401
    admin, token = writer(scratch_app, "admin")
    assert _post(admin, token, {"indicator": "sgb2_quote", "text": TEXT}).status_code == 201
    steward, token = writer(scratch_app, "sozialamt")  # a cookie session without its CSRF token is refused
    assert steward.post("/api/v1/notes", json={"indicator": "sgb2_quote", "text": TEXT}).status_code == 400
    for bad in ({"indicator": "sgb2_quote", "text": ""}, {"indicator": "sgb2_quote", "text": "x" * 501},
                {"indicator": "sgb2_quote", "text": TEXT, "visibility": "secret"},
                {"indicator": "sgb2_quote", "text": TEXT, "period": "2024-Q7"},
                {"indicator": "sgb2_quote", "text": TEXT, "area": "9999"}):
        assert _post(steward, token, bad).status_code == 400, bad


def test_hidden_indicators_answer_like_missing_ones(scratch_app):
    steward, token = writer(scratch_app, "sozialamt")  # hze_quote is the youth office's, restricted
    ghost = _post(steward, token, {"indicator": "zz_no_such_indicator", "text": TEXT})
    hidden = _post(steward, token, {"indicator": "hze_quote", "text": TEXT})
    assert hidden.status_code == ghost.status_code == 404 and hidden.data == ghost.data
    anonymous = fresh_client(scratch_app)
    assert anonymous.get("/api/v1/notes?indicator=kaufkraft").data == \
        anonymous.get("/api/v1/notes?indicator=zz_no_such_indicator").data


def test_notes_are_versioned_and_audited(scratch_app, scratch_atlas):
    steward, token = writer(scratch_app, "sozialamt")
    first = _post(steward, token, {"indicator": "alo_quote", "text": "erste Fassung", "visibility": "public"}).get_json()
    second = _post(steward, token, {"id": first["id"], "text": "zweite Fassung"}).get_json()
    assert (first["rev"], second["rev"]) == (1, 2) and second["visibility"] == "public"
    assert [n["text"] for n in fresh_client(scratch_app).get("/api/v1/notes?indicator=alo_quote").get_json()["notes"]] \
        == ["zweite Fassung"]
    gone = _post(steward, token, {"id": first["id"], "delete": True}).get_json()
    assert gone["deleted"] and gone["rev"] == 3
    assert fresh_client(scratch_app).get("/api/v1/notes?indicator=alo_quote").get_json()["count"] == 0
    history = steward.get(f"/api/v1/notes/{first['id']}/history").get_json()["revisions"]
    assert [(h["rev"], h["text"], h["deleted"]) for h in history] == [
        (1, "erste Fassung", False), (2, "zweite Fassung", False), (3, "zweite Fassung", True)]
    assert fresh_client(scratch_app).get(f"/api/v1/notes/{first['id']}/history").status_code == 404
    actions = [e["action"] for e in scratch_atlas.audit.entries(10) if e["target"].startswith("alo_quote n")]
    assert actions == ["note_deleted", "note_changed", "note_added"]


def test_a_note_shows_in_the_profile_page_json_and_pdf(scratch_app, scratch_atlas):
    steward, token = writer(scratch_app, "sozialamt")
    _post(steward, token, {"indicator": "sgb2_quote", "text": TEXT, "visibility": "public", "area": "0101"})
    _post(steward, token, {"indicator": "sgb2_quote", "text": "nur für 0102", "visibility": "public", "area": "0102"})
    client = fresh_client(scratch_app)
    row = next(r for r in client.get("/api/v1/profile?area=0101").get_json()["rows"] if r["indicator"] == "sgb2_quote")
    assert [n["text"] for n in row["notes"]] == [TEXT]
    pdf = client.get("/api/v1/profile?area=0101&format=pdf").data
    text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(pdf)).pages)
    assert "Neubaugebiet Am Hang" in text and "nur für 0102" not in text


def test_as_of_reads_notes_as_they_were(scratch_app, scratch_atlas):
    steward, token = writer(scratch_app, "sozialamt")
    before = scratch_atlas.clock.now() - timedelta(days=1)
    _post(steward, token, {"indicator": "sgb2_quote", "text": TEXT, "visibility": "public"})
    assert [n.text for n in notes.current(scratch_atlas)] == [TEXT]
    assert notes.current(scratch_atlas, as_of=before) == []


def test_notes_show_in_the_time_series_the_indicator_panel_and_exports_for_those_who_may_read_them(
        scratch_app, scratch_atlas):
    from openpyxl import load_workbook

    from atlas.export import pictures
    from atlas.web.pages.explorer import notes_list
    from auth import ANONYMOUS
    steward, token = writer(scratch_app, "sozialamt")
    _post(steward, token, {"indicator": "sgb2_quote", "text": TEXT, "visibility": "public", "area": "0101",
                           "period": "2025-Q3"})
    _post(steward, token, {"indicator": "sgb2_quote", "text": "Zählweise geändert ab 2023", "visibility": "internal"})
    spec = pictures.chart_spec(scratch_atlas, ANONYMOUS, "sgb2_quote", "0101")
    marker = next(m for m in spec.markers if m.label == "Hinweis")
    assert marker.note == TEXT and spec.periods[int(marker.x)] == "2025-Q3"
    other = pictures.chart_spec(scratch_atlas, ANONYMOUS, "sgb2_quote", "0102")
    assert not any(m.label == "Hinweis" for m in other.markers)  # a note on 0101 is not 0102's
    staff = scratch_atlas.users.get("intern").principal()
    assert "Zählweise" in str(notes_list(scratch_atlas, staff, "sgb2_quote", "de"))
    assert notes_list(scratch_atlas, ANONYMOUS, "sgb2_quote", "de") == []  # the internal note is not for the public
    sheet = fresh_client(scratch_app).get("/api/v1/export?indicator=sgb2_quote&period=2025-Q3&format=xlsx")
    book = load_workbook(io.BytesIO(sheet.data))
    meta = [row for ws in book.worksheets if ws.title != book.worksheets[0].title
            for row in ws.iter_rows(values_only=True)]
    assert ("Hinweis", f"2025-Q3, 0101: {TEXT} (Sozialamt, {notes.visible(scratch_atlas, ANONYMOUS, 'sgb2_quote')[0]['date']})") in \
        [tuple(r[:2]) for r in meta]
    assert not any("Zählweise" in str(r) for r in meta)


def test_a_note_on_an_area_shows_on_its_tap_card_for_its_period_only(scratch_app, scratch_atlas):
    """The explorer's card of the tapped area carries the department's note on that area and period; another
    period, another area or a reader the note is not for see none."""
    from atlas.services import queries
    from atlas.web.pages.explorer import area_notes
    from auth import ANONYMOUS
    from tests.dash_requests import call, find_output
    steward, token = writer(scratch_app, "sozialamt")
    _post(steward, token, {"indicator": "sgb2_quote", "text": TEXT, "visibility": "public", "area": "0101",
                           "period": "2025-Q3"})
    _post(steward, token, {"indicator": "sgb2_quote", "text": "Nur intern: Datenlücke", "visibility": "internal",
                           "area": "0101"})
    shown = area_notes(scratch_atlas, ANONYMOUS, "sgb2_quote", "0101", "2025-Q3", "de")
    assert len(shown) == 1 and TEXT in shown[0] and shown[0].startswith("Q3 2025: ")
    assert area_notes(scratch_atlas, ANONYMOUS, "sgb2_quote", "0101", "2025-Q2", "de") == []
    assert area_notes(scratch_atlas, ANONYMOUS, "sgb2_quote", "0102", "2025-Q3", "de") == []
    staff = scratch_atlas.users.get("intern").principal()
    assert len(area_notes(scratch_atlas, staff, "sgb2_quote", "0101", "2025-Q2", "de")) == 1  # the internal one

    key = find_output(scratch_app, "ex-geojson", "hideout")
    periods = queries.periods(scratch_atlas, ANONYMOUS, "sgb2_quote")
    values = {"ex-indicator.value": "sgb2_quote", "ex-period.value": periods.index("2025-Q3"),
              "ex-method.value": "quantiles", "ex-k.value": 5, "ex-selected.data": "0101",
              "ex-level.value": "ortsteil", "ex-set.data": "", "ex-lang.data": "de"}
    client = fresh_client(scratch_app)
    status, body = call(client, scratch_app, key, values)
    words = find_output(scratch_app, "ex-area", "children")  # the map's words follow its colours
    _, text = call(client, scratch_app, words, {"ex-query.data": body["response"]["ex-query"]["data"],
                                                "ex-lang.data": "de"})
    card = str(text["response"]["ex-area"]["children"])
    assert status == 200 and TEXT in card and "Datenlücke" not in card
