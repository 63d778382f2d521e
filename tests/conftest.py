"""Test set-up: an isolated data directory with the demo city, headless Chromium.

One folder per test run holds the demo store (`data/`) and everything else
that would land in the system /tmp (`tmp/`: pytest's tmp_path, Chromium
profiles, screenshots, temporary files of the code under test): TMPDIR points
there. It is created before anything imports the atlas, so no test ever
touches the developer's own data/, and removed when the run ends, so a run
leaves nothing in /tmp.

Markers, set here from what a test uses (see pytest.ini): `browser` (a
Chromium fixture), `realdata` (reads ../shared/realdata), `slow` (the few
other tests over ~3 s). The quick loop: pytest -m "not browser and not slow
and not realdata".
"""
from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import tempfile
from pathlib import Path

import pytest


def _owner() -> str:
    """Who made a run folder: host and process id (a folder whose process is gone is left over)."""
    return f"{socket.gethostname()} {os.getpid()}"


def _remove_folders_of_ended_runs() -> None:
    """Folders of earlier runs on this host that were killed before they could clean up."""
    for folder in Path(tempfile.gettempdir()).glob("ortsatlas-test-*"):
        try:
            host, pid = (folder / "owner").read_text().split()
            if host != socket.gethostname():
                continue  # another machine's run: its processes are not ours to see
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
        except (OSError, ValueError):
            continue  # running, not ours, or no owner file: left alone


def _remove_run_dir() -> None:
    shutil.rmtree(RUN_DIR, ignore_errors=True)


def _stop_like_ctrl_c(signum, frame) -> None:
    """`timeout` and CI cancel with SIGTERM: stop as Ctrl-C does, so teardown and cleanup still run."""
    raise KeyboardInterrupt


_remove_folders_of_ended_runs()
RUN_DIR = Path(tempfile.mkdtemp(prefix="ortsatlas-test-"))
(RUN_DIR / "owner").write_text(_owner())
atexit.register(_remove_run_dir)  # also when a script imports this module outside pytest
if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
os.environ["ATLAS_DATA_DIR"] = str(RUN_DIR / "data")
os.environ.pop("ATLAS_TMP_DIR", None)  # exports use <data dir>/tmp, watched by test_export
os.environ.pop("ATLAS_BASEMAP_URL", None)  # no network: never a tile server in tests
(RUN_DIR / "tmp").mkdir()
os.environ["TMPDIR"] = str(RUN_DIR / "tmp")  # inherited by Chromium and every subprocess
tempfile.tempdir = None  # forget the /tmp this process already chose: use TMPDIR from now on


def _cheap_password_hashes():
    """Argon2id at its lowest cost for the test run; returns the production hasher (test_login checks its cost).

    At the library's recommended cost one login takes ~0.2 s on a shared
    2-core machine, and the tests log in a few hundred times. The tests check
    what logins do, not how long a hash takes; the CLI tests, which run the
    real program in a process of its own, still hash at full cost.
    """
    from argon2 import PasswordHasher

    import auth.users

    production = auth.users._hasher
    auth.users._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    auth.users._DUMMY_HASH = auth.users._hasher.hash("timing-equaliser-not-a-password")
    return production


PRODUCTION_HASHER = _cheap_password_hashes()
REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"
BROWSER_FIXTURES = {"dash_duo", "duo", "scratch_duo"}
# Non-browser tests that take more than ~3 s on a 2-core machine (pytest --durations=30).
SLOW = {
    "test_cli.py::test_add_list_disable_passwd",  # the CLI as a real process, per step
    "test_cli.py::test_refusals_are_specific",
    "test_demo.py::test_generation_is_deterministic",  # generates the demo city a second time
    "test_store.py::test_area_profile_index_agrees_with_reading_every_cell",  # reads every cell, per viewer
    "test_leaks.py::test_anonymous_learns_nothing_of_internal_or_restricted_indicators",  # every callback
    "test_disclosure.py::test_the_differencing_attack_recovers_nothing",  # every indicator, period and parent
    "test_disclosure.py::test_without_secondary_suppression_the_attack_recovers_cells",
    "test_profile.py::test_every_row_is_the_values_service_for_area_parent_and_territory",  # every row, per viewer
    "test_profile.py::test_staff_see_internal_indicators_and_the_internal_marking",
    "test_profile.py::test_three_kinds_of_gap_stay_apart",
    "test_reports.py::test_a_report_as_of_an_earlier_date_ignores_a_later_upload",
    "test_reports.py::test_public_report_leaves_out_what_the_public_may_not_see",
    "test_export.py::test_the_same_request_gives_each_viewer_exactly_their_subset",  # all indicators, twice
}
SLOW_SECONDS = 3.0
_unmarked_slow: list[tuple[float, str]] = []


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark browser, realdata and slow tests, so the quick loop can leave them out by marker."""
    for item in items:
        if BROWSER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
        module = getattr(item, "module", None)
        if item.path.name.startswith("test_realdata_") or getattr(module, "REALDATA", None) is REALDATA:
            item.add_marker(pytest.mark.realdata)  # by name, or the module imports REALDATA from here
        if f"{item.path.name}::{getattr(item, 'originalname', item.name)}" in SLOW:
            item.add_marker(pytest.mark.slow)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Note quick-loop tests that ran longer than SLOW_SECONDS (a hint, never a failure: timings are noisy)."""
    if report.when == "call" and report.duration > SLOW_SECONDS and not {"slow", "browser", "realdata"} & set(
            report.keywords):
        _unmarked_slow.append((report.duration, report.nodeid))


