"""The Python API: load a scenario, simulate it, trace one run and tell its story, sweep an
experiment into a store, compare its configurations and write its report; ablate, score and ask
why. Plain functions returning typed results; each table-like result shows as a table in a
notebook and converts with ``to_pandas()`` and ``to_arrow()``. The command line calls the same
library functions.

Arguments are checked before anything runs: a wrong value raises
:class:`~redline.errors.RedlineValueError` (a ``ValueError``), a wrong type
:class:`~redline.errors.RedlineTypeError` (a ``TypeError``), each with a message that starts
with the parameter's name (``runs must be between 1 and 100,000,000, got 0``).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, SupportsIndex

import pyarrow as pa

from redline.analysis.ablation import Ablation
from redline.analysis.compare import Comparisons
from redline.analysis.discovery import Discovery
from redline.analysis.equilibria import SolvedGame
from redline.analysis.robust import Robustness
from redline.analysis.score import Score
from redline.analysis.sensitivity import Screening, Sensitivity
from redline.analysis.why import Paths
from redline.compile import Configuration, compile_scenario, resolve
from redline.core.program import Program
from redline.engine.deciders import DecisionMaker, Situation
from redline.engine.simulate import DEFAULT_CHUNK, Backend, check_sizes, chunk_bounds
from redline.engine.trouble import merge_rows
from redline.errors import RedlineTypeError, RedlineValueError, UserError
from redline.experiment.design import Unit
from redline.experiment.executors import UnitResult, UnitTask, make_executor
from redline.experiment.job import Job
from redline.experiment.outputs import DEFAULT_STORE, check_output
from redline.experiment.runner import execute
from redline.experiment.spec import sweep_spec
from redline.experiment.store import Store
from redline.experiment.stored import Experiment
from redline.report.comparison import compare_experiment
from redline.report.publish import write_experiment_report
from redline.report.trace import Story, Trace, tell, trace_run
from redline.results import Results, Summary
from redline.scenario.errors import suggest
from redline.scenario.loader import LoadedScenario, load_scenario
from redline.scenario.model import Scenario

if TYPE_CHECKING:  # imported when a scenario has language-model actors (the client is slow to load)
    from redline.llm.actor import LanguageModelActor
    from redline.llm.endpoint import Endpoint

__all__ = [
    "Ablation",
    "Comparisons",
    "DecisionMaker",
    "Discovery",
    "Experiment",
    "Paths",
    "Results",
    "Robustness",
    "Scenario",
    "Score",
    "Screening",
    "Sensitivity",
    "Situation",
    "SolvedGame",
    "Story",
    "Summary",
    "Trace",
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

#: seeds and run indices key 64-bit random streams: each is below this
INDEX_LIMIT = 2**63
#: the most threads (or worker processes) one call may ask for
MAX_THREADS = 256


def load(path: str | Path) -> Scenario:
    """Load and validate a scenario file (or a built-in by name)."""
    if not isinstance(path, str | Path):
        raise RedlineTypeError(
            f"path must be a scenario file path or a built-in scenario name, "
            f"got {type(path).__name__}",
            parameter="path",
        )
    return load_scenario(path).scenario


def simulate(
    scenario: Scenario | LoadedScenario | str | Path,
    runs: int,
    *,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    backend: Backend = "numpy",
    chunk_size: int = DEFAULT_CHUNK,
    workers: int = 1,
    progress: Callable[[int], None] | None = None,
    decision_makers: Mapping[str, DecisionMaker] | None = None,
    threads: int | None = None,
    strict: bool = False,
    llm: Endpoint | None = None,
    llm_store: str | Path | None = None,
) -> Results:
    """Simulate ``runs`` runs of one configuration; the result is the same for any chunk size,
    worker or thread count, or backend.

    NaN and out-of-range probabilities and NaN state are counted per element in
    ``Results.trouble``; ``strict`` raises :class:`redline.NumericalTrouble` at the first
    instead (the earliest in the first chunk that has one), naming the step, run, element and
    value.

    ``levers`` fixes lever options by name (the others take their defaults); ``lens`` picks a
    lens (``None``: base values). ``workers`` > 1 computes chunks in that many worker
    processes; otherwise ``threads`` chunks run at once in this process (default: one per
    usable core). ``progress`` is called with the number of runs each finished chunk held.

    ``decision_makers`` replace the named actors' scenario decision-makers with your own
    (:class:`redline.DecisionMaker`; picklable when ``workers`` > 1).

    Actors the scenario has decided by a language model (``decision: {kind: llm}``) ask the
    endpoint ``llm`` (:class:`redline.llm.Endpoint`; default: the ``OPENAI_BASE_URL`` and
    ``OPENAI_API_KEY`` settings), every live run of a step at once, from this process
    (``workers`` 1). Their requests and answers are kept in the store file ``llm_store`` when
    given (a rerun with the same seed replays them and asks nothing), else in memory for the
    call (docs/llm.md)."""
    runs = _integer("runs", runs)
    seed = _index("seed", seed)
    chunk_size = _integer("chunk_size", chunk_size)
    workers = _integer("workers", workers)
    if not isinstance(backend, str):
        raise RedlineTypeError(
            f"backend must be a string, got {type(backend).__name__}", parameter="backend"
        )
    check_sizes(runs, chunk_size, workers, backend)
    if threads is not None:
        threads = _integer("threads", threads)
        if not 1 <= threads <= MAX_THREADS:
            raise RedlineValueError(
                f"threads must be between 1 and {MAX_THREADS}, got {threads}", parameter="threads"
            )
        if threads > 1 and workers > 1:
            raise RedlineValueError(
                "threads is for runs in this process; leave it out (or 1) when workers > 1",
                parameter="threads",
            )
    if not isinstance(strict, bool):
        raise RedlineTypeError(
            f"strict must be True or False, got {type(strict).__name__}", parameter="strict"
        )
    if progress is not None and not callable(progress):
        raise RedlineTypeError(
            f"progress must be a function of the number of runs done, got "
            f"{type(progress).__name__}",
            parameter="progress",
        )
    s = _scenario(scenario)
    config = _configuration(s, levers, lens)
    job = Job.of(s, config)
    makers = _makers(job.program, decision_makers)
    models = _language_makers(s, makers, llm, llm_store)
    if models and workers > 1:
        raise RedlineValueError(
            "workers must be 1 for a scenario with language-model actors: they are asked from "
            "this process, every live run of a step at once",
            parameter="workers",
        )
    makers = tuple(sorted({**dict(makers), **models}.items()))
    tasks = [
        UnitTask(job, Unit(i, 0, start, stop), seed, backend, makers, strict=strict)
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
        _close(models)
    done.sort(key=lambda r: r.unit.index)
    table = pa.concat_tables([r.table for r in done]).drop_columns(["point"])
    trouble = tuple(merge_rows(row for r in done for row in r.trouble))
    return Results(table, job.program, config, seed, trouble)


def trace(
    scenario: Scenario | LoadedScenario | str | Path,
    *,
    seed: int = 0,
    run: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    decision_makers: Mapping[str, DecisionMaker] | None = None,
    llm: Endpoint | None = None,
    llm_store: str | Path | None = None,
) -> Trace:
    """Run ``run`` of ``seed``, step by step, with every decision and rule reaction logged: the
    same run :func:`simulate` computes for that seed and run index, and its story
    (``trace(...).story``, a :class:`Story` table, with a language-model actor's reason for
    each of its choices). ``lens`` None: the base values. ``llm`` and ``llm_store`` as for
    :func:`simulate` (with the same store, the run is replayed from its answers)."""
    seed = _index("seed", seed)
    run = _index("run", run)
    s = _scenario(scenario)
    config = _configuration(s, levers, lens)
    given = _makers(compile_scenario(s, config), decision_makers)
    models = _language_makers(s, given, llm, llm_store, keep_reasons=True)
    try:
        return trace_run(s, seed, run, config.levers, config.lens, {**dict(given), **models})
    finally:
        _close(models)


def story(
    scenario: Scenario | LoadedScenario | str | Path,
    *,
    seed: int = 0,
    run: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    verbose: bool = False,
    decision_makers: Mapping[str, DecisionMaker] | None = None,
    llm: Endpoint | None = None,
    llm_store: str | Path | None = None,
) -> Story:
    """Run ``run`` of ``seed`` told as ``redline story`` tells it: a :class:`Story` table, a
    row per happening (when, what, why, the evidence the first time a rule appears), with the
    configuration it was told for (``.header``) and how the run ended (``.ending``);
    ``.text()`` is the story as the command prints it.

    ``lens`` None means the scenario's first lens (as ``redline story``, the report's narrated
    run and the first rows of ``redline run``); :func:`trace` tells a run under the base values.
    ``verbose`` keeps quiet steps (everyone holds, nothing reacts). ``llm`` and ``llm_store``
    as for :func:`simulate`: a language-model actor's reasons are told with its choices."""
    seed = _index("seed", seed)
    run = _index("run", run)
    if not isinstance(verbose, bool):
        raise RedlineTypeError(
            f"verbose must be True or False, got {type(verbose).__name__}", parameter="verbose"
        )
    s = _scenario(scenario)
    config = _configuration(s, levers, lens)
    given = _makers(compile_scenario(s, config), decision_makers)
    models = _language_makers(s, given, llm, llm_store, keep_reasons=True)
    try:
        return tell(s, seed, run, config.levers, lens, verbose, {**dict(given), **models})
    finally:
        _close(models)


