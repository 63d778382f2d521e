"""Exports, read back with the tool each user has, compared with the store.

German CSV through pandas as an Excel user's file, XLSX through openpyxl,
geodata through pyogrio/geopandas; rights checked on the same requests.
"""
from __future__ import annotations

import codecs
import csv
import io
import sqlite3
import tempfile
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlencode

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pyogrio
import pytest
from PIL import Image

from atlas.classify import classify
from atlas.export import tables as export
from atlas.services import queries
from auth import ANONYMOUS
from tests.conftest import fresh_client, login

SYMBOLS = ["·", "…", "x"]


def get(client, **params):
    return client.get("/api/v1/export?" + urlencode(params, doseq=True))


def expected(atlas, indicator: str, period: str | None, level: str = "ortsteil", viewer=ANONYMOUS) -> pd.DataFrame:
    return queries.value_rows(atlas, viewer, indicator, period, level).set_index("area_id")


def assert_same_values(keys, values, exp: pd.DataFrame) -> None:
    got = pd.Series(list(values), index=list(keys), dtype=float)
    ok = exp[exp["status"] == "ok"]
    assert len(ok) >= min(len(exp), 5)
    np.testing.assert_allclose(got.loc[ok.index].to_numpy(), ok["value"].to_numpy(), rtol=1e-9)
    assert got.loc[exp[exp["status"] != "ok"].index].isna().all()


# ------------------------------------------------------------------ tables
def test_german_csv_opens_like_excel_does(client, atlas):
    raw = get(client, indicator="abgang_ohne", period="2024", format="csv-de").get_data()
    assert raw.startswith(codecs.BOM_UTF8)  # Excel reads UTF-8 only with the BOM
    table, legend = raw.decode("utf-8-sig").split("\r\n\r\n", 1)
    frame = pd.read_csv(io.StringIO(table), sep=";", decimal=",", dtype={"Schlüssel": str, "Übergeordnet": str},
                        na_values=SYMBOLS, keep_default_na=False)
    exp = expected(atlas, "abgang_ohne", "2024")
    assert sorted(frame["Schlüssel"]) == sorted(exp.index) and "0101" in set(frame["Schlüssel"])
    assert_same_values(frame["Schlüssel"], frame["Wert"], exp)
    # Suppressed and missing carry their own symbols, never a 0 or a blank.
    cells = pd.read_csv(io.StringIO(table), sep=";", dtype=str, keep_default_na=False).set_index("Schlüssel")
    suppressed = exp.index[exp["status"] == "suppressed"]
    assert len(suppressed) and (cells.loc[suppressed, "Wert"] == "·").all()
    assert (cells.loc[suppressed, "Status"] == "geheim gehalten").all()
    assert "· = geheim gehalten" in legend and "… = keine Daten" in legend
    assert "dl-de/by-2-0" in legend and "Gebietsstand gs2022" in legend


def test_machine_csv_is_plain_utf8_with_points(client, atlas):
    raw = get(client, indicator="sgb2_quote", period="2024-Q4", format="csv").get_data()
    assert not raw.startswith(codecs.BOM_UTF8)
    frame = pd.read_csv(io.BytesIO(raw), dtype={"area_id": str, "parent_id": str})
    assert list(frame.columns[:3]) == ["area_id", "area_name", "parent_id"]
    exp = expected(atlas, "sgb2_quote", "2024-Q4")
    assert_same_values(frame["area_id"], frame["value"], exp)
    np.testing.assert_allclose(frame.set_index("area_id").loc[exp.index, "numerator"], exp["numerator"])
    assert set(frame["unit"]) == {"%"} and set(frame["licence"]) == {"dl-de/by-2-0"}


def test_aggregated_levels_match_the_api(client, atlas):
    for level, count in (("stadtbezirk", 8), ("stadt", 1)):
        frame = pd.read_csv(io.BytesIO(get(client, indicator="bev_u6", period="2024", level=level,
                                           format="csv").get_data()), dtype={"area_id": str})
        assert len(frame) == count
        assert_same_values(frame["area_id"], frame["value"], expected(atlas, "bev_u6", "2024", level))


