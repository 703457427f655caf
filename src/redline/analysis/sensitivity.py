"""Which assumptions drive each outcome's risk: Sobol indices and Morris screening (SALib).

**Sobol** (:func:`sobol`): SALib's Sobol' sampler (``SALib.sample.sobol``, Saltelli's scheme
without second-order terms: ``N·(D + 2)`` points for ``D`` factors) and estimators
(``SALib.analyze.sobol``: Saltelli 2010's first-order, Jansen's total-order, bootstrap 95%
intervals) applied to each outcome's probability at every design point
(:func:`redline.analysis.factors.point_hits`).

A point's probability is estimated from ``R`` runs, so the output is the true probability
``p(x)`` plus a Monte Carlo error ``ε`` of variance ``p(1 − p)/R``, independent between points
(each point has its own run indices). The error is not an input: it inflates the output's
variance, so the raw indices understate first-order effects and overstate total effects. It is
estimated at each point without bias by ``σ̂² = p̂(1 − p̂)/(R − 1)`` and removed:

- the variance of the probability: ``V = Var(p̂) − mean(σ̂²)`` over the A and B points;
- first order: the estimator's numerator ``mean(f_B·(f_ABi − f_A))`` is unbiased whatever the
  independent noise, so ``S_i = S_i,raw · Var(p̂) / V``;
- total order: Jansen's numerator ``mean((f_A − f_ABi)²)/2`` carries the errors of the A and AB_i
  points, so ``ST_i = (ST_i,raw · Var(p̂) − (mean σ̂²_A + mean σ̂²_ABi)/2) / V``;

the bootstrap intervals are scaled by ``Var(p̂)/V`` too. ``noise_share = mean(σ̂²)/Var(p̂)`` is
reported per outcome: where it is large (above 0.2) the correction itself is uncertain and more
runs per point are the remedy (halving the share takes twice the runs). Per-run estimation
(every run its own point, a Bernoulli output) would spend one run per point but carries the
full binomial variance, ``p(1 − p)``, in every estimator: at the base rates of escalation
outcomes (a few percent) it needs far more runs for the same interval than averaging runs at a
point, which is why redline averages.

Convergence: the first ``n`` base samples of a Sobol' design of ``N`` (``n`` a power of two)
are themselves such a design, so the indices are recomputed at each ``n`` = 16, 32, … N from the
same runs (:attr:`Sensitivity.convergence`).

**Morris** (:func:`morris`): elementary effects on ``r`` trajectories (``SALib.sample.morris``,
``SALib.analyze.morris``, 4 levels standing for the quantiles 1/8, 3/8, 5/8 and 7/8 of each
factor), so an effect is the change in probability when a factor moves by half of its
distribution (two levels), divided by SALib's step of 2/3. Cheaper than Sobol
(``r·(D + 1)`` points) for screening many factors: ``mu_star`` ranks them. The Monte Carlo
error inflates ``mu_star``: ``noise_floor`` is the ``mu_star`` a factor with no effect would
show, ``E|ε₁ − ε₂|/Δ``.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from redline.analysis.factors import Factor, factors, point_hits
from redline.compile.configure import Configuration, resolve
from redline.engine.deciders import DecisionMaker
from redline.errors import RedlineValueError
from redline.scenario.errors import suggest
from redline.scenario.model import Scenario

#: the smallest base sample a Sobol analysis takes (and the first of the convergence table)
MIN_SOBOL_N = 16
#: Morris levels (the grid of each factor's quantiles) and the step between them
MORRIS_LEVELS = 4
MORRIS_DELTA = MORRIS_LEVELS / (2 * (MORRIS_LEVELS - 1))
#: bootstrap resamples for the intervals
RESAMPLES = 200
#: noise share above which the indices are flagged as uncertain
NOISE_WARNING = 0.2


@dataclass(frozen=True)
class Sensitivity:
    """Sobol indices of each outcome's probability with respect to each factor.

    ``indices``: a row per outcome and factor — ``S1``, ``S1_conf`` (the 95% interval's
    half-width), ``ST``, ``ST_conf`` (noise-corrected) and ``S1_raw``, ``ST_raw`` (SALib's on
    the estimated probabilities). ``noise``: a row per outcome — the mean probability, the
    variance of the estimated probabilities, the Monte Carlo part of it and its share.
    ``convergence``: the indices at each base sample size. All Arrow tables
    (``.to_pandas()``)."""

    scenario: str
    levers: Mapping[str, str]
    lens: str | None
    factors: tuple[Factor, ...]
    outcomes: tuple[tuple[str, str], ...]
    n: int
    runs_per_point: int
    points: int
    seed: int
    indices: pa.Table
    noise: pa.Table
    convergence: pa.Table
    seconds: float = field(default=0.0, compare=False)

    method = "sobol"

    def size(self) -> str:
        """The design's size in words."""
        return f"N={self.n}"

    def findings(self) -> list[str]:
        """What a reader must know: outcomes without variation, and noisy ones."""
        return _noise_findings(self.noise, self.runs_per_point)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form: the setting, and the three tables as lists of rows."""
        return {
            "scenario": self.scenario,
            "method": "sobol",
            "levers": dict(self.levers),
            "lens": self.lens,
            "n": self.n,
            "points": self.points,
            "runs_per_point": self.runs_per_point,
            "seed": self.seed,
            "factors": [
                {"name": f.name, "kind": f.kind, "distribution": f.describe()} for f in self.factors
            ],
            "outcomes": {o: name for o, name in self.outcomes},
            "indices": _rows(self.indices),
            "noise": _rows(self.noise),
            "convergence": _rows(self.convergence),
            "findings": self.findings(),
        }


@dataclass(frozen=True)
class Screening:
    """Morris elementary effects of each outcome's probability: ``indices`` has a row per
    outcome and factor (``mu``, ``mu_star``, ``mu_star_conf``, ``sigma``, and the outcome's
    ``noise_floor``), ``noise`` a row per outcome as in :class:`Sensitivity`."""

    scenario: str
    levers: Mapping[str, str]
    lens: str | None
    factors: tuple[Factor, ...]
    outcomes: tuple[tuple[str, str], ...]
    trajectories: int
    runs_per_point: int
    points: int
    seed: int
    indices: pa.Table
    noise: pa.Table
    seconds: float = field(default=0.0, compare=False)

    method = "morris"

    def size(self) -> str:
        """The design's size in words."""
        return f"{self.trajectories} trajectories"

    def findings(self) -> list[str]:
        """Outcomes without variation, and noisy ones (their floor near the factors' μ*)."""
        return _noise_findings(self.noise, self.runs_per_point, corrected=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "method": "morris",
            "levers": dict(self.levers),
            "lens": self.lens,
            "trajectories": self.trajectories,
            "points": self.points,
            "runs_per_point": self.runs_per_point,
            "seed": self.seed,
            "factors": [
                {"name": f.name, "kind": f.kind, "distribution": f.describe()} for f in self.factors
            ],
            "outcomes": {o: name for o, name in self.outcomes},
            "indices": _rows(self.indices),
            "noise": _rows(self.noise),
            "findings": self.findings(),
        }


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    """Table rows for JSON: NaN as null."""
    rows: list[dict[str, Any]] = table.to_pylist()
    for row in rows:
        for k, v in row.items():
            if isinstance(v, float) and not math.isfinite(v):
                row[k] = None
    return rows


