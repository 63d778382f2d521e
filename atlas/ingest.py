"""Ingest: read a department's extract, check every cell, hold it as a pending upload.

The steward's file is read as it comes (German Excel CSV, plain CSV, XLSX;
long or wide), mapped onto the model's columns, and validated completely
before anything is stored: every problem names the row, the column, the
value and what was expected. A checked upload waits in `uploads/` (outside
the store) until the steward confirms it; `versions.confirm` then stores it
as a new immutable version in one transaction.

Hostile files are expected: size, row count and XLSX expansion are capped,
formulas are refused rather than evaluated, binary content is recognised.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import secrets
import shutil
import unicodedata
import zipfile
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from atlas import bulkcheck, queries
from atlas.bootstrap import Atlas
from atlas.catalog import Indicator
from atlas.periods import period_end, periodicity_of
from auth.permissions import Principal, may_deliver, may_know

MAX_ROWS = 1_000_000
MAX_XLSX_EXPANDED = 300 * 1024 * 1024  # uncompressed bytes a workbook may unpack to
MAX_XLSX_RATIO = 200  # compression ratio beyond which a workbook is treated as a zip bomb
MAX_ERRORS = 500  # a report lists this many problems, then says how many more there are
CHANGE_WARN = 0.5  # relative change against the previous period that earns a warning
SUPPRESSED_MARKS = {"·", ".", "*", "x", "geheim", "gesperrt"}
MISSING_MARKS = {"", "…", "...", "na", "n/a", "nan", "k.a.", "keine angabe"}

ROLES = ("area", "area_name", "indicator", "period", "value", "numerator", "denominator")
SYNONYMS = {
    "area": ["ortsteil", "gebiet", "schluessel", "gebietsschluessel", "ortsteilschluessel", "ortsteilnummer",
             "ortsteilnr", "area", "areaid", "areakey", "key", "code", "plrid", "id"],
    "area_name": ["name", "gebietsname", "ortsteilname", "bezeichnung", "areaname"],
    "indicator": ["indikator", "indicator", "indikatorid", "indicatorid", "kennzahl", "merkmal"],
    "period": ["jahr", "zeitraum", "stichtag", "period", "year", "datum", "date", "quartal", "quarter"],
    "value": ["wert", "value", "wertanteil"],
    "numerator": ["zaehler", "numerator", "zahler"],
    "denominator": ["nenner", "denominator"],
}


class IngestError(ValueError):
    """The file cannot be read at all; `problems` say why (each a report entry)."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__("; ".join(p["message"] for p in problems))


def problem(message: str, row: int | None = None, column: str | None = None, value=None) -> dict:
    return {"row": row, "column": column, "value": None if value is None else str(value)[:200],
            "message": message}


def norm_header(text: str) -> str:
    """`Zähler ` → `zaehler`, `Area-ID` → `areaid`: headers compare without case, umlauts, spaces."""
    text = str(text).strip().casefold()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]", "", text)


TOTAL_NAMES = {"stadt", "gesamt", "insgesamt", "stadtinsgesamt", "total"}  # a city-total row, not an area


@lru_cache(maxsize=65536)
def _cached_name(text) -> str:
    return norm_name(text)


def norm_name(text: str) -> str:
    """Area names compared tolerant of case, umlaut spelling, hyphens and spaces."""
    text = unicodedata.normalize("NFC", str(text)).strip().casefold()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]", "", text)


# ------------------------------------------------------------------ reading
@dataclass
class RawTable:
    header: list[str]
    rows: list[list]  # cells as read: str from CSV; str, int, float, datetime from XLSX
    first_row: int  # file row number of rows[0] (1-based, header is first_row - 1)
    decimal: str  # "," or "." (how numbers written as text are read)
    kind: str  # "csv" or "xlsx"


def read_table(content: bytes, filename: str, sheet: str | None = None) -> RawTable:
    """Read CSV or XLSX bytes into text cells; raise IngestError with the reason."""
    if not content:
        raise IngestError([problem("Die Datei ist leer. / The file is empty.")])
    name = filename.lower()
    if content[:4] == b"PK\x03\x04" or name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(content, sheet)
    if name.endswith((".xls", ".ods")):
        raise IngestError([problem("Dieses Format wird nicht gelesen; bitte als XLSX oder CSV speichern. / "
                                   "Save as XLSX or CSV.", value=filename)])
    return _read_csv(content)


def _decode(content: bytes) -> str:
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise IngestError([problem("UTF-16-Text wird nicht gelesen; bitte als 'CSV UTF-8' oder 'CSV (Trennzeichen-"
                                   "getrennt)' speichern. / UTF-16 is not read; save as CSV UTF-8.")])
    if b"\x00" in content[:65536]:
        raise IngestError([problem("Keine Textdatei (enthält Binärdaten); erwartet: CSV oder XLSX. / "
                                   "Binary content; expected CSV or XLSX.")])
    if content.startswith(b"\xef\xbb\xbf"):
        text = content[3:].decode("utf-8", errors="strict")
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = content.decode("cp1252", errors="replace")  # what Excel writes on German Windows
            if "\ufffd" in text:
                raise IngestError([problem("Zeichenkodierung nicht erkannt; bitte als UTF-8 oder Windows-1252 "
                                           "speichern. / Unknown text encoding.")]) from None
    controls = [c for c in text[:65536] if unicodedata.category(c) == "Cc" and c not in "\r\n\t"]
    if controls:
        raise IngestError([problem("Die Datei enthält Steuerzeichen; sie ist keine CSV-Tabelle. / "
                                   "Control characters: not a CSV table.")])
    return text