def sweep(
    scenario: str | Path,
    *,
    name: str | None = None,
    runs: int | None = None,
    seed: int | None = None,
    levers: Mapping[str, Sequence[str]] | None = None,
    lenses: Sequence[str] | None = None,
    sample: str | None = None,
    one_at_a_time: bool = False,
    final_state: bool = False,
    chunk_size: int | None = None,
    store: str | Path = DEFAULT_STORE,
    workers: int = 1,
    threads: int | None = None,
    dask_local: int | None = None,
    scheduler: str | None = None,
    backend: Backend = "numpy",
    strict: bool = False,
    progress: Callable[[int], None] | None = None,
) -> Experiment:
    """Run an experiment into a DuckDB store, as ``redline sweep`` does: every lever option
    (``levers``: the options to include per lever; default every one) × lens (``lenses``;
    default every one) × uncertainty design point (``sample``: ``per_run``, ``lhs:K``,
    ``sobol:K`` or ``grid``), ``runs`` runs each (default 20,000), stored unit by unit.
    ``scenario`` is a scenario file, a built-in scenario's name or an experiment file (whose
    values what is given here replaces); ``name`` names the experiment in the store (required
    for a scenario). Called again with the same arguments, it does only what is missing, and
    returns at once when the experiment is complete.

    Returns the :class:`Experiment`: ``.summary()`` gives its outcome probabilities per
    configuration; :func:`compare` and :func:`write_report` take it. ``progress`` is called
    with the number of runs of each unit as it is stored. The results are the same for any
    worker or thread count, chunk size or backend."""
    if not isinstance(scenario, str | Path):
        raise RedlineTypeError(
            "scenario must be a scenario file path, a built-in scenario name or an experiment "
            f"file (a sweep stores where its scenario came from), got {type(scenario).__name__}",
            parameter="scenario",
        )
    numbers = {"runs": runs, "seed": seed, "chunk_size": chunk_size}
    for key, value in numbers.items():
        if value is not None:
            numbers[key] = _index(key, value) if key == "seed" else _integer(key, value)
    workers = _integer("workers", workers)
    if threads is not None:
        threads = _threads(threads)
    if not isinstance(backend, str):
        raise RedlineTypeError(
            f"backend must be a string, got {type(backend).__name__}", parameter="backend"
        )
    check_sizes(
        1 if numbers["runs"] is None else numbers["runs"],
        DEFAULT_CHUNK if numbers["chunk_size"] is None else numbers["chunk_size"],
        workers,
        backend,
    )
    if progress is not None and not callable(progress):
        raise RedlineTypeError(
            f"progress must be a function of the number of runs done, got "
            f"{type(progress).__name__}",
            parameter="progress",
        )
    spec = sweep_spec(
        scenario,
        name=name,
        runs=numbers["runs"],
        seed=numbers["seed"],
        levers=levers,
        lenses=lenses,
        sample=sample,
        chunk_size=numbers["chunk_size"],
        levers_design="one_at_a_time" if one_at_a_time else None,
        final_state=bool(final_state) or None,
    )
    stored = Store(Path(store))
    opts: dict[str, object] = {
        "workers": workers,
        "threads": threads,
        "dask_local": dask_local,
        "scheduler": scheduler,
    }
    told = progress

    def start(plan: object, where: str) -> Callable[[int], None]:
        assert told is not None
        return told

    execute(spec, stored, opts, backend, None if told is None else start, bool(strict))
    return Experiment.read(stored, spec.name)


