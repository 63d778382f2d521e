"""Beyond one machine (issue 18): several app servers on one data directory, with PostgreSQL for shared state.

A real PostgreSQL (Debian's postgresql 15, started here as the `postgres` user
in a temp folder, on a free loopback port) holds the writer lock, the current
manifest, sessions, the audit log, pending uploads and the notes
(atlas/store/shared_state.py); a backup exports the audit log and the notes
from it, and a restore onto an empty database answers the same. The first tests use two app contexts in this
process; the last starts two gunicorn servers on the same data directory
behind Debian's nginx (round robin) and checks that a session survives a
switch of server, that a logout on one server ends the session on the other,
and runs a short soak across both (attempted / stored once / lost /
duplicated / reader errors; the last three must be 0).
"""
from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from atlas.config import PROJECT_ROOT
from tests import soak
from tests.test_deploy import (
    free_port,
    plain,
    require_nginx,
    self_signed,
    start_gunicorn,
    start_nginx,
    stop,
    wait_for,
)

# Debian's server binaries (15 on bookworm); the newest installed major version.
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit()
             else 0, default=Path("/usr/lib/postgresql/15/bin"))


def require_postgres() -> None:
    """Skip without Debian's PostgreSQL, except in CI, which must install it (tests/run.sh)."""
    if (PG_BIN / "initdb").exists() and (PG_BIN / "pg_ctl").exists():
        try:
            import psycopg  # noqa: F401
            return
        except ImportError:
            if os.environ.get("CI") == "true":
                pytest.fail("CI=true but psycopg is missing: pip install -r requirements.txt")
            pytest.skip("psycopg is not installed (pip install -r requirements.txt)")
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {PG_BIN}/initdb is missing: CI must install Debian's postgresql "
                    "(apt-get install -y postgresql; tests/run.sh does)")
    pytest.skip("Debian's postgresql is not installed (apt-get install postgresql); CI installs it")