def _read_csv(content: bytes) -> RawTable:
    try:
        text = _decode(content)
    except UnicodeDecodeError as exc:
        raise IngestError([problem(f"Ungültiges UTF-8 an Byte {exc.start} / invalid UTF-8")]) from None
    lines = text.splitlines()
    start = text.lstrip()[:1]
    if start in ("{", "[", "<"):
        kind = "JSON" if start in "{[" else "HTML/XML"
        raise IngestError([problem(f"Die Datei ist {kind}, keine Tabelle; erwartet: CSV oder XLSX. / "
                                   f"This is {kind}, not a table.", row=1, value=lines[0][:80] if lines else "")])
    if not lines or not lines[0].strip():
        raise IngestError([problem("Die erste Zeile (Spaltenköpfe) ist leer. / The header line is empty.", row=1)])
    first = lines[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    if first.count(delimiter) == 0:
        raise IngestError([problem("Nur eine Spalte erkannt; erwartet: Trennzeichen Semikolon, Komma oder "
                                   "Tabulator. / Only one column; expected ; , or tab as separator.",
                                   row=1, value=first[:80])])
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        header = next(reader)
        rows = []
        for n, row in enumerate(reader, start=2):
            if len(rows) >= MAX_ROWS:
                raise IngestError([problem(f"Mehr als {MAX_ROWS:,} Zeilen; bitte aufteilen. / Too many rows.",
                                           row=n)])
            if any(cell.strip() for cell in row):
                rows.append(row)
            else:
                rows.append(None)  # keep numbering; blank lines are skipped later
    except csv.Error as exc:
        raise IngestError([problem(f"CSV nicht lesbar: {exc} / unreadable CSV")]) from None
    if "\ufeff" in text:  # one scan of the text; only then look for the row
        n = next((n for n, row in enumerate([header] + rows, start=1) if row and any("\ufeff" in c for c in row)), 1)
        raise IngestError([problem("Byte-Order-Mark mitten in der Datei (zwei Dateien aneinandergehängt?)"
                                   " / BOM in the middle of the file", row=n)])
    decimal = "," if delimiter == ";" else "."
    return _checked(RawTable([h.strip() for h in header], [r for r in rows], 2, decimal, "csv"))


def _read_xlsx(content: bytes, sheet: str | None) -> RawTable:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            infos = z.infolist()
            expanded = sum(i.file_size for i in infos)
            packed = max(sum(i.compress_size for i in infos), 1)
            if expanded > MAX_XLSX_EXPANDED or expanded / packed > MAX_XLSX_RATIO:
                raise IngestError([problem(f"Die Arbeitsmappe entpackt sich auf {expanded / 1e6:,.0f} MB "
                                           f"(Verhältnis {expanded / packed:,.0f}:1) und wird abgelehnt. / "
                                           "Workbook expands too far (zip bomb?).")])
            if "xl/workbook.xml" not in {i.filename for i in infos}:
                raise IngestError([problem("ZIP-Datei, aber keine Excel-Arbeitsmappe (xl/workbook.xml fehlt). / "
                                           "A zip file, but not an XLSX workbook.")])
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except IngestError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise IngestError([problem(f"Die Excel-Datei ist beschädigt oder unvollständig ({type(exc).__name__}). "
                                   "/ The XLSX file is damaged or truncated.")]) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise IngestError([problem(f"Tabellenblatt {sheet!r} nicht gefunden; vorhanden: "
                                       f"{', '.join(wb.sheetnames)} / sheet not found", value=sheet)])
        ws = wb[sheet] if sheet else wb.worksheets[0]
        rows: list = []
        header: list[str] | None = None
        for r, row in enumerate(ws.iter_rows(), start=1):
            cells = []
            for c in row:
                if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("=")):
                    raise IngestError([problem("Die Zelle enthält eine Formel; bitte als Werte einfügen "
                                               "(Inhalte einfügen → Werte). / Cell holds a formula; paste values.",
                                               row=r, column=getattr(c, "coordinate", None), value=c.value)])
                cells.append(c.value)
            if header is None:
                header = ["" if v is None else str(v).strip() for v in cells]
                continue
            if len(rows) >= MAX_ROWS:
                raise IngestError([problem(f"Mehr als {MAX_ROWS:,} Zeilen. / Too many rows.", row=r)])
            rows.append(cells if any(v not in (None, "") for v in cells) else None)
    finally:
        wb.close()
    if header is None:
        raise IngestError([problem("Das Tabellenblatt ist leer. / The sheet is empty.")])
    while header and header[-1] == "":
        header.pop()
    return _checked(RawTable(header, [None if r is None else r[:len(header)] for r in rows], 2, ",", "xlsx"))


def _checked(raw: RawTable) -> RawTable:
    problems = []
    seen: dict[str, int] = {}
    for i, h in enumerate(raw.header, start=1):
        if not h:
            if any(row and len(row) >= i and row[i - 1] not in (None, "") for row in raw.rows):
                problems.append(problem("Spalte ohne Überschrift, aber mit Werten. / Column without a header.",
                                        row=raw.first_row - 1, column=f"#{i}"))
            continue
        key = norm_header(h)
        if key in seen:
            problems.append(problem(f"Überschrift doppelt (Spalten {seen[key]} und {i}). / Duplicate header.",
                                    row=raw.first_row - 1, column=h))
        seen[key] = i
    if not any(r for r in raw.rows):
        problems.append(problem("Nur Spaltenköpfe, keine Datenzeilen. / Header only, no data rows.",
                                row=raw.first_row))
    if problems:
        raise IngestError(problems)
    return raw


