"""Login, logout and the request guards: a plain Flask form, not a Dash callback.

- CSRF protection on the form (flask-wtf), argon2 password check, failed
  logins rate-limited per client address (flask-limiter).
- Session cookie HttpOnly, SameSite=Lax, Secure whenever the request came over
  HTTPS; a session ends after a configurable idle time, after an absolute
  lifetime, and on the server at logout (auth/sessions.py: a copied cookie is
  anonymous afterwards, in every worker).
- The session's CSRF token is made at login and the cookie is rewritten at
  most once a minute, not on every request: a page's parallel requests are
  answered in any order, and a late answer carrying an older cookie must not
  drop the token (that made logout fail with a bare 400).
- A refused CSRF token gets a page that says what happened (German, English
  with ?lang=en or an English browser), or JSON for the API.
- Every state-changing request must come from this origin (defence in depth).
- Dash callbacks of a signed-in session need the CSRF token in `X-CSRFToken`:
  Dash's renderer sends it from the `_csrf_token` cookie (double submit), which
  a page of another site can neither read nor send (a custom header forces a
  CORS preflight that this server never allows). The Origin check alone let
  `Origin: null` and requests without an Origin through.
- /admin is guarded before any Dash code runs; its callbacks check again.
"""
from __future__ import annotations

import time
from html import escape
from pathlib import Path
from urllib.parse import urlparse

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    jsonify,
    redirect,
    request,
    session,
)
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect, generate_csrf, validate_csrf
from werkzeug.middleware.proxy_fix import ProxyFix
from wtforms.validators import ValidationError

from auth.permissions import may_administer, may_call
from auth.session import current_principal
from auth.sessions import SessionRegistry
from auth.users import User

bp = Blueprint("auth", __name__)
csrf = CSRFProtect()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
login_manager = LoginManager()
ACCOUNTS = "auth.accounts"
SESSIONS = "auth.sessions"
# Dash's renderer reads the token from this cookie and sends it as X-CSRFToken with every request
# (Dash's defaults `csrf_token_name` / `csrf_header_name`).
DASH_CSRF_COOKIE = "_csrf_token"
DASH_CALLBACKS = "/_dash-update-component"

TEXT = {
    "de": {"title": "Anmelden", "user": "Benutzername", "password": "Passwort", "submit": "Anmelden",
           "failed": "Benutzername oder Passwort ist falsch.",
           "limited": "Zu viele fehlgeschlagene Anmeldeversuche. Bitte warten Sie eine Minute und versuchen "
                      "Sie es dann erneut.",
           "csrf": "Das Formular ist abgelaufen oder ungültig. Bitte laden Sie die Seite neu.",
           "back": "Zurück zur Karte", "other": "English",
           "expired_title": "Sitzung abgelaufen",
           "expired": "Ihre Sitzung ist abgelaufen oder das Formular ist veraltet. Aus Sicherheitsgründen wurde "
                      "nichts ausgeführt. Bitte laden Sie die Seite neu und versuchen Sie es noch einmal.",
           "signed_in_as": "Sie sind noch angemeldet als", "logout": "Abmelden", "login_again": "Neu anmelden",
           "csrf_json": "Sitzung abgelaufen oder Formular veraltet: bitte Seite neu laden",
           "legal": "Rechtliches", "accessibility": "Barrierefreiheit", "imprint": "Impressum",
           "privacy": "Datenschutz"},
    "en": {"title": "Sign in", "user": "User name", "password": "Password", "submit": "Sign in",
           "failed": "User name or password is wrong.",
           "limited": "Too many failed sign-in attempts. Please wait a minute and try again.",
           "csrf": "The form has expired or is invalid. Please reload the page.",
           "back": "Back to the map", "other": "Deutsch",
           "expired_title": "Session expired",
           "expired": "Your session has expired or the form is out of date. For your safety nothing was done. "
                      "Please reload the page and try again.",
           "signed_in_as": "You are still signed in as", "logout": "Sign out", "login_again": "Sign in again",
           "csrf_json": "session expired or form out of date: please reload the page",
           "legal": "Legal", "accessibility": "Accessibility", "imprint": "Imprint", "privacy": "Privacy"},
}


class LoginUser(UserMixin):
    """flask-login's view of an account; the id is `user:nonce:session`.

    The nonce ends every session of the account when its password, role or
    status changes; the session id ends this one session (logout).
    """

    def __init__(self, user: User, session_id: str):
        self.user = user
        self.session_id = session_id

    def get_id(self) -> str:
        return f"{self.user.session_id}:{self.session_id}"

    def principal(self):
        return self.user.principal()


