"""The OpenAPI 3.1 description of `/api/v1`, served at `/api/v1/openapi.json`.

Why a table and not annotations on the routes: the routes live in several
modules that several people change, and a description next to each would
spread one document over all of them. Here every operation is one `Op(...)`
entry in ROUTES, built from a few shared parameters and schemas; adding a
route is adding one entry (tests/test_openapi.py fails for a route under
/api/v1 that has none, and runs schemathesis against the whole document).

Rights are the server's, not the document's: the same operation answers each
viewer with what they may see, and something hidden answers exactly like
something unknown (404). Error bodies are always `{"error", "message"}`.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import Blueprint, Response, jsonify

from atlas.services import queries, territory
from atlas.services.context import Atlas
from atlas.web.http import current_atlas
from auth import ANONYMOUS

openapi = Blueprint("openapi", __name__)
VERSION = "1"

# ----------------------------------------------------------------------------- schema pieces
STR = {"type": "string"}
INT = {"type": "integer"}
NUM_OR_NULL = {"type": ["number", "null"]}
STR_OR_NULL = {"type": ["string", "null"]}
INT_OR_NULL = {"type": ["integer", "null"]}
STR_LIST = {"type": "array", "items": STR}
TEXT = {"type": "string", "pattern": "\\S"}  # a text with something in it
# An amount in euros, as a number or as text with a decimal point (rounded to whole cents).
EUROS = {"anyOf": [{"type": "number", "minimum": 0, "maximum": 1e13},
                   {"type": "string", "pattern": "^[0-9]{1,13}([.][0-9]{1,6})?$"}]}
KEY_SCHEMA = {"type": "string", "minLength": 1}
PERIOD_SCHEMA = {"type": "string", "pattern": "^[1-9][0-9]{3}(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
                 "description": "A year `2024`, a quarter `2024-Q3` or a month `2024-06`."}


def obj(required: dict | None = None, optional: dict | None = None, **extra) -> dict:
    """A JSON object with these properties; further properties are allowed (answers may grow)."""
    props = {**(required or {}), **(optional or {})}
    return {"type": "object", "properties": props, "required": sorted(required or {}), **extra}


def ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def array_of(schema: dict) -> dict:
    return {"type": "array", "items": schema}


SCHEMAS = {
    "Error": obj({"error": STR, "message": STR}),
    "Indicator": obj({
        "id": STR, "title_de": STR, "title_en": STR_OR_NULL, "domain": STR, "unit": STR_OR_NULL,
        "unit_en": STR_OR_NULL, "department": STR_OR_NULL, "visibility": STR, "decimals": INT_OR_NULL,
        "aggregation": STR_OR_NULL, "periodicity": STR_OR_NULL, "periods": STR_LIST, "last_update": STR_OR_NULL}),
    "Feature": obj({"type": {"const": "Feature"}, "geometry": {"type": ["object", "null"]},
                    "properties": {"type": "object"}}),
    "FeatureCollection": obj({"type": {"const": "FeatureCollection"}, "features": array_of(ref("Feature"))},
                             {"boundary_set": STR_OR_NULL}),
    "ValueRow": obj({"area_id": STR, "name": STR_OR_NULL, "period": STR, "value": NUM_OR_NULL,
                     "status": STR},
                    {"boundary_set": STR_OR_NULL, "numerator": NUM_OR_NULL, "denominator": NUM_OR_NULL,
                     "confidential": {"type": ["boolean", "null"]}}),
    "Level": obj({"id": STR, "name_de": STR, "name_en": STR, "plural_de": STR, "plural_en": STR}),
    "Version": obj({"version_id": INT, "indicator_id": STR, "state": STR, "periods": STR_LIST,
                    "actions": STR_LIST},
                   {"created_at": STR_OR_NULL, "released_at": STR_OR_NULL, "release_at": STR_OR_NULL,
                    "row_count": INT_OR_NULL, "projection": STR_OR_NULL}),
    "Problem": obj({"message": STR}, {"row": INT_OR_NULL, "column": STR_OR_NULL}),
    # While a large file is checked in the background (state `checking`) there is no report yet, only progress.
    "UploadReport": obj({}, {"ok": {"type": "boolean"}, "errors": array_of(ref("Problem")),
                             "warnings": array_of({"type": "object"}), "upload_id": STR, "file_name": STR,
                             "rows": INT, "indicators": STR_LIST, "periods": STR_LIST,
                             "state": {"enum": ["checking", "checked", "failed", "confirmed", "cancelled"]},
                             "version_ids": array_of(INT), "progress": ref("CheckProgress")}),
    "CheckProgress": obj({}, {"stage": {"enum": ["queued", "read", "cells", "rows", "compare", "saving"]},
                              "share": {"type": "number", "minimum": 0, "maximum": 1}}),
    "Note": obj({"id": STR, "rev": INT, "indicator": STR, "visibility": STR, "text": STR, "author": STR,
                 "date": STR}, {"period": STR_OR_NULL, "area": STR_OR_NULL}),
    "Profile": obj({"area": {"type": ["object", "null"]}, "count": INT,
                    "rows": array_of(obj({"indicator": STR, "period": STR_OR_NULL, "value": NUM_OR_NULL,
                                          "status": STR_OR_NULL}))}),
    "NoteInput": obj({"indicator": STR, "text": STR, "visibility": {"enum": ["public", "internal"]}},
                     {"period": STR, "area": STR, "id": STR, "delete": {"type": "boolean"}}),
}
# A composite index (atlas/services/indices.py): 1–20 inputs with weight and need orientation.
SCHEMAS["Recipe"] = obj({"inputs": {**array_of(obj({"indicator": KEY_SCHEMA}, {
    "weight": {"type": "number", "exclusiveMinimum": 0},
    "polarity": {"enum": ["high_good", "high_bad"]}})), "minItems": 1, "maxItems": 20, "uniqueItems": True}},
    {"method": {"enum": ["zscore", "minmax", "rank"]}, "missing": {"enum": ["exclude", "reweight"]},
     "period": PERIOD_SCHEMA, "reference": PERIOD_SCHEMA, "level": ref("LevelId")},
    description="Each indicator at most once; the answer is 400 naming what is wrong.")
SCHEMAS["SavedRecipe"] = {"allOf": [ref("Recipe"), obj(
    {"id": {"type": "string", "pattern": "^[a-z0-9_]{2,60}$"}, "title_de": {"type": "string", "pattern": "\\S"}},
    {"title_en": STR, "visibility": {"enum": ["internal", "public"]}},
    description="`department`: one of the steward's own (default: the first).")]}

# The store's own values, filled in when the document is served (see `spec`): level ids as an
# enum, and a public indicator, area and period as examples.
LEVEL_ID, EXAMPLE = ref("LevelId"), "x-store-example"
KEY, PERIOD_KEY = KEY_SCHEMA, PERIOD_SCHEMA
DATE = {"type": "string", "format": "date"}
LENIENT = {"type": "string", "description": "Anything else falls back to the default."}


# ----------------------------------------------------------------------------- parameters
def query(name: str, description: str, schema: dict | None = None, required: bool = False,
          explode: bool | None = None, example: str | None = None) -> dict:
    """A query parameter; `example` names one of the store's values (indicator, area, period) to show."""
    param = {"name": name, "in": "query", "required": required, "description": description, "schema": schema or STR}
    if explode is not None:
        param["explode"] = explode
    if example is not None:
        param[EXAMPLE] = example
    return param


