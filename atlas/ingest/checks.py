"""Ingest: map a department's extract onto the model and check every cell before anything is stored.

The file is read by `tablefile` (CSV as Excel writes it, plain CSV, XLSX),
its columns mapped (German/English headers, long or wide layouts, or the
steward's own mapping), and every cell checked: each problem names the row,
the column, the value and what was expected; plausibility warnings do not
block. Clean cells are accepted column-wise by `bulkcheck`; all others go
through the per-row checks here, which word the report. The result waits as
a pending upload (`uploads`) until `uploads.confirm` stores it.
"""
from __future__ import annotations

import difflib
import re
import time
from dataclasses import asdict, dataclass, field
from typing import Callable

import numpy as np
import pandas as pd

from atlas.catalog import Indicator
from atlas.formatting import format_number
from atlas.ingest import bulkcheck
from atlas.ingest.areas import AreaMatcher, key_column_score
from atlas.ingest.cells import (
    GIVEN_VALUE_PRECISION,
    MISSING_MARKS,
    SUPPRESSED_MARKS,
    cached_end,
    cached_period,
    cached_periodicity,
    is_date,
    parse_number,
    parse_period,
)
from atlas.ingest.tablefile import (
    IngestError,
    Limits,
    RawTable,
    norm_header,
    problem,
    read_table,
)
from atlas.messages import Message, both, number
from atlas.messages import period as period_param
from atlas.services import queries, territory
from atlas.services.boundaries import is_unassigned
from atlas.services.context import Atlas
from auth.permissions import (
    Principal,
    may_deliver,
    may_deliver_outside,
    may_know,
    may_publish_directly,
)

MAX_ERRORS = 500  # a report lists this many problems, then says how many more there are
Progress = Callable[[str, float], None]  # (stage, share done 0..1)
CHANGE_WARN = 0.5  # relative change against the previous period that earns a warning

ROLES = ("area", "area_name", "indicator", "period", "value", "numerator", "denominator")
SYNONYMS = {
    "area": ["ortsteil", "gebiet", "schluessel", "gebietsschluessel", "ortsteilschluessel", "ortsteilnummer",
             "ortsteilnr", "area", "areaid", "areakey", "key", "code", "plrid", "id"],
    "area_name": ["name", "gebietsname", "ortsteilname", "bezeichnung", "areaname", "gebietsbezeichnung"],
    "indicator": ["indikator", "indicator", "indikatorid", "indicatorid", "kennzahl", "merkmal"],
    "period": ["jahr", "zeitraum", "stichtag", "period", "year", "datum", "date", "quartal", "quarter"],
    "value": ["wert", "value", "wertanteil"],
    "numerator": ["zaehler", "numerator", "zahler"],
    "denominator": ["nenner", "denominator"],
}
# Headers that name an area column by their ending ("pgr_id", "bzrNAME"), when no synonym claims them;
# which of them holds keys and which names is decided by their content.
AREA_KEY_ENDINGS = ("id", "nr", "nummer", "schluessel", "key", "code")
AREA_NAME_ENDINGS = ("name", "bezeichnung")
PERIOD_META = ("zeitraum", "zeitraeume", "period", "periods")  # a legend or metadata line naming the period


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
    # column -> [indicator id, period]: a wide table with a column per indicator and period ("bev_u6_2024_Q3")
    cell_columns: dict[str, list[str]] = field(default_factory=dict)

    @property
    def layout(self) -> str:
        if self.cell_columns:
            return "wide_cells"
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
            raise IngestError([problem(Message("chk_mapping_not_object"))])
        allowed = set(cls.__dataclass_fields__)
        unknown = set(data) - allowed
        if unknown:
            raise IngestError([problem(Message("chk_mapping_unknown", unknown=str(sorted(unknown)[:20]),
                                               allowed=str(sorted(allowed))))])
        wrong = [k for k, v in data.items() if not _mapping_value_ok(k, v)]
        if wrong:
            raise IngestError([problem(Message("chk_mapping_shape", fields=sorted(wrong)), column="mapping")])
        return cls(**data)


MAX_MAPPING_ENTRIES = 10_000  # column assignments in a mapping (more than any table has columns)


def _mapping_value_ok(key: str, value) -> bool:
    """A mapping field has the type its reader expects: a column name, or a small dict of names."""
    def text(v) -> bool:
        return isinstance(v, str) and len(v) <= 1000
    if value is None:
        return True
    if key in ("indicator_columns", "period_columns"):
        return isinstance(value, dict) and len(value) <= MAX_MAPPING_ENTRIES and all(
            text(k) and text(v) for k, v in value.items())
    if key == "measures":
        return isinstance(value, dict) and len(value) <= MAX_MAPPING_ENTRIES and all(
            text(k) and isinstance(v, dict) and all(text(a) and text(b) for a, b in v.items())
            for k, v in value.items())
    if key == "cell_columns":
        return isinstance(value, dict) and len(value) <= MAX_MAPPING_ENTRIES and all(
            text(k) and isinstance(v, list) and all(text(p) for p in v) for k, v in value.items())
    if key == "fixed_period" and isinstance(value, int) and not isinstance(value, bool):
        return True  # {"fixed_period": 2024}, as a script may send it
    return text(value)


def known_indicators(atlas: Atlas, viewer: Principal) -> dict[str, Indicator]:
    """The catalogue as this viewer may know it: an indicator they may not see is, for the checks, one that
    does not exist (no column is mapped to it, its id counts as free, messages never name it)."""
    return {i.id: i for i in atlas.indicators if may_know(viewer, i.visibility, i.department, i.id)}


