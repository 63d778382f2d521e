"""The planning page (/planung) through its callbacks, posted as the browser posts them.

The page must show what the API routes show the same viewer: the same
amounts per area as `POST /api/v1/allocation/preview`, the same coverage as
`GET /api/v1/coverage`, the same clusters as `POST /api/v1/clusters/preview`;
a viewer without the rights, or asking for a hidden indicator, gets exactly
what an unknown indicator gets; a suppressed input is a word, never a number.
"""
from __future__ import annotations

import base64
import io
import json

import pytest
from openpyxl import load_workbook

from atlas.services import queries
from atlas.web.pages.planning import euro
from auth import ANONYMOUS
from tests.conftest import fresh_client, login, writer
from tests.dash_requests import call, find_output

ALLOCATION = {"pl-al-indicator.value": "sgb2_u15", "pl-al-basis.value": "numerator",
              "pl-al-population.value": None, "pl-al-amount.value": 250000.5, "pl-al-floor.value": 5000,
              "pl-al-cap.value": None, "pl-al-level.value": "stadtbezirk", "pl-al-period.value": "2024",
              "pl-lang.data": "de", "pl-al-run.n_clicks": 1}
GHOST = "zz_no_such_indicator"


def cells(node, label: str) -> list[str]:
    """The texts of every table cell whose data-label is `label`, in order, from a serialised component tree."""
    found: list[str] = []

    def walk(item):
        if isinstance(item, list):
            for child in item:
                walk(child)
        elif isinstance(item, dict):
            props = item.get("props", {})
            if item.get("type") == "Td" and props.get("data-label") == label:
                found.append(props.get("children"))
            for value in props.values():
                if isinstance(value, (dict, list)):
                    walk(value)
    walk(node)
    return found


def cents(text: str) -> int:
    """'12.345,67 €' → 1234567."""
    return int(text.replace(" €", "").replace(".", "").replace(",", ""))


def allocate(client, app, values: dict) -> dict:
    status, body = call(client, app, find_output(app, "pl-al-sum", "children"), values)
    assert status == 200
    return body["response"]


def steward(app, name: str = "sozialamt"):
    client = fresh_client(app)
    assert login(client, name).status_code == 303
    return client


def test_the_allocation_is_the_routes_exact_to_the_cent(dash_app):
    client = steward(dash_app)
    page = allocate(client, dash_app, ALLOCATION)
    amounts = [cents(c) for c in cells(page["pl-al-table"]["children"], "Betrag")]
    assert len(amounts) == 8 and sum(amounts) == 25_000_050  # the amount, to the cent
    assert min(amounts) >= 500_000  # the floor
    assert euro(25_000_050, "de") in page["pl-al-sum"]["children"]
    assert "Zähler" in page["pl-al-method"]["children"] and "Sockel" in page["pl-al-method"]["children"]
    assert "anteilig" in json.dumps(page["pl-al-table"])  # every area had a usable count
    assert len(page["pl-al-geojson"]["hideout"]["cls"]) == 8
    body = {"indicator": "sgb2_u15", "basis": "numerator", "amount": 250000.5,
            "floor": 5000, "level": "stadtbezirk", "period": "2024"}
    api, token = writer(dash_app, "sozialamt")
    route = api.post("/api/v1/allocation/preview", json=body, headers={"X-CSRFToken": token}).get_json()
    assert sorted(amounts, reverse=True) == sorted((r["amount_cents"] for r in route["rows"]), reverse=True)
    assert page["pl-al-method"]["children"] == route["method_de"]


def test_a_cap_and_the_english_page(dash_app):
    client = steward(dash_app)
    page = allocate(client, dash_app, {**ALLOCATION, "pl-al-cap.value": 33000, "pl-lang.data": "en"})
    amounts = [cents(c.replace(",", "")) for c in cells(page["pl-al-table"]["children"], "Amount")]
    assert sum(amounts) == 25_000_050 and max(amounts) <= 3_300_000
    assert "cap reached" in json.dumps(page["pl-al-table"])
    assert "distributed in proportion" in page["pl-al-method"]["children"]