# ------------------------------------------------------------------ mapping
@dataclass
class Mapping:
    """Which column means what. Long: indicator/period/value columns; wide: a column per indicator or period."""

    area: str | None = None
    area_name: str | None = None
    indicator: str | None = None
    period: str | None = None
    value: str | None = None
    numerator: str | None = None
    denominator: str | None = None
    indicator_columns: dict[str, str] = field(default_factory=dict)  # column -> indicator id (wide by indicator)
    period_columns: dict[str, str] = field(default_factory=dict)  # column -> period as written (wide by period)
    # indicator id -> {"value"|"numerator"|"denominator": column}: a file with one column per count
    measures: dict[str, dict[str, str]] = field(default_factory=dict)
    fixed_indicator: str | None = None  # all rows belong to this indicator (file without indicator column)
    fixed_period: str | None = None

    @property
    def layout(self) -> str:
        if self.measures:
            return "wide_measures"
        if self.indicator_columns:
            return "wide_indicator"
        if self.period_columns:
            return "wide_period"
        return "long"

    def to_json(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v}

    @classmethod
    def from_json(cls, data: dict) -> Mapping:
        if not isinstance(data, dict):
            raise IngestError([problem("mapping muss ein JSON-Objekt sein / mapping must be a JSON object")])
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise IngestError([problem(f"Unbekannte Felder in mapping: {sorted(unknown)}; erlaubt: "
                                       f"{sorted(allowed)} / unknown mapping keys")])
        return cls(**data)


def detect_mapping(header: list[str], atlas: Atlas) -> Mapping:
    """Recognise German and English headers, indicator ids/titles and period columns."""
    m = Mapping()
    titles = {norm_header(i.id): i.id for i in atlas.indicators}
    titles.update({norm_header(i.title_de): i.id for i in atlas.indicators})
    titles.update({norm_header(i.title_en): i.id for i in atlas.indicators})
    for col in header:
        if not col:
            continue
        key = norm_header(col)
        role = next((r for r, words in SYNONYMS.items() if key in words), None)
        if role and getattr(m, role) is None:
            setattr(m, role, col)
        elif key in titles:
            m.indicator_columns[col] = titles[key]
        elif parse_period(col) is not None:
            m.period_columns[col] = col  # read per row: a Stichtag means a quarter for quarterly indicators
    if m.indicator_columns and m.value:  # a "Wert" column and indicator-named columns: long wins
        m.indicator_columns = {}
    return m


def mapping_problems(m: Mapping, header: list[str]) -> list[dict]:
    """What the steward still has to tell us (answered with the `mapping` field)."""
    problems = []
    for role in ROLES:
        col = getattr(m, role)
        if col and col not in header:
            problems.append(problem(f"Spalte {col!r} gibt es nicht; Spalten: {', '.join(header)}", column=col))
    measure_cols = [c for spec in m.measures.values() if isinstance(spec, dict) for c in spec.values()]
    for col in list(m.indicator_columns) + list(m.period_columns) + measure_cols:
        if col not in header:
            problems.append(problem(f"Spalte {col!r} gibt es nicht / no such column", column=col))
    for ind_id, spec in m.measures.items():
        if not isinstance(spec, dict) or not set(spec) <= {"value", "numerator", "denominator"} or not spec:
            problems.append(problem(f"measures[{ind_id!r}] braucht value und/oder numerator+denominator",
                                    column="measures"))
    if not (m.area or m.area_name):
        problems.append(problem("Keine Gebietsspalte erkannt (erwartet z. B. 'Ortsteil', 'Gebiet', 'Schlüssel' "
                                "oder 'area'); bitte zuordnen. / No area column; please map one.", column="area"))
    if not (m.indicator or m.indicator_columns or m.measures or m.fixed_indicator):
        problems.append(problem("Kein Indikator erkannt (Spalte 'Indikator' oder Spalten mit Indikator-IDs); "
                                "bitte zuordnen. / No indicator column; please map one.", column="indicator"))
    if not (m.period or m.period_columns or m.fixed_period):
        problems.append(problem("Kein Zeitraum erkannt (Spalte 'Jahr', 'Zeitraum' oder 'Stichtag', oder Spalten "
                                "je Jahr); bitte zuordnen. / No period column; please map one.", column="period"))
    if m.layout == "long" and not (m.value or m.numerator):
        problems.append(problem("Keine Wertspalte erkannt (erwartet 'Wert'/'value' oder 'Zähler' und 'Nenner'). / "
                                "No value column.", column="value"))
    return problems


# ------------------------------------------------------------------ cells
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


def _period_of(cell, periodicity: str | None) -> str | None:
    """parse_period, memoised: an extract repeats the same few period cells on every row."""
    try:
        return _cached_period(cell, periodicity)
    except TypeError:  # unhashable cell
        return parse_period(cell, periodicity)


@lru_cache(maxsize=4096)
def _periodicity(period: str) -> str:
    return periodicity_of(period)


@lru_cache(maxsize=4096)
def _end_of(period: str) -> date:
    return period_end(period)


def _is_date(cell) -> bool:
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


_GERMAN_NUM = re.compile(r"^[+-]?\d{1,3}(\.\d{3})*(,\d+)?$|^[+-]?\d+(,\d+)?$")
_ENGLISH_NUM = re.compile(r"^[+-]?\d{1,3}(,\d{3})*(\.\d+)?$|^[+-]?\d+(\.\d+)?$")


