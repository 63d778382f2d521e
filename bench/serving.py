"""Running an atlas for the bench: a free loopback port, and waiting until the app answers /healthz."""
from __future__ import annotations

import socket
import time
import urllib.request


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
