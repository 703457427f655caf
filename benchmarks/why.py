"""Paths benchmark: ``why`` on a built-in scenario at a million runs, with the wall and CPU time
it takes and the peak memory of the process.

    python benchmarks/why.py                          # nato-russia, war, 10^6 runs, fused engine
    python benchmarks/why.py --outcome russian_nuclear_use --runs 100000
    python benchmarks/why.py --backend numpy --runs 100000

The fused engine (``--backend numba``) compiles the scenario the first time (or loads it from
its cache): the time to the first chunk's end, which includes that, is printed apart. Chunks run
on ``--threads`` threads (default: one per usable core). Memory stays bounded: each chunk's
event record is folded into counters whose size depends on the scenario alone (and a capped
sample of the runs that reach the outcome, for their paths), so the peak is the same at 10^5
runs as at 10^6 — compare with ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from redline.analysis.why import why
from redline.engine.simulate import BACKENDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="nato-russia")
    parser.add_argument("--outcome", default="nato_russia_war")
    parser.add_argument("--runs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=BACKENDS, default="numba")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    marks: list[float] = []
    started = time.perf_counter()
    cpu_started = time.process_time()

    def progress(done: int, total: int) -> None:
        marks.append(time.perf_counter() - started)
        if not args.json:
            print(f"\r{done:,}/{total:,} runs", end="", flush=True)

    p = why(
        args.scenario,
        args.outcome,
        runs=args.runs,
        seed=args.seed,
        backend=args.backend,
        threads=args.threads,
        progress=progress,
    )
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    threads = args.threads or len(os.sched_getaffinity(0))
    figures = {
        "scenario": args.scenario,
        "outcome": args.outcome,
        "runs": args.runs,
        "backend": args.backend,
        "threads": threads,
        "hits": p.hits,
        "p": p.p,
        "paths_counted_on": p.sampled,
        "distinct_paths": p.distinct,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "first_chunk_s": round(marks[0], 2) if marks else None,
        "runs_per_s": round(args.runs / wall),
        "peak_memory_mb": round(peak_mb),
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print()
    print(
        f"why {args.outcome} on {args.scenario}: {args.runs:,} runs on {args.backend} "
        f"({threads} threads): {wall:.1f} s wall, {cpu:.1f} s CPU "
        f"(first chunk, with the compile or cache load: {figures['first_chunk_s']} s), "
        f"{figures['runs_per_s']:,} runs/s, peak memory {figures['peak_memory_mb']} MB"
    )
    print(
        f"reached in {p.hits:,} runs ({p.p:.2%}); {p.distinct:,} distinct paths among "
        f"{p.sampled:,} counted; top: {p.routes[0].text if p.routes else '—'}"
    )


if __name__ == "__main__":
    main()