def test_xlsx_has_values_and_metadata_and_no_formulas(client, atlas):
    body = get(client, indicator=["abgang_ohne", "bev_gesamt"], period="2024", format="xlsx").get_data()
    wb = openpyxl.load_workbook(io.BytesIO(body))
    assert wb.sheetnames == ["Werte", "Metadaten"]
    ws = wb["Werte"]
    rows = list(ws.iter_rows())
    header = [c.value for c in rows[0]]
    assert header[:3] == ["Schlüssel", "Gebiet", "Übergeordnet"]
    assert all(c.data_type != "f" for row in rows for c in row)
    data = pd.DataFrame([[c.value for c in row] for row in rows[1:]], columns=header)
    assert all(isinstance(k, str) and len(k) == 4 for k in data["Schlüssel"])
    for ind in ("abgang_ohne", "bev_gesamt"):
        part = data[data["Indikator-ID"] == ind]
        exp = expected(atlas, ind, "2024")
        values = [v if isinstance(v, (int, float)) else None for v in part["Wert"]]
        assert_same_values(part["Schlüssel"], values, exp)
    suppressed = data[data["Status"] == "geheim gehalten"]
    assert len(suppressed) and set(suppressed["Wert"]) == {"·"}
    meta = {r[0]: r[1] for r in wb["Metadaten"].iter_rows(values_only=True) if r[0]}
    assert meta["Lizenz"] == "dl-de/by-2-0" and meta["Sichtbarkeit"] == "öffentlich"
    assert meta["Gebietsstand"].startswith("gs2022") and meta["Ebene"] == "Ortsteil"
    assert "Quelle" in meta and "Exportiert am" in meta and meta["·"].startswith("geheim gehalten")
    assert meta["Fachamt"] == atlas.departments["statistik"]["de"]


def test_wide_layout_marks_areas_that_did_not_exist(client, atlas):
    raw = get(client, indicator="bev_u6", period=["2016", "2024"], layout="wide", format="csv").get_data()
    frame = pd.read_csv(io.BytesIO(raw), dtype=str, keep_default_na=False).set_index("area_id")
    assert list(frame.columns[-2:]) == ["bev_u6_2016", "bev_u6_2024"]
    assert frame.loc["0208", "bev_u6_2016"] == "x"  # split off Hafenviertel in 2022
    assert frame.loc["0205", "bev_u6_2024"] == "x"
    exp = expected(atlas, "bev_u6", "2016")
    assert float(frame.loc["0101", "bev_u6_2016"]) == pytest.approx(exp.loc["0101", "value"])


def test_text_that_a_spreadsheet_would_run_is_neutralised(client, atlas):
    req = export.ExportRequest(("bev_u6",), ("2024",), fmt="csv")
    data = export.collect(atlas, ANONYMOUS, req)
    hostile = ['=HYPERLINK("http://evil.example","klick")', "+49 123", "-1+2", "@SUM(A1)", "\tcmd"]
    data.rows["name"] = hostile + data.rows["name"].tolist()[len(hostile):]
    for fmt in ("csv", "csv-de", "xlsx"):
        data = replace(data, request=replace(req, fmt=fmt))
        body = b"".join(export.render(atlas, data).chunks)
        if fmt == "xlsx":
            cells = [c for row in openpyxl.load_workbook(io.BytesIO(body)).worksheets[0].iter_rows() for c in row]
            assert all(c.data_type != "f" for c in cells)
            names = [c.value for c in cells if isinstance(c.value, str)]
        else:
            names = [cell for row in csv.reader(io.StringIO(body.decode("utf-8-sig")),
                                                delimiter=";" if fmt == "csv-de" else ",") for cell in row]
        for text in hostile:
            assert "'" + text in names, (fmt, text)
            assert text not in names, (fmt, text)


# ------------------------------------------------------------------ geodata
def read_geo(body: bytes, fmt: str, tmp_path: Path) -> tuple[gpd.GeoDataFrame, Path]:
    if fmt == "shp":
        with zipfile.ZipFile(io.BytesIO(body)) as z:
            z.extractall(tmp_path)
        return gpd.read_file(next(tmp_path.glob("*.shp")), engine="pyogrio"), tmp_path
    path = tmp_path / f"export.{fmt}"
    path.write_bytes(body)
    layer = next(name for name, geom in pyogrio.list_layers(path) if geom)  # a GeoPackage also holds tables
    return gpd.read_file(path, layer=layer, engine="pyogrio"), path