class _SessionInterface(SecureCookieSessionInterface):
    """Secure cookies whenever the request itself came over HTTPS."""

    def get_cookie_secure(self, app) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure


def _lang() -> str:
    return "en" if request.values.get("lang") == "en" else "de"


def _safe_next(target: str | None) -> str:
    """Only same-site relative paths: no open redirects."""
    if not target:
        return "/"
    if not target.isprintable() or "\\" in target:  # a CRLF would split the Location header; '/\\x' is '//x'
        return "/"
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def _legal_footer(lang: str) -> str:
    """The footer every page of the atlas has: accessibility statement, imprint, privacy notice (issue 16)."""
    tx, suffix = TEXT[lang], "?lang=en" if lang == "en" else ""
    links = " ".join(f'<a href="{path}{suffix}">{tx[key]}</a>' for path, key in (
        ("/barrierefreiheit", "accessibility"), ("/impressum", "imprint"), ("/datenschutz", "privacy")))
    return f'<footer class="oa-footer"><nav aria-label="{tx["legal"]}">{links}</nav></footer>'


def login_page(message: str = "", status: int = 200) -> Response:
    lang = _lang()
    tx = TEXT[lang]
    other = "de" if lang == "en" else "en"
    nxt = escape(_safe_next(request.values.get("next")))
    error = f'<p class="oa-error" role="alert">{escape(message)}</p>' if message else ""
    body = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{tx['title']} – Ortsatlas</title><link rel="stylesheet" href="/assets/style.css">
<link rel="stylesheet" href="/assets/a11y.css"></head>
<body><main class="oa-login">
<h1>Ortsatlas – {tx['title']}</h1>{error}
<form method="post" action="/login">
<input type="hidden" name="csrf_token" value="{generate_csrf()}">
<input type="hidden" name="next" value="{nxt}"><input type="hidden" name="lang" value="{lang}">
<label for="username">{tx['user']}</label>
<input id="username" name="username" autocomplete="username" required autofocus>
<label for="password">{tx['password']}</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<button type="submit">{tx['submit']}</button>
</form>
<p><a href="/">{tx['back']}</a> · <a href="/login?lang={other}&next={nxt}">{tx['other']}</a></p>
</main>{_legal_footer(lang)}</body></html>"""
    return Response(body, status=status, mimetype="text/html")


def _reader_lang() -> str:
    """?lang= first, else the browser's preference between German and English; German by default."""
    if request.values.get("lang") in ("de", "en"):
        return request.values["lang"]
    return request.accept_languages.best_match(["de", "en"], default="de")


def _wants_json() -> bool:
    """API calls and scripts get JSON; a person's browser gets a page."""
    if request.path.startswith("/api/") or request.is_json:
        return True
    return request.accept_mimetypes.best_match(["text/html", "application/json"]) == "application/json"


def csrf_refused() -> Response:
    """A refused CSRF token: say what happened and where to go on, never a bare "CSRF".

    Nothing was done. A person still signed in gets a fresh sign-out button
    (the usual reason is a form from an earlier session or another tab).
    """
    lang = _reader_lang()
    tx = TEXT[lang]
    if _wants_json():
        resp = jsonify({"error": "csrf", "message": f"{TEXT['de']['csrf_json']} / {TEXT['en']['csrf_json']}"})
        resp.status_code = 400
        return resp
    suffix = "?lang=en" if lang == "en" else ""
    principal = current_principal()
    still = ""
    if principal.logged_in:
        still = (f'<form method="post" action="/logout"><p>{tx["signed_in_as"]} {escape(principal.name)}. '
                 f'<input type="hidden" name="csrf_token" value="{generate_csrf()}">'
                 f'<button type="submit">{tx["logout"]}</button></p></form>')
    body = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{tx['expired_title']} – Ortsatlas</title><link rel="stylesheet" href="/assets/style.css">
