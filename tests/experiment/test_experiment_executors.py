"""Where units are computed never changes their results: a real Dask LocalCluster with two worker
processes (started by redline, or running already and named by its scheduler address) and a pool
of local worker processes give the rows of an in-process sweep."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from experiment_support import (
    HALF,
    RUNS,
    SEED,
    SPEC,
    Reference,
    assert_ok,
    assert_same_rows,
    planned_units,
    redline,
    wait_snapshot,
    where_point_below,
)

from redline.experiment.design import Unit, design
from redline.experiment.executors import (
    MMAP_THRESHOLD,
    DaskCluster,
    UnitTask,
    compute_unit,
    make_executor,
)
from redline.experiment.job import Job
from redline.experiment.layout import Layout
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import Store
from redline.experiment.sweep import plan, run_plan
from redline.scenario.loader import load_scenario


def _occupancy(db: Path, name: str, points: int) -> list[tuple[int, int, int, int]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return [
            tuple(r)
            for r in con.execute(
                "SELECT point, step, rung, sum(runs) FROM occupancy WHERE experiment = "
                "(SELECT key FROM experiments WHERE name = ?) AND point < ? "
                "GROUP BY ALL ORDER BY ALL",
                [name, points],
            ).fetchall()
        ]
    finally:
        con.close()


@pytest.mark.parametrize(
    "executor", [["--dask-local", "2"], ["--workers", "2"]], ids=["dask-local-2", "workers-2"]
)
def test_parallel_sweep_equals_in_process_sweep(
    tmp_path: Path, reference: Reference, executor: list[str]
) -> None:
    db = tmp_path / "store.duckdb"
    # the first two lever options: the reference's design points 0..3, with the same indices
    proc = redline(
        "sweep", *SPEC, *HALF, "--name", "par", "--store", str(db), *executor, cwd=tmp_path
    )
    assert_ok(proc)
    # the workers end quietly: none killed by Dask ("Worker process still alive after 4.0
    # seconds, killing"), no warning of Dask's at all
    assert "still alive" not in proc.stderr and "WARNING" not in proc.stderr, proc.stderr
    snap = wait_snapshot(db, "par")
    snap.assert_whole()
    assert snap.status == "done"
    assert set(snap.units) == planned_units(points=4)
    assert_same_rows(Store(db).results("par"), where_point_below(reference.table, 4))
    assert _occupancy(db, "par", 4) == _occupancy(reference.store, "ref", 4)


def test_sweep_on_a_running_cluster_at_a_scheduler_address(
    tmp_path: Path, reference: Reference
) -> None:
    """``--scheduler ADDR`` sends the units to a cluster started elsewhere (here a LocalCluster of
    two worker processes owned by the test) and leaves that cluster running."""
    from distributed import Client, LocalCluster

    db = tmp_path / "store.duckdb"
    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    ) as cluster:
        address = cluster.scheduler_address
        assert_ok(
            redline(
                "sweep",
                *SPEC,
                *HALF,
                "--name",
                "remote",
                "--store",
                str(db),
                "--scheduler",
                address,
                cwd=tmp_path,
            )
        )
        with Client(address) as client:
            assert len(client.scheduler_info()["workers"]) == 2
        # the units were computed there: the scheduler has seen the unit function's tasks
        assert "compute_unit" in cluster.scheduler.task_prefixes
    snap = wait_snapshot(db, "remote")
    assert snap.status == "done"
    assert set(snap.units) == planned_units(points=4)
    assert_same_rows(Store(db).results("remote"), where_point_below(reference.table, 4))


def test_dask_local_cluster_has_two_worker_processes_and_matches(
    tmp_path: Path, reference: Reference
) -> None:
    """The executor ``--dask-local 2`` builds: two worker processes apart from this one, with a
    fixed mmap threshold; units computed there equal the in-process ones."""
    loaded = load_scenario("convoy-strike")
    spec = ExperimentSpec(
        name="dask",
        scenario=str(loaded.path),
        runs=RUNS,
        seed=SEED,
        chunk_size=250,
        levers={"nato_response": ["none"]},
        lenses=["baseline"],
    )
    store = Store(tmp_path / "store.duckdb")
    p = plan(spec, store)
    assert len(p.todo) == 4
    executor = make_executor(dask_local=2)
    try:
        assert isinstance(executor, DaskCluster)
        workers = executor.client.scheduler_info()["workers"]
        assert len(workers) == 2
        pids = executor.client.run(os.getpid)
        assert len(set(pids.values())) == 2
        assert os.getpid() not in pids.values()
        # Dask's malloc trim setting turns off glibc's adaptive mmap threshold (every large
        # array an mmap, units 2x slower): the workers get a fixed one; Dask's own settings stay
        # (a lambda, so that os.environ is read on the workers, not pickled from here)
        environ = executor.client.run(
            lambda: (os.environ.get("MALLOC_MMAP_THRESHOLD_"), os.environ.get("OMP_NUM_THREADS"))
        )
        assert set(environ.values()) == {(str(MMAP_THRESHOLD), "1")}
    except BaseException:
        executor.close()
        raise
    record = run_plan(p, store, executor)  # closes the executor
    assert record.status == "done"
    assert record.done_units == 4
    assert_same_rows(store.results("dask"), where_point_below(reference.table, 1))


@pytest.mark.parametrize("final_state", [False, True], ids=["outcomes", "final-state"])
def test_a_unit_sent_back_in_the_stored_columns_equals_the_full_rows(final_state: bool) -> None:
    """What a worker sends back (the stored columns only, built from the engine's arrays) is
    the engine's full rows cast to the experiment's layout, for every design point of a
    scenario with levers and lenses; and it is several times smaller than the full rows."""
    loaded = load_scenario("nato-russia")
    spec = ExperimentSpec(
        name="narrow",
        scenario=str(loaded.path),
        runs=300,
        seed=SEED,
        final_state=final_state,
        lenses=["baseline", "provocation_003"],
    )
    points = design(loaded.scenario, spec)
    jobs = {pt.index: Job.of(loaded.scenario, pt.config, pt.fixed) for pt in points}
    layout = Layout.of(list(jobs.values()), final_state)
    assert len({(pt.config.lens, *pt.config.levers.values()) for pt in points[::7]}) > 4
    for pt in points[::7]:  # lenses and lever options of each kind
        unit = Unit(index=pt.index, point=pt.index, start=100, stop=400)
        full = compute_unit(UnitTask(jobs[pt.index], unit, SEED))
        narrow = compute_unit(UnitTask(jobs[pt.index], unit, SEED, layout=layout))
        assert narrow.table.schema.equals(layout.stored_schema())
        assert narrow.table.equals(layout.unit_rows(full.table, pt.index))
        assert (narrow.occupancy == full.occupancy).all()
        # the final state is most of a row; without it the full rows are mostly what is
        # recomputed on reading (parameters, lever options, lens)
        assert narrow.table.nbytes * (1 if final_state else 4) < full.table.nbytes