def compare(
    experiment: Experiment | str,
    *,
    by: str = "lever",
    lens: str | None = None,
    store: str | Path = DEFAULT_STORE,
) -> Comparisons:
    """The differences in outcome probabilities between the options of each lever (``by``
    "lever") or between lenses (``by`` "lens") of a stored experiment, everything else held
    equal, each against the first option of its group (or, by lens, against ``lens``), with a
    95% Newcombe interval and both probabilities beside it: a :class:`Comparisons` table, as
    ``redline compare`` prints it. ``experiment`` is what :func:`sweep` returned, or a name in
    ``store``. With ``by`` "lever", ``lens`` compares under that lens only."""
    name, where = _experiment(experiment, store)
    if lens is not None and not isinstance(lens, str):
        raise RedlineTypeError(
            f"lens must be a lens name or None, got {type(lens).__name__}", parameter="lens"
        )
    return compare_experiment(where, name, by, lens)


def write_report(
    experiment: Experiment | str,
    *,
    path: str | Path | None = None,
    store: str | Path = DEFAULT_STORE,
    ablation: Ablation | None = None,
    score: Score | None = None,
    force: bool = False,
) -> Path:
    """Write the self-contained HTML report of a stored experiment (what :func:`sweep`
    returned, or a name in ``store``) to ``path`` (default ``redline-report-NAME.html``) and
    return the path written, as ``redline run`` and ``redline sweep`` do; with "What drives
    each outcome" for an ``ablation`` (:func:`ablate`) and "How well each lens explains the
    record" for a ``score`` (:func:`score`). It never writes over the store, nor over a file
    that is not a report of redline's unless ``force``."""
    name, where = _experiment(experiment, store)
    if path is not None and not isinstance(path, str | Path):
        raise RedlineTypeError(
            f"path must be a file path or None, got {type(path).__name__}", parameter="path"
        )
    target = Path(path) if path is not None else Path(f"redline-report-{name}.html")
    check_output(target, "report", where.path, bool(force))
    where.record(name)  # an unknown experiment is refused before anything is written
    source = "run" if name.startswith("run-") else "sweep"
    return write_experiment_report(where, name, target, None, ablation, score, source)


