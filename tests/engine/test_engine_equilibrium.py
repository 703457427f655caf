"""The logit QRE solver (redline.engine.equilibrium) against independent solvers.

Games are given to the solver directly, as callbacks over bimatrix payoffs. The equilibrium it
must find is the one on the *principal branch* of the logit correspondence: the curve of
solutions traced from λ = 0 (uniform play) up to the game's λ. The independent solvers follow
that branch on a fine λ grid, from λ ≈ 0: for 2×2 games the one-dimensional reduction solved by
scipy's brentq (all roots, the one nearest the previous point), for larger games
scipy.optimize.root on the fixed-point equations, started from the previous point. Each test
game's branch is smooth (no fold), which the continuation checks as it goes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_support import program_from, runs, scenario_dict
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.optimize import brentq, root
from scipy.special import expit, softmax

from redline.engine.equilibrium import (
    EquilibriumError,
    Respond,
    Response,
    solve_logit_qre,
)
from redline.engine.kernel import run_chunk
from redline.engine.reference import run_reference
from redline.engine.semantics import QRE_TOLERANCE as TOLERANCE
from redline.errors import UserError

#: agreement required between the solver and the independent solvers
AGREE = 1e-8

# -- games as callbacks ------------------------------------------------------------------------


def bimatrix(A: Any, B: Any, lam: Any, available: tuple[Any, Any] | None = None) -> Respond:
    """Row player A (payoffs ``A[k, j]``) against column player B (``B[k, j]``); payoffs may
    carry a trailing axis over runs, as may λ and availability."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    KA, KB = A.shape[:2]
    ok_a, ok_b = available or ([True] * KA, [True] * KB)

    def respond(beliefs: list[list[NDArray[np.float64]]]) -> Response:
        pa, pb = beliefs
        ua = [sum((A[k, j] * pb[j] for j in range(1, KB)), A[k, 0] * pb[0]) for k in range(KA)]
        ub = [sum((B[k, j] * pa[k] for k in range(1, KA)), B[0, j] * pa[0]) for j in range(KB)]
        return [(list(ok_a), ua, lam), (list(ok_b), ub, lam)]

    return respond


