"""A big level's map bands are built when its boundary set is stored, not by each worker's first map (issue 19).

Small territories stand in for big ones: `canvas_from_areas` (the threshold
the write takes as `bands_from`) is lowered so the demo city's 51 Ortsteile
count as big and its 8 Stadtbezirke and one Stadt do not.
"""
from __future__ import annotations

import dataclasses
import io
import json
import shutil
from datetime import date

import geopandas as gpd
import pytest
import shapely

from atlas.ingest.boundary_upload import add_uploaded_set
from atlas.services import choropleth, map_bands, queries, territory
from atlas.services.boundaries import BoundarySet
from atlas.services.context import Atlas
from atlas.services.map_bands import BANDS, add_missing_map_bands, band_name
from atlas.store.backup import backup, referenced_files, restore, verify
from atlas.store.store import MAP_BANDS, map_band_files

BIG = 20  # lowered canvas_from_areas: 51 Ortsteile are big, 8 Stadtbezirke and 1 Stadt are not


def old_feature_collection(areas, precision: int = 6, simplify: float = 0.0, coverage: bool = False) -> dict:
    """`map_bands.feature_collection` as it was before bands were stored (the reference the stored bands meet)."""
    geoms = shapely.from_wkb(areas["geometry"].values)
    if simplify and coverage:
        fine = shapely.simplify(geoms, min(simplify, 0.00001), preserve_topology=True)
        cleaned = shapely.coverage_clean(fine)
        emptied = shapely.is_empty(cleaned)
        cleaned[emptied] = fine[emptied]
        geoms = shapely.coverage_simplify(cleaned, simplify)
    elif simplify:
        geoms = shapely.simplify(geoms, simplify, preserve_topology=True)
    return {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": row.area_id,
         "properties": {"i": i, "id": row.area_id, "name": row.name, "level": row.level, "parent": row.parent_id},
         "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geom, 10 ** -precision)))}
        for i, (row, geom) in enumerate(zip(areas.itertuples(index=False), geoms))]}


def old_geometry(atlas: Atlas, set_id: str, level: str, band: int) -> dict:
    """What `choropleth.geometry` answered before bands were stored."""
    b = BANDS[band]
    areas = queries.areas(atlas, level, set_id)
    if band == choropleth.FINEST:
        return old_feature_collection(areas, simplify=b.tolerance)
    return old_feature_collection(areas, precision=b.precision, simplify=b.tolerance, coverage=True)


def fresh(atlas: Atlas) -> Atlas:
    """A new worker on the same store: nothing remembered."""
    return Atlas(atlas.settings)


@pytest.fixture()
def big_atlas(atlas, tmp_path) -> Atlas:
    """A private copy of the demo store (written without bands) whose app counts 20 areas as big."""
    shutil.copytree(atlas.store.data_dir, tmp_path / "data", ignore=shutil.ignore_patterns("uploads", "tmp"))
    return Atlas(dataclasses.replace(atlas.settings, data_dir=tmp_path / "data", tmp_dir=tmp_path / "data" / "tmp",
                                     canvas_from_areas=BIG))


def _no_building(monkeypatch) -> None:
    """From here on, building a band fails the test: the map must answer from what was stored."""
    def refuse(*args, **kwargs):
        raise AssertionError("a band was built on request although it was stored")
    monkeypatch.setattr(choropleth, "band_texts", refuse)


def _levels_of(atlas: Atlas, set_id: str) -> dict[str, gpd.GeoDataFrame]:
    out = {}
    for level in territory.level_ids(atlas):
        a = queries.areas(atlas, level, set_id)
        out[level] = gpd.GeoDataFrame(a[["area_id", "name", "parent_id"]],
                                      geometry=shapely.from_wkb(a["geometry"].tolist()), crs="EPSG:4326")
    return out


