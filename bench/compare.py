"""Bench: the compare page's views (issue 14), as the page asks for them.

    python bench/run.py --only compare           # large city (1,000 areas × 300 indicators)
    python bench/run.py --only compare --smoke   # small city (100 areas × 20 indicators)

Each view's main callback of atlas/web/pages/compare.py is posted to
`/_dash-update-component` through Flask's test client, with random
indicators, periods and areas each time, as an interaction on a page that
already holds the map's geometry (the set it shows is sent as the callback's
state, so only values, classes, legend and tables travel). Answers are not
remembered (ATLAS_ANSWER_CACHE_SIZE=0 inside the block): every interaction
is a first view. Figures: p50 and p95 of the server time per interaction, the
p50 of the process's CPU time per interaction (DuckDB's threads included: on a
shared, loaded machine it moves less than the wall time), and the median
response payload; similar areas' note gives the p95 per method. Nothing here
asserts a time.
"""
from __future__ import annotations

import gc
import json
import random
import statistics
import time
from typing import Callable

from bench.figures import Figure, pct

TARGET = "p95 < 100 ms"


def _views(atlas, rng: random.Random) -> dict[str, tuple[str, Callable[[], dict]]]:
    """Each view: the component whose callback it measures, and a maker of one random interaction's inputs."""
    from atlas.services import comparison, queries, territory
    from auth import ANONYMOUS

    visible = queries.visible_indicators(atlas, ANONYMOUS)
    periods = {r.id: list(r.periods) for r in visible.itertuples()}
    ids = [i for i, p in periods.items() if p]
    paired = [i for i in ids if len(periods[i]) >= 2]
    level = territory.base_level(atlas)
    set_id = queries.current_set(atlas)
    held = f"{set_id}|{level}"  # the geometry the page's map already shows
    areas = list(queries.areas(atlas, level, set_id)["area_id"])
    methods = list(comparison.SIMILAR_METHODS)

    def side_map() -> dict:
        ind = rng.choice(ids)
        period = rng.choice(periods[ind])
        return {"cmp-m1-indicator.value": ind, "cmp-m1-period.value": period, "cmp-m1-method.value": "quantiles",
                "cmp-m-selected.data": None, "cmp-m1-set.data": queries.set_for_period(atlas, period) or set_id,
                "cmp-lang.data": "de"}

    def change_map() -> dict:
        ind = rng.choice(paired)
        a, b = sorted(rng.sample(periods[ind], 2))
        return {"cmp-ch-indicator.value": ind, "cmp-ch-from.value": a, "cmp-ch-to.value": b,
                "cmp-ch-level.value": level, "cmp-set.data": held, "cmp-lang.data": "de"}

    def area_table() -> dict:
        inds = rng.sample(ids, 4)
        return {"cmp-areas.value": rng.sample(areas, 6), "cmp-indicators.value": inds,
                "cmp-chart-indicator.value": inds[0], "cmp-lang.data": "de"}

    def relation() -> dict:
        x, y = rng.sample(ids, 2)
        return {"cmp-x.value": x, "cmp-y.value": y, "cmp-rel-level.value": level, "cmp-rel-set.data": held,
                "cmp-lang.data": "de"}

    def bivariate() -> dict:
        x, y = rng.sample(ids, 2)
        return {"cmp-bv-x.value": x, "cmp-bv-y.value": y, "cmp-bv-level.value": level, "cmp-bv-set.data": held,
                "cmp-lang.data": "de"}

    def similar() -> dict:
        method = rng.choice(methods)
        return {"cmp-sim-area.value": rng.choice(areas), "cmp-sim-indicators.value": rng.sample(ids, 4),
                "cmp-sim-method.value": method, "cmp-sim-tolerance.value": comparison.SIMILAR_METHODS[method] * 3,
                "cmp-lang.data": "de"}

    return {
        "side-by-side maps: one map's switch": ("cmp-m1-geojson.hideout", side_map),
        "change map: indicator and two periods": ("cmp-ch-geojson.hideout", change_map),
        "compare areas: 6 areas × 4 indicators, table and chart": ("cmp-area-table.children", area_table),
        "scatter and correlation (with its bivariate map)": ("cmp-rel-chart.figure", relation),
        "bivariate map": ("cmp-bv-geojson.hideout", bivariate),
        "similar areas: 4 indicators": ("cmp-sim-result.children", similar),
    }


def _empty(body: dict, target: str) -> bool:
    """Whether the view answered with nothing to show (an empty map, chart or table): such answers are cheap."""
    component, prop = target.rsplit(".", 1)
    shown = body.get("response", {}).get(component, {}).get(prop)
    return not shown or (isinstance(shown, dict) and not shown.get("data", True))


def measure(atlas, label: str, repeat: int, not_remembered) -> list[Figure]:
    """p50/p95 server time and median payload per interaction of each compare view, first views."""
    from atlas.web.app import create_app
    from tests.dash_requests import call, find_output

    app = create_app(atlas=atlas)
    client = app.server.test_client()
    client.get("/vergleich")
    gc.freeze()  # what the app has built by now lives as long as the process: frozen as app.py does after start
    rng = random.Random(14)
    out: list[Figure] = []
    for view, (target, make) in _views(atlas, rng).items():
        key = find_output(app, *target.rsplit(".", 1))
        times, cpu, sizes, empty, by_method = [], [], [], 0, {}
        with not_remembered(atlas):  # every interaction computed: a first view
            for i in range(repeat + 1):
                values = make()
                started, started_cpu = time.perf_counter(), time.process_time()
                status, body = call(client, app, key, values)
                spent, spent_cpu = (time.perf_counter() - started) * 1000, (time.process_time() - started_cpu) * 1000
                assert status == 200, f"{view}: HTTP {status}"
                if i == 0:
                    continue  # warm-up: the first request of a view builds what a worker keeps
                times.append(spent)
                cpu.append(spent_cpu)
                sizes.append(len(json.dumps(body, separators=(",", ":"))))
                empty += _empty(body, target)
                if "cmp-sim-method.value" in values:
                    by_method.setdefault(values["cmp-sim-method.value"], []).append(spent)
        note = f"{len(times)} interactions, random inputs, geometry held by the page" + \
            (f"; {empty} showed nothing" if empty else "")
        methods = "; ".join(f"p95 {m} {pct(t, 95):.0f} ms ({len(t)})" for m, t in sorted(by_method.items()))
        out += [Figure(f"compare, {view} p50 ({label}), first view", statistics.median(times), "ms", note=note),
                Figure(f"compare, {view} p95 ({label}), first view", pct(times, 95), "ms", TARGET, note=methods),
                Figure(f"compare, {view} CPU p50 ({label}), first view", statistics.median(cpu), "ms",
                       note="process CPU time per interaction, DuckDB's threads included"),
                Figure(f"compare, {view} payload ({label})", statistics.median(sizes) / 1024, "KB",
                       note=f"median; max {max(sizes) / 1024:.1f} KB")]
    return out
