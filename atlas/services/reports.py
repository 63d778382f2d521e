"""Report templates as data (`reports/*.toml`) and the data a rendered report shows, "as of" any date.

A template names chapters; each chapter has text and blocks: a map of an
indicator, a time series, a table over areas, a comparison of two
indicators, or a profile extract. `render` resolves every block with the
viewer's rights through the same services as the map (`queries`,
`profiles`), so a report never shows what the map withholds; a block on an
indicator the viewer may not see is left out exactly as if the indicator
did not exist. Drawing (HTML, PDF) is `atlas.export.report_render`.

**As of a date.** `as_of_context` opens the store as it stood at a moment:
versions created later are absent, and each version has the release state
it had then (replayed from the audit log's release and withdrawal entries;
versions without any such entry count as released when created, as the
demo's and older stores' are). Every service then answers as it did, so a
report "Stand 30.06.2026" comes out the same after newer uploads. Limits:
boundary sets and catalogue entries are today's.
"""
from __future__ import annotations

import json
import threading
import tomllib
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import pandas as pd

from atlas.config import PROJECT_ROOT
from atlas.services import profiles, queries, territory
from atlas.services.context import Atlas
from atlas.store.store import (
    UNASSIGNED_SUFFIX,
    Store,
    effective_versions,
    versions_table,
)
from auth.permissions import (
    Principal,
    indicator_filter_sql,
    may_render_report,
    version_filter_sql,
)

REPORTS_DIR = PROJECT_ROOT / "reports"
BLOCK_TYPES = {  # type → (required keys, optional keys)
    "map": ({"indicator"}, {"level", "period", "method", "k", "caption"}),
    "timeseries": ({"indicator"}, {"area", "caption"}),
    "table": ({"indicators"}, {"level", "period", "caption"}),
    "comparison": ({"indicators"}, {"level", "period", "caption"}),
    "profile": (set(), {"area", "indicators", "period", "caption"}),
}
TEMPLATE_KEYS = {"id", "title_de", "title_en", "description_de", "description_en", "visibility", "level",
                 "period", "chapter"}


class ReportError(ValueError):
    """A template is malformed (names the file and the key), or a request cannot be rendered."""


# ------------------------------------------------------------------ templates
@dataclass(frozen=True)
class Block:
    type: str
    options: dict

    def indicators(self) -> list[str]:
        if "indicator" in self.options:
            return [self.options["indicator"]]
        return list(self.options.get("indicators", []))


@dataclass(frozen=True)
class Chapter:
    title_de: str
    title_en: str
    text_de: str
    text_en: str
    blocks: tuple[Block, ...]

    def title(self, lang: str = "de") -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_de

    def text(self, lang: str = "de") -> str:
        return self.text_en if lang == "en" and self.text_en else self.text_de


@dataclass(frozen=True)
class Template:
    id: str
    title_de: str
    title_en: str
    description_de: str
    description_en: str
    visibility: str
    level: str | None
    period: str | None
    chapters: tuple[Chapter, ...]

    def title(self, lang: str = "de") -> str:
        return self.title_en if lang == "en" and self.title_en else self.title_de

    def description(self, lang: str = "de") -> str:
        return self.description_en if lang == "en" and self.description_en else self.description_de


def _check(cond: bool, where: str, message: str) -> None:
    if not cond:
        raise ReportError(f"{where}: {message}")


