"""Bivariate map and play over time (issue 14): classes against a hand computation, gaps never classed.

The terciles are recomputed here with numpy over the areas 'ok' in both
indicators; the fixed classes of the animation are checked to mean the same
value range in every period.
"""
from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest

from atlas.services import comparison, queries, territory
from auth.permissions import ANONYMOUS

X, Y = "sgb2_u15", "uebergang_gym"


def _hand_class(value: float, values: np.ndarray) -> int:
    """Tercile class by hand: 0 up to the 1/3 quantile, 1 up to the 2/3 quantile, else 2."""
    q1, q2 = np.percentile(values, [100 / 3, 200 / 3])
    return 0 if value <= q1 else (1 if value <= q2 else 2)


def test_bivariate_classes_are_numpy_terciles_of_the_areas_ok_in_both(atlas):
    found = comparison.bivariate(atlas, ANONYMOUS, X, Y)
    level = territory.base_level(atlas)
    px = queries.periods(atlas, ANONYMOUS, X)[-1]
    py = queries.periods(atlas, ANONYMOUS, Y)[-1]
    tx = queries.values(atlas, ANONYMOUS, X, px, level).rows.set_index("area_id")
    ty = queries.values(atlas, ANONYMOUS, Y, py, level).rows.set_index("area_id")
    both = [a for a in tx.index if a in ty.index and tx.loc[a, "status"] == "ok" and ty.loc[a, "status"] == "ok"]
    xs, ys = tx.loc[both, "value"].to_numpy(float), ty.loc[both, "value"].to_numpy(float)
    rows = found.rows.set_index("area_id")
    assert (rows["status"] == "ok").sum() == len(both) > 9
    for a, xv, yv in zip(both, xs, ys):
        assert rows.loc[a, "x_class"] == _hand_class(xv, xs) and rows.loc[a, "y_class"] == _hand_class(yv, ys), a
    counts = rows.loc[rows["status"] == "ok", "x_class"].value_counts()
    assert set(counts.index) == {0, 1, 2}  # three about equal classes
    assert rows.loc[both[0], "label"].count(",") == 1 and any(w in rows.loc[both[0], "label"]
                                                                for w in ("niedrig", "mittel", "hoch"))


def test_suppressed_and_missing_areas_are_never_classed_and_are_listed(atlas):
    found = comparison.bivariate(atlas, ANONYMOUS, X, Y)
    gaps = found.rows[found.rows["status"] != "ok"]
    assert len(gaps) and (gaps["status"] == "suppressed").any()
    assert (gaps["x_class"] < 0).all() and (gaps["y_class"] < 0).all()
    assert gaps.loc[gaps["status"] == "suppressed", "x_class"].eq(-2).all()
    assert gaps["x"].isna().all() and gaps["y"].isna().all()  # no hidden value travels
    assert sorted(gaps["area_id"]) == sorted(found.left_out["area_id"])
    assert set(gaps.loc[gaps["status"] == "suppressed", "label"]) == {"geheim gehalten"}


def test_bivariate_hides_hidden_indicators_like_unknown_ones(atlas):
    assert comparison.bivariate(atlas, ANONYMOUS, "kaufkraft", Y) is None
    assert comparison.bivariate(atlas, ANONYMOUS, X, "no_such_thing") is None


def test_bivariate_label_words(atlas):
    found = comparison.bivariate(atlas, ANONYMOUS, X, Y)
    x, y = found.relation.x.title("de"), found.relation.y.title("de")
    assert comparison.bivariate_label(found.relation, 2, 0) == f"{x} hoch, {y} niedrig"
    assert comparison.bivariate_label(found.relation, 1, 2, lang="en").startswith("medium ")
    assert comparison.bivariate_index(2, 1) == 5 and comparison.bivariate_index(-2, -2) == -2


