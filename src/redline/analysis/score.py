"""History scoring: how well each lens explains the record, and against published forecasts.

For each configuration scored (each lens, under the levers given — and with ``lever_options``
each other option of each lever too), the probability of the scenario's whole record of
``observations`` is estimated by sequential Monte Carlo: a population of runs (particles) is
advanced to each date at which an observation is decided, each run is weighted by its
consistency with what was observed there (1 or 0; a variable's range with a tolerance gives a
weight in between), and the population is resampled in proportion to the weights before it
goes on (systematic resampling, the engine's ``particles`` capability:
:mod:`redline.engine.particles`). The product of the mean weights over the dates is an unbiased
estimate of the record's probability — a probability of 10⁻¹⁵ is estimated as well as one of
10⁻², where counting runs that match every observation (rejection) would need 10¹⁵ runs. The
effective sample size (Σw)²/Σw² is kept at every date; ``replicates`` independent filters (each
with its own seed) give the log-likelihood's interval: mean ± t·sd/√R.

The same filters give:

- each observation's own share of the log-likelihood: its probability given the observations
  decided before it (the chain rule, observations of one date in file order), and its
  probability alone (the share of unconditioned runs consistent with it, with a Wilson
  interval); the observations each lens gets most wrong are those with the largest surprisal;
- the posterior of the uncertainties given the record: the drawn values carried by the
  particles that survive every observation (copied, never redrawn), pooled over replicates in
  proportion to their likelihood estimates; a *fitted* lens — each uncertainty as a ``choice``
  of ten posterior quantiles (its marginal; correlations between uncertainties are not kept);
- what the record implies beyond it: the surviving particles run on to the horizon;
- the model's answer to each published forecast's question, beside the forecaster's, and where
  the question has resolved, Brier and log scores of each lens and of each forecaster.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from redline.compile.configure import Configuration, configure, overrides, resolve
from redline.compile.lower import lower
from redline.compile.observe import Check, Question, Record, record_of
from redline.core.program import Program
from redline.engine import backends
from redline.engine.particles import (
    MAX_PARTICLES,
    Particles,
    particle_runs,
    resample_uniform,
    systematic,
)
from redline.engine.simulate import BACKENDS
from redline.errors import RedlineTypeError, RedlineValueError, UserError, check_index
from redline.scenario.loader import LoadedScenario, load_scenario
from redline.scenario.model import Scenario
from redline.stats import wilson_interval
from redline.tables import arrow_html, pandas_frame

if TYPE_CHECKING:
    import pandas


def _t_quantile(q: float, df: int) -> float:
    """Student's t quantile (SciPy's statistics: imported here, on use, as they take a second
    to import and a report without a score needs none of them)."""
    from scipy import stats

    return float(stats.t.ppf(q, df))


__all__ = [
    "MAX_SCORE_PARTICLES",
    "FactScore",
    "FitResult",
    "LensScore",
    "ParameterFit",
    "QuestionScore",
    "Score",
    "score",
]

#: the most particles a filter may have: one population holds every particle's state (per
#: particle 8 bytes per variable, 2–3 per event tag, 4 per outcome), and a copy while resampling
MAX_SCORE_PARTICLES = min(1_000_000, MAX_PARTICLES)
#: the most replicate filters per configuration
MAX_REPLICATES = 100
#: the fitted lens gives each uncertainty as a choice of its posterior quantiles at these levels
FIT_LEVELS = tuple((k + 0.5) / 10 for k in range(10))
#: how many observations "most wrong" lists per lens
WORST = 3

#: called as each task finishes: (tasks done, of how many, what)
Progress = Callable[[int, int, str], None]


# -- results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactScore:
    """How probable one observation is under a configuration: alone (the share of runs
    consistent with it, with a Wilson interval) and given the observations decided before it
    (the mean over replicates of its log share of the log-likelihood, and that as a
    probability)."""

    id: str
    name: str
    text: str
    date: str
    p_alone: float
    alone_lo: float
    alone_hi: float
    log_given: float
    p_given: float
    ess: float


@dataclass(frozen=True)
class ParameterFit:
    """One uncertainty before and after the record: prior and posterior mean, sd and 5%, 50%
    and 95% quantiles; ``distinct``: how many different values the surviving particles carry
    (the posterior rests on that many draws)."""

    name: str
    prior_mean: float
    prior_sd: float
    prior_q: tuple[float, float, float]
    mean: float
    sd: float
    q: tuple[float, float, float]
    distinct: int


@dataclass(frozen=True)
class FitResult:
    """The record's effect on a configuration: the uncertainties' posterior, the fitted lens,
    and each outcome's probability by the horizon before and after conditioning on the record
    (``after``: reached by the horizon given the record; ``later``: first reached after the
    last observation, given the record)."""

    parameters: tuple[ParameterFit, ...]
    lens: dict[str, Any]
    outcomes: tuple[tuple[str, str, float, float, float], ...]  # id, name, prior, after, later


@dataclass(frozen=True)
class QuestionScore:
    """A forecaster's probability beside the model's for one question, and the scores where
    it resolved (Brier: (p − y)²; log: ln p if it happened, else ln(1 − p))."""

    id: str
    forecaster: str
    made: str
    text: str
    covers: str
    transposed: bool
    forecaster_p: float
    forecaster_range: tuple[float, float] | None
    model_p: float | None
    model_lo: float | None
    model_hi: float | None
    resolved: bool | None
    model_resolved: bool | None
    forecaster_brier: float | None
    forecaster_log: float | None
    model_brier: float | None
    model_log: float | None


@dataclass(frozen=True)
class LensScore:
    """One configuration's score: the record's log-likelihood (natural log) with its interval
    over replicates, each replicate's estimate, the rejection estimate where counting works,
    each observation's probability, the fit, and the forecasts."""

    label: str
    lens: str | None
    levers: Mapping[str, str]
    loglik: float
    lo: float
    hi: float
    replicates: tuple[float, ...]
    #: ln of the mean of the replicates' likelihood estimates (unbiased for the likelihood)
    pooled: float
    #: unconditioned runs consistent with every observation, of how many (counting)
    rejection_hits: float
    rejection_runs: int
    min_ess: float
    facts: tuple[FactScore, ...]
    #: observations at which every particle of a replicate was inconsistent: (id, replicates)
    lost: tuple[tuple[str, int], ...]
    fit: FitResult | None
    questions: tuple[QuestionScore, ...]
    seconds: float

    @property
    def worst(self) -> tuple[FactScore, ...]:
        """The observations this configuration gets most wrong: largest surprisal given the
        record before them."""
        return tuple(sorted(self.facts, key=lambda f: f.log_given)[:WORST])


