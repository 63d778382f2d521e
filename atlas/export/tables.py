"""Exports for planners: tables (CSV, XLSX) and geodata (GeoPackage, GeoJSON, FlatGeobuf, Shapefile).

Every export reads through `queries.value_rows`, the service the map uses, so
visibility, release states and small-number suppression hold exactly as on
screen: an indicator the viewer may not see is refused like one that does
not exist. Files are built in a folder under `settings.tmp_dir` (ATLAS_TMP_DIR,
default `<data dir>/tmp`) and streamed in chunks, the folder removed once
sent; nothing travels as base64 through a Dash callback.

Conventions planners rely on:
- keys (Ortsteil codes) are text everywhere, leading zeros kept;
- suppressed, missing and "area did not exist then" are three different
  symbols (`·`, `…`, `x`), never a zero and never a blank that could be one;
  a legend travels with every table; geodata carry a `status` field instead;
- text cells that a spreadsheet would run as a formula are neutralised;
- geodata use the boundary set valid at each period, in the official CRS
  (or EPSG:4326; GeoJSON is always WGS84 per RFC 7946).
"""
from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from xml.sax.saxutils import quoteattr

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from atlas.catalog import Indicator
from atlas.classify import (
    MISSING_COLOR,
    SUPPRESSED_COLOR,
    classify,
    classing,
    legend_entries,
)
from atlas.export import pictures
from atlas.formatting import GAP_WORDS, MINUS, gap_word
from atlas.i18n import t
from atlas.periods import period_end
from atlas.services import notes, queries, territory
from atlas.services.context import Atlas
from auth.permissions import Principal

TABLE_FORMATS = ("csv", "csv-de", "xlsx")
GEO_FORMATS = ("gpkg", "geojson", "fgb", "shp")
FORMATS = TABLE_FORMATS + GEO_FORMATS
LAYOUTS = ("long", "wide")
FORMAT_LABELS = {  # German first: what the export menu shows
    "csv-de": ("CSV (Excel, deutsch)", "CSV (Excel, German)"),
    "csv": ("CSV (maschinenlesbar)", "CSV (machine-readable)"),
    "xlsx": ("Excel-Arbeitsmappe (XLSX)", "Excel workbook (XLSX)"),
    "gpkg": ("GeoPackage (QGIS, ArcGIS)", "GeoPackage (QGIS, ArcGIS)"),
    "geojson": ("GeoJSON (WGS84)", "GeoJSON (WGS84)"),
    "fgb": ("FlatGeobuf", "FlatGeobuf"),
    "shp": ("Shapefile (ZIP)", "Shapefile (ZIP)"),
}
_MIME = {
    "csv": "text/csv; charset=utf-8", "csv-de": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "gpkg": "application/geopackage+sqlite3", "geojson": "application/geo+json",
    "fgb": "application/octet-stream", "shp": "application/zip",
}
_EXT = {"csv": "csv", "csv-de": "csv", "xlsx": "xlsx", "gpkg": "gpkg", "geojson": "geojson", "fgb": "fgb",
        "shp": "zip"}

SYMBOLS = {"suppressed": "·", "missing": "…", "absent": "x"}
SYMBOL_MEANING = {
    # The map's gap words, with what a table reader needs to know besides.
    "suppressed": (f"{GAP_WORDS['suppressed'][0]} (zu kleine Fallzahl)",
                   f"{GAP_WORDS['suppressed'][1]} (number too small)"),
    "missing": GAP_WORDS["missing"],
    "absent": ("Gebiet bestand zu diesem Zeitpunkt nicht (anderer Gebietsstand)",
               "area did not exist at that time (other boundary set)"),
}
STATUS_WORDS = {"ok": ("ok", "ok"), "missing": GAP_WORDS["missing"], "suppressed": GAP_WORDS["suppressed"]}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_CHUNK = 1 << 16


ALL = "all"  # indicator=all: every indicator the viewer may see


class ExportError(ValueError):
    """The request cannot be served as asked; the message says what is expected."""

    def __init__(self, code: str, message: str):
        self.code = code
        super().__init__(message)


# ------------------------------------------------------------------ request
def _split(values: list[str]) -> list[str]:
    """`a&b` as repeated parameters or `a,b` in one: both are what people type."""
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


