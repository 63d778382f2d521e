"""The page shell's accessibility parts and the legal pages (issue 16): `<html lang>`, skip links, footer,
the accessibility statement generated from the audit file, imprint and privacy notice from configuration."""
from __future__ import annotations

import json
import re
from datetime import date, datetime
from types import SimpleNamespace

import pytest

from atlas.formatting import format_day
from atlas.i18n import t
from atlas.web.pages import legal
from tests.test_accessibility_browser import AXE, PAGES


def text_of(component) -> str:
    """Every string in a Dash component tree, as one text (what a reader of the page would get)."""
    return json.dumps(component.to_plotly_json(), default=lambda c: c.to_plotly_json(), ensure_ascii=False)


@pytest.mark.parametrize("query,lang", [("", "de"), ("?lang=en", "en"), ("?lang=xx", "de")])
def test_html_lang_follows_the_viewers_language(client, query, lang):
    page = client.get(f"/{query}").get_data(as_text=True)
    assert re.search(r"<html[^>]*>", page).group(0) == f'<html lang="{lang}">'
    assert f'<html lang="{lang}">' in client.get(f"/impressum{query}").get_data(as_text=True)


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_shell_has_skip_links_a_main_landmark_and_the_legal_footer(client, lang):
    """Dash's layout request carries no query: the shell takes the language of the page that asked."""
    referer = "http://localhost/" + ("?lang=en" if lang == "en" else "")
    shell = client.get("/_dash-layout", headers={"Referer": referer}).get_json()
    text = json.dumps(shell, ensure_ascii=False)
    assert '"type": "Main"' in text and '"id": "oa-main"' in text
    for key in ("skip_main", "skip_map", "legal_accessibility", "legal_imprint", "legal_privacy"):
        assert t(key, lang) in text
    other = "en" if lang == "de" else "de"
    assert t("skip_main", other) not in text
    suffix = "?lang=en" if lang == "en" else ""
    for path, _ in legal.LINKS:
        assert f'"href": "{path}{suffix}"' in text


def _settings(**files):
    return SimpleNamespace(settings=SimpleNamespace(**{"imprint_file": None, "privacy_file": None,
                                                       "accessibility_contact_file": None, **files}))


@pytest.mark.parametrize("layout,missing", [(legal.imprint_layout, "imprint_missing"),
                                            (legal.privacy_layout, "privacy_missing")])
def test_unconfigured_imprint_and_privacy_say_the_operator_must_provide_them(monkeypatch, layout, missing):
    monkeypatch.setattr(legal, "current_atlas", lambda: _settings())
    for lang in ("de", "en"):
        assert t(missing, lang) in text_of(layout(lang=lang))


def test_configured_texts_are_shown_in_the_viewers_language(monkeypatch, tmp_path):
    imprint = tmp_path / "impressum.md"
    imprint.write_text("# Stadt Auenstadt\n\nAmt für Statistik, Marktplatz 1", encoding="utf-8")
    (tmp_path / "impressum.en.md").write_text("# City of Auenstadt\n\nStatistics office", encoding="utf-8")
    privacy = tmp_path / "datenschutz.md"  # no English twin: the German text in both languages
    privacy.write_text("Verantwortlich: Stadt Auenstadt", encoding="utf-8")
    monkeypatch.setattr(legal, "current_atlas", lambda: _settings(imprint_file=imprint, privacy_file=privacy))
    assert "Marktplatz 1" in text_of(legal.imprint_layout(lang="de"))
    english = text_of(legal.imprint_layout(lang="en"))
    assert "Statistics office" in english and "Marktplatz" not in english
    assert "Verantwortlich" in text_of(legal.privacy_layout(lang="en"))
    assert t("imprint_missing") not in text_of(legal.imprint_layout(lang="de"))


def test_a_configured_file_that_is_missing_shows_the_notice(monkeypatch, tmp_path):
    monkeypatch.setattr(legal, "current_atlas", lambda: _settings(imprint_file=tmp_path / "weg.md"))
    assert t("imprint_missing") in text_of(legal.imprint_layout(lang="de"))


