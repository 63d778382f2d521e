"""Supply and demand, "Reichen die Plätze?": facility capacity against the people who need it, per area.

Capacity comes from a point layer (Kita places, school places), counted for
each area of a level from the facilities located in it, or within a radius
around it (a catchment: a facility then serves every area it reaches, so the
counts overlap, as the method says). Demand is an indicator's count (the
numerator of "Anteil unter 6", or a count indicator) read with the viewer's
rights: where the count is suppressed, the coverage is too, because capacity
is public and would give the count away. Demand of a projected period (a
population projection, `queries.projected_periods`) answers "will the places
suffice?"; the method then names the projection's variant.
"""
from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from atlas.charts import projection_label
from atlas.services import queries, territory
from atlas.services.context import Atlas
from auth.permissions import Principal

METRIC_CRS = "EPSG:3035"
MAX_RADIUS_M = 20_000


class CoverageError(ValueError):
    """A request the coverage cannot answer; the message says what to change."""


@dataclass
class Coverage:
    rows: pd.DataFrame  # area_id, name, capacity, demand, coverage (per 100), status
    total: dict
    method_de: str
    method_en: str


def coverage(atlas: Atlas, viewer: Principal, layer: str, demand: str, period: str, level: str | None = None,
             radius_m: float = 0.0) -> Coverage | None:
    """Places per 100 people in need for every area of the level; None if the demand indicator is not visible."""
    level = level or territory.base_level(atlas)
    if level not in territory.level_ids(atlas):
        raise CoverageError(f"level: eine von {', '.join(territory.level_ids(atlas))}")
    if not 0 <= radius_m <= MAX_RADIUS_M:
        raise CoverageError(f"radius: 0 bis {MAX_RADIUS_M} Meter")
    points = queries.points(atlas, layer)
    rows = queries.value_rows(atlas, viewer, demand, period, level)
    if rows is None or points.empty:  # an unknown layer does not exist, like an unknown indicator
        return None
    ind = atlas.indicator_by_id[demand]
    need = rows["numerator"] if ind.numerator else rows["value"]
    set_id = rows["set_id"].dropna().iloc[0] if rows["set_id"].notna().any() else queries.current_set(atlas)
    capacity = _capacity(queries.areas(atlas, level, set_id), points, radius_m)
    rows = rows[~rows["area_id"].str.endswith("-nz")]
    need = need.loc[rows.index].astype(float)
    places = rows["area_id"].map(capacity).fillna(0).astype(float)
    status = np.select([rows["status"] == "suppressed", (rows["status"] != "ok") | need.isna(), need == 0],
                       ["suppressed", "missing", "no_demand"], "ok")
    ok = status == "ok"
    out = pd.DataFrame({"area_id": rows["area_id"].to_numpy(), "name": rows["name"].to_numpy(),
                        "capacity": places.to_numpy(), "demand": np.where(ok, need, np.nan),
                        "coverage": np.where(ok, places / need.where(need > 0) * 100, np.nan), "status": status})
    top = queries.value_rows(atlas, viewer, demand, period, territory.top_level(atlas))
    total_need = float((top["numerator"] if ind.numerator else top["value"]).iloc[0]) if len(top) else np.nan
    total_ok = len(top) and top["status"].iloc[0] == "ok" and total_need > 0
    total = {"capacity": float(points["capacity"].sum()), "demand": total_need if total_ok else None,
             "coverage": float(points["capacity"].sum()) / total_need * 100 if total_ok else None}
    projection = queries.projected_periods(atlas, viewer, demand).get(period, "")
    de, en = _method(atlas, layer, ind, period, level, radius_m, projection)
    return Coverage(out, total, de, en)


def _capacity(areas: pd.DataFrame, points: pd.DataFrame, radius_m: float) -> dict[str, float]:
    """Capacity per area: facilities located in it (or within `radius_m` of it)."""
    shapes = gpd.GeoSeries(shapely.from_wkb(areas["geometry"].values), crs="EPSG:4326").to_crs(METRIC_CRS)
    if radius_m:
        shapes = shapes.buffer(radius_m)
    where = gpd.GeoSeries(gpd.points_from_xy(points["lon"], points["lat"]), crs="EPSG:4326").to_crs(METRIC_CRS)
    tree = shapely.STRtree(shapes.values)
    point_idx, area_idx = tree.query(where.values, predicate="intersects")
    sums = pd.Series(points["capacity"].to_numpy()[point_idx]).groupby(areas["area_id"].to_numpy()[area_idx]).sum()
    return sums.to_dict()


def _method(atlas: Atlas, layer: str, ind, period: str, level: str, radius_m: float,
            projection: str = "") -> tuple[str, str]:
    """The method in words; a projected demand is named as such, so a planned gap never reads as a counted one."""
    counted = ind.numerator or ind.title_de
    where_de, where_en = "mit Standort im Gebiet", "located in the area"
    if radius_m:
        where_de = (f"mit Standort im Gebiet oder bis {radius_m:,.0f} m außerhalb (Einzugsbereich; eine "
                    "Einrichtung zählt für jedes Gebiet, das sie erreicht)").replace(",", ".")
        where_en = f"located in the area or within {radius_m:,.0f} m of it (catchment)"
    de = (f"Plätze der Einrichtungen „{layer}“ {where_de}, je 100 „{counted}“ ({period}, "
          f"{territory.label(atlas, level, 'de', plural=True)}). Wo die Zahl der Bedürftigen geheim gehalten ist, "
          "ist es auch die Versorgungsquote; Einrichtungen am Rand versorgen auch Nachbargebiete.")
    en = (f"Places of '{layer}' facilities {where_en}, per 100 '{ind.title_en}' people in need ({period}); "
          "suppressed where the count is suppressed.")
    if projection:
        de += (f" Der Bedarf für {period} ist eine {projection_label(projection, 'de')}, kein gezählter Wert; "
               "die Plätze sind der heutige Bestand.")
        en += (f" Demand for {period} is projected ({projection_label(projection, 'en')}), not a count; "
               "places are today's.")
    return de, en
