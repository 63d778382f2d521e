"""Parallel planning grids on a hand-made territory: crosswalk weights, estimates, suppression, upload checks.

Four base squares (1 km each, two Bezirke of two squares) under one city;
the grid has two areas split at x = 1.25 km: `west` holds A and C and a
quarter of B and D, `ost` three quarters of B and D. Nothing nests, so the
grid's only published equation is city = west + ost.
"""
from __future__ import annotations

import dataclasses
import json
import textwrap
from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from atlas.config import load_settings
from atlas.ingest.grid_upload import GridUpload, store_grid_frame
from atlas.periods import period_end
from atlas.services import crosswalk
from atlas.services.boundaries import BoundarySet, add_boundary_set
from atlas.services.context import Atlas
from auth.permissions import ANONYMOUS, Principal

ADMIN = Principal("admin", "admin", logged_in=True)
STAFF = Principal("staff", "internal", logged_in=True)
CRS = "EPSG:3035"
X0, Y0 = 4_550_000.0, 3_270_000.0  # somewhere in Germany, metres in EPSG:3035
BASE = {"A": (0, 0, "1"), "B": (1, 0, "1"), "C": (0, 1, "2"), "D": (1, 1, "2")}  # key: column, row, Bezirk
LEVELS = [
    {"id": "block", "name_de": "Block", "name_en": "block", "plural_de": "Blöcke", "plural_en": "blocks",
     "parent_from": "column:parent"},
    {"id": "bezirk", "name_de": "Bezirk", "name_en": "borough", "plural_de": "Bezirke", "plural_en": "boroughs",
     "parent_from": "column:parent"},
    {"id": "stadt", "name_de": "Stadt", "name_en": "city", "plural_de": "Stadt", "plural_en": "city"},
]
CATALOG = '''
[domain]
id = "soziales"
title_de = "Soziales"
title_en = "Social"
order = 1

[[indicator]]
id = "kinder"
title_de = "Kinder"
title_en = "Children"
unit = "Personen"
department = "jugend"
visibility = "public"
polarity = "neutral"
decimals = 0
aggregation = "sum"
periodicity = "year"
source = "Test"
contact = "Test"
definition_de = "Test"
definition_en = "Test"
licence = "CC0"

[[indicator]]
id = "quote"
title_de = "Quote"
title_en = "Rate"
unit = "%"
department = "jugend"
visibility = "public"
polarity = "neutral"
decimals = 1
aggregation = "ratio"
scale = 100
numerator = "Fälle"
denominator = "Kinder"
periodicity = "year"
suppress_numerator_below = 3
source = "Test"
contact = "Test"
definition_de = "Test"
definition_en = "Test"
licence = "CC0"

[[indicator]]
id = "geheim"
title_de = "Interne Zahl"
title_en = "Internal count"
unit = "Personen"
department = "jugend"
visibility = "internal"
polarity = "neutral"
decimals = 0
aggregation = "sum"
periodicity = "year"
source = "Test"
contact = "Test"
definition_de = "Test"
definition_en = "Test"
licence = "CC0"

[[indicator]]
id = "index"
title_de = "Sozialindex"
title_en = "Social index"
unit = "Punkte"
department = "jugend"
visibility = "public"
polarity = "neutral"
decimals = 1
aggregation = "none"
periodicity = "year"
source = "Test"
contact = "Test"
definition_de = "Test"
definition_en = "Test"
licence = "CC0"
'''
# (indicator, period): per base square value or (numerator, denominator)
VALUES = {
    ("kinder", "2023"): {"A": 10, "B": 2, "C": 20, "D": 30},  # B is small: withheld, and A with it
    ("kinder", "2024"): {"A": 3, "B": 3, "C": 3, "D": 0},  # nothing small at the base; ost's estimate is 2.25
    ("quote", "2024"): {"A": (5, 10), "B": (4, 8), "C": (6, 20), "D": (9, 30)},
    ("geheim", "2024"): {"A": 50, "B": 60, "C": 70, "D": 80},
    ("index", "2024"): {"A": 1.5, "B": -0.5, "C": 0.2, "D": 0.0},
}