def path(name: str, description: str, example: str | None = None) -> dict:
    param = {"name": name, "in": "path", "required": True, "description": description, "schema": KEY}
    if example is not None:
        param[EXAMPLE] = example
    return param


INDICATOR = query("indicator", "Indicator id (`GET /api/v1/indicators`); hidden or unknown ids answer 404.", KEY,
                  required=True, example="indicator")
PERIOD = query("period", "A period key; default: all periods or the latest, as the operation says.", PERIOD_KEY,
               example="period")
LEVEL = query("level", "A level id of the store (`GET /api/v1/levels`); default: the base level.", LEVEL_ID)
AREA = query("area", "An area key (any level).", KEY, required=True, example="area")
LANG = query("lang", "Language of texts: de (default) or en.", LENIENT)
PICTURE = query("format", "Picture format.", {"enum": ["png", "svg", "pdf"]})
METHOD = query("method", "Classification: quantiles (default), equal_interval, natural_breaks, … .", LENIENT)
CLASSES = query("k", "Number of classes, 3–7 (default 5).", LENIENT)

# ----------------------------------------------------------------------------- responses
def json_answer(schema: dict, description: str = "OK") -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def file_answer(*mimetypes: str, description: str = "The file (Content-Disposition names it).") -> dict:
    return {"description": description, "content": {m: {"schema": {"type": "string", "format": "binary"}}
                                                    for m in mimetypes}}


ERRORS = {
    400: "Malformed request: the message names the parameter and what is expected.",
    401: "Not signed in (writes), or a bearer token that is invalid or revoked.",
    403: "Signed in, but the role may not do this.",
    404: "Unknown, or not visible to this viewer: both answer alike.",
    409: "The state does not allow it (e.g. confirmed twice, already released).",
    413: "The upload is larger than ATLAS_UPLOAD_MAX_MB.",
    422: "The file was read but failed its checks: the report lists every problem.",
}
WRITE = (400, 401, 403, 404, 409)  # the answers every write route may give besides its success


def with_files(answer: dict, *mimetypes: str) -> dict:
    """A JSON answer that `format=` turns into a file (a CSV table, a picture) instead."""
    files = {m: {"schema": {"type": "string", "format": "binary"}} for m in mimetypes}
    return {**answer, "content": {**answer["content"], **files}}


# The compare page's views as files (issue 14): the table as German CSV, or the view as a picture.
TABLE_AND_PICTURES = ("text/csv", "image/png", "image/svg+xml", "application/pdf")
TABLE_OR_PICTURE = query("format", "json (default), csv (German: semicolon, decimal comma, UTF-8 with BOM), or "
                                   "the view as a picture: png, svg, pdf.",
                         {"enum": ["json", "csv", "png", "svg", "pdf"]})


# ----------------------------------------------------------------------------- the table
@dataclass(frozen=True)
class Op:
    """One operation: method, path, what it does, its parameters and its answers."""
    method: str
    path: str
    summary: str
    ok: dict
    params: tuple = ()
    errors: tuple[int, ...] = ()
    status: int = 200
    body: dict | None = None
    write: bool = False  # needs a signed-in writer: bearer token, or session cookie plus X-CSRFToken
    tag: str = "read"
    more: dict = field(default_factory=dict)  # further answers, status → response object

    def operation(self) -> dict:
        responses = {str(self.status): self.ok, **{str(s): r for s, r in self.more.items()}}
        for status in self.errors:
            responses.setdefault(str(status), json_answer(ref("Error"), ERRORS[status]))
        out = {"summary": self.summary, "operationId": f"{self.method}_{self.path}".replace("/", "_"),
               "tags": [self.tag], "parameters": list(self.params), "responses": responses}
        if self.body is not None:
            out["requestBody"] = self.body
        if self.write:
            out["security"] = [{"bearer": []}, {"session": [], "csrf": []}]
        return out


