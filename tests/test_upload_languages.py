"""An upload's check report in the reader's language (issue 16): every problem, warning and note of a bad file
in English holds no German text and in German no English; the preview's numbers are in the reader's format;
a report stored before problems had catalogue keys still shows its text."""
from __future__ import annotations

import io
import json
import re
from types import SimpleNamespace

import pytest
from plotly.utils import PlotlyJSONEncoder

from atlas.i18n import STRINGS
from atlas.ingest.checks import check_upload
from atlas.messages import Message, problem_text
from atlas.services import queries, territory
from atlas.web.pages.upload import preview_view, report_view
from auth import Principal
from tests.conftest import writer
from tests.test_bad_input import (
    CORPUS,
    GOOD,
    HEADER,
    SOCIAL,
    _zip_without_workbook,
    csv,
)
from tests.test_languages import _data_words, _texts, foreign

ADMIN = Principal("admin", "admin", logged_in=True)
# A table with one problem of each kind a row can have (the header is the Sozialamt's usual extract).
BAD_ROWS = HEADER + "".join([
    GOOD,
    "9999;2024-Q4;sgb2_quote;;1;10\n",  # unknown key
    "Altstat;2024-Q4;sgb2_quote;;1;10\n",  # a name close to one
    ";2024-Q4;sgb2_quote;;1;10\n",  # no area
    "0102;2024-Q4;gibtsnicht;;1;10\n",  # unknown indicator
    "0102;2024-Q4;;;1;10\n",  # no indicator
    "0103;;sgb2_quote;;1;10\n",  # no period
    "0103;2024-Q4;sgb2_quote;;-1;10\n",  # negative count
    "0104;2024-Q4;sgb2_quote;;1;0\n",  # denominator 0
    "0105;2024-Q4;sgb2_quote;;20;10\n",  # numerator above denominator
    "0106;2024-Q4;sgb2_quote;150;;\n",  # percent out of range
    "0107;2024-Q4;sgb2_quote;;1.234,5x;10\n",  # not a number
    "0108;2024-Q4;sgb2_quote;;-;10\n",  # ambiguous dash
    "0109;2024-Q4;sgb2_quote;;1,234.5;10000\n",  # the other decimal convention
    "0101;2024-Q4;sgb2_quote;;300;3000\n",  # a duplicate of the first row
])


@pytest.fixture(scope="module")
def names(atlas):
    """Data (area names, sources, ...) and the boundary sets' labels ('Gebietsstand 2022'): proper names."""
    labels = set(queries.boundary_sets(atlas)["label"].astype(str))
    headers = set(HEADER.strip().split(";"))  # the file's own column names, listed when a mapping misses one
    return sorted(set(_data_words(atlas)) | labels | headers, key=len, reverse=True)


# What a message quotes is literal file content the reader types or finds in the file ('Ortsteil', 'nicht
# zuzuordnen', {"area": "Stadtteil-Nr"}), the same in both languages: taken out before the word check.
QUOTED = re.compile(r"'[^']*'|\{[^{}]*(\{[^{}]*\}[^{}]*)*\}|\[[^\]]*\]")


def _unquoted(texts: list[str]) -> list[str]:
    return [QUOTED.sub(" ", t) for t in texts]


def _visible(atlas, app, checked_report: dict, lang: str, file_name: str = "x.csv") -> list[str]:
    """The upload page's report of `checked_report` as a reader in `lang` sees it: its visible texts."""
    pending = SimpleNamespace(report=checked_report, file_name=file_name)
    query = "?lang=en" if lang == "en" else "?lang=de"
    with app.server.test_request_context("/upload" + query):
        tree = json.loads(json.dumps(report_view(atlas, pending), cls=PlotlyJSONEncoder))
    out: list[str] = []
    _texts(tree, out)
    return [s.strip() for s in out if isinstance(s, str) and s.strip() and s != file_name]


def _bad_files():
    for case, file_name, content, _words, fields in CORPUS:
        content = _zip_without_workbook() if content is None else content
        try:
            mapping = json.loads(fields["mapping"]) if fields and "mapping" in fields else None
        except ValueError:
            continue  # not JSON: refused by the API before any check (its own error)
        yield case, file_name, content, mapping, (fields or {}).get("sheet")
    yield "one problem of each kind per row", "zeilen.csv", csv(BAD_ROWS), None, None


def _report_of(atlas, file_name, content, mapping, sheet) -> dict:
    return check_upload(atlas, SOCIAL, file_name, content, mapping, sheet).report.to_json()