def square(col: float, row: float, width: float = 1.0, height: float = 1.0) -> shapely.Polygon:
    return shapely.box(X0 + col * 1000, Y0 + row * 1000, X0 + (col + width) * 1000, Y0 + (row + height) * 1000)


def grid_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"area_id": ["west", "ost"], "name": ["West", "Ost"]},
                            geometry=[square(0, 0, 1.25, 2), square(1.25, 0, 0.75, 2)], crs=CRS)


def base_gdf() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"area_id": list(BASE), "name": [f"Block {k}" for k in BASE]},
                            geometry=[square(c, r) for c, r, _ in BASE.values()], crs=CRS)


def _values() -> pd.DataFrame:
    rows = []
    for (ind, period), cells in VALUES.items():
        for area, cell in cells.items():
            num, den, value = (cell[0], cell[1], cell[0] / cell[1] * 100) if isinstance(cell, tuple) else \
                (None, None, cell)
            rows.append({"indicator_id": ind, "area_id": area, "period": period, "period_end": period_end(period),
                         "value": value, "numerator": num, "denominator": den, "status": "ok"})
    return pd.DataFrame(rows).astype({"value": float, "numerator": float, "denominator": float})


@pytest.fixture(scope="module")
def town(tmp_path_factory) -> Atlas:
    root = tmp_path_factory.mktemp("grid_town")
    (root / "layers").mkdir()
    (root / "layers" / "01_soziales.toml").write_text(textwrap.dedent(CATALOG), encoding="utf-8")
    (root / "layers" / "departments.toml").write_text('[departments]\njugend = { de = "Jugend", en = "Youth" }\n',
                                                     encoding="utf-8")
    atlas = Atlas(dataclasses.replace(load_settings(), data_dir=root / "data", layers_dir=root / "layers"))
    base = base_gdf().to_crs("EPSG:4326").assign(parent_id=[b for _, _, b in BASE.values()])
    bezirke = base.dissolve(by="parent_id", as_index=False)[["parent_id", "geometry"]]
    bezirke = bezirke.rename(columns={"parent_id": "area_id"}).assign(name=lambda f: "Bezirk " + f["area_id"],
                                                                     parent_id="0")
    city = bezirke.dissolve()[["geometry"]].assign(area_id="0", name="Stadt", parent_id=None)
    values = _values()
    with atlas.store.writing() as tx:
        tx.manifest["levels"] = LEVELS
        tx.manifest["city"] = {"name": "Stadt", "key": "0", "source_crs": CRS}
        add_boundary_set(tx, BoundarySet("s1", date(2000, 1, 1), None, "Stand 1", ""),
                         {"block": base, "bezirk": bezirke, "stadt": city}, CRS)
        versions = []
        for ind_id, rows in values.groupby("indicator_id", sort=True):
            vid = tx.next_version_id()
            tx.add_values(vid, rows.assign(version_id=vid))
            versions.append({"version_id": vid, "indicator_id": ind_id, "state": "public", "created_by": "test",
                             "created_at": pd.Timestamp("2026-01-01"), "file_name": "t.csv", "checksum": "",
                             "row_count": len(rows), "note": ""})
        tx.replace_table("versions", pd.DataFrame(versions).astype({"created_at": "datetime64[s]"}))
    spec = GridUpload("schulbezirk", "Grundschulbezirk", "primary school district", "Grundschulbezirke",
                      "primary school districts", "area_id", "name")
    store_grid_frame(atlas, ADMIN, grid_gdf().to_crs("EPSG:4326"), spec)
    return atlas


def expected_weights() -> dict[tuple[str, str], float]:
    """From the geometry itself: the share of each base square inside each grid area."""
    out = {}
    for g in grid_gdf().itertuples():
        for b in base_gdf().itertuples():
            share = shapely.intersection(g.geometry, b.geometry).area / b.geometry.area
            if share > 0:
                out[(g.area_id, b.area_id)] = share
    return out