def _band_files(atlas: Atlas) -> set[str]:
    return {p.relative_to(atlas.store.data_dir).as_posix()
            for p in (atlas.store.data_dir / "tables").glob("map-band-*")}


def test_a_store_without_stored_bands_answers_as_before(big_atlas):
    assert not map_band_files(big_atlas.store.manifest())
    set_id = queries.current_set(big_atlas)
    for band in range(len(BANDS)):
        assert big_atlas.store.map_band(set_id, "ortsteil", band_name(band)) is None
        assert choropleth.geometry(big_atlas, set_id, "ortsteil", band) == old_geometry(big_atlas, set_id,
                                                                                        "ortsteil", band)


def test_stored_bands_are_what_the_map_built_before_and_are_read_not_built(big_atlas, monkeypatch):
    before = {(s, b): old_geometry(big_atlas, s, "ortsteil", b)
              for s in ("gs2012", "gs2022") for b in range(len(BANDS))}
    written = add_missing_map_bands(big_atlas.store, big_atlas.settings.canvas_from_areas)
    assert written == {"gs2012": ["ortsteil"], "gs2022": ["ortsteil"]}  # small levels keep building on request
    stored = big_atlas.store.manifest()[MAP_BANDS]
    assert {s: {lv: sorted(b) for lv, b in levels.items()} for s, levels in stored.items()} == {
        s: {"ortsteil": sorted(band_name(b) for b in range(len(BANDS)))} for s in ("gs2012", "gs2022")}
    worker = fresh(big_atlas)
    _no_building(monkeypatch)
    for (set_id, band), expected in before.items():
        got = choropleth.geometry(worker, set_id, "ortsteil", band)
        assert [(f["id"], f["properties"]["i"]) for f in got["features"]] == \
            [(f["id"], f["properties"]["i"]) for f in expected["features"]]
        assert got == expected  # the same features, properties and coordinates, to the last decimal
    with pytest.raises(AssertionError, match="was built on request"):
        choropleth.geometry(worker, "gs2022", "stadtbezirk", 0)  # a small level: not stored, built as before
    assert add_missing_map_bands(big_atlas.store, BIG) == {}  # nothing left to write


def test_a_band_stored_for_other_areas_is_not_used(big_atlas):
    set_id = queries.current_set(big_atlas)
    areas = queries.areas(big_atlas, "ortsteil", set_id)
    with big_atlas.store.writing() as tx:  # as if the set's areas had changed after its bands were stored
        map_bands.write_map_bands(tx, set_id, areas.iloc[:-1], 1)
    worker = fresh(big_atlas)
    assert map_bands.stored_band(worker.store, set_id, "ortsteil", 0, areas) is None
    assert choropleth.geometry(worker, set_id, "ortsteil", 0) == old_geometry(worker, set_id, "ortsteil", 0)


def test_a_new_boundary_set_gets_its_own_bands_in_the_same_write(big_atlas, monkeypatch):
    levels = _levels_of(big_atlas, "gs2022")
    generation = big_atlas.store.generation()
    with big_atlas.store.writing() as tx:
        add_uploaded_set(tx, BoundarySet("gs2030", date(2030, 1, 1), None, "Gebietsstand 2030", ""), levels,
                         "EPSG:25832", bands_from=BIG)
    assert big_atlas.store.generation() == generation + 1  # one write: the set and its bands together
    stored = big_atlas.store.manifest()[MAP_BANDS]
    assert list(stored) == ["gs2030"] and list(stored["gs2030"]) == ["ortsteil"]
    expected = [old_geometry(big_atlas, "gs2030", "ortsteil", b) for b in range(len(BANDS))]
    worker = fresh(big_atlas)
    _no_building(monkeypatch)
    assert [choropleth.geometry(worker, "gs2030", "ortsteil", b) for b in range(len(BANDS))] == expected


