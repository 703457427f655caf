"""The ``auto`` backend (:mod:`redline.engine.warmup`): where the fused engine pays, a module on
disk is used from the first unit, and one that is not is compiled in a process of its own while
the NumPy kernel computes, each unit after that going to the fused engine. The stored rows are
those of the kernel alone, whichever units ran where; a failed compile leaves every unit on
the kernel; the compiling process ends with the sweep.

The sweeps are of a tiny scenario (one actor, one variable: a compile of a few seconds) with
a cache folder of their own, cold at first; ``pays=True`` stands in for a sweep large enough.
The switch is made to land after the first unit: the test waits there for the compile."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from redline.engine.fused.background import measured_seconds_per_char
from redline.engine.simulate import SweepBackend
from redline.engine.warmup import Costs, FusedWarmup, plan
from redline.experiment.executors import InProcess, UnitResult, UnitTask
from redline.experiment.runner import run_spec
from redline.experiment.store import Store
from redline.experiment.sweep import Plan, run_plan
from redline.experiment.sweep import plan as plan_sweep
from redline.scenario.loader import load_scenario

TINY = """\
id: tiny
title: Tiny
time: {step: month, start: 2024-01-01, horizon: 12}
actors:
  - id: RED
    decision: {kind: logit, lambda: 2, weights: {tension: -1.0}}
variables:
  - {id: tension, initial: 0.2, min: 0, max: 1, assumption: calm at the start}
actions:
  - {id: strike, actors: [RED], effects: {tension: 0.1}, tags: ["attack:RED->BLUE"], level: 6}
dynamics:
  - {id: calm, variable: tension, value: "tension * 0.95 + normal(0, 0.01)"}
outcomes:
  - {id: war, when: "tension > 0.8", absorbing: true}
"""
#: one configuration in four units
RUNS, CHUNK = 400, 100
#: how long a test waits for the background compile (a few seconds on an idle machine)
COMPILE_WAIT_SECONDS = 300.0


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


@dataclass
class Swept:
    rows: pa.Table
    backends: list[str]
    warmup: FusedWarmup | None
    notes: list[str]


def _sweep(
    scenario: Path, store: Path, backend: SweepBackend, wait: bool = False, **warmup: object
) -> Swept:
    spec = run_spec(load_scenario(str(scenario)), RUNS, 3, None, None, CHUNK)
    p: Plan = plan_sweep(spec, Store(store))
    executor = Recording()
    made = None
    if backend == "auto":
        work = [(p.jobs[u.point].program, (u.stop - u.start) * 12) for u in p.todo]
        made = FusedWarmup(work, **warmup)  # type: ignore[arg-type]
    notes: list[str] = []

    def progress(runs: int) -> None:
        if wait and made is not None and len(executor.backends) == 1:
            made.wait(COMPILE_WAIT_SECONDS)  # the compile lands after the first unit

    run_plan(p, Store(store), executor, backend, progress, warmup=made, notes=notes.append)
    rows = Store(store).results(spec.name).sort_by("run")
    return Swept(rows, executor.backends, made, notes)


def test_auto_sweeps_use_the_fused_engine_where_ready_and_store_the_kernels_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One test (one cold compile, wherever xdist sends it): a cold cache compiled in the
    background, a warm one, a failing compiler and a sweep too small to pay, each against the
    kernel's rows."""
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    monkeypatch.setenv("REDLINE_CACHE_DIR", str(tmp_path / "failing-cache"))
    failing = [sys.executable, "-c", "import sys; sys.exit(3)"]
    failed = _sweep(scenario, tmp_path / "f.duckdb", "auto", True, pays=True, command=failing)
    monkeypatch.setenv("REDLINE_CACHE_DIR", str(tmp_path / "cache"))
    numpy = _sweep(scenario, tmp_path / "n.duckdb", "numpy")
    cold = _sweep(scenario, tmp_path / "c.duckdb", "auto", True, pays=True)
    warm = _sweep(scenario, tmp_path / "w.duckdb", "auto", pays=True)
    small = _sweep(scenario, tmp_path / "s.duckdb", "auto")

    # a cold cache: compiled in the background; the units after it is ready run on it
    assert cold.backends == ["numpy", "numba", "numba", "numba"]
    assert cold.notes == [
        "the fused engine was compiled in the background; 3 of 4 units ran on it, the others "
        "on the NumPy kernel"
    ]
    # and what the compile cost is kept for the next estimate
    rate = measured_seconds_per_char()
    assert rate is not None and rate > 0
    # a module on disk: used from the first unit, nothing compiled, nothing to note
    assert warm.backends == ["numba"] * 4
    assert warm.warmup is not None and warm.warmup.compiler is None
    assert warm.notes == []
    # a compiler that fails: every unit on the kernel, and a note says why
    assert failed.backends == ["numpy"] * 4
    assert failed.notes == [
        "the fused engine could not be compiled (the compiling process ended (exit status 3) "
        "before it was compiled); every unit ran on the NumPy kernel"
    ]
    # 400 runs of 12 steps: not worth even loading the module on disk
    assert small.backends == ["numpy"] * 4
    assert small.warmup is not None and small.warmup.compiler is None
    assert set(small.warmup.decide().values()) == {"numpy"}
    # the compiling processes ended with their sweeps (the one that compiled by itself, not
    # aborted at its exit), and were reaped (no zombie)
    for swept, status in ((cold, 0), (failed, 3)):
        assert swept.warmup is not None and swept.warmup.compiler is not None
        process = swept.warmup.compiler.process
        assert process is not None and process.returncode == status
        with pytest.raises(ProcessLookupError):
            os.kill(process.pid, 0)
    # whichever units ran where, the rows are the kernel's alone
    assert numpy.rows.num_rows == RUNS
    for swept in (cold, warm, failed, small):
        assert swept.rows.equals(numpy.rows)

    # worker processes load a module on disk themselves: this process neither compiles nor
    # loads it
    from redline.engine.fused import cache

    def refused(program: object) -> None:
        raise AssertionError("the sweep's own process loaded the module")

    monkeypatch.setattr(cache, "_by_structure", {})
    monkeypatch.setattr(cache, "compiled", refused)
    assert cold.warmup is not None
    programs = list(cold.warmup.compiler.programs.values()) if cold.warmup.compiler else []
    workers = FusedWarmup([(p, 10**9) for p in programs], processes=2, here=False)
    workers.start()
    assert workers.compiler is None
    assert {workers.backend_for(p) for p in programs} == {"numba"}


