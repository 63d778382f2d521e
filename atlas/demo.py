"""The demo city "Auenstadt": generated deterministically (fixed seed), no network.

A fictional city of ~50 Ortsteile in 8 Stadtbezirke. The Ortsteile are
Voronoi cells (relaxed, so they look like planning units rather than shards)
clipped to an irregular outline, so they tile the city without gaps or
overlaps. One Ortsteil is split in 2022. A smooth deprivation surface (poorer
inner east, richer western outskirts) drives correlated indicators; rates are
drawn as binomial counts, so small areas are noisy the way real ones are.
"""
from __future__ import annotations

import hashlib
import logging
import math
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import MultiPoint, Point, Polygon

from atlas.catalog import Indicator
from atlas.periods import period_end, quarter_periods, year_periods
from atlas.services.boundaries import BoundarySet, add_boundary_set
from atlas.store.store import Store

log = logging.getLogger(__name__)

SEED = 20240917
CITY_NAME = "Auenstadt"
CITY_KEY = "00"
CRS = "EPSG:25832"
CENTER = (560_000.0, 5_640_000.0)  # a fictional place in ETRS89 / UTM 32N
RADIUS = 8_000.0
FIRST_YEAR, LAST_YEAR = 2012, 2025
SPLIT_YEAR = 2022

DISTRICTS = [  # key, name, centre angle in degrees (0 = east); Mitte is the core
    ("01", "Mitte", None), ("02", "Oststadt", 0), ("03", "Nordost", 51), ("04", "Nordstadt", 103),
    ("05", "Nordwest", 154), ("06", "Weststadt", 206), ("07", "Südwest", 257), ("08", "Südost", 309),
]
CORE_NAMES = ["Altstadt", "Altstadt-Nord", "Neustadt", "Bahnhofsviertel", "Schlossviertel",
              "Am Markt", "Domviertel", "Universitätsviertel"]
NAMES = ["Lindenhof", "Rosenhöhe", "Eichenkamp", "Birkenfeld", "Mühlenberg", "Kirchdorf", "Wiesental",
         "Sonnenhang", "Hochfeld", "Steinbrück", "Holzhausen", "Ziegelei", "Gartenstadt", "Heidehof",
         "Auenviertel", "Brückenkopf", "Kastanienallee", "Am Stadtpark", "Tannenbusch", "Ostpark",
         "Kreuzacker", "Lerchenberg", "Fuchsloch", "Bergheim", "Talsiedlung", "Weidenau", "Schäferwiese",
         "Buchholz", "Erlenbruch", "Glockenberg", "Hagen", "Neuhof", "Obermühle", "Unterdorf",
         "Friedrichsfeld", "Margaretenhöhe", "Kolonie Nord", "Steinacker", "Brunnenfeld", "Sandberg",
         "Falkenhorst", "Wolfsgrund", "Kirschgarten", "Am Wasserturm", "Grünau", "Bleiche", "Eschweide"]
SPLIT_NAME = "Hafenviertel"


# ---------------------------------------------------------------- geometry
def _outline(rng: np.random.Generator) -> Polygon:
    angles = np.linspace(0, 2 * math.pi, 181)[:-1]
    wobble = 1 + 0.10 * np.sin(3 * angles + 1.0) + 0.06 * np.cos(5 * angles + 0.3) + rng.normal(0, 0.01, len(angles))
    pts = [(CENTER[0] + RADIUS * w * math.cos(a), CENTER[1] + 0.8 * RADIUS * w * math.sin(a))
           for a, w in zip(angles, wobble)]
    return Polygon(pts).buffer(0)


def _seeds(rng: np.random.Generator, outline: Polygon, n: int) -> np.ndarray:
    minx, miny, maxx, maxy = outline.bounds
    pts: list[tuple[float, float]] = []
    tries = 0
    while len(pts) < n and tries < 200_000:
        tries += 1
        x, y = rng.uniform(minx, maxx), rng.uniform(miny, maxy)
        if not outline.contains(Point(x, y)):
            continue
        r = math.hypot(x - CENTER[0], y - CENTER[1]) / RADIUS
        spacing = 800 + 1300 * r  # denser Ortsteile in the centre
        if all(math.hypot(x - px, y - py) > spacing for px, py in pts):
            pts.append((x, y))
    return np.array(pts)