def test_area_crosswalk_weights_are_the_shares_of_ground():
    weights = crosswalk.area_crosswalk(grid_gdf(), base_gdf())
    got = {(r.grid_area, r.base_area): r.weight for r in weights.itertuples()}
    assert got.keys() == expected_weights().keys()
    assert got == pytest.approx(expected_weights(), abs=1e-9)
    assert got[("ost", "B")] == pytest.approx(0.75) and ("ost", "A") not in got


def test_a_base_area_almost_wholly_in_one_grid_area_goes_there_whole():
    sliver = gpd.GeoDataFrame({"area_id": ["west", "ost"], "name": ["W", "O"]},
                              geometry=[square(0, 0, 1.995, 2), square(1.995, 0, 0.005, 2)], crs=CRS)
    weights = crosswalk.area_crosswalk(sliver, base_gdf())
    assert set(weights.loc[weights["base_area"] == "B", "grid_area"]) == {"west"}
    assert weights.groupby("base_area")["weight"].sum().tolist() == [1.0, 1.0, 1.0, 1.0]


def test_the_stored_crosswalk_survives_the_round_trip_through_4326(town):
    stored = crosswalk.crosswalk(town, "schulbezirk")
    got = {(r.grid_area, r.base_area): r.weight for r in stored.itertuples()}
    assert got == pytest.approx(expected_weights(), abs=1e-4)
    assert "schulbezirk" in [g.id for g in crosswalk.grids(town)]


def _estimate(indicator: str, period: str, quantity: str) -> dict[str, float]:
    cells = VALUES[(indicator, period)]
    out: dict[str, float] = {}
    for (g, b), w in expected_weights().items():
        cell = cells[b]
        x = {"value": cell, "numerator": cell[0] if isinstance(cell, tuple) else None,
             "denominator": cell[1] if isinstance(cell, tuple) else None}[quantity]
        out[g] = out.get(g, 0.0) + w * x
    return out


def test_a_rate_is_the_estimated_numerator_over_the_estimated_denominator(town):
    table = crosswalk.grid_values(town, ANONYMOUS, "schulbezirk", "quote", "2024")
    rows = table.rows.set_index("area_id")
    num, den = _estimate("quote", "2024", "numerator"), _estimate("quote", "2024", "denominator")
    for g in ("west", "ost"):
        assert rows.loc[g, "status"] == "ok"
        assert rows.loc[g, "numerator"] == pytest.approx(num[g], rel=1e-4)
        assert rows.loc[g, "denominator"] == pytest.approx(den[g], rel=1e-4)
        assert rows.loc[g, "value"] == pytest.approx(num[g] / den[g] * 100, rel=1e-4)
        assert rows.loc[g, "method"] == "geschätzt über Flächenanteile"
    # Not the mean of the base rates, weighted or not.
    rates = {b: n / d * 100 for b, (n, d) in VALUES[("quote", "2024")].items()}
    mean_west = sum(w * rates[b] for (g, b), w in expected_weights().items() if g == "west") / 2.5
    assert abs(rows.loc["west", "value"] - mean_west) > 0.1


def test_a_withheld_base_cell_withholds_every_grid_cell_it_reaches(town):
    public = crosswalk.grid_values(town, ANONYMOUS, "schulbezirk", "kinder", "2023").rows.set_index("area_id")
    # B (2) is small, so A is withheld with it at Bezirk 1; B reaches both grid areas.
    assert public["status"].to_dict() == {"ost": "suppressed", "west": "suppressed"}
    assert public["value"].isna().all()
    admin = crosswalk.grid_values(town, ADMIN, "schulbezirk", "kinder", "2023").rows.set_index("area_id")
    assert admin["confidential"].to_dict() == {"ost": "contributor", "west": "contributor"}
    assert admin.loc["ost", "value"] == pytest.approx(_estimate("kinder", "2023", "value")["ost"], rel=1e-4)


