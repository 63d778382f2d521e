"""Which area a row of an extract means: its key decides, its name cross-checks; "not assignable" and total rows.

A wrong area is worse than a refused row: data stored on another area look
right and are wrong. So a key that is given decides and is never replaced by
the name (an unknown key is an error that says where the key does belong,
e.g. to an older boundary set); a name that does not fit the key is a
warning naming both. Rows without a usable area are recognised by what
publishers write: "nicht zuzuordnen" rows (words, `XX99`-keys, a parent's
key alone) become the parent's unassigned cell (`boundaries.unassigned_id`),
total rows ("Stadt insgesamt", "Mitte insgesamt", the city's key) are
compared with the sum of their parts and never stored.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from datetime import date

import pandas as pd

from atlas.messages import Message
from atlas.services import queries, territory
from atlas.services.boundaries import (
    UNASSIGNED_SUFFIX,
    is_unassigned,
    unassigned_id,
)
from atlas.services.context import Atlas
from atlas.text_match import fold

# What publishers write for cases that cannot be placed in an area (folded: no case, umlauts, spaces).
NOT_ASSIGNABLE = ("nichtzuzuordnen", "nichtzuordenbar", "nichtzugeordnet", "nichtzuordnungsfaehig", "ohnezuordnung",
                  "ohneortsangabe", "ortunbekannt", "unbekannt")
# Words of a total row, longest first so that "gesamtsumme" is removed before "gesamt".
TOTAL_WORDS = ("gesamtsumme", "insgesamt", "zusammen", "gesamt", "summe", "total")
CITY_WORDS = ("gesamtstadt", "stadtgebiet", "stadt")
GENERIC_PREFIXES = ("stadtbezirk", "bezirk", "ortsteil", "gebiet")  # "Bezirk Mitte" means Mitte
_KEY_LIKE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._/-]*")
_NINES = re.compile(r"9{2,}0*")  # XX99, XX9900: the publishers' "rest of parent XX"


def key_text(cell) -> str:
    """A key cell as text: 101.0 (a number in Excel) → '101'; empty → ''."""
    if cell is None or (isinstance(cell, float) and cell != cell):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip().lstrip("'")  # a leading apostrophe is how spreadsheets keep text


@dataclass(frozen=True)
class AreaMatch:
    """What a row's area cells mean.

    kind: 'area' (a base area), 'unassigned' (a parent's or the city's not-assignable cases),
    'total' (a total row of `area_id`, the city or a parent: checked, not stored) or 'error'.
    `warning` is set when the name does not fit the key (the key decided).
    """

    kind: str
    area_id: str | None = None
    error: str = ""
    warning: str = ""

    @property
    def stored(self) -> bool:
        return self.kind in ("area", "unassigned")


@dataclass
class _SetIndex:
    set_id: str
    label: str
    keys: dict[str, str]  # base key -> name
    by_name: dict[str, list[str]]  # folded name -> base keys
    width: int
    parents: dict[str, str]  # key of an intermediate level (Stadtbezirk) -> name
    parent_by_name: dict[str, str]  # folded name -> parent key
    parent_width: int
    city_id: str
    city_name: str
    up: dict[str, tuple[str, ...]]  # base or parent key -> the parents above it, below the city


def _day(day) -> date | str:
    """A boundary set's day for a message (rendered per language by atlas.messages), or '' when unknown."""
    return day if isinstance(day, date) else ""


