"""The game solver on games written down (no simulation): every equilibrium it reports is one
(no player gains by deviating), it finds at least one in generic two-player games (Nash's
theorem), its pure equilibria are exactly the profiles of mutual best responses, and the logit
QRE moves from uniform play toward equilibrium as λ grows."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from redline.analysis.equilibria import solve
from redline.analysis.game import matrix_game
from redline.errors import RedlineValueError


def _regret(tensors: list[np.ndarray], strategies: tuple[tuple[float, ...], ...]) -> float:
    worst = 0.0
    for i, t in enumerate(tensors):
        u = t
        for j in reversed(range(len(tensors))):
            if j != i:
                u = np.tensordot(u, np.array(strategies[j]), axes=([j], [0]))
        worst = max(worst, float(np.max(u) - u @ np.array(strategies[i])))
    return worst


@st.composite
def bimatrix(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    m = draw(st.integers(2, 3))
    n = draw(st.integers(2, 3))
    values = st.floats(-10, 10, allow_nan=False, allow_infinity=False, width=32)
    return draw(arrays(np.float64, (m, n), elements=values)), draw(
        arrays(np.float64, (m, n), elements=values)
    )


@settings(max_examples=40, deadline=None)
@given(bimatrix())
def test_every_reported_equilibrium_is_one(game: tuple[np.ndarray, np.ndarray]) -> None:
    A, B = game
    g = matrix_game(
        ["R", "C"],
        [[f"r{i}" for i in range(A.shape[0])], [f"c{j}" for j in range(A.shape[1])]],
        [A, B],
    )
    solution = solve(g, rationality=1.0, logit_path=())
    for e in solution.nash:
        assert all(abs(sum(s) - 1.0) < 1e-9 and min(s) >= -1e-12 for s in e.strategies)
        assert _regret([A, B], e.strategies) <= 1e-7
    # the pure equilibria are exactly the profiles of mutual best responses
    expected = {
        (r, c)
        for r, c in itertools.product(range(A.shape[0]), range(A.shape[1]))
        if A[r, c] >= A[:, c].max() - 1e-9 and B[r, c] >= B[r, :].max() - 1e-9
    }
    found = {
        (int(np.argmax(e.strategies[0])), int(np.argmax(e.strategies[1])))
        for e in solution.nash
        if e.pure
    }
    assert found == expected
    assert _regret([A, B], solution.qre.strategies) >= 0.0


@settings(max_examples=25, deadline=None)
@given(bimatrix(), st.integers(0, 2**32 - 1))
def test_generic_games_have_an_equilibrium(game: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    """Nash's theorem: a game in general position (payoffs perturbed off ties) has one, and
    support enumeration finds it."""
    rng = np.random.default_rng(seed)
    A, B = (x + rng.uniform(-1e-3, 1e-3, x.shape) for x in game)
    g = matrix_game(
        ["R", "C"],
        [[str(i) for i in range(A.shape[0])], [str(j) for j in range(A.shape[1])]],
        [A, B],
    )
    assert solve(g, logit_path=()).nash


def test_qre_tends_from_uniform_to_equilibrium() -> None:
    # matching pennies: the only equilibrium is 1/2–1/2, and the QRE is it at every λ;
    # an asymmetric version moves away from uniform as λ grows
    A = np.array([[9.0, 0.0], [0.0, 1.0]])
    g = matrix_game(["R", "C"], [["h", "t"], ["h", "t"]], [A, -A])
    solution = solve(g)
    (mixed,) = [e for e in solution.nash if e.kind == "mixed"]
    assert mixed.strategies[1][0] == pytest.approx(0.1)  # R indifferent: 9q = 1 − q
    regrets = [_regret([A, -A], e.strategies) for e in solution.logit_path]
    assert solution.logit_path[0].strategies[0][0] == pytest.approx(0.5, abs=0.2)
    assert regrets[-1] < regrets[0]
    assert solution.logit_path[-1].strategies[1][0] == pytest.approx(0.1, abs=0.02)


def test_prisoners_dilemma_defection_is_clearly_dominant() -> None:
    A = np.array([[-1.0, -3.0], [0.0, -2.0]])
    g = matrix_game(["R", "C"], [["cooperate", "defect"]] * 2, [A, A.T])
    solution = solve(g, sequential=True)
    assert [(d.option, d.clear) for d in solution.dominance] == [(1, True), (1, True)]
    assert [e.strategies for e in solution.nash] == [((0.0, 1.0), (0.0, 1.0))]
    assert solution.sequential is not None
    assert solution.sequential.path == ("R: defect", "C: defect")


def test_matrix_game_checks_its_shapes() -> None:
    with pytest.raises(RedlineValueError, match=r"payoffs of C: shape \(2,\), expected \(2, 2\)"):
        matrix_game(["R", "C"], [["a", "b"], ["a", "b"]], [np.zeros((2, 2)), np.zeros(2)])