def test_bivariate_route(client, atlas):
    answer = client.get("/api/v1/bivariate", query_string={"x": X, "y": Y}).get_json()
    found = comparison.bivariate(atlas, ANONYMOUS, X, Y)
    assert [r["area_id"] for r in answer["rows"]] == found.rows["area_id"].tolist()
    assert [r["x_class"] for r in answer["rows"]] == found.rows["x_class"].tolist()
    assert sorted(r["area_id"] for r in answer["left_out"]) == sorted(found.left_out["area_id"])
    assert all(r["x"] is None for r in answer["rows"] if r["status"] != "ok")
    unknown = client.get("/api/v1/bivariate", query_string={"x": "no_such_thing", "y": Y})
    hidden = client.get("/api/v1/bivariate", query_string={"x": "kaufkraft", "y": Y})
    assert unknown.status_code == hidden.status_code == 404 and unknown.get_json() == hidden.get_json()


def test_fixed_classes_are_the_same_across_all_periods(atlas):
    play = comparison.play_frames(atlas, ANONYMOUS, X)
    periods = queries.periods(atlas, ANONYMOUS, X)
    assert [f.period for f in play.frames] == periods and len(periods) > 2
    edges = np.array(play.breaks)
    level = territory.base_level(atlas)
    every = []
    for frame in play.frames:
        rows = queries.values(atlas, ANONYMOUS, X, frame.period, level).rows.set_index("area_id")
        for area, cls in zip(frame.area_ids, frame.classes):
            status = rows.loc[area, "status"] if area in rows.index else "missing"
            if status == "ok" and not pd.isna(rows.loc[area, "value"]):
                value = float(rows.loc[area, "value"])
                every.append(value)
                # one set of limits for every frame: the class is where the value falls among them
                assert cls == min(int(np.searchsorted(edges, value, side="left")), len(edges) - 1), (frame.period, area)
            else:
                assert cls == (-2 if status == "suppressed" else -1), (frame.period, area)
    assert edges[-1] == pytest.approx(max(every)) and play.legend[0]["count"] > 0
    assert sum(e["count"] for e in play.legend if e["kind"] == "class") == len(every)


def test_play_hides_hidden_indicators(atlas):
    assert comparison.play_frames(atlas, ANONYMOUS, "kaufkraft") is None


@pytest.mark.parametrize("fmt,magic", [("png", b"\x89PNG"), ("pdf", b"%PDF"), ("svg", b"<?xml")])
def test_bivariate_picture_is_drawn_for_visible_indicators_only(client, fmt, magic):
    answer = client.get("/api/v1/bivariate", query_string={"x": X, "y": Y, "format": fmt})
    assert answer.status_code == 200 and answer.data.startswith(magic)
    assert f"ortsatlas_bivariat_{X}_{Y}" in answer.headers["Content-Disposition"]
    hidden = client.get("/api/v1/bivariate", query_string={"x": "kaufkraft", "y": Y, "format": fmt})
    unknown = client.get("/api/v1/bivariate", query_string={"x": "no_such_thing", "y": Y, "format": fmt})
    assert hidden.status_code == unknown.status_code == 404 and hidden.get_json() == unknown.get_json()
    assert client.get("/api/v1/bivariate", query_string={"x": X, "y": Y, "format": "gif"}).status_code == 400


def test_bivariate_picture_shows_the_legend_counts(atlas):
    from atlas.export import pictures
    found = comparison.bivariate(atlas, ANONYMOUS, X, Y)
    svg = pictures.bivariate_picture(atlas, ANONYMOUS, X, Y, None, territory.base_level(atlas), "svg").body.decode()
    assert found.relation.x.title("de") in svg and "geheim gehalten" in svg
    counts = [int(((found.rows["x_class"] == cx) & (found.rows["y_class"] == cy)).sum())
              for cy in range(3) for cx in range(3)]
    drawn = [int(n) for n in re.findall(r'font-size: 9px;[^>]*text-anchor: middle"[^>]*>(\d+)</text>', svg)]
    assert drawn == counts  # the key's cells, low to high, row by row
