"""The JSON read API (`/api/v1`) and the probes `/healthz` (alive) and `/readyz` (store readable).

Same viewer filtering as the UI: every route asks `current_principal()` and
passes it to the services. An indicator the viewer may not see answers
exactly like one that does not exist (same status, same body).
"""
from __future__ import annotations

import csv
import errno
import io
import logging
import math
import re
import sys
from urllib.parse import quote

import pandas as pd
from flask import Blueprint, Response, current_app, jsonify, request, send_file
from flask.json.provider import DefaultJSONProvider
from werkzeug.exceptions import HTTPException, InternalServerError

from atlas.export import pictures, profile_view
from atlas.export.allocation_file import allocation_xlsx
from atlas.export.tables import neutralise
from atlas.formatting import gap_word
from atlas.i18n import norm_lang
from atlas.messages import Message
from atlas.services import (
    allocation,
    comparison,
    coverage,
    profiles,
    queries,
    reports,
    territory,
)
from atlas.services import clusters as cluster_service
from atlas.services import early_warning as warning_service
from atlas.services import indices as index_service
from atlas.services import measures as measure_service
from atlas.services import notes as note_service
from atlas.services import search as search_service
from atlas.services import targets as target_service
from atlas.services.map_bands import feature_collection
from atlas.web import booklet_jobs
from atlas.web.http import (
    clean,
    current_atlas,
    error_response,
    level_arg,
    needs_csrf,
    not_found,
    readable_levels,
    records,
    signed_in_write,
)
from auth import current_principal
from auth.permissions import may_build_index, may_make_booklet, sees_internal_figures

api = Blueprint("api", __name__)
log = logging.getLogger(__name__)


def finite(value):
    """A value for JSON: NaN and infinity (stored by older atlases) become null, at any depth.

    JSON has neither, and `Infinity` in an answer broke every client's parser.
    """
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


class FiniteJSON(DefaultJSONProvider):
    """The app's JSON: never NaN or Infinity. Answers are written strictly (`allow_nan=False`); only one
    that holds such a number is walked and written again, so the usual answer costs nothing extra."""

    def dumps(self, obj, **kwargs) -> str:
        kwargs["allow_nan"] = False
        try:
            return super().dumps(obj, **kwargs)
        except ValueError:
            return super().dumps(finite(obj), **kwargs)


@api.record_once
def _finite_json(state) -> None:
    """Every JSON answer of the app (read API, workflow, errors) goes through FiniteJSON."""
    state.app.json = FiniteJSON(state.app)


@api.app_errorhandler(RecursionError)
def _nested_too_deep(_exc) -> Response:
    """JSON nested deeper than the parser goes (a body of 100,000 '[') is the client's error: 400, never 500.

    App-wide, since every JSON body meets the same parser: the API, the
    workflow's form fields and Dash's callback dispatch.
    """
    return error_response(400, "too_deep", Message("api_too_deep"))


def _dependency(item) -> bool:
    """One callback input/output/state as Dash's renderer sends it: {"id", "property"[, "value"]}, or a list of
    them (a pattern-matching ALL)."""
    if isinstance(item, list):
        return all(_dependency(i) for i in item)
    return isinstance(item, dict) and isinstance(item.get("id"), (str, dict)) and isinstance(item.get("property"), str)


def dash_body_ok(body) -> bool:
    """The shape Dash's dispatch reads without checking: anything else made it fail with a 500."""
    return (isinstance(body, dict) and isinstance(body.get("output"), str) and "outputs" in body
            and (_dependency(body["outputs"]))
            and isinstance(body.get("inputs"), list) and all(_dependency(i) for i in body["inputs"])
            and isinstance(body.get("state", []), list) and all(_dependency(i) for i in body.get("state", []))
            and isinstance(body.get("changedPropIds", []), list)
            and all(isinstance(p, str) for p in body.get("changedPropIds", [])))


@api.before_app_request
def _dash_dispatch_shape() -> Response | None:
    """A callback request that is not shaped like the renderer's gets 400 before Dash reads it."""
    if request.method != "POST" or not request.path.endswith("/_dash-update-component"):
        return None
    if not dash_body_ok(request.get_json(silent=True)):
        return error_response(400, "bad_callback", Message("api_bad_callback"))
    return None


def _disk_full(exc: OSError) -> Response:
    """The data directory's disk (or quota) is full: 507 with what happened and what to do.

    Writes fail before the manifest swap and leave no files behind, so the
    answer can promise that nothing was stored; the steward retries the same
    upload once there is room. Logged as an error: the administrator must act.
    """
    log.error("disk full while writing: %s (%s %s)", exc, request.method, request.path)
    return error_response(507, "disk_full", Message("api_disk_full"))


@api.app_errorhandler(Exception)
def _callback_given_what_no_page_sends(exc: Exception) -> Response:
    """A callback request with an unknown output, or values no page sends (a dict where the page sends a
    path, None for a number), is the client's error: 400. Dash's dispatch and the callbacks trust the renderer
    and raised, which answered 500 (issue 18, finding 5; tests/test_malformed_bodies.py).

    Still logged with its trace, as a warning: should a page ever send such a value, the log shows where.
    Outside the dispatch nothing changes: HTTP errors keep their answer; anything else is logged as an
    error and answers 500, as Flask does without this handler.
    """
    if isinstance(exc, HTTPException):
        return exc
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return _disk_full(exc)
    if request.path.endswith("/_dash-update-component"):
        log.warning("callback request refused: %s: %s", type(exc).__name__, exc, exc_info=True)
        return error_response(400, "bad_callback", Message("api_bad_callback"))
    current_app.log_exception(sys.exc_info())
    return InternalServerError(original_exception=exc)


