"""The indicator catalogue: loaded from `layers/*.toml`, validated strictly.

A typo in a catalogue file must stop the start-up with a message naming the
file and key, never fall back to a default: a missing `visibility` silently
becoming public would leak data.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import MISSING, asdict, dataclass, fields
from pathlib import Path

import pandas as pd

from atlas.messages import Message
from auth.permissions import VISIBILITIES

POLARITIES = ("high_good", "high_bad", "neutral")
AGGREGATIONS = ("ratio", "sum", "none")
PERIODICITIES = ("year", "quarter", "month")
_ID = re.compile(r"^[a-z0-9_]{2,64}$")
MAX_DECIMALS = 6  # beyond it a number is noise, and formatting with 10**9 decimals took the map down
MAX_SCALE = 1_000_000  # per 100, per 1,000 … per million inhabitants
# Text fields and their longest length: a title is a line, a definition a paragraph.
TEXT_LIMITS = {"title_de": 200, "title_en": 200, "unit": 40, "unit_en": 40, "department": 64,
               "definition_de": 5000, "definition_en": 5000, "source": 1000, "contact": 500, "licence": 200, "numerator": 200,
               "denominator": 200, "recipe": 20000}


class CatalogError(ValueError):
    """A catalogue entry is malformed; the message names file (or upload), indicator and key.

    Its one argument is a `Message` where the entry can come from an upload, so the steward reads the reason in
    their language; str() is the German text (as the log and the layer files' loader show it)."""


@dataclass(frozen=True)
class Domain:
    id: str
    title_de: str
    title_en: str
    order: int


@dataclass(frozen=True)
class Indicator:
    id: str
    title_de: str
    title_en: str
    definition_de: str
    definition_en: str
    domain: str
    unit: str
    department: str
    visibility: str
    polarity: str
    decimals: int
    aggregation: str
    periodicity: str
    source: str
    contact: str
    licence: str
    scale: float = 1.0
    numerator: str = ""
    denominator: str = ""
    suppress_numerator_below: int = 0
    suppress_denominator_below: int = 0
    # Counts (aggregation "sum"): values from 1 below this are withheld; None = the offices' default (3).
    suppress_value_below: int | None = None
    # Indicators publishing the same count (a count and a share built on it): suppressed together.
    same_count_as: tuple[str, ...] = ()
    diverging: bool = False
    # A derived indicator (a composite index): its recipe as JSON (atlas.services.indices); "" otherwise.
    recipe: str = ""
    # Organisations that may also see a restricted indicator: the owner (a Gemeinde) shares it with them.
    shared_with: tuple[str, ...] = ()
    # The unit in English where it has words ("Personen" → "persons"); "" = the same as `unit` ("%", "€").
    unit_en: str = ""

    def title(self, lang: str = "de") -> str:
        return self.title_en if lang == "en" else self.title_de

    def unit_in(self, lang: str = "de") -> str:
        """The unit as a reader of `lang` reads it: an English page said "12,441 Personen" before."""
        return unit_in(self.unit, self.unit_en, lang)


def unit_in(unit: str, unit_en, lang: str) -> str:
    """A unit in `lang`, for an indicator or a catalogue row (whose `unit_en` may be empty or missing)."""
    english = unit_en if isinstance(unit_en, str) and unit_en else unit
    return english if lang == "en" else unit


_REQUIRED = {f.name for f in fields(Indicator) if f.default is MISSING} - {"domain"}
_ALLOWED = {f.name for f in fields(Indicator)} - {"domain"}


def _check_indicator(raw: dict, domain: str, where: str) -> Indicator:
    ind_id = raw.get("id", "?")
    ctx = Message("cat_ctx", where=where, id=repr(ind_id))
    unknown = set(raw) - _ALLOWED
    if unknown:
        raise CatalogError(Message("cat_unknown_keys", ctx=ctx, keys=str(sorted(unknown))))
    missing = _REQUIRED - set(raw)
    if missing:
        raise CatalogError(Message("cat_missing_keys", ctx=ctx, keys=str(sorted(missing))))
    if not _ID.match(str(ind_id)):
        raise CatalogError(Message("cat_id", ctx=ctx, pattern=_ID.pattern))
    for key, allowed in (("visibility", VISIBILITIES), ("polarity", POLARITIES),
                         ("aggregation", AGGREGATIONS), ("periodicity", PERIODICITIES)):
        if raw[key] not in allowed:
            raise CatalogError(Message("cat_one_of", ctx=ctx, key=key, value=repr(raw[key]),
                                       allowed=", ".join(allowed)))
    if raw["aggregation"] == "ratio" and not (raw.get("numerator") and raw.get("denominator") and raw.get("scale")):
        raise CatalogError(Message("cat_ratio", ctx=ctx))
    raw = dict(raw)
    _check_fields(raw, ctx)
    for key in ("suppress_numerator_below", "suppress_denominator_below", "suppress_value_below"):
        threshold = raw.get(key)
        if threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int)
                                      or not 0 <= threshold <= 1_000_000):
            raise CatalogError(Message("cat_threshold", ctx=ctx, key=key, value=repr(threshold)))
    linked = raw.get("same_count_as", ())
    if isinstance(linked, str) or not all(isinstance(i, str) and _ID.match(i) for i in linked):
        raise CatalogError(Message("cat_same_count_as", ctx=ctx))
    raw["same_count_as"] = tuple(linked)
    shared = raw.get("shared_with", ())
    if isinstance(shared, str) or not all(isinstance(o, str) and _ID.match(o) for o in shared):
        raise CatalogError(Message("cat_shared_with", ctx=ctx))
    raw["shared_with"] = tuple(shared)
    return Indicator(domain=domain, **raw)