def test_a_small_estimate_is_withheld_and_the_grid_total_cannot_give_it_away(town):
    public = crosswalk.grid_values(town, ANONYMOUS, "schulbezirk", "kinder", "2024").rows.set_index("area_id")
    assert _estimate("kinder", "2024", "value")["ost"] < 3  # 0.75 × 3 + 0.75 × 0
    # ost by the primary rule; west because city − west would give ost.
    assert public["status"].to_dict() == {"ost": "suppressed", "west": "suppressed"}
    admin = crosswalk.grid_values(town, ADMIN, "schulbezirk", "kinder", "2024").rows.set_index("area_id")
    assert admin["confidential"].to_dict() == {"ost": "primary", "west": "secondary"}


def test_an_indicator_without_counts_is_not_estimated_and_says_so(town):
    table = crosswalk.grid_values(town, ANONYMOUS, "schulbezirk", "index", "2024")
    assert not table.estimated and "nicht geschätzt" in table.note_de
    assert (table.rows["status"] == "missing").all() and table.rows["value"].isna().all()


@pytest.fixture(scope="module")
def client(town):
    from atlas.web.app import create_app
    return create_app(atlas=town).server.test_client()


def test_the_api_lists_grids_and_answers_a_hidden_indicator_like_a_missing_one(town, client):
    listed = client.get("/api/v1/grids").get_json()
    school = next(g for g in listed["grids"] if g["id"] == "schulbezirk")
    assert school["method_de"] == "geschätzt über Flächenanteile" and school["boundary_set"] == "s1"
    ok = client.get("/api/v1/grids/schulbezirk/values?indicator=quote&period=2024")
    assert ok.status_code == 200
    body = ok.get_json()
    assert body["estimated"] and {r["method"] for r in body["rows"]} == {"geschätzt über Flächenanteile"}
    hidden = client.get("/api/v1/grids/schulbezirk/values?indicator=geheim&period=2024")
    unknown = client.get("/api/v1/grids/schulbezirk/values?indicator=gibtesnicht&period=2024")
    no_grid = client.get("/api/v1/grids/keinraster/values?indicator=quote&period=2024")
    assert hidden.status_code == unknown.status_code == no_grid.status_code == 404
    assert hidden.get_data() == unknown.get_data() == no_grid.get_data()
    csv = client.get("/api/v1/grids/schulbezirk/values?indicator=quote&period=2024&format=csv")
    header = csv.get_data().decode("utf-8-sig").splitlines()[0]
    assert csv.status_code == 200 and "method" in header.split(";")
    assert crosswalk.grid_values(town, STAFF, "schulbezirk", "geheim", "2024") is not None
    shapes = client.get("/api/v1/grids/schulbezirk/areas").get_json()
    assert [f["id"] for f in shapes["features"]] == ["ost", "west"] and shapes["boundary_set"] == "s1"
    assert client.get("/api/v1/grids/keinraster/areas").status_code == 404


def test_a_bad_uploaded_crosswalk_is_refused_naming_row_and_column():
    good = "grid_area;base_area;weight\nwest;A;1\nwest;B;0,25\nost;B;0,75\n"
    assert len(crosswalk.read_crosswalk_csv(good.encode(), {"west", "ost"}, {"A", "B"})) == 3
    bad = "grid_area;base_area;weight\nwest;A;1\nwest;B;0,25\nost;B;0,5\nnord;A;x\n"
    with pytest.raises(crosswalk.CrosswalkError) as err:
        crosswalk.read_crosswalk_csv(bad.encode(), {"west", "ost"}, {"A", "B"})
    problems = err.value.problems
    assert "Zeile 5, Spalte grid_area: 'nord' ist keine Fläche des Rasters" in problems
    assert "Zeile 5, Spalte weight: 'x' ist kein Anteil zwischen 0 und 1" in problems
    assert "Zeilen 3, 4, Spalte weight: die Gewichte von B ergeben 0,75 statt 1 (Toleranz 0,001)" in problems
    english = [p.text("en") for p in problems]  # the same reasons for an English reader
    assert "Row 5, column grid_area: 'nord' is not an area of the grid" in english
    assert "Rows 3, 4, column weight: the weights of B add up to 0.75, not 1 (tolerance 0.001)" in english


