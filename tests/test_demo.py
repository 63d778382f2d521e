"""The demo city: deterministic, valid, tiling, with every indicator of the design."""
from __future__ import annotations

import dataclasses

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from atlas.demo import ensure_demo
from atlas.periods import quarter_periods
from atlas.services import queries
from atlas.services.context import Atlas


def _areas(atlas, set_id, level):
    a = queries.areas(atlas, level, set_id)
    return gpd.GeoDataFrame(a, geometry=shapely.from_wkb(a["geometry"]), crs="EPSG:4326").to_crs("EPSG:25832")


def test_generation_is_deterministic(atlas, tmp_path):
    other = Atlas(dataclasses.replace(atlas.settings, data_dir=tmp_path / "again"))
    ensure_demo(other)
    sql = "SELECT * FROM indicator_values ORDER BY indicator_id, area_id, period, version_id"
    pd.testing.assert_frame_equal(atlas.store.query(sql), other.store.query(sql))
    a1 = atlas.store.query("SELECT area_id, geometry FROM area_shapes ORDER BY set_id, level, area_id")
    a2 = other.store.query("SELECT area_id, geometry FROM area_shapes ORDER BY set_id, level, area_id")
    assert a1["area_id"].tolist() == a2["area_id"].tolist()
    assert [bytes(g) for g in a1["geometry"]] == [bytes(g) for g in a2["geometry"]]


@pytest.mark.parametrize("set_id", ["gs2012", "gs2022"])
def test_ortsteile_are_valid_and_tile_the_city_without_overlap(atlas, set_id):
    ot = _areas(atlas, set_id, "ortsteil")
    city = _areas(atlas, set_id, "stadt").geometry.iloc[0]
    assert 45 <= len(ot) <= 60
    assert ot.geometry.is_valid.all()
    total = ot.geometry.area.sum()
    assert total == pytest.approx(city.area, rel=1e-6)  # no gaps, no double cover
    left, right = ot.sindex.query(ot.geometry, predicate="intersects")
    overlap = sum(ot.geometry.iloc[i].intersection(ot.geometry.iloc[j]).area for i, j in zip(left, right) if i < j)
    assert overlap < 1.0  # square metres


def test_every_area_has_a_parent_and_districts_tile_the_city(atlas):
    for set_id in ("gs2012", "gs2022"):
        ot, dist = _areas(atlas, set_id, "ortsteil"), _areas(atlas, set_id, "stadtbezirk")
        assert len(dist) == 8
        assert set(ot["parent_id"]) == set(dist["area_id"])
        assert (dist["parent_id"] == "00").all()
        for row in dist.itertuples():
            union = shapely.union_all(ot[ot["parent_id"] == row.area_id].geometry.values)
            assert union.symmetric_difference(row.geometry).area < 1.0


def test_one_recent_split(atlas):
    new = queries.areas(atlas, "ortsteil", "gs2022")
    split = new[new["predecessors"] != ""]
    assert len(split) == 2 and split["predecessors"].nunique() == 1
    old_id = split["predecessors"].iloc[0]
    assert old_id in set(queries.areas(atlas, "ortsteil", "gs2012")["area_id"])
    assert old_id not in set(new["area_id"])


def test_values_for_every_indicator_2012_to_2025(atlas):
    counts = atlas.store.query(
        "SELECT indicator_id, min(period) AS first, max(period) AS last FROM indicator_values GROUP BY 1")
    counts = counts.set_index("indicator_id")
    assert set(counts.index) == {i.id for i in atlas.indicators}
    for ind in atlas.indicators:
        assert counts.loc[ind.id, "last"][:4] == "2025"
        assert counts.loc[ind.id, "first"][:4] <= "2015"


def test_quarterly_series_for_population_sgb2_and_unemployment(atlas):
    for ind_id in ("bev_gesamt", "sgb2_quote", "alo_quote"):
        periods = set(atlas.store.query("SELECT DISTINCT period FROM indicator_values WHERE indicator_id = ?",
                                        [ind_id])["period"])
        assert periods == set(quarter_periods(2012, 2025))


def test_spatial_pattern_poor_inner_east_rich_outskirts(atlas):
    """SGB II in Mitte and Oststadt is well above Weststadt and Südwest; indicators correlate."""
    d = queries.values(atlas, queries_admin(), "sgb2_quote", "2024-Q4", "stadtbezirk").rows.set_index("name")
    assert min(d.loc["Mitte", "value"], d.loc["Oststadt", "value"]) > 1.5 * max(d.loc["Weststadt", "value"],
                                                                               d.loc["Südwest", "value"])
    sgb = queries.values(atlas, queries_admin(), "sgb2_quote", "2024-Q4").rows.set_index("area_id")["value"]
    gym = queries.values(atlas, queries_admin(), "uebergang_gym", "2024").rows.set_index("area_id")["value"]
    assert sgb.corr(gym) < -0.5


def queries_admin():
    from auth import Principal
    return Principal("admin", "admin")


def test_missing_values_exist_and_points_have_capacities(atlas):
    assert atlas.store.query("SELECT count(*) AS n FROM indicator_values WHERE status = 'missing'").iloc[0]["n"] > 50
    pts = queries.points(atlas)
    assert set(pts["layer"]) == {"kita", "grundschule", "weiterfuehrende_schule", "familienzentrum"}
    assert (pts["capacity"] >= 0).all() and len(pts) > 40
