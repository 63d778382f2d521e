"""Composite indices: many indicators turned into one figure per area, with every method stated.

A recipe names its inputs (indicator, weight, the direction each counts in),
a standardisation (z-score, min–max or rank), an optional reference period
whose distribution fixes the standardisation, and how an area with a missing
or suppressed input is treated. The index is oriented towards need: a higher
value means more disadvantage (as in Berlin's social monitoring and the
funding indices that distribute money by need).

Disclosure: every input is read through `atlas.services.queries` (`values`),
so rights and small-number suppression apply as everywhere. A cell the
viewer sees but the public would not (the owning department's `confidential`
cells) counts as suppressed here too. Suppressed cells never enter any
computation: not the area's own score and not the means, spreads, minima,
maxima or ranks that standardise everybody else. So no index value, nor any
combination of them, depends on a suppressed number, and none can be
back-calculated from it. An area with such an input is treated by the stated
missing rule and carries the reason.

Saving: an index becomes a derived indicator (aggregation "none", internal
by default, owned by the builder's department) whose recipe is stored in the
catalogue row; its values are computed with a fixed staff reader (released
versions only, public disclosure), never with the builder's own drafts or
small numbers, and each saved version records which input versions it used
(`lineage`). `recompute_stale` writes a new draft version when an input's
versions changed.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from atlas.catalog import POLARITIES
from atlas.messages import Message
from atlas.periods import period_end
from atlas.services import queries, territory, versions
from atlas.services.context import Atlas
from auth.permissions import Principal, may_build_index, may_deliver

METHODS = ("zscore", "minmax", "rank")
# exclude: the area gets no index value; reweight: the inputs present count, their weights scaled up,
# if they carry at least MIN_WEIGHT_SHARE of the total weight.
MISSING_RULES = ("exclude", "reweight")
MIN_WEIGHT_SHARE = 0.5
MAX_INPUTS = 20
# The reader of saved indices: staff rights, no department (released versions, public disclosure).
INDEX_READER = Principal(name="indexdienst", role="internal")
_ID = re.compile(r"^[a-z0-9_]{2,60}$")


class RecipeError(ValueError):
    """A recipe or save that cannot be done; `status` and `code` for the HTTP answer, the message a catalogue
    `Message` said in the reader's language (`say(exc.args[0], lang)`)."""

    def __init__(self, status: int, code: str, message: str):
        self.status, self.code = status, code
        super().__init__(message)


NOT_FOUND = RecipeError(404, "not_found", Message("ix_err_not_found"))


@dataclass(frozen=True)
class Input:
    indicator: str
    weight: float = 1.0
    polarity: str = ""  # "" = the catalogue's polarity


@dataclass(frozen=True)
class Recipe:
    inputs: tuple[Input, ...]
    method: str = "zscore"
    period: str | None = None  # the period to compute (preview); None = every common period
    reference: str | None = None  # the period whose distribution standardises every period; None = each its own
    missing: str = "exclude"
    level: str | None = None
    extra: dict = field(default_factory=dict, compare=False)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("extra")
        out["inputs"] = [asdict(i) for i in self.inputs]
        return out


def parse_recipe(raw) -> Recipe:
    """A recipe from JSON; raises RecipeError(400) saying what is wrong (never which indicators exist)."""
    if not isinstance(raw, dict):
        raise RecipeError(400, "bad_recipe", Message("ix_err_recipe_object"))
    items = raw.get("inputs")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_INPUTS:
        raise RecipeError(400, "bad_recipe", Message("ix_err_inputs", n=MAX_INPUTS))
    inputs = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("indicator"), str):
            raise RecipeError(400, "bad_recipe", Message("ix_err_input_indicator"))
        try:
            weight = float(item.get("weight", 1.0))
        except (TypeError, ValueError):
            weight = float("nan")
        if not np.isfinite(weight) or weight <= 0:
            raise RecipeError(400, "bad_weight", Message("ix_err_weight"))
        polarity = item.get("polarity") or ""
        if polarity and polarity not in ("high_good", "high_bad"):
            raise RecipeError(400, "bad_polarity", Message("ix_err_polarity"))
        inputs.append(Input(item["indicator"], weight, polarity))
    if len({i.indicator for i in inputs}) != len(inputs):
        raise RecipeError(400, "bad_recipe", Message("ix_err_once"))
    method = raw.get("method", "zscore")
    if method not in METHODS:
        raise RecipeError(400, "bad_method", Message("ix_err_method", choices=list(METHODS)))
    missing = raw.get("missing", "exclude")
    if missing not in MISSING_RULES:
        raise RecipeError(400, "bad_missing", Message("ix_err_missing", choices=list(MISSING_RULES)))
    period, reference = raw.get("period") or None, raw.get("reference") or None
    for p in (period, reference):
        if p is not None:
            try:
                period_end(str(p))
            except ValueError:
                raise RecipeError(400, "bad_period", Message("ix_err_period")) from None
    level = raw.get("level") or None
    return Recipe(tuple(inputs), method, period and str(period), reference and str(reference), missing, level)


