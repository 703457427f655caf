"""The logit quantal response equilibrium of one step, one solver for every backend.

When logit actors' utilities read each other's choices (``chose()`` in an effect, read as the
probability of that choice), each plays a logit response to the others' choice
probabilities, and a step's choice probabilities are a fixed point: for every logit actor i and
candidate k,

    p_ik = σ_ik(p) = exp(λ_i U_ik(p)) / Σ_j exp(λ_i U_ij(p))   over i's available candidates

(McKelvey and Palfrey's logit QRE). This module finds it; the NumPy kernel calls it with every
run of a chunk at once and the reference interpreter with a batch of one run, and every
operation is elementwise across runs, so a run's answer is the same bits in both and whatever
other runs share its batch.

**Which equilibrium.** A game may have several. The solver follows the *principal branch* of the
logit correspondence: scale every λ by τ and trace the curve of solutions from τ = 0 — where the
only solution is the uniform choice over each actor's available candidates — to τ = 1, and
answer the first point where it reaches τ = 1. This is the equilibrium that McKelvey and
Palfrey's and Turocy's tracing procedures select; it is unique for generic games, and as λ grows
it tends to one Nash equilibrium of the game (in coordination games typically the risk-dominant
one). Where a symmetric game's branch meets a symmetry-breaking bifurcation, the trace steps over
it and stays on the symmetric branch.

**Method.** Predictor–corrector continuation in pseudo-arclength (the curve may turn back in τ),
in the coordinates x = (p, τ) with H(x) = σ(p; τ) − p. Its settings are the ``QRE_*``
constants of :mod:`redline.engine.semantics`, named here without the prefix:

- the Jacobian of σ by the chain rule, ∂σ_i/∂p = τλ_i (diag σ_i − σ_i σ_iᵀ) ∂U_i/∂p, with
  ∂U/∂p by forward differences of the utilities (step DIFFERENCE_STEP; utilities are
  multilinear in the beliefs, so a difference is nearly exact), and ∂σ_i/∂τ = λ_i (diag σ_i −
  σ_i σ_iᵀ) U_i;
- the tangent t solves [H_x; t_prevᵀ] t = e (then normalised), oriented along the previous one,
  starting along +τ; the sign of det [H_x; tᵀ], constant along a regular curve, is kept, so
  that a step which jumps across a hairpin of the curve is retried shorter than FLIP_STEP (a
  step that short which changes it crosses a bifurcation point, and goes on);
- predictor x0 + h·t, from h = FIRST_STEP; corrector Newton on [H; tᵀ(x − x_pred)] = 0. A
  predictor that would pass τ = 1 is shortened to land on it, and the corrector then holds
  τ = 1;
- a point is accepted when max |σ(p) − p| < CORRECTOR_TOLERANCE on the way and < TOLERANCE
  (1e-10) at τ = 1. A step is rejected when the corrector's first move exceeds MAX_DRIFT·h (it
  would jump to another branch; h counted as at least DRIFT_FLOOR), when its residual shrinks
  by less than CONTRACTION an iteration, after MAX_CORRECTIONS iterations, when the new tangent
  turned by more than the angle whose cosine is MIN_COSINE, or when it ended below τ = 0;
  then h shrinks (SHRINK), and below MIN_STEP the run has failed. After an acceptance within
  QUICK iterations h grows (GROW, up to MAX_STEP). A run that has not reached τ = 1 after
  MAX_ITERATIONS evaluations (each: the utilities and one difference per coordinate) has
  failed too;
- linear systems by Gaussian elimination with partial pivoting written out over the
  coordinates, array operations across runs (batched LAPACK need not give a batch of one the
  same bits as a batch of many); sums over candidates in a fixed order.

Every run carries its own step size and state; runs that have converged or failed are frozen.
Only loop control looks across runs. The backends raise :class:`EquilibriumError` for a live
run that did not converge rather than play an unconverged answer.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redline.core.primitives import libm
from redline.engine.semantics import (
    QRE_CONTRACTION,
    QRE_CORRECTOR_TOLERANCE,
    QRE_DIFFERENCE_STEP,
    QRE_DRIFT_FLOOR,
    QRE_FIRST_STEP,
    QRE_FLIP_STEP,
    QRE_GROW,
    QRE_MAX_CORRECTIONS,
    QRE_MAX_DRIFT,
    QRE_MAX_ITERATIONS,
    QRE_MAX_STEP,
    QRE_MIN_COSINE,
    QRE_MIN_STEP,
    QRE_QUICK,
    QRE_SHRINK,
    QRE_TOLERANCE,
)
from redline.errors import UserError

F64 = NDArray[np.float64]
Bools = NDArray[np.bool_]

#: for each logit player: its candidates' availability, utilities, and its λ — arrays over the
#: runs or scalars (broadcast), given beliefs: for each player, a list of its candidates'
#: choice probabilities, each an array over the runs
Response = list[tuple[Sequence[Any], Sequence[Any], Any]]
Respond = Callable[[list[list[F64]]], Response]


class EquilibriumError(UserError):
    """A step's quantal response equilibrium was not found for a live run."""


