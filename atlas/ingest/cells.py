"""Cells as people write them: periods (`2024`, `Q3/2024`, a Stichtag) and numbers (German or English).

Pure functions, memoised where an extract repeats the same few values on
every row.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

import numpy as np

from atlas.messages import Message
from atlas.periods import period_end, periodicity_of

SUPPRESSED_MARKS = {"·", ".", "*", "x", "geheim", "gesperrt"}
MISSING_MARKS = {"", "…", "...", "na", "n/a", "nan", "k.a.", "keine angabe"}


# ASCII digits only (re.ASCII): Python's \d also matches Arabic-Indic or full-width digits, which stored a
# period '２０２４' beside '2024'. Full-width digits are folded to ASCII first (`normal_text`); any other script's
# digits do not match and get a message.
_QUARTER_ISO = re.compile(r"^(\d{4})\s*-?\s*[Qq]([1-4])$", re.ASCII)
_QUARTER_DE = re.compile(r"^[Qq]([1-4])\s*[/ ]\s*(\d{4})$", re.ASCII)
_QUARTER_WORD = re.compile(r"^([1-4])\.\s*(?:Quartal|Q)\s*(\d{4})$", re.IGNORECASE | re.ASCII)
_YEAR = re.compile(r"^(\d{4})(?:\.0)?$", re.ASCII)
_DATE_DE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$", re.ASCII)
_DATE_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$", re.ASCII)
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$", re.ASCII)


def normal_text(cell) -> str:
    """A cell as text in Unicode's compatibility form (NFKC): full-width '２０２４' is '2024', a non-breaking
    space a space. What the eye reads as the same value is then the same key."""
    text = str(cell)
    return text if text.isascii() else unicodedata.normalize("NFKC", text)


def foreign_digits(text: str) -> bool:
    """Digits of another script (Arabic-Indic, Devanagari …) that NFKC leaves as they are."""
    return any(ch.isdigit() and not ch.isascii() for ch in text)


def parse_period(cell, periodicity: str | None = None) -> str | None:
    """`2024`, `2024-Q3`, `Q3/2024`, `3. Quartal 2024`, `30.09.2024` (a Stichtag), a date → period key.

    A Stichtag becomes the period it ends: 31.12. a year (or Q4 for
    quarterly indicators), the last day of a quarter a quarter, else a month.
    """
    if isinstance(cell, (datetime, date)):
        day = cell.date() if isinstance(cell, datetime) else cell
        return _period_of_day(day, periodicity)
    if isinstance(cell, int) and not isinstance(cell, bool):
        cell = str(cell)  # not through float: an XLSX integer of 400 digits would overflow
    elif isinstance(cell, float):
        cell = str(int(cell)) if cell.is_integer() else str(cell)
    text = normal_text(cell).strip()
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
    return isinstance(cell, (datetime, date)) or bool(_DATE_DE.match(normal_text(cell).strip())
                                                       or _DATE_ISO.match(normal_text(cell).strip()))


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
# ASCII digits only ([0-9], not \d): pandas and Python match any script's digits with \d, and Arrow then
# failed to read '１２' as a number. The per-row path folds full-width digits to ASCII first.
GERMAN_NUMBER = r"[+-]?(?:[0-9]{1,3}(?:\.[0-9]{3})*|[0-9]+)(?:,[0-9]+)?(?:[eE][+-]?[0-9]+)?"
ENGLISH_NUMBER = r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})*|[0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?"
_GERMAN_NUM, _ENGLISH_NUM = re.compile(GERMAN_NUMBER), re.compile(ENGLISH_NUMBER)
# The largest magnitude a cell may have: counts, sums of money and rates stay far below it, and sums over
# every area cannot overflow. A 400-digit number was read as infinity and broke JSON and XLSX for everyone.
MAX_MAGNITUDE = 1e15


def parse_number(cell, decimal: str) -> tuple[str, float | None, str]:
    """(status, number, message): 'ok' with the number, 'missing', 'suppressed' or 'error'.

    `decimal` is the file's convention: ',' for German CSV (1.234,5),
    '.' for plain CSV (1,234.5). A cell in the other convention is an error,
    not a silent factor of 1,000.
    """
    if cell is None:
        return "missing", None, ""
    if isinstance(cell, bool):
        return "error", None, Message("chk_bool_cell")
    if isinstance(cell, (int, float, np.integer, np.floating)):
        if isinstance(cell, (int, np.integer)) and abs(int(cell)) > MAX_MAGNITUDE:  # float() of 10**400 raises
            return "error", None, _NOT_FINITE
        value = float(cell)
        if np.isnan(value):
            return "missing", None, ""
        return ("ok", value, "") if abs(value) <= MAX_MAGNITUDE else ("error", None, _NOT_FINITE)
    text = normal_text(cell).strip().replace("\u00a0", "").replace(" ", "")
    low = text.casefold()
    if low in MISSING_MARKS:
        return "missing", None, ""
    if low in SUPPRESSED_MARKS:
        return "suppressed", None, ""
    if text in ("-", "–", "—"):
        return "error", None, AMBIGUOUS_DASH
    pattern, thousands = (_GERMAN_NUM, ".") if decimal == "," else (_ENGLISH_NUM, ",")
    if pattern.fullmatch(text):
        value = float(text.replace(thousands, "").replace(decimal, "."))
        return ("ok", value, "") if abs(value) <= MAX_MAGNITUDE else ("error", None, _NOT_FINITE)
    if foreign_digits(text):
        return "error", None, _FOREIGN_DIGITS
    other = _ENGLISH_NUM if decimal == "," else _GERMAN_NUM
    comma = decimal == ","
    if other.fullmatch(text):
        return "error", None, Message("chk_decimal_comma_file" if comma else "chk_decimal_point_file")
    return "error", None, Message("chk_not_a_number_comma" if comma else "chk_not_a_number_point")


AMBIGUOUS_DASH = Message("chk_ambiguous_dash")
_NOT_FINITE = Message("chk_not_finite")
_FOREIGN_DIGITS = Message("chk_foreign_digits")
