"""Builds the Dash app on its Flask server: API routes, pages, callbacks."""
from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlencode, urlsplit

import dash
from dash import Dash, dcc, html
from flask import Flask, request
from flask_wtf.csrf import generate_csrf

from atlas.config import PROJECT_ROOT, Settings, load_settings
from atlas.demo import ensure_demo
from atlas.i18n import norm_lang, t
from atlas.services.context import Atlas
from atlas.web.api import api
from atlas.web.components import page_title, viewer_lang
from atlas.web.downloads import downloads
from atlas.web.grids_api import grids_api
from atlas.web.hardening import harden
from atlas.web.http import EXTENSION, current_atlas, error_response
from atlas.web.language import remember_language
from atlas.web.openapi import openapi
from atlas.web.pages import admin, explorer, legal, releases, upload
from atlas.web.pages import compare as compare_page
from atlas.web.pages import indices as indices_page
from atlas.web.pages import planning as planning_page
from atlas.web.pages import profile as profile_page
from atlas.web.pages import targets as targets_page
from atlas.web.pages.print_view import print_view
from atlas.web.request_log import configure_logging, install_request_log
from atlas.web.tiles_route import tiles_bp
from atlas.web.workflow_api import workflow
from auth import current_principal
from auth.login import init_auth
from auth.permissions import (
    may_administer,
    may_build_index,
    may_release_publicly,
    may_upload,
)


def lang_href(path: str, lang: str) -> str:
    """A link to `path` that keeps the viewer's language (German needs no parameter)."""
    return f"{path}?{urlencode({'lang': lang})}" if lang != "de" else path


def _account_controls(lang: str) -> list:
    """Sign-in link, or who is signed in with a logout form (POST + CSRF token)."""
    viewer = current_principal()
    if not viewer.logged_in:
        return [html.A(t("login", lang), href=lang_href("/login", lang), id="oa-login-link")]
    items = [html.Span([viewer.name, html.Span(f" ({t('role_' + viewer.role, lang)})", className="oa-user-role")],
                       id="oa-user", className="oa-user")]
    if may_upload(viewer):
        items.append(html.A(t("nav_upload", lang), href=lang_href("/upload", lang), id="oa-upload-link"))
    if may_build_index(viewer):
        items.append(html.A(t("nav_indices", lang), href=lang_href("/indizes", lang), id="oa-indices-link"))
    if may_release_publicly(viewer):
        items.append(html.A(t("nav_releases", lang), href=lang_href("/freigaben", lang), id="oa-releases-link"))
    if may_administer(viewer):
        items.append(html.A(t("nav_admin", lang), href=lang_href("/admin", lang), id="oa-admin-link"))
    items.append(html.Form([
        dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
        html.Button(t("logout", lang), type="submit", id="oa-logout"),
    ], action="/logout", method="POST", className="oa-logout-form"))
    return items


def _language_switch(lang: str) -> html.A:
    """The other language, on every page: the same page (path and query of the page that asked, never another
    host) with `lang` switched; assets/header.js takes the address as it is when clicked (views keep their
    state in the URL). The link is in the language it names (WCAG 3.1.2)."""
    other = "en" if lang == "de" else "de"
    page = urlsplit(request.referrer or "") if request.path.startswith("/_dash") else urlsplit(request.full_path)
    query = [(k, v) for k, v in parse_qsl(page.query) if k != "lang"] + [("lang", other)]  # de too: remembered
    path = page.path if page.path.startswith("/") and not page.path.startswith("//") else "/"
    return html.A(t("language", lang), href=path + (f"?{urlencode(query)}" if query else ""), id="oa-lang-switch",
                  className="oa-lang-switch", lang=other, hrefLang=other)


def _skip_links(lang: str) -> html.Nav:
    """Skip links, the first stops of the Tab order (WCAG 2.4.1): to the content on every page, and on the
    map page to the map, its table and its controls (assets/a11y.css hides a link whose target is absent)."""
    targets = [("oa-main", "skip_main"), ("ex-map", "skip_map"), ("ex-table", "skip_table"),
               ("ex-controls", "skip_controls")]
    return html.Nav([html.A(t(key, lang), href=f"#{target}", className=f"oa-skip oa-skip-to-{target}")
                     for target, key in targets], className="oa-skip-links", **{"aria-label": t("skip_nav", lang)})


def _footer(lang: str) -> html.Footer:
    """Accessibility statement, imprint and privacy notice: linked from every page, as the law requires."""
    return html.Footer(html.Nav([html.A(t(key, lang), href=lang_href(path, lang), id=f"oa-footer-{key}")
                                 for path, key in legal.LINKS],
                                **{"aria-label": t("legal_nav", lang)}), className="oa-footer", id="oa-footer")


