"""The ``auto`` backend (:mod:`redline.engine.warmup`): units start on the NumPy kernel and go to
the fused engine once its module is ready; the stored rows are those of a sweep on either
backend alone, whichever units ran where. The switch is forced mid-sweep here: the fused module
is made ready, in the test's own thread, right after the first unit is stored."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from redline.engine.warmup import FusedWarmup
from redline.experiment.executors import InProcess, UnitResult, UnitTask
from redline.experiment.runner import run_spec
from redline.experiment.store import Store
from redline.experiment.sweep import plan, run_plan
from redline.scenario.loader import load_scenario

# the fused engine's compiled modules are shared with the engine tests (tests/engine)
os.environ.setdefault(
    "REDLINE_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"redline-test-cache-{os.getuid()}")
)

#: one design point of convoy-strike in four units
LEVERS = {"nato_response": "collective"}
RUNS, CHUNK = 400, 100


class Recording:
    """An in-process executor that notes the backend of each unit it is handed."""

    def __init__(self) -> None:
        self.inner = InProcess(1)
        self.description = self.inner.description
        self.shares_cache = True
        self.backends: list[str] = []

    def run(self, tasks: Iterable[UnitTask]) -> Iterator[UnitResult]:
        def noted() -> Iterator[UnitTask]:
            for task in tasks:
                self.backends.append(task.backend)
                yield task

        return self.inner.run(noted())

    def close(self) -> None:
        self.inner.close()


class HeldBack(FusedWarmup):
    """A warm-up without its thread: the test says when the fused module is ready."""

    def start(self) -> None:
        pass


def _sweep(where: Path, backend: str) -> tuple[pa.Table, list[str]]:
    loaded = load_scenario("convoy-strike")
    spec = run_spec(loaded, RUNS, 3, LEVERS, "baseline", CHUNK)
    store = Store(where / f"{backend}.duckdb")
    p = plan(spec, store)
    executor = Recording()
    warmup = None
    done: list[int] = []
    if backend == "auto":
        # a compile that pays (as many run-steps as a large sweep), made ready after unit 1
        warmup = HeldBack([p.jobs[u.point].program for u in p.todo], run_steps=10**9)

    def progress(runs: int) -> None:
        done.append(runs)
        if warmup is not None and len(done) == 1:
            warmup.prepare()

    run_plan(p, store, executor, backend, progress, warmup=warmup)
    rows = store.results(spec.name).sort_by("run")
    return rows, executor.backends


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[pa.Table, list[str]]]:
    where = tmp_path_factory.mktemp("auto")
    return {b: _sweep(where, b) for b in ("numpy", "numba", "auto")}


def test_auto_switches_to_the_fused_engine_once_it_is_ready(
    sweeps: dict[str, tuple[pa.Table, list[str]]],
) -> None:
    """The first unit ran on the kernel; every unit handed out after the module was ready ran
    on the fused engine."""
    _, backends = sweeps["auto"]
    assert backends == ["numpy", "numba", "numba", "numba"]


@pytest.mark.parametrize("alone", ["numpy", "numba"])
def test_auto_stores_the_rows_of_either_backend_alone(
    sweeps: dict[str, tuple[pa.Table, list[str]]], alone: str
) -> None:
    auto_rows, _ = sweeps["auto"]
    rows, backends = sweeps[alone]
    assert set(backends) == {alone}
    assert auto_rows.num_rows == RUNS
    assert auto_rows.equals(rows)


def test_a_small_sweep_compiles_nothing_that_is_not_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Below the run-steps where a cold compile pays, and with no compiled module on disk nor in
    this process, the warm-up leaves every unit on the kernel and compiles nothing."""
    from redline.engine.fused import cache

    loaded = load_scenario("convoy-strike")
    spec = run_spec(loaded, RUNS, 3, LEVERS, "baseline", CHUNK)
    p = plan(spec, Store(tmp_path / "s.duckdb"))
    monkeypatch.setenv("REDLINE_CACHE_DIR", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(cache, "_by_structure", {})
    warmup = FusedWarmup([job.program for job in p.jobs.values()], run_steps=RUNS * 10)
    warmup.prepare()
    assert {warmup.backend_for(job.program) for job in p.jobs.values()} == {"numpy"}
    assert not (tmp_path / "empty-cache").exists()


def test_worker_processes_load_a_module_on_disk_themselves(
    sweeps: dict[str, tuple[pa.Table, list[str]]],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """For worker processes, a fused module on disk (the sweeps above left convoy-strike's) is
    ready at once: this process neither compiles nor loads it."""
    from redline.engine.fused import cache

    def refused(program: object) -> None:
        raise AssertionError("the sweep's own process loaded the module")

    monkeypatch.setattr(cache, "_by_structure", {})
    monkeypatch.setattr(cache, "compiled", refused)
    program = load_scenario("convoy-strike")
    spec = run_spec(program, RUNS, 3, LEVERS, "baseline", CHUNK)
    jobs = plan(spec, Store(tmp_path / "s.duckdb")).jobs
    warmup = FusedWarmup([job.program for job in jobs.values()], run_steps=RUNS, here=False)
    warmup.prepare()
    assert {warmup.backend_for(job.program) for job in jobs.values()} == {"numba"}
