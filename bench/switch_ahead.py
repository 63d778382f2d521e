"""The desktop dropdown's indicator switch at 11,000 areas on the tiled map, the code of two trees in turns.

    python bench/switch_ahead.py [--before REV] [--after DIR] [--visits N] [--switches N] [--smoke]

Each tree's `python app.py` serves the scale part's cached workload (bench/work/scale11000, its tiles stored
with the set; `--smoke`: the 400-area one) on the tile path (ATLAS_CANVAS_FROM_AREAS=1,
ATLAS_TILES_FROM_AREAS=1); both are visited in turns, as `bench/run.py --only county` visits its paths, so a
busy machine slows both alike: first coloured map, then switches by the desktop dropdown (open it, click an
option), each timed in the page to the tiles painted in the new colours (bench/run.py `_scale_visit`).
`--before`: a git revision, extracted with `git archive` (default HEAD); `--after`: a directory holding the
code to measure (default: this working tree). Prints the figures; writes nothing into the repository.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import pct  # noqa: E402
from bench.serving import start_app  # noqa: E402
from bench.workloads import SCALE, SCALE_SMOKE, build_city  # noqa: E402

TILED = {"ATLAS_CANVAS_FROM_AREAS": "1", "ATLAS_TILES_FROM_AREAS": "1"}


def extract(rev: str, into: Path) -> Path:
    """The tree of `rev` as files under `into` (git archive: no worktree, nothing in the repository changes)."""
    archive = into / "tree.tar"
    subprocess.run(["git", "archive", "-o", str(archive), rev], cwd=ROOT, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(into / "tree")
    return into / "tree"


def start(tree: Path, atlas) -> tuple[subprocess.Popen, int]:
    """`python app.py` of `tree` on the workload's store, on the tile path; returns when /healthz answers."""
    return start_app(atlas.settings.data_dir, atlas.settings.layers_dir, TILED, tree)


def main() -> int:
    from atlas.services import queries, territory, tiles
    from auth import ANONYMOUS
    from bench.run import _scale_visit, _visit_in_turns

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", default="HEAD", help="git revision of the code before (default HEAD)")
    parser.add_argument("--after", type=Path, default=ROOT, help="directory of the code after (default: here)")
    parser.add_argument("--visits", type=int, default=3)
    parser.add_argument("--switches", type=int, default=12)
    parser.add_argument("--smoke", action="store_true", help="the 400-area workload, one visit of 4 switches")
    args = parser.parse_args()
    spec = SCALE_SMOKE if args.smoke else SCALE
    visits, switches = (1, 4) if args.smoke else (args.visits, args.switches)
    atlas = build_city(spec)
    set_id, level = queries.current_set(atlas), territory.base_level(atlas)
    if tiles.stored_tiles(atlas.store, set_id, level) is None:  # as bench/run.py's county part stores them
        tiles.add_missing_map_tiles(atlas.store, 1)
    titles = [atlas.indicator_by_id[i].title("de") for i in queries.visible_indicators(atlas, ANONYMOUS)["id"]]
    with tempfile.TemporaryDirectory() as tmp:
        before = extract(args.before, Path(tmp))
        apps = {"before": start(before, atlas), "after": start(args.after.resolve(), atlas)}
        found: dict[str, dict[str, list[float]]] = {"before": {}, "after": {}}
        started = time.strftime("%H:%M:%S", time.gmtime())
        load = os.getloadavg()[0]
        _visit_in_turns(apps, visits, lambda port: _scale_visit(port, titles, switches, spec.areas), found)
    print(f"{spec.areas:,} areas, tiles, {visits} visits each in turns, {switches} switches per visit; "
          f"{started}–{time.strftime('%H:%M:%S', time.gmtime())} UTC, load {load:.1f}–{os.getloadavg()[0]:.1f}")
    for path, values in found.items():
        s = values["switch_ms"]
        print(f"{path:>6}: first coloured map p50 {statistics.median(values['map_ms']):,.0f} ms; switch p50 "
              f"{statistics.median(s):,.0f} ms, p95 {pct(s, 95):,.0f} ms ({len(s)} switches)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