def pytest_terminal_summary(terminalreporter) -> None:
    """List them, so the quick loop stays quick as tests are added."""
    if _unmarked_slow:
        terminalreporter.write_sep("-", f"unmarked tests over {SLOW_SECONDS:.0f} s: add them to SLOW in "
                                        "tests/conftest.py if they stay slow")
        for duration, nodeid in sorted(_unmarked_slow, reverse=True):
            terminalreporter.write_line(f"{duration:5.1f} s  {nodeid}")


_shared: dict = {}  # the shared store and its state when created, for the check at the end of the run


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run if the shared store changed though every test left it alone (a write around the fixtures)."""
    if "atlas" in _shared and store_state(_shared["atlas"]) != _shared["state"]:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", f"FAILED at the end of the run: {UNTOUCHED}", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_unconfigure(config: pytest.Config) -> None:
    """Remove this run's folder (store, TMPDIR, tmp_path), so a run leaves nothing in /tmp."""
    _remove_run_dir()


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


def store_state(atlas) -> tuple[int, tuple[str, ...]]:
    """What a write to a store changes: the manifest generation and the pending uploads."""
    uploads = atlas.store.data_dir / "uploads"
    return atlas.store.generation(), tuple(sorted(p.name for p in uploads.iterdir()) if uploads.exists() else ())


UNTOUCHED = "the shared store changed: tests that write use scratch_atlas / scratch_app / scratch_duo"


@pytest.fixture(scope="session")
def atlas():
    """The shared demo store of this test run (read-only for tests: writers use `scratch_atlas`).

    Checked at the end of the run too: a write that bypassed the fixture (the
    CLI or a second context on ATLAS_DATA_DIR) would make later tests depend
    on the order they ran in.
    """
    from atlas.config import load_settings
    from atlas.demo import ensure_demo
    from atlas.services.context import Atlas
    context = Atlas(load_settings())
    ensure_demo(context)
    _shared.update(atlas=context, state=store_state(context))
    return context


@pytest.fixture(autouse=True)
def _shared_store_is_read_only(request: pytest.FixtureRequest):
    """Fail the test that wrote to the shared store (users, tokens, versions, uploads), naming it."""
    if "atlas" not in request.fixturenames:
        yield
        return
    shared = request.getfixturevalue("atlas")
    before = store_state(shared)
    yield
    assert store_state(shared) == before, UNTOUCHED


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
    from tests.dash_requests import RendererClient
    n = next(_client_ip)
    app.server.test_client_class = RendererClient  # sends the CSRF header with callbacks, as the browser does
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

    from atlas.services.context import Atlas
    shutil.copytree(atlas.store.data_dir, tmp_path / "data", ignore=shutil.ignore_patterns("uploads", "tmp"))
    return Atlas(dataclasses.replace(atlas.settings, data_dir=tmp_path / "data", tmp_dir=tmp_path / "data" / "tmp"))


@pytest.fixture()
def tiled_atlas(scratch_atlas):
    """A private copy of the demo store whose 51 Ortsteile are drawn from vector tiles stored with their set
    (`tiles_from_areas` lowered to 10: the big-map path at the demo's size)."""
    import dataclasses

    from atlas.services import tiles
    scratch_atlas.settings = dataclasses.replace(scratch_atlas.settings, tiles_from_areas=10)
    tiles.add_missing_map_tiles(scratch_atlas.store, scratch_atlas.settings.tiles_from_areas)
    return scratch_atlas


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