@dataclass(frozen=True)
class ExportRequest:
    indicators: tuple[str, ...]
    periods: tuple[str, ...] = ()  # empty: every period the viewer may read
    level: str = ""  # one of the store's level ids (validated by `from_args`)
    fmt: str = "csv"
    layout: str = "long"
    crs: str = ""  # empty: the official CRS (GeoJSON: always EPSG:4326)
    method: str = "quantiles"
    k: int = 5
    lang: str = "de"

    @classmethod
    def from_args(cls, args, levels: tuple[str, ...]) -> ExportRequest:
        """Validate untrusted query parameters (a werkzeug MultiDict or a plain dict of lists).

        `levels`: the store's level ids, base first (the default level).
        """
        getlist = args.getlist if hasattr(args, "getlist") else (lambda k: list(args.get(k, [])))
        first = (lambda k, d: (getlist(k) or [d])[0])
        indicators = tuple(dict.fromkeys(_split(getlist("indicator"))))
        if not indicators:
            raise ExportError("missing_indicator", "Parameter 'indicator' fehlt / 'indicator' is required")
        periods = tuple(p for p in dict.fromkeys(_split(getlist("period"))) if p != "all")
        for p in periods:
            try:
                period_end(p)
            except ValueError as exc:
                raise ExportError("bad_period", str(exc)) from None
        fmt, level, layout = first("format", "csv"), first("level", levels[0]), first("layout", "long")
        for name, value, allowed in (("format", fmt, FORMATS), ("level", level, levels), ("layout", layout, LAYOUTS)):
            if value not in allowed:
                raise ExportError(f"bad_{name}", f"{name} must be one of {', '.join(allowed)}; got {value!r}")
        crs = _check_crs(first("crs", ""), fmt)
        method, k = classing(first("method", None), first("k", None))
        lang = "en" if first("lang", "de") == "en" else "de"
        return cls(indicators, periods, level, fmt, layout, crs, method, k, lang)


def _check_crs(crs: str, fmt: str) -> str:
    if not crs:
        return ""
    try:
        parsed = CRS.from_user_input(crs)
    except CRSError:
        raise ExportError("bad_crs", f"crs must be an EPSG code such as EPSG:25832 or EPSG:4326; got {crs!r}") from None
    epsg = parsed.to_epsg()
    if epsg is None:
        raise ExportError("bad_crs", f"crs must be an EPSG code such as EPSG:25832; got {crs!r}")
    if fmt == "geojson" and epsg != 4326:
        raise ExportError("bad_crs", "GeoJSON (RFC 7946) is always EPSG:4326 (WGS84); use gpkg, fgb or shp "
                                     "for other coordinate systems")
    return f"EPSG:{epsg}"


# ------------------------------------------------------------------ data
@dataclass
class ExportData:
    request: ExportRequest
    indicators: list[Indicator]
    rows: pd.DataFrame  # long: indicator_id, period, set_id, area_id, name, parent_id, value, ..., status
    sets: pd.DataFrame  # boundary sets used: set_id, label, valid_from, valid_to
    exported_at: datetime = field(default_factory=lambda: datetime.now().replace(microsecond=0))
    city: str = ""
    departments: dict = field(default_factory=dict)  # key -> name in the request's language
    level_label: str = ""  # the level's name in the request's language
    marking: str = ""  # 'intern', 'nur für …' (pictures.marking) when the data is not public; '' when it is
    notes: dict = field(default_factory=dict)  # indicator id -> the interpretation notes the viewer may read


def collect(atlas: Atlas, viewer: Principal, req: ExportRequest) -> ExportData | None:
    """The rows the viewer may take; None when any indicator is not visible to them.

    One hidden indicator among several refuses the whole request, exactly as
    a misspelt one would: a partial file would tell which one is hidden.
    """
    frames, inds, marks = [], [], []
    single = req.periods[0] if len(req.periods) == 1 else None
    wanted = req.indicators
    if wanted == (ALL,):  # the same request gives each viewer exactly their own subset
        wanted = tuple(queries.visible_indicators(atlas, viewer)["id"])
        if not wanted:
            return None
    for ind_id in wanted:
        rows = queries.value_rows(atlas, viewer, ind_id, single, req.level)
        if rows is None:
            return None
        if len(req.periods) > 1:
            rows = rows[rows["period"].isin(req.periods)]
        frames.append(rows.assign(indicator_id=ind_id))
        inds.append(atlas.indicator_by_id[ind_id])
        marks.append(_marking(atlas, viewer, inds[-1], rows, single, req))
    rows = pd.concat(frames, ignore_index=True)
    sets = queries.boundary_sets(atlas)
    sets = sets[sets["set_id"].isin(set(rows["set_id"]))].reset_index(drop=True)
    city = atlas.store.manifest().get("city", {}).get("name", "")
    periods = set(rows["period"])
    remarks = {ind.id: [n for n in notes.visible(atlas, viewer, ind.id, lang=req.lang) or []
                        if n["period"] is None or n["period"] in periods] for ind in inds}
    return ExportData(req, inds, rows, sets, city=city,
                      departments={i.department: atlas.department_name(i.department, req.lang) for i in inds},
                      level_label=territory.label(atlas, req.level, req.lang),
                      marking="; ".join(dict.fromkeys(m for m in marks if m)), notes=remarks)


