"""Real Berlin crime figures with their "nicht zuzuordnen" rows, through the upload check.

The Kriminalitätsatlas by Prognoseraum (LOR 2021 units) has, per year, 58
Prognoseräume and 12 rows `XX99` = "Bezirk XX, nicht zuzuordnen". Those rows
must become the unassigned cells of their Bezirk (never refused as unknown
areas, never drawn), so that each Bezirk's total equals the publisher's
Bezirk table exactly.
"""
from __future__ import annotations

import dataclasses
import os
from datetime import date

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from atlas.catalog import catalog_frame, load_catalog
from atlas.config import PROJECT_ROOT, load_settings
from atlas.ingest import checks as ingest
from atlas.services.boundaries import (
    BoundarySet,
    add_boundary_set,
    read_boundary_file,
    unassigned_id,
)
from atlas.services.context import Atlas
from atlas.store.store import Store
from auth import Principal
from tests.conftest import REALDATA

PGR = REALDATA / "berlin_lor_prognoseraeume_2021.geojson"
BEZIRKE = REALDATA / "berlin_bezirke.geojson"
CRIME = REALDATA / "berlin_crime_atlas_prognoseraeume_lor2021_2012_2023.csv"
CRIME_BEZIRKE = REALDATA / "berlin_crime_atlas_bezirke_2012_2023.csv"
pytestmark = pytest.mark.skipif(not PGR.exists() and os.environ.get("CI") != "true",
                                reason="../shared/realdata is not present")
STATS = Principal("statistik", "steward", frozenset({"statistik"}), logged_in=True)
OFFENCES = {"id": "berlin_straftaten", "title_de": "Straftaten", "title_en": "Offences",
            "definition_de": "Straftaten insgesamt (Fallzahl)", "definition_en": "Offences (cases)",
            "domain": "demografie", "unit": "Fälle", "department": "statistik", "visibility": "internal",
            "polarity": "high_bad", "decimals": 0, "aggregation": "sum", "periodicity": "year",
            "source": "Polizei Berlin, Kriminalitätsatlas", "contact": "Statistik", "licence": "CC BY 3.0 DE"}


@pytest.fixture(scope="module")
def berlin_pgr(tmp_path_factory) -> Atlas:
    """A Berlin store whose base level is the 58 Prognoseräume of 2021, under the 12 Bezirke."""
    data_dir = tmp_path_factory.mktemp("berlin-pgr")
    domains, indicators = load_catalog(PROJECT_ROOT / "layers")
    store = Store(data_dir, catalog_frame(indicators, domains))
    pgr = read_boundary_file(PGR, key_col="id", name_col="name")
    pgr["parent_id"] = pgr["area_id"].str[:2]
    bezirke = read_boundary_file(BEZIRKE, key_col="id", name_col="name")
    bezirke["parent_id"] = "11000000"
    city = gpd.GeoDataFrame({"area_id": ["11000000"], "name": ["Berlin"], "parent_id": [None]},
                            geometry=[shapely.union_all(bezirke.geometry.values)], crs="EPSG:4326")
    with store.writing() as tx:  # the crime atlas republishes 2012-2020 on the 2021 units
        add_boundary_set(tx, BoundarySet("lor2021", date(2012, 1, 1), None, "LOR 2021", ""),
                         {"ortsteil": pgr, "stadtbezirk": bezirke, "stadt": city}, pgr.attrs["source_crs"])
        tx.manifest["city"] = {"name": "Berlin", "key": "11000000"}
    return Atlas(dataclasses.replace(load_settings(), data_dir=data_dir))


def test_not_assignable_crime_rows_become_their_bezirks_unassigned_cells(berlin_pgr):
    file = pd.read_csv(CRIME, dtype={"pgr_id": str})
    nines = file[file["pgr_id"].str.endswith("99")]
    assert len(nines) == 12 * 12 and nines["pgr_id"].str[:2].nunique() == 12  # 12 such rows per year

    mapping = {"area": "pgr_id", "period": "year", "measures": {"berlin_straftaten": {"value": "offences"}}}
    checked = ingest.check_upload(berlin_pgr, STATS, CRIME.name, CRIME.read_bytes(), mapping, None, [OFFENCES])
    assert checked.report.ok, checked.report.errors[:3]  # none refused as an unknown area
    values = checked.values
    assert len(values) == len(file)

    unassigned = values[values["area_id"].str.endswith("-nz")]
    expected = {(unassigned_id(k[:2]), str(y)): v for k, y, v in nines[["pgr_id", "year", "offences"]].itertuples(
        index=False)}
    assert dict(zip(zip(unassigned["area_id"], unassigned["period"]), unassigned["value"])) == expected

    # With them, every Bezirk and year adds up to the publisher's own Bezirk table, exactly.
    values = values.assign(bezirk=values["area_id"].str[:2])
    sums = values.groupby(["bezirk", "period"])["value"].sum()
    official = pd.read_csv(CRIME_BEZIRKE, dtype={"bezirk_id": str})
    official = official.set_index(["bezirk_id", official["year"].astype(str)])["offences"]
    assert len(official) == 144 and (sums.reindex(official.index) == official).all()