def test_a_suppressed_count_shows_as_a_word_and_gets_the_floor(dash_app, atlas):
    client = steward(dash_app)
    values = {**ALLOCATION, "pl-al-indicator.value": "abgang_ohne", "pl-al-basis.value": "numerator",
              "pl-al-population.value": None, "pl-al-level.value": "ortsteil", "pl-al-floor.value": 1000}
    page = allocate(client, dash_app, values)
    rows = queries.value_rows(atlas, atlas.users.get("sozialamt").principal(), "abgang_ohne", "2024", "ortsteil")
    hidden = rows[rows["status"] == "suppressed"]
    assert len(hidden)
    table = page["pl-al-table"]["children"]
    areas, weights = cells(table, "Gebiet"), cells(table, "Gewicht")
    shown = dict(zip(areas, weights))
    for r in hidden.itertuples(index=False):
        assert shown[f"{r.name} ({r.area_id})"] == "geheim gehalten"
    amounts = dict(zip(areas, (cents(c) for c in cells(table, "Betrag"))))
    assert {amounts[f"{r.name} ({r.area_id})"] for r in hidden.itertuples(index=False)} == {100_000}
    assert sum(amounts.values()) == 25_000_050


def test_the_download_is_the_sheet_of_the_same_allocation(dash_app):
    client = steward(dash_app)
    status, body = call(client, dash_app, find_output(dash_app, "pl-al-download", "data"),
                        {**ALLOCATION, "pl-al-xlsx.n_clicks": 1})
    assert status == 200
    sent = body["response"]["pl-al-download"]["data"]
    assert sent["filename"] == "verteilung_sgb2_u15.xlsx" and sent["base64"]
    book = load_workbook(io.BytesIO(base64.b64decode(sent["content"])))
    rows = list(book["Verteilung"].iter_rows(values_only=True))
    assert round(sum(r[3] for r in rows[1:9]), 2) == 250000.5
    assert any(r and r[0] == "intern – nicht zur Veröffentlichung" for r in rows)  # staff: marked internal


@pytest.mark.parametrize("who", [None, "intern", "oeffentlich"])
def test_no_allocation_and_no_clusters_without_builder_rights(dash_app, who):
    client = fresh_client(dash_app)
    if who:
        login(client, who)
    asked = allocate(client, dash_app, ALLOCATION)
    unknown = allocate(client, dash_app, {**ALLOCATION, "pl-al-indicator.value": GHOST})
    assert asked == unknown  # the same answer as for an indicator that does not exist
    assert asked["pl-al-table"]["children"] == [] and asked["pl-al-geojson"]["data"] is None
    assert "Berechtigung" in asked["pl-al-message"]["children"]
    _, sheet = call(client, dash_app, find_output(dash_app, "pl-al-download", "data"),
                    {**ALLOCATION, "pl-al-xlsx.n_clicks": 1})
    assert sheet["response"]["pl-al-download"]["data"] is None
    key = find_output(dash_app, "pl-cl-table", "children")
    _, clusters = call(client, dash_app, key, {"pl-cl-indicators.value": ["sgb2_u15", "betreuung_u3"],
                                               "pl-cl-k.value": 3, "pl-cl-period.value": "2024",
                                               "pl-cl-level.value": "ortsteil", "pl-lang.data": "de"})
    assert clusters["response"]["pl-cl-table"]["children"] == []
    page = client.get("/_dash-layout")
    assert page.status_code == 200


def test_a_hidden_indicator_is_answered_like_an_unknown_one_for_a_steward(dash_app, atlas):
    client = steward(dash_app)
    hidden = next(i.id for i in atlas.indicators if i.visibility == "restricted" and i.department != "soziales")
    asked = allocate(client, dash_app, {**ALLOCATION, "pl-al-indicator.value": hidden})
    unknown = allocate(client, dash_app, {**ALLOCATION, "pl-al-indicator.value": GHOST})
    assert asked == unknown and asked["pl-al-table"]["children"] == []
    key = find_output(dash_app, "pl-al-period", "options")
    assert call(client, dash_app, key, {"pl-al-indicator.value": hidden})[1] == \
        call(client, dash_app, key, {"pl-al-indicator.value": GHOST})[1]


