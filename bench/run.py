"""Ortsatlas benchmarks: `python bench/run.py` (full) or `python bench/run.py --smoke`.

`--only PART` / `--skip PART` (repeatable) choose parts; see bench/README.md.

Prints a table of medians and p95s over repeated runs, with ratios against
baselines measured in the same run, and writes bench/results.json. Targets
are reported, never asserted: machines are shared and noisy.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import pandas as pd  # noqa: E402

from bench.figures import Figure, pct, print_table  # noqa: E402
from bench.serving import _wait_healthy, free_port, start_app  # noqa: E402
from bench.workloads import (  # noqa: E402
    COUNTY66,
    COUNTY66_SMOKE,
    LARGE,
    NATIONAL,
    NATIONAL_SMOKE,
    SCALE,
    SCALE_SMOKE,
    SMOKE,
    TERRITORY,
    TERRITORY3,
    TERRITORY3_SMOKE,
    TERRITORY_SMOKE,
    WORK,
    CitySpec,
    TerritorySpec,
    build_city,
    build_territory,
)

RESULTS = Path(__file__).resolve().parent / "results.json"


def timed(fn, repeat: int) -> list[float]:
    fn()  # warm-up
    out = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return out


@contextmanager
def answers_not_remembered(atlas):
    """The atlas computes every answer (ATLAS_ANSWER_CACHE_SIZE=0) inside the block: first views."""
    kept = atlas.settings
    atlas.settings = replace(kept, answer_cache_size=0)
    try:
        yield
    finally:
        atlas.settings = kept


def quiet_logs() -> None:
    """Only warnings from pyogrio and the app: create_app sets the root logger to INFO."""
    for name in ("pyogrio", "pyogrio._io", "atlas", "auth", "werkzeug"):
        logging.getLogger(name).setLevel(logging.WARNING)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """Resident memory of a process now (VmRSS) or at its peak (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


# --------------------------------------------------------------------------- map switch
def bench_map_switch(spec: CitySpec, atlas, repeat: int) -> list[Figure]:
    """The explorer's map callback through Flask's test client vs a naive full-GeoJSON callback."""
    from dash import Input, Output, dcc

    from atlas.classify import classify
    from atlas.services import queries
    from atlas.services.map_bands import feature_collection
    from atlas.web.app import create_app
    from auth import ANONYMOUS, current_principal
    from tests.dash_requests import call, callback_payload, find_output

    app = create_app(atlas=atlas)
    app.validation_layout = None

    @app.callback(Output("bench-naive", "data"), Input("bench-ind", "value"), Input("bench-per", "value"))
    def naive(indicator_id, period):
        """Baseline: rebuild the whole GeoJSON with values and classes on every switch."""
        atlas_ = atlas
        table = queries.values(atlas_, current_principal(), indicator_id, period)
        fc = feature_collection(queries.areas(atlas_, "ortsteil", table.set_id))
        by_id = table.rows.set_index("area_id")
        vals = [by_id["value"].get(f["id"]) for f in fc["features"]]
        c = classify(vals, ["ok"] * len(vals), "quantiles", 5)
        for f, v, k in zip(fc["features"], vals, c.classes):
            f["properties"].update(value=v, cls=k, color=c.colors[k] if k >= 0 else "#fff")
        return fc

    _ = dcc  # the naive callback's components need not exist (suppress_callback_exceptions)
    client = app.server.test_client()
    client.get("/")
    visible = queries.visible_indicators(atlas, ANONYMOUS)
    choices = [(r.id, len(r.periods)) for r in visible.itertuples()]
    key = find_output(app, "ex-geojson", "hideout")
    rng = random.Random(1)
    sizes, naive_sizes = [], []

    shown: list[tuple[str, int]] = []

    def switch(view: tuple[str, int] | None = None):
        if view is None:
            ind, n = rng.choice(choices)
            view = (ind, rng.randrange(n))
            shown.append(view)
        values = {"ex-indicator.value": view[0], "ex-period.value": view[1], "ex-method.value": "quantiles",
                  "ex-k.value": 5, "ex-selected.data": None, "ex-set.data": "bench|ortsteil",
                  "ex-lang.data": "de"}  # the geometry the map holds: boundary set and level
        status, body = call(client, app, key, values)
        assert status == 200
        sizes.append(len(json.dumps(body, separators=(",", ":"))))

    def naive_switch():
        ind, n = rng.choice(choices)
        period = visible.set_index("id").loc[ind, "periods"][rng.randrange(n)]
        payload = callback_payload(app, "bench-naive.data", {"bench-ind.value": ind, "bench-per.value": period})
        resp = client.post("/_dash-update-component", json=payload)
        assert resp.status_code == 200
        naive_sizes.append(len(resp.get_data()))

    with answers_not_remembered(atlas):  # every switch computed: a first view
        times = timed(switch, repeat)
        naive_times = timed(naive_switch, max(5, repeat // 4))
    for view in shown[-50:]:  # remember some views, then ask for them again: what the next viewer waits
        switch(view)
    again = iter(shown[-50:] * repeat)
    remembered_times = timed(lambda: switch(next(again)), max(5, repeat // 4))
    p95, naive_p95 = pct(times, 95), pct(naive_times, 95)
    size, naive_size = statistics.median(sizes), statistics.median(naive_sizes)
    label = f"{spec.areas} areas"
    return [
        Figure(f"map switch p50 ({label}), a view already remembered", statistics.median(remembered_times), "ms",
               note="answers kept per store state and rights (ATLAS_ANSWER_CACHE_SIZE)"),
        Figure(f"map switch p50 ({label})", statistics.median(times), "ms", "", statistics.median(naive_times),
               statistics.median(naive_times) / statistics.median(times), "baseline: naive full-GeoJSON callback"),
        Figure(f"map switch p95 ({label})", p95, "ms", "< 50 ms at 1,000 areas; ≥5× faster than baseline",
               naive_p95, naive_p95 / p95),
        Figure(f"map switch payload ({label})", size / 1024, "KB", "< 20 KB at 1,000 areas; ≥20× smaller",
               naive_size / 1024, naive_size / size),
    ]


# --------------------------------------------------------------------------- store queries
def bench_queries(spec: CitySpec, atlas, repeat: int) -> list[Figure]:
    """Services (DuckDB over Parquet) against the same question in pandas on the same data."""
    from atlas.services import queries
    from auth import ANONYMOUS

    first = _first_requests(atlas, 3 if repeat > 10 else 1)
    t = time.perf_counter()
    files = [atlas.store.data_dir / f for f in atlas.store.manifest()["tables"]["values"]]
    frame = pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)
    load_ms = (time.perf_counter() - t) * 1000
    areas = queries.areas(atlas, "ortsteil", "bench")[["area_id", "parent_id"]]
    visible = queries.visible_indicators(atlas, ANONYMOUS)
    ind = visible.iloc[len(visible) // 2]
    period, area = ind["periods"][-1], areas["area_id"].iloc[len(areas) // 2]
    public = set(visible["id"])

    def pd_values():
        f = frame[(frame["indicator_id"] == ind["id"]) & (frame["period"] == period)]
        return areas.merge(f, on="area_id", how="left")

    def pd_series():
        f = frame[frame["indicator_id"] == ind["id"]].merge(areas, on="area_id")
        g = f.groupby(["period", "parent_id"])[["numerator", "denominator"]].sum()
        return f[f["area_id"] == area], g

    def pd_profile():
        f = frame[(frame["area_id"] == area) & frame["indicator_id"].isin(public)]
        return f.sort_values("period").groupby("indicator_id").tail(1)

    def pd_top():
        f = frame[(frame["indicator_id"] == ind["id"]) & (frame["period"] == period)]
        return f["numerator"].sum() / f["denominator"].sum() * 100

    cases = [
        ("values of one indicator/period, all areas", lambda: queries.values(atlas, ANONYMOUS, ind["id"], period),
         pd_values),
        ("time series of one area (with district, city)",
         lambda: queries.timeseries(atlas, ANONYMOUS, ind["id"], area), pd_series),
        ("area profile (all indicators of one area)", lambda: queries.area_profile(atlas, ANONYMOUS, area),
         pd_profile),
        ("aggregation to the city", lambda: queries.values(atlas, ANONYMOUS, ind["id"], period, "stadt"), pd_top),
    ]
    rows = len(frame)
    out = [Figure(f"pandas: load all values into memory ({rows:,} rows)", load_ms, "ms", "",
                  note="the pandas baseline's start-up cost"),
           *[Figure(f"first request in a new process: {label}", statistics.median(first[key]), "ms", "< 300 ms",
                    statistics.median(first[key + " old"]),
                    statistics.median(first[key + " old"]) / statistics.median(first[key]),
                    f"median of {len(first[key])}, opens the store; {how}; baseline, interleaved: the same store "
                    "without summary files (an older store: every value file summarised)")
             for key, label, how in (("catalogue", "catalogue with period lists", "reads the summary files"),
                                     ("profile", "area profile", "reads the latest-cells summary file"))]]
    with answers_not_remembered(atlas):  # measure the query, not remembered answers
        measured = [(label, timed(ours, repeat), timed(theirs, repeat)) for label, ours, theirs in cases]
    for label, ours_t, theirs_t in measured:
        out.append(Figure(f"query p95: {label}", pct(ours_t, 95), "ms", "< 20 ms on the large city",
                          pct(theirs_t, 95), pct(theirs_t, 95) / pct(ours_t, 95), "baseline: pandas in memory"))
    rng = random.Random(17)
    views = [(rng.choice(list(visible["id"])), rng.choice(list(areas["area_id"]))) for _ in range(repeat + 1)]
    # A running worker keeps each indicator's city series, and with it (issue 19) its rows above the base
    # (districts and city, within ATLAS_SERIES_CACHE_MB): not part of an area's first view.
    _warm(atlas)
    with answers_not_remembered(atlas):  # first views: nothing kept but what each indicator's first series keeps
        series = interleaved({"now": lambda i: queries.timeseries(atlas, ANONYMOUS, *views[i]),
                              "before": lambda i: _series_one_by_one(atlas, ANONYMOUS, *views[i])}, repeat)
    for q, f in (("p50", statistics.median), ("p95", lambda v: pct(v, 95))):
        out.append(Figure(f"time series {q}, random indicator and area, first view", f(series["now"]), "ms",
                          "< 20 ms p95" if q == "p95" else "", f(series["before"]),
                          f(series["before"]) / f(series["now"]),
                          "now: ancestors picked from each indicator's kept rows above the base, the area's cells by "
                          "a lean read; baseline, interleaved: one query per series and one for the area's set "
                          "(before issue 19; bench/series_turns.py compares with any older commit)"))
    return out


def _first_requests(atlas, rounds: int) -> dict[str, list[float]]:
    """Milliseconds of a new worker's first catalogue and area profile, with the store's summary files and
    without them (an older store), taking turns."""
    from atlas.services import queries
    from atlas.services.context import Atlas
    from atlas.store import store as store_module
    from auth import ANONYMOUS
    area = queries.areas(atlas, "ortsteil", "bench")["area_id"].iloc[0]
    out: dict[str, list[float]] = {k: [] for k in ("catalogue", "profile", "catalogue old", "profile old")}

    def first(suffix: str) -> None:
        fresh = Atlas(atlas.settings)  # a new process's view of the store: nothing read yet
        for key, ask in (("catalogue", lambda: queries.visible_indicators(fresh, ANONYMOUS)),
                         ("profile", lambda: queries.area_profile(fresh, ANONYMOUS, area))):
            t = time.perf_counter()
            ask()
            out[key + suffix].append((time.perf_counter() - t) * 1000)

    def older_store() -> None:
        with replaced(store_module, "stored_summaries", lambda manifest: ({}, 0)):
            first(" old")
    for i in range(rounds):
        for run in ((lambda: first(""), older_store) if i % 2 else (older_store, lambda: first(""))):
            run()
    return out


def _series_one_by_one(atlas, viewer, indicator_id: str, area_id: str):
    """The time series as `queries.timeseries` read it before issue 19: a query for the area's set, one per series.

    Without its per-area boundary-change query (one set here), so the baseline is if anything too fast.
    """
    from atlas.services import queries, territory
    ind = queries.get_indicator(atlas, viewer, indicator_id)
    newest = queries.area_info(atlas, area_id).iloc[0]
    level, top = newest["level"], territory.top_level(atlas)
    predecessors = [p for p in str(newest["predecessors"] or "").split(",") if p]
    series = [("area", level, area_id)] + [("predecessor", level, p) for p in predecessors] + \
        [(up, up, key) for up, key in queries.ancestors(atlas, newest["set_id"], area_id)]
    parts = []
    for role, lvl, key in series:
        rows = queries._top_series(atlas, viewer, ind) if lvl == top else \
            queries._level_rows(atlas, viewer, ind, None, lvl, key)
        parts.append(queries.suppress(atlas, viewer, ind, rows, None).assign(role=role))
    return pd.concat(parts, ignore_index=True)[queries._SERIES_COLS].sort_values(["role", "period"])


# --------------------------------------------------------------------------- disclosure control
@contextmanager
def forgetting(atlas, kinds: set[str]):
    """Answers of these kinds (map_view, timeseries, ...) are computed afresh; all others are remembered."""
    def remembered(key: tuple, compute):
        return compute() if key[0] in kinds else type(atlas).remembered(atlas, key, compute)
    atlas.remembered = remembered  # shadows the method on this instance only
    try:
        yield
    finally:
        del atlas.remembered


@contextmanager
def replaced(module, name: str, stand_in):
    """`module.name` is `stand_in` inside the block (for code that looks it up in the module at call time)."""
    real = getattr(module, name)
    setattr(module, name, stand_in)
    try:
        yield real
    finally:
        setattr(module, name, real)


@contextmanager
def stopwatch(module, name: str, spent: list[float]):
    """Append the milliseconds of every call of `module.name` to `spent` while the block runs."""
    real = getattr(module, name)

    def timed_call(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append((time.perf_counter() - t) * 1000)
    with replaced(module, name, timed_call):
        yield


def _warm(atlas) -> None:
    """Compute what a running worker keeps per indicator and store state, so first views are measured alone.

    Each indicator's whole-territory series (`atlas.cached`), its rows of every level above the base
    (`queries._upper_series`, kept within ATLAS_SERIES_CACHE_MB; the territory's series is one of them) and
    its all-period disclosure pattern (what its first time series computes, then remembered).
    """
    from atlas.services import queries, territory
    from auth import ANONYMOUS
    whole = queries.areas(atlas, territory.top_level(atlas), queries.current_set(atlas))["area_id"].iloc[0]
    for ind_id in queries.visible_indicators(atlas, ANONYMOUS)["id"]:
        queries.timeseries(atlas, ANONYMOUS, ind_id, whole)  # the territory's series and the all-period pattern


def interleaved(runs: dict, rounds: int) -> dict[str, list[float]]:
    """Milliseconds of each `runs[name](i)` for rounds i = 1..n after a warm-up round 0.

    The runs take turns, in alternating order, so a shared machine's changing load
    hits a figure and its baseline alike (measured one after the other, they drift apart).
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for i in range(rounds + 1):
        for name, run in (list(runs.items()) if i % 2 else list(runs.items())[::-1]):
            t = time.perf_counter()
            run(i)
            if i:
                times[name].append((time.perf_counter() - t) * 1000)
    return times


def bench_disclosure(spec: TerritorySpec, atlas, repeat: int) -> list[Figure]:
    """The suppression pattern of one indicator-period on every level, first view; primary-only baseline."""
    from atlas.services import disclosure, queries, territory
    from auth import ANONYMOUS

    ruled = [i for i in atlas.indicators if disclosure.rules(i) and not i.same_count_as]
    linked = [i for i in atlas.indicators if i.same_count_as]
    rng = random.Random(5)
    views = [(ind, p) for ind in ruled for p in queries.periods(atlas, ANONYMOUS, ind.id)]
    sample = [rng.choice(views) for _ in range(repeat + 1)]
    _warm(atlas)
    inside: dict[str, list[float]] = {"algorithm": [], "secondary": [], "reading": [], "queries": []}
    counts: list[pd.Series] = []

    def full(i: int) -> None:
        algorithm, secondary, reads = [], [], []
        with stopwatch(disclosure, "hidden_cells", algorithm), stopwatch(disclosure, "_protect", secondary), \
                stopwatch(queries, "_level_rows", reads):
            pattern = queries.disclosure_pattern(atlas, ANONYMOUS, *sample[i])
        if i:
            for key, spent in (("algorithm", algorithm), ("secondary", secondary), ("reading", reads)):
                inside[key].append(sum(spent))
            inside["queries"].append(len(reads))
            counts.append(pattern["reason"].value_counts())

    def primary_only(i: int) -> None:
        with replaced(disclosure, "_protect", lambda *args: None):
            queries.disclosure_pattern(atlas, ANONYMOUS, *sample[i])

    linked_views = [(ind, rng.choice(queries.periods(atlas, ANONYMOUS, ind.id))) for ind in linked]
    with answers_not_remembered(atlas):
        times = interleaved({"full": full, "primary": primary_only}, repeat)
        linked_times = timed(lambda: queries.disclosure_pattern(atlas, ANONYMOUS, *rng.choice(linked_views)),
                             max(2, repeat // 10)) if linked else []
        whole = iter(ruled * 3)
        all_periods = timed(lambda: queries.disclosure_pattern(atlas, ANONYMOUS, next(whole), None),
                            min(len(ruled), max(2, repeat // 20)))
    n_levels = len(territory.level_ids(atlas))
    published = sum(len(queries.areas(atlas, level, "bench")) for level in territory.level_ids(atlas))
    label = f"{spec.areas:,} areas, {n_levels} levels"
    full_t, base_t = times["full"], times["primary"]
    p50, p95, base50, base95 = statistics.median(full_t), pct(full_t, 95), statistics.median(base_t), pct(base_t, 95)
    med = {key: statistics.median(v) for key, v in inside.items()}
    primary = [int(c.get("primary", 0)) for c in counts]  # plain ints: results.json is written with json
    secondary = [int(c.get("secondary", 0)) for c in counts]
    figures = [
        Figure(f"disclosure pattern p50 ({label}), first view", p50, "ms", "", base50, p50 / base50,
               "baseline: primary suppression only; ratio = with secondary / primary only"),
        Figure(f"disclosure pattern p95 ({label}), first view", p95, "ms", "well under 50 ms", base95,
               p95 / base95, f"random indicator-period of {len(ruled)} rates and counts"),
        Figure("  of which reading the rows of every level, p50", med["reading"], "ms",
               note=f"{med['queries']:.0f} queries (_level_rows); the whole territory's rows are kept per indicator"),
        Figure("  of which the suppression algorithm (hidden_cells), p50", med["algorithm"], "ms",
               note=f"secondary suppression (_protect) {med['secondary']:.1f} ms of it"),
        Figure("  cells withheld per indicator-period: primary (median)",
               float(statistics.median(primary)), "cells",
               note=f"of {published:,} published cells on {n_levels} levels"),
        Figure("  cells withheld per indicator-period: secondary (median)", float(statistics.median(secondary)),
               "cells",
               note=f"min {min(secondary)}, max {max(secondary)}"),
        Figure(f"disclosure pattern p50 ({label}), all periods at once", statistics.median(all_periods), "ms",
               note="what an indicator's first time series computes; then remembered per store state"),
    ]
    if linked_times:
        figures.append(Figure(f"disclosure pattern p50 ({label}), linked count and rate", statistics.median(
            linked_times), "ms", note="same_count_as: both patterns, re-checked until stable"))
    return figures


# --------------------------------------------------------------------------- levels
MAP_ARGS = {"ex-method.value": "quantiles", "ex-k.value": 5, "ex-selected.data": None, "ex-lang.data": "de"}


def _level_view(atlas, viewer, indicator_id: str, period: str, level: str):
    """What the explorer's map callback computes, at any level: values, classes, labels, legend.

    Used where the explorer cannot show a level itself; mirrors `choropleth._map_view`.
    """
    import numpy as np

    from atlas.classify import legend_entries
    from atlas.formatting import format_values
    from atlas.services import choropleth, queries
    table = queries.values(atlas, viewer, indicator_id, period, level)
    rows, c = choropleth.classified(atlas, table, "quantiles", 5)
    labels = format_values(rows["value"].to_numpy(dtype=float, na_value=np.nan),
                           rows["status"].to_numpy(dtype=object), table.indicator.decimals, table.indicator.unit)
    return labels, legend_entries(c, table.indicator.decimals)


class MapSwitch:
    """The explorer's map callback on one store, through Flask's test client, at the levels it can show."""

    def __init__(self, atlas):
        from atlas.services import territory
        from atlas.web.app import create_app
        from tests.dash_requests import find_output
        self.atlas = atlas
        self.app = create_app(atlas=atlas)
        quiet_logs()  # create_app sets the root logger to INFO
        self.client = self.app.server.test_client()
        self.key = find_output(self.app, "ex-geojson", "hideout")
        spec = self.app.callback_map[self.key]
        deps = [f"{d['id']}.{d['property']}" for d in spec["inputs"] + spec.get("state", [])]
        # A level choice of the explorer's own map (the export panel's ex-exp-level is another thing).
        self.level_input = next((d for d in deps if "level" in d.split(".")[0] and "exp" not in d), None)
        self.base = territory.base_level(atlas)
        self.failure = ""

    def call(self, indicator_id: str, period_index: int, level: str) -> int:
        from tests.dash_requests import call
        values = {**MAP_ARGS, "ex-indicator.value": indicator_id, "ex-period.value": period_index,
                  "ex-set.data": f"bench|{level}"}  # the geometry the map holds: set and level
        if self.level_input:
            values[self.level_input] = level
        return call(self.client, self.app, self.key, values)[0]

    def shows(self, level: str, indicator_id: str) -> bool:
        """Whether the explorer's callback answers for this level (one probe; its traceback is not printed)."""
        import logging
        if not self.level_input and level != self.base:
            return False
        logging.disable(logging.ERROR)
        try:
            status = self.call(indicator_id, 0, level)
        finally:
            logging.disable(logging.NOTSET)
        if status != 200:
            self.failure = f"HTTP {status}: {self._why(indicator_id)}"
        return status == 200

    def _why(self, indicator_id: str) -> str:
        """The exception behind a failed callback, from the service it calls."""
        from atlas.services import choropleth, queries
        from auth import ANONYMOUS
        try:
            period = queries.periods(self.atlas, ANONYMOUS, indicator_id)[0]
            choropleth.map_view(self.atlas, ANONYMOUS, indicator_id, period, "quantiles", 5)
        except Exception as exc:  # what the callback ran into
            return f"{type(exc).__name__}: {exc}"
        return "unknown"


def _map_views(switch: MapSwitch, level: str, through_callback: bool, rounds: int, seed: int):
    """Round i shows a random indicator-period at one level, through the callback or its service path."""
    from atlas.services import queries
    from auth import ANONYMOUS
    atlas = switch.atlas
    choices = [(r.id, list(r.periods)) for r in queries.visible_indicators(atlas, ANONYMOUS).itertuples()]
    rng = random.Random(seed)
    views = [(ind, rng.randrange(len(periods)), periods) for ind, periods in
             (rng.choice(choices) for _ in range(rounds + 1))]

    def show(i: int) -> None:
        ind, index, periods = views[i]
        if through_callback:
            assert switch.call(ind, index, level) == 200
        else:
            _level_view(atlas, ANONYMOUS, ind, periods[index], level)
    return show


def _series_views(atlas, level: str, rounds: int, seed: int):
    """Round i asks queries.timeseries for a random indicator and area of a level."""
    from atlas.services import queries
    from auth import ANONYMOUS
    visible = list(queries.visible_indicators(atlas, ANONYMOUS)["id"])
    areas = queries.areas(atlas, level, "bench")["area_id"].tolist()
    rng = random.Random(seed)
    views = [(rng.choice(visible), rng.choice(areas)) for _ in range(rounds + 1)]
    return lambda i: queries.timeseries(atlas, ANONYMOUS, *views[i])


def bench_levels(spec: TerritorySpec, atlas, same, city, repeat: int) -> list[Figure]:
    """Map switch and time series at the deepest and the top level of the five-level territory.

    Two baselines, measured interleaved in the same run: `same`, the same cells,
    keys, values and small-number rules on three levels (what the two middle
    levels cost, like against like), and the three-level large city of the
    other parts (today's figures; its indicators carry no small-number rules,
    so it does no disclosure work at all).
    Map switches are first views (nothing remembered). A time series is an area's first view:
    its and its ancestors' series are computed, the indicator's all-period disclosure pattern
    and whole-territory series are already kept (computed by its first time series anywhere).
    """
    from contextlib import ExitStack

    from atlas.services import queries, territory
    stores = {"five": (atlas, MapSwitch(atlas)), "same": (same, MapSwitch(same)), "city": (city, MapSwitch(city))}
    probe = {name: a.indicators[0].id for name, (a, _) in stores.items()}
    for a, _ in stores.values():
        _warm(a)
    out = []
    for depth in ("deepest", "top"):
        level = {name: (territory.base_level(a) if depth == "deepest" else territory.top_level(a))
                 for name, (a, _) in stores.items()}
        # Like against like: the real callback only where it can show the level on every store.
        through = all(sw.shows(level[name], probe[name]) for name, (_, sw) in stores.items())
        path = "explorer callback" if through else "the callback's service path (values, classes, labels)"
        with ExitStack() as stack:
            for a, _ in stores.values():
                stack.enter_context(answers_not_remembered(a))
            maps = interleaved({name: _map_views(sw, level[name], through, repeat, 11)
                                for name, (_, sw) in stores.items()}, repeat)
        with ExitStack() as stack:
            for a, _ in stores.values():
                stack.enter_context(forgetting(a, {"timeseries", "level_series", "map_view"}))
            series = interleaved({name: _series_views(a, level[name], repeat, 13)
                                  for name, (a, _) in stores.items()}, repeat)
        n = {name: len(queries.areas(a, level[name], "bench")) for name, (a, _) in stores.items()}
        tag = f"{depth} level: {level['five']} ({n['five']:,} areas), {spec.areas:,}-area territory"
        for what, times, note in (("map switch", maps, path),
                                  ("time series", series, "queries.timeseries, the area's first view")):
            for q, f in (("p50", statistics.median), ("p95", lambda v: pct(v, 95))):
                mine, same_3, city_3 = f(times["five"]), f(times["same"]), f(times["city"])
                target = "< 50 ms" if what == "map switch" and q == "p95" else ""
                out.append(Figure(f"levels: {what} {q}, {tag}", mine, "ms", target, same_3, mine / same_3,
                                  f"baseline: the same territory on 3 levels, same rules, same run; {note}"))
                out.append(Figure(f"levels: {what} {q}, {depth} level, vs today's city", mine, "ms", "", city_3,
                                  mine / city_3, f"baseline: 3-level city ({level['city']}, {n['city']:,} areas, "
                                  "no small-number rules), same run"))
    failed = stores["five"][1].failure
    if failed:
        out.insert(0, Figure(f"levels: the explorer's map on the {spec.areas:,}-area 5-level territory", None, "",
                             "answers", note=failed[:120]))
    return out


# --------------------------------------------------------------------------- processes
def bench_cold_start(data_dir: Path, layers_dir: Path) -> list[Figure]:
    port = free_port()
    env = {**os.environ, "ATLAS_DATA_DIR": str(data_dir), "ATLAS_LAYERS_DIR": str(layers_dir), "PORT": str(port)}
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        _wait_healthy(port)
        ready = (time.perf_counter() - start) * 1000
        memory = rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return [Figure("cold start of python app.py until /healthz (demo city)", ready, "ms"),
            Figure("memory of one app process after start (demo city)", memory, "MB")]


def _load_worker(port: int, stop: float, samples: list, errors: list, payloads: dict, seed: int,
                 think: tuple[float, float]) -> None:
    """One simulated user: an action, then think time (as locust's `between(1, 3)`)."""
    import http.client
    rng = random.Random(seed)
    conn = [http.client.HTTPConnection("127.0.0.1", port, timeout=30)]

    def request(method: str, path: str, body: str | None = None) -> int:
        """Like a browser: a keep-alive connection the server closed while idle is reopened once."""
        headers = {"Content-Type": "application/json"} if body else {}
        for attempt in (1, 2):
            try:
                conn[0].request(method, path, body=body, headers=headers)
                resp = conn[0].getresponse()
                resp.read()
                return resp.status
            except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
                conn[0].close()
                conn[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    time.sleep(rng.uniform(0, think[1]))  # users do not all arrive in the same millisecond
    while time.perf_counter() < stop:
        kind = rng.choices(["open", "switch", "series", "export", "profile", "compare"],
                           weights=[1, 6, 2, 1, 1, 1])[0]
        try:
            t = time.perf_counter()
            if kind == "open":
                statuses = [request("GET", "/"), request("GET", "/_dash-layout")]
            elif kind in ("switch", "series", "profile"):
                statuses = [request("POST", "/_dash-update-component", json.dumps(rng.choice(payloads[kind])))]
            elif kind == "compare":
                statuses = [request("GET", rng.choice(payloads["compare"]))]
            else:
                statuses = [request("GET", rng.choice(payloads["export"]))]
            if any(code != 200 for code in statuses):
                raise RuntimeError(f"HTTP {statuses}")
            samples.append((kind, (time.perf_counter() - t) * 1000))
        except Exception as exc:  # count it and go on with a fresh connection
            errors.append(repr(exc))
            conn[0].close()
            conn[0] = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if think[1] > 0:
            time.sleep(min(rng.uniform(*think), max(0.0, stop - time.perf_counter())))
    conn[0].close()


def bench_load(atlas, users: int, seconds: float, label: str,
               think: tuple[float, float] = (1.0, 3.0)) -> list[Figure]:
    """gunicorn as the Dockerfile runs it, a bounded load of simulated users on loopback.

    With think time (default 1–3 s, like a person reading the map) this is the
    realistic mix the targets are about; with think=(0, 0) it is a saturation test.
    """
    from atlas.services import queries
    from atlas.web.app import create_app
    from auth import ANONYMOUS
    from tests.dash_requests import callback_payload, find_output

    app = create_app(atlas=atlas)
    visible = queries.visible_indicators(atlas, ANONYMOUS)
    set_id = queries.current_set(atlas)
    area_ids = queries.areas(atlas, "ortsteil", set_id)["area_id"].tolist()
    map_key, ts_key = find_output(app, "ex-geojson", "hideout"), find_output(app, "ex-timeseries", "figure")
    app.server.test_client().get("/")  # Dash pages registers its router callback on the first request
    page_key = find_output(app, "_pages_content", "children")  # the router: a page's content
    rng = random.Random(3)
    payloads = {"switch": [], "series": [], "export": [], "profile": [], "compare": []}
    for area in rng.sample(area_ids, min(40, len(area_ids))):
        payloads["profile"].append(callback_payload(app, page_key, {
            "_pages_location.pathname": f"/profil/{area}", "_pages_location.search": ""}))
    ids = visible["id"].tolist()
    for _ in range(40):  # a planner's compare views: areas side by side, and two indicators related
        areas = "&".join(f"area={a}" for a in rng.sample(area_ids, min(4, len(area_ids))))
        inds = "&".join(f"indicator={i}" for i in rng.sample(ids, min(3, len(ids))))
        payloads["compare"].append(f"/api/v1/compare?{areas}&{inds}")
        x, y = rng.sample(ids, 2) if len(ids) > 1 else (ids[0], ids[0])
        payloads["compare"].append(f"/api/v1/correlation?x={x}&y={y}")
    for row in visible.itertuples():
        for _ in range(3):
            idx = rng.randrange(len(row.periods))
            payloads["switch"].append(callback_payload(app, map_key, {
                "ex-indicator.value": row.id, "ex-period.value": idx, "ex-method.value": "quantiles",
                "ex-k.value": 5, "ex-selected.data": None, "ex-set.data": f"{set_id}|ortsteil",
                "ex-lang.data": "de"}))
            payloads["series"].append(callback_payload(app, ts_key, {
                "ex-indicator.value": row.id, "ex-selected.data": rng.choice(area_ids), "ex-period.value": idx,
                "ex-lang.data": "de"}))
        payloads["export"].append(f"/api/v1/values?indicator={row.id}&period={row.periods[-1]}")

    port = free_port()
    # The store the payloads were built from (without it gunicorn served the default data/ directory).
    env = {**os.environ, "PORT": str(port), "ATLAS_DATA_DIR": str(atlas.settings.data_dir),
           "ATLAS_LAYERS_DIR": str(atlas.settings.layers_dir)}
    cmd = [sys.executable, "-m", "gunicorn", "app:server", "--bind", f"127.0.0.1:{port}", "--workers", "2",
           "--threads", "4", "--timeout", "120", "--keep-alive", "5"]  # as in the Dockerfile
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        _wait_healthy(port)
        samples: list[tuple[str, float]] = []
        errors: list[str] = []
        stop = time.perf_counter() + seconds
        threads = [threading.Thread(target=_load_worker, args=(port, stop, samples, errors, payloads, i, think))
                   for i in range(users)]
        started = time.perf_counter()
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        elapsed = time.perf_counter() - started
        workers = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True, text=True).stdout.split()
        worker_mb = [rss_mb(int(pid)) for pid in workers]
        worker_peak_mb = [rss_mb(int(pid), "VmHWM") for pid in workers]
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
    n = max(len(samples), 1)
    pace = f"think {think[0]:g}–{think[1]:g} s" if think[1] else "no think time: saturation"
    tag = f"{users} users, {seconds:.0f} s, {pace}, {label}"
    kinds: dict[str, list[float]] = {}
    for kind, ms in samples:
        kinds.setdefault(kind, []).append(ms)
    times = [ms for _, ms in samples]
    return [
        Figure(f"load: throughput ({tag})", len(samples) / elapsed, "req/s"),
        Figure(f"load: p50 ({tag})", pct(times, 50) if times else None, "ms"),
        Figure(f"load: p95 ({tag})", pct(times, 95) if times else None, "ms", "< 300 ms"),
        Figure(f"load: p99 ({tag})", pct(times, 99) if times else None, "ms"),
        *[Figure(f"load: p50 / p95 of '{kind}' ({users} users, {label})", pct(kinds[kind], 50), "ms",
                 note=f"p95 {pct(kinds[kind], 95):.0f} ms, {len(kinds[kind])} requests") for kind in sorted(kinds)],
        Figure(f"load: errors ({tag})", len(errors), "count", "0", note=(errors[0] if errors else "")[:80]),
        Figure(f"memory per gunicorn worker after load ({label})",
               statistics.median(worker_mb) if worker_mb else None, "MB", "≤ 350 MB (demo city)",
               note=f"VmRSS; peak (VmHWM) {max(worker_peak_mb):.0f} MB" if worker_peak_mb else ""),
    ] if n else []


# --------------------------------------------------------------------------- browser
def bench_browser(data_dir: Path, layers_dir: Path, repeat: int) -> list[Figure]:
    """First load in headless Chromium with 4× CPU throttling: bytes and time to a drawn map."""
    from selenium import webdriver
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.chrome.options import Options

    port = free_port()
    env = {**os.environ, "ATLAS_DATA_DIR": str(data_dir), "ATLAS_LAYERS_DIR": str(layers_dir), "PORT": str(port)}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    times, sizes = [], []
    try:
        _wait_healthy(port)
        for _ in range(repeat):
            options = Options()
            for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                        "--disable-background-networking", "--window-size=1280,900"):
                options.add_argument(arg)
            driver = webdriver.Chrome(options=options)
            try:
                driver.set_script_timeout(120)
                driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 4})
                start = time.perf_counter()
                driver.get(f"http://127.0.0.1:{port}/")
                while time.perf_counter() - start < 120:
                    try:
                        n = driver.execute_script(
                            "return Array.from(document.querySelectorAll('.leaflet-overlay-pane path'))"
                            ".filter(p => p.getAttribute('fill') !== '#ffffff').length")
                    except TimeoutException:  # the throttled page is busy: ask again
                        n = 0
                    if n > 10:
                        break
                    time.sleep(0.05)
                times.append((time.perf_counter() - start) * 1000)
                sizes.append(driver.execute_script(
                    "return performance.getEntriesByType('resource').concat(performance.getEntriesByType("
                    "'navigation')).reduce((s, e) => s + (e.transferSize || 0), 0)"))
            finally:
                driver.quit()
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return [Figure("browser: time to first coloured map, 4× CPU throttling (demo city)",
                   statistics.median(times), "ms", note=f"median of {repeat}"),
            Figure("browser: first-load transfer size (demo city)", statistics.median(sizes) / 1024, "KB")]


def bench_tablet(data_dir: Path, layers_dir: Path, runs: int, switches: int) -> list[Figure]:
    """bench/tablet.py: the explorer as a throttled tablet (LCP, bytes, switch); imported here, as it imports us."""
    from bench.tablet import bench_tablet as measure
    return measure(data_dir, layers_dir, runs, switches)


# --------------------------------------------------------------------------- county scale
def bench_county(n_areas: int) -> list[Figure]:
    """Geometry for ~11,000 municipality-sized polygons: where the map must change strategy."""
    from atlas.services import queries
    from atlas.services.map_bands import feature_collection
    atlas = build_city(CitySpec(f"county{n_areas}", areas=n_areas, indicators=1, years=1))
    areas = queries.areas(atlas, "ortsteil", "bench")
    out = []
    for tolerance, label in ((0.0, "full"), (0.0001, "simplified ~10 m"), (0.001, "simplified ~100 m")):
        t = time.perf_counter()
        body = json.dumps(feature_collection(areas, simplify=tolerance), separators=(",", ":"))
        out.append(Figure(f"county geometry, {n_areas:,} areas, {label}", len(body) / 1024 / 1024, "MB",
                          note=f"built in {(time.perf_counter() - t) * 1000:.0f} ms"))
    # The third path (vector tiles) against the canvas path, on the scale part's workload (it has indicators to
    # switch between): 11,000 areas, or the smoke's 400.
    spec = SCALE if n_areas >= SCALE.areas else SCALE_SMOKE
    return out + bench_county_tiles(spec, build_city(spec), visits=1 if spec is SCALE_SMOKE else 3,
                                    switches=4 if spec is SCALE_SMOKE else 12)


def _county_tiles_write(atlas, spec) -> list[Figure]:
    """Tiles of the workload's base level stored with its set (`add_missing_map_tiles`, as a boundary upload
    does from ATLAS_TILES_FROM_AREAS); the build timed apart on a scratch file, so a cached workload measures too."""
    import tempfile

    from atlas.services import queries, territory, tiles
    set_id, level = queries.current_set(atlas), territory.base_level(atlas)
    rows = queries.areas(atlas, level, set_id)
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        t = time.perf_counter()
        zmin, zmax, count = tiles.write_mbtiles(Path(tmp) / "t.mbtiles", rows, "bench")
        seconds = time.perf_counter() - t
    if tiles.stored_tiles(atlas.store, set_id, level) is None:
        tiles.add_missing_map_tiles(atlas.store, len(rows))
    path = tiles.stored_tiles(atlas.store, set_id, level)
    label = f"{len(rows):,} areas"
    return [Figure(f"county tiles: building the level's vector tiles (write time), {label}", seconds, "s",
                   note=f"zooms {zmin}–{zmax}, {count:,} tiles, bands built in the same run (not shared with "
                   "stored bands here)"),
            Figure(f"county tiles: the MBTiles file, {label}", path.stat().st_size / 1024 / 1024, "MB",
                   note="gzip-compressed tiles, next to the Parquet files")]


def bench_county_tiles(spec, atlas, visits: int, switches: int) -> list[Figure]:
    """First coloured map and indicator switch in the browser: vector tiles (ATLAS_TILES_FROM_AREAS=1) against
    the canvas path (ATLAS_CANVAS_FROM_AREAS=1, tiles off), visited in turns in the same run."""
    from atlas.services import queries
    from auth import ANONYMOUS
    from bench.national import server_switch
    out = _county_tiles_write(atlas, spec)
    # The explorer's map callback on the tiled level (class codes, labels on demand), every switch a first view.
    out += server_switch(spec, atlas, 5 if spec is SCALE_SMOKE else 20, answers_not_remembered, "county tiles",
                         tiles_from=1)
    titles = [atlas.indicator_by_id[i].title("de") for i in queries.visible_indicators(atlas, ANONYMOUS)["id"]]
    found: dict[str, dict[str, list[float]]] = {"tiles": {}, "canvas": {}}
    env = {"tiles": {"ATLAS_CANVAS_FROM_AREAS": "1", "ATLAS_TILES_FROM_AREAS": "1"},
           "canvas": {"ATLAS_CANVAS_FROM_AREAS": "1", "ATLAS_TILES_FROM_AREAS": str(10 ** 9)}}
    apps = {path: start_app(atlas.settings.data_dir, atlas.settings.layers_dir, extra) for path, extra in env.items()}
    _visit_in_turns(apps, visits, lambda port: _scale_visit(port, titles, switches, spec.areas), found)
    label = f"{spec.areas:,} areas"
    for key, what, unit, target, scale in (
            ("map_ms", "first coloured map p50", "ms", "≤ 3,000 ms", 1),
            ("bytes", "first-load transfer size", "MB", "< 5 MB", 1 / 1024 / 1024),
            ("switch_ms", "indicator switch to recoloured map p95", "ms", "≤ 300 ms", 1)):
        pick = (lambda v: pct(v, 95)) if "p95" in what else statistics.median
        value, base = pick(found["tiles"][key]) * scale, pick(found["canvas"][key]) * scale
        out.append(Figure(f"county tiles: browser, {what} ({label})", value, unit, target, base,
                          base / value if value else None,
                          f"{len(found['tiles'][key])} samples each; base: the canvas path (GeoJSON bands)"))
    return out


# --------------------------------------------------------------------------- the map at scale (issue 19)
def bench_national(spec: CitySpec, visits: int, switches: int, repeat: int) -> list[Figure]:
    """50,000 areas (a synthetic national grid, bands and tiles stored with the set): bench/national.py."""
    from bench.national import bench_national as measure
    return measure(spec, build_city(spec), visits, switches, repeat, answers_not_remembered)


def bench_county66(spec: CitySpec, repeat: int) -> list[Figure]:
    """The county workload's queries at 66 M values (values, map switch, time series, a new worker): see
    bench/county_values.py."""
    from bench.county_values import bench_county_values
    return bench_county_values(spec, build_city(spec), repeat, answers_not_remembered, interleaved, _warm)


# The first coloured map: [areas shown, of them white]. On tiles `ortsatlas.tiles.counts()` counts where they are;
# the GeoJSON paths send every fill (11,000 strings per poll, as before).
SCALE_COUNTS = ("const o = window.ortsatlas; if (!o || !o.map || !o.map.shown) { return [0, 0]; }"
                "if (o.tiles && o.tiles.active() && o.tiles.counts) { return o.tiles.counts(); }"
                "const f = o.map.shown(); return [f.length, f.filter(c => c === '#ffffff').length];")


def _scale_app(atlas, canvas_from: int | None) -> tuple[subprocess.Popen, int]:
    """`python app.py` on the workload's store; `canvas_from` set: ATLAS_CANVAS_FROM_AREAS (huge = the old path)."""
    extra = {"ATLAS_CANVAS_FROM_AREAS": str(canvas_from)} if canvas_from is not None else {}
    extra["ATLAS_TILES_FROM_AREAS"] = str(10**9)  # the canvas and SVG paths, even where the set has tiles stored
    return start_app(atlas.settings.data_dir, atlas.settings.layers_dir, extra)


def _visit_in_turns(apps: dict, visits: int, visit, found: dict[str, dict[str, list[float]]]) -> None:
    """`visit(port)` on each app (path → (process, port)) in turn, `visits` times, so a busy machine slows
    every path alike; each visit's figures are added to `found[path]`. The apps are stopped at the end."""
    try:
        for _ in range(visits):
            for path, (_proc, port) in apps.items():
                for key, values in visit(port).items():
                    found[path].setdefault(key, []).extend(values)
    finally:
        for proc, _port in apps.values():
            proc.terminate()
            proc.wait(timeout=30)


def _scale_visit(port: int, titles: list[str], switches: int, n_areas: int) -> dict[str, list[float]]:
    """One fresh headless Chromium, cache off through the DevTools protocol: first coloured map (time, bytes),
    then indicator switches by the picker, each timed in the page to the recoloured map."""
    from bench.national import SWITCHED
    from bench.tablet import TRANSFERRED, _poll, desk_browser, picker_switches
    driver = desk_browser()
    try:
        start = time.perf_counter()
        driver.get(f"http://127.0.0.1:{port}/")
        _poll(driver, SCALE_COUNTS, lambda c: c[0] == n_areas and c[1] < n_areas // 2, "the coloured map")
        out = {"map_ms": [(time.perf_counter() - start) * 1000]}
        time.sleep(1.0)  # late requests (point layers) count too
        out["bytes"] = [driver.execute_script(TRANSFERRED)]
        out["switch_ms"] = picker_switches(driver, titles, switches, SWITCHED)
        return out
    finally:
        driver.quit()


def _scale_band_write(atlas, bands_from: int) -> float:
    """Seconds a write spends storing the map bands of the workload's set (`add_missing_map_bands`: every band of
    each level with at least `bands_from` areas, as `add_boundary_set` does). The cached workload predates stored
    bands: its first run writes them into it, later runs measure on a copy stripped of them."""
    import shutil
    import tempfile

    from atlas.services.context import Atlas
    from atlas.services.map_bands import add_missing_map_bands
    from atlas.store.store import MAP_BANDS, map_band_files
    if not map_band_files(atlas.store.manifest()):
        t = time.perf_counter()
        add_missing_map_bands(atlas.store, bands_from)
        return time.perf_counter() - t
    with tempfile.TemporaryDirectory(dir=WORK) as tmp:
        shutil.copytree(atlas.store.data_dir, Path(tmp) / "data", ignore=shutil.ignore_patterns("uploads", "tmp"))
        copy = Atlas(replace(atlas.settings, data_dir=Path(tmp) / "data", tmp_dir=Path(tmp) / "data" / "tmp"))
        with copy.store.writing() as tx:
            tx.manifest.pop(MAP_BANDS, None)
        t = time.perf_counter()
        add_missing_map_bands(copy.store, bands_from)
        return time.perf_counter() - t


def bench_scale(spec: CitySpec, atlas, visits: int, switches: int, repeat: int) -> list[Figure]:
    """The map of ~11,000 areas: zoom bands and canvas (the big path) against the map as it was (SVG, the full
    ~1 m geometry) in the same run: first coloured map, indicator switch in the browser, server switch."""
    from atlas.services import choropleth, queries, territory
    from atlas.services.map_bands import band_name
    from auth import ANONYMOUS

    label = f"{spec.areas:,} areas"
    set_id = queries.current_set(atlas)
    # The bands are stored with the set (issue 19), so no worker builds them; the base level counts as big here
    # as in the big-path app below (ATLAS_CANVAS_FROM_AREAS=1 there), also for the smoke's 400 areas.
    bands_from = min(atlas.settings.canvas_from_areas, spec.areas)
    seconds = _scale_band_write(atlas, bands_from)
    out = [Figure(f"scale: storing the map bands with the set (write time), {label}", seconds, "s",
                  note=f"all {len(choropleth.BANDS)} bands of each level with ≥ {bands_from:,} areas; "
                  "before: built per worker process on its first map, 15–18 s per band")]
    queries.areas(atlas, territory.base_level(atlas), set_id)  # read once first, as the page does before its map
    for band in range(len(choropleth.BANDS)):
        stored = atlas.store.map_band(set_id, territory.base_level(atlas), band_name(band)) is not None
        t = time.perf_counter()
        size = len(json.dumps(choropleth.geometry(atlas, set_id, None, band), separators=(",", ":")))
        out.append(Figure(f"scale: geometry band {band} (from zoom {choropleth.BANDS[band].min_zoom}), {label}",
                          size / 1024 / 1024, "MB", note=f"{'read (stored with the set)' if stored else 'built'} "
                          f"in {(time.perf_counter() - t) * 1000:.0f} ms, tolerance {choropleth.BANDS[band].tolerance}°"))
    zoom = choropleth.territory_zoom(atlas, set_id)
    out.append(Figure(f"scale: first band for the whole territory, {label}", choropleth.territory_band(atlas, set_id),
                      "band", note=f"fit zoom {zoom} at 1000×700 px"))
    # The server's map switch (values only) against the naive full-GeoJSON callback, as the `map` part measures.
    for f in bench_map_switch(spec, atlas, repeat):
        if "p95" in f.name:
            f.target = "< 100 ms"
        elif "payload" in f.name:
            f.target = "< 200 KB"
        out.append(replace(f, name="scale: " + f.name))
    titles = [atlas.indicator_by_id[i].title("de") for i in queries.visible_indicators(atlas, ANONYMOUS)["id"]]
    found: dict[str, dict[str, list[float]]] = {"big": {}, "old": {}}
    # The big path forced (threshold 1), so the smoke's small workload takes it too; 11,000 areas take it anyway.
    apps = {"big": _scale_app(atlas, 1), "old": _scale_app(atlas, 10 ** 9)}
    _visit_in_turns(apps, visits, lambda port: _scale_visit(port, titles, switches, spec.areas), found)
    big, old = found["big"], found["old"]
    note = (f"{visits} visits each, 1280×900, no throttling, empty cache; big path: ATLAS_CANVAS_FROM_AREAS=1, "
            "old: 10^9 (SVG, ~1 m geometry)")
    for key, what, unit, target, scale in (
            ("map_ms", "first coloured map p50", "ms", "≤ 3,000 ms", 1),
            ("bytes", "first-load transfer size", "MB", "< 5 MB", 1 / 1024 / 1024),
            ("switch_ms", "indicator switch to recoloured map p95", "ms", "≤ 300 ms", 1)):
        pick = (lambda v: pct(v, 95)) if "p95" in what else statistics.median
        value, base = pick(big[key]) * scale, pick(old[key]) * scale
        out.append(Figure(f"scale: browser, {what} ({label})", value, unit, target, base,
                          base / value if value else None, note if key == "map_ms" else
                          f"{len(big[key])} samples each" if key == "switch_ms" else ""))
    return out


def bench_exports(atlas, label: str, repeat: int, indicators: tuple[str, ...] = ("all",)) -> list[Figure]:
    """Every export format for all indicators × all periods, built and streamed to the end."""
    from atlas.export import tables as export
    from atlas.services import territory
    from auth import ANONYMOUS

    out = []
    for fmt in export.FORMATS:
        # The level as `from_args` sets it: the request's own default ("") has no geometry.
        req = export.ExportRequest(indicators, level=territory.base_level(atlas), fmt=fmt)
        sizes: list[int] = []

        def run():
            data = export.collect(atlas, ANONYMOUS, req)
            sizes.append(sum(len(chunk) for chunk in export.render(atlas, data).chunks))
            return data

        rows = len(run().rows)
        times = timed(run, repeat)
        out.append(Figure(f"export {fmt}, {label} ({rows:,} values)", statistics.median(times) / 1000, "s",
                          "seconds", note=f"{sizes[-1] / 1024 / 1024:.1f} MB, {rows / statistics.median(times):,.0f}"
                                          f" values/ms" if times else ""))
    return out


def _peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the parent)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _ingest_child(data_dir: str, layers_dir: str, target_rows: int, out) -> None:
    """In a fresh process, so peak memory is the ingest's own: build a German CSV, check it, store it."""
    from dataclasses import replace

    import numpy as np

    from atlas.config import load_settings
    from atlas.ingest import checks as ingest
    from atlas.ingest import uploads
    from atlas.services import queries
    from atlas.services.context import Atlas
    from auth import Principal
    atlas = Atlas(replace(load_settings(), data_dir=Path(data_dir), layers_dir=Path(layers_dir)))
    viewer = Principal("bench", "steward", frozenset({"statistik"}), logged_in=True)
    areas = queries.areas(atlas, "ortsteil", queries.current_set(atlas))["area_id"].to_numpy()
    yearly = [i.id for i in atlas.indicators if i.periodicity == "year"]
    years = list(range(2026, 2026 + max(1, -(-target_rows // (len(areas) * len(yearly))))))
    n = len(areas) * len(yearly) * len(years)
    rng = np.random.default_rng(3)
    den = rng.integers(500, 20_000, n)
    frame = pd.DataFrame({"Ortsteil": np.tile(areas, len(yearly) * len(years)),
                          "Jahr": np.repeat(years, len(areas) * len(yearly)),
                          "Indikator": np.tile(np.repeat(yearly, len(areas)), len(years)),
                          "Zähler": (den * rng.uniform(0.05, 0.3, n)).astype(int), "Nenner": den}).head(target_rows)
    content = frame.to_csv(sep=";", index=False).encode("utf-8-sig")
    rows = len(frame)
    del frame, den  # the generator's columns are no part of the ingest's memory
    base = _peak_mb()
    t0 = time.perf_counter()
    checked = ingest.check_upload(atlas, viewer, "bench.csv", content)
    t1 = time.perf_counter()
    pending = uploads.Uploads(atlas.settings.data_dir).create(viewer, "bench.csv", content, checked)
    uploads.confirm(atlas, viewer, pending.upload_id)
    t2 = time.perf_counter()
    out.put({"rows": rows, "mb": len(content) / 1e6, "ok": checked.report.ok, "check_s": t1 - t0,
             "store_s": t2 - t1, "peak_mb": _peak_mb(),
             "base_mb": base, "errors": checked.report.errors[:2]})


def bench_ingest(city, label: str, target_rows: int) -> list[Figure]:
    """Check and store a German-Excel CSV of `target_rows` rows on a copy of the city's store."""
    import multiprocessing
    import shutil
    import tempfile
    folder = Path(tempfile.mkdtemp(prefix="ortsatlas-bench-ingest-"))
    try:
        shutil.copytree(city.store.data_dir, folder / "data")
        ctx = multiprocessing.get_context("spawn")
        queue = ctx.Queue()
        child = ctx.Process(target=_ingest_child, args=(str(folder / "data"), str(city.settings.layers_dir),
                                                        target_rows, queue))
        child.start()
        r = queue.get(timeout=3600)
        child.join()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    if not r["ok"]:
        return [Figure(f"ingest {label}: the generated file failed its check", None, "", note=str(r["errors"]))]
    total = r["check_s"] + r["store_s"]
    return [Figure(f"ingest {r['rows']:,} rows ({r['mb']:.0f} MB CSV), {label}: check + store", total, "s",
                   "1 M rows < 8 s", note=f"check {r['check_s']:.1f} s, store {r['store_s']:.1f} s"),
            Figure(f"ingest {r['rows']:,} rows: peak memory of the process", r["peak_mb"], "MB", "< 1 GB",
                   note=f"{r['base_mb']:.0f} MB before the check")]


# --------------------------------------------------------------------------- main
def bench_indices(atlas, repeat: int) -> list[Figure]:
    """Composite indices (build, sensitivity, typology, save, recompute) and the /ziele dashboard: bench/indices.py."""
    from bench.indices import measure
    return [Figure(**f) for f in measure(atlas, repeat)]


def bench_profiles(demo, city, city_name: str, smoke: bool) -> list[Figure]:
    """Area profiles (issue 13), as `bench/profiles.py` measures them, without its booklets."""
    from bench import profiles as profile_bench
    found = profile_bench.profile_figures("demo city", demo, 10 if smoke else 40, 3)
    found += profile_bench.profile_figures(city_name, city, 10 if smoke else 60, 3 if smoke else 1)
    return [Figure(f["name"], f["value"], f["unit"], f.get("target", ""), f.get("baseline"), f.get("ratio"),
                   f.get("note", "")) for f in found]


def bench_compare(atlas, label: str, repeat: int) -> list[Figure]:
    """The compare page's views (issue 14) through their real callbacks, first views: bench/compare.py."""
    from bench.compare import measure
    return measure(atlas, label, repeat, answers_not_remembered)


PARTS = ("map", "queries", "ingest", "exports", "start", "load", "browser", "tablet", "county", "disclosure",
         "levels", "scale", "profiles", "indices", "compare", "national", "county66")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="small sizes, short load: proves the bench runs")
    parser.add_argument("--skip", action="append", default=[], choices=PARTS, metavar="PART",
                        help=f"skip a part: {', '.join(PARTS)}")
    parser.add_argument("--only", action="append", default=[], choices=PARTS, metavar="PART",
                        help="run only this part (repeatable)")
    args = parser.parse_args()
    quiet_logs()
    smoke = args.smoke
    spec = SMOKE if smoke else LARGE
    terr_spec = TERRITORY_SMOKE if smoke else TERRITORY
    figures: list[Figure] = []
    started = time.time()

    from functools import cache

    from atlas.config import load_settings
    from atlas.demo import ensure_demo
    from atlas.services.context import Atlas
    demo_dir = WORK / "demo" / "data"

    @cache
    def demo() -> Atlas:
        atlas = Atlas(replace(load_settings(), data_dir=demo_dir))
        ensure_demo(atlas)
        return atlas

    # Workloads are opened (or built) when the first part that needs them runs.
    city = cache(lambda: build_city(spec))
    terr = cache(lambda: build_territory(terr_spec))
    parts = [
        ("map", lambda: bench_map_switch(spec, city(), 20 if smoke else 200)),
        ("queries", lambda: bench_queries(spec, city(), 10 if smoke else 50)),
        ("ingest", lambda: bench_ingest(city(), f"{spec.areas} areas", 10_000 if smoke else 1_000_000)),
        ("exports", lambda: bench_exports(demo(), "demo city, all public indicators × years", 1 if smoke else 3)),
        ("start", lambda: bench_cold_start(demo_dir, demo().settings.layers_dir)),
        ("load", lambda: bench_load(demo(), 5 if smoke else 50, 5 if smoke else 60, "demo city")),
        ("load", lambda: [] if smoke else bench_load(city(), 50, 60, f"{spec.areas} areas")),
        ("load", lambda: [] if smoke else bench_load(demo(), 50, 30, "demo city", think=(0.0, 0.0))),
        ("load", lambda: [] if smoke else bench_load(demo(), 200, 60, "demo city")),
        ("browser", lambda: bench_browser(demo_dir, demo().settings.layers_dir, 1 if smoke else 5)),
        ("tablet", lambda: bench_tablet(demo_dir, demo().settings.layers_dir, 1 if smoke else 7, 1 if smoke else 4)),
        ("county", lambda: bench_county(1_100 if smoke else 11_000)),
        ("disclosure", lambda: bench_disclosure(terr_spec, terr(), 5 if smoke else 200)),
        ("levels", lambda: bench_levels(terr_spec, terr(), build_territory(TERRITORY3_SMOKE if smoke else TERRITORY3),
                                        city(), 5 if smoke else 100)),
        ("profiles", lambda: bench_profiles(demo(), city(), f"{spec.areas:,} areas", smoke)),
        ("scale", lambda: bench_scale(SCALE_SMOKE if smoke else SCALE, build_city(SCALE_SMOKE if smoke else SCALE),
                                      1 if smoke else 3, 2 if smoke else 8, 8 if smoke else 20)),
        ("indices", lambda: bench_indices(city(), 2 if smoke else 7)),
        ("compare", lambda: bench_compare(city(), f"{spec.areas:,} areas", 10 if smoke else 100)),
        ("national", lambda: bench_national(NATIONAL_SMOKE if smoke else NATIONAL, 1 if smoke else 3,
                                            2 if smoke else 8, 5 if smoke else 20)),
        ("county66", lambda: bench_county66(COUNTY66_SMOKE if smoke else COUNTY66, 5 if smoke else 50)),
    ]
    for name, run in parts:
        if name in args.skip or (args.only and name not in args.only):
            continue
        try:  # one part failing must not lose the others' figures
            figures += run()
        except Exception as exc:
            figures.append(Figure(f"{name}: failed", None, "", note=f"{type(exc).__name__}: {exc}"[:120]))
        print(f"[{time.time() - started:5.0f} s] {name} done", file=sys.stderr, flush=True)

    print_table(figures)
    meta = {"mode": "smoke" if smoke else "full", "parts": [n for n in PARTS if n not in args.skip and (
        not args.only or n in args.only)], "seconds": round(time.time() - started), "machine": {
        "python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()}}
    plain = {"meta": meta, "figures": [asdict(f) for f in figures]}  # numpy scalars as Python numbers
    RESULTS.write_text(json.dumps(plain, indent=1, default=lambda o: o.item() if hasattr(o, "item") else str(o)))
    print(f"\nwrote {RESULTS.relative_to(ROOT)} ({meta['mode']}, {meta['seconds']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
