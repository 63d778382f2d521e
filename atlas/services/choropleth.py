"""The choropleth service: what the map needs for one indicator, period and classing.

Geometry travels once per boundary set; a switch of
indicator, period or classing sends only this payload: arrays aligned with
the features' `i` property (class per area, display label per area), the
colours and the legend. For 1,000 areas that is a few kilobytes.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from atlas.classify import (
    MISSING_COLOR,
    SUPPRESSED_COLOR,
    Classification,
    classify,
    legend_entries,
)
from atlas.formatting import format_values
from atlas.services import queries, territory
from atlas.services.boundaries import feature_collection
from atlas.services.context import Atlas
from auth.permissions import Principal


def geometry(atlas: Atlas, set_id: str, level: str | None = None) -> dict:
    """Map geometry of a boundary set (simplified ~1 m), built once per store generation."""
    level = level or territory.base_level(atlas)
    return atlas.cached(("map_geometry", set_id, level),
                        lambda: feature_collection(queries.areas(atlas, level, set_id), simplify=0.00001))


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
    values = [None if pd.isna(v) else float(v) for v in rows["value"]]
    ind = table.indicator
    return rows, classify(values, rows["status"].tolist(), method, k, ind.polarity, ind.diverging)


def map_view(atlas: Atlas, viewer: Principal, indicator_id: str, period: str, method: str, k: int,
             selected: str | None = None, lang: str = "de", level: str | None = None) -> MapView | None:
    """None when the indicator is not visible to the viewer (or does not exist).

    `level`: one of the store's levels (default: the base level). Remembered
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
    table = queries.values(atlas, viewer, indicator_id, period, level)
    if table is None or table.set_id is None:
        return None
    ind = table.indicator
    rows, c = classified(atlas, table, method, k)
    labels = format_values(rows["value"].to_numpy(dtype=float, na_value=np.nan),
                           rows["status"].to_numpy(dtype=object), ind.decimals, ind.unit, lang)
    hideout = {"cls": c.classes, "col": c.colors, "lab": labels, "sel": None,
               "mc": MISSING_COLOR, "sc": SUPPRESSED_COLOR}
    return MapView(table.set_id, hideout, legend_entries(c, ind.decimals, lang), rows["area_id"].tolist())
