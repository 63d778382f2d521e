"""All configuration, read from environment variables with safe defaults.

One module so that an operator finds every knob in one place and tests can
change the environment and call `load_settings()` again.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    layers_dir: Path
    host: str
    port: int
    basemap_url: str
    basemap_attribution: str
    official_crs: str
    secret_key: str
    debug: bool
    session_idle_minutes: int
    session_max_hours: float
    login_rate_limit: str
    ratelimit_storage: str
    behind_proxy: bool
    upload_max_mb: int
    answer_cache_size: int
    log_format: str
    tmp_dir: Path
    # The operator's legal texts (Markdown files; None = not configured, the pages say so).
    imprint_file: Path | None = None
    privacy_file: Path | None = None
    accessibility_contact_file: Path | None = None
    # Limits of an uploaded table and of its check (atlas.ingest.tablefile.Limits, atlas.ingest.checks).
    upload_max_rows: int = 1_000_000
    upload_max_columns: int = 2_000
    upload_max_cell_chars: int = 1_000
    check_max_seconds: float = 600.0
    upload_background_kb: int = 1024
    background_threads: int = 1
    background_queue: int = 4
    # Areas from which the map draws on one canvas instead of one SVG path per area (issue 19).
    canvas_from_areas: int = 2000
    # Areas from which the map is drawn from vector tiles stored with the boundary set (issue 19).
    tiles_from_areas: int = 5000
    # PostgreSQL for the state several app servers share (docs/scaling.md); empty: embedded, files only.
    database_url: str = ""
    # MB per process for each indicator's rows above the base level over all periods (time series, issue 19).
    series_cache_mb: int = 32


def _secret_key(data_dir: Path) -> str:
    """Use ATLAS_SECRET_KEY, else a key generated once and kept in the data dir.

    A constant in code would let anyone forge session cookies; a key generated
    per start would log everybody out on every restart and differ between
    gunicorn workers.
    """
    from_env = os.environ.get("ATLAS_SECRET_KEY", "").strip()
    if from_env:
        return from_env
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "secret_key"
    if not path.exists():
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(secrets.token_hex(32))
        os.chmod(tmp, 0o600)
        try:
            os.link(tmp, path)  # atomic: the first worker wins, others read its key
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text().strip()


def _log_format(value: str) -> str:
    """`text` or `json`; anything else stops the start with a message rather than logging in a surprise format."""
    value = value.strip().lower() or "text"
    if value not in ("text", "json"):
        raise ValueError(f"ATLAS_LOG_FORMAT must be 'text' or 'json', not {value!r}")
    return value


def _positive_int(name: str, default: int) -> int:
    """A whole number ≥ 1 from the environment; anything else stops the start with a message."""
    value = os.environ.get(name, "").strip() or str(default)
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, not {value!r}")
    return int(value)


def _optional_file(name: str) -> Path | None:
    """A file named by environment variable `name`, or None when it is unset or empty."""
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().resolve() if value else None


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("ATLAS_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    return Settings(
        data_dir=data_dir,
        layers_dir=Path(os.environ.get("ATLAS_LAYERS_DIR", PROJECT_ROOT / "layers")).resolve(),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ.get("PORT", "8050")),
        # Empty means: no basemap. The map is styled to stand on its own.
        basemap_url=os.environ.get("ATLAS_BASEMAP_URL", "").strip(),
        basemap_attribution=os.environ.get("ATLAS_BASEMAP_ATTRIBUTION", "").strip(),
        # Imprint, privacy notice, and the accessibility statement's feedback contact and enforcement
        # body: each town's own texts (Markdown; `name.en.md` beside it for English). Unset, the pages
        # say that the operator must provide them.
        imprint_file=_optional_file("ATLAS_IMPRINT_FILE"),
        privacy_file=_optional_file("ATLAS_PRIVACY_FILE"),
        accessibility_contact_file=_optional_file("ATLAS_ACCESSIBILITY_CONTACT_FILE"),
        official_crs=os.environ.get("ATLAS_OFFICIAL_CRS", "EPSG:25832"),
        secret_key=_secret_key(data_dir),
        debug=os.environ.get("ATLAS_DEBUG", "") == "1",
        # A session ends after this many minutes without a request.
        session_idle_minutes=int(os.environ.get("ATLAS_SESSION_IDLE_MINUTES", "30")),
        # A session ends this many hours after sign-in however active it is (a stolen cookie does not live on).
        session_max_hours=float(os.environ.get("ATLAS_SESSION_MAX_HOURS", "12")),
        # Failed logins allowed per client address (flask-limiter syntax).
        login_rate_limit=os.environ.get("ATLAS_LOGIN_RATE_LIMIT", "5 per minute"),
        # memory:// counts per worker process; point it at redis:// to share across workers.
        ratelimit_storage=os.environ.get("ATLAS_RATELIMIT_STORAGE", "memory://"),
        # postgresql://user@host:5432/atlas: the writer lock, the current manifest, sessions, the audit log and
        # pending uploads live there, so several app servers can share one data directory (docs/scaling.md).
        # Empty (the default): everything stays in the data directory, no server to install.
        database_url=os.environ.get("ATLAS_DATABASE_URL", "").strip(),
        # Trust X-Forwarded-Proto/-For from one reverse proxy (for Secure cookies and rate limits).
        behind_proxy=os.environ.get("ATLAS_BEHIND_PROXY", "") == "1",
        # Largest upload accepted (CSV/XLSX extracts, boundary files), in MB.
        upload_max_mb=int(os.environ.get("ATLAS_UPLOAD_MAX_MB", "50")),
        # Map views and time series kept per process (least recently used go first); 0 turns it off.
        answer_cache_size=int(os.environ.get("ATLAS_ANSWER_CACHE_SIZE", "512")),
        # A map level with at least this many areas is drawn on a canvas (SVG paths grow slow past a few thousand).
        canvas_from_areas=int(os.environ.get("ATLAS_CANVAS_FROM_AREAS", "2000")),
        # A level with at least this many areas gets vector tiles when its boundary set is stored, and the
        # map draws it from them (values still travel as the hideout); below, GeoJSON on SVG or canvas.
        tiles_from_areas=int(os.environ.get("ATLAS_TILES_FROM_AREAS", "5000")),
        # Log lines as text for a developer's terminal, or "json" (one object per line) for a log collector.
        log_format=_log_format(os.environ.get("ATLAS_LOG_FORMAT", "text")),
        # Scratch space for export files while they are built and streamed. Inside the data
        # directory by default: the same volume as the store (room for a big GeoPackage), and
        # not the system /tmp that other processes share; each file is removed once sent.
        tmp_dir=Path(os.environ.get("ATLAS_TMP_DIR", "") or data_dir / "tmp").resolve(),
        # An uploaded table may have this many data rows, columns and characters in one cell; each is
        # refused with a message saying which limit and what to do, before the work it would cause.
        upload_max_rows=_positive_int("ATLAS_UPLOAD_MAX_ROWS", 1_000_000),
        upload_max_columns=_positive_int("ATLAS_UPLOAD_MAX_COLUMNS", 2_000),
        upload_max_cell_chars=_positive_int("ATLAS_UPLOAD_MAX_CELL_CHARS", 1_000),
        # A check that runs longer stops with a message (split the file) instead of tying up a worker.
        check_max_seconds=float(_positive_int("ATLAS_CHECK_MAX_SECONDS", 600)),
        # Uploads from this size (KB) on are checked in the background: the request answers 202 at
        # once and the page shows the check's progress, so a 1 M-row file never meets a worker timeout.
        upload_background_kb=int(os.environ.get("ATLAS_UPLOAD_BACKGROUND_KB", "1024")),
        # Background jobs of one kind (upload checks, booklets) run at once per worker process
        # (a 1 M-row check may need ~1 GB) ...
        background_threads=max(1, int(os.environ.get("ATLAS_BACKGROUND_THREADS", "1"))),
        # ... and how many more may wait; beyond that the request is refused with 503 and Retry-After.
        background_queue=max(0, int(os.environ.get("ATLAS_BACKGROUND_QUEUE", "4"))),
        # Every indicator's rows above the base level over all periods (districts, the city) kept per process
        # and rights, least recently used dropped past this many MB: an area's first time series then reads
        # only its own cells. 0 turns it off (each series is aggregated afresh).
        series_cache_mb=max(0, int(os.environ.get("ATLAS_SERIES_CACHE_MB", "32"))),
    )
