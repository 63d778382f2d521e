"""The map page's first request at national scale (issue 19, 50,000 areas).

The bench (`python bench/run.py --only national`) found the first coloured
map waiting 38–48 s on the index page's picture (`first_paint`): its bounds
were taken again for every vertex (quadratic in the vertices), and a level
drawn from vector tiles still had its whole geometry built for it. The demo
city is forced onto the tile path by ATLAS_TILES_FROM_AREAS=10.
"""
from __future__ import annotations

from atlas.services import choropleth
from atlas.web.pages import explorer


def test_a_level_drawn_from_tiles_builds_no_geometry_for_the_first_request(tiled_atlas, monkeypatch):
    from atlas.web.app import create_app
    client = create_app(atlas=tiled_atlas).server.test_client()
    asked: list[tuple] = []
    plain = choropleth.geometry
    monkeypatch.setattr(choropleth, "geometry", lambda *a, **k: asked.append(a) or plain(*a, **k))
    page = client.get("/")
    assert page.status_code == 200
    assert asked == []  # the tiles carry the geometry; the index page must not build it (seconds at 50,000)
    assert 'class="oa-first-paint"' not in page.get_data(as_text=True)


def test_the_same_store_without_tiles_still_paints_its_picture(atlas):
    """The control: on the GeoJSON path the picture is made (so the test above can tell the paths apart)."""
    from atlas.web.app import create_app
    page = create_app(atlas=atlas).server.test_client().get("/")
    assert 'class="oa-first-paint"' in page.get_data(as_text=True)


def _squares(n: int, corners: int) -> dict:
    """n features, each a ring of `corners` vertices on a circle, side by side."""
    import math
    features = []
    for i in range(n):
        ring = [[10 + i * 0.01 + 0.004 * math.cos(2 * math.pi * k / corners),
                 51 + 0.004 * math.sin(2 * math.pi * k / corners)] for k in range(corners)]
        features.append({"type": "Feature", "properties": {"i": i},
                         "geometry": {"type": "Polygon", "coordinates": [ring + [ring[0]]]}})
    return {"type": "FeatureCollection", "features": features}


def test_the_pictures_bounds_are_taken_once_not_per_vertex(monkeypatch):
    """min/max over all vertices per vertex made the picture quadratic: 47 s for 3,000 areas' ~21,000 vertices."""
    calls = {"n": 0}

    def counted(builtin):
        def wrapped(*args, **kwargs):
            calls["n"] += 1
            return builtin(*args, **kwargs)
        return wrapped
    monkeypatch.setattr(explorer, "min", counted(min), raising=False)
    monkeypatch.setattr(explorer, "max", counted(max), raising=False)
    geometry = _squares(40, 60)
    svg = explorer.preview_svg(geometry, {"cls": [i % 5 for i in range(40)], "col": ["#111111", "#222222",
                                                                                     "#333333", "#444444",
                                                                                     "#555555"]})
    assert svg is not None and svg.count("<path") == 40
    assert calls["n"] < 20  # a handful for the bounds, not two per vertex (2,440 vertices here)
