"""Partner access: what a read-only token for another authority may be scoped to.

A county partner reaches the city's data (or the other way round) with a
token the admin grants for named indicators or domains at named levels.
The names are checked here against the catalogue and the store's levels, so
a typo never turns into a token that reads nothing, or more than meant.
"""
from __future__ import annotations

from atlas.services import crosswalk, territory
from atlas.services.context import Atlas
from auth.permissions import Scope


class ScopeError(ValueError):
    """A scope names something this atlas does not have."""


def _names(text: str | None) -> frozenset[str]:
    return frozenset(part.strip() for part in (text or "").split(",") if part.strip())


def scope_from_names(atlas: Atlas, indicators: str | None, domains: str | None, levels: str | None) -> Scope:
    """A partner scope from comma-separated ids; every id must exist, with the known ones listed if not.

    Levels may name parallel grids too: a school board granted `grundschulbezirk`
    reads that grid's estimates, as a county partner reads a level.
    """
    wanted = {"indicators": _names(indicators), "domains": _names(domains), "levels": _names(levels)}
    known = {"indicators": {i.id for i in atlas.indicators}, "domains": {d.id for d in atlas.domains},
             "levels": set(territory.level_ids(atlas)) | {g.id for g in crosswalk.grids(atlas)}}
    for what, names in wanted.items():
        unknown = sorted(names - known[what])
        if unknown:
            raise ScopeError(f"unknown {what}: {', '.join(unknown)}; known: {', '.join(sorted(known[what]))}")
    if not (wanted["indicators"] or wanted["domains"]):
        raise ScopeError("name at least one indicator or domain")
    if not wanted["levels"]:
        raise ScopeError(f"name at least one level of {', '.join(territory.level_ids(atlas))}")
    return Scope(wanted["indicators"], wanted["domains"], wanted["levels"])
