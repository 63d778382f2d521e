"""Ortsatlas entry point: `python app.py` serves the atlas; `gunicorn app:server` too.

The data directory comes from ATLAS_DATA_DIR (default data/); an empty one is
filled with the demo city on first start.
"""
from atlas.config import load_settings
from atlas.web.app import create_app
from atlas.web.hardening import QuietRequestHandler

settings = load_settings()
app = create_app(settings)
server = app.server

if __name__ == "__main__":
    app.run(host=settings.host, port=settings.port, debug=settings.debug, request_handler=QuietRequestHandler)
