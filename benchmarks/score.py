"""Score benchmark: the record's log-likelihood under each lens by sequential Monte Carlo, with
observations at 30 dates and 100,000 particles per lens, with the wall and CPU time it takes.

    python benchmarks/score.py                          # nato-russia-history, 30 dates, 10^5
    python benchmarks/score.py --particles 10000 --replicates 2
    python benchmarks/score.py --json

The record is synthetic: one run of the scenario (the first of ``--truth-seed`` that lasts past
the 30 dates, under its first lens) is taken as what happened, and its battlefield balance at the
end of each of the first 30 months is observed within ±0.1 (with soft edges of 0.05). Every
lens is scored against it: one unconditioned pass and ``--replicates`` particle filters, each
resampled at all 30 dates. Blocks of particles run on ``--threads`` threads (default: one per
usable core).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from redline.analysis.score import score
from redline.compile import compile_scenario, resolve
from redline.engine import backends
from redline.engine.simulate import BACKENDS
from redline.scenario.calendar import date_of
from redline.scenario.loader import load_scenario
from redline.scenario.symbols import scope_symbols


def synthetic_record(scenario: str, dates: int, truth_seed: int, variable: str) -> Path:
    """A scenario file extending ``scenario`` with observations of ``variable`` at the end of
    each of its first ``dates`` steps, as one of its runs had it."""
    from redline.compile.observe import _number  # the same expression the observations compile to

    loaded = load_scenario(scenario)
    s = loaded.scenario
    lens = s.lenses[0].id if s.lenses else None
    program = compile_scenario(s, resolve(s, None, lens))
    expr = _number(s, variable, "benchmark")
    assert variable in scope_symbols(s)["post"].names
    pop = backends.start_particles("numpy", program, truth_seed, np.arange(200, dtype=np.int64))
    values = []
    for t in range(dates):
        pop.advance(t + 1)
        values.append(pop.evaluate(expr))
    first = pop.first_hits()
    absorbing = [k for k, o in enumerate(program.outcomes) if o.absorbing]
    lasting = np.flatnonzero((first[:, absorbing] < 0).all(axis=1))
    run = int(lasting[0])
    observations = []
    for t in range(dates):
        start = date_of(t + 1, s.time)
        assert start is not None
        end = start.fromordinal(start.toordinal() - 1)
        v = float(values[t][run])
        observations.append(
            {
                "id": f"{variable.replace('.', '_')}_{t}",
                "variable": variable,
                "at": end.isoformat(),
                "range": [round(v - 0.1, 4), round(v + 0.1, 4)],
                "tolerance": 0.05,
                "evidence": [
                    {
                        "source": f"synthetic: run {run} of seed {truth_seed}",
                        "quote": f"{variable} = {v:.4f}",
                    }
                ],
            }
        )
    data: dict[str, Any] = {
        "extends": scenario,
        "id": f"{s.id}-synthetic",
        "title": f"{s.title} — a synthetic record of {dates} dates",
        "observations": observations,
        "forecasts": [],
    }
    folder = Path(tempfile.mkdtemp(prefix="redline-score-bench-"))
    path = folder / "synthetic.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="nato-russia-history")
    parser.add_argument("--dates", type=int, default=30)
    parser.add_argument("--particles", type=int, default=100_000)
    parser.add_argument("--replicates", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--truth-seed", type=int, default=99)
    parser.add_argument("--variable", default="balance")
    parser.add_argument("--backend", choices=BACKENDS, default="numpy")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()

    path = synthetic_record(args.scenario, args.dates, args.truth_seed, args.variable)
    started = time.perf_counter()
    cpu_started = time.process_time()

    def progress(done: int, total: int, label: str) -> None:
        if not args.json:
            elapsed = time.perf_counter() - started
            print(f"\r{done}/{total} {label:<50} {elapsed:7.1f} s", end="", flush=True)

    sc = score(
        path,
        particles=args.particles,
        replicates=args.replicates,
        seed=args.seed,
        backend=args.backend,
        threads=args.threads,
        progress=progress,
    )
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    passes = len(sc.lenses) * (1 + args.replicates)
    horizon = load_scenario(path).scenario.time.horizon
    figures = {
        "scenario": args.scenario,
        "dates": args.dates,
        "particles": args.particles,
        "replicates": args.replicates,
        "lenses": len(sc.lenses),
        "passes": passes,
        "backend": args.backend,
        "threads": args.threads or len(os.sched_getaffinity(0)),
        "cores": os.cpu_count(),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
        "wall_per_lens_s": round(wall / len(sc.lenses), 1),
        "particle_steps_per_s": round(args.particles * passes * horizon / wall),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "loglik": {
            x.label: {"mean": round(x.loglik, 3), "lo": round(x.lo, 3), "hi": round(x.hi, 3)}
            for x in sc.lenses
        },
        "min_ess": {x.label: round(x.min_ess, 4) for x in sc.lenses},
    }
    if args.json:
        print(json.dumps(figures, indent=2))
        return
    print("\r" + " " * 75 + "\r", end="")
    print(
        f"score of {args.scenario} against a synthetic record of {args.dates} dates: "
        f"{len(sc.lenses)} lenses × (1 unconditioned pass + {args.replicates} filters) × "
        f"{args.particles:,} particles on {args.backend}, {figures['threads']} threads "
        f"({figures['cores']} cores)"
    )
    print(
        f"wall {figures['wall_s']} s ({figures['wall_per_lens_s']} s per lens), CPU "
        f"{figures['cpu_s']} s, {figures['particle_steps_per_s']:,} particle-steps/s, peak "
        f"{figures['peak_rss_mb']} MB"
    )
    for x in sc.lenses:
        print(
            f"  {x.label:<20} log-likelihood {x.loglik:9.2f} ({x.lo:.2f} to {x.hi:.2f}), "
            f"min ESS {x.min_ess:.3f}"
        )


if __name__ == "__main__":
    main()
