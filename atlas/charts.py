"""What a time-series chart shows, decided once for every way of drawing it.

The explorer (plotly, in the browser), the print view and the chart pictures
(matplotlib: PNG, SVG, PDF) all draw one `ChartSpec`: which lines, in which
order, colour and dash style, with which legend labels, where the gaps are,
and where the boundary set changed. Renderers only translate it into their
own vocabulary, so a picture pasted into a report shows what the explorer
showed, including the boundary-change marker.

Pure: the caller passes the time-series frame (`queries.timeseries`), the
rule that maps a period to its boundary set, and the boundary sets' labels.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.catalog import Indicator
from atlas.formatting import format_values, gaps_note
from atlas.i18n import t
from atlas.periods import period_label

# Drawing order (the last drawn lies on top) and the legend's order.
ROLES = ("predecessor", "area", "stadtbezirk", "stadt")
# role → (colour, dash, width in CSS pixels); dash is one of DASHES.
ROLE_STYLES: dict[str, tuple[str, str, float]] = {
    "area": ("#0b5cad", "solid", 3), "predecessor": ("#7f7f7f", "dash", 2),
    "stadtbezirk": ("#d95f02", "dash", 2), "stadt": ("#4d4d4d", "dot", 2),
}
DASHES = ("solid", "dash", "dot")
MARKER_COLOR = "#b30000"  # boundary change
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


def role_label(role: str, name: str, lang: str = "de") -> str:
    """The legend label: predecessors and Stadtbezirke say what they are, the area and city their name."""
    if role == "predecessor":
        return f"{t('predecessor', lang)}: {name}"
    if role == "stadtbezirk":
        return f"{t('district', lang)} {name}"
    return name


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


def _line(role: str, part: pd.DataFrame, periods: list[str], decimals: int, lang: str) -> Line:
    part = part.set_index("period").reindex(periods)
    values = part["value"].to_numpy(dtype=float, na_value=np.nan)
    statuses = part["status"].fillna("missing").to_numpy(dtype=object)
    statuses[np.isnan(values) & (statuses == "ok")] = "missing"
    color, dash, width = ROLE_STYLES[role]
    return Line(role, role_label(role, str(part["name"].dropna().iloc[0]), lang), color, dash, width,
                tuple(None if v != v else v for v in values.tolist()), tuple(statuses.tolist()),
                tuple(format_values(values, statuses, decimals, "", lang)))


def timeseries_spec(ts: pd.DataFrame | None, ind: Indicator, set_of: Callable[[str], str | None],
                    sets: pd.DataFrame, lang: str = "de", area_id: str = "") -> ChartSpec | None:
    """The chart of a `queries.timeseries` frame; None when there is no series at all.

    A role whose every value is a gap gets no line (nothing to draw, and an
    empty legend entry would suggest data that is not there). The title names
    the area, or its key when the series has no name for it.
    """
    if ts is None or ts.empty:
        return None
    periods = sorted(ts["period"].unique())
    lines = []
    for role in ROLES:
        part = ts[ts["role"] == role]
        if not part.empty and not part["value"].isna().all():
            lines.append(_line(role, part, periods, ind.decimals, lang))
    area = ts.loc[ts["role"] == "area", "name"].dropna()
    area_name = area.iloc[0] if len(area) else area_id
    title = f"{ind.title(lang)} – {area_name}" if area_name else ind.title(lang)
    return ChartSpec(title, ind.unit, ind.decimals, tuple(periods), tuple(period_label(p, lang) for p in periods),
                     tuple(lines),
                     tuple(boundary_markers(periods, set_of, sets, lang)), gaps_note(lang))