def detect_mapping(header: list[str], atlas: Atlas, viewer: Principal, raw: RawTable | None = None,
                   matcher: AreaMatcher | None = None) -> Mapping:
    """Recognise German and English headers, indicator ids/titles, period columns and key and name columns.

    A key column and a name column side by side are both used (the key
    decides, the name cross-checks); which is which is read from their
    content when the headers do not say it (`Ortsteilnummer`, `Ortsteil`).
    Only indicators the viewer may know are recognised: the returned mapping
    goes back in the report.
    """
    m = Mapping()
    known = list(known_indicators(atlas, viewer).values())
    titles = {norm_header(i.id): i.id for i in known}
    titles.update({norm_header(i.title_de): i.id for i in known})
    titles.update({norm_header(i.title_en): i.id for i in known})
    ids = sorted((i.id for i in known), key=len, reverse=True)
    area_columns: list[tuple[str, str, bool]] = []  # (column, role by its header, named by a synonym)
    for col in header:
        if not col:
            continue
        key = norm_header(col)
        role = next((r for r, words in SYNONYMS.items() if key in words), None)
        if role in ("area", "area_name"):
            area_columns.append((col, role, True))
        elif role and getattr(m, role) is None:
            setattr(m, role, col)
        elif key in titles:
            m.indicator_columns[col] = titles[key]
        elif parse_period(col) is not None:
            m.period_columns[col] = col  # read per row: a Stichtag means a quarter for quarterly indicators
        elif (cell := _indicator_and_period(col, ids)) is not None:
            m.cell_columns[col] = cell
        elif not role and key.endswith(AREA_NAME_ENDINGS):
            area_columns.append((col, "area_name", False))
        elif not role and key.endswith(AREA_KEY_ENDINGS):
            area_columns.append((col, "area", False))
    if m.indicator_columns and m.value:  # a "Wert" column and indicator-named columns: long wins
        m.indicator_columns = {}
    _assign_area_columns(m, area_columns, raw, matcher or AreaMatcher(atlas))
    if raw is not None and not (m.period or m.period_columns or m.cell_columns):
        m.fixed_period = _period_from_notes(raw)
    return m


def _indicator_and_period(column: str, ids: list[str]) -> list[str] | None:
    """`bev_u6_2024_Q3` → ['bev_u6', '2024-Q3']: the atlas's wide export names columns so."""
    for ind_id in ids:
        if column.startswith(ind_id + "_"):
            period = parse_period(column[len(ind_id) + 1:].replace("_", "-"))
            if period is not None:
                return [ind_id, period]
    return None


def _assign_area_columns(m: Mapping, columns: list[tuple[str, str, bool]], raw: RawTable | None,
                         matcher: AreaMatcher) -> None:
    """Key column and name column: by content when there are several candidates, else by the header."""
    if len(columns) > 1 and raw is not None:
        idx = {h: i for i, h in enumerate(raw.header) if h}
        scores = {col: key_column_score(matcher, raw.table[idx[col]]) for col, _, _ in columns if col in idx}
        keyed = max(scores, key=lambda c: scores[c][0], default=None)
        if keyed is not None and scores[keyed][0] > 0:
            m.area = keyed
        named = max((c for c in scores if c != m.area), key=lambda c: scores[c][1], default=None)
        if named is not None and scores[named][1] > 0:
            m.area_name = named
    for col, role, by_synonym in columns:  # what the content did not settle, the headers do
        if (not by_synonym and len(columns) > 1) or col in (m.area, m.area_name):
            continue
        if getattr(m, role) is None:
            setattr(m, role, col)
        elif role == "area" and m.area_name is None:
            m.area_name = col  # a second area column ("Schlüssel", "Gebiet"): the name beside the key


def _period_from_notes(raw: RawTable) -> str | None:
    """The one period a legend line or a metadata sheet names ("Zeiträume: 2024"), for a table without one."""
    lines = list(raw.meta.items()) + [tuple(n.split(":", 1)) for n in raw.notes if ":" in n]
    for key, value in lines:
        if norm_header(key) in PERIOD_META:
            periods = [p.strip() for p in str(value).split(",") if p.strip()]
            if len(periods) == 1 and parse_period(periods[0]) is not None:
                return periods[0]
    return None


def _columns_text(header: list[str]) -> str:
    """The file's columns for a message: the first 30 (a message must stay short however wide the file)."""
    named = [h for h in header if h]
    return ", ".join(named[:30]) + (f" … ({len(named)})" if len(named) > 30 else "")


def mapping_problems(m: Mapping, header: list[str]) -> list[dict]:
    """What the steward still has to tell us (answered with the `mapping` field)."""
    problems = []

    def no_such_column(col: str) -> dict:
        """The first missing column names the file's columns; the rest point to it (a mapping of 5,000 wrong
        columns once repeated the same list 500 times)."""
        if any(p.get("key") == "chk_no_such_column" for p in problems):
            return problem(Message("chk_no_such_column_again", column=repr(col)), column=col)
        return problem(Message("chk_no_such_column", column=repr(col), columns=_columns_text(header)), column=col)

    for role in ROLES:
        col = getattr(m, role)
        if col and col not in header:
            problems.append(no_such_column(col))
    measure_cols = [c for spec in m.measures.values() if isinstance(spec, dict) for c in spec.values()]
    for col in list(m.indicator_columns) + list(m.period_columns) + measure_cols + list(m.cell_columns):
        if col not in header:
            problems.append(no_such_column(col))
            if len(problems) > MAX_ERRORS:
                break
    for ind_id, spec in m.measures.items():
        if not isinstance(spec, dict) or not set(spec) <= {"value", "numerator", "denominator"} or not spec:
            problems.append(problem(Message("chk_measures_shape", id=repr(ind_id)), column="measures"))
    for col, cell in m.cell_columns.items():
        if not (isinstance(cell, (list, tuple)) and len(cell) == 2):
            problems.append(problem(Message("chk_cell_columns_shape", column=repr(col)), column="cell_columns"))
    if not (m.area or m.area_name):
        problems.append(problem(Message("chk_no_area_column"), column="area"))
    if not (m.indicator or m.indicator_columns or m.measures or m.fixed_indicator or m.cell_columns):
        problems.append(problem(Message("chk_no_indicator_column"), column="indicator"))
    if not (m.period or m.period_columns or m.fixed_period or m.cell_columns):
        problems.append(problem(Message("chk_no_period_column"), column="period"))
    if m.layout == "long" and not (m.value or m.numerator):
        problems.append(problem(Message("chk_no_value_column"), column="value"))
    return problems


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
    # The boundary set the delivery named (publisher data on older units); None: each period's own set.
    boundary_set: str | None = None
    # What the check did with rows that are not plain areas (total rows, not-assignable cases, 'x' cells),
    # so the steward sees where every row went; not problems.
    notes: list[dict] = field(default_factory=list)

    def to_json(self) -> dict:
        return asdict(self)