# ------------------------------------------------------------------ computing
@dataclass(frozen=True)
class IndexResult:
    recipe: Recipe
    level: str
    periods: list[str]
    rows: pd.DataFrame  # period, area_id, name, value, status, reason, one score column per input
    method_de: str
    method_en: str
    titles: dict[str, str]  # input id → German title


def _sign(polarity: str) -> float:
    """Need orientation: a high value of a 'high_bad' input raises the index, of a 'high_good' one lowers it."""
    return -1.0 if polarity == "high_good" else 1.0


def _standardise(x: pd.Series, codes: np.ndarray, method: str, sign: float, in_reference: np.ndarray | None
                 ) -> pd.Series:
    """Scores of one input for every period at once (x: published values, NaN where withheld or missing).

    `codes`: each row's period as a small integer (grouping by them is the
    grouping by the period strings, a few times faster); `in_reference`: the
    rows of the reference period, None for none. z-score and min–max take
    their parameters from the reference period's published values when one
    is set, else from each period's own; rank is always within the period.
    Population standard deviation (ddof 0).
    """
    groups = x.groupby(codes)
    if method == "rank":
        n = groups.transform("count")
        s = ((groups.rank(method="average") - 1) / (n - 1)).where(n > 1, 0.5).where(x.notna())
        return s if sign > 0 else 1.0 - s
    if in_reference is not None:
        ref = x[in_reference]
        stats = {"mean": ref.mean(), "std": ref.std(ddof=0), "min": ref.min(), "max": ref.max()}
        mean, sd, lo, hi = (pd.Series(stats[k], index=x.index) for k in ("mean", "std", "min", "max"))
    else:
        mean, lo, hi = groups.transform("mean"), groups.transform("min"), groups.transform("max")
        sd = _group_std(x, codes)
    if method == "zscore":
        return sign * ((x - mean) / sd).where(sd > 0, 0.0).where(x.notna())
    s = ((x - lo) / (hi - lo)).where(hi > lo, 0.5).where(x.notna())
    return s if sign > 0 else 1.0 - s


def _group_std(x: pd.Series, codes: np.ndarray) -> pd.Series:
    """Each row's period's population standard deviation, as `Series.std(ddof=0)` gives it for the period.

    What a groupby transform with that function answers, to the bit (tests
    compare both), without its per-group Series machinery (~5 ms an input)."""
    values = x.to_numpy(dtype=float)
    out = np.empty(len(values))
    for pos in x.groupby(codes).indices.values():
        out[pos] = _population_std(values[pos])
    return pd.Series(out, index=x.index)


def _population_std(v: np.ndarray) -> float:
    """pandas' `Series.std(ddof=0)` of one group's values, NaN skipped: the same two passes (`nanops.nanvar`:
    the mean from the sum with gaps as zeros, then the squared deviations' sum) on the same array, so the
    same bits; NaN when no value is present."""
    missing = np.isnan(v)
    n = v.size - int(missing.sum())
    if n == 0:
        return np.nan
    v = np.where(missing, 0.0, v)
    sqr = (v.sum(dtype=np.float64) / n - v) ** 2
    sqr[missing] = 0.0
    return float(np.sqrt(sqr.sum(dtype=np.float64) / n))


def meaningful_levels(atlas: Atlas, viewer: Principal, recipe: Recipe) -> list[str]:
    """Levels an index can be re-computed at: all inputs aggregate from the base level, and ≥ 3 areas."""
    inds = [queries.get_indicator(atlas, viewer, i.indicator) for i in recipe.inputs]
    base = territory.base_level(atlas)
    if any(ind is None for ind in inds):
        return [base]
    out = [base]
    set_id = queries.current_set(atlas)
    for level in territory.level_ids(atlas)[1:]:
        if all(ind.aggregation != "none" for ind in inds) and len(queries.areas(atlas, level, set_id)) >= 3:
            out.append(level)
    return out


@dataclass(frozen=True)
class _Plan:
    """What a build needs before any value is read: the inputs, level, periods and directions."""

    inds: list
    level: str
    periods: list[str]
    polarities: list[str]


def _plan(atlas: Atlas, viewer: Principal, recipe: Recipe) -> _Plan | None:
    """The checks and periods of `compute` without reading values (the recompute check needs only these).

    None when any input is not visible to the viewer; RecipeError as `compute`.
    """
    inds = [queries.get_indicator(atlas, viewer, i.indicator) for i in recipe.inputs]
    if any(ind is None for ind in inds):
        return None
    level = recipe.level or territory.base_level(atlas)
    if level not in territory.level_ids(atlas):
        raise RecipeError(400, "bad_level", Message("ix_err_level", choices=list(territory.level_ids(atlas))))
    if level not in meaningful_levels(atlas, viewer, recipe):
        raise RecipeError(400, "level_not_meaningful", Message("ix_err_level_not_meaningful"))
    common = sorted(set.intersection(*[set(queries.periods(atlas, viewer, i.id)) for i in inds]))
    if recipe.period is not None:
        common = [p for p in common if p == recipe.period]
    if not common:
        raise RecipeError(400, "no_common_period", Message("ix_err_no_common_period"))
    if recipe.reference is not None and not all(recipe.reference in queries.periods(atlas, viewer, i.id)
                                                for i in inds):
        raise RecipeError(400, "bad_reference", Message("ix_err_reference"))
    polarities = [inp.polarity or (ind.polarity if ind.polarity in POLARITIES else "") for inp, ind in
                  zip(recipe.inputs, inds)]
    return _Plan(inds, level, common, polarities)