def _noise_findings(noise: pa.Table, runs: int, corrected: bool = True) -> list[str]:
    out = []
    for row in noise.to_pylist():
        if row["variance"] == 0:
            out.append(
                f"{row['outcome']}: the same probability ({row['mean']:.3g}) at every design "
                "point: no factor moves it, no index is defined"
            )
        elif not row["noise_share"] < 1.0:
            out.append(
                f"{row['outcome']}: at {runs} runs per point the Monte Carlo noise is as large "
                f"as the whole variance of the estimated probabilities "
                f"({row['noise_share']:.0%}): the factors' effect cannot be told from it, no "
                "index is given; use more runs per point"
            )
        elif not row["noise_share"] < NOISE_WARNING:
            out.append(
                f"{row['outcome']}: Monte Carlo noise is {row['noise_share']:.0%} of the "
                f"variance of the estimated probabilities at {runs} runs per point; "
                + (
                    "the indices are corrected for it but uncertain"
                    if corrected
                    else "a μ* near the noise floor is not told from an inert factor's"
                )
                + ": use more runs per point"
            )
    return out


def _problem(names: Sequence[str]) -> dict[str, Any]:
    """SALib's problem: every factor in the unit cube of its quantiles."""
    return {"num_vars": len(names), "names": list(names), "bounds": [[0.0, 1.0]] * len(names)}


