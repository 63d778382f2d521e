"""Test set-up: an isolated data directory with the demo city, headless Chromium.

The data directory is created before anything imports the atlas, so no test
ever touches the developer's own data/.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

os.environ["ATLAS_DATA_DIR"] = tempfile.mkdtemp(prefix="ortsatlas-test-")
os.environ.pop("ATLAS_BASEMAP_URL", None)  # no network: never a tile server in tests

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def pytest_setup_options():
    """Chromium flags for a sandboxed CI box with no network (dash[testing] hook)."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--window-size=1280,900"):
        options.add_argument(arg)
    if Path("/usr/bin/chromium").exists():
        options.binary_location = "/usr/bin/chromium"
    return options


@pytest.fixture(scope="session")
def atlas():
    from atlas.bootstrap import get_atlas
    return get_atlas()


@pytest.fixture()
def dash_app(atlas):
    from atlas.web import create_app
    return create_app()


@pytest.fixture()
def client(dash_app):
    return dash_app.server.test_client()
