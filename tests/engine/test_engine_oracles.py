"""Analytic oracles: small scenarios whose outcome probabilities are known in closed form.

Each statistical check asserts that the exact probability lies inside the 99.9% Wilson interval
of the simulated frequency (fixed seeds, so a passing check passes every time). The checks that
take ``backend`` run once per registered backend, the reference interpreter on fewer runs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_support import (
    assert_rate,
    backend_vs_reference,
    logistic,
    on_backend,
    program_from,
    runs,
    scenario_dict,
    sized,
    traced,
)
from scipy import stats
from scipy.optimize import brentq, root
from scipy.special import softmax

N = 20_000
#: runs of the same checks on the reference interpreter (about a thousand times slower)
N_REFERENCE = 1000
#: runs of the equilibrium checks there (it solves each run's game in Python)
N_GAME_REFERENCE = 120

# -- (a) a random walk on a ladder with an absorbing top rung --------------------------------


def ladder_walk(top: int, up: float, down: float, horizon: int) -> dict[str, Any]:
    return scenario_dict(
        time={"step": "month", "horizon": horizon},
        parameters=[{"id": "p_up", "value": up}, {"id": "p_down", "value": down}],
        variables=[{"id": "rung", "initial": 0, "min": 0, "max": top}],
        dynamics=[
            {
                "id": "walk",
                "variable": "rung",
                "value": (
                    "rung + where(uniform(0, 1) < p_up, 1, 0) - where(bernoulli(p_down), 1, 0)"
                ),
            }
        ],
        outcomes=[{"id": "top", "when": f"rung >= {top}", "absorbing": True}],
    )


def walk_matrix(top: int, up: float, down: float) -> np.ndarray:
    """One step of the walk: +1 w.p. up·(1−down), −1 w.p. down·(1−up), clipped at 0, top absorbs."""
    P = np.zeros((top + 1, top + 1))
    p_plus, p_minus = up * (1 - down), down * (1 - up)
    for i in range(top):
        P[i, i + 1] = p_plus
        P[i, max(i - 1, 0)] += p_minus
        P[i, i] += 1 - p_plus - p_minus
    P[top, top] = 1.0
    return P


@pytest.mark.parametrize(("top", "up", "down"), [(4, 0.35, 0.25), (3, 0.5, 0.4)])
def test_ladder_walk_absorption_matches_matrix_power(
    tmp_path: Path, backend: str, top: int, up: float, down: float
) -> None:
    horizon = 16
    n = sized(backend, N, N_REFERENCE)
    program = program_from(ladder_walk(top, up, down, horizon), tmp_path)
    result = on_backend(backend, program, 5, runs(n))
    first = result.first_hit[:, 0]
    P = walk_matrix(top, up, down)
    for h in (3, 8, 16):
        exact = np.linalg.matrix_power(P, h)[0, top]
        hits = int(np.sum((first >= 0) & (first <= h - 1)))
        assert_rate(hits, n, exact, f"absorbed within {h} steps")
    # absorbed runs stop at their hit, the others run to the horizon at a lower rung
    absorbed = first >= 0
    assert np.array_equal(result.steps[absorbed], first[absorbed] + 1)
    assert np.all(result.steps[~absorbed] == horizon)
    rung = result.final[:, program.var_index("rung")]
    assert np.all(rung[absorbed] == top)
    assert np.all(rung[~absorbed] < top)
    # the whole distribution of the rung at the horizon, too (one chi-square test)
    dist = np.linalg.matrix_power(P, horizon)[0]
    counts = np.bincount(rung.astype(np.int64), minlength=top + 1)
    assert stats.chisquare(counts, dist * n).pvalue > 1e-3


# -- (b) a one-shot 2×2 game between two logit decision-makers -------------------------------


def independent_game(
    lam: float, gain_a: float, gain_b: float, kappa: float, horizon: int
) -> dict[str, Any]:
    """A's and B's payoffs do not depend on each other; B's gain is a random draw (its mean is
    what counts), A pays an escalation cost."""
    return scenario_dict(
        time={"step": "month", "horizon": horizon},
        parameters=[{"id": "lam", "value": lam}],
        actors=[
            {
                "id": "A",
                "decision": {
                    "kind": "logit",
                    "lambda": "lam",
                    "weights": {"uA": 1},
                    "escalation_cost": kappa,
                },
            },
            {"id": "B", "decision": {"kind": "logit", "lambda": "lam", "weights": {"uB": 2}}},
        ],
        variables=[{"id": "uA"}, {"id": "uB"}, {"id": "nA"}, {"id": "nB"}],
        actions=[
            {"id": "go_a", "actors": ["A"], "effects": {"uA": gain_a, "nA": 1}, "escalation": 0.5},
            {
                "id": "go_b",
                "actors": ["B"],
                "effects": {"uB": f"uniform(0, {2 * gain_b})", "nB": 1},
            },
        ],
        outcomes=[{"id": "both", "when": 'chose("A", "go_a") and chose("B", "go_b")'}],
    )


@pytest.mark.parametrize("lam", [0.0, 0.5, 2.0, 8.0])
def test_independent_logit_choice_is_closed_form(tmp_path: Path, backend: str, lam: float) -> None:
    gain_a, gain_b, kappa = 0.3, -0.2, 0.4
    horizon = 2
    n = sized(backend, N, N_REFERENCE // 2)
    program = program_from(independent_game(lam, gain_a, gain_b, kappa, horizon), tmp_path)
    assert not program.strategic
    result = on_backend(backend, program, 11, runs(n))
    u_a = gain_a - kappa * 0.5  # utility of go_a; hold is 0
    u_b = 2 * gain_b
    p_a = math.exp(lam * u_a) / (math.exp(lam * u_a) + math.exp(lam * 0.0))
    p_b = math.exp(lam * u_b) / (math.exp(lam * u_b) + math.exp(lam * 0.0))
    n_a = result.final[:, program.var_index("nA")]
    n_b = result.final[:, program.var_index("nB")]
    assert_rate(int(n_a.sum()), n * horizon, p_a, f"A at lambda={lam}")
    assert_rate(int(n_b.sum()), n * horizon, p_b, f"B at lambda={lam}")
    # the two choices are independent: both in step 0 with probability p_a·p_b
    assert_rate(int(np.sum(result.first_hit[:, 0] == 0)), n, p_a * p_b, "both in step 0")


W, S, L, C = 1.0, 0.0, -0.5, -2.0  # win, tie (both swerve), lose (swerve), crash
Q_STAR = (W - S) / ((W - S) + (L - C))


def chicken(lam: float) -> dict[str, Any]:
    """Chicken: hold is swerving (utility 0), straight's utility difference reads the other's
    choice through chose()."""
    return scenario_dict(
        time={"step": "month", "horizon": 1},
        parameters=[
            {"id": "lam", "value": lam},
            {"id": "W", "value": W},
            {"id": "S", "value": S},
            {"id": "L", "value": L},
            {"id": "C", "value": C},
        ],
        actors=[
            {"id": "A", "decision": {"kind": "logit", "lambda": "lam", "weights": {"payoff.A": 1}}},
            {"id": "B", "decision": {"kind": "logit", "lambda": "lam", "weights": {"payoff.B": 1}}},
        ],
        variables=[{"id": "payoff.A"}, {"id": "payoff.B"}],
        actions=[
            {
                "id": "straight",
                "actors": ["A"],
                "effects": {"payoff.A": 'where(chose("B", "straight_b"), C - L, W - S)'},
                "tags": ["straight:A"],
            },
            {
                "id": "straight_b",
                "actors": ["B"],
                "effects": {"payoff.B": 'where(chose("A", "straight"), C - L, W - S)'},
                "tags": ["straight:B"],
            },
        ],
        outcomes=[
            {"id": "a_straight", "when": 'now("straight:A")'},
            {"id": "b_straight", "when": 'now("straight:B")'},
            {"id": "crash", "when": 'now("straight:A") and now("straight:B")'},
        ],
    )


def logit_qre(lam: float) -> float:
    """The symmetric logit QRE of Chicken: q = σ(λ·Δ(q)), Δ(q) = q(C−L) + (1−q)(W−S)."""

    def gap(q: float) -> float:
        return q - logistic(lam * (q * (C - L) + (1 - q) * (W - S)))

    return float(brentq(gap, 0.0, 1.0, xtol=1e-14))


def _straight_rates(backend: str, lam: float, folder: Path) -> tuple[int, int, int, int]:
    """Runs in which A, B, both go straight at step 0, and the number of runs."""
    program = program_from(chicken(lam), folder)
    assert program.strategic
    n = sized(backend, N, N_GAME_REFERENCE)
    result = on_backend(backend, program, 3, runs(n))
    hits = (result.first_hit == 0).sum(axis=0)
    return int(hits[0]), int(hits[1]), int(hits[2]), n


@pytest.mark.parametrize("lam", [50.0, 200.0])
def test_chicken_approaches_mixed_equilibrium(tmp_path: Path, backend: str, lam: float) -> None:
    q = logit_qre(lam)
    assert abs(q - Q_STAR) < 0.01, f"the QRE {q:.4f} is not near the mixed equilibrium {Q_STAR}"
    a, b, crash, n = _straight_rates(backend, lam, tmp_path)
    for who, hits in (("A", a), ("B", b)):
        assert_rate(hits, n, q, f"{who} at the QRE, lambda={lam}")
    # in equilibrium the two draws are independent
    assert_rate(crash, n, q**2, "both straight")


@pytest.mark.parametrize("lam", [0.0, 1.0, 3.0])
def test_chicken_moderate_lambda_is_logit_qre(tmp_path: Path, backend: str, lam: float) -> None:
    q = logit_qre(lam)
    if lam == 0:
        assert q == pytest.approx(0.5)
    a, b, crash, n = _straight_rates(backend, lam, tmp_path)
    assert_rate(a, n, q, f"A at lambda={lam}")
    assert_rate(b, n, q, f"B at lambda={lam}")
    assert_rate(crash, n, q * q, f"crash at lambda={lam}")


def test_chicken_engine_matches_reference(tmp_path: Path, backend: str) -> None:
    backend_vs_reference(backend, program_from(chicken(1.0), tmp_path), 3, runs(60), "chicken")


# Asymmetric games: a symmetric game hides a solver that does not reach the equilibrium (smooth
# fictitious play, which the engine once used, gave A 0.289 and B 0.683 in the game below at
# λ = 1). The QRE is unique at these λ and computed here independently.

#: Chicken with unequal stakes: (win − tie, crash − lose) for each, B has more at stake
STAKES_A = (1.0, -2.0)
STAKES_B = (3.0, -4.0)


def asymmetric_chicken(lam: float) -> dict[str, Any]:
    """Chicken whose players gain and lose differently by daring (hold is swerving)."""
    return scenario_dict(
        time={"step": "month", "horizon": 1},
        actors=[
            {"id": "A", "decision": {"kind": "logit", "lambda": lam, "weights": {"payoff.A": 1}}},
            {"id": "B", "decision": {"kind": "logit", "lambda": lam, "weights": {"payoff.B": 1}}},
        ],
        variables=[{"id": "payoff.A"}, {"id": "payoff.B"}],
        actions=[
            {
                "id": "dare",
                "actors": ["A"],
                "effects": {
                    "payoff.A": f'where(chose("B", "dare_b"), {STAKES_A[1]}, {STAKES_A[0]})'
                },
                "tags": ["dare:A"],
            },
            {
                "id": "dare_b",
                "actors": ["B"],
                "effects": {"payoff.B": f'where(chose("A", "dare"), {STAKES_B[1]}, {STAKES_B[0]})'},
                "tags": ["dare:B"],
            },
        ],
        outcomes=[
            {"id": "a_dares", "when": 'now("dare:A")'},
            {"id": "b_dares", "when": 'now("dare:B")'},
            {"id": "both", "when": 'now("dare:A") and now("dare:B")'},
        ],
    )


def asymmetric_qre(lam: float) -> tuple[float, float]:
    """(P(A dares), P(B dares)) at the logit QRE: b solves b = σ(λ Δ_B(σ(λ Δ_A(b)))), where
    Δ(q) = (1 − q)·win + q·crash against the other's daring probability q; the root is unique
    (checked on a grid)."""

    def a_of(b: float) -> float:
        return logistic(lam * ((1 - b) * STAKES_A[0] + b * STAKES_A[1]))

    def gap(b: float) -> float:
        a = a_of(b)
        return b - logistic(lam * ((1 - a) * STAKES_B[0] + a * STAKES_B[1]))

    grid = np.array([gap(b) for b in np.linspace(0.0, 1.0, 2001)])
    assert int(np.sum(np.sign(grid[:-1]) != np.sign(grid[1:]))) == 1, "not a unique QRE"
    b = float(brentq(gap, 0.0, 1.0, xtol=1e-15))
    return a_of(b), b


@pytest.mark.parametrize("lam", [0.8, 1.0])
def test_asymmetric_chicken_is_the_logit_qre(tmp_path: Path, backend: str, lam: float) -> None:
    a, b = asymmetric_qre(lam)
    program = program_from(asymmetric_chicken(lam), tmp_path)
    assert program.strategic
    n = sized(backend, N, N_GAME_REFERENCE)
    hits = (on_backend(backend, program, 5, runs(n)).first_hit == 0).sum(axis=0)
    assert_rate(int(hits[0]), n, a, f"A dares at lambda={lam}")
    assert_rate(int(hits[1]), n, b, f"B dares at lambda={lam}")
    # the two draws are independent given the equilibrium
    assert_rate(int(hits[2]), n, a * b, f"both dare at lambda={lam}")


def test_asymmetric_chicken_engine_matches_reference(tmp_path: Path, backend: str) -> None:
    program = program_from(asymmetric_chicken(1.0), tmp_path)
    backend_vs_reference(backend, program, 4, runs(40), "chicken")


#: a 3×3 game through the scenario language: each actor holds or takes one of two actions;
#: PAYOFF_A[k][j] is A's payoff from its candidate k (hold, a1, a2) against B's j (hold, b1, b2),
#: PAYOFF_B[k][j] B's from its j against A's k; holding pays 0 (any game is one of these after
#: subtracting the hold row, which a logit response ignores)
PAYOFF_A = [[0.0, 0.0, 0.0], [1.0, -1.0, 0.5], [-1.0, 1.5, -0.5]]
PAYOFF_B = [[0.0, 1.0, -1.0], [0.0, -1.0, 1.0], [0.0, 0.5, 0.5]]
GAME3_LAMBDA = 2.0


def three_by_three(lam: float) -> dict[str, Any]:
    def payoff(table: list[float], other: str, choices: list[str]) -> str:
        return " + ".join(
            f'where(chose("{other}", "{c}"), {v}, 0)' for c, v in zip(choices, table, strict=True)
        )

    b_choices, a_choices = ["hold", "b1", "b2"], ["hold", "a1", "a2"]
    actions = [
        {
            "id": f"a{k}",
            "actors": ["A"],
            "effects": {"u.A": payoff(PAYOFF_A[k], "B", b_choices)},
            "tags": [f"a{k}"],
        }
        for k in (1, 2)
    ] + [
        {
            "id": f"b{j}",
            "actors": ["B"],
            "effects": {"u.B": payoff([row[j] for row in PAYOFF_B], "A", a_choices)},
            "tags": [f"b{j}"],
        }
        for j in (1, 2)
    ]
    return scenario_dict(
        time={"step": "month", "horizon": 1},
        actors=[
            {"id": "A", "decision": {"kind": "logit", "lambda": lam, "weights": {"u.A": 1}}},
            {"id": "B", "decision": {"kind": "logit", "lambda": lam, "weights": {"u.B": 1}}},
        ],
        variables=[{"id": "u.A"}, {"id": "u.B"}],
        actions=actions,
        outcomes=[{"id": t, "when": f'now("{t}")'} for t in ("a1", "a2", "b1", "b2")],
    )


def three_by_three_qre(lam: float) -> tuple[np.ndarray, np.ndarray]:
    """The logit QRE of the 3×3 game by scipy.optimize.root on its fixed-point equations,
    continued from λ ≈ 0; it is the only one found from 200 random starts."""
    A, B = np.array(PAYOFF_A), np.array(PAYOFF_B)

    def probabilities(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return softmax(np.r_[0.0, y[:2]]), softmax(np.r_[0.0, y[2:]])

    def equations(y: np.ndarray, level: float) -> np.ndarray:
        pa, pb = probabilities(y)
        return np.r_[
            softmax(level * (A @ pb))[1:] - pa[1:], softmax(level * (B.T @ pa))[1:] - pb[1:]
        ]

    y = np.zeros(4)
    for level in np.linspace(0.0, lam, 100)[1:]:
        y = root(equations, y, args=(float(level),), tol=1e-13).x
    assert np.max(np.abs(equations(y, lam))) < 1e-12
    rng = np.random.default_rng(0)
    for _ in range(200):
        other = root(equations, rng.normal(scale=3.0, size=4), args=(lam,), tol=1e-13).x
        if np.max(np.abs(equations(other, lam))) < 1e-10:
            assert np.allclose(np.r_[probabilities(other)], np.r_[probabilities(y)], atol=1e-6)
    return probabilities(y)


def test_three_by_three_game_is_the_logit_qre(tmp_path: Path, backend: str) -> None:
    pa, pb = three_by_three_qre(GAME3_LAMBDA)
    program = program_from(three_by_three(GAME3_LAMBDA), tmp_path)
    assert program.strategic
    n = sized(backend, N, N_GAME_REFERENCE)
    hits = (on_backend(backend, program, 6, runs(n)).first_hit == 0).sum(axis=0)
    for h, p, what in zip(
        hits, [pa[1], pa[2], pb[1], pb[2]], ("a1", "a2", "b1", "b2"), strict=True
    ):
        assert_rate(int(h), n, float(p), f"{what} at lambda={GAME3_LAMBDA}")
    backend_vs_reference(backend, program, 6, runs(30), "3x3 game")


# -- (c) red-line credibility: decay when not enforced, rise when enforced, spillover --------

CROSS_AT = (1, 3, 4)
C0, RISE, DECAY, SPILL, C2 = 0.8, 0.25, 0.7, 0.5, 0.3


def red_line_scenario(enforce: float | str | None) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": "line1",
        "owner": "O",
        "against": ["X"],
        "crossing": "provoke:*",
        "response": "punish",
        "credibility": {"initial": C0, "rise": RISE, "decay": DECAY, "spillover": SPILL},
    }
    if enforce is not None:
        line["enforce"] = enforce
    return scenario_dict(
        time={"step": "month", "horizon": 6},
        actors=[
            {
                "id": "X",
                "decision": {
                    "kind": "scripted",
                    "plan": [{"step": t, "action": "provoke"} for t in CROSS_AT],
                },
            },
            {"id": "O", "decision": {"kind": "doctrine"}},
            {"id": "Z", "decision": {"kind": "doctrine"}},
        ],
        variables=[{"id": "punished", "min": 0}],
        actions=[
            {"id": "provoke", "actors": ["X"], "tags": ["provoke:X"]},
            {"id": "other", "actors": ["X"], "tags": ["other:X"]},
            {"id": "punish", "actors": ["O", "Z"], "effects": {"punished": 1}},
        ],
        red_lines=[
            line,
            {
                "id": "line2",
                "owner": "O",
                "crossing": "other:*",
                "response": "punish",
                "credibility": {"initial": C2, "rise": 0.1, "decay": 0.5, "spillover": 0.9},
            },
            {
                "id": "line3",
                "owner": "Z",
                "crossing": "other:*",
                "response": "punish",
                "credibility": {"initial": 0.45},
            },
        ],
        outcomes=[{"id": "enforced", "when": 'happened("enforced:line1")'}],
    )


def _final_credibility(program: Any, result: Any, name: str) -> np.ndarray:
    return result.final[:, program.var_index(f"credibility.{name}")]


def test_unenforced_red_line_decays_geometrically(tmp_path: Path, backend: str) -> None:
    program = program_from(red_line_scenario(0.0), tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(20), "enforce 0")
    k = len(CROSS_AT)
    c1 = C0 * DECAY**k
    assert np.allclose(_final_credibility(program, result, "line1"), c1, rtol=0, atol=1e-12)
    # every change of line1 spills over to the owner's other red line, and to no one else's
    c2 = C2 + SPILL * (c1 - C0)
    assert np.allclose(_final_credibility(program, result, "line2"), c2, rtol=0, atol=1e-12)
    assert np.all(_final_credibility(program, result, "line3") == 0.45)
    assert np.all(result.final[:, program.var_index("punished")] == 0)
    assert np.all(result.first_hit[:, 0] == -1)


def test_unenforced_red_line_credibility_step_by_step(tmp_path: Path, backend: str) -> None:
    program = program_from(red_line_scenario(0.0), tmp_path)
    crossed = 0
    for record in traced(backend, program, 0, runs(1)):
        if record["step"] in CROSS_AT:
            crossed += 1
            assert "crossed:line1" in record["events"]
            assert "enforced:line1" not in record["events"]
        else:
            assert "crossed:line1" not in record["events"]
        credibility = record["state"]["credibility.line1"]
        assert credibility == pytest.approx(C0 * DECAY**crossed, abs=1e-12)


def test_enforced_red_line_rises(tmp_path: Path, backend: str) -> None:
    program = program_from(red_line_scenario(1.0), tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(20), "enforce 1")
    k = len(CROSS_AT)
    c1 = 1 - (1 - C0) * (1 - RISE) ** k
    assert np.allclose(_final_credibility(program, result, "line1"), c1, rtol=0, atol=1e-12)
    c2 = C2 + SPILL * (c1 - C0)
    assert np.allclose(_final_credibility(program, result, "line2"), c2, rtol=0, atol=1e-12)
    # the owner's response is performed at each crossing
    assert np.all(result.final[:, program.var_index("punished")] == k)
    assert np.all(result.first_hit[:, 0] == CROSS_AT[0])


def test_default_enforcement_probability_is_the_credibility(tmp_path: Path, backend: str) -> None:
    """Without ``enforce``, the first crossing is enforced with probability c0."""
    program = program_from(red_line_scenario(None), tmp_path)
    n = sized(backend, N, N_REFERENCE)
    result = on_backend(backend, program, 9, runs(n))
    hits = int(np.sum(result.first_hit[:, 0] == CROSS_AT[0]))
    assert_rate(hits, n, C0, "enforced at the first crossing")
    # P(never enforced) = Π (1 − c_j) with c_j the credibility after j unenforced crossings
    never = math.prod(1 - C0 * DECAY**j for j in range(len(CROSS_AT)))
    assert_rate(int(np.sum(result.first_hit[:, 0] < 0)), n, never, "never enforced")


RESOLVE = 0.35


def test_resolve_is_kept_apart_from_belief(tmp_path: Path, backend: str) -> None:
    """With ``enforce`` given (the owner's resolve), every crossing is enforced with that
    probability however far the belief (credibility) has fallen: never enforced in (1 − R)^k of
    runs, not Π(1 − c_j); and the belief still decays at each unenforced crossing."""
    program = program_from(red_line_scenario(RESOLVE), tmp_path)
    n = sized(backend, N, N_REFERENCE)
    result = on_backend(backend, program, 13, runs(n))
    first = result.first_hit[:, 0]
    assert_rate(int(np.sum(first == CROSS_AT[0])), n, RESOLVE, "enforced at the first crossing")
    k = len(CROSS_AT)
    assert_rate(int(np.sum(first < 0)), n, (1 - RESOLVE) ** k, "never enforced")
    never = first < 0
    belief = _final_credibility(program, result, "line1")[never]
    assert never.any() and np.allclose(belief, C0 * DECAY**k, rtol=0, atol=1e-12)


# -- (d) an alliance clause invoked at the rate its trigger and invocation imply -------------

P_ATTACK, Q_INVOKE = 0.3, 0.4


def alliance_scenario(by: str, horizon: int) -> dict[str, Any]:
    actors: list[dict[str, Any]] = [{"id": "M", "decision": {"kind": "doctrine"}}]
    actions: list[dict[str, Any]] = [
        {"id": "answer", "actors": ["NATO"], "effects": {"answered": 1}, "tags": ["answer"]},
    ]
    rules: list[dict[str, Any]] = []
    if by == "rule":
        actors.append({"id": "X", "decision": {"kind": "doctrine"}})
        rules.append(
            {"id": "raid", "when": "true", "probability": "p_attack", "tags": ["attack:X->M"]}
        )
    else:  # a logit attacker indifferent between holding and striking: p = 1/2
        actors.append({"id": "X", "decision": {"kind": "logit", "lambda": 3.0}})
        actions.append({"id": "strike", "actors": ["X"], "tags": ["attack:X->M"]})
    return scenario_dict(
        time={"step": "month", "horizon": horizon},
        actors=actors,
        alliances=[
            {
                "id": "NATO",
                "members": ["M"],
                "clauses": [
                    {
                        "id": "art5",
                        "trigger": 'now("attack:*->{members}")',
                        "invocation": "q_invoke",
                        "response": "answer",
                    },
                ],
            }
        ],
        parameters=[{"id": "p_attack", "value": P_ATTACK}, {"id": "q_invoke", "value": Q_INVOKE}],
        variables=[{"id": "answered"}],
        actions=actions,
        rules=rules,
        outcomes=[
            {"id": "triggered", "when": 'happened("triggered:NATO.art5")'},
            {"id": "invoked", "when": 'happened("invoked:NATO.art5")', "absorbing": True},
        ],
    )


@pytest.mark.parametrize(("by", "p"), [("rule", P_ATTACK), ("logit", 0.5)])
def test_alliance_clause_invocation_rate(tmp_path: Path, backend: str, by: str, p: float) -> None:
    horizon = 10
    n = sized(backend, N, N_REFERENCE)
    program = program_from(alliance_scenario(by, horizon), tmp_path)
    result = on_backend(backend, program, 4, runs(n))
    trig, inv = result.first_hit[:, 0], result.first_hit[:, 1]
    for h in (1, 4, 10):
        exact = 1 - (1 - p * Q_INVOKE) ** h
        assert_rate(int(np.sum((inv >= 0) & (inv < h))), n, exact, f"invoked within {h}")
    # an invocation needs a trigger first, so runs ended by one have been triggered: the
    # trigger's first hit is unaffected by absorption
    assert np.all((trig[inv >= 0] >= 0) & (trig[inv >= 0] <= inv[inv >= 0]))
    for h in (1, 4, 10):
        exact = 1 - (1 - p) ** h
        assert_rate(int(np.sum((trig >= 0) & (trig < h))), n, exact, f"triggered within {h}")
    # the alliance's response is performed exactly when the clause is invoked
    answered = result.final[:, program.var_index("answered")]
    assert np.array_equal(answered, (inv >= 0).astype(float))