def _as_postgres() -> list[str]:
    """PostgreSQL refuses to run as root: as root, run its tools as the `postgres` user."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


@pytest.fixture(scope="module")
def postgres():
    """A throwaway PostgreSQL on 127.0.0.1:<free port>; its URL (database `atlas`, user `atlas`, trust)."""
    require_postgres()
    # In /tmp itself: the test run's own temp folder is root's alone, and the `postgres` user must enter this one.
    base = Path(tempfile.mkdtemp(prefix="ortsatlas-pg-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(base, "postgres", "postgres")
    port = free_port()
    run = _as_postgres()
    try:  # whatever fails on the way, the server is stopped and its folder removed
        made = subprocess.run(run + [str(PG_BIN / "initdb"), "-D", str(base / "db"), "-U", "atlas", "-A", "trust",
                                     "-E", "UTF8", "--no-sync"], capture_output=True, text=True, timeout=120)
        assert made.returncode == 0, made.stdout + made.stderr
        options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100"
        started = subprocess.run(run + [str(PG_BIN / "pg_ctl"), "-D", str(base / "db"), "-l", str(base / "pg.log"),
                                        "-o", options, "-w", "-t", "60", "start"], capture_output=True, text=True,
                                 timeout=90)
        log = (base / "pg.log").read_text() if (base / "pg.log").exists() else ""
        assert started.returncode == 0, started.stdout + started.stderr + log
        import psycopg
        with psycopg.connect(f"postgresql://atlas@127.0.0.1:{port}/postgres", autocommit=True) as conn:
            conn.execute("CREATE DATABASE atlas")
        yield f"postgresql://atlas@127.0.0.1:{port}/atlas"
    finally:
        subprocess.run(run + [str(PG_BIN / "pg_ctl"), "-D", str(base / "db"), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture()
def database(postgres):
    """A fresh database of its own for one test (stores never share one)."""
    return new_database(postgres)


def new_database(postgres: str) -> str:
    """An empty database on the throwaway server; its URL."""
    import psycopg
    name = f"t{random.randrange(16**8):08x}"
    with psycopg.connect(postgres.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres.rsplit("/", 1)[0] + f"/{name}"


def _context(data_dir: Path, url: str, template):
    from atlas.services.context import Atlas
    return Atlas(dataclasses.replace(template.settings, data_dir=data_dir, tmp_dir=data_dir / "tmp",
                                     database_url=url))


def _copy_store(atlas, target: Path) -> Path:
    shutil.copytree(atlas.store.data_dir, target, ignore=shutil.ignore_patterns("uploads", "tmp", "sessions"))
    return target


# ----------------------------------------------------------------------------- the shared state itself
@pytest.mark.slow  # starts PostgreSQL (~3 s)
def test_the_manifest_pointer_and_the_writer_lock_live_in_postgres(atlas, database, tmp_path):
    import psycopg
    data = _copy_store(atlas, tmp_path / "data")
    generation = json.loads((data / "manifest.json").read_text())["generation"]
    one = _context(data, database, atlas)
    assert one.store.generation() == generation  # the embedded store adopted on first use
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT generation FROM atlas_manifest").fetchone()[0] == generation
    one.users.add("neu", "steward", ["soziales"], "ein-langes-passwort-1", actor="admin")
    with psycopg.connect(database) as conn:
        stored = conn.execute("SELECT generation, body FROM atlas_manifest").fetchone()
    assert stored[0] == generation + 1 and json.loads(stored[1])["generation"] == generation + 1
    # The mirror file follows; but PostgreSQL is the truth: a file changed behind its back is not read.
    assert json.loads((data / "manifest.json").read_text())["generation"] == generation + 1
    (data / "manifest.json").write_text(json.dumps({**json.loads(stored[1]), "generation": 999}))
    other = _context(data, database, atlas)
    assert other.store.generation() == generation + 1 and other.users.get("neu") is not None
    # The writer lock is PostgreSQL's: while one writer holds it, a writer of another context waits.
    order: list[str] = []
    holding = threading.Event()

    def first():
        with one.store.writing():
            holding.set()
            time.sleep(0.5)
            order.append("first done")

    def second():
        holding.wait()
        with other.store.writing():
            order.append("second in")
    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert order == ["first done", "second in"]
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0


@pytest.mark.slow  # starts PostgreSQL (~3 s)
def test_sessions_audit_and_pending_uploads_are_shared_through_postgres(atlas, database, tmp_path):
    from atlas.ingest.uploads import Uploads
    from auth.permissions import Principal
    data = _copy_store(atlas, tmp_path / "data")
    one, other = _context(data, database, atlas), _context(data, database, atlas)
    # Sessions: opened on one server, known to the other; closed on the other, ended on the first.
    sid = one.sessions.open("sozialamt")
    assert other.sessions.is_open(sid, "sozialamt") and not other.sessions.is_open(sid, "admin")
    other.sessions.close(sid)
    assert not one.sessions.is_open(sid, "sozialamt")
    assert not (data / "sessions").exists()
    # The audit log: adopted from the file once, then appended in PostgreSQL; `record_once` is once per ref.
    adopted = len((data / "audit.jsonl").read_text().splitlines())
    assert len(one.audit.entries(limit=10**6)) == adopted
    assert one.audit.record_once("upload:x:version_created:v1", "sozialamt", "version_created", "v1")
    assert not other.audit.record_once("upload:x:version_created:v1", "sozialamt", "version_created", "v1")
    assert other.audit.has("upload:x:version_created:v1")
    assert [e["action"] for e in other.audit.entries(limit=1)] == ["version_created"]
    assert len((data / "audit.jsonl").read_text().splitlines()) == adopted  # the file is no longer written
    # Reports "as of a date" read release events from the log wherever it is.
    from atlas.services import reports
    other.audit.record("admin", "version_released", "sgb2_quote v999", "draft → public")
    assert [state for _, state in reports._release_events(one)["sgb2_quote v999"]] == ["public"]
    # Pending uploads: reserved through one context, seen (and marked) through the other; no meta.json.
    steward = one.users.get("sozialamt").principal()
    pending = Uploads(data).reserve(steward, "x.csv", b"a;b\n")
    assert not (data / "uploads" / pending.upload_id / "meta.json").exists()
    seen = Uploads(other.settings.data_dir).get(pending.upload_id, steward)
    assert seen is not None and seen.state == "checking"
    assert Uploads(data).get(pending.upload_id, Principal("jugendamt", "steward", frozenset({"jugend"}))) is None


@pytest.mark.slow  # starts PostgreSQL (~3 s)
def test_notes_are_adopted_once_then_written_and_read_through_postgres(atlas, database, tmp_path):
    """An embedded store's notes.jsonl is taken over once; from then on revisions are rows every context sees."""
    import psycopg

    from atlas.services import notes
    from auth.permissions import Principal
    data = _copy_store(atlas, tmp_path / "data")
    embedded = _context(data, "", atlas)
    steward = embedded.users.get("sozialamt").principal()
    first = notes.write(embedded, steward, {"indicator": "alo_quote", "text": "erste Fassung", "visibility": "public"})
    file_bytes = (data / notes.FILE).read_bytes()
    one, other = _context(data, database, atlas), _context(data, database, atlas)
    assert [(n["rev"], n["text"]) for n in notes.history(one, steward, first["id"])] == [(1, "erste Fassung")]
    other.clock.set(datetime.fromisoformat(first["at"]) + timedelta(minutes=5))  # a later moment, not the same second
    second = notes.write(other, steward, {"id": first["id"], "text": "zweite Fassung"})
    assert second["rev"] == 2
    # The other context reads the new revision at once, its history holds both, `as_of` still sees the first.
    assert [(n["rev"], n["text"]) for n in notes.history(one, steward, first["id"])] == [
        (1, "erste Fassung"), (2, "zweite Fassung")]
    anonymous = Principal()
    assert [n["text"] for n in notes.visible(one, anonymous, "alo_quote")] == ["zweite Fassung"]
    then = datetime.fromisoformat(first["at"])
    assert [n["text"] for n in notes.visible(one, anonymous, "alo_quote", as_of=then)] == ["erste Fassung"]
    assert (data / notes.FILE).read_bytes() == file_bytes  # the file is no longer written
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT note_id, rev FROM atlas_notes ORDER BY seq").fetchall() == [
            (first["id"], 1), (first["id"], 2)]
    assert [e["action"] for e in other.audit.entries(limit=1)] == ["note_changed"]
    # A third context (a restarted server) does not adopt the file again.
    assert [n.rev for n in notes.revisions(_context(data, database, atlas))] == [1, 2]


