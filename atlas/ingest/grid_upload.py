"""Grid uploads: an admin's boundary file of a parallel planning grid becomes a grid with its crosswalk.

The grid's areas are checked like any boundary (keys, names, valid polygons,
no duplicate key); its crosswalk to the base level of one boundary set is
computed by area overlap, by counts at points (`points`: lon, lat, count),
or read from an uploaded CSV (`grid_area;base_area;weight`) and checked.
Nothing is stored unless every check passes (`atlas.services.crosswalk`).
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import pandas as pd
import shapely

from atlas.ingest.boundary_upload import (
    METRIC_CRS,
    OVERLAP_TOLERANCE_M2,
    overlap_message,
    read_boundary_upload,
)
from atlas.messages import Message
from atlas.services import crosswalk, queries, territory
from atlas.services.boundaries import BoundaryError, validate_areas
from atlas.services.context import Atlas
from auth.permissions import Principal, may_manage_boundaries


@dataclass(frozen=True)
class GridUpload:
    """What the uploaded file is and how its crosswalk is made."""

    grid_id: str
    name_de: str
    name_en: str
    plural_de: str
    plural_en: str
    key_col: str
    name_col: str
    set_id: str | None = None  # the boundary set whose base level it crosses; default: the current one
    nests_in: str = ""  # a level the grid nests in: weights stay within each base area's ancestor there
    parent_from: str = ""  # how a grid area finds that ancestor: "prefix:<n>" or "column:<name>"
    note: str = ""


def grid_frame(gdf: gpd.GeoDataFrame, spec: GridUpload) -> gpd.GeoDataFrame:
    """area_id, name (and parent_id when the grid nests) as text, in EPSG:4326; raises BoundaryError."""
    missing = [c for c in (spec.key_col, spec.name_col) if c not in gdf.columns]
    if missing:
        columns = sorted(c for c in gdf.columns if c != "geometry")
        raise BoundaryError([Message("chk_b_column_missing", column=repr(c), columns=str(columns)) for c in missing])
    out = gpd.GeoDataFrame({"area_id": gdf[spec.key_col].astype(str).str.strip(),
                            "name": gdf[spec.name_col].astype(str).str.strip()},
                           geometry=gdf.geometry.values, crs=gdf.crs).to_crs("EPSG:4326")
    if spec.nests_in:
        how, _, arg = spec.parent_from.partition(":")
        if how == "prefix" and arg.isdigit():
            out["parent_id"] = out["area_id"].str[:int(arg)]
        elif how == "column" and arg in gdf.columns:
            out["parent_id"] = gdf[arg].astype(str).str.strip().to_numpy()
        else:
            raise BoundaryError([Message("chk_g_parent_from", value=repr(spec.parent_from))])
    problems = validate_areas(out)
    problems = problems or overlaps(out)
    if problems:
        raise BoundaryError(problems)
    return out


def overlaps(gdf: gpd.GeoDataFrame) -> list[str]:
    """Grid areas that overlap beyond digitising slivers: a base area's people would be counted twice."""
    geoms = gdf.to_crs(METRIC_CRS).geometry.values
    keys = gdf["area_id"].tolist()
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    out = []
    for i, j in zip(left, right):
        if i < j:
            shared = shapely.area(shapely.intersection(geoms[i], geoms[j]))
            if shared > OVERLAP_TOLERANCE_M2:
                out.append(overlap_message(keys[i], keys[j], shared))
    return out


def base_frame(atlas: Atlas, set_id: str) -> gpd.GeoDataFrame:
    """The base level of a boundary set as a GeoDataFrame (EPSG:4326)."""
    areas = queries.areas(atlas, territory.base_level(atlas), set_id)
    return gpd.GeoDataFrame(areas[["area_id", "name"]], geometry=gpd.GeoSeries.from_wkb(areas["geometry"]),
                            crs="EPSG:4326")