def parse_number(cell, decimal: str) -> tuple[str, float | None, str]:
    """(status, number, message): 'ok' with the number, 'missing', 'suppressed' or 'error'.

    `decimal` is the file's convention: ',' for German CSV (1.234,5),
    '.' for plain CSV (1,234.5). A cell in the other convention is an error,
    not a silent factor of 1,000.
    """
    if cell is None:
        return "missing", None, ""
    if isinstance(cell, bool):
        return "error", None, "Zahl erwartet, nicht WAHR/FALSCH"
    if isinstance(cell, (int, float, np.integer, np.floating)):
        value = float(cell)
        if np.isnan(value):
            return "missing", None, ""
        return ("ok", value, "") if np.isfinite(value) else ("error", None, "endliche Zahl erwartet")
    text = str(cell).strip().replace("\u00a0", "").replace(" ", "")
    low = text.casefold()
    if low in MISSING_MARKS:
        return "missing", None, ""
    if low in SUPPRESSED_MARKS:
        return "suppressed", None, ""
    if text in ("-", "–", "—"):
        return "error", None, "'-' ist mehrdeutig: 0 für null, leer für 'keine Daten'"
    pattern, thousands = (_GERMAN_NUM, ".") if decimal == "," else (_ENGLISH_NUM, ",")
    if pattern.match(text):
        return "ok", float(text.replace(thousands, "").replace(decimal, ".")), ""
    other = _ENGLISH_NUM if decimal == "," else _GERMAN_NUM
    expected = "1234,5 oder 1.234,5" if decimal == "," else "1234.5"
    if other.match(text) and not pattern.match(text):
        return "error", None, f"Dezimaltrennzeichen passt nicht zur Datei; erwartet {expected}"
    return "error", None, f"keine Zahl; erwartet {expected}"


# ------------------------------------------------------------------ report
@dataclass
class Report:
    ok: bool
    errors: list[dict]
    warnings: list[dict]
    rows: int = 0
    indicators: list[str] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    mapping: dict = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)
    more_errors: int = 0
    new_indicators: list[dict] = field(default_factory=list)  # definitions created on confirmation

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Checked:
    report: Report
    values: pd.DataFrame  # indicator_id, area_id, period, period_end, value, numerator, denominator, status


_EMPTY_VALUES = ["indicator_id", "area_id", "period", "period_end", "value", "numerator", "denominator", "status"]


def cell_frame(raw: RawTable, m: Mapping) -> pd.DataFrame:
    """The table as one row per (area, indicator, period) cell, with the file row and the columns it came from.

    Built column by column (a million cells are a million rows here); object
    columns, so empty cells stay None and keys stay text.
    """
    width = len(raw.header)
    rows, numbers = [], []
    for n, row in enumerate(raw.rows, start=raw.first_row):
        if row is not None:
            rows.append(row[:width] if len(row) >= width else list(row) + [None] * (width - len(row)))
            numbers.append(n)
    table = pd.DataFrame(rows, columns=range(width), dtype=object) if rows else pd.DataFrame(
        columns=range(width), dtype=object)
    idx = {h: i for i, h in enumerate(raw.header) if h}
    empty = pd.Series([None] * len(table), dtype=object)

    def col(name):
        return table[idx[name]] if name in idx else empty

    def part(indicator, period, value, numerator, denominator, value_col, num_col, den_col, order: int) -> dict:
        return {"row": numbers, "order": order, "area": col(m.area), "area_name": col(m.area_name),
                "indicator": indicator, "period": period, "value": value, "numerator": numerator,
                "denominator": denominator, "value_col": value_col, "num_col": num_col, "den_col": den_col}

    period = col(m.period) if m.period else m.fixed_period
    indicator = col(m.indicator) if m.indicator else m.fixed_indicator
    if m.layout == "wide_measures":
        parts = [part(ind, period, col(spec.get("value")), col(spec.get("numerator")), col(spec.get("denominator")),
                      spec.get("value") or spec.get("numerator"), spec.get("numerator"), spec.get("denominator"), k)
                 for k, (ind, spec) in enumerate(m.measures.items())]
    elif m.layout == "wide_indicator":
        parts = [part(ind, period, col(c), empty, empty, c, None, None, k)
                 for k, (c, ind) in enumerate(m.indicator_columns.items())]
    elif m.layout == "wide_period":
        parts = [part(indicator, per, col(c), empty, empty, c, None, None, k)
                 for k, (c, per) in enumerate(m.period_columns.items())]
    else:
        parts = [part(indicator, period, col(m.value), col(m.numerator), col(m.denominator),
                      m.value or m.numerator, m.numerator, m.denominator, 0)]
    frame = pd.concat([pd.DataFrame({k: (v.reset_index(drop=True) if isinstance(v, pd.Series) else v)
                                     for k, v in p.items()}, index=range(len(numbers))).astype(object)
                       for p in parts], ignore_index=True)
    frame["row"] = frame["row"].astype(int)
    # The file's order: every cell of row 2, then row 3 …, so the report reads top to bottom.
    return frame.sort_values(["row", "order"], kind="stable").reset_index(drop=True)


