"""The compare page's views taken away as pictures and German CSV tables (issue 14).

Each view of /vergleich has its file: the areas' table (CSV) and time series
(picture), the change map (CSV, picture), the scatter (CSV with the areas
left out, picture), the bivariate map (CSV, picture), the similar areas
(CSV). The pictures are drawn from the same services as the page; a hidden
indicator answers exactly like an unknown one; a suppressed cell stays
without a number; internal data is marked in the picture and in the file.
"""
from __future__ import annotations

import csv
import io

import pytest

from atlas.services import comparison, queries
from auth.permissions import ANONYMOUS
from tests.conftest import fresh_client, login

X, Y = "sgb2_u15", "uebergang_gym"
MAGIC = {"png": b"\x89PNG", "pdf": b"%PDF", "svg": b"<?xml"}
# Each view's picture route (the two side-by-side maps reuse the explorer's /api/v1/map).
PICTURE_ROUTES = {
    "compare": ("/api/v1/compare", {"area": ["0101", "0202"], "indicator": [X, Y], "chart": Y}, "chart"),
    "change": ("/api/v1/change", {"indicator": "bev_gesamt", "from": "2015-Q4", "to": "2024-Q4"}, "indicator"),
    "relation": ("/api/v1/correlation", {"x": X, "y": Y, "period": "2024"}, "x"),
    "bivariate": ("/api/v1/bivariate", {"x": X, "y": Y, "period": "2024"}, "x"),
    "map": ("/api/v1/map", {"indicator": Y, "period": "2024"}, "indicator"),
}
CSV_ROUTES = {**{k: v for k, v in PICTURE_ROUTES.items() if k not in ("map", "compare")},
              "compare": ("/api/v1/compare", {"area": ["0101", "0202"], "indicator": Y}, "indicator"),
              "similar": ("/api/v1/similar", {"area": "0101", "indicators": f"{X},{Y}", "tolerance": "0.5"},
                          "indicators")}


def read_csv(answer) -> list[dict]:
    """A German-Excel CSV answer: UTF-8 with BOM, semicolons."""
    text = answer.get_data(as_text=True)
    assert text.startswith("\ufeff") and answer.mimetype == "text/csv"
    return list(csv.DictReader(io.StringIO(text[1:]), delimiter=";"))


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
@pytest.mark.parametrize("view", sorted(PICTURE_ROUTES))
def test_each_view_is_a_picture_and_a_hidden_indicator_answers_like_an_unknown_one(client, view, fmt):
    route, args, slot = PICTURE_ROUTES[view]
    answer = client.get(route, query_string={**args, "format": fmt})
    assert answer.status_code == 200 and answer.data.startswith(MAGIC[fmt]), answer.data[:200]
    assert answer.mimetype.startswith({"png": "image/png", "svg": "image/svg", "pdf": "application/pdf"}[fmt])
    assert "attachment" in answer.headers["Content-Disposition"]
    hidden = client.get(route, query_string={**args, slot: "kaufkraft", "format": fmt})
    unknown = client.get(route, query_string={**args, slot: "no_such_thing", "format": fmt})
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.get_data() == unknown.get_data()


@pytest.mark.parametrize("view", sorted(CSV_ROUTES))
def test_each_view_is_a_german_csv_and_a_hidden_indicator_answers_like_an_unknown_one(client, view):
    route, args, slot = CSV_ROUTES[view]
    answer = client.get(route, query_string={**args, "format": "csv"})
    assert answer.status_code == 200
    rows = read_csv(answer)
    assert rows and "kennzeichnung" not in rows[0]  # public data carries no mark
    assert "_intern" not in answer.headers["Content-Disposition"]
    numbers = [v for r in rows for k, v in r.items() if k in ("value", "x", "y", "distance", "change_pct")
               and v and any(ch.isdigit() for ch in v)]
    assert numbers and all("." not in v for v in numbers) and any("," in v for v in numbers)  # decimal commas
    hidden = client.get(route, query_string={**args, slot: "kaufkraft", "format": "csv"})
    unknown = client.get(route, query_string={**args, slot: "no_such_thing", "format": "csv"})
    assert hidden.status_code == unknown.status_code == 404 and hidden.get_data() == unknown.get_data()


