"""Run an experiment: its units that the store does not hold yet, on an executor.

Started again after being killed, a sweep does only the missing units; its final results equal
an uninterrupted sweep's, because every unit is a pure function of (scenario, design point, seed,
run range).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import duckdb

from redline.compile.configure import Configuration
from redline.engine.deciders import DecisionMaker
from redline.engine.simulate import AUTO, Backend, SweepBackend
from redline.engine.warmup import FusedWarmup
from redline.errors import UserError
from redline.experiment import claims
from redline.experiment.design import DesignPoint, Unit, design, units
from redline.experiment.executors import (
    Executor,
    InProcess,
    UnitResult,
    UnitTask,
    usable_cores,
)
from redline.experiment.job import Job
from redline.experiment.layout import Expander, Layout, PointConfig
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import ExperimentRecord, Store
from redline.scenario.loader import LoadedScenario, load_scenario


@dataclass(frozen=True)
class Plan:
    """What a sweep will do before it does it."""

    spec: ExperimentSpec
    record: ExperimentRecord
    points: list[DesignPoint]
    units: list[Unit]
    todo: list[Unit]
    jobs: dict[int, Job]
    #: units this process computed (after the sweep; others may have come from another sweep
    #: of the same experiment at the same time)
    computed: int = 0

    @property
    def runs_todo(self) -> int:
        return sum(u.stop - u.start for u in self.todo)


@dataclass(frozen=True)
class Prepared:
    """An experiment laid out, before the store is touched: its design points, units, jobs and
    columns."""

    spec: ExperimentSpec
    loaded: LoadedScenario
    points: list[DesignPoint]
    units: list[Unit]
    jobs: dict[int, Job]
    layout: Layout
    check: str

    @property
    def fingerprint(self) -> str:
        return self.spec.fingerprint(self.loaded.digest)

    def stored_units(self, store: Store) -> set[int]:
        """The units a store already holds of this very experiment (none if it has no
        experiment of this name, or one of another specification); never creates a store."""
        if not store.path.exists():
            return set()
        record = store.get(self.spec.name)
        if record is None or record.fingerprint != self.fingerprint:
            return set()
        return store.done_units(record)


def prepare(spec: ExperimentSpec, loaded: LoadedScenario | None = None) -> Prepared:
    """Load the scenario (unless the caller has: ``loaded``, from the spec's file) and lay out
    design points, units and the experiment's columns."""
    if loaded is None or str(loaded.path) != spec.scenario:
        loaded = load_scenario(spec.scenario)
    s = loaded.scenario
    points = design(s, spec)
    all_units = units(points, spec.runs, spec.chunk_size)
    jobs = {pt.index: Job.of(s, pt.config, pt.fixed) for pt in points}
    layout = Layout.of(list(jobs.values()), spec.final_state)
    configs = {pt.index: PointConfig(pt.config.levers, pt.config.lens, pt.fixed) for pt in points}
    check = Expander(layout, s, configs, spec.seed).check()
    return Prepared(spec, loaded, points, all_units, jobs, layout, check)


def register(prep: Prepared, store: Store) -> Plan:
    """Register (or find) a prepared experiment in the store: the plan of what is missing."""
    spec, loaded = prep.spec, prep.loaded
    record = store.begin(
        spec,
        prep.fingerprint,
        loaded.scenario,
        loaded.digest,
        prep.points,
        prep.units,
        prep.layout,
        prep.check,
    )
    done = store.done_units(record)
    todo = [u for u in prep.units if u.index not in done]
    return Plan(spec, record, prep.points, prep.units, todo, prep.jobs)


def plan(spec: ExperimentSpec, store: Store) -> Plan:
    """Load the scenario, lay out design points, units and the experiment's columns, and
    register (or find) the experiment in the store."""
    return register(prepare(spec), store)


def tasks(
    p: Plan,
    backend: Backend = "numpy",
    strict: bool = False,
    makers: tuple[tuple[str, DecisionMaker], ...] = (),
) -> list[UnitTask]:
    layout = p.record.layout  # workers send back the stored columns only
    return [
        UnitTask(p.jobs[u.point], u, p.spec.seed, backend, makers, strict=strict, layout=layout)
        for u in p.todo
    ]


#: how often a sweep that has nothing left to claim looks whether the units another sweep
#: claimed are stored (or their claimant has died)
WAIT_SECONDS = 0.5


class Claiming:
    """This sweep's claims on the units of ``todo`` (:mod:`redline.experiment.claims`): which are
    still to be stored (here or by another sweep) and which are computed here.

    A claim opens the store's file, which takes tens of milliseconds; each unit's commit claims
    the unit to compute next on the commit's own connection (:meth:`ahead`), so that a sweep
    opens the file once per unit rather than twice."""

    def __init__(self, p: Plan, store: Store, todo: list[UnitTask]) -> None:
        self.p = p
        self.store = store
        self.remaining = {t.unit.index for t in todo}
        self.in_flight: set[int] = set()
        self.me = claims.Claimant.me()
        #: units claimed ahead, at a commit, and not handed out yet
        self.claimed: list[int] = []
        #: whether units are being handed out (claims ahead are made only then)
        self.handing_out = False

    def _claim(self, con: duckdb.DuckDBPyConnection, limit: int) -> list[int]:
        if not self.store._alive(con, self.p.record):
            raise self.store._deleted(self.p.record)
        candidates = sorted(self.remaining - self.in_flight)
        taken, stored = claims.claim(con, self.p.record, candidates, self.me, limit)
        self.remaining.difference_update(stored)
        self.in_flight.update(taken)
        return taken

    def take(self, limit: int) -> list[int]:
        """Up to ``limit`` units to compute here: those claimed ahead, else claimed now (none:
        only what is stored is brought up to date)."""
        if limit and self.claimed:
            taken, self.claimed = self.claimed[:limit], self.claimed[limit:]
            return taken
        with self.store.connect() as con:
            return self._claim(con, limit)

    def ahead(self, con: duckdb.DuckDBPyConnection) -> None:
        """On a commit's connection: claim the unit to hand out next, if none is."""
        if self.handing_out and not self.claimed:
            self.claimed = self._claim(con, 1)

    def done(self, index: int) -> None:
        self.in_flight.discard(index)
        self.remaining.discard(index)


def shared(
    p: Plan,
    store: Store,
    executor: Executor,
    todo: list[UnitTask],
    warmup: FusedWarmup | None = None,
    claiming: Claiming | None = None,
) -> Iterator[UnitResult]:
    """The results of ``todo``, each unit computed here only once this sweep has claimed it in
    the store (:mod:`redline.experiment.claims`): units another live sweep of the same
    experiment claimed are left to it, and waited for; those of a sweep that died are taken
    over. Ends when every unit of ``todo`` is stored, here or elsewhere. ``claiming``: the
    claims, when the caller's commits claim ahead (:meth:`Claiming.ahead`).

    With a ``warmup`` (the ``auto`` backend), each unit runs on the backend it names at the
    moment the unit is handed to the executor; it is started (if not already) once the first
    unit has been handed out (worker processes are forked by then)."""
    by_index = {t.unit.index: t for t in todo}
    mine = Claiming(p, store, todo) if claiming is None else claiming
    window = 2 * max(getattr(executor, "workers", 1), getattr(executor, "threads", 1), 1)

    def claimed() -> Iterator[UnitTask]:
        first = True
        mine.handing_out = True
        try:
            while True:  # a window's worth at first, then one for each unit finished
                taken = mine.take(window if first else 1)
                first = False
                if not taken:
                    return
                for index in taken:
                    task = by_index[index]
                    if warmup is not None:
                        task = dataclasses.replace(
                            task, backend=warmup.backend_for(task.job.program)
                        )
                    yield task
                    if warmup is not None:
                        warmup.start()
        finally:
            mine.handing_out = False

    while mine.remaining:
        for result in executor.run(claimed()):
            mine.done(result.unit.index)
            yield result
        if mine.remaining:  # the rest are claimed by other sweeps: wait for them to be stored
            mine.take(0)
            if mine.remaining:
                time.sleep(WAIT_SECONDS)
    with store.connect() as con:
        claims.release(con, p.record.key)


def run_plan(
    p: Plan,
    store: Store,
    executor: Executor,
    backend: SweepBackend = "numpy",
    progress: Callable[[int], None] | None = None,
    strict: bool = False,
    warmup: FusedWarmup | None = None,
    makers: tuple[tuple[str, DecisionMaker], ...] = (),
    notes: Callable[[str], None] | None = None,
) -> ExperimentRecord:
    """Compute the missing units, committing each as it completes (with its numerical
    trouble); then mark the experiment done. On the ``auto`` backend the units start on the
    NumPy kernel and go to the fused engine once its module is ready
    (:mod:`redline.engine.warmup`; on an executor whose workers share this machine's cache,
    else all on the kernel; ``warmup`` replaces the one made for the plan). Interrupted
    (Ctrl-C), whatever was committed stays: see :func:`stopped`. Deleted from the store
    meanwhile, it stops at the next commit (:class:`ExperimentDeleted`). ``strict``: a unit
    with numerical trouble raises :class:`~redline.engine.trouble.NumericalTrouble` and is
    not stored. ``makers`` replace the named actors' decision-makers (a language model's:
    their units run on the NumPy kernel, which asks them). ``notes`` hears what the ``auto``
    backend's background compile did (:meth:`FusedWarmup.note`)."""
    if p.todo:
        try:
            if makers and backend == AUTO:
                backend = "numpy"  # only the kernel asks plugged-in decision-makers
            if backend == AUTO and warmup is None:
                warmup = _warmup(p, executor)
            elif backend != AUTO:
                warmup = None
            chosen: Backend = "numpy" if backend == AUTO else backend
            if warmup is not None:
                warmup.decide()  # a module on disk is used from the first unit
                if warmup.here:  # no worker processes to fork later: compile from the start
                    warmup.start()
            if getattr(executor, "forks", False):
                _start_numba()
            todo = tasks(p, chosen, strict, makers)
            claiming = Claiming(p, store, todo)
            for result in shared(p, store, executor, todo, warmup, claiming):
                store.commit_unit(
                    p.record,
                    result.unit,
                    result.table,
                    result.occupancy,
                    result.seconds,
                    result.trouble,
                    then=claiming.ahead,
                )
                if progress:
                    progress(result.unit.stop - result.unit.start)
        finally:
            if warmup is not None:
                warmup.stop()  # the compiling process ends with the sweep
            executor.close()
        said = warmup.note() if warmup is not None else None
        if said is not None and notes is not None:
            notes(said)
    else:
        executor.close()
    return store.finish(p.record)


#: how long an interrupted sweep waits for the store to record that it stopped
STOP_WAIT_SECONDS = 5.0


def stopped(store: Store, name: str, key: int | None = None) -> str:
    """After an interruption: record the experiment (``key``, once the sweep knows it) as
    stopped (unless it is done) and say how much of it is stored. Quick: a store busy
    elsewhere is not waited for long."""
    record = None
    if store.path.exists():
        try:
            record = store.mark_stopped(name, wait=STOP_WAIT_SECONDS, key=key)
        except UserError:  # the store is busy elsewhere (or is not one): say what we can
            return "stopped; run the same command again to finish"
    if record is None and key is not None:
        return f"stopped; experiment '{name}' was deleted from {store.path} meanwhile"
    if record is None:
        return "stopped before anything was stored; run the same command again to start"
    return (
        f"stopped: {record.done_units} of {record.units} units are stored; run the same "
        "command again to finish"
    )


def point_config(point: dict[str, object]) -> Configuration:
    """A stored design point's configuration."""
    levers = point["levers"]
    lens = point["lens"]
    assert isinstance(levers, dict)
    return Configuration(
        {str(k): str(v) for k, v in levers.items()}, lens if isinstance(lens, str) else None
    )


def _start_numba() -> None:
    """Build the Numba ufuncs the engines draw with here, before worker processes are forked
    (:mod:`redline.core.numeric`), which starts Numba's compiler: each worker would otherwise
    do it for itself on its first unit (half a second of CPU each; the fused engine's module
    loads in half the time in a process where Numba has started), and this process needs it
    anyway for the report's narrated run."""
    from redline.engine import rng

    rng.build_ufuncs()


def _warmup(p: Plan, executor: Executor) -> FusedWarmup | None:
    """What makes the fused engine ready for an ``auto`` sweep: each unit's program and
    run-steps, and how many units are computed at once, which decide whether loading or
    compiling its module pays; none where the executor's workers do not share this machine's
    cache of compiled modules (a remote Dask cluster)."""
    if not getattr(executor, "shares_cache", False):
        return None
    work = [
        (p.jobs[u.point].program, (u.stop - u.start) * p.jobs[u.point].program.horizon)
        for u in p.todo
    ]
    at_once = max(getattr(executor, "workers", 1), getattr(executor, "threads", 1), 1)
    spare = usable_cores() > at_once  # a core for the compile, beside the units
    here = isinstance(executor, InProcess)
    return FusedWarmup(work, processes=at_once, spare_core=spare, here=here)