@dataclass
class Checked:
    report: Report
    values: pd.DataFrame  # indicator_id, area_id, period, period_end, value, numerator, denominator, status


_EMPTY_VALUES = ["indicator_id", "area_id", "period", "period_end", "value", "numerator", "denominator", "status"]


def cell_frame(raw: RawTable, m: Mapping) -> pd.DataFrame:
    """The table as one row per (area, indicator, period) cell, with the file row and the columns it came from.

    Built column by column (a million cells are a million rows here); keys
    stay text, in the columns' own types (see `_as_cells`).
    """
    table, numbers = raw.table, raw.numbers
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
    if m.layout == "wide_cells":
        parts = [part(cell[0], cell[1], col(c), empty, empty, c, None, None, k)
                 for k, (c, cell) in enumerate(m.cell_columns.items())]
    elif m.layout == "wide_measures":
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
                                     for k, v in p.items()}, index=range(len(numbers)))
                       for p in parts], ignore_index=True)
    frame["row"] = frame["row"].astype(int)
    if len(parts) == 1:  # a long table is in the file's order already
        return frame
    # The file's order: every cell of row 2, then row 3 …, so the report reads top to bottom.
    return frame.sort_values(["row", "order"], kind="stable").reset_index(drop=True)


def _as_cells(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows for the per-row check: plain Python values, an empty cell as None.

    The cell frame keeps the reader's column types (pandas' string columns
    for a CSV), since converting a million cells to Python objects cost more
    than checking them; only the rows the fast path left are converted.
    """
    cells = frame.astype(object)
    return cells.where(frame.notna(), None)


def new_indicators(atlas: Atlas, viewer: Principal, definitions: list | None) -> tuple[dict[str, Indicator],
                                                                                     list[dict], list[dict]]:
    """Indicators defined with the upload: (by id, problems, notes). Public visibility waits for an admin.

    "ID gibt es schon" only for an id the viewer may know; a hidden indicator's id passes the check like a
    free one (the confirmation still refuses to create a second indicator under it).
    """
    from atlas.catalog import CatalogError, check_new_indicator
    known = known_indicators(atlas, viewer)
    out: dict[str, Indicator] = {}
    problems, notes = [], []
    if definitions is None:
        return out, problems, notes
    if not isinstance(definitions, list):
        return out, [problem(Message("chk_new_not_list"), column="new_indicators")], []
    if len(definitions) > MAX_NEW_INDICATORS:
        return out, [problem(Message("chk_new_too_many", limit=MAX_NEW_INDICATORS, n=len(definitions)),
                             column="new_indicators")], []
    for n, raw in enumerate(definitions, start=1):
        try:
            ind = check_new_indicator(raw, set(atlas.domain_by_id), set(atlas.departments))
        except CatalogError as exc:
            problems.append(problem(Message("chk_new_invalid", n=n, reason=exc.args[0]), column="new_indicators"))
            continue
        if ind.id in known or ind.id in out:
            problems.append(problem(Message("chk_new_exists", id=repr(ind.id)), column="new_indicators",
                                    value=ind.id))
        elif not may_deliver(viewer, ind.department):
            problems.append(problem(Message("chk_new_other_department", id=ind.id), column="new_indicators",
                                    value=ind.department))
        else:
            if ind.visibility == "public" and not may_publish_directly(viewer):
                notes.append(problem(Message("chk_new_public_later", id=ind.id), column="new_indicators"))
            out[ind.id] = ind
    return out, problems, notes


MAX_NEW_INDICATORS = 100


# The quantities a total row states, as the report's column says them (German) and as a message says them.
QUANTITY_WORDS = {"Wert": "chk_q_value", "Zähler": "chk_q_numerator", "Nenner": "chk_q_denominator"}
PERIODICITY_WORDS = {"year": (Message("chk_pw_year"), "2024"),
                     "quarter": (Message("chk_pw_quarter"), Message("chk_pe_quarter")),
                     "month": (Message("chk_pw_month"), Message("chk_pe_month"))}


@dataclass
class _TotalRow:
    """A total row of the file (the city's or a parent's): compared with the sum of its parts, never stored."""

    indicator_id: str
    period: str
    set_id: str
    area_id: str
    text: str  # as the file wrote it, for the message
    row: int
    value: float | None
    numerator: float | None
    denominator: float | None


def _no_progress(stage: str, share: float) -> None:
    """The default: a check in the request itself tells nobody how far it is."""


def check(atlas: Atlas, viewer: Principal, raw: RawTable, mapping: Mapping | None = None,
          definitions: list | None = None, total_tolerance=None, on_set: str | None = None,
          progress: Progress = _no_progress) -> Checked:
    """Validate a read table completely; nothing is stored here.

    `total_tolerance`: how far a count may differ from the file's total row
    (publishers that round their totals say so explicitly); default exact.
    `on_set`: the boundary set the delivery is keyed on, named explicitly
    (publishers keep some tables on older units); default: each period's set.
    `progress(stage, share)` hears how far the check is (background checks show it).
    """
    deadline = _Deadline(atlas.settings.check_max_seconds)
    created, def_problems, def_notes = new_indicators(atlas, viewer, definitions)
    matcher = AreaMatcher(atlas)
    m = mapping or detect_mapping(raw.header, atlas, viewer, raw, matcher)
    tolerance, tolerance_problems = _tolerance(total_tolerance)
    errors = def_problems + tolerance_problems + mapping_problems(m, raw.header) + _set_problems(atlas, on_set)
    report = Report(False, errors[:MAX_ERRORS], [], mapping=m.to_json(), columns=raw.header,
                    more_errors=max(0, len(errors) - MAX_ERRORS))
    if errors:
        return Checked(report, pd.DataFrame(columns=_EMPTY_VALUES))
    lookup = {**known_indicators(atlas, viewer), **created}
    progress("cells", 0.2)
    frame = cell_frame(raw, m)
    raw.table = raw.table.iloc[0:0]  # the cell frame holds everything now; a large file should not be kept twice
    errors, warnings, good = [], [], []
    totals: list[_TotalRow] = []
    name_warnings: dict[str, list[int]] = {}  # a name that does not fit its key: said once, with its rows
    absent_rows: list[int] = []  # 'x' cells of areas that did not exist in that period
    set_of: dict[str, str | None] = {}  # period -> boundary set, looked up once per period
    area_column = m.area or m.area_name

    def boundary_set(period: str) -> str | None:
        if period not in set_of:
            set_of[period] = on_set or queries.set_for_period(atlas, period)
        return set_of[period]

    def stored_area(set_id: str, key, name) -> str | None:
        """The fast path takes only rows whose area is plain: no total, no warning, no error."""
        match = matcher.match(set_id, key, name)
        return match.area_id if match.stored and not match.warning else None

    accepted, slow = bulkcheck.accept(
        frame, indicator_of=lambda cell: _known_indicator(lookup, viewer, cell, m),
        period_of=lambda cell, periodicity: _clean_period(cell, periodicity, boundary_set),
        area_of=stored_area, decimal=raw.decimal, missing=MISSING_MARKS, suppressed=SUPPRESSED_MARKS,
        text_only=raw.kind == "csv")
    # Everything the fast path did not accept is checked cell by cell, which words every problem.
    n_slow = int(slow.sum())
    progress("rows", 0.4)
    slow_cells = _as_cells(frame[slow])
    del frame  # the accepted rows hold what they need; the cell frame of a million rows goes before `values`
    for i, c in enumerate(slow_cells.itertuples(index=False)):
        if i % 20_000 == 0 and i:
            progress("rows", 0.4 + 0.4 * i / n_slow)
        deadline.check()
        row_errors = len(errors)
        ind = _indicator_for(lookup, viewer, c.indicator, c.row, m, errors)
        period = _period_for(ind, c, m, errors)
        set_id = boundary_set(period) if period else None
        if period and set_id is None:
            errors.append(problem(Message("chk_no_set_for_period", period=period_param(period)), c.row, m.period, c.period))
        if ind is None or set_id is None or len(errors) > row_errors:
            continue
        # Every problem of a row is reported, not only the first one.
        match = matcher.match(set_id, c.area, c.area_name)
        if match.kind == "error":
            if _absent_then(matcher, set_id, c):
                absent_rows.append(c.row)
                continue  # 'x' in a wide table: the area did not exist in this period's boundary set
            errors.append(problem(match.error, c.row, area_column,
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
        if match.kind == "total":  # compared with the sum of its parts below, not stored
            text = str(c.area_name if c.area_name not in (None, "") else c.area)
            totals.append(_TotalRow(ind.id, period, set_id, match.area_id, text, c.row,
                                    value if status == "ok" else None, num, den))
            continue
        _plausible_cell(ind, value, num, den, c, m, errors)
        if len(errors) > row_errors:
            continue
        if match.warning:
            name_warnings.setdefault(match.warning, []).append(c.row)
        good.append({"indicator_id": ind.id, "area_id": match.area_id, "period": period,
                     "period_end": cached_end(period), "value": value, "numerator": num, "denominator": den,
                     "status": status, "row": c.row})
    period_codes, distinct_periods = pd.factorize(accepted["period"])
    period_ends = pd.Series(np.array([cached_end(p) for p in distinct_periods] + [None], dtype=object)[period_codes],
                            index=accepted.index, dtype=object)  # shared objects, as in `bulkcheck._shared`
    values = accepted.assign(period_end=period_ends)
    del accepted
    if good:  # else no concat: with an empty frame it turned a million floats into objects and back (issue 19)
        values = pd.concat([values, pd.DataFrame(good, columns=_EMPTY_VALUES + ["row"])], ignore_index=True)
    if not values["row"].is_monotonic_increasing:  # the fast path keeps the file's order; the rows joined it
        values = values.sort_values("row", kind="stable")
    values = values.reset_index(drop=True)[_EMPTY_VALUES + ["row"]]
    values = values.astype({"value": float, "numerator": float, "denominator": float})
    names = _Names(matcher, lookup, boundary_set)
    deadline.check()
    progress("compare", 0.85)
    errors += _duplicates(values, m, names)
    errors += _outside_organisation(atlas, viewer, values, names, area_column)
    if not errors:
        total_errors, total_warnings = _check_totals(values, totals, lookup, matcher, names, tolerance)
        errors += total_errors
        warnings = def_notes + _name_warnings(name_warnings) + total_warnings + _warnings(atlas, viewer, values,
                                                                                          names, on_set)
    notes = _notes(values, totals, absent_rows, names) if not errors else []
    total_errors = len(errors)
    report = Report(not errors, errors[:MAX_ERRORS], warnings[:MAX_ERRORS], rows=len(values),
                    indicators=sorted(values["indicator_id"].unique().tolist()),
                    periods=sorted(values["period"].unique().tolist()), mapping=m.to_json(), columns=raw.header,
                    more_errors=max(0, total_errors - MAX_ERRORS),
                    new_indicators=[asdict(i) for i in created.values()], notes=notes, boundary_set=on_set)
    return Checked(report, values.drop(columns="row"))


def _set_problems(atlas: Atlas, on_set: str | None) -> list[dict]:
    """A named boundary set must exist: say which ones do."""
    if not on_set:
        return []
    known = queries.boundary_sets(atlas)
    if on_set in set(known["set_id"]):
        return []
    listed = ", ".join(f"{r.set_id} ({r.label})" for r in known.itertuples())
    return [problem(Message("chk_no_such_set", set=repr(on_set), sets=listed), column="boundary_set", value=on_set)]


def _rows_text(rows: list[int]) -> Message:
    """'Zeilen 3, 4, 9 …' / 'rows 3, 4, 9 …': the first ten rows of a finding."""
    rows = sorted(rows)
    shown = ", ".join(map(str, rows[:10])) + (" …" if len(rows) > 10 else "")
    return Message("chk_rows" if len(rows) > 1 else "chk_row", rows=shown)


def _notes(values: pd.DataFrame, totals: list[_TotalRow], absent_rows: list[int], names: _Names) -> list[dict]:
    """Where the rows went that are not plain areas: compared totals, not-assignable cases, skipped 'x'."""
    notes = []
    if totals:
        rows = _rows_text([t.row for t in totals])
        notes.append(problem(Message("chk_note_totals" if len(totals) > 1 else "chk_note_total", n=len(totals),
                                     rows=rows), totals[0].row))
    codes, ids = pd.factorize(values["area_id"])
    unassigned = np.array([is_unassigned(a) for a in ids] + [False], dtype=bool)[codes]
    if unassigned.any():
        part = values[unassigned]
        first = part.iloc[0]
        notes.append(problem(Message("chk_note_unassigned", n=len(part), rows=_rows_text(part["row"].tolist()),
                                     example=names.area(first["area_id"], first["period"])), int(first["row"])))
    if absent_rows:
        notes.append(problem(Message("chk_note_absent", n=len(absent_rows), rows=_rows_text(absent_rows)),
                             absent_rows[0]))
    return notes


class _Names:
    """How messages name things: indicator titles (both languages), 'Altstadt (0101)', periods and numbers as
    parameters that atlas.messages renders in the reader's language."""

    def __init__(self, matcher: AreaMatcher, lookup: dict[str, Indicator], boundary_set):
        self.matcher, self.lookup, self.boundary_set = matcher, lookup, boundary_set

    def indicator(self, ind_id: str) -> dict | str:
        ind = self.lookup.get(ind_id)
        return both(ind.title_de, ind.title_en) if ind else ind_id

    def area(self, area_id: str, period: str) -> str:
        return self.matcher.label(self.boundary_set(period), area_id)

    @staticmethod
    def period(period: str) -> dict:
        return period_param(period)

    def number(self, ind_id: str, value: float, unit: bool = True) -> dict:
        """A value as the indicator shows it: its decimals, its unit (unless `unit` is False)."""
        ind = self.lookup.get(ind_id)
        return number(value, ind.decimals if ind else 1, ind.unit if ind and unit else "")

    def cell(self, ind_id: str, value: float) -> str:
        """A value for a report's content column (German, as the file may have said it): decimals, no unit."""
        ind = self.lookup.get(ind_id)
        return format_number(value, ind.decimals if ind else 1)