def compute(atlas: Atlas, viewer: Principal, recipe: Recipe) -> IndexResult | None:
    """The index per area and period at the recipe's level, read with the viewer's rights.

    None when any input is not visible to the viewer (answered like a missing
    indicator). Raises RecipeError for a level where an index is not
    meaningful or periods without data.
    """
    plan = _plan(atlas, viewer, recipe)
    return None if plan is None else _build(atlas, viewer, recipe, plan)


def _build(atlas: Atlas, viewer: Principal, recipe: Recipe, plan: _Plan) -> IndexResult:
    """`compute` after its checks: read every input once, standardise, combine, describe."""
    inds, level, common = plan.inds, plan.level, plan.periods
    wanted = common[0] if len(common) == 1 and recipe.reference in (None, common[0]) else None
    read = _published(atlas, viewer, [ind.id for ind in inds], wanted, level)
    rows = _all_rows(recipe, inds, plan.polarities, read, common)
    de, en = describe(recipe, [i.title_de for i in inds], plan.polarities, level, atlas)
    return IndexResult(recipe, level, common, rows, de, en, {i.id: i.title_de for i in inds})


def _published(atlas: Atlas, viewer: Principal, ind_ids: list[str], period: str | None,
               level: str) -> dict[str, pd.DataFrame]:
    """Each input's rows (one or all periods) with only publishable values: confidential and suppressed cells
    become NaN with state 'suppressed'. The inputs not kept are read at once (`queries.value_rows_many`: one
    query for the inputs without a disclosure pattern), each input's disclosure over every period at once.

    Kept per rights, input, period, level and what the input's rows depend on (`_input_keys`), across store
    states: a builder's previews (other weights, another method, the typology's two builds) read the same
    inputs again, and the recompute after a new version of one input reads that input alone. Per input, not
    per recipe, so the answers kept stay a few MB each. Callers must not change the frames."""
    state = atlas.store.state_key()
    keys = _input_keys(atlas, viewer, ind_ids, period, level)
    kept = atlas.carried([keys[i] for i in ind_ids])
    found = {i: kept[keys[i]] for i in ind_ids if keys[i] in kept}
    todo = [i for i in ind_ids if i not in found]
    if todo:
        read = _read_published(atlas, viewer, todo, period, level)
        atlas.carry(state, {keys[i]: read[i] for i in todo}, _CARRIED_MAX)
        found.update(read)
    return {i: found[i] for i in ind_ids}


# Inputs' published rows kept per context across store states (`_published`); at most this many.
_CARRIED_MAX = 40


def _input_keys(atlas: Atlas, viewer: Principal, ind_ids: list[str], period: str | None,
                level: str) -> dict[str, tuple]:
    """Per input, a key that changes whenever its published rows could: an input's read may be reused in a
    later store state only if nothing it depends on moved.

    The rows depend on the input and the indicators it is suppressed together with (`same_count_as`):
    their catalogue entries, their versions as readers see them now (state, set, scheduled releases applied)
    and the value files holding them, plus the viewer's rights and everything else the manifest names
    (areas, boundary sets, levels, organisations: kept whole, so any change there drops every read). Left
    out are only what a new version of another indicator changes: the other indicators' versions, values
    and catalogue rows, the summaries (derived from the values) and the generation."""
    manifest = atlas.store.manifest()
    rest = {k: v for k, v in manifest.items() if k not in ("generation", "last_version_id", "summaries",
                                                            "value_index", "tables")}
    rest["tables"] = {k: v for k, v in manifest["tables"].items() if k not in ("values", "versions", "catalog")}
    common = json.dumps(rest, sort_keys=True, default=str)
    by_id = atlas.indicator_by_id
    groups = {i: [i] + [o for o in by_id[i].same_count_as if o in by_id] if i in by_id else [i] for i in ind_ids}
    wanted = sorted({o for group in groups.values() for o in group})
    # Each version row as DuckDB writes it out (pandas' dtypes would depend on the other rows read with it).
    held = dict(atlas.store.cursor().execute(
        "SELECT indicator_id, string_agg(CAST(v AS VARCHAR), ' | ' ORDER BY version_id) FROM versions v "
        f"WHERE indicator_id IN ({', '.join('?' for _ in wanted)}) GROUP BY indicator_id", wanted).fetchall())
    out = {}
    for i, group in groups.items():
        said = repr([(o, by_id.get(o), held.get(o), atlas.store.values_relation([o])) for o in group])
        digest = hashlib.sha256((common + said).encode()).hexdigest()
        out[i] = ("index_input", viewer.rights, i, period, level, digest)
    return out


