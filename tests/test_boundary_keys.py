"""Boundary uploads whose keys lost their leading zeros (a number column in Excel or a GIS join).

Berlin's Prognoseräume 2021 as a file with numeric keys: 0110 became 110,
1110 stayed 1110. Cut at two characters, '110' would put an area of Bezirk
01 into Bezirk 11 and merge the two. The upload restores the zeros to the
declared (or longest) length and says so, or refuses with a precise
message; it never merges two Stadtbezirke.
"""
from __future__ import annotations

import json
import os
from datetime import date

import pytest

from atlas.catalog import catalog_frame, load_catalog
from atlas.config import PROJECT_ROOT
from atlas.ingest.boundary_upload import (
    BoundaryUpload,
    init_empty_store,
    store_uploaded_set,
)
from atlas.services.boundaries import BoundaryError
from atlas.store.store import Store
from auth import Principal
from tests.conftest import REALDATA

PGR = REALDATA / "berlin_lor_prognoseraeume_2021.geojson"
pytestmark = pytest.mark.skipif(not PGR.exists() and os.environ.get("CI") != "true",
                                reason="../shared/realdata is not present")
ADMIN = Principal("admin", "admin", logged_in=True)
BEZIRK_NAMES = {f"{i:02d}": f"Bezirk {i}" for i in range(1, 13)}


def numeric_keys(bezirk_column: bool = False) -> tuple[bytes, dict[str, str]]:
    """The real file with its keys (and optionally a Bezirk column) stored as numbers; and the true parents."""
    doc = json.loads(PGR.read_text(encoding="utf-8"))
    truth = {}
    for f in doc["features"]:
        key = f["properties"]["id"]
        truth[key] = key[:2]
        f["properties"]["id"] = int(key)
        if bezirk_column:
            f["properties"]["bezirk"] = int(key[:2])
    return json.dumps(doc).encode("utf-8"), truth


def upload(tmp_path, content: bytes, **spec) -> tuple[dict, Store]:
    domains, indicators = load_catalog(PROJECT_ROOT / "layers")
    store = Store(tmp_path / "berlin", catalog_frame(indicators, domains))
    init_empty_store(store, "Berlin", "11000000")
    result = store_uploaded_set(store, ADMIN, content, "pgr.geojson",
                                BoundaryUpload(key_col="id", name_col="name", city_key="11000000",
                                               city_name="Berlin", **spec),
                                date(2021, 1, 1), "lor2021", "LOR 2021")
    return result, store


@pytest.mark.parametrize("spec", [{"parent_key_length": 2}, {"parent_key_length": 2, "key_length": 4},
                                  {"parent_col": "bezirk"}], ids=["longest", "declared", "parent column"])
def test_lost_leading_zeros_are_restored_and_no_two_bezirke_are_merged(tmp_path, spec):
    content, truth = numeric_keys(bezirk_column="parent_col" in spec)
    result, store = upload(tmp_path, content, parent_names=BEZIRK_NAMES, **spec)
    areas = store.read_table("areas")
    base = areas[areas["level"] == "ortsteil"]
    assert dict(zip(base["area_id"], base["parent_id"])) == truth  # '0110' under '01', never under '11'
    assert result["districts"] == 12 and result["areas"] == 58
    assert sorted(areas.loc[areas["level"] == "stadtbezirk", "area_id"]) == sorted(BEZIRK_NAMES)
    assert any("führende Nullen ergänzt auf 4 Stellen" in n and "110 → 0110" in n for n in result["notes"]), \
        result["notes"]


def test_keys_longer_than_declared_are_refused_with_the_keys_named(tmp_path):
    content, _ = numeric_keys()
    with pytest.raises(BoundaryError) as exc:
        upload(tmp_path, content, parent_key_length=2, key_length=3)
    assert "länger als die angegebene Länge 3" in exc.value.problems[0] and "'1010'" in exc.value.problems[0]


def test_a_key_that_would_collide_once_padded_is_refused_not_merged(tmp_path):
    doc = json.loads(PGR.read_text(encoding="utf-8"))
    second = next(f for f in doc["features"] if f["properties"]["id"] == "0120")
    second["properties"]["id"] = "110"  # a number beside the text key '0110'
    with pytest.raises(BoundaryError) as exc:
        upload(tmp_path, json.dumps(doc).encode("utf-8"), parent_key_length=2)
    assert any("wird mit führenden Nullen zu '0110', den es in der Datei schon gibt" in p
               for p in exc.value.problems), exc.value.problems


def test_parents_that_lost_their_zero_without_a_declared_length_are_refused(tmp_path):
    """Only Bezirke 1-9 (all keys three digits): nothing to compare, but parent_names tells."""
    doc = json.loads(PGR.read_text(encoding="utf-8"))
    doc["features"] = [f for f in doc["features"] if f["properties"]["id"] < "10"]
    for f in doc["features"]:
        f["properties"]["id"] = int(f["properties"]["id"])
    with pytest.raises(BoundaryError) as exc:
        upload(tmp_path, json.dumps(doc).encode("utf-8"), parent_key_length=2, parent_names=BEZIRK_NAMES)
    assert "key_length" in exc.value.problems[0]
    result, _ = upload(tmp_path / "again", json.dumps(doc).encode("utf-8"), parent_key_length=2, key_length=4,
                       parent_names=BEZIRK_NAMES)
    assert result["districts"] == 9
