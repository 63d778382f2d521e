"""The choropleth service: what the map needs for one indicator, period and classing.

Geometry travels once per boundary set; a switch of
indicator, period or classing sends only this payload: arrays aligned with
the features' `i` property (class per area, display label per area), the
colours and the legend. For 1,000 areas that is a few kilobytes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import shapely

from atlas.classify import (
    MISSING_COLOR,
    SUPPRESSED_COLOR,
    Classification,
    classify,
    legend_entries,
)
from atlas.formatting import format_values
from atlas.services import crosswalk, queries, territory
from atlas.services.context import Atlas
from atlas.services.map_bands import BANDS, FINEST, band_texts, features_of, stored_band
from auth.permissions import Principal

# The zoom bands (`Band`, `BANDS`, `FINEST`) live in boundaries: a big set's bands are built when it is stored.
VIEW_PX = (1000, 700)  # the map's size assumed for the zoom that fits the territory before the browser says


def band_for_zoom(zoom: float | None) -> int:
    """The band to show at a map zoom (unknown zoom: the finest, as before bands)."""
    if zoom is None:
        return FINEST
    return max(i for i, b in enumerate(BANDS) if zoom >= b.min_zoom or i == 0)


def fit_zoom(bounds: tuple[float, float, float, float], px: tuple[int, int] = VIEW_PX) -> float:
    """The Web Mercator zoom at which `bounds` (lon/lat) fill a map of `px` pixels, as Leaflet's fitBounds."""
    west, south, east, north = bounds

    def y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))
    lon_span = max(east - west, 1e-9) / 360
    lat_span = max(y(north) - y(south), 1e-9) / (2 * math.pi)
    return math.log2(min(px[0] / (256 * lon_span), px[1] / (256 * lat_span)))


def territory_zoom(atlas: Atlas, set_id: str, level: str | None = None) -> float:
    """The zoom that fits the level's areas (in quarter steps, as the map snaps), known before the browser is."""
    level = level or territory.base_level(atlas)

    def compute() -> float:
        areas = queries.areas(atlas, level, set_id)
        zoom = fit_zoom(tuple(shapely.total_bounds(shapely.from_wkb(areas["geometry"].values))))
        return math.floor(zoom * 4) / 4
    return atlas.cached(("map_zoom", set_id, level), compute)


def territory_band(atlas: Atlas, set_id: str, level: str | None = None) -> int:
    """The band for the map's first view, so the first geometry is already the one that fits."""
    return band_for_zoom(territory_zoom(atlas, set_id, level))


def area_count(atlas: Atlas, set_id: str, level: str | None = None) -> int:
    """How many areas the map draws at a level (decides SVG or canvas)."""
    level = level or territory.base_level(atlas)
    return atlas.cached(("map_count", set_id, level), lambda: len(queries.areas(atlas, level, set_id)))


def map_areas(atlas: Atlas, level: str, set_id: str) -> pd.DataFrame:
    """The areas a map of this level draws, in map order: a level's of the set, or a parallel grid's.

    A grid (Grundschulbezirke, Sozialräume) is shown like a level; its areas
    have no parent in the hierarchy.
    """
    if crosswalk.grid_of_level(atlas, level) is not None:
        return crosswalk.grid_areas(atlas, level).assign(level=level, parent_id=None)
    return queries.areas(atlas, level, set_id)


def geometry(atlas: Atlas, set_id: str, level: str | None = None, band: int | None = None) -> dict:
    """Map geometry of a boundary set at one zoom band, read or built once per store generation.

    Without a band: the finest (~1 m), as the map and the first-paint picture
    always had it. Coarser bands simplify the whole coverage at once, so
    neighbours keep shared edges; the features and their `i` are the same in
    every band, so the hideout fits whichever band is shown. A big level's
    bands are stored with its set (`map_bands.write_map_bands`) and only
    read here; other levels, and stores from before, build them here.
    """
    level = level or territory.base_level(atlas)
    band = FINEST if band is None else min(max(int(band), 0), FINEST)
    # The finest band keeps its key from before bands (one cache entry).
    key = ("map_geometry", set_id, level) if band == FINEST else ("map_geometry", set_id, level, band)
    return atlas.cached(key, lambda: _band_geometry(atlas, set_id, level, band))


def _band_geometry(atlas: Atlas, set_id: str, level: str, band: int) -> dict:
    """The band as stored with the set when it is, else built from the areas (the same features either way)."""
    areas = map_areas(atlas, level, set_id)
    texts = stored_band(atlas.store, set_id, level, band, areas)
    return features_of(areas, band_texts(areas, band) if texts is None else texts)


@dataclass(frozen=True)
class MapView:
    set_id: str
    hideout: dict
    legend: list[dict]
    area_ids: list[str]


def classified(atlas: Atlas, table: queries.ValueTable, method: str, k: int) -> tuple[pd.DataFrame, Classification]:
    """Every area of the table's set in map order (with WKB geometry), and their classes.

    Areas without a row are 'missing'; the map, the pictures and the GIS
    styles all class through here, so they always agree.
    """
    order = queries.areas(atlas, table.level, table.set_id)[["area_id", "geometry"]]
    rows = order.merge(table.rows, on="area_id", how="left")
    rows["status"] = rows["status"].fillna("missing")
    values = rows["value"].to_numpy(dtype=float, na_value=np.nan)
    ind = table.indicator
    return rows, classify(values, rows["status"].to_numpy(dtype=object), method, k, ind.polarity, ind.diverging)


