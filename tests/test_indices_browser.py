"""The index builder in the browser: a steward picks, previews (map, table, method) and saves an index."""
from __future__ import annotations

from atlas.services import queries
from tests.test_explorer_browser import until
from tests.test_roles_browser import log_in

PICKED = "sgb2_u15,jugend_alo,betreuung_u3"


def test_steward_previews_and_saves_an_index(scratch_duo, scratch_atlas):
    duo = scratch_duo
    log_in(duo, "sozialamt")
    assert duo.find_elements("#oa-indices-link")
    duo.driver.get(f"{duo.server_url}/indizes?inputs={PICKED}")
    until(lambda: len(duo.find_elements(".oa-index-row")) == 3, message="one row per picked indicator")
    duo.find_element("#ix-preview").click()
    until(lambda: len(duo.find_elements("#ix-table-rows tbody tr")) > 40, message="the index table")
    assert "z-Standardisierung" in duo.find_element("#ix-method-text").text
    assert "Geheim gehaltene Zahlen gehen in keine Berechnung ein" in duo.find_element("#ix-method-text").text
    until(lambda: duo.find_elements("#ix-map path.leaflet-interactive"), message="the index map")
    shown = len(duo.find_elements("#ix-table-rows tbody tr"))
    assert shown == len(queries.values(scratch_atlas, scratch_atlas.users.get("sozialamt").principal(),
                                       "sgb2_u15", "2025").rows)
    assert len(duo.find_elements("#ix-sens-rows tbody tr")) == 3 * 4  # three weights, ±10 and ±25 %
    duo.find_element("#ix-typology").click()
    until(lambda: len(duo.find_elements("#ix-ty-groups li")) == 12, message="the twelve groups")
    assert "Status hoch, Dynamik positiv" in duo.find_element("#ix-ty-groups").get_attribute("textContent")
    assert "Standardabweichungen" in duo.find_element("#ix-ty-method").text
    until(lambda: duo.find_elements("#ix-ty-map path.leaflet-interactive"), message="the typology map")
    duo.find_element("#ix-id").send_keys("bildungsbedarf")
    duo.find_element("#ix-title").send_keys("Bildungsbedarfsindex")
    duo.find_element("#ix-save").click()
    until(lambda: "idx_bildungsbedarf" in duo.find_element("#ix-save-message").text, message="saved")
    ind = scratch_atlas.indicator_by_id["idx_bildungsbedarf"]
    assert (ind.visibility, ind.department) == ("internal", "soziales")


def test_staff_without_builder_rights_see_only_a_notice(duo):
    log_in(duo, "intern")
    assert not duo.find_elements("#oa-indices-link")
    duo.driver.get(f"{duo.server_url}/indizes?inputs={PICKED}")
    until(lambda: duo.find_elements("#ix-denied"), message="the refusal")
    assert not duo.find_elements("#ix-inputs")