def not_found(step: int, run: int, actors: Sequence[str], runs: int = 1) -> str:
    """The message of an :class:`EquilibriumError` (the same from every backend)."""
    others = f" (and {runs - 1} other runs of the chunk)" if runs > 1 else ""
    return (
        f"step {step}, run {run}{others}: no logit quantal response equilibrium found for the "
        f"actors {', '.join(actors)} (tracing it from uniform play did not reach choice "
        f"probabilities accurate to {QRE_TOLERANCE:g}). Their utilities read each other's choices "
        f"through chose(); a comparison or threshold on chose() makes a utility jump, and then "
        f"no equilibrium need exist — make those utilities change smoothly with the choice "
        f"probabilities, or lower the actors' rationality (lambda)"
    )


@dataclass
class Solution:
    """The equilibrium of a batch of runs.

    ``beliefs[i][k]``: player i's probability of candidate k; ``weights[i][k]``: the
    unnormalised logit weights exp(λ(U − max U)) at the equilibrium (0 where unavailable), which
    the draws use; ``converged``: per run. Where a run did not converge its beliefs and weights
    are uniform over the available candidates (never to be played: the backends stop);
    ``iterations``: evaluations made (the batch's longest trace)."""

    beliefs: list[list[F64]]
    weights: list[list[F64]]
    converged: Bools
    iterations: int


def _total(values: Sequence[Any]) -> Any:
    """Σ in the order given."""
    acc = values[0]
    for v in values[1:]:
        acc = acc + v
    return acc


def _solve(matrix: F64) -> tuple[F64, F64]:
    """Solve the systems ``matrix[r, :m] · y = matrix[r, m]`` (shape (m, m + 1, runs)), one per
    run, by Gaussian elimination with partial pivoting; ``matrix`` is overwritten. Ties in the
    pivot search go to the first row; every arithmetic operation is elementwise over runs.
    Returns y and the sign of each run's determinant."""
    m = matrix.shape[0]
    sign = np.ones(matrix.shape[2])
    for c in range(m):
        # each run's pivot row swapped into row c (only columns c.. are still to be used)
        pivot = c + np.argmax(np.abs(matrix[c:, c]), axis=0)
        sign = np.where(pivot != c, -sign, sign)
        top = matrix[c, c:].copy()
        for r in range(c + 1, m):
            take = pivot == r
            row = matrix[r, c:]
            matrix[c, c:] = np.where(take, row, matrix[c, c:])
            matrix[r, c:] = np.where(take, top, row)
        sign = np.where(matrix[c, c] < 0.0, -sign, sign)
        factor = matrix[c + 1 :, c] / matrix[c, c]
        matrix[c + 1 :, c:] = matrix[c + 1 :, c:] - factor[:, None] * matrix[c, c:]
    y = np.zeros((m, matrix.shape[2]))
    for r in reversed(range(m)):
        acc = matrix[r, m]
        for j in range(r + 1, m):
            acc = acc - matrix[r, j] * y[j]
        y[r] = acc / matrix[r, r]
    return y, sign