def _outcomes(scenario: Scenario, outcomes: Sequence[str] | None) -> list[tuple[str, str]]:
    known = [(o.id, o.label) for o in scenario.outcomes]
    if not known:
        raise RedlineValueError("the scenario has no outcomes to analyse", parameter="outcomes")
    if outcomes is None:
        return known
    ids = [o for o, _ in known]
    for o in outcomes:
        if o not in ids:
            raise RedlineValueError("outcomes: " + suggest(o, ids, "outcome"), parameter="outcomes")
    return [x for x in known if x[0] in set(outcomes)]


def _config(
    scenario: Scenario, levers: Mapping[str, str] | None, lens: str | None
) -> Configuration:
    from redline.errors import UserError

    try:
        return resolve(scenario, dict(levers or {}), lens)
    except UserError as exc:
        raise RedlineValueError(f"levers/lens: {exc}", parameter="levers") from None


def noise_table(
    outcomes: Sequence[tuple[str, str]],
    p: NDArray[np.float64],
    s2: NDArray[np.float64],
    rows: NDArray[np.intp],
) -> pa.Table:
    """Per outcome: mean probability, variance of the estimates over ``rows``, the Monte Carlo
    variance (mean ``σ̂²``) and its share of the variance."""
    variance = p[rows].var(axis=0)
    mc = s2[rows].mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(variance > 0, mc / np.where(variance > 0, variance, 1.0), math.nan)
    return pa.table(
        {
            "outcome": [o for o, _ in outcomes],
            "mean": p.mean(axis=0),
            "variance": variance,
            "noise_variance": mc,
            "noise_share": share,
        }
    )


def _estimates(hits: NDArray[np.int64], runs: int) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """Each point's probability and the unbiased estimate of its Monte Carlo variance."""
    p = hits / runs
    s2 = p * (1.0 - p) / (runs - 1) if runs > 1 else np.full_like(p, math.nan)
    return p, s2


def _point_estimates(
    scenario: Scenario,
    config: Configuration,
    fs: Sequence[Factor],
    values: NDArray[np.float64],
    chosen: Sequence[tuple[str, str]],
    runs_per_point: int,
    seed: int,
    backend: str,
    threads: int,
    progress: Callable[[int, int], None] | None,
    makers: Mapping[str, DecisionMaker] | None,
) -> tuple[NDArray[np.float64], NDArray[Any]]:
    """Each design point's probability of each chosen outcome from its own runs, and its Monte
    Carlo variance; ``progress(done, total)`` counts points."""
    total = len(values)
    done = 0

    def tick(k: int) -> None:
        nonlocal done
        done += k
        if progress:
            progress(done, total)

    hits = point_hits(
        scenario,
        config,
        fs,
        values,
        [o for o, _ in chosen],
        runs_per_point=runs_per_point,
        seed=seed,
        backend=backend,
        threads=threads,
        progress=tick,
        makers=makers,
    )
    return _estimates(hits, runs_per_point)


