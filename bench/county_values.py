"""The county workload's queries (issue 19): 11,000 areas × 300 yearly indicators × 20 years = 66 M values.

Issue 19's targets at this size: the values query (one indicator and period,
all areas) p95 < 30 ms; the map switch on the server p95 < 100 ms and
< 200 KB; and, set for the city's 12 M values but asked of every size, a
time series' first view p95 < 20 ms and a new worker's first catalogue and
area profile < 0.3 s each. Measured in this process against the store built
by `bench.workloads.build_city(COUNTY66)` (cached under bench/work):

- the values query against a naive baseline in the same run, taking turns:
  the same question asked of all value files at once in DuckDB (no manifest,
  no per-version file choice, no rights): what a store without the
  manifest's layout would do;
- every answer a first view (`answers_not_remembered`); time series after
  each indicator's whole-territory series is kept, as in a running worker.

Nothing is asserted: the machine is shared.
"""
from __future__ import annotations

import random
import statistics
import time
from dataclasses import replace

from bench.figures import Figure, pct
from bench.workloads import CitySpec


def first_requests(atlas, rounds: int) -> dict[str, list[float]]:
    """Milliseconds of a new worker's first catalogue and area profile (a fresh context on the same store)."""
    from atlas.services import queries, territory
    from atlas.services.context import Atlas
    from auth import ANONYMOUS
    area = queries.areas(atlas, territory.base_level(atlas), queries.current_set(atlas))["area_id"].iloc[0]
    out: dict[str, list[float]] = {"catalogue": [], "profile": []}
    for _ in range(rounds):
        fresh = Atlas(atlas.settings)  # a new process's view of the store: nothing read yet
        for key, ask in (("catalogue", lambda: queries.visible_indicators(fresh, ANONYMOUS)),
                         ("profile", lambda: queries.area_profile(fresh, ANONYMOUS, area))):
            t = time.perf_counter()
            ask()
            out[key].append((time.perf_counter() - t) * 1000)
    return out


def _naive_values(atlas):
    """The values question asked of every value file at once (DuckDB, no manifest layout): the baseline."""
    import duckdb
    files = [str(atlas.store.data_dir / f) for f in atlas.store.manifest()["tables"]["values"]]
    con = duckdb.connect()
    sql = ("SELECT area_id, value, numerator, denominator, status FROM read_parquet($files) "
           "WHERE indicator_id = $ind AND period = $period ORDER BY area_id")
    return lambda ind, period: con.execute(sql, {"files": files, "ind": ind, "period": period}).df()


def bench_county_values(spec: CitySpec, atlas, repeat: int, not_remembered, interleaved, warm) -> list[Figure]:
    """Values query, map switch, time series and a new worker's start at 66 M values (see the module's doc)."""
    from atlas.services import queries, territory
    from auth import ANONYMOUS
    from bench.national import server_switch

    n = spec.areas * spec.indicators * spec.years
    label = f"{spec.areas:,} areas, " + (f"{n / 1e6:,.0f} M values" if n >= 1e6 else f"{n:,} values")
    first = first_requests(atlas, 3)
    out = [Figure(f"county: first request of a new worker, {what} ({label})", statistics.median(first[key]), "ms",
                  "< 300 ms", note=f"median of 3; {how}")
           for key, what, how in (("catalogue", "catalogue with period lists", "reads the summary files"),
                                  ("profile", "area profile", "reads the latest-cells summary file"))]
    visible = queries.visible_indicators(atlas, ANONYMOUS)
    rng = random.Random(23)
    views = [(r.id, rng.choice(list(r.periods))) for r in (visible.iloc[rng.randrange(len(visible))]
                                                             for _ in range(repeat + 1))]
    naive = _naive_values(atlas)
    with not_remembered(atlas):
        times = interleaved({"store": lambda i: queries.values(atlas, ANONYMOUS, *views[i]),
                             "naive": lambda i: naive(*views[i])}, repeat)
    for q, f in (("p50", statistics.median), ("p95", lambda v: pct(v, 95))):
        ours, theirs = f(times["store"]), f(times["naive"])
        out.append(Figure(f"county: values query {q}, one indicator and period, all areas ({label})", ours, "ms",
                          "< 30 ms" if q == "p95" else "", theirs, theirs / ours,
                          "baseline, in turns: DuckDB over all value files at once (no manifest layout)"))
    out += [replace(fig, name=fig.name.replace("national:", "county:"))
            for fig in server_switch(spec, atlas, repeat, not_remembered)]
    base = territory.base_level(atlas)
    areas = list(queries.areas(atlas, base, queries.current_set(atlas))["area_id"])
    series_views = [(rng.choice(list(visible["id"])), rng.choice(areas)) for _ in range(repeat + 1)]
    warm(atlas)  # each indicator's whole-territory series is kept by a running worker
    with not_remembered(atlas):
        series = interleaved({"now": lambda i: queries.timeseries(atlas, ANONYMOUS, *series_views[i])}, repeat)
    for q, f in (("p50", statistics.median), ("p95", lambda v: pct(v, 95))):
        out.append(Figure(f"county: time series {q}, random indicator and area, first view ({label})",
                          f(series["now"]), "ms", "< 20 ms (set for 12 M values)" if q == "p95" else ""))
    return out