def german(value: float, decimals: int = 0) -> str:
    """A number for a message: German separators, never scientific notation, as many decimals as it has."""
    for d in range(decimals, 7):
        if abs(round(value, d) - value) <= 1e-9 * max(1.0, abs(value)):
            return format_number(value, d)
    return format_number(value, 6)


def _tolerance(option) -> tuple[float, list[dict]]:
    """The upload's stated rounding tolerance for total rows (default 0: counts must add up exactly)."""
    if option in (None, ""):
        return 0.0, []
    status, number, _ = parse_number(option, "," if "," in str(option) else ".")
    if status != "ok" or number is None or number < 0:
        return 0.0, [problem(Message("chk_tolerance"), column="total_tolerance", value=option)]
    return number, []


def _period_for(ind: Indicator | None, c, m: Mapping, errors: list) -> str | None:
    """The cell's period, or None with the reason in `errors`."""
    if c.period in (None, ""):
        errors.append(problem(Message("chk_period_missing"), c.row, m.period, c.period))
        return None
    period = cached_period(c.period, ind.periodicity if ind else None)
    word, example = PERIODICITY_WORDS.get(ind.periodicity, (ind.periodicity, "")) if ind else ("", "")
    if period is None and ind and parse_period(c.period) is not None:
        errors.append(problem(Message("chk_day_not_periodicity", title=both(ind.title_de, ind.title_en), id=ind.id,
                                      word=word, example=example), c.row, m.period, c.period))
    elif period is None and is_date(c.period):
        errors.append(problem(Message("chk_day_not_end"), c.row, m.period, c.period))
    elif period is None:
        errors.append(problem(Message("chk_period_unreadable"), c.row, m.period, c.period))
    elif ind and cached_periodicity(period) != ind.periodicity:
        errors.append(problem(Message("chk_period_not_periodicity", period=period_param(period),
                                      title=both(ind.title_de, ind.title_en), id=ind.id, word=word, example=example),
                              c.row, m.period, c.period))
        return None
    return period