class AreaMatcher:
    """Matches (key, name) cells of one boundary set; every answer is memoised (an extract repeats them)."""

    def __init__(self, atlas: Atlas):
        self.atlas = atlas
        self._sets: dict[str, _SetIndex] = {}
        self._memo: dict[tuple, AreaMatch] = {}
        self._keys_everywhere: dict[str, list[tuple[str, str]]] | None = None
        self._names_everywhere: dict[str, list[str]] | None = None

    # ------------------------------------------------------------ indexes
    def index(self, set_id: str) -> _SetIndex:
        if set_id not in self._sets:
            self._sets[set_id] = self._build(set_id)
        return self._sets[set_id]

    def _build(self, set_id: str) -> _SetIndex:
        sets = queries.boundary_sets(self.atlas).set_index("set_id")
        label = str(sets.loc[set_id, "label"]) if set_id in sets.index else set_id
        base = queries.areas(self.atlas, territory.base_level(self.atlas), set_id)
        keys = dict(zip(base["area_id"], base["name"]))
        by_name: dict[str, list[str]] = {}
        for a, name in keys.items():
            by_name.setdefault(fold(name), []).append(a)
        parent_of = dict(zip(base["area_id"], base["parent_id"]))
        parents: dict[str, str] = {}
        for level in territory.level_ids(self.atlas)[1:-1]:
            frame = queries.areas(self.atlas, level, set_id)
            parents.update(zip(frame["area_id"], frame["name"]))
            parent_of.update(zip(frame["area_id"], frame["parent_id"]))
        city = queries.areas(self.atlas, territory.top_level(self.atlas), set_id)
        up = {}
        for a in list(keys) + list(parents):
            chain, p = [], parent_of.get(a)
            while p in parents and p not in chain:
                chain.append(p)
                p = parent_of.get(p)
            up[a] = tuple(chain)
        return _SetIndex(set_id, label, keys, by_name, max(map(len, keys), default=0), parents,
                         {fold(n): k for k, n in parents.items()}, max(map(len, parents), default=0),
                         str(city["area_id"].iloc[0]) if len(city) else "",
                         str(city["name"].iloc[0]) if len(city) else "", up)

    def keys_everywhere(self) -> dict[str, list[tuple[str, str]]]:
        """Every key of every set and level: key -> [(set_id, level)], to say where an unknown key belongs."""
        if self._keys_everywhere is None:
            found: dict[str, list[tuple[str, str]]] = {}
            for set_id in queries.boundary_sets(self.atlas)["set_id"]:
                for level in territory.level_ids(self.atlas):
                    for a in queries.areas(self.atlas, level, set_id)["area_id"]:
                        found.setdefault(a, []).append((set_id, level))
            self._keys_everywhere = found
        return self._keys_everywhere

    def names_everywhere(self) -> dict[str, list[str]]:
        """Folded base-area names of every set -> the sets that have them."""
        if self._names_everywhere is None:
            found: dict[str, list[str]] = {}
            for set_id in queries.boundary_sets(self.atlas)["set_id"]:
                for name in queries.areas(self.atlas, territory.base_level(self.atlas), set_id)["name"]:
                    found.setdefault(fold(name), []).append(set_id)
            self._names_everywhere = found
        return self._names_everywhere

    def exists_elsewhere(self, set_id: str, key) -> bool:
        """True when the key is a base area of another set (a wide table's 'x': it did not exist then)."""
        base = territory.base_level(self.atlas)
        return any(s != set_id and level == base for s, level in self.keys_everywhere().get(key_text(key), []))

    # ------------------------------------------------------------ labels and hierarchy
    def label(self, set_id: str | None, area_id: str) -> str:
        """'Altstadt (0101)', 'Mitte – nicht zuordenbar (01-nz)': how messages name an area (a not-assignable
        one as a Message: its words in the reader's language)."""
        if set_id is None:
            return str(area_id)
        ix = self.index(set_id)
        if is_unassigned(area_id):
            owner_id = area_id[: -len(UNASSIGNED_SUFFIX)]
            owner = ix.parents.get(owner_id) or (ix.city_name if owner_id == ix.city_id else owner_id)
            return Message("chk_unassigned_area", owner=owner, id=area_id)
        name = ix.keys.get(area_id) or ix.parents.get(area_id) or (ix.city_name if area_id == ix.city_id else "")
        return f"{name} ({area_id})" if name else str(area_id)

    def parents_of(self, set_id: str, area_id: str) -> tuple[str, ...]:
        """The parents below the city a stored cell counts in: a base area's, or an unassigned cell's owner."""
        ix = self.index(set_id)
        if is_unassigned(area_id):
            owner = area_id[: -len(UNASSIGNED_SUFFIX)]
            return (owner,) + ix.up.get(owner, ()) if owner in ix.parents else ()
        return ix.up.get(area_id, ())

    # ------------------------------------------------------------ matching
    def match(self, set_id: str, key, name) -> AreaMatch:
        """The meaning of one row's key and name cells in `set_id` (memoised)."""
        memo_key = (set_id, key_text(key), key_text(name))
        if memo_key not in self._memo:
            self._memo[memo_key] = self._match(self.index(set_id), *memo_key[1:])
        return self._memo[memo_key]

    def _match(self, ix: _SetIndex, key: str, name: str) -> AreaMatch:
        if key:
            if key in ix.keys or key in ix.parents or key == ix.city_id or not _looks_like_name(key, ix):
                return self._by_key(ix, key, name)
            return self._by_name(ix, key, name)  # an area column holding names
        if name:
            return self._by_name(ix, name, "")
        return AreaMatch("error", error=Message("chk_area_missing"))

    def _by_key(self, ix: _SetIndex, key: str, name: str) -> AreaMatch:
        padded = key.zfill(ix.width) if key.isdigit() and len(key) < ix.width else key  # Excel dropped the zero
        if padded in ix.keys:
            return AreaMatch("area", padded, warning=self._name_check(ix, padded, name))
        city_keys = {ix.city_id, str(self.atlas.store.manifest().get("city", {}).get("key", ""))} - {""}
        if key in city_keys:
            return AreaMatch("total", ix.city_id)
        parent = key if key in ix.parents else key.zfill(ix.parent_width) if key.isdigit() else None
        if parent in ix.parents:
            return self._parent_row(ix, parent, name)
        if key.endswith(UNASSIGNED_SUFFIX):  # the atlas's own export of not-assignable cells
            owner = key[: -len(UNASSIGNED_SUFFIX)]
            if owner in ix.parents or owner == ix.city_id:
                return AreaMatch("unassigned", unassigned_id(owner))
        for text in dict.fromkeys([key, padded]):
            for p in ix.parents:
                if text.startswith(p) and _NINES.fullmatch(text[len(p):]):
                    return AreaMatch("unassigned", unassigned_id(p))
        return AreaMatch("error", error=self._unknown_key(ix, key, padded, name))

    def _parent_row(self, ix: _SetIndex, parent: str, name: str) -> AreaMatch:
        """A parent's key alone at the base level: its subtotal when it is named so, else its not-assignable cases."""
        folded = fold(name)
        rest = _total_rest(folded)
        core = _strip_generic(rest)
        if folded and (core == fold(ix.parents[parent]) or (rest != folded and core == "")):
            return AreaMatch("total", parent)
        unassigned = unassigned_id(parent)
        if not folded or _unassigned_rest(folded) is not None:
            return AreaMatch("unassigned", unassigned)
        return AreaMatch("unassigned", unassigned, warning=Message(
            "chk_parent_key_named_otherwise", key=parent, parent=ix.parents[parent], name=name,
            stored=self.label(ix.set_id, unassigned)))

    def _name_check(self, ix: _SetIndex, area_id: str, name: str) -> str:
        """A warning when the name column says another area than the key (the key decides)."""
        others = [o for o in ix.by_name.get(fold(name), []) if o != area_id]
        if not name or (not others and _same_name(name, ix.keys[area_id])):
            return ""
        hint = Message("chk_name_belongs_to", areas=[self.label(ix.set_id, o) for o in others]) if others else ""
        return Message("chk_name_not_key", name=name, key=area_id, key_name=ix.keys[area_id], hint=hint,
                       stored=self.label(ix.set_id, area_id))

    def _by_name(self, ix: _SetIndex, text: str, name: str) -> AreaMatch:
        """A name, in the name column or in an area column without keys (`name`: a name column beside it)."""
        folded = fold(text)
        candidates = ix.by_name.get(folded, [])
        if len(candidates) == 1:
            return AreaMatch("area", candidates[0], warning=self._name_check(ix, candidates[0], name))
        if len(candidates) > 1:
            return AreaMatch("error", error=Message(
                "chk_name_ambiguous", name=text, areas=[self.label(ix.set_id, c) for c in candidates]))
        if (total := self._total(ix, folded)) is not None:
            return total
        if (rest := _unassigned_rest(folded)) is not None:
            return self._unassigned_by_name(ix, text, rest)
        return AreaMatch("error", error=self._unknown_name(ix, text))

    def _total(self, ix: _SetIndex, folded: str) -> AreaMatch | None:
        """'Stadt insgesamt', 'Summe', '<city> insgesamt', the city's name: the city; 'Mitte insgesamt': a parent."""
        rest = _total_rest(folded)
        city = fold(ix.city_name)
        if rest in CITY_WORDS or (city and rest in (city, "stadt" + city)) or (rest == "" and folded):
            return AreaMatch("total", ix.city_id)
        core = _strip_generic(rest)
        if core != folded and core in ix.parent_by_name:  # 'Mitte insgesamt', 'Bezirk Mitte'
            return AreaMatch("total", ix.parent_by_name[core])
        if folded in ix.parent_by_name:  # a Stadtbezirk's own row among its Ortsteile: its subtotal
            return AreaMatch("total", ix.parent_by_name[folded])
        return None

    def _unassigned_by_name(self, ix: _SetIndex, text: str, rest: str) -> AreaMatch:
        rest = _strip_generic(rest)
        if rest in ("", *CITY_WORDS) or rest == fold(ix.city_name):
            return AreaMatch("unassigned", unassigned_id(ix.city_id))
        parent = ix.parent_by_name.get(rest) or (rest if rest in ix.parents else None)
        if parent:
            return AreaMatch("unassigned", unassigned_id(parent))
        example_name, example_key = next(iter(ix.parents.values()), "Mitte"), next(iter(ix.parents), "01")
        return AreaMatch("error", error=Message(
            "chk_unassigned_which_parent", name=text, example_name=example_name, example_key=example_key))

    # ------------------------------------------------------------ messages
    def _unknown_key(self, ix: _SetIndex, key: str, padded: str, name: str) -> str:
        sets = queries.boundary_sets(self.atlas).set_index("set_id")
        for candidate in dict.fromkeys([key, padded]):
            elsewhere = [(s, level) for s, level in self.keys_everywhere().get(candidate, []) if s != ix.set_id]
            if not elsewhere:
                continue
            s, level = elsewhere[-1]
            valid = ""
            if s in sets.index:
                row = sets.loc[s]
                valid = (Message("chk_valid_to", day=_day(row["valid_to"])) if row["valid_to"] is not None
                         else Message("chk_valid_from", day=_day(row["valid_from"])))
            level_note = "" if level == territory.base_level(self.atlas) else \
                Message("chk_level_note", level=territory.label(self.atlas, level))
            return Message("chk_key_other_set", key=candidate, other=s, valid=valid, level_note=level_note,
                           set=ix.set_id, label=ix.label)
        by_name = ix.by_name.get(fold(name), []) if name else []
        hint = Message("chk_key_name_elsewhere", name=name,
                       areas=[self.label(ix.set_id, a) for a in by_name]) if by_name else ""
        return Message("chk_unknown_key", key=key, set=ix.set_id, label=ix.label, hint=hint)

    def _unknown_name(self, ix: _SetIndex, text: str) -> str:
        folded = fold(text)
        names = {fold(n): n for n in ix.keys.values()}
        close = [names[c] for c in difflib.get_close_matches(folded, list(names), n=3, cutoff=0.75)]
        if close:
            return Message("chk_unknown_name_close", name=text, set=ix.set_id,
                           close=Message("chk_or_list", first=", ".join(f"'{c}'" for c in close[:-1]),
                                         last=f"'{close[-1]}'") if len(close) > 1 else f"'{close[0]}'")
        if other := [s for s in self.names_everywhere().get(folded, []) if s != ix.set_id]:
            return Message("chk_unknown_name_other_set", name=text, set=ix.set_id, other=other[-1])
        return Message("chk_unknown_name", name=text, set=ix.set_id)


