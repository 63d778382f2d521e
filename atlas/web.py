"""Builds the Dash app on its Flask server: API routes, pages, callbacks."""
from __future__ import annotations

import logging

import dash
from dash import Dash, dcc, html
from flask import Flask

from atlas.api import api
from atlas.bootstrap import get_atlas
from atlas.config import PROJECT_ROOT
from atlas.i18n import t
from atlas.pages import explorer


def _shell() -> html.Div:
    """Header and page container around the registered pages."""
    atlas = get_atlas()
    city = atlas.store.manifest().get("city", {}).get("name", "")
    return html.Div([
        html.Header([
            html.Div([t("app_title"), html.Small(city)], className="oa-brand"),
            html.Nav([html.A(t("nav_map"), href="/")]),
        ], className="oa-header"),
        dash.page_container,
    ])


def create_app() -> Dash:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    atlas = get_atlas()  # generates the demo city on first start
    server = Flask(__name__)
    server.secret_key = atlas.settings.secret_key
    server.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                         MAX_CONTENT_LENGTH=64 * 1024 * 1024)
    server.register_blueprint(api)
    app = Dash(
        __name__, server=server, use_pages=True, pages_folder="", title="Ortsatlas",
        assets_folder=str(PROJECT_ROOT / "assets"), serve_locally=True, update_title=None,
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    dash.register_page("explorer", path="/", layout=explorer.layout, title="Ortsatlas – Karte")
    app.layout = _shell
    explorer.register_callbacks(app)
    return app
