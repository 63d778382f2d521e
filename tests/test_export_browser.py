"""The export panel in headless Chromium: links follow the view, files arrive, the share link reproduces it."""
from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import geopandas as gpd
import requests

from tests.test_explorer_browser import choose_indicator, coloured_map, until


def href(duo, element_id: str) -> str:
    return duo.find_element(f"#{element_id}").get_attribute("href") or ""


def test_export_links_follow_the_view_and_download_real_files(duo):
    duo.driver.get(f"{duo.server_url}/?indicator=bev_u6&period=2016")
    coloured_map(duo, 50)
    duo.find_element("#ex-export summary").click()
    link = until(lambda: "indicator=bev_u6" in href(duo, "ex-exp-link") and href(duo, "ex-exp-link"),
                 message="export link for bev_u6")
    params = parse_qs(urlparse(link).query)
    assert params["period"] == ["2016"] and params["format"] == ["csv-de"]
    csv_de = requests.get(link, timeout=30)
    assert csv_de.status_code == 200 and csv_de.content.startswith(b"\xef\xbb\xbf")

    duo.find_element("#ex-exp-format").click()
    option = until(lambda: next(o for o in duo.find_elements(".dash-dropdown-option") if "GeoPackage" in o.text),
                   message="GeoPackage option")
    option.click()
    link = until(lambda: "format=gpkg" in href(duo, "ex-exp-link") and href(duo, "ex-exp-link"),
                 message="GeoPackage link")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "export.gpkg"
        path.write_bytes(requests.get(link, timeout=30).content)
        gdf = gpd.read_file(path, layer="bev_u6_2016_ortsteil", engine="pyogrio")
    assert len(gdf) == 50 and gdf.crs.to_epsg() == 25832  # the 2016 boundaries, official CRS

    choose_indicator(duo, "SGB-II-Quote")
    until(lambda: "indicator=sgb2_quote" in href(duo, "ex-exp-link"), message="link follows the indicator")
    picture = requests.get(href(duo, "ex-map-png"), timeout=60)
    assert picture.status_code == 200 and picture.content.startswith(b"\x89PNG")
    assert "/print?indicator=sgb2_quote" in href(duo, "ex-print")
    shared = until(lambda: duo.find_element("#ex-share-url").get_attribute("value"), message="share link")
    assert shared == duo.driver.current_url and "indicator=sgb2_quote" in shared
    duo.driver.save_screenshot(str(Path(tempfile.gettempdir()) / "ortsatlas-export-panel.png"))
    duo.find_element("#ex-share-copy").click()
    until(lambda: duo.find_element("#ex-share-status").text == "Kopiert.", message="copy confirmation")


def test_print_view_renders_the_map_picture(duo):
    duo.driver.get(f"{duo.server_url}/print?indicator=bev_u6&period=2024")
    image = until(lambda: duo.driver.execute_script(
        "const i = document.querySelector('main img'); return i && i.complete && i.naturalWidth"),
        timeout=30, message="map picture loaded")
    assert image > 500
    assert duo.driver.find_element("css selector", "h1").text == "Anteil Kinder unter 6 Jahren, 2024"
    duo.driver.save_screenshot(str(Path(tempfile.gettempdir()) / "ortsatlas-print.png"))