# ----------------------------------------------------------------------------- two servers behind nginx
@dataclasses.dataclass
class Cluster:
    https: str  # nginx in front of both servers (round robin)
    servers: list[str]  # each gunicorn directly (plain HTTP)
    cert: Path
    data: Path
    url: str
    audit_lines: int  # of the embedded store's audit.jsonl before the servers started (adopted, then left alone)


@pytest.fixture(scope="module")
def cluster(atlas, postgres, tmp_path_factory):
    """Two gunicorn servers (one worker each) on one data directory and one PostgreSQL, behind nginx."""
    require_nginx()
    base = tmp_path_factory.mktemp("cluster")
    data = _copy_store(atlas, base / "data")
    ctx = _context(data, postgres, atlas)  # adopts the store into PostgreSQL; the soak's extra stewards
    for name, department in soak.ADDED.items():
        ctx.users.add(name, "steward", [department], soak.PASSWORD, actor="admin")
    apps = [free_port(), free_port()]
    ports = {"app": f"{apps[0]};\n    server 127.0.0.1:{apps[1]}", "http": free_port(), "https": free_port()}
    cert, key = self_signed(base)
    env = {**os.environ, "ATLAS_DATA_DIR": str(data), "ATLAS_BEHIND_PROXY": "1", "ATLAS_DATABASE_URL": postgres,
           "ATLAS_LOGIN_RATE_LIMIT": "3 per minute"}
    servers = [start_gunicorn(port, env, base / f"gunicorn{n}.log") for n, port in enumerate(apps)]
    nginx, nginx_log = start_nginx(base, ports, cert, key)
    try:
        for port, (proc, log) in zip(apps, servers):
            wait_for(f"http://127.0.0.1:{port}/healthz", proc, log)
        wait_for(f"https://127.0.0.1:{ports['https']}/healthz", nginx, nginx_log, verify=str(cert))
        yield Cluster(f"https://127.0.0.1:{ports['https']}", [f"http://127.0.0.1:{p}" for p in apps], cert, data,
                      postgres, audit_lines(data))
    finally:
        stop(nginx, [proc for proc, _ in servers])