@dataclass(frozen=True)
class Score:
    """The result of :func:`score`: per configuration the record's log-likelihood with its
    interval, each observation's probability, the fit, the forecasts; Bayes factors between
    configurations; as Arrow tables and JSON."""

    scenario: str
    particles: int
    replicates: int
    seed: int
    backend: str
    confidence: float
    observations: tuple[tuple[str, str, str], ...]  # id, what it says, date
    lenses: tuple[LensScore, ...]
    seconds: float
    notes: tuple[str, ...] = field(default=())

    def best(self) -> LensScore:
        """The configuration with the highest log-likelihood."""
        return max(self.lenses, key=lambda x: x.loglik)

    def __repr__(self) -> str:
        return (
            f"Score(scenario={self.scenario!r}, particles={self.particles}, "
            f"replicates={self.replicates}, seed={self.seed}, "
            f"configurations={len(self.lenses)}, best={self.best().label!r})"
        )

    def to_arrow(self) -> pa.Table:
        """The log-likelihoods (:attr:`table`): a row per configuration."""
        return self.table

    def to_pandas(self) -> pandas.DataFrame:
        """The log-likelihoods (:attr:`table`) as a pandas DataFrame (pandas is imported now)."""
        return pandas_frame(self.table)

    def _repr_html_(self) -> str:
        """In a notebook: each configuration's log-likelihood of the record with its interval
        and its Bayes factor against the best."""
        caption = (
            f"{self.scenario}: log-likelihood of the record ({len(self.observations)} "
            f"observations; {self.particles:,} particles × {self.replicates} filters)"
        )
        shown = self.table.select(["label", "lens", "loglik", "lo", "hi", "log10_bf"])
        return arrow_html(shown, caption)

    def bayes_factors(self) -> list[tuple[str, str, float, float, float]]:
        """Each configuration against the best: (label, best's label, log₁₀ Bayes factor of the
        best over it, and that factor's interval from the replicates' spread)."""
        best = self.best()
        out = []
        for x in self.lenses:
            diff = best.loglik - x.loglik
            half = _half_width(best, x, self.confidence)
            ln10 = math.log(10.0)
            out.append(
                (x.label, best.label, diff / ln10, (diff - half) / ln10, (diff + half) / ln10)
            )
        return out

    @property
    def table(self) -> pa.Table:
        """One row per configuration: ``label``, ``lens``, ``loglik`` (natural log) with ``lo``
        and ``hi``, ``log10_bf`` (the best configuration over this one), ``pooled``,
        ``rejection_p``, ``min_ess``, ``worst`` (ids of the observations it gets most
        wrong)."""
        factors = {label: bf for label, _, bf, _, _ in self.bayes_factors()}
        rows = self.lenses
        return pa.table(
            {
                "label": pa.array([x.label for x in rows], pa.string()),
                "lens": pa.array([x.lens for x in rows], pa.string()),
                "loglik": pa.array([x.loglik for x in rows], pa.float64()),
                "lo": pa.array([x.lo for x in rows], pa.float64()),
                "hi": pa.array([x.hi for x in rows], pa.float64()),
                "log10_bf": pa.array([factors[x.label] for x in rows], pa.float64()),
                "pooled": pa.array([x.pooled for x in rows], pa.float64()),
                "rejection_p": pa.array(
                    [x.rejection_hits / x.rejection_runs for x in rows], pa.float64()
                ),
                "min_ess": pa.array([x.min_ess for x in rows], pa.float64()),
                "worst": pa.array([[f.id for f in x.worst] for x in rows], pa.list_(pa.string())),
            }
        )

    @property
    def observations_table(self) -> pa.Table:
        """One row per configuration and observation: its probability alone (with a Wilson
        interval) and given the observations before it, and the effective sample size left."""
        pairs = [(x, f) for x in self.lenses for f in x.facts]
        return pa.table(
            {
                "label": pa.array([x.label for x, _ in pairs], pa.string()),
                "observation": pa.array([f.id for _, f in pairs], pa.string()),
                "text": pa.array([f.text for _, f in pairs], pa.string()),
                "date": pa.array([f.date for _, f in pairs], pa.string()),
                "p_alone": pa.array([f.p_alone for _, f in pairs], pa.float64()),
                "alone_lo": pa.array([f.alone_lo for _, f in pairs], pa.float64()),
                "alone_hi": pa.array([f.alone_hi for _, f in pairs], pa.float64()),
                "log_given": pa.array([f.log_given for _, f in pairs], pa.float64()),
                "p_given": pa.array([f.p_given for _, f in pairs], pa.float64()),
                "ess": pa.array([f.ess for _, f in pairs], pa.float64()),
            }
        )

    @property
    def forecasts_table(self) -> pa.Table:
        """One row per configuration and published forecast: the forecaster's and the model's
        probability, and the Brier and log scores of each where the question resolved."""
        pairs = [(x, q) for x in self.lenses for q in x.questions]
        columns: dict[str, pa.Array] = {
            "label": pa.array([x.label for x, _ in pairs], pa.string()),
        }
        names = [
            "id",
            "forecaster",
            "made",
            "text",
            "covers",
            "transposed",
            "forecaster_p",
            "model_p",
            "model_lo",
            "model_hi",
            "resolved",
            "model_resolved",
            "forecaster_brier",
            "forecaster_log",
            "model_brier",
            "model_log",
        ]
        for name in names:
            columns[name] = pa.array([getattr(q, name) for _, q in pairs])
        return pa.table(columns)

    def to_json(self) -> dict[str, object]:
        """The ``redline score --json`` form."""
        factors = {label: (bf, lo, hi) for label, _, bf, lo, hi in self.bayes_factors()}
        return {
            "scenario": self.scenario,
            "particles": self.particles,
            "replicates": self.replicates,
            "seed": self.seed,
            "backend": self.backend,
            "confidence": self.confidence,
            "interval": "mean of the replicates' log-likelihoods ± t·sd/√R",
            "observations": [
                {"id": ident, "text": text, "date": date} for ident, text, date in self.observations
            ],
            "best": self.best().label,
            "configurations": [
                {
                    "label": x.label,
                    "lens": x.lens,
                    "levers": dict(x.levers),
                    "loglik": _finite(x.loglik),
                    "lo": _finite(x.lo),
                    "hi": _finite(x.hi),
                    "log10_bayes_factor_of_best": _finite(factors[x.label][0]),
                    "log10_bayes_factor_interval": [
                        _finite(factors[x.label][1]),
                        _finite(factors[x.label][2]),
                    ],
                    "replicates": [_finite(v) for v in x.replicates],
                    "pooled": _finite(x.pooled),
                    "rejection": {"hits": x.rejection_hits, "runs": x.rejection_runs},
                    "min_ess": x.min_ess,
                    "lost": [{"observation": o, "replicates": k} for o, k in x.lost],
                    "worst": [f.id for f in x.worst],
                    "facts": {
                        f.id: {
                            "p_alone": f.p_alone,
                            "alone_interval": [f.alone_lo, f.alone_hi],
                            "log_given": _finite(f.log_given),
                            "p_given": f.p_given,
                            "ess": f.ess,
                        }
                        for f in x.facts
                    },
                    "fit": None if x.fit is None else _fit_json(x.fit),
                    "forecasts": [_question_json(q) for q in x.questions],
                    "seconds": x.seconds,
                }
                for x in self.lenses
            ],
            "seconds": self.seconds,
            "notes": list(self.notes),
        }


