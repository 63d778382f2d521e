"""Search: areas the way people type their names, indicators by their words, hidden ones never found."""
from __future__ import annotations

from atlas.services import queries, search
from auth import ANONYMOUS
from tests.conftest import fresh_client, login


def test_areas_are_found_tolerant_of_case_umlauts_hyphens_and_by_key_at_every_level(atlas):
    names = dict(zip(*[queries.areas(atlas, "ortsteil", queries.current_set(atlas))[c] for c in ("name", "area_id")]))
    umlaut = next(n for n in names if any(ch in n for ch in "äöüß"))
    typed = umlaut.replace("ä", "ae").replace("ö", "oe").replace("ü", "ue").replace("ß", "ss").upper()
    found = search.search(atlas, ANONYMOUS, typed)
    assert found.areas[0]["name"] == umlaut and found.areas[0]["area_id"] == names[umlaut]
    hyphenated = next(n for n in names if "-" in n)
    assert search.search(atlas, ANONYMOUS, hyphenated.replace("-", " ").lower()).areas[0]["name"] == hyphenated
    districts = search.search(atlas, ANONYMOUS, "Mitte").areas
    assert districts[0]["level"] == "stadtbezirk" and districts[0]["level_label"] == "Stadtbezirk"
    by_key = search.search(atlas, ANONYMOUS, "01", limit=100).areas
    assert by_key and all(a["area_id"].startswith("01") for a in by_key)


def test_indicators_are_found_by_every_word_in_either_language_and_only_if_visible(atlas):
    public = {i.id for i in atlas.indicators if i.visibility == "public"}
    hits = {i["id"] for i in search.search(atlas, ANONYMOUS, "betreuung").indicators}
    assert hits and hits <= public
    assert "alo_quote" in {i["id"] for i in search.search(atlas, ANONYMOUS, "unemployment", lang="en").indicators}
    hidden = next(i for i in atlas.indicators if i.visibility == "internal")
    words = hidden.title_de
    assert hidden.id not in {i["id"] for i in search.search(atlas, ANONYMOUS, words).indicators}
    staff = atlas.users.get("intern").principal()
    assert hidden.id in {i["id"] for i in search.search(atlas, staff, words).indicators}


def test_the_search_route_answers_each_viewer_with_what_it_may_see(dash_app, atlas):
    hidden = next(i for i in atlas.indicators if i.visibility == "internal")
    anonymous = fresh_client(dash_app).get(f"/api/v1/search?q={hidden.title_de}").get_json()
    assert hidden.id not in {i["id"] for i in anonymous["indicators"]}
    staff = fresh_client(dash_app)
    login(staff, "intern")
    assert hidden.id in {i["id"] for i in staff.get(f"/api/v1/search?q={hidden.title_de}").get_json()["indicators"]}
    assert fresh_client(dash_app).get("/api/v1/search?q=").status_code == 400
    assert fresh_client(dash_app).get("/api/v1/search?q=" + "x" * 201).status_code == 400
