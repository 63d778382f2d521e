"""The data stewards' workflow as JSON endpoints, for the upload page and for scripted feeds.

Same rights as the pages, with the session cookie (plus the CSRF token in
`X-CSRFToken`) or with `Authorization: Bearer <token>`:

  POST /api/v1/uploads                      multipart `file` [+ `mapping`, `new_indicators` (JSON), `sheet`]
                                            → 200/422 with the report; large files (or `Prefer: respond-async`)
                                            → 202, checked in the background: poll the Location
  GET  /api/v1/uploads/<id>                 the report and a preview of the values (state `checking`: progress)
  POST /api/v1/uploads/<id>/confirm         → new draft versions
  POST /api/v1/uploads/<id>/cancel
  POST /api/v1/versions/<id>/release        {"to": "internal"|"public"[, "at": "2026-12-01T09:00"]}
  POST /api/v1/versions/<id>/rollback       [{"reason": "…"}] (the reason goes to the audit log)
  POST /api/v1/versions/<id>/unschedule     cancel a scheduled release
  POST /api/v1/indicators/<id>/visibility   {"to": "public"} (admins: approve a new indicator's visibility)
  POST /api/v1/indicators/<id>/sharing      the owner: {"with": ["gemeinde_g02"]} (a restricted indicator)
  POST /api/v1/indicators/<id>/metadata     admins: {"title_de": …, "suppress_numerator_below": 3, …}
  GET  /api/v1/versions?indicator=ID        the history the caller may see (periods, allowed actions)
  GET  /api/v1/releases                     versions released internally, waiting for the public release
  GET  /api/v1/templates?indicator=ID[&format=csv-de|xlsx]   the delivery template (own department's)
  GET  /api/v1/audit?actor=&action=&indicator=&from=&to=[&format=csv]   admins: the audit log
  POST /api/v1/boundaries                   admins: a new boundary set (GeoJSON, GeoPackage, zipped Shapefile)
  POST /api/v1/grids                        admins: a parallel planning grid with its crosswalk
"""
from __future__ import annotations

import functools
import json
import logging

from flask import Blueprint, Response, jsonify, request

from atlas.export import templates
from atlas.i18n import norm_lang
from atlas.ingest import checks as ingest
from atlas.ingest import uploads
from atlas.ingest.boundary_upload import (
    BoundaryUpload,
    store_level_files,
    store_uploaded_set,
)
from atlas.ingest.grid_upload import GridUpload, read_points, store_uploaded_grid
from atlas.messages import Message, in_language, say
from atlas.services import audit_trail, indices, versions
from atlas.services.boundaries import BoundaryError
from atlas.services.sharing import share
from atlas.web import background
from atlas.web.http import current_atlas, error_response, needs_csrf, not_found, records
from auth import current_principal
from auth.permissions import may_administer, may_upload

log = logging.getLogger(__name__)
workflow = Blueprint("workflow", __name__)
BUSY = Message("chk_busy")  # too many files in the check: said in the caller's ?lang=


def _writer_guard() -> Response | None:
    """Only signed-in stewards and admins write; cookie sessions also need the CSRF token."""
    viewer = current_principal()
    if not viewer.logged_in:
        return error_response(401, "unauthorized", Message("api_sign_in"))
    if not may_upload(viewer):
        return error_response(403, "forbidden", Message("api_writers_only"))
    needs_csrf()
    return None


