"""A corpus of broken and hostile uploads: each gets a precise error, the app keeps serving,
and the store is byte for byte what it was.
"""
from __future__ import annotations

import hashlib
import io
import json
import random
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from auth import Principal
from tests.conftest import writer

SOCIAL = Principal("sozialamt", "steward", frozenset({"soziales"}), logged_in=True)

HEADER = "Ortsteil;Zeitraum;Indikator;Wert;Zähler;Nenner\n"
GOOD = "0101;2024-Q4;sgb2_quote;;300;3000\n"


def xlsx(rows: list[list], sheet: str = "Daten") -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def zip_bomb() -> bytes:
    """A workbook-shaped zip whose sheet unpacks ~1,000 times larger than it is."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024))
    return buf.getvalue()


def csv(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


GOOD_XLSX = [["Ortsteil", "Zeitraum", "Indikator", "Zähler", "Nenner"], ["0101", "2024-Q4", "sgb2_quote", 300, 3000]]

# (case, file name, content, expected words in the error messages, form fields)
CORPUS = [
    ("empty file", "leer.csv", b"", "leer", None),
    ("header only", "kopf.csv", csv(HEADER), "keine Datenzeilen", None),
    ("binary garbage", "zufall.csv", random.Random(1).randbytes(4096), "Binär", None),
    ("png renamed to csv", "bild.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(100), "Binär", None),
    ("utf-16 text", "utf16.csv", (HEADER + GOOD).encode("utf-16"), "UTF-16", None),
    ("invalid cp1252 bytes", "kaputt.csv", b"Ortsteil;Jahr\n\x81\x8d\x8f;2024\n", "Zeichenkodierung", None),
    ("control characters", "steuer.csv", csv(HEADER + "0101\x07;2024-Q4;sgb2_quote;;1;2\n"), "Steuerzeichen", None),
    ("bom in the middle", "zwei.csv", csv("\ufeff" + HEADER + GOOD + "\ufeff" + HEADER + GOOD), "Byte-Order-Mark",
     None),
    ("duplicate headers", "doppelt.csv", csv("Ortsteil;Zeitraum;Indikator;Wert;Wert\n0101;2024;bev_u6;1;2\n"),
     "doppelt", None),
    ("blank header line", "leerzeile.csv", csv("\n" + HEADER + GOOD), "Spaltenköpfe", None),
    ("single column", "eins.csv", csv("Ortsteil\n0101\n"), "Nur eine Spalte", None),
    ("html page", "seite.csv", csv("<html><body><h1>Login</h1></body></html>\n<p>x</p>\n"), "HTML", None),
    ("json document", "daten.csv", csv('[\n{"Ortsteil": "0101", "Wert": 1},\n{"Ortsteil": "0102", "Wert": 2}\n]\n'),
     "JSON", None),
    ("row with more fields than the header", "zuviel.csv", csv(HEADER + GOOD + "0102;2024-Q4;sgb2_quote;;1;10;99\n"),
     "Zeile 3 hat 7 Felder, die Kopfzeile 6", None),
    ("column without header", "ohne.csv", csv(HEADER.strip() + ";\n" + GOOD.strip() + ";99\n"), "ohne Überschrift",
     None),
    ("field larger than the csv limit", "riesig.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;\"" + "9" * 200_000
                                                            + "\";1;2\n"), "CSV nicht lesbar", None),
    ("no area column", "ohnegebiet.csv", csv("Zeitraum;Indikator;Wert\n2024;bev_u6;1\n"), "Gebietsspalte", None),
    ("no period column", "ohnezeit.csv", csv("Ortsteil;Indikator;Wert\n0101;bev_u6;1\n"), "Zeitraum", None),
    ("unknown indicator", "unbekannt.csv", csv(HEADER + "0101;2024;gibt_es_nicht;5;;\n"), "unbekannter Indikator",
     None),
    ("unknown area key", "gebiet.csv", csv(HEADER + "9999;2024-Q4;sgb2_quote;;1;10\n"), "unbekanntes Gebiet", None),
    ("text where a number belongs", "text.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;;viele;10\n"), "keine Zahl",
     None),
    ("excel error value", "fehler.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;#DIV/0!;;\n"), "keine Zahl", None),
    ("csv injection in a value", "inject.csv",
     csv(HEADER + '0101;2024-Q4;sgb2_quote;"=HYPERLINK(""http://evil.example"",""x"")";;\n'), "keine Zahl", None),
    ("csv injection in a key", "inject2.csv", csv(HEADER + "=cmd|' /C calc'!A0;2024-Q4;sgb2_quote;;1;10\n"),
     "unbekanntes Gebiet", None),
    ("mixed decimal separators", "gemischt.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;12,5;;\n"
                                                     "0102;2024-Q4;sgb2_quote;13.5;;\n"), "Dezimaltrennzeichen", None),
    ("ambiguous dash", "strich.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;-;;\n"), "mehrdeutig", None),
    ("infinity", "inf.csv", csv("Ortsteil,Zeitraum,Indikator,Wert\n0101,2024-Q4,sgb2_quote,inf\n"), "keine Zahl",
     None),
    ("numerator above denominator", "zaehler.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;;3000;300\n"),
     "größer als Nenner", None),
    ("percentage above 100", "prozent.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;140;;\n"), "außerhalb 0–100",
     None),
    ("negative count", "negativ.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;;-3;100\n"), "negative Anzahl", None),
    ("zero denominator", "null.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;;0;0\n"), "Nenner ist 0", None),
    ("value contradicts counts", "widerspruch.csv", csv(HEADER + "0101;2024-Q4;sgb2_quote;50;300;3000\n"),
     "passt nicht zu Zähler", None),
    ("period outside every boundary set", "alt.csv", csv(HEADER + "0101;1990-Q4;sgb2_quote;;1;10\n"),
     "keinen Gebietsstand", None),
    ("unreadable period", "sommer.csv", csv(HEADER + "0101;Sommer 2024;sgb2_quote;;1;10\n"), "nicht lesbar", None),
    ("period of the wrong periodicity", "perio.csv", csv(HEADER + "0101;2024;sgb2_quote;;1;10\n"),
     "Periodizität", None),
    ("stichtag that ends no period", "stichtag.csv", csv(HEADER + "0101;15.08.2024;sgb2_quote;;1;10\n"),
     "kein Monats-, Quartals- oder Jahresende", None),
    ("month-end stichtag for a quarterly indicator", "monat.csv", csv(HEADER + "0101;31.08.2024;sgb2_quote;;1;10\n"),
     "Periodizität", None),
    ("duplicate rows", "zweimal.csv", csv(HEADER + GOOD + GOOD), "doppelte Zeile", None),
    ("another department's indicator", "fremd.csv", csv(HEADER + "0101;2024;abgang_ohne;5;;\n"), "Fachamt 'schule'",
     None),
    ("another department's restricted indicator", "hze.csv", csv(HEADER + "0101;2024;hze_quote;5;;\n"),
     "unbekannter Indikator", None),
    ("path traversal in the file name", "../../../etc/cron.d/evil.csv", csv(HEADER + GOOD), "Pfadangaben", None),
    ("old binary excel", "alt.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "nicht gelesen", None),
    ("zip that is no workbook", "archiv.xlsx", None, "keine Excel-Arbeitsmappe", None),
    ("truncated xlsx", "halb.xlsx", xlsx(GOOD_XLSX)[:1500], "beschädigt", None),
    ("xlsx zip bomb", "bombe.xlsx", zip_bomb(), "entpackt sich", None),
    ("xlsx with a formula", "formel.xlsx", xlsx(GOOD_XLSX[:1] + [["0101", "2024-Q4", "sgb2_quote", "=1+1", 3000]]),
     "Formel", None),
    ("xlsx with a hyperlink formula", "link.xlsx",
     xlsx(GOOD_XLSX[:1] + [['=HYPERLINK("http://evil.example","x")', "2024-Q4", "sgb2_quote", 1, 10]]), "Formel",
     None),
    ("xlsx sheet that does not exist", "blatt.xlsx", xlsx(GOOD_XLSX), "nicht gefunden", {"sheet": "Tabelle9"}),
    ("xlsx with an empty sheet", "leer.xlsx", xlsx([]), "leer", None),
    ("mapping that is not json", "mapping.csv", csv(HEADER + GOOD), "JSON", {"mapping": "{kaputt"}),
    ("mapping to a missing column", "mapping2.csv", csv(HEADER + GOOD), "gibt es nicht",
     {"mapping": '{"area": "Stadtteil"}'}),
]


def _zip_without_workbook() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "nothing here")
    return buf.getvalue()


def store_fingerprint(data_dir: Path) -> dict[str, str]:
    """Every file of the store (manifest and Parquet), by content; not the pending uploads, the audit
    log or the session registry, which a sign-in and a refused upload rightly write."""
    return {str(p.relative_to(data_dir)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(data_dir.rglob("*")) if p.is_file()
            and p.parts[len(data_dir.parts)] not in ("uploads", "sessions", "tmp")
            and p.name != "audit.jsonl" and not p.name.startswith(".write")}


def test_the_corpus_is_big_enough():
    assert len(CORPUS) + 1 >= 40  # + the 200 MB file below


@pytest.mark.parametrize("case,name,content,expected,fields", CORPUS, ids=[c[0] for c in CORPUS])
def test_broken_file_gets_a_precise_error_and_changes_nothing(scratch_app, scratch_atlas, case, name, content,
                                                             expected, fields):
    content = _zip_without_workbook() if content is None else content
    before = store_fingerprint(scratch_atlas.store.data_dir)
    client, token = writer(scratch_app, "sozialamt")
    data = {"file": (io.BytesIO(content), name), **(fields or {})}
    resp = client.post("/api/v1/uploads", data=data, content_type="multipart/form-data",
                       headers={"X-CSRFToken": token})
    assert resp.status_code in (400, 422), (case, resp.status_code)
    body = resp.get_json()
    messages = [e["message"] for e in body.get("errors", [])] or [body.get("message", "")]
    assert any(expected in m for m in messages), (case, messages)
    if body.get("upload_id"):  # a refused upload can never be confirmed
        assert client.post(f"/api/v1/uploads/{body['upload_id']}/confirm",
                           headers={"X-CSRFToken": token}).status_code == 409
    assert store_fingerprint(scratch_atlas.store.data_dir) == before
    assert client.get("/healthz").get_json()["status"] == "ok"
    assert not any(Path("/etc/cron.d").glob("evil*"))


ADVICE = re.compile(r"\b(Sie|bitte|erwartet)\b|z\. B\.")  # an instruction, or what the cell must look like


CHECKED = [c for c in CORPUS if c[0] != "mapping that is not json"]  # that one the route refuses itself


@pytest.mark.parametrize("case,name,content,expected,fields", CHECKED, ids=[c[0] for c in CHECKED])
def test_every_message_says_what_to_do(atlas, case, name, content, expected, fields):
    """Not only what is wrong: each problem tells the steward what to write or do instead."""
    from atlas.ingest.checks import check_upload
    fields = fields or {}
    mapping = json.loads(fields["mapping"]) if "mapping" in fields else None
    content = _zip_without_workbook() if content is None else content
    report = check_upload(atlas, SOCIAL, name, content, mapping, fields.get("sheet")).report
    assert report.errors, case
    for e in report.errors:
        assert ADVICE.search(e["message"]), (case, e["message"])


def test_a_200_mb_file_is_refused_before_it_is_read(scratch_app, scratch_atlas):
    before = store_fingerprint(scratch_atlas.store.data_dir)
    client, token = writer(scratch_app, "sozialamt")
    huge = HEADER.encode() + b"0101;2024-Q4;sgb2_quote;;1;10\n" * (200 * 1024 * 1024 // 30)
    resp = client.post("/api/v1/uploads", data={"file": (io.BytesIO(huge), "gross.csv")},
                       content_type="multipart/form-data", headers={"X-CSRFToken": token})
    assert resp.status_code == 413 and "größer als 50 MB" in resp.get_json()["message"]
    assert store_fingerprint(scratch_atlas.store.data_dir) == before
    assert client.get("/healthz").status_code == 200


def test_row_problems_name_row_column_value_and_expectation(scratch_app):
    client, token = writer(scratch_app, "sozialamt")
    body = client.post("/api/v1/uploads", data={"file": (io.BytesIO(csv(HEADER + GOOD + "0102;2024-Q4;sgb2_quote;;"
                                                                          "zwölf;10\n")), "x.csv")},
                       content_type="multipart/form-data", headers={"X-CSRFToken": token}).get_json()
    assert body["errors"] == [{"row": 3, "column": "Zähler", "value": "zwölf",
                               "message": "keine Zahl; erwartet 1234,5 oder 1.234,5. Für geheim gehaltene Werte "
                                          "schreiben Sie '.', für fehlende lassen Sie die Zelle leer."}]
