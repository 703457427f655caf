"""Statistics of the keyed counter-based generator (src/redline/engine/rng.py).

Every draw is a pure function of (seed, step, site, sub, run); these tests check that the values
look uniform (or normal), that neighbouring keys are uncorrelated, and that a run's value never
depends on which other runs were drawn alongside it.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from redline.core.distributions import (
    BetaDraw,
    CategoricalDraw,
    Draw,
    NormalDraw,
    TriangularDraw,
    UniformDraw,
)
from redline.engine import rng
from redline.engine.params import param_site, sample_distribution

N = 1_000_000
P_MIN = 1e-4
MAX_R = 0.005
SITE = rng.site_id("tests.engine.rng")
ALL = np.arange(N, dtype=np.int64)


def _r(x: np.ndarray, y: np.ndarray) -> float:
    return float(np.corrcoef(x, y)[0, 1])


def test_uniform_range_and_dtype() -> None:
    u = rng.uniform(7, 3, SITE, ALL)
    assert u.dtype == np.float64
    assert u.shape == (N,)
    assert u.min() >= 0.0
    assert u.max() < 1.0
    # 53-bit resolution: every value is a multiple of 2**-53
    assert np.all(u * 2.0**53 == np.floor(u * 2.0**53))


@pytest.mark.parametrize("seed", [0, 1, 123456789])
def test_uniform_ks_over_runs(seed: int) -> None:
    u = rng.uniform(seed, 0, SITE, ALL)
    assert stats.kstest(u, "uniform").pvalue > P_MIN


def test_uniform_chi_square_over_runs() -> None:
    u = rng.uniform(42, 5, SITE, ALL)
    counts = np.bincount((u * 1000).astype(np.int64), minlength=1000)
    assert stats.chisquare(counts).pvalue > P_MIN


def test_uniform_ks_over_steps_and_sites() -> None:
    """Values along other key axes (many steps of one run, many sites) are uniform too."""
    one = np.array([17], dtype=np.int64)
    by_step = np.array([rng.uniform(3, t, SITE, one)[0] for t in range(20_000)])
    assert stats.kstest(by_step, "uniform").pvalue > P_MIN
    by_site = np.array([rng.uniform(3, 0, s, one)[0] for s in range(20_000)])
    assert stats.kstest(by_site, "uniform").pvalue > P_MIN
    by_seed = np.array([rng.uniform(s, 0, SITE, one)[0] for s in range(20_000)])
    assert stats.kstest(by_seed, "uniform").pvalue > P_MIN


def test_uniform_serial_pairs_chi_square() -> None:
    """Consecutive runs' values, taken as pairs on a 32×32 grid, fill it evenly."""
    u = rng.uniform(9, 2, SITE, ALL)
    a = (u[0::2] * 32).astype(np.int64)
    b = (u[1::2] * 32).astype(np.int64)
    counts = np.bincount(a * 32 + b, minlength=1024)
    assert stats.chisquare(counts).pvalue > P_MIN


def test_no_correlation_adjacent_runs() -> None:
    u = rng.uniform(11, 4, SITE, np.arange(N + 1, dtype=np.int64))
    assert abs(_r(u[:-1], u[1:])) < MAX_R


def test_no_correlation_adjacent_steps() -> None:
    for t in (-1, 0, 57):
        a = rng.uniform(11, t, SITE, ALL)
        b = rng.uniform(11, t + 1, SITE, ALL)
        assert abs(_r(a, b)) < MAX_R, f"steps {t} and {t + 1}"


def test_no_correlation_adjacent_sites() -> None:
    for site in (0, 1, SITE, 2**62):
        a = rng.uniform(11, 4, site, ALL)
        b = rng.uniform(11, 4, site + 1, ALL)
        assert abs(_r(a, b)) < MAX_R, f"sites {site} and {site + 1}"


def test_no_correlation_adjacent_seeds() -> None:
    for seed in (0, 1, 2**31 - 1, 10**12):
        a = rng.uniform(seed, 4, SITE, ALL)
        b = rng.uniform(seed + 1, 4, SITE, ALL)
        assert abs(_r(a, b)) < MAX_R, f"seeds {seed} and {seed + 1}"


