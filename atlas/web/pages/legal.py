"""The pages a public body's website must have: accessibility statement, imprint, privacy notice; and the 404 page.

- `/barrierefreiheit`: the Erklärung zur Barrierefreiheit (BITV 2.0 § 7, the EU
  model statement), generated from the last audit's results in
  `accessibility_audit.toml` (standard, date, method, pages checked, known
  limitations). The browser test walks exactly the pages that file names, so
  the statement cannot claim a page nobody checked.
- `/impressum`, `/datenschutz`: the operator's own texts (Markdown files named
  by ATLAS_IMPRINT_FILE and ATLAS_PRIVACY_FILE); the feedback contact and the
  enforcement body of the statement likewise (ATLAS_ACCESSIBILITY_CONTACT_FILE),
  since both depend on the town and its Land. Unset, each page says plainly
  that the operator has yet to provide it, never a made-up text.

A file `name.md` may have an English twin `name.en.md`, shown with `?lang=en`.
"""
from __future__ import annotations

import functools
import logging
import tomllib
from pathlib import Path

import dash
from dash import dcc, html

from atlas.formatting import format_day
from atlas.i18n import norm_lang, t
from atlas.web.components import page_title
from atlas.web.http import current_atlas

AUDIT_FILE = Path(__file__).with_name("accessibility_audit.toml")
# The footer's links, in order: (path, message key of the link text).
LINKS = (("/barrierefreiheit", "legal_accessibility"), ("/impressum", "legal_imprint"),
         ("/datenschutz", "legal_privacy"))
STATUSES = ("full", "partial", "none")
log = logging.getLogger(__name__)


@functools.cache
def audit() -> dict:
    """The last audit's results (read once per process; the file ships with the code)."""
    data = tomllib.loads(AUDIT_FILE.read_text(encoding="utf-8"))
    if data.get("status") not in STATUSES:
        raise ValueError(f"{AUDIT_FILE.name}: status must be one of {STATUSES}")
    return data


def operator_text(path: Path | None, lang: str) -> str | None:
    """The operator's Markdown text at `path` (its `.en` twin in English, if there is one); None if unset or
    unreadable (the page then says it is missing, and the log says why)."""
    if path is None:
        return None
    candidates = [path.with_suffix(f".en{path.suffix}"), path] if lang == "en" else [path]
    for candidate in candidates:
        try:
            return candidate.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
        except OSError as exc:
            log.warning("cannot read %s: %s", candidate, exc)
            return None
    log.warning("legal text file not found: %s", path)
    return None


def _operator_section(text: str | None, missing_key: str, lang: str, id_: str) -> html.Div:
    """The operator's text as Markdown (no raw HTML), or the notice that the operator has yet to provide it."""
    if text is None:
        return html.Div(html.P(t(missing_key, lang), className="oa-notice"), id=id_)
    return html.Div(dcc.Markdown(text, className="oa-legal-text"), id=id_)


def _page(title_key: str, lang: str, body: list, id_: str) -> html.Div:
    return html.Div([html.H1(t(title_key, lang)), *body], className="oa-page oa-legal", id=id_)


def accessibility_layout(lang: str | None = None, **_args) -> html.Div:
    """The Erklärung zur Barrierefreiheit, from the audit file and the operator's contact text."""
    lang = norm_lang(lang)
    data = audit()
    settings = current_atlas().settings
    date_text = format_day(data["audit_date"], lang)  # TOML gives a date, a date-time or (quoted) text
    pages = [html.Li(html.A(page[lang], href=page["path"])) for page in data["pages"]]
    limitations = [html.Li(item[lang]) for item in data.get("limitations", [])]
    return _page("a11y_title", lang, [
        html.P(t("a11y_intro", lang).format(standard=data["standard"])),
        html.H2(t("a11y_status", lang)),
        html.P(t(f"a11y_status_{data['status']}", lang), id="a11y-status"),
        html.H2(t("a11y_audit", lang)),
        html.Dl([html.Dt(t("a11y_standard", lang)), html.Dd(data["standard"]),
                 html.Dt(t("a11y_date", lang)), html.Dd(date_text, id="a11y-date"),
                 html.Dt(t("a11y_tool", lang)), html.Dd(data["tool"]),
                 html.Dt(t("a11y_method", lang)), html.Dd(data[f"method_{lang}"])], className="oa-info"),
        html.H2(t("a11y_pages", lang)),
        html.Ul(pages, id="a11y-pages"),
        html.H2(t("a11y_limitations", lang)),
        html.Ul(limitations, id="a11y-limitations") if limitations else html.P(t("a11y_no_limitations", lang)),
        html.H2(t("a11y_feedback", lang)),
        _operator_section(operator_text(settings.accessibility_contact_file, lang), "a11y_contact_missing", lang,
                          "a11y-contact"),
    ], "legal-accessibility")


def imprint_layout(lang: str | None = None, **_args) -> html.Div:
    lang = norm_lang(lang)
    text = operator_text(current_atlas().settings.imprint_file, lang)
    return _page("legal_imprint", lang, [_operator_section(text, "imprint_missing", lang, "imprint-text")],
                 "legal-imprint")


def privacy_layout(lang: str | None = None, **_args) -> html.Div:
    lang = norm_lang(lang)
    text = operator_text(current_atlas().settings.privacy_file, lang)
    return _page("legal_privacy", lang, [_operator_section(text, "privacy_missing", lang, "privacy-text")],
                 "legal-privacy")


def not_found_layout(lang: str | None = None, **_args) -> html.Div:
    """Dash's own 404 page is an English h1 alone: say it in the viewer's language, with the ways on."""
    lang = norm_lang(lang)
    suffix = "?lang=en" if lang == "en" else ""
    return _page("not_found_title", lang, [
        html.P(t("not_found_text", lang)),
        html.Ul([html.Li(html.A(t("nav_map", lang), href=f"/{suffix}")),
                 html.Li(html.A(t("nav_profiles", lang), href=f"/profil{suffix}"))]),
    ], "oa-not-found")


def register_pages() -> None:
    """The legal pages and the 404 page (Dash shows the page registered as `not_found_404` for unknown paths)."""
    dash.register_page("accessibility", path="/barrierefreiheit", layout=accessibility_layout,
                       title=page_title("a11y_title"))
    dash.register_page("imprint", path="/impressum", layout=imprint_layout, title=page_title("legal_imprint"))
    dash.register_page("privacy", path="/datenschutz", layout=privacy_layout, title=page_title("legal_privacy"))
    dash.register_page("not_found_404", path="/404", layout=not_found_layout,
                       title=page_title("not_found_title"))