def _marking(atlas: Atlas, viewer: Principal, ind: Indicator, rows: pd.DataFrame, single: str | None,
             req: ExportRequest) -> str:
    """The indicator's mark in this export: by its visibility, or because the rows differ from the public's."""
    def public_rows(who: Principal) -> pd.DataFrame | None:
        if who is viewer:
            return rows
        theirs = queries.value_rows(atlas, who, ind.id, single, req.level)
        return theirs if theirs is None or len(req.periods) <= 1 else theirs[theirs["period"].isin(req.periods)]
    unpublished = ind.visibility == "public" and pictures.differs_from_public(viewer, public_rows)
    return pictures.marking(atlas, ind, req.lang, unpublished)


def neutralise(text: str) -> str:
    """Text a spreadsheet would evaluate (`=HYPERLINK(...)`, `+1`, `@SUM`) gets a leading apostrophe."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _number(value: float, dialect: str) -> str:
    text = format(float(value), ".12g")
    return text.replace(".", ",") if dialect == "csv-de" else text


def _wide_column(ind_id: str, period: str, n_periods: int) -> str:
    return ind_id if n_periods == 1 else f"{ind_id}_{period.replace('-', '_')}"


def _cell_kinds(rows: pd.DataFrame, column: str) -> pd.Series:
    """'value' where a number is to be written, else the symbol's kind; '' where nothing applies."""
    status = rows["status"]
    kind = pd.Series(np.where(status == "ok", "value", status), index=rows.index, dtype=object)
    if column != "value":  # counts: a ratio-less indicator has none, which is not 'missing'
        kind[(status == "ok") & rows[column].isna()] = ""
    return kind


# ------------------------------------------------------------------ tables
def _headers(lang_de: bool) -> dict[str, str]:
    de = {"area_id": "Schlüssel", "area_name": "Gebiet", "parent_id": "Übergeordnet", "level": "Ebene",
          "indicator_id": "Indikator-ID", "indicator": "Indikator", "period": "Zeitraum", "value": "Wert",
          "numerator": "Zähler", "denominator": "Nenner", "status": "Status", "unit": "Einheit",
          "boundary_set": "Gebietsstand", "source": "Quelle", "licence": "Lizenz",
          "confidential": "Nicht zur Veröffentlichung"}
    return de if lang_de else {k: k for k in de}


# Why a cell the owning department sees is withheld from everyone else (disclosure control).
CONFIDENTIAL_WORDS = {"primary": ("geheim: kleine Fallzahl", "withheld: small number"),
                      "secondary": ("geheim: schützt eine kleine Fallzahl", "withheld: protects a small number"),
                      "linked": ("geheim: gleiche Zahl in verknüpftem Indikator", "withheld: same count elsewhere")}


def table_rows(data: ExportData, dialect: str) -> tuple[list[str], Iterator[list]]:
    """Header and rows of the values table; cells are str, float or the symbol text.

    `dialect` 'csv-de' and 'xlsx' (German headers unless lang=en) or 'csv'.
    """
    german = dialect == "csv-de" or (dialect == "xlsx" and data.request.lang == "de")
    if data.request.layout == "wide":
        return _wide_rows(data, german)
    return _long_rows(data, german)


def _cells(rows: pd.DataFrame, column: str) -> np.ndarray:
    """A column as cells: the float where there is a value, else its symbol (or '' if none applies)."""
    kinds = _cell_kinds(rows, column)
    out = kinds.map(lambda k: SYMBOLS.get(k, "")).to_numpy(dtype=object)
    numbers = (kinds == "value").to_numpy()
    out[numbers] = rows[column].to_numpy(dtype=float)[numbers]
    return out


