"""The language is remembered across visits (issue 16): `?lang=` on a page sets the cookie `ortsatlas_lang`,
a page asked for without `?lang=` follows it, `?lang=de` switches back, and callbacks fall back to it."""
from __future__ import annotations

import re

from atlas.i18n import STRINGS
from atlas.web.language import LANG_COOKIE
from tests.conftest import fresh_client


def _page_lang(client, path: str = "/") -> str:
    """The `<html lang>` of the page the client ends on (following a redirect to the remembered language)."""
    page = client.get(path, follow_redirects=True).get_data(as_text=True)
    return re.search(r'<html lang="(\w+)"', page).group(1)


def _cookie(client):
    return client.get_cookie(LANG_COOKIE)


def test_a_chosen_language_is_remembered_and_can_be_switched_back(dash_app):
    client = fresh_client(dash_app)
    assert _page_lang(client) == "de"  # German by default, nothing remembered
    assert _cookie(client) is None
    assert _page_lang(client, "/?lang=en") == "en"
    assert _page_lang(client) == "en"  # the next visit without ?lang=
    assert _page_lang(client, "/profil") == "en"  # any page
    assert _page_lang(client, "/?lang=de") == "de"
    assert _page_lang(client) == "de"


def test_the_cookie_is_a_year_lax_and_httponly(dash_app):
    client = fresh_client(dash_app)
    header = client.get("/?lang=en").headers.get("Set-Cookie", "")
    assert header.startswith(f"{LANG_COOKIE}=en")
    assert "HttpOnly" in header and "SameSite=Lax" in header
    assert re.search(r"Max-Age=(\d+)", header) and int(re.search(r"Max-Age=(\d+)", header).group(1)) >= 365 * 86400


def test_a_bare_address_keeps_its_query_on_the_way_to_english(dash_app):
    client = fresh_client(dash_app)
    client.get("/?lang=en")
    answer = client.get("/profil/0101?indicator=sgb2_quote")
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith("/profil/0101?indicator=sgb2_quote&lang=en")


def test_only_pages_remember_and_follow(dash_app):
    """An API call with ?lang=en does not change the viewer's pages; the API is not redirected."""
    client = fresh_client(dash_app)
    client.get("/api/v1/indicators?lang=en")
    assert _cookie(client) is None
    client.get("/?lang=en")
    assert client.get("/api/v1/indicators").status_code == 200


def test_callbacks_without_a_lang_in_the_referer_use_the_remembered_one(dash_app):
    """The shell (Dash's layout request) when the Referer has no ?lang= (a stripped Referer): the cookie says."""
    client = fresh_client(dash_app)
    client.get("/?lang=en")
    client.environ_base.pop("HTTP_REFERER", None)
    shell = client.get("/_dash-layout").get_data(as_text=True)
    assert STRINGS["nav_map"][1] in shell and STRINGS["login"][1] in shell
    client.get("/?lang=de")
    shell = client.get("/_dash-layout").get_data(as_text=True)
    assert STRINGS["login"][0] in shell
