"""Classification: NaN never lands in a class, k shrinks, colours follow polarity."""
from __future__ import annotations

import pytest

from atlas.classify import (
    MISSING_CLASS,
    SCHEMES,
    SUPPRESSED_CLASS,
    classify,
    colors_for,
    legend_entries,
    scheme_for,
)

VALUES = [1.0, 2.0, 2.5, 3.0, 7.0, 8.0, 9.5, 10.0, 20.0, 40.0]


@pytest.mark.parametrize("method", ["quantiles", "natural_breaks", "equal_interval"])
def test_missing_and_suppressed_get_their_own_classes(method):
    values = VALUES + [None, float("nan"), None]
    statuses = ["ok"] * len(VALUES) + ["missing", "missing", "suppressed"]
    c = classify(values, statuses, method, 4)
    assert c.classes[-3:] == [MISSING_CLASS, MISSING_CLASS, SUPPRESSED_CLASS]
    assert all(0 <= x < c.k for x in c.classes[: len(VALUES)])
    assert (c.n_missing, c.n_suppressed) == (2, 1)
    assert sum(c.counts) == len(VALUES)
    assert c.breaks == sorted(c.breaks) and c.breaks[-1] == 40.0


def test_each_value_falls_in_the_class_its_bounds_say():
    c = classify(VALUES, ["ok"] * len(VALUES), "equal_interval", 3)
    lower = [c.minimum] + c.breaks[:-1]
    for v, cls in zip(VALUES, c.classes):
        assert lower[cls] <= v <= c.breaks[cls]


def test_k_shrinks_with_few_distinct_values():
    c = classify([5.0, 5.0, 7.0, 7.0], ["ok"] * 4, "quantiles", 5)
    assert c.k == 2 and c.classes == [0, 0, 1, 1] and len(c.colors) == 2
    one = classify([3.0, 3.0], ["ok", "ok"], "natural_breaks", 5)
    assert one.k == 1 and one.classes == [0, 0]


def test_all_missing_gives_no_classes():
    c = classify([None, None], ["missing", "suppressed"], "quantiles", 5)
    assert c.k == 0 and c.classes == [MISSING_CLASS, SUPPRESSED_CLASS]


def test_quantiles_with_ties_do_not_repeat_bounds():
    values = [0.0] * 8 + [1.0, 2.0, 3.0]
    c = classify(values, ["ok"] * len(values), "quantiles", 5)
    assert len(set(c.breaks)) == len(c.breaks)


def test_polarity_decides_direction():
    assert scheme_for("high_bad", False) == ("OrRd", False)
    assert scheme_for("high_good", False) == ("YlGnBu", False)
    bad, good = colors_for("high_bad", True, 5), colors_for("high_good", True, 5)
    assert bad == good[::-1]  # diverging: red sits on the bad end either way
    assert good[0] == SCHEMES["RdYlBu"][5][0]


def test_legend_speaks_german_and_lists_gaps():
    c = classify([1234.5, 2345.25, None], ["ok", "ok", "suppressed"], "equal_interval", 3)
    entries = legend_entries(c, 1)
    labels = [e["label"] for e in entries]
    assert labels[0].startswith("1.234,5") and labels[-2:] == ["keine Daten", "geheim gehalten"]
    assert entries[-1]["count"] == 1 and entries[-1]["color"] not in sum(SCHEMES["OrRd"].values(), [])
    english = [e["label"] for e in legend_entries(c, 1, "en")]
    assert english[0].startswith("1,234.5") and english[-2:] == ["no data", "suppressed"]


def test_missing_colours_are_in_no_scheme():
    from atlas.classify import MISSING_COLOR, SUPPRESSED_COLOR
    every = {c for scheme in SCHEMES.values() for palette in scheme.values() for c in palette}
    assert MISSING_COLOR not in every and SUPPRESSED_COLOR not in every
