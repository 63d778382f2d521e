"""The application context: settings, catalogue, store, accounts and caches of one app.

Created once by whoever runs the atlas (the web app factory, the CLI, a test,
the bench) and handed down: web code reads the app's own context
(`atlas.web.http.current_atlas`), services take it as their first argument.
Nothing re-reads the environment per request.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from atlas.catalog import (
    Domain,
    Indicator,
    catalog_frame,
    load_catalog,
    load_departments,
    stored_indicators,
)
from atlas.clock import Clock
from atlas.config import Settings
from atlas.store.shared_state import open_shared
from atlas.store.store import Store
from auth.audit import AuditLog
from auth.tokens import TokenService
from auth.users import UserService

_NONE = object()  # no answer kept (an answer may itself be None)
# How long a thread waits for another's computation of the same answer before computing it itself.
FLIGHT_WAIT_S = 60.0


class Atlas:
    """What a process needs: settings, catalogue and store, created once."""

    def __init__(self, settings: Settings, clock: Clock | None = None):
        self.settings = settings
        self.clock = clock or Clock()
        self.domains, self._configured = load_catalog(settings.layers_dir)
        self.domain_by_id: dict[str, Domain] = {d.id: d for d in self.domains}
        self._layer_departments = load_departments(settings.layers_dir)
        # With ATLAS_DATABASE_URL: the manifest pointer, writer lock, sessions, audit and pending uploads in
        # PostgreSQL, shared by every app server (atlas/store/shared_state.py); None: the data directory's files.
        self.shared = open_shared(settings.database_url, settings.data_dir, settings.session_max_hours * 3600)
        self.store = Store(settings.data_dir, catalog_frame(self._configured, self.domains), self.clock,
                           pointer=self.shared.pointer if self.shared else None)
        self._catalog_state: tuple[str | None, list[Indicator], dict[str, Indicator]] = (
            None, self._configured, {i.id: i for i in self._configured})
        self.audit = self.shared.audit if self.shared else AuditLog(settings.data_dir)
        # The sign-in sessions auth keeps (None: auth's own file registry in the data directory).
        self.sessions = self.shared.sessions if self.shared else None
        self.users = UserService(self.store, lambda: set(self.departments), self.audit)
        self.tokens = TokenService(self.store, self.users, self.audit)
        self._cache: dict = {}
        self._answers: OrderedDict = OrderedDict()
        self._carried: OrderedDict = OrderedDict()  # answers whose keys name what they depend on (`carried`)
        self._sized: OrderedDict = OrderedDict()  # key → (answer, bytes) (`remembered_by_size`)
        self._sized_bytes = 0
        self._cache_generation: tuple | None = None
        self._cache_lock = threading.Lock()
        self._flights: dict[tuple, threading.Lock] = {}  # key → the lock of its computation (`_one_at_a_time`)

    # The catalogue: indicators configured in layers/*.toml plus those created
    # through uploads (kept in the store, so every worker process sees them).
    def _catalog(self) -> tuple[list[Indicator], dict[str, Indicator]]:
        rel = self.store.manifest()["tables"].get("catalog") if self.store.exists() else None
        if rel != self._catalog_state[0]:
            created = stored_indicators(self.store.read_table("catalog"))
            indicators = self._configured + created
            self._catalog_state = (rel, indicators, {i.id: i for i in indicators})
        return self._catalog_state[1], self._catalog_state[2]

    @property
    def departments(self) -> dict[str, dict]:
        """Organisations that own indicators: the departments of layers/departments.toml plus those the
        store declares (a county's Gemeinden, each with the `area` its stewards may deliver for)."""
        stored = self.store.manifest().get("organisations", {}) if self.store.exists() else {}
        return {**self._layer_departments, **stored}

    def organisation_area(self, department: str) -> str | None:
        """The area an organisation is bound to (a Gemeinde), or None for a department of the whole territory."""
        return self.departments.get(department, {}).get("area") or None

    def department_name(self, key: str, lang: str) -> str:
        """A department's (organisation's) name in the reader's language.

        Falls back to the German name when the catalogue has none in `lang` (a Gemeinde the store declares may
        carry only its German name), and to the key for an organisation nobody named, so a page, picture or
        export always shows something readable instead of failing.
        """
        names = self.departments.get(key) or {}
        return names.get(lang) or names.get("de") or names.get("en") or key

    @property
    def indicators(self) -> list[Indicator]:
        return self._catalog()[0]

    @property
    def indicator_by_id(self) -> dict[str, Indicator]:
        return self._catalog()[1]

    def is_configured(self, indicator_id: str) -> bool:
        """Defined in layers/*.toml (changed by editing files), not created through an upload."""
        return any(i.id == indicator_id for i in self._configured)

    def cached(self, key: tuple, compute):
        """Memoise a read-only answer for the current store generation.

        Everything derived from the store is immutable until the manifest
        changes, so answers keyed by generation can never be stale. Callers
        must not mutate what they get back.
        """
        generation = self._sync_generation()
        cache = self._cache
        if key in cache:
            return cache[key]
        with self._one_at_a_time(key):
            if key in cache:  # computed by another thread while this one waited
                return cache[key]
            answer = compute()
            self._keep(generation, cache, key, answer)
        return answer

    def remembered(self, key: tuple, compute):
        """Like `cached`, for answers too many to keep all (a map view per indicator × period × classing).

        At most `answer_cache_size` answers per process, least recently used
        dropped first. Why: people in a meeting, and the public after a
        press release, look at the same few maps; each is computed once per
        store generation instead of once per click.
        """
        size = self.settings.answer_cache_size
        if size <= 0:
            return compute()
        generation = self._sync_generation()
        hit = self._hit(self._answers, key)
        if hit is not _NONE:
            return hit
        with self._one_at_a_time(key):
            hit = self._hit(self._answers, key)  # computed by another thread while this one waited
            if hit is not _NONE:
                return hit
            answer = compute()
            self._keep(generation, self._answers, key, answer, limit=size)
        return answer

    def _hit(self, kept: OrderedDict, key: tuple):
        """What `kept` holds for `key`, now the most recently used, or `_NONE`."""
        with self._cache_lock:
            if key not in kept:
                return _NONE
            kept.move_to_end(key)
            return kept[key]

    @contextmanager
    def _one_at_a_time(self, key: tuple) -> Iterator[None]:
        """One computation of a key at a time in this process; the others wait for its answer.

        Why: a worker's threads asked for the same first answer together (the first area profiles of a store
        state, each a table of every indicator on every level: ~5 s and ~400 MB at 12 M values) and each
        computed it, four at once: 1.7 GB peak and 8 s p95 under load. A waiter gives up after
        `FLIGHT_WAIT_S` and computes itself, so no wait can last for ever (answers that need each other
        cannot deadlock).
        """
        with self._cache_lock:
            lock = self._flights.setdefault(key, threading.Lock())
        got = lock.acquire(timeout=FLIGHT_WAIT_S)
        try:
            yield
        finally:
            if got:
                with self._cache_lock:
                    if self._flights.get(key) is lock:
                        del self._flights[key]  # the answer is filed by now: later askers find it
                lock.release()

    def remembered_by_size(self, key: tuple, compute, size: Callable[[object], int]):
        """Like `remembered`, bounded in bytes instead of answers: at most `series_cache_mb` MB per process.

        For answers whose size grows with the territory (an indicator's rows of every level above the
        base over all periods: a few KB in the demo city, MB at national scale), so a worker's memory
        stays bounded whatever the store holds. `size(answer)` says its bytes; an answer larger than the
        whole bound is computed and not kept. Dropped with the store state like `remembered`.
        """
        limit = self.settings.series_cache_mb * 1024 * 1024
        if limit <= 0:
            return compute()
        generation = self._sync_generation()
        hit = self._hit(self._sized, key)
        if hit is not _NONE:
            return hit[0]
        with self._one_at_a_time(key):
            hit = self._hit(self._sized, key)  # computed by another thread while this one waited
            if hit is not _NONE:
                return hit[0]
            answer = compute()
            self._keep_sized(generation, key, answer, int(size(answer)), limit)
        return answer

    def _keep_sized(self, generation: tuple, key: tuple, answer, nbytes: int, limit: int) -> None:
        """File an answer of `nbytes` within the bound, least recently used dropped first; not one computed
        for another store state, nor one larger than the whole bound."""
        with self._cache_lock:
            if self._cache_generation != generation or nbytes > limit:
                return
            _, before = self._sized.pop(key, (None, 0))
            self._sized[key] = (answer, nbytes)
            self._sized_bytes += nbytes - before
            while self._sized_bytes > limit:
                _, (_, dropped) = self._sized.popitem(last=False)
                self._sized_bytes -= dropped

    def kept_by_size(self, key: tuple):
        """The answer `remembered_by_size` keeps for `key` in this store state (most recently used), or None:
        for a caller that would rather not compute it on a miss."""
        if self.settings.series_cache_mb <= 0:
            return None
        self._sync_generation()
        hit = self._hit(self._sized, key)
        return None if hit is _NONE else hit[0]

    def carried(self, keys: list[tuple]) -> dict[tuple, object]:
        """The answers kept for these keys across store states (`carry`), most recently used moved last.

        Unlike `cached` and `remembered` they survive a new store state: each
        key must name everything its answer depends on (a digest of the
        versions and files read, the rights), so a state that changes any of
        it never finds the old answer.
        """
        with self._cache_lock:
            found = {key: self._carried[key] for key in keys if key in self._carried}
            for key in found:
                self._carried.move_to_end(key)
        return found

    def carry(self, state: tuple, answers: dict[tuple, object], limit: int) -> None:
        """Keep `answers` (computed in store state `state`) for `carried`, at most `limit` (and never more than
        `answer_cache_size`), least recently used dropped first; nothing when the state moved meanwhile (a
        read during a write may be of the next state)."""
        limit = min(limit, self.settings.answer_cache_size)
        if limit <= 0 or self.store.state_key() != state:
            return
        with self._cache_lock:
            self._carried.update(answers)
            while len(self._carried) > limit:
                self._carried.popitem(last=False)

    def _keep(self, generation: tuple, kept: dict, key: tuple, answer, limit: int | None = None) -> None:
        """File an answer computed for `generation`, unless the store changed meanwhile.

        An answer read before a new version (or a visibility change) must
        never be served under the new state. `kept` is the dict of that
        generation; with `limit`, the oldest entries go first.
        """
        with self._cache_lock:
            if self._cache_generation != generation:
                return
            kept[key] = answer
            while limit is not None and len(kept) > limit:
                kept.popitem(last=False)

    def _sync_generation(self) -> tuple:
        """Drop every remembered answer when the store's state changed; the state now."""
        generation = self.store.state_key()
        if self._cache_generation != generation:
            with self._cache_lock:
                self._cache, self._answers, self._cache_generation = {}, OrderedDict(), generation
                self._sized, self._sized_bytes = OrderedDict(), 0
        return generation