@pytest.mark.parametrize("fmt,crs", [("gpkg", 25832), ("fgb", 25832), ("shp", 25832), ("geojson", 4326)])
def test_geodata_read_back_with_values_and_crs(client, atlas, tmp_path, fmt, crs):
    resp = get(client, indicator="abgang_ohne", period="2024", format=fmt)
    assert resp.status_code == 200, resp.get_data()[:200]
    gdf, _ = read_geo(resp.get_data(), fmt, tmp_path)
    assert gdf.crs.to_epsg() == crs
    assert gdf["area_id"].map(type).eq(str).all() and "0101" in set(gdf["area_id"])
    exp = expected(atlas, "abgang_ohne", "2024")
    assert len(gdf) == len(exp) == 51
    assert_same_values(gdf["area_id"], gdf["value"], exp)
    assert set(gdf.loc[gdf["area_id"].isin(exp.index[exp["status"] == "suppressed"]), "status"]) == {"suppressed"}
    # Geometry is the area's own: the stored centroid falls inside the exported polygon.
    areas = queries.areas(atlas, "ortsteil", "gs2022").set_index("area_id")
    back = gdf.to_crs(4326).set_index("area_id")
    import shapely
    centroid = shapely.from_wkb(areas.loc["0101", "geometry"]).representative_point()
    assert back.loc["0101", "geometry"].buffer(1e-6).contains(centroid)


def test_geopackage_in_wgs84_on_request_and_geojson_refuses_other_crs(client, tmp_path):
    gdf, _ = read_geo(get(client, indicator="bev_u6", period="2024", format="gpkg", crs="EPSG:4326").get_data(),
                      "gpkg", tmp_path)
    assert gdf.crs.to_epsg() == 4326
    refused = get(client, indicator="bev_u6", period="2024", format="geojson", crs="EPSG:25832")
    assert refused.status_code == 400 and "4326" in refused.get_json()["message"]
    assert get(client, indicator="bev_u6", format="gpkg", crs="EPSG:999999").status_code == 400


def test_geojson_is_rfc7946_with_metadata(client):
    body = get(client, indicator="bev_u6", period="2024", format="geojson").get_json(force=True)
    assert "crs" not in body  # RFC 7946: WGS84 implied, no crs member
    lon, lat = np.asarray(body["features"][0]["geometry"]["coordinates"][0]).reshape(-1, 2)[0]
    assert 5 < lon < 16 and 47 < lat < 56
    assert body["metadata"]["Lizenz"] == "dl-de/by-2-0"
    assert body["features"][0]["properties"]["source"]


def test_boundary_versions_are_respected(client, tmp_path):
    old, _ = read_geo(get(client, indicator="bev_u6", period="2016", format="gpkg").get_data(), "gpkg", tmp_path)
    new_path = tmp_path / "new"
    new_path.mkdir()
    new, _ = read_geo(get(client, indicator="bev_u6", period="2024", format="gpkg").get_data(), "gpkg", new_path)
    assert len(old) == 50 and "0205" in set(old["area_id"]) and "0208" not in set(old["area_id"])
    assert len(new) == 51 and {"0208", "0209"} <= set(new["area_id"]) and "0205" not in set(new["area_id"])
    assert set(old["boundary_set"]) == {"gs2012"} and set(new["boundary_set"]) == {"gs2022"}
    # Wide geodata need one geometry per area: periods of two boundary sets are refused with a reason.
    mixed = get(client, indicator="bev_u6", period=["2016", "2024"], layout="wide", format="gpkg")
    assert mixed.status_code == 400 and "Gebietsst" in mixed.get_json()["message"]


def test_geopackage_carries_a_qgis_style_and_metadata(client, atlas, tmp_path):
    body = get(client, indicator="sgb2_quote", period="2024-Q4", format="gpkg", method="equal_interval",
               k=4).get_data()
    gdf, path = read_geo(body, "gpkg", tmp_path)
    layers = dict(pyogrio.list_layers(path))
    assert {"layer_styles", "ortsatlas_metadata"} <= set(layers)
    data_layer = next(name for name, geom in layers.items() if geom)
    with sqlite3.connect(path) as con:
        table, qml, default = con.execute("SELECT f_table_name, styleQML, useAsDefault FROM layer_styles").fetchone()
    assert table == data_layer and default == 1
    rules = ET.fromstring(qml.split("\n", 1)[1]).findall(".//rule")
    c = classify(gdf["value"].tolist(), gdf["status"].tolist(), "equal_interval", 4, "high_bad")
    assert len(rules) == c.k + 2  # classes, then missing and suppressed
    assert "suppressed" in rules[-1].get("filter") and "missing" in rules[-2].get("filter")
    colours = [ET.fromstring(qml.split("\n", 1)[1]).find(f".//symbol[@name='{i}']//Option[@name='color']").get("value")
               for i in range(c.k)]
    assert colours == [",".join(str(int(h[i:i + 2], 16)) for i in (1, 3, 5)) + ",255" for h in c.colors]
    meta = pyogrio.read_dataframe(path, layer="ortsatlas_metadata")
    assert "dl-de/by-2-0" in set(meta["value"])


