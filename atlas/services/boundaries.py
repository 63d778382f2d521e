"""Boundary sets: loading, validating, storing and serving area geometry.

Geometry is versioned: a boundary set is a complete hierarchy (Ortsteil →
Stadtbezirk → Stadt) valid for a date range, so a time series never mixes two
boundary sets silently. Geometry is stored in EPSG:4326 (WKB in Parquet); the
source CRS is kept on the set for GIS exports.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from atlas.messages import Message
from atlas.services.map_bands import write_map_bands
from atlas.services.tiles import write_map_tiles
from atlas.store.store import UNASSIGNED_SUFFIX

LEVELS = ("ortsteil", "stadtbezirk", "stadt")

LEVEL_LABELS = {"ortsteil": "Ortsteil", "stadtbezirk": "Stadtbezirk", "stadt": "Stadt"}




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


def validate_areas(gdf: gpd.GeoDataFrame) -> list[Message]:
    """Every defect found, each naming the feature (row number, key, name), in the reader's language when shown."""
    problems: list[Message] = []
    for row, (key, name, geom) in enumerate(zip(gdf["area_id"], gdf["name"], gdf.geometry), start=1):
        if not key or key.lower() in ("nan", "none"):
            problems.append(Message("chk_b_empty_key", row=row, name=name))
        if geom is None or geom.is_empty:
            problems.append(Message("chk_b_no_geometry", row=row, key=key, name=name))
        elif not geom.is_valid:
            problems.append(Message("chk_b_invalid_geometry", row=row, key=key, name=name,
                                    reason=shapely.is_valid_reason(geom)))
        elif geom.geom_type not in ("Polygon", "MultiPolygon"):
            problems.append(Message("chk_b_not_polygon", row=row, key=key, name=name, kind=geom.geom_type))
    dupes = gdf[gdf["area_id"].duplicated(keep=False)]
    for key, group in dupes.groupby("area_id", sort=True):
        where = [Message("chk_b_feature_at", row=idx + 1, name=r.name, lat=f"{r.geometry.centroid.y:.4f}",
                         lon=f"{r.geometry.centroid.x:.4f}")
                 for idx, r in zip(group.index, group.itertuples())]
        problems.append(Message("chk_b_duplicate_key", key=repr(key), n=len(group), where=where))
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
        write_map_tiles(tx, boundary_set.set_id, areas_new, tiles_from, steps)


def unassigned_id(parent_id: str) -> str:
    """The key under which a parent's "nicht zuzuordnen" cases are stored."""
    return f"{parent_id}{UNASSIGNED_SUFFIX}"


def is_unassigned(area_id: str) -> bool:
    return isinstance(area_id, str) and area_id.endswith(UNASSIGNED_SUFFIX)