def _absent_then(matcher: AreaMatcher, set_id: str, c) -> bool:
    """'x' for an area of another boundary set: the atlas's wide export marks "did not exist then" so."""
    mark = str(c.value).strip().casefold() if c.value is not None else ""
    return (mark == "x" and c.numerator in (None, "") and c.denominator in (None, "")
            and matcher.exists_elsewhere(set_id, c.area))


def _known_indicator(lookup: dict[str, Indicator], viewer: Principal, cell, m: Mapping) -> Indicator | None:
    """The indicator if the cell names one the viewer delivers, else None (the per-row path says why)."""
    problems: list[dict] = []
    ind = _indicator_for(lookup, viewer, cell, 0, m, problems)
    return None if problems else ind


def _clean_period(cell, periodicity: str, boundary_set) -> tuple[str, str] | None:
    """(period, boundary set) when the cell is a valid period of this periodicity inside a set, else None."""
    if cell is None or cell == "" or (isinstance(cell, float) and cell != cell):
        return None
    period = cached_period(cell, periodicity)
    if period is None or cached_periodicity(period) != periodicity:
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
        errors.append(problem(_unknown_indicator(lookup, viewer, key) if key else
                              Message("chk_indicator_missing"),
                              row, m.indicator, cell))
        return None
    if not may_deliver(viewer, ind.department):
        # Another department's indicator: named as unknown unless the viewer may know it exists.
        visible = may_know(viewer, ind.visibility, ind.department, ind.id)
        errors.append(problem(Message("chk_other_department", department=ind.department) if visible
                              else _unknown_indicator(lookup, viewer, key), row, m.indicator, cell))
        return None
    return ind


