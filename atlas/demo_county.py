"""The demo county "Landkreis Auenland": 19 Gemeinden in 4 Planregionen, generated deterministically.

The second built-in territory (`python -m atlas demo --county`), so that the
atlas is shown and tested on a county as well as on a city, on the same code:
four levels `ortsteil → gemeinde → planregion → kreis`, declared as data in
the store's manifest. The larger Gemeinden (the Kreisstadt and the biggest
others) are divided into Ortsteile; a small Gemeinde is its own single
Ortsteil, so the base level covers the county without gaps. The city's
indicators are drawn from the same latent fields as in the demo city, and
three indicators where a county differs are added to the store's catalogue:
out-commuters, distance to the nearest Gymnasium, and Kita coverage.
"""
from __future__ import annotations

import logging
import math
from dataclasses import asdict
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPoint, Polygon

from atlas import demo
from atlas.catalog import Indicator
from atlas.periods import period_end
from atlas.services.boundaries import BoundarySet, add_boundary_set
from atlas.store.store import Store

log = logging.getLogger(__name__)

SEED = 20261201
COUNTY_NAME = "Landkreis Auenland"
COUNTY_KEY = "K00"
CENTER = (620_000.0, 5_780_000.0)  # a fictional place in ETRS89 / UTM 32N, away from the demo city
RADIUS = 24_000.0

LEVELS = [
    {"id": "ortsteil", "name_de": "Ortsteil", "name_en": "locality", "plural_de": "Ortsteile",
     "plural_en": "localities", "parent_from": "column:parent_id"},
    {"id": "gemeinde", "name_de": "Gemeinde", "name_en": "municipality", "plural_de": "Gemeinden",
     "plural_en": "municipalities", "parent_from": "column:parent_id"},
    {"id": "planregion", "name_de": "Planregion", "name_en": "planning region", "plural_de": "Planregionen",
     "plural_en": "planning regions", "parent_from": "column:parent_id"},
    {"id": "kreis", "name_de": "Landkreis", "name_en": "county", "plural_de": "Landkreis",
     "plural_en": "county"},
]
REGIONS = [("PR1", "Planregion Nord", 90), ("PR2", "Planregion Ost", 0), ("PR3", "Planregion Süd", 270),
           ("PR4", "Planregion West", 180)]  # key, name, direction from the county centre in degrees
GEMEINDEN = ["Auenburg", "Bruchhagen", "Dornwalde", "Eschenried", "Falkenau", "Grünfelde", "Hohenlinden",
             "Kleinmühlen", "Lindwerder", "Moosbach", "Neuhardenberg", "Oberweiler", "Rabenstein",
             "Sandkrug", "Tannhausen", "Uhlenhorst", "Wendisch Priebow", "Wiesenau", "Zehdenhof"]
ORTSTEIL_NAMES = ["Kern", "Nord", "Süd", "Ost", "West", "Ausbau", "Siedlung", "Feld"]
N_DIVIDED = 6  # the Kreisstadt and this many minus one of the largest other Gemeinden have Ortsteile


# ---------------------------------------------------------------- geography
def _outline(rng: np.random.Generator) -> Polygon:
    angles = np.linspace(0, 2 * math.pi, 241)[:-1]
    wobble = 1 + 0.12 * np.sin(2 * angles + 0.4) + 0.07 * np.cos(5 * angles + 1.1) + rng.normal(0, 0.012, len(angles))
    return Polygon([(CENTER[0] + RADIUS * w * math.cos(a), CENTER[1] + 0.85 * RADIUS * w * math.sin(a))
                    for a, w in zip(angles, wobble)]).buffer(0)


def _voronoi(seeds: np.ndarray, clip: Polygon, relax: int = 3) -> list[Polygon]:
    """Relaxed Voronoi cells that tile `clip` exactly (the parts of a Gemeinde fill it without gaps)."""
    for _ in range(relax + 1):
        vor = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=clip.buffer(clip.length), ordered=True)
        cells = [shapely.intersection(g, clip) for g in vor.geoms]
        seeds = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    return [c if isinstance(c, Polygon) else max(c.geoms, key=lambda g: g.area) for c in cells]


