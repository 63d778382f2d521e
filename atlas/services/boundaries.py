"""Boundary sets: loading, validating, storing and serving area geometry.

Geometry is versioned: a boundary set is a complete hierarchy (Ortsteil →
Stadtbezirk → Stadt) valid for a date range, so a time series never mixes two
boundary sets silently. Geometry is stored in EPSG:4326 (WKB in Parquet); the
source CRS is kept on the set for GIS exports.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import shapely

from atlas.store.store import UNASSIGNED_SUFFIX

LEVELS = ("ortsteil", "stadtbezirk", "stadt")

LEVEL_LABELS = {"ortsteil": "Ortsteil", "stadtbezirk": "Stadtbezirk", "stadt": "Stadt"}


@dataclass(frozen=True)
class Band:
    """One zoom band of the map's geometry: from which zoom it is shown, how coarse it is.

    A tolerance of about a screen pixel at the band's lowest zoom is invisible
    there; coordinates are rounded to a tenth of the tolerance or finer.
    """
    min_zoom: float
    tolerance: float  # degrees
    precision: int  # decimals of the coordinates


# Coarse to fine. The finest band is what the map sent before there were bands (~1 m, 6 decimals).
# Defined here (not in choropleth) because a boundary set's bands are built when it is stored.
BANDS: tuple[Band, ...] = (Band(0, 0.002, 4), Band(9, 0.0002, 5), Band(12, 0.00001, 6))
FINEST = len(BANDS) - 1


class BoundaryError(ValueError):
    """The boundary file cannot be used as it is; `problems` says exactly why."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


@dataclass(frozen=True)
class BoundarySet:
    set_id: str
    valid_from: date
    valid_to: date | None
    label: str
    note: str


def read_boundary_file(path: Path | str, key_col: str, name_col: str) -> gpd.GeoDataFrame:
    """Read any vector format GDAL knows, reprojected to EPSG:4326, keys as text.

    Keys are read as strings so that leading zeros survive ("01011101").
    """
    gdf = gpd.read_file(path, engine="pyogrio")
    problems = []
    for col in (key_col, name_col):
        if col not in gdf.columns:
            problems.append(f"column {col!r} not found; columns are {sorted(c for c in gdf.columns if c != 'geometry')}")
    if gdf.crs is None:
        problems.append("the file declares no coordinate reference system")
    if problems:
        raise BoundaryError(problems)
    source_crs = gdf.crs.to_string()
    gdf = gdf.to_crs("EPSG:4326")
    out = gpd.GeoDataFrame({
        "area_id": gdf[key_col].astype(str).str.strip(),
        "name": gdf[name_col].astype(str).str.strip(),
    }, geometry=gdf.geometry.values, crs="EPSG:4326")
    out.attrs["source_crs"] = source_crs
    return out


def validate_areas(gdf: gpd.GeoDataFrame) -> list[str]:
    """Every defect found, each naming the feature (row number, key, name)."""
    problems: list[str] = []
    for row, (key, name, geom) in enumerate(zip(gdf["area_id"], gdf["name"], gdf.geometry), start=1):
        if not key or key.lower() in ("nan", "none"):
            problems.append(f"feature {row} ({name}): empty key")
        if geom is None or geom.is_empty:
            problems.append(f"feature {row} ({key} {name}): no geometry")
        elif not geom.is_valid:
            problems.append(f"feature {row} ({key} {name}): invalid geometry: {shapely.is_valid_reason(geom)}")
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(f"feature {row} ({key} {name}): expected a polygon, got {geom.geom_type}")
    dupes = gdf[gdf["area_id"].duplicated(keep=False)]
    for key, group in dupes.groupby("area_id", sort=True):
        where = ", ".join(
            f"feature {idx + 1} '{r.name}' at {r.geometry.centroid.y:.4f}N {r.geometry.centroid.x:.4f}E"
            for idx, r in zip(group.index, group.itertuples())
        )
        problems.append(f"key {key!r} appears {len(group)} times: {where}")
    return problems