def test_the_row_file_finds_what_it_should(atlas):
    """The checks below are only as good as the problems the file raises: one per bad row, each keyed."""
    report = _report_of(atlas, "zeilen.csv", csv(BAD_ROWS), None, None)
    keys = {e.get("key") for e in report["errors"]}
    assert None not in keys
    assert {"chk_unknown_key", "chk_unknown_name_close", "chk_area_missing", "chk_unknown_indicator",
            "chk_indicator_missing", "chk_period_missing", "chk_negative_count", "chk_denominator_zero",
            "chk_num_above_den", "chk_percent_range", "chk_not_a_number_comma", "chk_ambiguous_dash",
            "chk_decimal_comma_file"} <= keys, keys


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_bad_files_report_speaks_the_readers_language(atlas, dash_app, names, lang):
    wrong, seen = {}, 0
    for case, file_name, content, mapping, sheet in _bad_files():
        report = _report_of(atlas, file_name, content, mapping, sheet)
        assert report["errors"], case
        assert all(e.get("key") in STRINGS for e in report["errors"]), (case, report["errors"])
        texts = _visible(atlas, dash_app, report, lang, file_name)
        messages = [problem_text(e, lang) for e in report["errors"]]
        assert all(m in texts for m in messages), case  # the page shows the rendered messages
        seen += len(messages)
        # the file's own cells and column names (or the mapping's field names) are data, like area names
        cells = {str(e[k]) for e in report["errors"] for k in ("value", "column") if e.get(k) is not None}
        if bad := foreign(_unquoted([t for t in texts if t not in cells]), lang, names):
            wrong[case] = bad
    assert seen > len(CORPUS)
    assert wrong == {}, f"{lang}: strings of the other language: {wrong}"


def _population_file(atlas) -> bytes:
    ind = "bev_gesamt"
    periods = sorted(queries.visible_indicators(atlas, ADMIN).set_index("id").loc[ind, "periods"])
    last = periods[-1]
    year, quarter = int(last[:4]), int(last[-1])
    nxt = f"{year + (quarter == 4)}-Q{quarter % 4 + 1}"
    stored = queries.cells(atlas, ADMIN, [(ind, last)])
    stored = stored[stored["status"] == "ok"].sort_values("area_id")
    base = set(queries.areas(atlas, territory.base_level(atlas), queries.set_for_period(atlas, nxt))["area_id"])
    stored = stored[stored["area_id"].isin(base)]
    rows, total = [], 0.0
    for i, r in enumerate(stored.itertuples(index=False)):
        if i == 1:
            continue  # left out: 'absent'
        value = round(r.value * (3 if i == 0 else 1.001))
        total += value
        rows.append(f"{r.area_id};{nxt};{ind};{value}")
    parent = next(iter(queries.areas(atlas, territory.level_ids(atlas)[1], queries.set_for_period(atlas, nxt))
                       ["name"]))
    rows.append(f"{parent} – nicht zuzuordnen;{nxt};{ind};7")
    rows.append(f"Stadt insgesamt;{nxt};{ind};{round(total) + 7}")
    return ("Ortsteil;Zeitraum;Indikator;Wert\n" + "\n".join(rows) + "\n").encode()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_warnings_and_notes_speak_the_readers_language(atlas, dash_app, names, lang):
    report = check_upload(atlas, ADMIN, "bev.csv", _population_file(atlas)).report.to_json()
    assert report["ok"], report["errors"][:3]
    keys = {e["key"] for e in report["warnings"] + report["notes"]}
    assert {"chk_jump", "chk_outlier", "chk_areas_absent", "chk_note_total", "chk_note_unassigned"} <= keys, keys
    texts = _visible(atlas, dash_app, report, lang, "bev.csv")
    for entry in report["warnings"] + report["notes"]:
        assert problem_text(entry, lang) in texts
    numbers = " ".join(problem_text(e, lang) for e in report["warnings"])
    # thousands in the reader's format: 12.345 in German, 12,345 in English
    assert re.search(r"\d\.\d{3}\b" if lang == "de" else r"\d,\d{3}\b", numbers), numbers
    assert not re.search(r"\d,\d{3}\b" if lang == "de" else r"\d\.\d{3}\b", numbers), numbers
    assert foreign(_unquoted(texts), lang, names) == []


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_upload_api_answers_in_the_callers_language(scratch_app, lang):
    client, token = writer(scratch_app, "sozialamt")
    body = client.post(f"/api/v1/uploads?lang={lang}", data={"file": (io.BytesIO(csv(BAD_ROWS)), "x.csv")},
                       content_type="multipart/form-data", headers={"X-CSRFToken": token}).get_json()
    assert body["errors"] and all(set(e) == {"row", "column", "value", "message"} for e in body["errors"])
    negative = next(e["message"] for e in body["errors"] if e["row"] == 9)
    assert negative == STRINGS["chk_negative_count"][lang == "en"]
    again = client.get(f"/api/v1/uploads/{body['upload_id']}?lang={lang}").get_json()
    assert again["errors"] == body["errors"]