def _read_published(atlas: Atlas, viewer: Principal, ind_ids: list[str], period: str | None,
                    level: str) -> dict[str, pd.DataFrame]:
    rows = queries.value_rows_many(atlas, viewer, ind_ids, period, level)
    ok = (rows["status"] == "ok").to_numpy(dtype=bool, na_value=False)
    withheld = (rows["status"] == "suppressed").to_numpy(dtype=bool, na_value=False)
    if "confidential" in rows:
        withheld = withheld | rows["confidential"].notna().to_numpy(dtype=bool)
    published = ok & ~withheld
    state = np.where(withheld, "suppressed", np.where(ok, "ok", "missing")).astype(object)
    value = np.where(published, rows["value"].to_numpy(dtype=float, na_value=np.nan), np.nan)
    out = pd.DataFrame({"period": rows["period"], "area_id": rows["area_id"], "name": rows["name"],
                        "value": value, "state": state})
    at = rows.groupby("indicator_id", sort=False).indices if len(rows) else {}  # each input's rows are adjacent
    return {i: _part(out, at[i]) if i in at else out.iloc[:0] for i in ind_ids}


def _part(frame: pd.DataFrame, rows: np.ndarray) -> pd.DataFrame:
    """The rows at these positions, numbered from 0: a slice when they are one run (an input's rows in
    `value_rows_many` are; no copy of the strings), else taken."""
    if len(rows) and rows[-1] - rows[0] == len(rows) - 1 and bool((np.diff(rows) == 1).all()):
        return frame.iloc[rows[0]:rows[-1] + 1].reset_index(drop=True)
    return frame.take(rows).reset_index(drop=True)


def _all_rows(recipe: Recipe, inds, polarities, read: dict[str, pd.DataFrame], periods: list[str]) -> pd.DataFrame:
    """Every period's index at once: each input standardised, then the weighted mean under the missing rule."""
    weights = np.array([i.weight for i in recipe.inputs], dtype=float)
    keys = ["period", "area_id"]
    first = read[inds[0].id]
    out = first[first["period"].isin(periods)][keys + ["name"]].reset_index(drop=True)
    unique = not out.duplicated(keys).any()  # duplicates: the merge's answer, always
    scores, states, withheld, gaps = [], [], [], []
    for ind, pol in zip(inds, polarities):
        every = read[ind.id]
        codes, seen = pd.factorize(every["period"])  # a code per row; `seen`: the input's periods
        inside = pd.Index(seen).isin(periods)[codes]
        kept = inside | (pd.Index(seen) == recipe.reference)[codes]
        value = pd.Series(every["value"].to_numpy(dtype=float)[kept])
        reference = (codes[kept] == seen.get_loc(recipe.reference)) if recipe.reference in seen else \
            (np.zeros(len(value), dtype=bool) if recipe.reference is not None else None)
        score = _standardise(value, codes[kept], recipe.method, _sign(pol), reference).to_numpy(dtype=float)
        score = score[inside[kept]]
        # The usual case: every input on the first one's grid, in its order; no merge needed.
        if unique and _same_keys(out, every if inside.all() else every[inside], keys):
            state = every["state"] if inside.all() else every["state"][inside]
        else:
            rows = every[inside][keys].reset_index(drop=True).assign(score=score,
                                                                      state=every["state"][inside].to_numpy())
            part = out[keys].merge(rows, on=keys, how="left")
            score, state = part["score"].to_numpy(dtype=float), part["state"].fillna("missing")
        out[f"score_{ind.id}"] = score
        scores.append(score)
        states.append(state.to_numpy(dtype=object))
        withheld.append((state == "suppressed").to_numpy(dtype=bool))
        gaps.append((state != "ok").to_numpy(dtype=bool))
    value = combine(np.column_stack(scores), weights, recipe.missing)
    out["value"] = value
    out["status"] = np.where(~np.isnan(value), "ok",
                             np.where(np.column_stack(withheld).any(axis=1), "suppressed", "missing"))
    words = {"suppressed": "geheim gehalten", "missing": "fehlt"}
    reason = np.full(len(out), "", dtype=object)
    for row in np.flatnonzero(np.column_stack(gaps).any(axis=1)):  # few rows: the gaps, named per input
        reason[row] = "; ".join(f"{ind.id}: {words[st[row]]}" for ind, st in zip(inds, states) if st[row] != "ok")
    out["reason"] = reason
    return out[["period", "area_id", "name", "value", "status", "reason"] + [f"score_{i.id}" for i in inds]]


def _same_keys(out: pd.DataFrame, rows: pd.DataFrame, keys: list[str]) -> bool:
    """Whether two frames hold the same (period, area) rows in the same order: then, `out`'s keys being
    unique, a left merge of `rows` onto `out` is `rows` as they are, and ten merges can be skipped. Compared
    column by column as arrays (a different dtype counts as different: the merge then answers)."""
    return len(out) == len(rows) and all(out[k].array.equals(rows[k].array) for k in keys)


def combine(scores: np.ndarray, weights: np.ndarray, missing: str) -> np.ndarray:
    """The weighted mean of the scores per area (rows) under the missing rule; NaN where there is none."""
    present = ~np.isnan(scores)
    carried = (present * weights).sum(axis=1)
    value = (np.where(present, scores, 0.0) @ weights) / np.maximum(carried, 1e-300)
    ok = present.all(axis=1) if missing == "exclude" else carried / weights.sum() >= MIN_WEIGHT_SHARE - 1e-12
    return np.where(ok, value, np.nan)