def _cells(seeds: np.ndarray, outline: Polygon, relax: int = 3) -> list[Polygon]:
    """Voronoi cells clipped to the outline, with Lloyd relaxation for rounder cells."""
    for _ in range(relax + 1):
        vor = shapely.voronoi_polygons(MultiPoint(seeds), extend_to=outline.buffer(RADIUS), ordered=True)
        cells = [shapely.intersection(g, outline) for g in vor.geoms]
        seeds = np.array([[c.centroid.x, c.centroid.y] for c in cells])
    cells = [shapely.set_precision(c, 0.01) for c in cells]
    return [c if isinstance(c, Polygon) else max(c.geoms, key=lambda g: g.area) for c in cells]


def _polar(geom) -> tuple[float, float]:
    c = geom.centroid
    dx, dy = c.x - CENTER[0], c.y - CENTER[1]
    return math.hypot(dx, dy) / RADIUS, math.degrees(math.atan2(dy, dx)) % 360


def _district_of(r: float, angle: float) -> str:
    if r < 0.27:
        return "01"
    best = min(DISTRICTS[1:], key=lambda d: min(abs(angle - d[2]), 360 - abs(angle - d[2])))
    return best[0]


def build_geography(rng: np.random.Generator) -> tuple[gpd.GeoDataFrame, dict]:
    """Ortsteile of the old boundary set with district, attributes and keys."""
    outline = _outline(rng)
    cells = _cells(_seeds(rng, outline, 50), outline)
    polar = [_polar(c) for c in cells]
    frame = gpd.GeoDataFrame({
        "r": [p[0] for p in polar], "angle": [p[1] for p in polar],
        "district": [_district_of(*p) for p in polar],
    }, geometry=cells, crs=CRS)
    frame = frame.sort_values(["district", "angle", "r"]).reset_index(drop=True)
    frame["seq"] = frame.groupby("district").cumcount() + 1
    frame["area_id"] = frame["district"] + frame["seq"].map("{:02d}".format)
    pool = iter(NAMES)
    core = iter(CORE_NAMES)
    frame["name"] = [next(core) if d == "01" else next(pool) for d in frame["district"]]
    # The split Ortsteil: the largest cell of the inner east (a harbour quarter
    # with a new-build area that grew so much it got its own Ortsteil).
    east = frame[frame["district"] == "02"]
    split_idx = east.geometry.area.idxmax()
    frame.loc[split_idx, "name"] = SPLIT_NAME
    return frame, {"outline": outline, "split_idx": split_idx}


def _split_cell(geom: Polygon) -> tuple[Polygon, Polygon]:
    """Cut a cell north/south through its centroid.

    Intersecting with half-plane boxes keeps the cell's own vertices on its
    outer edges, so the parts still meet their neighbours exactly (shapely's
    `split` re-nodes those edges and left square-metre overlaps).
    """
    geom = shapely.set_precision(geom, 0)  # a grid would snap cut vertices off the shared edges
    c = geom.centroid
    minx, miny, maxx, maxy = geom.bounds
    north = geom.intersection(shapely.box(minx - 10, c.y, maxx + 10, maxy + 10))
    south = geom.intersection(shapely.box(minx - 10, miny - 10, maxx + 10, c.y))
    return north, south


