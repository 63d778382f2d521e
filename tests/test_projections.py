"""Projections (issue 15): a version confirmed as a projection is drawn and named as one, never as a count.

A projected period is known only to viewers who may read the version that
projects it; charts continue each line dashed from its last observed value,
map titles and legends say "Prognose (<variant>)", and the supply/demand
coverage names the projection when its demand is one.
"""
from __future__ import annotations

from atlas import charts
from atlas.export import pictures
from atlas.services import coverage, queries, versions
from auth import ANONYMOUS
from tests.conftest import fresh_client, login, writer
from tests.test_charts import CITY, IND, SETS, frame, set_of
from tests.test_workflow import post, upload

VARIANT = "Hauptvariante 2025"
LABEL = f"Prognose ({VARIANT})"


def extract(atlas, indicator: str, periods: list[str], scale: int = 1) -> bytes:
    """A file of counts for every Ortsteil and each period (a projection is delivered like any extract)."""
    lines = ["Ortsteil;Zeitraum;Indikator;Zähler;Nenner"]
    for period in periods:
        areas = queries.areas(atlas, "ortsteil", queries.set_for_period(atlas, period))["area_id"]
        lines += [f"{area};{period};{indicator};{(40 + i) * scale};{1000 + 10 * i}" for i, area in enumerate(areas)]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")


def deliver(app, atlas, periods: list[str], projection=None, user: str = "admin"):
    """Upload and confirm bev_u6 for these periods; returns (client, token, confirm answer)."""
    client, token = writer(app, user)
    report = upload(client, token, extract(atlas, "bev_u6", periods)).get_json()
    assert report["ok"], report["errors"]
    body = {"projection": projection} if projection is not None else {}
    return client, token, report["upload_id"], post(client, token, f"/api/v1/uploads/{report['upload_id']}/confirm",
                                                     body)


def test_a_projection_is_confirmed_and_known_only_to_who_may_read_it(scratch_app, scratch_atlas):
    admin = scratch_atlas.users.get("admin").principal()
    assert queries.projected_periods(scratch_atlas, admin, "bev_u6") == {}  # older versions read as observed
    client, token, upload_id, refused = deliver(scratch_app, scratch_atlas, ["2027", "2028"], {"not": "text"})
    assert refused.status_code == 400 and refused.get_json()["error"] == "bad_projection"
    confirmed = post(client, token, f"/api/v1/uploads/{upload_id}/confirm", {"projection": f"  {VARIANT} "})
    assert confirmed.status_code == 201
    vid = confirmed.get_json()["version_id"]

    newest = client.get("/api/v1/versions?indicator=bev_u6").get_json()["versions"][0]
    assert newest["version_id"] == vid and newest["projection"] == VARIANT
    older = client.get("/api/v1/versions?indicator=bev_u6").get_json()["versions"][1:]
    assert older and all(v["projection"] is None for v in older)

    # A draft: the department (here the administration) knows it is projected; staff and the public do not.
    assert queries.projected_periods(scratch_atlas, admin, "bev_u6") == {"2027": VARIANT, "2028": VARIANT}
    staff = scratch_atlas.users.get("intern").principal()
    assert queries.projected_periods(scratch_atlas, staff, "bev_u6") == {}
    assert queries.projected_periods(scratch_atlas, ANONYMOUS, "bev_u6") == {}
    assert post(client, token, f"/api/v1/versions/{vid}/release", {"to": "public"}).status_code == 200
    assert queries.projected_periods(scratch_atlas, ANONYMOUS, "bev_u6") == {"2027": VARIANT, "2028": VARIANT}
    public = fresh_client(scratch_app).get("/api/v1/versions?indicator=bev_u6").get_json()["versions"][0]
    assert public["version_id"] == vid and public["projection"] == VARIANT
    # An indicator the viewer may not see has no projected periods either (not even an empty hint).
    hidden = next(i.id for i in scratch_atlas.indicators if i.visibility != "public")
    assert queries.projected_periods(scratch_atlas, ANONYMOUS, hidden) == {}

    # Observed figures for 2027 arrive later: they supersede the projection for whoever reads them.
    _, _, _, observed = deliver(scratch_app, scratch_atlas, ["2027"])
    assert observed.status_code == 201
    assert queries.projected_periods(scratch_atlas, admin, "bev_u6") == {"2028": VARIANT}
    assert queries.projected_periods(scratch_atlas, ANONYMOUS, "bev_u6") == {"2027": VARIANT, "2028": VARIANT}