def _spread(rng: np.random.Generator, area: Polygon, n: int, spacing: float) -> np.ndarray:
    """n seed points inside `area`, at least `spacing` apart where possible."""
    minx, miny, maxx, maxy = area.bounds
    pts: list[tuple[float, float]] = []
    for _ in range(50_000):
        if len(pts) == n:
            break
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if area.contains(shapely.Point(x, y)) and all(math.hypot(x - a, y - b) > spacing for a, b in pts):
            pts.append((x, y))
    return np.array(pts)


def _region_of(x: float, y: float) -> str:
    angle = math.degrees(math.atan2(y - CENTER[1], x - CENTER[0])) % 360
    return min(REGIONS, key=lambda r: min(abs(angle - r[2]), 360 - abs(angle - r[2])))[0]


def build_geography(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame, Polygon]:
    """(Gemeinden, Ortsteile) in the source CRS, with keys, names, parents and latent position."""
    outline = _outline(rng)
    seeds = _spread(rng, outline, len(GEMEINDEN), 6_500)
    seeds[0] = CENTER  # the Kreisstadt sits in the middle
    cells = [shapely.set_precision(c, 0.01) for c in _voronoi(seeds, outline)]
    gemeinden = gpd.GeoDataFrame({"geometry": cells}, crs=demo.CRS)
    centroids = gemeinden.geometry.centroid
    gemeinden["region"] = [_region_of(p.x, p.y) for p in centroids]
    gemeinden["dist"] = [math.hypot(p.x - CENTER[0], p.y - CENTER[1]) for p in centroids]
    gemeinden = gemeinden.sort_values("dist").reset_index(drop=True)  # the Kreisstadt first
    gemeinden["area_id"] = [f"G{i + 1:02d}" for i in range(len(gemeinden))]
    gemeinden["name"] = GEMEINDEN[:len(gemeinden)]
    divided = set(gemeinden.index[:1]) | set(gemeinden.geometry.area.iloc[1:].nlargest(N_DIVIDED - 1).index)
    parts = []
    for idx, g in gemeinden.iterrows():
        n = (6 if idx == 0 else int(rng.integers(2, 5))) if idx in divided else 1
        shapes = [g.geometry] if n == 1 else _voronoi(_spread(rng, g.geometry, n, 1_200), g.geometry)
        for k, shape in enumerate(shapes):
            name = g["name"] if n == 1 else f"{g['name']}-{ORTSTEIL_NAMES[k]}"
            parts.append({"area_id": f"{g['area_id']}{k + 1:02d}", "name": name, "parent_id": g["area_id"],
                          "geometry": shapely.set_precision(shape, 0.01)})
    ortsteile = gpd.GeoDataFrame(parts, geometry="geometry", crs=demo.CRS)
    return gemeinden, ortsteile, outline


def boundary_levels(gemeinden: gpd.GeoDataFrame, ortsteile: gpd.GeoDataFrame) -> dict[str, gpd.GeoDataFrame]:
    """The four levels, base first, in EPSG:4326 (what `add_boundary_set` stores)."""
    names = {key: name for key, name, _ in REGIONS}
    regions = gemeinden.dissolve(by="region").reset_index()
    levels = {
        "ortsteil": ortsteile[["area_id", "name", "parent_id", "geometry"]],
        "gemeinde": gpd.GeoDataFrame({"area_id": gemeinden["area_id"], "name": gemeinden["name"],
                                      "parent_id": gemeinden["region"]}, geometry=gemeinden.geometry.values,
                                     crs=demo.CRS),
        "planregion": gpd.GeoDataFrame({"area_id": regions["region"], "name": regions["region"].map(names),
                                        "parent_id": COUNTY_KEY}, geometry=regions.geometry.values, crs=demo.CRS),
        "kreis": gpd.GeoDataFrame({"area_id": [COUNTY_KEY], "name": [COUNTY_NAME], "parent_id": [None]},
                                  geometry=[shapely.union_all(gemeinden.geometry.values)], crs=demo.CRS),
    }
    return {level: frame.to_crs("EPSG:4326") for level, frame in levels.items()}


