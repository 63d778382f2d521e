"""Bench: composite indices and the targets dashboard (issue 15); the part `indices` of bench/run.py.

    python bench/run.py --only indices [--smoke]   # in the bench's table and bench/results.json
    python bench/indices.py [--smoke]              # the same figures, printed alone

On the large city (1,000 areas, 10 yearly inputs, 20 years; smoke: 100
areas, 5 years):

- the index over every period, built in a fresh context (every input read
  and its disclosure pattern computed: what a builder's first preview waits)
  and again in the same context;
- the ±10/±25 % sensitivity table and the status × dynamics typology;
- on a copy of the store: saving the index (a draft version), the recompute
  check when nothing changed (one fingerprint), and the recompute after a new
  released version of one input (a new draft version of the index; median of
  a few runs, each after another input moved, with the share of writing the
  version);
- the targets dashboard (/ziele) with a target and warning rules on each of
  the ten inputs, rendered through Dash's page router by a signed-in
  department: the first view (warnings evaluated) and a view again.

Nothing here asserts a time: machines are shared and noisy.
"""
from __future__ import annotations

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402

from atlas.periods import period_end  # noqa: E402
from atlas.services import early_warning, indices, queries, targets, versions  # noqa: E402
from atlas.services.context import Atlas  # noqa: E402
from auth.permissions import Principal  # noqa: E402

ADMIN = Principal("bench", "admin", logged_in=True)
TARGET = "< 1 s at 1,000 areas × 10 inputs × 20 periods"
PASSWORD = "bench-dashboard-1"


