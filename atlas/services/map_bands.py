"""The map's geometry of a boundary set's level: GeoJSON, and the zoom bands stored with the set.

A level is sent to the browser as GeoJSON once per set; big levels in zoom
bands, each simplified as one coverage (`shapely.coverage_simplify`) so
neighbours keep their shared edges. The bands are built when a set is stored
(`write_map_bands`, called by `boundaries.add_boundary_set`) and read by the
map (`choropleth`) and by the vector tiles (`tiles`), which cut each zoom from
the band that fits it. Its own module so that boundaries (storing sets),
tiles and choropleth all build on it without importing each other in a circle.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import pandas as pd
import pyarrow as pa
import shapely


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
# Their own module (not choropleth's) because a boundary set's bands are built when it is stored.
BANDS: tuple[Band, ...] = (Band(0, 0.002, 4), Band(9, 0.0002, 5), Band(12, 0.00001, 6))
FINEST = len(BANDS) - 1


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
