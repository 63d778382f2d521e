"""The territory's hierarchy of area levels: data in the store, never names in the code.

A store declares its levels, base level first and the whole territory last,
in its manifest (`levels`): a city `ortsteil → stadtbezirk → stadt`, Berlin
`planungsraum → bezirksregion → prognoseraum → bezirk → stadt`, a county
`ortsteil → gemeinde → planregion → kreis`. Each level says how a child finds
its parent on upload (a column, a key prefix of a given length, or a spatial
join). Every part of the atlas asks this module for level ids and labels;
a store without a declaration is a city with the three classic levels.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from atlas.services.context import Atlas

MIN_LEVELS, MAX_LEVELS = 2, 6
_LEVEL_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Level:
    """One level of the hierarchy and how its areas find their parent."""

    id: str
    name_de: str
    name_en: str
    plural_de: str
    plural_en: str
    # "column:<name>", "prefix:<n>" (parent key = the first n characters) or "spatial"; "" for the top level
    parent_from: str = ""

    def label(self, lang: str = "de", plural: bool = False) -> str:
        if lang == "en":
            return self.plural_en if plural else self.name_en
        return self.plural_de if plural else self.name_de


# A store that declares nothing: the classic city. Its boundary uploads say how an Ortsteil finds its
# Stadtbezirk (parent_col or parent_key_length); the Stadtbezirke belong to the city.
CITY_LEVELS = (
    Level("ortsteil", "Ortsteil", "neighbourhood", "Ortsteile", "neighbourhoods"),
    Level("stadtbezirk", "Stadtbezirk", "borough", "Stadtbezirke", "boroughs"),
    Level("stadt", "Stadt", "city", "Stadt", "city"),
)


class LevelError(ValueError):
    pass


def parse_levels(raw: list[dict]) -> tuple[Level, ...]:
    """Levels from their stored or uploaded form; raises LevelError saying what is wrong."""
    if not isinstance(raw, list) or not MIN_LEVELS <= len(raw) <= MAX_LEVELS:
        raise LevelError(f"eine Gebietshierarchie hat {MIN_LEVELS} bis {MAX_LEVELS} Ebenen / "
                         f"a hierarchy has {MIN_LEVELS} to {MAX_LEVELS} levels")
    levels, seen = [], set()
    for i, item in enumerate(raw):
        try:
            level = Level(**item)
        except TypeError as exc:
            raise LevelError(f"Ebene {i + 1}: {exc}") from None
        if not _LEVEL_ID.match(level.id) or level.id in seen:
            raise LevelError(f"Ebene {i + 1}: Kennung {level.id!r} ungültig oder doppelt (a-z, 0-9, _)")
        top = i == len(raw) - 1
        if not top and not re.match(r"^(column:.+|prefix:[1-9][0-9]?|spatial)$", level.parent_from):
            raise LevelError(f"Ebene {level.id}: parent_from muss 'column:<Spalte>', 'prefix:<n>' oder 'spatial' sein")
        seen.add(level.id)
        levels.append(level)
    return tuple(levels)


def stored_form(levels: tuple[Level, ...]) -> list[dict]:
    return [asdict(level) for level in levels]


def levels(atlas: Atlas) -> tuple[Level, ...]:
    """The store's levels, base first (the classic city levels when the store declares none)."""
    def load() -> tuple[Level, ...]:
        raw = atlas.store.manifest().get("levels") if atlas.store.exists() else None
        return parse_levels(raw) if raw else CITY_LEVELS
    return atlas.cached(("levels",), load)


def level_ids(atlas: Atlas) -> tuple[str, ...]:
    return tuple(level.id for level in levels(atlas))


def base_level(atlas: Atlas) -> str:
    return levels(atlas)[0].id


def top_level(atlas: Atlas) -> str:
    return levels(atlas)[-1].id


def get_level(atlas: Atlas, level_id: str) -> Level | None:
    return next((level for level in levels(atlas) if level.id == level_id), None)


def label(atlas: Atlas, level_id: str, lang: str = "de", plural: bool = False) -> str:
    level = get_level(atlas, level_id)
    return level.label(lang, plural) if level else level_id