def test_a_projection_variant_must_be_short_text():
    assert versions.projection_variant(None) is None and versions.projection_variant("  ") is None
    assert versions.projection_variant(" Haupt-\tvariante  2025 ") == "Haupt- variante 2025"
    for bad in ("x" * (versions.MAX_PROJECTION + 1), 2025, ["a"], "a\x00b"):
        try:
            versions.projection_variant(bad)
        except versions.VersionError as exc:
            assert exc.status == 400 and exc.code == "bad_projection"
        else:
            raise AssertionError(f"accepted {bad!r}")


SERIES = frame([
    ("2023", "area", "03", "Neuort", 5.0, "ok"), ("2024", "area", "03", "Neuort", 5.5, "ok"),
    ("2025", "area", "03", "Neuort", 6.0, "ok"), ("2026", "area", "03", "Neuort", 6.4, "ok"),
    ("2023", "stadt", None, "Auenstadt", 4.0, "ok"), ("2024", "stadt", None, "Auenstadt", 4.1, "ok"),
    ("2025", "stadt", None, "Auenstadt", 4.3, "ok"), ("2026", "stadt", None, "Auenstadt", 4.5, "ok"),
])


def test_the_chart_continues_each_line_dashed_from_its_last_observed_value():
    plain = charts.timeseries_spec(SERIES, IND, set_of, SETS, CITY)
    spec = charts.timeseries_spec(SERIES, IND, set_of, SETS, CITY, projected={"2025": VARIANT, "2026": VARIANT,
                                                                               "2031": VARIANT})
    assert [line.projected for line in plain.lines] == [False, False] and plain.projection_note == ""
    assert [(line.role, line.projected) for line in spec.lines] == [
        ("area", False), ("area", True), ("stadt", False), ("stadt", True)]
    observed, ahead = spec.lines[0], spec.lines[1]
    assert observed.values == (5.0, 5.5, None, None) and observed.dash == charts.AREA_STYLE[1]
    assert ahead.values == (None, 5.5, 6.0, 6.4)  # joined at 2024, the last observed value
    assert ahead.dash != observed.dash and ahead.dash in charts.DASHES and ahead.color == observed.color
    assert ahead.label == f"Neuort – {LABEL}" and ahead.texts[2].endswith(LABEL) and ahead.texts[1] == "5,5"
    assert spec.lines[3].dash != spec.lines[2].dash  # the dotted city line gets another dash too
    start = [m for m in spec.markers if m.label == LABEL]
    assert [(m.period, m.x) for m in start] == [("2025", 1.5)]
    assert "2025" in spec.projection_note and LABEL in spec.projection_note
    english = charts.timeseries_spec(SERIES, IND, set_of, SETS, CITY, "en", projected={"2026": VARIANT})
    assert english.lines[1].label == f"Neuort – Projection ({VARIANT})"


def test_a_series_that_is_all_projection_has_only_dashed_lines():
    spec = charts.timeseries_spec(SERIES, IND, set_of, SETS, CITY,
                                  projected={p: VARIANT for p in ("2023", "2024", "2025", "2026")})
    assert [line.projected for line in spec.lines] == [True, True]
    assert spec.lines[0].values == (5.0, 5.5, 6.0, 6.4)