def _shell() -> html.Div:
    """Skip links, header, the page as the main landmark, and the footer around the registered pages."""
    atlas = current_atlas()
    lang = viewer_lang()
    city = atlas.store.manifest().get("city", {}).get("name", "")
    return html.Div([
        _skip_links(lang),
        html.Header([
            html.Div([t("app_title", lang), html.Small(city)], className="oa-brand"),
            _language_switch(lang),
            # phones and tablets: the nav is a drawer behind this button (assets/header.js opens and closes it)
            html.Button([html.Span("☰", **{"aria-hidden": "true"}), " ", t("menu", lang)], type="button",
                        id="oa-menu-toggle", className="oa-menu-toggle",
                        **{"aria-expanded": "false", "aria-controls": "oa-nav"}),
            html.Nav([html.A(t("nav_map", lang), href=lang_href("/", lang)),
                      html.A(t("nav_profiles", lang), href=lang_href("/profil", lang), id="oa-profiles-link"),
                      html.A(t("nav_compare", lang), href=lang_href("/vergleich", lang), id="oa-compare-link"),
                      html.A(t("nav_targets", lang), href=lang_href("/ziele", lang), id="oa-targets-link"),
                      html.A(t("nav_planning", lang), href=lang_href("/planung", lang), id="oa-planning-link")]
                     + _account_controls(lang), id="oa-nav", className="oa-nav",
                     **{"aria-label": t("main_nav", lang)}),
        ], className="oa-header"),
        html.Main(dash.page_container, id="oa-main", tabIndex="-1"),
        _footer(lang),
    ])


def _explorer_layout(**args) -> html.Div:
    """The map page under its one h1 (visually hidden: the map says what it shows in its own title)."""
    lang = norm_lang(args.get("lang"))
    return html.Div([html.H1(t("map_heading", lang), className="oa-visually-hidden"), explorer.layout(**args)],
                    className="oa-explorer-page")


def _html_lang(app: Dash) -> None:
    """`<html lang>` in the viewer's language (WCAG 3.1.1): Dash's index page has no lang attribute."""
    plain_index = app.interpolate_index

    def interpolate_index(**parts: str) -> str:
        return plain_index(**parts).replace("<html>", f'<html lang="{viewer_lang()}">', 1)

    app.interpolate_index = interpolate_index


def create_app(settings: Settings | None = None, atlas: Atlas | None = None) -> Dash:
    """The app over one context: `atlas` if given, else one opened for `settings` (default: the environment).

    An empty data directory gets the demo city first.
    """
    logging.getLogger("dash.dash").propagate = False  # Dash prints its start-up line itself: say it once
    atlas = atlas or Atlas(settings or load_settings())
    configure_logging(atlas.settings.log_format)  # before the demo is generated: its lines in the same format
    ensure_demo(atlas)
    server = Flask(__name__)
    server.extensions[EXTENSION] = atlas
    server.secret_key = atlas.settings.secret_key
    # Uploads beyond the limit are refused before they are read (413), with a little room for the form.
    server.config.update(MAX_CONTENT_LENGTH=(atlas.settings.upload_max_mb + 1) * 1024 * 1024)
    init_auth(server, atlas)
    server.register_blueprint(api)
    server.register_blueprint(downloads)
    server.register_blueprint(grids_api)
    server.register_blueprint(workflow)
    server.register_blueprint(openapi)
    server.register_blueprint(print_view)
    server.register_blueprint(tiles_bp)  # the map's vector tiles (big levels, issue 19)
    app = Dash(
        __name__, server=server, use_pages=True, pages_folder="", title="Ortsatlas",
        enable_mcp=False,  # never expose callbacks and layouts to machine clients without the rights checks
        # Several pages: each page's callbacks target ids that exist only on that page.
        suppress_callback_exceptions=True,
        assets_folder=str(PROJECT_ROOT / "assets"), serve_locally=True, update_title=None,
        # Served, but not put on every page: the vector-tile renderer loads only when a map uses tiles.
        assets_path_ignore=["^vendor$"],
        compress=True,  # tablets on town-hall Wi-Fi: ~6 MB of scripts shrink to under 2 MB
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    dash.register_page("explorer", path="/", layout=_explorer_layout, title=page_title("nav_map"))
    dash.register_page("admin", path="/admin", layout=admin.layout, title=page_title("nav_admin"))
    dash.register_page("upload", path="/upload", layout=upload.layout, title=page_title("nav_upload"))
    dash.register_page("releases", path="/freigaben", layout=releases.layout, title=page_title("nav_releases"))
    dash.register_page("profile_index", path="/profil", layout=profile_page.index_layout,
                       title=page_title("nav_profiles"))
    dash.register_page("profile", path_template="/profil/<area>", layout=profile_page.layout,
                       title=page_title("prof_title"))
    dash.register_page("compare", path="/vergleich", layout=compare_page.layout, title=page_title("nav_compare"))
    dash.register_page("indices", path="/indizes", layout=indices_page.layout, title=page_title("ix_title"))
    dash.register_page("planning", path="/planung", layout=planning_page.layout, title=page_title("nav_planning"))
    dash.register_page("targets", path="/ziele", layout=targets_page.layout, title=page_title("nav_targets"))
    legal.register_pages()
    app.layout = _shell
    explorer.register_callbacks(app)
    admin.register_callbacks(app)
    upload.register_callbacks(app)
    profile_page.register_callbacks(app)
    releases.register_callbacks(app)
    compare_page.register_callbacks(app)
    indices_page.register_callbacks(app)
    planning_page.register_callbacks(app)

    @server.errorhandler(413)
    def _too_large(_exc):
        limit = atlas.settings.upload_max_mb
        return error_response(413, "too_large", f"Die Datei ist größer als {limit} MB / the file exceeds {limit} MB")
    harden(app, atlas.settings.basemap_url)  # security headers on every answer; no versions in the page
    _html_lang(app)
    remember_language(server)  # ?lang= remembered in a cookie; bare page addresses follow it
    install_request_log(server, atlas.settings.behind_proxy)  # one line per request (id, user, status, ms)
    return app