def json_body() -> dict:
    """The request's JSON object; anything else (an array, a string, no body) counts as empty."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def writer_route(fn):
    """Guard a write route (signed-in steward or admin, CSRF for cookies) and answer workflow errors as JSON."""
    @functools.wraps(fn)
    def wrapped(*args, **kwargs):
        if (refused := _writer_guard()) is not None:
            return refused
        try:
            return fn(*args, **kwargs)
        except versions.VersionError as exc:  # an upload's own refusals in the caller's ?lang=
            return error_response(exc.status, exc.code, exc.args[0])  # said in the caller's ?lang=
    return wrapped


def _json_field(name: str):
    """A form field holding JSON, or None; ValueError names the field."""
    text = request.form.get(name)
    if not text:
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name} ist kein gültiges JSON: {exc}") from None


@workflow.post("/api/v1/uploads")
@writer_route
def upload() -> Response:
    atlas, viewer = current_atlas(), current_principal()
    file = request.files.get("file")
    if file is None:
        return error_response(400, "missing_file", Message("api_upload_file_missing"))
    try:
        mapping, definitions = _json_field("mapping"), _json_field("new_indicators")
    except ValueError as exc:
        return error_response(400, "bad_json", str(exc))
    content = file.read()
    options = {"mapping": mapping, "sheet": request.form.get("sheet") or None, "definitions": definitions,
               "total_tolerance": request.form.get("total_tolerance") or None,
               "on_set": request.form.get("boundary_set") or None}
    if _in_background(len(content)):
        return _check_in_background(atlas, viewer, file.filename or "upload", content, options)
    checked = ingest.check_upload(atlas, viewer, file.filename or "upload", content, **options)
    pending = uploads.Uploads(atlas.settings.data_dir).create(viewer, file.filename or "upload", content, checked)
    log.info("upload %s by %s: %s, %d rows, %d errors", pending.upload_id, viewer.name, pending.file_name,
             checked.report.rows, len(checked.report.errors))
    body = {"upload_id": pending.upload_id, "file_name": pending.file_name,
            **_in_callers_language(checked.report.to_json())}
    return _json(body, 200 if checked.report.ok else 422)


def _in_callers_language(report: dict) -> dict:
    """The report's errors, warnings and notes in the caller's language (`?lang=`, German by default, as the read
    API): each entry's text from its catalogue key (atlas.messages), the key and parameters left out."""
    lang = norm_lang(request.args.get("lang"))
    return report | {part: in_language(report[part], lang) for part in ("errors", "warnings", "notes")
                     if isinstance(report.get(part), list)}


def _in_background(size: int) -> bool:
    """Large files, or a client that asks for it (RFC 7240), are checked after the answer."""
    asked = "respond-async" in request.headers.get("Prefer", "").lower()
    return asked or size >= current_atlas().settings.upload_background_kb * 1024


def _check_in_background(atlas, viewer, file_name: str, content: bytes, options: dict) -> Response:
    """Answer 202 at once with where to ask; the check runs in this worker's background pool."""
    waiting = uploads.Uploads(atlas.settings.data_dir)
    pending = waiting.reserve(viewer, file_name, content)
    try:
        background.submit(atlas.settings, "upload-check",
                          lambda: uploads.check_in_background(atlas, viewer, pending, content, options))
    except background.Busy:
        waiting.fail(pending, Message("chk_busy"))  # the stored report in the reader's language
        resp = error_response(503, "busy", BUSY)
        resp.headers["Retry-After"] = "30"
        return resp
    log.info("upload %s by %s: %s, %d bytes, checked in the background", pending.upload_id, viewer.name,
             pending.file_name, len(content))
    resp = _json({"upload_id": pending.upload_id, "file_name": pending.file_name, "state": pending.state,
                  "progress": pending.progress}, 202)
    resp.headers["Location"] = f"/api/v1/uploads/{pending.upload_id}"
    return resp


def _json(body: dict, status: int = 200) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    return resp


@workflow.get("/api/v1/uploads/<upload_id>")
def upload_report(upload_id: str) -> Response:
    atlas, viewer = current_atlas(), current_principal()
    waiting = uploads.Uploads(atlas.settings.data_dir)
    pending = waiting.get(upload_id, viewer)
    if pending is None:
        return error_response(404, "not_found", versions.NOT_FOUND.args[0])
    body = {"upload_id": pending.upload_id, "file_name": pending.file_name, "state": pending.state,
            "version_ids": pending.version_ids, "checksum": pending.checksum, **_in_callers_language(pending.report)}
    if pending.state == "checking":
        body["progress"] = pending.progress
    if pending.report.get("ok") and pending.state == "checked":
        preview = waiting.values(upload_id)
        body["preview"] = records(preview.head(2000), ["indicator_id", "area_id", "period", "value", "numerator",
                                                       "denominator", "status"])
    return _json(body)


