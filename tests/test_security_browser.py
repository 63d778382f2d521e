"""The Content-Security-Policy in a real browser: every page still works, nothing it needs is refused,
and a script injected into the page does not run (issue 18, finding 7)."""
from __future__ import annotations

from tests.test_explorer_browser import CHOROPLETH_PATHS, coloured_map, until
from tests.test_roles_browser import log_in

# Installed before any page script runs: every refusal the policy makes, with what it refused.
WATCH = ("window.__csp = [];"
         "document.addEventListener('securitypolicyviolation', e => window.__csp.push("
         "e.effectiveDirective + ' ' + (e.blockedURI || 'inline') + ' ' + (e.sample || '')));")


def watch_policy(duo) -> None:
    duo.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": WATCH})


def refusals(duo) -> list[str]:
    return duo.driver.execute_script("return window.__csp")


def test_the_explorer_draws_map_and_chart_under_the_policy(duo):
    watch_policy(duo)
    duo.driver.get(duo.server_url)
    coloured_map(duo)
    duo.driver.execute_script(CHOROPLETH_PATHS + "[10].dispatchEvent(new MouseEvent('click', {bubbles: true}))")
    until(lambda: len(duo.find_elements("#ex-timeseries .scatterlayer .trace")) >= 3, message="time series (Plotly)")
    assert refusals(duo) == []  # and the `duo` fixture fails on any console error


def test_an_injected_inline_script_does_not_run(duo):
    watch_policy(duo)
    duo.driver.get(duo.server_url)
    coloured_map(duo)
    ran = duo.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.__injected = true;';"
        "document.body.appendChild(s); return window.__injected === true;")
    assert ran is False
    assert until(lambda: [r for r in refusals(duo) if r.startswith("script-src")], message="the refusal")
    logged = duo.get_logs() or []  # read (and so cleared) here: the refusal is the one console error expected
    assert logged and all("Content Security Policy" in e["message"] for e in logged if e["level"] == "SEVERE")


def test_admin_and_upload_pages_work_under_the_policy(duo):
    watch_policy(duo)
    log_in(duo, "admin")
    duo.driver.get(f"{duo.server_url}/admin")
    until(lambda: duo.find_elements("#adm-users-table"), message="admin page (a signed-in callback with its token)")
    duo.driver.get(f"{duo.server_url}/upload")
    until(lambda: duo.find_elements("#up-drop"), message="upload page")
    assert refusals(duo) == []


def test_the_print_view_works_under_the_policy(duo):
    watch_policy(duo)
    duo.driver.get(f"{duo.server_url}/print?indicator=sgb2_quote&area=0101")
    button = until(lambda: duo.find_element("[data-oa-print]"), message="print button")
    duo.driver.execute_script("window.print = () => { window.__printed = true; };")
    button.click()
    assert duo.driver.execute_script("return window.__printed === true")  # the listener of assets/print.js
    assert refusals(duo) == []

