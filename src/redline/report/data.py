"""What a report shows, gathered from stored results: the renderer needs nothing else."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from redline.engine.trouble import TroubleRow
from redline.report.story import StoryLine
from redline.results import OutcomeSummary
from redline.scenario.register import RegisterRow

# the report's data holds an ablation or a score only when one was asked for: their modules
# (SciPy's statistics with the score) are loaded by what computes them, not by every report
if TYPE_CHECKING:
    from redline.analysis.ablation import Ablation
    from redline.analysis.score import Score


@dataclass(frozen=True)
class ConfigurationReport:
    """Results of one configuration (lever options and lens)."""

    label: str
    levers: dict[str, str]
    lens: str | None
    runs: int
    outcomes: list[OutcomeSummary]
    #: per outcome id: cumulative incidence after each step (length = horizon), Aalen–Johansen
    incidence: dict[str, list[float]]
    #: (horizon, rungs) counts of live runs on each rung after each step
    occupancy: NDArray[np.int64]
    #: what the configuration changes from the defaults, without its lens ("defaults",
    #: "invite=vilnius", plus any uncertainty a sweep fixed); empty: the label says it all
    setting: str = ""
    #: the lens's name as the scenario gives it (empty: no lens, or its id is its name)
    lens_name: str = ""
    #: NaN and out-of-range probabilities and NaN state met in its runs, per element
    #: (:mod:`redline.engine.trouble`); empty when there were none
    trouble: list[TroubleRow] = field(default_factory=list)


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows."""

    scenario_id: str
    title: str
    description: str
    horizon: int
    step_unit: str
    start: dt.date | None
    rungs: list[str]
    outcome_names: dict[str, str]
    configurations: list[ConfigurationReport]
    story_label: str
    story: list[StoryLine]
    register: list[RegisterRow]
    seed: int
    version: str
    generated: dt.datetime
    notes: list[str] = field(default_factory=list)
    #: each lever's default option: configurations are named by what they change from these
    lever_defaults: dict[str, str] = field(default_factory=dict)
    #: each mechanism switched off in turn ("What drives each outcome"), when one was run
    ablation: Ablation | None = None
    #: the record's likelihood under each lens, and the published forecasts ("How well each
    #: lens explains the record", "Against published forecasts"), when the scenario has a record
    score: Score | None = None
    #: what produced the results: "run" (redline run) or "sweep" (redline sweep)
    source: str = "run"
