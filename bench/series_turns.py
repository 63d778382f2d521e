"""Time series first views, this code against an older commit's, taking turns on the same store (issue 19).

    python bench/series_turns.py /path/to/worktree-of-the-older-commit [--rounds 8 --views 25] [--area-series]

Two worker processes, one per code base (this checkout and the worktree),
open the large city of `bench/workloads.py` (the store in this checkout's
`bench/work`, built if missing), keep what a running worker keeps per
indicator (`run._warm`: each indicator's city series, and with it what that
keeps), then answer `queries.timeseries` for random indicators and areas
with no answer remembered (`run.answers_not_remembered`): first views. The
driver asks them in turns, a batch of views each, alternating which goes
first, so a shared machine's changing load meets both alike. Prints wall and
CPU milliseconds per view (p50, p95) for each, and the load average.
`--area-series`: the compare page's lines instead (`queries.area_series` for
six random areas, their districts and the city, one indicator).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def worker(code_root: str, work: str, what: str) -> None:
    """Serve batches of views read from stdin ("start count" per line), one JSON line of timings each."""
    sys.path.insert(0, code_root)
    from atlas.services import queries
    from auth import ANONYMOUS
    from bench import run, workloads
    workloads.WORK = Path(work)  # the same store for both code bases
    atlas = workloads.build_city(workloads.LARGE)
    run._warm(atlas)
    visible = list(queries.visible_indicators(atlas, ANONYMOUS)["id"])
    areas = list(queries.areas(atlas, "ortsteil", "bench")["area_id"])
    rng = random.Random(17)
    views = [(rng.choice(visible), rng.choice(areas)) for _ in range(10_000)]
    parent = dict(zip(areas, queries.areas(atlas, "ortsteil", "bench")["parent_id"]))
    city = queries.areas(atlas, "stadt", "bench")["area_id"].iloc[0]
    sixes = [(rng.choice(visible), rng.sample(areas, 6)) for _ in range(10_000)]

    def ask(i: int) -> None:
        if what == "area_series":
            ind, six = sixes[i]
            queries.area_series(atlas, ANONYMOUS, ind, six + sorted({parent[a] for a in six}) + [city])
        else:
            queries.timeseries(atlas, ANONYMOUS, *views[i])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        start, count = map(int, line.split())
        wall, cpu = [], []
        with run.answers_not_remembered(atlas):
            for i in range(start, start + count):
                t, c = time.perf_counter(), time.process_time()
                ask(i)
                wall.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
        print(json.dumps({"wall": wall, "cpu": cpu}), flush=True)


def _start(code_root: Path, what: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, __file__, "--worker", str(code_root), str(ROOT / "bench" / "work"), what],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=code_root)
    return proc


def _ask(proc: subprocess.Popen, line: str) -> dict:
    proc.stdin.write(line + "\n")
    proc.stdin.flush()
    return json.loads(proc.stdout.readline())


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", nargs="?", help="worktree of the older commit")
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--views", type=int, default=25)
    parser.add_argument("--area-series", action="store_true", help="time the compare page's lines instead")
    parser.add_argument("--worker", nargs=3, metavar=("CODE", "WORK", "WHAT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return 0
    what = "area_series" if args.area_series else "timeseries"
    procs = {"now": _start(ROOT, what), "before": _start(Path(args.before).resolve(), what)}
    try:
        for proc in procs.values():
            assert json.loads(proc.stdout.readline())["ready"]
        _ = [_ask(proc, "0 5") for proc in procs.values()]  # warm-up views, not counted
        got: dict[str, dict[str, list[float]]] = {name: {"wall": [], "cpu": []} for name in procs}
        loads = []
        for i in range(args.rounds):
            start = 5 + i * args.views
            for name in (("now", "before") if i % 2 else ("before", "now")):
                answer = _ask(procs[name], f"{start} {args.views}")
                for kind in ("wall", "cpu"):
                    got[name][kind] += answer[kind]
            loads.append(os.getloadavg()[0])
        for name, times in got.items():
            print(f"{name:7s} wall p50 {statistics.median(times['wall']):6.1f} p95 {_pct(times['wall'], 95):6.1f} ms"
                  f" | cpu p50 {statistics.median(times['cpu']):6.1f} p95 {_pct(times['cpu'], 95):6.1f} ms"
                  f" | {len(times['wall'])} views")
        print(f"load average (1 min) during the turns: {min(loads):.1f}-{max(loads):.1f}")
    finally:
        for proc in procs.values():
            proc.stdin.close()
            proc.wait(timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main())
