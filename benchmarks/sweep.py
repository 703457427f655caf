"""Sweep benchmark: a sweep of the default scenario against the engine's own speed, and what a
stored run costs on disk (DESIGN §9, issue 14's targets).

    python benchmarks/sweep.py                         # 10^7 runs in all, every executor
    python benchmarks/sweep.py --runs 1000000          # a smaller sweep
    python benchmarks/sweep.py --executors one --backend numba

First the engine alone: every unit of the sweep (each configuration's runs cut into chunks of
``--chunk``) computed in this process on one thread per usable core, on the same backend, with
nothing stored. Then each sweep runs as its own `redline sweep` process into a fresh store
(with --yes, so that a large one does not stop to ask, and --no-report), and
its run-steps/s (wall clock of the whole command: start, planning, computing, storing) is given
as a share of the engine's (target: at least 70%), with the store's size per run (target: at
most 40 bytes).

The CPU seconds of the engine alone and of the sweep's whole process tree are given too, and
their ratio: on a machine busy with other work, wall-clock shares wander with the load, while
the CPU ratio says how much work the sweep adds to the engine's. Peak memory is the largest
resident set of any one process of the sweep (the sweep itself or one of its workers, Dask's
included), read from the kernel's accounting of finished children. Run-steps are nominal
(runs × horizon), as the targets are stated.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from redline.cli.run_cmds import DEFAULT_SCENARIO
from redline.engine import backends
from redline.engine.simulate import chunk_bounds
from redline.experiment.design import configurations
from redline.experiment.executors import usable_cores
from redline.experiment.job import Job
from redline.scenario.loader import load_scenario

TARGET_SHARE = 0.70
TARGET_BYTES = 40


def cpu_seconds(who: int) -> float:
    """User and system CPU seconds of this process (RUSAGE_SELF) or of its finished children
    (RUSAGE_CHILDREN)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def engine_seconds(
    scenario: str, per_point: int, chunk: int, backend: str, seed: int
) -> tuple[float, float]:
    """Wall and CPU seconds the engine alone takes for every unit of the sweep, on one thread
    per core."""
    s = load_scenario(scenario).scenario
    jobs = [Job.of(s, config) for config in configurations(s, None, None)]
    bounds = chunk_bounds(per_point, chunk)
    for job in jobs[:1]:  # the fused engine compiles (or loads its cache) before the clock
        backends.run_chunk(backend, job.program, seed, np.arange(min(chunk, 100)))

    def unit(task: tuple[Job, tuple[int, int]]) -> int:
        job, (start, stop) = task
        backends.run_chunk(backend, job.program, seed, np.arange(start, stop, dtype=np.int64))
        return stop - start

    tasks = [(job, b) for job in jobs for b in bounds]
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_SELF)
    with ThreadPoolExecutor(max_workers=usable_cores()) as pool:
        done = sum(pool.map(unit, tasks))
    elapsed = time.perf_counter() - started
    assert done == per_point * len(jobs)
    return elapsed, cpu_seconds(resource.RUSAGE_SELF) - cpu


def sweep(args: list[str]) -> tuple[float, float, float]:
    """Run one sweep in a child process; return its wall seconds, the CPU seconds of its whole
    process tree, and the peak RSS (GB) of the largest process of that tree."""
    redline = shutil.which("redline") or str(Path(sys.executable).parent / "redline")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started, cpu = time.perf_counter(), cpu_seconds(resource.RUSAGE_CHILDREN)
    subprocess.run([redline, "sweep", *args], check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    used = cpu_seconds(resource.RUSAGE_CHILDREN) - cpu
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, used, max(peak, before) / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO)
    parser.add_argument("--runs", type=int, default=10_000_000, help="runs in all")
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument("--backend", default="numpy", help="numpy (the default) or numba")
    parser.add_argument(
        "--executors",
        default="one,workers,dask",
        help="which to measure: one (this process, a thread per core), workers (--workers 2), "
        "dask (--dask-local 2)",
    )
    parser.add_argument(
        "--final-state", action="store_true", help="store each run's final state too"
    )
    args = parser.parse_args()
    s = load_scenario(args.scenario).scenario
    points = len(configurations(s, None, None))
    per_point = max(args.runs // points, 1)
    total = per_point * points
    steps = total * s.time.horizon
    print(
        f"scenario {s.id}: {points} configurations × {per_point:,} runs = {total:,} runs "
        f"({steps:,} nominal run-steps), backend {args.backend}, chunks of {args.chunk:,}"
    )
    alone, alone_cpu = engine_seconds(args.scenario, per_point, args.chunk, args.backend, 0)
    engine_rate = steps / alone
    print(
        f"{'engine alone, ' + str(usable_cores()) + ' threads':30s} {alone:8.1f} s  "
        f"{engine_rate:>12,.0f} run-steps/s  CPU {alone_cpu:7.1f} s"
    )
    executors: dict[str, tuple[str, list[str]]] = {
        "one": ("sweep, 1 process", []),
        "workers": ("sweep, --workers 2", ["--workers", "2"]),
        "dask": ("sweep, --dask-local 2", ["--dask-local", "2"]),
    }
    for key in args.executors.split(","):
        label, extra = executors[key]
        with tempfile.TemporaryDirectory() as tmp:
            store = Path(tmp) / "bench.duckdb"  # a fresh store for each sweep
            elapsed, cpu, peak = sweep(
                [
                    args.scenario,
                    "--name",
                    "bench",
                    "--runs",
                    str(per_point),
                    "--chunk-size",
                    str(args.chunk),
                    "--backend",
                    args.backend,
                    "--store",
                    str(store),
                    "--yes",  # a large sweep would otherwise ask first
                    "--no-report",  # the sweep itself, not its HTML report
                    *(["--final-state"] if args.final_state else []),
                    *extra,
                ]
            )
            size = store.stat().st_size
        rate = steps / elapsed
        share, per_run = rate / engine_rate, size / total
        print(
            f"{label:30s} {elapsed:8.1f} s  {rate:>12,.0f} run-steps/s  "
            f"{share:6.1%} of the engine (target ≥ {TARGET_SHARE:.0%}: "
            f"{'met' if share >= TARGET_SHARE else 'NOT met'}); CPU {cpu:7.1f} s = "
            f"{alone_cpu / cpu:6.1%} of the engine's share of work  "
            f"store {size / 1024**2:,.1f} MB = {per_run:,.1f} bytes/run (target ≤ "
            f"{TARGET_BYTES}: {'met' if per_run <= TARGET_BYTES else 'NOT met'})  "
            f"peak RSS {peak:5.2f} GB"
        )


if __name__ == "__main__":
    main()