def _experiment(experiment: object, store: object) -> tuple[str, Store]:
    """An experiment's name and store: from an :class:`Experiment`, or a name and ``store``."""
    if isinstance(experiment, Experiment):
        return experiment.name, Store(experiment.store)
    if not isinstance(experiment, str):
        raise RedlineTypeError(
            "experiment must be what sweep() returned or an experiment's name, got "
            f"{type(experiment).__name__}",
            parameter="experiment",
        )
    if not isinstance(store, str | Path):
        raise RedlineTypeError(
            f"store must be a file path, got {type(store).__name__}", parameter="store"
        )
    return experiment, Store(Path(store))


def _threads(threads: object) -> int:
    number = _integer("threads", threads)
    if not 1 <= number <= MAX_THREADS:
        raise RedlineValueError(
            f"threads must be between 1 and {MAX_THREADS}, got {number}", parameter="threads"
        )
    return number


def ablate(
    scenario: Scenario | LoadedScenario | str | Path,
    runs: int,
    *,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    backend: Backend = "numpy",
    threads: int | None = None,
    lever_options: bool = True,
    progress: Callable[[int, int, str], None] | None = None,
    llm: Endpoint | None = None,
    llm_store: str | Path | None = None,
) -> Ablation:
    """Switch off each mechanism of the scenario in turn — every red line, treaty clause,
    doctrine, rule, scheduled event and dynamic, and each decision-maker made to hold — and
    simulate ``runs`` runs of each on the same seed and run indices as the baseline (common
    random numbers). The result has, per mechanism and outcome, the change in probability with
    a paired 95% interval (``mean(d) ± 1.96·sd(d)/√n`` over the runs' differences of hit
    indicators; :attr:`~redline.analysis.ablation.Ablation.table` as Arrow, ``to_json()``),
    and flags inert mechanisms, aliased outcomes, lever options with identical results
    (``lever_options``: each other option of each lever is simulated too) and unreached
    outcomes (``findings()``).

    ``levers`` and ``lens`` choose the configuration ablated. ``progress(done, total, label)``
    is called as each configuration finishes. Language-model actors ask ``llm`` (answers kept
    in ``llm_store``), as for :func:`simulate`; switching one's decision off makes it hold
    without asking."""
    from redline.analysis.ablation import ablate as run_ablation

    runs = _integer("runs", runs)
    seed = _index("seed", seed)
    if not isinstance(backend, str):
        raise RedlineTypeError(
            f"backend must be a string, got {type(backend).__name__}", parameter="backend"
        )
    check_sizes(runs, DEFAULT_CHUNK, 1, backend)
    if threads is not None:
        threads = _integer("threads", threads)
        if not 1 <= threads <= MAX_THREADS:
            raise RedlineValueError(
                f"threads must be between 1 and {MAX_THREADS}, got {threads}", parameter="threads"
            )
    if progress is not None and not callable(progress):
        raise RedlineTypeError(
            f"progress must be a function of (done, total, label), got {type(progress).__name__}",
            parameter="progress",
        )
    s = _scenario(scenario)
    config = _configuration(s, levers, lens)
    models = _language_makers(s, (), llm, llm_store)
    try:
        return run_ablation(
            s,
            runs=runs,
            seed=seed,
            levers=config.levers,
            lens=config.lens,
            backend=backend,
            threads=threads,
            lever_options=bool(lever_options),
            progress=progress,
            makers=models or None,
        )
    finally:
        _close(models)