def _unknown_indicator(lookup: dict[str, Indicator], viewer: Principal, key: str) -> Message:
    """'unbekannter Indikator' with the closest of the viewer's own indicators (never another department's,
    so the answer is the same whether or not a hidden indicator of that name exists)."""
    own = {i.id: i for i in lookup.values() if may_deliver(viewer, i.department)}
    close = difflib.get_close_matches(key, list(own), n=3, cutoff=0.6)
    if not close:
        return Message("chk_unknown_indicator")
    named = [Message("chk_id_title", id=c, title=both(own[c].title_de, own[c].title_en)) for c in close]
    listed = Message("chk_or_list", first=named[:-1], last=named[-1]) if len(named) > 1 else named[0]
    return Message("chk_unknown_indicator_close", close=listed)


def _counts(c, decimal: str, m: Mapping, errors: list) -> tuple[float | None, float | None] | None:
    out = []
    for column, cell in ((c.num_col, c.numerator), (c.den_col, c.denominator)):
        status, number, msg = parse_number(cell, decimal)
        if status == "error":
            errors.append(problem(msg, c.row, column, cell))
            return None
        if number is not None and number < 0:
            errors.append(problem(Message("chk_negative_count"), c.row, column, cell))
            return None
        out.append(number)
    return out[0], out[1]


def _value_from_counts(ind: Indicator, value, status, num, den, c, m: Mapping, errors: list):
    """Rates come with counts where possible: value = num / den × scale, checked if both are given."""
    if ind.aggregation != "ratio" or num is None or den is None:
        return value, status
    if den == 0:
        errors.append(problem(Message("chk_denominator_zero"), c.row, c.den_col, c.denominator))
        return None, None
    derived = num / den * ind.scale
    if status == "ok" and abs(derived - value) > max(0.051 * 10 ** -ind.decimals * 10, 1e-9 * abs(derived)):
        errors.append(problem(Message("chk_value_not_counts", num=number(num), den=number(den),
                                      scale=number(ind.scale),
                                      derived=number(round(derived, ind.decimals + 1), ind.decimals + 1)),
                              c.row, c.value_col, c.value))
        return None, None
    if status == "ok" and abs(derived - value) <= GIVEN_VALUE_PRECISION * max(1.0, abs(derived)):
        return value, "ok"  # delivered unrounded: kept as given
    return derived, "ok"


def _plausible_cell(ind: Indicator, value, num, den, c, m: Mapping, errors: list) -> None:
    if num is not None and den is not None and ind.unit == "%" and num > den:
        errors.append(problem(Message("chk_num_above_den", num=number(num), den=number(den)), c.row, c.num_col,
                              c.numerator))
    if value is None:
        return
    if ind.unit == "%" and not 0 <= value <= 100:
        errors.append(problem(Message("chk_percent_range"), c.row, c.value_col, c.value))
    elif ind.aggregation == "sum" and value < 0 and not ind.diverging:
        errors.append(problem(Message("chk_negative_count"), c.row, c.value_col, c.value))


def _outside_organisation(atlas: Atlas, viewer: Principal, values: pd.DataFrame, names: _Names,
                          area_column: str | None) -> list[dict]:
    """Rows for areas outside the Gemeinde that owns the indicator (its stewards deliver only for it)."""
    problems = []
    for ind_id, part in values.groupby("indicator_id", sort=True):
        ind = names.lookup.get(ind_id)
        home = atlas.organisation_area(ind.department) if ind else None
        if may_deliver_outside(viewer, home):
            continue
        outside = part[~part["area_id"].isin(queries.base_areas_within(atlas, home))]
        org = both(atlas.department_name(ind.department, "de"), atlas.department_name(ind.department, "en"))
        for row in outside.head(MAX_ERRORS).itertuples(index=False):
            problems.append(problem(
                Message("chk_outside_organisation", area=names.area(row.area_id, row.period), org=org, home=home,
                        title=both(ind.title_de, ind.title_en)),
                row.row, area_column, row.area_id))
    return problems


