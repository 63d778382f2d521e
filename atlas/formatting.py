"""Numbers as German readers expect them: 1.234,5 (and a clear sign for gaps)."""
from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np

MISSING_SYMBOL = "–"  # no data
SUPPRESSED_SYMBOL = "·"  # withheld (small numbers), the official statistical symbol
# What the map, its legend and the chart say instead of a number: (German, English).
GAP_WORDS = {"missing": ("keine Daten", "no data"), "suppressed": ("geheim gehalten", "suppressed")}


MINUS = "\u2212"  # a negative number's sign on screen and in pictures: −9,2, not the hyphen of -9,2
# 1,234.5 → 1.234,5, and in both languages the real minus sign (as wide as '+', and what matplotlib and
# plotly print on axes). CSV/XLSX exports write raw numbers with the machine-readable '-' (export/tables.py).
_GERMAN = str.maketrans({",": ".", ".": ",", "-": MINUS})
_ENGLISH = str.maketrans({"-": MINUS})


def gap_word(status: str, lang: str = "de") -> str:
    """The word for a cell without a number: suppressed, or else no data."""
    de, en = GAP_WORDS["suppressed" if status == "suppressed" else "missing"]
    return en if lang == "en" else de


def gaps_note(lang: str = "de") -> str:
    """The line under a chart that explains its gaps, with the same words as the map's legend."""
    missing, suppressed = gap_word("missing", lang), gap_word("suppressed", lang)
    if lang == "en":
        return f"Gaps in a line: {missing} or {suppressed}."
    return f"Lücken in der Linie: {missing} oder {suppressed}."


def localised(text: str, lang: str = "de") -> str:
    """A number Python wrote (`-1,234.5`) as the reader writes it: `−1.234,5` (de) or `−1,234.5` (en)."""
    return text.translate(_GERMAN if lang == "de" else _ENGLISH)


def format_number(value: float | None, decimals: int = 1, lang: str = "de") -> str:
    """`1234.56` → `1.234,6` (de) or `1,234.6` (en), `-9.2` → `−9,2` (U+2212); None/NaN → the missing symbol."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_SYMBOL
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0,0"
    return localised(text, lang)


def format_value(value: float | None, status: str, decimals: int, unit: str = "", lang: str = "de") -> str:
    """A cell for display: value with unit, or the words for missing/suppressed."""
    if status != "ok" or value is None or (isinstance(value, float) and math.isnan(value)):
        return gap_word(status, lang)
    number = format_number(value, decimals, lang)
    return f"{number} {unit}".strip() if unit else number


def format_values(values: np.ndarray, statuses: np.ndarray, decimals: int, unit: str = "",
                  lang: str = "de") -> list[str]:
    """`format_value` for a whole column (every map switch labels all areas, so it must be quick).

    The separators are swapped in one C-level pass over the joined text
    instead of per value; the result is identical to `format_value`.
    """
    values, statuses = np.asarray(values, dtype=float), np.asarray(statuses, dtype=object)
    ok = (statuses == "ok") & ~np.isnan(values)
    texts = [f"{v:,.{decimals}f}" for v in values[ok].tolist()]
    texts = [t[1:] if t[0] == "-" and float(t.replace(",", "")) == 0 else t for t in texts]
    if texts:
        texts = localised("\n".join(texts), lang).split("\n")
    if unit:
        texts = [f"{t} {unit}" for t in texts]
    out = np.where(statuses == "suppressed", gap_word("suppressed", lang), gap_word("missing", lang)).astype(object)
    out[ok] = texts
    return out.tolist()


def format_day(day: date | str | None, lang: str = "de") -> str:
    """A calendar day as its reader writes it: 31.12.2030 (de) or 2030-12-31 (en, unambiguous); text that is no
    ISO day is shown as it is."""
    if day is None or day == "":
        return MISSING_SYMBOL
    try:
        parsed = day if isinstance(day, date) else date.fromisoformat(str(day)[:10])
    except ValueError:
        return str(day)
    return f"{parsed:%Y-%m-%d}" if lang == "en" else f"{parsed:%d.%m.%Y}"


def format_timestamp(value: datetime | None) -> str:
    if value is None:
        return MISSING_SYMBOL
    return value.strftime("%d.%m.%Y")
