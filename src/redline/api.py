"""The Python API: load a scenario, simulate it, trace one run."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

import pyarrow as pa

from redline.compile import Configuration, Program, compile_scenario, resolve
from redline.engine.deciders import DecisionMaker, Situation
from redline.engine.reference import RunResult, run_reference
from redline.engine.simulate import DEFAULT_CHUNK, Backend, Job, check_sizes, chunk_bounds
from redline.errors import UserError
from redline.experiment.design import Unit
from redline.experiment.executors import UnitResult, UnitTask, make_executor
from redline.results import Results
from redline.scenario.errors import suggest
from redline.scenario.loader import LoadedScenario, load_scenario
from redline.scenario.model import Scenario

__all__ = ["DecisionMaker", "Situation", "load", "simulate", "trace"]


def load(path: str | Path) -> Scenario:
    """Load and validate a scenario file (or a built-in by name)."""
    return load_scenario(path).scenario


def _scenario(scenario: Scenario | LoadedScenario | str | Path) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, LoadedScenario):
        return scenario.scenario
    return load(scenario)


def simulate(
    scenario: Scenario | LoadedScenario | str | Path,
    runs: int,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    backend: Backend = "numpy",
    chunk_size: int = DEFAULT_CHUNK,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    decision_makers: Mapping[str, DecisionMaker] | None = None,
    threads: int | None = None,
) -> Results:
    """Simulate ``runs`` runs of one configuration; the result is the same for any chunk size,
    worker or thread count, or backend.

    ``workers`` > 1 computes chunks in that many worker processes; otherwise ``threads``
    chunks run at once in this process (default: one per usable core).

    ``decision_makers`` replace the named actors' scenario decision-makers with your own
    (:class:`redline.engine.deciders.DecisionMaker`; picklable when ``workers`` > 1)."""
    s = _scenario(scenario)
    config = resolve(s, levers, lens)
    check_sizes(runs, chunk_size, workers, backend)
    job = Job.of(s, config)
    makers = _makers(job.program(), decision_makers)
    tasks = [
        UnitTask(job, Unit(i, 0, start, stop), seed, backend, makers)
        for i, (start, stop) in enumerate(chunk_bounds(runs, chunk_size))
    ]
    executor = make_executor(workers=workers, threads=threads)
    done: list[UnitResult] = []
    try:
        for result in executor.run(tasks):
            done.append(result)
            if progress:
                progress(result.unit.stop - result.unit.start)
    finally:
        executor.close()
    done.sort(key=lambda r: r.unit.index)
    table = pa.concat_tables([r.table for r in done]).drop_columns(["point"])
    return Results(table, job.program(), config, seed)


def trace(
    scenario: Scenario | LoadedScenario | str | Path,
    seed: int = 0,
    run: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    decision_makers: Mapping[str, DecisionMaker] | None = None,
) -> tuple[RunResult, Configuration]:
    """One run, step by step, with every decision and rule reaction logged."""
    s = _scenario(scenario)
    config = resolve(s, levers, lens)
    program = compile_scenario(s, config)
    makers = dict(_makers(program, decision_makers))
    return run_reference(program, seed, run, keep_log=True, makers=makers), config


def _makers(
    program: Program, given: Mapping[str, DecisionMaker] | None
) -> tuple[tuple[str, DecisionMaker], ...]:
    """Plugged-in decision-makers, checked: each for an actor that has actions to choose among,
    each one with a ``decide`` method."""
    actors = [d.actor for d in program.deciders]
    for actor, maker in (given or {}).items():
        if actor not in actors:
            raise UserError("decision_makers: " + suggest(actor, actors, "actor"))
        if not isinstance(maker, DecisionMaker):
            raise UserError(f"decision_makers['{actor}']: {maker!r} has no decide(situation)")
    return tuple(sorted((given or {}).items()))