def _looks_like_name(text: str, ix: _SetIndex) -> bool:
    """Text in a key column that is a name: a known name, or words rather than a code."""
    return fold(text) in ix.by_name or not _KEY_LIKE.fullmatch(text) or not any(ch.isdigit() for ch in text)


def _same_name(given: str, known: str) -> bool:
    """Names that differ only in spelling or by a shortened ending ('Ost 1' for 'Ost 1 - Reginhardstr.').

    Callers first rule out a name that is another area's own name.
    """
    a, b = fold(given), fold(known)
    return a == b or (min(len(a), len(b)) >= 4 and (a.startswith(b) or b.startswith(a)))


def _total_rest(folded: str) -> str:
    """The name without its total words ('mitteinsgesamt' → 'mitte'); unchanged when it has none."""
    for word in TOTAL_WORDS:
        folded = folded.replace(word, "")
    return folded


def _unassigned_rest(folded: str) -> str | None:
    """The name without its not-assignable words ('mittenichtzuzuordnen' → 'mitte'); None when it has none."""
    for word in NOT_ASSIGNABLE:
        if word in folded:
            return folded.replace(word, "")
    return None


def _strip_generic(rest: str) -> str:
    for prefix in GENERIC_PREFIXES:
        if rest.startswith(prefix) and rest != prefix:
            return rest[len(prefix):]
        if rest == prefix:
            return ""
    return rest


def key_column_score(matcher: AreaMatcher, values: pd.Series) -> tuple[float, float]:
    """(share of values that are keys, share that are names) of any boundary set: which column is which."""
    sample = [key_text(v) for v in pd.Series(values).dropna().unique()[:200]]
    sample = [v for v in sample if v]
    if not sample:
        return 0.0, 0.0
    known = matcher.keys_everywhere()
    names = matcher.names_everywhere()
    widths = {len(k) for k in known}
    keys = sum(1 for v in sample if v in known or (v.isdigit() and any(v.zfill(w) in known for w in widths)))
    named = sum(1 for v in sample if fold(v) in names)
    return keys / len(sample), named / len(sample)
