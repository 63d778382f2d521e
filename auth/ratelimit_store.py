"""Login rate-limit counters in PostgreSQL, so every app server counts one client's failures together.

Why: Flask-Limiter (the `limits` package) keeps counters in memory (per
worker process), Redis, Memcached or MongoDB, not PostgreSQL. A town that
runs several app servers already has a PostgreSQL for their shared state
(docs/scaling.md) and should not need a Redis just for a few counters; with
per-server counters an attacker gets the limit once per server. Importing
this module registers the `postgresql://` (and `postgres://`) storage scheme
with `limits`; auth/login.py does so when the app runs with a database.

Fixed windows only (Flask-Limiter's default strategy): one row per key with
its count and the end of its window, incremented in one statement, so two
servers counting at once never lose a hit.
"""
from __future__ import annotations

import os
import threading
import time

from limits.storage import Storage

SCHEMA = """
CREATE TABLE IF NOT EXISTS atlas_ratelimit (
    key text PRIMARY KEY,
    count bigint NOT NULL,
    expires_at double precision NOT NULL);
"""
SCHEMA_LOCK = 0x6F72_7473_726C_6D74  # "ortsrlmt": serialises the first servers' CREATE TABLE


class PostgresStorage(Storage):
    """`limits` storage over one PostgreSQL table (see the module's doc)."""

    STORAGE_SCHEME = ["postgresql", "postgres"]

    def __init__(self, uri: str, wrap_exceptions: bool = False, **options) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        self.uri = uri
        self._local = threading.local()

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        import psycopg
        return psycopg.Error

    def _conn(self):
        """This thread's connection (autocommit), opened after any fork; the table made on first use."""
        import psycopg
        held = getattr(self._local, "conn", None)
        if held is None or held[0] != os.getpid() or held[1].closed or held[1].broken:
            conn = psycopg.connect(self.uri, autocommit=True, connect_timeout=10)
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
                conn.execute(SCHEMA)
            held = (os.getpid(), conn)
            self._local.conn = held
        return held[1]

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` to the key's window, starting a new window of `expiry` seconds if the old one ended."""
        now = time.time()
        row = self._conn().execute(
            "INSERT INTO atlas_ratelimit AS r (key, count, expires_at) VALUES (%(key)s, %(amount)s, %(until)s) "
            "ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN r.expires_at <= %(now)s THEN EXCLUDED.count ELSE r.count + EXCLUDED.count END, "
            "expires_at = CASE WHEN r.expires_at <= %(now)s THEN EXCLUDED.expires_at ELSE r.expires_at END "
            "RETURNING count", {"key": key, "amount": amount, "until": now + expiry, "now": now}).fetchone()
        return int(row[0])

    def get(self, key: str) -> int:
        row = self._conn().execute("SELECT count FROM atlas_ratelimit WHERE key = %s AND expires_at > %s",
                                   (key, time.time())).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._conn().execute("SELECT expires_at FROM atlas_ratelimit WHERE key = %s", (key,)).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            return self._conn().execute("SELECT 1").fetchone() == (1,)
        except Exception:
            return False

    def reset(self) -> int | None:
        return self._conn().execute("DELETE FROM atlas_ratelimit").rowcount

    def clear(self, key: str) -> None:
        self._conn().execute("DELETE FROM atlas_ratelimit WHERE key = %s", (key,))
