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

from atlas.messages import Message, both, number
from atlas.services.boundaries import (
    BoundaryError,
    BoundarySet,
    add_boundary_set,
    validate_areas,
)
from atlas.services.territory import CITY_LEVELS, Level, parse_levels, stored_form

OVERLAP_TOLERANCE_M2 = 1_000  # digitising slivers below this are not overlaps
GAP_TOLERANCE_M2 = 1_000  # holes inside the city outline below this are not gaps
METRIC_CRS = "EPSG:3035"  # equal-area, for areas and tolerances in m²


def read_boundary_upload(content: bytes, filename: str, layer: str | None = None) -> gpd.GeoDataFrame:
    """GeoJSON, GeoPackage or a zipped Shapefile in any CRS, as uploaded; raises BoundaryError."""
    import tempfile
    suffix = Path(str(filename)).suffix.lower()
    if suffix not in (".geojson", ".json", ".gpkg", ".zip", ".fgb"):
        raise BoundaryError([Message("chk_b_format", suffix=suffix or "?")])
    with tempfile.TemporaryDirectory(prefix="ortsatlas-boundary-") as folder:
        path = Path(folder) / f"upload{suffix}"
        path.write_bytes(content)
        try:
            gdf = gpd.read_file(path, layer=layer, engine="pyogrio")
        except Exception as exc:  # GDAL reports damaged files in many ways
            raise BoundaryError([Message("chk_b_unreadable", reason=str(exc)[:200])]) from None
    if gdf.crs is None:
        raise BoundaryError([Message("chk_b_no_crs")])
    if gdf.empty:
        raise BoundaryError([Message("chk_b_no_areas")])
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
                problems.append(overlap_message(keys[i], keys[j], shared))
    outline = shapely.union_all(geoms)
    parts = getattr(outline, "geoms", [outline])
    for hole in (shapely.Polygon(ring) for part in parts for ring in part.interiors):
        if hole.area > GAP_TOLERANCE_M2:
            at = gpd.GeoSeries([hole.representative_point()], crs=METRIC_CRS).to_crs("EPSG:4326").iloc[0]
            problems.append(Message("chk_b_gap", m2=number(hole.area, 0), lat=f"{at.y:.4f}", lon=f"{at.x:.4f}"))
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


def overlap_message(a: str, b: str, m2: float) -> Message:
    """Two areas that overlap (boundary and grid uploads say it alike)."""
    return Message("chk_b_overlap", a=a, b=b, m2=number(m2, 0))


def level_name(level: Level, plural: bool = False) -> dict:
    """A level's name as a message parameter, in both languages."""
    return both(level.label("de", plural), level.label("en", plural))


def restore_zeros(keys: pd.Series, declared: int | None, what: str | Message
                  ) -> tuple[pd.Series, list[str], list[str]]:
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
        return keys, [], [Message("chk_b_too_long" if len(too_long) > 1 else "chk_b_too_long_one", what=what,
                                  keys=_examples(too_long), target=target)]
    short = filled[filled.str.len() < target]
    letters = short[~short.str.fullmatch(r"\d+")]
    if len(letters):
        return keys, [], [Message("chk_b_lengths", what=what, shortest=int(filled.str.len().min()), target=target,
                                  keys=_examples(letters))]
    padded = keys.where(~keys.index.isin(short.index), short.str.zfill(target).reindex(keys.index))
    taken = set(filled[filled.str.len() == target])
    clashes = short[short.str.zfill(target).isin(taken)]
    if len(clashes):
        return keys, [], [Message("chk_b_zero_clash", what=what, key=repr(k), padded=repr(k.zfill(target)))
                          for k in clashes.head(10)]
    if short.empty:
        return keys, [], []
    first = short.iloc[0]
    return padded, [Message("chk_b_zeros_added", what=what, target=target, n=len(short), total=len(filled),
                            first=first, padded=first.zfill(target))], []