def test_no_correlation_between_sub_draws() -> None:
    a = rng.uniform(5, 4, SITE, ALL, sub=0)
    b = rng.uniform(5, 4, SITE, ALL, sub=1)
    assert abs(_r(a, b)) < MAX_R


def test_neighbouring_keys_give_different_streams() -> None:
    """No two neighbouring keys share a stream shifted by a run or two."""
    base = rng.uniform(1, 1, SITE, np.arange(1000, dtype=np.int64))
    for seed, step, site in ((2, 1, SITE), (1, 2, SITE), (1, 1, SITE + 1)):
        other = rng.uniform(seed, step, site, np.arange(1000, dtype=np.int64))
        for shift in range(-3, 4):
            a = base[max(shift, 0) : 1000 + min(shift, 0)]
            b = other[max(-shift, 0) : 1000 + min(-shift, 0)]
            assert not np.any(a == b), f"key ({seed}, {step}, {site}) shift {shift}"


def test_normal_moments_and_ks() -> None:
    z = rng.standard_normal(3, 2, SITE, ALL)
    assert np.all(np.isfinite(z))
    assert abs(z.mean()) < 5 / np.sqrt(N)
    assert abs(z.std() - 1.0) < 0.005
    assert stats.kstest(z, "norm").pvalue > P_MIN
    # tails: P(|Z| > 3) = 0.0027
    tail = int(np.sum(np.abs(z) > 3))
    expected = 2 * stats.norm.sf(3) * N
    assert abs(tail - expected) < 5 * np.sqrt(expected)


def test_normal_no_correlation_adjacent_runs_and_steps() -> None:
    z = rng.standard_normal(3, 2, SITE, np.arange(N + 1, dtype=np.int64))
    assert abs(_r(z[:-1], z[1:])) < MAX_R
    w = rng.standard_normal(3, 3, SITE, np.arange(N + 1, dtype=np.int64))
    assert abs(_r(z, w)) < MAX_R


def test_keyed_draws_match_functions() -> None:
    r = np.arange(100, dtype=np.int64)
    draws = rng.KeyedDraws(seed=4, step=6, runs=r)
    assert np.array_equal(draws.uniform(SITE), rng.uniform(4, 6, SITE, r))
    assert np.array_equal(draws.uniform(SITE, 1), rng.uniform(4, 6, SITE, r, 1))
    assert np.array_equal(draws.normal(SITE), rng.standard_normal(4, 6, SITE, r))


def test_site_id_is_stable_63_bit() -> None:
    a = rng.site_id("actions.strike@RUS.effects.x#0")
    assert a == rng.site_id("actions.strike@RUS.effects.x#0")
    assert a != rng.site_id("actions.strike@RUS.effects.x#1")
    assert 0 <= a < 2**63


@settings(max_examples=50, deadline=None, derandomize=True)
@given(
    seed=st.integers(-(2**63), 2**64 - 1),
    keys=st.lists(
        st.tuples(st.integers(0, 2**63 - 1), st.integers(0, 300)), min_size=1, max_size=6
    ),
    steps=st.integers(1, 40),
)
def test_stream_origin_tables_are_the_scalar_origins(
    seed: int, keys: list[tuple[int, int]], steps: int
) -> None:
    """The fused engine's table of stream origins, computed as arrays, holds exactly the
    origins the other engines key their draws with (sites up to 63 bits, subs past a byte)."""
    sites, subs = [k[0] for k in keys], [k[1] for k in keys]
    table = rng.stream_origins(seed, steps, sites, subs)
    assert table.shape == (steps, len(keys)) and table.dtype == np.uint64
    want = [[rng.stream_origin(seed, t, s, b) for s, b in keys] for t in range(steps)]
    assert table.tolist() == want


# -- values do not depend on which runs are drawn together -----------------------------------

BIG = 100_000