def _max_abs(values: F64) -> F64:
    """max |v| over the first axis (NaN if any is NaN)."""
    acc: F64 = np.abs(values[0])
    for v in values[1:]:
        acc = np.maximum(acc, np.abs(v))
    return acc


class _Game:
    """The fixed-point map of a batch of runs, in coordinates (player, candidate) flattened:
    a point is an array (D, runs) of choice probabilities."""

    def __init__(self, respond: Respond, sizes: Sequence[int], n: int) -> None:
        self.respond, self.sizes, self.n = respond, list(sizes), n
        self.offsets = [sum(self.sizes[:i]) for i in range(len(self.sizes))]
        self.D = sum(self.sizes)
        self.blocks = [slice(o, o + K) for o, K in zip(self.offsets, self.sizes, strict=True)]
        self.available = np.ones((self.D, n), dtype=np.bool_)
        self.rationality = np.zeros((len(self.sizes), n))

    def beliefs(self, p: F64) -> list[list[F64]]:
        return [list(p[block]) for block in self.blocks]

    def utilities(self, p: F64) -> F64:
        """Utilities (D, runs), 0 where unavailable."""
        out = np.zeros((self.D, self.n))
        for (_, values, _), block in zip(self.respond(self.beliefs(p)), self.blocks, strict=True):
            for k, u in enumerate(values):
                out[block.start + k] = u
        return np.where(self.available, out, 0.0)

    def start(self) -> F64:
        """The uniform choice over each player's available candidates — the solution at τ = 0;
        availability and λ are read here, at uniform beliefs."""
        p = np.zeros((self.D, self.n))
        for K, block in zip(self.sizes, self.blocks, strict=True):
            p[block] = 1.0 / K
        for i, ((feasible, values, lam), block) in enumerate(
            zip(self.respond(self.beliefs(p)), self.blocks, strict=True)
        ):
            assert len(feasible) == len(values) == block.stop - block.start
            for k, ok in enumerate(feasible):
                self.available[block.start + k] = ok
            self.rationality[i] = lam
        for block in self.blocks:
            count = _total(list(self.available[block].astype(np.float64)))
            p[block] = np.where(self.available[block], 1.0 / count, 0.0)
        return p

    def logit(self, utility: F64, scale: F64) -> tuple[F64, F64, F64]:
        """Weights exp(scale·(U − max U)) (0 where unavailable), probabilities, and U − max U
        (0 where unavailable); ``scale`` per player."""
        z, sigma, gap = (np.zeros((self.D, self.n)) for _ in range(3))
        for i, block in enumerate(self.blocks):
            ok, u = self.available[block], utility[block]
            best = u[0]
            for k in range(1, len(u)):
                best = np.where(ok[k], np.maximum(best, u[k]), best)
            gap[block] = np.where(ok, u - best, 0.0)
            z[block] = np.where(ok, libm("exp")(scale[i] * gap[block]), 0.0)
            sigma[block] = z[block] / _total(list(z[block]))
        return z, sigma, gap

    def evaluate(self, x: F64) -> tuple[F64, F64, F64]:
        """At x = (p, τ): H = σ(p; τ) − p (D, runs), its Jacobian [∂H/∂p | ∂H/∂τ] (D, D + 1,
        runs), and the logit weights."""
        D = self.D
        p, tau = x[:D], x[D]
        utility = self.utilities(p)
        # ∂U/∂p_c by forward differences, one coordinate at a time: slopes[c] is (D, runs)
        slopes = np.zeros((D, D, self.n))
        for c in range(D):
            moved = p.copy()
            moved[c] = p[c] + QRE_DIFFERENCE_STEP
            slopes[c] = (self.utilities(moved) - utility) / (moved[c] - p[c])
        scale = tau * self.rationality
        z, sigma, gap = self.logit(utility, scale)
        jacobian = np.zeros((D, D + 1, self.n))
        for i, block in enumerate(self.blocks):
            s = sigma[block]
            # ∂σ_k/∂p_c = τλ σ_k (∂U_k/∂p_c − Σ_j σ_j ∂U_j/∂p_c)
            averaged = _total([s[k] * slopes[:, block.start + k] for k in range(len(s))])
            own = slopes[:, block].transpose(1, 0, 2)  # (K, D, runs)
            jacobian[block, :D] = scale[i] * (s[:, None] * (own - averaged))
            # ∂σ_k/∂τ = λ σ_k (U_k − Σ_j σ_j U_j)
            mean_gap = _total([s[k] * gap[block.start + k] for k in range(len(s))])
            jacobian[block, D] = self.rationality[i] * (s * (gap[block] - mean_gap))
        diagonal = np.arange(D)
        jacobian[diagonal, diagonal] = jacobian[diagonal, diagonal] - 1.0
        return sigma - p, jacobian, z