class _AreaMatcher:
    """Official key first; names tolerant of case/umlauts/spaces; never a guess between two."""

    def __init__(self, atlas: Atlas):
        self.atlas = atlas
        self._sets: dict[str, tuple[dict, dict, int]] = {}

    def _index(self, set_id: str) -> tuple[dict, dict, int]:
        if set_id not in self._sets:
            areas = queries.areas(self.atlas, "ortsteil", set_id)
            keys = {a: a for a in areas["area_id"]}
            names: dict[str, list[str]] = {}
            for a, name in zip(areas["area_id"], areas["name"]):
                names.setdefault(norm_name(name), []).append(a)
            width = int(areas["area_id"].str.len().max()) if len(areas) else 0
            self._sets[set_id] = (keys, names, width)
        return self._sets[set_id]

    def match(self, set_id: str, key, name) -> tuple[str | None, str]:
        keys, names, width = self._index(set_id)
        if key not in (None, ""):
            text = str(int(key)) if isinstance(key, float) and key.is_integer() else str(key).strip()
            if text in keys:
                return text, ""
            if text.isdigit() and len(text) < width and text.zfill(width) in keys:
                return text.zfill(width), ""  # Excel dropped the leading zero
            candidates = names.get(norm_name(text), [])
            if len(candidates) == 1 and not text.isdigit():
                return candidates[0], ""
            if len(candidates) > 1:
                return None, f"Name passt auf mehrere Gebiete ({', '.join(candidates)}); bitte Schlüssel angeben"
        if name not in (None, ""):
            candidates = names.get(norm_name(name), [])
            if len(candidates) == 1:
                return candidates[0], ""
            if len(candidates) > 1:
                return None, f"Name passt auf mehrere Gebiete ({', '.join(candidates)}); bitte Schlüssel angeben"
        return None, f"unbekanntes Gebiet im Gebietsstand {set_id}"


def new_indicators(atlas: Atlas, viewer: Principal, definitions: list | None) -> tuple[dict[str, Indicator],
                                                                                     list[dict], list[dict]]:
    """Indicators defined with the upload: (by id, problems, notes). Public visibility waits for an admin."""
    from atlas.catalog import CatalogError, check_new_indicator
    out: dict[str, Indicator] = {}
    problems, notes = [], []
    if definitions is None:
        return out, problems, notes
    if not isinstance(definitions, list):
        return out, [problem("new_indicators muss eine JSON-Liste von Indikatoren sein", column="new_indicators")], []
    for n, raw in enumerate(definitions, start=1):
        try:
            ind = check_new_indicator(raw, set(atlas.domain_by_id), set(atlas.departments))
        except CatalogError as exc:
            problems.append(problem(f"neuer Indikator {n}: {exc}", column="new_indicators"))
            continue
        if ind.id in atlas.indicator_by_id or ind.id in out:
            problems.append(problem(f"Indikator-ID {ind.id!r} gibt es schon", column="new_indicators", value=ind.id))
        elif not may_deliver(viewer, ind.department):
            problems.append(problem(f"{ind.id}: Sie legen nur Indikatoren Ihres Fachamts an", column="new_indicators",
                                    value=ind.department))
        else:
            if ind.visibility == "public" and not viewer.is_admin:
                notes.append(problem(f"{ind.id}: öffentliche Sichtbarkeit gibt die Administration frei; bis dahin "
                                     "ist der Indikator intern", column="new_indicators"))
            out[ind.id] = ind
    return out, problems, notes


def check(atlas: Atlas, viewer: Principal, raw: RawTable, mapping: Mapping | None = None,
          definitions: list | None = None) -> Checked:
    """Validate a read table completely; nothing is stored here."""
    created, def_problems, def_notes = new_indicators(atlas, viewer, definitions)
    m = mapping or detect_mapping(raw.header, atlas)
    errors = def_problems + mapping_problems(m, raw.header)
    report = Report(False, errors, [], mapping=m.to_json(), columns=raw.header)
    if errors:
        return Checked(report, pd.DataFrame(columns=_EMPTY_VALUES))
    lookup = {**atlas.indicator_by_id, **created}
    frame = cell_frame(raw, m)
    raw.rows = []  # the cell frame holds everything now; a million-row file should not be kept twice
    errors, warnings, good = [], [], []
    city_totals: dict[tuple[str, str], tuple[float, int]] = {}
    matcher = _AreaMatcher(atlas)
    set_of: dict[str, str | None] = {}  # period -> boundary set, looked up once per period
    city_key = atlas.store.manifest().get("city", {}).get("key", "")

    def boundary_set(period: str) -> str | None:
        if period not in set_of:
            set_of[period] = queries.set_for_period(atlas, period)
        return set_of[period]

    def is_total(key, name) -> bool:
        return str(key).strip() == city_key or _cached_name(name or key or "") in TOTAL_NAMES

    accepted, slow = bulkcheck.accept(
        frame, indicator_of=lambda cell: _known_indicator(lookup, viewer, cell, m),
        period_of=lambda cell, periodicity: _clean_period(cell, periodicity, boundary_set),
        area_of=lambda set_id, key, name: matcher.match(set_id, key, name)[0], is_total=is_total,
        decimal=raw.decimal, missing=MISSING_MARKS, suppressed=SUPPRESSED_MARKS, text_only=raw.kind == "csv")
    # Everything the fast path did not accept is checked cell by cell, which words every problem.
    for c in frame[slow].itertuples(index=False):
        row_errors = len(errors)
        ind = _indicator_for(lookup, viewer, c.indicator, c.row, m, errors)
        period = _period_of(c.period, ind.periodicity if ind else None) if c.period not in (None, "") else None
        if c.period in (None, ""):
            errors.append(problem("Zeitraum fehlt", c.row, m.period, c.period))
        elif period is None and ind and parse_period(c.period) is not None:
            errors.append(problem(f"Stichtag/Zeitraum passt nicht zur Periodizität '{ind.periodicity}' von "
                                  f"{ind.id}", c.row, m.period, c.period))
        elif period is None and _is_date(c.period):
            errors.append(problem("Stichtag ist kein Monats-, Quartals- oder Jahresende; erwartet z. B. 30.09.2024",
                                  c.row, m.period, c.period))
        elif period is None:
            errors.append(problem("Zeitraum nicht lesbar; erwartet 2024, 2024-Q3, Q3/2024 oder Stichtag "
                                  "30.09.2024", c.row, m.period, c.period))
        elif ind and _periodicity(period) != ind.periodicity:
            errors.append(problem(f"Zeitraum {period} passt nicht zur Periodizität '{ind.periodicity}' von "
                                  f"{ind.id}", c.row, m.period, c.period))
        set_id = boundary_set(period) if period else None
        if period and set_id is None:
            errors.append(problem(f"Für {period} gibt es keinen Gebietsstand (außerhalb der Gültigkeit aller "
                                  "Gebietsstände)", c.row, m.period, c.period))
        if ind is None or set_id is None or len(errors) > row_errors:
            continue
        total = is_total(c.area, c.area_name)
        # Every problem of a row is reported, not only the first one.
        area_id = None
        if not total:
            area_id, why = matcher.match(set_id, c.area, c.area_name)
            if area_id is None:
                errors.append(problem(why, c.row, m.area or m.area_name,
                                      c.area if c.area not in (None, "") else c.area_name))
        status, value, msg = parse_number(c.value, raw.decimal)
        if status == "error":
            errors.append(problem(msg, c.row, c.value_col, c.value))
        counts = _counts(c, raw.decimal, m, errors)
        if counts is None or len(errors) > row_errors:
            continue
        num, den = counts
        value, status = _value_from_counts(ind, value, status, num, den, c, m, errors)
        if status is None:
            continue
        if total:  # a city total in the file: compared with the sum of the Ortsteile, not stored
            if status == "ok":
                city_totals[(ind.id, period)] = (value, c.row)
            continue
        _plausible_cell(ind, value, num, den, c, m, errors)
        if len(errors) > row_errors:
            continue
        good.append({"indicator_id": ind.id, "area_id": area_id, "period": period, "period_end": _end_of(period),
                     "value": value, "numerator": num, "denominator": den, "status": status, "row": c.row})
    values = pd.concat([accepted.assign(period_end=[_end_of(p) for p in accepted["period"]]),
                        pd.DataFrame(good, columns=_EMPTY_VALUES + ["row"])], ignore_index=True)
    values = values.sort_values("row", kind="stable").reset_index(drop=True)[_EMPTY_VALUES + ["row"]]
    values = values.astype({"value": float, "numerator": float, "denominator": float})
    errors += _duplicates(values, m)
    if not errors:
        warnings = def_notes + _warnings(atlas, viewer, values, city_totals, lookup)
    total_errors = len(errors)
    report = Report(not errors, errors[:MAX_ERRORS], warnings[:MAX_ERRORS], rows=len(values),
                    indicators=sorted(values["indicator_id"].unique().tolist()),
                    periods=sorted(values["period"].unique().tolist()), mapping=m.to_json(), columns=raw.header,
                    more_errors=max(0, total_errors - MAX_ERRORS),
                    new_indicators=[asdict(i) for i in created.values()])
    return Checked(report, values.drop(columns="row"))