def _finite(x: float | None) -> float | None:
    """JSON has no infinities: None stands for −∞ (or a value not available)."""
    return None if x is None or not math.isfinite(x) else x


def _fit_json(fit: FitResult) -> dict[str, object]:
    return {
        "parameters": {
            p.name: {
                "prior": {"mean": p.prior_mean, "sd": p.prior_sd, "q05_q50_q95": list(p.prior_q)},
                "posterior": {"mean": p.mean, "sd": p.sd, "q05_q50_q95": list(p.q)},
                "distinct": p.distinct,
            }
            for p in fit.parameters
        },
        "fitted_lens": fit.lens,
        "outcomes": {
            ident: {"name": name, "prior": prior, "given_record": after, "after_record": later}
            for ident, name, prior, after, later in fit.outcomes
        },
    }


def _question_json(q: QuestionScore) -> dict[str, object]:
    return {
        "id": q.id,
        "forecaster": q.forecaster,
        "made": q.made,
        "question": q.text,
        "model_question": q.covers,
        "transposed": q.transposed,
        "forecaster_p": q.forecaster_p,
        "forecaster_range": None if q.forecaster_range is None else list(q.forecaster_range),
        "model_p": q.model_p,
        "model_interval": None if q.model_p is None else [q.model_lo, q.model_hi],
        "resolved": q.resolved,
        "model_resolved": q.model_resolved,
        "forecaster_brier": q.forecaster_brier,
        "forecaster_log": _finite(q.forecaster_log),
        "model_brier": q.model_brier,
        "model_log": _finite(q.model_log),
    }


