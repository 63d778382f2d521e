"""A key reused on other ground is not the same area: the time series breaks there.

Boundaries change (Mannheim went from 24 to 38 Stadtteile; Berlin redrew all
LOR units in 2021). A key that appears in two boundary sets joins one series
only where its geometry is the same (≥ 99 % overlap); otherwise the older
values are drawn as the area's predecessor, never as the same line.
"""
from __future__ import annotations

from datetime import date

import geopandas as gpd
import pandas as pd
import shapely

from atlas.ingest.boundary_upload import add_uploaded_set
from atlas.periods import period_end
from atlas.services import queries, territory
from atlas.services.boundaries import BoundarySet
from auth.permissions import ANONYMOUS, Principal


def _levels_of(atlas, set_id: str) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for level in territory.level_ids(atlas):
        a = queries.areas(atlas, level, set_id)
        out[level] = gpd.GeoDataFrame(a[["area_id", "name", "parent_id"]],
                                      geometry=shapely.from_wkb(a["geometry"].tolist()), crs="EPSG:4326")
    return out


def test_a_key_on_other_ground_breaks_the_series(scratch_atlas):
    atlas = scratch_atlas
    levels = _levels_of(atlas, "gs2022")
    base = levels["ortsteil"]
    shrink = base["area_id"] == "0101"
    base.loc[shrink, "geometry"] = base.loc[shrink, "geometry"].buffer(-0.003)  # redrawn: much smaller
    latest = queries.value_rows(atlas, ANONYMOUS, "bev_u6", "2025")
    cells = latest[["area_id", "value", "numerator", "denominator", "status"]].assign(
        indicator_id="bev_u6", period="2030", period_end=period_end("2030"))
    with atlas.store.writing() as tx:
        add_uploaded_set(tx, BoundarySet("gs2030", date(2030, 1, 1), None, "Gebietsstand 2030", ""), levels,
                         "EPSG:25832")
        vid = tx.next_version_id()
        tx.add_values(vid, cells[cells["area_id"].isin(set(base["area_id"]))].assign(version_id=vid))
        versions = tx.read("versions")
        row = {"version_id": vid, "indicator_id": "bev_u6", "state": "public", "created_by": "test",
               "created_at": pd.Timestamp("2026-12-01"), "file_name": "t.csv", "checksum": "", "row_count": 1,
               "note": ""}
        tx.replace_table("versions", pd.concat([versions, pd.DataFrame([row])], ignore_index=True))

    redrawn = queries.timeseries(atlas, ANONYMOUS, "bev_u6", "0101")
    own = redrawn[redrawn["role"] == "area"]
    assert list(own["period"]) == ["2030"]  # only the values on today's ground
    before = redrawn[redrawn["role"] == "predecessor"]
    assert "2025" in set(before["period"]) and set(before["area_id"]) == {"0101"}

    same = queries.timeseries(atlas, ANONYMOUS, "bev_u6", "0102")  # unchanged ground: one line
    assert "predecessor" not in set(same["role"])
    assert {"2025", "2030"} <= set(same.loc[same["role"] == "area", "period"])


def test_a_delivery_on_an_older_boundary_set_stays_on_that_set(scratch_atlas):
    """Publisher data on older units (Berlin's GSSA 2022 on the 2006 LOR) is shown on those units."""
    atlas = scratch_atlas
    old = queries.value_rows(atlas, ANONYMOUS, "bev_u6", "2016")  # cells keyed on the 2012 set
    assert "0205" in set(old["area_id"])  # the Ortsteil split in 2022
    cells = old[["area_id", "value", "numerator", "denominator", "status"]].assign(
        indicator_id="bev_u6", period="2031", period_end=period_end("2031"))
    with atlas.store.writing() as tx:
        vid = tx.next_version_id()
        tx.add_values(vid, cells.assign(version_id=vid))
        versions = tx.read("versions")
        row = {"version_id": vid, "indicator_id": "bev_u6", "state": "public", "created_by": "test",
               "created_at": pd.Timestamp("2026-12-01"), "file_name": "t.csv", "checksum": "", "row_count": 1,
               "note": "", "set_id": "gs2012"}
        tx.replace_table("versions", pd.concat([versions, pd.DataFrame([row])], ignore_index=True))
    table = queries.values(atlas, ANONYMOUS, "bev_u6", "2031")
    assert table.set_id == "gs2012"  # shown with that set's geometry
    assert "0205" in set(table.rows["area_id"]) and (table.rows["status"] == "ok").sum() == len(old)
    api_rows = queries.value_rows(atlas, ANONYMOUS, "bev_u6", "2031")
    assert set(api_rows["set_id"]) == {"gs2012"}  # every row names the set it is on
    districts = queries.values(atlas, ANONYMOUS, "bev_u6", "2031", "stadtbezirk").rows
    assert (districts["status"] == "ok").all()  # aggregates over the old set's hierarchy


def test_an_upload_may_name_its_boundary_set(scratch_app, scratch_atlas):
    """A steward uploads figures kept on the 2012 units for 2026: named, they are checked and stored there."""
    import io

    from tests.conftest import writer
    from tests.test_workflow import post
    areas = queries.areas(scratch_atlas, "ortsteil", "gs2012")["area_id"]
    lines = ["Ortsteil;Zeitraum;Indikator;Zähler;Nenner"] + [f"{a};2026-Q1;sgb2_quote;{300 + i};{3000 + i}"
                                                            for i, a in enumerate(areas)]
    body = ("\n".join(lines) + "\n").encode("utf-8-sig")
    steward, token = writer(scratch_app, "sozialamt")

    def send(**form):
        return steward.post("/api/v1/uploads", data={"file": (io.BytesIO(body), "alt.csv"), **form},
                            content_type="multipart/form-data", headers={"X-CSRFToken": token}).get_json()
    plain = send()
    assert not plain["ok"] and "0205" in " ".join(e["message"] for e in plain["errors"])  # not on today's units
    unknown = send(boundary_set="gs1990")
    assert not unknown["ok"] and "gs2012" in unknown["errors"][0]["message"]  # says which sets exist
    named = send(boundary_set="gs2012")
    assert named["ok"], named["errors"]
    vid = post(steward, token, f"/api/v1/uploads/{named['upload_id']}/confirm").get_json()["version_id"]
    assert vid
    rows = queries.value_rows(scratch_atlas, Principal("s", "steward", frozenset({"soziales"}), logged_in=True),
                              "sgb2_quote", "2026-Q1")
    assert set(rows["set_id"]) == {"gs2012"} and "0205" in set(rows["area_id"])
