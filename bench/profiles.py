"""Bench: area profiles and booklets (issue 13).

    python bench/profiles.py            # large city (1,000 areas × 300 indicators) and the demo city
    python bench/profiles.py --smoke    # small city (100 areas × 20 indicators) and the demo city
    python bench/run.py --only profiles # the profile figures (no booklets) as a part of the bench

Figures: the first profile of a store state (fills the per-level tables:
one query for every indicator, period and level), against the same with the
tables read one indicator, period and level at a time as before (a fresh
`Atlas` each, taking turns); then each random area's first profile (the
per-level tables kept, as a worker keeps them; nothing of the area
remembered): the JSON route and the page's layout with its JSON, p50/p95,
wall and CPU time; the booklet of the demo city's 51 Ortsteile and of the
workload's base level (PDF and zip). Prints a table and writes
bench/results_profiles.json. Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import sys
import time
from contextlib import contextmanager, nullcontext
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from atlas.config import load_settings  # noqa: E402
from atlas.demo import ensure_demo  # noqa: E402
from atlas.export import booklet  # noqa: E402
from atlas.services import profiles, queries, territory  # noqa: E402
from atlas.services.context import Atlas  # noqa: E402
from auth import ANONYMOUS  # noqa: E402
from bench import workloads  # noqa: E402

OUT = Path(__file__).resolve().parent / "results_profiles.json"


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


@contextmanager
def one_at_a_time():
    """The per-level tables read as before: one `queries.values` per indicator, period and level."""
    batched = profiles._level_cells

    def per_pair(atlas, viewer, wanted, levels):
        visible = [(i, p) for i, p in dict.fromkeys(wanted) if queries.get_indicator(atlas, viewer, i) is not None]
        return {level: {(i, p): profiles._compute_cells(atlas, viewer, i, p, level) for i, p in visible}
                for level in levels}
    profiles._level_cells = per_pair
    try:
        yield
    finally:
        profiles._level_cells = batched


def first_of_state(atlas: Atlas, area: str, old: bool) -> float:
    """Seconds for the first profile of a fresh `Atlas` on the same store (its per-level tables empty)."""
    fresh = Atlas(atlas.settings)
    profiles.find_area(fresh, area)  # the area index and the catalogue: the same for both paths
    queries.visible_indicators(fresh, ANONYMOUS)
    started = time.perf_counter()
    with one_at_a_time() if old else nullcontext():
        profiles.profile(fresh, ANONYMOUS, area)
    return time.perf_counter() - started


def profile_figures(name: str, atlas: Atlas, n: int, state_runs: int = 1) -> list[dict]:
    from atlas.web.app import create_app
    from atlas.web.pages import profile as page
    app = create_app(atlas=atlas)
    logging.getLogger().setLevel(logging.WARNING)  # create_app logs every request at INFO
    client = app.server.test_client()
    base = territory.base_level(atlas)
    areas = [p.area_id for p in profiles.areas_of_level(atlas, base)]
    new_state, old_state = [], []
    for _ in range(state_runs):  # taking turns: a busy machine slows both
        new_state.append(first_of_state(atlas, areas[0], old=False))
        old_state.append(first_of_state(atlas, areas[0], old=True))
    rng = np.random.default_rng(13)
    started = time.perf_counter()
    first = client.get(f"/api/v1/profile?area={areas[0]}")
    cold = time.perf_counter() - started
    assert first.status_code == 200
    gc.freeze()  # what the app has built by now lives as long as the process: frozen as app.py does after start
    json_times, layout_times, json_cpu, layout_cpu = [], [], [], []
    for area in rng.choice(areas[1:], size=min(n, len(areas) - 1), replace=False):  # each area's first view
        t0, c0 = time.perf_counter(), time.process_time()
        assert client.get(f"/api/v1/profile?area={area}").status_code == 200
        json_times.append(time.perf_counter() - t0)
        json_cpu.append(time.process_time() - c0)
        with app.server.test_request_context(f"/profil/{area}"):
            t0, c0 = time.perf_counter(), time.process_time()
            tree = page.layout(area=str(area))
            json.dumps(tree.to_plotly_json(), default=lambda o: o.to_plotly_json())
            layout_times.append(time.perf_counter() - t0)
            layout_cpu.append(time.process_time() - c0)
    rows = first.get_json()["count"]
    new_m, old_m = statistics.median(new_state), statistics.median(old_state)
    out = [
        {"name": f"{name}: first profile of a store state", "value": round(new_m, 2), "unit": "s",
         "baseline": round(old_m, 2), "ratio": round(old_m / new_m, 1) if new_m else None,
         "note": f"{len(areas)} areas, {rows} indicators, median of {state_runs}: per-level tables in one query; "
                 f"baseline one query per indicator, period and level"},
        {"name": f"{name}: first profile through the app's JSON route", "value": round(cold, 2), "unit": "s",
         "note": "the app's first request: its per-level tables are built on the way (the runs above used fresh "
                 "Atlas objects)"},
    ]
    for label, wall, cpu in (("profile JSON", json_times, json_cpu),
                             ("profile page layout (service, component tree, its JSON)", layout_times, layout_cpu)):
        for q in (50, 95):
            out.append({"name": f"{name}: {label} p{q}, first view of each area", "value": round(_p(wall, q), 1),
                        "unit": "ms", "target": "p95 < 100" if q == 95 else "",
                        "note": f"{len(wall)} random areas; CPU time p{q} {_p(cpu, q):.0f} ms"})
    return out


def booklet_figures(name: str, atlas: Atlas, formats: tuple[str, ...]) -> list[dict]:
    level = territory.base_level(atlas)
    n = len(profiles.areas_of_level(atlas, level))
    out = []
    for fmt in formats:
        started = time.perf_counter()
        body = (booklet.booklet_pdf if fmt == "pdf" else booklet.booklet_zip)(atlas, level, "public")
        out.append({"name": f"{name}: booklet {fmt} ({n} areas)", "value": round(time.perf_counter() - started, 1),
                    "unit": "s", "note": f"{len(body) / 1e6:.1f} MB, public edition, caches warm"})
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    results: list[dict] = []

    def report(figures: list[dict]) -> None:
        """Print and keep each figure as soon as it is measured: the large booklet may take long."""
        for r in figures:
            base = f"baseline {r['baseline']} ({r['ratio']}×) " if r.get("baseline") is not None else ""
            print(f"{r['name']:<48}  {r['value']!s:>12} {r['unit']:<3} {r.get('target', ''):<10} {base}{r['note']}",
                  flush=True)
        results.extend(figures)
        OUT.write_text(json.dumps({"mode": "smoke" if args.smoke else "full", "results": results}, indent=1,
                                  ensure_ascii=False))
    demo = Atlas(load_settings())
    ensure_demo(demo)
    report(profile_figures("demo city", demo, 40, 3))
    report(booklet_figures("demo city", demo, ("zip", "pdf")))
    spec = workloads.SMOKE if args.smoke else workloads.LARGE
    city = workloads.build_city(spec)
    report(profile_figures(f"{spec.name} city", city, 30 if args.smoke else 60, 3 if args.smoke else 1))
    # The 1,000-area PDF (one profile of ~6 pages per area, laid out three times for the page numbers of the
    # contents) runs for tens of minutes on a shared machine: full runs measure the zip, smoke runs both.
    report(booklet_figures(f"{spec.name} city", city, ("zip", "pdf") if args.smoke else ("zip",)))

if __name__ == "__main__":
    main()