@workflow.post("/api/v1/uploads/<upload_id>/confirm")
@writer_route
def confirm(upload_id: str) -> Response:
    projection = json_body().get("projection")  # optional: the variant of a projection ("Hauptvariante 2025")
    ids = uploads.confirm(current_atlas(), current_principal(), upload_id, projection)
    return _json({"version_id": ids[0], "version_ids": ids, "state": "draft"}, 201)


@workflow.post("/api/v1/uploads/<upload_id>/cancel")
@writer_route
def cancel(upload_id: str) -> Response:
    uploads.cancel(current_atlas(), current_principal(), upload_id)
    return _json({"upload_id": upload_id, "state": "cancelled"})


@workflow.post("/api/v1/versions/<version_id>/release")
@writer_route
def release(version_id: str) -> Response:
    body = json_body()
    atlas = current_atlas()
    result = versions.release(atlas, current_principal(), version_id, body.get("to"), body.get("at"))
    indices.recompute_stale(atlas)  # saved indices over this input get a new draft version
    return _json(result)


@workflow.post("/api/v1/versions/<version_id>/rollback")
@writer_route
def rollback(version_id: str) -> Response:
    body = json_body()
    reason = body.get("reason") if isinstance(body, dict) else None
    return _json(versions.rollback(current_atlas(), current_principal(), version_id,
                                   reason if isinstance(reason, str) else ""))


@workflow.post("/api/v1/versions/<version_id>/unschedule")
@writer_route
def unschedule(version_id: str) -> Response:
    """Cancel a scheduled release before it falls due (whoever may make that release)."""
    return _json(versions.unschedule(current_atlas(), current_principal(), version_id))


@workflow.post("/api/v1/indicators/<indicator_id>/visibility")
@writer_route
def visibility(indicator_id: str) -> Response:
    """Admins approve (or change) who may see an indicator created through an upload."""
    body = json_body()
    return _json(versions.set_visibility(current_atlas(), current_principal(), indicator_id, body.get("to")))


@workflow.post("/api/v1/indicators/<indicator_id>/sharing")
@writer_route
def sharing(indicator_id: str) -> Response:
    """The owner shares a restricted indicator with other organisations: {"with": ["gemeinde_g02"]}."""
    return _json(share(current_atlas(), current_principal(), indicator_id, json_body().get("with")))


@workflow.post("/api/v1/indicators/<indicator_id>/metadata")
@writer_route
def indicator_metadata(indicator_id: str) -> Response:
    """Admins edit an upload-created indicator's titles, definitions, source, contact, licence, thresholds
    (JSON field → value); a new metadata version, audited."""
    body = request.get_json(silent=True)
    return _json(versions.update_metadata(current_atlas(), current_principal(), indicator_id, body))


@workflow.post("/api/v1/boundaries")
@writer_route
def boundaries_upload() -> Response:
    """Admins add a boundary set: multipart `file` + `valid_from`, `key_col`, `name_col`, and
    `parent_col` or `parent_key_length` [, `parent_names` (JSON), `set_id`, `label`, `city_name`, `city_key`, `layer`].

    Or one file per level: `file_<level>` for every level but the top, with `key_col`/`name_col` (or
    `key_col_<level>`, `name_col_<level>`) and optionally `parent_col_<level>`; without it the parent
    comes from the location. Either way every area must lie in its parent."""
    atlas, viewer = current_atlas(), current_principal()
    form, file = request.form, request.files.get("file")
    try:
        valid_from = _date(form.get("valid_from"))
        city = atlas.store.manifest().get("city", {}) if atlas.store.exists() else {}
        set_id = form.get("set_id") or f"gs{valid_from:%Y%m%d}"
        label = form.get("label") or f"Gebietsstand ab {valid_from:%d.%m.%Y}"
        per_level = [name for name in request.files if name.startswith("file_")]
        if per_level:
            files = [(name[5:], request.files[name].read(), uploads.safe_file_name(request.files[name].filename),
                      form.get(f"key_col_{name[5:]}") or form.get("key_col", ""),
                      form.get(f"name_col_{name[5:]}") or form.get("name_col", ""),
                      form.get(f"parent_col_{name[5:]}") or None) for name in sorted(per_level)]
            result = store_level_files(atlas.store, viewer, files, valid_from, set_id, label,
                                       form.get("city_name") or city.get("name", "Stadt"),
                                       form.get("city_key") or city.get("key", "00"),
                                       bands_from=atlas.settings.canvas_from_areas,
                                       tiles_from=atlas.settings.tiles_from_areas)
            return _boundaries_added(atlas, viewer, result)
        if file is None:
            raise BoundaryError([Message("api_boundary_file_missing")])
        spec = BoundaryUpload(
            key_col=form.get("key_col", ""), name_col=form.get("name_col", ""),
            parent_col=form.get("parent_col") or None,
            parent_key_length=int(form["parent_key_length"]) if form.get("parent_key_length") else None,
            parent_names=json.loads(form["parent_names"]) if form.get("parent_names") else None,
            key_length=int(form["key_length"]) if form.get("key_length") else None,
            city_key=form.get("city_key") or city.get("key", "00"),
            city_name=form.get("city_name") or city.get("name", "Stadt"))
        result = store_uploaded_set(atlas.store, viewer, file.read(), uploads.safe_file_name(file.filename), spec,
                                    valid_from, set_id, label, form.get("layer") or None,
                                    bands_from=atlas.settings.canvas_from_areas,
                                    tiles_from=atlas.settings.tiles_from_areas)
    except PermissionError as exc:  # boundary_upload's one refusal (admins only), in the caller's ?lang=
        if exc.errno is not None:  # the file system's, not that refusal
            raise
        return error_response(403, "forbidden", Message("api_admins_boundaries"))
    except (BoundaryError, ValueError) as exc:
        return _refused(_problems(exc))
    return _boundaries_added(atlas, viewer, result)


