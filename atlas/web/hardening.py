"""Response headers every route sends, and what the pages must not give away about the software.

Why each header (an attack run found none of them):
- Content-Security-Policy: scripts only from this server, plus Dash's own
  inline scripts by their SHA-256 hashes (the clientside callbacks and the
  line that starts the renderer); no `unsafe-inline` or `unsafe-eval` for
  scripts, so injected markup cannot run code. Styles allow inline: Plotly,
  Leaflet and Dash set style elements and attributes at run time, and a style
  cannot run code. Images also from `data:`/`blob:` (chart downloads, map
  patterns) and from the configured basemap's host.
- frame-ancestors 'none' and X-Frame-Options DENY: no other site frames /admin
  (or any page) to trick a click.
- X-Content-Type-Options nosniff: an upload or export is never run as script.
- Referrer-Policy strict-origin-when-cross-origin: a link out does not carry
  the page's query (indicator, area, upload ids) to another site.
- Cache-Control on static files: a URL that names its content (a hash in a
  component-suite path, `?m=<mtime>` on /assets/) never changes, so browsers
  keep it for a year without asking again (`immutable`); the rest of the
  static files are revalidated by ETag. A tablet in a council meeting then
  loads the explorer's ~0.5 MB of scripts once, not per visit.

And what the index page told anyone: Dash puts the Python, Dash and Plotly
versions into its config script and the Dash version into every script URL
(`.v4_4_1m….js`, `_favicon.ico?v=4.4.1`). The config loses those keys, script
URLs carry a hash of the file's content instead (still a new URL for every
new file, so browsers may cache them for a year), and the development server
(`python app.py`) no longer names Werkzeug and Python in `Server` (gunicorn
says only "gunicorn", and nginx in front replaces it).
"""
from __future__ import annotations

import hashlib
import json
import pkgutil
import re
from urllib.parse import urlsplit

from dash import Dash
from dash.fingerprint import build_fingerprint, check_fingerprint
from flask import Response, request
from werkzeug.serving import WSGIRequestHandler

# Keys of Dash's config script that only name versions (used by Dash's developer tools alone).
VERSION_KEYS = ("dash_version", "python_version", "plotly_version", "dash_version_url", "ddk_version")
_SUITE_URL = re.compile(r'(/_dash-component-suites/)([^/"\s]+)/([^"\s?]+)')
_CONFIG = re.compile(r"^(<script[^>]*>)(.*)(</script>)$", re.S)
_content_digests: dict[tuple[str, str], str] = {}


def harden(app: Dash, basemap_url: str = "") -> None:
    """Security headers on every response of `app`'s server, and an index page without version numbers."""
    plain_index = app.interpolate_index

    def interpolate_index(**parts: str) -> str:
        parts["scripts"] = _SUITE_URL.sub(_content_fingerprint, parts.get("scripts", ""))
        parts["css"] = _SUITE_URL.sub(_content_fingerprint, parts.get("css", ""))
        parts["favicon"] = re.sub(r"\?v=[^\"']*", "", parts.get("favicon", ""))
        parts["config"] = _config_without_versions(parts.get("config", ""))
        return plain_index(**parts)

    app.interpolate_index = interpolate_index
    extra_hosts = _basemap_sources(basemap_url)

    def add_headers(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = content_security_policy(app.csp_hashes(), extra_hosts)
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "strict-origin-when-cross-origin"
        cache = static_cache_control(request.path, request.args)
        if cache and response.status_code == 200:
            response.headers["Cache-Control"] = cache
        return response

    app.server.after_request(add_headers)


LONG_LIVED = "public, max-age=31536000, immutable"
REVALIDATE = "public, no-cache"


def static_cache_control(path: str, args) -> str | None:
    """Cache-Control for a static file's URL; None for everything else (pages, callbacks, API answers).

    Fingerprinted component-suite files and /assets/ files requested with
    Dash's `?m=` stamp are kept for a year; other static files (Dash's async
    chunks such as plotly.min.js, which webpack names without a hash) are
    kept but revalidated, so an upgrade never mixes old and new chunks.
    """
    if path.startswith("/_dash-component-suites/"):
        return LONG_LIVED if check_fingerprint(path.rsplit("/", 1)[-1])[1] else REVALIDATE
    if path.startswith("/assets/"):
        return LONG_LIVED if args.get("m") else REVALIDATE
    return None


class QuietRequestHandler(WSGIRequestHandler):
    """The development server's request handler: no software and Python versions in `Server`, and no access
    line of its own (it would log query strings; atlas.web.request_log writes one line per request)."""

    def version_string(self) -> str:
        return "Ortsatlas"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return None


def content_security_policy(script_hashes: list[str] | tuple[str, ...], extra_hosts: tuple[str, ...] = ()) -> str:
    """The policy for every answer: this origin only, Dash's inline scripts by hash, no framing."""
    hosts = " ".join(extra_hosts)
    directives = {
        "default-src": "'self'",
        "script-src": " ".join(("'self'", *dict.fromkeys(script_hashes))),  # a script on two pages: one hash
        "style-src": "'self' 'unsafe-inline'",
        "img-src": f"'self' data: blob: {hosts}".strip(),
        "font-src": "'self' data:",
        "connect-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _basemap_sources(template: str) -> tuple[str, ...]:
    """The CSP source of the basemap's tile server (`{s}` subdomains become `*`); none without a basemap."""
    if not template:
        return ()
    parts = urlsplit(template)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return ()
    host = ".".join("*" if "{" in label else label for label in parts.netloc.split("."))
    return (f"{parts.scheme}://{host}",)


def _content_fingerprint(match: re.Match) -> str:
    """`/_dash-component-suites/dash/x.v4_4_1m123.js` → `…/x.vhm<content hash>.js` (Dash strips either)."""
    prefix, package, path = match.groups()
    original, fingerprinted = check_fingerprint(path)
    if not fingerprinted:
        return match.group(0)
    key = (package, original)
    if key not in _content_digests:
        try:
            data = pkgutil.get_data(package, original) or b""
        except (OSError, ValueError, ImportError):
            data = path.encode()  # not readable here: still a value that names no version
        _content_digests[key] = hashlib.sha256(data).hexdigest()[:16]
    return f"{prefix}{package}/{build_fingerprint(original, 'h', _content_digests[key])}"


def _config_without_versions(config_tag: str) -> str:
    """Dash's config script without the keys that name versions."""
    found = _CONFIG.match(config_tag.strip())
    if not found:
        return config_tag
    config = json.loads(found.group(2))
    for key in VERSION_KEYS:
        config.pop(key, None)
    text = json.dumps(config, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026").replace("/", "\\u002f")
    return f"{found.group(1)}{text}{found.group(3)}"
