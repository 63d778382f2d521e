"""The map at 50,000 areas (issue 19): a synthetic national grid of Stadtteile, drawn from vector tiles.

Issue 19's target: "map usable — first map ≤ 5 s, pan and zoom without
freezing". Measured against `python app.py` on the workload's store (bands
and tiles stored with the set, as an upload stores them), in a fresh
headless Chromium per visit (1280×900, no throttling, cache off):

- the first coloured map and the bytes of the first load;
- indicator switches to the recoloured map (as the scale part times them);
- pan and zoom through the page's Leaflet map (`ortsatlas.tiles.view()`):
  each move timed until the tiles of the new view are drawn, with the
  longest main-thread task during it (a 'longtask' PerformanceObserver
  installed before the page's own scripts): a freeze is a long task;
- the server's map switch (the explorer's callback, first views) and its
  payload, without the naive baseline (minutes per call at this size).

Nothing is asserted: the machine is shared.
"""
from __future__ import annotations

import json
import random
import statistics
import time

from bench.figures import Figure, pct
from bench.serving import start_app
from bench.workloads import CitySpec

# Every long task (> 50 ms on the main thread) from the document's start, as [start, duration] in page ms.
LONGTASKS = """
window.__oaLong = [];
try {
  new PerformanceObserver(list => {
    for (const e of list.getEntries()) { window.__oaLong.push([e.startTime, e.duration]); }
  }).observe({type: 'longtask', buffered: true});
} catch (e) { window.__oaLong = null; }
"""
# How many areas the loaded tiles hold and how many of them are still unfilled (white): cheap to send back.
COLOURS = ("const t = window.ortsatlas && window.ortsatlas.tiles; if (!t || !t.active()) { return [0, 0]; }"
           "if (t.counts) { return t.counts(); }"
           "const v = t.shown(); return [v.length, v.filter(c => !c || c === '#ffffff').length]")
# What a switch waits for: on tiles the paint counter (`ortsatlas.tiles.painted()`, moved once the tile canvases
# are painted in the new colours); on the GeoJSON paths every fill joined, read every frame, as before (issue 19:
# reading every area's fill each frame was itself a part of the switch it measured).
SWITCHED = ("(window.ortsatlas.tiles && window.ortsatlas.tiles.active() && window.ortsatlas.tiles.painted ? "
            "String(window.ortsatlas.tiles.painted()) : window.ortsatlas.map.shown().join())")
# One move of the map (arguments: 'zoom' or 'pan', the zoom step or [dx, dy] px), timed from the call until
# the tiles of the new view are loaded and two frames drawn; the longest long task overlapping that span.
MOVE = """
const [kind, amount, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
const view = window.ortsatlas.tiles.view();
if (!view) { done({error: 'no tile layer'}); return; }
const {map, layer} = view;
const t0 = performance.now();
let finished = false;
function finish(timedOut) {
  if (finished) { return; }
  finished = true;
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const t1 = performance.now();
    setTimeout(() => {  // a long task is reported once it has ended
      const longest = (window.__oaLong || []).filter(e => e[0] + e[1] >= t0 && e[0] <= t1)
        .reduce((m, e) => Math.max(m, e[1]), 0);
      done({ms: t1 - t0, longest: longest, zoom: map.getZoom(), tiles: Object.keys(layer._tiles).length,
            timedOut: !!timedOut});
    }, 200);
  }));
}
map.once('moveend', () => {
  if (layer._noTilesToLoad()) { finish(false); } else { layer.once('load', () => finish(false)); }
});
setTimeout(() => finish(true), 30000);
if (kind === 'zoom') { map.setZoom(map.getZoom() + amount); } else { map.panBy(amount); }
"""
# From the fitted view: in, sideways, in again twice (the finest tiles and past them), across, and back out.
MOVES = [("zoom", 1), ("pan", [400, 0]), ("pan", [0, 300]), ("zoom", 1), ("zoom", 1), ("pan", [-500, -200]),
         ("zoom", -2), ("pan", [300, 300]), ("zoom", -1)]


def _browser():
    from bench.tablet import desk_browser
    return desk_browser(LONGTASKS)


def visit(port: int, titles: list[str], switches: int) -> dict[str, list[float]]:
    """One fresh browser: first coloured map, first-load bytes, indicator switches, then pan and zoom."""
    from bench.tablet import TRANSFERRED, _poll, picker_switches
    driver = _browser()
    try:
        start = time.perf_counter()
        driver.get(f"http://127.0.0.1:{port}/")
        shown = _poll(driver, COLOURS, lambda c: c[0] > 0 and c[1] < c[0] / 2, "the coloured map")
        out: dict[str, list[float]] = {"map_ms": [(time.perf_counter() - start) * 1000], "areas_drawn": [shown[0]]}
        time.sleep(1.0)  # late requests (tiles still on their way, point layers) count too
        out["bytes"] = [driver.execute_script(TRANSFERRED)]
        out["load_longest"] = [driver.execute_script(
            "return (window.__oaLong || []).reduce((m, e) => Math.max(m, e[1]), 0)")]
        out["switch_ms"] = picker_switches(driver, titles, switches, SWITCHED)
        for key in ("move_ms", "move_longest", "move_timeouts"):
            out[key] = []
        for kind, amount in MOVES:
            found = driver.execute_async_script(MOVE, kind, amount)
            if "error" in found:
                raise RuntimeError(f"move failed: {found['error']}")
            out["move_ms"].append(found["ms"])
            out["move_longest"].append(found["longest"])
            out["move_timeouts"].append(1.0 if found["timedOut"] else 0.0)
            time.sleep(0.3)
        return out
    finally:
        driver.quit()


