"""The map page's index HTML carries a picture of the view the app will show, until the app replaces it.

On a throttled tablet Dash needs seconds before it draws anything; the first
paint shows the view at once. It must show exactly what the viewer may see:
a hidden indicator in the URL gets the default view, as the app does.
"""
from __future__ import annotations

import base64
import re

from tests.conftest import fresh_client, login


def first_paint(client, path: str = "/") -> tuple[str, str] | None:
    """(title line, decoded SVG) of the index page's first paint, or None."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'<p class="oa-first-title">(.*?)</p><img class="oa-first-map" alt="[^"]*" '
                      r'src="data:image/svg\+xml;base64,([^"]+)"', page)
    return (re.sub(r"<[^>]+>", "", found.group(1)), base64.b64decode(found.group(2)).decode()) if found else None


def test_the_default_view_is_painted_before_the_app_starts(dash_app):
    title, svg = first_paint(fresh_client(dash_app))
    assert title == "SGB-II-Quote, Q3 2025"
    assert svg.startswith("<svg") and svg.count("<path") == 51  # one per Ortsteil of today's map
    assert len(set(re.findall(r'fill="(#[0-9a-f]{6})"', svg))) == 5  # the five classes


def test_the_picture_follows_the_rights_and_the_url(dash_app):
    anonymous = fresh_client(dash_app)
    title, _ = first_paint(anonymous, "/?indicator=kaufkraft")
    assert title == "SGB-II-Quote, Q3 2025"  # hidden from the public: the default view, as in the app
    assert "Kaufkraft" not in anonymous.get("/?indicator=kaufkraft").get_data(as_text=True)
    title, svg = first_paint(anonymous, "/?indicator=bev_u6&period=2016")
    assert title == "Anteil Kinder unter 6 Jahren, 2016" and svg.count("<path") == 50  # before the 2022 split
    staff = fresh_client(dash_app)
    login(staff, "intern")
    title, _ = first_paint(staff, "/?indicator=kaufkraft&period=2020")
    assert title == "Kaufkraft je Einwohner, 2020 intern"  # marked like the live map
    assert first_paint(anonymous, "/login") is None
