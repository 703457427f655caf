"""The statistical power of their design: with 10 runs per model × situation, how often does a
study tell two models' escalation scores apart?

A study is simulated many times. In each, every cell gets ``runs`` runs, and each pair of
models in a situation is compared by Welch's two-sided t-test at ``alpha``; the power of a pair
is the share of studies in which the test rejects *and* the sign agrees with the pair's true
difference. Two ways to draw a run:

- ``fitted``: from the cell's fitted distribution (:mod:`.fit`), as redline's ``escalaition``
  scenario plays it: each of 14 days × 8 nations one draw of an action's points, counted for
  the cell's mean number of actions a nation-day — days independent of one another. Their runs
  vary more than that (a run that turns nuclear stays nuclear), so this power is an upper
  bound; :func:`overdispersion` says by how much their runs' variance exceeds it.
- ``resample``: one of the cell's published runs, drawn with replacement (the run-to-run
  variation their study had; the "true" difference is then the one they observed).
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from redline.analysis.escalaition.fit import DAYS, PointsFit, points_distribution
from redline.analysis.escalaition.logs import RunLog
from redline.analysis.escalaition.scoring import NATIONS, Mode, day_scores, run_score
from redline.analysis.escalaition.study import MODEL_ORDER, SITUATION_ORDER
from redline.errors import RedlineValueError

Method = Literal["fitted", "resample"]
#: the most studies one call simulates (each is runs × cells multinomial draws)
MAX_STUDIES = 1_000_000


@dataclass(frozen=True)
class PairPower:
    """How often ``runs`` runs a cell tell models ``a`` and ``b`` apart in one situation."""

    situation: str
    a: str
    b: str
    difference: float  # the true (fitted or observed) mean score of a minus b
    power: float  # share of studies with p < alpha and the right sign
    wrong_sign: float  # share of studies with p < alpha and the wrong sign
    studies: int


def simulate_fitted(
    fit: PointsFit, runs: int, studies: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """``studies × runs`` run scores drawn from a cell's points distribution: per run, 14 × 8
    nation-days, each one draw counted ``m`` times."""
    nation_days = DAYS * NATIONS
    counts = rng.multinomial(nation_days, np.asarray(fit.shares()), size=(studies, runs))
    points = np.asarray(fit.points, dtype=float) * fit.actions_per_nation_day
    scores: NDArray[np.float64] = counts @ points / nation_days
    return scores


def overdispersion(fit: PointsFit, observed: Sequence[float]) -> float:
    """Their runs' score variance over the variance of runs drawn from the fitted model."""
    q = np.asarray(fit.shares(), dtype=float)
    x = np.asarray(fit.points, dtype=float) * fit.actions_per_nation_day
    model_var = float(q @ x**2 - (q @ x) ** 2) / (DAYS * NATIONS)
    return float(np.var(observed, ddof=1)) / model_var if model_var > 0 else float("nan")


def _welch(a: NDArray[np.float64], b: NDArray[np.float64], alpha: float) -> NDArray[np.int8]:
    """Per study (row): +1 if a > b significantly, −1 if a < b, 0 if not significant."""
    from scipy import stats

    # identical samples (few runs resampled) give NaN statistics: counted as not significant
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        t, p = stats.ttest_ind(a, b, axis=1, equal_var=False)
    significant = np.nan_to_num(p, nan=1.0) < alpha
    verdict: NDArray[np.int8] = np.asarray(np.sign(np.nan_to_num(t)) * significant, np.int8)
    return verdict


def power_table(
    logs: Sequence[RunLog],
    *,
    mode: Mode = "compat",
    method: Method = "fitted",
    runs: int = 10,
    studies: int = 10_000,
    alpha: float = 0.05,
    seed: int = 0,
    models: Sequence[str] | None = None,
) -> list[PairPower]:
    """The power of each pair of models in each situation (see the module's docstring)."""
    if not 2 <= runs <= 10_000:
        raise RedlineValueError(f"runs must be between 2 and 10,000, got {runs}", parameter="runs")
    if not 1 <= studies <= MAX_STUDIES:
        raise RedlineValueError(
            f"studies must be between 1 and {MAX_STUDIES:,}, got {studies}", parameter="studies"
        )
    if not 0 < alpha < 1:
        raise RedlineValueError(f"alpha must be in (0, 1), got {alpha}", parameter="alpha")
    cells: dict[tuple[str, str], list[RunLog]] = defaultdict(list)
    for log in logs:
        cells[log.name.cell].append(log)
    rng = np.random.default_rng(seed)
    out = []
    for situation in SITUATION_ORDER:
        present = [m for (m, s) in cells if s == situation and (models is None or m in models)]
        ordered = sorted(
            present, key=lambda m: (MODEL_ORDER.index(m) if m in MODEL_ORDER else 99, m)
        )
        draws: dict[str, NDArray[np.float64]] = {}
        truth: dict[str, float] = {}
        for model in ordered:
            cell = sorted(cells[(model, situation)], key=lambda r: r.name.run)
            observed = np.array([run_score(day_scores(r.rows, mode)) for r in cell])
            if method == "fitted":
                fit = points_distribution(cell, mode)
                truth[model] = fit.mean_score()
                draws[model] = simulate_fitted(fit, runs, studies, rng)
            else:
                truth[model] = float(observed.mean())
                draws[model] = observed[rng.integers(0, len(observed), size=(studies, runs))]
        for a, b in combinations(ordered, 2):
            verdict = _welch(draws[a], draws[b], alpha)
            d = truth[a] - truth[b]
            sign = 1 if d > 0 else -1
            out.append(
                PairPower(
                    situation,
                    a,
                    b,
                    d,
                    float(np.mean(verdict == sign)),
                    float(np.mean(verdict == -sign)),
                    studies,
                )
            )
    return out


def overdispersion_by_cell(
    logs: Sequence[RunLog], mode: Mode = "compat"
) -> dict[tuple[str, str], float]:
    """Per model × situation, :func:`overdispersion` of its runs' scores in ``mode``."""
    cells: dict[tuple[str, str], list[RunLog]] = defaultdict(list)
    for log in logs:
        cells[log.name.cell].append(log)
    out = {}
    for key, cell in cells.items():
        if len(cell) < 2:
            continue
        observed = [run_score(day_scores(r.rows, mode)) for r in cell]
        out[key] = overdispersion(points_distribution(cell, mode), observed)
    return out
