"""Download routes: data exports, map and chart pictures.

Plain Flask routes, not Dash callbacks, so files stream to the browser (or
to QGIS, which loads `/api/v1/export?...&format=geojson` as a layer) instead
of travelling base64-encoded through a callback. Each route asks
`current_principal()` and hands it to the services; an indicator the viewer
may not see answers exactly like one that does not exist.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Response, request

from atlas.classify import classing
from atlas.export import pictures
from atlas.export import tables as export
from atlas.messages import Message
from atlas.periods import period_end
from atlas.services import queries
from atlas.web.http import (
    current_atlas,
    error_response,
    level_arg,
    not_found,
    readable_levels,
)
from auth import current_principal

log = logging.getLogger(__name__)
downloads = Blueprint("downloads", __name__)


def no_data() -> Response:
    # Never echoes the period: an unreleased period must look like one that does not exist.
    return error_response(404, "no_data", Message("api_no_data"))


def _attachment(body, content_type: str, filename: str, size: int | None = None) -> Response:
    resp = Response(body, content_type=content_type, direct_passthrough=True)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    resp.headers["Cache-Control"] = "private, no-store"  # rights differ per viewer
    if size is not None:
        resp.headers["Content-Length"] = str(size)
    return resp


@downloads.get("/api/v1/export")
def export_file() -> Response:
    atlas, viewer = current_atlas(), current_principal()
    try:
        levels = readable_levels()
        if not levels:
            return not_found()
        req = export.ExportRequest.from_args(request.args, levels)
        data = export.collect(atlas, viewer, req)
        if data is None:
            return not_found()
        if data.rows.empty:
            return no_data()
        file = export.render(atlas, data)
    except export.ExportError as exc:
        return error_response(400, exc.code, str(exc))
    log.info("export %s by %s (%s): %d rows", file.filename, viewer.name, viewer.role, len(data.rows))
    return _attachment(file.chunks, file.mimetype, file.filename, file.size)


def _picture_args() -> tuple[str, str] | Response:
    fmt = request.args.get("format", "png")
    if fmt not in pictures.PICTURE_FORMATS:
        return error_response(400, "bad_format", f"format must be one of {', '.join(pictures.PICTURE_FORMATS)}")
    return fmt, "en" if request.args.get("lang") == "en" else "de"


@downloads.get("/api/v1/map")
def map_image() -> Response:
    """The map as a picture for reports: ?indicator&period&level&method&k&format=png|svg|pdf."""
    atlas, viewer = current_atlas(), current_principal()
    args = _picture_args()
    if isinstance(args, Response):
        return args
    fmt, lang = args
    level, period = level_arg(), request.args.get("period") or None
    if isinstance(level, Response):
        return level
    try:
        if period:
            period_end(period)
    except ValueError as exc:
        return error_response(400, "bad_period", str(exc))
    indicator = request.args.get("indicator", "")
    if queries.get_indicator(atlas, viewer, indicator) is None:
        return not_found()
    method, k = classing(request.args.get("method"), request.args.get("k"))
    pic = pictures.map_picture(atlas, viewer, indicator, period, level, method, k, fmt, lang)
    return no_data() if pic is None else _attachment(pic.body, pic.mimetype, pic.filename)


@downloads.get("/api/v1/chart")
def chart_image() -> Response:
    """The time series of one Ortsteil as a picture: ?indicator&area&format=png|svg|pdf."""
    atlas, viewer = current_atlas(), current_principal()
    args = _picture_args()
    if isinstance(args, Response):
        return args
    fmt, lang = args
    indicator = request.args.get("indicator", "")
    if queries.get_indicator(atlas, viewer, indicator) is None:
        return not_found()
    pic = pictures.chart_picture(atlas, viewer, indicator, request.args.get("area", ""), fmt, lang)
    return no_data() if pic is None else _attachment(pic.body, pic.mimetype, pic.filename)