def test_coverage_for_everyone_with_suppressed_demand_as_words(dash_app, atlas):
    client = fresh_client(dash_app)
    key = find_output(dash_app, "pl-cv-table", "children")
    values = {"pl-cv-layer.value": "grundschule", "pl-cv-demand.value": "abgang_ohne", "pl-cv-period.value": "2024",
              "pl-cv-level.value": "ortsteil", "pl-cv-radius.value": 0, "pl-lang.data": "de"}
    status, body = call(client, dash_app, key, values)
    page = body["response"]
    route = client.get("/api/v1/coverage?layer=grundschule&demand=abgang_ohne&period=2024").get_json()
    table = page["pl-cv-table"]["children"]
    ratios = dict(zip(cells(table, "Gebiet"), cells(table, "Plätze je 100 mit Bedarf")))
    assert len(ratios) == len(route["rows"])
    for r in route["rows"]:
        shown = ratios[f"{r['name']} ({r['area_id']})"]
        if r["status"] == "suppressed":
            assert shown == "geheim gehalten"
        elif r["status"] == "ok":
            assert float(shown.replace(".", "").replace(",", ".")) == round(r["coverage"], 1)
    assert any(r["status"] == "suppressed" for r in route["rows"])
    assert page["pl-cv-method"]["children"] == route["method_de"] and "je 100" in route["method_de"]
    hideout = page["pl-cv-geojson"]["hideout"]
    assert len(hideout["cls"]) == len(route["rows"])


def test_coverage_of_a_hidden_demand_is_the_unknown_answer(dash_app, atlas):
    client = fresh_client(dash_app)
    key = find_output(dash_app, "pl-cv-table", "children")
    hidden = next(i.id for i in atlas.indicators if i.visibility == "internal")
    values = {"pl-cv-layer.value": "kita", "pl-cv-period.value": "2024", "pl-lang.data": "de"}
    asked = call(client, dash_app, key, {**values, "pl-cv-demand.value": hidden})
    unknown = call(client, dash_app, key, {**values, "pl-cv-demand.value": GHOST})
    assert asked == unknown and asked[1]["response"]["pl-cv-table"]["children"] == []


def test_clusters_are_the_routes_with_their_means(dash_app, atlas):
    client = steward(dash_app)
    key = find_output(dash_app, "pl-cl-table", "children")
    inds = ["sgb2_u15", "betreuung_u3", "uebergang_gym"]
    _, body = call(client, dash_app, key, {"pl-cl-indicators.value": inds, "pl-cl-k.value": 3,
                                           "pl-cl-method.value": "ward", "pl-cl-period.value": "2024",
                                           "pl-cl-level.value": "ortsteil", "pl-lang.data": "de"})
    page = body["response"]
    api, token = writer(dash_app, "sozialamt")
    route = api.post("/api/v1/clusters/preview", json={"indicators": inds, "k": 3, "method": "ward",
                                                       "period": "2024", "level": "ortsteil"},
                     headers={"X-CSRFToken": token}).get_json()
    table = page["pl-cl-table"]["children"]
    assert cells(table, "Gebiete") == [str(c["size"]) for c in route["clusters"]]
    title = atlas.indicator_by_id["sgb2_u15"].title_de
    decimals = atlas.indicator_by_id["sgb2_u15"].decimals
    assert cells(table, title) == [f"{c['means']['sgb2_u15']:.{decimals}f}".replace(".", ",")
                                   for c in route["clusters"]]
    assert page["pl-cl-method"]["children"] == route["method_de"] and "Ward" in route["method_de"]
    classes = page["pl-cl-geojson"]["hideout"]["cls"]
    assert sorted(c for c in classes if c >= 0) == sorted(r["cluster"] - 1 for r in route["areas"])


