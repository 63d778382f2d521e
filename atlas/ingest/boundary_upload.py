"""Boundary uploads: an admin's GeoJSON, GeoPackage or zipped Shapefile becomes a new boundary set.

Everything is checked before anything is stored (columns, keys, geometry,
overlaps, gaps); the new set starts at its valid-from date and the set open
until then ends the day before, so earlier periods keep their geometry.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from atlas.services.boundaries import (
    BoundaryError,
    BoundarySet,
    add_boundary_set,
    validate_areas,
)

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
    key_length: int | None = None  # the keys' length: leading zeros lost in Excel or a GIS join are restored to it


def key_texts(column: pd.Series) -> pd.Series:
    """A key column as text: a number column (110.0, 110) becomes '110'; empty stays ''."""
    def text(v) -> str:
        if v is None or (isinstance(v, float) and v != v):
            return ""
        if isinstance(v, float) and v.is_integer():
            return str(int(v))
        return str(v).strip()
    return column.map(text).astype(object)


def restore_zeros(keys: pd.Series, declared: int | None, what: str) -> tuple[pd.Series, list[str], list[str]]:
    """Keys with the leading zeros a number column lost, as (keys, notes, problems).

    The length is the one declared, else the longest key (a lost zero only
    ever shortens a key). Only keys of digits are padded; a padded key that
    another feature already has is refused, never merged.
    """
    lengths = keys.str.len()
    filled = keys[lengths > 0]
    if filled.empty or (declared is None and filled.str.len().nunique() == 1):
        return keys, [], []
    target = declared or int(filled.str.len().max())
    filled = filled.sort_values()  # examples in key order
    too_long = filled[filled.str.len() > target]
    if len(too_long):
        return keys, [], [f"{what} {_examples(too_long)} {'ist' if len(too_long) == 1 else 'sind'} länger als die "
                          f"angegebene Länge {target}; prüfen Sie key_length oder die Schlüsselspalte"]
    short = filled[filled.str.len() < target]
    letters = short[~short.str.fullmatch(r"\d+")]
    if len(letters):
        return keys, [], [f"{what} haben verschiedene Längen ({int(filled.str.len().min())} bis {target} Zeichen); "
                          f"bei {_examples(letters)} lassen sich keine führenden Nullen ergänzen, weil sie nicht nur "
                          "aus Ziffern bestehen. Geben Sie die Schlüssel in einheitlicher Länge an."]
    padded = keys.where(~keys.index.isin(short.index), short.str.zfill(target).reindex(keys.index))
    taken = set(filled[filled.str.len() == target])
    clashes = short[short.str.zfill(target).isin(taken)]
    if len(clashes):
        return keys, [], [f"{what} {k!r} wird mit führenden Nullen zu {k.zfill(target)!r}, den es in der Datei schon "
                          "gibt; die Spalte mischt Schlüssel mit und ohne führende Nullen. Speichern Sie die "
                          "Schlüsselspalte als Text und laden Sie die Datei erneut hoch." for k in clashes.head(10)]
    if short.empty:
        return keys, [], []
    first = short.iloc[0]
    return padded, [f"{what}: führende Nullen ergänzt auf {target} Stellen bei {len(short)} von {len(filled)} "
                    f"Schlüsseln (z. B. {first} → {first.zfill(target)}); die Spalte war als Zahl gespeichert (Excel "
                    "oder ein GIS-Join entfernt die Nullen)."], []


def _examples(keys: pd.Series) -> str:
    shown = ", ".join(repr(k) for k in keys.head(5))
    return shown + (" …" if len(keys) > 5 else "")


def upload_levels(raw: gpd.GeoDataFrame, spec: BoundaryUpload) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Ortsteile from the file, Stadtbezirke dissolved from them, the city as their union; and notes on what
    was repaired (leading zeros restored).

    Raises BoundaryError with every defect: columns, keys, geometry, overlaps, gaps, and keys whose lost
    zeros cannot be restored safely (two Stadtbezirke are never merged by a lost zero).
    """
    problems = [f"Spalte {c!r} nicht gefunden; vorhanden: {sorted(x for x in raw.columns if x != 'geometry')}"
                for c in (spec.key_col, spec.name_col, spec.parent_col) if c and c not in raw.columns]
    if not spec.parent_col and not spec.parent_key_length:
        problems.append("Zuordnung zum Stadtbezirk fehlt: parent_col oder parent_key_length angeben")
    if problems:
        raise BoundaryError(problems)
    gdf = raw.to_crs("EPSG:4326")
    keys, notes, problems = restore_zeros(key_texts(gdf[spec.key_col]), spec.key_length, "Schlüssel")
    if spec.parent_col:
        parents, parent_notes, parent_problems = restore_zeros(key_texts(gdf[spec.parent_col]), None,
                                                               "Stadtbezirk-Schlüssel")
    else:
        parents, parent_notes, parent_problems = keys.str[:spec.parent_key_length], [], []
    problems += parent_problems + _unnamed_parents(parents, spec)
    if problems:
        raise BoundaryError(problems)
    notes += parent_notes
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
    return {"ortsteil": ortsteile, "stadtbezirk": districts, "stadt": city}, notes


def _unnamed_parents(parents: pd.Series, spec: BoundaryUpload) -> list[str]:
    """Stadtbezirk keys that parent_names does not know: most often a key that lost its leading zero."""
    if not spec.parent_names:
        return []
    unknown = sorted(set(parents) - set(map(str, spec.parent_names)))
    if not unknown:
        return []
    return [f"Stadtbezirk-Schlüssel {', '.join(map(repr, unknown[:10]))} stehen nicht in parent_names "
            f"({', '.join(map(repr, sorted(map(str, spec.parent_names))[:12]))}). Haben die Schlüssel führende "
            "Nullen verloren, geben Sie key_length an (die Länge der Schlüssel); sonst ergänzen Sie parent_names "
            "oder prüfen Sie parent_key_length."]


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
    levels, notes = upload_levels(raw, spec)
    with store.writing() as tx:
        add_uploaded_set(tx, BoundarySet(set_id, valid_from, None, label, f"hochgeladen: {filename}"), levels,
                         source_crs)
        city = tx.manifest.setdefault("city", {})
        city.setdefault("name", spec.city_name)
        city.setdefault("key", spec.city_key)
        city.setdefault("source_crs", source_crs)
    return {"set_id": set_id, "valid_from": valid_from.isoformat(), "areas": len(levels["ortsteil"]),
            "districts": len(levels["stadtbezirk"]), "source_crs": source_crs, "notes": notes}


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
