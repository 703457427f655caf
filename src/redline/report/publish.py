"""Write a stored experiment's HTML report: what ``redline run``, ``redline sweep`` and
:func:`redline.report` do once the runs are stored."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from redline.engine.deciders import DecisionMaker
from redline.errors import UserError
from redline.experiment.store import Store
from redline.scenario.loader import LoadedScenario
from redline.scenario.model import Scenario

if TYPE_CHECKING:
    from redline.analysis.ablation import Ablation
    from redline.analysis.score import Score


def write_experiment_report(
    store: Store,
    name: str,
    path: Path,
    scenario: LoadedScenario | Scenario | None = None,
    ablation: Ablation | None = None,
    score: Score | None = None,
    source: str = "run",
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Path:
    """Write the self-contained HTML report of experiment ``name`` to ``path`` (atomically)
    and return the path written: with "What drives each outcome" when an ablation is given,
    "How well each lens explains the record" and "Against published forecasts" when a score
    is. ``scenario`` defaults to the scenario as the store keeps it (what was swept, whatever
    became of its file); ``source`` says which command produced the results ("run" or
    "sweep"); ``makers`` decide for the actors they name in the narrated run (a language
    model's, replayed from the store)."""
    try:
        from redline.report.html import write_report
    except ImportError:
        raise UserError(
            "the report needs plotly and jinja2: pip install 'redline[report]'"
        ) from None
    from redline.report.build import report_data

    loaded = store.scenario(name) if scenario is None else scenario
    data = report_data(store, name, loaded, ablation, score, source=source, makers=makers)
    try:
        return write_report(data, path)
    except OSError as exc:  # checked before simulating; a disk can still fill up meanwhile
        raise UserError(
            f"cannot write the report {path}: {exc.strerror or exc}; the results are stored, "
            f"and `redline results show {name}` prints them"
        ) from None
