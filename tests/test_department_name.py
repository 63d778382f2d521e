"""A department's name in the reader's language comes from one place, `Atlas.department_name`.

It used to be looked up by hand in six places with three different
fallbacks (the key, the German name, or a KeyError on the upload page). The
rule now: the name in the reader's language, else the German name, else the
key. The names expected here are read from the catalogue (layers/departments.toml
through `atlas.departments`), not written down again.
"""
from __future__ import annotations

import dataclasses

import pytest

from atlas.export import pictures
from atlas.export import tables as export
from atlas.i18n import t
from atlas.services import notes
from atlas.web.components import indicator_facts

ONLY_GERMAN = "Jugendamt (nur deutsch benannt)"


@pytest.fixture()
def german_only(scratch_atlas):
    """A store that names the Jugendamt in German only (as a county's stored Gemeinden may be named)."""
    with scratch_atlas.store.writing() as tx:
        tx.manifest["organisations"] = {"jugend": {"de": ONLY_GERMAN}}
    assert "en" not in scratch_atlas.departments["jugend"]
    return scratch_atlas


def test_the_name_is_said_in_the_readers_language(atlas):
    names = atlas.departments["jugend"]
    assert names["de"] != names["en"]
    assert atlas.department_name("jugend", "de") == names["de"]
    assert atlas.department_name("jugend", "en") == names["en"]


def test_an_unknown_key_is_shown_as_itself(atlas):
    assert "kein_amt" not in atlas.departments
    assert atlas.department_name("kein_amt", "de") == "kein_amt"
    assert atlas.department_name("kein_amt", "en") == "kein_amt"


def test_a_missing_english_name_falls_back_to_the_german_one(german_only):
    assert german_only.department_name("jugend", "en") == ONLY_GERMAN
    assert german_only.department_name("jugend", "de") == ONLY_GERMAN


def test_every_place_that_names_a_department_uses_the_fallback(german_only):
    """The info panel, notes, the picture's mark and the export's metadata: the German name on an English
    page rather than the bare key (what four of the six hand-written lookups showed)."""
    atlas = german_only
    admin = atlas.users.get("admin").principal()
    facts = dict(indicator_facts(atlas, admin, "hze_quote", "en"))
    assert facts[t("department", "en")] == ONLY_GERMAN
    assert notes._department(atlas, "hze_quote", "en") == ONLY_GERMAN
    restricted = dataclasses.replace(atlas.indicator_by_id["betreuung_u3"], visibility="restricted")
    assert ONLY_GERMAN in pictures.marking(atlas, restricted, "en")
    data = export.collect(atlas, admin, export.ExportRequest(("hze_quote",), ("2024",), fmt="xlsx", lang="en"))
    assert dict(export.metadata_items(data))["Department"] == ONLY_GERMAN


@pytest.mark.parametrize("path,user", [("/admin", "admin"), ("/upload", "jugendamt")])
def test_the_staff_pages_name_an_organisation_without_an_english_name(german_only, path, user):
    """The admin page's accounts and department choices, and the upload page's new-indicator form, looked the
    name up as names[lang]: an English page failed on an organisation named only in German."""
    from atlas.web.app import create_app
    from tests.conftest import fresh_client, login
    from tests.test_languages import open_page
    app = create_app(atlas=german_only)
    client = fresh_client(app)
    login(client, user)
    texts: list[str] = []
    open_page(app, client, path, "en", texts)
    assert any(ONLY_GERMAN in text for text in texts), path