def test_exports_keep_the_machine_readable_minus(client, atlas):
    """Screens write −9,2 (U+2212, atlas.formatting); files meant for programs keep '-': CSV values, and the
    GIS style's class labels (a GIS user copies them into filters)."""
    from atlas.formatting import MINUS
    body = get(client, indicator="wanderung_saldo", format="csv-de").get_data().decode("utf-8-sig")
    assert MINUS not in body and ";-" in body  # negative net migration somewhere in the demo city
    ind = atlas.indicator_by_id["wanderung_saldo"]
    gdf = gpd.GeoDataFrame({"value": [-12.5, -3.0, 0.5, 4.0, 9.5], "status": ["ok"] * 5})
    labels = [r["label"] for r in export.style_classes(gdf, {"value": "value", "status": "status"}, ind,
                                                         "equal_interval", 4)]
    assert any(label.startswith("-1") for label in labels) and not any(MINUS in label for label in labels)


def test_shapefile_has_short_fields_a_field_map_and_a_style(client, tmp_path):
    gdf, folder = read_geo(get(client, indicator="bev_u6", period="2024", format="shp").get_data(), "shp", tmp_path)
    assert all(len(c) <= 10 for c in gdf.columns)
    fields = dict(csv.reader((folder / "felder_fields.csv").open(encoding="utf-8")))
    assert fields["denominator"] == "denominatr" and fields["boundary_set"] == "bound_set"
    shp = next(folder.glob("*.shp"))
    assert shp.with_suffix(".qml").exists() and shp.with_suffix(".cpg").exists()
    assert "Lizenz: dl-de/by-2-0" in (folder / "metadaten.txt").read_text(encoding="utf-8")


# ------------------------------------------------------------------ rights
def indicator_ids_in(client, **params) -> set[str]:
    frame = pd.read_csv(io.BytesIO(get(client, format="csv", **params).get_data()))
    return set(frame["indicator_id"])


def test_the_same_request_gives_each_viewer_exactly_their_subset(dash_app, atlas):
    anonymous, staff = fresh_client(dash_app), fresh_client(dash_app)
    login(staff, "intern")
    public = {i.id for i in atlas.indicators if i.visibility == "public"}
    internal = {i.id for i in atlas.indicators if i.visibility == "internal"}
    periods = ["2024", "2024-Q4"]  # yearly and quarterly indicators
    assert indicator_ids_in(anonymous, indicator="all", period=periods) == public
    seen_by_staff = indicator_ids_in(staff, indicator="all", period=periods)
    assert internal & seen_by_staff and public & seen_by_staff
    assert "hze_quote" not in seen_by_staff  # restricted to the youth office


@pytest.mark.parametrize("fmt", export.FORMATS)
def test_a_hidden_indicator_is_in_no_export(dash_app, fmt):
    staff = fresh_client(dash_app)
    login(staff, "intern")
    for client, hidden in ((fresh_client(dash_app), "kaufkraft"), (staff, "hze_quote")):
        for indicators in ([hidden], ["bev_u6", hidden]):
            resp = get(client, indicator=indicators, period="2024", format=fmt)
            ghost = get(client, indicator=[i if i != hidden else "zz_ghost" for i in indicators], period="2024",
                        format=fmt)
            assert resp.status_code == ghost.status_code == 404
            assert resp.get_data() == ghost.get_data()


def test_the_youth_office_exports_its_restricted_indicator(dash_app):
    steward = fresh_client(dash_app)
    login(steward, "jugendamt")
    assert "hze_quote" in indicator_ids_in(steward, indicator="hze_quote", period="2024")