def _half_width(a: LensScore, b: LensScore, confidence: float) -> float:
    """The half-width of the interval of a difference of two mean log-likelihoods. Replicate r
    of every configuration runs on the same seed (common random numbers), so the differences
    are paired: t·sd(d)/√R over d_r = ℓ_a,r − ℓ_b,r."""
    ra, rb = np.array(a.replicates), np.array(b.replicates)
    if len(ra) < 2 or not (np.isfinite(ra).all() and np.isfinite(rb).all()):
        return math.nan
    d = ra - rb
    return (
        float(_t_quantile(0.5 + confidence / 2.0, len(d) - 1))
        * float(d.std(ddof=1))
        / math.sqrt(len(d))
    )


# -- a population split into blocks ------------------------------------------------------------


class _Population:
    """The particles of one filter, in blocks of at most ``block`` particles each advanced on
    a thread of ``pool``; every operation gives the same result however it is split."""

    def __init__(self, blocks: list[Particles], pool: ThreadPoolExecutor | None) -> None:
        self.blocks = blocks
        self.pool = pool

    @classmethod
    def start(
        cls,
        backend: str,
        program: Program,
        seed: int,
        n: int,
        block: int,
        pool: ThreadPoolExecutor | None,
    ) -> _Population:
        bounds = [(a, min(a + block, n)) for a in range(0, n, block)]
        return cls(
            [
                backends.start_particles(backend, program, seed, np.arange(a, b, dtype=np.int64))
                for a, b in bounds
            ],
            pool,
        )

    @property
    def size(self) -> int:
        return sum(b.size for b in self.blocks)

    def advance(self, step: int) -> None:
        if self.pool is None or len(self.blocks) == 1:
            for b in self.blocks:
                b.advance(step)
            return
        list(self.pool.map(lambda b: b.advance(step), self.blocks))

    def evaluate(self, check: Check) -> NDArray[np.float64]:
        assert check.expr is not None
        return np.concatenate([b.evaluate(check.expr) for b in self.blocks])

    def first_hits(self) -> NDArray[np.int32]:
        return np.concatenate([b.first_hits() for b in self.blocks], axis=0)

    def drawn(self) -> dict[str, NDArray[np.float64]]:
        parts = [b.drawn() for b in self.blocks]
        return {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}

    def fork(self) -> _Population:
        """An independent copy that continues exactly as this population would."""
        return _Population(
            [b.take(np.arange(b.size, dtype=np.intp), b.runs()) for b in self.blocks], self.pool
        )

    def resample(self, index: NDArray[np.intp], generation: int) -> _Population:
        """Copies of the particles at ``index`` (non-decreasing, one per particle), each with a
        new run id of ``generation``, in the same blocks as before."""
        sizes = [b.size for b in self.blocks]
        starts = np.concatenate([[0], np.cumsum(sizes)])
        blocks: list[Particles] = []
        for j in range(len(self.blocks)):
            lo, hi = int(starts[j]), int(starts[j + 1])
            wanted = index[lo:hi]
            ids = particle_runs(generation, np.arange(lo, hi, dtype=np.int64))
            parts: list[Particles] = []
            for k, b in enumerate(self.blocks):
                mine = np.flatnonzero((wanted >= starts[k]) & (wanted < starts[k + 1]))
                if len(mine):
                    parts.append(b.take(wanted[mine] - starts[k], ids[mine]))
            blocks.append(parts[0] if len(parts) == 1 else parts[0].join(parts[1:]))
        return _Population(blocks, self.pool)


# -- one filter --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Task:
    """One pass over a configuration: the unconditioned runs (``replicate`` −1) or a filter."""

    config: int
    replicate: int
    program: Program
    record: Record
    particles: int
    seed: int
    backend: str
    block: int
    threads: int


@dataclass
class _Pass:
    """What one pass found (picklable, to come back from a worker process)."""

    config: int
    replicate: int
    #: filters: the log-likelihood estimate, each observation's log share, the effective sample
    #: size left at each observation's date (as a share of the particles), where all were lost
    loglik: float = 0.0
    shares: NDArray[np.float64] | None = None
    ess: NDArray[np.float64] | None = None
    lost: int | None = None
    #: the surviving particles' drawn uncertainties, and each outcome's share of them reaching
    #: it by the horizon and first after the record's last step
    drawn: dict[str, NDArray[np.float64]] | None = None
    after: NDArray[np.float64] | None = None
    later: NDArray[np.float64] | None = None
    #: questions answered from this pass: id → probability
    answers: dict[str, float] = field(default_factory=dict)
    #: unconditioned pass: runs consistent with each observation, with all, outcome hits
    alone: NDArray[np.float64] | None = None
    joint: float = 0.0
    prior_hits: NDArray[np.float64] | None = None
    runs: int = 0
    seconds: float = 0.0