def _examples(keys: pd.Series) -> str:
    shown = ", ".join(repr(k) for k in keys.head(5))
    return shown + (" …" if len(keys) > 5 else "")


def upload_levels(raw: gpd.GeoDataFrame, spec: BoundaryUpload, levels: tuple[Level, ...] = CITY_LEVELS
                  ) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Base areas from the file and every level above dissolved from them; notes on what was repaired.

    Each level finds its parent as the store declares it (`Level.parent_from`:
    a column of the file or a key prefix); for the base level the upload's
    `parent_col` / `parent_key_length` take precedence. The level below the
    top belongs to the whole territory. Levels built by dissolving nest by
    construction. Raises BoundaryError with every defect: columns, keys,
    geometry, overlaps, gaps, a level whose areas would have two parents, and
    keys whose lost zeros cannot be restored safely (two parents are never
    merged by a lost zero).
    """
    rules = _parent_rules(spec, levels)
    columns = [spec.key_col, spec.name_col] + [r.split(":", 1)[1] for r in rules if r.startswith("column:")]
    problems = [Message("chk_b_column_missing", column=repr(c),
                        columns=str(sorted(x for x in raw.columns if x != "geometry")))
                for c in dict.fromkeys(columns) if c and c not in raw.columns]
    problems += [Message("chk_b_parent_rule", level=level_name(levels[i])) for i, rule in enumerate(rules) if not rule]
    if problems:
        raise BoundaryError(problems)
    gdf = raw.to_crs("EPSG:4326")
    keys, notes, problems = restore_zeros(key_texts(gdf[spec.key_col]), spec.key_length, Message("chk_b_keys"))
    chain = [keys]  # per level: each base row's area key at that level
    for i, rule in enumerate(rules):
        upper, upper_notes, upper_problems = _keys_above(gdf, chain[-1], rule, levels[i + 1])
        chain.append(upper)
        notes += upper_notes
        problems += upper_problems
    if len(chain) > 1:
        problems += _unnamed_parents(chain[1], spec)
    problems += _two_parents(chain, levels)
    if problems:
        raise BoundaryError(problems)
    base = gpd.GeoDataFrame({"area_id": keys.values, "name": gdf[spec.name_col].astype(str).str.strip().values,
                             "parent_id": chain[1].values if len(chain) > 1 else spec.city_key},
                            geometry=gdf.geometry.values, crs="EPSG:4326")
    problems = validate_areas(base)
    if not problems:
        problems = geometry_problems(base)
    if problems:
        raise BoundaryError(problems)
    out = {levels[0].id: base}
    names = {str(k): v for k, v in (spec.parent_names or {}).items()}
    for i in range(1, len(levels) - 1):
        frame = base.assign(area_id=chain[i].values, parent_id=chain[i + 1].values if i + 1 < len(chain)
                            else spec.city_key)
        dissolved = frame.dissolve(by="area_id", as_index=False, aggfunc="first")
        out[levels[i].id] = gpd.GeoDataFrame({
            "area_id": dissolved["area_id"].values,
            "name": [names.get(k, f"{levels[i].label()} {k}") for k in dissolved["area_id"]],
            "parent_id": dissolved["parent_id"].values}, geometry=dissolved.geometry.values, crs="EPSG:4326")
    below_top = out[levels[-2].id]
    out[levels[-1].id] = gpd.GeoDataFrame({"area_id": [spec.city_key], "name": [spec.city_name], "parent_id": [None]},
                                          geometry=[shapely.union_all(below_top.geometry.values)], crs="EPSG:4326")
    out[levels[-2].id] = below_top.assign(parent_id=spec.city_key)
    return out, notes


# ------------------------------------------------------------------ one file per level
NEST_TOLERANCE = 0.01  # share of an area that may lie outside its parent (digitising differences between files)


@dataclass(frozen=True)
class LevelFile:
    """One level's own boundary file, as published (Berlin's LOR: one file each for Planungsräume,
    Bezirksregionen, Prognoseräume and Bezirke). The parent comes from `parent_col`, or, without it,
    from the location: the area of the level above that holds most of it."""

    level: str
    gdf: gpd.GeoDataFrame
    key_col: str
    name_col: str
    parent_col: str | None = None


def levels_from_files(files: list[LevelFile], levels: tuple[Level, ...], city_key: str, city_name: str
                      ) -> tuple[dict[str, gpd.GeoDataFrame], list[str]]:
    """Every level from its own file, each area in exactly one parent, checked for nesting.

    A file is needed for every level but the top (the whole territory is the
    union of the level below it). Each file is checked like a single upload
    (keys, geometry, overlaps, gaps); then every area must lie in its parent,
    up to NEST_TOLERANCE of its area. Raises BoundaryError with every defect.
    """
    by_level = {f.level: f for f in files}
    known = {lv.id for lv in levels}
    problems = [Message("chk_b_unknown_level", level=repr(f.level), levels=", ".join(lv.id for lv in levels))
                for f in files if f.level not in known]
    problems += [Message("chk_b_level_file_missing", level=level_name(lv), id=lv.id) for lv in levels[:-1]
                 if lv.id not in by_level]
    if problems:
        raise BoundaryError(problems)
    frames, notes = {}, []
    for lv in levels[:-1]:
        frame, problems_of_level, notes_of_level = _level_frame(by_level[lv.id], lv)
        frames[lv.id], notes = frame, notes + notes_of_level
        problems += problems_of_level
    if problems:
        raise BoundaryError(problems)
    for child, parent in zip(levels[:-2], levels[1:-1]):
        join_notes, join_problems = _nest(frames[child.id], frames[parent.id], child, parent,
                                          spatial=not by_level[child.id].parent_col)
        notes += join_notes
        problems += join_problems
    if problems:
        raise BoundaryError(problems)
    below_top = frames[levels[-2].id].assign(parent_id=city_key)
    frames[levels[-2].id] = below_top
    frames[levels[-1].id] = gpd.GeoDataFrame({"area_id": [city_key], "name": [city_name], "parent_id": [None]},
                                             geometry=[shapely.union_all(below_top.geometry.values)],
                                             crs="EPSG:4326")
    return frames, notes


def _level_frame(file: LevelFile, level: Level) -> tuple[gpd.GeoDataFrame, list[str], list[str]]:
    """One level's areas (area_id, name, parent_id from the column if given), checked on their own."""
    missing = [c for c in (file.key_col, file.name_col, file.parent_col) if c and c not in file.gdf.columns]
    if missing:
        have = sorted(c for c in file.gdf.columns if c != "geometry")
        return None, [Message("chk_b_in_level", level=level_name(level),
                              message=Message("chk_b_column_missing", column=repr(c), columns=str(have)))
                      for c in missing], []
    gdf = file.gdf.to_crs("EPSG:4326")
    keys, notes, problems = restore_zeros(key_texts(gdf[file.key_col]), None,
                                          Message("chk_b_level_keys", level=level_name(level)))
    parents = key_texts(gdf[file.parent_col]) if file.parent_col else pd.Series([None] * len(gdf), dtype=object)
    frame = gpd.GeoDataFrame({"area_id": keys.values, "name": gdf[file.name_col].astype(str).str.strip().values,
                              "parent_id": parents.values}, geometry=gdf.geometry.values, crs="EPSG:4326")
    if not problems:
        problems = validate_areas(frame) or geometry_problems(frame)
    return frame, [Message("chk_b_in_level", level=level_name(level), message=p) for p in problems], notes


