"""Vector tiles of a big level, written when its boundary set is stored (issue 19, the third map path).

Why tiles: from a few thousand areas on, GeoJSON for the whole level is
megabytes the browser parses and a canvas of that many polygons is repainted
whole on every indicator switch. Tiles carry only what is on screen at the
zoom shown, each zoom from the coverage-simplified band that fits it
(`map_bands.BANDS`: neighbours keep their shared edges), so the browser
draws a few hundred features per tile.

The file is an MBTiles file (SQLite, the `mbtiles` 1.3 schema: `metadata`
and `tiles` with TMS rows, gzip-compressed Mapbox Vector Tiles), kept next
to the Parquet files and named in the manifest (`MAP_TILES`). One layer,
`areas`; every feature's id is the area's position in the level's map order
(sorted by key, as `queries.areas` and the hideout's arrays), with its key
and name as properties, so the client colours tiles from the same hideout
the GeoJSON map gets and an indicator switch still moves only values.
"""
from __future__ import annotations

import gzip
import json
import math
import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from atlas.services.map_bands import BANDS, add_missing_per_level, band_name, band_texts

LAYER = "areas"
EXTENT = 4096  # tile units per tile side (the MVT default)
BUFFER = 64  # tile units drawn beyond each edge, so strokes do not stop at a tile's border
MAX_ZOOM = 14  # finer zooms reuse (overzoom) the finest tiles
ZOOMS_BELOW_FIT = 2  # tiles from this many zooms below the zoom that fits the whole level
ZOOMS_ABOVE_FIT = 3  # ... to this many above it (capped at MAX_ZOOM; finer zooms overzoom)
VIEW_PX = (1000, 700)  # the map size the fitting zoom assumes (as choropleth.VIEW_PX)


def scheme_name() -> str:
    """The name tiles are stored under: how they were built, so a file built for other bands is never used."""
    return "mvt1-" + "+".join(band_name(b) for b in range(len(BANDS)))


def band_for_zoom(zoom: int) -> int:
    """The zoom band whose tolerance fits a tile zoom (as the GeoJSON map picks its band)."""
    return max(i for i, b in enumerate(BANDS) if zoom >= b.min_zoom or i == 0)


def to_unit_mercator(geoms: np.ndarray) -> np.ndarray:
    """Lon/lat geometries in Web Mercator scaled to the unit square (x right, y down), as tile grids count."""
    def project(coords: np.ndarray) -> np.ndarray:
        lon, lat = coords[:, 0], np.clip(coords[:, 1], -85.0511, 85.0511)
        x = (lon + 180.0) / 360.0
        y = (1.0 - np.log(np.tan(np.radians(lat)) + 1.0 / np.cos(np.radians(lat))) / math.pi) / 2.0
        return np.column_stack([x, y])
    return shapely.transform(geoms, project)


def zoom_range(unit_bounds: tuple[float, float, float, float]) -> tuple[int, int]:
    """The zooms tiles are made for: around the zoom at which the level fills the map (fewer for big territories)."""
    x0, y0, x1, y1 = unit_bounds
    fit = math.log2(min(VIEW_PX[0] / (256 * max(x1 - x0, 1e-12)), VIEW_PX[1] / (256 * max(y1 - y0, 1e-12))))
    low = max(0, math.floor(fit) - ZOOMS_BELOW_FIT)
    return low, max(low, min(MAX_ZOOM, math.ceil(fit) + ZOOMS_ABOVE_FIT))


def _polygons_only(geom) -> shapely.Geometry | None:
    """A clipped area as (multi)polygon; None when nothing areal is left (a sliver collapsed onto the grid)."""
    if geom is None or geom.is_empty:
        return None
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon") and not p.is_empty]
    return shapely.union_all(parts) if parts else None


def encode_tile(features: list[dict]) -> bytes:
    """One tile's features (tile units, y down) as a Mapbox Vector Tile."""
    import mapbox_vector_tile  # only where tiles are written: the app's start does not load it
    return mapbox_vector_tile.encode({"name": LAYER, "features": features},
                                     default_options={"extents": EXTENT, "y_coord_down": True})


def level_tiles(rows: pd.DataFrame, steps: dict | None = None):
    """Every non-empty tile of one level as (z, x, y, MVT bytes); rows in map order (sorted by key).

    Per zoom the band that fits it, in unit Web Mercator; per tile the areas
    whose box touches it, clipped with a small buffer and snapped to the
    tile's grid. Identical shared edges in the band stay identical after
    clipping and snapping, so neighbours still meet without gaps.
    """
    steps = {} if steps is None else steps
    keys, names = rows["area_id"].astype(str).tolist(), rows["name"].astype(str).tolist()
    projected: dict[int, np.ndarray] = {}
    first = to_unit_mercator(shapely.from_wkb(rows["geometry"].values))
    zmin, zmax = zoom_range(tuple(shapely.total_bounds(first)))
    for z in range(zmin, zmax + 1):
        band = band_for_zoom(z)
        if band not in projected:
            projected[band] = to_unit_mercator(shapely.from_geojson(band_texts(rows, band, steps)))
        geoms = projected[band]
        tree = shapely.STRtree(geoms)
        n = 2 ** z
        x0, y0, x1, y1 = shapely.total_bounds(geoms)
        pad = BUFFER / EXTENT / n
        for x in range(max(0, math.floor(x0 * n)), min(n - 1, math.floor(x1 * n)) + 1):
            for y in range(max(0, math.floor(y0 * n)), min(n - 1, math.floor(y1 * n)) + 1):
                box = (x / n - pad, y / n - pad, (x + 1) / n + pad, (y + 1) / n + pad)
                idx = tree.query(shapely.box(*box), predicate="intersects")
                if not len(idx):
                    continue
                idx = np.sort(idx)
                clipped = shapely.clip_by_rect(geoms[idx], *box)
                local = shapely.transform(clipped, lambda c, x=x, y=y, n=n: (c * n - [x, y]) * EXTENT)
                snapped = shapely.set_precision(local, 1.0)
                features = []
                for i, geom in zip(idx.tolist(), snapped):
                    geom = _polygons_only(geom)
                    if geom is not None:
                        features.append({"geometry": geom, "id": i, "properties": {"key": keys[i], "name": names[i]}})
                if features:
                    yield z, x, y, encode_tile(features)


