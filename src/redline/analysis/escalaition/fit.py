"""Their action distributions, fitted per model and situation from their run logs.

A nation's day in their study is several actions besides messages (their prompt asked for up to
three; their models took 3.2 on average, up to 21). redline's ``escalaition`` scenario gives
each nation one decision a day: it draws one action ``a`` with the share ``q_a`` that action has
among the cell's (recognised, non-message) actions, and that draw stands for the nation's
``m`` actions of the day, where ``m`` is the cell's mean number of actions per nation-day: the
day's points are ``m × points(a)``. Each cell's mean score is then that of their logs; a day's
actions move together (one draw), so runs vary more than independent actions would — as theirs
do (see :func:`redline.analysis.escalaition.power.overdispersion`).

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

#: days of a run
DAYS = 14
#: the chance a fitted nation holds (no action) in the scenario: negligible, but a logit actor
#: always has ``hold`` as a candidate, at utility 0
HOLD = 1e-9
#: the chance given to an action a cell never took (its log must be finite)
NEVER = 1e-15


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

    def shares(self) -> dict[str, float]:
        """Each action's share of the cell's actions (``q_a``; messages aside)."""
        total = sum(self.counts.values())
        return {a.id: self.counts.get(a.id, 0) / total for a in ACTIONS if a.id != "message"}

    def utilities(self) -> dict[str, float]:
        """The logit utilities (λ = 1, hold at 0) that draw each action with its share:
        ``log(q_a / HOLD)`` (an action never taken: ``log(NEVER / HOLD)``)."""
        return {a: math.log(max(q, NEVER) / HOLD) for a, q in self.shares().items()}


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
    """One model × situation under one scoring mode: how many of a cell's actions (rows that
    are not messages) scored each number of points, over how many nation-days."""

    model: str
    situation: str
    nation_days: int
    points: tuple[int, ...]
    counts: tuple[int, ...]

    @property
    def actions_per_nation_day(self) -> float:
        return sum(self.counts) / self.nation_days

    def shares(self) -> tuple[float, ...]:
        """The share of the cell's actions that scored each of ``points``."""
        total = sum(self.counts)
        return tuple(c / total for c in self.counts)

    def mean_score(self) -> float:
        """The cell's mean run score: its points per nation-day."""
        return sum(p * c for p, c in zip(self.points, self.counts, strict=True)) / self.nation_days


def _is_action(action: str | None, mode: Mode) -> bool:
    """Whether a row is an action (not a message) in ``mode``'s reading."""
    if mode == "compat":
        return action != "Message"
    spec = canonical_action(action)
    return spec is None or spec.id != "message"


def points_distribution(logs: Sequence[RunLog], mode: Mode) -> PointsFit:
    """A cell's points distribution under ``mode``: how many of its actions scored each
    number of points (0 included)."""
    counts: Counter[int] = Counter()
    for log in logs:
        for row in log.rows:
            if _is_action(row.action, mode):
                counts[row_points(row.action, mode)] += 1
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


def rate_parameter(situation: str) -> str:
    """The scenario parameter holding a situation's fitted actions per nation-day."""
    return f"m_{situation.lower()}"


#: decimals the scenario keeps of each fitted utility
DECIMALS = 6


def lens_parameters(fits: Iterable[ActionFit]) -> dict[str, dict[str, float]]:
    """Per model's lens id, the parameter values that play its fitted distributions (rounded
    to :data:`DECIMALS`), every situation's: actions per nation-day and each action's utility."""
    lenses: dict[str, dict[str, float]] = defaultdict(dict)
    for fit in fits:
        lenses[lens_id(fit.model)][rate_parameter(fit.situation)] = round(
            fit.actions_per_nation_day, DECIMALS
        )
        for action, u in fit.utilities().items():
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
            "      m_<situation> is the mean number of actions a nation-day, and",
            "      u_<situation>_<action> is log(the action's share of them / 1e-9),",
            "      1e-9 being the chance of holding",
            "    set:",
        ]
        lines += [f"      {k}: {v!r}" for k, v in params[lens_id(model)].items()]
    return "\n".join(lines) + "\n"