_FILENAME = re.compile(r'filename="([^"]*)"')


@api.after_app_request
def _ascii_file_names(resp: Response) -> Response:
    """Every download's Content-Disposition in ASCII (the original name as RFC 5987 `filename*`).

    Why: a file name with a period stored in full-width digits could not be
    encoded into the header, and the download hung. Names are built in many
    places (exports, pictures, reports); this holds for all of them.
    """
    header = resp.headers.get("Content-Disposition")
    if header is None or header.isascii():
        return resp
    m = _FILENAME.search(header)
    name = m[1] if m else "download"
    plain = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "_.-") else "_" for ch in name)
    kind = header.split(";", 1)[0].strip() if header.split(";", 1)[0].strip().isascii() else "attachment"
    resp.headers["Content-Disposition"] = f"{kind}; filename=\"{plain}\"; filename*=UTF-8''{quote(name)}"
    return resp

@api.get("/api/v1/indicators")
def indicators() -> Response:
    atlas = current_atlas()
    vis = queries.visible_indicators(atlas, current_principal())
    fields = ["id", "title_de", "title_en", "definition_de", "definition_en", "domain", "unit", "unit_en",
              "department", "visibility", "polarity", "decimals", "aggregation", "scale", "numerator", "denominator",
              "periodicity", "source", "contact", "licence"]
    out = []
    for row in vis.itertuples(index=False):
        item = {f: clean(getattr(row, f)) for f in fields}
        item["periods"] = list(row.periods)
        item["last_update"] = row.last_update.isoformat() if row.last_update is not None else None
        out.append(item)
    return jsonify({"indicators": out, "count": len(out)})


@api.get("/api/v1/areas")
def areas() -> Response:
    atlas = current_atlas()
    level = level_arg()
    if isinstance(level, Response):
        return level
    period = request.args.get("period")
    if period:
        try:
            set_id = queries.set_for_period(atlas, period)
        except ValueError as exc:
            return error_response(400, "bad_period", str(exc))
        if set_id is None:
            return error_response(404, "no_boundaries", f"no boundary set is valid for period {period}")
    else:
        set_id = queries.current_set(atlas)
    fc = feature_collection(queries.areas(atlas, level, set_id))
    fc["boundary_set"] = set_id
    return jsonify(fc)


@api.get("/api/v1/values")
def values() -> Response:
    atlas = current_atlas()
    level = level_arg()
    if isinstance(level, Response):
        return level
    indicator = request.args.get("indicator", "")
    period = request.args.get("period") or None
    try:
        rows = queries.value_rows(atlas, current_principal(), indicator, period, level)
    except ValueError as exc:
        return error_response(400, "bad_period", str(exc))
    if rows is None:
        return not_found()
    rows = rows.rename(columns={"set_id": "boundary_set"})
    cols = ["area_id", "name", "period", "boundary_set", "value", "numerator", "denominator", "status"]
    if "confidential" in rows:  # the owning department sees withheld numbers, marked: not for publication
        cols.append("confidential")
    return jsonify({"indicator": indicator, "level": level, "count": len(rows), "rows": records(rows, cols)})


@api.get("/api/v1/disclosure")
def disclosure_report() -> Response:
    """The suppression report of one indicator-period: owning department and admins only."""
    indicator, period = request.args.get("indicator", ""), request.args.get("period", "")
    try:
        rows = queries.disclosure_report(current_atlas(), current_principal(), indicator, period)
    except ValueError as exc:
        return error_response(400, "bad_period", str(exc))
    if rows is None:
        return not_found()
    counts = rows["reason"].value_counts().to_dict()
    return jsonify({"indicator": indicator, "period": period, "withheld": len(rows),
                    "reasons": {r: int(counts.get(r, 0)) for r in ("primary", "secondary", "linked")},
                    "public_sees": gap_word("suppressed", norm_lang(request.args.get("lang"))),
                    "cells": records(rows, list(rows.columns))})


@api.get("/api/v1/levels")
def levels() -> Response:
    """The territory's hierarchy, base level first: ids and German/English names (those the viewer may read)."""
    readable = readable_levels()
    return jsonify({"levels": [{"id": lv.id, "name_de": lv.name_de, "name_en": lv.name_en,
                                "plural_de": lv.plural_de, "plural_en": lv.plural_en}
                               for lv in territory.levels(current_atlas()) if lv.id in readable]})


@api.get("/api/v1/points")
def points() -> Response:
    atlas = current_atlas()
    pts = queries.points(atlas, request.args.get("layer") or None)
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [p.lon, p.lat]},
                 "properties": {"id": p.point_id, "layer": p.layer, "name": p.name, "area_id": p.area_id,
                                "capacity": int(p.capacity)}} for p in pts.itertuples(index=False)]
    return jsonify({"type": "FeatureCollection", "features": features})


@api.get("/healthz")
def healthz() -> Response:
    """Liveness: the process answers. Nothing about the store: a counter that moves when a hidden draft
    is stored, or an error text with paths, would tell an outsider what they may not know."""
    return _probe_answer(200, "ok")


