"""Pictures for reports: the map and the time series as PNG, SVG or PDF.

Drawn on the server with matplotlib from the same services and classes as
the web map, so a picture pasted into the education report shows exactly
what the viewer may see, with title, legend, scale bar and source line.
Maps are drawn in the official CRS (metres), so the scale bar is true.
"""
from __future__ import annotations

import dataclasses
import functools
import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import shapely

from atlas import charts
from atlas.catalog import Indicator
from atlas.classify import (
    METHODS,
    MISSING_CLASS,
    SUPPRESSED_CLASS,
    SUPPRESSED_COLOR,
    legend_entries,
)
from atlas.formatting import format_number, format_values, gap_word, gaps_note
from atlas.i18n import t
from atlas.periods import period_label
from atlas.services import choropleth, comparison, notes, queries, territory
from atlas.services.context import Atlas
from auth.permissions import ANONYMOUS, Principal

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# matplotlib and geopandas are imported where a picture is drawn, not here: the explorer and the API use
# this module's titles, marks and chart specs on every request, and a worker that never draws a picture
# saves their ~1.7 s import and ~60 MB (issue 19). `Figure` is the object API: no pyplot state, no display,
# thread-friendly.

PICTURE_FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
A4_LANDSCAPE = (11.69, 8.27)  # inches
_DPI = 150
_LINESTYLES = {"solid": "-", "dash": "--", "dot": ":", "dashdot": "-."}  # charts.DASHES in matplotlib's words
_PT_PER_PX = 0.75  # chart specs give widths in CSS pixels (96 per inch), matplotlib in points (72)


@dataclass(frozen=True)
class Picture:
    body: bytes
    mimetype: str
    filename: str


def _save(fig: Figure, fmt: str, title: str, dpi: int = _DPI) -> bytes:
    import matplotlib

    buf = io.BytesIO()
    meta = {"Title": title, "Creator": "Ortsatlas"} if fmt != "png" else {"Title": title, "Software": "Ortsatlas"}
    # SVG text stays text: searchable, editable in Inkscape, sharp at any size.
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "ortsatlas"}):
        fig.savefig(buf, format=fmt, dpi=dpi, metadata=meta)
    return buf.getvalue()


# ------------------------------------------------------------------ marking non-public data
MARK_COLOR = "#a4262c"  # the profile's internal mark (assets/style.css .oa-mark-internal)


def marking(atlas: Atlas, ind: Indicator, lang: str = "de", unpublished: bool = False) -> str:
    """The mark non-public data carries on screen, in pictures and in exports; '' for public data.

    'nur für <Fachamt>' for a restricted indicator, 'intern' for an internal
    one, and for a public indicator 'intern – noch nicht veröffentlicht' when
    what is shown differs from what the public gets (`unpublished`: an
    internally released period or correction, or small numbers the public
    sees suppressed). A licence-restricted map must never look publishable.
    """
    if ind.visibility == "restricted":
        department = atlas.department_name(ind.department, lang)
        return t("ex_mark_restricted", lang).format(department=department)
    if ind.visibility != "public":
        return t("ex_mark_internal", lang)
    return t("ex_mark_unreleased", lang) if unpublished else ""


def differs_from_public(viewer: Principal, rows: Callable[[Principal], pd.DataFrame | None]) -> bool:
    """Whether the rows a viewer gets differ from the public's; `rows(principal)` reads them (None: not visible).

    Compared on what a reader sees (area, period, value, status), so a
    newer internal version of one cell, an internally released period and an
    unsuppressed small number all count; the public itself never differs
    (and is never asked twice).
    """
    if viewer.rights == ANONYMOUS.rights:
        return False
    mine = rows(viewer)
    if mine is None:
        return False
    theirs = rows(ANONYMOUS)
    return theirs is None or _visible_cells(mine) != _visible_cells(theirs)


def _visible_cells(rows: pd.DataFrame) -> set[tuple]:
    keys = [c for c in ("area_id", "period", "role") if c in rows.columns]
    values = rows["value"].astype(float).round(9)
    return {(*k, None if pd.isna(v) else float(v), s)
            for k, v, s in zip(rows[keys].itertuples(index=False, name=None), values, rows["status"])}