def score(
    scenario: Scenario | LoadedScenario | str | Path,
    *,
    particles: int = 10_000,
    replicates: int = 5,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lenses: Sequence[str] | None = None,
    lever_options: bool = False,
    backend: Backend = "numpy",
    chunk_size: int | None = None,
    threads: int | None = None,
    workers: int = 1,
    progress: Callable[[int, int, str], None] | None = None,
) -> Score:
    """Score each lens against the scenario's record (its ``observations``) by sequential Monte
    Carlo: the log-likelihood of the whole record with an interval over ``replicates``
    independent filters of ``particles`` particles, each observation's probability alone and
    given the record before it, Bayes factors between lenses, the uncertainties' posterior, a
    fitted lens and what the record implies beyond it; each published forecast (``forecasts``)
    beside the model's answer, with Brier and log scores where the question resolved
    (:mod:`redline.analysis.score`; :attr:`~redline.analysis.score.Score.table` and the other
    tables as Arrow, ``to_json()``).

    ``lenses`` picks lenses (default: every one); ``levers`` fixes lever options (the others at
    their defaults); ``lever_options`` also scores each other option of each lever. The result
    is the same for any ``chunk_size``, ``threads``, ``workers`` or backend.
    ``progress(done, total, label)`` is called as each pass finishes."""
    from redline.analysis.score import score as run_score

    particles = _integer("particles", particles)
    replicates = _integer("replicates", replicates)
    seed = _index("seed", seed)
    workers = _integer("workers", workers)
    if chunk_size is not None:
        chunk_size = _integer("chunk_size", chunk_size)
    if threads is not None:
        threads = _integer("threads", threads)
        if not 1 <= threads <= MAX_THREADS:
            raise RedlineValueError(
                f"threads must be between 1 and {MAX_THREADS}, got {threads}", parameter="threads"
            )
    if not isinstance(backend, str):
        raise RedlineTypeError(
            f"backend must be a string, got {type(backend).__name__}", parameter="backend"
        )
    if lenses is not None and (
        isinstance(lenses, str) or not all(isinstance(x, str) for x in lenses)
    ):
        raise RedlineTypeError("lenses must be a list of lens names", parameter="lenses")
    if progress is not None and not callable(progress):
        raise RedlineTypeError(
            f"progress must be a function of (done, total, label), got {type(progress).__name__}",
            parameter="progress",
        )
    s = _scenario(scenario)
    config = _configuration(s, levers, None)
    for lens in lenses or []:
        _configuration(s, None, lens)
    return run_score(
        s,
        particles=particles,
        replicates=replicates,
        seed=seed,
        levers=config.levers,
        lenses=lenses,
        lever_options=bool(lever_options),
        backend=backend,
        chunk_size=chunk_size,
        threads=threads,
        workers=workers,
        progress=progress,
    )


def why(
    scenario: Scenario | LoadedScenario | str | Path,
    outcome: str,
    runs: int,
    *,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    backend: Backend = "numpy",
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    llm: Endpoint | None = None,
    llm_store: str | Path | None = None,
) -> Paths:
    """Why the runs that reached ``outcome`` got there: over ``runs`` runs of one configuration
    (``levers``, ``lens``), for every mechanism event — each rule, red line (enforced or not),
    treaty clause, doctrine and scheduled event firing or failing, each actor's choice of each
    action — the share of hits it preceded, how long before (in steps), and its lift over the
    runs that missed the outcome; and the most frequent ordered paths of the events on route,
    with the share of hits each explains (:attr:`~redline.analysis.why.Paths.table` and
    :attr:`~redline.analysis.why.Paths.paths` as Arrow, ``to_json()``; the definitions are in
    :mod:`redline.analysis.why`).

    Memory stays bounded whatever ``runs``: the engine's event record is folded chunk by chunk.
    The result is the same for any thread count or backend. ``progress(done, total)`` is called
    with the runs done as chunks finish. Language-model actors ask ``llm`` (their answers kept
    in ``llm_store``: with the store a :func:`simulate` of the same seed used, the runs are
    replayed), as for :func:`simulate`."""
    from redline.analysis.why import why as run_why

    runs = _integer("runs", runs)
    seed = _index("seed", seed)
    if not isinstance(outcome, str):
        raise RedlineTypeError(
            f"outcome must be an outcome id, got {type(outcome).__name__}", parameter="outcome"
        )
    if not isinstance(backend, str):
        raise RedlineTypeError(
            f"backend must be a string, got {type(backend).__name__}", parameter="backend"
        )
    check_sizes(runs, DEFAULT_CHUNK, 1, backend)
    if threads is not None:
        threads = _integer("threads", threads)
        if not 1 <= threads <= MAX_THREADS:
            raise RedlineValueError(
                f"threads must be between 1 and {MAX_THREADS}, got {threads}", parameter="threads"
            )
    if progress is not None and not callable(progress):
        raise RedlineTypeError(
            f"progress must be a function of (done, total), got {type(progress).__name__}",
            parameter="progress",
        )
    s = _scenario(scenario)
    config = _configuration(s, levers, lens)
    models = _language_makers(s, (), llm, llm_store)
    try:
        return run_why(
            s,
            outcome,
            runs=runs,
            seed=seed,
            levers=config.levers,
            lens=config.lens,
            backend=backend,
            threads=threads,
            progress=progress,
            makers=models or None,
        )
    finally:
        _close(models)