def _duplicates(values: pd.DataFrame, m: Mapping, names: _Names) -> list[dict]:
    """One problem per doubled cell, naming up to 10 of its rows; at most MAX_ERRORS of them, then a count.

    Bounded: a million copies of one row once gave a 7.9 MB message.
    """
    keys = ["indicator_id", "area_id", "period"]
    dupes = values[values.duplicated(keys, keep=False)]
    if dupes.empty:
        return []
    dupes = dupes.sort_values(keys + ["row"], kind="stable")
    group = dupes.groupby(keys, sort=False).ngroup().to_numpy()
    n_groups = int(group.max()) + 1
    out = []
    for (ind, area, per), part in dupes[group < MAX_ERRORS].groupby(keys, sort=True):
        rows = part["row"].tolist()
        listed = ", ".join(map(str, rows[:10]))
        more = Message("chk_n_rows", n=len(rows)) if len(rows) > 10 else ""
        out.append(problem(Message("chk_duplicate", indicator=names.indicator(ind), area=names.area(area, per),
                                   period=names.period(per), rows=listed, more=more),
                           rows[1], m.area or m.area_name, area))
    if n_groups > MAX_ERRORS:
        out.append(problem(Message("chk_more_duplicates", n=n_groups - MAX_ERRORS), None, m.area or m.area_name))
    return out


class _Deadline:
    """The check's time limit (ATLAS_CHECK_MAX_SECONDS): past it the check stops with a message, so one
    upload cannot tie up a worker."""

    def __init__(self, seconds: float):
        self.seconds, self.end = seconds, time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() > self.end:
            raise IngestError([problem(Message("chk_deadline", seconds=number(self.seconds)))])


def upload_limits(atlas: Atlas) -> Limits:
    """The operator's limits of an uploaded table (atlas.config)."""
    s = atlas.settings
    return Limits(rows=s.upload_max_rows, columns=s.upload_max_columns, cell_chars=s.upload_max_cell_chars)


def _name_warnings(found: dict[str, list[int]]) -> list[dict]:
    """One warning per name that does not fit its key, with the rows it stands in."""
    out = []
    for message, rows in found.items():
        out.append(problem(Message("chk_with_rows", message=message, rows=_rows_text(rows)), rows[0]))
    return out


def _check_totals(values: pd.DataFrame, totals: list[_TotalRow], lookup: dict[str, Indicator],
                  matcher: AreaMatcher, names: _Names, tolerance: float) -> tuple[list[dict], list[dict]]:
    """Total rows against the sum of their parts: counts exactly (or within the stated tolerance), rates as
    a warning. Not-assignable cells count in their parent's and the city's sums, as in the atlas."""
    errors, warnings = [], []
    groups = values.groupby(["indicator_id", "period"], sort=False).indices
    seen: dict[tuple[str, str, str], int] = {}
    for t in totals:
        ind = lookup[t.indicator_id]
        where = Message("chk_where", indicator=names.indicator(ind.id), period=names.period(t.period))
        if (t.indicator_id, t.period, t.area_id) in seen:
            errors.append(problem(Message("chk_total_twice", where=where, text=t.text,
                                          first=seen[(t.indicator_id, t.period, t.area_id)], second=t.row),
                                  t.row, "area", t.text))
            continue
        seen[(t.indicator_id, t.period, t.area_id)] = t.row
        part = values.iloc[groups.get((t.indicator_id, t.period), [])]
        ix = matcher.index(t.set_id)
        with_unassigned = Message("chk_with_unassigned") if any(is_unassigned(a) for a in part["area_id"]) else ""
        if t.area_id == ix.city_id:
            expected, parts = set(ix.keys), Message("chk_parts_city", unassigned=with_unassigned)
        else:
            part = part[[t.area_id in matcher.parents_of(t.set_id, a) for a in part["area_id"]]]
            expected = {a for a in ix.keys if t.area_id in ix.up.get(a, ())}
            with_unassigned = Message("chk_with_unassigned") if any(is_unassigned(a) for a in part["area_id"]) else ""
            parts = Message("chk_parts_parent", parent=ix.parents.get(t.area_id, t.area_id),
                            unassigned=with_unassigned)
        complete = expected <= set(part["area_id"]) and (part["status"] == "ok").all()
        quantities = ([("Wert", t.value, part["value"])] if ind.aggregation == "sum" else
                      [("Zähler", t.numerator, part["numerator"]), ("Nenner", t.denominator, part["denominator"])]
                      if ind.aggregation == "ratio" else [])
        for what_de, stated, column in quantities:
            what = Message(QUANTITY_WORDS[what_de])
            if stated is None:
                continue
            if complete and column.notna().all():
                computed = float(column.sum())
                if abs(computed - stated) > tolerance + 1e-9 * max(1.0, abs(stated)):
                    errors.append(problem(
                        Message("chk_total_differs", where=where, parts=parts, what=what, computed=number(computed),
                                text=t.text, stated=number(stated), difference=number(stated - computed)),
                        t.row, what_de, german(stated)))
            elif float(column.fillna(0).sum()) > stated + tolerance:
                errors.append(problem(
                    Message("chk_total_exceeded", where=where, parts=parts, what=what,
                            computed=number(float(column.fillna(0).sum())), text=t.text, stated=number(stated)),
                    t.row, what_de, german(stated)))
        if ind.aggregation == "ratio" and t.value is not None and len(part) and part["denominator"].notna().all() \
                and part["denominator"].sum() > 0:
            computed = float(part["numerator"].sum() / part["denominator"].sum() * ind.scale)
            absent = len(expected - set(part["area_id"]))
            if not np.isclose(computed, t.value, rtol=1e-3, atol=10 ** -ind.decimals):
                warnings.append(problem(
                    Message("chk_total_rate", where=where, parts=parts, computed=names.number(ind.id, computed),
                            absent=Message("chk_absent_parts", n=absent) if absent else "", text=t.text,
                            stated=names.number(ind.id, t.value)),
                    t.row, "Wert", names.cell(ind.id, t.value)))
    return errors, warnings