def _seconds(fn, runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def _figure(name: str, seconds: list[float], label: str, target: str = "", note: str = "") -> dict:
    """One row of the bench's table (bench.figures.Figure's fields), the median in ms."""
    return {"name": f"{name} ({label})", "value": statistics.median(seconds) * 1000, "unit": "ms",
            "target": target, "note": note or f"median of {len(seconds)}"}


def recipe_for(atlas: Atlas) -> dict:
    """Ten yearly inputs with weights 1–3, z-scores: the recipe the issue's figure is about."""
    visible = queries.visible_indicators(atlas, ADMIN)
    yearly = visible[visible["periodicity"] == "year"]["id"].tolist()[:10]
    return {"inputs": [{"indicator": i, "weight": 1 + k % 3} for k, i in enumerate(yearly)], "method": "zscore"}


def measure(atlas: Atlas, repeat: int) -> list[dict]:
    """Every figure of the part, as dicts with bench.figures.Figure's fields."""
    raw = recipe_for(atlas)
    recipe = indices.parse_recipe(raw)
    result = indices.compute(Atlas(atlas.settings), ADMIN, recipe)
    label = f"{result.rows['area_id'].nunique():,} areas × {len(recipe.inputs)} inputs × {len(result.periods)} periods"
    cold = _seconds(lambda: indices.compute(Atlas(atlas.settings), ADMIN, recipe), max(1, repeat // 2))
    warm_atlas = Atlas(atlas.settings)
    indices.compute(warm_atlas, ADMIN, recipe)
    warm = _seconds(lambda: indices.compute(warm_atlas, ADMIN, recipe), repeat)
    sens = _seconds(lambda: indices.sensitivity(result), repeat)
    typ = _seconds(lambda: indices.typology(warm_atlas, ADMIN, {**raw, "years": 2}), max(1, repeat // 2))
    one_by_one, batched = _reads(atlas, [i.indicator for i in recipe.inputs], repeat)
    figures = [
        _figure("index build, fresh context", cold, label, TARGET,
                "every input read and its disclosure computed; median"),
        _figure("index build, same context again", warm, label, TARGET,
                f"median of {repeat}; each input's read is kept while its versions do not move"),
        _figure("index inputs read, one value_rows per input", one_by_one, label, "",
                "fresh context each; taking turns with the next row"),
        _figure("index inputs read, value_rows_many", batched, label, "",
                "fresh context each; what the build reads with"),
        _figure("index sensitivity ±10/±25 %", sens, label),
        _figure("status × dynamics typology (two index builds)", typ, label),
    ]
    with tempfile.TemporaryDirectory(prefix="bench-indices-") as tmp:
        copy = _copy(atlas, Path(tmp))
        figures += _recompute(copy, raw, label, max(1, repeat // 2 + 1))
        figures += _dashboard(copy, raw, repeat)
    return figures


def _reads(atlas: Atlas, ids: list[str], repeat: int) -> tuple[list[float], list[float]]:
    """The inputs' reads alone, old way and batched, taking turns in fresh contexts (the machine is noisy)."""
    one_by_one, batched = [], []
    for _ in range(repeat):
        for way, out in ((lambda a: [queries.value_rows(a, ADMIN, i, None) for i in ids], one_by_one),
                         (lambda a: queries.value_rows_many(a, ADMIN, ids, None), batched)):
            fresh = Atlas(atlas.settings)
            queries.visible_indicators(fresh, ADMIN)  # the catalogue's cost is the same for both: not timed
            out += _seconds(lambda: way(fresh), 1)
    return one_by_one, batched


def _copy(atlas: Atlas, tmp: Path) -> Atlas:
    """A private copy of the workload's store: saving, releasing and setting targets write to it."""
    shutil.copytree(atlas.settings.data_dir, tmp / "data", ignore=shutil.ignore_patterns("uploads", "tmp"))
    return Atlas(replace(atlas.settings, data_dir=tmp / "data", tmp_dir=tmp / "data" / "tmp"))


def _recompute(copy: Atlas, raw: dict, label: str, runs: int) -> list[dict]:
    """Save, check unchanged, then recompute after a new released version of one input, `runs` times (each
    time another input: the figure is the median), with how much of it is writing the index's version."""
    save = _seconds(lambda: indices.save(copy, ADMIN, {**raw, "id": "bench", "title_de": "Bench-Index"}), 1)
    unchanged = _seconds(lambda: indices.recompute_stale(copy, ADMIN), 1)
    again, writes = [], []
    real_write = indices._write

    def timed_write(*args, **kwargs):
        started = time.perf_counter()
        try:
            return real_write(*args, **kwargs)
        finally:
            writes.append(time.perf_counter() - started)
    for run in range(runs):
        _new_version(copy, raw["inputs"][run % len(raw["inputs"])]["indicator"])
        done: list = []
        indices._write = timed_write
        try:
            again += _seconds(lambda: done.extend(indices.recompute_stale(copy, ADMIN)), 1)
        finally:
            indices._write = real_write
        assert done, "the new input version must make the saved index stale"
    return [_figure("index save (compute + draft version)", save, label, "", "one run"),
            _figure("index recompute check, nothing changed", unchanged, label, "",
                    "one run: the periods and one fingerprint, no value read"),
            _figure("index recompute after a new input version", again, label, TARGET,
                    f"median of {runs}, each after a new version of another input: the build (that input "
                    "read, the others kept) and a new draft version written"),
            _figure("of which writing the index's draft version", writes, label, "",
                    f"median of {runs}: values, versions, catalogue lineage, the store's summaries, the audit")]


def _new_version(copy: Atlas, indicator: str) -> None:
    """A released correction of an input's newest period (every published count × 1.05)."""
    rows = queries.value_rows(copy, ADMIN, indicator, None)
    rows = rows[~rows["area_id"].str.endswith("-nz") & (rows["status"] == "ok")]
    newest = rows[rows["period"] == rows["period"].max()]
    cells = newest.assign(indicator_id=indicator, numerator=np.round(newest["numerator"] * 1.05),
                          period_end=[period_end(p) for p in newest["period"]])
    cells["value"] = cells["numerator"] / cells["denominator"] * 100
    delivery = versions.Delivery(cells[["indicator_id", "area_id", "period", "period_end", "value", "numerator",
                                        "denominator", "status"]], "bench-correction.csv", "bench", "", [])
    with copy.store.writing() as tx:
        made = versions.add_versions(copy, ADMIN, tx, delivery)
    versions.release(copy, ADMIN, made[0]["version_id"], "internal")


def _dashboard(copy: Atlas, raw: dict, repeat: int) -> list[dict]:
    """/ziele with a target and warning rules on each input, through the page router as a signed-in admin."""
    from atlas.web.app import create_app
    from tests.dash_requests import RendererClient, callback_payload

    for k, item in enumerate(raw["inputs"]):
        ind = item["indicator"]
        top = queries.value_rows(copy, ADMIN, ind, None, "stadt")
        value = float(top["value"].dropna().iloc[-1])
        targets.set_target(copy, ADMIN, {"indicator": ind, "target": value * 0.9, "warn": value * 1.05,
                                         "direction": "down", "deadline": "2030-12-31"})
        steered = k % 2 == 0 and copy.indicator_by_id[ind].polarity != "neutral"  # a worst class needs a direction
        early_warning.set_rules(copy, ADMIN, {"indicator": ind, "change_pct": 2.0, "worst_class": steered})
    copy.users.add("bench-admin", "admin", [], PASSWORD, actor="bench")
    app = create_app(atlas=copy)
    app.server.test_client_class = RendererClient
    client = app.server.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    client.post("/login", data={"username": "bench-admin", "password": PASSWORD, "csrf_token": token})
    client.get("/")  # Dash registers its page router on the first request
    router = next(k for k in app.callback_map if "_pages_content.children" in k)
    payload = callback_payload(app, router, {"_pages_location.pathname": "/ziele", "_pages_location.search": ""})
    sizes = []

    def render() -> None:
        resp = client.post("/_dash-update-component", json=payload)
        assert resp.status_code == 200 and "tg-tiles" in resp.get_data(as_text=True)
        sizes.append(len(resp.get_data()))

    first = _seconds(render, 1)
    again = _seconds(render, repeat)
    tiles = len(targets.dashboard(copy, ADMIN))
    label = f"{tiles} tiles, {len(early_warning.warnings(copy, ADMIN))} warnings"
    return [_figure("targets dashboard /ziele, first view", first, label, "",
                    "page router callback, signed in; warnings evaluated"),
            _figure("targets dashboard /ziele, again", again, label, "", f"median of {repeat}; "
                    f"{sizes[-1] / 1024:.0f} KB")]


def main() -> None:
    from bench.workloads import LARGE, SMOKE, build_city
    parser = argparse.ArgumentParser()
    parser.add_argument("--smoke", action="store_true")
    args = parser.parse_args()
    atlas = build_city(SMOKE if args.smoke else LARGE)
    for f in measure(atlas, 2 if args.smoke else 5):
        print(f"{f['name']:<90} {f['value']:8.0f} ms   {f['note']}")


if __name__ == "__main__":
    main()