<link rel="stylesheet" href="/assets/a11y.css"></head>
<body><main class="oa-login">
<h1>{tx['expired_title']}</h1>
<p class="oa-error" role="alert">{tx['expired']}</p>{still}
<p><a href="/{suffix}">{tx['back']}</a> · <a href="/login{suffix}">{tx['login_again']}</a></p>
</main>{_legal_footer(lang)}</body></html>"""
    return Response(body, status=400, mimetype="text/html")


@bp.get("/login")
def login_form() -> Response:
    return login_page()


def _failed(response: Response) -> bool:
    return response.status_code == 401


@bp.post("/login")
@limiter.limit(lambda: _accounts().settings.login_rate_limit, deduct_when=_failed)
def login_submit() -> Response:
    csrf.protect()
    atlas = _accounts()
    username = request.form.get("username", "")
    user = atlas.users.verify(username, request.form.get("password", ""))
    if user is None:
        atlas.audit.record("anonymous", "login_failed", target=username[:64], ip=request.remote_addr or "")
        return login_page(TEXT[_lang()]["failed"], 401)
    _end_server_session()  # signing in again replaces a session, it does not add one
    session.clear()
    login_user(LoginUser(user, _sessions().open(user.username)))
    session.permanent = True
    session["seen"] = time.time()
    _start_csrf_token()
    atlas.audit.record(user.username, "login", ip=request.remote_addr or "")
    return redirect(_safe_next(request.form.get("next")), code=303)


@bp.post("/logout")
def logout() -> Response:
    csrf.protect()
    principal = current_principal()
    if principal.logged_in:
        _accounts().audit.record(principal.name, "logout", ip=request.remote_addr or "")
    _end_server_session()
    logout_user()
    session.clear()
    return redirect("/", code=303)


def _session_parts(value: str | None) -> tuple[str, str, str]:
    """(user name, account nonce, session id) of a stored flask-login id; empty parts when it has another form."""
    parts = (value or "").split(":")
    return (parts[0], parts[1], parts[2]) if len(parts) == 3 else ("", "", "")


def _end_server_session() -> None:
    """Close this cookie's session in the registry, so no copy of the cookie stays signed in."""
    _sessions().close(_session_parts(session.get("_user_id"))[2])


def _sessions() -> SessionRegistry:
    return current_app.extensions[SESSIONS]


def _accounts():
    """The accounts this app serves (users, tokens, audit, settings), handed over by `init_auth`."""
    return current_app.extensions[ACCOUNTS]


def _load_user(stored_id: str) -> LoginUser | None:
    """Resolve a cookie's `user:nonce:session`: anonymous unless the account is active, its nonce unchanged
    (password, role, status) and the session still open on the server (logout, absolute lifetime)."""
    username, nonce, session_id = _session_parts(stored_id)
    user = _accounts().users.get(username)
    if user is None or user.disabled or user.session_nonce != nonce:
        return None
    if not _sessions().is_open(session_id, username):
        return None
    return LoginUser(user, session_id)


def _start_csrf_token() -> None:
    """Give a new session its CSRF token at once, so every cookie this session ever sends carries it.

    Made lazily instead, the first page request would add it while the
    page's other requests, sent with the cookie from before, answer later
    with a cookie without it.
    """
    g.pop(current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)  # a token of the old session
    generate_csrf()


SEEN_EVERY = 60  # seconds: a signed-in request writes `seen` (and so a new cookie) at most this often


def _expire_idle_sessions() -> None:
    """End a session idle for longer than the setting; note activity at most once a minute.

    Each write is a new cookie, and answers arrive in any order: writing on
    every request let a late answer put an older session back. `seen` may
    lag by up to a minute, so a session ends at most a minute early.
    """
    if "_user_id" not in session:
        return
    idle = _accounts().settings.session_idle_minutes * 60
    now = time.time()
    seen = float(session.get("seen", 0))
    if not current_user.is_authenticated:  # ended on the server: drop the dead cookie
        logout_user()
        session.clear()
        return
    if now - seen > idle:
        _end_server_session()
        logout_user()
        session.clear()
        return
    if now - seen >= SEEN_EVERY:
        session["seen"] = now


def _same_origin_writes() -> Response | None:
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return None
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        own = urlparse(request.host_url)
        theirs = urlparse(origin)
        if (theirs.scheme, theirs.netloc) != (own.scheme, own.netloc):
            abort(403)
    return None