def json_body(schema: dict, required: bool = False) -> dict:
    return {"required": required, "content": {"application/json": {"schema": schema}}}


def multipart(fields: dict, required: tuple[str, ...]) -> dict:
    return {"required": True, "content": {"multipart/form-data": {"schema": obj(
        {k: v for k, v in fields.items() if k in required}, {k: v for k, v in fields.items() if k not in required})}}}


FILE_FIELD = {"type": "string", "format": "binary"}
JSON_TEXT = {"type": "string", "description": "JSON, as text in a form field"}
VERSION_ID = path("version_id", "A version id (`GET /api/v1/versions`).")
UPLOAD_ID = path("upload_id", "The id `POST /api/v1/uploads` answered with.")

ROUTES: tuple[Op, ...] = (
    # ------------------------------------------------------------------ catalogue and values
    Op("get", "/api/v1/indicators", "Indicators the viewer may see, with their released periods.",
       json_answer(obj({"indicators": array_of(ref("Indicator")), "count": INT}))),
    Op("get", "/api/v1/levels", "The territory's levels, base level first.",
       json_answer(obj({"levels": array_of(ref("Level"))}))),
    Op("get", "/api/v1/areas", "Areas of a level as GeoJSON (EPSG:4326), for a period's boundary set.",
       json_answer(ref("FeatureCollection")), (LEVEL, PERIOD), (400, 404)),
    Op("get", "/api/v1/values", "Values of one indicator at a level, one or all periods (suppressed cells "
                                "have no value).",
       json_answer(obj({"indicator": STR, "level": STR, "count": INT, "rows": array_of(ref("ValueRow"))})),
       (INDICATOR, PERIOD, LEVEL), (400, 404)),
    Op("get", "/api/v1/map-label", "One area's label on a map view (what the explorer's tiled map shows on hover "
                                   "and tap): the value as formatted, or the gap word (suppressed, no data); "
                                   "hidden or unknown indicators and areas not on the map answer 404.",
       json_answer(obj({"area": STR, "label": STR})),
       (INDICATOR, query("period", "A period key.", PERIOD_KEY, required=True, example="period"), LEVEL, AREA,
        METHOD, CLASSES, LANG), (404,)),
    Op("get", "/api/v1/points", "Point layers (Kitas, schools, …) as GeoJSON.",
       json_answer(ref("FeatureCollection")), (query("layer", "Only this layer."),)),
    Op("get", "/api/v1/grids", "Parallel planning grids (Grundschulbezirke, Sozialräume, …) with their "
                               "crosswalk's boundary set and estimation method.",
       json_answer(obj({"grids": array_of(obj({"id": STR, "name_de": STR, "name_en": STR, "boundary_set": STR,
                                               "method": STR, "method_de": STR, "method_en": STR})),
                        "count": INT}))),
    Op("get", "/api/v1/grids/{grid}/areas", "A grid's areas as GeoJSON (EPSG:4326).",
       json_answer(ref("FeatureCollection")), (path("grid", "A grid id (`GET /api/v1/grids`)."),), (404,)),
    Op("get", "/api/v1/grids/{grid}/values", "One indicator estimated on a grid from base-level counts (rates "
                                             "from estimated numerator and denominator), each row with its "
                                             "method; suppressed as the values are; hidden indicators 404.",
       {"description": "OK", "content": {
           "application/json": {"schema": obj({"grid": STR, "indicator": STR, "period": STR, "estimated": {
               "type": "boolean"}, "method": STR, "note_de": STR, "note_en": STR, "count": INT,
               "rows": array_of(obj({"area_id": STR, "name": STR_OR_NULL, "value": NUM_OR_NULL,
                                     "status": STR, "method": STR},
                                    {"numerator": NUM_OR_NULL, "denominator": NUM_OR_NULL,
                                     "split_share": NUM_OR_NULL, "confidential": STR_OR_NULL}))})},
           "text/csv": {"schema": {"type": "string"}}}},
       (path("grid", "A grid id (`GET /api/v1/grids`)."), INDICATOR,
        query("period", "A period key; default: the indicator's latest.", PERIOD_KEY, example="period"),
        query("format", "json (default) or csv (German: semicolon, decimal comma).", {"enum": ["json", "csv"]})),
       (400, 404)),
    Op("get", "/api/v1/disclosure", "The suppression report of one indicator-period: owning department and "
                                    "admins; anyone else 404.",
       json_answer(obj({"indicator": STR, "period": STR, "withheld": INT, "reasons": {"type": "object"},
                        "cells": array_of({"type": "object"})})),
       (INDICATOR, query("period", "The period.", PERIOD_KEY, required=True, example="period")), (400, 404)),
    Op("get", "/api/v1/compare", "Areas side by side (1–6, any level) with parents and the territory "
                                 "(format=csv: the table; png|svg|pdf: the time series of `chart`).",
       with_files(json_answer(obj({"count": INT, "rows": array_of({"type": "object"})})), *TABLE_AND_PICTURES),
       (query("area", "Area keys, repeatable.", {**array_of(KEY), "minItems": 1, "maxItems": 6}, required=True,
              explode=True, example="areas"),
        query("indicator", "Indicator ids, repeatable or comma-separated.", {**array_of(KEY), "minItems": 1},
              required=True, explode=True, example="indicators"), PERIOD,
        query("chart", "The pictured time series' indicator (default: the first visible one).", KEY,
              example="indicator"), TABLE_OR_PICTURE, LANG), (400, 404)),
    Op("get", "/api/v1/change", "Change of one indicator between two periods, per area; 'not_comparable' "
                                "across boundary changes (format=csv: the table; png|svg|pdf: the change map).",
       with_files(json_answer(obj({"indicator": STR, "from": STR_OR_NULL, "to": STR_OR_NULL, "level": STR, "count": INT,
                        "rows": array_of({"type": "object"})})), *TABLE_AND_PICTURES),
       (INDICATOR, query("from", "First period (one of the indicator's).", PERIOD_KEY, True, example="period"),
        query("to", "Second period (one of the indicator's).", PERIOD_KEY, True, example="period"), LEVEL,
        TABLE_OR_PICTURE, LANG), (400, 404)),
    Op("get", "/api/v1/correlation", "Two indicators over the areas of a level: Pearson, Spearman, line, n, "
                                     "and the areas left out (format=csv: values and who is left out; "
                                     "png|svg|pdf: the scatter).",
       with_files(json_answer(obj({"x": STR, "y": STR, "level": STR, "n": INT, "pearson": NUM_OR_NULL,
                                   "spearman": NUM_OR_NULL, "points": array_of({"type": "object"}),
                                   "left_out": array_of({"type": "object"})})), *TABLE_AND_PICTURES),
       (query("x", "Indicator id.", KEY, required=True, example="indicator"),
        query("y", "Indicator id.", KEY, required=True, example="indicator"), PERIOD, LEVEL, TABLE_OR_PICTURE,
        LANG), (400, 404)),
    Op("get", "/api/v1/bivariate", "Two indicators in 3×3 classes (terciles of each over the areas 'ok' in both): "
                                   "x and y class per area, a label in words, and the areas left out "
                                   "(format=csv: the table; png|svg|pdf: the map as a picture).",
       with_files(json_answer(obj({"x": STR, "y": STR, "level": STR, "count": INT,
                                   "x_edges": array_of({"type": "number"}), "y_edges": array_of({"type": "number"}),
                                   "colors": array_of(STR),
                                   "rows": array_of(obj({"area_id": STR, "x_class": INT, "y_class": INT,
                                                         "status": STR, "label": STR})),
                                   "left_out": array_of({"type": "object"})})), *TABLE_AND_PICTURES),
       (query("x", "Indicator id.", KEY, required=True, example="indicator"),
        query("y", "Indicator id.", KEY, required=True, example="indicator"), PERIOD, LEVEL, TABLE_OR_PICTURE,
        LANG), (400, 404)),
    Op("get", "/api/v1/similar", "Areas like a reference area in the chosen indicators (within a tolerance; "
                                 "format=csv: the list and the areas not compared).",
       with_files(json_answer(obj({"area": STR, "level": STR, "count": INT, "rows": array_of({"type": "object"}),
                                   "left_out": array_of({"type": "object"})})), "text/csv"),
       (AREA, query("indicators", "Indicator ids, repeatable or comma-separated (also `indicator`).",
                    {**array_of(KEY), "minItems": 1}, required=True, explode=True, example="indicators"),
        PERIOD, query("tolerance", "How far from the reference counts as alike (a number ≥ 0).",
                      {"type": "number", "minimum": 0}),
        query("method", "range (default) or zscore.", {"enum": ["range", "zscore"]}),
        query("format", "json (default) or csv (German: semicolon, decimal comma).", {"enum": ["json", "csv"]})),
       (400, 404)),
    # ------------------------------------------------------------------ targets
    Op("get", "/api/v1/warnings", "Early warnings (Frühwarnung) the newest readable period of each indicator "
                                  "with rules raises: threshold crossed, change beyond x %, into the worst fifth.",
       json_answer(obj({"count": INT, "warnings": array_of(obj({"indicator": STR, "area_id": STR, "rule": STR,
                                                                 "message_de": STR, "message_en": STR}))})),
       (query("area", "Only this area's warnings.", KEY),), (), tag="targets"),
    Op("post", "/api/v1/warning-rules", "The owning department: a new revision of an indicator's early-warning "
                                        "rules.",
       json_answer({"type": "object"}), (), WRITE, 201, json_body(obj(
           {"indicator": KEY}, {"above": {"type": "number"}, "below": {"type": "number"},
                                "change_pct": {"type": "number", "exclusiveMinimum": 0},
                                "worst_class": {"type": "boolean"}}), required=True),
       write=True, tag="targets"),
    Op("post", "/api/v1/dashboards", "An organisation's stewards: choose its dashboard tiles ([] shows all).",
       json_answer({"type": "object"}), (), WRITE, 201, json_body(obj({"organisation": STR, "indicators": STR_LIST}),
                                                                required=True), write=True, tag="targets"),
    Op("get", "/api/v1/register", "Goals (Leitziele, Teilziele) with their indicators, measures with their "
                                  "responsible unit and review date, and the reviews now due.",
       json_answer(obj({"goals": array_of({"type": "object"}), "measures": array_of({"type": "object"}),
                        "due": array_of({"type": "object"})})), (), (), tag="targets"),
    Op("post", "/api/v1/register/goals", "Admins: add a goal (a Teilziel names its Leitziel as `parent`).",
       json_answer({"type": "object"}), (), WRITE, 201, json_body(obj(
           {"title": TEXT}, {"parent": STR, "indicators": array_of(KEY),
                            "visibility": {"enum": ["public", "internal"]}}),
           required=True), write=True, tag="targets"),
    Op("post", "/api/v1/register/measures", "The responsible unit: record a measure or a new revision of it.",
       json_answer({"type": "object"}), (), WRITE, 201, json_body(obj(
           {"goal": KEY, "title": TEXT, "unit": KEY, "review": DATE},
           {"id": STR, "state": {"enum": ["open", "done", "dropped"]}, "note": STR,
            "visibility": {"enum": ["public", "internal"]}}), required=True), write=True, tag="targets"),
    Op("get", "/api/v1/targets", "Target tiles (value, target, traffic light, trend) of every visible indicator "
                                 "with a target; with `indicator`: its tile and every revision of its target.",
       json_answer({"anyOf": [obj({"targets": array_of({"type": "object"}), "count": INT}),
                              obj({"tile": {"type": ["object", "null"]}, "revisions": {"type": "array"}})]}),
       (query("indicator", "Indicator id.", KEY, example="indicator"),), (404,), tag="targets"),
    Op("post", "/api/v1/targets", "The owning department: a new revision of an indicator's target.",
       json_answer({"type": "object"}), (), WRITE, 201, json_body(obj(
           {"indicator": KEY, "target": {"type": "number"}, "warn": {"type": "number"},
            "direction": {"enum": ["up", "down"]}, "deadline": DATE}, {"note": STR},
           description="up: warn < target (at least), down: warn > target (at most)."), required=True),
       write=True, tag="targets"),
    # ------------------------------------------------------------------ profiles, notes, reports
    Op("get", "/api/v1/coverage", "Supply and demand: a point layer's capacity per 100 people in need (an "
                                  "indicator's count), per area; suppressed where the count is.",
       json_answer(obj({"rows": array_of({"type": "object"}), "method_de": STR})),
       (query("layer", "A point layer (kita, grundschule, …); an unknown one answers 404.", KEY, required=True),
        query("demand", "The indicator whose count is the need (its numerator, or a count).", KEY, required=True,
              example="indicator"),
        query("period", "Period.", PERIOD_KEY, required=True, example="period"), LEVEL,
        query("radius", "Catchment in metres around each area (0–20000; default 0: located in the area).",
              {"type": "number", "minimum": 0, "maximum": 20000})), (400, 404), tag="profiles"),
    Op("get", "/api/v1/search", "Areas by name or key at every level (tolerant of case, umlauts, hyphens), and "
                                "the indicators the viewer may see by words of their titles and definitions.",
       json_answer(obj({"q": STR, "areas": array_of(obj({"area_id": STR, "name": STR, "level": STR})),
                        "indicators": array_of(obj({"id": STR, "title": STR}))})),
       (query("q", "What to look for (at most 200 characters).", {"type": "string", "pattern": "\\S",
                                                                  "maxLength": 200}, required=True),
        LANG), (400,), tag="profiles"),
    Op("get", "/api/v1/profile", "An area's profile: every indicator the viewer may see, as JSON or A4 PDF.",
       {"description": "OK", "content": {"application/json": {"schema": ref("Profile")},
                                         "application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
       (AREA, PERIOD, LANG, query("format", "Answer format.", {"enum": ["json", "pdf"]})), (400, 404),
       tag="profiles"),
    Op("get", "/api/v1/notes", "Interpretation notes on an indicator [, area][, period] the viewer may read.",
       json_answer(obj({"notes": array_of(ref("Note")), "count": INT})),
       (INDICATOR, query("area", "Area key.", KEY), PERIOD, LANG), (400, 404), tag="profiles"),
    Op("post", "/api/v1/notes", "Add, change (`id`) or delete (`id`, `delete`) a note: the owning department's "
                                "stewards and admins.",
       json_answer(ref("Note")), (), WRITE, 201, json_body(ref("NoteInput"), required=True), write=True,
       tag="profiles"),
    Op("get", "/api/v1/notes/{note_id}/history", "Every revision of a note, for those who may write it.",
       json_answer(obj({"revisions": array_of({"type": "object"}), "count": INT})),
       (path("note_id", "A note id."),), (404,), tag="profiles"),
    Op("get", "/api/v1/reports", "Report templates the viewer may render.",
       json_answer(obj({"reports": array_of(obj({"id": STR, "title": STR, "html": STR, "pdf": STR})),
                        "count": INT})), (LANG,), tag="reports"),
    Op("get", "/api/v1/reports/{report_id}", "A report rendered with the viewer's rights, now or as of a time.",
       file_answer("text/html", "application/pdf", description="The report."),
       (path("report_id", "A template id (`GET /api/v1/reports`)."), LANG,
        query("format", "Answer format.", {"enum": ["html", "pdf"]}),
        query("as_of", "Render the store as it stood at the end of that day (also YYYY-MM-DDTHH:MM).", DATE)),
       (400, 404), tag="reports"),
    Op("get", "/api/v1/booklet", "Admins: start the profile booklet of a level (202 and a status URL; `wait=1` "
                                 "answers with the file); anyone else 404.",
       file_answer("application/pdf", "application/zip"),
       (LEVEL, query("format", "Booklet format.", {"enum": ["pdf", "zip"]}),
        query("view", "Edition.", {"enum": ["public", "internal"]}), LANG,
        query("wait", "1: build now and answer with the file.", {"enum": ["0", "1"]})), (400, 404),
       tag="reports", more={202: json_answer(obj({"job": STR, "status_url": STR}), "Started.")}),
    Op("get", "/api/v1/booklet/jobs/{job}", "Admins: how far a booklet is.",
       json_answer(obj({"job": STR, "state": STR}, {"done": INT_OR_NULL, "total": INT_OR_NULL, "download": STR})),
       (path("job", "The job id."),), (404,), tag="reports"),
    Op("get", "/api/v1/booklet/jobs/{job}/file", "Admins: a finished booklet.",
       file_answer("application/pdf", "application/zip"), (path("job", "The job id."),), (404,), tag="reports"),
    # ------------------------------------------------------------------ downloads
    Op("get", "/api/v1/export", "Data export as CSV, German-Excel CSV, XLSX or GIS formats (with geometry).",
       file_answer("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                   "application/geopackage+sqlite3", "application/geo+json", "application/octet-stream",
                   "application/zip"),
       (query("indicator", "Indicator ids, repeatable or comma-separated.", {**array_of(KEY), "minItems": 1},
              required=True, explode=True, example="indicators"),
        query("period", "Periods, repeatable or comma-separated; none or `all`: all.",
              array_of({"anyOf": [PERIOD_KEY, {"const": "all"}]}), explode=True),
        LEVEL, query("format", "File format.", {"enum": ["csv", "csv-de", "xlsx", "gpkg", "geojson", "fgb", "shp"]}),
        query("layout", "Long (a row per cell) or wide.", {"enum": ["long", "wide"]}),
        query("crs", "Coordinates of GIS formats; GeoJSON is always EPSG:4326.",
              {"enum": ["EPSG:4326", "EPSG:25832", "EPSG:25833", "EPSG:3857"]}),
        METHOD, CLASSES, LANG), (400, 404), tag="downloads"),
    Op("get", "/api/v1/map", "The map as a picture for reports.",
       file_answer("image/png", "image/svg+xml", "application/pdf"),
       (INDICATOR, PERIOD, LEVEL, METHOD, CLASSES, PICTURE, LANG), (400, 404), tag="downloads"),
    Op("get", "/api/v1/chart", "An area's time series as a picture.",
       file_answer("image/png", "image/svg+xml", "application/pdf"),
       (INDICATOR, AREA, PICTURE, LANG), (400, 404), tag="downloads"),
    # ------------------------------------------------------------------ composite indices
    # Stewards and admins (bearer token, or session plus X-CSRFToken); anyone else 404, like the booklets.
    Op("post", "/api/v1/allocation/preview", "Stewards, admins: distribute an amount across areas in proportion "
                                             "to an indicator (× a population) or its numerator, with floor and "
                                             "cap; `?format=xlsx` for the spreadsheet. Nothing is stored.",
       {"description": "OK", "content": {
           "application/json": {"schema": obj({"amount": {"type": "number"}, "rows": array_of({"type": "object"}),
                                               "method_de": STR})},
           "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {"schema": FILE_FIELD}}},
       (query("format", "json (default) or xlsx.", {"enum": ["json", "xlsx"]}),), (400, 404, 409),
       body=json_body(obj({"amount": EUROS, "indicator": KEY, "period": PERIOD_KEY},
                          {"level": LEVEL_ID, "basis": {"enum": ["value", "numerator"]}, "population": KEY,
                           "floor": EUROS, "cap": EUROS}), required=True), tag="indices",
       more={409: json_answer(ref("Error"), "The numbers cannot be met: floor × areas above the amount, cap × "
                                            "areas below it, negative weights, or population with 'numerator'.")}),
    Op("post", "/api/v1/clusters/preview", "Stewards, admins: a cluster typology (k-means or Ward) of the areas "
                                           "over 2–12 z-standardised indicators, each cluster described.",
       json_answer(obj({"clusters": array_of({"type": "object"}), "areas": array_of({"type": "object"})})), (),
       (400, 404, 409), body=json_body(obj({"indicators": {**array_of(KEY), "minItems": 2, "maxItems": 12},
                                            "period": PERIOD_KEY},
                                           {"k": {"type": "integer", "minimum": 2, "maximum": 10},
                                            "method": {"enum": ["kmeans", "ward"]}, "level": LEVEL_ID}),
                                       required=True),
       tag="indices", more={409: json_answer(ref("Error"), "Too few areas with every value for k clusters.")}),
    Op("post", "/api/v1/indices/preview", "Stewards, admins: a composite index per area; nothing is stored.",
       json_answer(obj({"level": STR, "count": INT, "rows": array_of({"type": "object"})})), (), (400, 404),
       body=json_body(ref("Recipe"), required=True), tag="indices"),
    Op("post", "/api/v1/indices", "Stewards, admins: save a recipe as a derived indicator (a draft version).",
       json_answer({"type": "object"}), (), (400, 404, 409), 201, json_body(ref("SavedRecipe"), required=True),
       tag="indices"),
    Op("post", "/api/v1/indices/recompute", "Stewards, admins: re-compute saved indices whose inputs have newer "
                                            "released versions.",
       json_answer(obj({"recomputed": {"type": "array"}})), (), (400, 404), tag="indices"),
    Op("post", "/api/v1/typology/preview", "Stewards, admins: status × dynamics groups of the areas from a "
                                           "recipe over `years`.",
       json_answer({"type": "object"}), (), (400, 404),
       body=json_body({"allOf": [ref("Recipe"), obj({}, {"years": {"type": "integer", "minimum": 1,
                                                                    "maximum": 20}})]}, required=True),
       tag="indices"),
    Op("get", "/api/v1/indices/{indicator_id}", "A saved index's recipe and the input versions behind it.",
       json_answer({"type": "object"}), (path("indicator_id", "The index's indicator id."),), (404,),
       tag="indices"),
    # ------------------------------------------------------------------ the stewards' workflow
    Op("post", "/api/v1/uploads", "Check an extract (CSV/XLSX); nothing is stored until it is confirmed.",
       json_answer(ref("UploadReport"), "Checked: no errors."),
       (LANG,), WRITE + (413, 422), body=multipart({
           "file": FILE_FIELD, "mapping": JSON_TEXT, "new_indicators": JSON_TEXT, "sheet": STR,
           "total_tolerance": STR, "boundary_set": STR}, ("file",)), write=True, tag="workflow",
       more={422: json_answer(ref("UploadReport"), ERRORS[422]),
             202: json_answer(obj({"upload_id": STR, "state": {"const": "checking"}, "progress": ref("CheckProgress")},
                                  {"file_name": STR}),
                              "A large file (from ATLAS_UPLOAD_BACKGROUND_KB, or with `Prefer: respond-async`) is "
                              "checked in the background: poll the Location until `state` is no longer `checking`."),
             503: json_answer(ref("Error"), "Too many checks running; retry after the Retry-After seconds.")}),
    Op("get", "/api/v1/uploads/{upload_id}", "A checked upload's report and a preview of its values (its owner, "
                                             "admins).",
       json_answer(ref("UploadReport")), (UPLOAD_ID, LANG), (404,), tag="workflow"),
    Op("post", "/api/v1/uploads/{upload_id}/confirm", "Store a checked upload as draft versions.",
       json_answer(obj({"version_id": INT, "version_ids": array_of(INT), "state": STR})), (UPLOAD_ID,), WRITE,
       201, body=json_body(obj({}, {"projection": {"type": ["string", "null"], "maxLength": 80,
                                                   "example": "Hauptvariante 2025"}},
                               description="`projection`: the upload holds projected figures of this variant; "
                                           "charts draw them dashed, maps say 'Prognose (…)'.")),
       write=True, tag="workflow"),
    Op("post", "/api/v1/uploads/{upload_id}/cancel", "Cancel a checked upload.",
       json_answer(obj({"upload_id": STR, "state": STR})), (UPLOAD_ID,), WRITE, write=True, tag="workflow"),
    Op("post", "/api/v1/versions/{version_id}/release", "Release a version internally or to the public, now or "
                                                        "at a time.",
       json_answer({"type": "object"}), (VERSION_ID,), WRITE,
       body=json_body(obj({"to": {"enum": ["internal", "public"]}}, {"at": STR})), write=True, tag="workflow"),
    Op("post", "/api/v1/versions/{version_id}/rollback", "Withdraw a version (the reason goes to the audit log).",
       json_answer({"type": "object"}), (VERSION_ID,), WRITE, body=json_body(obj({}, {"reason": STR})),
       write=True, tag="workflow"),
    Op("post", "/api/v1/versions/{version_id}/unschedule", "Cancel a scheduled release.",
       json_answer({"type": "object"}), (VERSION_ID,), WRITE, write=True, tag="workflow"),
    Op("post", "/api/v1/indicators/{indicator_id}/visibility", "Admins: approve or change who may see an "
                                                               "indicator created through an upload.",
       json_answer({"type": "object"}), (path("indicator_id", "Indicator id."),), WRITE,
       body=json_body(obj({"to": {"enum": ["public", "internal", "restricted"]}})), write=True, tag="workflow"),
    Op("post", "/api/v1/indicators/{indicator_id}/sharing", "The owning organisation: share a restricted "
                                                            "indicator with other organisations (the full list).",
       json_answer(obj({"indicator": STR, "shared_with": STR_LIST})), (path("indicator_id", "Indicator id."),),
       WRITE, body=json_body(obj({"with": STR_LIST})), write=True, tag="workflow"),
    Op("post", "/api/v1/indicators/{indicator_id}/metadata", "Admins: edit an upload-created indicator's titles, "
                                                             "definitions, source, contact, licence, thresholds.",
       json_answer({"type": "object"}), (path("indicator_id", "Indicator id."),), WRITE,
       body=json_body({"type": "object", "description": "Field → new value, e.g. {\"title_de\": \"…\"}."},
                      required=True), write=True, tag="workflow"),
    Op("get", "/api/v1/versions", "The version history of an indicator the viewer may see.",
       json_answer(obj({"indicator": STR, "count": INT, "versions": array_of(ref("Version"))})), (INDICATOR,),
       (404,), tag="workflow"),
    Op("get", "/api/v1/releases", "Versions released internally that wait for the public release.",
       json_answer(obj({"count": INT, "versions": array_of(ref("Version"))})), tag="workflow"),
    Op("get", "/api/v1/templates", "The delivery template of an indicator (its department's stewards, admins).",
       file_answer("text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
       (INDICATOR, query("format", "Template format.", {"enum": ["csv-de", "xlsx"]})), (400, 404),
       tag="workflow"),
    Op("get", "/api/v1/audit", "Admins: the audit log, filtered, newest first, as JSON or CSV; anyone else 404.",
       {"description": "OK", "content": {
           "application/json": {"schema": obj({"count": INT, "entries": array_of({"type": "object"})})},
           "text/csv": {"schema": STR}}},
       (query("actor", "Who."), query("action", "What."), query("indicator", "Which indicator."),
        query("from", "From this day.", DATE), query("to", "To this day.", DATE),
        query("format", "csv: the whole filtered log as CSV.", {"enum": ["json", "csv"]}),
        query("limit", "Most entries (JSON), at most 10000; default 500.", LENIENT)), (400, 404), tag="workflow"),
    Op("post", "/api/v1/grids", "Admins: add a parallel planning grid (Grundschulbezirke, Sozialräume) with its "
                                "crosswalk to the base level: by area overlap, by counts at `points`, or an "
                                "uploaded `crosswalk` CSV.",
       json_answer({"type": "object"}, "Stored."), (LANG,), WRITE + (413, 422), 201,
       multipart({"file": FILE_FIELD, "grid_id": STR, "name_de": STR, "name_en": STR, "plural_de": STR,
                  "plural_en": STR, "key_col": STR, "name_col": STR, "set_id": STR, "nests_in": STR,
                  "parent_from": STR, "note": STR, "crosswalk": FILE_FIELD, "points": FILE_FIELD},
                 ("file", "grid_id", "name_de", "key_col", "name_col")),
       write=True, tag="workflow",
       more={422: json_answer(obj({"ok": {"const": False}, "errors": array_of(ref("Problem"))}), ERRORS[422])}),
    Op("post", "/api/v1/boundaries", "Admins: add a boundary set (GeoJSON, GeoPackage or zipped Shapefile): one "
                                     "file of the base level, or one file per level as `file_<level>` (with "
                                     "`key_col_<level>`, `name_col_<level>`, `parent_col_<level>`; no parent column: "
                                     "by location). Every area must lie in its parent.",
       json_answer({"type": "object"}, "Stored."), (LANG,), WRITE + (413, 422), 201,
       multipart({"file": FILE_FIELD, "valid_from": DATE, "key_col": STR,
                  "name_col": STR, "parent_col": STR, "parent_key_length": STR, "parent_names": JSON_TEXT,
                  "key_length": STR, "set_id": STR, "label": STR, "city_name": STR, "city_key": STR,
                  "layer": STR}, ("valid_from", "key_col", "name_col")),
       write=True, tag="workflow",
       more={422: json_answer(obj({"ok": {"const": False}, "errors": array_of(ref("Problem"))}), ERRORS[422])}),
    # ------------------------------------------------------------------ this document
    Op("get", "/api/v1/openapi.json", "This description.", json_answer({"type": "object"}), tag="meta"),
)


def store_values(atlas: Atlas) -> dict[str, list[str]]:
    """The store's level ids, and a public indicator, its latest period and an area as examples.

    Only what the public sees anyway: the document is the same for every viewer.
    """
    out: dict[str, list] = {"levels": list(territory.level_ids(atlas))}
    visible = queries.visible_indicators(atlas, ANONYMOUS)
    with_periods = visible[visible["periods"].map(len) > 0]
    if len(with_periods):
        first = with_periods.iloc[0]
        out["indicator"], out["period"] = first["id"], first["periods"][-1]
        out["indicators"] = [first["id"]]
    areas = queries.areas(atlas, territory.base_level(atlas), queries.current_set(atlas))
    if len(areas):
        out["area"], out["areas"] = areas["area_id"].iloc[0], list(areas["area_id"].iloc[:2])
    return out


def _with_examples(params: list[dict], values: dict) -> list[dict]:
    """Parameters with the store's example values in place of their `x-store-example` names."""
    out = []
    for param in params:
        param = dict(param)
        name = param.pop(EXAMPLE, None)
        if name in values:
            param["example"] = values[name]
        out.append(param)
    return out


def spec(atlas: Atlas) -> dict:
    """The whole document, built from ROUTES and the store's levels and examples."""
    values = store_values(atlas)
    paths: dict[str, dict] = {}
    for op in ROUTES:
        operation = op.operation()
        operation["parameters"] = _with_examples(operation["parameters"], values)
        paths.setdefault(op.path, {})[op.method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Ortsatlas API", "version": VERSION,
                 "description": "Small-area indicators of the city: read without signing in (what the public "
                                "may see), or with a bearer token (`python -m atlas tokens add NAME`) or a session "
                                "for more. Hidden and unknown things answer alike (404)."},
        "paths": paths,
        "components": {
            "schemas": {**SCHEMAS, "LevelId": {"type": "string", "enum": values["levels"]}},
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "An API token of an account."},
                "session": {"type": "apiKey", "in": "cookie", "name": "session",
                            "description": "The session cookie of a browser sign-in (/login)."},
                "csrf": {"type": "apiKey", "in": "header", "name": "X-CSRFToken",
                         "description": "With a session cookie, writes also need the page's CSRF token."},
            },
        },
    }


@openapi.get("/api/v1/openapi.json")
def openapi_json() -> Response:
    return jsonify(spec(current_atlas()))
