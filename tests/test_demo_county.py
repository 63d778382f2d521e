"""The demo county: four levels as data, 19 Gemeinden in 4 Planregionen, on the same code as the city."""
from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest
import shapely

from atlas import demo_county
from atlas.config import load_settings
from atlas.ingest import checks
from atlas.services import queries, territory
from atlas.services.context import Atlas
from auth import ANONYMOUS
from tests.conftest import RUN_DIR


@pytest.fixture(scope="module")
def county() -> Atlas:
    settings = dataclasses.replace(load_settings(), data_dir=RUN_DIR / "county" / "data")
    demo_county.ensure_demo_county(Atlas(settings))
    return Atlas(settings)  # a fresh context, as a new process would read the store


def _areas(atlas: Atlas, level: str) -> pd.DataFrame:
    return queries.areas(atlas, level, queries.current_set(atlas))


def test_the_county_declares_its_levels_and_has_its_gemeinden(county):
    assert territory.level_ids(county) == ("ortsteil", "gemeinde", "planregion", "kreis")
    assert territory.label(county, "gemeinde", "de") == "Gemeinde"
    counts = {level: len(_areas(county, level)) for level in territory.level_ids(county)}
    assert counts["gemeinde"] == 19 and counts["planregion"] == 4 and counts["kreis"] == 1
    assert counts["ortsteil"] > counts["gemeinde"]  # the larger Gemeinden are divided
    gemeinden = _areas(county, "gemeinde")
    assert set(gemeinden["parent_id"]) == set(_areas(county, "planregion")["area_id"])


def test_every_ortsteil_lies_in_its_gemeinde_and_together_they_tile_the_county(county):
    ortsteile, gemeinden = _areas(county, "ortsteil"), _areas(county, "gemeinde").set_index("area_id")
    shapes = shapely.from_wkb(ortsteile["geometry"].values)
    for shape, parent in zip(shapes, ortsteile["parent_id"]):
        outer = shapely.from_wkb(gemeinden.loc[parent, "geometry"])
        # within a tolerance: stored outlines are rounded and reprojected per level
        assert shapely.area(shapely.difference(shape, outer)) < 5e-3 * shapely.area(shape), parent
    whole = shapely.from_wkb(_areas(county, "kreis")["geometry"].iloc[0])
    assert abs(sum(shapely.area(shapes)) - shapely.area(whole)) < 1e-3 * shapely.area(whole)


def test_gemeinde_values_are_sum_of_numerators_over_sum_of_denominators(county):
    admin = county.users.get("admin").principal()
    base = queries.value_rows(county, admin, "auspendler", "2024", "ortsteil")
    top = queries.value_rows(county, admin, "auspendler", "2024", "gemeinde").set_index("area_id")
    parents = _areas(county, "ortsteil").set_index("area_id")["parent_id"]
    sums = base.assign(g=base["area_id"].map(parents)).groupby("g")[["numerator", "denominator"]].sum()
    expected = sums["numerator"] / sums["denominator"] * 100
    assert np.allclose(top.loc[expected.index, "value"], expected)


def test_the_countys_own_indicators_follow_their_visibility(county):
    own = {i.id: i for i in county.indicators if i.id in {x.id for x in demo_county.COUNTY_INDICATORS}}
    assert set(own) == {"auspendler", "weg_gymnasium", "kita_versorgung_land"}
    public = set(queries.visible_indicators(county, ANONYMOUS)["id"])
    assert "auspendler" in public and "weg_gymnasium" in public and "kita_versorgung_land" not in public
    staff = county.users.get("intern").principal()
    assert "kita_versorgung_land" in set(queries.visible_indicators(county, staff)["id"])


def test_small_villages_give_disclosure_control_real_cases(county):
    rows = queries.value_rows(county, ANONYMOUS, "abgang_ohne", "2024", "ortsteil")
    assert (rows["status"] == "suppressed").any()


def test_the_geography_is_deterministic():
    first = demo_county.build_geography(np.random.default_rng(demo_county.SEED))
    again = demo_county.build_geography(np.random.default_rng(demo_county.SEED))
    assert list(first[1]["area_id"]) == list(again[1]["area_id"])
    assert all(a.equals(b) for a, b in zip(first[1].geometry, again[1].geometry))


# ---------------------------------------------------------------- a Gemeinde delivers for itself only
WARTELISTE = {"id": "kita_warteliste", "title_de": "Kita-Warteliste", "title_en": "Day-care waiting list",
              "definition_de": "Kinder auf der Warteliste je 100 Kinder unter 6.", "definition_en": "Waiting list.",
              "domain": "fruehkindliche_bildung", "unit": "je 100", "department": "gemeinde_g01",
              "visibility": "restricted", "polarity": "high_bad", "decimals": 1, "aggregation": "ratio",
              "periodicity": "year", "source": "Stadt Auenburg", "contact": "Stadt Auenburg", "licence": "intern",
              "scale": 100, "numerator": "Wartende", "denominator": "Kinder unter 6"}


