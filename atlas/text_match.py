"""How names are compared: the way people type them, not the way a database stores them.

One rule for the upload check (an area name in a steward's file) and for
search (a planner typing "Muehlenberg" or "altstadt nord"): case, umlaut
spelling, hyphens, spaces and "Str." do not matter.
"""
from __future__ import annotations

import re
import unicodedata


def fold(text) -> str:
    """Names compared tolerant of case, umlaut spelling, hyphens, spaces and 'str.' for 'straße'."""
    text = unicodedata.normalize("NFC", str(text)).strip().casefold()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]", "", text).replace("strasse", "str")


def words(text) -> list[str]:
    """The folded words of a query, for 'every word somewhere' matching."""
    return [w for w in (fold(part) for part in re.split(r"[\s,;/]+", str(text or ""))) if w]
