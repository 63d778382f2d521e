"""Boundaries from one file per level: parents by column or by location, and every area nests in its parent.

Hand-made squares show each rule and its message; Berlin's own LOR files
(Planungsräume, Bezirksregionen, Prognoseräume, Bezirke, each published
separately) show that the join by location finds exactly the parents the
keys encode.
"""
from __future__ import annotations

import geopandas as gpd
import pytest
import shapely

from atlas.ingest.boundary_upload import LevelFile, levels_from_files
from atlas.services.boundaries import BoundaryError
from atlas.services.territory import parse_levels
from tests.conftest import REALDATA

LEVELS = parse_levels([
    {"id": "ortsteil", "name_de": "Ortsteil", "name_en": "locality", "plural_de": "Ortsteile",
     "plural_en": "localities", "parent_from": "spatial"},
    {"id": "gemeinde", "name_de": "Gemeinde", "name_en": "municipality", "plural_de": "Gemeinden",
     "plural_en": "municipalities", "parent_from": "spatial"},
    {"id": "kreis", "name_de": "Landkreis", "name_en": "county", "plural_de": "Landkreis", "plural_en": "county"},
])
KM = 0.01  # about a kilometre in degrees, near enough for hand-made squares


def _squares(cells: dict[str, tuple[float, float, float, float]], **columns) -> gpd.GeoDataFrame:
    """Features from (x0, y0, x1, y1) boxes in degrees near 13°E 52°N."""
    geoms = [shapely.box(13 + x0 * KM, 52 + y0 * KM, 13 + x1 * KM, 52 + y1 * KM) for x0, y0, x1, y1 in cells.values()]
    return gpd.GeoDataFrame({"key": list(cells), "label": [f"Gebiet {k}" for k in cells], **columns},
                            geometry=geoms, crs="EPSG:4326")


GEMEINDEN = {"A": (0, 0, 2, 2), "B": (2, 0, 4, 2)}
ORTSTEILE = {"A1": (0, 0, 1, 2), "A2": (1, 0, 2, 2), "B1": (2, 0, 3, 2), "B2": (3, 0, 4, 2)}


def _files(ortsteile: gpd.GeoDataFrame, parent_col: str | None = None) -> list[LevelFile]:
    return [LevelFile("ortsteil", ortsteile, "key", "label", parent_col),
            LevelFile("gemeinde", _squares(GEMEINDEN), "key", "label")]


def test_parents_come_from_the_location_and_the_top_is_the_union():
    levels, notes = levels_from_files(_files(_squares(ORTSTEILE)), LEVELS, "K", "Landkreis")
    parents = dict(zip(levels["ortsteil"]["area_id"], levels["ortsteil"]["parent_id"]))
    assert parents == {"A1": "A", "A2": "A", "B1": "B", "B2": "B"}
    assert set(levels["gemeinde"]["parent_id"]) == {"K"} and list(levels["kreis"]["area_id"]) == ["K"]
    assert "über die Lage" in notes[-1] and "100,0 %" in notes[-1]


def test_a_parent_column_is_checked_against_the_location():
    wrong = _squares(ORTSTEILE, parent=["A", "A", "A", "B"])  # B1 lies in B, the column says A
    with pytest.raises(BoundaryError) as caught:
        levels_from_files(_files(wrong, "parent"), LEVELS, "K", "Landkreis")
    assert caught.value.problems == ["Ortsteil B1 (Gebiet B1) liegt nur zu 0,0 % in Gemeinde A; jedes Gebiet muss "
                                     "in seinem übergeordneten liegen (Toleranz 1,0 %). Prüfen Sie, ob beide Dateien "
                                     "denselben Gebietsstand zeigen."]
    unknown = _squares(ORTSTEILE, parent=["A", "A", "B", "C"])
    with pytest.raises(BoundaryError, match="Gemeinde 'C' gibt es in dessen Datei nicht"):
        levels_from_files(_files(unknown, "parent"), LEVELS, "K", "Landkreis")


def test_an_area_straddling_two_parents_is_refused_with_its_share():
    shifted = dict(ORTSTEILE, A2=(1.5, 0, 2.5, 2), B1=(2.5, 0, 3, 2), A1=(0, 0, 1.5, 2))
    with pytest.raises(BoundaryError) as caught:
        levels_from_files(_files(_squares(shifted)), LEVELS, "K", "Landkreis")
    assert any(p.startswith("Ortsteil A2 (Gebiet A2) liegt nur zu 50,0 % in Gemeinde") for p in caught.value.problems)


