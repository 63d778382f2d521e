"""One drawing spec for the time series: the explorer's figure and the chart picture show the same thing.

The unit tests build a small series by hand; the parity test asks the real
app for the SVG picture and the explorer's figure of an Ortsteil created by
the 2022 split, and checks both against the spec from atlas/charts.py.
"""
from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from atlas import charts
from atlas.catalog import Indicator
from atlas.formatting import GAP_WORDS, gap_word
from tests.dash_requests import call, find_output

IND = Indicator(id="quote", title_de="Quote", title_en="Rate", definition_de="", definition_en="", domain="d",
                unit="%", department="dep", visibility="public", polarity="neutral", decimals=1,
                aggregation="ratio", periodicity="year", source="", contact="", licence="")
CITY = [("ortsteil", "Ortsteil"), ("stadtbezirk", "Stadtbezirk"), ("stadt", "Stadt")]
SETS = pd.DataFrame({"set_id": ["old", "new"], "label": ["Gebietsstand 2012", "Gebietsstand 2022"],
                     "note": ["", "Altort geteilt in Neuort und Nachbarort"]})


def set_of(period: str) -> str:
    return "old" if period < "2022" else "new"


def frame(rows: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["period", "role", "area_id", "name", "value", "status"])


SERIES = frame([
    ("2020", "predecessor", "01", "Altort", 10.0, "ok"), ("2021", "predecessor", "01", "Altort", 11.0, "ok"),
    ("2022", "area", "03", "Neuort", 12.5, "ok"), ("2023", "area", "03", "Neuort", None, "suppressed"),
    ("2020", "stadtbezirk", "A", "Mitte", 20.0, "ok"), ("2022", "stadtbezirk", "A", "Mitte", 21.0, "ok"),
    ("2023", "stadtbezirk", "A", "Mitte", 22.0, "ok"),
    ("2020", "stadt", None, "Auenstadt", None, "missing"), ("2023", "stadt", None, "Auenstadt", None, "missing"),
])


def test_lines_in_drawing_order_with_labels_styles_and_gaps():
    spec = charts.timeseries_spec(SERIES, IND, set_of, SETS, CITY)
    assert spec.periods == ("2020", "2021", "2022", "2023")
    # The city has no number at all: no line, no legend entry.
    assert [line.role for line in spec.lines] == ["predecessor", "area", "stadtbezirk"]
    assert [line.label for line in spec.lines] == ["Vorgänger: Altort", "Neuort", "Stadtbezirk Mitte"]
    assert [(line.color, line.dash, line.width) for line in spec.lines] == [
        charts.PREDECESSOR_STYLE, charts.AREA_STYLE, charts.ANCESTOR_STYLES[0]]
    assert all(line.dash in charts.DASHES for line in spec.lines)
    area = spec.lines[1]
    assert area.values == (None, None, 12.5, None)
    assert area.statuses == ("missing", "missing", "ok", "suppressed")
    assert area.texts == (gap_word("missing"), gap_word("missing"), "12,5", gap_word("suppressed"))
    district = spec.lines[2]
    assert district.values == (20.0, None, 21.0, 22.0) and district.statuses[1] == "missing"
    assert spec.title == "Quote – Neuort" and spec.unit == "%"


def test_boundary_change_is_marked_between_the_sets():
    spec = charts.timeseries_spec(SERIES, IND, set_of, SETS, CITY)
    assert spec.markers == (charts.BoundaryMarker("2022", 1.5, "Gebietsstand 2022",
                                                  "Altort geteilt in Neuort und Nachbarort"),)
    same_set = charts.timeseries_spec(SERIES, IND, lambda p: "new", SETS, CITY)
    assert same_set.markers == ()


EN = [("ortsteil", "neighbourhood"), ("stadtbezirk", "borough"), ("stadt", "city")]


def test_english_labels_and_gap_words():
    spec = charts.timeseries_spec(SERIES, IND, set_of, SETS, EN, "en")
    assert [line.label for line in spec.lines] == ["Predecessor: Altort", "Neuort", "Borough Mitte"]
    assert spec.lines[1].texts[-1] == GAP_WORDS["suppressed"][1]
    assert spec.markers[0].label == "Boundaries 2022"
    assert spec.title == "Rate – Neuort" and spec.period_labels == ("2020", "2021", "2022", "2023")
    for de, en in GAP_WORDS.values():
        assert de in charts.timeseries_spec(SERIES, IND, set_of, SETS, CITY).gaps_note and en in spec.gaps_note


