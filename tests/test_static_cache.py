"""Static files are cached by what their URL says: a URL that names its content is kept for a year.

A tablet on a slow connection should load the explorer's scripts once, not on
every visit; but nothing whose content can change under the same URL (pages,
callbacks, API answers, Dash's unhashed async chunks) may be kept unasked.
"""
from __future__ import annotations

import re

from atlas.web.hardening import LONG_LIVED, REVALIDATE


def test_fingerprinted_scripts_and_stamped_assets_are_kept_for_a_year(client):
    page = client.get("/").get_data(as_text=True)
    suites = re.findall(r'src="(/_dash-component-suites/[^"]+)"', page)
    assets = re.findall(r'(?:src|href)="(/assets/[^"]+\?m=[^"]+)"', page)
    assert suites and assets
    for url in suites + assets:
        resp = client.get(url)
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == LONG_LIVED, url


def test_everything_else_is_revalidated_or_not_kept(client):
    assert client.get("/_dash-component-suites/dash/dcc/async-graph.js").headers["Cache-Control"] == REVALIDATE
    assert client.get("/assets/style.css").headers["Cache-Control"] == REVALIDATE
    for url in ("/", "/api/v1/points?layer=kita", "/_dash-layout"):
        assert "immutable" not in client.get(url).headers.get("Cache-Control", ""), url
