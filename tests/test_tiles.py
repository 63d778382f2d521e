"""Vector tiles of a big level: written with the store, served by the app (issue 19, the third map path).

The demo city stands in for a big territory: the tiles threshold is lowered
to 20 areas, so its 51 Ortsteile get tiles and its 8 Stadtbezirke do not.
"""
from __future__ import annotations

import dataclasses
import gzip
import itertools
import sqlite3

import mapbox_vector_tile
import pytest
import shapely
from shapely.geometry import shape

from atlas.services import queries, tiles
from atlas.services.context import Atlas
from atlas.store.backup import backup, restore, verify
from atlas.store.store import MAP_TILES, map_tiles_files

BIG = 20


@pytest.fixture()
def tiled(scratch_atlas):
    """The scratch demo store with tiles for every level of ≥ BIG areas; (atlas, set id, written levels)."""
    written = tiles.add_missing_map_tiles(scratch_atlas.store, BIG)
    set_id = queries.current_set(scratch_atlas)
    return scratch_atlas, set_id, written


def stored_rows(path) -> list[tuple[int, int, int]]:
    """Every tile's XYZ address in an MBTiles file."""
    with sqlite3.connect(path) as conn:
        return [(z, x, 2 ** z - 1 - row) for z, x, row in
                conn.execute("SELECT zoom_level, tile_column, tile_row FROM tiles ORDER BY 1, 2, 3")]


def decoded(path, z: int, x: int, y: int) -> list[dict]:
    data = tiles.read_tile(path, z, x, y)
    layers = mapbox_vector_tile.decode(gzip.decompress(data), default_options={"y_coord_down": True})
    return layers[tiles.LAYER]["features"]


def test_only_big_levels_get_tiles_listed_in_the_manifest(tiled):
    atlas, set_id, written = tiled
    sets = list(queries.boundary_sets(atlas)["set_id"])
    assert written == {s: ["ortsteil"] for s in sets}  # every set (the demo city has two)
    files = map_tiles_files(atlas.store.manifest())
    assert len(files) == len(sets) and all((atlas.store.data_dir / f).is_file() for f in files)
    assert tiles.stored_tiles(atlas.store, set_id, "ortsteil") in {atlas.store.data_dir / f for f in files}
    assert tiles.stored_tiles(atlas.store, set_id, "stadtbezirk") is None
    assert tiles.add_missing_map_tiles(atlas.store, BIG) == {}  # nothing left to write


def test_feature_ids_are_the_map_order_and_carry_key_and_name(tiled):
    atlas, set_id, _ = tiled
    areas = queries.areas(atlas, "ortsteil", set_id)  # the order the hideout's arrays follow
    path = tiles.stored_tiles(atlas.store, set_id, "ortsteil")
    info = tiles.tiles_info(path)
    addresses = stored_rows(path)
    assert {z for z, _, _ in addresses} == set(range(int(info["minzoom"]), int(info["maxzoom"]) + 1))
    for z in (int(info["minzoom"]), int(info["maxzoom"])):
        seen = set()
        for _, x, y in [a for a in addresses if a[0] == z]:
            for f in decoded(path, z, x, y):
                i = f["id"]
                assert f["properties"]["key"] == areas["area_id"].iloc[i]
                assert f["properties"]["name"] == areas["name"].iloc[i]
                seen.add(i)
        assert seen == set(range(len(areas))), f"zoom {z}: every area is in some tile"


def tile_units(geom, z: int, x: int, y: int):
    """A lon/lat geometry in one tile's units (y down), clipped to the tile."""
    unit = tiles.to_unit_mercator(shapely.get_parts(geom)) if not geom.is_empty else []
    local = [shapely.transform(g, lambda c: (c * 2 ** z - [x, y]) * tiles.EXTENT) for g in unit]
    return shapely.clip_by_rect(shapely.union_all(local), 0, 0, tiles.EXTENT, tiles.EXTENT) if local \
        else shapely.LineString()


def test_neighbours_share_their_edges_inside_a_tile(tiled):
    """Coverage simplification kept topology: neighbouring areas meet on a common edge, without overlap."""
    atlas, set_id, _ = tiled
    areas = queries.areas(atlas, "ortsteil", set_id)
    source = shapely.from_wkb(areas["geometry"].values)
    path = tiles.stored_tiles(atlas.store, set_id, "ortsteil")
    z = int(tiles.tiles_info(path)["minzoom"])  # the coarsest band: where simplification moves edges most
    pairs = 0
    for _, x, y in [a for a in stored_rows(path) if a[0] == z]:
        feats = {f["id"]: shape(f["geometry"]) for f in decoded(path, z, x, y)}
        for a, b in itertools.combinations(sorted(feats), 2):
            common = tile_units(source[a].boundary.intersection(source[b].boundary), z, x, y)
            if common.length < 20:
                continue  # not neighbours inside this tile (or barely: a few units of edge)
            pairs += 1
            shared = feats[a].boundary.intersection(feats[b].boundary).length
            assert shared > 0.5 * common.length, f"areas {a} and {b} lost their common edge in tile {z}/{x}/{y}"
            assert feats[a].intersection(feats[b]).area <= 1.0, f"areas {a} and {b} overlap"
    assert pairs > 20


def test_tiles_survive_backup_and_restore(tiled, tmp_path):
    atlas, set_id, _ = tiled
    result = backup(atlas.store, tmp_path / "backup")
    rel = str(tiles.stored_tiles(atlas.store, set_id, "ortsteil").relative_to(atlas.store.data_dir))
    assert rel in verify(result.path)
    restore(result.path, tmp_path / "restored")
    again = Atlas(dataclasses.replace(atlas.settings, data_dir=tmp_path / "restored"))
    assert again.store.manifest()[MAP_TILES] == atlas.store.manifest()[MAP_TILES]
    assert tiles.stored_tiles(again.store, set_id, "ortsteil") == tmp_path / "restored" / rel
    assert (tmp_path / "restored" / rel).read_bytes() == (atlas.store.data_dir / rel).read_bytes()