def _warnings(atlas: Atlas, viewer: Principal, values: pd.DataFrame, names: _Names,
              on_set: str | None = None) -> list[dict]:
    """Plausibility: gaps, jumps against the previous period, outliers. None blocks.

    Vectorised per (indicator, period) group: a million-row extract has
    thousands of groups.
    """
    warnings: list[dict] = []
    present = values.groupby(["indicator_id", "period"], sort=True)["area_id"].agg(set)
    for (ind_id, period), areas in present.items():
        expected = _expected_areas(atlas, on_set or queries.set_for_period(atlas, period))
        absent = sorted(expected - areas)
        if absent:
            shown = ", ".join(names.area(a, period) for a in absent[:10]) + (" …" if len(absent) > 10 else "")
            warnings.append(problem(Message("chk_areas_absent", indicator=names.indicator(ind_id),
                                            period=names.period(period), n=len(absent), areas=shown)))
    codes, ids = pd.factorize(values["area_id"])  # a million cells, a few hundred areas
    unassigned = np.array([is_unassigned(a) for a in ids] + [False], dtype=bool)[codes]
    ok = values[(values["status"] == "ok").to_numpy() & ~unassigned]  # not-assignable cases are no outliers
    # The (indicator, period) groups found once, as integers: three groupings by two text columns cost 0.5 s.
    group = ok.groupby([ok["indicator_id"], ok["period"]], sort=False).ngroup().to_numpy()
    by_group = ok["value"].groupby(group)
    size = by_group.transform("size")
    median = by_group.transform("median")
    mad = (ok["value"] - median).abs().groupby(group).transform("median") * 1.4826
    outliers = ok[(size >= 8) & (mad > 0) & ((ok["value"] - median).abs() > 4 * mad)]
    for r, med in zip(outliers.head(MAX_ERRORS).itertuples(), median[outliers.index]):
        warnings.append(problem(Message("chk_outlier", indicator=names.indicator(r.indicator_id),
                                        area=names.area(r.area_id, r.period), period=names.period(r.period),
                                        value=names.number(r.indicator_id, r.value),
                                        median=names.number(r.indicator_id, med)),
                                int(r.row), "value", names.cell(r.indicator_id, r.value)))
    return warnings + _jumps(atlas, viewer, ok, names)


def _expected_areas(atlas: Atlas, set_id: str | None) -> set[str]:
    return atlas.cached(("area_set", set_id), lambda: set(queries.areas(atlas, territory.base_level(atlas), set_id)["area_id"]))


def _jumps(atlas: Atlas, viewer: Principal, ok: pd.DataFrame, names: _Names) -> list[dict]:
    """Changes beyond CHANGE_WARN against each cell's previous period, from the store or this upload."""
    if ok.empty:
        return []
    pairs = ok[["indicator_id", "period"]].drop_duplicates()  # a sub-frame per indicator cost 0.2 s
    uploaded = {ind: set(periods) for ind, periods in pairs.groupby("indicator_id")["period"]}
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
    stored = stored[stored["status"] == "ok"]
    # Cells keyed by integers (indicator, period, area codes): string merges and a Python
    # list per row were the slowest part of checking a million-row upload.
    cols = ["indicator_id", "period", "area_id"]
    both = pd.concat([stored[cols + ["value"]], ok[cols + ["value"]]], ignore_index=True)
    ind_codes, inds = pd.factorize(both["indicator_id"])
    period_codes, period_names = pd.factorize(both["period"])
    area_codes, area_names = pd.factorize(both["area_id"])
    def key(ind, period, area):
        return (ind.astype(np.int64) * (len(period_names) + 1) + period) * (len(area_names) + 1) + area
    by_key = pd.Series(both["value"].to_numpy(dtype=float, na_value=np.nan),
                       index=key(ind_codes, period_codes, area_codes))
    by_key = by_key[~by_key.index.duplicated(keep="last")]  # the upload's own cell wins over the stored one
    position = {p: i for i, p in enumerate(period_names)}
    prev_of = np.array([[position.get(previous.get((i, p)), -1) for p in period_names] for i in inds],
                       dtype=np.int64)
    mine = slice(len(stored), len(both))
    prev = prev_of[ind_codes[mine], period_codes[mine]]
    old = by_key.reindex(key(ind_codes[mine], prev, area_codes[mine])).to_numpy()
    value = ok["value"].to_numpy(dtype=float, na_value=np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        jump = (prev >= 0) & ~np.isnan(old) & (old != 0) & (np.abs(value - old) / np.abs(old) > CHANGE_WARN)
    hits = ok[jump].head(MAX_ERRORS)
    hits = hits.assign(old=old[jump][:len(hits)], prev=np.asarray(period_names)[prev[jump][:len(hits)]])
    return [problem(Message("chk_jump", indicator=names.indicator(r.indicator_id),
                            area=names.area(r.area_id, r.period), old=names.number(r.indicator_id, r.old, unit=False),
                            before=names.period(r.prev), value=names.number(r.indicator_id, r.value),
                            period=names.period(r.period), change=f"{100 * (r.value - r.old) / abs(r.old):+.0f}"),
                    int(r.row), "value", names.cell(r.indicator_id, r.value))
            for r in hits.itertuples()]


def check_upload(atlas: Atlas, viewer: Principal, file_name: str, content: bytes, mapping: dict | None = None,
                 sheet: str | None = None, definitions: list | None = None, total_tolerance=None,
                 on_set: str | None = None, progress: Progress = _no_progress) -> Checked:
    """Read and validate; a file that cannot be read at all gives a report with its reasons."""
    try:
        if re.search(r"[\\/]|\.\.|[\x00-\x1f]", file_name or ""):
            raise IngestError([problem(Message("chk_file_name"), value=file_name)])
        m = Mapping.from_json(mapping) if mapping else None
        progress("read", 0.0)
        raw = read_table(content, file_name, sheet, upload_limits(atlas))
        return check(atlas, viewer, raw, m, definitions, total_tolerance, on_set, progress)
    except IngestError as exc:
        return Checked(Report(False, exc.problems[:MAX_ERRORS], [], more_errors=max(0, len(exc.problems) - MAX_ERRORS)),
                       pd.DataFrame(columns=_EMPTY_VALUES))
