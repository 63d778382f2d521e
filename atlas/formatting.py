"""Numbers as German readers expect them: 1.234,5 (and a clear sign for gaps)."""
from __future__ import annotations

import math
from datetime import datetime

MISSING_SYMBOL = "–"  # no data
SUPPRESSED_SYMBOL = "·"  # withheld (small numbers), the official statistical symbol


def format_number(value: float | None, decimals: int = 1, lang: str = "de") -> str:
    """`1234.56` → `1.234,6` (de) or `1,234.6` (en); None/NaN → the missing symbol."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING_SYMBOL
    text = f"{value:,.{decimals}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]  # no "-0,0"
    if lang == "de":
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def format_value(value: float | None, status: str, decimals: int, unit: str = "", lang: str = "de") -> str:
    """A cell for display: value with unit, or the words for missing/suppressed."""
    if status == "suppressed":
        return "geheim gehalten" if lang == "de" else "suppressed"
    if status != "ok" or value is None or (isinstance(value, float) and math.isnan(value)):
        return "keine Daten" if lang == "de" else "no data"
    number = format_number(value, decimals, lang)
    return f"{number} {unit}".strip() if unit else number


def format_timestamp(value: datetime | None) -> str:
    if value is None:
        return MISSING_SYMBOL
    return value.strftime("%d.%m.%Y")
