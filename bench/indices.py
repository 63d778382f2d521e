"""Bench: composite indices (issue 15).

    python bench/indices.py            # the large city: 1,000 areas, 10 inputs, every common period (20 years)
    python bench/indices.py --smoke    # the small city: 100 areas

Figures: the index over every period read cold (a fresh context: every input
read and its disclosure pattern computed) and warm (the same store state),
the ±10/±25 % sensitivity table, and the status × dynamics typology. Saving
and re-computing write a draft version and are not timed here (they add one
store transaction to a compute). Prints a table; nothing here asserts a time.
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from atlas.services import indices, queries  # noqa: E402
from atlas.services.context import Atlas  # noqa: E402
from auth.permissions import Principal  # noqa: E402
from bench import workloads  # noqa: E402

ADMIN = Principal("bench", "admin", logged_in=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    spec = workloads.SMOKE if args.smoke else workloads.LARGE
    atlas = workloads.build_city(spec)
    visible = queries.visible_indicators(atlas, ADMIN)
    yearly = visible[visible["periodicity"] == "year"]["id"].tolist()[:10]
    raw = {"inputs": [{"indicator": i, "weight": 1 + k % 3} for k, i in enumerate(yearly)], "method": "zscore"}
    recipe = indices.parse_recipe(raw)
    cold_atlas = Atlas(atlas.settings)
    started = time.perf_counter()
    result = indices.compute(cold_atlas, ADMIN, recipe)
    cold = time.perf_counter() - started
    started = time.perf_counter()
    indices.compute(cold_atlas, ADMIN, recipe)
    warm = time.perf_counter() - started
    started = time.perf_counter()
    indices.sensitivity(result)
    sens = time.perf_counter() - started
    started = time.perf_counter()
    indices.typology(cold_atlas, ADMIN, {**raw, "years": 2})
    typ = time.perf_counter() - started
    label = f"{spec.areas:,} areas × {len(yearly)} inputs × {len(result.periods)} periods"
    for name, seconds in (("index, cold", cold), ("index, warm", warm), ("sensitivity", sens),
                          ("typology (two index computations)", typ)):
        print(f"{name:<36} {seconds * 1000:8.0f} ms   ({label})")


if __name__ == "__main__":
    main()