def test_unreleased_periods_are_in_no_export(dash_app):
    anonymous, steward = fresh_client(dash_app), fresh_client(dash_app)
    login(steward, "sozialamt")
    assert get(anonymous, indicator="sgb2_quote", period="2025-Q4", format="csv").status_code == 404
    whole = pd.read_csv(io.BytesIO(get(anonymous, indicator="sgb2_quote", format="csv").get_data()))
    assert "2025-Q4" not in set(whole["period"])
    own = pd.read_csv(io.BytesIO(get(steward, indicator="sgb2_quote", format="csv").get_data()))
    assert "2025-Q4" in set(own["period"])  # the owning steward sees the draft


# ------------------------------------------------------------------ delivery
def test_files_stream_and_leave_no_temporary_files(client, atlas):
    """Files are built in the atlas' own tmp_dir (never the shared /tmp) and removed once sent or abandoned."""
    scratch = atlas.settings.tmp_dir
    assert scratch == atlas.settings.data_dir / "tmp" != Path(tempfile.gettempdir())  # a folder of its own

    def leftovers() -> list[Path]:
        return sorted(scratch.iterdir()) if scratch.exists() else []

    before = leftovers()
    resp = get(client, indicator="sgb2_quote", format="csv")
    assert resp.is_streamed and resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["Cache-Control"] == "private, no-store"
    url = "/api/v1/export?indicator=sgb2_quote&format=xlsx"  # ~220 kB: several chunks
    big = client.get(url, buffered=False)
    assert len(leftovers()) == len(before) + 1  # built there, waiting to be sent
    assert int(big.headers["Content-Length"]) == len(big.get_data()) > 100_000
    big.close()
    assert leftovers() == before
    client.get(url, buffered=False).close()  # the client went away before reading a byte
    assert leftovers() == before


@pytest.mark.parametrize("params,code", [
    ({}, "missing_indicator"), ({"indicator": "bev_u6", "format": "docx"}, "bad_format"),
    ({"indicator": "bev_u6", "level": "land"}, "bad_level"), ({"indicator": "bev_u6", "period": "24"}, "bad_period"),
    ({"indicator": "bev_u6", "layout": "diagonal"}, "bad_layout"),
])
def test_bad_requests_say_what_is_expected(client, params, code):
    resp = get(client, **params)
    assert resp.status_code == 400 and resp.get_json()["error"] == code


# ------------------------------------------------------------------ pictures
def test_map_picture_has_title_legend_scale_and_source(client):
    svg = client.get("/api/v1/map?indicator=abgang_ohne&period=2024&format=svg").get_data(as_text=True)
    for text in ("Schulabgänge ohne Abschluss, 2024", "geheim gehalten", "km", "Quelle", "dl-de/by-2-0", "Gebietsstand 2022"):
        assert text in svg, text
    png = client.get("/api/v1/map?indicator=abgang_ohne&period=2024&format=png")
    image = Image.open(io.BytesIO(png.get_data()))
    assert image.size[0] > image.size[1] > 1000  # A4 landscape at print resolution
    assert client.get("/api/v1/map?indicator=bev_u6&format=pdf").get_data().startswith(b"%PDF")


def test_chart_picture_and_hidden_pictures(client):
    svg = client.get("/api/v1/chart?indicator=sgb2_quote&area=0101&format=svg").get_data(as_text=True)
    assert "Altstadt" in svg and "Auenstadt" in svg
    for route in ("/api/v1/map?indicator={}&format=png", "/api/v1/chart?indicator={}&area=0101&format=png"):
        hidden, ghost = client.get(route.format("kaufkraft")), client.get(route.format("zz_ghost"))
        assert hidden.status_code == ghost.status_code == 404 and hidden.get_data() == ghost.get_data()


def test_print_view_is_a4_landscape_and_falls_back_to_public(client):
    page = client.get("/print?indicator=bev_u6&period=2024&area=0101").get_data(as_text=True)
    assert "size: A4 landscape" in page and "/api/v1/map?indicator=bev_u6&amp;period=2024" in page
    assert "/api/v1/chart?indicator=bev_u6&amp;area=0101" in page and "Altstadt" in page
    shared = client.get("/print?indicator=kaufkraft").get_data(as_text=True)
    assert "Kaufkraft" not in shared and "nicht verfügbar" in shared
