"""Open the store for a data directory, generating the demo city when it is empty."""
from __future__ import annotations

import logging
from functools import lru_cache
from pathlib import Path

from atlas.catalog import (
    Domain,
    Indicator,
    catalog_frame,
    load_catalog,
    load_departments,
)
from atlas.config import Settings, load_settings
from atlas.store import Store
from auth.audit import AuditLog
from auth.tokens import TokenService
from auth.users import UserService

log = logging.getLogger(__name__)


class Atlas:
    """What a process needs: settings, catalogue and store, created once."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.domains, self.indicators = load_catalog(settings.layers_dir)
        self.indicator_by_id: dict[str, Indicator] = {i.id: i for i in self.indicators}
        self.domain_by_id: dict[str, Domain] = {d.id: d for d in self.domains}
        self.departments = load_departments(settings.layers_dir)
        self.store = Store(settings.data_dir, catalog_frame(self.indicators, self.domains))
        self.audit = AuditLog(settings.data_dir)
        self.users = UserService(self.store, set(self.departments), self.audit)
        self.tokens = TokenService(self.store, self.users, self.audit)
        self._cache: dict = {}
        self._cache_generation: tuple | None = None

    def cached(self, key: tuple, compute):
        """Memoise a read-only answer for the current store generation.

        Everything derived from the store is immutable until the manifest
        changes, so answers keyed by generation can never be stale. Callers
        must not mutate what they get back.
        """
        generation = self.store.state_key()
        if self._cache_generation != generation:
            self._cache, self._cache_generation = {}, generation
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def ensure_data(self) -> None:
        """A fresh install shows a living atlas: generate the demo on first start."""
        if self.store.exists():
            return
        from atlas import demo
        log.info("empty data directory %s: generating the demo city", self.settings.data_dir)
        if demo.generate(self.store, self.indicators):
            demo.create_demo_accounts(self.users)


@lru_cache(maxsize=8)
def _atlas_for(data_dir: Path, layers_dir: Path) -> Atlas:
    atlas = Atlas(load_settings())
    atlas.ensure_data()
    return atlas


def get_atlas() -> Atlas:
    """The process-wide atlas for the current environment's data directory."""
    s = load_settings()
    return _atlas_for(s.data_dir, s.layers_dir)