def _known_indicator(lookup: dict[str, Indicator], viewer: Principal, cell, m: Mapping) -> Indicator | None:
    """The indicator if the cell names one the viewer delivers, else None (the per-row path says why)."""
    problems: list[dict] = []
    ind = _indicator_for(lookup, viewer, cell, 0, m, problems)
    return None if problems else ind


def _clean_period(cell, periodicity: str, boundary_set) -> tuple[str, str] | None:
    """(period, boundary set) when the cell is a valid period of this periodicity inside a set, else None."""
    if cell is None or cell == "" or (isinstance(cell, float) and cell != cell):
        return None
    period = _period_of(cell, periodicity)
    if period is None or _periodicity(period) != periodicity:
        return None
    set_id = boundary_set(period)
    return (period, set_id) if set_id else None


def _indicator_for(lookup: dict[str, Indicator], viewer: Principal, cell, row: int, m: Mapping,
                   errors: list) -> Indicator | None:
    key = str(cell).strip() if cell not in (None, "") else ""
    ind = lookup.get(key)
    if ind is None:
        by_title = {norm_header(i.title_de): i for i in lookup.values()}
        ind = by_title.get(norm_header(key)) if key else None
    if ind is None:
        errors.append(problem("unbekannter Indikator" if key else "Indikator fehlt", row, m.indicator, cell))
        return None
    if not may_deliver(viewer, ind.department):
        # Another department's indicator: named as unknown unless the viewer may know it exists.
        visible = may_know(viewer, ind.visibility, ind.department, ind.id)
        errors.append(problem(f"Indikator gehört dem Fachamt '{ind.department}'; Sie dürfen nur Indikatoren "
                              f"Ihres Fachamts liefern" if visible else "unbekannter Indikator", row, m.indicator,
                              cell))
        return None
    return ind


def _counts(c, decimal: str, m: Mapping, errors: list) -> tuple[float | None, float | None] | None:
    out = []
    for column, cell in ((c.num_col, c.numerator), (c.den_col, c.denominator)):
        status, number, msg = parse_number(cell, decimal)
        if status == "error":
            errors.append(problem(msg, c.row, column, cell))
            return None
        if number is not None and number < 0:
            errors.append(problem("negative Anzahl; erwartet ≥ 0", c.row, column, cell))
            return None
        out.append(number)
    return out[0], out[1]


def _value_from_counts(ind: Indicator, value, status, num, den, c, m: Mapping, errors: list):
    """Rates come with counts where possible: value = num / den × scale, checked if both are given."""
    if ind.aggregation != "ratio" or num is None or den is None:
        return value, status
    if den == 0:
        errors.append(problem("Nenner ist 0", c.row, c.den_col, c.denominator))
        return None, None
    derived = num / den * ind.scale
    if status == "ok" and abs(derived - value) > max(0.051 * 10 ** -ind.decimals * 10, 1e-9 * abs(derived)):
        errors.append(problem(f"Wert passt nicht zu Zähler/Nenner: erwartet {derived:.{ind.decimals + 1}f}",
                              c.row, c.value_col, c.value))
        return None, None
    return derived, "ok"