def sensitivity(
    scenario: Scenario | LoadedScenario | str | Path,
    *,
    method: str = "sobol",
    n: int = 256,
    trajectories: int = 20,
    runs_per_point: int = 200,
    outcomes: Sequence[str] | None = None,
    params: Mapping[str, tuple[float, float]] | None = None,
    uncertainties: Sequence[str] | None = None,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    seed: int = 0,
    backend: Backend = "numpy",
    threads: int = 1,
    progress: Callable[[int, int], None] | None = None,
    llm: Endpoint | None = None,
    llm_store: str | Path | None = None,
) -> Sensitivity | Screening:
    """Which uncertainties (and parameters ranged in ``params``, ``{name: (low, high)}``)
    drive each outcome's probability: Sobol first- and total-order indices with 95% intervals,
    corrected for the Monte Carlo noise of the ``runs_per_point`` runs at each of the
    ``n·(D + 2)`` design points, and their convergence (``method="sobol"``); or Morris
    screening over ``trajectories`` (``method="morris"``). See
    :mod:`redline.analysis.sensitivity`; the tables are Arrow (``.to_pandas()``).
    Language-model actors ask ``llm`` (answers kept in ``llm_store``), as for :func:`simulate`:
    a point's runs at once, the points one after another."""
    from redline.analysis import sensitivity as run

    seed = _index("seed", seed)
    threads = _integer("threads", threads)
    if not 1 <= threads <= MAX_THREADS:
        raise RedlineValueError(
            f"threads must be between 1 and {MAX_THREADS}, got {threads}", parameter="threads"
        )
    if method not in ("sobol", "morris"):
        raise RedlineValueError(
            f"method must be 'sobol' or 'morris', got {method!r}", parameter="method"
        )
    s = _scenario(scenario)
    runs_per_point = _integer("runs_per_point", runs_per_point)
    models = _language_makers(s, (), llm, llm_store)
    try:
        estimate = (
            partial(run.sobol, n=_integer("n", n))
            if method == "sobol"
            else partial(run.morris, trajectories=_integer("trajectories", trajectories))
        )
        return estimate(
            s,
            runs_per_point=runs_per_point,
            outcomes=outcomes,
            params=params,
            uncertainties=uncertainties,
            levers=levers,
            lens=lens,
            seed=seed,
            backend=backend,
            threads=threads,
            progress=progress,
            makers=models or None,
        )
    finally:
        _close(models)


def discover(
    scenario: Scenario | LoadedScenario | str | Path,
    outcome: str,
    runs: int = 100_000,
    *,
    params: Mapping[str, tuple[float, float]] | None = None,
    uncertainties: Sequence[str] | None = None,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    seed: int = 0,
    min_density: float | None = None,
    peel_alpha: float = 0.05,
    mass_min: float = 0.05,
    cart_depth: int = 3,
    backend: Backend = "numpy",
    threads: int = 1,
    llm: Endpoint | None = None,
    llm_store: str | Path | None = None,
) -> Discovery:
    """Where in the space of the uncertainties (and parameters ranged in ``params``) the runs
    that reach ``outcome`` concentrate: PRIM's box with its coverage, density and peeling
    trajectory, and a CART tree's leaves (:mod:`redline.analysis.discovery`). Language-model
    actors ask ``llm`` (answers kept in ``llm_store``), as for :func:`simulate`."""
    from redline.analysis.discovery import discover as run

    threads = _integer("threads", threads)
    if not 1 <= threads <= MAX_THREADS:
        raise RedlineValueError(
            f"threads must be between 1 and {MAX_THREADS}, got {threads}", parameter="threads"
        )
    s = _scenario(scenario)
    models = _language_makers(s, (), llm, llm_store)
    try:
        return run(
            s,
            outcome,
            _integer("runs", runs),
            params=params,
            uncertainties=uncertainties,
            levers=levers,
            lens=lens,
            seed=_index("seed", seed),
            min_density=min_density,
            peel_alpha=peel_alpha,
            mass_min=mass_min,
            cart_depth=_integer("cart_depth", cart_depth),
            backend=backend,
            threads=threads,
            makers=models or None,
        )
    finally:
        _close(models)


