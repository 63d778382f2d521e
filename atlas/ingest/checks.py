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

import re
import unicodedata
from dataclasses import asdict, dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from atlas.catalog import Indicator
from atlas.ingest import bulkcheck
from atlas.ingest.cells import (
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
    RawTable,
    norm_header,
    problem,
    read_table,
)
from atlas.services import queries
from atlas.services.context import Atlas
from auth.permissions import Principal, may_deliver, may_know, may_publish_directly

MAX_ERRORS = 500  # a report lists this many problems, then says how many more there are
CHANGE_WARN = 0.5  # relative change against the previous period that earns a warning

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
            if ind.visibility == "public" and not may_publish_directly(viewer):
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
    raw.table = raw.table.iloc[0:0]  # the cell frame holds everything now; a large file should not be kept twice
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
    for c in _as_cells(frame[slow]).itertuples(index=False):
        row_errors = len(errors)
        ind = _indicator_for(lookup, viewer, c.indicator, c.row, m, errors)
        period = cached_period(c.period, ind.periodicity if ind else None) if c.period not in (None, "") else None
        if c.period in (None, ""):
            errors.append(problem("Zeitraum fehlt", c.row, m.period, c.period))
        elif period is None and ind and parse_period(c.period) is not None:
            errors.append(problem(f"Stichtag/Zeitraum passt nicht zur Periodizität '{ind.periodicity}' von "
                                  f"{ind.id}", c.row, m.period, c.period))
        elif period is None and is_date(c.period):
            errors.append(problem("Stichtag ist kein Monats-, Quartals- oder Jahresende; erwartet z. B. 30.09.2024",
                                  c.row, m.period, c.period))
        elif period is None:
            errors.append(problem("Zeitraum nicht lesbar; erwartet 2024, 2024-Q3, Q3/2024 oder Stichtag "
                                  "30.09.2024", c.row, m.period, c.period))
        elif ind and cached_periodicity(period) != ind.periodicity:
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
        good.append({"indicator_id": ind.id, "area_id": area_id, "period": period, "period_end": cached_end(period),
                     "value": value, "numerator": num, "denominator": den, "status": status, "row": c.row})
    period_codes, distinct_periods = pd.factorize(accepted["period"])
    period_ends = np.array([cached_end(p) for p in distinct_periods] + [None], dtype=object)[period_codes]
    values = pd.concat([accepted.assign(period_end=period_ends),
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
    return [problem(f"{r.indicator_id} {r.area_id}: {r.old:g} ({r.prev}) → {r.value:g} ({r.period}), "
                    f"Änderung {100 * (r.value - r.old) / abs(r.old):+.0f} %", int(r.row), "value", f"{r.value:g}")
            for r in hits.itertuples()]


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