def _check_fields(raw: dict, ctx: Message) -> None:
    """Types and bounds of the plain fields: every reader (map, chart, print, GeoJSON) trusts them."""
    for key, limit in TEXT_LIMITS.items():
        if key in raw and not (isinstance(raw[key], str) and len(raw[key]) <= limit):
            raise CatalogError(Message("cat_text", ctx=ctx, key=key, limit=limit))
    decimals = raw.get("decimals")
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= MAX_DECIMALS:
        raise CatalogError(Message("cat_decimals", ctx=ctx, value=repr(str(decimals)[:40]), limit=MAX_DECIMALS))
    scale = raw.get("scale", 1.0)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 < scale <= MAX_SCALE:
        raise CatalogError(Message("cat_scale", ctx=ctx, value=repr(str(scale)[:40]), limit=MAX_SCALE))
    raw["scale"] = float(scale)
    if not isinstance(raw.get("diverging", False), bool):
        raise CatalogError(Message("cat_diverging", ctx=ctx))


def load_departments(layers_dir: Path) -> dict[str, dict[str, str]]:
    """Department key → {"de": name, "en": name}, from `layers/departments.toml`."""
    path = Path(layers_dir) / "departments.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))["departments"] if path.exists() else {}


def load_catalog(layers_dir: Path) -> tuple[list[Domain], list[Indicator]]:
    """Read every domain file `*.toml` in `layers_dir`, in file-name order."""
    departments = load_departments(layers_dir)
    domains: list[Domain] = []
    indicators: list[Indicator] = []
    seen: set[str] = set()
    files = sorted(p for p in Path(layers_dir).glob("*.toml") if p.name != "departments.toml")
    if not files:
        raise CatalogError(f"no catalogue files (*.toml) in {layers_dir}")
    for path in files:
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogError(f"{path.name}: {exc}") from exc
        if "domain" not in doc:
            raise CatalogError(f"{path.name}: missing [domain] table")
        domain = Domain(**doc["domain"])
        domains.append(domain)
        for raw in doc.get("indicator", []):
            ind = _check_indicator(dict(raw), domain.id, path.name)
            if departments and ind.department not in departments:
                raise CatalogError(f"{path.name}: indicator {ind.id!r}: department {ind.department!r} "
                                   f"is not listed in departments.toml")
            if ind.id in seen:
                raise CatalogError(f"{path.name}: indicator {ind.id!r} is defined twice")
            seen.add(ind.id)
            indicators.append(ind)
    return sorted(domains, key=lambda d: d.order), indicators