def test_a_failed_write_leaves_no_tiles_file(scratch_atlas):
    store = scratch_atlas.store
    before = set((store.data_dir / "tables").glob("*"))
    with pytest.raises(RuntimeError), store.writing() as tx:
        areas = tx.read("areas")
        set_id = queries.current_set(scratch_atlas)
        assert tiles.write_map_tiles(tx, set_id, areas[areas["set_id"] == set_id], BIG) == ["ortsteil"]
        raise RuntimeError("the write fails after the tiles")
    assert set((store.data_dir / "tables").glob("*")) == before
    assert not map_tiles_files(store.manifest())


# ------------------------------------------------------------------ the route


@pytest.fixture()
def client(tiled):
    from atlas.web.app import create_app
    atlas, set_id, _ = tiled
    return create_app(atlas=atlas).server.test_client(), atlas, set_id


def test_a_tile_is_served_compressed_with_caching_headers(client):
    http, atlas, set_id = client
    path = tiles.stored_tiles(atlas.store, set_id, "ortsteil")
    z, x, y = stored_rows(path)[0]
    url = f"/tiles/{set_id}/ortsteil/{z}/{x}/{y}.pbf"
    r = http.get(url, headers={"Accept-Encoding": "gzip"})
    assert r.status_code == 200
    assert r.headers["Content-Type"] == tiles_route().MVT
    assert r.headers["Content-Encoding"] == "gzip"
    assert r.headers["Cache-Control"] == "public, max-age=0, must-revalidate"
    assert gzip.decompress(r.data) == gzip.decompress(tiles.read_tile(path, z, x, y))
    etag = r.headers["ETag"]
    assert http.get(url, headers={"If-None-Match": etag}).status_code == 304
    plain = http.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    assert mapbox_vector_tile.decode(plain.data)[tiles.LAYER]["features"]
    # The address the explorer asks (with the file's token) is kept a year.
    template = tiles_route().tiles_url(atlas, set_id, "ortsteil")
    versioned = template.replace("{z}", str(z)).replace("{x}", str(x)).replace("{y}", str(y))
    assert "immutable" in http.get(versioned).headers["Cache-Control"]


def test_unknown_sets_levels_and_zooms_are_404_and_an_empty_tile_204(client):
    http, atlas, set_id = client
    path = tiles.stored_tiles(atlas.store, set_id, "ortsteil")
    info = tiles.tiles_info(path)
    zmin, zmax = int(info["minzoom"]), int(info["maxzoom"])
    assert http.get(f"/tiles/nosuchset/ortsteil/{zmin}/0/0.pbf").status_code == 404
    assert http.get(f"/tiles/{set_id}/stadtbezirk/{zmin}/0/0.pbf").status_code == 404  # small level: no tiles
    assert http.get(f"/tiles/{set_id}/ortsteil/{zmax + 1}/0/0.pbf").status_code == 404
    assert http.get(f"/tiles/{set_id}/ortsteil/{zmin}/{2 ** zmin}/0.pbf").status_code == 404
    held = {(x, y) for z, x, y in stored_rows(path) if z == zmin}
    assert (0, 0) not in held  # the tile at the date line's corner holds no German area
    assert http.get(f"/tiles/{set_id}/ortsteil/{zmin}/0/0.pbf").status_code == 204


def tiles_route():
    from atlas.web import tiles_route as module
    return module


def test_the_tile_renderer_is_served_but_on_no_page_until_a_map_uses_tiles(client):
    http, _, _ = client
    page = http.get("/").get_data(as_text=True)
    assert "/assets/tiles.js" in page and "/assets/map.js" in page  # the small glue, like the map's own script
    assert "vectorgrid" not in page.lower()  # the renderer is loaded by assets/tiles.js only when tiles are drawn
    r = http.get("/assets/vendor/leaflet.vectorgrid-1.3.0.bundled.min.js")
    assert r.status_code == 200 and b"VectorGrid" in r.data


def test_a_boundary_set_stored_with_tiles_from_gets_them_in_the_same_write(scratch_atlas):
    """`add_boundary_set(..., tiles_from=)`: the tiles of the new set's big levels come with the set itself."""
    from datetime import date

    import geopandas as gpd

    from atlas.services.boundaries import BoundarySet, add_boundary_set
    current = queries.current_set(scratch_atlas)
    levels = {}
    for level in ("ortsteil", "stadtbezirk", "stadt"):
        areas = queries.areas(scratch_atlas, level, current)
        levels[level] = gpd.GeoDataFrame(
            {"area_id": areas["area_id"], "name": areas["name"],
             "parent_id": areas["parent_id"].where(areas["parent_id"].notna(), None)},
            geometry=shapely.from_wkb(areas["geometry"].values), crs="EPSG:4326")
    with scratch_atlas.store.writing() as tx:
        add_boundary_set(tx, BoundarySet("gs2000", date(2000, 1, 1), date(2005, 12, 31), "Gebietsstand 2000", ""), levels,
                         "EPSG:25832", bands_from=BIG, tiles_from=BIG)
    path = tiles.stored_tiles(scratch_atlas.store, "gs2000", "ortsteil")
    assert path is not None and path.is_file()
    assert tiles.stored_tiles(scratch_atlas.store, "gs2000", "stadtbezirk") is None
    assert tiles.tiles_info(path)["areas"] == str(len(levels["ortsteil"]))