def _extract(area_ids: list[str]) -> bytes:
    lines = ["Ortsteil;Jahr;Indikator;Zähler;Nenner"] + [f"{a};2025;kita_warteliste;{5 + i};{120 + i}"
                                                          for i, a in enumerate(area_ids)]
    return ("\n".join(lines) + "\n").encode("utf-8")


def test_a_gemeindes_steward_delivers_only_for_areas_inside_it(county):
    from atlas.ingest import checks
    ortsteile = _areas(county, "ortsteil")
    own = sorted(ortsteile.loc[ortsteile["parent_id"] == "G01", "area_id"])
    neighbour = ortsteile.loc[ortsteile["parent_id"] == "G02", "area_id"].iloc[0]
    assert county.organisation_area("gemeinde_g01") == "G01" and county.organisation_area("statistik") is None
    steward = county.users.get("auenburg").principal()
    fine = checks.check_upload(county, steward, "warteliste.csv", _extract(own), definitions=[WARTELISTE])
    assert fine.report.ok, fine.report.errors
    bad = checks.check_upload(county, steward, "warteliste.csv", _extract(own + [neighbour]),
                              definitions=[WARTELISTE])
    assert not bad.report.ok and len(bad.report.errors) == 1
    error = bad.report.errors[0]
    assert error["row"] == len(own) + 2 and error["value"] == neighbour
    assert "außerhalb von Stadt Auenburg (G01)" in error["message"] and "Löschen Sie die Zeile" in error["message"]
    admin = county.users.get("admin").principal()  # the county's statistics office administers the whole store
    assert checks.check_upload(county, admin, "warteliste.csv", _extract(own + [neighbour]),
                               definitions=[WARTELISTE]).report.ok


def test_a_gemeinde_shares_its_internal_indicator_with_one_neighbour_only(county, tmp_path):
    """Gemeinde-internal figures stay with the Gemeinde until it shares them, and then only with whom it names."""
    import shutil

    from atlas.ingest import uploads
    from atlas.services import sharing, versions
    settings = dataclasses.replace(county.settings, data_dir=tmp_path / "data")
    shutil.copytree(county.settings.data_dir, settings.data_dir)
    atlas = Atlas(settings)
    for name, org in (("bruchhagen", "gemeinde_g02"), ("dornwalde", "gemeinde_g03")):
        atlas.users.add(name, "steward", [org], f"demo-{name}-2026", actor="test")
    owner = atlas.users.get("auenburg").principal()
    own = sorted(_areas(atlas, "ortsteil").query("parent_id == 'G01'")["area_id"])
    checked = uploads.Uploads(settings.data_dir).create(owner, "w.csv", b"", checks.check_upload(
        atlas, owner, "w.csv", _extract(own), definitions=[WARTELISTE]))
    (vid,) = uploads.confirm(atlas, owner, checked.upload_id)
    versions.release(atlas, owner, vid, "internal")

    def sees(name: str) -> bool:
        return "kita_warteliste" in set(queries.visible_indicators(atlas, atlas.users.get(name).principal())["id"])
    assert sees("auenburg") and not sees("bruchhagen") and not sees("dornwalde") and not sees("intern")
    neighbour = atlas.users.get("bruchhagen").principal()
    with pytest.raises(versions.VersionError) as refused:
        sharing.share(atlas, neighbour, "kita_warteliste", ["gemeinde_g02"])
    assert refused.value.status == 404  # an indicator it may not see does not exist for it
    with pytest.raises(versions.VersionError, match="unbekannte Organisation"):
        sharing.share(atlas, owner, "kita_warteliste", ["gemeinde_x"])
    assert sharing.share(atlas, owner, "kita_warteliste", ["gemeinde_g02"])["shared_with"] == ["gemeinde_g02"]
    assert sees("bruchhagen") and not sees("dornwalde") and not sees("intern")
    rows = queries.value_rows(atlas, neighbour, "kita_warteliste", "2025", "ortsteil")
    assert set(rows.loc[rows["status"] != "missing", "area_id"]) == set(own) and "confidential" not in rows  # read like staff, no small numbers
    assert atlas.audit.entries(1)[0]["action"] == "indicator_shared"
    sharing.share(atlas, owner, "kita_warteliste", [])
    assert not sees("bruchhagen")
