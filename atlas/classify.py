"""Class breaks and colours for choropleth maps.

Missing and suppressed values are removed before classifying (mapclassify
would otherwise put NaN into the lowest class or return nonsense breaks), and
get their own legend entries in colours that belong to no scheme. `k` shrinks
when there are fewer distinct values than classes.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from atlas.formatting import format_number, gap_word

METHODS = {
    "quantiles": ("Quantile", "Quantiles"),
    "natural_breaks": ("Natürliche Unterbrechungen (Jenks)", "Natural breaks (Jenks)"),
    "equal_interval": ("Gleiche Intervalle", "Equal interval"),
}
K_RANGE = (3, 7)
MISSING_CLASS, SUPPRESSED_CLASS = -1, -2
MISSING_COLOR, SUPPRESSED_COLOR = "#ffffff", "#8c8c8c"

# ColorBrewer (Cynthia Brewer, colorbrewer2.org), colour-blind-safe schemes, 3–7 classes.
SCHEMES: dict[str, dict[int, list[str]]] = {
    "YlGnBu": {
        3: ["#edf8b1", "#7fcdbb", "#2c7fb8"],
        4: ["#ffffcc", "#a1dab4", "#41b6c4", "#225ea8"],
        5: ["#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494"],
        6: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#2c7fb8", "#253494"],
        7: ["#ffffcc", "#c7e9b4", "#7fcdbb", "#41b6c4", "#1d91c0", "#225ea8", "#0c2c84"],
    },
    "OrRd": {
        3: ["#fee8c8", "#fdbb84", "#e34a33"],
        4: ["#fef0d9", "#fdcc8a", "#fc8d59", "#d7301f"],
        5: ["#fef0d9", "#fdcc8a", "#fc8d59", "#e34a33", "#b30000"],
        6: ["#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#e34a33", "#b30000"],
        7: ["#fef0d9", "#fdd49e", "#fdbb84", "#fc8d59", "#ef6548", "#d7301f", "#990000"],
    },
    "Purples": {
        3: ["#efedf5", "#bcbddc", "#756bb1"],
        4: ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#6a51a3"],
        5: ["#f2f0f7", "#cbc9e2", "#9e9ac8", "#756bb1", "#54278f"],
        6: ["#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#756bb1", "#54278f"],
        7: ["#f2f0f7", "#dadaeb", "#bcbddc", "#9e9ac8", "#807dba", "#6a51a3", "#4a1486"],
    },
    "RdYlBu": {
        3: ["#fc8d59", "#ffffbf", "#91bfdb"],
        4: ["#d7191c", "#fdae61", "#abd9e9", "#2c7bb6"],
        5: ["#d7191c", "#fdae61", "#ffffbf", "#abd9e9", "#2c7bb6"],
        6: ["#d73027", "#fc8d59", "#fee090", "#e0f3f8", "#91bfdb", "#4575b4"],
        7: ["#d73027", "#fc8d59", "#fee090", "#ffffbf", "#e0f3f8", "#91bfdb", "#4575b4"],
    },
    "PuOr": {
        3: ["#f1a340", "#f7f7f7", "#998ec3"],
        4: ["#e66101", "#fdb863", "#b2abd2", "#5e3c99"],
        5: ["#e66101", "#fdb863", "#f7f7f7", "#b2abd2", "#5e3c99"],
        6: ["#b35806", "#f1a340", "#fee0b6", "#d8daeb", "#998ec3", "#542788"],
        7: ["#b35806", "#f1a340", "#fee0b6", "#f7f7f7", "#d8daeb", "#998ec3", "#542788"],
    },
}


def classing(method, k, default: tuple[str, int] = ("quantiles", 5)) -> tuple[str, int]:
    """Method and class count from untrusted input (URL, API, a hand-made POST)."""
    method = method if isinstance(method, str) and method in METHODS else default[0]
    try:
        k = min(max(int(k), K_RANGE[0]), K_RANGE[1])
    except (TypeError, ValueError):
        k = default[1]
    return method, k


def scheme_for(polarity: str, diverging: bool) -> tuple[str, bool]:
    """(scheme name, reversed?) so that the 'bad' end is always the warm, intense one."""
    if diverging:
        if polarity == "neutral":
            return "PuOr", False
        return "RdYlBu", polarity == "high_bad"  # red on the bad side
    return {"high_bad": ("OrRd", False), "high_good": ("YlGnBu", False)}.get(polarity, ("Purples", False))


def colors_for(polarity: str, diverging: bool, k: int) -> list[str]:
    name, reverse = scheme_for(polarity, diverging)
    palette = SCHEMES[name][max(3, min(7, k))]
    if k < 3:  # fewer distinct values than the smallest scheme: take its ends
        palette = [palette[0], palette[-1]][:k] if k == 2 else [palette[1]]
    return palette[::-1] if reverse else list(palette)


@dataclass
class Classification:
    method: str
    k: int
    breaks: list[float]  # upper bound of each class
    colors: list[str]
    classes: list[int]  # per input value: class index, MISSING_CLASS or SUPPRESSED_CLASS
    minimum: float | None = None
    counts: list[int] = field(default_factory=list)
    n_missing: int = 0
    n_suppressed: int = 0


def _breaks(values: np.ndarray, method: str, k: int) -> list[float]:
    if method == "quantiles":
        bins = _quantile_bins(values, k)
    elif method == "natural_breaks":
        # Imported here: mapclassify brings scikit-learn, SciPy and numba (~240 MB per process),
        # which a worker that never draws natural breaks does not need.
        import mapclassify
        bins = mapclassify.FisherJenks(values, k=k).bins
    elif method == "equal_interval":
        bins = _equal_interval_bins(values, k)
    else:
        raise ValueError(f"unknown classification method {method!r}; expected one of {list(METHODS)}")
    bins = np.unique(np.asarray(bins, dtype=float))  # ties can repeat a quantile
    bins[-1] = max(bins[-1], values.max())
    return bins.tolist()


def _quantile_bins(y: np.ndarray, k: int) -> np.ndarray:
    """mapclassify.Quantiles' bins, the same arithmetic (SciPy's `scoreatpercentile`) without importing it."""
    w = 100.0 / k
    p = np.arange(w, 100 + w, w)
    if p[-1] > 100.0:
        p[-1] = 100.0
    ordered = np.sort(np.asarray(y, dtype=float))
    q = []
    for pct in p:
        idx = pct / 100.0 * (ordered.size - 1)
        i = int(idx)
        if i == idx:
            q.append(ordered[i])
        else:
            weights = np.array([(i + 1 - idx), (idx - i)], float)
            q.append(np.add.reduce(ordered[i:i + 2] * weights) / weights.sum())
    return np.unique(np.array(q))


def _equal_interval_bins(y: np.ndarray, k: int) -> np.ndarray:
    """mapclassify.EqualInterval's bins, the same arithmetic without importing it."""
    max_y, min_y = max(y), min(y)
    width = (max_y - min_y) * 1.0 / k
    cuts = np.arange(min_y + width, max_y + width, width)
    if len(cuts) > k:  # overshooting
        cuts = cuts[0:k]
    cuts[-1] = max_y
    return cuts.copy()