def parse_template(doc: dict, where: str) -> Template:
    """A template from its TOML form, checked strictly: a typo stops with the file and key named."""
    unknown = set(doc) - TEMPLATE_KEYS
    _check(not unknown, where, f"unknown key(s) {sorted(unknown)}")
    for key in ("id", "title_de", "visibility"):
        _check(isinstance(doc.get(key), str) and doc[key], where, f"{key} is required")
    _check(doc["visibility"] in ("public", "internal"), where, "visibility must be 'public' or 'internal'")
    chapters = []
    for i, ch in enumerate(doc.get("chapter", []), start=1):
        at = f"{where}: chapter {i}"
        _check(isinstance(ch.get("title_de"), str), at, "title_de is required")
        extra = set(ch) - {"title_de", "title_en", "text_de", "text_en", "block"}
        _check(not extra, at, f"unknown key(s) {sorted(extra)}")
        blocks = []
        for j, raw in enumerate(ch.get("block", []), start=1):
            bat = f"{at}, block {j}"
            kind = raw.get("type")
            _check(kind in BLOCK_TYPES, bat, f"type must be one of {sorted(BLOCK_TYPES)}")
            required, optional = BLOCK_TYPES[kind]
            options = {k: v for k, v in raw.items() if k != "type"}
            _check(required <= set(options), bat, f"missing {sorted(required - set(options))}")
            _check(not set(options) - required - optional, bat, f"unknown key(s) {sorted(set(options) - required - optional)}")
            if kind == "comparison":
                _check(len(options["indicators"]) == 2, bat, "a comparison takes exactly two indicators")
            blocks.append(Block(kind, options))
        chapters.append(Chapter(ch["title_de"], ch.get("title_en", ""), ch.get("text_de", ""), ch.get("text_en", ""),
                                tuple(blocks)))
    _check(bool(chapters), where, "a template needs at least one [[chapter]]")
    return Template(doc["id"], doc["title_de"], doc.get("title_en", ""), doc.get("description_de", ""),
                    doc.get("description_en", ""), doc["visibility"], doc.get("level"), doc.get("period"),
                    tuple(chapters))


def load_templates(folder: Path = REPORTS_DIR) -> dict[str, Template]:
    """Every `*.toml` in the folder, by id (file-name order)."""
    out: dict[str, Template] = {}
    for path in sorted(Path(folder).glob("*.toml")):
        try:
            doc = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ReportError(f"{path.name}: {exc}") from exc
        template = parse_template(doc, path.name)
        _check(template.id not in out, path.name, f"id {template.id!r} is used twice")
        out[template.id] = template
    return out


def templates_for(viewer: Principal, folder: Path = REPORTS_DIR) -> list[Template]:
    """The templates this viewer may render."""
    return [tpl for tpl in load_templates(folder).values() if may_render_report(viewer, tpl.visibility)]


# ------------------------------------------------------------------ the store as of a moment
def parse_as_of(text: str | None) -> datetime | None:
    """'2026-06-30' (the end of that day) or '2026-06-30T14:05[:00]'; ReportError otherwise."""
    if not text:
        return None
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(23, 59, 59))
        return datetime.fromisoformat(text).replace(tzinfo=None, microsecond=0)
    except ValueError:
        raise ReportError("as_of: Datum wie 2026-06-30 oder 2026-06-30T14:00 / a date like 2026-06-30") from None


def _release_events(atlas: Atlas) -> dict[str, list[tuple[datetime, str]]]:
    """'indicator vID' → [(local time, state after the event)] from the audit log, oldest first."""
    out: dict[str, list[tuple[datetime, str]]] = {}
    if atlas.audit.path is None:  # the log is in PostgreSQL (several app servers): its entries, oldest first
        lines = [json.dumps(e) for e in reversed(atlas.audit.entries(limit=10**9))]
    elif Path(atlas.audit.path).exists():
        lines = Path(atlas.audit.path).read_text(encoding="utf-8").splitlines()
    else:
        return out
    for line in lines:
        if '"version_' not in line:
            continue
        entry = json.loads(line)
        action = entry.get("action")
        if action not in ("version_released", "version_withdrawn"):
            continue
        when = datetime.fromisoformat(entry["at"])
        when = (when.astimezone() if when.tzinfo else when).replace(tzinfo=None)
        state = "withdrawn" if action == "version_withdrawn" else str(entry.get("detail", "")).split("→")[-1].split()[0]
        out.setdefault(entry.get("target", ""), []).append((when, state))
    return out


def versions_as_of(atlas: Atlas, until: datetime) -> pd.DataFrame:
    """The versions table as it stood at `until` (before scheduled releases are applied)."""
    frame = versions_table(atlas.store.read_table("versions"))
    events = _release_events(atlas)
    keep, states = [], []
    for r in frame.itertuples(index=False):
        if pd.isna(r.created_at) or r.created_at > until:
            keep.append(False)
            states.append(r.state)
            continue
        history = events.get(f"{r.indicator_id} v{r.version_id}")
        if history:  # replay what the log says happened up to then
            state = "draft"
            for when, after in history:
                if when <= until:
                    state = after
        elif r.state == "withdrawn":
            state = "withdrawn"  # no record of when: never shown as of any date
        elif pd.isna(r.released_at) or r.released_at <= until:
            state = r.state  # released when created (demo, older stores), or released by then
        else:
            state = "draft"  # released later, and no record of the steps before: the cautious reading
        keep.append(True)
        states.append(state)
    out = frame[keep].copy()
    out["state"] = [s for s, k in zip(states, keep) if k]
    later = out["release_at"].notna() & (out["release_at"] > until)
    out.loc[later, ["release_to", "release_at"]] = [None, pd.NaT]
    return out.reset_index(drop=True)


