"""Reading an uploaded table file (CSV or XLSX) into text cells, refusing what is not a table.

Hostile files are expected: size, row count and XLSX expansion are capped,
formulas are refused rather than evaluated, binary content, UTF-16, HTML and
JSON are recognised and named. Every refusal is an `IngestError` whose
problems become entries of the upload's report.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from atlas.messages import Message

MAX_ROWS = 1_000_000
MAX_COLUMNS = 2_000  # a wide table of 100 indicators × 14 years has 1,400 value columns
MAX_CELL_CHARS = 1_000  # an area name or an indicator title is far shorter
MAX_HEADER_PROBLEMS = 500  # as many header problems as the report lists row problems (checks.MAX_ERRORS)
MAX_XLSX_EXPANDED = 300 * 1024 * 1024  # uncompressed bytes a workbook may unpack to
MAX_XLSX_RATIO = 200  # compression ratio beyond which a workbook is treated as a zip bomb
FIELD_LIMIT = 131_072  # characters in one CSV field (the csv module's limit): beyond it a quote is missing


@dataclass(frozen=True)
class Limits:
    """How large a table may be: the operator sets them (atlas.config: ATLAS_UPLOAD_MAX_ROWS, _COLUMNS,
    _CELL_CHARS). Each is checked before the expensive step it protects: a million columns (8 MB) once
    took 150 s and 3.4 GB to parse."""

    rows: int = MAX_ROWS
    columns: int = MAX_COLUMNS
    cell_chars: int = MAX_CELL_CHARS


class IngestError(ValueError):
    """The file cannot be read at all; `problems` say why (each a report entry)."""

    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__("; ".join(p["message"] for p in problems))


def problem(message: str, row: int | None = None, column: str | None = None, value=None) -> dict:
    """A report entry: where (row, column, the cell's content) and what; a `Message` also leaves its key and
    parameters, so the page and the API can say it in the reader's language (atlas.messages)."""
    entry = {"row": row, "column": column, "value": None if value is None else str(value)[:200],
             "message": str(message)}
    if isinstance(message, Message):
        entry.update(message.to_json())
    return entry


def norm_header(text: str) -> str:
    """`Zähler ` → `zaehler`, `Area-ID` → `areaid`: headers compare without case, umlauts, spaces."""
    text = str(text).strip().casefold()
    for a, b in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        text = text.replace(a, b)
    return re.sub(r"[^a-z0-9]", "", text)


@dataclass
class RawTable:
    header: list[str]
    table: pd.DataFrame  # data rows, columns 0..n-1: str from CSV; str, int, float, datetime from XLSX
    numbers: np.ndarray  # the file row (record) number of each table row; the header is row 1
    decimal: str  # "," or "." (how numbers written as text are read)
    kind: str  # "csv" or "xlsx"
    notes: list[str] = field(default_factory=list)  # lines under the table after an empty line (a legend)
    meta: dict[str, str] = field(default_factory=dict)  # a workbook's "Metadaten" sheet: key -> value


def split_notes(filled_cells: np.ndarray) -> int:
    """Where the table ends when notes follow it: the index of the first empty row after which every
    non-empty row has a single cell (a legend, sources, footnotes, as official tables have); else the
    row count. Without an empty line nothing is cut: a row with one cell stays a row the checks name.
    """
    n = len(filled_cells)
    empty = np.flatnonzero(filled_cells == 0)
    for start in empty:
        after = filled_cells[start:]
        if start > 0 and (after <= 1).all() and (after == 1).any():
            return int(start)
    return n


def read_table(content: bytes, filename: str, sheet: str | None = None, limits: Limits = Limits()) -> RawTable:
    """Read CSV or XLSX bytes into text cells; raise IngestError with the reason."""
    if not content:
        raise IngestError([problem(Message("chk_file_empty"))])
    name = filename.lower()
    if content[:4] == b"PK\x03\x04" or name.endswith((".xlsx", ".xlsm")):
        return _read_xlsx(content, sheet, limits)
    if name.endswith((".xls", ".ods")):
        raise IngestError([problem(Message("chk_format_unread"), value=filename)])
    return _read_csv(content, limits)


def too_many_rows(limit: int, row: int | None = None) -> IngestError:
    return IngestError([problem(Message("chk_too_many_rows", limit=limit), row=row)])


def too_many_columns(limit: int, found: int) -> IngestError:
    return IngestError([problem(Message("chk_too_many_columns", found=found, limit=limit), row=1)])


def cell_too_long(limit: int, found: int, row: int | None, column: str | None) -> IngestError:
    return IngestError([problem(Message("chk_cell_too_long", found=found, limit=limit), row=row,
                                column=column)])


def _decode(content: bytes) -> str:
    if content[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise IngestError([problem(Message("chk_utf16"))])
    if b"\x00" in content[:65536]:
        raise IngestError([problem(Message("chk_binary"))])
    if content.startswith(b"\xef\xbb\xbf"):
        text = content[3:].decode("utf-8", errors="strict")
    else:
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError:
            text = content.decode("cp1252", errors="replace")  # what Excel writes on German Windows
            if "\ufffd" in text:
                raise IngestError([problem(Message("chk_encoding"))]) from None
    controls = [c for c in text[:65536] if unicodedata.category(c) == "Cc" and c not in "\r\n\t"]
    if controls:
        raise IngestError([problem(Message("chk_control_chars"))])
    return text


def _read_csv(content: bytes, limits: Limits) -> RawTable:
    try:
        text = _decode(content)
    except UnicodeDecodeError as exc:
        raise IngestError([problem(Message("chk_bad_utf8", byte=exc.start))]) from None
    lines = text.splitlines()
    start = text.lstrip()[:1]
    if start in ("{", "[", "<"):
        kind = "JSON" if start in "{[" else "HTML/XML"
        raise IngestError([problem(Message("chk_not_a_table", kind=kind), row=1,
                                   value=lines[0][:80] if lines else "")])
    if not lines or not lines[0].strip():
        raise IngestError([problem(Message("chk_header_empty"), row=1)])
    first = lines[0]
    delimiter = max((";", ",", "\t"), key=first.count)
    if first.count(delimiter) == 0:
        raise IngestError([problem(Message("chk_one_column"), row=1, value=first[:80])])
    # Before the parser: its cost grows with columns × rows.
    widest = max(line.count(delimiter) for line in lines[:1000]) + 1
    if widest > limits.columns:
        raise too_many_columns(limits.columns, widest)
    if len(lines) - 1 > limits.rows:
        raise too_many_rows(limits.rows, limits.rows + 2)
    table = _arrow_csv(text, delimiter, first.count(delimiter) + 1)
    if table is None:
        try:  # pandas' C parser: a million rows in under a second, no Python object per row
            table = pd.read_csv(io.StringIO(text), sep=delimiter, header=None, dtype=str, keep_default_na=False,
                                na_filter=False, skip_blank_lines=False, engine="c")
        except (pd.errors.ParserError, ValueError) as exc:
            raise IngestError([_parser_problem(str(exc))]) from None
    if len(table) - 1 > limits.rows:
        raise too_many_rows(limits.rows, limits.rows + 2)
    if len(table.columns) > limits.columns:  # a quoted line break can hide columns from the line count
        raise too_many_columns(limits.columns, len(table.columns))
    lengths = {c: table[c].str.len().max() for c in table.columns}
    longest = max(lengths.values(), default=0)
    if longest > FIELD_LIMIT:
        raise IngestError([problem(Message("chk_field_too_long", found=int(longest), limit=FIELD_LIMIT))])
    if longest > limits.cell_chars:
        column = max(lengths, key=lambda c: lengths[c])
        row = int(table[column].str.len().to_numpy().argmax()) + 1
        raise cell_too_long(limits.cell_chars, int(longest), row, str(table.iloc[0, column])[:80])
    if "\ufeff" in text:  # one scan of the text; only then look for the row
        hit = table.apply(lambda col: col.str.contains("\ufeff", regex=False)).any(axis=1)
        raise IngestError([problem(Message("chk_bom_inside"), row=int(hit.idxmax()) + 1)])
    header = [str(h).strip() for h in table.iloc[0]]
    data = table.iloc[1:].fillna("")  # a short line (a legend under the table) has fewer fields
    cells = data.apply(lambda col: col.str.strip() != "").to_numpy()
    end = split_notes(cells.sum(axis=1))
    notes = [next((v for v in row if str(v).strip()), "") for row in data.iloc[end:].itertuples(index=False)]
    # Blank lines keep their numbers (messages name file rows) but hold no cells.
    filled = cells[:end].any(axis=1)
    decimal = "," if delimiter == ";" else "."
    return _checked(RawTable(header, data.iloc[:end][filled].reset_index(drop=True), np.flatnonzero(filled) + 2,
                             decimal, "csv", [str(n).strip() for n in notes if str(n).strip()]))


def _arrow_csv(text: str, delimiter: str, width: int) -> pd.DataFrame | None:
    """The table as pandas' parser reads it, from Arrow's (a third of the time at a million rows, issue 19),
    or None to leave it to pandas: only a file without quotes or NUL, whose every line has the first line's
    fields. Then both parsers split on the delimiter and on line ends alike (read as large strings, as pandas
    keeps them: no copy on the way to pandas); every other file (quoted cells,
    blank or short lines, a line too long) goes to pandas, which also words the errors."""
    if '"' in text or "\x00" in text:
        return None
    from pyarrow import csv as arrow_csv
    names = [f"f{i}" for i in range(width)]
    try:
        table = arrow_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=arrow_csv.ReadOptions(column_names=names, block_size=1 << 30),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, quote_char=False, double_quote=False,
                                                 ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(column_types={n: pa.large_string() for n in names},
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, ValueError):
        return None
    frame = table.to_pandas()
    frame.columns = range(width)
    return frame


def _parser_problem(message: str) -> dict:
    """pandas' tokenizer message, said for a person: which line has how many fields."""
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", message)
    if m:
        return problem(Message("chk_field_count", row=int(m[2]), found=int(m[3]), header=int(m[1])), row=int(m[2]))
    return problem(Message("chk_csv_unreadable", reason=message[:200]))


def _read_xlsx(content: bytes, sheet: str | None, limits: Limits) -> RawTable:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as z:
            infos = z.infolist()
            expanded = sum(i.file_size for i in infos)
            packed = max(sum(i.compress_size for i in infos), 1)
            if expanded > MAX_XLSX_EXPANDED or expanded / packed > MAX_XLSX_RATIO:
                raise IngestError([problem(Message("chk_zip_bomb", mb=round(expanded / 1e6),
                                                   ratio=round(expanded / packed)))])
            if "xl/workbook.xml" not in {i.filename for i in infos}:
                raise IngestError([problem(Message("chk_zip_not_xlsx"))])
        wb = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except IngestError:
        raise
    except Exception as exc:  # openpyxl raises many types for damaged files
        raise IngestError([problem(Message("chk_xlsx_damaged", error=type(exc).__name__))]) from None
    try:
        if sheet is not None and sheet not in wb.sheetnames:
            raise IngestError([problem(Message("chk_sheet_missing", sheet=repr(sheet), sheets=list(wb.sheetnames)),
                                       value=sheet)])
        if not wb.worksheets:
            raise IngestError([problem(Message("chk_no_sheet"))])
        ws = wb[sheet] if sheet else wb.worksheets[0]
        if not hasattr(ws, "iter_rows"):
            raise IngestError([problem(Message("chk_chart_sheet"), value=sheet)])
        rows: list = []
        header: list[str] | None = None
        for r, row in enumerate(ws.iter_rows(max_col=limits.columns + 1), start=1):
            cells = []
            for c in row:
                if c.data_type == "f" or (isinstance(c.value, str) and c.value.startswith("=")):
                    raise IngestError([problem(Message("chk_formula"), row=r, column=getattr(c, "coordinate", None),
                                               value=c.value)])
                if isinstance(c.value, str) and len(c.value) > limits.cell_chars:
                    raise cell_too_long(limits.cell_chars, len(c.value), r, getattr(c, "coordinate", None))
                cells.append(c.value)
            while cells and cells[-1] in (None, ""):
                cells.pop()
            if len(cells) > limits.columns:
                raise too_many_columns(limits.columns, len(cells) if ws.max_column is None else ws.max_column)
            if header is None:
                header = ["" if v is None else str(v).strip() for v in cells]
                continue
            if len(rows) >= limits.rows:
                raise too_many_rows(limits.rows, r)
            rows.append(cells if any(v not in (None, "") for v in cells) else None)
        meta = _metadata_sheet(wb, ws)
    finally:
        wb.close()
    if header is None:
        raise IngestError([problem(Message("chk_sheet_empty"))])
    while header and header[-1] == "":
        header.pop()
    width = len(header)
    end = split_notes(np.array([0 if r is None else sum(v not in (None, "") for v in r) for r in rows], dtype=int))
    notes = [str(next(v for v in r if v not in (None, ""))).strip() for r in rows[end:] if r is not None]
    filled = [(n, r[:width] + [None] * (width - len(r))) for n, r in enumerate(rows[:end], start=2) if r is not None]
    table = pd.DataFrame([r for _, r in filled], columns=range(width), dtype=object) if filled else \
        pd.DataFrame(columns=range(width), dtype=object)
    return _checked(RawTable(header, table, np.array([n for n, _ in filled], dtype=int), ",", "xlsx", notes, meta))


METADATA_SHEETS = ("Metadaten", "Metadata")
MAX_METADATA_ROWS = 1000


def _metadata_sheet(wb, values_sheet) -> dict[str, str]:
    """Key/value lines of a "Metadaten" sheet beside the values (the atlas's own XLSX export has one).

    Read as text only, never evaluated; the checks take the period from it
    when the values sheet has no period column.
    """
    name = next((n for n in wb.sheetnames if n in METADATA_SHEETS and n != values_sheet.title), None)
    if name is None:
        return {}
    meta: dict[str, str] = {}
    for r, row in enumerate(wb[name].iter_rows(max_col=2, values_only=True)):
        if r >= MAX_METADATA_ROWS:
            break
        if row and row[0] not in (None, "") and len(row) > 1 and row[1] not in (None, ""):
            meta.setdefault(str(row[0]).strip(), str(row[1]).strip())
    return meta


def _checked(raw: RawTable) -> RawTable:
    problems = []
    seen: dict[str, int] = {}
    for i, h in enumerate(raw.header, start=1):
        if not h:
            column = raw.table[i - 1] if i - 1 in raw.table.columns else pd.Series(dtype=object)
            if (column.notna() & (column.astype(str) != "")).any():
                problems.append(problem(Message("chk_column_no_header"), row=1, column=f"#{i}"))
            continue
        key = norm_header(h)
        if key in seen:
            problems.append(problem(Message("chk_header_twice", first=seen[key], second=i), row=1, column=h))
        seen[key] = i
    if raw.table.empty:
        problems.append(problem(Message("chk_header_only"), row=2))
    if len(problems) > MAX_HEADER_PROBLEMS:  # a header of a million duplicates: the report stays readable
        more = len(problems) - (MAX_HEADER_PROBLEMS - 1)
        problems = problems[:MAX_HEADER_PROBLEMS - 1] + [problem(
            Message("chk_more_header_problems", n=more), row=1)]
    if problems:
        raise IngestError(problems)
    return raw