@api.get("/readyz")
def readyz() -> Response:
    """Readiness: 200 only while the store can be read (its manifest, the single tables it names, and a
    query through DuckDB); 503 otherwise. The reason goes to the log, never into the answer."""
    atlas = current_atlas()
    try:
        manifest = atlas.store.manifest()
        missing = [rel for rel in manifest["tables"].values()
                   if isinstance(rel, str) and not (atlas.store.data_dir / rel).is_file()]
        if missing:
            raise FileNotFoundError(f"store files missing: {missing}")
        if queries.boundary_sets(atlas).empty:
            raise ValueError("the store holds no boundary set")
    except Exception:  # a probe must answer, not raise
        log.warning("readiness check failed", exc_info=True)
        return _probe_answer(503, "unavailable")
    return _probe_answer(200, "ok")


def _probe_answer(status: int, word: str) -> Response:
    """The same small body for every probe answer; never cached by a proxy."""
    resp = jsonify({"status": word})
    resp.status_code = status
    resp.headers["Cache-Control"] = "no-store"
    return resp


# ------------------------------------------------------------------ area profiles
@api.get("/api/v1/coverage")
def supply_coverage() -> Response:
    """"Reichen die Plätze?": a point layer's capacity per 100 people in need, per area of a level."""
    args = request.args
    try:
        radius = float(args.get("radius") or 0)
        found = coverage.coverage(current_atlas(), current_principal(), args.get("layer", ""),
                                  args.get("demand", ""), args.get("period", ""), args.get("level") or None, radius)
    except (coverage.CoverageError, ValueError) as exc:
        return error_response(400, "bad_coverage", str(exc))
    if found is None:
        return not_found()
    return jsonify({"method_de": found.method_de, "method_en": found.method_en, "total": found.total,
                    "rows": records(found.rows, ["area_id", "name", "capacity", "demand", "coverage", "status"])})


@api.get("/api/v1/search")
def search() -> Response:
    """Areas by name or key (any level) and the viewer's indicators by words of title or definition."""
    text = request.args.get("q", "")
    if not text.strip():
        return error_response(400, "missing_q", Message("api_missing_q"))
    if len(text) > search_service.MAX_QUERY:
        return error_response(400, "bad_q", Message("api_bad_q", limit=search_service.MAX_QUERY))
    found = search_service.search(current_atlas(), current_principal(), text,
                                  lang=norm_lang(request.args.get("lang")))
    return jsonify({"q": text, "areas": found.areas, "indicators": found.indicators})


@api.get("/api/v1/profile")
def profile() -> Response:
    """One area's profile (every indicator the viewer may see) as JSON, or `format=pdf` as the A4 PDF."""
    atlas, viewer = current_atlas(), current_principal()
    lang = norm_lang(request.args.get("lang"))
    area = request.args.get("area", "")
    if not area:
        return error_response(400, "missing_area", Message("api_missing_area"))
    try:
        prof = profiles.profile(atlas, viewer, area, request.args.get("period") or None)
    except ValueError:
        return error_response(400, "bad_period", Message("api_bad_period"))
    if prof is None:
        return error_response(404, "area_not_found", Message("api_area_not_found"))
    notes = note_service.for_profile(atlas, viewer, prof, lang)
    fmt = request.args.get("format", "json")
    if fmt == "pdf":
        # reportlab and matplotlib load with the first PDF, not in every worker at start
        from atlas.export import profile_pdf
        body = profile_pdf.profile_pdf(atlas, viewer, prof, lang, notes)
        resp = Response(body, mimetype="application/pdf")
        resp.headers["Content-Disposition"] = f'inline; filename="ortsatlas_profil_{prof.area.area_id}.pdf"'
        resp.headers["Cache-Control"] = "private, no-store"
        return resp
    if fmt != "json":
        return error_response(400, "bad_format", Message("api_bad_format", allowed="json, pdf"))
    return jsonify(profile_view.as_document(atlas, prof, viewer, lang, notes))


# ------------------------------------------------------------------ interpretation notes
@api.get("/api/v1/notes")
def notes() -> Response:
    """The notes the viewer may read on an indicator [, an area][, a period]; a hidden indicator is 'not found'."""
    found = note_service.visible(current_atlas(), current_principal(), request.args.get("indicator", ""),
                                 request.args.get("area") or None, request.args.get("period") or None,
                                 norm_lang(request.args.get("lang")))
    if found is None:
        return not_found()
    return jsonify({"notes": found, "count": len(found)})


@api.post("/api/v1/notes")
def write_note() -> Response:
    """Add, change (`id`) or delete (`id`, `delete: true`) a note: the owning department's stewards, admins.

    JSON body: indicator, text, visibility (public|internal) [, period][, area]. Session cookies also
    need the CSRF token (X-CSRFToken); bearer tokens do not.
    """
    if (refused := signed_in_write()) is not None:
        return refused
    viewer = current_principal()
    try:
        saved = note_service.write(current_atlas(), viewer, request.get_json(silent=True))
    except note_service.NoteError as exc:
        if exc.code == "not_found":
            return not_found()
        return error_response(exc.status, exc.code, str(exc))
    return jsonify(saved), 201


@api.get("/api/v1/notes/<note_id>/history")
def note_history(note_id: str) -> Response:
    """Every revision of a note (who, when, what): for those who may write it; anyone else 'not found'."""
    revs = note_service.history(current_atlas(), current_principal(), note_id)
    if revs is None:
        return not_found()
    return jsonify({"revisions": revs, "count": len(revs)})