def test_maps_charts_and_coverage_of_a_projected_period_say_prognose(scratch_app, scratch_atlas):
    client, token, _, confirmed = deliver(scratch_app, scratch_atlas, ["2027"], VARIANT)
    vid = confirmed.get_json()["version_id"]
    assert post(client, token, f"/api/v1/versions/{vid}/release", {"to": "public"}).status_code == 200
    ind = scratch_atlas.indicator_by_id["bev_u6"]
    assert pictures.map_title(scratch_atlas, ANONYMOUS, ind, "2027") == f"{ind.title_de}, 2027 – {LABEL}"
    assert "Prognose" not in pictures.map_title(scratch_atlas, ANONYMOUS, ind, "2024")
    assert pictures.map_title(scratch_atlas, ANONYMOUS, ind, "2027", "en").endswith(f"Projection ({VARIANT})")
    svg = pictures.map_picture(scratch_atlas, ANONYMOUS, "bev_u6", "2027", "ortsteil", "quantiles", 5, "svg")
    assert LABEL in svg.body.decode("utf-8")  # the picture's title (its metadata carries it as text)

    area = queries.areas(scratch_atlas, "ortsteil", queries.current_set(scratch_atlas))["area_id"].iloc[0]
    spec = pictures.chart_spec(scratch_atlas, ANONYMOUS, "bev_u6", area)
    dashed = [line for line in spec.lines if line.projected]
    assert dashed and all(line.values[spec.periods.index("2027")] is not None for line in dashed)
    assert any(m.label == LABEL for m in spec.markers)

    found = coverage.coverage(scratch_atlas, ANONYMOUS, "kita", "bev_u6", "2027")
    assert LABEL in found.method_de and VARIANT in found.method_en
    assert "Prognose" not in coverage.coverage(scratch_atlas, ANONYMOUS, "kita", "bev_u6", "2024").method_de
    answer = fresh_client(scratch_app).get("/api/v1/coverage?layer=kita&demand=bev_u6&period=2027").get_json()
    assert LABEL in answer["method_de"]


def test_staff_see_no_prognose_on_a_draft_projection(scratch_app, scratch_atlas):
    deliver(scratch_app, scratch_atlas, ["2027"], VARIANT)
    staff = fresh_client(scratch_app)
    login(staff, "intern")
    periods = {r["period"] for r in staff.get("/api/v1/values?indicator=bev_u6&level=stadt").get_json()["rows"]}
    assert "2027" not in periods  # the draft is not theirs to read, nor its being a projection
    ind = scratch_atlas.indicator_by_id["bev_u6"]
    assert "Prognose" not in pictures.map_title(scratch_atlas, scratch_atlas.users.get("intern").principal(), ind,
                                                "2027")


def test_the_confirm_route_documents_its_projection_body(dash_app):
    spec = fresh_client(dash_app).get("/api/v1/openapi.json").get_json()
    body = spec["paths"]["/api/v1/uploads/{upload_id}/confirm"]["post"]["requestBody"]
    assert "projection" in body["content"]["application/json"]["schema"]["properties"]


def test_the_upload_page_confirms_a_projection_and_version_tables_mark_it(scratch_app, scratch_atlas):
    """A steward names the variant on the upload page; the history and release queue say "Prognose (…)"."""
    from atlas.web.components import version_table
    from tests.dash_requests import call, find_output
    client, token = writer(scratch_app, "admin")
    report = upload(client, token, extract(scratch_atlas, "bev_u6", ["2029"])).get_json()
    key = find_output(scratch_app, "up-confirmed", "children")
    status, body = call(client, scratch_app, key, {"up-confirm.n_clicks": 1,
                                                    "up-upload.data": {"upload_id": report["upload_id"]},
                                                    "up-projection.value": VARIANT})
    assert status == 200, body
    vid = body["response"]["up-versions"]["data"][0]
    admin = scratch_atlas.users.get("admin").principal()
    history = versions.history(scratch_atlas, admin, "bev_u6")
    assert history.iloc[0]["version_id"] == vid and history.iloc[0]["projection"] == VARIANT
    table = str(version_table(scratch_atlas, history, "t", lang="de"))
    assert table.count(LABEL) == 1  # the projected version only, not the observed ones below it
    too_long = upload(client, token, extract(scratch_atlas, "bev_u6", ["2030"])).get_json()
    status, body = call(client, scratch_app, key, {"up-confirm.n_clicks": 1,
                                                    "up-upload.data": {"upload_id": too_long["upload_id"]},
                                                    "up-projection.value": "x" * 200})
    assert status == 200 and "Variante" in str(body["response"]["up-confirmed"]["children"])
