"""The data stewards' workflow as JSON endpoints, for the upload page and for scripted feeds.

Same rights as the pages, with the session cookie (plus the CSRF token in
`X-CSRFToken`) or with `Authorization: Bearer <token>`:

  POST /api/v1/uploads                      multipart `file` [+ `mapping` JSON, `sheet`] → report
  GET  /api/v1/uploads/<id>                 the report and a preview of the values
  POST /api/v1/uploads/<id>/confirm         → new draft versions
  POST /api/v1/uploads/<id>/cancel
  POST /api/v1/versions/<id>/release        {"to": "internal"|"public"[, "at": "2026-12-01T09:00"]}
  POST /api/v1/versions/<id>/rollback
  GET  /api/v1/versions?indicator=ID        the history the caller may see
"""
from __future__ import annotations

import json
import logging

from flask import Blueprint, Response, g, jsonify, request

from atlas import ingest, versions
from atlas.api import error_response, not_found, records
from atlas.bootstrap import get_atlas
from auth import current_principal
from auth.login import csrf

log = logging.getLogger(__name__)
workflow = Blueprint("workflow", __name__)


def _writer_guard() -> Response | None:
    """Only signed-in stewards and admins write; cookie sessions also need the CSRF token."""
    viewer = current_principal()
    if not viewer.logged_in:
        return error_response(401, "unauthorized", "Anmeldung erforderlich / sign in or send a bearer token")
    if viewer.role not in ("steward", "admin"):
        return error_response(403, "forbidden", "Nur Datenpflege und Administration laden Daten hoch / "
                                                "stewards and admins only")
    if g.get("bearer_principal") is None:
        csrf.protect()  # raises CSRFError → 400
    return None


def _version_error(exc: versions.VersionError) -> Response:
    return error_response(exc.status, exc.code, str(exc))


@workflow.post("/api/v1/uploads")
def upload() -> Response:
    if (refused := _writer_guard()) is not None:
        return refused
    atlas, viewer = get_atlas(), current_principal()
    file = request.files.get("file")
    if file is None:
        return error_response(400, "missing_file", "Feld 'file' fehlt (multipart/form-data) / field 'file' missing")
    mapping = None
    if request.form.get("mapping"):
        try:
            mapping = json.loads(request.form["mapping"])
        except json.JSONDecodeError as exc:
            return error_response(400, "bad_mapping", f"mapping ist kein gültiges JSON: {exc}")
    content = file.read()
    checked = ingest.check_upload(atlas, viewer, file.filename or "upload", content, mapping,
                                  request.form.get("sheet") or None)
    pending = ingest.Uploads(atlas.settings.data_dir).create(viewer, file.filename or "upload", content, checked)
    log.info("upload %s by %s: %s, %d rows, %d errors", pending.upload_id, viewer.name, pending.file_name,
             checked.report.rows, len(checked.report.errors))
    body = {"upload_id": pending.upload_id, "file_name": pending.file_name, **checked.report.to_json()}
    return _json(body, 200 if checked.report.ok else 422)


def _json(body: dict, status: int = 200) -> Response:
    resp = jsonify(body)
    resp.status_code = status
    return resp


@workflow.get("/api/v1/uploads/<upload_id>")
def upload_report(upload_id: str) -> Response:
    atlas, viewer = get_atlas(), current_principal()
    uploads = ingest.Uploads(atlas.settings.data_dir)
    pending = uploads.get(upload_id, viewer)
    if pending is None:
        return error_response(404, "not_found", str(versions.NOT_FOUND))
    body = {"upload_id": pending.upload_id, "file_name": pending.file_name, "state": pending.state,
            "version_ids": pending.version_ids, "checksum": pending.checksum, **pending.report}
    if pending.report.get("ok") and pending.state == "checked":
        preview = uploads.values(upload_id)
        body["preview"] = records(preview.head(2000), ["indicator_id", "area_id", "period", "value", "numerator",
                                                       "denominator", "status"])
    return _json(body)


@workflow.post("/api/v1/uploads/<upload_id>/confirm")
def confirm(upload_id: str) -> Response:
    if (refused := _writer_guard()) is not None:
        return refused
    try:
        ids = versions.confirm(get_atlas(), current_principal(), upload_id)
    except versions.VersionError as exc:
        return _version_error(exc)
    return _json({"version_id": ids[0], "version_ids": ids, "state": "draft"}, 201)


@workflow.post("/api/v1/uploads/<upload_id>/cancel")
def cancel(upload_id: str) -> Response:
    if (refused := _writer_guard()) is not None:
        return refused
    try:
        versions.cancel(get_atlas(), current_principal(), upload_id)
    except versions.VersionError as exc:
        return _version_error(exc)
    return _json({"upload_id": upload_id, "state": "cancelled"})


@workflow.post("/api/v1/versions/<version_id>/release")
def release(version_id: str) -> Response:
    if (refused := _writer_guard()) is not None:
        return refused
    body = request.get_json(silent=True) or {}
    try:
        result = versions.release(get_atlas(), current_principal(), version_id, body.get("to"), body.get("at"))
    except versions.VersionError as exc:
        return _version_error(exc)
    return _json(result)


@workflow.post("/api/v1/versions/<version_id>/rollback")
def rollback(version_id: str) -> Response:
    if (refused := _writer_guard()) is not None:
        return refused
    try:
        return _json(versions.rollback(get_atlas(), current_principal(), version_id))
    except versions.VersionError as exc:
        return _version_error(exc)


@workflow.get("/api/v1/versions")
def version_history() -> Response:
    indicator = request.args.get("indicator", "")
    rows = versions.history(get_atlas(), current_principal(), indicator)
    if rows is None:
        return not_found()
    out = records(rows, versions.HISTORY_FIELDS)
    for r in out:
        for k in ("created_at", "released_at", "release_at"):
            r[k] = r[k].isoformat() if hasattr(r[k], "isoformat") else r[k]
    return _json({"indicator": indicator, "count": len(out), "versions": out})