def classify(values: list[float | None] | np.ndarray, statuses: list[str] | np.ndarray, method: str, k: int,
             polarity: str = "neutral", diverging: bool = False) -> Classification:
    """Classify the 'ok' values; missing and suppressed get their own classes."""
    vals = np.array(values, dtype=float)  # None becomes NaN; an array of 11,000 values is not walked in Python
    status = np.asarray(statuses, dtype=object)
    usable = (status == "ok") & ~np.isnan(vals)
    k = max(K_RANGE[0], min(K_RANGE[1], int(k)))
    data = vals[usable]
    classes = np.full(len(vals), MISSING_CLASS, dtype=int)
    classes[status == "suppressed"] = SUPPRESSED_CLASS
    breaks: list[float] = []
    if data.size:
        distinct = np.unique(data)
        k_eff = min(k, distinct.size)
        breaks = distinct.tolist() if k_eff == distinct.size else _breaks(data, method, k_eff)
        classes[usable] = np.minimum(np.searchsorted(np.array(breaks), data, side="left"), len(breaks) - 1)
    counts = [int((classes == i).sum()) for i in range(len(breaks))]
    return Classification(
        method=method, k=len(breaks), breaks=breaks, colors=colors_for(polarity, diverging, len(breaks)),
        classes=classes.tolist(), minimum=float(data.min()) if data.size else None, counts=counts,
        n_missing=int((classes == MISSING_CLASS).sum()), n_suppressed=int((classes == SUPPRESSED_CLASS).sum()),
    )


def legend_entries(c: Classification, decimals: int, lang: str = "de") -> list[dict]:
    """Legend rows: colour, German-formatted bounds, count; then missing/suppressed."""
    entries = []
    lower = c.minimum
    for i, (upper, color) in enumerate(zip(c.breaks, c.colors)):
        lo, hi = format_number(lower, decimals, lang), format_number(upper, decimals, lang)
        label = hi if lo == hi else f"{lo} – {hi}"
        entries.append({"color": color, "label": label, "count": c.counts[i], "kind": "class"})
        lower = upper
    entries.append({"color": MISSING_COLOR, "label": gap_word("missing", lang),
                    "count": c.n_missing, "kind": "missing"})
    entries.append({"color": SUPPRESSED_COLOR, "label": gap_word("suppressed", lang),
                    "count": c.n_suppressed, "kind": "suppressed"})
    return entries
