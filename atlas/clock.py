"""The time of day as the atlas sees it: one clock per app, settable in tests.

Why: scheduled releases (embargoes) fall due at a local wall-clock time, and
the store's state changes at that moment without a write. Tests of that must
not sleep in real time; they set or advance this clock instead.
"""
from __future__ import annotations

import threading
from datetime import datetime, timedelta


class Clock:
    """Local wall-clock time without microseconds; `set`/`advance` pin it (tests only)."""

    def __init__(self) -> None:
        self._fixed: datetime | None = None
        self._lock = threading.Lock()

    def now(self) -> datetime:
        fixed = self._fixed
        return fixed if fixed is not None else datetime.now().replace(microsecond=0)

    def set(self, when: datetime | None) -> None:
        """Pin the clock at `when`; None returns it to real time."""
        with self._lock:
            self._fixed = None if when is None else when.replace(microsecond=0)

    def advance(self, delta: timedelta) -> None:
        """Move a pinned (or the real) time forward and keep it pinned there."""
        with self._lock:
            base = self._fixed if self._fixed is not None else datetime.now().replace(microsecond=0)
            self._fixed = base + delta
