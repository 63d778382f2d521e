"""Cells as people write them: periods (`2024`, `Q3/2024`, a Stichtag) and numbers (German or English).

Pure functions, memoised where an extract repeats the same few values on
every row.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from functools import lru_cache

import numpy as np

from atlas.periods import period_end, periodicity_of

SUPPRESSED_MARKS = {"·", ".", "*", "x", "geheim", "gesperrt"}
MISSING_MARKS = {"", "…", "...", "na", "n/a", "nan", "k.a.", "keine angabe"}


_QUARTER_ISO = re.compile(r"^(\d{4})\s*-?\s*[Qq]([1-4])$")
_QUARTER_DE = re.compile(r"^[Qq]([1-4])\s*[/ ]\s*(\d{4})$")
_QUARTER_WORD = re.compile(r"^([1-4])\.\s*(?:Quartal|Q)\s*(\d{4})$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})(?:\.0)?$")
_DATE_DE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$")
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_period(cell, periodicity: str | None = None) -> str | None:
    """`2024`, `2024-Q3`, `Q3/2024`, `3. Quartal 2024`, `30.09.2024` (a Stichtag), a date → period key.

    A Stichtag becomes the period it ends: 31.12. a year (or Q4 for
    quarterly indicators), the last day of a quarter a quarter, else a month.
    """
    if isinstance(cell, (datetime, date)):
        day = cell.date() if isinstance(cell, datetime) else cell
        return _period_of_day(day, periodicity)
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        cell = str(int(cell)) if float(cell).is_integer() else str(cell)
    text = str(cell).strip()
    if m := _YEAR.match(text):
        return m[1] if 1900 < int(m[1]) < 2200 else None
    if m := _QUARTER_ISO.match(text):
        return f"{m[1]}-Q{m[2]}"
    if m := _QUARTER_DE.match(text):
        return f"{m[2]}-Q{m[1]}"
    if m := _QUARTER_WORD.match(text):
        return f"{m[2]}-Q{m[1]}"
    if m := _MONTH.match(text):
        return text
    m = _DATE_DE.match(text) or _DATE_ISO.match(text)
    if m:
        parts = (int(m[3]), int(m[2]), int(m[1])) if _DATE_DE.match(text) else (int(m[1]), int(m[2]), int(m[3]))
        try:
            return _period_of_day(date(*parts), periodicity)
        except ValueError:
            return None
    return None


@lru_cache(maxsize=4096)
def _cached_period(cell, periodicity: str | None) -> str | None:
    return parse_period(cell, periodicity)


def cached_period(cell, periodicity: str | None) -> str | None:
    """parse_period, memoised: an extract repeats the same few period cells on every row."""
    try:
        return _cached_period(cell, periodicity)
    except TypeError:  # unhashable cell
        return parse_period(cell, periodicity)


@lru_cache(maxsize=4096)
def cached_periodicity(period: str) -> str:
    return periodicity_of(period)


@lru_cache(maxsize=4096)
def cached_end(period: str) -> date:
    return period_end(period)


def is_date(cell) -> bool:
    return isinstance(cell, (datetime, date)) or bool(_DATE_DE.match(str(cell).strip())
                                                       or _DATE_ISO.match(str(cell).strip()))


def _period_of_day(day: date, periodicity: str | None) -> str | None:
    year_end, quarter = day.month == 12 and day.day == 31, (day.month - 1) // 3 + 1
    if periodicity in (None, "year") and year_end:
        return str(day.year)
    quarter_key = f"{day.year}-Q{quarter}"
    if periodicity in (None, "quarter") and period_end(quarter_key) == day:
        return quarter_key
    if periodicity == "month" or periodicity is None:
        month_key = f"{day.year}-{day.month:02d}"
        return month_key if period_end(month_key) == day else None
    return None


# Numbers as text, matched whole (also used column-wise by bulkcheck): 1.234,5 / 1234,5 and 1,234.5 / 1234.5.
# A rate delivered with its counts keeps the delivered value when the two agree to this relative precision
# (the file carries the value unrounded, e.g. the atlas's own export); a value rounded for display is
# replaced by the exact ratio of the counts. So a file uploaded again unchanged changes nothing.
GIVEN_VALUE_PRECISION = 1e-6

# An exponent ("1,5E-05") is what Excel and the atlas's own exports write for very small or large numbers.
GERMAN_NUMBER = r"[+-]?(?:\d{1,3}(?:\.\d{3})*|\d+)(?:,\d+)?(?:[eE][+-]?\d+)?"
ENGLISH_NUMBER = r"[+-]?(?:\d{1,3}(?:,\d{3})*|\d+)(?:\.\d+)?(?:[eE][+-]?\d+)?"
_GERMAN_NUM, _ENGLISH_NUM = re.compile(GERMAN_NUMBER), re.compile(ENGLISH_NUMBER)


def parse_number(cell, decimal: str) -> tuple[str, float | None, str]:
    """(status, number, message): 'ok' with the number, 'missing', 'suppressed' or 'error'.

    `decimal` is the file's convention: ',' for German CSV (1.234,5),
    '.' for plain CSV (1,234.5). A cell in the other convention is an error,
    not a silent factor of 1,000.
    """
    if cell is None:
        return "missing", None, ""
    if isinstance(cell, bool):
        return "error", None, "Zahl erwartet, nicht WAHR/FALSCH; tragen Sie die Zahl ein"
    if isinstance(cell, (int, float, np.integer, np.floating)):
        value = float(cell)
        if np.isnan(value):
            return "missing", None, ""
        return ("ok", value, "") if np.isfinite(value) else ("error", None, _NOT_FINITE)
    text = str(cell).strip().replace("\u00a0", "").replace(" ", "")
    low = text.casefold()
    if low in MISSING_MARKS:
        return "missing", None, ""
    if low in SUPPRESSED_MARKS:
        return "suppressed", None, ""
    if text in ("-", "–", "—"):
        return "error", None, AMBIGUOUS_DASH
    pattern, thousands = (_GERMAN_NUM, ".") if decimal == "," else (_ENGLISH_NUM, ",")
    if pattern.fullmatch(text):
        return "ok", float(text.replace(thousands, "").replace(decimal, ".")), ""
    other = _ENGLISH_NUM if decimal == "," else _GERMAN_NUM
    expected = "1234,5 oder 1.234,5" if decimal == "," else "1234.5"
    if other.fullmatch(text):
        convention = ("mit Semikolon getrennte Datei: Dezimalkomma, z. B. 12,5" if decimal == ","
                      else "mit Komma getrennte Datei: Dezimalpunkt, z. B. 12.5")
        return "error", None, (f"Dezimaltrennzeichen passt nicht zur Datei; erwartet {expected}. Schreiben Sie alle "
                               f"Zahlen gleich ({convention}).")
    return "error", None, (f"keine Zahl; erwartet {expected}. Für geheim gehaltene Werte schreiben Sie '.', für "
                           "fehlende lassen Sie die Zelle leer.")


AMBIGUOUS_DASH = ("'-' ist mehrdeutig: schreiben Sie 0 für null, lassen Sie die Zelle leer für 'keine Daten' oder "
                  "'.' für geheim")
_NOT_FINITE = ("endliche Zahl erwartet; tragen Sie die Zahl ein oder lassen Sie die Zelle für 'keine Daten' leer")