def boundary_levels(ortsteile: gpd.GeoDataFrame, outline: Polygon) -> dict[str, gpd.GeoDataFrame]:
    """Ortsteile plus the dissolved Stadtbezirke and the city, in EPSG:4326."""
    names = {k: n for k, n, _ in DISTRICTS}
    districts = ortsteile.dissolve(by="district").reset_index()
    districts = gpd.GeoDataFrame({
        "area_id": districts["district"], "name": districts["district"].map(names), "parent_id": CITY_KEY,
    }, geometry=districts.geometry.values, crs=CRS)
    city = gpd.GeoDataFrame({"area_id": [CITY_KEY], "name": [CITY_NAME], "parent_id": [None]},
                            geometry=[shapely.union_all(ortsteile.geometry.values)], crs=CRS)
    ot = gpd.GeoDataFrame({
        "area_id": ortsteile["area_id"], "name": ortsteile["name"], "parent_id": ortsteile["district"],
        "predecessors": ortsteile.get("predecessors", pd.Series([""] * len(ortsteile))).fillna(""),
    }, geometry=ortsteile.geometry.values, crs=CRS)
    return {lvl: g.to_crs("EPSG:4326") for lvl, g in
            (("ortsteil", ot), ("stadtbezirk", districts), ("stadt", city))}