_METHOD_DE = {"zscore": "z-Standardisierung ((x − Mittelwert) / Standardabweichung der Grundgesamtheit)",
              "minmax": "Min-Max-Skalierung auf 0 bis 1 ((x − Minimum) / (Maximum − Minimum))",
              "rank": "Rangskalierung auf 0 bis 1 ((Rang − 1) / (Anzahl − 1), mittlere Ränge bei Gleichstand)"}
_METHOD_EN = {"zscore": "z-scores ((x − mean) / population standard deviation)",
              "minmax": "min–max scaling to 0–1 ((x − min) / (max − min))",
              "rank": "rank scaling to 0–1 ((rank − 1) / (n − 1), average ranks for ties)"}


def describe(recipe: Recipe, titles: list[str], polarities: list[str], level: str, atlas: Atlas) -> tuple[str, str]:
    """The method in words, German and English: shown next to every result."""
    total = sum(i.weight for i in recipe.inputs)
    parts_de = [f"{t} (Gewicht {i.weight / total:.0%}, {'hoch = ungünstig' if _sign(p) > 0 else 'hoch = günstig'})"
                for t, i, p in zip(titles, recipe.inputs, polarities)]
    parts_en = [f"{t} (weight {i.weight / total:.0%}, {'high = adverse' if _sign(p) > 0 else 'high = favourable'})"
                for t, i, p in zip(titles, recipe.inputs, polarities)]
    ref_de = (f"Parameter aus dem Referenzzeitraum {recipe.reference}" if recipe.reference and recipe.method != "rank"
              else "Parameter je Zeitraum aus dessen eigenen Werten")
    ref_en = (f"parameters from the reference period {recipe.reference}" if recipe.reference
              and recipe.method != "rank" else "parameters from each period's own values")
    miss_de = ("Gebiete mit fehlendem oder geheim gehaltenem Eingang erhalten keinen Wert"
               if recipe.missing == "exclude" else
               f"fehlende oder geheim gehaltene Eingänge bleiben weg, die übrigen Gewichte werden hochgerechnet "
               f"(mindestens {MIN_WEIGHT_SHARE:.0%} des Gewichts nötig)")
    miss_en = ("areas with a missing or suppressed input get no value" if recipe.missing == "exclude" else
               f"missing or suppressed inputs are left out and the remaining weights scaled up "
               f"(at least {MIN_WEIGHT_SHARE:.0%} of the weight needed)")
    lv_de, lv_en = territory.label(atlas, level, "de", True), territory.label(atlas, level, "en", True)
    de = (f"Index über {lv_de}: {_METHOD_DE[recipe.method]} je Indikator, {ref_de}; gewichtetes Mittel von "
          f"{'; '.join(parts_de)}. Höhere Werte = mehr Bedarf. {miss_de}. Geheim gehaltene Zahlen gehen in keine "
          "Berechnung ein.")
    en = (f"Index over {lv_en}: {_METHOD_EN[recipe.method]} per indicator, {ref_en}; weighted mean of "
          f"{'; '.join(parts_en)}. Higher values = more need. {miss_en}. Suppressed numbers enter no computation.")
    return de, en


# ------------------------------------------------------------------ saving as a derived indicator
def _catalog_row(atlas: Atlas, indicator_id: str) -> dict | None:
    frame = atlas.store.read_table("catalog")
    if frame is None or "recipe" not in frame:
        return None
    hit = frame[(frame["id"] == indicator_id) & frame["recipe"].fillna("").astype(bool)]
    return hit.iloc[0].to_dict() if len(hit) else None


def _fingerprint(atlas: Atlas, recipe: Recipe, periods: list[str]) -> dict[str, dict[str, list[int]]]:
    """Per input and period: the versions the index reader reads for it (which versions each value came from)."""
    readable = atlas.store.query("SELECT version_id, indicator_id FROM versions WHERE state IN ('internal', 'public')")
    mine = readable["indicator_id"].isin([inp.indicator for inp in recipe.inputs])
    held = versions.version_periods(atlas, list(readable.loc[mine, "version_id"]))  # the inputs' only: all it needs
    out: dict[str, dict[str, list[int]]] = {}
    for inp in recipe.inputs:
        ids = readable.loc[readable["indicator_id"] == inp.indicator, "version_id"]
        out[inp.indicator] = {p: sorted(int(v) for v in ids if p in held.get(int(v), [])) for p in periods}
    return out


