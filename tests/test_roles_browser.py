"""Logging in and out in the browser changes exactly what the atlas shows."""
from __future__ import annotations

import pytest

from atlas.services import queries
from tests.conftest import DEMO_PASSWORDS
from tests.test_explorer_browser import coloured_map, until


def indicator_titles_in_picker(duo) -> set[str]:
    duo.find_element("#ex-indicator").click()
    until(lambda: duo.find_elements(".dash-dropdown-option"), message="picker options")
    # One script instead of a lookup per option (each empty lookup would sit out the implicit wait).
    titles = set(duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.dash-dropdown-option'))"
        ".filter(o => !o.querySelector('input[disabled]')).map(o => o.innerText.trim())"))
    duo.find_element("#ex-indicator").click()  # close again
    return titles


def log_in(duo, username: str) -> None:
    duo.driver.get(f"{duo.server_url}/login")
    duo.find_element("#username").send_keys(username)
    duo.find_element("#password").send_keys(DEMO_PASSWORDS[username])
    duo.find_element(".oa-login button[type=submit]").click()
    until(lambda: duo.find_elements("#oa-user"), message=f"{username} logged in")




@pytest.mark.parametrize("username", ["oeffentlich", "intern", "jugendamt", "sozialamt", "admin"])
def test_each_role_sees_exactly_its_indicators(duo, atlas, username):
    log_in(duo, username)
    coloured_map(duo)
    expected = set(queries.visible_indicators(atlas, atlas.users.get(username).principal())["title_de"])
    assert indicator_titles_in_picker(duo) == expected
    assert ("Hilfen zur Erziehung je 1.000 unter 21" in expected) == (username in ("jugendamt", "admin"))


def test_logging_out_hides_internal_layers_again(duo, atlas):
    log_in(duo, "intern")
    coloured_map(duo)
    assert "Kaufkraft je Einwohner" in indicator_titles_in_picker(duo)
    duo.driver.get(f"{duo.server_url}/?indicator=kaufkraft")
    coloured_map(duo)
    assert duo.find_element("#ex-indicator").text == "Kaufkraft je Einwohner"
    duo.find_element("#oa-logout").click()
    until(lambda: duo.find_elements("#oa-login-link"), message="logged out")
    public = set(queries.visible_indicators(atlas, queries_anonymous())["title_de"])
    coloured_map(duo)
    assert indicator_titles_in_picker(duo) == public
    duo.driver.get(f"{duo.server_url}/?indicator=kaufkraft")  # the same shared link, now anonymous
    coloured_map(duo)
    assert duo.find_element("#ex-indicator").text == "SGB-II-Quote"
    assert "nicht verfügbar" in duo.find_element("#ex-notice").text
    assert "Kaufkraft" not in duo.driver.page_source


def queries_anonymous():
    from auth import ANONYMOUS
    return ANONYMOUS


def test_wrong_password_in_the_browser(duo):
    duo.driver.get(f"{duo.server_url}/login")
    duo.find_element("#username").send_keys("intern")
    duo.find_element("#password").send_keys("falsches-passwort")
    duo.find_element(".oa-login button[type=submit]").click()
    assert "Benutzername oder Passwort ist falsch." in until(lambda: duo.find_element(".oa-error").text,
                                                             message="error message")


def test_admin_adds_a_user_on_the_admin_page(scratch_duo, scratch_atlas):
    duo, atlas = scratch_duo, scratch_atlas  # adds an account: a private store copy
    log_in(duo, "admin")
    duo.driver.get(f"{duo.server_url}/admin")
    until(lambda: duo.find_elements("#adm-users-table"), message="admin page")
    duo.find_element("#adm-new-name").send_keys("neu.planerin")
    duo.find_element("#adm-new-password").send_keys("ein-gutes-passwort")
    duo.find_element(".oa-btn-add").click()
    until(lambda: "neu.planerin" in duo.find_element("#adm-users-table").text, message="new user listed")
    assert atlas.users.get("neu.planerin").role == "internal"
    until(lambda: "Konto angelegt" in duo.find_element("#adm-audit-table").text,  # the action in German words
          message="audit entry")