def _nest(children: gpd.GeoDataFrame, parents: gpd.GeoDataFrame, child: Level, parent: Level, spatial: bool
          ) -> tuple[list[str], list[str]]:
    """Give each child its parent (by location when `spatial`) and check that it lies inside it."""
    kids = children.to_crs(METRIC_CRS).geometry.values
    outer = parents.to_crs(METRIC_CRS).geometry.values
    keys = parents["area_id"].tolist()
    tree = shapely.STRtree(outer)
    problems, inside_shares = [], []
    for i, geom in enumerate(kids):
        candidates = tree.query(geom, predicate="intersects")
        overlap = {keys[j]: shapely.intersection(geom, outer[j]).area for j in candidates}
        if spatial:
            children.iat[i, children.columns.get_loc("parent_id")] = max(overlap, key=overlap.get) if overlap else None
        home = children["parent_id"].iat[i]
        share = overlap.get(home, 0.0) / geom.area if geom.area else 0.0
        inside_shares.append(share)
        if home not in set(keys):
            problems.append(Message("chk_b_parent_missing", child=level_name(child), id=children["area_id"].iat[i],
                                    name=children["name"].iat[i], parent=level_name(parent), home=repr(home)))
        elif share < 1 - NEST_TOLERANCE:
            problems.append(Message("chk_b_not_inside", child=level_name(child), id=children["area_id"].iat[i],
                                    name=children["name"].iat[i], share=_percent(share), parent=level_name(parent),
                                    home=home, tolerance=_percent(NEST_TOLERANCE)))
    least = min(inside_shares) if inside_shares else 1.0
    notes = [Message("chk_b_nested_spatial" if spatial else "chk_b_nested_column", n=len(children),
                     children=level_name(child, plural=True), parents=level_name(parent, plural=True),
                     least=_percent(least))]
    return notes, problems[:100]


