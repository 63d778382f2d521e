"""Ways for a test's child process to die with SIGKILL at a chosen point (issue 18's kill -9 tests).

The child scripts of tests/test_confirm_faults.py and tests/test_multiserver.py import this (they run with
the project root as their working directory), so the atlas itself carries no test hook: the kill is placed
by patching, or by a profile hook, in the child only. Not collected by pytest (no `test_` prefix).
"""
from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from typing import Callable

PROJECT = Path(__file__).resolve().parent.parent
WATCHED = (str(PROJECT / "atlas") + os.sep, str(PROJECT / "auth") + os.sep)  # the code whose steps are counted


def die() -> None:
    """SIGKILL this process: no `finally`, no `atexit`, no flush, as an OOM kill or a power cut leaves it."""
    os.kill(os.getpid(), signal.SIGKILL)


def die_after(owner, name: str) -> None:
    """Patches `owner.name` so the process dies right after the first call returns (its effect is done)."""
    original = getattr(owner, name)

    def wrapped(*args, **kwargs):
        result = original(*args, **kwargs)
        die()
        return result
    setattr(owner, name, wrapped)


def die_instead(owner, name: str) -> None:
    """Patches `owner.name` so the process dies when it would be called (nothing of it is done)."""
    setattr(owner, name, lambda *args, **kwargs: die())


def die_at_step(k: int) -> Callable[[], int]:
    """Dies at the k-th step of the atlas's own code from now on; k = 0 only counts. Returns the count so far.

    A step is a call of a function in atlas/ or auth/, or a call such a function makes into a builtin
    (a write, a rename, a lock): so step k is a random point *inside* an operation, between two of its
    system calls, not only at the function boundaries a patch can reach.
    """
    steps = 0

    def profile(frame, event, arg) -> None:
        nonlocal steps
        if event in ("call", "c_call") and frame.f_code.co_filename.startswith(WATCHED):
            steps += 1
            if steps == k:
                die()
    sys.setprofile(profile)
    return lambda: steps