def public_view_mark(atlas: Atlas, viewer: Principal, ind: Indicator, period: str, level: str,
                     lang: str = "de") -> str:
    """The mark of one map view (indicator, period, level), for the explorer and the map picture."""
    def rows(who: Principal) -> pd.DataFrame | None:
        table = queries.values(atlas, who, ind.id, period, level)
        return None if table is None else table.rows
    return marking(atlas, ind, lang, ind.visibility == "public" and differs_from_public(viewer, rows))


def _stamp(fig: Figure, mark: str, lang: str) -> None:
    """The mark in the picture's top right corner, in white on red, with 'not for publication'."""
    if mark:
        fig.text(0.98, 0.995, f"{mark.upper()} · {t('ex_mark_note', lang)}", ha="right", va="top", fontsize=11,
                 fontweight="bold", color="white", bbox={"facecolor": MARK_COLOR, "edgecolor": MARK_COLOR,
                                                          "boxstyle": "square,pad=0.4"})


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
    mark = public_view_mark(atlas, viewer, table.indicator, period, level, lang)
    projection = queries.projected_periods(atlas, viewer, indicator_id).get(period, "")
    return draw_map(atlas, table, method, k, fmt, lang, mark=mark, projection=projection)


def map_title(atlas: Atlas, viewer: Principal, ind: Indicator, period: str, lang: str = "de") -> str:
    """The title of a map of one period; the explorer's map and the map picture say alike when it is projected."""
    return _map_title(ind, period, queries.projected_periods(atlas, viewer, ind.id).get(period, ""), lang)


def _map_title(ind: Indicator, period: str, projection: str, lang: str) -> str:
    """'Anteil unter 6, 2028 – Prognose (Hauptvariante 2025)': a projected period never passes for an observed one."""
    title = f"{ind.title(lang)}, {period_label(period)}"
    return f"{title} – {charts.projection_label(projection, lang)}" if projection else title


def legend_handles(entries: list[dict]) -> list:
    """A picture legend's swatches: each class with its count, then missing and suppressed areas if there are any
    (hatched, so a gap never reads as a colour of the scale), as the screen's legend shows them."""
    from matplotlib.patches import Patch

    handles = []
    for e in entries:
        if e["kind"] == "class":
            handles.append(Patch(facecolor=e["color"], edgecolor="#8c8c8c", label=f"{e['label']}  ({e['count']})"))
        elif e["count"]:
            hatch, face = ("//", SUPPRESSED_COLOR) if e["kind"] == "suppressed" else ("..", "white")
            handles.append(Patch(facecolor=face, edgecolor="#8c8c8c", hatch=hatch,
                                 label=f"{e['label']}  ({e['count']})"))
    return handles


def draw_map(atlas: Atlas, table: queries.ValueTable, method: str, k: int, fmt: str, lang: str = "de",
             dpi: int = _DPI, mark: str = "", projection: str = "") -> Picture:
    """Draw a value table (from the store, or an upload's preview) as an A4-landscape map.

    `mark` ('intern', 'nur für …', see `marking`) is stamped in the top right corner; `projection` (a
    projected period's variant) goes into the title and the legend's heading.
    """
    import geopandas as gpd
    from matplotlib.figure import Figure

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

    title = _map_title(ind, period, projection, lang)
    fig.text(0.02, 0.95, title, fontsize=17, fontweight="bold", va="top")
    unit = ind.unit_in(lang)
    fig.text(0.02, 0.905, f"{territory.label(atlas, level, lang)} · {unit}", fontsize=11, color="#444444",
             va="top")
    fig.legend(handles=legend_handles(legend_entries(c, ind.decimals, lang)), loc="upper left",
               bbox_to_anchor=(0.74, 0.86), frameon=False, fontsize=10,
               title=f"{unit} · {charts.projection_label(projection, lang)}" if projection else unit,
               title_fontsize=11, alignment="left")
    sets = queries.boundary_sets(atlas).set_index("set_id")
    fig.text(0.02, 0.03, _source_line(atlas, ind, lang, f"{sets.loc[table.set_id, 'label']} · "
                                      f"{'Klassen' if lang == 'de' else 'Classes'}: {METHODS[method][lang == 'en']}, {c.k}"),
             fontsize=8, color="#444444", wrap=True)
    _stamp(fig, mark, lang)
    return Picture(_save(fig, fmt, title, dpi), PICTURE_FORMATS[fmt],
                   f"ortsatlas_karte_{ind.id}_{period}_{level}.{fmt}")