def solve_logit_qre(respond: Respond, sizes: Sequence[int], n: int) -> Solution:
    """The logit QRE on the principal branch, for each of ``n`` runs (see the module).

    ``respond(beliefs)`` gives, for each logit player (``sizes[i]`` candidates each), the
    availability, utility and λ of its candidates given ``beliefs`` — for each player a list of
    its candidates' probabilities, arrays of shape (n,). It must compute each run from that
    run's entries alone. Availability and λ are read once, at uniform beliefs."""
    with np.errstate(all="ignore"):
        return _trace(_Game(respond, sizes, n), n)


def _trace(game: _Game, n: int) -> Solution:
    D = game.D
    m = D + 1
    x0 = np.zeros((m, n))  # the last accepted point (p, τ)
    x0[:D] = game.start()
    t0 = np.zeros((m, n))  # its tangent (at the start, +τ: the first tangent's orientation)
    t0[D] = 1.0
    x = x0.copy()  # the point being corrected
    xp = x0.copy()  # its predictor
    h = np.full(n, QRE_FIRST_STEP)  # the step along the curve
    used = np.zeros(n)  # the step the current predictor took
    landing = np.zeros(n, dtype=np.bool_)  # correcting at τ = 1
    tries = np.zeros(n, dtype=np.int64)  # corrector iterations of the current step
    last = np.full(n, np.inf)  # the previous iteration's residual
    active = np.ones(n, dtype=np.bool_)
    converged = np.zeros(n, dtype=np.bool_)
    orientation = np.zeros(n)  # the sign of det [H_x; tᵀ] along the curve (0: not yet known)
    weights = np.where(game.available, 1.0, 0.0)
    beliefs = x0[:D].copy()
    iterations = 0
    while active.any() and iterations < QRE_MAX_ITERATIONS:
        iterations += 1
        residual, jacobian, z = game.evaluate(x)
        res = _max_abs(residual)
        finite = np.isfinite(res) & np.isfinite(jacobian).all(axis=(0, 1))
        ok = active & finite & (res < np.where(landing, QRE_TOLERANCE, QRE_CORRECTOR_TOLERANCE))
        done = ok & landing
        accept = ok & ~landing
        correcting = active & ~ok
        reject = correcting & (
            ~finite
            | (tries >= QRE_MAX_CORRECTIONS)
            | ((tries > 0) & (res > QRE_CONTRACTION * last))
        )
        newton = correcting & ~reject
        # one linear system per run: at an accepted point its tangent, [H_x; t0ᵀ] t = e;
        # otherwise a Newton move, [H_x; t0ᵀ] y = −[H; t0ᵀ(x − xp)], or at τ = 1
        # [H_x; eᵀ] y = −[H; 0]
        system = np.zeros((m, m + 1, n))
        system[:D, :m] = jacobian
        system[:D, m] = np.where(accept, 0.0, -residual)
        system[D, :m] = np.where(landing, 0.0, t0)
        system[D, D] = np.where(landing, 1.0, system[D, D])
        offset = _total(list(t0 * (x - xp)))
        system[D, m] = np.where(accept, 1.0, np.where(landing, 0.0, -offset))
        y, sign = _solve(system)
        # a Newton move that jumps away from the curve, or that is not finite, is rejected
        move = _max_abs(y)
        drift = QRE_MAX_DRIFT * np.maximum(used, QRE_DRIFT_FLOOR)
        bad = newton & (~np.isfinite(move) | ((tries == 0) & (move > drift)))
        reject |= bad
        newton &= ~bad
        # the tangent at an accepted point; a step whose tangent cannot be computed, turned
        # too far (t0 · t = 1 / length; at the start t0 is +τ, not a tangent), or which ended
        # below τ = 0 (the corrector found the curve's other side) was too long
        length = np.sqrt(_total(list(y * y)))
        tangent = y / length
        turn = (1.0 / length >= QRE_MIN_COSINE) | (iterations == 1)
        bad = accept & ~(np.isfinite(length) & (length > 0.0) & turn & (x[D] >= 0.0))
        # along a regular curve det [H_x; tᵀ] keeps its sign; where the sign at t0 changed,
        # the step jumped across a hairpin (t0 would send the trace back the way it came) or
        # crossed a bifurcation point: it is retried shorter, and once it is short, crossed
        flipped = accept & (orientation != 0.0) & (sign != orientation) & (used >= QRE_FLIP_STEP)
        bad |= flipped
        reject |= bad
        accept &= ~bad
        orientation = np.where(accept, sign, orientation)
        # converged at τ = 1: frozen with its answer
        converged |= done
        active &= ~done
        weights = np.where(done, z, weights)
        beliefs = np.where(done, x[:D], beliefs)
        # accepted on the way: the new base point, and a longer step after a quick acceptance
        h = np.where(accept & (tries <= QRE_QUICK), np.minimum(h * QRE_GROW, QRE_MAX_STEP), h)
        x0 = np.where(accept, x, x0)
        t0 = np.where(accept, tangent, t0)
        # a Newton move (held at τ = 1 when landing)
        x = np.where(newton, x + y, x)
        x[D] = np.where(newton & landing, 1.0, x[D])
        last = np.where(newton, res, last)
        tries = np.where(newton, tries + 1, tries)
        # a rejected step is retried from the last accepted point, shorter (after a flip, at
        # once shorter than FLIP_STEP: shorter steps would be rejected alike)
        h = np.where(reject, h * QRE_SHRINK, h)
        h = np.where(flipped, np.minimum(h, QRE_FLIP_STEP * QRE_SHRINK), h)
        active &= ~(reject & (h < QRE_MIN_STEP))
        # a new predictor after an acceptance or a rejection; one that would pass τ = 1 is
        # shortened to land on it, and a base point already past τ = 1 is corrected there
        fresh = active & (accept | reject)
        short = (1.0 - x0[D]) / t0[D]
        past = x0[D] >= 1.0
        lands = (x0[D] + h * t0[D] >= 1.0) & ~past
        ahead = x0 + np.where(lands, short, np.where(past, 0.0, h)) * t0
        ahead[D] = np.where(lands | past, 1.0, ahead[D])
        x = np.where(fresh, ahead, x)
        xp = np.where(fresh, ahead, xp)
        used = np.where(fresh, np.where(lands, short, h), used)
        landing = np.where(fresh, lands | past, landing)
        tries = np.where(fresh, 0, tries)
        last = np.where(fresh, np.inf, last)
    return Solution(game.beliefs(beliefs), game.beliefs(weights), converged, iterations)
