"""The explorer on a throttled tablet: `python bench/tablet.py [--runs N]` (also `bench/run.py --only tablet`).

Department heads open the atlas on a tablet over mobile data. This drives
headless Chromium through the DevTools protocol (selenium's
`execute_cdp_cmd`) as such a tablet: 1024×768, CPU slowed 4×
(`Emulation.setCPUThrottlingRate`), DevTools' "Fast 4G" network
(`Network.emulateNetworkConditions`: 165 ms round trip, 9 Mbit/s down,
1.5 Mbit/s up, each × 0.9 as DevTools does), every run with an empty cache.
It measures

- first load: bytes transferred, Largest Contentful Paint (a
  PerformanceObserver installed before the page's own scripts), and the time
  until the map shows coloured areas;
- an indicator switch: from the choice in the picker to the recoloured map,
  timed inside the page (`performance.now()` before the choice, then every
  animation frame until the areas' fills changed); on Fast 4G and, to
  separate the network from the page, with the CPU throttling alone. The
  tablet's touch emulation makes its primary pointer coarse, so the explorer
  shows its touch picker (a native select, `#ex-indicator-touch`): the
  select gets the focus (a tap opens its list), a second later the choice
  is the select's `change`, as the browser fires it when its own option
  list closes. An atlas without the touch picker is driven through
  its dropdown (open, click the option), as before;
- the same switch with a fine pointer (touch emulation off, page reloaded):
  the searchable dropdown a desktop uses, on the same throttled CPU.

Medians and p95s over the runs are printed (and returned to bench/run.py as
figures). Targets: LCP ≤ 1.5 s, switch ≤ 200 ms. Nothing is asserted.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.figures import Figure, pct, print_table  # noqa: E402
from bench.serving import start_app  # noqa: E402
from bench.workloads import WORK  # noqa: E402

TABLET = {"width": 1024, "height": 768, "deviceScaleFactor": 1, "mobile": True}
FAST_4G = {"offline": False, "latency": 60 * 2.75, "downloadThroughput": 9_000_000 / 8 * 0.9,
           "uploadThroughput": 1_500_000 / 8 * 0.9}  # DevTools' preset (bytes per second, ms)
NO_THROTTLE = {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
CPU_SLOWDOWN = 4
# Public indicators of the demo city with different maps; a switch goes to the next one.
# The page opens on SGB-II-Quote, so the series starts elsewhere and never repeats its neighbour.
SWITCHES = ("Anteil Kinder unter 6 Jahren", "SGB-II-Quote", "Anteil 65 Jahre und älter", "Arbeitslosenanteil (SGB III)")
TIMEOUT_S = 120

LCP_OBSERVER = """
window.__oaLcp = 0;
new PerformanceObserver(list => {
  for (const e of list.getEntries()) { window.__oaLcp = Math.max(window.__oaLcp, e.startTime); }
}).observe({type: 'largest-contentful-paint', buffered: true});
"""
COLOURED = ("return Array.from(document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive'))"
            ".filter(p => p.getAttribute('fill') !== '#ffffff').length")
TRANSFERRED = ("return performance.getEntriesByType('resource').concat(performance.getEntriesByType('navigation'))"
               ".reduce((s, e) => s + (e.transferSize || 0), 0)")
# Click the option (found by its text), then wait frame by frame for the map's fills to change. `fills` is
# how the page's colours are read: SVG paths here, the map's layers where it draws on a canvas (bench/run.py).
SWITCH_TEMPLATE = """
const [title, done] = [arguments[0], arguments[arguments.length - 1]];
const fills = () => FILLS;
const option = Array.from(document.querySelectorAll('[role=option]')).find(o => o.innerText.trim() === title);
if (!option) { done(-1); return; }
const before = fills();
const t0 = performance.now();
option.click();
const poll = () => {
  if (fills() !== before) { done(performance.now() - t0); return; }
  if (performance.now() - t0 > 60000) { done(-2); return; }
  requestAnimationFrame(poll);
};
requestAnimationFrame(poll);
"""


# The touch picker: choose the option (found by its text) as the browser does when its list closes, then wait
# for the fills as above. -1: no such option; -3: no touch picker on the page.
TOUCH_SWITCH = """
const [title, done] = [arguments[0], arguments[arguments.length - 1]];
const fills = () => FILLS;
const select = document.getElementById('ex-indicator-touch');
if (!select || select.offsetParent === null) { done(-3); return; }
const option = Array.from(select.options).find(o => o.text.trim() === title);
if (!option) { done(-1); return; }
const before = fills();
const t0 = performance.now();
select.value = option.value;
select.dispatchEvent(new Event('change', {bubbles: true}));
const poll = () => {
  if (fills() !== before) { done(performance.now() - t0); return; }
  if (performance.now() - t0 > 60000) { done(-2); return; }
  requestAnimationFrame(poll);
};
requestAnimationFrame(poll);
"""
TOUCH_PICKER = "const s = document.getElementById('ex-indicator-touch'); return !!(s && s.offsetParent !== null)"
OPEN_TOUCH_PICKER = "const s = document.getElementById('ex-indicator-touch'); s.blur(); s.focus();"
READING_S = 1.0  # from the tap that opens the touch picker's list to the tap on an option


def switch_script(fills: str) -> str:
    """The switch timer for a page whose colours `fills` (a JS expression giving a string) reads."""
    return SWITCH_TEMPLATE.replace("FILLS", fills)


PATH_FILLS = ("Array.from(document.querySelectorAll('.leaflet-overlay-pane path.leaflet-interactive'))"
              ".map(p => p.getAttribute('fill')).join()")
SWITCH = switch_script(PATH_FILLS)
SWITCH_TOUCH = TOUCH_SWITCH.replace("FILLS", PATH_FILLS)


def desk_browser(init_script: str | None = None):
    """Headless Chromium at the desk (1280×900, no throttling), cache off; `init_script` runs before the page's
    own scripts (an observer the measure reads)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run",
                "--window-size=1280,900"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)
    driver.set_script_timeout(TIMEOUT_S)
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    if init_script:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": init_script})
    return driver


