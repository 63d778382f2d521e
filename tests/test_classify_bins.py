"""Quantile and equal-interval breaks without mapclassify: the same breaks, and a worker never loads it for them.

mapclassify pulls in scikit-learn, SciPy and numba (~240 MB per worker process,
measured as RSS in bench/); `atlas.classify` computes the two common methods
itself with mapclassify's arithmetic and imports it only for natural breaks.
"""
from __future__ import annotations

import subprocess
import sys

import mapclassify
import numpy as np
import pytest

from atlas import classify


def _samples() -> list[np.ndarray]:
    rng = np.random.default_rng(11)
    return [
        rng.normal(20, 5, 50), rng.lognormal(2, 1, 1000), rng.integers(0, 6, 200).astype(float),  # many ties
        np.round(rng.uniform(0, 100, 33), 1), np.array([1.5, 1.5, 1.5, 2.0, 9.0, 9.0, 40.0]),
        rng.uniform(-3, 3, 1041), np.arange(1000, dtype=float), np.array([0.1, 0.2, 0.30000000000000004, 0.7]),
    ]


@pytest.mark.parametrize("k", range(classify.K_RANGE[0], classify.K_RANGE[1] + 1))
def test_quantile_and_equal_interval_breaks_equal_mapclassify(k):
    for values in _samples():
        assert classify._quantile_bins(values, k).tolist() == mapclassify.Quantiles(values, k=k).bins.tolist()
        assert classify._equal_interval_bins(values, k).tolist() == \
            mapclassify.EqualInterval(values, k=k).bins.tolist()
        for method, classifier in (("quantiles", mapclassify.Quantiles), ("equal_interval", mapclassify.EqualInterval)):
            assert classify._breaks(values, method, k) == _breaks_with_mapclassify(values, classifier, k)


def _breaks_with_mapclassify(values: np.ndarray, classifier, k: int) -> list[float]:
    """What `classify._breaks` returned when it asked mapclassify for these methods."""
    bins = np.unique(np.asarray(classifier(values, k=k).bins, dtype=float))
    bins[-1] = max(bins[-1], values.max())
    return bins.tolist()


def test_the_app_and_two_methods_do_not_load_mapclassify():
    """Nor SciPy (~28 MB): modules that need it (cluster typology) import it where they use it."""
    code = (
        "import sys; import atlas.web.app; from atlas import classify\n"
        "for m in ('quantiles', 'equal_interval'):\n"
        "    classify.classify([1.0, 2.0, 3.0, 5.0, 8.0, 13.0, None], ['ok'] * 6 + ['missing'], m, 5)\n"
        "heavy = [m for m in ('mapclassify', 'sklearn', 'numba', 'scipy') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "classify.classify([1.0, 2.0, 3.0, 5.0, 8.0, 13.0], ['ok'] * 6, 'natural_breaks', 3)\n"
        "assert 'mapclassify' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_a_worker_loads_matplotlib_and_reportlab_with_its_first_picture_or_pdf_not_at_start():
    """~20 MB and ~1.5 s per worker that never draws (issue 19): the explorer needs titles, not figures."""
    code = (
        "import sys; import atlas.web.app\n"
        "from atlas.export import pictures\n"
        "heavy = [m for m in ('matplotlib', 'reportlab') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "from atlas import charts\n"
        "pictures.draw_chart(charts.ChartSpec(title='t', unit='%', decimals=1, periods=('2024',), "
        "period_labels=('2024',), lines=(), markers=(), gaps_note=''))\n"
        "assert 'matplotlib' in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