def browser(cluster: Cluster):
    """A client of nginx as a browser is: cookies kept, the Referer of the app's own host on every request.

    Like a browser, it sends a GET once more when a kept-alive connection turns out closed by the server
    (gunicorn closes idle ones after 2 s; a reader that just used another server meets such a connection
    as 'connection reset'). Writes are never repeated.
    """
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    session = plain()
    session.verify = str(cluster.cert)
    session.headers["Referer"] = f"{cluster.https}/"
    again = HTTPAdapter(max_retries=Retry(total=1, connect=1, read=1, status=0, other=0, redirect=0,
                                          allowed_methods=frozenset({"GET", "HEAD"}), raise_on_status=False))
    for scheme in ("http://", "https://"):
        session.mount(scheme, again)
    return session


def sign_in(session, base: str, username: str, password: str) -> str:
    """Signs in through `base`; the session's CSRF token for API writes."""
    form = session.get(f"{base}/login").text
    token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
    resp = session.post(f"{base}/login", data={"username": username, "password": password, "csrf_token": token},
                        allow_redirects=False)
    assert resp.status_code == 303, resp.text[:300]
    return re.search(r'name="csrf_token" value="([^"]+)"', session.get(f"{base}/login").text).group(1)


def on_server(session, cluster: Cluster, n: int):
    """The same browser's cookies, sent to server `n` directly (a switch of server nginx would make anyway)."""
    direct = plain()
    for cookie in session.cookies:
        direct.cookies.set(cookie.name, cookie.value)
    return direct


def upload_csv(session, base: str, token: str, body: bytes, name: str):
    return session.post(f"{base}/api/v1/uploads", files={"file": (name, body)}, headers={"X-CSRFToken": token})