def tablet_browser():
    """Headless Chromium emulating the tablet (size, touch, CPU); the network is set per measurement."""
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update", "--no-first-run"):
        options.add_argument(arg)
    if Path("/usr/bin/chromium").exists():
        options.binary_location = "/usr/bin/chromium"
    driver = webdriver.Chrome(options=options)
    driver.set_script_timeout(TIMEOUT_S)
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", TABLET)
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": LCP_OBSERVER})
    return driver


def _poll(driver, script: str, ok, what: str):
    from selenium.common.exceptions import TimeoutException
    start = time.perf_counter()
    while time.perf_counter() - start < TIMEOUT_S:
        try:
            value = driver.execute_script(script)
        except TimeoutException:  # the throttled page is busy: ask again
            value = None
        if value is not None and ok(value):
            return value
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


def first_load(driver, base: str) -> dict[str, float]:
    """Bytes, LCP and time to the coloured map of one visit with an empty cache, on Fast 4G."""
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", FAST_4G)
    start = time.perf_counter()
    driver.get(base + "/")
    _poll(driver, COLOURED, lambda n: n > 10, "the coloured map")
    map_ms = (time.perf_counter() - start) * 1000
    time.sleep(1.0)  # let late requests (point layers) finish so their bytes count
    return {"map_ms": map_ms, "lcp_ms": driver.execute_script("return window.__oaLcp"),
            "bytes": driver.execute_script(TRANSFERRED)}


def picker_switches(driver, titles: list[str], n: int, fills: str) -> list[float]:
    """n indicator switches by the picker to titles[1], titles[2], …, each timed in the page until `fills`
    (a JS expression of the map's colours) changes; for the big-map parts, whose colours are not SVG paths."""
    out = []
    for i in range(n):
        driver.find_element("css selector", "#ex-indicator").click()
        _poll(driver, "return document.querySelectorAll('[role=option]').length", lambda k: k > 0, "options")
        ms = driver.execute_async_script(switch_script(fills), titles[(i + 1) % len(titles)])
        if ms < 0:
            raise RuntimeError(f"switch failed ({ms})")
        out.append(ms)
        time.sleep(0.3)
    return out


# Dash has no callback waiting or running (its renderer's `isLoading`): the previous switch's words, export
# links and info have arrived. At 4x CPU they take ~1 s after the recoloured map; a switch started before
# then is timed against the last one's tail, which a person picking from a list does not meet.
QUIET = "return !window.store || !window.store.getState().isLoading"


def settle(driver) -> None:
    """Wait until the page has answered every callback, then 0.3 s more."""
    _poll(driver, QUIET, bool, "the page to settle")
    time.sleep(0.3)


def switches(driver, network: dict, n: int, first: int = 0) -> list[float]:
    """n indicator switches by the picker the page shows, each timed to the recoloured map: the touch picker
    (a native select's change) where there is one, else the dropdown (open, then click the option).

    `first`: where in SWITCHES to start, so a series never "switches" to the indicator already shown.
    """
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", network)
    _poll(driver, TOUCH_PICKER.replace("return", "return document.getElementById('ex-indicator') !== null ||", 1),
          bool, "a picker")
    touch = driver.execute_script(TOUCH_PICKER)
    settle(driver)
    out = []
    for i in range(first, first + n):
        title = SWITCHES[i % len(SWITCHES)]
        if touch:  # a tap opens the list (the select gets the focus); a person reads it for a second, then taps
            driver.execute_script(OPEN_TOUCH_PICKER)
            time.sleep(READING_S)
            ms = driver.execute_async_script(SWITCH_TOUCH, title)
        else:
            driver.find_element("css selector", "#ex-indicator").click()
            _poll(driver, "return document.querySelectorAll('[role=option]').length", lambda k: k > 0,
                  "the options")
            ms = driver.execute_async_script(SWITCH, title)
        if ms < 0:
            raise RuntimeError(f"switch to {title!r} failed ({ms})")
        out.append(ms)
        settle(driver)
    return out