def _plausible_cell(ind: Indicator, value, num, den, c, m: Mapping, errors: list) -> None:
    if num is not None and den is not None and ind.unit == "%" and num > den:
        errors.append(problem(f"Zähler ({num:g}) größer als Nenner ({den:g})", c.row, c.num_col, c.numerator))
    if value is None:
        return
    if ind.unit == "%" and not 0 <= value <= 100:
        errors.append(problem("Prozentwert außerhalb 0–100", c.row, c.value_col, c.value))
    elif ind.aggregation == "sum" and value < 0 and not ind.diverging:
        errors.append(problem("negative Anzahl; erwartet ≥ 0", c.row, c.value_col, c.value))


def _duplicates(values: pd.DataFrame, m: Mapping) -> list[dict]:
    dupes = values[values.duplicated(["indicator_id", "area_id", "period"], keep=False)]
    out = []
    for (ind, area, per), group in dupes.groupby(["indicator_id", "area_id", "period"], sort=True):
        rows = group["row"].tolist()
        out.append(problem(f"doppelte Zeile: {ind}, Gebiet {area}, {per} steht in den Zeilen "
                           f"{', '.join(map(str, rows))}", rows[1], m.area or m.area_name, area))
    return out


def _warnings(atlas: Atlas, viewer: Principal, values: pd.DataFrame, city_totals: dict,
              lookup: dict[str, Indicator]) -> list[dict]:
    """Plausibility: gaps, jumps against the previous period, outliers, city total. None blocks.

    Vectorised per (indicator, period) group: a million-row extract has
    thousands of groups.
    """
    warnings: list[dict] = []
    present = values.groupby(["indicator_id", "period"], sort=True)["area_id"].agg(set)
    for (ind_id, period), areas in present.items():
        expected = _expected_areas(atlas, period)
        absent = sorted(expected - areas)
        if absent:
            warnings.append(problem(f"{ind_id} {period}: {len(absent)} Ortsteile fehlen in der Lieferung "
                                    f"({', '.join(absent[:10])}{' …' if len(absent) > 10 else ''})"))
    ok = values[values["status"] == "ok"]
    keys = [ok["indicator_id"], ok["period"]]
    size = ok.groupby(keys)["value"].transform("size")
    median = ok.groupby(keys)["value"].transform("median")
    mad = (ok["value"] - median).abs().groupby(keys).transform("median") * 1.4826
    outliers = ok[(size >= 8) & (mad > 0) & ((ok["value"] - median).abs() > 4 * mad)]
    for r, med in zip(outliers.head(MAX_ERRORS).itertuples(), median[outliers.index]):
        warnings.append(problem(f"{r.indicator_id} {r.period}: Ausreißer {r.value:g} im Gebiet {r.area_id} "
                                f"(Median {med:g})", int(r.row), "value", f"{r.value:g}"))
    for (ind_id, period), (total, row) in city_totals.items():
        ind = lookup[ind_id]
        group = values[(values["indicator_id"] == ind_id) & (values["period"] == period)]
        computed = _city_value(ind, group) if len(group) else None
        if computed is not None and not np.isclose(computed, total, rtol=1e-3, atol=10 ** -ind.decimals):
            warnings.append(problem(f"{ind_id} {period}: Summe/Quote über die Ortsteile ergibt {computed:g}, "
                                    f"die Datei nennt für die Stadt {total:g}", row, "value", total))
    return warnings + _jumps(atlas, viewer, ok)


def _expected_areas(atlas: Atlas, period: str) -> set[str]:
    set_id = queries.set_for_period(atlas, period)
    return atlas.cached(("area_set", set_id), lambda: set(queries.areas(atlas, "ortsteil", set_id)["area_id"]))


def _city_value(ind: Indicator, group: pd.DataFrame) -> float | None:
    if ind.aggregation == "sum" and (group["status"] == "ok").all():
        return float(group["value"].sum())
    if ind.aggregation == "ratio" and group["denominator"].notna().all() and group["denominator"].sum() > 0:
        return float(group["numerator"].sum() / group["denominator"].sum() * ind.scale)
    return None


def _jumps(atlas: Atlas, viewer: Principal, ok: pd.DataFrame) -> list[dict]:
    """Changes beyond CHANGE_WARN against each cell's previous period, from the store or this upload."""
    if ok.empty:
        return []
    uploaded = {ind: set(group["period"]) for ind, group in ok.groupby("indicator_id")}
    readable = queries.visible_indicators(atlas, viewer).set_index("id")["periods"].to_dict()
    previous: dict[tuple[str, str], str] = {}
    for ind, periods in uploaded.items():
        known = sorted(set(readable.get(ind, [])) | periods)
        for p in periods:
            earlier = [k for k in known if k < p]
            if earlier:
                previous[(ind, p)] = earlier[-1]
    if not previous:
        return []
    need = [(ind, prev) for (ind, _), prev in previous.items() if prev not in uploaded[ind]]
    stored = queries.cells(atlas, viewer, need)
    base = pd.concat([stored[stored["status"] == "ok"][["indicator_id", "period", "area_id", "value"]],
                      ok[["indicator_id", "period", "area_id", "value"]]], ignore_index=True)
    base = base.drop_duplicates(["indicator_id", "period", "area_id"], keep="last").astype({"value": float})
    cur = ok.assign(prev=[previous.get((i, p)) for i, p in zip(ok["indicator_id"], ok["period"])])
    both = cur.merge(base.rename(columns={"period": "prev", "value": "old"}), on=["indicator_id", "prev", "area_id"])
    both = both[both["old"] != 0]
    both = both[(both["value"] - both["old"]).abs() / both["old"].abs() > CHANGE_WARN]
    return [problem(f"{r.indicator_id} {r.area_id}: {r.old:g} ({r.prev}) → {r.value:g} ({r.period}), "
                    f"Änderung {100 * (r.value - r.old) / abs(r.old):+.0f} %", int(r.row), "value", f"{r.value:g}")
            for r in both.head(MAX_ERRORS).itertuples()]