def _source_line(atlas: Atlas, ind, lang: str, extra: str) -> str:
    city = atlas.store.manifest().get("city", {}).get("name", "")
    de = lang == "de"
    return (f"{'Quelle' if de else 'Source'}: {ind.source} · {'Lizenz' if de else 'Licence'}: {ind.licence} · "
            f"{extra} · {'Stand' if de else 'Date'}: {date.today():%d.%m.%Y} · Ortsatlas {city}")


def chart_spec(atlas: Atlas, viewer: Principal, indicator_id: str, area_id: str,
               lang: str = "de") -> charts.ChartSpec | None:
    """What the time series of one Ortsteil shows; the explorer's figure and `chart_picture` both draw it.

    None when the indicator is not visible to the viewer or there is no series.
    """
    ts = queries.timeseries(atlas, viewer, indicator_id, area_id)
    if ts is None or ts.empty:
        return None
    levels = [(level.id, level.label(lang)) for level in territory.levels(atlas)]
    spec = charts.timeseries_spec(ts, atlas.indicator_by_id[indicator_id],
                                  functools.partial(queries.set_for_period, atlas), queries.boundary_sets(atlas),
                                  levels, lang, area_id if isinstance(area_id, str) else "",
                                  queries.projected_periods(atlas, viewer, indicator_id))
    return dataclasses.replace(spec, markers=spec.markers + note_markers(atlas, viewer, indicator_id, area_id,
                                                                         spec.periods, lang))


def note_markers(atlas: Atlas, viewer: Principal, indicator_id: str, area_id: str, periods: tuple[str, ...],
                 lang: str) -> tuple[charts.BoundaryMarker, ...]:
    """Interpretation notes on a period (of this area, or of every area) as markers on the time series."""
    found = notes.visible(atlas, viewer, indicator_id, area_id if isinstance(area_id, str) else None) or []
    label = "Hinweis" if lang == "de" else "Note"
    return tuple(charts.BoundaryMarker(n["period"], float(periods.index(n["period"])), label, n["text"])
                 for n in found if n["period"] in periods)


def chart_picture(atlas: Atlas, viewer: Principal, indicator_id: str, area_id: str, fmt: str,
                  lang: str = "de") -> Picture | None:
    """The explorer's time series (area, predecessor, Stadtbezirk, city); None if not visible."""
    spec = chart_spec(atlas, viewer, indicator_id, area_id, lang)
    if spec is None or not spec.lines:
        return None
    ind = atlas.indicator_by_id[indicator_id]
    fig = draw_chart(spec, lang)
    remarks = " · ".join(f"{m.label}: {m.note}" for m in spec.markers if m.note)
    if remarks:
        fig.text(0.02, 0.045, remarks, fontsize=7, color=charts.MARKER_COLOR)
    fig.text(0.02, 0.02, _source_line(atlas, ind, lang, spec.gaps_note.rstrip(".")), fontsize=7, color="#444444")
    unpublished = ind.visibility == "public" and differs_from_public(
        viewer, lambda who: queries.timeseries(atlas, who, indicator_id, area_id))
    _stamp(fig, marking(atlas, ind, lang, unpublished), lang)
    return Picture(_save(fig, fmt, spec.title), PICTURE_FORMATS[fmt], f"ortsatlas_zeitreihe_{ind.id}_{area_id}.{fmt}")


