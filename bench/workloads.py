"""Benchmark workloads: synthetic cities built through the store's own write paths.

A large city has N small areas (Voronoi cells densified to ~200 vertices, as
digitised boundaries have), grouped into districts and one city, I indicators
(a third quarterly) over Y years. Built once per size and cached under
bench/work/ (not tracked), so repeated runs measure, not generate.
"""
from __future__ import annotations

import math
import shutil
import time
from dataclasses import dataclass, replace
from datetime import date, datetime
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPoint

from atlas.config import load_settings
from atlas.periods import period_end, quarter_periods, year_periods
from atlas.services.boundaries import BoundarySet, add_boundary_set
from atlas.services.context import Atlas

WORK = Path(__file__).resolve().parent / "work"
# Bump when the store layout or the generator changes, so cached workloads are rebuilt.
FORMAT = "store-layout-2"
CRS = "EPSG:25832"


@dataclass(frozen=True)
class CitySpec:
    name: str
    areas: int
    indicators: int
    years: int
    vertices: int = 200

    @property
    def districts(self) -> int:
        return max(3, self.areas // 25)


def _layers(spec: CitySpec, target: Path) -> None:
    """A generated catalogue: ratios in ten domains, a third quarterly, 70 % public."""
    target.mkdir(parents=True, exist_ok=True)
    (target / "departments.toml").write_text('[departments]\nstatistik = { de = "Statistik", en = "Statistics" }\n')
    per_domain = math.ceil(spec.indicators / 10)
    n = 0
    for d in range(10):
        lines = [f'[domain]\nid = "dom{d}"\ntitle_de = "Bereich {d}"\ntitle_en = "Domain {d}"\norder = {d}\n']
        for _ in range(per_domain):
            if n >= spec.indicators:
                break
            lines.append(f'''[[indicator]]
id = "ind{n:03d}"
title_de = "Indikator {n}"
title_en = "Indicator {n}"
definition_de = "Synthetisch."
definition_en = "Synthetic."
unit = "%"
department = "statistik"
visibility = "{'internal' if n % 10 >= 7 else 'public'}"
polarity = "{('high_bad', 'high_good', 'neutral')[n % 3]}"
decimals = 1
aggregation = "ratio"
scale = 100
numerator = "Zähler"
denominator = "Nenner"
periodicity = "{'quarter' if n % 3 == 0 else 'year'}"
source = "Benchmark"
contact = "-"
licence = "-"
''')
            n += 1
        (target / f"{d:02d}_dom{d}.toml").write_text("\n".join(lines), encoding="utf-8")


def _geography(spec: CitySpec, rng: np.random.Generator) -> dict[str, gpd.GeoDataFrame]:
    side = math.sqrt(spec.areas) * 1000.0
    x0, y0 = 500_000.0, 5_600_000.0
    square = shapely.box(x0, y0, x0 + side, y0 + side)
    seeds = np.column_stack([rng.uniform(x0, x0 + side, spec.areas), rng.uniform(y0, y0 + side, spec.areas)])
    cells = [shapely.intersection(c, square) for c in
             shapely.voronoi_polygons(MultiPoint(seeds), extend_to=square, ordered=True).geoms]
    cells = [shapely.segmentize(c, max(c.length / spec.vertices, 1.0)) for c in cells]
    cols = max(1, round(math.sqrt(spec.districts)))
    cent = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    gx = np.minimum(((cent[:, 0] - x0) / side * cols).astype(int), cols - 1)
    gy = np.minimum(((cent[:, 1] - y0) / side * cols).astype(int), cols - 1)
    district = [f"D{int(a * cols + b):03d}" for a, b in zip(gy, gx)]
    ot = gpd.GeoDataFrame({"area_id": [f"A{i:05d}" for i in range(len(cells))],
                           "name": [f"Gebiet {i}" for i in range(len(cells))], "parent_id": district},
                          geometry=cells, crs=CRS)
    dist = ot.dissolve(by="parent_id").reset_index()
    dist = gpd.GeoDataFrame({"area_id": dist["parent_id"], "name": "Bezirk " + dist["parent_id"],
                             "parent_id": "CITY"}, geometry=dist.geometry.values, crs=CRS)
    city = gpd.GeoDataFrame({"area_id": ["CITY"], "name": ["Großstadt"], "parent_id": [None]},
                            geometry=[square], crs=CRS)
    return {lvl: g.to_crs("EPSG:4326") for lvl, g in (("ortsteil", ot), ("stadtbezirk", dist), ("stadt", city))}


def _values(ind_id: str, quarterly: bool, area_ids: np.ndarray, years: list[int], d: np.ndarray,
            rng: np.random.Generator, version_id: int) -> pd.DataFrame:
    periods = (quarter_periods if quarterly else year_periods)(years[0], years[-1])
    n_a, n_p = len(area_ids), len(periods)
    den = np.repeat(rng.integers(500, 20_000, n_a), n_p).astype(float)
    rate = np.clip(0.1 + 0.05 * np.repeat(d, n_p) + rng.normal(0, 0.01, n_a * n_p), 0.001, 0.9)
    num = np.round(den * rate)
    ends = {p: period_end(p) for p in periods}
    return pd.DataFrame({
        "indicator_id": ind_id, "area_id": np.repeat(area_ids, n_p), "period": np.tile(periods, n_a),
        "period_end": np.tile([ends[p] for p in periods], n_a), "value": num / den * 100, "numerator": num,
        "denominator": den, "status": "ok", "version_id": version_id,
    })


def build_city(spec: CitySpec, fresh: bool = False) -> Atlas:
    """The city's atlas, built (or reused from bench/work/<name>)."""
    root = WORK / spec.name
    done = root / "complete"
    if fresh and root.exists():
        shutil.rmtree(root)
    settings = replace(load_settings(), data_dir=root / "data", layers_dir=root / "layers")
    if done.exists() and done.read_text().startswith(FORMAT):
        return Atlas(settings)
    if root.exists():
        shutil.rmtree(root)
    started = time.time()
    _layers(spec, root / "layers")
    atlas = Atlas(settings)
    rng = np.random.default_rng(7)
    levels = _geography(spec, rng)
    area_ids = levels["ortsteil"]["area_id"].to_numpy()
    cx = levels["ortsteil"].to_crs(CRS).geometry.centroid.x.to_numpy()
    depriv = (cx - cx.mean()) / cx.std()  # poorer east, as in the demo
    last = 2025
    years = list(range(last - spec.years + 1, last + 1))
    versions = []
    with atlas.store.writing() as tx:
        add_boundary_set(tx, BoundarySet("bench", date(years[0], 1, 1), None, "Benchmark", ""), levels, CRS)
        for ind in atlas.indicators:
            vid = tx.next_version_id()
            tx.add_values(vid, _values(ind.id, ind.periodicity == "quarter", area_ids, years, depriv, rng, vid))
            versions.append({"version_id": vid, "indicator_id": ind.id,
                             "state": "public" if ind.visibility == "public" else "internal",
                             "created_by": "bench", "created_at": datetime(2026, 1, 1), "file_name": "bench.csv",
                             "checksum": "", "row_count": 0, "note": ""})
        tx.replace_table("versions", pd.DataFrame(versions).astype({"created_at": "datetime64[s]"}))
    done.write_text(f"{FORMAT}: built in {time.time() - started:.0f} s\n")
    return atlas


LARGE = CitySpec("large", areas=1000, indicators=300, years=20)
SMOKE = CitySpec("smoke", areas=100, indicators=20, years=5)