# ------------------------------------------------------------------ pending uploads
_UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def safe_file_name(name: str) -> str:
    """Only the base name, printable and short: never a path (`../../etc/passwd` → `passwd`)."""
    base = re.split(r"[\\/]", str(name or ""))[-1]
    base = "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*').strip(" .")
    return base[:120] or "upload"


@dataclass
class Pending:
    upload_id: str
    owner: str
    file_name: str
    checksum: str
    created_at: str
    report: dict
    state: str = "checked"  # checked → confirmed | cancelled
    version_ids: list[int] = field(default_factory=list)


class Uploads:
    """Pending uploads live in `data_dir/uploads/<id>/`, outside the store: nothing there is ever read as data."""

    def __init__(self, data_dir: Path):
        self.root = Path(data_dir) / "uploads"

    def _dir(self, upload_id: str) -> Path | None:
        if not isinstance(upload_id, str) or not _UPLOAD_ID.match(upload_id):
            return None
        path = self.root / upload_id
        return path if (path / "meta.json").exists() else None

    def create(self, viewer: Principal, file_name: str, content: bytes, checked: Checked) -> Pending:
        self.purge()  # housekeeping on the way: uploads nobody confirmed within 30 days go
        upload_id = secrets.token_urlsafe(18)
        folder = self.root / upload_id
        folder.mkdir(parents=True)
        pending = Pending(upload_id, viewer.name, safe_file_name(file_name), hashlib.sha256(content).hexdigest(),
                          datetime.now().replace(microsecond=0).isoformat(), checked.report.to_json())
        if checked.report.ok:
            checked.values.to_parquet(folder / "values.parquet", index=False)
        self._save(folder, pending)
        return pending

    def _save(self, folder: Path, pending: Pending) -> None:
        tmp = folder / "meta.json.tmp"
        tmp.write_text(json.dumps(asdict(pending), ensure_ascii=False))
        tmp.replace(folder / "meta.json")

    def get(self, upload_id: str, viewer: Principal) -> Pending | None:
        """The upload if it is the viewer's own (admins see all); None otherwise, as if it did not exist."""
        folder = self._dir(upload_id)
        if folder is None:
            return None
        pending = Pending(**json.loads((folder / "meta.json").read_text()))
        return pending if (viewer.is_admin or pending.owner == viewer.name) and viewer.logged_in else None

    def values(self, upload_id: str) -> pd.DataFrame:
        return pd.read_parquet(self.root / upload_id / "values.parquet")

    def mark(self, pending: Pending, state: str, version_ids: list[int] | None = None) -> None:
        folder = self._dir(pending.upload_id)
        pending.state = state
        pending.version_ids = version_ids or []
        self._save(folder, pending)
        if state == "cancelled":
            (folder / "values.parquet").unlink(missing_ok=True)

    def purge(self, older_than_days: int = 30) -> int:
        """Remove pending uploads nobody confirmed (housekeeping)."""
        n = 0
        cutoff = datetime.now().timestamp() - older_than_days * 86400
        for folder in self.root.glob("*") if self.root.exists() else []:
            if folder.is_dir() and folder.stat().st_mtime < cutoff:
                shutil.rmtree(folder, ignore_errors=True)
                n += 1
        return n


def check_upload(atlas: Atlas, viewer: Principal, file_name: str, content: bytes, mapping: dict | None = None,
                 sheet: str | None = None, definitions: list | None = None) -> Checked:
    """Read and validate; a file that cannot be read at all gives a report with its reasons."""
    try:
        if re.search(r"[\\/]|\.\.|[\x00-\x1f]", file_name or ""):
            raise IngestError([problem("Der Dateiname enthält Pfadangaben oder Steuerzeichen und wird abgelehnt. "
                                       "/ The file name holds a path or control characters.", value=file_name)])
        m = Mapping.from_json(mapping) if mapping else None
        raw = read_table(content, file_name, sheet)
        return check(atlas, viewer, raw, m, definitions)
    except IngestError as exc:
        return Checked(Report(False, exc.problems, []), pd.DataFrame(columns=_EMPTY_VALUES))


def preview_table(atlas: Atlas, values: pd.DataFrame, indicator: Indicator, period: str) -> queries.ValueTable | None:
    """An upload's values for one indicator and period, shaped like the map's table (for the preview map)."""
    part = values[(values["indicator_id"] == indicator.id) & (values["period"] == period)]
    set_id = queries.set_for_period(atlas, period)
    if part.empty or set_id is None:
        return None
    areas = queries.areas(atlas, "ortsteil", set_id)[["area_id", "name", "parent_id"]]
    rows = areas.merge(part[["area_id", "value", "numerator", "denominator", "status"]], on="area_id", how="left")
    rows["status"] = rows["status"].fillna("missing")
    return queries.ValueTable(indicator, period, "ortsteil", set_id, rows)


def pending_indicators(atlas: Atlas, pending: Pending) -> dict[str, Indicator]:
    """The catalogue as the upload sees it: existing indicators plus those it creates."""
    created = {d["id"]: Indicator(**d) for d in pending.report.get("new_indicators", [])}
    return {**atlas.indicator_by_id, **created}