def solve(A: Any, B: Any, lam: float) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The solver's equilibrium of one bimatrix game: (P(A's rows), P(B's columns))."""
    A = np.asarray(A, dtype=float)
    solution = solve_logit_qre(bimatrix(A, B, lam), list(A.shape), 1)
    assert solution.converged[0]
    return np.array([b[0] for b in solution.beliefs[0]]), np.array(
        [b[0] for b in solution.beliefs[1]]
    )


def residual(A: Any, B: Any, lam: float, pa: Any, pb: Any) -> float:
    """max |σ(λU(p)) − p|, computed independently."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    return float(
        max(
            np.max(np.abs(softmax(lam * (A @ pb)) - pa)),
            np.max(np.abs(softmax(lam * (B.T @ pa)) - pb)),
        )
    )


# -- independent solvers -------------------------------------------------------------------------


def roots_2x2(A: Any, B: Any, lam: float) -> list[tuple[float, float]]:
    """Every QRE of a 2×2 game as (P(A plays row 1), P(B plays column 1)): b solves
    b = σ(λ Δ_B(σ(λ Δ_A(b)))), each root found by brentq between sign changes on a grid."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)

    def gain_a(b: Any) -> Any:
        return (A[1, 0] - A[0, 0]) * (1 - b) + (A[1, 1] - A[0, 1]) * b

    def gain_b(a: Any) -> Any:
        return (B[0, 1] - B[0, 0]) * (1 - a) + (B[1, 1] - B[1, 0]) * a

    def f(b: Any) -> Any:
        return b - expit(lam * gain_b(expit(lam * gain_a(b))))

    grid = np.linspace(0.0, 1.0, 4001)
    values = f(grid)
    found = [float(b) for b in grid[values == 0.0]]
    for i in np.flatnonzero(values[:-1] * values[1:] < 0):
        found.append(brentq(f, grid[i], grid[i + 1], xtol=1e-15, rtol=1e-15))
    return [(float(expit(lam * gain_a(b))), b) for b in found]


def branch_2x2(A: Any, B: Any, lam: float, points: int = 400) -> tuple[float, float]:
    """The QRE on the principal branch of a 2×2 game (as :func:`roots_2x2` gives them),
    followed from λ ≈ 0 by taking the root nearest the previous one."""
    b = 0.5
    for level in np.linspace(0.0, lam, points)[1:]:
        nearest = min((r[1] for r in roots_2x2(A, B, float(level))), key=lambda r: abs(r - b))
        assert abs(nearest - b) < 0.05, f"the branch jumps at λ={level}: not a smooth branch"
        b = nearest
    a, b = min(roots_2x2(A, B, lam), key=lambda r: abs(r[1] - b))
    return a, b


def branch_root(A: Any, B: Any, lam: float, points: int = 300) -> tuple[Any, Any]:
    """The principal branch of a bimatrix game by scipy.optimize.root on σ(λU(p)) − p = 0 (in
    the log-odds of every candidate but the first), continued from λ ≈ 0."""
    A, B = np.asarray(A, dtype=float), np.asarray(B, dtype=float)
    KA, KB = A.shape

    def probabilities(y: Any) -> tuple[Any, Any]:
        return softmax(np.r_[0.0, y[: KA - 1]]), softmax(np.r_[0.0, y[KA - 1 :]])

    def equations(y: Any, level: float) -> Any:
        pa, pb = probabilities(y)
        return np.r_[
            softmax(level * (A @ pb))[1:] - pa[1:], softmax(level * (B.T @ pa))[1:] - pb[1:]
        ]

    y = np.zeros(KA + KB - 2)
    previous = np.r_[probabilities(y)]
    for level in np.linspace(0.0, lam, points)[1:]:
        y = root(equations, y, args=(float(level),), method="hybr", tol=1e-13).x
        assert np.max(np.abs(equations(y, float(level)))) < 1e-13
        now = np.r_[probabilities(y)]
        assert np.max(np.abs(now - previous)) < 0.05, f"the branch jumps at λ={level}"
        previous = now
    pa, pb = probabilities(y)
    assert residual(A, B, lam, pa, pb) < 1e-12
    return pa, pb


# -- the games ---------------------------------------------------------------------------------

#: Chicken with unequal stakes (row/column 0 swerves, 1 dares): a unique QRE for every λ
CHICKEN_A = [[0.0, 0.0], [1.0, -1.5]]
CHICKEN_B = [[0.0, 2.0], [0.0, -4.0]]
#: an asymmetric coordination game: (0, 0) pays A 4 and B 1, (1, 1) pays A 1 and B 2 —
#: three equilibria for large λ; (0, 0) is risk-dominant, and the principal branch goes there
COORD_A = [[4.0, 0.0], [0.0, 1.0]]
COORD_B = [[1.0, 0.0], [0.0, 2.0]]
#: an asymmetric 3×3 game (a unique equilibrium, mixed)
GAME3_A = [[0.0, 1.2, -0.8], [-0.5, 0.3, 1.1], [1.0, -1.0, 0.2]]
GAME3_B = [[0.4, -0.6, 0.9], [1.3, 0.1, -0.7], [-0.9, 0.8, 0.0]]
#: a 3×3 coordination game, asymmetric payoffs: several equilibria at these λ
COORD3_A = [[3.0, 0.0, 0.2], [0.0, 2.0, 0.0], [0.5, 0.0, 1.0]]
COORD3_B = [[1.0, 0.3, 0.0], [0.0, 2.5, 0.0], [0.0, 0.0, 2.0]]


@pytest.mark.parametrize("lam", [0.5, 2.0, 6.0, 20.0])
def test_asymmetric_chicken_agrees_with_brentq(lam: float) -> None:
    pa, pb = solve(CHICKEN_A, CHICKEN_B, lam)
    a, b = branch_2x2(CHICKEN_A, CHICKEN_B, lam)
    assert abs(pa[1] - a) <= AGREE and abs(pb[1] - b) <= AGREE, (pa, pb, a, b)
    assert residual(CHICKEN_A, CHICKEN_B, lam, pa, pb) < TOLERANCE * 1.01


@pytest.mark.parametrize("lam", [1.0, 3.0, 8.0])
def test_coordination_game_is_solved_on_the_principal_branch(lam: float) -> None:
    """Where the game has several equilibria the solver gives the principal branch's: here the
    one near the risk-dominant (0, 0)."""
    pa, pb = solve(COORD_A, COORD_B, lam)
    a, b = branch_2x2(COORD_A, COORD_B, lam)
    assert abs(pa[1] - a) <= AGREE and abs(pb[1] - b) <= AGREE, (pa, pb, a, b)
    if lam >= 3.0:
        # several equilibria exist here, and the branch's is the one near (0, 0)
        assert len(roots_2x2(COORD_A, COORD_B, lam)) == 3
        assert pa[0] > 0.9 and pb[0] > 0.9


@pytest.mark.parametrize("lam", [0.5, 2.0, 5.0])
def test_asymmetric_3x3_game_agrees_with_scipy_root(lam: float) -> None:
    pa, pb = solve(GAME3_A, GAME3_B, lam)
    qa, qb = branch_root(GAME3_A, GAME3_B, lam)
    assert np.max(np.abs(pa - qa)) <= AGREE and np.max(np.abs(pb - qb)) <= AGREE


@pytest.mark.parametrize("lam", [1.0, 2.5, 4.0])
def test_3x3_coordination_game_agrees_with_scipy_root(lam: float) -> None:
    pa, pb = solve(COORD3_A, COORD3_B, lam)
    qa, qb = branch_root(COORD3_A, COORD3_B, lam)
    assert np.max(np.abs(pa - qa)) <= AGREE and np.max(np.abs(pb - qb)) <= AGREE


def test_unavailable_candidates_are_never_played() -> None:
    """An unavailable candidate has probability and weight 0, the rest play the QRE of the
    game restricted to what is available."""
    A = np.array(GAME3_A)
    B = np.array(GAME3_B)
    solution = solve_logit_qre(
        bimatrix(A, B, 3.0, ([True, False, True], [True, True, True])), [3, 3], 1
    )
    assert solution.converged[0]
    assert solution.beliefs[0][1][0] == 0.0 and solution.weights[0][1][0] == 0.0
    qa, qb = branch_root(A[[0, 2]], B[[0, 2]], 3.0)
    got_a = np.array([solution.beliefs[0][0][0], solution.beliefs[0][2][0]])
    got_b = np.array([b[0] for b in solution.beliefs[1]])
    assert np.max(np.abs(got_a - qa)) <= AGREE and np.max(np.abs(got_b - qb)) <= AGREE


def test_weights_are_the_logit_weights_at_the_equilibrium() -> None:
    """The weights the draws use are exp(λ(U − max U)) at the equilibrium beliefs."""
    lam = 4.0
    A, B = np.array(GAME3_A), np.array(GAME3_B)
    solution = solve_logit_qre(bimatrix(A, B, lam), [3, 3], 1)
    pa = np.array([b[0] for b in solution.beliefs[0]])
    pb = np.array([b[0] for b in solution.beliefs[1]])
    ua = A @ pb
    za = np.array([z[0] for z in solution.weights[0]])
    assert np.max(za) == 1.0
    assert np.allclose(za, np.exp(lam * (ua - ua.max())), rtol=1e-12, atol=0)
    assert np.allclose(za / za.sum(), pa, rtol=0, atol=1e-10)


def test_three_players() -> None:
    """A three-player game (utilities multilinear, not linear, in the beliefs), against
    scipy.optimize.root continued from λ ≈ 0."""
    rng = np.random.default_rng(5)
    payoff = rng.normal(size=(3, 2, 2, 2))  # payoff[i, a, b, c] to player i
    lam = 3.0

    def utilities(p: list[Any]) -> list[list[Any]]:
        a, b, c = p
        out: list[list[Any]] = [[], [], []]
        for k in range(2):
            out[0].append(sum(payoff[0, k, j, m] * b[j] * c[m] for j in range(2) for m in range(2)))
            out[1].append(sum(payoff[1, j, k, m] * a[j] * c[m] for j in range(2) for m in range(2)))
            out[2].append(sum(payoff[2, j, m, k] * a[j] * b[m] for j in range(2) for m in range(2)))
        return out

    def respond(beliefs: list[list[NDArray[np.float64]]]) -> Response:
        return [([True, True], u, lam) for u in utilities(beliefs)]

    solution = solve_logit_qre(respond, [2, 2, 2], 1)
    assert solution.converged[0]
    got = np.array([b[1][0] for b in solution.beliefs])

    def equations(x: Any, level: float) -> Any:
        p = [np.array([1 - v, v]) for v in x]
        return np.array([softmax(level * np.array(u))[1] for u in utilities(p)]) - x

    x = np.full(3, 0.5)
    for level in np.linspace(0, lam, 300)[1:]:
        found = root(equations, x, args=(float(level),), tol=1e-13).x
        assert np.max(np.abs(equations(found, float(level)))) < 1e-13
        assert np.max(np.abs(found - x)) < 0.05
        x = found
    assert np.max(np.abs(got - x)) <= AGREE


# -- a run's answer does not depend on its batch -------------------------------------------------


@st.composite
def games(draw: st.DrawFn) -> tuple[Any, Any, Any, Any]:
    """A batch of 2-player games of one shape: payoffs (KA, KB, runs), λ (runs), and which
    candidates are available (hold, the first, always)."""
    KA, KB, n = draw(st.integers(2, 3)), draw(st.integers(2, 3)), draw(st.integers(2, 5))
    value = st.floats(-3, 3, allow_nan=False).map(lambda x: round(x, 2))
    A = np.array(draw(st.lists(value, min_size=KA * KB * n, max_size=KA * KB * n)))
    B = np.array(draw(st.lists(value, min_size=KA * KB * n, max_size=KA * KB * n)))
    lam = np.array(
        draw(st.lists(st.sampled_from([0.0, 0.3, 1.0, 4.0, 15.0]), min_size=n, max_size=n))
    )
    ok = [
        np.array(
            [[True] * n]
            + [draw(st.lists(st.booleans(), min_size=n, max_size=n)) for _ in range(K - 1)]
        )
        for K in (KA, KB)
    ]
    return A.reshape(KA, KB, n), B.reshape(KA, KB, n), lam, ok


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(game=games())
def test_batch_of_games_equals_each_game_alone(game: tuple[Any, Any, Any, Any]) -> None:
    A, B, lam, ok = game
    KA, KB, n = A.shape
    batch = solve_logit_qre(bimatrix(A, B, lam, (list(ok[0]), list(ok[1]))), [KA, KB], n)
    for r in range(n):
        one = r + np.zeros(1, dtype=np.int64)
        alone = solve_logit_qre(
            bimatrix(
                A[..., one], B[..., one], lam[one], (list(ok[0][:, one]), list(ok[1][:, one]))
            ),
            [KA, KB],
            1,
        )
        assert alone.converged[0] == batch.converged[r]
        for got, want in ((alone.beliefs, batch.beliefs), (alone.weights, batch.weights)):
            for g, w in zip(got, want, strict=True):
                for gk, wk in zip(g, w, strict=True):
                    assert gk[0].tobytes() == wk[r].tobytes()
        # and the answer is the fixed point, to the tolerance
        assert batch.converged[r]
        pa = np.array([b[r] for b in batch.beliefs[0]])
        pb = np.array([b[r] for b in batch.beliefs[1]])
        za = np.where(ok[0][:, r], np.exp(lam[r] * (A[..., r] @ pb)), 0.0)
        zb = np.where(ok[1][:, r], np.exp(lam[r] * (B[..., r].T @ pa)), 0.0)
        assert np.max(np.abs(za / za.sum() - pa)) < 2 * TOLERANCE
        assert np.max(np.abs(zb / zb.sum() - pb)) < 2 * TOLERANCE


# -- no equilibrium: reported, never played ------------------------------------------------------


def test_discontinuous_utilities_do_not_converge() -> None:
    """Matching pennies played on thresholds of the beliefs: no fixed point for any λ > 0."""

    def respond(beliefs: list[list[NDArray[np.float64]]]) -> Response:
        pa, pb = beliefs
        ua = np.where(pb[1] > 0.5, 1.0, -1.0)
        ub = np.where(pa[1] < 0.5, 1.0, -1.0)
        return [([True, True], [0.0, ua], 3.0), ([True, True], [0.0, ub], 3.0)]

    solution = solve_logit_qre(respond, [2, 2], 4)
    assert not solution.converged.any()


def threshold_pennies(lam: float, horizon: int = 1) -> dict[str, Any]:
    """Matching pennies whose payoffs jump at a belief of one half (a comparison on chose()):
    at λ > 0 no equilibrium exists."""
    return scenario_dict(
        time={"step": "month", "horizon": horizon},
        actors=[
            {"id": "A", "decision": {"kind": "logit", "lambda": lam, "weights": {"a": 1}}},
            {"id": "B", "decision": {"kind": "logit", "lambda": lam, "weights": {"b": 1}}},
        ],
        variables=[{"id": "a"}, {"id": "b"}],
        actions=[
            {
                "id": "go",
                "actors": ["A"],
                "effects": {"a": 'where(where(chose("B", "go_b"), 1, 0) > 0.5, 1, -1)'},
            },
            {
                "id": "go_b",
                "actors": ["B"],
                "effects": {"b": 'where(where(chose("A", "go"), 1, 0) < 0.5, 1, -1)'},
            },
        ],
    )


def test_no_equilibrium_stops_the_kernel_and_the_reference(tmp_path: Path) -> None:
    program = program_from(threshold_pennies(2.0), tmp_path)
    assert program.strategic
    with pytest.raises(EquilibriumError) as kernel:
        run_chunk(program, 1, runs(10))
    with pytest.raises(EquilibriumError) as reference:
        run_reference(program, 1, 0)
    for error in (kernel, reference):
        message = str(error.value)
        assert isinstance(error.value, UserError)
        assert message.startswith("step 0, run 0")
        assert "actors A, B" in message and "lambda" in message and "chose()" in message
    assert "and 9 other runs" in str(kernel.value)
    # at λ = 0 the equilibrium is uniform play, threshold or not
    run_chunk(program_from(threshold_pennies(0.0), tmp_path), 1, runs(10))


def test_finished_runs_never_stop_the_chunk(tmp_path: Path) -> None:
    """Runs that ended (absorbed) stay in the chunk's arrays for a while; an equilibrium they
    no longer need, and do not have, must not stop the live runs."""
    data = threshold_pennies(2.0, horizon=3)
    data["uncertainties"] = [{"id": "u", "distribution": {"kind": "uniform", "low": 0, "high": 1}}]
    data["variables"].append({"id": "x", "initial": "u"})
    for action, var in (("go", "a"), ("go_b", "b")):
        effect = next(x for x in data["actions"] if x["id"] == action)["effects"]
        # the runs with x > 0.9 end after step 0; afterwards they alone have no equilibrium
        effect[var] = f'where(step >= 1 and x > 0.9, {effect[var]}, where(chose("A", "go"), 1, 0))'
    data["outcomes"] = [{"id": "end", "when": "x > 0.9", "absorbing": True}]
    program = program_from(data, tmp_path)
    result = run_chunk(program, 2, runs(40))
    ended = result.steps == 1
    assert 0 < ended.sum() < 10  # few enough to stay in the chunk
    assert np.all(result.steps[~ended] == 3)
