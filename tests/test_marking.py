"""Non-public data carries its mark ('intern', 'nur für <Fachamt>') in map pictures, charts and exports.

The demo city has internal indicators (kaufkraft), a restricted one
(hze_quote, Jugendamt) and a public indicator with a period released only
internally (alo_quote 2025-Q4): each must be marked for the staff who may see
it, and public data must stay unmarked for everyone.
"""
from __future__ import annotations

from urllib.parse import urlencode

import pytest

from atlas.export import pictures
from atlas.export import tables as export
from atlas.i18n import t
from atlas.services import queries
from auth import ANONYMOUS
from tests.conftest import fresh_client, login

MARK_NOTE = t("ex_mark_note")


def internal_only_period(atlas, viewer, indicator_id: str) -> str:
    """A period of a public indicator that this viewer sees and the public does not (found, not assumed)."""
    extra = set(queries.periods(atlas, viewer, indicator_id)) - set(queries.periods(atlas, ANONYMOUS, indicator_id))
    assert extra, f"the demo should release some {indicator_id} period internally only"
    return sorted(extra)[-1]


def test_marks_follow_visibility_and_release(atlas):
    by_id = atlas.indicator_by_id
    assert pictures.marking(atlas, by_id["sgb2_quote"]) == ""
    assert pictures.marking(atlas, by_id["kaufkraft"]) == "intern"
    assert pictures.marking(atlas, by_id["hze_quote"]) == "nur für Jugendamt"
    assert pictures.marking(atlas, by_id["hze_quote"], "en") == "only for Youth welfare office"
    assert pictures.marking(atlas, by_id["sgb2_quote"], unpublished=True) == "intern – noch nicht veröffentlicht"


def test_a_view_is_unpublished_exactly_when_it_differs_from_the_public_view(atlas):
    staff = atlas.users.get("intern").principal()
    alo = atlas.indicator_by_id["alo_quote"]
    hidden = internal_only_period(atlas, staff, "alo_quote")
    shared = queries.periods(atlas, ANONYMOUS, "alo_quote")[-1]
    level = "ortsteil"
    assert pictures.public_view_mark(atlas, staff, alo, hidden, level) == t("ex_mark_unreleased")
    assert pictures.public_view_mark(atlas, staff, alo, shared, level) == ""
    assert pictures.public_view_mark(atlas, ANONYMOUS, alo, shared, level) == ""


def svg_text(client, **params) -> str:
    resp = client.get("/api/v1/map?" + urlencode({**params, "format": "svg"}))
    assert resp.status_code == 200, resp.status_code
    return resp.get_data(as_text=True)


def test_map_picture_is_stamped_for_staff_only_when_the_data_is_not_public(dash_app, atlas):
    staff = fresh_client(dash_app)
    login(staff, "intern")
    anonymous = fresh_client(dash_app)
    hidden = internal_only_period(atlas, atlas.users.get("intern").principal(), "alo_quote")
    assert f"INTERN · {MARK_NOTE}" in svg_text(staff, indicator="kaufkraft", period="2020")
    assert "NOCH NICHT VERÖFFENTLICHT" in svg_text(staff, indicator="alo_quote", period=hidden)
    for client in (staff, anonymous):
        assert MARK_NOTE not in svg_text(client, indicator="sgb2_quote", period="2024-Q4")


def test_chart_picture_is_stamped_for_internal_indicators(dash_app):
    staff = fresh_client(dash_app)
    login(staff, "intern")
    resp = staff.get("/api/v1/chart?" + urlencode({"indicator": "kaufkraft", "area": "0101", "format": "svg"}))
    assert resp.status_code == 200
    assert f"INTERN · {MARK_NOTE}" in resp.get_data(as_text=True)
    public = fresh_client(dash_app).get("/api/v1/chart?" + urlencode({"indicator": "sgb2_quote", "area": "0101",
                                                                       "format": "svg"}))
    assert public.status_code == 200 and MARK_NOTE not in public.get_data(as_text=True)


@pytest.mark.parametrize("indicator,period,expected", [
    ("kaufkraft", "2020", "INTERN"),
    ("bev_u6", "2024", ""),
])
def test_table_exports_carry_the_mark_in_name_legend_and_metadata(atlas, indicator, period, expected):
    staff = atlas.users.get("intern").principal()
    data = export.collect(atlas, staff, export.ExportRequest((indicator,), (period,), fmt="csv-de"))
    assert data.marking.upper() == expected
    name = export.file_name(data)
    assert name.endswith("_intern.csv") == bool(expected)
    body = b"".join(export.render(atlas, data).chunks).decode("utf-8-sig")
    assert (f"{expected} – {MARK_NOTE}" in body) == bool(expected)
    meta = dict(export.metadata_items(data))
    assert ("Kennzeichnung" in meta) == bool(expected)


def test_restricted_export_names_the_department(atlas):
    steward = atlas.users.get("jugendamt").principal()
    data = export.collect(atlas, steward, export.ExportRequest(("hze_quote",), ("2024",), fmt="xlsx"))
    assert data.marking == "nur für Jugendamt"
    assert dict(export.metadata_items(data))["Kennzeichnung"] == f"NUR FÜR JUGENDAMT – {MARK_NOTE}"
