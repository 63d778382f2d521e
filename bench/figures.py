"""A figure of the bench: what was measured, its value and unit, the target, the baseline and their ratio.

Every part of the bench (bench/run.py, bench/tablet.py, ...) reports these;
`print_table` prints them, `bench/run.py` writes them to results.json.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Figure:
    name: str
    value: float | None
    unit: str
    target: str = ""
    baseline: float | None = None
    ratio: float | None = None
    note: str = ""


def pct(values: list[float], p: float) -> float:
    """The p-th percentile by nearest rank (no interpolation: a p95 of 20 samples is a measured one)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def print_table(figures: list[Figure]) -> None:
    def fmt(v):
        return "–" if v is None else (f"{v:,.1f}" if isinstance(v, float) else str(v))
    rows = [(f.name, fmt(f.value), f.unit, f.target, fmt(f.baseline), "" if f.ratio is None else f"{f.ratio:.1f}×",
             f.note) for f in figures]
    head = ("figure", "value", "unit", "target", "baseline", "ratio", "note")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(len(head))]
    for row in [head] + rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)).rstrip())
