"""Ablation benchmark: every mechanism of a built-in scenario switched off in turn, 20,000 runs
each on the same seed and runs as the baseline (common random numbers), with the wall and CPU
time it takes.

    python benchmarks/ablation.py                       # nato-russia, fused engine, 20,000 runs
    python benchmarks/ablation.py --backend numpy       # the vectorised kernel instead
    python benchmarks/ablation.py --runs 2000 --no-lever-options

Every ablation that a switch parameter can express shares one program structure, so the fused
engine (``--backend numba``) compiles the scenario once (or loads it from its cache): the time
to the baseline's end, which includes that, is printed apart. Chunks of each configuration run
on ``--threads`` threads (default: one per usable core). With lever options on (the default),
each other option of each lever is simulated too, as ``redline ablate`` does.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

from redline.analysis.ablation import ablate
from redline.engine.simulate import BACKENDS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="nato-russia")
    parser.add_argument("--runs", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=BACKENDS, default="numba")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-lever-options", action="store_true")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    marks: list[tuple[int, float]] = []
    started = time.perf_counter()
    cpu_started = time.process_time()

    def progress(done: int, total: int, label: str) -> None:
        marks.append((done, time.perf_counter() - started))
        if not args.json:
            print(f"\r{done}/{total} {label:<40}", end="", flush=True)

    a = ablate(
        args.scenario,
        runs=args.runs,
        seed=args.seed,
        backend=args.backend,
        threads=args.threads,
        lever_options=not args.no_lever_options,
        progress=progress,
    )
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    configurations = len(marks)
    first = marks[0][1]
    rest = (wall - first) / max(configurations - 1, 1)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "scenario": a.scenario,
        "backend": args.backend,
        "runs": args.runs,
        "threads": args.threads or len(os.sched_getaffinity(0)),
        "cores": os.cpu_count(),
        "mechanisms": len(a.effects),
        "configurations": configurations,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "baseline_s": round(first, 2),
        "per_configuration_s": round(rest, 3),
        "run_steps_per_s": round(
            args.runs * (configurations - 1) * _horizon(a.scenario) / (wall - first)
        ),
        "run_steps_per_cpu_s": round(args.runs * configurations * _horizon(a.scenario) / cpu),
        "peak_rss_mb": round(peak_mb),
        "inert": [m.id for m in a.inert],
        "aliased": [list(p) for p in a.aliased],
        "identical_lever_options": [[lever, *g] for lever, g in a.identical_options],
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print("\r" + " " * 50 + "\r", end="")
    options = configurations - 1 - len(a.effects)
    print(
        f"ablation of {a.scenario}: {len(a.effects)} mechanisms + baseline"
        f"{f' + {options} lever options' if options else ''}"
        f" = {configurations} configurations × {args.runs:,} runs on {args.backend}, "
        f"{figures['threads']} threads ({figures['cores']} cores)"
    )
    print(
        f"  wall {wall:.1f} s, CPU {cpu:.1f} s (CPU/wall {cpu / wall:.2f}; "
        f"{figures['run_steps_per_cpu_s']:,} nominal run-steps per CPU second)"
    )
    print(
        f"  baseline (with compile or cache load) {first:.1f} s; then "
        f"{rest:.2f} s per configuration ({figures['run_steps_per_s']:,} run-steps/s)"
    )
    print(f"  peak memory {peak_mb:.0f} MB")
    print(f"  inert: {', '.join(figures['inert']) or 'none'}")
    print(f"  aliased: {'; '.join(' = '.join(p) for p in a.aliased) or 'none'}")
    print(
        "  identical lever options: "
        + ("; ".join(f"{lever}: {' = '.join(g)}" for lever, g in a.identical_options) or "none")
    )


def _horizon(name: str) -> int:
    from redline.scenario.loader import load_scenario

    return load_scenario(name).scenario.time.horizon


if __name__ == "__main__":
    main()
