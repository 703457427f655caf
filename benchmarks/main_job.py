"""Main-job benchmark: ``redline run`` as the README's first command runs it (``nato-russia``,
every lever option under every lens, 20,000 runs each, two worker processes, its report),
timed end to end against the 10 s target, and where its time goes.

    python benchmarks/main_job.py                      # the default backend (auto), once
    python benchmarks/main_job.py --backend numpy --backend auto --repeat 3
    python benchmarks/main_job.py --phases             # and a profile of one in-process run
    python benchmarks/main_job.py --backend numpy --backend auto --cold   # auto cold and warm
    python benchmarks/main_job.py --scenario convoy-strike --runs 400000 --backend auto --cold

Each run starts a fresh ``redline`` process in an empty folder (a fresh store), as a user
would, and is timed in wall-clock seconds and in CPU seconds of it and its worker processes
(user + system: on a machine shared with other work the steadier figure); the load average is
printed with them. The units' own seconds, as the store records them, say how much of it was
simulation. ``--phases`` also runs the job once in this process (``--workers 1 --threads 1``)
under cProfile and prints the cumulative seconds of its phases: starting (imports), laying out
the experiment, simulating, storing, summarising and the report (profiling slows Python code,
the simulation on the NumPy kernel most).

The fused engine's compiled module is taken from the cache as a user's second run finds it
(the cache is warmed first, by a short ``--backend numba`` run, whose time is printed). With
``--cold``, ``auto`` and ``numba`` are also timed with an empty cache folder for each job (a
first run on a new machine), cold and warm in the same run; each job's note on the fused
engine (``auto``: compiled in the background, how many units ran on it) is printed with it.
redline's modules are read from bytecode, as an installed package has it (the benchmark compiles
what is missing first, as ``pip install`` does).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

TARGET_SECONDS = 10.0

_START = "import sys; from redline.cli import app; sys.exit(app(prog_name='redline'))"

#: the phases of ``redline run`` and the functions whose cumulative time each one is
PHASES = {
    "lay out the experiment (load, compile, design)": "redline/experiment/sweep.py:prepare",
    "simulate (units)": "redline/experiment/executors.py:compute_unit",
    "  on the NumPy kernel": "redline/engine/kernel.py:run_chunk",
    "  on the fused engine": "redline/engine/fused/__init__.py:run_chunk",
    "  shape rows for the store": "redline/experiment/layout.py:chunk_rows",
    "store (units' rows)": "redline/experiment/store.py:commit_unit",
    "store (connections)": "redline/experiment/store.py:connect",
    "summarise (outcome query)": "redline/experiment/runner.py:stored_summaries",
    "report (gather)": "redline/report/build.py:report_data",
    "report (write)": "redline/report/html.py:write_report",
}


def one_job(
    backend: str, args: list[str], env: dict[str, str], cold: bool = False
) -> tuple[dict[str, float], list[str]]:
    """Wall and CPU seconds of one ``redline run`` in a fresh folder (``cold``: with an empty
    cache of compiled modules), its units' seconds, and what it noted about the fused engine."""
    with tempfile.TemporaryDirectory(prefix="redline-main-job-") as where:
        if cold:
            env = env | {"REDLINE_CACHE_DIR": str(Path(where) / "cold-cache")}
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-c", _START, "run", "--backend", backend, *args],
            cwd=where,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        wall = time.perf_counter() - t0
        notes = [line for line in done.stderr.splitlines() if "fused engine" in line]
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        con = duckdb.connect(str(Path(where) / "redline.duckdb"), read_only=True)
        units = [float(s) for (s,) in con.execute("SELECT seconds FROM units").fetchall()]
        con.close()
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "units": sum(units), "n": len(units)}, notes


def phases(backend: str, args: list[str]) -> None:
    """Profile one in-process run and print the cumulative seconds of each phase."""
    from redline.cli import app

    profile = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="redline-main-job-") as where:
        here = os.getcwd()
        os.chdir(where)
        c0, t0 = time.process_time(), time.perf_counter()
        try:
            profile.enable()
            app(["run", "--backend", backend, "--workers", "1", "--threads", "1", *args])
        except SystemExit:
            pass
        finally:
            profile.disable()
            os.chdir(here)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    totals: dict[str, float] = {}
    for (filename, _, function), (_, _, _, cumulative, _) in stats.items():
        for label, where_ in PHASES.items():
            path, _, name = where_.partition(":")
            if filename.endswith(path) and function == name:
                totals[label] = totals.get(label, 0.0) + cumulative
    print(
        f"\nin-process, profiled ({backend}, --workers 1 --threads 1): {wall:.1f} s wall, "
        f"{cpu:.1f} s CPU"
    )
    for label in PHASES:
        print(f"  {label:48s} {totals.get(label, 0.0):7.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", help="backends to time (default: auto)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--runs", type=int, default=20_000, help="runs per configuration")
    parser.add_argument("--scenario", help="another scenario than the main job's (nato-russia)")
    parser.add_argument("--phases", action="store_true", help="profile one in-process run")
    parser.add_argument("--cold", action="store_true", help="an empty cache of compiled modules")
    opts = parser.parse_args()
    env = dict(os.environ)
    if env.get("PYTHONPATH"):  # the jobs run in other folders: a relative path would not hold
        env["PYTHONPATH"] = os.pathsep.join(
            str(Path(p).resolve()) for p in env["PYTHONPATH"].split(os.pathsep)
        )
    args = [*([opts.scenario] if opts.scenario else []), "--runs", str(opts.runs)]
    import compileall

    import redline

    compileall.compile_dir(Path(redline.__file__).parent, quiet=1)
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    backends = opts.backend or ["auto"]
    if any(b in ("auto", "numba") for b in backends):
        t0 = time.perf_counter()
        warm_up = [sys.executable, "-c", _START, "run", *args[:-2], "--backend", "numba"]
        with tempfile.TemporaryDirectory(prefix="redline-main-job-") as where:
            subprocess.run(
                [*warm_up, "--runs", "10", "--workers", "1", "--threads", "1"],
                cwd=where,
                check=True,
                stdout=subprocess.DEVNULL,
                env=env,
            )
        print(f"the cache warmed (compiled where it was cold): {time.perf_counter() - t0:.1f} s")
    variants = [
        (b, cold)
        for b in backends
        for cold in ((True, False) if opts.cold and b in ("auto", "numba") else (False,))
    ]
    for backend, cold in variants:
        label = backend + (" (cold cache)" if cold else "")
        done = [one_job(backend, args, env, cold) for _ in range(opts.repeat)]
        jobs = [figures for figures, _ in done]
        wall = statistics.median(j["wall"] for j in jobs)
        cpu = statistics.median(j["cpu"] for j in jobs)
        units = statistics.median(j["units"] for j in jobs)
        verdict = "meets" if wall < TARGET_SECONDS else "misses"
        print(
            f"redline run --backend {label:18s} (median of {opts.repeat}): {wall:6.1f} s wall, "
            f"{cpu:6.1f} s CPU, units {units:6.1f} s of worker time in {int(jobs[0]['n'])} units"
            f" — {verdict} the {TARGET_SECONDS:.0f} s target"
        )
        for note in sorted({line for _, notes in done for line in notes}):
            print(f"    {note}")
    print(f"load average (1, 5, 15 min): {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if opts.phases:
        phases(backends[-1], args)


if __name__ == "__main__":
    main()
