"""Bench: area profiles and booklets (issue 13).

    python bench/profiles.py            # large city (1,000 areas × 300 indicators) and the demo city
    python bench/profiles.py --smoke    # small city (100 areas × 20 indicators) and the demo city

Figures: the first profile of a store state (fills the per-level tables),
then the profile's server time per request (JSON route and the page's
layout, random areas), p50/p95; the booklet of the demo city's 51
Ortsteile and of the workload's base level (PDF and zip). Prints a table
and writes bench/results_profiles.json. Nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from atlas.config import load_settings  # noqa: E402
from atlas.demo import ensure_demo  # noqa: E402
from atlas.export import booklet  # noqa: E402
from atlas.services import profiles, territory  # noqa: E402
from atlas.services.context import Atlas  # noqa: E402
from bench import workloads  # noqa: E402

OUT = Path(__file__).resolve().parent / "results_profiles.json"


def _p(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) * 1000


def profile_figures(name: str, atlas: Atlas, n: int) -> list[dict]:
    from atlas.web.app import create_app
    from atlas.web.pages import profile as page
    app = create_app(atlas=atlas)
    client = app.server.test_client()
    base = territory.base_level(atlas)
    areas = [p.area_id for p in profiles.areas_of_level(atlas, base)]
    rng = np.random.default_rng(13)
    started = time.perf_counter()
    first = client.get(f"/api/v1/profile?area={areas[0]}")
    cold = time.perf_counter() - started
    assert first.status_code == 200
    json_times, layout_times = [], []
    for area in rng.choice(areas, size=n):
        t0 = time.perf_counter()
        assert client.get(f"/api/v1/profile?area={area}").status_code == 200
        json_times.append(time.perf_counter() - t0)
        with app.server.test_request_context(f"/profil/{area}"):
            t0 = time.perf_counter()
            tree = page.layout(area=str(area))
            json.dumps(tree.to_plotly_json(), default=lambda o: o.to_plotly_json())
            layout_times.append(time.perf_counter() - t0)
    rows = first.get_json()["count"]
    return [
        {"name": f"{name}: first profile of a store state", "value": round(cold, 2), "unit": "s",
         "note": f"{len(areas)} areas, {rows} indicators: fills the per-level tables of every indicator"},
        {"name": f"{name}: profile JSON p50 / p95", "value": f"{_p(json_times, 50):.0f} / {_p(json_times, 95):.0f}",
         "unit": "ms", "target": "p95 < 100", "note": f"{n} random areas, warm"},
        {"name": f"{name}: profile page layout p50 / p95",
         "value": f"{_p(layout_times, 50):.0f} / {_p(layout_times, 95):.0f}", "unit": "ms", "target": "p95 < 100",
         "note": "server side: service + Dash component tree + its JSON"},
    ]


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
            print(f"{r['name']:<48}  {r['value']!s:>12} {r['unit']:<3} {r.get('target', ''):<10} {r['note']}",
                  flush=True)
        results.extend(figures)
        OUT.write_text(json.dumps({"mode": "smoke" if args.smoke else "full", "results": results}, indent=1,
                                  ensure_ascii=False))
    demo = Atlas(load_settings())
    ensure_demo(demo)
    report(profile_figures("demo city", demo, 40))
    report(booklet_figures("demo city", demo, ("zip", "pdf")))
    spec = workloads.SMOKE if args.smoke else workloads.LARGE
    city = workloads.build_city(spec)
    report(profile_figures(f"{spec.name} city", city, 30 if args.smoke else 60))
    # The 1,000-area PDF (one profile of ~6 pages per area, laid out three times for the page numbers of the
    # contents) runs for tens of minutes on a shared machine: full runs measure the zip, smoke runs both.
    report(booklet_figures(f"{spec.name} city", city, ("zip", "pdf") if args.smoke else ("zip",)))

if __name__ == "__main__":
    main()
