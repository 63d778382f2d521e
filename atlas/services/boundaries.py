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
import shapely

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
    for level in LEVELS:
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
    orphans = table[(table["level"] != "stadt") & ~table["parent_id"].isin(parents)]
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
                     source_crs: str) -> None:
    """Append a validated boundary set to the store; older sets stay for earlier periods.

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


def feature_collection(areas: pd.DataFrame, precision: int = 6, simplify: float = 0.0) -> dict:
    """GeoJSON (RFC 7946) for stored area rows, in the order given.

    Each feature carries `i`, its position, so the map's hideout can send
    plain arrays aligned with the features instead of keyed objects.
    """
    geoms = shapely.from_wkb(areas["geometry"].values)
    if simplify:
        geoms = shapely.simplify(geoms, simplify, preserve_topology=True)
    features = []
    for i, (row, geom) in enumerate(zip(areas.itertuples(index=False), geoms)):
        features.append({
            "type": "Feature",
            "id": row.area_id,
            "properties": {"i": i, "id": row.area_id, "name": row.name, "level": row.level,
                           "parent": row.parent_id},
            "geometry": json.loads(shapely.to_geojson(shapely.set_precision(geom, 10 ** -precision))),
        })
    return {"type": "FeatureCollection", "features": features}



# ------------------------------------------------------------------ uploaded boundary sets
OVERLAP_TOLERANCE_M2 = 1_000  # digitising slivers below this are not overlaps
GAP_TOLERANCE_M2 = 1_000  # holes inside the city outline below this are not gaps
METRIC_CRS = "EPSG:3035"  # equal-area, for areas and tolerances in m²


def read_boundary_upload(content: bytes, filename: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """GeoJSON, GeoPackage or a zipped Shapefile in any CRS, as uploaded; raises BoundaryError."""
    import tempfile
    suffix = Path(str(filename)).suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg", ".zip", ".fgb"):
        raise BoundaryError([f"Format {suffix or '?'} wird nicht gelesen; erwartet GeoJSON, GeoPackage oder ein "
                             "ZIP mit Shapefile (.shp, .shx, .dbf, .prj)"])
    with tempfile.TemporaryDirectory(prefix="ortsatlas-boundary-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
        except Exception as exc:  # GDAL reports damaged files in many ways
            raise BoundaryError([f"Die Geodatei ist nicht lesbar: {str(exc)[:200]}"]) from None
    if gdf.crs is None:
        raise BoundaryError(["Die Datei nennt kein Koordinatensystem (beim Shapefile fehlt die .prj-Datei)"])
    if gdf.empty:
        raise BoundaryError(["Die Datei enthält keine Flächen"])
    return gdf


def geometry_problems(gdf: gpd.GeoDataFrame) -> list[str]:
    """Overlaps between areas and gaps inside the city outline, beyond the tolerances."""
    metric = gdf.to_crs(METRIC_CRS)
    geoms = metric.geometry.values
    keys = gdf["area_id"].tolist()
    problems = []
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    for i, j in zip(left, right):
        if i < j:
            shared = shapely.intersection(geoms[i], geoms[j]).area
            if shared > OVERLAP_TOLERANCE_M2:
                problems.append(f"{keys[i]} und {keys[j]} überlappen sich auf {shared:,.0f} m²")
    outline = shapely.union_all(geoms)
    parts = getattr(outline, "geoms", [outline])
    for hole in (shapely.Polygon(ring) for part in parts for ring in part.interiors):
        if hole.area > GAP_TOLERANCE_M2:
            at = gpd.GeoSeries([hole.representative_point()], crs=METRIC_CRS).to_crs("EPSG:4326").iloc[0]
            problems.append(f"Lücke von {hole.area:,.0f} m² innerhalb der Stadtgrenze bei {at.y:.4f}N {at.x:.4f}E")
    return problems


@dataclass(frozen=True)
class BoundaryUpload:
    """How to read an uploaded Ortsteil layer and build the levels above it."""

    key_col: str
    name_col: str
    parent_col: str | None = None  # column with the Stadtbezirk key, or:
    parent_key_length: int | None = None  # the Stadtbezirk key is the first N characters of the key
    parent_names: dict | None = None  # Stadtbezirk key -> name
    city_key: str = "00"
    city_name: str = "Stadt"


def upload_levels(raw: gpd.GeoDataFrame, spec: BoundaryUpload) -> dict[str, gpd.GeoDataFrame]:
    """Ortsteile from the file, Stadtbezirke dissolved from them, the city as their union.

    Raises BoundaryError with every defect: columns, keys, geometry, overlaps, gaps.
    """
    problems = [f"Spalte {c!r} nicht gefunden; vorhanden: {sorted(x for x in raw.columns if x != 'geometry')}"
                for c in (spec.key_col, spec.name_col, spec.parent_col) if c and c not in raw.columns]
    if not spec.parent_col and not spec.parent_key_length:
        problems.append("Zuordnung zum Stadtbezirk fehlt: parent_col oder parent_key_length angeben")
    if problems:
        raise BoundaryError(problems)
    gdf = raw.to_crs("EPSG:4326")
    keys = gdf[spec.key_col].astype(str).str.strip()
    parents = (gdf[spec.parent_col].astype(str).str.strip() if spec.parent_col
               else keys.str[:spec.parent_key_length])
    ortsteile = gpd.GeoDataFrame({"area_id": keys.values, "name": gdf[spec.name_col].astype(str).str.strip().values,
                                  "parent_id": parents.values}, geometry=gdf.geometry.values, crs="EPSG:4326")
    problems = validate_areas(ortsteile)
    if not problems:
        problems = geometry_problems(ortsteile)
    if problems:
        raise BoundaryError(problems)
    names = spec.parent_names or {}
    districts = ortsteile.dissolve(by="parent_id", as_index=False)[["parent_id", "geometry"]]
    districts = gpd.GeoDataFrame({"area_id": districts["parent_id"].values,
                                  "name": [names.get(k, f"Stadtbezirk {k}") for k in districts["parent_id"]],
                                  "parent_id": spec.city_key}, geometry=districts.geometry.values, crs="EPSG:4326")
    city = gpd.GeoDataFrame({"area_id": [spec.city_key], "name": [spec.city_name], "parent_id": [None]},
                            geometry=[shapely.union_all(districts.geometry.values)], crs="EPSG:4326")
    return {"ortsteil": ortsteile, "stadtbezirk": districts, "stadt": city}


def add_uploaded_set(tx, boundary_set: BoundarySet, levels: dict[str, gpd.GeoDataFrame], source_crs: str) -> None:
    """A new set from `valid_from` on: the set open until now ends the day before; older periods keep theirs."""
    from datetime import timedelta
    sets = tx.read("boundary_sets")
    if sets is not None and len(sets):
        open_sets = sets["valid_to"].isna()
        starts = pd.to_datetime(sets["valid_from"]).dt.date
        closing = open_sets & (starts < boundary_set.valid_from)
        if closing.any():
            sets = sets.copy()
            sets["valid_to"] = sets["valid_to"].astype("object")
            sets.loc[closing, "valid_to"] = boundary_set.valid_from - timedelta(days=1)
            tx.replace_table("boundary_sets", sets)
    add_boundary_set(tx, boundary_set, levels, source_crs)


def store_uploaded_set(store, viewer, content: bytes, filename: str, spec: BoundaryUpload, valid_from: date,
                       set_id: str, label: str, layer: str | None = None) -> dict:
    """Validate an admin's boundary file completely, then add it as a new set in one transaction."""
    from auth.permissions import may_manage_boundaries
    if not may_manage_boundaries(viewer):
        raise PermissionError("nur die Administration lädt Gebietsgrenzen hoch")
    raw = read_boundary_upload(content, filename, layer)
    source_crs = raw.crs.to_string()
    levels = upload_levels(raw, spec)
    with store.writing() as tx:
        add_uploaded_set(tx, BoundarySet(set_id, valid_from, None, label, f"hochgeladen: {filename}"), levels,
                         source_crs)
        city = tx.manifest.setdefault("city", {})
        city.setdefault("name", spec.city_name)
        city.setdefault("key", spec.city_key)
        city.setdefault("source_crs", source_crs)
    return {"set_id": set_id, "valid_from": valid_from.isoformat(), "areas": len(levels["ortsteil"]),
            "districts": len(levels["stadtbezirk"]), "source_crs": source_crs}


def init_empty_store(store, city_name: str, city_key: str) -> None:
    """A store for a real city: no demo, no boundaries yet (the admin uploads them next)."""
    import pyarrow as pa
    sets = pa.schema([("set_id", pa.string()), ("valid_from", pa.date32()), ("valid_to", pa.date32()),
                      ("label", pa.string()), ("note", pa.string()), ("source_crs", pa.string())])
    areas = pa.schema([("set_id", pa.string()), ("area_id", pa.string()), ("name", pa.string()),
                       ("level", pa.string()), ("parent_id", pa.string()), ("predecessors", pa.string()),
                       ("area_km2", pa.float64()), ("geometry", pa.binary())])
    with store.writing() as tx:
        if tx.has_table("boundary_sets"):
            raise BoundaryError([f"{store.data_dir} holds a store already"])
        tx.replace_table("boundary_sets", sets.empty_table())
        tx.replace_table("areas", areas.empty_table())
        tx.ensure_empty_tables()
        tx.manifest["city"] = {"name": city_name, "key": city_key}