def _weight(
    pop: _Population, check: Check, window: NDArray[np.bool_] | None
) -> NDArray[np.float64]:
    """Each particle's consistency with a check at the end of its step: 1 or 0, or for a range
    with a tolerance exp(−½(d/τ)²) at distance d outside it."""
    if check.kind == "holds":
        if window is not None:
            return window.astype(np.float64)
        return (pop.evaluate(check) > 0.5).astype(np.float64)
    if check.kind == "reached":
        first = pop.first_hits()[:, list(check.outcomes)]
        hit = np.asarray(((first >= 0) & (first <= check.step)).any(axis=1), dtype=np.bool_)
        return np.where(hit != check.negate, 1.0, 0.0)
    x = pop.evaluate(check)
    with np.errstate(invalid="ignore"):
        d = np.maximum(np.maximum(check.lo - x, x - check.hi), 0.0)
    d = np.where(np.isnan(d), np.inf, d)
    if check.tolerance is None:
        return np.where(d == 0.0, 1.0, 0.0)
    soft: NDArray[np.float64] = np.exp(-0.5 * np.square(d / check.tolerance))
    return soft


def _windows(record: Record) -> list[tuple[int, Check]]:
    """The checks that hold if their condition holds at the end of any step of a window."""
    return [
        (k, c) for k, (_, c) in enumerate(record.checks) if c.kind == "holds" and c.start < c.step
    ]


def _answer(pop: _Population, question: Question) -> float:
    """The share of the population for which the question's outcomes or event happen by its
    step (the population advanced to the end of it)."""
    assert question.step is not None
    pop.advance(question.step + 1)
    if question.expr is not None:
        return float(np.mean(np.concatenate([b.evaluate(question.expr) for b in pop.blocks]) > 0.5))
    first = pop.first_hits()[:, list(question.outcomes)]
    return float(((first >= 0) & (first <= question.step)).any(axis=1).mean())


def _unconditioned(task: _Task, pool: ThreadPoolExecutor | None) -> _Pass:
    """The runs 0..n−1 of the seed, never resampled: each observation's share of consistent
    runs, the share consistent with all (rejection), outcome hits, the uncertainties' prior,
    and the questions asked from the start."""
    started = time.perf_counter()
    record, program = task.record, task.program
    pop = _Population.start(task.backend, program, task.seed, task.particles, task.block, pool)
    n = pop.size
    checks = record.checks
    facts = len(record.facts)
    per_fact = np.ones((facts, n))
    windows = {k: np.zeros(n, dtype=np.bool_) for k, _ in _windows(record)}
    answers: dict[str, float] = {}
    early = [q for q in record.questions if q.step is not None and q.made_step == 0]
    if early:
        fork = pop.fork()
        for q in sorted(early, key=lambda q: q.step or 0):
            answers[q.id] = _answer(fork, q)
    for t in range(record.last_step + 1):
        pop.advance(t + 1)
        for k, window in windows.items():
            c = checks[k][1]
            if c.start <= t <= c.step:
                window |= pop.evaluate(c) > 0.5
        for k, (i, c) in enumerate(checks):
            if c.step == t:
                per_fact[i] *= _weight(pop, c, windows.get(k))
    drawn = pop.drawn()
    pop.advance(program.horizon)
    first = pop.first_hits()
    return _Pass(
        task.config,
        task.replicate,
        drawn=drawn,
        answers=answers,
        alone=per_fact.sum(axis=1),
        joint=float(per_fact.prod(axis=0).sum()),
        prior_hits=(first >= 0).sum(axis=0).astype(np.float64),
        runs=n,
        seconds=time.perf_counter() - started,
    )


def _filtered(task: _Task, pool: ThreadPoolExecutor | None) -> _Pass:
    """One particle filter over the record: resampled at the end of every step at which an
    observation is decided; then run on to the horizon."""
    started = time.perf_counter()
    record, program = task.record, task.program
    pop = _Population.start(task.backend, program, task.seed, task.particles, task.block, pool)
    n = pop.size
    checks = record.checks
    facts = len(record.facts)
    shares = np.zeros(facts)
    ess = np.ones(facts)
    windows = {k: np.zeros(n, dtype=np.bool_) for k, _ in _windows(record)}
    later_questions = [q for q in record.questions if q.step is not None and q.made_step > 0]
    answers: dict[str, float] = {}
    last = max([record.last_step, *(q.made_step for q in later_questions)])
    generation = 0
    loglik = 0.0
    lost: int | None = None
    for t in range(last + 1):
        asked = [q for q in later_questions if q.made_step == t]
        if asked:
            fork = pop.fork()
            for q in sorted(asked, key=lambda q: q.step or 0):
                answers[q.id] = _answer(fork, q)
        pop.advance(t + 1)
        for k, window in windows.items():
            c = checks[k][1]
            if c.start <= t <= c.step:
                window |= pop.evaluate(c) > 0.5
        due = [(k, i, c) for k, (i, c) in enumerate(checks) if c.step == t]
        if not due:
            continue
        weights = np.ones(n)
        for k, i, c in due:
            before = float(weights.mean())
            weights = weights * _weight(pop, c, windows.get(k))
            after = float(weights.mean())
            shares[i] += math.log(after / before) if after > 0 else -math.inf
            total = float(weights.sum())
            ess[i] = (total * total / float((weights * weights).sum()) / n) if total > 0 else 0.0
            if after == 0.0:
                lost = i
                break
        mean = float(weights.mean())
        if mean == 0.0:
            loglik = -math.inf
            assert lost is not None
            for j in range(facts):
                if j != lost and math.isfinite(shares[j]) and record.facts[j].step >= t:
                    shares[j] = math.nan
            return _Pass(
                task.config,
                task.replicate,
                loglik=loglik,
                shares=shares,
                ess=ess,
                lost=lost,
                answers=answers,
                seconds=time.perf_counter() - started,
            )
        loglik += math.log(mean)
        generation += 1
        index = systematic(weights, resample_uniform(task.seed, generation))
        pop = pop.resample(index, generation)
        for k in windows:
            windows[k] = windows[k][index]
    drawn = pop.drawn()
    pop.advance(program.horizon)
    first = pop.first_hits()
    reached = first >= 0
    return _Pass(
        task.config,
        task.replicate,
        loglik=loglik,
        shares=shares,
        ess=ess,
        drawn=drawn,
        after=reached.mean(axis=0),
        later=(reached & (first > record.last_step)).mean(axis=0),
        answers=answers,
        seconds=time.perf_counter() - started,
    )