def _long_rows(data: ExportData, german: bool) -> tuple[list[str], Iterator[list]]:
    cols = ["area_id", "area_name", "parent_id", "level", "indicator_id", "indicator", "period", "value",
            "numerator", "denominator", "status", "unit", "boundary_set", "source", "licence"]
    names = _headers(german)
    lang = 0 if german else 1
    rows = data.rows
    by_id = {i.id: i for i in data.indicators}

    def per_indicator(attr) -> np.ndarray:
        return rows["indicator_id"].map({i: neutralise(attr(ind)) for i, ind in by_id.items()}).to_numpy()

    columns = [
        rows["area_id"].to_numpy(), rows["name"].astype(str).map(neutralise).to_numpy(),
        rows["parent_id"].fillna("").to_numpy(), [data.request.level] * len(rows), rows["indicator_id"].to_numpy(),
        per_indicator(lambda ind: ind.title(data.request.lang)), rows["period"].to_numpy(),
        _cells(rows, "value"), _cells(rows, "numerator"), _cells(rows, "denominator"),
        rows["status"].map({k: v[lang] for k, v in STATUS_WORDS.items()}).to_numpy(),
        per_indicator(lambda ind: ind.unit_in(data.request.lang)), rows["set_id"].to_numpy(),
        per_indicator(lambda ind: ind.source), per_indicator(lambda ind: ind.licence),
    ]
    if "confidential" in rows and rows["confidential"].notna().any():  # the owning department's own file
        cols.append("confidential")
        columns.append(rows["confidential"].map({k: v[lang] for k, v in CONFIDENTIAL_WORDS.items()})
                       .fillna("").to_numpy())
    return [names[c] for c in cols], (list(r) for r in zip(*columns))


def wide_frame(data: ExportData) -> tuple[pd.DataFrame, list[tuple[str, str, str]]]:
    """One row per area, one value column per indicator and period.

    Returns the frame (area_id, name, parent_id, then value columns holding
    floats or symbols) and the columns as (column, indicator_id, period).
    """
    rows = data.rows
    periods = sorted(rows["period"].unique())
    columns = [(_wide_column(i.id, p, len(periods)), i.id, p) for i in data.indicators for p in periods]
    cell = rows["value"].astype(object)
    kinds = _cell_kinds(rows, "value")
    cell[kinds != "value"] = kinds[kinds != "value"].map(SYMBOLS)
    keyed = rows.assign(cell=cell, column=[_wide_column(i, p, len(periods))
                                           for i, p in zip(rows["indicator_id"], rows["period"])])
    areas = (rows[["area_id", "name", "parent_id"]].drop_duplicates("area_id").sort_values("area_id")
             .reset_index(drop=True))
    wide = keyed.pivot(index="area_id", columns="column", values="cell")
    wide = wide.reindex(columns=[c for c, _, _ in columns])
    # An area absent from a period's boundary set did not exist then: 'x', not 'no data'.
    wide = wide.astype(object).where(wide.notna(), SYMBOLS["absent"])
    return areas.join(wide, on="area_id"), columns


def _wide_rows(data: ExportData, german: bool) -> tuple[list[str], Iterator[list]]:
    frame, columns = wide_frame(data)
    names = _headers(german)
    header = [names["area_id"], names["area_name"], names["parent_id"]] + [c for c, _, _ in columns]

    def generate() -> Iterator[list]:
        for r in frame.itertuples(index=False):
            yield [r[0], neutralise(str(r[1])), r[2] or ""] + [float(v) if isinstance(v, (int, float)) else v
                                                               for v in r[3:]]
    return header, generate()


def _legend_lines(data: ExportData, german: bool) -> list[str]:
    """What a reader of the table needs: symbols, sources, boundary sets, date."""
    lang = 0 if german else 1
    lines = [f"{data.marking.upper()} – {t('ex_mark_note', data.request.lang)}"] if data.marking else []
    lines += ["Zeichenerklärung:" if german else "Symbols:"]
    lines += [f"{SYMBOLS[k]} = {SYMBOL_MEANING[k][lang]}" for k in ("suppressed", "missing", "absent")]
    for ind in data.indicators:
        lines.append(f"{ind.id}: {ind.title(data.request.lang)} ({ind.unit_in(data.request.lang)}); "
                     f"{'Quelle' if german else 'Source'}: {ind.source}; "
                     f"{'Lizenz' if german else 'Licence'}: {ind.licence}")
    for s in data.sets.itertuples():
        lines.append(f"{'Gebietsstand' if german else 'Boundary set'} {s.set_id}: {s.label}")
    lines.append(f"{'Stand' if german else 'Exported'}: {data.exported_at:%d.%m.%Y %H:%M} – Ortsatlas {data.city}")
    return lines


def _csv_chunks(data: ExportData, dialect: str) -> Iterator[bytes]:
    """CSV streamed in chunks. The German dialect is what Excel opens by double-click."""
    german = dialect == "csv-de"
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";" if german else ",", lineterminator="\r\n")
    header, rows = table_rows(data, dialect)
    if german:
        buf.write("\ufeff")  # BOM: Excel then reads UTF-8 instead of Windows-1252
    writer.writerow(header)
    for n, row in enumerate(rows, start=1):
        writer.writerow([_number(c, dialect) if isinstance(c, float) else c for c in row])
        if n % 2000 == 0:
            yield buf.getvalue().encode("utf-8")
            buf.seek(0)
            buf.truncate()
    if german:  # the legend under the table, as in official statistical tables
        writer.writerow([])
        for line in _legend_lines(data, german):
            writer.writerow([neutralise(line)])
    yield buf.getvalue().encode("utf-8")