def catalog_frame(indicators: list[Indicator], domains: list[Domain]) -> pd.DataFrame:
    """The catalogue as a table, registered in DuckDB so filters run in SQL."""
    order = {d.id: d.order for d in domains}
    frame = pd.DataFrame([asdict(i) for i in indicators])
    frame["same_count_as"] = [",".join(i.same_count_as) for i in indicators]  # a plain column for SQL
    frame["shared_with"] = [",".join(i.shared_with) for i in indicators]
    frame["domain_order"] = frame["domain"].map(order)
    return frame


# ------------------------------------------------------------------ created through uploads
def check_new_indicator(raw: dict, known_domains: set[str], known_departments: set[str]) -> Indicator:
    """A definition sent with an upload, held to the same rules as the catalogue files."""
    if not isinstance(raw, dict):
        raise CatalogError(Message("cat_not_object"))
    raw = dict(raw)
    domain = raw.pop("domain", None)
    if domain not in known_domains:
        raise CatalogError(Message("cat_domain", id=repr(raw.get("id", "?")), value=repr(domain),
                                   allowed=", ".join(sorted(known_domains))))
    if raw.get("recipe"):
        raise CatalogError(Message("cat_recipe", id=repr(raw.get("id", "?"))))
    if raw.get("shared_with"):
        raise CatalogError(Message("cat_sharing", id=repr(raw.get("id", "?"))))
    ind = _check_indicator(raw, domain, "upload")
    if ind.department not in known_departments:
        raise CatalogError(Message("cat_department", id=repr(ind.id), value=repr(ind.department),
                                   allowed=", ".join(sorted(known_departments))))
    return ind


def _id_list(raw) -> tuple[str, ...]:
    """Indicator ids as stored: a comma-separated string, a list or array, or nothing."""
    if raw is None or (isinstance(raw, float) and pd.isna(raw)):
        return ()
    items = raw.split(",") if isinstance(raw, str) else list(raw)
    return tuple(str(i) for i in items if i)


def _readable(values: dict) -> dict:
    """A stored definition within the bounds the checks now set (decimals 0..6, a positive finite scale).

    Why: an older atlas accepted `decimals: -1` or 10**9 through an upload,
    which broke maps, charts, print and GeoJSON for every viewer. Stored data
    stays as it is; readers see the nearest valid value.
    """
    try:
        decimals = int(values.get("decimals"))
    except (TypeError, ValueError, OverflowError):
        decimals = 1
    try:
        scale = float(values.get("scale", 1.0))
    except (TypeError, ValueError):
        scale = 1.0
    if not 0 < scale <= MAX_SCALE:  # also NaN and infinity
        scale = 1.0
    return {**values, "decimals": min(max(decimals, 0), MAX_DECIMALS), "scale": scale}


def stored_indicators(frame: pd.DataFrame | None) -> list[Indicator]:
    """Indicators kept in the store's `catalog` table, in creation order."""
    if frame is None or frame.empty:
        return []
    names = {f.name for f in fields(Indicator)}
    out = []
    for row in frame.to_dict("records"):
        values = {k: v for k, v in row.items() if k in names}
        values["same_count_as"] = _id_list(values.get("same_count_as"))
        values["shared_with"] = _id_list(values.get("shared_with"))
        below = values.get("suppress_value_below")
        values["suppress_value_below"] = None if below is None or pd.isna(below) else int(below)
        values["recipe"] = values["recipe"] if isinstance(values.get("recipe"), str) else ""
        values["unit_en"] = values["unit_en"] if isinstance(values.get("unit_en"), str) else ""  # older stores
        out.append(Indicator(**_readable(values)))
    return out