def test_a_report_stored_before_keys_still_shows(atlas, dash_app):
    """Entries of an older pending upload have only their German text: shown as they are, in both languages."""
    old = {"ok": False, "errors": [{"row": 3, "column": "Wert", "value": "x", "message": "keine Zahl (alt)"}],
           "warnings": [{"row": 4, "column": None, "value": None, "message": "Ausreißer (alt)"}], "rows": 0}
    for lang in ("de", "en"):
        texts = _visible(atlas, dash_app, old, lang)
        assert "keine Zahl (alt)" in texts and "Ausreißer (alt)" in texts
    # a key the catalogue no longer has, or parameters that no longer fit it: the stored text too
    assert problem_text({"key": "chk_gone", "message": "alt"}, "en") == "alt"
    assert problem_text({"key": "chk_row", "params": {}, "message": "alt"}, "en") == "alt"


def test_messages_render_their_parameters_per_language():
    m = Message("chk_too_many_rows", limit=1_000_000)
    assert m == STRINGS["chk_too_many_rows"][0].format(limit="1.000.000")
    assert m.text("en") == STRINGS["chk_too_many_rows"][1].format(limit="1,000,000")
    nested = Message("chk_with_rows", message=Message("chk_negative_count"), rows=Message("chk_rows", rows="3, 4"))
    assert nested.text("en") == f"{STRINGS['chk_negative_count'][1]} (rows 3, 4)"
    assert problem_text(nested.to_json(), "en") == nested.text("en")  # read back from a stored report