# ------------------------------------------------------------------ reports from templates (reports/*.toml)
@api.get("/api/v1/reports")
def report_list() -> Response:
    """The report templates this viewer may render, with the addresses that render them."""
    lang = norm_lang(request.args.get("lang"))
    items = [{"id": tpl.id, "title": tpl.title(lang), "description": tpl.description(lang),
              "chapters": [ch.title(lang) for ch in tpl.chapters],
              "html": f"/api/v1/reports/{tpl.id}?format=html", "pdf": f"/api/v1/reports/{tpl.id}?format=pdf"}
             for tpl in reports.templates_for(current_principal())]
    return jsonify({"reports": items, "count": len(items)})


@api.get("/api/v1/reports/<report_id>")
def report(report_id: str) -> Response:
    """One template rendered with the current data (or `as_of=YYYY-MM-DD[THH:MM]`) and the viewer's rights."""
    lang = norm_lang(request.args.get("lang"))
    fmt = request.args.get("format", "html")
    if fmt not in ("html", "pdf"):
        return error_response(400, "bad_format", Message("api_bad_format", allowed="html, pdf"))
    try:
        as_of = reports.parse_as_of(request.args.get("as_of"))
        data = reports.render(current_atlas(), current_principal(), report_id, as_of)
    except reports.ReportError as exc:
        return error_response(400, "bad_request", str(exc))
    if data is None:
        return error_response(404, "report_not_found", Message("api_report_not_found"))
    # reportlab and matplotlib load with the first report
    from atlas.export import report_render
    if fmt == "pdf":
        resp = Response(report_render.report_pdf(data, lang), mimetype="application/pdf")
        resp.headers["Content-Disposition"] = f'inline; filename="ortsatlas_{data.template.id}.pdf"'
    else:
        resp = Response(report_render.report_html(data, lang), mimetype="text/html")
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


# ------------------------------------------------------------------ profile booklets (admins)
def booklet_refused() -> Response:
    """Not found and not allowed answer alike."""
    return error_response(404, "not_found", Message("api_not_found"))


@api.get("/api/v1/booklet")
def booklet() -> Response:
    """Start the booklet of a level: 202 with a status URL (`wait=1`: the file itself, for scripts).

    Admins only; anyone else gets the same 404 as an unknown address.
    """
    atlas, viewer = current_atlas(), current_principal()
    if not may_make_booklet(viewer):
        return booklet_refused()
    level = level_arg()
    if isinstance(level, Response):
        return level
    fmt, view = request.args.get("format", "pdf"), request.args.get("view", "public")
    if fmt not in booklet_jobs.FORMATS or view not in ("public", "internal"):
        return error_response(400, "bad_request", "format: pdf|zip, view: public|internal")
    lang = norm_lang(request.args.get("lang"))
    if request.args.get("wait") == "1":
        body = booklet_jobs.make(atlas, level, fmt, view, lang)
        resp = Response(body, mimetype=booklet_jobs.FORMATS[fmt])
        resp.headers["Content-Disposition"] = f'attachment; filename="ortsatlas_profilheft_{level}_{view}.{fmt}"'
        return resp
    job = booklet_jobs.start(atlas, level, fmt, view, lang, viewer.name)
    return jsonify({"job": job, "status_url": f"/api/v1/booklet/jobs/{job}"}), 202


@api.get("/api/v1/booklet/jobs/<job>")
def booklet_status(job: str) -> Response:
    """How far a booklet is: state (running, done, failed), areas done and total, and the file's URL when done."""
    atlas, viewer = current_atlas(), current_principal()
    state = booklet_jobs.status(atlas, job) if may_make_booklet(viewer) else None
    if state is None:
        return booklet_refused()
    out = {k: state.get(k) for k in ("job", "state", "done", "total", "level", "format", "view")}
    if state["state"] == "done":
        out["download"] = f"/api/v1/booklet/jobs/{job}/file"
    return jsonify(out)


@api.get("/api/v1/booklet/jobs/<job>/file")
def booklet_file(job: str) -> Response:
    atlas, viewer = current_atlas(), current_principal()
    found = booklet_jobs.result(atlas, job) if may_make_booklet(viewer) else None
    if found is None:
        return booklet_refused()
    path, mimetype = found
    state = booklet_jobs.status(atlas, job)
    return send_file(path, mimetype=mimetype, as_attachment=True,
                     download_name=f"ortsatlas_profilheft_{state['level']}_{state['view']}.{state['format']}")


# ------------------------------------------------------------------ comparison (issue 14)
@api.get("/api/v1/compare")
def compare() -> Response:
    """Areas next to each other: `area=KEY` (1–6, any level) × `indicator=ID` (repeatable) [, `period=P`].

    Rows for the chosen areas, their parents and the whole territory. Hidden
    indicators are left out like unknown ones; none visible answers 404.
    """
    atlas, viewer = current_atlas(), current_principal()
    ids = [i for part in request.args.getlist("indicator") for i in part.split(",") if i]
    rows = comparison.compare_table(atlas, viewer, request.args.getlist("area"), ids,
                                    request.args.get("period") or None)
    if not any(queries.get_indicator(atlas, viewer, i) for i in ids):
        return not_found()
    if rows.empty:
        return error_response(400, "missing_area", Message("api_compare_areas"))
    fmt, lang = request.args.get("format", "json"), norm_lang(request.args.get("lang"))
    if fmt == "csv":
        return _compare_csv(rows, request.args.getlist("area"), request.args.get("period") or None)
    if fmt in pictures.PICTURE_FORMATS:
        chart = request.args.get("chart") or next(i for i in ids if queries.get_indicator(atlas, viewer, i))
        if queries.get_indicator(atlas, viewer, chart) is None:
            return not_found()
        pic = pictures.compare_chart_picture(atlas, viewer, request.args.getlist("area"), chart, fmt, lang)
        return _no_data() if pic is None else _picture(pic)
    if fmt != "json":
        return _bad_format(("json", "csv", *pictures.PICTURE_FORMATS))
    return jsonify({"count": len(rows), "rows": records(rows, comparison.COMPARE_COLS)})