_AS_OF_LOCK = threading.Lock()


class _PinnedClock:
    def __init__(self, at: datetime):
        self.at = at

    def now(self) -> datetime:
        return self.at


class _StoreAsOf(Store):
    """The store's files with the versions table as it stood at a moment (readers only)."""

    def __init__(self, base: Store, until: datetime, versions: pd.DataFrame):
        super().__init__(base.data_dir, base._catalog, _PinnedClock(until))  # the same catalogue frame
        self._versions_then = versions

    def _refresh_views(self, conn, manifest: dict) -> None:
        super()._refresh_views(conn, manifest)
        conn.register("_versions_then", effective_versions(self._versions_then, self.clock.now()))
        conn.execute("CREATE OR REPLACE TABLE versions AS SELECT * FROM _versions_then")
        conn.unregister("_versions_then")

    def writing(self):  # a past state is never written to
        raise RuntimeError("a store as of a past date is read-only")


AS_OF_CONTEXTS = 4  # past states kept open per process and store state (each holds its own DuckDB tables)


def as_of_context(atlas: Atlas, until: datetime | None) -> Atlas:
    """The app context as the data stood at `until` (None: the context itself).

    Kept by what the versions looked like then, not by the timestamp, so any
    number of `as_of` values asked for maps onto the few states there were;
    at most AS_OF_CONTEXTS are kept, the least recently used dropped first.
    """
    if until is None:
        return atlas
    versions = effective_versions(versions_as_of(atlas, until), until)
    state = tuple(zip(versions["version_id"].astype(int), versions["state"]))
    kept: dict = atlas.cached(("as_of_contexts",), dict)
    with _AS_OF_LOCK:
        if state in kept:
            kept[state] = kept.pop(state)  # most recently used last
            return kept[state]
    ctx = Atlas(atlas.settings, clock=_PinnedClock(until))
    ctx.store = _StoreAsOf(atlas.store, until, versions)
    with _AS_OF_LOCK:
        kept[state] = ctx
        while len(kept) > AS_OF_CONTEXTS:
            kept.pop(next(iter(kept)))
    return ctx


def versions_used(atlas: Atlas, viewer: Principal, indicator_ids: list[str]) -> dict[str, list[int]]:
    """indicator → the version ids the viewer reads (oldest first): what a report is built from."""
    ids = sorted(set(indicator_ids))
    if not ids:
        return {}
    ind_clause, ind_params = indicator_filter_sql(viewer, "i")
    ver_clause, ver_params = version_filter_sql(viewer, "ver", "i")
    frame = atlas.store.query(
        f"SELECT ver.indicator_id, list_sort(list(ver.version_id)) AS ids FROM versions ver "
        f"JOIN indicators i ON i.id = ver.indicator_id WHERE {ind_clause} AND {ver_clause} "
        f"AND ver.indicator_id IN ({', '.join('?' for _ in ids)}) GROUP BY 1 ORDER BY 1",
        ind_params + ver_params + ids)
    return {r.indicator_id: [int(v) for v in r.ids] for r in frame.itertuples(index=False)}


# ------------------------------------------------------------------ a rendered report's data
@dataclass
class BlockData:
    type: str
    options: dict
    indicators: list  # Indicator objects the viewer may see
    period: str | None = None
    level: str | None = None
    table: pd.DataFrame | None = None  # table / comparison rows; map: queries.ValueTable in `value_table`
    value_table: queries.ValueTable | None = None
    area: str | None = None
    profile: profiles.Profile | None = None


@dataclass
class ReportData:
    template: Template
    context: Atlas  # the (as-of) context the figures come from
    viewer: Principal
    as_of: datetime | None
    made: datetime
    data_as_of: datetime | None
    chapters: list[tuple[Chapter, list[BlockData]]] = field(default_factory=list)
    versions: dict[str, list[int]] = field(default_factory=dict)