def test_without_a_threshold_a_set_is_stored_as_before(big_atlas):
    with big_atlas.store.writing() as tx:
        add_uploaded_set(tx, BoundarySet("gs2030", date(2030, 1, 1), None, "Gebietsstand 2030", ""),
                         _levels_of(big_atlas, "gs2022"), "EPSG:25832")
    assert MAP_BANDS not in big_atlas.store.manifest() and not _band_files(big_atlas)


def test_a_failed_write_lists_no_band_and_leaves_no_band_file(big_atlas, monkeypatch):
    levels = _levels_of(big_atlas, "gs2022")
    manifest = big_atlas.store.manifest()
    built = []

    def fail_on_the_last_band(areas, band, steps=None):
        if band == len(BANDS) - 1:
            raise OSError("no space left on device")
        built.append(band)
        return real(areas, band, steps)
    real = map_bands.band_texts
    monkeypatch.setattr(map_bands, "band_texts", fail_on_the_last_band)
    with pytest.raises(OSError, match="no space"):
        with big_atlas.store.writing() as tx:
            add_uploaded_set(tx, BoundarySet("gs2030", date(2030, 1, 1), None, "Gebietsstand 2030", ""), levels,
                             "EPSG:25832", bands_from=BIG)
    assert built == list(range(len(BANDS) - 1))  # some bands were written before the failure ...
    assert fresh(big_atlas).store.manifest() == manifest  # ... none is listed ...
    assert not _band_files(big_atlas)  # ... and none stays on disk


def test_backup_and_restore_carry_the_stored_bands(big_atlas, tmp_path, monkeypatch):
    add_missing_map_bands(big_atlas.store, BIG)
    manifest = big_atlas.store.manifest()
    files = map_band_files(manifest)
    assert len(files) == 2 * len(BANDS) and set(files) <= set(referenced_files(manifest))
    backup(big_atlas.store, tmp_path / "backup")
    assert set(files) <= set(verify(tmp_path / "backup"))
    restore(tmp_path / "backup", tmp_path / "restored")
    restored = Atlas(dataclasses.replace(big_atlas.settings, data_dir=tmp_path / "restored"))
    expected = choropleth.geometry(fresh(big_atlas), "gs2022", "ortsteil", 0)
    _no_building(monkeypatch)
    assert choropleth.geometry(restored, "gs2022", "ortsteil", 0) == expected


def test_the_boundary_upload_stores_bands_and_tiles_by_the_apps_thresholds(big_atlas):
    from atlas.web.app import create_app
    from tests.conftest import writer
    big_atlas.settings = dataclasses.replace(big_atlas.settings, tiles_from_areas=BIG)
    app = create_app(atlas=big_atlas)
    current = queries.current_set(big_atlas)
    form = {"valid_from": "2027-01-01", "key_col": "key", "name_col": "name"}
    for level in ("ortsteil", "stadtbezirk"):
        areas = queries.areas(big_atlas, level, current)
        gdf = gpd.GeoDataFrame({"key": areas["area_id"], "name": areas["name"]},
                               geometry=shapely.from_wkb(areas["geometry"].values), crs="EPSG:4326")
        form[f"file_{level}"] = (io.BytesIO(gdf.to_json().encode()), f"{level}.geojson")
    admin, token = writer(app, "admin")
    resp = admin.post("/api/v1/boundaries", data=form, content_type="multipart/form-data",
                      headers={"X-CSRFToken": token})
    assert resp.status_code == 201, resp.get_json()
    stored = big_atlas.store.manifest()[MAP_BANDS]
    assert {s: sorted(lv) for s, lv in stored.items()} == {"gs20270101": ["ortsteil"]}
    assert sorted(stored["gs20270101"]["ortsteil"]) == sorted(band_name(b) for b in range(len(BANDS)))
    # and its vector tiles (an uploaded big set was left on the canvas path until add_missing_map_tiles ran)
    assert {s: sorted(lv) for s, lv in big_atlas.store.manifest()["map_tiles"].items()} == {"gs20270101": ["ortsteil"]}