def _run_task(task: _Task) -> _Pass:
    """One pass, its blocks on ``task.threads`` threads (a pure function of the task)."""
    pool = ThreadPoolExecutor(task.threads) if task.threads > 1 else None
    try:
        if task.replicate < 0:
            return _unconditioned(task, pool)
        return _filtered(task, pool)
    finally:
        if pool is not None:
            pool.shutdown()


# -- putting it together -----------------------------------------------------------------------


def replicate_seed(seed: int, replicate: int) -> int:
    """The seed of replicate filter ``replicate`` of a score made with ``seed``."""
    digest = hashlib.blake2b(f"score:{seed}:{replicate}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def _settings(
    s: Scenario, levers: Mapping[str, str] | None, lenses: Sequence[str] | None, lever_options: bool
) -> list[tuple[str, Configuration]]:
    """The configurations scored, each with its label."""
    chosen: list[str | None] = list(lenses) if lenses is not None else [x.id for x in s.lenses]
    chosen = chosen or [None]
    base = resolve(s, levers)
    out: list[tuple[str, Configuration]] = []
    for lens in chosen:
        config = resolve(s, base.levers, lens)
        out.append((lens or "no lens", config))
        if not lever_options:
            continue
        for lever in s.levers:
            for option in lever.options:
                if option.id == config.levers[lever.id]:
                    continue
                other = resolve(s, {**config.levers, lever.id: option.id}, lens)
                out.append((f"{lens or 'no lens'} · {lever.id}={option.id}", other))
    return out


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _quantiles(
    values: NDArray[np.float64], weights: NDArray[np.float64], levels: Sequence[float]
) -> list[float]:
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w) / w.sum()
    return [float(v[min(int(np.searchsorted(cum, q, side="left")), len(v) - 1)]) for q in levels]


def _fit(program: Program, prior: _Pass, filters: list[_Pass]) -> FitResult | None:
    """The posterior of the uncertainties (the surviving particles of every replicate, each
    replicate weighted by its likelihood estimate), the fitted lens, and each outcome's
    probability by the horizon before and given the record."""
    alive = [f for f in filters if f.drawn is not None and math.isfinite(f.loglik)]
    if not alive:
        return None
    top = max(f.loglik for f in alive)
    weight = np.array([math.exp(f.loglik - top) for f in alive])
    weight /= weight.sum()
    params: list[ParameterFit] = []
    fitted: dict[str, Any] = {}
    assert prior.drawn is not None and prior.prior_hits is not None
    for name, before in prior.drawn.items():
        parts = [f.drawn[name] for f in alive if f.drawn is not None]
        values = np.concatenate(parts)
        w = np.concatenate(
            [np.full(len(x), rw / len(x)) for x, rw in zip(parts, weight, strict=True)]
        )
        mean = float(np.average(values, weights=w))
        sd = math.sqrt(max(float(np.average((values - mean) ** 2, weights=w)), 0.0))
        q = _quantiles(values, w, (0.05, 0.5, 0.95))
        pq = np.quantile(before, (0.05, 0.5, 0.95))
        params.append(
            ParameterFit(
                name=name,
                prior_mean=float(before.mean()),
                prior_sd=float(before.std()),
                prior_q=(float(pq[0]), float(pq[1]), float(pq[2])),
                mean=mean,
                sd=sd,
                q=(q[0], q[1], q[2]),
                distinct=len(np.unique(values)),
            )
        )
        fitted[name] = {
            "kind": "choice",
            "values": [float(f"{x:.6g}") for x in _quantiles(values, w, FIT_LEVELS)],
        }
    after = sum(rw * f.after for f, rw in zip(alive, weight, strict=True) if f.after is not None)
    later = sum(rw * f.later for f, rw in zip(alive, weight, strict=True) if f.later is not None)
    outcomes = tuple(
        (o.id, o.name, float(prior.prior_hits[k] / prior.runs), float(after[k]), float(later[k]))
        for k, o in enumerate(program.outcomes)
    )
    return FitResult(tuple(params), {"set": fitted}, outcomes)