def _compare_csv(rows, area_keys: list, period: str | None) -> Response:
    """The areas side by side as German-Excel CSV; a marked indicator's rows say so in `kennzeichnung`."""
    atlas, viewer = current_atlas(), current_principal()
    marks = {}
    for ind_id in dict.fromkeys(rows["indicator_id"]):
        ind = atlas.indicator_by_id[ind_id]
        unpublished = ind.visibility == "public" and pictures.differs_from_public(
            viewer, lambda who, i=ind_id: comparison.compare_table(atlas, who, area_keys, [i], period))
        marks[ind_id] = pictures.marking(atlas, ind, "de", unpublished)
    table = rows[comparison.COMPARE_COLS]
    if any(marks.values()):
        table = table.assign(kennzeichnung=rows["indicator_id"].map(marks))
    keys = "_".join(dict.fromkeys(rows.loc[rows["role"] == "area", "area_id"]))
    return _csv_answer([], [], table, f"ortsatlas_vergleich_{keys}", any(marks.values()))


@api.get("/api/v1/change")
def change() -> Response:
    """Change of one indicator between two periods: `indicator`, `from`, `to` [, `level`].

    Status per area: ok, missing, suppressed (either cell withheld: the change
    too), not_comparable (the area's ground changed between the periods).
    """
    atlas, viewer = current_atlas(), current_principal()
    level = level_arg()
    if isinstance(level, Response):
        return level
    indicator = request.args.get("indicator", "")
    if queries.get_indicator(atlas, viewer, indicator) is None:
        return not_found()
    try:
        table = comparison.change(atlas, viewer, indicator, request.args.get("from", ""),
                                  request.args.get("to", ""), level)
    except ValueError:  # the period is not echoed: an unreleased one answers like one that does not exist
        return error_response(400, "bad_period", Message("api_bad_change_periods"))
    cols = list(table.rows.columns)
    fmt = request.args.get("format", "json")
    if fmt == "csv":
        return _change_csv(table, cols)
    if fmt in pictures.PICTURE_FORMATS:
        pic = pictures.change_picture(atlas, viewer, indicator, table.period_from, table.period_to, level, fmt,
                                      norm_lang(request.args.get("lang")))
        return _no_data() if pic is None else _picture(pic)
    if fmt != "json":
        return _bad_format(("json", "csv", *pictures.PICTURE_FORMATS))
    return jsonify({"indicator": indicator, "from": table.period_from, "to": table.period_to, "level": level,
                    "boundary_set": table.set_id, "measure": table.measure, "count": len(table.rows),
                    "rows": records(table.rows, cols)})


def _change_csv(table: comparison.ChangeTable, cols: list[str]) -> Response:
    """The change table as German-Excel CSV; internal data says so in `kennzeichnung` and in the file name."""
    mark = pictures.views_mark(current_atlas(), current_principal(), [(table.indicator, table.period_from),
                                                                      (table.indicator, table.period_to)],
                               table.level, "de")
    rows = table.rows[cols].assign(kennzeichnung=mark) if mark else table.rows[cols]
    return _csv_answer(["indikator", "von", "bis", "ebene"],
                       [table.indicator.id, table.period_from, table.period_to, table.level], rows,
                       f"ortsatlas_veraenderung_{table.indicator.id}_{table.period_from}_{table.period_to}_"
                       f"{table.level}", bool(mark))