def store_grid_frame(atlas: Atlas, viewer: Principal, grid: gpd.GeoDataFrame, spec: GridUpload,
                     crosswalk_csv: bytes | None = None, points: pd.DataFrame | None = None) -> dict:
    """Check a grid's areas, make or check its crosswalk, store both; a summary of what was stored.

    Raises PermissionError for anyone but an admin (a grid changes what the
    atlas publishes), BoundaryError for bad areas, CrosswalkError for a bad
    crosswalk.
    """
    if not may_manage_boundaries(viewer):
        raise PermissionError("Nur die Administration legt Planungsraster an / admins only")
    set_id = spec.set_id or queries.current_set(atlas)
    if set_id not in set(queries.boundary_sets(atlas)["set_id"]):
        raise BoundaryError([Message("chk_g_no_set", set=repr(set_id))])
    if spec.nests_in and spec.nests_in not in territory.level_ids(atlas)[1:]:
        raise BoundaryError([Message("chk_g_nests_in", value=repr(spec.nests_in))])
    base = base_frame(atlas, set_id)
    grid_parent = base_parent = None
    if spec.nests_in:
        grid_parent = dict(zip(grid["area_id"], grid["parent_id"]))
        base_parent = {b: dict(queries.ancestors(atlas, set_id, b)).get(spec.nests_in) for b in base["area_id"]}
    if crosswalk_csv is not None:
        weights, method = crosswalk.read_crosswalk_csv(crosswalk_csv, set(grid["area_id"]),
                                                       set(base["area_id"])), "upload"
    elif points is not None:
        weights, method = crosswalk.population_crosswalk(grid, base, points, grid_parent, base_parent), "population"
    else:
        weights, method = crosswalk.area_crosswalk(grid, base, grid_parent, base_parent), "area"
    meta = crosswalk.Grid(spec.grid_id, spec.name_de, spec.name_en, spec.plural_de, spec.plural_en, set_id, method,
                          spec.nests_in, spec.note)
    crosswalk.store_grid(atlas, meta, grid, weights)
    covered = weights.groupby("base_area")["weight"].sum()
    return {"grid": spec.grid_id, "set_id": set_id, "method": method, "areas": len(grid),
            "crosswalk_rows": len(weights), "base_areas": int(covered.size),
            "base_areas_partly_outside": sorted(covered.index[covered < 1 - crosswalk.WEIGHT_TOLERANCE]),
            "base_areas_outside": sorted(set(base["area_id"]) - set(covered.index))}


def store_uploaded_grid(atlas: Atlas, viewer: Principal, content: bytes, filename: str, spec: GridUpload,
                        crosswalk_csv: bytes | None = None, points: pd.DataFrame | None = None) -> dict:
    """An uploaded grid file (GeoJSON, GeoPackage, zipped Shapefile, any CRS) checked and stored."""
    if not may_manage_boundaries(viewer):
        raise PermissionError("Nur die Administration legt Planungsraster an / admins only")
    return store_grid_frame(atlas, viewer, grid_frame(read_boundary_upload(content, filename), spec), spec,
                            crosswalk_csv, points)


def read_points(content: bytes) -> pd.DataFrame:
    """Counts at address points for population weights: a CSV `lon;lat;count` (WGS84, ';' or ','),
    every row checked; raises CrosswalkError naming row and column."""
    import io
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise crosswalk.CrosswalkError([Message("chk_g_points_encoding")]) from None
    sep = ";" if text.split("\n", 1)[0].count(";") else ","
    frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False)
    missing = [c for c in ("lon", "lat", "count") if c not in frame.columns]
    if missing:
        raise crosswalk.CrosswalkError([Message("chk_g_points_columns", columns=", ".join(missing))])
    problems = []
    for col, low, high in (("lon", -180, 180), ("lat", -90, 90), ("count", 0, 1e9)):
        numbers = pd.to_numeric(frame[col].str.replace(",", ".", regex=False), errors="coerce")
        for row in frame.index[numbers.isna() | (numbers < low) | (numbers > high)][:20]:
            problems.append(Message("chk_g_points_number", row=row + 2, column=col, value=repr(frame.at[row, col]),
                                    low=low, high=int(high)))
        frame[col] = numbers
    if problems:
        raise crosswalk.CrosswalkError(problems)
    return frame[["lon", "lat", "count"]]
