"""Read API of the parallel planning grids: which grids exist, and indicators estimated on them.

Rights exactly as `/api/v1/values` (a partner token reads a grid its scope names, like a level): the estimate is made from the base-level
values the viewer may read, with the same disclosure pattern applied, and an
indicator the viewer may not see answers like one that does not exist. Every
row says how it was estimated (`method`), in the JSON and the CSV alike.
"""
from __future__ import annotations

import io

from flask import Blueprint, Response, jsonify, request

from atlas.messages import Message
from atlas.services import crosswalk
from atlas.services.map_bands import feature_collection
from atlas.web.http import current_atlas, error_response, not_found, records
from auth import current_principal

grids_api = Blueprint("grids_api", __name__)
ROW_COLS = ["area_id", "name", "value", "numerator", "denominator", "status", "method", "split_share"]


@grids_api.get("/api/v1/grids")
def grid_list() -> Response:
    """The store's parallel grids with their names, boundary set and estimation method."""
    out = [{"id": g.id, "name_de": g.name_de, "name_en": g.name_en, "plural_de": g.plural_de,
            "plural_en": g.plural_en, "boundary_set": g.set_id, "method": g.method,
            "method_de": g.method_label("de"), "method_en": g.method_label("en"), "nests_in": g.nests_in or None}
           for g in crosswalk.readable_grids(current_atlas(), current_principal())]
    return jsonify({"grids": out, "count": len(out)})


@grids_api.get("/api/v1/grids/<grid>/areas")
def grid_areas(grid: str) -> Response:
    """A grid's areas as GeoJSON (EPSG:4326), each with its key and name."""
    atlas = current_atlas()
    found = crosswalk.readable_grid(atlas, current_principal(), grid)
    if found is None:
        return error_response(404, "not_found", Message("api_grid_not_found"))
    areas = crosswalk.grid_areas(atlas, found.id).assign(level=found.id, parent_id=None)
    return jsonify({**feature_collection(areas), "boundary_set": found.set_id})


@grids_api.get("/api/v1/grids/<grid>/values")
def grid_values(grid: str) -> Response:
    """One indicator estimated on a grid at one period (default: the latest); JSON or German CSV."""
    fmt = request.args.get("format") or "json"
    if fmt not in ("json", "csv"):
        return error_response(400, "bad_format", f"format must be json or csv; got {fmt!r}")
    indicator = request.args.get("indicator", "")
    try:
        table = crosswalk.grid_values(current_atlas(), current_principal(), grid, indicator,
                                      request.args.get("period") or None)
    except ValueError as exc:
        return error_response(400, "bad_period", str(exc))
    if table is None:
        return not_found()
    cols = ROW_COLS + (["confidential"] if "confidential" in table.rows else [])
    if fmt == "csv":
        return _csv(table, cols)
    return jsonify({"grid": table.grid.id, "indicator": table.indicator.id, "period": table.period,
                    "boundary_set": table.grid.set_id, "estimated": table.estimated,
                    "method": table.grid.method, "note_de": table.note_de, "note_en": table.note_en,
                    "count": len(table.rows), "rows": records(table.rows, cols)})


def _csv(table: crosswalk.GridTable, cols: list[str]) -> Response:
    """German CSV (semicolon, decimal comma) with the method in a column of every row."""
    buf = io.StringIO()
    table.rows[cols].assign(period=table.period).to_csv(buf, sep=";", decimal=",", index=False)
    name = f"{table.grid.id}_{table.indicator.id}_{table.period}.csv"
    return Response(buf.getvalue().encode("utf-8-sig"), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