def _csv_answer(head: list[str], head_values: list, table, name: str, marked: bool) -> Response:
    """A table as German-Excel CSV: UTF-8 with BOM, semicolons, decimal commas, text cells neutralised.

    `head` columns (with the same `head_values` on every row) say which
    indicators, periods and level the rows are; a marked file (internal data)
    carries '_intern' in its name, as the data exports do.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(head + list(table.columns))
    for row in table.itertuples(index=False):
        writer.writerow([_csv_cell(v) for v in head_values] + [_csv_cell(v) for v in row])
    resp = Response("\ufeff" + out.getvalue(), mimetype="text/csv")
    resp.headers["Content-Disposition"] = f'attachment; filename="{name}{"_intern" if marked else ""}.csv"'
    resp.headers["Cache-Control"] = "private, no-store"  # rights differ per viewer
    return resp


def _picture(pic: pictures.Picture) -> Response:
    resp = Response(pic.body, mimetype=pic.mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{pic.filename}"'
    resp.headers["Cache-Control"] = "private, no-store"
    return resp


def _no_data() -> Response:
    """Nothing to draw for a visible selection; never echoes a period (an unreleased one looks like none)."""
    return error_response(404, "no_data", Message("api_no_data"))


def _bad_format(allowed: tuple[str, ...]) -> Response:
    return error_response(400, "bad_format", f"format: {', '.join(allowed)}")


def _csv_cell(value) -> str:
    value = clean(value)
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.10g}".replace(".", ",")
    if isinstance(value, int) and not isinstance(value, bool):  # a class or a count: a number, not text
        return str(value)
    return neutralise(str(value))


@api.get("/api/v1/correlation")
def correlation() -> Response:
    """Two indicators over the areas of a level: `x`, `y` [, `period`][, `level`].

    Pearson, Spearman, least-squares line and n over the areas 'ok' in both;
    the areas left out (missing or suppressed in either) are listed.
    """
    atlas, viewer = current_atlas(), current_principal()
    level = level_arg()
    if isinstance(level, Response):
        return level
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv", *pictures.PICTURE_FORMATS):
        return _bad_format(("json", "csv", *pictures.PICTURE_FORMATS))
    x_id, y_id, period = request.args.get("x", ""), request.args.get("y", ""), request.args.get("period") or None
    found = comparison.relation(atlas, viewer, x_id, y_id, period, level)
    if found is None:
        return not_found()
    if fmt in pictures.PICTURE_FORMATS:
        return _picture(pictures.relation_picture(atlas, viewer, x_id, y_id, period, level, fmt,
                                                  norm_lang(request.args.get("lang"))))
    if fmt == "csv":
        return _relation_csv(found)
    return jsonify({"x": found.x.id, "y": found.y.id, "period_x": found.period_x, "period_y": found.period_y,
                    "level": level, "n": found.n, "pearson": found.pearson, "spearman": found.spearman,
                    "slope": found.slope, "intercept": found.intercept,
                    "left_out": records(found.left_out, ["area_id", "name", "x_status", "y_status"]),
                    "points": records(found.points, ["area_id", "name", "x", "y"])})


def _relation_csv(found: comparison.Relation) -> Response:
    """The scatter's values, then the areas left out with why (missing or suppressed: no number either way)."""
    atlas, viewer = current_atlas(), current_principal()
    used = found.points.assign(x_status="ok", y_status="ok", einbezogen="ja")
    left = found.left_out.assign(x=None, y=None, einbezogen="nein")
    cols = ["area_id", "name", "x", "y", "x_status", "y_status", "einbezogen"]
    table = pd.concat([used[cols], left[cols]], ignore_index=True) if len(left) else used[cols]
    mark = pictures.views_mark(atlas, viewer, [(found.x, found.period_x), (found.y, found.period_y)], found.level,
                               "de")
    if mark:
        table = table.assign(kennzeichnung=mark)
    return _csv_answer(["x_indikator", "x_zeitraum", "y_indikator", "y_zeitraum", "ebene"],
                       [found.x.id, found.period_x, found.y.id, found.period_y, found.level], table,
                       f"ortsatlas_streudiagramm_{found.x.id}_{found.y.id}_{found.level}", bool(mark))


@api.get("/api/v1/bivariate")
def bivariate() -> Response:
    """Two indicators in 3×3 classes (terciles of each): `x`, `y` [, `period`][, `level`].

    Every area of the level in key order with its x and y class (0 low … 2
    high) and the label in words; missing and suppressed areas carry no
    value and no class (-1, -2) and are listed as left out. With
    `format=png|svg|pdf` the map itself as a picture, as the page shows it.
    """
    atlas, viewer = current_atlas(), current_principal()
    level = level_arg()
    if isinstance(level, Response):
        return level
    fmt, lang = request.args.get("format"), "en" if request.args.get("lang") == "en" else "de"
    if fmt is not None and fmt not in (*pictures.PICTURE_FORMATS, "json", "csv"):
        return error_response(400, "bad_format", f"format must be one of json, csv, "
                                                 f"{', '.join(pictures.PICTURE_FORMATS)}")
    fmt = None if fmt == "json" else fmt
    x_id, y_id, period = request.args.get("x", ""), request.args.get("y", ""), request.args.get("period") or None
    found = comparison.bivariate(atlas, viewer, x_id, y_id, period, level, lang)
    if found is None:
        return not_found()
    if fmt == "csv":
        return _bivariate_csv(found)
    if fmt is not None:
        pic = pictures.bivariate_picture(atlas, viewer, x_id, y_id, period, level, fmt, lang)
        if pic is None:
            return not_found()
        resp = Response(pic.body, mimetype=pic.mimetype)
        resp.headers["Content-Disposition"] = f'attachment; filename="{pic.filename}"'
        return resp
    rel = found.relation
    return jsonify({"x": rel.x.id, "y": rel.y.id, "period_x": rel.period_x, "period_y": rel.period_y,
                    "level": rel.level, "boundary_set": found.set_id, "x_edges": found.x_edges,
                    "y_edges": found.y_edges, "colors": [c for row in comparison.BIVARIATE_COLORS for c in row],
                    "count": len(found.rows), "rows": records(found.rows, comparison.BIVARIATE_COLS),
                    "left_out": records(found.left_out, ["area_id", "name", "x_status", "y_status"])})


def _bivariate_csv(found: comparison.Bivariate) -> Response:
    """Every area with both values, its two classes and the class in words; gaps carry no number."""
    rel = found.relation
    mark = pictures.views_mark(current_atlas(), current_principal(), [(rel.x, rel.period_x), (rel.y, rel.period_y)],
                               rel.level, "de")
    table = found.rows[comparison.BIVARIATE_COLS]
    if mark:
        table = table.assign(kennzeichnung=mark)
    return _csv_answer(["x_indikator", "x_zeitraum", "y_indikator", "y_zeitraum", "ebene"],
                       [rel.x.id, rel.period_x, rel.y.id, rel.period_y, rel.level], table,
                       f"ortsatlas_bivariat_{rel.x.id}_{rel.y.id}_{rel.level}", bool(mark))


