"""Cluster typology: well-separated groups are found, runs repeat, hidden values never enter."""
from __future__ import annotations

import numpy as np
import pytest

from atlas.services import clusters, queries
from auth import ANONYMOUS
from tests.conftest import fresh_client, writer

REQUEST = {"indicators": ["sgb2_u15", "betreuung_u3", "uebergang_gym", "bev_65plus"], "period": "2024", "k": 4}


@pytest.mark.parametrize("method", ["kmeans", "ward"])
def test_three_separate_groups_are_found_exactly(method):
    rng = np.random.default_rng(1)
    centres = np.array([[0, 0, 0], [8, 0, 0], [0, 8, 8]])
    truth = np.repeat([0, 1, 2], [12, 9, 6])
    z = centres[truth] + rng.normal(0, 0.3, (len(truth), 3))
    labels = clusters._labels(z, 3, method)
    pairs = {(t, label) for t, label in zip(truth, labels)}
    assert len(pairs) == 3 and sorted(np.bincount(labels)[1:]) == [6, 9, 12]
    assert labels[0] == 1 and labels[-1] == 3  # numbered by size, largest first


def test_a_run_repeats_and_describes_each_cluster_in_words(atlas):
    req = clusters.parse(atlas, REQUEST)
    first, again = clusters.cluster(atlas, ANONYMOUS, req), clusters.cluster(atlas, ANONYMOUS, req)
    assert first.areas.equals(again.areas)
    assert sum(p["size"] for p in first.profiles) == len(first.areas)
    means = first.areas.merge(queries.value_rows(atlas, ANONYMOUS, "sgb2_u15", "2024", "ortsteil"), on="area_id")
    by_hand = means.groupby("cluster")["value"].mean()
    assert all(np.isclose(p["means"]["sgb2_u15"], by_hand[p["cluster"]]) for p in first.profiles)
    assert any("über dem Durchschnitt" in p["description_de"] for p in first.profiles)


def test_areas_with_a_suppressed_input_are_left_out_and_listed(atlas):
    found = clusters.cluster(atlas, ANONYMOUS, clusters.parse(atlas, REQUEST))
    hidden = set(queries.value_rows(atlas, ANONYMOUS, "uebergang_gym", "2024", "ortsteil")
                 .query("status == 'suppressed'")["area_id"])
    assert hidden and not hidden & set(found.areas["area_id"])
    assert hidden <= {r["area_id"] for r in found.left_out}


def test_the_route_for_stewards_with_clear_refusals(dash_app):
    assert fresh_client(dash_app).post("/api/v1/clusters/preview", json=REQUEST).status_code == 404
    steward, token = writer(dash_app, "sozialamt")
    ok = steward.post("/api/v1/clusters/preview", json=REQUEST, headers={"X-CSRFToken": token}).get_json()
    assert len(ok["clusters"]) == 4 and ok["method_de"].startswith("4 Cluster")
    bad = steward.post("/api/v1/clusters/preview", json={**REQUEST, "k": 40}, headers={"X-CSRFToken": token})
    assert bad.status_code == 400 and "k:" in bad.get_json()["message"]
