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
    """The shared demo store of this test run (read-only for tests: writers use `scratch_atlas`)."""
    from atlas.config import load_settings
    from atlas.demo import ensure_demo
    from atlas.services.context import Atlas
    context = Atlas(load_settings())
    ensure_demo(context)
    return context


@pytest.fixture()
def dash_app(atlas):
    from atlas.web.app import create_app
    return create_app(atlas=atlas)


@pytest.fixture()
def client(dash_app):
    return dash_app.server.test_client()


DEMO_PASSWORDS = {"oeffentlich": "demo-oeffentlich", "intern": "demo-intern-2026", "jugendamt": "demo-jugendamt",
                  "sozialamt": "demo-sozialamt", "admin": "demo-admin-2026"}
_client_ip = iter(range(1, 10_000))


def fresh_client(app):
    """A test client with its own address, so rate limits of one test never hit another."""
    n = next(_client_ip)
    client = app.server.test_client()
    client.environ_base["REMOTE_ADDR"] = f"10.9.{n // 250}.{n % 250 + 1}"
    return client


def csrf_token(client) -> str:
    import re
    page = client.get("/login").get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, username: str, password: str | None = None):
    password = DEMO_PASSWORDS[username] if password is None else password
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})


@pytest.fixture()
def duo(dash_duo, dash_app):
    """The real app in headless Chromium; fails the test on any browser console error."""
    dash_duo.start_server(dash_app)
    yield dash_duo
    errors = [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"
              and not ("/login" in e["message"] and "401" in e["message"])  # a refused login is a 401 by design
              and not ("/api/v1/uploads" in e["message"] and "422" in e["message"])]  # so is a failed check
    assert errors == [], f"browser console errors: {errors}"


@pytest.fixture()
def scratch_atlas(atlas, tmp_path):
    """A private copy of the demo store with its own context and clock (writes stay here)."""
    import dataclasses
    import shutil

    from atlas.services.context import Atlas
    shutil.copytree(atlas.store.data_dir, tmp_path / "data", ignore=shutil.ignore_patterns("uploads"))
    return Atlas(dataclasses.replace(atlas.settings, data_dir=tmp_path / "data"))


@pytest.fixture()
def scratch_app(scratch_atlas):
    from atlas.web.app import create_app
    return create_app(atlas=scratch_atlas)


@pytest.fixture()
def scratch_duo(dash_duo, scratch_app):
    """Like `duo`, on a private store copy: for browser tests that write."""
    dash_duo.start_server(scratch_app)
    yield dash_duo
    errors = [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"
              and not ("/api/v1/uploads" in e["message"] and "422" in e["message"])]
    assert errors == [], f"browser console errors: {errors}"


def writer(app, username: str):
    """A client signed in as `username`, and its CSRF token for API writes."""
    client = fresh_client(app)
    login(client, username)
    return client, csrf_token(client)
