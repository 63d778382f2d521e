"""The map at county and national scale (issue 19): zoom bands of coverage-simplified geometry, canvas above N areas."""
from __future__ import annotations

import dataclasses
import json
import shutil

import numpy as np
import pandas as pd
import pytest
import shapely

from atlas.services import choropleth, queries, territory
from atlas.services.map_bands import feature_collection


def wiggly_grid(n: int = 36, fine: int = 3000, size: float = 0.05) -> pd.DataFrame:
    """n areas with jagged shared edges, as stored boundaries: fine Voronoi cells dissolved into the nearest of
    n seeds, so neighbours share the very same vertices (a valid coverage)."""
    rng = np.random.default_rng(7)
    frame = shapely.box(0, 0, size, size)
    cells = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(rng.uniform(0, size, (fine, 2))),
                                                       extend_to=frame))
    cells = shapely.intersection(cells, frame)
    seeds = rng.uniform(0, size, (n, 2))
    centres = shapely.get_coordinates(shapely.centroid(cells))
    group = ((centres[:, None, :] - seeds[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
    rows = []
    for k in sorted(set(group)):
        area = shapely.coverage_union_all(cells[group == k])
        rows.append({"area_id": f"{k:03d}", "name": f"A{k}", "level": "x", "parent_id": None,
                     "geometry": shapely.to_wkb(area)})
    return pd.DataFrame(rows)


def shapes(fc: dict) -> np.ndarray:
    return np.array([shapely.geometry.shape(f["geometry"]) for f in fc["features"]])


def test_the_wiggly_grid_is_a_valid_coverage():
    geoms = shapely.from_wkb(wiggly_grid()["geometry"].values)
    assert shapely.is_valid(geoms).all() and shapely.coverage_is_valid(geoms)


def test_coverage_simplification_keeps_shared_edges_where_plain_simplification_opens_gaps():
    areas = wiggly_grid()
    tolerance = 0.003  # larger than the wiggle: a coarse zoom band
    joint = shapes(feature_collection(areas, precision=5, simplify=tolerance, coverage=True))
    alone = shapes(feature_collection(areas, precision=5, simplify=tolerance))
    assert shapely.coverage_is_valid(joint)  # no gaps, no overlaps between neighbours
    assert not shapely.coverage_is_valid(alone)  # the reason for coverage simplification
    original = shapely.get_num_coordinates(shapely.from_wkb(areas["geometry"].values)).sum()
    assert shapely.get_num_coordinates(joint).sum() < original / 3


def test_band_for_zoom_rises_with_the_zoom_and_covers_every_zoom():
    bands = [choropleth.band_for_zoom(z / 4) for z in range(0, 4 * 20)]
    assert bands == sorted(bands) and bands[0] == 0 and bands[-1] == choropleth.FINEST
    assert {choropleth.band_for_zoom(b.min_zoom) for b in choropleth.BANDS} == set(range(len(choropleth.BANDS)))
    assert choropleth.band_for_zoom(None) == choropleth.FINEST
    tolerances = [b.tolerance for b in choropleth.BANDS]
    assert tolerances == sorted(tolerances, reverse=True)


def test_fit_zoom_is_leaflets_fit_bounds():
    world = (-180.0, -85.0511287798, 180.0, 85.0511287798)
    assert choropleth.fit_zoom(world, (256, 256)) == pytest.approx(0, abs=1e-6)
    assert choropleth.fit_zoom(world, (512, 512)) == pytest.approx(1, abs=1e-6)
    half = (0.0, 0.0, 1.0, 0.5)  # twice as wide as high: the width decides
    assert choropleth.fit_zoom(half, (512, 512)) == pytest.approx(choropleth.fit_zoom((0, 0, 2, 1), (1024, 1024)))


def test_every_band_has_the_same_features_in_the_same_order(atlas):
    set_id = queries.current_set(atlas)
    bands = [choropleth.geometry(atlas, set_id, None, b) for b in range(len(choropleth.BANDS))]
    keys = [[(f["id"], f["properties"]["i"]) for f in fc["features"]] for fc in bands]
    assert all(k == keys[0] for k in keys) and len(keys[0]) == 51
    sizes = [len(json.dumps(fc)) for fc in bands]
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]  # coarser is smaller
    assert choropleth.geometry(atlas, set_id) is bands[-1]  # no band: the finest, as before bands


def test_the_first_band_fits_the_territory(atlas):
    set_id = queries.current_set(atlas)
    zoom = choropleth.territory_zoom(atlas, set_id)
    assert 10 <= zoom <= 14  # a city of some 15 km
    assert choropleth.territory_band(atlas, set_id) == choropleth.band_for_zoom(zoom)
    assert choropleth.area_count(atlas, set_id) == len(queries.areas(atlas, territory.base_level(atlas), set_id))


def test_band_geometry_refuses_what_the_page_did_not_send(atlas):
    from atlas.web.pages.explorer import band_geometry
    set_id = queries.current_set(atlas)
    level = territory.base_level(atlas)
    assert band_geometry(atlas, f"{set_id}|{level}", 0) is choropleth.geometry(atlas, set_id, level, 0)
    assert band_geometry(atlas, f"{set_id}|nolevel", 0) is None
    assert band_geometry(atlas, f"made-up|{level}", 0) is None  # never computed nor remembered
    assert band_geometry(atlas, None, 0) is None
    assert band_geometry(atlas, f"{set_id}|{level}", "0") is None


@pytest.fixture()
def big_app(atlas, tmp_path):
    """The demo city forced onto the big path: canvas and zoom bands from one area."""
    from atlas.services.context import Atlas
    from atlas.web.app import create_app
    shutil.copytree(atlas.store.data_dir, tmp_path / "data", ignore=shutil.ignore_patterns("uploads", "tmp"))
    settings = dataclasses.replace(atlas.settings, data_dir=tmp_path / "data", tmp_dir=tmp_path / "data" / "tmp",
                                   canvas_from_areas=1)
    return create_app(atlas=Atlas(settings))


def _map_props(app) -> dict:
    """The explorer's map as the page sends it: canvas or not, zoom, band, and the geometry's size."""
    from atlas.web.http import current_atlas
    from atlas.web.pages import explorer
    with app.server.test_request_context("/"):
        page = explorer.layout()
        atlas = current_atlas()
    found = {}

    def walk(node) -> None:
        if getattr(node, "id", None) in ("ex-map", "ex-geojson", "ex-band", "ex-banded"):
            found[node.id] = node
        children = getattr(node, "children", None)
        for child in children if isinstance(children, (list, tuple)) else [children]:
            if hasattr(child, "to_plotly_json"):
                walk(child)
    walk(page)
    return {"canvas": getattr(found["ex-map"], "preferCanvas", False), "zoom": found["ex-map"].zoom,
            "band": found["ex-band"].data, "banded": found["ex-banded"].data, "atlas": atlas,
            "bytes": len(json.dumps(found["ex-geojson"].data))}


def test_small_territory_keeps_the_svg_path_and_the_finest_geometry(dash_app):
    props = _map_props(dash_app)
    assert props["canvas"] is False and props["banded"] is False
    assert props["band"] == choropleth.FINEST and props["zoom"] == 11


def test_over_the_threshold_the_map_draws_on_canvas_with_the_band_that_fits(big_app):
    props = _map_props(big_app)
    atlas = props["atlas"]
    set_id = queries.current_set(atlas)
    assert props["canvas"] is True and props["banded"] is True
    assert props["zoom"] == choropleth.territory_zoom(atlas, set_id)
    assert props["band"] == choropleth.band_for_zoom(props["zoom"])
    assert props["bytes"] == len(json.dumps(choropleth.geometry(atlas, set_id, None, props["band"])))