@api.get("/api/v1/similar")
def similar() -> Response:
    """Areas like a reference area: `area`, `indicators=ID,ID` [, `period`][, `tolerance`][, `method=range|zscore`]."""
    atlas, viewer = current_atlas(), current_principal()
    ids = [i for part in request.args.getlist("indicators") + request.args.getlist("indicator")
           for i in part.split(",") if i]
    try:
        tolerance = float(request.args["tolerance"]) if request.args.get("tolerance") else None
    except ValueError:
        return error_response(400, "bad_tolerance", Message("api_bad_tolerance"))
    method = request.args.get("method") or "range"
    if method not in comparison.SIMILAR_METHODS:
        return error_response(400, "bad_method", Message("api_bad_method"))
    fmt = request.args.get("format", "json")
    if fmt not in ("json", "csv"):
        return _bad_format(("json", "csv"))
    if not any(queries.get_indicator(atlas, viewer, i) for i in ids):
        return not_found()
    found = comparison.similar(atlas, viewer, request.args.get("area", ""), ids,
                               request.args.get("period") or None, tolerance, method)
    if found is None:
        return error_response(404, "area_not_found", Message("api_area_not_found"))
    if fmt == "csv":
        return _similar_csv(found)
    return jsonify({"area": found.reference.area_id, "level": found.reference.level, "indicators": found.indicators,
                    "periods": found.periods, "method": found.method, "tolerance": found.tolerance,
                    "count": len(found.rows), "rows": records(found.rows, list(found.rows.columns)),
                    "left_out": records(found.left_out, ["area_id", "name"])})

def _similar_csv(found: comparison.Similar) -> Response:
    """The areas alike (reference first, then by distance), then those not compared (no 'ok' value in each)."""
    atlas, viewer = current_atlas(), current_principal()
    cols = ["area_id", "name", "distance", *found.indicators]
    alike = found.rows[cols].assign(verglichen="ja")
    left = found.left_out.assign(verglichen="nein")
    table = pd.concat([alike, left.reindex(columns=cols + ["verglichen"])], ignore_index=True) if len(left) else alike
    mark = pictures.views_mark(atlas, viewer, [(atlas.indicator_by_id[i], found.periods[i]) for i in found.indicators],
                               found.reference.level, "de")
    if mark:
        table = table.assign(kennzeichnung=mark)
    periods = ",".join(f"{i}={p}" for i, p in found.periods.items())
    return _csv_answer(["referenz", "ebene", "zeitraeume", "methode", "toleranz"],
                       [found.reference.area_id, found.reference.level, periods, found.method, found.tolerance], table,
                       f"ortsatlas_aehnliche_gebiete_{found.reference.area_id}", bool(mark))

# ------------------------------------------------------------------ end comparison

# ------------------------------------------------------------------ composite indices (stewards, admins)
def _index_error(exc: index_service.RecipeError) -> Response:
    """'Not found' like an unknown indicator, else the refusal's catalogue message in the caller's ?lang=."""
    return not_found() if exc.code == "not_found" else error_response(exc.status, exc.code, exc.args[0])


def _index_writer() -> Response | None:
    """Stewards and admins only (anyone else: 'not found'); session cookies also need the CSRF token."""
    if not may_build_index(current_principal()):
        return not_found()
    needs_csrf()
    return None


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@api.post("/api/v1/allocation/preview")
def allocation_preview() -> Response:
    """A budget allocation preview (JSON, or `?format=xlsx`); stewards and admins; nothing is stored."""
    refused = _index_writer()
    if refused is not None:
        return refused
    atlas, viewer = current_atlas(), current_principal()
    try:
        result = allocation.allocate(atlas, viewer, allocation.parse(atlas, request.get_json(silent=True)))
    except allocation.AllocationError as exc:
        return error_response(exc.status, "bad_allocation", str(exc))
    if result is None:
        return not_found()
    if request.args.get("format") == "xlsx":
        marking = "" if not sees_internal_figures(viewer) else "intern – nicht zur Veröffentlichung"
        resp = Response(allocation_xlsx(result, marking), mimetype=XLSX)
        resp.headers["Content-Disposition"] = f'attachment; filename="verteilung_{result.request.indicator}.xlsx"'
        return resp
    rows = result.rows.assign(amount=result.rows["amount_cents"] / 100)
    return jsonify({"amount": result.request.amount_cents / 100, "level": result.request.level,
                    "method_de": result.method_de, "method_en": result.method_en, "left_out": result.left_out,
                    "rows": records(rows, ["area_id", "name", "weight", "amount", "amount_cents", "status"])})


@api.post("/api/v1/clusters/preview")
def clusters_preview() -> Response:
    """A cluster typology of the areas over several indicators (stewards and admins); nothing is stored."""
    refused = _index_writer()
    if refused is not None:
        return refused
    atlas, viewer = current_atlas(), current_principal()
    try:
        found = cluster_service.cluster(atlas, viewer, cluster_service.parse(atlas, request.get_json(silent=True)))
    except cluster_service.ClusterError as exc:  # its catalogue message in the caller's ?lang=
        return error_response(exc.status, "bad_clusters", exc.args[0])
    except ValueError as exc:  # a malformed period
        return error_response(400, "bad_period", str(exc))
    if found is None:
        return not_found()
    return jsonify({"method_de": found.method_de, "method_en": found.method_en, "clusters": found.profiles,
                    "areas": records(found.areas, ["area_id", "name", "cluster"]), "left_out": found.left_out})