def sobol_indices(
    y: NDArray[np.float64], s2: NDArray[np.float64], d: int, seed: int
) -> dict[str, NDArray[np.float64]]:
    """Noise-corrected first- and total-order indices of one output on a Sobol design of
    ``d`` factors laid out as SALib's sampler (without second order) lays it out: blocks of
    ``d + 2`` rows ``A, AB_1 … AB_d, B``. ``s2``: each point's Monte Carlo variance."""
    from SALib.analyze import sobol as salib_sobol

    step = d + 2
    a_rows, b_rows = np.arange(0, len(y), step), np.arange(d + 1, len(y), step)
    ab = np.concatenate([a_rows, b_rows])
    total = float(np.var(y[ab]))
    nan = np.full(d, math.nan)
    if total == 0.0:
        return {k: nan for k in ("S1", "S1_conf", "ST", "ST_conf", "S1_raw", "ST_raw")}
    problem = _problem([f"x{j}" for j in range(d)])
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        si = salib_sobol.analyze(
            problem,
            y,
            calc_second_order=False,
            num_resamples=RESAMPLES,
            conf_level=0.95,
            seed=seed,
        )
    noise_ab = float(np.mean(s2[ab]))
    signal = total - noise_ab
    s1_raw = np.asarray(si["S1"], dtype=np.float64)
    st_raw = np.asarray(si["ST"], dtype=np.float64)
    if signal <= 0:
        corrected_s1, corrected_st, scale = nan, nan, math.nan
    else:
        scale = total / signal
        noise_a = float(np.mean(s2[a_rows]))
        noise_t = np.array([0.5 * (noise_a + float(np.mean(s2[a_rows + 1 + j]))) for j in range(d)])
        corrected_s1 = s1_raw * scale
        corrected_st = (st_raw * total - noise_t) / signal
    return {
        "S1": corrected_s1,
        "S1_conf": np.asarray(si["S1_conf"], dtype=np.float64) * scale,
        "ST": corrected_st,
        "ST_conf": np.asarray(si["ST_conf"], dtype=np.float64) * scale,
        "S1_raw": s1_raw,
        "ST_raw": st_raw,
    }