def draw_chart(spec: charts.ChartSpec, lang: str = "de") -> Figure:
    """A chart spec in matplotlib: the lines with their gaps, legend, unit, boundary-change markers."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter
    from matplotlib.transforms import blended_transform_factory

    fig = Figure(figsize=(10, 5.2))
    ax = fig.add_axes((0.08, 0.22, 0.9, 0.62))
    x = np.arange(len(spec.periods))
    for line in spec.lines:
        values = np.array([np.nan if v is None else v for v in line.values], dtype=float)
        ax.plot(x, values, _LINESTYLES[line.dash], color=line.color, linewidth=line.width * _PT_PER_PX,
                marker="o", markersize=3, label=line.label)
    top = blended_transform_factory(ax.transData, ax.transAxes)  # x in periods, y in axes height
    for marker in spec.markers:
        ax.axvline(marker.x, color=charts.MARKER_COLOR, linestyle=":", linewidth=1)
        ax.text(marker.x, 1.0, f" {marker.label}", transform=top, color=charts.MARKER_COLOR, fontsize=9,
                ha="left", va="bottom")
    step = max(1, len(spec.periods) // 10)
    ax.set_xticks(x[::step], list(spec.period_labels[::step]), fontsize=9)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: format_number(v, spec.decimals, lang)))
    ax.set_ylabel(spec.unit)
    ax.grid(axis="y", color="#dddddd")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4, frameon=False, fontsize=9)
    fig.text(0.02, 0.95, spec.title, fontsize=14, fontweight="bold", va="top")
    return fig


# ------------------------------------------------------------------ the bivariate map (issue 14)
def bivariate_picture(atlas: Atlas, viewer: Principal, x_id: str, y_id: str, period: str | None, level: str,
                      fmt: str, lang: str = "de") -> Picture | None:
    """The compare page's bivariate map as a picture: 3×3 colours, the 3×3 legend in words, gaps, sources.

    From `comparison.bivariate`, so it classes exactly the areas the page
    does; None when either indicator is not visible (or has no values).
    """
    found = comparison.bivariate(atlas, viewer, x_id, y_id, period, level, lang)
    if found is None or found.set_id is None:
        return None
    import geopandas as gpd
    from matplotlib.figure import Figure

    rel, rows = found.relation, found.rows
    geo = queries.areas(atlas, rel.level, found.set_id)[["area_id", "geometry"]].merge(rows, on="area_id")
    gdf = gpd.GeoDataFrame(geo.drop(columns="geometry"), geometry=shapely.from_wkb(geo["geometry"].values),
                           crs="EPSG:4326").to_crs(atlas.settings.official_crs)
    fig = Figure(figsize=A4_LANDSCAPE)
    ax = fig.add_axes((0.02, 0.09, 0.66, 0.78))
    ax.set_axis_off()
    ax.set_aspect("equal")
    ok = (gdf["x_class"] >= 0).to_numpy()
    if ok.any():
        gdf[ok].plot(ax=ax, color=[comparison.BIVARIATE_COLORS[int(cy)][int(cx)]
                                   for cx, cy in zip(gdf.loc[ok, "x_class"], gdf.loc[ok, "y_class"])],
                     edgecolor="white", linewidth=0.5)
    for status, face, edge, hatch in (("missing", "white", "#8c8c8c", ".."),
                                      ("suppressed", SUPPRESSED_COLOR, "white", "//")):
        part = (gdf["status"] == status).to_numpy()
        if part.any():  # as draw_map: a hatch takes the edge colour
            gdf[part].plot(ax=ax, facecolor=face, edgecolor=edge, linewidth=0.5, hatch=hatch)
    _scale_bar(ax, gdf.crs.axis_info[0].unit_name in ("metre", "meter"))
    title = f"{rel.x.title(lang)} × {rel.y.title(lang)}"
    fig.text(0.02, 0.95, title, fontsize=17, fontweight="bold", va="top")
    fig.text(0.02, 0.905, f"{territory.label(atlas, rel.level, lang)} · {period_label(rel.period_x)} / "
                          f"{period_label(rel.period_y)}", fontsize=11, color="#444444", va="top")
    _bivariate_key(fig, found, lang)
    fig.text(0.02, 0.03, _source_line(atlas, rel.x, lang, f"{rel.y.source} · "
                                      f"{'Klassen: Terzile' if lang == 'de' else 'Classes: terciles'}"),
             fontsize=8, color="#444444", wrap=True)
    marks = [public_view_mark(atlas, viewer, ind, p, rel.level, lang)
             for ind, p in ((rel.x, rel.period_x), (rel.y, rel.period_y))]
    _stamp(fig, next((m for m in marks if m), ""), lang)
    return Picture(_save(fig, fmt, title), PICTURE_FORMATS[fmt],
                   f"ortsatlas_bivariat_{rel.x.id}_{rel.y.id}_{rel.level}.{fmt}")


def _bivariate_key(fig: Figure, found, lang: str) -> None:
    """The 3×3 legend: x low → high across, y low → high up, the count in each cell; then the gaps."""
    from matplotlib.patches import Patch, Rectangle

    rel, rows = found.relation, found.rows
    words = comparison.TERCILE_WORDS["en" if lang == "en" else "de"]
    key = fig.add_axes((0.76, 0.50, 0.18, 0.26))
    for cy in range(3):
        for cx in range(3):
            n = int(((rows["x_class"] == cx) & (rows["y_class"] == cy)).sum())
            key.add_patch(Rectangle((cx, cy), 1, 1, facecolor=comparison.BIVARIATE_COLORS[cy][cx],
                                                       edgecolor="white"))
            key.text(cx + 0.5, cy + 0.5, str(n), ha="center", va="center", fontsize=9)
    key.set_xlim(0, 3)
    key.set_ylim(0, 3)
    key.set_xticks([0.5, 1.5, 2.5], words, fontsize=8)
    key.set_yticks([0.5, 1.5, 2.5], words, fontsize=8)
    key.set_xlabel(f"{rel.x.title(lang)} →", fontsize=9)
    key.set_ylabel(f"{rel.y.title(lang)} →", fontsize=9)
    key.tick_params(length=0)
    for spine in key.spines.values():
        spine.set_visible(False)
    handles = [Patch(facecolor=face, edgecolor="#8c8c8c", hatch=hatch,
                     label=f"{gap_word(status, lang)}  ({int((rows['status'] == status).sum())})")
               for status, face, hatch in (("missing", "white", ".."), ("suppressed", SUPPRESSED_COLOR, "//"))]
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.74, 0.40), frameon=False, fontsize=10)


# ------------------------------------------------------------------ the compare page's other views (issue 14)
# One colour per chosen area (Okabe–Ito: distinguishable with every common colour-vision deficiency); parents grey.
AREA_COLORS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
PARENT_STYLE = ("#7f7f7f", "dash", 2)


def views_mark(atlas: Atlas, viewer: Principal, views: list[tuple[Indicator, str]], level: str, lang: str) -> str:
    """The mark of a picture built from several (indicator, period) views: the first that has one."""
    return next((m for m in (public_view_mark(atlas, viewer, ind, p, level, lang) for ind, p in views) if m), "")


def _official(atlas: Atlas, frame: pd.DataFrame):
    """Rows with WKB `geometry` as a GeoDataFrame in the official CRS (metres, so the scale bar is true)."""
    import geopandas as gpd
    return gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=shapely.from_wkb(frame["geometry"].values),
                            crs="EPSG:4326").to_crs(atlas.settings.official_crs)


def change_picture(atlas: Atlas, viewer: Principal, indicator_id: str, period_from: str, period_to: str,
                   level: str | None, fmt: str, lang: str = "de") -> Picture | None:
    """The change map as the page shows it (`comparison.change_classes`): None when not visible or no map.

    A period the viewer may not read raises ValueError, as `comparison.change` does.
    """
    table = comparison.change(atlas, viewer, indicator_id, period_from, period_to, level)
    if table is None or table.set_id is None:
        return None
    from matplotlib.figure import Figure

    c = comparison.change_classes(table, 5, lang)
    rows = table.rows.assign(cls=c.classes)
    geo = queries.areas(atlas, table.level, table.set_id)[["area_id", "geometry"]].merge(
        rows[["area_id", "cls"]], on="area_id")
    gdf = _official(atlas, geo)
    fig = Figure(figsize=A4_LANDSCAPE)
    ax = fig.add_axes((0.02, 0.09, 0.70, 0.78))
    ax.set_axis_off()
    ax.set_aspect("equal")
    cls = gdf["cls"].to_numpy()
    ok = cls >= 0
    if ok.any():
        gdf[ok].plot(ax=ax, color=[c.colors[i] for i in cls[ok]], edgecolor="white", linewidth=0.5)
    for code, face, edge, hatch in ((-1, "white", "#8c8c8c", ".."), (-2, SUPPRESSED_COLOR, "white", "//")):
        if (cls == code).any():
            gdf[cls == code].plot(ax=ax, facecolor=face, edgecolor=edge, linewidth=0.5, hatch=hatch)
    _scale_bar(ax, gdf.crs.axis_info[0].unit_name in ("metre", "meter"))
    ind = table.indicator
    title = f"{ind.title(lang)}: {period_label(table.period_from)} → {period_label(table.period_to)}"
    fig.text(0.02, 0.95, title, fontsize=17, fontweight="bold", va="top")
    fig.text(0.02, 0.905, f"{territory.label(atlas, table.level, lang)} · "
                          f"{t('cmp_change_col', lang)} ({comparison.change_unit(table, lang)})",
             fontsize=11, color="#444444", va="top")
    fig.legend(handles=legend_handles(c.legend), loc="upper left", bbox_to_anchor=(0.74, 0.86), frameon=False,
               fontsize=10,
               title=comparison.change_unit(table, lang), title_fontsize=11, alignment="left")
    fig.text(0.02, 0.03, _source_line(atlas, ind, lang, t("ex_change_classes", lang)), fontsize=8, color="#444444",
             wrap=True)
    _stamp(fig, views_mark(atlas, viewer, [(ind, table.period_from), (ind, table.period_to)], table.level, lang),
           lang)
    return Picture(_save(fig, fmt, title), PICTURE_FORMATS[fmt],
                   f"ortsatlas_veraenderung_{ind.id}_{table.period_from}_{table.period_to}_{table.level}.{fmt}")


def relation_picture(atlas: Atlas, viewer: Principal, x_id: str, y_id: str, period: str | None,
                     level: str | None, fmt: str, lang: str = "de") -> Picture | None:
    """The scatter of two indicators with its least-squares line, r, ρ, n and how many areas were left out.

    From `comparison.relation`, so only areas 'ok' in both are points: a
    suppressed value is never drawn. None when either indicator is not visible.
    """
    found = comparison.relation(atlas, viewer, x_id, y_id, period, level)
    if found is None:
        return None
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    fig = Figure(figsize=(10, 7))
    ax = fig.add_axes((0.1, 0.17, 0.86, 0.66))
    p = found.points
    ax.scatter(p["x"], p["y"], s=28, color="#0072b2", edgecolors="white", linewidths=0.6, zorder=3)
    if found.slope is not None:
        xs = np.array([float(p["x"].min()), float(p["x"].max())])
        ax.plot(xs, found.intercept + found.slope * xs, "--", color="#d55e00", linewidth=1.5,
                label=t("cmp_regression", lang))
        ax.legend(loc="best", frameon=False, fontsize=9)
    for axis, ind in ((ax.xaxis, found.x), (ax.yaxis, found.y)):
        axis.set_major_formatter(FuncFormatter(lambda v, _, d=ind.decimals: format_number(v, d, lang)))
    ax.set_xlabel(f"{found.x.title(lang)} ({found.x.unit_in(lang)}), {period_label(found.period_x, lang)}")
    ax.set_ylabel(f"{found.y.title(lang)} ({found.y.unit_in(lang)}), {period_label(found.period_y, lang)}")
    ax.grid(color="#dddddd")
    ax.spines[["top", "right"]].set_visible(False)
    title = f"{found.x.title(lang)} × {found.y.title(lang)}"
    fig.text(0.02, 0.97, title, fontsize=14, fontweight="bold", va="top")
    fig.text(0.02, 0.925, _relation_line(atlas, found, lang), fontsize=10, color="#444444", va="top")
    fig.text(0.02, 0.045, t("cmp_correlation_note", lang), fontsize=8, color="#444444")  # no ecological fallacy
    fig.text(0.02, 0.02, _source_line(atlas, found.x, lang, found.y.source), fontsize=7, color="#444444", wrap=True)
    _stamp(fig, views_mark(atlas, viewer, [(found.x, found.period_x), (found.y, found.period_y)], found.level,
                            lang), lang)
    return Picture(_save(fig, fmt, title), PICTURE_FORMATS[fmt],
                   f"ortsatlas_streudiagramm_{found.x.id}_{found.y.id}_{found.level}.{fmt}")


def _relation_line(atlas: Atlas, found: comparison.Relation, lang: str) -> str:
    """'Ortsteile · Pearson r = 0,62 · Spearman ρ = 0,58 · n = 40 · ausgelassen: 3 (geheim gehalten 2, …)'."""
    level = territory.label(atlas, found.level, lang, plural=True)
    parts = [level[:1].upper() + level[1:]]
    if found.pearson is None:
        parts.append(t("cmp_too_few", lang).rstrip("."))
    else:
        parts += [f"Pearson r = {format_number(found.pearson, 2, lang)}",
                  f"Spearman ρ = {format_number(found.spearman, 2, lang)}"]
    parts.append(f"n = {found.n}")
    left = found.left_out
    if len(left):
        suppressed = int(((left["x_status"] == "suppressed") | (left["y_status"] == "suppressed")).sum())
        parts.append(f"{t('ex_left_out', lang)}: {len(left)} ({gap_word('suppressed', lang)} "
                     f"{suppressed}, {gap_word('missing', lang)} {len(left) - suppressed})")
    return " · ".join(parts)


def compare_series_spec(atlas: Atlas, series: pd.DataFrame | None, indicator_id: str | None,
                        lang: str = "de") -> charts.ChartSpec | None:
    """The compare page's chart: a line per chosen area (colour), their parents (grey, dashed), the territory.

    `series` is `comparison.compare_series`; the page's figure and `compare_chart_picture` both draw this.
    Lines in the order their first row appears (areas coloured in that order), one value per period (the
    last row of a period wins), a period without a row or an 'ok' without a value 'missing', and a withheld
    value never drawn. Built from the frame's columns in one pass (a pandas group, deduplication and
    reindex per line was ~25 ms of the compare page's click).
    """
    if series is None or series.empty or not indicator_id:
        return None
    ind = atlas.indicator_by_id[indicator_id]
    periods = sorted(series["period"].unique())
    lines, n_area = [], 0
    for role, area_id, name, values, statuses in _series_lines(series, periods):
        if role == "area":
            style, n_area = (AREA_COLORS[n_area % len(AREA_COLORS)], "solid", 3), n_area + 1
        else:
            style = PARENT_STYLE if role == "parent" else charts.TOP_STYLE
        if np.isnan(values).all():
            continue
        lines.append(charts.Line(role, name if name is not None else area_id, *style,
                                 tuple(None if v != v else v for v in values.tolist()), tuple(statuses.tolist()),
                                 tuple(format_values(values, statuses, ind.decimals, "", lang))))
    markers = charts.boundary_markers(periods, functools.partial(queries.set_for_period, atlas),
                                      queries.boundary_sets(atlas), lang)
    return charts.ChartSpec(ind.title(lang), ind.unit_in(lang), ind.decimals, tuple(periods),
                            tuple(period_label(p, lang) for p in periods), tuple(lines), tuple(markers),
                            gaps_note(lang))


def _series_lines(series: pd.DataFrame, periods: list[str]) -> list[tuple]:
    """(role, area key, name, values, statuses) per (role, area key) of `series`, in order of first appearance.

    `values` (float, NaN for a gap) and `statuses` (object) are aligned with `periods`; a period's last row
    wins; a missing status or period is 'missing', an 'ok' without a value too, and only 'ok' keeps its
    value. `name` is the first known name in period order (None if there is none).
    """
    slot = {p: i for i, p in enumerate(periods)}
    value = series["value"].to_numpy(dtype=float, na_value=np.nan)
    columns = (series[c].tolist() for c in ("role", "area_id", "period", "status", "name"))
    found: dict[tuple, tuple[np.ndarray, np.ndarray, list]] = {}
    for i, (role, area_id, period, status, name) in enumerate(zip(*columns)):
        line = found.get((role, area_id))
        if line is None:
            line = found[(role, area_id)] = (np.full(len(periods), np.nan),
                                             np.full(len(periods), "missing", dtype=object), [None] * len(periods))
        at = slot[period]
        line[0][at] = value[i]
        line[1][at] = "missing" if status is None or pd.isna(status) else status
        line[2][at] = None if name is None or pd.isna(name) else str(name)
    out = []
    for (role, area_id), (values, statuses, names) in found.items():
        statuses[np.isnan(values) & (statuses == "ok")] = "missing"
        values[statuses != "ok"] = np.nan  # a withheld value is never drawn
        out.append((role, area_id, next((n for n in names if n is not None), None), values, statuses))
    return out


def compare_chart_picture(atlas: Atlas, viewer: Principal, area_keys: list, indicator_id: str, fmt: str,
                          lang: str = "de") -> Picture | None:
    """The compare page's time series of the chosen areas as a picture; None if not visible or nothing to draw."""
    series = comparison.compare_series(atlas, viewer, area_keys, indicator_id)
    spec = compare_series_spec(atlas, series, indicator_id, lang)
    if spec is None or not spec.lines:
        return None
    ind = atlas.indicator_by_id[indicator_id]
    fig = draw_chart(spec, lang)
    fig.text(0.02, 0.02, _source_line(atlas, ind, lang, spec.gaps_note.rstrip(".")), fontsize=7, color="#444444")
    unpublished = ind.visibility == "public" and differs_from_public(
        viewer, lambda who: comparison.compare_series(atlas, who, area_keys, indicator_id))
    _stamp(fig, marking(atlas, ind, lang, unpublished), lang)
    keys = "_".join(a.area_id for a in comparison.resolve_areas(atlas, area_keys))
    return Picture(_save(fig, fmt, spec.title), PICTURE_FORMATS[fmt], f"ortsatlas_vergleich_{ind.id}_{keys}.{fmt}")
