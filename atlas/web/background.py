"""Work that outlasts a request: upload checks of large files and booklets.

One bounded `concurrent.futures.ThreadPoolExecutor` per kind of job and
worker process, so a long booklet never holds up an upload check. The
request that starts a job answers at once with the job's id; the job writes
its progress to a file in the data directory, so any worker (and any server
on shared storage) can answer "how far is it?". Jobs run in the web process:
no broker, no extra daemon to deploy. A worker that dies mid-job leaves a
state file that stops moving; readers call such a job failed after a while.

A pool lives while it has work and is shut down when the last job ends, so
no idle thread sits in a worker (dash's test runner, for one, kills every
thread it did not start, and a killed idle thread would swallow the next job).

Capacity is bounded twice: `background_threads` run at once (a 1 M-row check
needs about 1 GB), `background_queue` more may wait; beyond that `submit`
raises Busy and the route answers 503 with Retry-After instead of queueing
without end.
"""
from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable

from atlas.config import Settings

log = logging.getLogger(__name__)

_lock = threading.Lock()
_pools: dict[str, ThreadPoolExecutor] = {}
_waiting: dict[str, int] = {}  # submitted and not yet finished, per kind, in this process


class Busy(Exception):
    """Every thread of this kind is busy and its queue is full: try again shortly."""


def submit(settings: Settings, kind: str, fn: Callable[[], None]) -> Future:
    """Run `fn` in the background; raises Busy when the pool and its queue are full.

    `fn` must record its own outcome (a state file); an exception it lets out
    is logged here, so a failed job never dies silently.
    """
    with _lock:
        if _waiting.get(kind, 0) >= settings.background_threads + settings.background_queue:
            raise Busy(kind)
        _waiting[kind] = _waiting.get(kind, 0) + 1
        pool = _pools.get(kind)
        if pool is None:
            pool = _pools[kind] = ThreadPoolExecutor(max_workers=settings.background_threads,
                                                     thread_name_prefix=f"atlas-{kind}")

    def run() -> None:
        try:
            fn()
        except Exception:
            log.exception("background %s job failed", kind)
        finally:
            with _lock:
                _waiting[kind] -= 1
                if not _waiting[kind]:  # idle: let the threads end (memory back; none left to be killed)
                    _pools.pop(kind).shutdown(wait=False)
    return pool.submit(run)