def save(atlas: Atlas, viewer: Principal, raw: dict) -> dict:
    """Save a recipe as a derived indicator (a draft version of its values); returns its id and version.

    The builder must see every input; the values come from the staff reader
    (released versions, public disclosure), so restricted inputs cannot go
    into a saved index. Visibility: internal; a request for public is
    recorded and waits for an admin (`versions.set_visibility`).
    """
    if not may_build_index(viewer):
        raise NOT_FOUND
    recipe = parse_recipe(raw)
    recipe = Recipe(recipe.inputs, recipe.method, None, recipe.reference, recipe.missing, None)
    mine = [queries.get_indicator(atlas, viewer, i.indicator) for i in recipe.inputs]
    if any(i is None for i in mine):
        raise NOT_FOUND
    if any(i.visibility == "restricted" for i in mine):
        raise RecipeError(409, "restricted_input", Message("ix_err_restricted"))
    slug = str(raw.get("id") or "")
    if not _ID.match(slug):
        raise RecipeError(400, "bad_id", Message("ix_err_id"))
    ind_id = slug if slug.startswith("idx_") else f"idx_{slug}"
    title_de = " ".join(str(raw.get("title_de") or "").split())[:120]
    if not title_de:
        raise RecipeError(400, "bad_title", Message("ix_err_title"))
    department = raw.get("department") or (sorted(viewer.departments)[0] if viewer.departments else mine[0].department)
    if department not in atlas.departments or not may_deliver(viewer, department):
        raise RecipeError(400, "bad_department", Message("ix_err_department"))
    result = compute(atlas, INDEX_READER, recipe)
    if result is None:
        raise RecipeError(409, "inputs_not_released", Message("ix_err_not_released"))
    definition = {"id": ind_id, "title_de": title_de, "title_en": str(raw.get("title_en") or title_de)[:120],
                  "definition_de": result.method_de, "definition_en": result.method_en, "domain": mine[0].domain,
                  "unit": "Index", "department": department,
                  "visibility": "public" if raw.get("visibility") == "public" else "internal",
                  "polarity": "high_bad", "decimals": 2, "aggregation": "none",
                  "periodicity": mine[0].periodicity, "source": "Ortsatlas-Indexbaukasten", "contact": "",
                  "licence": "", "recipe": json.dumps(recipe.as_dict(), sort_keys=True)}
    if ind_id in atlas.indicator_by_id:
        raise RecipeError(409, "indicator_exists", Message("ix_err_exists", id=repr(ind_id)))
    version = _write(atlas, viewer, ind_id, recipe, result, [definition])
    return {"indicator": ind_id, "version_id": version, "visibility": "internal",
            "requested_visibility": "public" if definition["visibility"] == "public" else "",
            "method_de": result.method_de, "method_en": result.method_en}


def _write(atlas: Atlas, viewer: Principal, ind_id: str, recipe: Recipe, result: IndexResult,
           new: list[dict], lineage: dict | None = None) -> int:
    """One draft version of the index's values, and its lineage in the catalogue row, in one transaction.

    `lineage`: the input versions (`_fingerprint`) when the caller has already worked them out."""
    rows = result.rows[result.rows["status"] != "missing"]
    ends = {p: period_end(p) for p in result.periods}  # a few periods, not one call per row
    cells = pd.DataFrame({"indicator_id": ind_id, "area_id": rows["area_id"], "period": rows["period"],
                          "period_end": rows["period"].map(ends), "value": rows["value"],
                          "numerator": np.nan, "denominator": np.nan, "status": rows["status"]})
    lineage = lineage if lineage is not None else _fingerprint(atlas, recipe, result.periods)
    checksum = _checksum(lineage, cells)
    delivery = versions.Delivery(cells, f"index:{ind_id}", checksum, "Index berechnet aus "
                                 + ", ".join(f"{k} v{max(sum(v.values(), []), default=0)}" for k, v in lineage.items()),
                                 new)
    with atlas.store.writing() as tx:
        made = versions.add_versions(atlas, viewer, tx, delivery)
        frame = tx.read("catalog")
        i = frame.index[frame["id"] == ind_id][0]
        history = json.loads(frame.loc[i, "lineage"]) if "lineage" in frame and isinstance(
            frame.loc[i, "lineage"], str) and frame.loc[i, "lineage"] else {}
        history[str(made[0]["version_id"])] = lineage
        frame["lineage"] = frame["lineage"] if "lineage" in frame else ""
        frame.loc[i, "lineage"] = json.dumps(history, sort_keys=True)
        tx.replace_table("catalog", frame)
    versions.audit_versions(atlas, viewer, delivery, made)
    return int(made[0]["version_id"])


def _checksum(lineage: dict, cells: pd.DataFrame) -> str:
    """The version's sha256: the input versions it came from and its cells, one line each (area, period, the
    value's shortest exact decimal, status). Written out by hand: `DataFrame.to_csv` of the same cells took
    0.07–0.15 s of every recompute on 20,000 cells."""
    lines = (f"{a},{p},{v!r},{s}" for a, p, v, s in zip(cells["area_id"].tolist(), cells["period"].tolist(),
                                                          cells["value"].tolist(), cells["status"].tolist()))
    return hashlib.sha256((json.dumps(lineage, sort_keys=True) + "\n" + "\n".join(lines)).encode()).hexdigest()


def stored_recipe(atlas: Atlas, viewer: Principal, indicator_id: str) -> dict | None:
    """A saved index's recipe, method and the input versions of each of its versions; None if not visible."""
    ind = queries.get_indicator(atlas, viewer, indicator_id)
    row = _catalog_row(atlas, indicator_id) if ind is not None else None
    if row is None:
        return None
    hist = versions.history(atlas, viewer, indicator_id)
    readable = set(int(v) for v in hist["version_id"]) if hist is not None else set()
    lineage = json.loads(row.get("lineage") or "{}")
    return {"indicator": indicator_id, "recipe": json.loads(row["recipe"]), "method_de": ind.definition_de,
            "method_en": ind.definition_en, "department": ind.department, "visibility": ind.visibility,
            "versions": [{"version_id": int(v), "inputs": lin} for v, lin in sorted(lineage.items(), key=lambda x: int(x[0]))
                         if int(v) in readable]}