def render(atlas: Atlas, viewer: Principal, template_id: str, as_of: datetime | None = None,
           folder: Path = REPORTS_DIR) -> ReportData | None:
    """The data of one template for this viewer; None if the template does not exist or is not theirs."""
    template = load_templates(folder).get(template_id) if isinstance(template_id, str) else None
    if template is None or not may_render_report(viewer, template.visibility):
        return None
    ctx = as_of_context(atlas, as_of)
    data = ReportData(template, ctx, viewer, as_of, atlas.clock.now(), as_of or profiles.data_as_of(ctx, viewer))
    used: set[str] = set()
    for chapter in template.chapters:
        blocks = []
        for block in chapter.blocks:
            resolved = _block(ctx, viewer, template, block)
            if resolved is not None:
                blocks.append(resolved)
                used.update(i.id for i in resolved.indicators)
        data.chapters.append((chapter, blocks))
    data.versions = versions_used(ctx, viewer, sorted(used))
    return data


def _period(ctx: Atlas, viewer: Principal, ind_id: str, wanted: str | None) -> str | None:
    return profiles.period_for(queries.periods(ctx, viewer, ind_id), wanted)


def _block(ctx: Atlas, viewer: Principal, template: Template, block: Block) -> BlockData | None:
    """One block's data, or None when the viewer may see none of its indicators (or it has no data)."""
    opts = block.options
    level = opts.get("level") or template.level or territory.base_level(ctx)
    if level not in territory.level_ids(ctx):
        level = territory.base_level(ctx)
    wanted = opts.get("period") or template.period
    inds = [i for i in (queries.get_indicator(ctx, viewer, x) for x in block.indicators()) if i is not None]
    if block.type == "profile":
        area = opts.get("area") or _territory_key(ctx)
        prof = profiles.profile(ctx, viewer, area, wanted)
        if prof is None:
            return None
        chosen = set(opts.get("indicators") or [r.indicator.id for r in prof.rows])
        rows = tuple(r for r in prof.rows if r.indicator.id in chosen)
        if not rows:
            return None
        prof = profiles.Profile(prof.area, prof.parent, prof.territory, prof.chosen_period, rows,
                                profiles.summarise(profiles.Profile(prof.area, prof.parent, prof.territory,
                                                                    prof.chosen_period, rows)))
        return BlockData("profile", opts, [r.indicator for r in rows], wanted, prof.area.level, area=area, profile=prof)
    if not inds or (block.type == "comparison" and len(inds) < 2):
        return None
    if block.type == "map":
        period = _period(ctx, viewer, inds[0].id, wanted)
        table = queries.values(ctx, viewer, inds[0].id, period, level) if period else None
        if table is None or table.rows.empty:
            return None
        return BlockData("map", opts, inds, period, level, value_table=table)
    if block.type == "timeseries":
        area = opts.get("area") or _territory_key(ctx)
        return BlockData("timeseries", opts, inds, None, None, area=area)
    # table / comparison: the indicators side by side for every area of the level, each at its own period
    frames, periods = [], []
    for ind in inds:
        period = _period(ctx, viewer, ind.id, wanted)
        if period is None:
            continue
        rows = queries.values(ctx, viewer, ind.id, period, level).rows
        rows = rows[~rows["area_id"].astype(str).str.endswith(UNASSIGNED_SUFFIX)]
        frames.append(rows.set_index("area_id")[["name", "value", "status"]].add_prefix(f"{ind.id}:"))
        periods.append((ind.id, period))
    if not frames:
        return None
    table = pd.concat(frames, axis=1)
    names = table[[c for c in table.columns if c.endswith(":name")]].bfill(axis=1).iloc[:, 0]
    table = table.drop(columns=[c for c in table.columns if c.endswith(":name")]).assign(name=names).reset_index()
    return BlockData(block.type, {**opts, "periods": dict(periods)}, [i for i in inds if i.id in dict(periods)],
                     None, level, table=table)


def _territory_key(ctx: Atlas) -> str:
    top = queries.areas(ctx, territory.top_level(ctx), queries.current_set(ctx))
    return str(top["area_id"].iloc[0])
