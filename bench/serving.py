"""Running an atlas for the bench: a free loopback port, and waiting until the app answers /healthz."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_healthy(port: int, timeout: float = 120) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                if r.status == 200:
                    return (time.perf_counter() - start) * 1000
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on port {port} did not become healthy")


def start_app(data_dir: Path, layers_dir: Path, env: dict | None = None,
              tree: Path = ROOT) -> tuple[subprocess.Popen, int]:
    """`python app.py` of `tree` (this checkout, or another version's files) on a free loopback port, on the
    given store (`env`: more settings); returns when /healthz answers."""
    port = free_port()
    env = {**os.environ, "ATLAS_DATA_DIR": str(data_dir), "ATLAS_LAYERS_DIR": str(layers_dir), "PORT": str(port),
           **(env or {})}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=tree, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(port)
    except BaseException:
        proc.terminate()
        raise
    return proc, port