def write_mbtiles(path: Path, rows: pd.DataFrame, name: str, steps: dict | None = None) -> tuple[int, int, int]:
    """Write one level's tiles as an MBTiles file at `path`; (min zoom, max zoom, tiles written)."""
    conn = sqlite3.connect(path)
    try:
        conn.executescript("CREATE TABLE metadata (name TEXT, value TEXT);"
                           "CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER,"
                           " tile_data BLOB);")
        count, zooms = 0, []
        for z, x, y, data in level_tiles(rows, steps):
            conn.execute("INSERT INTO tiles VALUES (?, ?, ?, ?)", (z, x, 2 ** z - 1 - y, gzip.compress(data, 6)))
            count += 1
            zooms.append(z)
        conn.execute("CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row)")
        lon0, lat0, lon1, lat1 = shapely.total_bounds(shapely.from_wkb(rows["geometry"].values))
        zmin, zmax = (min(zooms), max(zooms)) if zooms else (0, 0)
        meta = {"name": name, "format": "pbf", "type": "overlay", "version": "1", "minzoom": str(zmin),
                "maxzoom": str(zmax), "bounds": f"{lon0:.6f},{lat0:.6f},{lon1:.6f},{lat1:.6f}",
                "json": json.dumps({"vector_layers": [{"id": LAYER, "minzoom": zmin, "maxzoom": zmax,
                                                       "fields": {"key": "String", "name": "String"}}]}),
                "scheme": scheme_name(), "areas": str(len(rows))}
        conn.executemany("INSERT INTO metadata VALUES (?, ?)", list(meta.items()))
        conn.commit()
    finally:
        conn.close()
    return zmin, zmax, count


def write_map_tiles(tx, set_id: str, areas: pd.DataFrame, tiles_from: int, steps: dict | None = None) -> list[str]:
    """Store vector tiles for each level of a set with at least `tiles_from` areas; the levels written.

    Why at write time: building tiles for 11,000 areas takes seconds; done
    once with the set (inside its transaction: a failed write leaves no
    file listed), no worker ever builds them. `steps`: per level, the passes
    the map bands share (`map_bands.geometry_texts`), when both are written.
    """
    written = []
    for level, rows in areas.groupby("level", sort=False):
        if len(rows) < tiles_from:
            continue
        rows = rows.sort_values("area_id", kind="stable", ignore_index=True)  # the map's order (queries.areas)
        level_steps = {} if steps is None else steps.setdefault(str(level), {})
        tx.put_map_tiles(set_id, str(level), scheme_name(),
                         lambda path, rows=rows, s=level_steps, lv=level: write_mbtiles(path, rows, f"{set_id} {lv}", s))
        written.append(str(level))
    return written


def add_missing_map_tiles(store, tiles_from: int) -> dict[str, list[str]]:
    """Write the tiles a store from before stored tiles lacks (every set's levels of ≥ `tiles_from` areas).

    Not needed for reading (without tiles the map draws GeoJSON on a canvas,
    as before), but afterwards the map of those levels comes from tiles.
    """
    return add_missing_per_level(store, lambda tx, set_id, level: tx.has_map_tiles(set_id, level, scheme_name()),
                                 lambda tx, set_id, rows: write_map_tiles(tx, set_id, rows, tiles_from))


# ------------------------------------------------------------------ reading (the tile route)


def stored_tiles(store, set_id: str, level: str) -> Path | None:
    """The MBTiles file of a set's level in the store's current state; None when it has none."""
    rel = store.map_tiles(set_id, level, scheme_name())
    return store.data_dir / rel if rel else None


_INFO: dict[str, dict] = {}  # per file path: its metadata (files are never changed once written)


def tiles_info(path: Path) -> dict:
    """The file's metadata (minzoom, maxzoom, bounds, areas), read once per process."""
    key = str(path)
    if key not in _INFO:
        with _open(path) as conn:
            _INFO[key] = dict(conn.execute("SELECT name, value FROM metadata").fetchall())
    return _INFO[key]


def read_tile(path: Path, z: int, x: int, y: int) -> bytes | None:
    """One tile (gzip-compressed MVT) by its XYZ address; None when the tile holds no area."""
    with _open(path) as conn:
        row = conn.execute("SELECT tile_data FROM tiles WHERE zoom_level = ? AND tile_column = ? AND tile_row = ?",
                           (z, x, 2 ** z - 1 - y)).fetchone()
    return bytes(row[0]) if row else None


def _open(path: Path) -> closing[sqlite3.Connection]:
    """A read-only connection to an immutable MBTiles file, closed after use (`with`)."""
    return closing(sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True))