def recompute_stale(atlas: Atlas, actor: Principal | None = None) -> list[dict]:
    """Re-compute every saved index whose inputs have new released versions; a new draft version each.

    Cheap when nothing changed (one fingerprint per index). Call after a
    release or an upload; the builder page and the index API call it too.
    """
    frame = atlas.store.read_table("catalog")
    if frame is None or "recipe" not in frame:
        return []
    done = []
    for row in frame[frame["recipe"].fillna("").astype(bool)].to_dict("records"):
        recipe = parse_recipe(json.loads(row["recipe"]))
        try:  # the periods decide the fingerprint: no value is read for an index that is up to date
            plan = _plan(atlas, INDEX_READER, recipe)
        except RecipeError:
            continue
        if plan is None:
            continue
        lineage = json.loads(row.get("lineage") or "{}")
        last = lineage[max(lineage, key=int)] if lineage else None
        now = _fingerprint(atlas, recipe, plan.periods)
        if last == now:
            continue
        result = _build(atlas, INDEX_READER, recipe, plan)
        who = actor or Principal(name="indexdienst", role="internal")
        done.append({"indicator": row["id"], "version_id": _write(atlas, who, row["id"], recipe, result, [], now)})
    return done


# ------------------------------------------------------------------ sensitivity
SENSITIVITY_STEPS = (-0.25, -0.10, 0.10, 0.25)


def sensitivity(result: IndexResult, k: int = 5) -> list[dict]:
    """How class membership (quantiles, k classes) changes when one weight moves by ±10 and ±25 %.

    Re-weights the already standardised scores (standardisation does not
    depend on the weights), so it costs no further reads. One entry per input
    and step, naming the areas that switch class. Newest period.
    """
    rows = result.rows[result.rows["period"] == result.periods[-1]]
    ids = [i.indicator for i in result.recipe.inputs]
    scores = rows[[f"score_{i}" for i in ids]].to_numpy(dtype=float)
    weights = np.array([i.weight for i in result.recipe.inputs], dtype=float)
    base = _quantile_classes(combine(scores, weights, result.recipe.missing), k)
    out = []
    for j, ind_id in enumerate(ids):
        for step in SENSITIVITY_STEPS:
            moved = weights.copy()
            moved[j] *= 1 + step
            classes = _quantile_classes(combine(scores, moved, result.recipe.missing), k)
            switch = (classes != base) & (base >= 0) & (classes >= 0)
            out.append({"indicator": ind_id, "change": step, "switched": int(switch.sum()),
                        "areas": [f"{n} ({a})" for a, n in zip(rows["area_id"][switch], rows["name"][switch])]})
    return out


def _quantile_classes(values: np.ndarray, k: int) -> np.ndarray:
    """Class 0..k-1 by quantiles of the values present; -1 where there is no value."""
    ok = ~np.isnan(values)
    out = np.full(len(values), -1)
    if ok.sum() >= k:
        cuts = np.quantile(values[ok], np.linspace(0, 1, k + 1)[1:-1])
        out[ok] = np.searchsorted(cuts, values[ok], side="left")
    return out


# ------------------------------------------------------------------ typology (status × dynamics)
# Berlin's social monitoring (Monitoring Soziale Stadtentwicklung) in need orientation: the status index
# z-standardised over the areas, cut at −1, +1 and +1.5 standard deviations into high / medium / low /
# very low status; the dynamics (change of the index over the chosen years) cut at −1 and +1 into
# positive / stable / negative. Crossed: 12 groups.
STATUS_CUTS = (-1.0, 1.0, 1.5)
DYNAMICS_CUTS = (-1.0, 1.0)
STATUS_NAMES = (("hoch", "high"), ("mittel", "medium"), ("niedrig", "low"), ("sehr niedrig", "very low"))
DYNAMICS_NAMES = (("positiv", "positive"), ("stabil", "stable"), ("negativ", "negative"))


def band(z: np.ndarray, cuts: tuple[float, ...]) -> np.ndarray:
    """Class by standard-deviation band: 0 below the first cut, … len(cuts) above the last; -1 for NaN.

    A value exactly on a cut belongs to the band below it (the cut is the band's upper bound).
    """
    out = np.searchsorted(np.asarray(cuts, dtype=float), z, side="left")
    return np.where(np.isnan(z), -1, out)