@workflow.post("/api/v1/grids")
@writer_route
def grid_upload() -> Response:
    """Admins add a parallel planning grid: multipart `file` + `grid_id`, `name_de`, `name_en`, `plural_de`,
    `plural_en`, `key_col`, `name_col` [, `set_id`, `nests_in`, `parent_from`, `note`, `crosswalk` (a CSV
    grid_area;base_area;weight), `points` (a CSV lon;lat;count: weights by population)]."""
    atlas, viewer = current_atlas(), current_principal()
    form, file = request.form, request.files.get("file")
    try:
        if file is None:
            raise BoundaryError([Message("api_grid_file_missing")])
        spec = GridUpload(**{name: form.get(name, "") for name in (
            "grid_id", "name_de", "name_en", "plural_de", "plural_en", "key_col", "name_col", "nests_in",
            "parent_from", "note")}, set_id=form.get("set_id") or None)
        weights = request.files.get("crosswalk")
        points = request.files.get("points")
        result = store_uploaded_grid(atlas, viewer, file.read(), uploads.safe_file_name(file.filename), spec,
                                     weights.read() if weights else None,
                                     read_points(points.read()) if points else None)
    except PermissionError as exc:  # grid_upload's one refusal (admins only), in the caller's ?lang=
        if exc.errno is not None:  # the file system's, not that refusal
            raise
        return error_response(403, "forbidden", Message("api_admins_grids"))
    except (BoundaryError, ValueError) as exc:
        return _refused(_problems(exc))
    atlas.audit.record(viewer.name, "grid_added", result["grid"],
                       f"{result['areas']} Gebiete, Gewichte: {result['method']}")
    return _json({"ok": True, **result}, 201)


def _boundaries_added(atlas, viewer, result: dict) -> Response:
    counts = ", ".join(f"{n} {level}" for level, n in result["levels"].items())
    atlas.audit.record(viewer.name, "boundaries_added", result["set_id"],
                       f"{counts} ab {result['valid_from']} ({result['source_crs']})")
    lang = norm_lang(request.args.get("lang"))
    return _json({"ok": True, **result, "notes": [say(n, lang) for n in result.get("notes", [])]}, 201)


def _problems(exc: Exception) -> list:
    """A refusal's reasons: a BoundaryError's or CrosswalkError's list, else the error's one message (a catalogue
    `Message` kept as such, so it is said in the caller's language)."""
    problems = getattr(exc, "problems", None)
    if problems:
        return problems
    first = exc.args[0] if exc.args else ""
    return [first if isinstance(first, Message) else str(exc)]


