"""Sweep benchmark: throughput and peak memory of a sweep of the default scenario, stored in a
fresh DuckDB file, with local processes and with a Dask LocalCluster (DESIGN §9).

    python benchmarks/sweep.py                   # 10^7 runs in all, local and --dask-local 2
    python benchmarks/sweep.py --runs 1000000    # a smaller sweep

Each sweep runs as its own `redline sweep` process; peak memory is the largest resident set of
any one process of the sweep (the sweep itself or one of its workers, Dask's included), read from
the kernel's accounting of finished children.
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from redline.cli.run_cmds import DEFAULT_SCENARIO
from redline.experiment.design import configurations
from redline.scenario.loader import load_scenario


def sweep(args: list[str]) -> tuple[float, float]:
    """Run one sweep in a child process; return wall seconds and the peak RSS (GB) of the
    largest process of its tree."""
    redline = shutil.which("redline") or str(Path(sys.executable).parent / "redline")
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.perf_counter()
    subprocess.run([redline, "sweep", *args], check=True, stdout=subprocess.DEVNULL)
    elapsed = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(peak, before) / 1024**2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO)
    parser.add_argument("--runs", type=int, default=10_000_000, help="runs in all")
    parser.add_argument("--chunk", type=int, default=100_000)
    parser.add_argument(
        "--executors",
        default="one,workers,dask",
        help="which to measure: one (a single process), workers (--workers 2), dask "
        "(--dask-local 2)",
    )
    args = parser.parse_args()
    s = load_scenario(args.scenario).scenario
    points = len(configurations(s, None, None))
    per_point = max(args.runs // points, 1)
    total = per_point * points
    horizon = s.time.horizon
    print(
        f"scenario {s.id}: {points} configurations × {per_point:,} runs = {total:,} runs "
        f"({total * horizon:,} nominal run-steps)"
    )
    executors: dict[str, tuple[str, list[str]]] = {
        "one": ("local, 1 process", []),
        "workers": ("local, --workers 2", ["--workers", "2"]),
        "dask": ("Dask, --dask-local 2", ["--dask-local", "2"]),
    }
    for key in args.executors.split(","):
        label, extra = executors[key]
        with tempfile.TemporaryDirectory() as tmp:
            store = Path(tmp) / "bench.duckdb"
            elapsed, peak = sweep(
                [
                    args.scenario,
                    "--name",
                    "bench",
                    "--runs",
                    str(per_point),
                    "--chunk-size",
                    str(args.chunk),
                    "--store",
                    str(store),
                    *extra,
                ]
            )
            size = store.stat().st_size / 1024**2
        print(
            f"{label:22s} {elapsed:8.1f} s  {total / elapsed:>12,.0f} runs/s  "
            f"{total * horizon / elapsed:>12,.0f} run-steps/s  peak RSS {peak:5.2f} GB  "
            f"store {size:,.0f} MB"
        )


if __name__ == "__main__":
    main()