def robust(
    scenario: Scenario | LoadedScenario | str | Path,
    *,
    outcome: str | None = None,
    threshold: float = 0.05,
    samples: int = 8,
    runs: int = 1000,
    seed: int = 0,
    levers: Sequence[str] | None = None,
    fixed: Mapping[str, str] | None = None,
    lenses: Sequence[str] | None = None,
    factorial: bool = False,
    backend: Backend = "numpy",
    threads: int | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    llm: Endpoint | None = None,
    llm_store: str | Path | None = None,
) -> Robustness:
    """Which lever option is robust: every option of ``levers`` (default: every lever) in every
    lens × ``samples`` points of the uncertainties, ``runs`` runs each on common random
    numbers — each option's probability of ``outcome`` (default: the first absorbing one) with
    intervals, its regret against the best option in each world, the minimax-regret option and
    the share of worlds where it stays below ``threshold`` (:mod:`redline.analysis.robust`;
    ``.table`` and ``.world_table`` as Arrow, ``to_json()``). ``fixed`` sets levers that are
    not examined; ``factorial`` compares every combination. Language-model actors ask ``llm``
    (answers kept in ``llm_store``), as for :func:`simulate`."""
    from redline.analysis.robust import robust_levers

    if threads is not None:
        threads = _integer("threads", threads)
        if not 1 <= threads <= MAX_THREADS:
            raise RedlineValueError(
                f"threads must be between 1 and {MAX_THREADS}, got {threads}", parameter="threads"
            )
    if isinstance(levers, str):
        raise RedlineTypeError("levers must be a list of lever names", parameter="levers")
    if isinstance(lenses, str):
        raise RedlineTypeError("lenses must be a list of lens names", parameter="lenses")
    s = _scenario(scenario)
    models = _language_makers(s, (), llm, llm_store)
    try:
        return robust_levers(
            s,
            outcome=outcome,
            threshold=float(threshold),
            samples=_integer("samples", samples),
            runs=_integer("runs", runs),
            seed=_index("seed", seed),
            levers=levers,
            fixed=_levers(fixed),
            lenses=lenses,
            factorial=bool(factorial),
            backend=backend,
            threads=threads,
            progress=progress,
            makers=models or None,
        )
    finally:
        _close(models)


def game(
    scenario: Scenario | LoadedScenario | str | Path,
    *,
    step: int,
    decisions: Mapping[str, Sequence[str]],
    lever_players: Mapping[str, str] | None = None,
    weights: Mapping[str, str | Mapping[str, float]] | None = None,
    values: Mapping[str, Mapping[str, float]] | None = None,
    order: Sequence[str] | None = None,
    runs: int = 2000,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    once: bool = True,
    rationality: float = 10.0,
    threads: int | None = None,
    llm: Endpoint | None = None,
    llm_store: str | Path | None = None,
) -> SolvedGame:
    """A decision point as a game, solved: the actors in ``decisions`` (actor → options: an
    action id, ``hold``, ``~ACTION`` or ``own``) and the levers in ``lever_players`` (player →
    lever) at ``step``, every strategy profile simulated ``runs`` times for each player's
    utility by its weights over the final state and outcomes (``weights``, ``values``); then
    Nash equilibria, dominance, the logit QRE at ``rationality`` and the subgame-perfect
    equilibrium with the players moving in ``order`` (:mod:`redline.analysis.game`,
    :mod:`redline.analysis.equilibria`). Language-model actors ask ``llm`` (answers kept in
    ``llm_store``), as for :func:`simulate`; a player's own choices at other steps too."""
    from redline.analysis.equilibria import solve
    from redline.analysis.game import extract_game

    if threads is not None:
        threads = _integer("threads", threads)
        if not 1 <= threads <= MAX_THREADS:
            raise RedlineValueError(
                f"threads must be between 1 and {MAX_THREADS}, got {threads}", parameter="threads"
            )
    if not isinstance(decisions, Mapping) or any(isinstance(v, str) for v in decisions.values()):
        raise RedlineTypeError(
            "decisions must map actor ids to lists of options", parameter="decisions"
        )
    rationality = float(rationality)
    if not rationality >= 0.0:
        raise RedlineValueError(
            f"rationality must be a non-negative number, got {rationality}",
            parameter="rationality",
        )
    s = _scenario(scenario)
    models = _language_makers(s, (), llm, llm_store)
    try:
        extracted = extract_game(
            s,
            step=_integer("step", step),
            decisions=decisions,
            lever_players=lever_players,
            weights=weights,
            values=values,
            order=order,
            runs=_integer("runs", runs),
            seed=_index("seed", seed),
            levers=_levers(levers),
            lens=lens,
            once=bool(once),
            threads=threads,
            makers=models or None,
        )
    finally:
        _close(models)
    return SolvedGame(extracted, solve(extracted, rationality=rationality, sequential=True))


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


