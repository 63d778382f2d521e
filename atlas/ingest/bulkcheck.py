"""Bulk acceptance of clean cells: the fast path of the upload check.

A quarterly extract has a handful of indicators, periods and area keys, and
a million cells. Everything that depends only on those few distinct values
(indicator, period, area) is decided once per distinct value; numbers are
parsed and checked as whole columns. A cell that passes every check is
accepted here; any other cell goes to `ingest.check`'s per-row path, which
stays the one place that words the errors. So this module may only ever be
stricter than the per-row checks, never more lenient.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from atlas.ingest.cells import (
    ENGLISH_NUMBER,
    GERMAN_NUMBER,
    GIVEN_VALUE_PRECISION,
    MAX_MAGNITUDE,
)


def parse_numbers(cells: pd.Series, decimal: str, missing: set[str], suppressed: set[str],
                  text_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(status, value) per cell as `cells.parse_number` would give them; 'error' means: ask the per-row path.

    `text_only`: every cell is a str or None (a CSV), so no cell needs its type looked at.
    """
    n = len(cells)
    status = np.full(n, "error", dtype=object)
    value = np.full(n, np.nan)
    is_none = cells.isna().to_numpy()
    if text_only:
        is_text, is_number = ~is_none, np.zeros(n, dtype=bool)
    else:
        is_text = cells.map(lambda c: isinstance(c, str)).to_numpy(dtype=bool)
        is_number = ~is_none & ~is_text & cells.map(
            lambda c: isinstance(c, (int, float, np.integer, np.floating))
            and not isinstance(c, bool)).to_numpy(dtype=bool)
    status[is_none] = "missing"
    if is_number.any():
        try:
            numbers = pd.to_numeric(cells[is_number], errors="coerce").to_numpy(dtype=float)
        except OverflowError:  # an XLSX cell holding a 400-digit integer: left to the per-row path, which words it
            numbers = np.array([float(c) if abs(c) <= MAX_MAGNITUDE else np.nan for c in cells[is_number]])
        with np.errstate(invalid="ignore"):
            finite = np.abs(numbers) <= MAX_MAGNITUDE  # NaN and infinity fail too: the per-row path words them
        where = np.flatnonzero(is_number)
        status[where[finite]] = "ok"
        value[where[finite]] = numbers[finite]
    if is_text.any():
        text = cells[is_text].astype(str)
        where = np.flatnonzero(is_text)
        # Cells of ASCII digits only (most counts): a number as they stand, without the text pipeline below
        # (whitespace, pattern, marks), whose answer for them is the same; 0.5 s of a million-row check.
        digits = pc.fill_null(pc.ascii_is_decimal(pa.array(text, type=pa.string())), False).to_numpy(
            zero_copy_only=False)
        if digits.any():
            parsed = pc.cast(pa.array(text[digits], type=pa.string()), pa.float64()).to_numpy(zero_copy_only=False)
            within = np.abs(parsed) <= MAX_MAGNITUDE
            status[where[digits][within]] = "ok"
            value[where[digits][within]] = parsed[within]
            text, where = text[~digits], where[~digits]
        text = text.str.strip().str.replace("\u00a0", "", regex=False).str.replace(" ", "", regex=False)
        plain = text.str.fullmatch(GERMAN_NUMBER if decimal == "," else ENGLISH_NUMBER).fillna(False).to_numpy(
            dtype=bool)
        # Marks are compared case-folded; number-like text has no letters to fold, so only the rest is folded.
        miss, supp = np.zeros(len(text), dtype=bool), np.zeros(len(text), dtype=bool)
        for rows, cells_ in ((plain, text[plain]), (~plain, text[~plain].str.casefold())):
            miss[rows], supp[rows] = cells_.isin(missing).to_numpy(), cells_.isin(suppressed).to_numpy()
        ok = plain & ~miss & ~supp
        thousands = "." if decimal == "," else ","
        numbers = pc.replace_substring(pa.array(text[ok], type=pa.string()), thousands, "")
        parsed = pc.cast(pc.replace_substring(numbers, decimal, "."), pa.float64())
        parsed = parsed.to_numpy(zero_copy_only=False)
        within = np.abs(parsed) <= MAX_MAGNITUDE  # a 400-digit number parses as infinity: the per-row path says so
        status[where[miss]] = "missing"
        status[where[supp]] = "suppressed"
        status[where[ok][within]] = "ok"
        value[where[ok][within]] = parsed[within]
    return status, value


def per_distinct(columns: list, decide) -> np.ndarray:
    """`decide(*values)` once per distinct combination of the columns' values, spread back to every cell."""
    codes, answers = distinct(columns, decide)
    return answers[codes]


def distinct(columns: list, decide) -> tuple[np.ndarray, np.ndarray]:
    """(code per cell, `decide(*values)` per code): each distinct combination of the columns' values decided once.

    Combinations are found by combining factorised codes (integers), never by
    building a tuple per cell: a million cells have a few thousand combinations.
    Properties of the answers are then read per code and spread with the codes,
    never per cell (a Python loop over a million answers cost 1.5 s, issue 19).
    """
    coded = [_coded(column) for column in columns]
    codes = np.zeros(len(coded[0][0]), dtype=np.int64)
    for column_codes, uniques in coded:
        codes, _ = pd.factorize(codes * max(len(uniques), 1) + column_codes)
    groups, first = np.unique(codes, return_index=True)
    samples = [uniques[column_codes[first]].tolist() for column_codes, uniques in coded]
    answers = np.empty(len(groups), dtype=object)
    answers[:] = [decide(*(_none(v) for v in values)) for values in zip(*samples)]
    return codes, answers