def _refused(problems: list) -> Response:
    """A boundary or grid file refused: every reason as a report entry, in the caller's language (`?lang=`)."""
    lang = norm_lang(request.args.get("lang"))
    return _json({"ok": False, "errors": [{"row": None, "column": None, "value": None, "message": say(p, lang)}
                                          for p in problems]}, 422)


def _date(text):
    from datetime import date
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise ValueError(Message("api_valid_from")) from None


@workflow.get("/api/v1/versions")
def version_history() -> Response:
    indicator = request.args.get("indicator", "")
    rows = versions.history(current_atlas(), current_principal(), indicator)
    if rows is None:
        return not_found()
    out = _version_records(rows)
    return _json({"indicator": indicator, "count": len(out), "versions": out})


def _version_records(rows) -> list[dict]:
    """Versions as JSON: times as ISO text, periods and actions as lists."""
    out = records(rows, versions.HISTORY_FIELDS)
    for r in out:
        for k in ("created_at", "released_at", "release_at"):
            r[k] = r[k].isoformat() if hasattr(r[k], "isoformat") else r[k]
        r["periods"], r["actions"] = list(r["periods"]), list(r["actions"])
    return out


@workflow.get("/api/v1/releases")
def release_queue() -> Response:
    """Versions released internally that wait for their public release, with the cells the public will not see.

    Admins get every department's, a steward their own departments' (without
    the release action), everybody else an empty list.
    """
    atlas, viewer = current_atlas(), current_principal()
    rows = versions.release_queue(atlas, viewer)
    out = _version_records(rows)
    for r in out:
        cells = versions.withheld_cells(atlas, viewer, r["indicator_id"], r["periods"])
        counts = {} if cells is None else cells["reason"].value_counts().to_dict()
        r["withheld"] = None if cells is None else {
            "cells": len(cells), "reasons": {k: int(counts.get(k, 0)) for k in ("primary", "secondary", "linked")}}
    return _json({"count": len(out), "versions": out})


@workflow.get("/api/v1/templates")
def template() -> Response:
    """The delivery template of one indicator: its department's stewards and admins; others get 'not found'."""
    fmt = request.args.get("format") or "csv-de"
    if fmt not in templates.TEMPLATE_FORMATS:
        return error_response(400, "bad_format", Message("api_bad_format", allowed=list(templates.TEMPLATE_FORMATS)))
    built = templates.build(current_atlas(), current_principal(), request.args.get("indicator", ""), fmt)
    if built is None:
        return not_found()
    resp = Response(built.body, mimetype=built.mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{built.file_name}"'
    resp.headers["Cache-Control"] = "private, no-store"  # the department's unsuppressed values
    return resp


@workflow.get("/api/v1/audit")
def audit_log() -> Response:
    """Admins: the audit log, filtered (`actor`, `action`, `indicator`, `from`, `to` as JJJJ-MM-TT), newest first,
    as JSON or (`format=csv`) German-Excel CSV. Anyone else gets 'not found'."""
    atlas, viewer = current_atlas(), current_principal()
    if not may_administer(viewer):
        return not_found()
    args = request.args
    try:
        where = audit_trail.Filter(args.get("actor", ""), args.get("action", ""), args.get("indicator", ""),
                                   _optional_date(args.get("from")), _optional_date(args.get("to")))
    except ValueError as exc:
        return error_response(400, "bad_date", exc.args[0])  # its catalogue message in the caller's ?lang=
    if args.get("format") == "csv":
        resp = Response(audit_trail.to_csv(audit_trail.entries(atlas, viewer, where, limit=None)),
                        mimetype="text/csv; charset=utf-8")
        resp.headers["Content-Disposition"] = 'attachment; filename="protokoll.csv"'
        resp.headers["Cache-Control"] = "private, no-store"
        return resp
    limit = args.get("limit", "500")
    rows = audit_trail.entries(atlas, viewer, where, limit=min(int(limit), 10_000) if limit.isdigit() else 500)
    return _json({"count": len(rows), "entries": [{**r, "at": r["at"].isoformat()} for r in rows]})


def _optional_date(text: str | None):
    """A `from`/`to` filter date, or None when empty."""
    from datetime import date
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(Message("api_bad_date")) from None