def check_areas(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Raise `BoundaryError` listing all defects; never drop or merge features."""
    problems = validate_areas(gdf)
    if problems:
        raise BoundaryError(problems)
    return gdf


def hierarchy_frame(set_id: str, levels: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    """Stack the levels of one set into the stored areas table (WKB geometry).

    Each level frame has area_id, name, parent_id (None for the top level) and
    optionally predecessors (comma-separated keys an area was split from).
    """
    frames = []
    for level in levels:  # base level first, the whole territory last
        gdf = check_areas(levels[level])
        metric = gdf.to_crs("EPSG:3035")  # equal-area, for km² only
        frames.append(pd.DataFrame({
            "set_id": set_id,
            "area_id": gdf["area_id"].values,
            "name": gdf["name"].values,
            "level": level,
            "parent_id": gdf.get("parent_id", pd.Series([None] * len(gdf))).values,
            "predecessors": gdf.get("predecessors", pd.Series([""] * len(gdf))).fillna("").values,
            "area_km2": (metric.geometry.area / 1e6).round(3).values,
            "geometry": shapely.to_wkb(gdf.geometry.values),
        }))
    table = pd.concat(frames, ignore_index=True)
    parents = set(table["area_id"])
    top = list(levels)[-1]
    orphans = table[(table["level"] != top) & ~table["parent_id"].isin(parents)]
    if len(orphans):
        raise BoundaryError([f"{r.level} {r.area_id} ({r.name}): parent {r.parent_id!r} does not exist"
                             for r in orphans.itertuples()])
    return table


def sets_frame(sets: list[BoundarySet], source_crs: str) -> pd.DataFrame:
    return pd.DataFrame({
        "set_id": [s.set_id for s in sets],
        "valid_from": pd.to_datetime([s.valid_from for s in sets]).date,
        "valid_to": pd.Series([s.valid_to for s in sets], dtype="object"),
        "label": [s.label for s in sets],
        "note": [s.note for s in sets],
        "source_crs": source_crs,
    })


def add_boundary_set(tx, boundary_set: BoundarySet, levels: dict[str, gpd.GeoDataFrame],
                     source_crs: str, bands_from: int | None = None, tiles_from: int | None = None) -> None:
    """Append a validated boundary set to the store; older sets stay for earlier periods.

    `bands_from` (the app's `canvas_from_areas`): levels with at least this
    many areas get their map's zoom bands stored in the same write
    (`write_map_bands`); None stores none (the map builds them when asked).
    `tiles_from` (the app's `tiles_from_areas`): levels with at least this
    many areas also get vector tiles (`tiles.write_map_tiles`), sharing the
    bands' passes; None stores none (the map then draws GeoJSON on a canvas).
    Raises `BoundaryError` when the set's key, validity or features are wrong.
    """
    areas_new = hierarchy_frame(boundary_set.set_id, levels)
    sets_old, areas_old = tx.read("boundary_sets"), tx.read("areas")
    if sets_old is not None:
        if boundary_set.set_id in set(sets_old["set_id"]):
            raise BoundaryError([f"boundary set {boundary_set.set_id!r} exists already"])
        end = boundary_set.valid_to or date.max
        for row in sets_old.itertuples():
            other_end = row.valid_to if isinstance(row.valid_to, date) else date.max
            if boundary_set.valid_from <= other_end and row.valid_from <= end:
                raise BoundaryError([f"validity {boundary_set.valid_from}–{boundary_set.valid_to or 'open'} "
                                     f"overlaps set {row.set_id!r} ({row.valid_from}–{row.valid_to or 'open'})"])
    sets_new = sets_frame([boundary_set], source_crs)
    tx.replace_table("boundary_sets", sets_new if sets_old is None else pd.concat([sets_old, sets_new]))
    tx.replace_table("areas", areas_new if areas_old is None else pd.concat([areas_old, areas_new]))
    tx.ensure_empty_tables()
    steps: dict = {}  # per level: the passes bands and tiles share
    if bands_from is not None:
        write_map_bands(tx, boundary_set.set_id, areas_new, bands_from, steps)
    if tiles_from is not None:
        from atlas.services.tiles import (
            write_map_tiles,  # tiles build on the bands defined here
        )
        write_map_tiles(tx, boundary_set.set_id, areas_new, tiles_from, steps)


def feature_collection(areas: pd.DataFrame, precision: int = 6, simplify: float = 0.0,
                       coverage: bool = False) -> dict:
    """GeoJSON (RFC 7946) for stored area rows, in the order given.

    Each feature carries `i`, its position, so the map's hideout can send
    plain arrays aligned with the features instead of keyed objects.
    `coverage`: simplify all areas together (`shapely.coverage_simplify`), so
    neighbours keep one shared edge instead of gaps and slivers between them;
    used for the map's coarse zoom bands, where tolerances reach hundreds of metres.
    Stored sets are rarely an exact coverage (edges densified per area, tiny
    gaps), and on those the coverage simplifier keeps almost every vertex; so
    first the ~1 m simplification every map gets, then `coverage_clean`
    (snaps gaps and overlaps; an area it would empty keeps its own outline).
    """
    return features_of(areas, geometry_texts(areas, precision, simplify, coverage))


def geometry_texts(areas: pd.DataFrame, precision: int = 6, simplify: float = 0.0, coverage: bool = False,
                   steps: dict | None = None) -> list[str]:
    """Each area's geometry as the GeoJSON text `feature_collection` sends (see there for the simplification).

    `steps`: a dict kept between calls on the same areas, so the passes every
    band shares (reading the WKB, the ~1 m simplification, the cleaned
    coverage) run once when all bands are built together (at store write time).
    """
    steps = {} if steps is None else steps

    def step(key: tuple, compute):
        if key not in steps:
            steps[key] = compute()
        return steps[key]
    geoms = step(("wkb",), lambda: shapely.from_wkb(areas["geometry"].values))
    if simplify and coverage:
        tolerance = min(simplify, 0.00001)
        fine = step(("fine", tolerance), lambda: shapely.simplify(geoms, tolerance, preserve_topology=True))
        geoms = shapely.coverage_simplify(step(("clean", tolerance), lambda: _clean_coverage(fine)), simplify)
    elif simplify:
        geoms = step(("fine", simplify), lambda: shapely.simplify(geoms, simplify, preserve_topology=True))
    return shapely.to_geojson(shapely.set_precision(geoms, 10 ** -precision)).tolist()


def _clean_coverage(fine):
    """Gaps and overlaps snapped (`coverage_clean`); an area it would empty keeps its own outline."""
    cleaned = shapely.coverage_clean(fine)
    emptied = shapely.is_empty(cleaned)
    cleaned[emptied] = fine[emptied]
    return cleaned


def features_of(areas: pd.DataFrame, texts: list[str]) -> dict:
    """The FeatureCollection of area rows (in the order given) with their geometry texts (`geometry_texts`)."""
    features = []
    for i, (row, text) in enumerate(zip(areas.itertuples(index=False), texts)):
        features.append({
            "type": "Feature",
            "id": row.area_id,
            "properties": {"i": i, "id": row.area_id, "name": row.name, "level": row.level,
                           "parent": row.parent_id},
            "geometry": json.loads(text),
        })
    return {"type": "FeatureCollection", "features": features}


# ------------------------------------------------------------------ zoom bands stored with a set (issue 19)


def band_texts(areas: pd.DataFrame, band: int, steps: dict | None = None) -> list[str]:
    """One zoom band's geometry texts: the coarser bands simplify the whole coverage, the finest each area."""
    b = BANDS[band]
    return geometry_texts(areas, b.precision, b.tolerance, coverage=band != FINEST, steps=steps)


def band_name(band: int) -> str:
    """The name a band is stored under: how it was built, so a file built for other `BANDS` is never used."""
    b = BANDS[band]
    return f"{b.tolerance:g}-{b.precision}-{'plain' if band == FINEST else 'coverage'}"


def write_map_bands(tx, set_id: str, areas: pd.DataFrame, bands_from: int, steps: dict | None = None) -> list[str]:
    """Store every zoom band of each level of a set with at least `bands_from` areas; the levels written.

    Why at write time: building a band of 11,000 areas takes seconds to tens
    of seconds (the ~1 m pass and `coverage_clean`), which every worker
    process otherwise paid again on its first map of the state, keeping its
    first visitor waiting. Kept per area (key, GeoJSON text), so the reader
    still takes names and order from the areas table. Smaller levels are
    built on request as before (fast there). `steps`: kept per level for
    the vector tiles written in the same write (`tiles.write_map_tiles`).
    """
    written = []
    for level, rows in areas.groupby("level", sort=False):
        if len(rows) < bands_from:
            continue
        rows = rows.sort_values("area_id", kind="stable", ignore_index=True)  # the map's order (queries.areas)
        level_steps: dict = {} if steps is None else steps.setdefault(str(level), {})
        for band in range(len(BANDS)):
            tx.put_map_band(set_id, level, band_name(band), pa.table({
                "area_id": pa.array(rows["area_id"].tolist(), pa.string()),
                "geometry": pa.array(band_texts(rows, band, level_steps), pa.string())}))
        written.append(str(level))
    return written


def stored_band(store, set_id: str, level: str, band: int, areas: pd.DataFrame) -> list[str] | None:
    """A band stored with the set as texts in the order of `areas`; None: not stored, or for other areas."""
    table = store.map_band(set_id, level, band_name(band))
    if table is None:
        return None
    texts = dict(zip(table.column("area_id").to_pylist(), table.column("geometry").to_pylist()))
    if len(texts) != len(areas) or not all(a in texts for a in areas["area_id"]):
        return None
    return [texts[a] for a in areas["area_id"]]


def add_missing_map_bands(store, bands_from: int) -> dict[str, list[str]]:
    """Write the bands a store from before stored bands lacks (every set's big levels); per set, the levels written.

    Not needed for reading (such a level's bands are built on request, as
    before), but afterwards no worker builds them again.
    """
    return add_missing_per_level(
        store, lambda tx, set_id, level: all(tx.has_map_band(set_id, level, band_name(b)) for b in range(len(BANDS))),
        lambda tx, set_id, rows: write_map_bands(tx, set_id, rows, bands_from))


def add_missing_per_level(store, has, write) -> dict[str, list[str]]:
    """In one write, `write(tx, set_id, rows)` for each set's levels that `has(tx, set_id, level)` denies;
    per set, the levels written. What the map stores with a set (bands, tiles), added to an older store."""
    written: dict[str, list[str]] = {}
    with store.writing() as tx:
        areas = tx.read("areas")
        if areas is None:
            return written
        for set_id, rows in areas.groupby("set_id", sort=False):
            missing = [lv for lv in rows["level"].unique() if not has(tx, set_id, lv)]
            levels = write(tx, str(set_id), rows[rows["level"].isin(missing)])
            if levels:
                written[str(set_id)] = levels
    return written



# ------------------------------------------------------------------ uploaded boundary sets


def unassigned_id(parent_id: str) -> str:
    """The key under which a parent's "nicht zuzuordnen" cases are stored."""
    return f"{parent_id}{UNASSIGNED_SUFFIX}"


def is_unassigned(area_id: str) -> bool:
    return isinstance(area_id, str) and area_id.endswith(UNASSIGNED_SUFFIX)