def _xlsx(data: ExportData, path: Path) -> None:
    """Values sheet and metadata sheet; text never becomes a formula, keys stay text.

    XlsxWriter in constant-memory mode: rows go to disk as they come, about
    five times faster than openpyxl for the ~20,000-row "everything" export.
    """
    import xlsxwriter

    german = data.request.lang == "de"
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                         "strings_to_numbers": False, "strings_to_urls": False})
    bold = wb.add_format({"bold": True})
    header, rows = table_rows(data, "xlsx")
    formats = [wb.add_format({"num_format": f}) for f in _number_formats(data, header)]
    ws = wb.add_worksheet("Werte" if german else "Values")
    ws.freeze_panes(1, 0)
    ws.write_row(0, 0, header, bold)
    r = 0
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row):
            if isinstance(value, float) and not np.isfinite(value):
                ws.write_string(r, c, "")  # NaN or infinity stored by an older atlas: Excel has no such number
            elif isinstance(value, float):
                ws.write_number(r, c, value, formats[c])
            else:
                ws.write_string(r, c, str(value))
    ws.autofilter(0, 0, r, len(header) - 1)
    meta = wb.add_worksheet("Metadaten" if german else "Metadata")
    meta.set_column(0, 0, 24)
    meta.set_column(1, 1, 90)
    for r, (key, value) in enumerate(metadata_items(data)):
        meta.write_string(r, 0, key, bold)
        meta.write_string(r, 1, str(value))
    wb.close()


def _number_formats(data: ExportData, header: list[str]) -> list[str]:
    """Excel number formats per column: the indicator's decimals for values, integers for counts."""
    decimals = {i.id: i.decimals for i in data.indicators}
    out = []
    for h in header:
        ind = next((i for i in decimals if h == i or h.startswith(i + "_")), None)
        if ind is not None and data.request.layout == "wide":
            out.append("0" + ("." + "0" * decimals[ind] if decimals[ind] else ""))
        elif h in ("Zähler", "Nenner", "numerator", "denominator"):
            out.append("#,##0")
        else:
            out.append("General")
    return out


def metadata_items(data: ExportData) -> list[tuple[str, str]]:
    """Key/value lines for the metadata sheet and table: definition, source, rights, boundary sets."""
    req, lang = data.request, data.request.lang
    de = lang == "de"
    items: list[tuple[str, str]] = [
        ("Export", f"Ortsatlas {data.city}"),
    ] + ([("Kennzeichnung" if de else "Marking", f"{data.marking.upper()} – {t('ex_mark_note', lang)}")]
         if data.marking else []) + [
        ("Exportiert am" if de else "Exported at", data.exported_at.strftime("%d.%m.%Y %H:%M")),
        ("Ebene" if de else "Level", data.level_label or req.level),
        ("Zeiträume" if de else "Periods", ", ".join(sorted(data.rows["period"].unique()))),
        ("Layout", req.layout),
    ]
    for s in data.sets.itertuples():
        valid = f"{s.valid_from:%d.%m.%Y} – {s.valid_to:%d.%m.%Y}" if s.valid_to else f"ab {s.valid_from:%d.%m.%Y}"
        items.append(("Gebietsstand" if de else "Boundary set", f"{s.set_id}: {s.label} ({valid})"))
    for ind in data.indicators:
        items += [("", ""), ("Indikator" if de else "Indicator", f"{ind.title(lang)} ({ind.id})"),
                  ("Definition", ind.definition_en if not de else ind.definition_de),
                  ("Einheit" if de else "Unit", ind.unit_in(lang))]
        if ind.aggregation == "ratio":
            items += [("Zähler" if de else "Numerator", ind.numerator),
                      ("Nenner" if de else "Denominator", ind.denominator),
                      ("Aggregation", f"Summe Zähler / Summe Nenner × {ind.scale:g}" if de
                       else f"sum(numerator) / sum(denominator) × {ind.scale:g}")]
        items += [("Quelle" if de else "Source", ind.source),
                  ("Fachamt" if de else "Department", data.departments.get(ind.department, ind.department)),
                  ("Ansprechperson" if de else "Contact", ind.contact),
                  ("Lizenz" if de else "Licence", ind.licence),
                  ("Sichtbarkeit" if de else "Visibility", t(f"vis_{ind.visibility}", lang))]
        for n in data.notes.get(ind.id, []):  # the department's word on how to read the figures
            where = ", ".join(part for part in (n["period"], n["area"]) if part)
            items.append(("Hinweis" if de else "Note", f"{where + ': ' if where else ''}{n['text']} "
                                                        f"({n['author']}, {n['date']})"))
    items += [("", ""), ("Zeichenerklärung" if de else "Symbols", "")]
    items += [(SYMBOLS[k], SYMBOL_MEANING[k][0 if de else 1]) for k in ("suppressed", "missing", "absent")]
    return [(neutralise(k), neutralise(v)) for k, v in items]


