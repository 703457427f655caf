"""The study's table: each model × situation cell's runs scored in every mode, beside their
published scores, with intervals over runs.

Intervals are over the cell's runs (each run one observation): a Student-t 95% interval of the
mean, and a percentile bootstrap 95% interval (10,000 resamples of the runs, seeded). Their
papers' "±" is a bootstrap half-width; here both ends are reported, and the t interval says how
wide 10 runs leave the mean.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from redline.analysis.escalaition.logs import (
    LogError,
    RunLog,
    published_file,
    read_published_scores,
)
from redline.analysis.escalaition.scoring import MODES, Mode, day_scores, run_score

#: the order their tables give the models in (others follow, sorted)
MODEL_ORDER = ("GPT-4", "GPT-3.5", "Claude-2.0", "Llama-2-Chat", "GPT-4-Base", "Claude-1.2")
SITUATION_ORDER = ("Neutral", "Invasion", "Cyberattack")


@dataclass(frozen=True)
class Interval:
    """A 95% interval of a mean over runs: ``method`` is ``t`` or ``bootstrap``."""

    method: str
    lo: float
    hi: float

    @property
    def half_width(self) -> float:
        return (self.hi - self.lo) / 2


def t_interval(values: Sequence[float], confidence: float = 0.95) -> Interval:
    """The Student-t interval of the mean of ``values`` (NaN ends for fewer than 2)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return Interval("t", math.nan, math.nan)
    m = float(x.mean())
    se = float(x.std(ddof=1)) / math.sqrt(len(x))
    if se == 0:
        return Interval("t", m, m)
    lo, hi = stats.t.interval(confidence, len(x) - 1, loc=m, scale=se)
    return Interval("t", float(lo), float(hi))


def bootstrap_interval(
    values: Sequence[float], confidence: float = 0.95, resamples: int = 10_000, seed: int = 0
) -> Interval:
    """The percentile bootstrap interval of the mean of ``values``, resampling them."""
    x = np.asarray(values, dtype=float)
    if len(x) < 2:
        return Interval("bootstrap", math.nan, math.nan)
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, len(x), size=(resamples, len(x)))].mean(axis=1)
    a = (1 - confidence) / 2
    lo, hi = np.quantile(means, [a, 1 - a])
    return Interval("bootstrap", float(lo), float(hi))


@dataclass(frozen=True)
class Cell:
    """One model × situation: each run's score in each mode, and published where given."""

    model: str
    situation: str
    runs: tuple[int, ...]
    scores: dict[str, tuple[float, ...]]
    published: tuple[float, ...] | None
    unrecognised: int
    actions: int
    mismatched_days: tuple[str, ...] = field(default=())

    def mean(self, mode: str) -> float:
        return float(np.mean(self.scores[mode]))

    def intervals(self, mode: str) -> tuple[Interval, Interval]:
        values = self.scores[mode]
        return t_interval(values), bootstrap_interval(values)


def _order(key: tuple[str, str]) -> tuple[int, str, int, str]:
    model, situation = key
    m = MODEL_ORDER.index(model) if model in MODEL_ORDER else len(MODEL_ORDER)
    s = SITUATION_ORDER.index(situation) if situation in SITUATION_ORDER else 3
    return (s, "", m, model)


def study_cells(runs: Iterable[RunLog], evals: Path | None = None) -> list[Cell]:
    """Every cell of the study, runs scored in every mode; with ``evals`` (their score folder),
    each run's published score too, and every day where their file and ``compat`` differ."""
    grouped: dict[tuple[str, str], list[RunLog]] = defaultdict(list)
    for r in runs:
        grouped[r.name.cell].append(r)
    cells = []
    for key in sorted(grouped, key=_order):
        logs = sorted(grouped[key], key=lambda r: r.name.run)
        scores: dict[str, list[float]] = {m: [] for m in MODES}
        published: list[float] = []
        mismatched: list[str] = []
        unrecognised = actions = 0
        for log in logs:
            days_by_mode = {m: day_scores(log.rows, m) for m in MODES}
            for m in MODES:
                scores[m].append(run_score(days_by_mode[m]))
            unrecognised += sum(d["unrecognised"] for d in days_by_mode["corrected"])
            actions += sum(d["action-count"] for d in days_by_mode["corrected"])
            if evals is not None:
                path = published_file(evals, log.path)
                if not path.is_file():
                    raise LogError(f"{path}: no published score file for {log.path.name}")
                theirs = read_published_scores(path)
                published.append(run_score(theirs))
                mismatched.extend(_mismatches(log.path.name, days_by_mode["compat"], theirs))
        cells.append(
            Cell(
                model=key[0],
                situation=key[1],
                runs=tuple(r.name.run for r in logs),
                scores={m: tuple(v) for m, v in scores.items()},
                published=tuple(published) if evals is not None else None,
                unrecognised=unrecognised,
                actions=actions,
                mismatched_days=tuple(mismatched),
            )
        )
    return cells


def _mismatches(name: str, ours: list[dict[str, int]], theirs: list[dict[str, int]]) -> list[str]:
    """Each day (or the list of days) where our ``compat`` scores differ from their file."""
    ours_by_day = {d["Day"]: d for d in ours}
    theirs_by_day = {d["Day"]: d for d in theirs}
    if list(ours_by_day) != list(theirs_by_day):
        return [f"{name}: days {list(ours_by_day)} here, {list(theirs_by_day)} published"]
    return [
        f"{name}: day {day}: {ours_by_day[day]} here, {theirs_by_day[day]} published"
        for day in ours_by_day
        if ours_by_day[day] != theirs_by_day[day]
    ]


def mode_difference_by_model(cells: Sequence[Cell], mode: Mode) -> dict[str, float]:
    """Per model, the mean over its runs of (``mode`` score − ``compat`` score)."""
    diffs: dict[str, list[float]] = defaultdict(list)
    for c in cells:
        diffs[c.model].extend(
            a - b for a, b in zip(c.scores[mode], c.scores["compat"], strict=True)
        )
    return {
        m: float(np.mean(v)) for m, v in sorted(diffs.items(), key=lambda kv: _order((kv[0], "")))
    }
