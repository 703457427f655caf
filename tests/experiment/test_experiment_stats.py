"""Interval estimates and cumulative incidence against known values: statsmodels, lifelines and
arithmetic written out by hand."""

from __future__ import annotations

import math
from dataclasses import replace
from statistics import NormalDist

import numpy as np
import pyarrow.compute as pc
import pytest
from experiment_support import Reference
from hypothesis import given
from hypothesis import strategies as st

from redline.analysis.compare import (
    PointCounts,
    compare_along,
    difference,
    format_difference,
    percent,
)
from redline.analysis.incidence import aalen_johansen, outcome_incidence
from redline.stats import wilson_interval

CASES = [(0, 10), (10, 10), (3, 10), (0, 1), (1, 1), (57, 200), (1, 20_000), (19_999, 20_000)]


def wilson_by_hand(hits: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """(p + z²/2n ± z·sqrt(p(1−p)/n + z²/4n²)) / (1 + z²/n)."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = hits / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z / (1 + z * z / n) * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return centre - half, centre + half


@pytest.mark.parametrize(("hits", "n"), CASES)
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_wilson_interval_matches_statsmodels_and_the_formula(
    hits: int, n: int, confidence: float
) -> None:
    from statsmodels.stats.proportion import proportion_confint  # (not at collection: pandas)

    lo, hi = wilson_interval(hits, n, confidence)
    sm_lo, sm_hi = proportion_confint(hits, n, alpha=1 - confidence, method="wilson")
    hand_lo, hand_hi = wilson_by_hand(hits, n, confidence)
    assert lo == pytest.approx(sm_lo, abs=1e-12)
    assert hi == pytest.approx(sm_hi, abs=1e-12)
    assert lo == pytest.approx(hand_lo, abs=1e-12)
    assert hi == pytest.approx(hand_hi, abs=1e-12)
    assert 0.0 <= lo <= hits / n + 1e-12
    assert hits / n - 1e-12 <= hi <= 1.0
    if hits == 0:
        assert lo == pytest.approx(0.0, abs=1e-15)
    if hits == n:
        assert hi == pytest.approx(1.0, abs=1e-15)


def test_wilson_interval_known_value_and_empty() -> None:
    # 3 of 10 at 95%: z = 1.959964, z² = 3.841459, 1 + z²/n = 1.384146;
    # centre = (0.3 + 3.841459/20) / 1.384146 = 0.492073 / 1.384146 = 0.355507
    # half = 1.959964 / 1.384146 · sqrt(0.3·0.7/10 + 3.841459/400)
    #      = 1.416010 · sqrt(0.021 + 0.009604) = 1.416010 · 0.174939 = 0.247715
    lo, hi = wilson_interval(3, 10)
    assert lo == pytest.approx(0.355507 - 0.247715, abs=2e-6)  # 0.107791
    assert hi == pytest.approx(0.355507 + 0.247715, abs=2e-6)  # 0.603222
    assert all(math.isnan(x) for x in wilson_interval(0, 0))


def test_aalen_johansen_by_hand() -> None:
    """Ten runs, horizon 5 (steps 0..4); cause 1 and cause 2 compete; one run is censored at
    step 2, four reach the horizon (censored at step 4)."""
    #                A  B  C  D  E  F  G  H  I  J
    times = np.array([0, 1, 1, 2, 2, 3, 4, 4, 4, 4], dtype=np.int64)
    causes = np.array([1, 2, 1, 1, 0, 2, 0, 0, 0, 0], dtype=np.int64)
    # S = probability of no event yet, n = at risk; CIF_k(t) = CIF_k(t−1) + S(t−1)·d_k(t)/n(t)
    # step 0: n=10, d1=1 (A):      CIF1 = 0 + 1·1/10 = 0.1;    S = 1·(1 − 1/10) = 0.9
    # step 1: n=9, d1=1 (C), d2=1 (B): CIF1 = 0.1 + 0.9·1/9 = 0.2, CIF2 = 0 + 0.9·1/9 = 0.1;
    #         S = 0.9·(1 − 2/9) = 0.7
    # step 2: n=7, d1=1 (D), E censored (still at risk at 2): CIF1 = 0.2 + 0.7·1/7 = 0.3;
    #         S = 0.7·(1 − 1/7) = 0.6
    # step 3: n=5 (F..J), d2=1 (F): CIF2 = 0.1 + 0.6·1/5 = 0.22; S = 0.6·(1 − 1/5) = 0.48
    # step 4: n=4, no events.       CIF1 + CIF2 + S = 0.3 + 0.22 + 0.48 = 1
    np.testing.assert_allclose(
        aalen_johansen(times, causes, 5, cause=1), [0.1, 0.2, 0.3, 0.3, 0.3], atol=1e-12
    )
    np.testing.assert_allclose(
        aalen_johansen(times, causes, 5, cause=2), [0.0, 0.1, 0.1, 0.22, 0.22], atol=1e-12
    )
    # the order of the runs does not matter
    order = np.array([9, 3, 0, 7, 5, 1, 8, 2, 6, 4])
    np.testing.assert_allclose(
        aalen_johansen(times[order], causes[order], 5, cause=1),
        [0.1, 0.2, 0.3, 0.3, 0.3],
        atol=1e-12,
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("cause", [1, 2])
def test_aalen_johansen_matches_lifelines_without_ties(seed: int, cause: int) -> None:
    rng = np.random.default_rng(seed)
    n = 60
    times = rng.permutation(n).astype(np.int64)  # every step holds exactly one run: no ties
    causes = rng.choice([0, 1, 2], size=n, p=[0.3, 0.4, 0.3]).astype(np.int64)
    causes[times == 0] = cause  # an event at the very first step too
    ours = aalen_johansen(times, causes, n, cause=cause)
    # lifelines' curve starts at 0 at time 0 (an event at time 0 would not show there): shift
    # every step by one, so that step t is time t + 1
    from lifelines import AalenJohansenFitter  # (not at collection: pandas, autograd)

    fitter = AalenJohansenFitter(calculate_variance=False)
    fitter.fit(times + 1, causes, event_of_interest=cause)
    curve = fitter.cumulative_density_.iloc[:, 0]
    theirs = [float(curve[curve.index <= t + 1].iloc[-1]) for t in range(n)]
    np.testing.assert_allclose(ours, theirs, atol=1e-12)


def test_outcome_incidence_equals_the_share_hit_by_each_step(reference: Reference) -> None:
    """Runs are censored only at the horizon, so the estimate is the plain share of runs that
    reached the outcome by each step."""
    horizon = 24
    for point in range(8):
        table = reference.table.filter(pc.equal(reference.table.column("point"), point))
        for outcome in ("article5", "war", "nuclear_use", "settlement"):
            first = table.column(f"first.{outcome}").to_numpy(zero_copy_only=False)
            first = np.where(np.isnan(first.astype(float)), np.inf, first.astype(float))
            share = [(first <= t).mean() for t in range(horizon)]
            np.testing.assert_allclose(
                outcome_incidence(table, outcome, horizon),
                share,
                atol=1e-12,
                err_msg=f"point {point}, {outcome}",
            )


def newcombe_by_hand(h1: int, n1: int, h2: int, n2: int) -> tuple[float, float]:
    """Newcombe's hybrid score interval (method 10): from the Wilson intervals of each side."""
    p1, p2 = h1 / n1, h2 / n2
    l1, u1 = wilson_by_hand(h1, n1)
    l2, u2 = wilson_by_hand(h2, n2)
    d = p1 - p2
    return (
        d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


@pytest.mark.parametrize(
    ("h1", "n1", "h2", "n2"),
    [
        (56, 70, 48, 80),
        (9, 10, 3, 10),
        (0, 10, 0, 20),
        (10, 10, 0, 10),
        (1, 20_000, 30, 20_000),
        (5_000, 20_000, 5_000, 20_000),
    ],
)
def test_difference_matches_statsmodels_newcombe(h1: int, n1: int, h2: int, n2: int) -> None:
    from statsmodels.stats.proportion import confint_proportions_2indep

    d = difference("war", "a", h1, n1, "b", h2, n2)
    lo, hi = confint_proportions_2indep(h1, n1, h2, n2, method="newcomb", compare="diff")
    hand_lo, hand_hi = newcombe_by_hand(h1, n1, h2, n2)
    assert (d.outcome, d.a, d.b) == ("war", "a", "b")
    assert d.p_a == h1 / n1
    assert d.p_b == h2 / n2
    assert d.diff == pytest.approx(h1 / n1 - h2 / n2, abs=1e-15)
    assert d.lo == pytest.approx(lo, abs=1e-12)
    assert d.hi == pytest.approx(hi, abs=1e-12)
    assert d.lo == pytest.approx(hand_lo, abs=1e-12)
    assert d.hi == pytest.approx(hand_hi, abs=1e-12)
    assert -1 <= d.lo <= d.diff <= d.hi <= 1


def test_newcombe_known_value() -> None:
    # Newcombe (1998), table II, example (a): 56/70 − 48/80 = 0.2000, interval 0.0524 to 0.3339
    d = difference("x", "a", 56, 70, "b", 48, 80)
    assert d.diff == pytest.approx(0.2)
    assert d.lo == pytest.approx(0.0524, abs=5e-5)
    assert d.hi == pytest.approx(0.3339, abs=5e-5)


counts = st.lists(
    st.integers(1, 500).flatmap(lambda n: st.tuples(st.integers(0, n), st.just(n))),
    min_size=2,
    max_size=2,
)


@given(
    a=st.lists(counts, min_size=1, max_size=4),
    b=st.lists(counts, min_size=1, max_size=4),
)
def test_compare_along_pools_sampled_points_and_holds_the_rest_equal(
    a: list[list[tuple[int, int]]], b: list[list[tuple[int, int]]]
) -> None:
    """Points that differ only in sampled values are pooled (hits and runs summed); options are
    compared within each setting of the other lever and lens, never across them."""

    def points(option: str, lens: str, cells: list[list[tuple[int, int]]]) -> list[PointCounts]:
        return [
            PointCounts(
                {"response": option, "doctrine": "old"},
                lens,
                [(name, h, n) for name, (h, n) in zip(("war", "peace"), c, strict=True)],
            )
            for c in cells
        ]

    design = (
        points("none", "calm", a)
        + points("strike", "calm", b)
        + points("none", "hawk", b)  # another lens: its own group
    )
    (comparison,) = compare_along(design, "response")
    assert (comparison.option, comparison.baseline) == ("strike", "none")
    assert comparison.held == "doctrine=old, lens=calm"
    assert comparison.pooled == len(b)
    for i, d in enumerate(comparison.differences):
        ha, na = sum(c[i][0] for c in a), sum(c[i][1] for c in a)
        hb, nb = sum(c[i][0] for c in b), sum(c[i][1] for c in b)
        assert d == difference(d.outcome, "strike", hb, nb, "none", ha, na)
    by_lens = compare_along(design, "lens")
    assert [(c.option, c.baseline, c.held) for c in by_lens] == [
        ("hawk", "calm", "doctrine=old, response=none")
    ]
    assert compare_along(design, "doctrine") == []


def test_compare_along_against_a_chosen_reference() -> None:
    """``reference`` replaces the first option as what every other option is compared with; a
    group without it is left out."""
    design = [
        PointCounts({"r": "none"}, "a", [("war", 10, 100)]),
        PointCounts({"r": "none"}, "b", [("war", 20, 100)]),
        PointCounts({"r": "none"}, "c", [("war", 40, 100)]),
        PointCounts({"r": "strike"}, "a", [("war", 5, 100)]),  # no lens b here
    ]
    got = compare_along(design, "lens", reference="b")
    assert [(c.option, c.baseline, c.held) for c in got] == [
        ("a", "b", "r=none"),
        ("c", "b", "r=none"),
    ]
    assert got[0].differences[0] == difference("war", "a", 10, 100, "b", 20, 100)
    assert [(c.option, c.baseline) for c in compare_along(design, "lens")] == [
        ("b", "a"),
        ("c", "a"),
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (-0.0, "+0.0%"),
        (0.0, "+0.0%"),
        (-0.0004, "+0.0%"),
        (0.0004, "+0.0%"),
        (-0.0005001, "-0.1%"),
        (-0.012, "-1.2%"),
        (0.25, "+25.0%"),
    ],
)
def test_percentages_that_round_to_zero_print_as_plus_zero(value: float, text: str) -> None:
    assert percent(value) == text


def test_a_difference_of_zero_prints_without_negative_zeros() -> None:
    """No hit in a million runs on either side: 0 and an interval of a ten-thousandth."""
    d = difference("war", "a", 0, 1_000_000, "b", 0, 1_000_000)
    assert f"{d.lo:+.1%}" == "-0.0%"  # what compare printed before
    assert format_difference(d) == "+0.0% [+0.0%, +0.0%]"
    assert format_difference(replace(d, diff=-0.0, lo=-0.0, hi=-0.0)) == "+0.0% [+0.0%, +0.0%]"
