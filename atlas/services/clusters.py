"""Cluster typology: areas grouped by how alike they are over several standardised indicators.

The user picks indicators, a period, a level and the number of clusters;
scipy does the computation (k-means with a fixed seed, or Ward's
hierarchical clustering), and each cluster is described by its indicator
means and in words ("über dem Durchschnitt: …"). Only values the viewer may
see enter: an area with a missing or suppressed input is left out and
listed, so no cluster mean rests on a hidden cell.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from atlas.messages import Message
from atlas.services import queries, territory
from atlas.services.context import Atlas
from auth.permissions import Principal

SEED = 20261201
RESTARTS = 10  # k-means starts per run, as scikit-learn's n_init
NOTABLE_SD = 0.5  # a cluster mean this many standard deviations from the mean of all areas is described


class ClusterError(ValueError):
    """A request the clustering cannot serve; the message (a catalogue `Message`, said in the reader's language
    with `say(exc.args[0], lang)`) says what to change (`status`: 400 malformed, 409 well-formed but the data
    cannot give it)."""

    def __init__(self, message: Message, status: int = 400):
        super().__init__(message)
        self.status = status


@dataclass
class Clusters:
    areas: pd.DataFrame  # area_id, name, cluster (1..k)
    profiles: list[dict]  # per cluster: size, means, words
    left_out: list[dict]
    method_de: str
    method_en: str


def parse(atlas: Atlas, raw) -> dict:
    """The request, checked: 2–12 indicators, k from 2 to 10, kmeans or ward, a level of the store."""
    if not isinstance(raw, dict):
        raise ClusterError(Message("cl_err_json_object"))
    inds = raw.get("indicators")
    if not isinstance(inds, list) or not 2 <= len(inds) <= 12 or not all(isinstance(i, str) for i in inds):
        raise ClusterError(Message("cl_err_indicators"))
    k = raw.get("k", 4)
    if isinstance(k, float) and k.is_integer():  # 7.0 is an integer in JSON
        k = int(k)
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= 10:
        raise ClusterError(Message("cl_err_k"))
    method = raw.get("method", "kmeans")
    if method not in ("kmeans", "ward"):
        raise ClusterError(Message("cl_err_method"))
    level = raw.get("level") or territory.base_level(atlas)
    if level not in territory.level_ids(atlas):
        raise ClusterError(Message("cl_err_level", choices=list(territory.level_ids(atlas))))
    if not isinstance(raw.get("period"), str):
        raise ClusterError(Message("cl_err_period"))
    return {"indicators": list(dict.fromkeys(inds)), "k": k, "method": method, "level": level,
            "period": raw["period"]}


def cluster(atlas: Atlas, viewer: Principal, req: dict) -> Clusters | None:
    """The typology; None when an indicator is not visible to the viewer (like one that does not exist)."""
    table, names, left_out = _inputs(atlas, viewer, req)
    if table is None:
        return None
    if len(table) < 2 * req["k"]:
        raise ClusterError(Message("cl_err_too_few", n=len(table), k=req["k"]), 409)
    spread = table.std(ddof=0).replace(0, 1.0)
    z = ((table - table.mean()) / spread).to_numpy()
    labels = _labels(z, req["k"], req["method"])
    areas = pd.DataFrame({"area_id": table.index, "name": table.index.map(names), "cluster": labels})
    profiles = [_profile(atlas, table, z, labels, c) for c in range(1, req["k"] + 1)]
    how = "k-means (fester Startwert)" if req["method"] == "kmeans" else "hierarchisch nach Ward"
    de = (f"{req['k']} Cluster, {how}, über {len(table)} {territory.label(atlas, req['level'], 'de', True)} und "
          f"{len(table.columns)} z-standardisierte Indikatoren ({req['period']}); Gebiete mit fehlenden oder "
          f"geheim gehaltenen Werten sind ausgelassen ({len(left_out)}). Beschrieben ist, was mehr als "
          f"{str(NOTABLE_SD).replace('.', ',')} Standardabweichungen vom Mittel aller Gebiete abweicht.")
    en = (f"{req['k']} clusters, {'k-means (fixed seed)' if req['method'] == 'kmeans' else 'Ward hierarchical'}, "
          f"over {len(table)} areas and {len(table.columns)} z-standardised indicators ({req['period']}); areas "
          f"with missing or suppressed values left out ({len(left_out)}).")
    return Clusters(areas, profiles, left_out, de, en)


def _inputs(atlas: Atlas, viewer: Principal, req: dict):
    """One column per indicator over the areas where every input is usable; the others as left out."""
    columns, names, left = {}, {}, {}
    for ind_id in req["indicators"]:
        rows = queries.value_rows(atlas, viewer, ind_id, req["period"], req["level"])
        if rows is None:
            return None, None, None
        rows = rows[~rows["area_id"].str.endswith("-nz")]
        names.update(zip(rows["area_id"], rows["name"]))
        usable = rows["status"] == "ok"
        columns[ind_id] = rows.loc[usable].set_index("area_id")["value"].astype(float)
        for r in rows.loc[~usable].itertuples(index=False):
            left.setdefault(r.area_id, {"area_id": r.area_id, "name": r.name, "reasons": []})["reasons"].append(
                f"{ind_id}: {r.status}")
    table = pd.DataFrame(columns).dropna()
    for area in set(names) - set(table.index) - set(left):
        left[area] = {"area_id": area, "name": names[area], "reasons": ["missing"]}
    return table.sort_index(), names, sorted(left.values(), key=lambda r: r["area_id"])


def _labels(z: np.ndarray, k: int, method: str) -> np.ndarray:
    """Cluster numbers 1..k, numbered by size (largest first) so that equal runs give equal numbers."""
    # SciPy is imported here: ~28 MB in every worker at start otherwise, for a page few open (issue 19).
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.cluster.vq import kmeans2
    if method == "kmeans":  # the best of several seeded starts (one start can settle in a poor split)
        runs = [kmeans2(z, k, seed=SEED + run, minit="++") for run in range(RESTARTS)]
        _, raw = min(runs, key=lambda run: ((z - run[0][run[1]]) ** 2).sum())
    else:
        raw = fcluster(linkage(z, method="ward"), k, criterion="maxclust") - 1
    order = pd.Series(raw).value_counts(sort=True).index  # ties: value_counts keeps first appearance order
    renumber = {old: new for new, old in enumerate(order, start=1)}
    return np.array([renumber[c] for c in raw])


def _profile(atlas: Atlas, table: pd.DataFrame, z: np.ndarray, labels: np.ndarray, c: int) -> dict:
    members = labels == c
    means = table[members].mean()
    mean_z = z[members].mean(axis=0) if members.any() else np.zeros(z.shape[1])
    titles = {i: atlas.indicator_by_id[i].title_de for i in table.columns}
    high = [titles[i] for i, v in zip(table.columns, mean_z) if v >= NOTABLE_SD]
    low = [titles[i] for i, v in zip(table.columns, mean_z) if v <= -NOTABLE_SD]
    words = "; ".join(part for part in (("über dem Durchschnitt: " + ", ".join(high)) if high else "",
                                        ("unter dem Durchschnitt: " + ", ".join(low)) if low else "") if part)
    return {"cluster": c, "size": int(members.sum()), "means": {i: float(v) for i, v in means.items()},
            "z": {i: round(float(v), 3) for i, v in zip(table.columns, mean_z)},
            "description_de": words or "nahe am Durchschnitt aller Gebiete"}