def sobol(
    scenario: Scenario,
    *,
    n: int = 256,
    runs_per_point: int = 200,
    outcomes: Sequence[str] | None = None,
    params: Mapping[str, tuple[float, float]] | None = None,
    uncertainties: Sequence[str] | None = None,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    seed: int = 0,
    backend: str = "numpy",
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Sensitivity:
    """Sobol first- and total-order indices, noise-corrected, with 95% intervals and their
    convergence, of each outcome's probability (all, or ``outcomes``) with respect to the
    configuration's drawn uncertainties (all, or ``uncertainties``) and the parameters of
    ``params`` over their ranges. ``n`` (a power of two, at least 16) base samples make
    ``n·(D + 2)`` design points of ``runs_per_point`` runs each. ``progress(done, total)`` is
    called with design points done. ``makers`` decide the language-model actors (a point's
    runs asked at once, the points one after another)."""
    if n < MIN_SOBOL_N or n & (n - 1):
        raise RedlineValueError(
            f"n must be a power of two, at least {MIN_SOBOL_N} (Sobol' points are balanced "
            f"only in powers of two), got {n}",
            parameter="n",
        )
    if runs_per_point < 2:
        raise RedlineValueError(
            f"runs_per_point must be at least 2 (the Monte Carlo noise is estimated from "
            f"them), got {runs_per_point}",
            parameter="runs_per_point",
        )
    from SALib.sample import sobol as sobol_sample

    started = time.perf_counter()
    config = _config(scenario, levers, lens)
    fs = factors(scenario, config, params, uncertainties)
    chosen = _outcomes(scenario, outcomes)
    d = len(fs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        unit = sobol_sample.sample(
            _problem([f.name for f in fs]), n, calc_second_order=False, seed=seed
        )
    values = np.column_stack([f.values(unit[:, j]) for j, f in enumerate(fs)])
    total = len(values)
    p, s2 = _point_estimates(
        scenario,
        config,
        fs,
        values,
        chosen,
        runs_per_point,
        seed,
        backend,
        threads,
        progress,
        makers,
    )
    step = d + 2
    ab = np.concatenate([np.arange(0, total, step), np.arange(d + 1, total, step)])
    sizes = [MIN_SOBOL_N << k for k in range(int(math.log2(n // MIN_SOBOL_N)) + 1)]
    table: dict[str, list[Any]] = {k: [] for k in ("outcome", "factor", "kind")}
    conv: dict[str, list[Any]] = {k: [] for k in ("outcome", "factor", "n")}
    for o, (ident, _) in enumerate(chosen):
        for size in sizes:
            rows = slice(0, size * step)
            got = sobol_indices(p[rows, o], s2[rows, o], d, seed)
            for j, f in enumerate(fs):
                conv["outcome"].append(ident)
                conv["factor"].append(f.name)
                conv["n"].append(size)
                for key in ("S1", "S1_conf", "ST", "ST_conf"):
                    conv.setdefault(key, []).append(float(got[key][j]))
            if size == n:
                for j, f in enumerate(fs):
                    table["outcome"].append(ident)
                    table["factor"].append(f.name)
                    table["kind"].append(f.kind)
                    for key, column in got.items():
                        table.setdefault(key, []).append(float(column[j]))
    return Sensitivity(
        scenario=scenario.id,
        levers=dict(config.levers),
        lens=config.lens,
        factors=tuple(fs),
        outcomes=tuple(chosen),
        n=n,
        runs_per_point=runs_per_point,
        points=total,
        seed=seed,
        indices=pa.table(table),
        noise=noise_table(chosen, p, s2, ab),
        convergence=pa.table(conv),
        seconds=time.perf_counter() - started,
    )


def morris(
    scenario: Scenario,
    *,
    trajectories: int = 20,
    runs_per_point: int = 200,
    outcomes: Sequence[str] | None = None,
    params: Mapping[str, tuple[float, float]] | None = None,
    uncertainties: Sequence[str] | None = None,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    seed: int = 0,
    backend: str = "numpy",
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Screening:
    """Morris screening of each outcome's probability over ``trajectories`` trajectories
    (``trajectories·(D + 1)`` design points of ``runs_per_point`` runs each): ``mu_star`` (the
    mean absolute elementary effect) with its 95% interval, ``mu`` and ``sigma``, and the
    outcome's noise floor. ``makers`` decide the language-model actors, as for :func:`sobol`."""
    if trajectories < 2:
        raise RedlineValueError(
            f"trajectories must be at least 2, got {trajectories}", parameter="trajectories"
        )
    if runs_per_point < 2:
        raise RedlineValueError(
            f"runs_per_point must be at least 2, got {runs_per_point}", parameter="runs_per_point"
        )
    from SALib.analyze import morris as morris_analyze
    from SALib.sample import morris as morris_sample

    started = time.perf_counter()
    config = _config(scenario, levers, lens)
    fs = factors(scenario, config, params, uncertainties)
    chosen = _outcomes(scenario, outcomes)
    problem = _problem([f.name for f in fs])
    unit = morris_sample.sample(problem, trajectories, num_levels=MORRIS_LEVELS, seed=seed)
    # the grid's levels 0, 1/3, 2/3, 1 stand for the centres of L equal slices of each factor's
    # quantiles (1/8, 3/8, 5/8, 7/8): never a distribution's edge, which may be infinite
    centres = (unit * (MORRIS_LEVELS - 1) + 0.5) / MORRIS_LEVELS
    values = np.column_stack([f.values(centres[:, j]) for j, f in enumerate(fs)])
    total = len(values)
    p, s2 = _point_estimates(
        scenario,
        config,
        fs,
        values,
        chosen,
        runs_per_point,
        seed,
        backend,
        threads,
        progress,
        makers,
    )
    table: dict[str, list[Any]] = {k: [] for k in ("outcome", "factor", "kind")}
    for o, (ident, _) in enumerate(chosen):
        floor = math.sqrt(2.0 * float(s2[:, o].mean())) * math.sqrt(2.0 / math.pi) / MORRIS_DELTA
        if float(p[:, o].var()) == 0.0:
            got: dict[str, Any] = {k: [0.0] * len(fs) for k in ("mu", "mu_star", "sigma")}
            got["mu_star_conf"] = [0.0] * len(fs)
        else:
            with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
                warnings.simplefilter("ignore", RuntimeWarning)
                got = morris_analyze.analyze(
                    problem,
                    unit,
                    p[:, o],
                    num_resamples=RESAMPLES,
                    conf_level=0.95,
                    num_levels=MORRIS_LEVELS,
                    seed=seed,
                )
        for j, f in enumerate(fs):
            table["outcome"].append(ident)
            table["factor"].append(f.name)
            table["kind"].append(f.kind)
            for key in ("mu", "mu_star", "mu_star_conf", "sigma"):
                table.setdefault(key, []).append(float(got[key][j]))
            table.setdefault("noise_floor", []).append(floor)
    return Screening(
        scenario=scenario.id,
        levers=dict(config.levers),
        lens=config.lens,
        factors=tuple(fs),
        outcomes=tuple(chosen),
        trajectories=trajectories,
        runs_per_point=runs_per_point,
        points=total,
        seed=seed,
        indices=pa.table(table),
        noise=noise_table(chosen, p, s2, np.arange(total)),
        seconds=time.perf_counter() - started,
    )
