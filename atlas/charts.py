"""What a time-series chart shows, decided once for every way of drawing it.

The explorer (plotly, in the browser), the print view and the chart pictures
(matplotlib: PNG, SVG, PDF) all draw one `ChartSpec`: which lines, in which
order, colour and dash style, with which legend labels, where the gaps are,
and where the boundary set changed. Renderers only translate it into their
own vocabulary, so a picture pasted into a report shows what the explorer
showed, including the boundary-change marker.

Pure: the caller passes the time-series frame (`queries.timeseries`), the
rule that maps a period to its boundary set, the boundary sets' labels and
the store's levels (roles of ancestors are level ids: 'stadtbezirk' in a
city, 'bezirksregion', 'bezirk' … in Berlin).
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.catalog import Indicator
from atlas.formatting import format_values, gaps_note
from atlas.i18n import t
from atlas.periods import period_label

# (colour, dash, width in CSS pixels); dash is one of DASHES. The area stands out, its predecessors
# are grey, the whole territory dark and dotted, the levels between take the next style in turn.
AREA_STYLE = ("#0b5cad", "solid", 3)
PREDECESSOR_STYLE = ("#7f7f7f", "dash", 2)
TOP_STYLE = ("#4d4d4d", "dot", 2)
ANCESTOR_STYLES = (("#d95f02", "dash", 2), ("#7570b3", "dashdot", 2), ("#1b9e77", "dash", 2),
                   ("#e7298a", "dashdot", 2))
DASHES = ("solid", "dash", "dot", "dashdot")
MARKER_COLOR = "#b30000"  # boundary change
# A projection continues a line in the same colour with another dash, so it reads as the same series.
PROJECTED_DASH = {"solid": "dash", "dash": "dot", "dot": "dash", "dashdot": "dot"}
CURRENT_COLOR = "#0b5cad"  # the period shown on the map


@dataclass(frozen=True)
class Line:
    """One series: None in `values` is a gap (no data or suppressed, `texts` says which)."""
    role: str
    label: str
    color: str
    dash: str
    width: float
    values: tuple[float | None, ...]
    statuses: tuple[str, ...]
    texts: tuple[str, ...]
    projected: bool = False  # the projected continuation of a line (from its last observed value on)


@dataclass(frozen=True)
class BoundaryMarker:
    """A boundary-set change: drawn between `period` (the first in the new set) and the one before."""
    period: str
    x: float  # category position, half-way between the two periods
    label: str
    note: str


@dataclass(frozen=True)
class ChartSpec:
    title: str
    unit: str
    decimals: int
    periods: tuple[str, ...]
    period_labels: tuple[str, ...]
    lines: tuple[Line, ...]
    markers: tuple[BoundaryMarker, ...]
    gaps_note: str
    projection_note: str = ""  # "Gestrichelt ab 2026: Prognose (Hauptvariante 2025)." when the series has any


def _series_plan(ts: pd.DataFrame, levels: Sequence[tuple[str, str]],
                 lang: str) -> list[tuple[pd.DataFrame, tuple[str, str, float], str]]:
    """(rows, style, label prefix) per line, in drawing and legend order.

    Predecessors first (one line per predecessor area, oldest first), then
    the area, then its ancestors from the nearest level up to the whole
    territory (`levels`: (level id, label), base first, as the store
    declares them). An ancestor says which level it is ("Stadtbezirk
    Oststadt"); the area and the whole territory say only their name.
    """
    plan = []
    predecessors = ts[ts["role"] == "predecessor"]
    for _, part in sorted(predecessors.groupby(predecessors["area_id"].fillna(""), sort=False),
                          key=lambda item: (item[1]["period"].min(), item[0])):
        plan.append((part, PREDECESSOR_STYLE, f"{t('predecessor', lang)}: "))
    plan.append((ts[ts["role"] == "area"], AREA_STYLE, ""))
    order = [level_id for level_id, _ in levels]
    ancestors = [r for r in ts["role"].unique() if r not in ("area", "predecessor")]
    ancestors.sort(key=lambda r: (order.index(r) if r in order else len(order), r))
    labels = dict(levels)
    for role in ancestors:
        if order and role == order[-1]:
            plan.append((ts[ts["role"] == role], TOP_STYLE, ""))
            continue
        position = max(order.index(role) - 1, 0) if role in order else len(order)
        label = labels.get(role, role)
        plan.append((ts[ts["role"] == role], ANCESTOR_STYLES[position % len(ANCESTOR_STYLES)],
                     f"{label[:1].upper()}{label[1:]} "))
    return plan


def boundary_markers(periods: list[str], set_of: Callable[[str], str | None], sets: pd.DataFrame,
                     lang: str = "de") -> list[BoundaryMarker]:
    """One marker at the first period of each boundary set after the first one within the series.

    `sets` has the columns set_id, label, note (`queries.boundary_sets`); the
    marker says the year the new set starts and carries the set's note.
    """
    info = sets.set_index("set_id")
    ids = [set_of(p) for p in periods]
    markers = []
    for i in range(1, len(periods)):
        if ids[i] == ids[i - 1] or ids[i] not in info.index:
            continue
        row = info.loc[ids[i]]
        note = str(row.get("note") or "") or str(row.get("label") or "")
        markers.append(BoundaryMarker(periods[i], i - 0.5, f"{t('boundary_change', lang)} {periods[i][:4]}", note))
    return markers


def _line(part: pd.DataFrame, style: tuple[str, str, float], prefix: str, periods: list[str], decimals: int,
          lang: str) -> Line:
    role = part["role"].iloc[0]
    name = str(next(iter(part["name"].dropna()), None) or next(iter(part["area_id"].dropna()), role))
    # One value per period and line (a guard: reindexing on a repeated period would fail outright).
    part = part.drop_duplicates("period", keep="last").set_index("period").reindex(periods)
    values = part["value"].to_numpy(dtype=float, na_value=np.nan)
    statuses = part["status"].fillna("missing").to_numpy(dtype=object)
    statuses[np.isnan(values) & (statuses == "ok")] = "missing"
    color, dash, width = style
    return Line(role, prefix + name, color, dash, width,
                tuple(None if v != v else v for v in values.tolist()), tuple(statuses.tolist()),
                tuple(format_values(values, statuses, decimals, "", lang)))


def projection_label(variant: str, lang: str = "de") -> str:
    """'Prognose (Hauptvariante 2025)': how charts, map titles and the coverage name projected figures."""
    return t("projection", lang).format(variant=variant)


def _split_projected(line: Line, projected_at: list[bool], variants: str, lang: str) -> list[Line]:
    """The observed part of a line and its projected continuation (dashed), each only if it has a value.

    The continuation starts at the observed value before each projected run,
    so the dashed segment joins the solid one instead of floating beside it.
    """
    n = len(line.values)
    anchor = [not projected_at[i] and i + 1 < n and projected_at[i + 1] for i in range(n)]
    observed = tuple(None if projected_at[i] else v for i, v in enumerate(line.values))
    ahead = tuple(v if projected_at[i] or anchor[i] else None for i, v in enumerate(line.values))
    note = projection_label(variants, lang)
    texts = tuple(f"{x} · {note}" if projected_at[i] else x for i, x in enumerate(line.texts))
    out = []
    if any(v is not None for v in observed):
        out.append(dataclasses.replace(line, values=observed))
    if any(v is not None for i, v in enumerate(ahead) if projected_at[i]):
        out.append(dataclasses.replace(line, label=f"{line.label} – {note}", values=ahead, texts=texts,
                                       dash=PROJECTED_DASH.get(line.dash, "dash"), projected=True))
    return out


def projection_markers(periods: list[str], projected: Mapping[str, str], lang: str = "de") -> list[BoundaryMarker]:
    """One marker where each run of projected periods begins: the chart says where observation ends."""
    markers = []
    for i, period in enumerate(periods):
        if period in projected and (i == 0 or periods[i - 1] not in projected):
            label = projection_label(projected[period], lang)
            markers.append(BoundaryMarker(period, max(i - 0.5, 0.0), label,
                                          t("projection_note", lang).format(period=period_label(period, lang),
                                                                            label=label)))
    return markers


def timeseries_spec(ts: pd.DataFrame | None, ind: Indicator, set_of: Callable[[str], str | None],
                    sets: pd.DataFrame, levels: Sequence[tuple[str, str]], lang: str = "de",
                    area_id: str = "", projected: Mapping[str, str] | None = None) -> ChartSpec | None:
    """The chart of a `queries.timeseries` frame; None when there is no series at all.

    A role whose every value is a gap gets no line (nothing to draw, and an
    empty legend entry would suggest data that is not there). The title names
    the area, or its key when the series has no name for it. `projected`
    (`queries.projected_periods`: period → variant) splits each line into its
    observed part and a dashed projected continuation, with a marker and a
    note where the projection begins.
    """
    if ts is None or ts.empty:
        return None
    periods = sorted(ts["period"].unique())
    lines = [_line(part, style, prefix, periods, ind.decimals, lang)
             for part, style, prefix in _series_plan(ts, levels, lang)
             if not part.empty and not part["value"].isna().all()]
    area = ts.loc[ts["role"] == "area", "name"].dropna()
    area_name = area.iloc[0] if len(area) else area_id
    title = f"{ind.title(lang)} – {area_name}" if area_name else ind.title(lang)
    ahead = {p: v for p, v in (projected or {}).items() if p in periods}
    markers = boundary_markers(periods, set_of, sets, lang)
    note = ""
    if ahead:
        projected_at = [p in ahead for p in periods]
        variants = ", ".join(dict.fromkeys(ahead[p] for p in periods if p in ahead))
        lines = [part for line in lines for part in _split_projected(line, projected_at, variants, lang)]
        starts = projection_markers(periods, ahead, lang)
        markers += starts
        note = " ".join(m.note for m in starts)
    return ChartSpec(title, ind.unit_in(lang), ind.decimals, tuple(periods), tuple(period_label(p, lang) for p in periods),
                     tuple(lines), tuple(markers), gaps_note(lang), note)