def server_switch(spec: CitySpec, atlas, repeat: int, not_remembered, prefix: str = "national",
                  tiles_from: int | None = None) -> list[Figure]:
    """The explorer's map callback through Flask's test client, every switch a first view: time and payload
    (`tiles_from`: the app's ATLAS_TILES_FROM_AREAS, to put a smaller workload on the tiled path)."""
    import dataclasses

    from atlas.services import queries
    from atlas.web.app import create_app
    from auth import ANONYMOUS
    from tests.dash_requests import call, find_output

    if tiles_from is not None:
        atlas.settings = dataclasses.replace(atlas.settings, tiles_from_areas=tiles_from)
    app = create_app(atlas=atlas)
    client = app.server.test_client()
    client.get("/")
    choices = [(r.id, len(r.periods)) for r in queries.visible_indicators(atlas, ANONYMOUS).itertuples()]
    key = find_output(app, "ex-geojson", "hideout")
    rng = random.Random(1)
    times, sizes = [], []
    with not_remembered(atlas):
        for i in range(repeat + 1):
            ind, n = rng.choice(choices)
            values = {"ex-indicator.value": ind, "ex-period.value": rng.randrange(n), "ex-method.value": "quantiles",
                      "ex-k.value": 5, "ex-selected.data": None, "ex-set.data": "bench|ortsteil",
                      "ex-lang.data": "de"}
            t = time.perf_counter()
            status, body = call(client, app, key, values)
            if status != 200:
                raise RuntimeError(f"map callback answered {status}")
            if i:  # the first call warms the process
                times.append((time.perf_counter() - t) * 1000)
                sizes.append(len(json.dumps(body, separators=(",", ":"))))
    label = f"{spec.areas:,} areas"
    return [Figure(f"{prefix}: server map switch p50 / first view ({label})", statistics.median(times), "ms"),
            Figure(f"{prefix}: server map switch p95 / first view ({label})", pct(times, 95), "ms", "< 100 ms",
                   note=f"{repeat} switches, nothing remembered"),
            Figure(f"{prefix}: server map switch payload ({label})", statistics.median(sizes) / 1024, "KB",
                   "< 200 KB (at 11,000)")]


def bench_national(spec: CitySpec, atlas, visits: int, switches: int, repeat: int, not_remembered) -> list[Figure]:
    """Issue 19 at 50,000 areas: the map in the browser (first map, switch, pan and zoom) and the server switch."""
    from atlas.services import queries
    from auth import ANONYMOUS
    out = server_switch(spec, atlas, repeat, not_remembered)
    titles = [atlas.indicator_by_id[i].title("de") for i in queries.visible_indicators(atlas, ANONYMOUS)["id"]]
    env = {"ATLAS_CANVAS_FROM_AREAS": str(spec.map_from), "ATLAS_TILES_FROM_AREAS": str(spec.map_from)}
    proc, port = start_app(atlas.settings.data_dir, atlas.settings.layers_dir, env)
    found: dict[str, list[float]] = {}
    try:
        for _ in range(visits):
            for key, values in visit(port, titles, switches).items():
                found.setdefault(key, []).extend(values)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    label = f"{spec.areas:,} areas"
    n_moves = len(found["move_ms"])
    return out + [
        Figure(f"national: first coloured map p50 ({label})", statistics.median(found["map_ms"]), "ms", "≤ 5,000 ms",
               note=f"{visits} fresh visits, 1280×900, no throttling, cache off; all: "
               + ", ".join(f"{v:.0f}" for v in found["map_ms"])),
        Figure(f"national: areas in the first view's tiles ({label})", statistics.median(found["areas_drawn"]),
               "areas"),
        Figure(f"national: first-load transfer size ({label})", statistics.median(found["bytes"]) / 1024 / 1024,
               "MB", "< 5 MB"),
        Figure(f"national: longest main-thread task during the first load ({label})",
               max(found["load_longest"]), "ms"),
        Figure(f"national: indicator switch to recoloured map p50 ({label})", statistics.median(found["switch_ms"]),
               "ms"),
        Figure(f"national: indicator switch to recoloured map p95 ({label})", pct(found["switch_ms"], 95), "ms",
               "≤ 300 ms", note=f"{len(found['switch_ms'])} switches"),
        Figure(f"national: pan/zoom to the new view's tiles drawn p50 ({label})",
               statistics.median(found["move_ms"]), "ms", note=f"{n_moves} moves: {MOVES}"),
        Figure(f"national: pan/zoom to the new view's tiles drawn p95 ({label})", pct(found["move_ms"], 95), "ms",
               note=f"{int(sum(found['move_timeouts']))} of {n_moves} moves not drawn within 30 s"),
        Figure(f"national: longest main-thread task during pan/zoom, p50 / move ({label})",
               statistics.median(found["move_longest"]), "ms"),
        Figure(f"national: longest main-thread task during pan/zoom, max ({label})", max(found["move_longest"]),
               "ms", "no freeze (well under 1 s; < 200 ms for smooth)"),
    ]
