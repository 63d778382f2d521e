"""The targets dashboard in the browser: a tile with light, value and a gauge, without console errors."""
from __future__ import annotations

from atlas.services import targets
from auth.permissions import Principal
from tests.test_explorer_browser import until


def test_dashboard_tile_draws_a_gauge(scratch_duo, scratch_atlas):
    duo = scratch_duo
    admin = Principal("admin", "admin", logged_in=True)
    targets.set_target(scratch_atlas, admin, {"indicator": "sgb2_quote", "target": 9, "warn": 12,
                                              "direction": "down", "deadline": "2030-12-31"})
    duo.driver.get(f"{duo.server_url}/ziele")
    until(lambda: duo.find_elements("#tg-tile-sgb2_quote .indicatorlayer"), message="the gauge")
    assert duo.find_elements("#oa-targets-link")
    assert "höchstens 9,0" in duo.find_element("#tg-tile-sgb2_quote").text
    duo.driver.save_screenshot(str(scratch_atlas.settings.data_dir / "ziele.png"))