def test_the_environment_names_the_files(monkeypatch, tmp_path):
    from atlas.config import load_settings
    monkeypatch.setenv("ATLAS_IMPRINT_FILE", str(tmp_path / "impressum.md"))
    monkeypatch.setenv("ATLAS_PRIVACY_FILE", "")
    settings = load_settings()
    assert settings.imprint_file == (tmp_path / "impressum.md").resolve()
    assert settings.privacy_file is None and settings.accessibility_contact_file is None


def test_the_statement_is_generated_from_the_audit(monkeypatch, tmp_path):
    contact = tmp_path / "kontakt.md"
    contact.write_text("barrierefreiheit@auenstadt.example; Schlichtungsstelle des Landes", encoding="utf-8")
    monkeypatch.setattr(legal, "current_atlas", lambda: _settings(accessibility_contact_file=contact))
    audit = legal.audit()
    de, en = text_of(legal.accessibility_layout(lang="de")), text_of(legal.accessibility_layout(lang="en"))
    assert t(f"a11y_status_{audit['status']}") in de and t(f"a11y_status_{audit['status']}", "en") in en
    assert f"{audit['audit_date']:%d.%m.%Y}" in de
    for page in audit["pages"]:
        assert page["de"] in de and page["en"] in en
    for item in audit["limitations"]:
        assert item["de"] in de and item["en"] in en
    assert "Schlichtungsstelle des Landes" in de and t("a11y_contact_missing") not in de


def test_the_statement_names_the_axe_version_the_tests_run():
    """The audit file is current: it names the vendored axe-core (its pages: test_accessibility_browser)."""
    version = re.match(r"/\*! axe v([\d.]+)", AXE.read_text(encoding="utf-8")[:40]).group(1)
    assert legal.audit()["tool"] == f"axe-core {version}"
    assert len(legal.audit()["pages"]) == len(PAGES)


def _by_id(component, id_: str):
    """The component with `id_` in a Dash tree (None if there is none)."""
    if getattr(component, "id", None) == id_:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if hasattr(child, "to_plotly_json") and (found := _by_id(child, id_)) is not None:
            return found
    return None


@pytest.mark.parametrize("audit_date", [date(2026, 12, 1), datetime(2026, 12, 1, 10, 30), "2026-12-01"],
                         ids=["date", "date-time", "text"])
def test_the_statements_audit_day_is_written_as_each_reader_writes_days(monkeypatch, audit_date):
    """TOML gives the audit day as a date, a date-time or quoted text: each is shown as format_day writes
    days (31.12.2030 in German, ISO in English), never as Python prints the value."""
    monkeypatch.setattr(legal, "current_atlas", lambda: _settings())
    data = {**legal.audit(), "audit_date": audit_date}
    monkeypatch.setattr(legal, "audit", lambda: data)
    for lang in ("de", "en"):
        shown = _by_id(legal.accessibility_layout(lang=lang), "a11y-date").children
        assert shown == format_day(audit_date, lang), (lang, shown)
    assert format_day(audit_date, "de") != format_day(audit_date, "en")


def test_unknown_paths_get_the_404_page_in_both_languages():
    for lang in ("de", "en"):
        text = text_of(legal.not_found_layout(lang=lang))
        assert t("not_found_title", lang) in text and t("not_found_text", lang) in text



@pytest.mark.parametrize("path", ["/login", "/login?lang=en", "/print?indicator=sgb2_quote",
                                  "/print?indicator=sgb2_quote&lang=en"])
def test_the_plain_html_pages_link_the_legal_pages_too(client, path):
    page = client.get(path).get_data(as_text=True)
    suffix = "?lang=en" if "lang=en" in path else ""
    for link, _ in legal.LINKS:
        assert f'href="{link}{suffix}"' in page


def test_dropdowns_of_the_compare_and_index_pages_speak_the_viewers_language(client, atlas, monkeypatch):
    """Dash's dropdowns say "2 selected" and "Search" in a German page unless told otherwise."""
    from atlas.web.pages import compare, indices
    monkeypatch.setattr(indices, "current_principal", lambda: atlas.users.get("jugendamt").principal())
    for layout, path in ((compare.layout, "/vergleich"), (indices.layout, "/indizes")):
        for lang in ("de", "en"):
            with client.application.test_request_context(path):
                text = text_of(layout(lang=lang))
            assert t("dd_selected_count", lang) in text and t("ex_dd_search", lang) in text