# ------------------------------------------------------------------ geodata
def geo_frame(atlas: Atlas, data: ExportData) -> tuple[gpd.GeoDataFrame, dict]:
    """Values joined to the geometry of each period's boundary set (EPSG:4326).

    Returns the frame and the style target {'value': field, 'status': field}
    when the export holds exactly one indicator (else an empty dict).
    """
    level, rows = data.request.level, data.rows
    geometry = pd.concat([queries.areas(atlas, level, s)[["set_id", "area_id", "geometry"]]
                          for s in data.sets["set_id"]], ignore_index=True)
    target: dict = {}
    if data.request.layout == "wide":
        if rows["set_id"].nunique() > 1:
            raise ExportError("mixed_boundaries", "Die gewählten Zeiträume liegen in verschiedenen Gebietsständen "
                              f"({', '.join(sorted(rows['set_id'].unique()))}); für Geodaten im Breitformat bitte "
                              "Zeiträume eines Gebietsstands wählen oder das Langformat nehmen. / The periods span "
                              "several boundary sets; choose periods of one set or the long layout.")
        base = rows[["set_id", "area_id", "name", "parent_id"]].drop_duplicates("area_id")
        columns = {}
        periods = sorted(rows["period"].unique())
        for (ind_id, period), part in rows.groupby(["indicator_id", "period"], sort=False):
            col = _wide_column(ind_id, period, len(periods))
            part = part.set_index("area_id")
            columns[col] = base["area_id"].map(part["value"]).astype(float)
            columns[f"{col}_status"] = base["area_id"].map(part["status"])
        frame = pd.concat([base.reset_index(drop=True), pd.DataFrame(columns).reset_index(drop=True)], axis=1)
        if len(data.indicators) == 1:
            col = _wide_column(data.indicators[0].id, periods[-1], len(periods))
            target = {"value": col, "status": f"{col}_status"}
    else:
        by_id = {i.id: i for i in data.indicators}
        frame = pd.DataFrame({
            "set_id": rows["set_id"], "area_id": rows["area_id"], "name": rows["name"],
            "parent_id": rows["parent_id"], "level": level, "indicator": rows["indicator_id"],
            "title": rows["indicator_id"].map(lambda i: by_id[i].title(data.request.lang)),
            "period": rows["period"], "value": rows["value"].astype(float),
            "numerator": rows["numerator"].astype(float), "denominator": rows["denominator"].astype(float),
            "status": rows["status"], "unit": rows["indicator_id"].map(lambda i: by_id[i].unit_in(data.request.lang)),
            "source": rows["indicator_id"].map(lambda i: by_id[i].source),
            "licence": rows["indicator_id"].map(lambda i: by_id[i].licence),
        })
        if len(data.indicators) == 1:
            target = {"value": "value", "status": "status"}
    frame = frame.merge(geometry, on=["set_id", "area_id"], how="left").rename(columns={"set_id": "boundary_set"})
    gdf = gpd.GeoDataFrame(frame.drop(columns="geometry"), geometry=shapely.from_wkb(frame["geometry"].values),
                           crs="EPSG:4326")
    return gdf, target


def style_classes(gdf: gpd.GeoDataFrame, target: dict, ind: Indicator, method: str, k: int) -> list[dict]:
    """Rules for a GIS style: one per class, then missing and suppressed (the map's own colours)."""
    values = gdf[target["value"]].tolist()
    statuses = gdf[target["status"]].fillna("missing").tolist()
    c = classify([None if pd.isna(v) else v for v in values], statuses, method, k, ind.polarity, ind.diverging)
    entries = legend_entries(c, ind.decimals)
    rules, lower = [], None
    for entry, upper in zip(entries, c.breaks):
        # the label as the legend says it, but with the hyphen-minus a GIS user may copy into a filter
        rules.append({"kind": "class", "color": entry["color"], "label": entry["label"].replace(MINUS, "-"),
                      "lower": lower, "upper": upper})
        lower = upper
    if rules:
        rules[-1]["upper"] = None  # the top class takes everything above the last break
    rules.append({"kind": "missing", "color": MISSING_COLOR, "label": gap_word("missing")})
    rules.append({"kind": "suppressed", "color": SUPPRESSED_COLOR, "label": gap_word("suppressed")})
    return rules