def map_view(atlas: Atlas, viewer: Principal, indicator_id: str, period: str, method: str, k: int,
             selected: str | None = None, lang: str = "de", level: str | None = None) -> MapView | None:
    """None when the indicator is not visible to the viewer (or does not exist).

    `level`: one of the store's levels (default: the base level) or a parallel
    grid's id (values estimated from the base level, see `crosswalk`). Remembered
    per viewer's rights, indicator, period, level, classing and language for
    the store's current state; only the selection differs per click.
    """
    level = level or territory.base_level(atlas)
    view = atlas.remembered(("map_view", viewer.rights, indicator_id, period, level, method, k, lang),
                            lambda: _map_view(atlas, viewer, indicator_id, period, method, k, lang, level))
    if view is None:
        return None
    selected_at = view.area_ids.index(selected) if selected in view.area_ids else None
    return replace(view, hideout={**view.hideout, "sel": selected_at})


def _map_view(atlas: Atlas, viewer: Principal, indicator_id: str, period: str, method: str, k: int,
              lang: str, level: str) -> MapView | None:
    if level not in territory.level_ids(atlas):
        return _grid_view(atlas, viewer, indicator_id, period, method, k, lang, level)
    table = queries.values(atlas, viewer, indicator_id, period, level)
    if table is None or table.set_id is None:
        return None
    rows, c = classified(atlas, table, method, k)
    return _painted(table.set_id, rows, c, table.indicator, lang)


def _painted(set_id: str, rows: pd.DataFrame, c: Classification, ind, lang: str) -> MapView:
    """What the map receives for classed rows in map order: classes, colours, one label per area, the legend."""
    labels = format_values(rows["value"].to_numpy(dtype=float, na_value=np.nan),
                           rows["status"].to_numpy(dtype=object), ind.decimals, ind.unit_in(lang), lang)
    hideout = {"cls": c.classes, "col": c.colors, "lab": labels, "sel": None,
               "mc": MISSING_COLOR, "sc": SUPPRESSED_COLOR}
    return MapView(set_id, hideout, legend_entries(c, ind.decimals, lang), rows["area_id"].tolist())


# A map drawn from vector tiles gets its classes as one character per area instead of a list and a label each:
# at 11,000 areas the list and labels were 117 KB per switch that the server encoded and the page's renderer
# walked element by element; the string is ~11 KB and one value. Labels come per area when asked (`area_label`).
CLASS_CODE_ZERO = 48  # class c is chr(48 + c): '0', '1', ...
CODE_MISSING, CODE_SUPPRESSED = "-", "*"


def class_codes(classes) -> str:
    """The classes (-1 missing, -2 suppressed, else 0..k-1) as one character per area, in map order."""
    found = np.asarray(classes, dtype=np.int64)
    codes = np.where(found == -2, ord(CODE_SUPPRESSED), np.where(found < 0, ord(CODE_MISSING), found + CLASS_CODE_ZERO))
    return codes.astype(np.uint8).tobytes().decode("ascii")


def compact_hideout(hideout: dict) -> dict:
    """The hideout a tiled map gets: classes as `cc` (`class_codes`), no per-area labels and no class list."""
    out = {key: value for key, value in hideout.items() if key not in ("cls", "lab")}
    out["cc"] = class_codes(hideout["cls"])
    return out


def area_label(atlas: Atlas, viewer: Principal, indicator_id: str, period: str, method: str, k: int, area: str,
               lang: str = "de", level: str | None = None) -> str | None:
    """One area's display label as the map shows it (hover and tap on a tiled map); None when the map view
    is not there for the viewer (unknown or hidden indicator, alike) or the area is not on it.

    The label comes from the very map view the colours came from (same rights, same disclosure: a
    suppressed cell says so), so what the pointer shows never differs from the map or the table twin.
    """
    level = level or territory.base_level(atlas)
    view = map_view(atlas, viewer, indicator_id, period, method, k, None, lang, level)
    if view is None:
        return None
    index = view_index(atlas, view, level).get(area)
    return None if index is None else view.hideout["lab"][index]


def view_index(atlas: Atlas, view: MapView, level: str) -> dict[str, int]:
    """Area key -> position in the map order of a set's level (a lookup per hover, not a scan of 11,000 keys)."""
    return atlas.cached(("map_index", view.set_id, level), lambda: {a: i for i, a in enumerate(view.area_ids)})


def _grid_view(atlas: Atlas, viewer: Principal, indicator_id: str, period: str, method: str, k: int,
               lang: str, grid_id: str) -> MapView | None:
    """A parallel grid's map: the estimates (with the grid's disclosure) classed like any level's values.

    None when the grid or indicator is unknown or not readable, as for a
    level. An indicator the grid cannot estimate shows every area as missing.
    """
    table = crosswalk.grid_values(atlas, viewer, grid_id, indicator_id, period)
    if table is None:
        return None
    order = crosswalk.grid_areas(atlas, grid_id)["area_id"]  # the geometry's order, which the hideout follows
    rows = table.rows.set_index("area_id").reindex(order).reset_index()
    rows["status"] = rows["status"].fillna("missing")
    ind = table.indicator
    c = classify(rows["value"].to_numpy(dtype=float, na_value=np.nan), rows["status"].to_numpy(dtype=object),
                 method, k, ind.polarity, ind.diverging)
    return _painted(table.grid.set_id, rows, c, ind, lang)