def with_fine_pointer(driver, base: str) -> None:
    """Touch emulation off (the primary pointer fine, as at a desk) and the page loaded again, unthrottled net."""
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
    driver.execute_cdp_cmd("Network.emulateNetworkConditions", NO_THROTTLE)
    driver.get(base + "/")
    _poll(driver, COLOURED, lambda n: n > 10, "the coloured map")
    time.sleep(1.0)


def measure(base: str, runs: int, switches_per_run: int) -> dict[str, list[float]]:
    """`runs` fresh browsers: a first load, then switches on Fast 4G and with the CPU throttling alone (the
    touch picker where the page has one), then with a fine pointer (the dropdown) on the throttled CPU."""
    found: dict[str, list[float]] = {"map_ms": [], "lcp_ms": [], "bytes": [], "switch_4g": [], "switch_cpu": [],
                                     "switch_fine": [], "touch_picker": []}
    for _ in range(runs):
        driver = tablet_browser()
        try:
            for key, value in first_load(driver, base).items():
                found[key].append(value)
            found["touch_picker"].append(float(driver.execute_script(TOUCH_PICKER)))
            found["switch_4g"] += switches(driver, FAST_4G, switches_per_run)
            found["switch_cpu"] += switches(driver, NO_THROTTLE, switches_per_run, first=switches_per_run)
            with_fine_pointer(driver, base)
            found["switch_fine"] += switches(driver, NO_THROTTLE, switches_per_run)
        finally:
            driver.quit()
    return found


def figures(found: dict[str, list[float]], runs: int) -> list[Figure]:
    """Medians and p95s as bench figures (transfer size in KB)."""
    note = f"{runs} runs, 1024×768, CPU {CPU_SLOWDOWN}× slower, Fast 4G, empty cache, demo city"
    out = [Figure("tablet: first-load transfer size", statistics.median(found["bytes"]) / 1024, "KB", note=note),
           Figure("tablet: Largest Contentful Paint p50", statistics.median(found["lcp_ms"]), "ms", "≤ 1,500 ms"),
           Figure("tablet: Largest Contentful Paint p95", pct(found["lcp_ms"], 95), "ms", "≤ 1,500 ms"),
           Figure("tablet: first coloured map p50", statistics.median(found["map_ms"]), "ms")]
    picker = "touch picker" if found.get("touch_picker") and min(found["touch_picker"]) else "dropdown"
    for key, how in (("switch_4g", f"{picker}, Fast 4G"), ("switch_cpu", f"{picker}, CPU throttling only"),
                     ("switch_fine", "fine pointer: dropdown, CPU throttling only")):
        if not found.get(key):
            continue
        n = len(found[key])
        out += [Figure(f"tablet: indicator switch to recoloured map p50 ({how})", statistics.median(found[key]),
                       "ms", "≤ 200 ms", note=f"{n} switches"),
                Figure(f"tablet: indicator switch to recoloured map p95 ({how})", pct(found[key], 95), "ms",
                       "≤ 200 ms")]
    return out


def bench_tablet(data_dir: Path, layers_dir: Path, runs: int, switches_per_run: int = 4) -> list[Figure]:
    """The figures for bench/run.py: the app on the demo store, measured as a throttled tablet."""
    proc, port = start_app(data_dir, layers_dir)
    try:
        return figures(measure(f"http://127.0.0.1:{port}", runs, switches_per_run), runs)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="fresh browsers (first loads); default 5")
    parser.add_argument("--switches", type=int, default=4, help="indicator switches per run and network")
    parser.add_argument("--url", action="append", default=[],
                        help="measure an atlas already running there (repeatable: runs alternate between them, "
                             "so two versions meet the same machine load); default: start one on the demo city")
    args = parser.parse_args()
    if args.url:
        found = {url: {} for url in args.url}
        for _ in range(args.runs):  # one run each in turn
            for url in args.url:
                for key, values in measure(url.rstrip("/"), 1, args.switches).items():
                    found[url].setdefault(key, []).extend(values)
        for url, values in found.items():
            print(f"\n{url}")
            print_table(figures(values, args.runs))
        return 0
    from atlas.config import load_settings
    from atlas.demo import ensure_demo
    from atlas.services.context import Atlas
    demo_dir = WORK / "demo" / "data"
    atlas = Atlas(replace(load_settings(), data_dir=demo_dir))
    ensure_demo(atlas)
    print_table(bench_tablet(demo_dir, atlas.settings.layers_dir, args.runs, args.switches))
    return 0


if __name__ == "__main__":
    sys.exit(main())