@pytest.fixture(scope="module")
def big_draws() -> dict[str, np.ndarray]:
    r = np.arange(BIG, dtype=np.int64)
    return {
        "uniform": rng.uniform(21, 8, SITE, r),
        "uniform_sub": rng.uniform(21, 8, SITE, r, sub=3),
        "normal": rng.standard_normal(21, 8, SITE, r),
    }


def _subsets() -> list[np.ndarray]:
    gen = np.random.default_rng(0)
    return [
        np.array([0]),
        np.array([BIG - 1]),
        np.array([12345]),
        np.array([5, 6]),
        np.array([99_998, 3]),
        gen.choice(BIG, 17, replace=False),
        np.arange(40_000, 40_017),
        gen.permutation(BIG),
    ]


@pytest.mark.parametrize("subset", _subsets(), ids=lambda s: f"len{len(s)}")
def test_bit_identical_whatever_the_batch(
    big_draws: dict[str, np.ndarray], subset: np.ndarray
) -> None:
    r = subset.astype(np.int64)
    assert np.array_equal(rng.uniform(21, 8, SITE, r), big_draws["uniform"][r])
    assert np.array_equal(rng.uniform(21, 8, SITE, r, sub=3), big_draws["uniform_sub"][r])
    got = rng.standard_normal(21, 8, SITE, r)
    want = big_draws["normal"][r]
    assert np.array_equal(got.view(np.uint64), want.view(np.uint64)), "normal draws differ"


def test_run_ids_as_other_integer_types() -> None:
    r64 = np.arange(50, dtype=np.int64)
    assert np.array_equal(
        rng.uniform(1, 1, SITE, r64), rng.uniform(1, 1, SITE, np.arange(50, dtype=np.int32))
    )


DISTRIBUTIONS: list[Draw] = [
    UniformDraw(low=-2.0, high=3.0),
    NormalDraw(mean=1.0, sd=2.0),
    TriangularDraw(low=0.0, mode=0.3, high=1.0),
    BetaDraw(alpha=2.0, beta=5.0, low=-1.0, high=1.0),
    CategoricalDraw(values=(1.0, 2.0, 3.0), weights=(0.2, 0.5, 0.3)),
]


def _kind(dist: Draw) -> str:
    return type(dist).__name__.removesuffix("Draw").lower()


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=_kind)
def test_parameter_draws_bit_identical_whatever_the_batch(dist: Draw) -> None:
    site = param_site("theta")
    whole = sample_distribution(dist, 3, site, np.arange(BIG, dtype=np.int64))
    for subset in _subsets():
        part = sample_distribution(dist, 3, site, subset.astype(np.int64))
        assert np.array_equal(part.view(np.uint64), whole[subset].view(np.uint64))


@pytest.mark.parametrize("dist", DISTRIBUTIONS, ids=_kind)
def test_parameter_distributions(dist: Draw) -> None:
    """Drawn uncertainties follow their declared distributions (KS or chi-square)."""
    n = 200_000
    x = sample_distribution(dist, 8, param_site("theta"), np.arange(n, dtype=np.int64))
    if isinstance(dist, UniformDraw):
        p = stats.kstest(x, "uniform", args=(dist.low, dist.high - dist.low)).pvalue
    elif isinstance(dist, NormalDraw):
        p = stats.kstest(x, "norm", args=(dist.mean, dist.sd)).pvalue
    elif isinstance(dist, TriangularDraw):
        c = (dist.mode - dist.low) / (dist.high - dist.low)
        p = stats.kstest(x, "triang", args=(c, dist.low, dist.high - dist.low)).pvalue
    elif isinstance(dist, BetaDraw):
        p = stats.kstest(
            x, "beta", args=(dist.alpha, dist.beta, dist.low, dist.high - dist.low)
        ).pvalue
    else:
        assert isinstance(dist, CategoricalDraw)
        counts = np.array([np.sum(x == v) for v in dist.values])
        assert counts.sum() == n
        weights = np.asarray(dist.weights)
        p = stats.chisquare(counts, weights / weights.sum() * n).pvalue
    assert p > P_MIN