def _bearer_auth() -> Response | None:
    """`Authorization: Bearer <token>` on /api/: act as the token's user; a bad token is a 401, not anonymous."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    principal = _accounts().tokens.principal_for(header[7:].strip()) if request.path.startswith("/api/") else None
    if principal is None:
        resp = jsonify({"error": "unauthorized", "message": "Token ungültig oder widerrufen / invalid or revoked token"})
        resp.status_code = 401
        resp.headers["WWW-Authenticate"] = 'Bearer realm="ortsatlas"'
        return resp
    g.bearer_principal = principal
    if not may_call(principal, request.path):
        abort(404)  # a partner token outside its read routes: as if the route did not exist
    return None


def _audit_partner_reads(resp: Response) -> Response:
    """Everything a partner token reads goes into the audit log: who, which token, what, with which answer."""
    principal = g.get("bearer_principal")
    if principal is not None and principal.scope is not None:
        query = request.query_string.decode("utf-8", "replace")[:500]
        _accounts().audit.record(principal.name, "partner_read", request.path,
                                 f"token {principal.scope.token_id}: {query} → {resp.status_code}",
                                 ip=request.remote_addr or "")
    return resp


def _dash_callbacks_need_token() -> None:
    """A signed-in session's Dash callback without its CSRF token is refused (400, before any callback runs).

    Anonymous callbacks act with the public's rights only, so there is nothing
    to forge; every callback of a signed-in session may change state (admin,
    uploads, releases) and is treated alike.
    """
    if request.method == "POST" and request.path == DASH_CALLBACKS and current_principal().logged_in:
        csrf.protect()  # X-CSRFToken against the session's token; raises CSRFError → 400


def _dash_csrf_cookie(response: Response) -> Response:
    """Hand the session's CSRF token to Dash's renderer in a cookie script can read; drop it with the session.

    Set only when the browser's copy is missing or belongs to another session,
    so answers do not carry a new cookie each time.
    """
    sent = request.cookies.get(DASH_CSRF_COOKIE)
    field = current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    if field not in session:
        if sent is not None:
            response.delete_cookie(DASH_CSRF_COOKIE, path="/")
        return response
    try:
        validate_csrf(sent or "")
        return response
    except ValidationError:
        pass
    response.set_cookie(DASH_CSRF_COOKIE, generate_csrf(), path="/", httponly=False, samesite="Lax",
                        secure=_SessionInterface().get_cookie_secure(current_app))
    return response


def _guard_admin() -> Response | None:
    if not (request.path == "/admin" or request.path.startswith("/admin/")):
        return None
    principal = current_principal()
    if not principal.logged_in:
        return redirect(f"/login?next={request.path}", code=303)
    if not may_administer(principal):
        abort(403)
    return None


def _rate_limit_storage(settings) -> str:
    """Where failed logins are counted: ATLAS_RATELIMIT_STORAGE, or the app servers' shared PostgreSQL.

    With a database (several app servers) and no storage of its own chosen,
    the counters go there, so a client's failures count on every server
    together instead of once per server.
    """
    storage = settings.ratelimit_storage
    database = getattr(settings, "database_url", "")
    if storage == "memory://" and database:
        storage = database
    if storage.startswith(("postgresql://", "postgres://")):
        import auth.ratelimit_store  # noqa: F401  registers the postgresql:// scheme with `limits`
    return storage


def init_auth(server: Flask, accounts) -> None:
    """Wire login, CSRF, rate limits, cookie policy and guards into the Flask server.

    `accounts` has `users`, `tokens`, `audit` and `settings` (the app's context);
    auth keeps no reference to the atlas beyond that. It may also hand over
    `sessions` (open/close/is_open, shared by several servers); without one
    the sessions are a file in the data directory (auth/sessions.py).
    """
    settings = accounts.settings
    server.extensions[ACCOUNTS] = accounts
    server.extensions[SESSIONS] = getattr(accounts, "sessions", None) or SessionRegistry(
        Path(settings.data_dir) / "sessions", max_age=settings.session_max_hours * 3600)
    if settings.behind_proxy:
        server.wsgi_app = ProxyFix(server.wsgi_app, x_for=1, x_proto=1, x_host=1)
    server.session_interface = _SessionInterface()
    server.config.update(
        # Not refreshed on every request: `_expire_idle_sessions` rewrites the cookie when it notes activity.
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_REFRESH_EACH_REQUEST=False,
        PERMANENT_SESSION_LIFETIME=settings.session_idle_minutes * 60,
        WTF_CSRF_CHECK_DEFAULT=False,  # protected explicitly: the forms here; Dash posts JSON same-origin
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
        RATELIMIT_STORAGE_URI=_rate_limit_storage(settings), RATELIMIT_HEADERS_ENABLED=True,
    )
    csrf.init_app(server)
    limiter.init_app(server)
    login_manager.init_app(server)
    login_manager.user_loader(_load_user)
    login_manager.session_protection = "basic"
    server.before_request(_bearer_auth)
    server.before_request(_same_origin_writes)
    server.before_request(_expire_idle_sessions)
    server.before_request(_guard_admin)
    server.before_request(_dash_callbacks_need_token)
    server.after_request(_dash_csrf_cookie)
    server.after_request(_audit_partner_reads)
    server.register_blueprint(bp)

    @server.errorhandler(CSRFError)
    def _csrf_error(_exc):
        if request.path == "/login":
            return login_page(TEXT[_lang()]["csrf"], 400)
        return csrf_refused()

    @server.errorhandler(429)
    def _too_many(_exc):
        return login_page(TEXT[_lang()]["limited"], 429)