def test_levels_are_data_and_each_predecessor_has_its_own_line():
    """Berlin-like levels: ancestors nearest first, the territory last; a merged area's two predecessors."""
    levels = [("planungsraum", "Planungsraum"), ("bezirksregion", "Bezirksregion"), ("bezirk", "Bezirk"),
              ("stadt", "Stadt")]
    ts = frame([
        ("2020", "predecessor", "02", "Westteil", 5.0, "ok"), ("2020", "predecessor", "01", "Ostteil", 4.0, "ok"),
        ("2022", "area", "03", "Neuort", 4.5, "ok"),
        ("2020", "stadt", None, "Berlin", 9.0, "ok"), ("2022", "bezirk", "B", "Mitte", 7.0, "ok"),
        ("2022", "bezirksregion", "R", "Tiergarten", 6.0, "ok"),
    ])
    spec = charts.timeseries_spec(ts, IND, set_of, SETS, levels)
    assert [line.label for line in spec.lines] == ["Vorgänger: Ostteil", "Vorgänger: Westteil", "Neuort",
                                                   "Bezirksregion Tiergarten", "Bezirk Mitte", "Berlin"]
    assert [line.values for line in spec.lines[:2]] == [(4.0, None), (5.0, None)]
    assert [line.color for line in spec.lines[3:]] == [charts.ANCESTOR_STYLES[0][0], charts.ANCESTOR_STYLES[1][0],
                                                       charts.TOP_STYLE[0]]


def test_no_series_no_spec_and_a_title_without_area_name():
    assert charts.timeseries_spec(None, IND, set_of, SETS, CITY) is None
    assert charts.timeseries_spec(frame([]), IND, set_of, SETS, CITY) is None
    without_area = SERIES[SERIES["role"] != "area"]
    assert charts.timeseries_spec(without_area, IND, set_of, SETS, CITY, area_id="03").title == "Quote – 03"


# ------------------------------------------------------------------ the same picture everywhere
def svg_texts(svg: str) -> list[str]:
    """Every text element of a matplotlib SVG (text stays text: svg.fonttype none)."""
    return [html.unescape(t).strip() for t in re.findall(r"<text[^>]*>([^<]*)</text>", svg)]


@pytest.fixture()
def split_area(atlas) -> str:
    """An Ortsteil created by the demo's 2022 split (it has a predecessor)."""
    from atlas.services import queries
    areas = queries.areas(atlas, "ortsteil", queries.current_set(atlas))
    return areas.loc[areas["predecessors"].fillna("") != "", "area_id"].iloc[0]


def test_chart_picture_and_explorer_draw_the_same_spec(client, dash_app, atlas, split_area):
    from atlas.demo import SPLIT_NAME
    from atlas.export import pictures
    from auth import ANONYMOUS

    spec = pictures.chart_spec(atlas, ANONYMOUS, "sgb2_quote", split_area, "de")
    labels = [line.label for line in spec.lines]
    assert f"Vorgänger: {SPLIT_NAME}" in labels and "Auenstadt" in labels
    assert [m.label for m in spec.markers] == ["Gebietsstand 2022"] and spec.markers[0].period.startswith("2022")

    resp = client.get(f"/api/v1/chart?indicator=sgb2_quote&area={split_area}&format=svg")
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    texts = svg_texts(resp.get_data(as_text=True))
    assert "Gebietsstand 2022" in texts  # the marker itself, not only the note under the chart
    assert all(label in texts for label in labels), (labels, texts)
    assert spec.gaps_note.rstrip(".") in " ".join(texts)

    key = find_output(dash_app, "ex-timeseries", "figure")
    status, body = call(client, dash_app, key, {"ex-indicator.value": "sgb2_quote", "ex-selected.data": split_area,
                                                "ex-period.value": 5, "ex-lang.data": "de"})
    assert status == 200
    figure = body["response"]["ex-timeseries"]["figure"]
    assert [trace["name"] for trace in figure["data"]] == labels
    assert [a["text"] for a in figure["layout"]["annotations"]] == [m.label for m in spec.markers]
    marker_lines = [s["x0"] for s in figure["layout"]["shapes"] if s["line"]["color"] == charts.MARKER_COLOR]
    assert marker_lines == [m.x for m in spec.markers]
