"""The viewer's language, remembered across visits (issue 16): one cookie, set and read here only.

The language lives in the page's address (`?lang=en`): pages, their links, the
layout and every callback (through the Referer) read it from there. A visit
without `?lang=` used to be German whatever the viewer chose last time; now an
explicit `?lang=` on a page is remembered in the cookie `ortsatlas_lang`, and
a page asked for without `?lang=` is sent on to the address in the remembered
language (so every part of the page, which reads the address, agrees), and
`viewer_lang()` falls back to the cookie where neither the address nor the
Referer says. `?lang=de` switches back (German is the default and needs no
redirect).

The cookie holds no secret; it is HttpOnly anyway since no script reads it
(assets/header.js reads the address), SameSite=Lax and Secure like the session
cookie.
"""
from __future__ import annotations

from urllib.parse import urlencode

from flask import Flask, Response, current_app, redirect, request

from atlas.i18n import LANGS

LANG_COOKIE = "ortsatlas_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600  # a year
# The routes that answer a page (Dash's index for every page path, the print view, the sign-in form).
PAGE_ENDPOINTS = {"/", "/<path:path>"}
PAGE_PATHS = {"/print", "/login"}


def remembered_lang() -> str | None:
    """The language the viewer chose last (the cookie), or None."""
    value = request.cookies.get(LANG_COOKIE)
    return value if value in LANGS else None


def _is_page_request() -> bool:
    return request.method == "GET" and (request.endpoint in PAGE_ENDPOINTS or request.path in PAGE_PATHS)


def _to_remembered_language() -> Response | None:
    """A page asked for without `?lang=` while English is remembered: the same address with `lang=en`."""
    if not _is_page_request() or "lang" in request.args or remembered_lang() != "en":
        return None
    query = list(request.args.items(multi=True)) + [("lang", "en")]
    return redirect(f"{request.path}?{urlencode(query)}", 302)


def _remember(response: Response) -> Response:
    """Remember an explicit `?lang=` of a page in the cookie (only when it changes the remembered one)."""
    chosen = request.args.get("lang")
    if _is_page_request() and chosen in LANGS and chosen != remembered_lang():
        response.set_cookie(LANG_COOKIE, chosen, max_age=LANG_COOKIE_AGE, path="/", httponly=True,
                            samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))
    return response


def remember_language(server: Flask) -> None:
    """Install the two hooks on `server`: send bare page addresses to the remembered language, remember a choice."""
    server.before_request(_to_remembered_language)
    server.after_request(_remember)