def test_only_an_admin_adds_a_grid(town):
    spec = GridUpload("sozialraum", "Sozialraum", "social area", "Sozialräume", "social areas", "area_id", "name")
    with pytest.raises(PermissionError):
        store_grid_frame(town, STAFF, grid_gdf().to_crs("EPSG:4326"), spec)
    assert crosswalk.get_grid(town, "sozialraum") is None


def test_population_weights_split_people_not_ground():
    """B's people all live in its eastern part: B goes wholly to `ost`; D has no points and falls back to area."""
    at = gpd.GeoSeries([shapely.Point(X0 + 1600, Y0 + 500), shapely.Point(X0 + 500, Y0 + 500)], crs=CRS)
    lonlat = at.to_crs("EPSG:4326")
    points = pd.DataFrame({"lon": lonlat.x, "lat": lonlat.y, "count": [10, 5]})
    weights = crosswalk.population_crosswalk(grid_gdf(), base_gdf(), points)
    got = {(r.grid_area, r.base_area): r.weight for r in weights.itertuples()}
    assert got[("ost", "B")] == 1.0 and ("west", "B") not in got
    assert got[("west", "A")] == 1.0
    assert got[("ost", "D")] == pytest.approx(expected_weights()[("ost", "D")], abs=1e-9)


def test_an_uploaded_crosswalk_is_stored_with_its_method(town):
    csv = "grid_area;base_area;weight\nwest;A;1\nwest;C;1\nost;B;1\nwest;D;0,5\nost;D;0,5\n"
    spec = GridUpload("wahlbezirk", "Wahlbezirk", "polling district", "Wahlbezirke", "polling districts",
                      "area_id", "name")
    summary = store_grid_frame(town, ADMIN, grid_gdf().to_crs("EPSG:4326"), spec, crosswalk_csv=csv.encode())
    assert summary["method"] == "upload" and summary["crosswalk_rows"] == 5
    table = crosswalk.grid_values(town, ADMIN, "wahlbezirk", "quote", "2024")
    assert set(table.rows["method"]) == {"geschätzt über hochgeladene Gewichte"}
    west = table.rows.set_index("area_id").loc["west"]
    assert west["numerator"] == pytest.approx(5 + 6 + 0.5 * 9) and west["denominator"] == pytest.approx(10 + 20 + 15)


def test_a_grid_cell_belongs_under_the_lowest_area_whose_whole_ground_its_siblings_share():
    weights = pd.DataFrame({"grid_area": ["g1", "g2", "g3", "g3"], "base_area": ["a", "b", "c", "d"],
                            "weight": [1.0, 1.0, 1.0, 1.0]})
    ancestors = {"a": {"bezirk": "1"}, "b": {"bezirk": "1"}, "c": {"bezirk": "1"}, "d": {"bezirk": "2"}}
    parents = crosswalk.nesting_parents(weights, ancestors, ["bezirk"], "0")
    # g1 and g2 nest in Bezirk 1, but Bezirk 1's c goes to g3, which also holds d of Bezirk 2:
    # Bezirk 1 ≠ g1 + g2, so only the city's equation holds.
    assert parents == {"g1": "top:0", "g2": "top:0", "g3": "top:0"}
    weights.loc[2, "grid_area"] = "g2"
    parents = crosswalk.nesting_parents(weights, ancestors, ["bezirk"], "0")
    assert parents == {"g1": "bezirk:1", "g2": "bezirk:1", "g3": "bezirk:2"}