def test_the_scatter_csv_lists_every_area_and_why_one_was_left_out(client, atlas):
    found = comparison.relation(atlas, ANONYMOUS, X, Y, "2024")
    rows = read_csv(client.get("/api/v1/correlation", query_string={"x": X, "y": Y, "period": "2024",
                                                                     "format": "csv"}))
    assert len(rows) == found.n + len(found.left_out) and len(found.left_out) > 0
    left = {r["area_id"]: r for r in rows if r["einbezogen"] == "nein"}
    assert set(left) == set(found.left_out["area_id"])
    for r in left.values():  # a left-out area shows why, never a number
        assert "suppressed" in (r["x_status"], r["y_status"]) or "missing" in (r["x_status"], r["y_status"])
        assert r["x"] == r["y"] == ""
    assert {r["x_indikator"] for r in rows} == {X} and {r["y_zeitraum"] for r in rows} == {"2024"}


def test_suppressed_cells_stay_suppressed_in_every_csv(client, atlas):
    table = queries.values(atlas, ANONYMOUS, Y, "2024", "ortsteil").rows
    withheld = set(table.loc[table["status"] == "suppressed", "area_id"])
    assert withheld  # the demo city suppresses small numbers here
    area = sorted(withheld)[0]
    rows = read_csv(client.get("/api/v1/compare", query_string={"area": area, "indicator": Y, "period": "2024",
                                                                 "format": "csv"}))
    mine = next(r for r in rows if r["area_id"] == area and r["indicator_id"] == Y)
    assert mine["status"] == "suppressed" and mine["value"] == mine["numerator"] == mine["denominator"] == ""
    rows = read_csv(client.get("/api/v1/bivariate", query_string={"x": X, "y": Y, "period": "2024",
                                                                   "format": "csv"}))
    for r in rows:
        if r["area_id"] in withheld:
            assert r["status"] == "suppressed" and r["x"] == r["y"] == "" and r["x_class"] == "-2"


def test_internal_data_is_marked_in_pictures_and_tables(dash_app):
    staff = fresh_client(dash_app)
    login(staff, "intern")
    svg = staff.get("/api/v1/correlation", query_string={"x": "kaufkraft", "y": X, "format": "svg"})
    assert svg.status_code == 200 and "INTERN" in svg.get_data(as_text=True)
    chart = staff.get("/api/v1/compare", query_string={"area": "0101", "indicator": "kaufkraft", "format": "svg"})
    assert chart.status_code == 200 and "INTERN" in chart.get_data(as_text=True)
    periods = staff.get("/api/v1/indicators").get_json()
    kauf = next(i for i in periods["indicators"] if i["id"] == "kaufkraft")["periods"]
    change = staff.get("/api/v1/change", query_string={"indicator": "kaufkraft", "from": kauf[0], "to": kauf[-1],
                                                       "format": "svg"})
    assert change.status_code == 200 and "INTERN" in change.get_data(as_text=True)
    answer = staff.get("/api/v1/similar", query_string={"area": "0101", "indicators": "kaufkraft", "format": "csv"})
    rows = read_csv(answer)
    assert "_intern" in answer.headers["Content-Disposition"] and {r["kennzeichnung"] for r in rows} == {"intern"}
    public = staff.get("/api/v1/correlation", query_string={"x": X, "y": Y, "period": "2024", "format": "svg"})
    assert "INTERN" not in public.get_data(as_text=True)  # public, released data is not marked


def test_the_change_picture_draws_the_page_s_classes(atlas):
    from atlas.export import pictures
    table = comparison.change(atlas, ANONYMOUS, "bev_gesamt", "2015-Q4", "2024-Q4")
    classes = comparison.change_classes(table, 5, "de")
    svg = pictures.change_picture(atlas, ANONYMOUS, "bev_gesamt", "2015-Q4", "2024-Q4", None, "svg").body.decode()
    for entry in classes.legend:
        if entry["kind"] == "class" or entry["count"]:
            assert f"{entry['label']}  ({entry['count']})" in svg


def test_unknown_format_is_refused(client):
    for route, args, _ in PICTURE_ROUTES.values():
        assert client.get(route, query_string={**args, "format": "gif"}).status_code == 400