def _interval(values: Sequence[float], confidence: float) -> tuple[float, float, float]:
    """Mean and t interval of replicate estimates (nan interval with one)."""
    x = np.asarray(values, dtype=np.float64)
    mean = float(x.mean())
    if len(x) < 2 or not np.isfinite(x).all():
        return mean, math.nan, math.nan
    half = (
        float(_t_quantile(0.5 + confidence / 2.0, len(x) - 1))
        * float(x.std(ddof=1))
        / math.sqrt(len(x))
    )
    return mean, mean - half, mean + half


def _scores(
    p: float | None, happened: bool | None, floor: float = 0.0
) -> tuple[float | None, float | None]:
    """Brier and log score of probability ``p`` for a question that resolved ``happened``;
    ``floor`` keeps an estimate of 0 or 1 from giving an infinite log score."""
    if p is None or happened is None:
        return None, None
    y = 1.0 if happened else 0.0
    q = min(max(p, floor), 1.0 - floor)
    chance = q if happened else 1.0 - q
    return (p - y) ** 2, (math.log(chance) if chance > 0 else -math.inf)


def _questions(
    record: Record, prior: _Pass, filters: list[_Pass], n: int, confidence: float
) -> tuple[QuestionScore, ...]:
    out = []
    for q in record.questions:
        model_p: float | None = None
        lo = hi = None
        if q.step is not None and q.made_step == 0:
            model_p = prior.answers[q.id]
            lo, hi = wilson_interval(round(model_p * n), n, confidence)
        elif q.step is not None:
            got = [f.answers[q.id] for f in filters if q.id in f.answers]
            if got:
                model_p, lo, hi = _interval(got, confidence)
        f_brier, f_log = _scores(q.probability, q.resolved)
        m_brier, m_log = _scores(model_p, q.model_resolved, 0.5 / n)
        out.append(
            QuestionScore(
                id=q.id,
                forecaster=q.forecaster,
                made=str(q.made),
                text=q.text,
                covers=q.covers,
                transposed=q.transposed,
                forecaster_p=q.probability,
                forecaster_range=q.range,
                model_p=model_p,
                model_lo=lo,
                model_hi=hi,
                resolved=q.resolved,
                model_resolved=q.model_resolved,
                forecaster_brier=f_brier,
                forecaster_log=f_log,
                model_brier=m_brier,
                model_log=m_log,
            )
        )
    return tuple(out)


def _lens_score(
    label: str,
    config: Configuration,
    program: Program,
    record: Record,
    prior: _Pass,
    filters: list[_Pass],
    n: int,
    confidence: float,
) -> LensScore:
    logliks = [f.loglik for f in filters]
    finite = all(math.isfinite(v) for v in logliks)
    top = max(logliks)
    pooled = (
        top + math.log(sum(math.exp(v - top) for v in logliks) / len(logliks))
        if math.isfinite(top)
        else -math.inf
    )
    if finite:
        loglik, lo, hi = _interval(logliks, confidence)
    else:
        loglik, lo, hi = pooled, -math.inf, pooled
    assert prior.alone is not None
    facts = []
    for i, fact in enumerate(record.facts):
        shares = [
            f.shares[i] for f in filters if f.shares is not None and not math.isnan(f.shares[i])
        ]
        log_given = float(np.mean(shares)) if shares else math.nan
        hits = float(prior.alone[i])
        a_lo, a_hi = wilson_interval(round(hits), n, confidence)
        ess = [f.ess[i] for f in filters if f.ess is not None]
        facts.append(
            FactScore(
                id=fact.id,
                name=fact.name,
                text=fact.text,
                date=str(fact.last),
                p_alone=hits / n,
                alone_lo=a_lo,
                alone_hi=a_hi,
                log_given=log_given,
                p_given=math.exp(log_given) if not math.isnan(log_given) else math.nan,
                ess=float(np.mean(ess)) if ess else math.nan,
            )
        )
    lost: dict[str, int] = {}
    for f in filters:
        if f.lost is not None:
            ident = record.facts[f.lost].id
            lost[ident] = lost.get(ident, 0) + 1
    return LensScore(
        label=label,
        lens=config.lens,
        levers=dict(config.levers),
        loglik=loglik,
        lo=lo,
        hi=hi,
        replicates=tuple(logliks),
        pooled=pooled,
        rejection_hits=prior.joint,
        rejection_runs=n,
        min_ess=min((x.ess for x in facts if not math.isnan(x.ess)), default=math.nan),
        facts=tuple(facts),
        lost=tuple(lost.items()),
        fit=_fit(program, prior, filters),
        questions=_questions(record, prior, filters, n, confidence),
        seconds=prior.seconds + sum(f.seconds for f in filters),
    )