def _integer(name: str, value: object) -> int:
    """``value`` as an int (NumPy integers too; not bools), or a type error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, SupportsIndex):
        raise RedlineTypeError(
            f"{name} must be an integer, got {type(value).__name__}", parameter=name
        )
    return operator.index(value)


def _index(name: str, value: object) -> int:
    """A seed or run index: an integer from 0 up to 2**63 - 1."""
    number = _integer(name, value)
    if not 0 <= number < INDEX_LIMIT:
        raise RedlineValueError(
            f"{name} must be a non-negative integer below 2**63, got {number}", parameter=name
        )
    return number


def _levers(levers: object) -> dict[str, str] | None:
    if levers is None:
        return None
    if not isinstance(levers, Mapping):
        raise RedlineTypeError(
            f"levers must be a mapping of lever names to option names, got {type(levers).__name__}",
            parameter="levers",
        )
    chosen: dict[str, str] = {}
    for name, option in levers.items():
        if not isinstance(name, str) or not isinstance(option, str):
            raise RedlineTypeError(
                f"levers must map lever names to option names (strings), got {name!r}: {option!r}",
                parameter="levers",
            )
        chosen[name] = option
    return chosen


def _configuration(s: Scenario, levers: object, lens: object) -> Configuration:
    """The configuration ``levers`` and ``lens`` choose, each checked against the scenario."""
    chosen = _levers(levers)
    if lens is not None and not isinstance(lens, str):
        raise RedlineTypeError(
            f"lens must be a lens name or None, got {type(lens).__name__}", parameter="lens"
        )
    try:
        resolve(s, chosen)
    except UserError as exc:
        raise RedlineValueError(f"levers: {exc}", parameter="levers") from None
    try:
        return resolve(s, chosen, lens)
    except UserError as exc:
        raise RedlineValueError(f"lens: {exc}", parameter="lens") from None


def _makers(program: Program, given: object) -> tuple[tuple[str, DecisionMaker], ...]:
    """Plugged-in decision-makers, checked: each for an actor that has actions to choose among,
    each one with a ``decide`` method."""
    if given is None:
        return ()
    if not isinstance(given, Mapping):
        raise RedlineTypeError(
            f"decision_makers must be a mapping of actor ids to decision-makers, "
            f"got {type(given).__name__}",
            parameter="decision_makers",
        )
    actors = [d.actor for d in program.deciders]
    for actor, maker in given.items():
        if actor not in actors:
            raise RedlineValueError(
                "decision_makers: " + suggest(str(actor), actors, "actor"),
                parameter="decision_makers",
            )
        if not isinstance(maker, DecisionMaker):
            raise RedlineTypeError(
                f"decision_makers['{actor}']: {maker!r} has no decide(situation)",
                parameter="decision_makers",
            )
    return tuple(sorted(given.items()))


def _language_makers(
    s: Scenario,
    given: tuple[tuple[str, DecisionMaker], ...],
    llm: object,
    llm_store: object,
    keep_reasons: bool = False,
) -> dict[str, LanguageModelActor]:
    """The decision-makers of the scenario's language-model actors that ``given`` does not
    replace: asking ``llm`` (default: the endpoint the environment names), keeping answers in
    the store ``llm_store`` (or in memory)."""
    plugged = frozenset(actor for actor, _ in given)
    if not [a for a in s.actors if a.decision.kind == "llm" and a.id not in plugged]:
        return {}
    from redline.llm.cache import StoreCache
    from redline.llm.endpoint import Endpoint, endpoint_from
    from redline.llm.makers import language_makers

    if llm is not None and not isinstance(llm, Endpoint):
        raise RedlineTypeError(
            f"llm must be a redline.llm.Endpoint, got {type(llm).__name__}", parameter="llm"
        )
    if llm_store is not None and not isinstance(llm_store, str | Path):
        raise RedlineTypeError(
            f"llm_store must be a store file path, got {type(llm_store).__name__}",
            parameter="llm_store",
        )
    try:
        endpoint = llm if llm is not None else endpoint_from()
    except UserError as exc:
        raise RedlineValueError(f"llm: {exc}", parameter="llm") from None
    cache = StoreCache(Store(Path(llm_store))) if llm_store is not None else None
    return language_makers(s, endpoint, cache, keep_reasons, skip=plugged)


def _close(models: Mapping[str, LanguageModelActor]) -> None:
    for maker in models.values():
        maker.close()