#: the figures of the main job (nato-russia: 18 configurations of 20,000 runs of 36 steps,
#: two worker processes) and its module's size
NATO = Costs(40_489)
MAIN_JOB = 18 * 20_000 * 36


def test_the_main_job_loads_a_module_on_disk_and_compiles_a_missing_one() -> None:
    """The main job's units would mostly be done on the kernel before a cold compile ends,
    but the module it leaves on disk makes the user's next main job fast."""
    assert plan(NATO, MAIN_JOB, 2, on_disk=True) == "load"
    assert plan(NATO, MAIN_JOB, 2, on_disk=False) == "compile"
    once = Costs(NATO.chars, later_sweeps=0.0)  # counting this sweep alone, it does not pay
    assert plan(once, MAIN_JOB, 2, on_disk=False) == "numpy"
    assert plan(once, 10 * MAIN_JOB, 2, on_disk=False) == "compile"


def test_a_spare_core_makes_a_compile_pay_sooner() -> None:
    """Half a main job: the compile's CPU time is more than the fused engine would save on it
    and the next one, but on a core the workers leave idle it costs only the loading."""
    assert plan(NATO, MAIN_JOB // 2, 2, on_disk=False) == "numpy"
    assert plan(NATO, MAIN_JOB // 2, 2, on_disk=False, spare_core=True) == "compile"


def test_a_small_sweep_does_not_even_look_at_the_disk() -> None:
    """A story's or a 100-run run's sweep: the disk cache is not even looked at."""
    assert plan(NATO, 18 * 100 * 36, 2, on_disk=None) == "numpy"


@given(
    chars=st.integers(1_000, 200_000),
    run_steps=st.integers(0, 10**10),
    more=st.integers(0, 10**10),
    processes=st.integers(1, 64),
    spare_core=st.booleans(),
)
def test_what_pays_for_a_sweep_pays_for_a_larger_one_and_with_a_spare_core(
    chars: int, run_steps: int, more: int, processes: int, spare_core: bool
) -> None:
    costs = Costs(chars)
    order = ["numpy", "compile"]
    before = plan(costs, run_steps, processes, True, spare_core)
    assert before == "numpy" or plan(costs, run_steps + more, processes, True) == "load"
    before = plan(costs, run_steps, processes, False, spare_core)
    after = plan(costs, run_steps + more, processes, False, spare_core)
    assert order.index(after) >= order.index(before)
    if plan(costs, run_steps, processes, False) == "compile":
        assert plan(costs, run_steps, processes, False, spare_core=True) == "compile"


def test_an_interrupted_sweep_stops_the_compiling_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C after the first unit: the compile (here one that would take a minute) is ended
    and reaped before the interruption reaches the caller."""
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    monkeypatch.setenv("REDLINE_CACHE_DIR", str(tmp_path / "cache"))
    spec = run_spec(load_scenario(str(scenario)), RUNS, 3, None, None, CHUNK)
    store = Store(tmp_path / "i.duckdb")
    p = plan_sweep(spec, store)
    slow = [sys.executable, "-c", "import time; time.sleep(60)"]
    work = [(p.jobs[u.point].program, (u.stop - u.start) * 12) for u in p.todo]
    warmup = FusedWarmup(work, pays=True, command=slow)

    def interrupt(runs: int) -> None:
        assert warmup.compiler is not None and warmup.compiler.running()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_plan(p, store, Recording(), "auto", interrupt, warmup=warmup)
    assert warmup.compiler is not None and warmup.compiler.process is not None
    assert warmup.compiler.process.returncode is not None
    assert not warmup.compiler.running()