def score(
    scenario: Scenario | LoadedScenario | str | Path,
    *,
    particles: int = 10_000,
    replicates: int = 5,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lenses: Sequence[str] | None = None,
    lever_options: bool = False,
    backend: str = "numpy",
    chunk_size: int | None = None,
    threads: int | None = None,
    workers: int = 1,
    confidence: float = 0.95,
    progress: Progress | None = None,
) -> Score:
    """Score each configuration against the scenario's record (module docstring).

    ``lenses`` picks lenses (default: every lens; no lens when the scenario has none);
    ``levers`` fixes lever options (the others take their defaults); ``lever_options`` also
    scores each other option of each lever under each lens. Each configuration gets one
    unconditioned pass of ``particles`` runs of ``seed`` (each observation's probability alone,
    the rejection count, the questions asked from the start) and ``replicates`` filters of
    ``particles`` particles, each with its own seed (:func:`replicate_seed`).

    ``chunk_size`` splits each population in blocks advanced on ``threads`` threads (default:
    one block per usable core); ``workers`` > 1 computes passes in that many processes. None of
    these, nor the backend, changes a result."""
    started = time.perf_counter()
    s = _scenario(scenario)
    _refuse_language_models(s)
    if not s.observations:
        raise UserError(f"scenario '{s.id}' has no observations: nothing to score")
    check_index("seed", seed)
    if not 1 <= particles <= MAX_SCORE_PARTICLES:
        raise RedlineValueError(
            f"particles must be between 1 and {MAX_SCORE_PARTICLES:,}, got {particles:,}",
            parameter="particles",
        )
    if not 1 <= replicates <= MAX_REPLICATES:
        raise RedlineValueError(
            f"replicates must be between 1 and {MAX_REPLICATES}, got {replicates}",
            parameter="replicates",
        )
    if backend not in BACKENDS:
        raise RedlineValueError(
            f"backend must be one of {', '.join(BACKENDS)}, got '{backend}'", parameter="backend"
        )
    if not 1 <= workers <= 256:
        raise RedlineValueError(
            f"workers must be between 1 and 256, got {workers}", parameter="workers"
        )
    if not 0.0 < confidence < 1.0:
        raise RedlineValueError(
            f"confidence must be between 0 and 1, got {confidence}", parameter="confidence"
        )
    if threads is None:
        threads = 1 if workers > 1 else _usable_cores()
    if not 1 <= threads <= 256:
        raise RedlineValueError(
            f"threads must be between 1 and 256, got {threads}", parameter="threads"
        )
    block = chunk_size if chunk_size is not None else math.ceil(particles / threads)
    if not 1 <= block <= MAX_SCORE_PARTICLES:
        raise RedlineValueError(
            f"chunk_size must be between 1 and {MAX_SCORE_PARTICLES:,}, got {block:,}",
            parameter="chunk_size",
        )
    settings = _settings(s, levers, lenses, lever_options)
    record = record_of(s)
    lowered = lower(s)
    programs = [configure(lowered, overrides(s, config)) for _, config in settings]
    tasks = [
        _Task(
            c,
            r,
            program,
            record,
            particles,
            seed if r < 0 else replicate_seed(seed, r),
            backend,
            block,
            threads,
        )
        for c, program in enumerate(programs)
        for r in range(-1, replicates)
    ]
    done: list[_Pass] = []

    def finished(result: _Pass) -> None:
        done.append(result)
        if progress is not None:
            label = settings[result.config][0]
            what = (
                "unconditioned runs" if result.replicate < 0 else f"filter {result.replicate + 1}"
            )
            progress(len(done), len(tasks), f"{label}: {what}")

    if workers > 1:
        executor: Executor = ProcessPoolExecutor(max_workers=workers)
        try:
            for result in executor.map(_run_task, tasks):
                finished(result)
        finally:
            executor.shutdown(cancel_futures=True)
    else:
        for task in tasks:
            finished(_run_task(task))
    scored = []
    for c, ((label, config), program) in enumerate(zip(settings, programs, strict=True)):
        mine = sorted((p for p in done if p.config == c), key=lambda p: p.replicate)
        scored.append(
            _lens_score(label, config, program, record, mine[0], mine[1:], particles, confidence)
        )
    notes = []
    if s.time.start is not None:
        notes.append(
            f"the record runs to {max(f.last for f in record.facts)}; the scenario's horizon "
            f"is {s.time.horizon} {s.time.step}s from {s.time.start}"
        )
    return Score(
        scenario=s.id,
        particles=particles,
        replicates=replicates,
        seed=seed,
        backend=backend,
        confidence=confidence,
        observations=tuple((f.id, f.text, str(f.last)) for f in record.facts),
        lenses=tuple(scored),
        seconds=time.perf_counter() - started,
        notes=tuple(notes),
    )


def _refuse_language_models(s: Scenario) -> None:
    """Scoring cannot run a language-model actor (``kind: llm``): say why, in one line."""
    asked = [a.id for a in s.actors if a.decision.kind == "llm"]
    if asked:
        raise UserError(
            f"actor {asked[0]} is decided by a language model (decision kind 'llm'), which "
            "scoring cannot run: its particle filter copies runs when it resamples them, and a "
            "copy does not carry the story so far that the model is told (nor its sampling "
            "keys), and it would ask one request per particle per step (10,000 particles × "
            "replicates × lenses); score the scenario with the actor decided by logit or a "
            "script, or compare the model's runs with redline run, ablate or analyze"
        )


def _scenario(scenario: object) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, LoadedScenario):
        return scenario.scenario
    if isinstance(scenario, str | Path):
        return load_scenario(scenario).scenario
    raise RedlineTypeError(
        "scenario must be a Scenario, a scenario file path or a built-in scenario name, "
        f"got {type(scenario).__name__}",
        parameter="scenario",
    )
