"""Ortsatlas entry point: `python app.py` serves the atlas; `gunicorn app:server` too.

The data directory comes from ATLAS_DATA_DIR (default data/); an empty one is
filled with the demo city on first start.
"""
import gc

from atlas.config import load_settings
from atlas.web.app import create_app
from atlas.web.hardening import QuietRequestHandler

settings = load_settings()
app = create_app(settings)
server = app.server
# Everything built so far (modules, the catalogue, Dash's layout machinery: ~155,000 objects) lives as
# long as the process. Frozen, the collector stops re-walking it: a full collection cost a worker
# 80–130 ms every dozen area profiles, which set the profile page's p95 (bench/README.md).
gc.freeze()

if __name__ == "__main__":
    app.run(host=settings.host, port=settings.port, debug=settings.debug, request_handler=QuietRequestHandler)