def test_each_estimate_says_how_much_of_it_rests_on_split_areas(town):
    rows = crosswalk.grid_values(town, ANONYMOUS, "schulbezirk", "quote", "2024").rows.set_index("area_id")
    den = VALUES[("quote", "2024")]
    split = {g: sum(w * den[b][1] for (gg, b), w in expected_weights().items() if gg == g and w < 0.999)
             for g in ("west", "ost")}
    for g in ("west", "ost"):
        assert rows.loc[g, "split_share"] == pytest.approx(split[g] / _estimate("quote", "2024", "denominator")[g],
                                                           rel=1e-3)
    assert rows.loc["ost", "split_share"] == pytest.approx(1.0)  # ost is made of split areas only
    hidden = crosswalk.grid_values(town, ANONYMOUS, "schulbezirk", "kinder", "2023").rows
    assert hidden["split_share"].isna().all()  # withheld cells say nothing, not even this


def test_an_unreadable_or_empty_crosswalk_is_refused_with_a_message():
    for content in (b"", "grid_area;base_area\nwest;A\n".encode()):
        with pytest.raises(crosswalk.CrosswalkError) as err:
            crosswalk.read_crosswalk_csv(content, {"west"}, {"A"})
        assert err.value.problems and all(isinstance(p, str) for p in err.value.problems)


def test_a_grid_file_is_read_checked_and_overlapping_areas_are_refused(town):
    from atlas.ingest.grid_upload import store_uploaded_grid
    from atlas.services.boundaries import BoundaryError
    spec = GridUpload("sozialraum", "Sozialraum", "social area", "Sozialräume", "social areas", "id", "titel")
    frame = grid_gdf().rename(columns={"area_id": "id", "name": "titel"}).set_geometry("geometry")
    overlapping = frame.assign(geometry=[square(0, 0, 1.5, 2), square(1.25, 0, 0.75, 2)])
    with pytest.raises(BoundaryError) as err:
        store_uploaded_grid(town, ADMIN, overlapping.to_json().encode(), "raster.geojson", spec)
    assert err.value.problems == ["west und ost überlappen sich auf 500.000 m²"]
    assert crosswalk.get_grid(town, "sozialraum") is None
    summary = store_uploaded_grid(town, ADMIN, frame.to_json().encode(), "raster.geojson", spec)
    assert summary["areas"] == 2 and summary["method"] == "area" and summary["base_areas"] == 4


def test_a_partner_token_reads_a_grid_only_when_its_scope_names_it(town):
    """A school board granted the grid reads its estimates; a partner granted only a level meets a grid it
    was not given exactly like one that does not exist."""
    from datetime import timedelta

    from atlas.services import partner_access
    from atlas.web.app import create_app
    from tests.conftest import fresh_client

    if town.users.get("schulamt-partner") is None:
        town.users.add("schulamt-partner", "internal", [], "partner-passwort-2026", actor="test")
    expires = town.store.clock.now() + timedelta(days=5)

    def token(levels: str) -> str:
        scope = partner_access.scope_from_names(town, "quote", None, levels)
        return town.tokens.add("schulamt-partner", "Schulamt", actor="test", scope=scope, expires_at=expires).token

    app = create_app(atlas=town)
    granted, other = token("schulbezirk"), token("bezirk")

    def get(tok: str, url: str):
        return fresh_client(app).get(url, headers={"Authorization": f"Bearer {tok}"})

    values = get(granted, "/api/v1/grids/schulbezirk/values?indicator=quote&period=2024")
    assert values.status_code == 200 and values.get_json()["estimated"]
    assert [g["id"] for g in get(granted, "/api/v1/grids").get_json()["grids"]] == ["schulbezirk"]
    assert get(granted, "/api/v1/grids/schulbezirk/areas").status_code == 200
    base = get(granted, "/api/v1/values?indicator=quote&level=block")  # the base level was not granted
    unknown = get(granted, "/api/v1/values?indicator=quote&level=nix")
    assert base.status_code == unknown.status_code != 200
    assert base.get_data().replace(b"block", b"nix") == unknown.get_data()

    assert get(other, "/api/v1/grids").get_json()["grids"] == []
    hidden = get(other, "/api/v1/grids/schulbezirk/values?indicator=quote&period=2024")
    missing = get(other, "/api/v1/grids/keinraster/values?indicator=quote&period=2024")
    assert hidden.status_code == missing.status_code == 404 and hidden.get_data() == missing.get_data()
    assert get(other, "/api/v1/grids/schulbezirk/areas").get_data() == get(other, "/api/v1/grids/x/areas").get_data()
    with pytest.raises(partner_access.ScopeError, match="unknown levels: keinraster"):
        partner_access.scope_from_names(town, "quote", None, "keinraster")


