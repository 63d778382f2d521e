"""Deployment: the Dockerfile's steps as CI runs them, and the shipped nginx configuration on loopback.

The Dockerfile cannot be built here (no Docker engine), so deploy/docker-steps.sh
reads it and carries out every instruction; CI runs that script. These tests
make sure the script covers the Dockerfile exactly (nothing skipped unnamed,
nothing the app reads at run time left out of the image). The nginx test
starts Debian's nginx with deploy/nginx/ortsatlas.conf in front of gunicorn,
as docs/deploy.md sets them up, and checks HTTPS, Secure cookies, the client
address at the rate limiter and headers both ways.
"""
from __future__ import annotations

import dataclasses
import http.client
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from atlas.config import PROJECT_ROOT

SCRIPT = PROJECT_ROOT / "deploy" / "docker-steps.sh"
NGINX = Path("/usr/sbin/nginx")
SITE = PROJECT_ROOT / "deploy" / "nginx" / "ortsatlas.conf"


# ----------------------------------------------------------------------------- the Dockerfile
def dockerfile_instructions(text: str) -> list[str]:
    """The Dockerfile's instructions as Docker reads them: continuations joined, comments dropped."""
    out, current = [], ""
    for line in text.splitlines():
        if line.lstrip().startswith("#"):
            continue
        current += line
        if current.endswith("\\"):
            current = current[:-1]
            continue
        if current.strip():
            out.append(" ".join(current.split()))
        current = ""
    return out


def plan(dockerfile: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, **({"DOCKERFILE": str(dockerfile)} if dockerfile else {})}
    return subprocess.run(["bash", str(SCRIPT), "--plan"], capture_output=True, text=True, env=env, timeout=60)


def test_the_script_carries_out_every_instruction_of_the_dockerfile_in_order():
    done = plan()
    assert done.returncode == 0, done.stderr
    planned = [line.split("\t") for line in done.stdout.splitlines()]
    assert [" ".join(text.split()) for text, _ in planned] == dockerfile_instructions(
        (PROJECT_ROOT / "Dockerfile").read_text())
    skipped = {text: what for text, what in planned if what != "do"}
    # Only the image's user management is skipped, and a skipped RUN does nothing else: a build
    # step glued onto it (`&& pip install ...`) would be skipped too, so it fails here.
    for text in skipped:
        keyword, _, command = text.partition(" ")
        assert keyword in ("USER", "RUN"), text
        if keyword == "RUN":
            parts = [p.split()[0] for p in command.split("&&")]
            assert set(parts) <= {"useradd", "groupadd", "mkdir", "chown"}, text
    assert any(text.startswith("CMD [") for text, _ in planned)


def test_the_image_holds_every_folder_the_app_reads_at_run_time():
    copied = {m.group(1).rstrip("/") for m in re.finditer(r"^COPY\s+(\S+)\s", (PROJECT_ROOT / "Dockerfile").read_text(),
                                                          re.MULTILINE)}
    read = {"app.py"} | {m.group(1) for path in (PROJECT_ROOT / "atlas").rglob("*.py")
                         for m in re.finditer(r'PROJECT_ROOT\s*/\s*"([^"]+)"', path.read_text(encoding="utf-8"))}
    read -= {"data"}  # the volume
    assert read <= copied, f"COPY these into the image too: {sorted(read - copied)}"


@pytest.mark.parametrize("dockerfile,message", [
    ("FROM python:3.11-slim\nARG X=1\n", "instruction ARG is not known here"),
    ("FROM python:3.11-slim\nRUN pip install x && useradd atlas\n", None),  # skipped as a whole: the test above
])
def test_the_script_stops_at_what_it_does_not_know(tmp_path, dockerfile, message):
    path = tmp_path / "Dockerfile"
    path.write_text(dockerfile)
    done = plan(path)
    if message:
        assert done.returncode == 1 and message in done.stderr
    else:
        assert "skip:" in done.stdout


