"""Run an experiment: its units that the store does not hold yet, on an executor.

Started again after being killed, a sweep does only the missing units; its final results equal
an uninterrupted sweep's, because every unit is a pure function of (scenario, design point, seed,
run range).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from redline.compile.configure import Configuration
from redline.engine.simulate import Backend
from redline.errors import UserError
from redline.experiment.design import DesignPoint, Unit, design, units
from redline.experiment.executors import Executor, UnitTask
from redline.experiment.job import Job
from redline.experiment.layout import Expander, Layout, PointConfig
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import ExperimentRecord, Store
from redline.scenario.loader import load_scenario


@dataclass(frozen=True)
class Plan:
    """What a sweep will do before it does it."""

    spec: ExperimentSpec
    record: ExperimentRecord
    points: list[DesignPoint]
    units: list[Unit]
    todo: list[Unit]
    jobs: dict[int, Job]

    @property
    def runs_todo(self) -> int:
        return sum(u.stop - u.start for u in self.todo)


def plan(spec: ExperimentSpec, store: Store) -> Plan:
    """Load the scenario, lay out design points, units and the experiment's columns, and
    register (or find) the experiment in the store."""
    loaded = load_scenario(spec.scenario)
    s = loaded.scenario
    points = design(s, spec)
    all_units = units(points, spec.runs, spec.chunk_size)
    jobs = {pt.index: Job.of(s, pt.config, pt.fixed) for pt in points}
    layout = Layout.of(list(jobs.values()), spec.final_state)
    configs = {pt.index: PointConfig(pt.config.levers, pt.config.lens, pt.fixed) for pt in points}
    check = Expander(layout, s, configs, spec.seed).check()
    record = store.begin(
        spec, spec.fingerprint(loaded.digest), s, loaded.digest, points, all_units, layout, check
    )
    done = store.done_units(record)
    todo = [u for u in all_units if u.index not in done]
    return Plan(spec, record, points, all_units, todo, jobs)


def tasks(p: Plan, backend: Backend = "numpy", strict: bool = False) -> list[UnitTask]:
    return [UnitTask(p.jobs[u.point], u, p.spec.seed, backend, strict=strict) for u in p.todo]


def run_plan(
    p: Plan,
    store: Store,
    executor: Executor,
    backend: Backend = "numpy",
    progress: Callable[[int], None] | None = None,
    strict: bool = False,
) -> ExperimentRecord:
    """Compute the missing units, committing each as it completes (with its numerical
    trouble); then mark the experiment done. Interrupted (Ctrl-C), whatever was committed
    stays: see :func:`stopped`. Deleted from the store meanwhile, it stops at the next commit
    (:class:`ExperimentDeleted`). ``strict``: a unit with numerical trouble raises
    :class:`~redline.engine.trouble.NumericalTrouble` and is not stored."""
    if p.todo:
        try:
            for result in executor.run(tasks(p, backend, strict)):
                store.commit_unit(
                    p.record,
                    result.unit,
                    result.table,
                    result.occupancy,
                    result.seconds,
                    result.trouble,
                )
                if progress:
                    progress(result.unit.stop - result.unit.start)
        finally:
            executor.close()
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
