"""Search: areas by name or key at every level, indicators by words of their titles and definitions.

What a planner types into one box: "Mühlenberg", "muehlenberg", "0203",
"kita quote", "unemployment". Areas carry no secrets (their boundaries are
public), indicators only those the viewer may see: a hidden indicator is not
found, exactly like one that does not exist.
"""
from __future__ import annotations

from dataclasses import dataclass

from atlas.catalog import unit_in
from atlas.services import profiles, queries, territory
from atlas.services.context import Atlas
from atlas.text_match import fold, words
from auth.permissions import Principal

MAX_QUERY = 200  # characters; longer text finds nothing anyone typed


@dataclass(frozen=True)
class Found:
    areas: list[dict]
    indicators: list[dict]


def search(atlas: Atlas, viewer: Principal, text: str, limit: int = 20, lang: str = "de") -> Found:
    """Areas whose folded name holds the query (or whose key starts with it), exact hits first; indicators
    whose title or definition (German and English) holds every word of the query."""
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_QUERY:
        return Found([], [])
    return Found(_areas(atlas, text, limit, lang), _indicators(atlas, viewer, text, limit, lang))


def _areas(atlas: Atlas, text: str, limit: int, lang: str) -> list[dict]:
    return [{"area_id": p.area_id, "name": p.name, "level": p.level, "level_label": territory.label(
        atlas, p.level, lang), "boundary_set": p.set_id} for p in profiles.search(atlas, text, limit)]


def _indicators(atlas: Atlas, viewer: Principal, text: str, limit: int, lang: str) -> list[dict]:
    wanted = words(text)
    if not wanted:
        return []
    visible = queries.visible_indicators(atlas, viewer)
    out = []
    for row in visible.itertuples(index=False):
        haystack = fold(" ".join(str(getattr(row, f) or "") for f in ("id", "title_de", "title_en",
                                                                        "definition_de", "definition_en")))
        if all(w in haystack for w in wanted):
            out.append({"id": row.id, "title": row.title_en if lang == "en" else row.title_de,
                        "domain": row.domain, "unit": unit_in(row.unit, getattr(row, "unit_en", ""), lang)})
    return out[:limit]