def test_a_run_step_may_not_touch_this_machine(tmp_path):
    path = tmp_path / "Dockerfile"
    path.write_text("WORKDIR /app\nRUN rm -rf /etc/ortsatlas-test\n")
    done = subprocess.run(["bash", str(SCRIPT)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DOCKERFILE": str(path)})
    assert done.returncode == 1 and "touches /etc/ortsatlas-test, an absolute path" in done.stderr


def test_the_systemd_unit_runs_gunicorn_as_the_image_does_behind_the_shipped_nginx():
    cmd = json.loads(next(i for i in dockerfile_instructions((PROJECT_ROOT / "Dockerfile").read_text())
                          if i.startswith("CMD "))[4:])
    unit = (PROJECT_ROOT / "deploy" / "systemd" / "ortsatlas.service").read_text()
    argv = re.search(r"^ExecStart=(.+)$", unit, re.MULTILINE).group(1).split()
    assert argv[0].endswith("/gunicorn") and cmd[0] == "gunicorn"
    bind = argv.index("--bind")
    assert argv[bind + 1] == "127.0.0.1:8050"  # loopback only: nginx is the way in
    assert f"server {argv[bind + 1]};" in SITE.read_text()
    docker_bind = cmd.index("--bind")
    assert argv[1:bind] + argv[bind + 2:] == cmd[1:docker_bind] + cmd[docker_bind + 2:]  # same workers, timeout, …
    assert "Environment=ATLAS_BEHIND_PROXY=1" in unit.splitlines()


def audit_verdict():
    import importlib.util
    spec = importlib.util.spec_from_file_location("audit_verdict", PROJECT_ROOT / "deploy" / "audit_verdict.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.verdict


def test_the_audit_fails_on_a_fixable_vulnerability_and_on_packages_it_could_not_audit():
    verdict = audit_verdict()
    fixable = {"name": "flask", "version": "2.2.0", "vulns": [
        {"id": "GHSA-m2qf-hxjv-5gpq", "aliases": ["CVE-2023-30861"], "fix_versions": ["2.2.5", "2.3.2"]}]}
    unfixable = {"name": "somelib", "version": "1.0", "vulns": [{"id": "PYSEC-0", "fix_versions": []}]}
    clean = {"name": "pandas", "version": "3.1.1", "vulns": []}
    unreachable = {"name": "numpy", "version": "2.4.6", "skip_reason": "Dependency not found on PyPI"}
    status, lines = verdict({"dependencies": [clean, fixable, unfixable]})
    assert status == 1 and any("flask 2.2.0" in line and "2.2.5" in line for line in lines)
    assert verdict({"dependencies": [clean, unfixable]})[0] == 0  # known, but no fix to take yet: noted
    status, lines = verdict({"dependencies": [clean, unreachable]})
    assert status == 2 and "1 of 2 packages could not be audited" in lines[-1]  # never "nothing found"


# ----------------------------------------------------------------------------- nginx in front of gunicorn
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require_nginx() -> None:
    if NGINX.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("CI=true but /usr/sbin/nginx is missing: CI must install Debian's nginx (apt-get install -y nginx)")
    pytest.skip("Debian's nginx is not installed (apt-get install nginx); CI installs it and runs these tests")


def site_config(ports: dict, cert: Path, key: Path, www: Path) -> str:
    """The shipped site configuration with only its addresses and paths moved onto loopback and this folder."""
    text = SITE.read_text()
    for old, new in [("server 127.0.0.1:8050;", f"server 127.0.0.1:{ports['app']};"),
                     ("listen 80;", f"listen 127.0.0.1:{ports['http']};"), ("listen [::]:80;", ""),
                     ("listen 443 ssl http2;", f"listen 127.0.0.1:{ports['https']} ssl http2;"),
                     ("listen [::]:443 ssl http2;", ""),
                     ("/etc/ssl/ortsatlas/fullchain.pem", str(cert)), ("/etc/ssl/ortsatlas/privkey.pem", str(key)),
                     ("root /var/www/html;", f"root {www};")]:
        assert text.count(old) == 1, f"deploy/nginx/ortsatlas.conf changed: {old!r} (update this test too)"
        text = text.replace(old, new)
    return text


def wait_for(url: str, proc: subprocess.Popen, log: Path, **kwargs) -> None:
    for _ in range(240):
        if proc.poll() is not None:
            raise AssertionError(f"{proc.args[0]} stopped: {log.read_text()[-3000:]}")
        try:
            if plain().get(url, timeout=5, **kwargs).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise AssertionError(f"no answer from {url}: {log.read_text()[-3000:]}")


@dataclasses.dataclass
class Proxied:
    https: str  # https://127.0.0.1:<port> (nginx)
    http: str  # http://127.0.0.1:<port> (nginx, redirects)
    direct: str  # http://127.0.0.1:<port> (gunicorn itself)
    cert: Path
    data: Path


@pytest.fixture(scope="module")
def proxied(atlas, tmp_path_factory):
    """gunicorn as the Dockerfile runs it (one worker: one rate-limit counter), behind nginx with the shipped site."""
    require_nginx()
    base = tmp_path_factory.mktemp("proxy")
    data = base / "data"
    shutil.copytree(atlas.store.data_dir, data, ignore=shutil.ignore_patterns("uploads", "tmp", "sessions"))
    ports = {"app": free_port(), "http": free_port(), "https": free_port()}
    cert, key = self_signed(base)
    env = {**os.environ, "ATLAS_DATA_DIR": str(data), "ATLAS_BEHIND_PROXY": "1",
           "ATLAS_LOGIN_RATE_LIMIT": "3 per minute"}
    app, app_log = start_gunicorn(ports["app"], env, base / "gunicorn.log")
    nginx, nginx_log = start_nginx(base, ports, cert, key)
    try:
        wait_for(f"http://127.0.0.1:{ports['app']}/healthz", app, app_log)
        wait_for(f"https://127.0.0.1:{ports['https']}/healthz", nginx, nginx_log, verify=str(cert))
        yield Proxied(f"https://127.0.0.1:{ports['https']}", f"http://127.0.0.1:{ports['http']}",
                      f"http://127.0.0.1:{ports['app']}", cert, data)
    finally:
        stop(nginx, [app])


def self_signed(base: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 (the tests' HTTPS), made with Debian's openssl."""
    cert, key = base / "cert.pem", base / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert),
                    "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
                   check=True, capture_output=True, timeout=60)
    return cert, key


def start_gunicorn(port: int, env: dict, log: Path) -> tuple[subprocess.Popen, Path]:
    """gunicorn as the Dockerfile runs it, with one worker (one rate-limit counter), on a loopback port."""
    proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}",
                             "--workers", "1", "--threads", "4", "--timeout", "120"],
                            cwd=PROJECT_ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return proc, log


def start_nginx(base: Path, ports: dict, cert: Path, key: Path) -> tuple[subprocess.Popen, Path]:
    """Debian's nginx in the foreground with the shipped site (`ports["app"]`: the upstream's server line(s))."""
    (base / "www").mkdir()
    (base / "ortsatlas.conf").write_text(site_config(ports, cert, key, base / "www"))
    temp = "\n".join(f"    {kind}_temp_path {base / kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi",
                                                                           "scgi"))
    (base / "nginx.conf").write_text(f"""
{"user root;" if os.geteuid() == 0 else ""}
worker_processes 1;
pid {base / "nginx.pid"};
error_log {base / "nginx.log"} info;
events {{ worker_connections 256; }}
http {{
    access_log {base / "access.log"};
{temp}
    include {base / "ortsatlas.conf"};
}}
""")
    log = base / "nginx.log"
    proc = subprocess.Popen([str(NGINX), "-p", str(base), "-c", str(base / "nginx.conf"), "-e", str(log),
                             "-g", "daemon off;"], stdout=log.open("a"), stderr=subprocess.STDOUT)
    return proc, log


def stop(nginx: subprocess.Popen, apps: list[subprocess.Popen]) -> None:
    """nginx's and gunicorn's graceful stops, then a kill for whatever does not stop in time."""
    for proc, sig in [(nginx, signal.SIGQUIT)] + [(p, signal.SIGTERM) for p in apps]:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


class FromAddress(HTTPAdapter):
    """Connect from one loopback address (all of 127/8 is this machine): a client nginx tells apart."""

    def __init__(self, address: str):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def plain() -> requests.Session:
    """A session that ignores the environment's proxies and CA bundle (they would override `verify`)."""
    session = requests.Session()
    session.trust_env = False
    return session


def client(proxied: Proxied, address: str = "127.0.0.1") -> requests.Session:
    session = plain()
    session.verify = str(proxied.cert)
    session.mount("https://", FromAddress(address))
    session.mount("http://", FromAddress(address))
    return session


def csrf_of(session: requests.Session, base: str) -> str:
    page = session.get(f"{base}/login").text
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(session: requests.Session, base: str, username: str, password: str) -> requests.Response:
    """Signs in as a browser does; over HTTPS the CSRF check also wants the Referer of the app's own host."""
    return session.post(f"{base}/login", data={"username": username, "password": password,
                                               "csrf_token": csrf_of(session, base)}, allow_redirects=False,
                        headers={"Referer": f"{base}/login"})


@pytest.mark.slow  # gunicorn and nginx start once for these (~10 s)
def test_https_serves_the_app_and_plain_http_only_redirects(proxied):
    resp = client(proxied).get(f"{proxied.https}/api/v1/indicators")
    assert resp.status_code == 200 and resp.json()["count"] > 0
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=")
    assert resp.headers["Server"] == "nginx"  # no version
    plain = client(proxied).get(f"{proxied.http}/api/v1/indicators?x=1", allow_redirects=False)
    assert plain.status_code == 301 and plain.headers["Location"] == "https://127.0.0.1/api/v1/indicators?x=1"


@pytest.mark.slow  # gunicorn and nginx start once for these (~10 s)
def test_session_cookies_are_secure_over_https_and_writes_pass_the_origin_check(proxied):
    from tests.conftest import DEMO_PASSWORDS
    browser = client(proxied)
    signed_in = login(browser, proxied.https, "sozialamt", DEMO_PASSWORDS["sozialamt"])
    assert signed_in.status_code == 303, signed_in.text[:300]
    cookies = signed_in.raw.headers.getlist("Set-Cookie")
    assert any(c.startswith("session=") and "HttpOnly" in c for c in cookies), cookies
    assert all("; Secure" in c for c in cookies), cookies  # every cookie, the session's and the CSRF one
    # The Origin and Referer a browser sends (port included) are the app's own host: a signed-in write passes.
    token = csrf_of(browser, proxied.https)
    out = browser.post(f"{proxied.https}/logout", data={"csrf_token": token}, allow_redirects=False,
                       headers={"Origin": proxied.https, "Referer": f"{proxied.https}/"})
    assert out.status_code == 303, out.text[:300]
    # Without the proxy's X-Forwarded-Proto the app does not claim HTTPS: the flag comes from nginx.
    direct = plain()
    assert "Secure" not in login(direct, proxied.direct, "sozialamt", DEMO_PASSWORDS["sozialamt"]).headers[
        "Set-Cookie"]


@pytest.mark.slow  # gunicorn and nginx start once for these (~10 s)
def test_the_rate_limiter_counts_the_client_address_nginx_saw(proxied):
    attacker, neighbour = client(proxied, "127.0.0.2"), client(proxied, "127.0.0.3")
    answers = [login(attacker, proxied.https, "admin", f"wrong-{n}").status_code for n in range(3)]
    assert answers == [401, 401, 401]
    assert login(attacker, proxied.https, "admin", "wrong-3").status_code == 429
    # A forged X-Forwarded-For does not make the attacker someone else: nginx appends what it saw.
    attacker.headers["X-Forwarded-For"] = "10.1.2.3"
    assert login(attacker, proxied.https, "admin", "wrong-4").status_code == 429
    # Another client behind the same proxy is not limited by the attacker's failures.
    assert login(neighbour, proxied.https, "admin", "wrong-5").status_code == 401
    failed = [json.loads(line) for line in (proxied.data / "audit.jsonl").read_text().splitlines()
              if '"login_failed"' in line]
    assert {entry["ip"] for entry in failed[-4:]} == {"127.0.0.2", "127.0.0.3"}


@pytest.mark.slow  # gunicorn and nginx start once for these (~10 s)
def test_headers_pass_through_both_ways(proxied, atlas):
    from atlas.config import load_settings
    from atlas.services.context import Atlas
    hop = {"connection", "keep-alive", "transfer-encoding", "date", "server", "content-length"}
    for path in ("/", "/api/v1/indicators", "/api/v1/export?indicator=sgb2_quote&format=csv", "/login"):
        direct = plain().get(f"{proxied.direct}{path}", headers={"Accept-Encoding": "identity"})
        through = client(proxied).get(f"{proxied.https}{path}", headers={"Accept-Encoding": "identity"})
        assert through.status_code == direct.status_code, path
        lost = {k for k in direct.headers if k.lower() not in hop and k.lower() != "set-cookie"} - set(through.headers)
        assert lost == set(), (path, lost)
    # Request headers reach the app: a bearer token acts as its steward through the proxy.
    context = Atlas(dataclasses.replace(load_settings(), data_dir=proxied.data, tmp_dir=proxied.data / "tmp"))
    token = context.tokens.add("sozialamt", "nginx test", actor="test").token
    template = client(proxied).get(f"{proxied.https}/api/v1/templates?indicator=sgb2_quote",
                                   headers={"Authorization": f"Bearer {token}"})
    assert template.status_code == 200 and "attachment" in template.headers["Content-Disposition"]
    assert client(proxied).get(f"{proxied.https}/api/v1/templates?indicator=sgb2_quote").status_code == 404
    refused = client(proxied).get(f"{proxied.https}/api/v1/releases", headers={"Authorization": "Bearer oa_forged"})
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.slow  # gunicorn and nginx start once for these (~10 s)
def test_uploads_over_one_mb_reach_the_app_and_larger_than_its_limit_get_a_clean_413(proxied):
    """nginx's default body limit is 1 MB; extracts of several MB must be checked by the app."""
    from atlas.config import load_settings
    from atlas.services.context import Atlas
    context = Atlas(dataclasses.replace(load_settings(), data_dir=proxied.data, tmp_dir=proxied.data / "tmp"))
    token = context.tokens.add("sozialamt", "nginx upload test", actor="test").token
    body = b"a;b;c\n" * 600_000  # ~3.6 MB that the app reads and refuses as no usable table
    resp = client(proxied).post(f"{proxied.https}/api/v1/uploads", files={"file": ("extract.csv", body)},
                                headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 202  # over ATLAS_UPLOAD_BACKGROUND_KB: checked in the background
    for _ in range(600):  # follow it, as the upload page does, until the report is there
        report = client(proxied).get(f"{proxied.https}{resp.headers['Location']}",
                                     headers={"Authorization": f"Bearer {token}"}).json()
        if report["state"] != "checking":
            break
        time.sleep(0.1)
    assert report["state"] == "checked" and report["ok"] is False  # the app's check report
    # Over the app's limit (ATLAS_UPLOAD_MAX_MB + 1 MB): nginx answers, in the app's JSON shape.
    conn = http.client.HTTPSConnection("127.0.0.1", int(proxied.https.rsplit(":", 1)[1]), timeout=30,
                                       context=ssl.create_default_context(cafile=str(proxied.cert)))
    conn.putrequest("POST", "/api/v1/uploads")
    conn.putheader("Content-Type", "multipart/form-data; boundary=x")
    conn.putheader("Content-Length", str(51 * 1024 * 1024 + 1))
    conn.putheader("Expect", "100-continue")
    conn.endheaders()
    answer = conn.getresponse()
    assert answer.status == 413 and json.loads(answer.read())["error"] == "too_large"