def _percent(share: float) -> dict:
    return number(share * 100, 1, "%")


def _parent_rules(spec: BoundaryUpload, levels: tuple[Level, ...]) -> list[str]:
    """How each level below the one under the top finds its parent: 'column:<name>' or 'prefix:<n>'."""
    rules = [level.parent_from for level in levels[:-2]]
    if rules and (spec.parent_col or spec.parent_key_length):
        rules[0] = f"column:{spec.parent_col}" if spec.parent_col else f"prefix:{spec.parent_key_length}"
    return ["" if r == "spatial" else r for r in rules]


def _keys_above(gdf: gpd.GeoDataFrame, keys: pd.Series, rule: str, level: Level
                ) -> tuple[pd.Series, list[str], list[str]]:
    """Each base row's key one level up, from a key prefix or a column (zeros restored as for keys)."""
    kind, _, arg = rule.partition(":")
    if kind == "prefix":
        return keys.str[:int(arg)], [], []
    return restore_zeros(key_texts(gdf[arg]), None, Message("chk_b_level_keys", level=level_name(level)))


def _two_parents(chain: list[pd.Series], levels: tuple[Level, ...]) -> list[str]:
    """An area must have one parent: a column that puts one area in two parents is refused."""
    problems = []
    for i in range(1, len(chain) - 1):
        pairs = pd.DataFrame({"area": chain[i].values, "parent": chain[i + 1].values}).drop_duplicates()
        split = pairs[pairs["area"].duplicated(keep=False)]
        for area, group in list(split.groupby("area"))[:10]:
            problems.append(Message("chk_b_two_parents", level=level_name(levels[i]), area=area,
                                    upper=level_name(levels[i + 1]), parents=", ".join(map(repr, group["parent"]))))
    return problems


def _unnamed_parents(parents: pd.Series, spec: BoundaryUpload) -> list[str]:
    """Stadtbezirk keys that parent_names does not know: most often a key that lost its leading zero."""
    if not spec.parent_names:
        return []
    unknown = sorted(set(parents) - set(map(str, spec.parent_names)))
    if not unknown:
        return []
    return [Message("chk_b_unnamed_parents", keys=", ".join(map(repr, unknown[:10])),
                    names=", ".join(map(repr, sorted(map(str, spec.parent_names))[:12])))]


