"""What the web page's pages and its JSON API both ask of the library: a scenario's text
checked, a run's experiment specified, a stored experiment's results, comparisons and story.

Each function calls the functions ``redline validate``, ``run``, ``results``, ``compare`` and
``story`` call; none computes anything of its own."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from redline.errors import UserError
from redline.experiment import runner
from redline.experiment.design import design
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import ExperimentRecord, Store
from redline.report.comparison import compare_experiment
from redline.report.trace import tell
from redline.results import summary_json
from redline.scenario.errors import ScenarioError, format_path
from redline.scenario.explain import Explanation, explain
from redline.scenario.loader import LoadedScenario, load_scenario, load_scenario_text
from redline.web.models import (
    AxisOut,
    CheckResult,
    ConfigurationOut,
    DifferenceOut,
    ExperimentInfo,
    IssueOut,
    StoryLineOut,
    StoryOut,
)
from redline.web.workspace import NotFound, Workspace


@dataclass(frozen=True)
class Limits:
    """How large a run the page accepts: runs per configuration, and in all."""

    runs: int = 1_000_000
    total_runs: int = 10_000_000


def check_text(workspace: Workspace, kind: str, name: str, text: str) -> CheckResult:
    """``text`` checked as ``redline validate`` checks the file ``name`` once saved: every
    problem with its line, element and message."""
    path = workspace.path(kind, name)
    try:
        loaded = load_scenario_text(text, path)
    except ScenarioError as exc:
        return CheckResult(
            valid=False,
            issues=[
                IssueOut(line=i.line, path=format_path(i.path), message=i.message, text=str(i))
                for i in exc.issues
            ],
        )
    s = loaded.scenario
    return CheckResult(
        valid=True,
        issues=[],
        summary=f"valid — {s.title} ({len(s.actors)} actors, {len(s.actions)} actions, "
        f"{len(s.red_lines)} red lines, {len(s.outcomes)} outcomes, horizon "
        f"{s.time.horizon} {s.time.step}s)",
    )


def load(workspace: Workspace, kind: str, name: str) -> LoadedScenario:
    """A scenario of the library, loaded and checked as ``redline run`` loads it."""
    path = workspace.path(kind, name)
    if not path.is_file():
        raise NotFound(f"no scenario file '{name}' in the workspace")
    return load_scenario(path if kind == "workspace" else name)


def explanation(workspace: Workspace, kind: str, name: str) -> Explanation | None:
    """What ``redline explain`` says of a scenario; None when it does not load."""
    try:
        return explain(load(workspace, kind, name).scenario)
    except ScenarioError:
        return None


def run_spec(
    loaded: LoadedScenario,
    runs: int,
    seed: int,
    levers: dict[str, str],
    lens: str | None,
    limits: Limits,
) -> ExperimentSpec:
    """The experiment ``redline run`` would store for these options, refused when larger than
    ``limits``."""
    if runs > limits.runs:
        raise UserError(f"runs must be at most {limits.runs:,} a configuration, got {runs:,}")
    spec = runner.run_spec(loaded, runs, seed, levers or None, lens or None)
    points = len(design(loaded.scenario, spec))
    if points * runs > limits.total_runs:
        raise UserError(
            f"{points} configurations × {runs:,} runs is more than the {limits.total_runs:,} "
            "runs this server computes at once: fix a lever or a lens, or ask for fewer runs"
        )
    return spec


def experiment_info(record: ExperimentRecord) -> ExperimentInfo:
    return ExperimentInfo(
        name=record.name,
        scenario=record.scenario_id,
        status=record.status,
        points=record.points,
        runs=record.runs,
        units=record.units,
        done_units=record.done_units,
        created=record.created.isoformat(timespec="seconds"),
    )


def record(store: Store, name: str) -> ExperimentRecord:
    """A stored experiment, or :class:`NotFound`."""
    found = store.get(name) if store.path.exists() else None
    if found is None:
        raise NotFound(f"no experiment named '{name}' in the store")
    return found


def experiments(store: Store) -> list[ExperimentRecord]:
    return store.experiments() if store.path.exists() else []


def configurations(store: Store, name: str) -> list[ConfigurationOut]:
    """Each stored configuration's outcome probabilities with 95% intervals, as ``redline run
    --json`` prints them (the same function makes both)."""
    rec = record(store, name)
    s = store.scenario(name)
    rows = runner.stored_summaries(store, name, [(o.id, o.label) for o in s.outcomes])
    return [
        ConfigurationOut.model_validate(
            summary_json(
                s.id, s.time.horizon, rec.spec.runs, rec.spec.seed, pt["levers"], pt["lens"], summ
            )
        )
        for _, pt, summ in rows
    ]


def comparisons(store: Store, name: str, by: str, lens: str | None) -> list[AxisOut]:
    """``redline compare``'s tables as data (the same function makes both)."""
    record(store, name)
    compared = compare_experiment(store, name, by, lens)
    under = lens if lens is not None and by == "lever" else None
    return [
        AxisOut(
            axis=axis,
            under=under,
            differences=[
                DifferenceOut(
                    outcome=d.outcome,
                    option=d.option,
                    baseline=d.baseline,
                    held=d.held,
                    p_option=d.p_option,
                    p_baseline=d.p_baseline,
                    diff=d.difference,
                    lo=d.lo,
                    hi=d.hi,
                )
                for d in compared.along(axis)
            ],
        )
        for axis in compared.axes
    ]


def points(store: Store, name: str) -> list[dict[str, Any]]:
    record(store, name)
    return store.points(name)


def experiment_story(
    store: Store, name: str, point: int, seed: int | None, run: int, verbose: bool = False
) -> StoryOut:
    """Run ``run`` of a stored experiment's configuration ``point`` (under the experiment's
    seed unless ``seed``), told as ``redline story`` tells it."""
    rec = record(store, name)
    s = store.scenario(name)
    chosen = next((p for p in store.points(name) if p["point"] == point), None)
    if chosen is None:
        raise NotFound(f"experiment '{name}' has no configuration {point}")
    seed = rec.spec.seed if seed is None else seed
    levers = {str(k): str(v) for k, v in chosen["levers"].items()}
    told = tell(s, seed, run, levers, chosen["lens"], verbose)
    return StoryOut(
        title=f"{s.title} — run {run}, seed {seed}",
        header=list(told.header),
        lines=[
            StoryLineOut(when=x.when, text=x.text, why=x.why, evidence=list(x.evidence))
            for x in told
        ],
        ending=told.ending,
    )


def export_rows(store: Store, name: str, folder: Path) -> Path:
    """An experiment's rows as the CSV ``redline results export --format csv`` writes, in a
    file of ``folder``."""
    record(store, name)
    target = folder / f"{name}.csv"
    store.export(name, "csv", target)
    return target
