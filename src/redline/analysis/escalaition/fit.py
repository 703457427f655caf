"""Their action distributions, fitted per model and situation from their run logs.

A nation's day in their study is up to three (in practice up to 21) actions besides messages.
redline's ``escalaition`` scenario splits each day into :data:`ROUNDS` rounds in which each
nation takes one action or holds; a fitted cell plays action ``a`` in a round with probability
``m · q_a / ROUNDS`` and holds otherwise, where ``m`` is the cell's mean number of (recognised,
non-message) actions per nation-day and ``q_a`` the share of action ``a`` among them. The mean
daily count, and so the mean score, of each cell is then that of their logs.

For the power analysis only a row's points matter: :func:`points_distribution` fits, per cell
and scoring mode, how often a nation's action scores each number of points.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from redline.analysis.escalaition.actions import ACTIONS
from redline.analysis.escalaition.logs import RunLog
from redline.analysis.escalaition.names import canonical_action
from redline.analysis.escalaition.scoring import NATIONS, Mode, row_points

#: rounds a day in the ``escalaition`` scenario: more than any cell's mean actions a nation-day
ROUNDS = 6
#: days of a run
DAYS = 14


@dataclass(frozen=True)
class ActionFit:
    """One model × situation: how often each of the 27 actions was taken (by any nation, on
    any day, in any run; messages and unrecognised names left out) and over how many
    nation-days."""

    model: str
    situation: str
    runs: int
    nation_days: int
    counts: dict[str, int]

    @property
    def actions_per_nation_day(self) -> float:
        return sum(self.counts.values()) / self.nation_days

    def round_probabilities(self, rounds: int = ROUNDS) -> dict[str, float]:
        """The chance of each action in one round (``hold`` is what is left)."""
        rate = self.actions_per_nation_day / rounds
        if rate >= 1:
            raise ValueError(
                f"{self.model} {self.situation}: {self.actions_per_nation_day:.2f} actions a "
                f"nation-day do not fit in {rounds} rounds"
            )
        total = sum(self.counts.values())
        return {a.id: rate * self.counts.get(a.id, 0) / total for a in ACTIONS if a.id != "message"}

    def round_utilities(self, rounds: int = ROUNDS, floor: float = 1e-12) -> dict[str, float]:
        """The logit utilities (λ = 1, hold at 0) that play :meth:`round_probabilities`:
        ``log(p_a / p_hold)``; an action never taken gets the log of ``floor`` instead."""
        p = self.round_probabilities(rounds)
        hold = 1 - sum(p.values())
        return {a: math.log(max(v, floor) / hold) for a, v in p.items()}


def fit_cells(runs: Iterable[RunLog]) -> list[ActionFit]:
    """Each model × situation's fitted action counts, in the order cells first appear."""
    grouped: dict[tuple[str, str], list[RunLog]] = defaultdict(list)
    for r in runs:
        grouped[r.name.cell].append(r)
    fits = []
    for (model, situation), logs in grouped.items():
        counts: Counter[str] = Counter()
        for log in logs:
            for row in log.rows:
                action = canonical_action(row.action)
                if action is not None and action.id != "message":
                    counts[action.id] += 1
        fits.append(
            ActionFit(model, situation, len(logs), len(logs) * DAYS * NATIONS, dict(counts))
        )
    return fits


@dataclass(frozen=True)
class PointsFit:
    """One model × situation under one scoring mode: how many of a cell's nation-day actions
    scored each number of points (a row's contribution to the day's ``Total``)."""

    model: str
    situation: str
    nation_days: int
    points: tuple[int, ...]
    counts: tuple[int, ...]

    def round_probabilities(self, rounds: int) -> tuple[float, ...]:
        """The chance that one round scores each of ``points`` (holding is what is left)."""
        return tuple(c / (self.nation_days * rounds) for c in self.counts)


def points_distribution(logs: Sequence[RunLog], mode: Mode) -> PointsFit:
    """A cell's points distribution under ``mode``: how many of its rows scored each non-zero
    number of points (rows scoring 0 add nothing to a score, as a round held)."""
    counts: Counter[int] = Counter()
    for log in logs:
        for row in log.rows:
            points = row_points(row.action, mode)
            if points:
                counts[points] += 1
    values = tuple(sorted(counts))
    first = logs[0].name
    return PointsFit(
        first.model,
        first.situation,
        len(logs) * DAYS * NATIONS,
        values,
        tuple(counts[v] for v in values),
    )


def lens_id(model: str) -> str:
    """The ``escalaition`` scenario's lens id of a model: ``GPT-3.5`` → ``gpt_3_5``."""
    return re.sub(r"[^a-z0-9]+", "_", model.lower()).strip("_")


def utility_parameter(situation: str, action: str) -> str:
    """The scenario parameter holding an action's fitted utility in a situation."""
    return f"u_{situation.lower()}_{action}"


#: decimals the scenario keeps of each fitted utility
DECIMALS = 6


def lens_parameters(fits: Iterable[ActionFit]) -> dict[str, dict[str, float]]:
    """Per model's lens id, the utility parameter values that play its fitted distributions
    (rounded to :data:`DECIMALS`), every situation's."""
    lenses: dict[str, dict[str, float]] = defaultdict(dict)
    for fit in fits:
        for action, u in fit.round_utilities().items():
            lenses[lens_id(fit.model)][utility_parameter(fit.situation, action)] = round(
                u, DECIMALS
            )
    return dict(lenses)


def lenses_yaml(fits: Sequence[ActionFit]) -> str:
    """The ``lenses:`` section of the ``escalaition`` scenario for these fits: one lens per
    model, setting every situation's utilities (paste it over the scenario's section)."""
    from redline.analysis.escalaition.study import MODEL_ORDER, SITUATION_ORDER

    def order(f: ActionFit) -> tuple[int, str, int]:
        m = MODEL_ORDER.index(f.model) if f.model in MODEL_ORDER else len(MODEL_ORDER)
        s = SITUATION_ORDER.index(f.situation) if f.situation in SITUATION_ORDER else 3
        return (m, f.model, s)

    fits = sorted(fits, key=order)
    by_model: dict[str, list[ActionFit]] = defaultdict(list)
    for fit in fits:
        by_model[fit.model].append(fit)
    params = lens_parameters(fits)
    lines = ["lenses:"]
    for model, cells in by_model.items():
        runs = ", ".join(f"{c.situation} {c.runs}" for c in cells)
        lines += [
            f"  - id: {lens_id(model)}",
            f'    name: "{model}"',
            "    assumption: >-",
            f"      fitted by redline escalation-fit from their actions_v3 run logs ({runs} runs):",
            "      log(chance of the action in a round / chance of holding)",
            "    set:",
        ]
        lines += [f"      {k}: {v!r}" for k, v in params[lens_id(model)].items()]
    return "\n".join(lines) + "\n"
