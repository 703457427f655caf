"""Running what the command line and the report ask for: an experiment with its progress and its
interruption, the outcome summaries of a stored one, and one run traced step by step.

Nothing here prints: callers are told about progress through a callback and about Ctrl-C
through :class:`Stopped`, whose message says how much of the experiment is stored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from redline.compile import Configuration, Program, compile_scenario, resolve
from redline.engine.deciders import DecisionMaker
from redline.engine.semantics import RunResult
from redline.engine.simulate import AUTO, DEFAULT_CHUNK, Backend, SweepBackend
from redline.engine.trouble import NumericalTrouble
from redline.errors import UserError, check_index
from redline.experiment.executors import MAX_WORKERS, make_executor, usable_cores
from redline.experiment.resources import (
    Estimate,
    available_memory,
    cap_workers,
    estimate,
    worker_bytes,
)
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import Store
from redline.experiment.store_failures import StoreUnavailable
from redline.experiment.sweep import (
    STOP_WAIT_SECONDS,
    Plan,
    Prepared,
    prepare,
    register,
    run_plan,
    stopped,
)
from redline.results import OutcomeSummary
from redline.scenario.loader import LoadedScenario
from redline.scenario.model import Scenario
from redline.stats import wilson_interval

#: makes the decision-makers an experiment's scenario needs (a language model's), once it is loaded
MakersFor = Callable[[Scenario], Mapping[str, DecisionMaker]]
#: given the plan and the executor's description, returns what to call with the number of
#: runs of each unit as it is stored
ProgressStart = Callable[[Plan, str], Callable[[int], None]]


class Stopped(KeyboardInterrupt):
    """Ctrl-C during an experiment, after the store recorded it as stopped; the message says
    how many units are stored and how to finish."""


def execute(
    spec: ExperimentSpec,
    store: Store,
    executor_opts: Mapping[str, Any],
    backend: SweepBackend = "numpy",
    progress: ProgressStart | None = None,
    strict: bool = False,
    confirm: Callable[[Estimate], bool] | None = None,
    notes: Callable[[str], None] | None = None,
    makers: Mapping[str, DecisionMaker] | MakersFor | None = None,
    loaded: LoadedScenario | None = None,
) -> Plan:
    """Plan an experiment and run its missing units; the plan, with the experiment as it is
    after the sweep and how many units this process computed (others may have been computed
    meanwhile by another sweep of the same experiment: :func:`~redline.experiment.sweep.shared`).

    Local worker processes are capped by the machine's cores and memory
    (:func:`~redline.experiment.resources.cap_workers`; ``notes`` hears why). ``confirm``: for
    a large sweep (:attr:`~redline.experiment.resources.Estimate.large`), asked before anything
    is stored; declined, nothing is (:class:`Declined`). Without it, nothing is asked.

    Interrupted (Ctrl-C) wherever it lands — planning, computing, saving a unit — it records
    the experiment as stopped and raises :class:`Stopped` (a :class:`KeyboardInterrupt`) saying
    how many units are stored (only whole ones are). ``strict``: at a unit's first numerical
    trouble the experiment is recorded as stopped too, and
    :class:`~redline.engine.trouble.NumericalTrouble` says where (step, run, element, value)
    and how many units are stored; that unit is not. ``makers`` replace the named actors'
    decision-makers (a language model's: asked from this process, so ``executor_opts`` must
    ask for one process), or make them from the scenario once it is loaded (none: nothing is
    replaced, and the executor options stand). ``loaded``: the spec's scenario, when the
    caller has loaded it already (it is not read again)."""
    prep = prepare(spec, loaded)
    if callable(makers):
        makers = makers(prep.loaded.scenario)
        if makers:  # asked from this process, every live run of a step at once
            executor_opts = {"workers": 1, "threads": 1}
    opts = _capped(prep, dict(executor_opts), notes)
    if confirm is not None:
        _ask(prep, store, opts, "numpy" if backend == AUTO else backend, confirm)
    executor = make_executor(**opts)  # options are checked before anything is stored
    key: int | None = None  # the experiment's key in the store, once it is registered
    computed = 0
    try:
        with store.attached():  # the sweep's claims and commits: the file attached, not opened
            p = register(prep, store)
            key = p.record.key
            shown = progress(p, executor.description) if progress is not None else None

            def advance(runs: int) -> None:
                nonlocal computed
                computed += 1
                if shown is not None:
                    shown(runs)

            p = dataclasses.replace(
                p,
                record=run_plan(
                    p,
                    store,
                    executor,
                    backend,
                    advance,
                    strict=strict,
                    makers=tuple(sorted((makers or {}).items())),
                    notes=notes,
                ),
            )
    except NumericalTrouble as exc:
        executor.close()
        where = stopped(store, spec.name, key).split(";")[0]
        raise NumericalTrouble(
            f"{exc}; {where}; correct the scenario, or leave out --strict to count such "
            "trouble and go on"
        ) from None
    except KeyboardInterrupt:
        try:
            executor.close()  # run_plan closes it too; closing twice is harmless
        finally:
            raise Stopped(stopped(store, spec.name, key)) from None
    except StoreUnavailable as exc:  # a full disk, a store another process holds ...
        executor.close()
        if key is None:  # nothing was registered: nothing to record
            raise
        raise type(exc)(f"{exc}; {_after_failure(store, spec.name, key)}") from None
    except BaseException:
        executor.close()
        raise
    return dataclasses.replace(p, computed=computed)


class Declined(UserError):
    """The user did not confirm a large sweep; nothing was stored."""


def _capped(
    prep: Prepared, opts: dict[str, Any], notes: Callable[[str], None] | None
) -> dict[str, Any]:
    """The executor options with local worker processes capped by cores and memory."""
    for option, name in (("workers", "--workers"), ("dask_local", "--dask-local")):
        asked = opts.get(option)
        if not isinstance(asked, int) or asked <= 1 or asked > MAX_WORKERS:
            continue  # one worker, or out of range: make_executor says so
        per_worker = max(
            worker_bytes(job.program, prep.spec.chunk_size) for job in prep.jobs.values()
        )
        cap = cap_workers(asked, usable_cores(), per_worker, available_memory())
        note = cap.note(name)
        if note is not None and notes is not None:
            notes(note)
        opts[option] = cap.used
    return opts


def _ask(
    prep: Prepared,
    store: Store,
    opts: Mapping[str, Any],
    backend: Backend,
    confirm: Callable[[Estimate], bool],
) -> None:
    """Estimate what the units still to compute take; a large sweep goes ahead only if
    ``confirm`` says so."""
    stored = prep.stored_units(store)
    todo = [u for u in prep.units if u.index not in stored]
    runs = sum(u.stop - u.start for u in todo)
    if not todo:
        return
    processes = max(
        int(opts.get("workers") or 1),
        int(opts.get("dask_local") or 1),
        int(opts.get("threads") or (usable_cores() if opts.get("workers", 1) == 1 else 1)),
    )
    program = prep.jobs[todo[0].point].program
    guess = estimate(
        program,
        prep.layout,
        runs,
        prep.loaded.scenario.time.horizon,
        backend,
        prep.spec.seed,
        processes,
        store.path,
        prep.spec.chunk_size,
    )
    if guess.large and not confirm(guess):
        raise Declined(f"not started: {guess.describe()}; nothing was stored")


def _after_failure(store: Store, name: str, key: int) -> str:
    """After the store failed a sweep: record the experiment as stopped if the store lets us
    (it may still be full or held), and say what it holds now."""
    try:
        record = store.mark_stopped(name, wait=STOP_WAIT_SECONDS, key=key)
    except UserError:
        return (
            f"experiment '{name}' is still marked running, though no sweep is running it; "
            "the same command goes on from the units stored"
        )
    if record is None:
        return f"experiment '{name}' is no longer in the store"
    return (
        f"the sweep stopped with {record.done_units} of {record.units} units stored; the "
        "same command goes on from there"
    )


def run_spec(
    loaded: LoadedScenario,
    runs: int,
    seed: int,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    factorial: bool = False,
) -> ExperimentSpec:
    """The experiment ``redline run`` stores: each option of every lever not fixed in
    ``levers`` (one lever at a time, or every combination with ``factorial``), under ``lens``
    or every lens; named after the scenario and a fingerprint of the specification, so running
    the same again finds it done."""
    resolve(loaded.scenario, levers, lens)  # unknown levers, options and lenses are refused
    spec = ExperimentSpec(
        name="run",
        scenario=str(loaded.path),
        runs=runs,
        seed=seed,
        chunk_size=chunk_size,
        levers={k: [v] for k, v in (levers or {}).items()} or None,
        lenses=[lens] if lens else None,
        levers_design="factorial" if factorial else "one_at_a_time",
    )
    name = f"run-{loaded.scenario.id}-{spec.fingerprint(loaded.digest)[:10]}"
    return spec.model_copy(update={"name": name})


def stored_summaries(
    store: Store, name: str, outcomes: list[tuple[str, str]], confidence: float = 0.95
) -> list[tuple[str, dict[str, Any], list[OutcomeSummary]]]:
    """Per design point with stored runs: its label, its point record and its outcome
    summaries, as :func:`redline.results.summarize` gives them, from counts DuckDB makes (so
    memory does not grow with the number of runs). No results yet: refused."""
    with store.session(read_only=True, must_exist=True):  # the file opened once for both
        counts = store.point_counts(name, [ident for ident, _ in outcomes])
        points = store.points(name)
    rows = []
    for point in points:
        tally = counts.get(point["point"])
        if tally is None:
            continue
        summary = []
        for (ident, label), hits, mean in zip(
            outcomes, tally.hits, tally.mean_first_step, strict=True
        ):
            lo, hi = wilson_interval(hits, tally.runs, confidence)
            summary.append(
                OutcomeSummary(
                    ident,
                    label,
                    hits,
                    tally.runs,
                    hits / tally.runs,
                    lo,
                    hi,
                    mean if hits else None,
                )
            )
        rows.append((point["label"], point, summary))
    return rows


@dataclass(frozen=True)
class TracedRun:
    """One run simulated by the reference interpreter with every step logged, and the
    configuration and program it ran."""

    result: RunResult
    config: Configuration
    program: Program


def trace(
    scenario: Scenario,
    seed: int,
    run: int,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> TracedRun:
    """One run of one configuration (unfixed levers at their defaults), step by step, with
    every decision and rule reaction logged; ``makers`` replace the named actors'
    decision-makers (checked by the caller). A seed or run outside 0 .. 2**63 - 1 is refused
    (:class:`~redline.errors.RedlineValueError`)."""
    check_index("seed", seed)
    check_index("run", run)
    config = resolve(scenario, levers, lens)
    program = compile_scenario(scenario, config)
    from redline.engine.reference import run_reference  # the story's one run: on use

    result = run_reference(program, seed, run, keep_log=True, makers=makers)
    return TracedRun(result, config, program)
