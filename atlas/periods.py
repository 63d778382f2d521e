"""Period keys: `2024` (year), `2024-Q3` (quarter), `2024-06` (month).

Keys sort correctly as text within one periodicity. Each period has an end
date (its Stichtag), which decides the boundary set it belongs to.
"""
from __future__ import annotations

import calendar
import re
from datetime import date

_YEAR = re.compile(r"^(\d{4})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def period_end(period: str) -> date:
    """The last day of the period (its reference date)."""
    if m := _YEAR.match(period):
        return date(int(m[1]), 12, 31)
    if m := _QUARTER.match(period):
        year, month = int(m[1]), int(m[2]) * 3
        return date(year, month, calendar.monthrange(year, month)[1])
    if m := _MONTH.match(period):
        year, month = int(m[1]), int(m[2])
        return date(year, month, calendar.monthrange(year, month)[1])
    raise ValueError(f"not a period key: {period!r} (expected 2024, 2024-Q3 or 2024-06)")


def periodicity_of(period: str) -> str:
    if _YEAR.match(period):
        return "year"
    if _QUARTER.match(period):
        return "quarter"
    if _MONTH.match(period):
        return "month"
    raise ValueError(f"not a period key: {period!r}")


def period_label(period: str, lang: str = "de") -> str:
    """Human label: `2024`, `Q3 2024`, `06/2024`."""
    if m := _QUARTER.match(period):
        return f"Q{m[2]} {m[1]}"
    if m := _MONTH.match(period):
        return f"{m[2]}/{m[1]}"
    period_end(period)  # validates
    return period


def year_periods(first: int, last: int) -> list[str]:
    return [str(y) for y in range(first, last + 1)]


def quarter_periods(first: int, last: int) -> list[str]:
    return [f"{y}-Q{q}" for y in range(first, last + 1) for q in range(1, 5)]
