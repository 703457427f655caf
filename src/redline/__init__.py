"""redline: model, simulate and analyse escalation between states and alliances.

The Python API: ``load(path)``, ``simulate(scenario, runs, *, seed, levers, lens, ...)`` giving
:class:`Results` (``.summary()``: a :class:`Summary` table), ``trace(scenario, *, seed, run, ...)``
giving a :class:`Trace` and ``story(scenario, *, ...)`` its :class:`Story`;
``sweep(scenario, *, name, ...)`` giving a stored :class:`Experiment`, ``compare(experiment, *,
by, ...)`` giving its :class:`Comparisons` and ``write_report(experiment, *, path, ...)``
writing its HTML report;
``ablate(scenario, runs, *, ...)`` giving an :class:`Ablation` (what each mechanism does),
``score(scenario, *, ...)`` giving a :class:`Score` (how well each lens explains the record),
``why(scenario, outcome, runs, *, ...)`` giving the :class:`Paths` to an outcome,
``sensitivity(scenario, *, ...)`` giving a :class:`Sensitivity` (Sobol indices) or
:class:`Screening` (Morris), ``discover(scenario, outcome, runs, *, ...)`` giving a
:class:`Discovery` (PRIM's box, CART's leaves), ``robust(scenario, *, ...)`` giving a
:class:`Robustness` (regret, minimax regret, satisficing of each lever option) and
``game(scenario, *, step, decisions, ...)`` giving a :class:`SolvedGame` (a decision point's
payoffs and equilibria);
``DecisionMaker`` and ``Situation`` to plug in a decision-maker of your own. Tables (results,
summaries, comparisons, stories, experiments) show as tables in Jupyter and convert with
``to_pandas()`` and ``to_arrow()``. Bad arguments raise
``RedlineValueError`` (a ``ValueError``) or ``RedlineTypeError`` (a ``TypeError``) naming the
parameter.

Importing ``redline`` is cheap: the API (which pulls in NumPy, Arrow and the engine) is imported
the first time one of its names is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from redline.errors import RedlineTypeError, RedlineValueError, UserError
from redline.version import __version__

if TYPE_CHECKING:  # what a type checker sees; at run time these are imported when first used
    from redline.analysis.ablation import Ablation
    from redline.analysis.compare import Comparisons, OptionDifference
    from redline.analysis.discovery import Discovery
    from redline.analysis.equilibria import SolvedGame
    from redline.analysis.robust import Robustness
    from redline.analysis.score import Score
    from redline.analysis.sensitivity import Screening, Sensitivity
    from redline.analysis.why import Paths
    from redline.api import (
        ablate,
        compare,
        discover,
        game,
        load,
        robust,
        score,
        sensitivity,
        simulate,
        story,
        sweep,
        trace,
        why,
        write_report,
    )
    from redline.engine.deciders import DecisionMaker, Situation
    from redline.experiment.stored import ConfigurationOutcome, Experiment, ExperimentSummary
    from redline.report.story import StoryLine
    from redline.report.trace import Story, Trace
    from redline.results import OutcomeSummary, Results, Summary
    from redline.scenario.model import Scenario

#: where each lazily imported public name lives
_LAZY = {
    "ablate": "redline.api",
    "compare": "redline.api",
    "write_report": "redline.api",
    "story": "redline.api",
    "sweep": "redline.api",
    "Comparisons": "redline.analysis.compare",
    "OptionDifference": "redline.analysis.compare",
    "ConfigurationOutcome": "redline.experiment.stored",
    "StoryLine": "redline.report.story",
    "Experiment": "redline.experiment.stored",
    "ExperimentSummary": "redline.experiment.stored",
    "Story": "redline.report.trace",
    "Summary": "redline.results",
    "Ablation": "redline.analysis.ablation",
    "load": "redline.api",
    "why": "redline.api",
    "sensitivity": "redline.api",
    "Sensitivity": "redline.analysis.sensitivity",
    "Screening": "redline.analysis.sensitivity",
    "discover": "redline.api",
    "Discovery": "redline.analysis.discovery",
    "robust": "redline.api",
    "Robustness": "redline.analysis.robust",
    "game": "redline.api",
    "SolvedGame": "redline.analysis.equilibria",
    "Paths": "redline.analysis.why",
    "score": "redline.api",
    "Score": "redline.analysis.score",
    "simulate": "redline.api",
    "trace": "redline.api",
    "Results": "redline.results",
    "Trace": "redline.report.trace",
    "OutcomeSummary": "redline.results",
    "Scenario": "redline.scenario.model",
    "DecisionMaker": "redline.engine.deciders",
    "Situation": "redline.engine.deciders",
    "NumericalTrouble": "redline.engine.trouble",
}

__all__ = [
    "Ablation",
    "Comparisons",
    "ConfigurationOutcome",
    "DecisionMaker",
    "Discovery",
    "Experiment",
    "ExperimentSummary",
    "NumericalTrouble",
    "OptionDifference",
    "OutcomeSummary",
    "Paths",
    "RedlineTypeError",
    "RedlineValueError",
    "Results",
    "Robustness",
    "Scenario",
    "Score",
    "Screening",
    "Sensitivity",
    "Situation",
    "SolvedGame",
    "Story",
    "StoryLine",
    "Summary",
    "Trace",
    "UserError",
    "__version__",
    "ablate",
    "compare",
    "discover",
    "game",
    "load",
    "robust",
    "score",
    "sensitivity",
    "simulate",
    "story",
    "sweep",
    "trace",
    "why",
    "write_report",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'redline' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # the next lookup finds it without coming here
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
