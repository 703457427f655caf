"""The ziggurat normal draw (src/redline/engine/ziggurat.py, rng.standard_normal and the fused
runtime's _normal): its tables are the ziggurat of the normal density, its draws are standard
normal in the body and in the tails, and the NumPy path and the compiled path give the same
bits for every key — the rare wedge and tail cases included, which the test counts to show
they were met.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import pytest
from scipy import stats

from redline.engine import rng, ziggurat

SITE = rng.site_id("tests.engine.ziggurat")
RUNS = np.arange(500_000, dtype=np.int64)
KEYS = [(11, 4, SITE), (2**40 + 3, 0, rng.site_id("another site"))]


@pytest.fixture(scope="module")
def numpy_draws() -> list[np.ndarray]:
    return [rng.standard_normal(seed, step, site, RUNS) for seed, step, site in KEYS]


def test_tables_are_the_ziggurat_of_the_normal_density() -> None:
    """Every layer has the same area V, the top one closes at the mode, and the tables match
    NumPy's own (numpy/random/src/distributions/ziggurat_constants.h) to rounding."""
    t = ziggurat.TABLES
    v = ziggurat.layer_area()
    edges = t.width * 2.0**52
    top = edges[1]
    assert top * (1.0 - math.exp(-0.5 * top * top)) == pytest.approx(v, rel=1e-9)
    for i in range(2, 256):
        assert edges[i] * (t.density[i - 1] - t.density[i]) == pytest.approx(v, rel=1e-9)
        assert edges[i - 1] < edges[i]
        assert t.density[i] == math.exp(-0.5 * edges[i] * edges[i])
        assert t.threshold[i] == int(edges[i - 1] / edges[i] * 2.0**52)
    assert t.threshold[1] == 0 and t.density[0] == 1.0
    assert np.all(np.diff(t.density) < 0)
    # NumPy's constants, to within the rounding of a float64 recurrence
    assert int(t.threshold[0]) == pytest.approx(0x000EF33D8025EF6A, rel=1e-13)
    assert int(t.threshold[2]) == pytest.approx(0x000C08BE98FBC6A8, rel=1e-13)
    assert int(t.threshold[255]) == pytest.approx(0x000F1A5A4B331C4A, rel=1e-13)
    assert t.width[0] == pytest.approx(8.68362706080130616677e-16, rel=1e-13)
    assert t.width[1] == pytest.approx(4.77933017572773682428e-17, rel=1e-12)
    assert t.width[255] == pytest.approx(8.11384933765648418565e-16, rel=1e-15)
    assert t.density[1] == pytest.approx(9.77101701267671596263e-01, rel=1e-13)
    assert not t.width.flags.writeable, "the tables every backend shares are read-only"


def test_draws_are_standard_normal_with_normal_tails(numpy_draws: list[np.ndarray]) -> None:
    """On 10^6 draws (two keys' 5·10^5 runs): Kolmogorov–Smirnov and a chi-square over 1000
    equiprobable bins against N(0, 1), both signs equally often, and the counts beyond 2, 3
    and the tail's start R (only the tail method draws there), on either side and on each,
    within five binomial standard errors of the normal's. (Wrong tables fail the test above;
    a wrong sign, layer area or wedge density fails this one.)"""
    z = np.concatenate(numpy_draws)
    n = z.size
    assert stats.kstest(z, "norm").pvalue > 1e-4
    bins = stats.norm.ppf(np.linspace(0.0, 1.0, 1001))
    assert stats.chisquare(np.histogram(z, bins)[0]).pvalue > 1e-4
    assert abs(int(np.sum(z > 0)) - n / 2) < 5 * math.sqrt(n / 4)
    for cut in (2.0, 3.0, ziggurat.R):
        p = 2 * stats.norm.sf(cut)
        beyond = int(np.sum(np.abs(z) > cut))
        assert abs(beyond - n * p) < 5 * math.sqrt(n * p * (1 - p)) + 1, cut
        for side in (z > cut, z < -cut):
            assert abs(int(np.sum(side)) - n * p / 2) < 5 * math.sqrt(n * p / 2) + 1, cut


def test_numpy_and_compiled_draws_are_bit_identical(numpy_draws: list[np.ndarray]) -> None:
    """10^6 keys through the NumPy path and through the fused engine's compiled _normal give
    the same bits; among them the first attempts rejected into the wedge test (accepted there
    or retried) and into the tail are counted, so every path was taken."""
    loop = _compiled_loop()
    met = {"wedge accepted": 0, "wedge retried": 0, "tail": 0}
    for (seed, step, site), want in zip(KEYS, numpy_draws, strict=True):
        o0 = np.uint64(rng.stream_origin(seed, step, site, 0))
        o1 = np.uint64(rng.stream_origin(seed, step, site, 1))
        got = loop(o0, o1, RUNS)
        assert np.array_equal(got.view(np.uint64), want.view(np.uint64))
        first = rng.keyed_bits(seed, step, site, RUNS)
        layer = (first & np.uint64(0xFF)).astype(np.intp)
        magnitude = (first >> np.uint64(9)) & np.uint64(2**52 - 1)
        rejected = magnitude >= ziggurat.TABLES.threshold[layer]
        point = magnitude * ziggurat.TABLES.width[layer]
        point[(first >> np.uint64(8)) & np.uint64(1) == 1] *= -1.0
        wedge = rejected & (layer != 0)
        met["wedge accepted"] += int(np.sum(wedge & (want == point)))
        met["wedge retried"] += int(np.sum(wedge & (want != point)))
        tail = rejected & (layer == 0)
        met["tail"] += int(np.sum(tail))
        assert np.all(np.abs(want[tail]) > ziggurat.R) and np.all(
            np.sign(want[tail]) == np.sign(point[tail])
        )
    assert met["wedge accepted"] > 1000 and met["wedge retried"] > 1000 and met["tail"] > 50, met


@functools.cache
def _compiled_loop() -> Any:
    """A compiled loop calling the fused runtime's _normal over runs (Numba imported only
    when the test runs)."""
    import numba

    from redline.engine.fused.runtime import _normal

    @numba.njit(error_model="numpy")
    def loop(o0: Any, o1: Any, runs: Any) -> Any:
        out = np.empty(runs.shape[0])
        for i in range(runs.shape[0]):
            out[i] = _normal(o0, o1, runs[i])
        return out

    return loop
