"""The map's vector tiles: `GET /tiles/<set_id>/<level>/<z>/<x>/<y>.pbf` (issue 19, the third map path).

Boundary geometry is public in this atlas (as `/api/v1/areas`), so a tile
needs no rights; but only what the store holds is served: a set or level
without stored tiles, or a zoom outside the file's, is 404 (deny by
default, nothing built on request). Inside the file's zooms and bounds a
tile without areas is 204, which tile clients draw as empty.

Tiles are stored gzip-compressed and sent so (`Content-Encoding: gzip`) to
every client that accepts it. The ETag names the tiles file (a new file per
write) and the tile; the explorer asks with `?v=<file token>`, and such an
address is kept a year (`immutable`), any other revalidated.

`GET /api/v1/map-label` gives one area's label on a tiled map (hover, tap):
the tiled map's hideout carries only class codes, so the labels of 11,000
areas no longer travel with every switch. The label is read from the same
remembered map view as the colours, with the viewer's rights: a hidden
indicator answers exactly like an unknown one, a suppressed cell says so.
"""
from __future__ import annotations

import gzip
import json

from flask import Blueprint, Response, request

from atlas.classify import classing
from atlas.i18n import norm_lang
from atlas.services import choropleth, territory, tiles
from atlas.web.hardening import LONG_LIVED
from atlas.web.http import current_atlas, not_found
from auth import current_principal

tiles_bp = Blueprint("tiles", __name__)
MVT = "application/vnd.mapbox-vector-tile"
REVALIDATE_TILE = "public, max-age=0, must-revalidate"


def file_token(path) -> str:
    """The part of the tiles file's name that changes with every write (its uuid)."""
    return path.stem.rsplit("-", 1)[-1]


def tiles_url(atlas, set_id: str, level: str) -> str | None:
    """The tile address template the map asks (Leaflet's `{z}/{x}/{y}`), None when the level has no stored tiles."""
    path = tiles.stored_tiles(atlas.store, set_id, level)
    if path is None:
        return None
    return f"/tiles/{set_id}/{level}/{{z}}/{{x}}/{{y}}.pbf?v={file_token(path)}"


def _missing() -> Response:
    return Response(b"", status=404, mimetype="text/plain")


@tiles_bp.get("/tiles/<set_id>/<level>/<int:z>/<int:x>/<int:y>.pbf")
def tile(set_id: str, level: str, z: int, x: int, y: int) -> Response:
    """One tile; 404 for what the store does not hold, 204 for an empty tile, 304 when the client has it."""
    path = tiles.stored_tiles(current_atlas().store, set_id, level)
    if path is None:
        return _missing()
    info = tiles.tiles_info(path)
    if not int(info["minzoom"]) <= z <= int(info["maxzoom"]) or not (0 <= x < 2 ** z and 0 <= y < 2 ** z):
        return _missing()
    token = file_token(path)
    etag = f"{token}-{z}-{x}-{y}"
    cache = LONG_LIVED if request.args.get("v") == token else REVALIDATE_TILE
    if etag in request.if_none_match:
        response = Response(status=304)
    else:
        data = tiles.read_tile(path, z, x, y)
        if data is None:
            response = Response(status=204)
        elif request.accept_encodings["gzip"]:
            response = Response(data, mimetype=MVT)
            response.headers["Content-Encoding"] = "gzip"
        else:
            response = Response(gzip.decompress(data), mimetype=MVT)
    response.headers["Vary"] = "Accept-Encoding"
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache
    return response


@tiles_bp.get("/api/v1/map-label")
def map_label() -> Response:
    """One area's label on the map view named by the query (`indicator`, `period`, `level`, `method`, `k`,
    `lang`, `area`), as the explorer's tiled map asks it on hover and tap; 404 (the one 'not found' body) for
    an indicator the viewer may not see, an unknown one, and an area not on the map, alike."""
    args = request.args
    atlas = current_atlas()
    level, area = args.get("level") or territory.base_level(atlas), args.get("area", "")
    method, k = classing(args.get("method"), args.get("k"))
    indicator, period = args.get("indicator", ""), args.get("period", "")
    if level not in territory.level_ids(atlas) or not indicator or not period or not area:
        return not_found()
    label = choropleth.area_label(atlas, current_principal(), indicator, period, method, k, area,
                                  norm_lang(args.get("lang")), level)
    if label is None:
        return not_found()
    response = Response(json.dumps({"area": area, "label": label}), mimetype="application/json")
    response.headers["Cache-Control"] = "private, no-store"  # what it says depends on the viewer's rights
    return response