def test_period_choices_mark_projections(scratch_app, scratch_atlas):
    """A projected period of the demand is offered as such, and the coverage method names it."""
    from tests.test_projections import VARIANT, deliver
    from tests.test_workflow import post
    period, variant = "2027", VARIANT
    writer_client, token, _, confirmed = deliver(scratch_app, scratch_atlas, [period], variant)
    vid = confirmed.get_json()["version_id"]
    assert post(writer_client, token, f"/api/v1/versions/{vid}/release", {"to": "public"}).status_code == 200
    client = fresh_client(scratch_app)
    _, body = call(client, scratch_app, find_output(scratch_app, "pl-cv-period", "options"),
                   {"pl-cv-demand.value": "bev_u6", "pl-lang.data": "de"})
    options = body["response"]["pl-cv-period"]["options"]
    marked = [o for o in options if o["value"] == period]
    assert marked and "Prognose" in marked[0]["label"] and variant in marked[0]["label"]
    assert body["response"]["pl-cv-period"]["value"] != period  # the default is the newest observed period
    _, cov = call(client, scratch_app, find_output(scratch_app, "pl-cv-table", "children"),
                  {"pl-cv-layer.value": "kita", "pl-cv-demand.value": "bev_u6", "pl-cv-period.value": period,
                   "pl-cv-level.value": "ortsteil", "pl-lang.data": "de"})
    assert "Prognose" in cov["response"]["pl-cv-method"]["children"]


def test_anonymous_page_offers_coverage_only(dash_app):
    client = fresh_client(dash_app)
    client.get("/planung")
    from tests.test_leaks import page_values
    values = page_values(client, dash_app, "/planung")
    assert "pl-cv-layer.value" in values and "pl-al-amount.value" not in values
    assert ANONYMOUS.logged_in is False


def test_clusters_are_described_in_the_page_language(dash_app):
    client = steward(dash_app)
    key = find_output(dash_app, "pl-cl-table", "children")
    values = {"pl-cl-indicators.value": ["sgb2_u15", "betreuung_u3", "uebergang_gym"], "pl-cl-k.value": 4,
              "pl-cl-period.value": "2024", "pl-cl-level.value": "ortsteil"}
    _, de = call(client, dash_app, key, {**values, "pl-lang.data": "de"})
    _, en = call(client, dash_app, key, {**values, "pl-lang.data": "en"})
    words_de = cells(de["response"]["pl-cl-table"]["children"], "Beschreibung")
    words_en = cells(en["response"]["pl-cl-table"]["children"], "Description")
    assert len(words_de) == len(words_en) == 4
    assert all("Durchschnitt" in w for w in words_de)
    assert all("average" in w and "Durchschnitt" not in w for w in words_en)
    # the same clusters: a word list per cluster in both languages, high and low alike
    assert [w.count(":") for w in words_de] == [w.count(":") for w in words_en]


def test_a_saved_index_is_the_basis_of_an_allocation(scratch_app, scratch_atlas):
    """Build, save, allocate: the statistics office's way through the atlas (issue 15's Done-when)."""
    from atlas.services import indices
    builder = scratch_atlas.users.get("sozialamt").principal()
    saved = indices.save(scratch_atlas, builder, {"inputs": [{"indicator": "sgb2_u15"}, {"indicator": "jugend_alo"}],
                                                  "method": "minmax", "id": "verteilung", "title_de": "Bedarf"})
    client = steward(scratch_app)
    _, periods = call(client, scratch_app, find_output(scratch_app, "pl-al-period", "options"),
                      {"pl-al-indicator.value": saved["indicator"], "pl-al-basis.value": "value",
                       "pl-lang.data": "de"})
    period = periods["response"]["pl-al-period"]["value"]
    assert period
    page = allocate(client, scratch_app, {**ALLOCATION, "pl-al-indicator.value": saved["indicator"],
                                          "pl-al-basis.value": "value", "pl-al-level.value": "ortsteil",
                                          "pl-al-floor.value": 0, "pl-al-amount.value": 1000,
                                          "pl-al-period.value": period})
    table = page["pl-al-table"]["children"]
    assert sum(cents(c) for c in cells(table, "Betrag")) == 100_000
    index = queries.value_rows(scratch_atlas, builder, saved["indicator"], period, "ortsteil")
    usable = index[(index["status"] == "ok") & ~index["area_id"].str.endswith("-nz")]
    assert cells(table, "Zustandekommen").count("anteilig") == len(usable) > 40
    assert "Bedarf" in page["pl-al-method"]["children"]