@pytest.mark.slow  # PostgreSQL, two gunicorn servers and nginx (~15 s to start)
def test_a_session_survives_a_switch_of_server_and_a_logout_on_one_ends_it_on_the_other(cluster, atlas):
    from tests.conftest import DEMO_PASSWORDS
    from tests.test_workflow import extract
    user = browser(cluster)
    token = sign_in(user, cluster.https, "sozialamt", DEMO_PASSWORDS["sozialamt"])
    resp = upload_csv(user, cluster.https, token, extract(atlas, "sgb2_quote", "2031-Q1"), "switch.csv")
    assert resp.status_code == 200, resp.text[:300]
    report = f"/api/v1/uploads/{resp.json()['upload_id']}"
    # The steward's own upload, asked for on each server with the same cookie: both know the session.
    assert [on_server(user, cluster, n).get(base + report).status_code
            for n, base in enumerate(cluster.servers)] == [200, 200]
    assert plain().get(cluster.servers[1] + report).status_code == 404  # anonymous: as if it did not exist
    copy = on_server(user, cluster, 1)  # a copied cookie, kept for the second server
    # Logout on the first server: the copy on the second server is anonymous from then on.
    first = on_server(user, cluster, 0)
    form = first.get(f"{cluster.servers[0]}/login").text
    out = first.post(f"{cluster.servers[0]}/logout", allow_redirects=False,
                     data={"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)})
    assert out.status_code == 303
    assert copy.get(cluster.servers[1] + report).status_code == 404
    assert on_server(user, cluster, 0).get(cluster.servers[0] + report).status_code == 404
    audit = _context(cluster.data, cluster.url, atlas).audit.entries(limit=50)
    assert any(e["action"] == "logout" and e["actor"] == "sozialamt" for e in audit)


@pytest.mark.slow  # PostgreSQL, two gunicorn servers and nginx (~15 s to start)
def test_a_note_written_through_one_server_is_read_with_its_history_through_the_other(cluster):
    from tests.conftest import DEMO_PASSWORDS
    user = browser(cluster)
    token = sign_in(user, cluster.https, "sozialamt", DEMO_PASSWORDS["sozialamt"])
    first, second = (on_server(user, cluster, n) for n in (0, 1))
    headers = {"X-CSRFToken": token}
    text = f"Zählweise geändert ab 2023 ({random.randrange(10**6)})"
    made = first.post(f"{cluster.servers[0]}/api/v1/notes", headers=headers,
                      json={"indicator": "sgb2_quote", "text": text, "visibility": "public"})
    assert made.status_code == 201, made.text[:300]
    note_id = made.json()["id"]
    changed = second.post(f"{cluster.servers[1]}/api/v1/notes", headers=headers,
                          json={"id": note_id, "text": text + ", zweite Fassung"})
    assert changed.status_code == 201 and changed.json()["rev"] == 2, changed.text[:300]
    for n, client in enumerate((first, second)):  # each server, also the one that did not write it
        history = client.get(f"{cluster.servers[n]}/api/v1/notes/{note_id}/history").json()["revisions"]
        assert [(h["rev"], h["text"]) for h in history] == [(1, text), (2, text + ", zweite Fassung")], n
        public = plain().get(f"{cluster.servers[n]}/api/v1/notes?indicator=sgb2_quote").json()["notes"]
        assert [note["text"] for note in public if note["id"] == note_id] == [text + ", zweite Fassung"], n
    assert not (cluster.data / "notes.jsonl").exists()  # in PostgreSQL, not in the shared folder


@pytest.mark.slow  # PostgreSQL, two gunicorn servers and nginx (~15 s to start)
def test_failed_logins_count_on_every_server_together(cluster):
    """The login rate limit is per client address across the servers (counters in PostgreSQL), not per server."""
    from tests.test_deploy import FromAddress
    attacker = plain()
    attacker.mount("http://", FromAddress("127.0.0.7"))

    def attempt(n: int) -> int:
        base = cluster.servers[n]
        form = attacker.get(f"{base}/login").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', form).group(1)
        return attacker.post(f"{base}/login", data={"username": "admin", "password": f"wrong-{n}",
                                                    "csrf_token": token}, allow_redirects=False).status_code
    assert [attempt(0), attempt(1), attempt(0)] == [401, 401, 401]  # ATLAS_LOGIN_RATE_LIMIT: 3 per minute
    assert attempt(1) == 429  # the fourth, on the server that saw only one of them


class _Browser:
    """A signed-in (or anonymous) browser of the cluster as the soak reads it: each path to one of `bases`."""

    def __init__(self, cluster: Cluster, username: str | None = None, rng: random.Random | None = None,
                 bases: list[str] | None = None):
        self.cluster, self.rng, self.session = cluster, rng or random.Random(0), browser(cluster)
        self.bases = bases or [cluster.https]
        self.token = sign_in(self.session, cluster.https, username, soak.password(username)) if username else ""

    @staticmethod
    def answer(resp) -> soak.Answer:
        return soak.Answer(resp.status_code, resp.text, resp.headers.get("Content-Type", "").startswith(
            "application/json"))

    def get(self, path: str):
        return self.answer(self.session.get(self.rng.choice(self.bases) + path, timeout=120))

    def post(self, path: str, body: dict | None = None):
        return self.answer(self.session.post(self.rng.choice(self.bases) + path, json=body,
                                             headers={"X-CSRFToken": self.token}))

    def upload(self, body: bytes, filename: str):
        return self.answer(upload_csv(self.session, self.cluster.https, self.token, body, filename))

    def confirm(self, upload_id: str, twice: bool) -> list:
        """On server 0 and, when `twice`, at the same moment on server 1 too: a double click landing on both."""
        path = f"/api/v1/uploads/{upload_id}/confirm"
        targets = [0, 1] if twice else [0]
        answers: list = [None] * len(targets)

        def send(i: int, n: int) -> None:
            answers[i] = self.answer(on_server(self.session, self.cluster, n).post(
                self.cluster.servers[n] + path, headers={"X-CSRFToken": self.token}))
        senders = [threading.Thread(target=send, args=(i, n)) for i, n in enumerate(targets)]
        for t in senders:
            t.start()
        for t in senders:
            t.join(timeout=300)
        return answers


@dataclasses.dataclass
class OverHttp:
    """The soak's transport across the cluster: stewards and the admin through nginx, readers on all three."""
    cluster: Cluster

    def steward(self, username: str) -> _Browser:
        return _Browser(self.cluster, username)

    def admin(self) -> _Browser:
        return _Browser(self.cluster, "admin")

    def reader(self, rng: random.Random) -> _Browser:
        return _Browser(self.cluster, rng=rng, bases=[self.cluster.https] + self.cluster.servers)


@pytest.mark.slow  # about a minute: uploads, doubled confirmations, releases and readers across both servers
def test_soak_across_two_servers(cluster, atlas, capsys):
    """Every upload is checked through nginx (either server), confirmed on server 0 and, every other round,
    at the same moment on server 1 too; an admin releases through nginx while readers hit both servers.
    The soak is tests/soak.py's, as in tests/test_soak.py; `ORTSATLAS_SOAK=long` runs its long mode."""
    from tests.test_workflow import extract
    tally = soak.run(OverHttp(cluster), lambda indicator, period: extract(atlas, indicator, period),
                     map_share=0.05, admin_pause=0.2)
    result = soak.count(_context(cluster.data, cluster.url, atlas), tally)  # what PostgreSQL and the files hold
    with capsys.disabled():
        print(f"\nsoak across two servers: {result.line()}")
    soak.assert_clean(result, tally)
    assert set(result.states) == {"public"}, result.states  # the admin's releases, through either server
    # The servers kept this state in PostgreSQL, not in the shared folder's files (which one host's flock guards).
    assert not (cluster.data / "sessions").exists() and not list((cluster.data / "uploads").glob("*/meta.json"))
    assert audit_lines(cluster.data) == cluster.audit_lines


def audit_lines(data: Path) -> int:
    path = data / "audit.jsonl"
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


# ----------------------------------------------------------------------------- backup and restore
@pytest.mark.slow  # starts PostgreSQL (~3 s) and backs up and restores the demo store
def test_a_backup_in_postgres_mode_restores_the_audit_log_and_the_notes_onto_an_empty_database(
        atlas, postgres, database, tmp_path):
    from atlas.store.backup import CHECKSUMS, BackupError, backup, restore, verify
    from atlas.web.app import create_app
    from tests.conftest import writer
    data = _copy_store(atlas, tmp_path / "data")
    source = _context(data, database, atlas)
    source_app = create_app(atlas=source)
    steward, token = writer(source_app, "sozialamt")
    admin, _ = writer(source_app, "admin")  # its login is in the log before the backup
    made = steward.post("/api/v1/notes", json={"indicator": "alo_quote", "text": "erste Fassung",
                                               "visibility": "internal"}, headers={"X-CSRFToken": token}).get_json()
    steward.post("/api/v1/notes", json={"id": made["id"], "text": "zweite Fassung"}, headers={"X-CSRFToken": token})
    # Leftovers of the adoption in the data directory are not the log: the backup exports the database's.
    (data / "audit.jsonl").write_text('{"at": "2020-01-01T00:00:00+00:00", "actor": "stale", "action": "x"}\n')
    (data / "notes.jsonl").write_text("not the notes\n")

    result = backup(source.store, tmp_path / "backup")
    sums = verify(tmp_path / "backup")
    assert {"audit.jsonl", "notes.jsonl"} <= set(sums)
    assert "  notes.jsonl\n" in (tmp_path / "backup" / CHECKSUMS).read_text()
    assert "PostgreSQL atlas_sessions" in result.skipped and "PostgreSQL atlas_uploads" in result.skipped
    assert b"stale" not in (tmp_path / "backup" / "audit.jsonl").read_bytes()
    assert len((tmp_path / "backup" / "notes.jsonl").read_text().splitlines()) == 2

    restore(tmp_path / "backup", tmp_path / "restored")
    restored = _context(tmp_path / "restored", new_database(postgres), atlas)  # a fresh, empty database
    assert restored.store.generation() == source.store.generation()
    restored_app = create_app(atlas=restored)
    restored_steward, _ = writer(restored_app, "sozialamt")
    restored_admin, _ = writer(restored_app, "admin")  # two logins more in the restored log

    def answers(steward_client, admin_client) -> dict:
        got = {"notes": steward_client.get("/api/v1/notes?indicator=alo_quote").get_json(),
               "history": steward_client.get(f"/api/v1/notes/{made['id']}/history").get_json(),
               "audit": admin_client.get("/api/v1/audit?limit=10000").get_json()}
        assert got["history"]["revisions"] and got["audit"]["count"] > 2
        return got
    before, after = answers(steward, admin), answers(restored_steward, restored_admin)
    assert after["notes"] == before["notes"] and after["history"] == before["history"]
    newest = after["audit"]["entries"][:2]  # newest first: the restored app's own two logins
    assert [(e["actor"], e["action"]) for e in newest] == [("admin", "login"), ("sozialamt", "login")], newest
    assert after["audit"]["entries"][2:] == before["audit"]["entries"]
    # The same backup is an embedded store too (the way back from PostgreSQL): its files answer alike.
    restore(tmp_path / "backup", tmp_path / "embedded")
    embedded_steward, _ = writer(create_app(atlas=_context(tmp_path / "embedded", "", atlas)), "sozialamt")
    for url in ("/api/v1/notes?indicator=alo_quote", f"/api/v1/notes/{made['id']}/history"):
        assert embedded_steward.get(url).get_json() == steward.get(url).get_json(), url
    # A backup of the PostgreSQL-mode data directory without the database's URL would miss both logs: refused.
    with pytest.raises(BackupError, match="ATLAS_DATABASE_URL"):
        backup(_context(data, "", atlas).store, tmp_path / "incomplete")
    assert not (tmp_path / "incomplete").exists()


# ----------------------------------------------------------------------------- kill -9 with PostgreSQL
KILL_CHILD = """
import json, sys
from atlas.config import load_settings
from atlas.ingest import uploads
from atlas.services.context import Atlas
import atlas.store.shared_state as shared_state
import atlas.store.store as store_module

from tests.kill import die_after, die_instead

kill_at, upload_id = sys.argv[1], sys.argv[2]
if kill_at == "commit":  # the pointer moved and the mirror is written, nothing after it
    die_after(store_module.Transaction, "_commit")
elif kill_at == "pointer":  # PostgreSQL committed the new manifest; the mirror file is not written yet
    die_instead(shared_state, "write_manifest_file")
atlas = Atlas(load_settings())
viewer = atlas.users.get("sozialamt").principal()
print(json.dumps({"ids": uploads.confirm(atlas, viewer, upload_id)}))
"""


@pytest.mark.slow  # starts PostgreSQL and two child processes
@pytest.mark.parametrize("kill_at", ["pointer", "commit"])
def test_a_confirmation_killed_with_postgres_is_completed_once_by_a_retry(atlas, database, tmp_path, kill_at):
    """The advisory lock dies with the killed writer's connection, and the retry stores nothing again."""
    import psycopg

    from atlas.web.app import create_app
    from tests.conftest import writer
    from tests.test_workflow import extract, post, upload
    data = _copy_store(atlas, tmp_path / "data")
    ctx = _context(data, database, atlas)
    client, token = writer(create_app(atlas=ctx), "sozialamt")
    resp = upload(client, token, extract(atlas, "sgb2_quote", "2026-Q1"))
    assert resp.status_code == 200, resp.get_json()
    upload_id = resp.get_json()["upload_id"]
    before = ctx.store.generation()
    env = {**os.environ, "ATLAS_DATA_DIR": str(data), "ATLAS_DATABASE_URL": database}
    child = subprocess.run([sys.executable, "-c", KILL_CHILD, kill_at, upload_id], cwd=PROJECT_ROOT, env=env,
                           capture_output=True, text=True, timeout=120)
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]
    assert ctx.store.generation() == before + 1  # PostgreSQL has the new version: the commit happened
    mirrored = json.loads((data / "manifest.json").read_text())["generation"]
    assert mirrored == (before if kill_at == "pointer" else before + 1)

    def stored():
        versions = ctx.store.read_table("versions")
        return versions[versions["note"] == f"Upload {upload_id}"]
    assert len(stored()) == 1 and client.get(f"/api/v1/uploads/{upload_id}").get_json()["state"] == "checked"
    retried = post(client, token, f"/api/v1/uploads/{upload_id}/confirm")  # waits for no lock: it died
    assert retried.status_code == 201 and retried.get_json()["version_ids"] == stored()["version_id"].tolist()
    assert len(stored()) == 1
    entries = [e for e in ctx.audit.entries(limit=10**6) if str(e.get("ref", "")).startswith(f"upload:{upload_id}:")]
    assert len(entries) == 1 and entries[0]["action"] == "version_created"
    assert client.get(f"/api/v1/uploads/{upload_id}").get_json()["state"] == "confirmed"
    assert json.loads((data / "manifest.json").read_text())["generation"] == ctx.store.generation()  # mirror mended
    with psycopg.connect(database) as conn:
        assert conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'").fetchone()[0] == 0


@pytest.mark.slow  # starts PostgreSQL (~3 s)
def test_reads_survive_postgres_dropping_the_connections(atlas, database, tmp_path):
    """A restart or failover drops every connection: the next read reconnects instead of failing a request."""
    import psycopg
    data = _copy_store(atlas, tmp_path / "data")
    ctx = _context(data, database, atlas)
    generation = ctx.store.generation()
    sid = ctx.sessions.open("sozialamt")
    with psycopg.connect(database, autocommit=True) as admin:
        dropped = admin.execute("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                                "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
    assert dropped >= 1
    assert ctx.store.generation() == generation and ctx.sessions.is_open(sid, "sozialamt")


# ----------------------------------------------------------------------------- one interface, two sides
@pytest.mark.parametrize("protocol,file_side,pg_side", [
    ("Pointer", "atlas.store.shared_state:FilePointer", "atlas.store.shared_state:PgPointer"),
    ("Sessions", "auth.sessions:SessionRegistry", "atlas.store.shared_state:PgSessions"),
    ("Audit", "auth.audit:AuditLog", "atlas.store.shared_state:PgAuditLog"),
])
def test_the_file_and_the_postgres_side_offer_the_same_methods(protocol, file_side, pg_side):
    """Callers never branch on the backend, so both sides must take the same arguments (no PostgreSQL needed)."""
    import importlib
    import inspect

    from atlas.store import shared_state

    def load(spec: str):
        module, name = spec.split(":")
        return getattr(importlib.import_module(module), name)
    wanted = getattr(shared_state, protocol)
    methods = [m for m in vars(wanted) if not m.startswith("_") and callable(getattr(wanted, m))]
    for side in (load(file_side), load(pg_side)):
        for name in methods:
            assert hasattr(side, name), f"{side.__name__} lacks {name}"
            theirs = list(inspect.signature(getattr(side, name)).parameters)
            assert theirs == list(inspect.signature(getattr(wanted, name)).parameters), (side.__name__, name, theirs)
