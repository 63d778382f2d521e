"""Pictures for reports: the map and the time series as PNG, SVG or PDF.

Drawn on the server with matplotlib from the same services and classes as
the web map, so a picture pasted into the education report shows exactly
what the viewer may see, with title, legend, scale bar and source line.
Maps are drawn in the official CRS (metres), so the scale bar is true.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import matplotlib
import numpy as np
import shapely
from matplotlib.figure import (
    Figure,  # the object API: no pyplot state, no display, thread-friendly
)
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from atlas.classify import (
    METHODS,
    MISSING_CLASS,
    SUPPRESSED_CLASS,
    SUPPRESSED_COLOR,
    legend_entries,
)
from atlas.formatting import format_number
from atlas.periods import period_label
from atlas.services import choropleth, queries
from atlas.services.boundaries import LEVEL_LABELS
from atlas.services.context import Atlas
from auth.permissions import Principal

PICTURE_FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
A4_LANDSCAPE = (11.69, 8.27)  # inches
_DPI = 150
_SERIES_STYLE = {"area": ("#0b5cad", "-", 2.5), "predecessor": ("#7f7f7f", "--", 1.5),
                 "stadtbezirk": ("#d95f02", "--", 1.5), "stadt": ("#4d4d4d", ":", 1.8)}


@dataclass(frozen=True)
class Picture:
    body: bytes
    mimetype: str
    filename: str


def _save(fig: Figure, fmt: str, title: str, dpi: int = _DPI) -> bytes:
    buf = io.BytesIO()
    meta = {"Title": title, "Creator": "Ortsatlas"} if fmt != "png" else {"Title": title, "Software": "Ortsatlas"}
    # SVG text stays text: searchable, editable in Inkscape, sharp at any size.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ortsatlas"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    return buf.getvalue()


def nice_length(extent_m: float) -> float:
    """The longest 1-2-5 × 10^n metres not over a fifth of the map width."""
    target = extent_m / 5
    power = 10 ** math.floor(math.log10(target))
    return max(m * power for m in (1, 2, 5) if m * power <= target)


def _scale_bar(ax, crs_is_metric: bool) -> None:
    if not crs_is_metric:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = nice_length(x1 - x0)
    left, bottom = x0 + (x1 - x0) * 0.04, y0 + (y1 - y0) * 0.04
    ax.plot([left, left + length], [bottom, bottom], color="black", linewidth=3, solid_capstyle="butt")
    label = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    ax.text(left + length / 2, bottom + (y1 - y0) * 0.015, label.replace(".", ","), ha="center", va="bottom",
            fontsize=9)
    ax.annotate("N", xy=(0.96, 0.95), xytext=(0.96, 0.87), xycoords="axes fraction", ha="center",
                fontsize=11, fontweight="bold", arrowprops={"arrowstyle": "-|>", "color": "black"})


def map_picture(atlas: Atlas, viewer: Principal, indicator_id: str, period: str | None, level: str,
                method: str, k: int, fmt: str, lang: str = "de") -> Picture | None:
    """None when the indicator is not visible or has no readable values at that period."""
    if period is None:
        periods = queries.periods(atlas, viewer, indicator_id)
        period = periods[-1] if periods else None
    table = queries.values(atlas, viewer, indicator_id, period, level) if period else None
    if table is None or table.rows.empty:
        return None
    return draw_map(atlas, table, method, k, fmt, lang)


def draw_map(atlas: Atlas, table: queries.ValueTable, method: str, k: int, fmt: str, lang: str = "de",
             dpi: int = _DPI) -> Picture:
    """Draw a value table (from the store, or an upload's preview) as an A4-landscape map."""
    ind, period, level = table.indicator, table.period, table.level
    rows, c = choropleth.classified(atlas, table, method, k)
    gdf = gpd.GeoDataFrame(rows.drop(columns="geometry"), geometry=shapely.from_wkb(rows["geometry"].values),
                           crs="EPSG:4326").to_crs(atlas.settings.official_crs)
    classes = np.asarray(c.classes)

    fig = Figure(figsize=A4_LANDSCAPE)
    ax = fig.add_axes((0.02, 0.09, 0.70, 0.78))
    ax.set_axis_off()
    ax.set_aspect("equal")
    ok = classes >= 0
    if ok.any():
        gdf[ok].plot(ax=ax, color=[c.colors[i] for i in classes[ok]], edgecolor="white", linewidth=0.5)
    if (classes == MISSING_CLASS).any():
        gdf[classes == MISSING_CLASS].plot(ax=ax, facecolor="white", edgecolor="#8c8c8c", linewidth=0.5,
                                           hatch="..")
    if (classes == SUPPRESSED_CLASS).any():
        gdf[classes == SUPPRESSED_CLASS].plot(ax=ax, facecolor=SUPPRESSED_COLOR, edgecolor="white",
                                              linewidth=0.5, hatch="//")
    _scale_bar(ax, gdf.crs.axis_info[0].unit_name in ("metre", "meter"))

    title = f"{ind.title(lang)}, {period_label(period)}"
    fig.text(0.02, 0.95, title, fontsize=17, fontweight="bold", va="top")
    fig.text(0.02, 0.905, f"{LEVEL_LABELS[level]} · {ind.unit}", fontsize=11, color="#444444", va="top")
    handles = []
    for e in legend_entries(c, ind.decimals, lang):
        if e["kind"] == "class":
            handles.append(Patch(facecolor=e["color"], edgecolor="#8c8c8c", label=f"{e['label']}  ({e['count']})"))
        elif e["count"]:
            hatch, face = ("//", SUPPRESSED_COLOR) if e["kind"] == "suppressed" else ("..", "white")
            handles.append(Patch(facecolor=face, edgecolor="#8c8c8c", hatch=hatch,
                                 label=f"{e['label']}  ({e['count']})"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.74, 0.86), frameon=False, fontsize=10,
               title=ind.unit, title_fontsize=11, alignment="left")
    sets = queries.boundary_sets(atlas).set_index("set_id")
    fig.text(0.02, 0.03, _source_line(atlas, ind, lang, f"{sets.loc[table.set_id, 'label']} · "
                                      f"{'Klassen' if lang == 'de' else 'Classes'}: {METHODS[method][lang == 'en']}, {c.k}"),
             fontsize=8, color="#444444", wrap=True)
    return Picture(_save(fig, fmt, title, dpi), PICTURE_FORMATS[fmt],
                   f"ortsatlas_karte_{ind.id}_{period}_{level}.{fmt}")


def _source_line(atlas: Atlas, ind, lang: str, extra: str) -> str:
    city = atlas.store.manifest().get("city", {}).get("name", "")
    de = lang == "de"
    return (f"{'Quelle' if de else 'Source'}: {ind.source} · {'Lizenz' if de else 'Licence'}: {ind.licence} · "
            f"{extra} · {'Stand' if de else 'Date'}: {date.today():%d.%m.%Y} · Ortsatlas {city}")


def chart_picture(atlas: Atlas, viewer: Principal, indicator_id: str, area_id: str, fmt: str,
                  lang: str = "de") -> Picture | None:
    """The explorer's time series (area, predecessor, Stadtbezirk, city); None if not visible."""
    ts = queries.timeseries(atlas, viewer, indicator_id, area_id)
    if ts is None or ts.empty or ts["value"].isna().all():
        return None
    ind = atlas.indicator_by_id[indicator_id]
    periods = sorted(ts["period"].unique())
    fig = Figure(figsize=(10, 5.2))
    ax = fig.add_axes((0.08, 0.2, 0.9, 0.64))
    for role in ("predecessor", "area", "stadtbezirk", "stadt"):
        part = ts[ts["role"] == role]
        if part.empty or part["value"].isna().all():
            continue
        series = part.set_index("period")["value"].reindex(periods)
        color, style, width = _SERIES_STYLE[role]
        name = part["name"].dropna().iloc[0]
        ax.plot(range(len(periods)), series.to_numpy(dtype=float), style, color=color, linewidth=width,
                marker="o", markersize=3, label=name)
    step = max(1, len(periods) // 10)
    ax.set_xticks(range(0, len(periods), step), [period_label(p) for p in periods[::step]], fontsize=9)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v, ind.decimals, lang)))
    ax.set_ylabel(ind.unit)
    ax.grid(axis="y", color="#dddddd")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, frameon=False, fontsize=9)
    area_name = ts.loc[ts["role"] == "area", "name"].dropna()
    title = f"{ind.title(lang)} – {area_name.iloc[0] if len(area_name) else area_id}"
    fig.text(0.02, 0.95, title, fontsize=14, fontweight="bold", va="top")
    fig.text(0.02, 0.02, _source_line(atlas, ind, lang, "Lücken = keine Daten oder geheim gehalten"
                                      if lang == "de" else "gaps = no data or suppressed"),
             fontsize=7, color="#444444")
    return Picture(_save(fig, fmt, title), PICTURE_FORMATS[fmt], f"ortsatlas_zeitreihe_{ind.id}_{area_id}.{fmt}")