# ---------------------------------------------------------------- attributes and values
def _attributes(ortsteile: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """The demo city's latent fields, with the county's own shape: people live in the Kreisstadt and the
    larger Gemeinden; remoteness (distance from the centre) drives commuting and school distance."""
    frame = ortsteile.copy()
    c = frame.geometry.centroid
    frame["r"] = np.hypot(c.x - CENTER[0], c.y - CENTER[1]) / RADIUS
    frame["angle"] = np.degrees(np.arctan2(c.y - CENTER[1], c.x - CENTER[0])) % 360
    attrs = demo._area_attributes(frame, rng)
    # A Gemeinde that is one Ortsteil is a village of a few hundred to a few thousand people.
    village = (frame.groupby("parent_id")["area_id"].transform("count") == 1).to_numpy()
    attrs["pop"] = np.where(village, np.clip(rng.lognormal(np.log(1800), 0.6, len(attrs)), 300, 6000),
                            np.clip(attrs["pop"] * (1.3 - 0.8 * frame["r"].to_numpy()), 900, 24000))
    attrs["remote"] = frame["r"].to_numpy()
    return attrs


COUNTY_INDICATORS = [
    Indicator("auspendler", "Auspendlerquote", "Out-commuter rate",
              "Sozialversicherungspflichtig Beschäftigte mit Wohnort im Gebiet und Arbeitsort außerhalb des "
              "Landkreises, je 100 Beschäftigte am Wohnort.",
              "Employees living in the area who work outside the county, per 100 employees living there.",
              "uebergang", "%", "statistik", "public", "neutral", 1, "ratio", "year",
              "Bundesagentur für Arbeit, Pendlerstatistik (Demo)", "Statistikstelle", "dl-de/by-2-0",
              scale=100, numerator="Auspendler", denominator="Beschäftigte am Wohnort"),
    Indicator("weg_gymnasium", "Weg zum nächsten Gymnasium", "Distance to the nearest Gymnasium",
              "Mittlere Luftlinienentfernung der 10- bis unter 19-Jährigen zum nächsten Gymnasium, "
              "gewichtet mit der Zahl der Kinder (Summe der Kilometer je Kind).",
              "Mean straight-line distance of 10 to 18 year-olds to the nearest Gymnasium, weighted by children.",
              "schule", "km", "schule", "public", "high_bad", 1, "ratio", "year",
              "Schulentwicklungsplanung (Demo)", "Schulamt", "dl-de/by-2-0",
              numerator="Kilometer, summiert über die Kinder", denominator="Kinder von 10 bis unter 19"),
    Indicator("kita_versorgung_land", "Kita-Versorgung im ländlichen Raum",
              "Day-care coverage in rural areas",
              "Genehmigte Kita-Plätze im Gebiet je 100 Kinder unter 6 Jahren mit Wohnort im Gebiet; in "
              "ländlichen Gemeinden oft über 100, weil Kinder aus Nachbarorten betreut werden.",
              "Licensed day-care places in the area per 100 resident children under 6.",
              "fruehkindliche_bildung", "Plätze je 100", "jugend", "internal", "high_good", 1, "ratio", "year",
              "Kita-Bedarfsplanung (Demo)", "Jugendamt", "intern", scale=100,
              numerator="Genehmigte Kitaplätze", denominator="Kinder unter 6", unit_en="places per 100"),
]


def _county_values(ind: Indicator, attrs: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    periods = [str(y) for y in range(demo.FIRST_YEAR, demo.LAST_YEAR + 1)]
    f = demo._frame_for(attrs, periods, rng)
    t, remote, pop = f["year"].to_numpy() - demo.FIRST_YEAR, f["remote"].to_numpy(), f["pop_t"].to_numpy()
    if ind.id == "auspendler":
        den = np.round(pop * 0.46)
        num = demo._binomial(rng, den, np.clip(0.22 + 0.35 * remote + 0.004 * t, 0.05, 0.85))
    elif ind.id == "weg_gymnasium":
        den = np.round(pop * 0.085)
        km = np.clip(1.5 + 17 * remote ** 1.4 + rng.normal(0, 0.8, len(f)), 0.4, None)
        num = np.round(km * den, 1)
    else:
        den = np.round(pop * 0.055)
        num = np.round(den * np.clip(0.75 + 0.25 * remote + rng.normal(0, 0.08, len(f)), 0.3, 1.4))
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.where(den > 0, num / den * ind.scale, np.nan)
    return pd.DataFrame({"indicator_id": ind.id, "area_id": f["area_id"], "period": f["period"],
                         "value": value.round(6), "numerator": num, "denominator": den, "status": "ok"})


def _catalog_rows(indicators: list[Indicator], domain_order: dict[str, int]) -> pd.DataFrame:
    """The county's own indicators as rows of the store's catalogue (like indicators an upload creates)."""
    rows = []
    for ind in indicators:
        row = asdict(ind)
        row["same_count_as"], row["shared_with"] = list(ind.same_count_as), list(ind.shared_with)  # as uploads do
        rows.append({**row, "requested_visibility": "", "domain_order": domain_order[ind.domain],
                     "created_by": "demo", "created_at": datetime(2025, 4, 1, 9)})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------- entry point
def generate(store: Store, indicators: list[Indicator], domain_order: dict[str, int],
             bands_from: int | None = None) -> bool:
    """Write the whole demo county into an empty store in one transaction; False if one appeared meanwhile.

    `bands_from`: as `add_boundary_set` (big levels get their map bands stored)."""
    rng = np.random.default_rng(SEED)
    gemeinden, ortsteile, _ = build_geography(rng)
    attrs = _attributes(ortsteile, rng)
    city_like = [i for i in indicators if i.periodicity == "year"]  # the county reports yearly
    values = pd.concat([demo._values_for(ind, {"old": attrs, "new": attrs}, rng) for ind in city_like]
                       + [_county_values(ind, attrs, rng) for ind in COUNTY_INDICATORS], ignore_index=True)
    values["period_end"] = [period_end(p) for p in values["period"]]
    versions, values = demo._versions(values, city_like + COUNTY_INDICATORS)
    points = demo._points(ortsteile, attrs, rng)
    boundary_set = BoundarySet("gs2020", date(demo.FIRST_YEAR, 1, 1), None, "Gebietsstand 2020",
                               "Gemeindegebiete nach der Gemeindegebietsreform")
    with store.writing() as tx:
        if tx.manifest["generation"] > 0:
            return False
        tx.manifest["levels"] = LEVELS
        add_boundary_set(tx, boundary_set, boundary_levels(gemeinden, ortsteile), demo.CRS, bands_from)
        tx.replace_table("catalog", _catalog_rows(COUNTY_INDICATORS, domain_order))
        tx.replace_table("points", points)
        for vid, rows in values.groupby("version_id", sort=True):
            tx.add_values(int(vid), rows)
        tx.manifest["last_version_id"] = int(versions["version_id"].max())
        tx.replace_table("versions", versions.astype({"created_at": "datetime64[s]"}))
        tx.manifest["city"] = {"name": COUNTY_NAME, "key": COUNTY_KEY, "source_crs": demo.CRS}
        tx.manifest["organisations"] = organisations(gemeinden)
    return True


def organisations(gemeinden: gpd.GeoDataFrame) -> dict[str, dict]:
    """Each Gemeinde as an organisation bound to its area: its stewards deliver only for it."""
    return {f"gemeinde_{key.lower()}": {"de": f"{'Stadt' if i == 0 else 'Gemeinde'} {name}",
                                        "en": f"{'Town' if i == 0 else 'Municipality'} of {name}", "area": key}
            for i, (key, name) in enumerate(zip(gemeinden["area_id"], gemeinden["name"]))}


# The demo's accounts, plus a steward of the Kreisstadt's own administration.
COUNTY_ACCOUNTS = [("auenburg", "steward", ["gemeinde_g01"], "demo-auenburg")]


def ensure_demo_county(atlas) -> None:
    """The county demo into an empty data directory, with the demo's accounts."""
    if atlas.store.exists():
        return
    log.info("empty data directory %s: generating the demo county", atlas.settings.data_dir)
    order = {d.id: d.order for d in atlas.domains}
    if generate(atlas.store, atlas.indicators, order, atlas.settings.canvas_from_areas):
        demo.create_demo_accounts(atlas.users)
        for name, role, departments, password in COUNTY_ACCOUNTS:
            atlas.users.add(name, role, departments, password, actor="demo")
