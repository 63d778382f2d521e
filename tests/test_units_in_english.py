"""Units in the reader's language (issue 16): an English page said "12,441 Personen" and "je 1.000 EW".

The catalogue carries `unit_en` where a unit has words; every place that
shows a unit to a reader of a language asks `Indicator.unit_in(lang)`.
"""
from __future__ import annotations

import re

from atlas.catalog import Indicator, unit_in
from atlas.services import choropleth, queries
from auth import ANONYMOUS

# A unit with a word in it (not "%", "€", "km"): German words a reader of English cannot be left with.
WORDED = re.compile(r"[A-Za-zÄÖÜäöüß]{3,}")


def test_every_worded_unit_of_the_catalogue_has_its_english(atlas):
    worded = [i for i in atlas.indicators if WORDED.search(i.unit)]
    assert worded, "the demo catalogue has units with words (Personen, je 1.000 EW)"
    assert [i.id for i in worded if not i.unit_en] == []


def test_unit_in_falls_back_to_the_unit_and_keeps_german_for_german():
    ind = Indicator("x1", "X", "X", "", "", "d", "Personen", "statistik", "public", "neutral", 0, "sum", "year",
                    "", "", "", unit_en="persons")
    assert (ind.unit_in("de"), ind.unit_in("en")) == ("Personen", "persons")
    assert unit_in("%", "", "en") == "%" and unit_in("%", None, "en") == "%"
    assert unit_in("km", float("nan"), "en") == "km"  # a catalogue row of an older store: no unit_en


def test_english_map_labels_profile_and_export_use_the_english_unit(atlas, client):
    ind = atlas.indicator_by_id["bev_gesamt"]
    assert (ind.unit, ind.unit_en) == ("Personen", "persons")
    period = queries.periods(atlas, ANONYMOUS, ind.id)[-1]
    views = {lang: choropleth.map_view(atlas, ANONYMOUS, ind.id, period, "quantiles", 5, None, lang)
             for lang in ("de", "en")}
    assert "persons" in str(views["en"].hideout) and "Personen" not in str(views["en"].hideout)
    assert "Personen" in str(views["de"].hideout)
    doc = client.get("/api/v1/profile?area=0101&lang=en").get_json()
    row = next(r for r in doc["rows"] if r["indicator"] == "bev_gesamt")
    assert row["unit"] == "persons"
    csv_en = client.get(f"/api/v1/export?indicator=bev_gesamt&period={period}&format=csv&lang=en")
    csv_de = client.get(f"/api/v1/export?indicator=bev_gesamt&period={period}&format=csv&lang=de")
    assert csv_en.status_code == 200 and csv_de.status_code == 200
    assert "persons" in csv_en.get_data(as_text=True) and "Personen" not in csv_en.get_data(as_text=True)
    assert "Personen" in csv_de.get_data(as_text=True)


def test_indicator_list_api_names_both(client):
    item = next(i for i in client.get("/api/v1/indicators").get_json()["indicators"] if i["id"] == "bev_gesamt")
    assert (item["unit"], item["unit_en"]) == ("Personen", "persons")