def _z(values: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(values)
    sd = values[ok].std() if ok.sum() > 1 else 0.0
    return (values - values[ok].mean()) / sd if sd > 0 else np.where(ok, 0.0, np.nan)


def _years_back(period: str, years: int) -> str:
    return f"{int(period[:4]) - years}{period[4:]}"


def _cuts(raw, default: tuple[float, ...]) -> tuple[float, ...]:
    if raw is None:
        return default
    try:
        cuts = tuple(float(c) for c in raw)
    except (TypeError, ValueError):
        cuts = ()
    if len(cuts) != len(default) or list(cuts) != sorted(set(cuts)):
        raise RecipeError(400, "bad_cuts", Message("ix_err_cuts", n=len(default)))
    return cuts


def typology(atlas: Atlas, viewer: Principal, raw: dict) -> dict | None:
    """Status × dynamics groups per area for the recipe's period (default: the newest common one).

    Status: the index at the period, z-standardised over the areas. Dynamics:
    the index at the period minus the index `years` earlier, both standardised
    with the period's parameters (so the change is on one scale), then
    z-standardised. None if an input is not visible to the viewer.
    """
    recipe = parse_recipe(raw)
    years = raw.get("years", 2)
    if not isinstance(years, int) or isinstance(years, bool) or not 1 <= years <= 20:
        raise RecipeError(400, "bad_years", Message("ix_err_years"))
    s_cuts, d_cuts = _cuts(raw.get("status_cuts"), STATUS_CUTS), _cuts(raw.get("dynamics_cuts"), DYNAMICS_CUTS)
    whole = compute(atlas, viewer, Recipe(recipe.inputs, recipe.method, None, None, recipe.missing, recipe.level))
    if whole is None:
        return None
    period = recipe.period or whole.periods[-1]
    before = _years_back(period, years)
    if period not in whole.periods or before not in whole.periods:
        raise RecipeError(400, "no_common_period", Message("ix_err_periods_needed", before=before, period=period))
    fixed = compute(atlas, viewer, Recipe(recipe.inputs, recipe.method, None, period, recipe.missing, recipe.level))
    now = fixed.rows[fixed.rows["period"] == period].set_index("area_id")
    then = fixed.rows[fixed.rows["period"] == before].set_index("area_id").reindex(now.index)
    status_z = _z(now["value"].to_numpy(dtype=float))
    dyn_z = _z((now["value"] - then["value"]).to_numpy(dtype=float))
    s_cls, d_cls = band(status_z, s_cuts), band(dyn_z, d_cuts)
    rows = []
    for i, (area_id, r) in enumerate(now.iterrows()):
        known = s_cls[i] >= 0 and d_cls[i] >= 0
        group = f"{s_cls[i] + 1}.{d_cls[i] + 1}" if known else None
        gone = r["status"] if r["status"] != "ok" else ("missing" if not known else "ok")
        rows.append({"area_id": area_id, "name": r["name"], "status_z": None if np.isnan(status_z[i]) else
                     float(status_z[i]), "dynamics_z": None if np.isnan(dyn_z[i]) else float(dyn_z[i]),
                     "status_class": STATUS_NAMES[s_cls[i]][0] if s_cls[i] >= 0 else None,
                     "dynamics_class": DYNAMICS_NAMES[d_cls[i]][0] if d_cls[i] >= 0 else None,
                     "group": group, "status": gone})
    groups = []
    for si, (s_de, s_en) in enumerate(STATUS_NAMES):
        for di, (d_de, d_en) in enumerate(DYNAMICS_NAMES):
            key = f"{si + 1}.{di + 1}"
            groups.append({"group": key, "label_de": f"Status {s_de}, Dynamik {d_de}",
                           "label_en": f"status {s_en}, dynamics {d_en}",
                           "explanation_de": _explain(si, di, s_cuts, d_cuts, "de"),
                           "explanation_en": _explain(si, di, s_cuts, d_cuts, "en"),
                           "count": sum(1 for r in rows if r["group"] == key)})
    method_de = (f"{fixed.method_de} Status: Index {period}, z-standardisiert, Grenzen bei "
                 f"{', '.join(f'{c:+.1f}' for c in s_cuts)} Standardabweichungen. Dynamik: Veränderung des Index "
                 f"{before}–{period} (beide mit den Parametern von {period}), z-standardisiert, Grenzen bei "
                 f"{', '.join(f'{c:+.1f}' for c in d_cuts)}.")
    method_en = (f"{fixed.method_en} Status: index {period}, z-standardised, cut at "
                 f"{', '.join(f'{c:+.1f}' for c in s_cuts)} standard deviations. Dynamics: change of the index "
                 f"{before}–{period} (both with {period}'s parameters), z-standardised, cut at "
                 f"{', '.join(f'{c:+.1f}' for c in d_cuts)}.")
    return {"period": period, "from": before, "level": fixed.level, "rows": rows, "groups": groups,
            "method_de": method_de, "method_en": method_en}


def _explain(si: int, di: int, s_cuts, d_cuts, lang: str) -> str:
    """One group in words: where its status and dynamics lie in standard deviations."""
    def span(i, cuts):
        lo = f"{cuts[i - 1]:+.1f}" if i > 0 else None
        hi = f"{cuts[i]:+.1f}" if i < len(cuts) else None
        if lang == "en":
            return f"above {lo}" if hi is None else (f"up to {hi}" if lo is None else f"{lo} to {hi}")
        return f"über {lo}" if hi is None else (f"bis {hi}" if lo is None else f"{lo} bis {hi}")
    if lang == "en":
        return (f"Need {span(si, s_cuts)} SD from the mean of all areas; its change {span(di, d_cuts)} SD "
                "(negative = improving).")
    return (f"Bedarf {span(si, s_cuts)} Standardabweichungen vom Mittel aller Gebiete; seine Veränderung "
            f"{span(di, d_cuts)} (negativ = Verbesserung).")