@pytest.mark.parametrize("lang", ["de", "en"])
def test_the_preview_numbers_are_in_the_readers_format(atlas, scratch_app, scratch_atlas, lang):
    """A checked upload's preview (before, after, change; the counts) in 1.234,5 or 1,234.5."""
    client, token = writer(scratch_app, "admin")
    body = client.post("/api/v1/uploads", data={"file": (io.BytesIO(_population_file(scratch_atlas)), "bev.csv")},
                       content_type="multipart/form-data", headers={"X-CSRFToken": token}).get_json()
    assert body["ok"], body["errors"][:3]
    pending = SimpleNamespace(upload_id=body["upload_id"], report=body, file_name="bev.csv")
    with scratch_app.server.test_request_context(f"/upload?lang={lang}"):
        tree = json.loads(json.dumps(preview_view(scratch_atlas, pending), cls=PlotlyJSONEncoder))
    texts: list[str] = []
    _texts(tree, texts)
    cells = " ".join(texts)
    thousands_de, thousands_en = re.findall(r"\d\.\d{3}\b", cells), re.findall(r"\d,\d{3}\b", cells)
    mine, other = (thousands_de, thousands_en) if lang == "de" else (thousands_en, thousands_de)
    assert mine and not other, cells[:500]


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_refused_boundary_file_is_explained_in_the_callers_language(scratch_app, lang):
    client, token = writer(scratch_app, "admin")
    form = {"valid_from": "2030-01-01", "key_col": "id", "name_col": "name", "set_id": "gs2030", "label": "2030"}
    answers = []
    for name, content in (("grenzen.txt", b"id;name\n"), ("grenzen.geojson", b"{kaputt")):
        resp = client.post(f"/api/v1/boundaries?lang={lang}", data={**form, "file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data", headers={"X-CSRFToken": token})
        assert resp.status_code == 422
        answers.append(resp.get_json()["errors"][0]["message"])
    assert answers[0] == STRINGS["chk_b_format"][lang == "en"].format(suffix=".txt")
    assert answers[1].startswith(STRINGS["chk_b_unreadable"][lang == "en"].split("{")[0])


def test_boundary_messages_name_levels_and_numbers_per_language():
    from atlas.ingest.boundary_upload import level_name, overlap_message
    from atlas.services.territory import CITY_LEVELS
    m = overlap_message("west", "ost", 500_000.4)
    assert m == "west und ost überlappen sich auf 500.000 m²" and m.text("en") == "west and ost overlap on 500,000 m²"
    level = CITY_LEVELS[0]
    keys = Message("chk_b_level_keys", level=level_name(level))
    assert keys == f"{level.label('de')}-Schlüssel" and keys.text("en") == f"{level.label('en')} keys"


def _defective_areas() -> bytes:
    """Four areas: two share a key, one crosses itself (a bow tie), one is a point."""
    def square(x: float) -> list:
        return [[[x, 52.0], [x + 0.01, 52.0], [x + 0.01, 52.01], [x, 52.01], [x, 52.0]]]
    features = [
        {"type": "Feature", "properties": {"id": "a1", "name": "Nordfeld", "bez": "01"},
         "geometry": {"type": "Polygon", "coordinates": square(13.0)}},
        {"type": "Feature", "properties": {"id": "a1", "name": "Südfeld", "bez": "01"},
         "geometry": {"type": "Polygon", "coordinates": square(13.1)}},
        {"type": "Feature", "properties": {"id": "b2", "name": "Schleife", "bez": "01"},
         "geometry": {"type": "Polygon", "coordinates": [[[13.2, 52.0], [13.21, 52.01], [13.21, 52.0],
                                                          [13.2, 52.01], [13.2, 52.0]]]}},
        {"type": "Feature", "properties": {"id": "c3", "name": "Punkt", "bez": "01"},
         "geometry": {"type": "Point", "coordinates": [13.3, 52.0]}},
    ]
    return json.dumps({"type": "FeatureCollection", "features": features}).encode()


@pytest.mark.parametrize("lang", ["de", "en"])
def test_defective_areas_and_missing_fields_are_explained_in_the_callers_language(scratch_app, lang):
    """Area defects (services), a missing file and a bad date (the API) all speak the caller's language."""
    client, token = writer(scratch_app, "admin")
    form = {"valid_from": "2030-01-01", "key_col": "id", "name_col": "name", "set_id": "gs2030", "label": "2030",
            "parent_col": "bez", "parent_names": json.dumps({"01": "Mitte"})}

    def refused(data: dict) -> list[str]:
        resp = client.post(f"/api/v1/boundaries?lang={lang}", data=data, content_type="multipart/form-data",
                           headers={"X-CSRFToken": token})
        assert resp.status_code == 422
        return [e["message"] for e in resp.get_json()["errors"]]

    defects = refused({**form, "file": (io.BytesIO(_defective_areas()), "grenzen.geojson")})
    assert len(defects) == 3, defects  # the bow tie, the point, the key used twice: each named
    en = lang == "en"
    assert any(m.startswith(("Feature 3 (b2 Schleife): invalid geometry" if en else
                             "Fläche 3 (b2 Schleife): ungültige Geometrie")) for m in defects), defects
    assert ("Feature 4 (c3 Punkt): expected a polygon, got Point" if en else
            "Fläche 4 (c3 Punkt): erwartet ein Polygon, gefunden Point") in defects
    assert any(m.startswith("Key 'a1' appears 2 times" if en else "Schlüssel 'a1' kommt 2-mal vor") for m in defects)
    missing = refused(form)
    assert missing == [STRINGS["api_boundary_file_missing"][en]]
    bad_day = refused({**form, "valid_from": "1.1.2030", "file": (io.BytesIO(_defective_areas()), "g.geojson")})
    assert bad_day == [STRINGS["api_valid_from"][en]]
    names = ["Nordfeld", "Südfeld", "Schleife", "Punkt", "Point", "Self-intersection", "'file'", "'file_<ebene>'",
             "'file_<level>'", "valid_from"]
    assert foreign(defects + missing + bad_day, lang, names) == []


@pytest.mark.parametrize("lang", ["de", "en"])
def test_a_bad_new_indicator_is_explained_in_the_readers_language(atlas, lang):
    """A definition sent with an upload is held to the catalogue's rules; the reason is said in the reader's
    language, nested inside the upload's own message."""
    bad = [{"id": "neu_x", "domain": "gibtsnicht", "title_de": "Neu", "title_en": "New"},
           {"id": "Neu X", "domain": atlas.domains[0].id}]
    report = check_upload(atlas, ADMIN, "x.csv", csv(HEADER + GOOD), definitions=bad).report.to_json()
    entries = [e for e in report["errors"] if e.get("key") == "chk_new_invalid"]
    assert len(entries) == 2, report["errors"]
    texts = [problem_text(e, lang) for e in entries]
    if lang == "en":
        assert texts[0].startswith("new indicator 1: Indicator 'neu_x': domain 'gibtsnicht', expected one of:")
        assert texts[1].startswith("new indicator 2: upload: indicator 'Neu X': missing required key(s)")
    else:
        assert texts[0].startswith("neuer Indikator 1: Indikator 'neu_x': Themenfeld 'gibtsnicht' gibt es nicht")
        assert texts[1].startswith("neuer Indikator 2: upload: Indikator 'Neu X': Pflichtangabe(n)")
    names = ["neu_x", "gibtsnicht", "Neu X", "upload"] + [d.id for d in atlas.domains]
    assert foreign(texts, lang, names) == []