def add_uploaded_set(tx, boundary_set: BoundarySet, levels: dict[str, gpd.GeoDataFrame], source_crs: str,
                     bands_from: int | None = None, tiles_from: int | None = None) -> None:
    """A new set from `valid_from` on: the set open until now ends the day before; older periods keep theirs.

    `bands_from`, `tiles_from`: as `add_boundary_set` (the app's `canvas_from_areas` and `tiles_from_areas`:
    big levels get their map bands, bigger ones their vector tiles, stored in the same write)."""
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
    add_boundary_set(tx, boundary_set, levels, source_crs, bands_from, tiles_from)


def store_uploaded_set(store, viewer, content: bytes, filename: str, spec: BoundaryUpload, valid_from: date,
                       set_id: str, label: str, layer: str | None = None, bands_from: int | None = None,
                       tiles_from: int | None = None) -> dict:
    """Validate an admin's boundary file completely, then add it as a new set in one transaction."""
    from auth.permissions import may_manage_boundaries
    if not may_manage_boundaries(viewer):
        raise PermissionError("nur die Administration lädt Gebietsgrenzen hoch")
    raw = read_boundary_upload(content, filename, layer)
    hierarchy = _hierarchy(store)
    levels, notes = upload_levels(raw, spec, hierarchy)
    return _store_levels(store, hierarchy, levels, notes, BoundarySet(set_id, valid_from, None, label,
                                                                      f"hochgeladen: {filename}"),
                         raw.crs.to_string(), spec.city_name, spec.city_key, bands_from, tiles_from)


def store_level_files(store, viewer, files: list[tuple[str, bytes, str, str, str, str | None]], valid_from: date,
                      set_id: str, label: str, city_name: str, city_key: str, bands_from: int | None = None,
                      tiles_from: int | None = None) -> dict:
    """A boundary set from one file per level: (level, content, filename, key_col, name_col, parent_col).

    Validated completely (every file, every parent, the nesting), then stored in one transaction.
    """
    from auth.permissions import may_manage_boundaries
    if not may_manage_boundaries(viewer):
        raise PermissionError("nur die Administration lädt Gebietsgrenzen hoch")
    read = [LevelFile(level, read_boundary_upload(content, filename), key_col, name_col, parent_col)
            for level, content, filename, key_col, name_col, parent_col in files]
    hierarchy = _hierarchy(store)
    levels, notes = levels_from_files(read, hierarchy, city_key, city_name)
    base_file = next(f for f in read if f.level == hierarchy[0].id)
    note = "hochgeladen: " + ", ".join(filename for _, _, filename, *_ in files)
    return _store_levels(store, hierarchy, levels, notes, BoundarySet(set_id, valid_from, None, label, note),
                         base_file.gdf.crs.to_string(), city_name, city_key, bands_from, tiles_from)


def _hierarchy(store) -> tuple[Level, ...]:
    declared = store.manifest().get("levels") if store.exists() else None
    return parse_levels(declared) if declared else CITY_LEVELS


def _store_levels(store, hierarchy: tuple[Level, ...], levels: dict[str, gpd.GeoDataFrame], notes: list[str],
                  boundary_set: BoundarySet, source_crs: str, city_name: str, city_key: str,
                  bands_from: int | None = None, tiles_from: int | None = None) -> dict:
    """Add the checked levels as a new set in one transaction; what the upload answers."""
    with store.writing() as tx:
        add_uploaded_set(tx, boundary_set, levels, source_crs, bands_from, tiles_from)
        city = tx.manifest.setdefault("city", {})
        city.setdefault("name", city_name)
        city.setdefault("key", city_key)
        city.setdefault("source_crs", source_crs)
    counts = [len(levels[level.id]) for level in hierarchy]
    return {"set_id": boundary_set.set_id, "valid_from": boundary_set.valid_from.isoformat(), "areas": counts[0],
            "districts": counts[1], "levels": {level.id: n for level, n in zip(hierarchy, counts)},
            "source_crs": source_crs, "notes": notes}


def init_empty_store(store, city_name: str, city_key: str, levels: list[dict] | None = None) -> None:
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
        if levels:  # the territory's own hierarchy, checked (LevelError says what is wrong)
            tx.manifest["levels"] = stored_form(parse_levels(levels))