# ---------------------------------------------------------------- attributes
def _area_attributes(frame: gpd.GeoDataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Latent fields per Ortsteil: deprivation, family, age, size, growth."""
    r, ang = frame["r"].to_numpy(), np.radians(frame["angle"].to_numpy())
    east = np.cos(ang)
    depriv = 1.0 * np.exp(-(r / 0.55) ** 2) + 0.75 * np.clip(east, 0, None) * np.exp(-(r / 0.85) ** 2) \
        - 0.6 * r * np.clip(-east, 0, None) + rng.normal(0, 0.18, len(r))
    family = 0.9 * r - 0.3 + rng.normal(0, 0.3, len(r))  # families in the outskirts
    age = 0.8 * r * np.clip(-east, -0.3, None) + rng.normal(0, 0.35, len(r))
    pop = np.clip(rng.lognormal(np.log(9000), 0.35, len(r)) * (1.5 - 0.7 * r), 2500, 26000)
    attrs = pd.DataFrame({
        "area_id": frame["area_id"], "d": _z(depriv), "fam": _z(family), "age": _z(age),
        "pop": pop, "growth": rng.normal(0.004, 0.006, len(r)),
    })
    # Two very small Ortsteile (a village and an industrial estate) so that
    # small-number suppression has real cases to act on.
    outer = frame["r"].to_numpy().argsort()[-2:]
    attrs.loc[outer[0], "pop"] = 1100.0
    attrs.loc[outer[1], "pop"] = 420.0
    return attrs


def _z(x: np.ndarray) -> np.ndarray:
    return (x - x.mean()) / x.std()


def _split_attributes(attrs: pd.DataFrame, old_id: str, new_ids: tuple[str, str]) -> pd.DataFrame:
    """The two parts inherit the old area's character; the south is the new-build area."""
    old = attrs[attrs["area_id"] == old_id].iloc[0]
    north = old.copy()
    north["area_id"], north["pop"] = new_ids[0], old["pop"] * 0.62
    south = old.copy()
    south["area_id"], south["pop"] = new_ids[1], old["pop"] * 0.38
    south["fam"], south["d"], south["growth"] = old["fam"] + 1.2, old["d"] - 0.5, 0.05
    return pd.concat([attrs[attrs["area_id"] != old_id], pd.DataFrame([north, south])], ignore_index=True)


def _year_effects(year: np.ndarray) -> dict[str, np.ndarray]:
    t = year - FIRST_YEAR
    covid = ((year >= 2020) & (year < 2022)).astype(float)
    refugees = np.clip(year - 2015, 0, 1) * 1.0 + (year >= 2022) * 1.0
    return {"t": t, "covid": covid, "refugees": refugees}


def _frame_for(attrs: pd.DataFrame, periods: list[str], rng: np.random.Generator) -> pd.DataFrame:
    rows = attrs.merge(pd.DataFrame({"period": periods}), how="cross")
    ends = pd.to_datetime([period_end(p) for p in rows["period"]])
    rows["year"] = ends.year + (ends.day_of_year / 366.0) - 1.0
    rows["pop_t"] = np.round(rows["pop"] * (1 + rows["growth"]) ** (rows["year"] - FIRST_YEAR)
                             * rng.normal(1, 0.004, len(rows)))
    return rows


def _binomial(rng, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    return rng.binomial(np.maximum(n, 0).astype(np.int64), np.clip(p, 0, 1)).astype(float)


def _rates(ind_id: str, f: pd.DataFrame, eff: dict) -> tuple[np.ndarray, np.ndarray] | None:
    """(expected denominator count, rate in 0..1) per row, or None for non-ratios.

    Rates move with deprivation (d), family structure (fam), age and time
    effects; denominators are population subgroups, so counts stay coherent.
    """
    d, fam, age, pop, t = f["d"], f["fam"], f["age"], f["pop_t"], eff["t"]
    u6 = np.clip(0.055 + 0.010 * fam - 0.004 * age, 0.025, 0.10)
    s610 = np.clip(0.036 + 0.007 * fam, 0.02, 0.06)
    s65 = np.clip(0.21 + 0.045 * age - 0.015 * d + 0.002 * t, 0.07, 0.38)
    u15 = u6 + s610 + 0.045
    s1525 = np.clip(0.105 - 0.012 * age + 0.01 * d, 0.06, 0.2)
    cohort = pop * u6 / 6
    table = {
        "bev_u6": (pop, u6),
        "bev_6_10": (pop, s610),
        "bev_65plus": (pop, s65),
        "bev_migration": (pop, np.clip(0.17 + 0.08 * d + 0.008 * t + 0.02 * eff["refugees"], 0.03, 0.7)),
        "sgb2_quote": (pop * (1 - s65), np.clip(0.115 + 0.06 * d - 0.002 * t + 0.008 * eff["covid"]
                                                 + 0.006 * eff["refugees"], 0.01, 0.45)),
        "sgb2_u15": (pop * u15, np.clip(0.19 + 0.10 * d - 0.003 * t + 0.01 * eff["refugees"], 0.01, 0.6)),
        "alo_quote": (pop * (1 - u15 - s65), np.clip(0.045 + 0.02 * d - 0.0008 * t + 0.01 * eff["covid"], 0.005, 0.2)),
        "jugend_alo": (pop * s1525, np.clip(0.05 + 0.025 * d - 0.001 * t + 0.012 * eff["covid"], 0.005, 0.25)),
        "wohngeld": (pop / 1.95, np.clip(0.03 + 0.015 * d, 0.002, 0.15) * np.where(f["year"] >= 2023, 1.8, 1.0)),
        "ueberschuldung": (pop * (1 - u15 - 0.03), np.clip(0.095 + 0.035 * d - 0.001 * t, 0.02, 0.3)),
        "betreuung_u3": (pop * u6 / 2, np.clip(0.28 - 0.05 * d + 0.012 * np.minimum(t, 9), 0.05, 0.7)),
        "betreuung_3_6": (pop * u6 / 2, np.clip(0.91 - 0.035 * d + 0.002 * t, 0.6, 0.99)),
        "kita_plaetze": (pop * u6, np.clip(0.68 + 0.04 * fam - 0.03 * d + 0.01 * np.minimum(t, 9), 0.3, 1.1)),
        "kita_2jahre": (cohort, np.clip(0.86 - 0.06 * d + 0.004 * t, 0.4, 0.99)),
        "beitragsbefreiung": (pop * u6 * 0.7, np.clip(0.22 + 0.12 * d, 0.02, 0.7)),
        "seu_sprachfoerder": (cohort, np.clip(0.21 + 0.11 * d + 0.004 * t, 0.02, 0.7)),
        "seu_masern": (cohort * 0.93, np.clip(0.925 - 0.015 * d + 0.002 * t, 0.7, 0.995)),
        "seu_uebergewicht": (cohort, np.clip(0.095 + 0.03 * d, 0.02, 0.3)),
        "seu_rueckstellung": (cohort * 1.05, np.clip(0.065 + 0.02 * d, 0.01, 0.2)),
        "uebergang_gym": (pop * s610 / 4, np.clip(0.44 - 0.13 * d + 0.004 * t, 0.08, 0.85)),
        "uebergang_sonst": (pop * s610 / 4, np.clip(0.54 + 0.12 * d - 0.004 * t, 0.12, 0.9)),
        "abgang_ohne": (pop * 0.009, np.clip(0.06 + 0.035 * d, 0.005, 0.25)),
        "fehlzeiten": (pop * (u15 - u6 + 0.03), np.clip(0.03 + 0.018 * d + 0.006 * eff["covid"], 0.003, 0.15)),
        "privatschule": (pop * (u15 - u6 + 0.03), np.clip(0.08 - 0.03 * d + 0.001 * t, 0.005, 0.3)),
        "ausbildung_aufgeloest": (pop * 0.006, np.clip(0.25 + 0.06 * d + 0.004 * t, 0.05, 0.6)),
        "alo_u25": (pop * s1525, np.clip(0.06 + 0.03 * d - 0.001 * t + 0.012 * eff["covid"], 0.005, 0.3)),
        "hze_quote": (pop * (u15 + 0.06), np.clip(0.016 + 0.011 * d, 0.001, 0.08)),
        "ferienprogramm": (pop * (s610 + 0.04), np.clip(0.21 - 0.05 * d - 0.1 * eff["covid"], 0.02, 0.6)),
    }
    return table.get(ind_id)


def _values_for(ind: Indicator, attrs_by_set: dict, rng: np.random.Generator) -> pd.DataFrame:
    periods = (quarter_periods if ind.periodicity == "quarter" else year_periods)(FIRST_YEAR, LAST_YEAR)
    first = {"kaufkraft": 2015, "ueberschuldung": 2014}.get(ind.id, FIRST_YEAR)
    periods = [p for p in periods if int(p[:4]) >= first]
    old = [p for p in periods if int(p[:4]) < SPLIT_YEAR]
    new = [p for p in periods if int(p[:4]) >= SPLIT_YEAR]
    f = pd.concat([_frame_for(attrs_by_set["old"], old, rng), _frame_for(attrs_by_set["new"], new, rng)],
                  ignore_index=True)
    eff = _year_effects(f["year"].to_numpy())
    num = den = None
    if ind.id == "bev_gesamt":
        value = f["pop_t"].to_numpy()
    elif ind.id == "wanderung_saldo":
        den = f["pop_t"].to_numpy()
        rate = 4 + 9 * f["growth"].to_numpy() / 0.01 - 2 * f["d"].to_numpy() + 6 * eff["refugees"] * (f["year"] < 2017)
        num = np.round(rng.normal(rate * den / 1000, 6 + den / 3000))
        value = num / den * 1000
    elif ind.id == "kaufkraft":
        den = f["pop_t"].to_numpy()
        per_head = 24_500 - 3_400 * f["d"].to_numpy() + 900 * f["age"].to_numpy()
        per_head = per_head * 1.025 ** eff["t"] * rng.normal(1, 0.01, len(f))
        num = np.round(per_head * den, -3)
        value = num / den
    elif ind.id == "bildungsindex":
        raw = -f["d"].to_numpy() + 0.3 * f["fam"].to_numpy() + rng.normal(0, 0.25, len(f))
        value = (raw - raw.mean()) / raw.std()
    else:
        den_exp, rate = _rates(ind.id, f, eff)
        den = np.maximum(np.round(np.asarray(den_exp, dtype=float)), 0)
        rate = np.asarray(rate, dtype=float)
        if ind.periodicity == "quarter":
            # Quarterly stocks move slowly: expected counts with little noise,
            # and a winter peak only in unemployment.
            if ind.id == "alo_quote":
                q = f["period"].str[-1].astype(int).to_numpy()
                rate = rate * np.where(q == 1, 1.06, np.where(q == 3, 0.97, 1.0))
            num = np.round(den * np.clip(rate * rng.normal(1, 0.008, len(rate)), 0, 1))
        else:
            num = _binomial(rng, den, rate)
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(den > 0, num / den * ind.scale, np.nan)
    out = pd.DataFrame({
        "indicator_id": ind.id, "area_id": f["area_id"], "period": f["period"],
        "value": np.asarray(value, dtype=float).round(6),
        "numerator": num if num is not None else np.nan,
        "denominator": den if den is not None else np.nan,
        "status": "ok",
    })
    return _knock_out(out, ind, rng)


def _knock_out(out: pd.DataFrame, ind: Indicator, rng: np.random.Generator) -> pd.DataFrame:
    """Genuine gaps: no school-entry exams for most areas in 2020, and rare lost returns."""
    miss = np.zeros(len(out), dtype=bool)
    if ind.id.startswith("seu_") or ind.id == "kita_2jahre":
        miss |= (out["period"] == "2020").to_numpy() & (rng.random(len(out)) < 0.6)
    if ind.domain not in ("demografie",):
        miss |= rng.random(len(out)) < 0.008
    out.loc[miss, ["value", "numerator", "denominator"]] = np.nan
    out.loc[miss, "status"] = "missing"
    return out


# ---------------------------------------------------------------- points
POINT_LAYERS = {
    "kita": ("Kita", ["Sonnenschein", "Regenbogen", "Pusteblume", "Kleine Strolche", "Wirbelwind",
                      "Löwenzahn", "Arche", "Spatzennest", "Zauberwald", "Sternschnuppe"], 0.9),
    "grundschule": ("Grundschule", ["am Park", "an der Linde", "am Mühlbach", "im Grünen", "am Markt",
                                    "an der Aue", "am Wasserturm", "Regenbogen"], 0.35),
    "weiterfuehrende_schule": ("Gesamtschule", ["Auenstadt", "am Schlossberg", "Ost", "West", "Nord"], 0.12),
    "familienzentrum": ("Familienzentrum", ["Mittendrin", "Brücke", "Kompass", "Lichtblick"], 0.1),
}


def _points(frame: gpd.GeoDataFrame, attrs: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    geo = frame.set_index("area_id").geometry
    for _, a in attrs.iterrows():
        if a["area_id"] not in geo.index:
            continue
        cell = geo[a["area_id"]]
        for layer, (kind, names, per_10k) in POINT_LAYERS.items():
            expected = per_10k * a["pop"] / 10_000 * (1 + (0.5 * a["d"] if layer == "familienzentrum" else 0))
            for _ in range(rng.poisson(max(expected, 0.05))):
                minx, miny, maxx, maxy = cell.bounds
                while True:
                    p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
                    if cell.buffer(-60).contains(p) or cell.area < 40_000:
                        break
                capacity = {"kita": rng.integers(3, 12) * 10, "grundschule": rng.integers(8, 20) * 25,
                            "weiterfuehrende_schule": rng.integers(20, 45) * 25,
                            "familienzentrum": rng.integers(0, 3)}[layer]
                rows.append({"layer": layer, "name": f"{kind} {names[rng.integers(len(names))]}",
                             "area_id": a["area_id"], "capacity": int(capacity), "x": p.x, "y": p.y})
    pts = gpd.GeoDataFrame(pd.DataFrame(rows), geometry=gpd.points_from_xy([r["x"] for r in rows],
                                                                            [r["y"] for r in rows]), crs=CRS)
    pts = pts.to_crs("EPSG:4326")
    pts["point_id"] = [f"{r.layer[:3]}{i:04d}" for i, r in enumerate(pts.itertuples())]
    pts["name"] = pts["name"] + " (" + pts["area_id"] + ")"
    return pd.DataFrame({"point_id": pts["point_id"], "layer": pts["layer"], "name": pts["name"],
                         "area_id": pts["area_id"], "capacity": pts["capacity"],
                         "lon": pts.geometry.x.round(6), "lat": pts.geometry.y.round(6)})


# ---------------------------------------------------------------- versions
def _state_for(ind: Indicator) -> str:
    return "public" if ind.visibility == "public" else "internal"


def _versions(values: pd.DataFrame, indicators: list[Indicator]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split each indicator's values into release versions as a real history would.

    The last quarter of SGB II is still a draft and the last quarter of
    unemployment is released internally only, so the demo shows the public
    seeing the released version while newer data exist.
    """
    by_id = {i.id: i for i in indicators}
    versions, parts = [], []
    vid = 0
    for ind_id, group in values.groupby("indicator_id", sort=True):
        ind = by_id[ind_id]
        year = group["period"].str[:4].astype(int)
        batches = [("Erstbefüllung 2012–2024", group[year < LAST_YEAR], _state_for(ind), datetime(2025, 4, 1, 9))]
        latest = group[year == LAST_YEAR]
        held_back = {"sgb2_quote": "draft", "alo_quote": "internal"}.get(ind_id)
        if held_back:
            last_q = latest["period"] == f"{LAST_YEAR}-Q4"
            batches.append((f"Lieferung {LAST_YEAR} Q1–Q3", latest[~last_q], _state_for(ind), datetime(2025, 11, 3, 10)))
            batches.append((f"Lieferung {LAST_YEAR}-Q4", latest[last_q], held_back, datetime(2026, 2, 9, 14)))
        else:
            batches.append((f"Lieferung {LAST_YEAR}", latest, _state_for(ind), datetime(2026, 3, 2, 11)))
        for note, rows, state, when in batches:
            vid += 1
            checksum = hashlib.sha256(rows.to_csv(index=False).encode()).hexdigest()
            versions.append({"version_id": vid, "indicator_id": ind_id, "state": state, "created_by": "demo",
                             "created_at": when, "file_name": f"{ind_id}_demo.csv", "checksum": checksum,
                             "row_count": len(rows), "note": note})
            parts.append(rows.assign(version_id=vid))
    return pd.DataFrame(versions), pd.concat(parts, ignore_index=True)


# ---------------------------------------------------------------- entry point
def generate(store: Store, indicators: list[Indicator], bands_from: int | None = None) -> bool:
    """Write the whole demo city into an empty store in one transaction.

    Returns False when another process generated it meanwhile. `bands_from`: as `add_boundary_set`.
    """
    rng = np.random.default_rng(SEED)
    frame, geo = build_geography(rng)
    attrs_old = _area_attributes(frame, rng)

    split_row = frame.loc[geo["split_idx"]]
    old_id, district = split_row["area_id"], split_row["district"]
    next_seq = frame.loc[frame["district"] == district, "seq"].max() + 1
    new_ids = (f"{district}{next_seq:02d}", f"{district}{next_seq + 1:02d}")
    north, south = _split_cell(split_row.geometry)
    new_frame = pd.concat([frame.drop(index=geo["split_idx"]), gpd.GeoDataFrame({
        "district": [district, district], "area_id": list(new_ids),
        "name": [f"{SPLIT_NAME}-Nord", f"{SPLIT_NAME}-Süd"], "predecessors": [old_id, old_id],
    }, geometry=[north, south], crs=CRS)], ignore_index=True)
    attrs_new = _split_attributes(attrs_old, old_id, new_ids)

    sets = [
        (BoundarySet("gs2012", date(FIRST_YEAR, 1, 1), date(SPLIT_YEAR - 1, 12, 31), "Gebietsstand 2012", ""),
         boundary_levels(frame, geo["outline"])),
        (BoundarySet("gs2022", date(SPLIT_YEAR, 1, 1), None, f"Gebietsstand {SPLIT_YEAR}",
                     f"Ortsteil {SPLIT_NAME} ({old_id}) geteilt in {SPLIT_NAME}-Nord ({new_ids[0]}) "
                     f"und {SPLIT_NAME}-Süd ({new_ids[1]})"),
         boundary_levels(new_frame, geo["outline"])),
    ]

    attrs = {"old": attrs_old, "new": attrs_new}
    values = pd.concat([_values_for(ind, attrs, rng) for ind in indicators], ignore_index=True)
    values["period_end"] = [period_end(p) for p in values["period"]]
    versions, values = _versions(values, indicators)
    points = _points(new_frame, attrs_new, rng)

    with store.writing() as tx:
        if tx.manifest["generation"] > 0:  # another process generated it meanwhile
            return False
        for boundary_set, levels in sets:
            add_boundary_set(tx, boundary_set, levels, CRS, bands_from)
        tx.replace_table("points", points)
        for vid, rows in values.groupby("version_id", sort=True):
            tx.add_values(int(vid), rows)
        tx.manifest["last_version_id"] = int(versions["version_id"].max())
        tx.replace_table("versions", versions.astype({"created_at": "datetime64[s]"}))
        tx.manifest["city"] = {"name": CITY_NAME, "key": CITY_KEY, "source_crs": CRS}
    return True


# One account per role, for the demo city only (a real store starts with none).
# The passwords are public in the README: demo use only.
DEMO_ACCOUNTS = [
    ("oeffentlich", "public", [], "demo-oeffentlich"),
    ("intern", "internal", [], "demo-intern-2026"),
    ("jugendamt", "steward", ["jugend"], "demo-jugendamt"),
    ("sozialamt", "steward", ["soziales"], "demo-sozialamt"),
    ("admin", "admin", [], "demo-admin-2026"),
]


def create_demo_accounts(users) -> None:
    for name, role, departments, password in DEMO_ACCOUNTS:
        users.add(name, role, departments, password, actor="demo")


# The steering page (/ziele) of a fresh demo: targets on four public indicators, set relative to the city's
# latest value so the traffic lights show each colour ((indicator, direction, target ×, warning threshold ×));
# early-warning rules on one; a small register of goals and measures, one measure's review due.
DEMO_TARGETS = [("betreuung_u3", "up", 1.25, 0.95), ("abgang_ohne", "down", 1.1, 1.3),
                ("alo_u25", "down", 0.75, 0.9), ("seu_masern", "up", 1.02, 0.99)]
DEMO_RULES = ("jugend_alo", {"change_pct": 25.0})
DEMO_GOALS = [  # (title, parent's index or None, indicators)
    ("Gute Startchancen für alle Kinder", None, ["betreuung_u3", "seu_masern", "abgang_ohne"]),
    ("Mehr Krippenplätze, wo die Kinderarmut hoch ist", 0, ["betreuung_u3"]),
    ("Weniger Schulabgänge ohne Abschluss", 0, ["abgang_ohne"]),
]
DEMO_MEASURES = [  # (goal's index, title, unit, review day, state)
    (1, "Kita-Ausbau Ost: 60 neue Krippenplätze", "jugend", "2026-06-30", "open"),
    (2, "Schulsozialarbeit an drei Grundschulen", "schule", "2027-03-31", "open"),
    (0, "Impferinnerung mit der Einschulungsuntersuchung", "gesundheit", "2026-09-30", "done"),
]


def seed_steering(atlas) -> None:
    """Targets, warning rules, goals and measures of the demo, through the services (checked and audited as
    a planner's would be), as the demo's planning office ('demo', an admin)."""
    from atlas.services import early_warning, measures, queries, targets, territory
    from auth.permissions import Principal
    office = Principal("demo", "admin", logged_in=True)
    top = territory.top_level(atlas)
    for ind, direction, target, warn in DEMO_TARGETS:
        period = queries.periods(atlas, office, ind)[-1]
        now = float(queries.values(atlas, office, ind, period, top).rows["value"].iloc[0])
        targets.set_target(atlas, office, {"indicator": ind, "direction": direction, "deadline": "2030-12-31",
                                           "target": round(now * target, 1), "warn": round(now * warn, 1)})
    early_warning.set_rules(atlas, office, {"indicator": DEMO_RULES[0], **DEMO_RULES[1]})
    goals: list[dict] = []
    for title, parent, inds in DEMO_GOALS:
        goals.append(measures.add_goal(atlas, office, {"title": title, "indicators": inds, "visibility": "public",
                                                       "parent": goals[parent]["id"] if parent is not None
                                                       else None}))
    for goal, title, unit, review, state in DEMO_MEASURES:
        measures.add_measure(atlas, office, {"goal": goals[goal]["id"], "title": title, "unit": unit,
                                             "review": review, "state": state, "visibility": "public"})


def ensure_demo(atlas) -> None:
    """A fresh install shows a living atlas: generate the demo on first start into an empty store."""
    if atlas.store.exists():
        return
    log.info("empty data directory %s: generating the demo city", atlas.settings.data_dir)
    if generate(atlas.store, atlas.indicators, atlas.settings.canvas_from_areas):
        create_demo_accounts(atlas.users)
        seed_steering(atlas)