def _coded(column) -> tuple[np.ndarray, np.ndarray]:
    """(code per cell, distinct values): a column's values factorised, or a column given so already
    (`_spread`), whose codes come from fewer distinct answers and need no look at a million cells."""
    if isinstance(column, tuple):
        return column
    column_codes, uniques = pd.factorize(column, use_na_sentinel=False)
    return column_codes, np.asarray(uniques, dtype=object)


def _spread(per_code: np.ndarray, codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A per-code property as a coded column for `distinct`: (code per cell, distinct values)."""
    small_codes, uniques = pd.factorize(pd.Series(per_code, dtype=object), use_na_sentinel=False)
    return small_codes[codes], np.asarray(uniques, dtype=object)


def _each(answers: np.ndarray, read, dtype) -> np.ndarray:
    """`read(answer)` for every distinct answer, as an array to be indexed with the cells' codes."""
    out = np.empty(len(answers), dtype=dtype)
    out[:] = [read(a) for a in answers]
    return out


def _none(value):
    """NaN and pandas' NA as None, as the per-row path sees an empty cell."""
    return None if value is None or value is pd.NA or (isinstance(value, float) and value != value) else value


def accept(frame: pd.DataFrame, *, indicator_of, period_of, area_of, decimal: str,
           missing: set[str], suppressed: set[str], text_only: bool = False) -> tuple[pd.DataFrame, np.ndarray]:
    """(accepted rows as value records with their file row, mask of the cells left to the per-row path).

    indicator_of(cell) -> Indicator | None (None: unknown or not deliverable);
    period_of(cell, periodicity) -> (period, set_id) | None;
    area_of(set_id, key, name) -> area_id | None: None for anything but a plain stored area (a total row,
    a name that does not fit its key, an unknown area), which the per-row path words.
    """
    ind_codes, ind_answers = distinct([frame["indicator"]], indicator_of)

    def per_indicator(read, dtype) -> np.ndarray:
        return _each(ind_answers, read, dtype)[ind_codes]
    known = per_indicator(lambda i: i is not None, bool)
    periodicity = _spread(_each(ind_answers, lambda i: i.periodicity if i is not None else "", object), ind_codes)
    period_codes, resolved = distinct([frame["period"], periodicity],
                                      lambda p, kind: period_of(p, kind) if kind else None)
    has_period = _each(resolved, lambda r: r is not None, bool)[period_codes]
    period = _each(resolved, lambda r: r[0] if r is not None else None, object)[period_codes]
    set_ids = _each(resolved, lambda r: r[1] if r is not None else None, object)
    area_codes, areas = distinct([_spread(set_ids, period_codes), frame["area"], frame["area_name"]],
                                 lambda s, key, name: area_of(s, key, name) if s is not None else None)
    area = areas[area_codes]
    has_area = _each(areas, lambda a: a is not None, bool)[area_codes]

    v_status, value = parse_numbers(frame["value"], decimal, missing, suppressed, text_only)
    n_status, num = parse_numbers(frame["numerator"], decimal, missing, suppressed, text_only)
    d_status, den = parse_numbers(frame["denominator"], decimal, missing, suppressed, text_only)
    slow = ~known | ~has_period | ~has_area
    slow |= (v_status == "error") | (n_status == "error") | (d_status == "error")
    slow |= (num < 0) | (den < 0)

    ratio = per_indicator(lambda i: i is not None and i.aggregation == "ratio", bool)
    scale = per_indicator(lambda i: float(i.scale) if i is not None else 1.0, float)
    decimals = per_indicator(lambda i: i.decimals if i is not None else 0, np.int64)
    percent = per_indicator(lambda i: i is not None and i.unit == "%", bool)
    plain_sum = per_indicator(lambda i: i is not None and i.aggregation == "sum" and not i.diverging, bool)
    counts = ratio & (n_status == "ok") & (d_status == "ok")
    slow |= counts & (den == 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        derived = num / den * scale
    tolerance = np.maximum(0.051 * 10.0 ** -decimals * 10, 1e-9 * np.abs(derived))
    slow |= counts & (v_status == "ok") & ~(np.abs(derived - value) <= tolerance)
    given = (v_status == "ok") & (np.abs(derived - value) <= GIVEN_VALUE_PRECISION * np.maximum(1.0, np.abs(derived)))
    value = np.where(counts & ~given, derived, value)
    status = np.where(counts, "ok", v_status)
    with np.errstate(invalid="ignore"):
        slow |= percent & counts & (num > den)
        slow |= percent & (status == "ok") & ~((value >= 0) & (value <= 100))
        slow |= plain_sum & (status == "ok") & (value < 0)

    keep = ~slow
    accepted = pd.DataFrame({
        "indicator_id": _shared(per_indicator(lambda i: i.id if i is not None else None, object)[keep]),
        "area_id": _shared(area[keep]), "period": _shared(period[keep]),
        "value": np.where(status[keep] == "ok", value[keep], np.nan),
        "numerator": np.where(n_status[keep] == "ok", num[keep], np.nan),
        "denominator": np.where(d_status[keep] == "ok", den[keep], np.nan),
        "status": _shared(status[keep]), "row": frame["row"].to_numpy()[keep],
    })
    return accepted, slow


def _shared(texts: np.ndarray) -> pd.Series:
    """Text cells as an object column: a million references to the few distinct strings decided above.

    As a string column pandas would copy every cell into its own buffer, and the
    check's later object columns would then make a Python string per cell again
    (about 300 MB at a million rows, issue 19).
    """
    return pd.Series(texts, dtype=object, copy=False)