def test_a_missing_level_file_and_an_unknown_level_are_named():
    with pytest.raises(BoundaryError) as caught:
        levels_from_files([LevelFile("ortsteil", _squares(ORTSTEILE), "key", "label"),
                           LevelFile("amt", _squares(GEMEINDEN), "key", "label")], LEVELS, "K", "Landkreis")
    assert caught.value.problems == [
        "Ebene 'amt' gibt es in der Gebietshierarchie nicht; vorhanden: ortsteil, gemeinde, kreis",
        "Für die Ebene Gemeinde (gemeinde) fehlt eine Datei"]


@pytest.mark.skipif(not (REALDATA / "berlin_lor_planungsraeume_2006_2020.geojson").exists(),
                    reason="../shared/realdata is not present")
def test_berlins_four_lor_files_nest_and_the_location_finds_the_parents_the_keys_encode():
    files = {"planungsraum": "berlin_lor_planungsraeume_2006_2020", "bezirksregion":
             "berlin_lor_bezirksregionen_2006_2020", "prognoseraum": "berlin_lor_prognoseraeume_2006_2020",
             "bezirk": "berlin_bezirke"}
    levels = parse_levels([{"id": lv, "name_de": lv.title(), "name_en": lv, "plural_de": lv, "plural_en": lv,
                            "parent_from": "spatial"} for lv in files]
                          + [{"id": "stadt", "name_de": "Stadt", "name_en": "city", "plural_de": "Stadt",
                              "plural_en": "city"}])
    frames = {lv: gpd.read_file(REALDATA / f"{name}.geojson") for lv, name in files.items()}
    plr = frames["planungsraum"]  # the documented duplicate key (SOURCES.md): the northern one is 04030417
    plr.loc[(plr["id"] == "06010102") & (plr.geometry.bounds["miny"] > 52.5), "id"] = "04030417"
    read = [LevelFile(lv, frame, "id", "name") for lv, frame in frames.items()]
    built, notes = levels_from_files(read, levels, "11000000", "Berlin")
    for child, width in (("planungsraum", 6), ("bezirksregion", 4), ("prognoseraum", 2)):
        frame = built[child]
        assert (frame["parent_id"] == frame["area_id"].str[:width]).all(), child
    print("\n".join(notes))


def test_the_route_takes_one_file_per_level_and_audits_every_level(scratch_app, scratch_atlas):
    import io

    from atlas.services import queries
    from tests.conftest import writer
    current = queries.current_set(scratch_atlas)
    old_areas = queries.areas(scratch_atlas, "ortsteil", current)
    form = {"valid_from": "2027-01-01", "key_col": "key", "name_col": "name"}
    for level in ("ortsteil", "stadtbezirk"):  # no parent column: the Ortsteile find their districts by location
        areas = queries.areas(scratch_atlas, level, current)
        gdf = gpd.GeoDataFrame({"key": areas["area_id"], "name": areas["name"]},
                               geometry=shapely.from_wkb(areas["geometry"].values), crs="EPSG:4326")
        form[f"file_{level}"] = (io.BytesIO(gdf.to_crs(25832).to_json().encode()), f"{level}.geojson")
    admin, token = writer(scratch_app, "admin")
    resp = admin.post("/api/v1/boundaries", data=form, content_type="multipart/form-data",
                      headers={"X-CSRFToken": token})
    assert resp.status_code == 201, resp.get_json()
    assert resp.get_json()["levels"] == {"ortsteil": len(old_areas), "stadtbezirk": 8, "stadt": 1}
    new = queries.areas(scratch_atlas, "ortsteil", "gs20270101").set_index("area_id")["parent_id"]
    old = queries.areas(scratch_atlas, "ortsteil", current).set_index("area_id")["parent_id"]
    assert new.sort_index().equals(old.sort_index())
    assert scratch_atlas.audit.entries(1)[0]["detail"].startswith(f"{len(old_areas)} ortsteil, 8 stadtbezirk, 1 stadt ab 2027-01-01")