def test_the_explorer_maps_a_grid_like_a_level_with_its_estimates_and_method(town):
    """Level switch → the grid's areas and the same estimates as the API, in map, card and table twin; a
    hidden indicator on the grid answers like an unknown one."""
    from atlas.formatting import format_value
    from atlas.services import choropleth, table_view
    from atlas.web.app import create_app
    from atlas.web.pages import explorer
    from tests.dash_requests import call, find_output

    api = crosswalk.grid_values(town, ANONYMOUS, "schulbezirk", "quote", "2024")
    ind = town.indicator_by_id["quote"]
    expected = {r.area_id: format_value(r.value, r.status, ind.decimals, ind.unit, "de")
                for r in api.rows.itertuples()}
    view = choropleth.map_view(town, ANONYMOUS, "quote", "2024", "quantiles", 3, level="schulbezirk")
    assert dict(zip(view.area_ids, view.hideout["lab"])) == expected and view.area_ids == ["ost", "west"]
    shapes = choropleth.geometry(town, view.set_id, "schulbezirk")
    assert [f["id"] for f in shapes["features"]] == view.area_ids
    table = table_view.map_table(town, ANONYMOUS, "quote", "2024", "schulbezirk")
    assert {r["area_id"]: r["value"] for r in table.rows} == expected and f"2 {api.grid.plural_de}" in table.summary

    options = {o["value"]: o["label"] for o in explorer.level_options(town, ANONYMOUS, "de")}
    assert list(options)[:3] == ["block", "bezirk", "stadt"] and "geschätzt" in options["schulbezirk"]
    state = explorer.resolve_state(town, ANONYMOUS, {"indicator": "quote", "level": "schulbezirk", "area": "west"})
    assert state.level == "schulbezirk" and state.area == "west"

    app = create_app(atlas=town)
    client, key = app.server.test_client(), find_output(app, "ex-geojson", "hideout")
    values = {"ex-indicator.value": "quote", "ex-period.value": state.period_index, "ex-method.value": "quantiles",
              "ex-k.value": 3, "ex-selected.data": "west", "ex-level.value": "schulbezirk",
              "ex-set.data": "s1|block", "ex-lang.data": "de"}
    status, body = call(client, app, key, values)
    response = body["response"]
    assert status == 200 and [f["id"] for f in response["ex-geojson"]["data"]["features"]] == ["ost", "west"]
    assert "level=schulbezirk" in response["ex-query"]["data"]["qs"]
    words = find_output(app, "ex-area", "children")
    text = call(client, app, words, {"ex-query.data": response["ex-query"]["data"], "ex-lang.data": "de"})[1]
    card = json.dumps(text["response"]["ex-area"]["children"], ensure_ascii=False)
    assert expected["west"] in card and "geschätzt über Flächenanteile" in card

    hidden = call(client, app, key, {**values, "ex-indicator.value": "geheim"})[1]["response"]
    unknown = call(client, app, key, {**values, "ex-indicator.value": "gibtesnicht"})[1]["response"]
    assert hidden == unknown and "ex-geojson" in hidden and not hidden["ex-geojson"]["hideout"]
    asked = {**response["ex-query"]["data"], "indicator": "geheim"}  # a view made up by hand: words alike too
    made_up = call(client, app, words, {"ex-query.data": asked, "ex-lang.data": "de"})[1]["response"]
    none = call(client, app, words, {"ex-query.data": {**asked, "indicator": "gibtesnicht"},
                                     "ex-lang.data": "de"})[1]["response"]
    assert made_up == none and "Interne Zahl" not in json.dumps(made_up, ensure_ascii=False)