def qml_style(rules: list[dict], value_field: str, status_field: str) -> str:
    """A QGIS rule-based style: classes on ok values; missing and suppressed by status, never by colour scale."""
    def q(name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def rgb(hex_color: str) -> str:
        h = hex_color.lstrip("#")
        return ",".join(str(int(h[i:i + 2], 16)) for i in (0, 2, 4)) + ",255"

    rule_xml, symbol_xml = [], []
    for n, rule in enumerate(rules):
        if rule["kind"] == "class":
            cond = [f"{q(status_field)} = 'ok'"]
            if rule["lower"] is not None:
                cond.append(f"{q(value_field)} > {rule['lower']!r}")
            if rule["upper"] is not None:
                cond.append(f"{q(value_field)} <= {rule['upper']!r}")
            expr = " AND ".join(cond)
        elif rule["kind"] == "missing":
            expr = f"{q(status_field)} IS NULL OR {q(status_field)} = 'missing'"
        else:
            expr = f"{q(status_field)} = 'suppressed'"
        rule_xml.append(f'<rule key="r{n}" symbol="{n}" label={quoteattr(rule["label"])} filter={quoteattr(expr)}/>')
        style = "b_diagonal" if rule["kind"] == "suppressed" else "solid"
        symbol_xml.append(
            f'<symbol type="fill" name="{n}" alpha="1" clip_to_extent="1" force_rhr="0">'
            f'<layer class="SimpleFill" pass="0" locked="0" enabled="1"><Option type="Map">'
            f'<Option type="QString" name="color" value="{rgb(rule["color"])}"/>'
            f'<Option type="QString" name="style" value="{style}"/>'
            f'<Option type="QString" name="outline_color" value="110,110,110,255"/>'
            f'<Option type="QString" name="outline_width" value="0.2"/>'
            f'<Option type="QString" name="outline_width_unit" value="MM"/>'
            f'</Option></layer></symbol>')
    return ("<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
            '<qgis version="3.34" styleCategories="Symbology">\n'
            '<renderer-v2 type="RuleRenderer" symbollevels="0" enableorderby="0" forceraster="0">\n'
            '<rules key="root">' + "".join(rule_xml) + "</rules>\n"
            "<symbols>" + "".join(symbol_xml) + "</symbols>\n"
            "</renderer-v2>\n</qgis>\n")


def _layer_name(data: ExportData) -> str:
    req = data.request
    what = "alle_indikatoren" if req.indicators == (ALL,) else (
        req.indicators[0] if len(req.indicators) == 1 else f"{len(req.indicators)}_indikatoren")
    when = req.periods[0] if len(req.periods) == 1 else ("alle" if not req.periods else "auswahl")
    return f"{what}_{when}_{req.level}".replace("-", "_")


def _write_gpkg(gdf: gpd.GeoDataFrame, data: ExportData, path: Path, qml: str | None) -> None:
    layer = _layer_name(data)
    pyogrio.write_dataframe(gdf, path, layer=layer, driver="GPKG")
    meta = pd.DataFrame(metadata_items(data), columns=["key", "value"])
    pyogrio.write_dataframe(meta, path, layer="ortsatlas_metadata", driver="GPKG")
    if qml:
        _add_layer_style(path, layer, gdf.geometry.name, qml)


def _add_layer_style(path: Path, layer: str, geom_col: str, qml: str) -> None:
    """The table QGIS reads a layer's default style from (as QGIS itself writes it)."""
    con = sqlite3.connect(path)
    try:
        con.execute("""CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256),
            f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30),
            styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30),
            update_time DATETIME DEFAULT CURRENT_TIMESTAMP)""")
        con.execute("INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, "
                    "styleName, styleQML, styleSLD, useAsDefault, description, owner) "
                    "VALUES ('', '', ?, ?, ?, ?, '', 1, 'Ortsatlas', '')", [layer, geom_col, layer, qml])
        con.execute("INSERT INTO gpkg_contents (table_name, data_type, identifier, description) "
                    "VALUES ('layer_styles', 'attributes', 'layer_styles', 'QGIS styles')")
        con.commit()
    finally:
        con.close()


def shapefile_fields(columns: list[str]) -> dict[str, str]:
    """Full name → unique name of at most 10 characters (the dBase limit)."""
    fixed = {"boundary_set": "bound_set", "denominator": "denominatr", "parent_id": "parent_id"}
    out: dict[str, str] = {}
    for col in columns:
        short = fixed.get(col, col)[:10]
        n = 1
        while short in out.values():
            suffix = f"_{n}"
            short, n = col[:10 - len(suffix)] + suffix, n + 1
        out[col] = short
    return out


def _write_shapefile(gdf: gpd.GeoDataFrame, data: ExportData, folder: Path, qml: str | None) -> Path:
    layer = _layer_name(data)
    names = shapefile_fields([c for c in gdf.columns if c != gdf.geometry.name])
    shp_dir = folder / "shp"
    shp_dir.mkdir()
    pyogrio.write_dataframe(gdf.rename(columns=names), shp_dir / f"{layer}.shp", driver="ESRI Shapefile",
                            layer_options={"ENCODING": "UTF-8"})
    with open(shp_dir / "felder_fields.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["shapefile_field", "full_name"])
        writer.writerows(names.items())
    with open(shp_dir / "metadaten.txt", "w", encoding="utf-8") as f:
        f.writelines(f"{k}: {v}\n" if k else "\n" for k, v in metadata_items(data))
    if qml:  # QGIS applies <layer>.qml next to <layer>.shp automatically
        (shp_dir / f"{layer}.qml").write_text(qml, encoding="utf-8")
    out = folder / f"{layer}.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(shp_dir.iterdir()):
            z.write(p, p.name)
    return out


# ------------------------------------------------------------------ files
@dataclass
class ExportFile:
    filename: str
    mimetype: str
    chunks: Iterator[bytes]
    size: int | None = None


def file_name(data: ExportData) -> str:
    """ASCII only: a period stored in full-width digits ('２０２４') made the Content-Disposition header
    unencodable, and the download hung."""
    name = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_.-") else "_" for ch in _layer_name(data))
    mark = "_intern" if data.marking else ""  # the plain CSV has no room for a note: the name carries it
    return f"ortsatlas_{name}{mark}.{_EXT[data.request.fmt]}"


def render(atlas: Atlas, data: ExportData) -> ExportFile:
    """Build the file for the request's format; raises ExportError for impossible combinations."""
    fmt = data.request.fmt
    name = file_name(data)
    if fmt in ("csv", "csv-de"):
        return ExportFile(name, _MIME[fmt], _csv_chunks(data, fmt))
    folder = _scratch_folder(atlas)
    try:
        path = _build(atlas, data, folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return ExportFile(name, _MIME[fmt], _stream_and_remove(path, folder), path.stat().st_size)


def _scratch_folder(atlas: Atlas) -> Path:
    """A fresh folder under the configured `tmp_dir`, never the shared system /tmp.

    Why: a big GeoPackage needs room the store's volume has, and a folder of
    our own lets a test (or an operator) see that nothing is left behind.
    """
    root = atlas.settings.tmp_dir
    root.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix="ortsatlas-export-", dir=root))


def _build(atlas: Atlas, data: ExportData, folder: Path) -> Path:
    req = data.request
    if req.fmt == "xlsx":
        path = folder / "export.xlsx"
        _xlsx(data, path)
        return path
    gdf, target = geo_frame(atlas, data)
    crs = "EPSG:4326" if req.fmt == "geojson" else (req.crs or atlas.settings.official_crs)
    gdf = gdf.to_crs(crs)
    qml = None
    if target:
        qml = qml_style(style_classes(gdf, target, data.indicators[0], req.method, req.k),
                        target["value"], target["status"])
    if req.fmt == "gpkg":
        path = folder / "export.gpkg"
        _write_gpkg(gdf, data, path, qml)
    elif req.fmt == "geojson":
        path = folder / "export.geojson"
        meta = {"metadata": dict(_unique_keys(metadata_items(data)))}
        pyogrio.write_dataframe(gdf, path, driver="GeoJSON", layer=_layer_name(data),
                                layer_options={"RFC7946": "YES", "FOREIGN_MEMBERS_COLLECTION": json.dumps(meta)})
    elif req.fmt == "fgb":
        path = folder / "export.fgb"
        pyogrio.write_dataframe(gdf, path, driver="FlatGeobuf", layer=_layer_name(data),
                                layer_options={"TITLE": _layer_name(data),
                                               "DESCRIPTION": "; ".join(f"{k}: {v}" for k, v in
                                                                        metadata_items(data) if k)})
    else:
        path = _write_shapefile(gdf, data, folder, qml)
    return path


def _unique_keys(items: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Metadata as JSON object members: repeated keys (one block per indicator) get a number."""
    out, seen = [], {}
    for k, v in items:
        if not k:
            continue
        seen[k] = seen.get(k, 0) + 1
        out.append((k if seen[k] == 1 else f"{k} {seen[k]}", v))
    return out


def _stream_and_remove(path: Path, folder: Path) -> Iterator[bytes]:
    """Send the file in chunks, then delete its folder (also when the client goes away)."""
    try:
        with open(path, "rb") as f:
            while chunk := f.read(_CHUNK):
                yield chunk
    finally:
        shutil.rmtree(folder, ignore_errors=True)