@api.post("/api/v1/indices/preview")
def index_preview() -> Response:
    """A recipe's index per area (`period`, `level`), with its method in words; nothing is stored."""
    refused = _index_writer()
    if refused is not None:
        return refused
    atlas, viewer = current_atlas(), current_principal()
    try:
        recipe = index_service.parse_recipe(request.get_json(silent=True))
        result = index_service.compute(atlas, viewer, recipe)
    except index_service.RecipeError as exc:
        return _index_error(exc)
    if result is None:
        return not_found()
    cols = ["area_id", "name", "period", "value", "status", "reason"]
    return jsonify({"level": result.level, "periods": result.periods, "method_de": result.method_de,
                    "method_en": result.method_en, "levels": index_service.meaningful_levels(atlas, viewer, recipe),
                    "sensitivity": index_service.sensitivity(result),
                    "count": len(result.rows), "rows": records(result.rows, cols)})


@api.post("/api/v1/typology/preview")
def typology_preview() -> Response:
    """Status × dynamics groups (Berlin's social monitoring) from a recipe, `years`, optional cut-offs."""
    refused = _index_writer()
    if refused is not None:
        return refused
    raw = request.get_json(silent=True)
    try:
        found = index_service.typology(current_atlas(), current_principal(), raw if isinstance(raw, dict) else {})
    except index_service.RecipeError as exc:
        return _index_error(exc)
    return not_found() if found is None else jsonify(found)


@api.post("/api/v1/indices")
def index_save() -> Response:
    """Save a recipe as a derived indicator (draft version, internal; public only with admin approval)."""
    refused = _index_writer()
    if refused is not None:
        return refused
    try:
        saved = index_service.save(current_atlas(), current_principal(), request.get_json(silent=True))
    except index_service.RecipeError as exc:
        return _index_error(exc)
    return jsonify(saved), 201


@api.post("/api/v1/indices/recompute")
def index_recompute() -> Response:
    """Re-compute saved indices whose inputs have new released versions (a new draft version each)."""
    refused = _index_writer()
    if refused is not None:
        return refused
    return jsonify({"recomputed": index_service.recompute_stale(current_atlas(), current_principal())})


@api.get("/api/v1/indices/<indicator_id>")
def index_recipe(indicator_id: str) -> Response:
    """A saved index's recipe, method and the input versions behind each of its readable versions."""
    found = index_service.stored_recipe(current_atlas(), current_principal(), indicator_id)
    return not_found() if found is None else jsonify(found)


# ------------------------------------------------------------------ targets (SMART goals with a warning zone)
@api.get("/api/v1/targets")
def targets() -> Response:
    """Tiles (value, target, traffic light, trend) of every visible indicator with a target; `indicator=ID`:
    that one's tile and every revision of its target. A hidden indicator answers like an unknown one."""
    atlas, viewer = current_atlas(), current_principal()
    indicator = request.args.get("indicator")
    if not indicator:
        tiles = target_service.dashboard(atlas, viewer)
        return jsonify({"targets": tiles, "count": len(tiles)})
    revisions = target_service.history(atlas, viewer, indicator)
    if revisions is None:
        return not_found()
    return jsonify({"tile": target_service.status(atlas, viewer, indicator), "revisions": revisions})


@api.get("/api/v1/warnings")
def early_warnings() -> Response:
    """Early warnings raised by the newest readable period of each indicator with rules [, one area's]."""
    found = warning_service.warnings(current_atlas(), current_principal(), request.args.get("area") or None)
    return jsonify({"count": len(found), "warnings": found})


@api.post("/api/v1/warning-rules")
def set_warning_rules() -> Response:
    """A new revision of an indicator's early-warning rules: indicator [, above, below, change_pct, worst_class]."""
    if (refused := signed_in_write()) is not None:
        return refused
    try:
        saved = warning_service.set_rules(current_atlas(), current_principal(), request.get_json(silent=True))
    except target_service.TargetError as exc:  # its catalogue message in the caller's ?lang=
        return not_found() if exc.code == "not_found" else error_response(exc.status, exc.code, exc.args[0])
    return jsonify(saved), 201


@api.post("/api/v1/dashboards")
def choose_tiles() -> Response:
    """An organisation chooses its dashboard tiles: {"organisation": …, "indicators": [IDs]}."""
    return _register_write(target_service.choose_tiles)


@api.get("/api/v1/register")
def goals_register() -> Response:
    """Goals, measures and the reviews due, as far as the viewer may read them."""
    return jsonify(measure_service.register(current_atlas(), current_principal()))


@api.post("/api/v1/register/goals")
def add_goal() -> Response:
    """Admins: a Leitziel, or a Teilziel with `parent`, with the indicators that show it."""
    return _register_write(measure_service.add_goal)


@api.post("/api/v1/register/measures")
def save_measure() -> Response:
    """The responsible unit: a measure (or its new revision, with `id`) with goal, unit and review date."""
    return _register_write(measure_service.add_measure)


def _register_write(step) -> Response:
    if (refused := signed_in_write()) is not None:
        return refused
    try:
        saved = step(current_atlas(), current_principal(), request.get_json(silent=True))
    except target_service.TargetError as exc:  # its catalogue message in the caller's ?lang=
        return not_found() if exc.code == "not_found" else error_response(exc.status, exc.code, exc.args[0])
    return jsonify(saved), 201


@api.post("/api/v1/targets")
def set_target() -> Response:
    """A new revision of an indicator's target: indicator, target, warn, direction (up|down), deadline [, note]."""
    if (refused := signed_in_write()) is not None:
        return refused
    viewer = current_principal()
    try:
        saved = target_service.set_target(current_atlas(), viewer, request.get_json(silent=True))
    except target_service.TargetError as exc:  # its catalogue message in the caller's ?lang=
        return not_found() if exc.code == "not_found" else error_response(exc.status, exc.code, exc.args[0])
    return jsonify(saved), 201
