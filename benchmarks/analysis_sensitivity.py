"""Sensitivity and scenario-discovery benchmark: wall and CPU time of

1. Sobol indices with 5 uncertainties at the smallest base sample (doubling from ``--n``)
   whose every 95% interval is below 0.05 — on a scenario whose outcome probability is the
   Ishigami function mapped into [0, 1] plus two dummy uncertainties, so the indices found are
   also compared with the known ones;
2. PRIM (and CART) on 10^6 runs of a scenario with a box planted in 5 uncertainties: the
   simulation, PRIM and CART timed apart;
3. ``--nato-russia``: what each analysis says about the built-in scenario (Sobol indices of
   every outcome, Morris screening, and where Russian nuclear use concentrates).

    python benchmarks/analysis_sensitivity.py                   # 1 and 2
    python benchmarks/analysis_sensitivity.py --nato-russia     # and 3
    python benchmarks/analysis_sensitivity.py --prim-runs 100000 --n 256   # smaller
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from redline.analysis.discovery import cart_leaves, discover, draws, prim_box
from redline.analysis.sensitivity import morris, sobol
from redline.engine.simulate import BACKENDS
from redline.scenario.loader import load_scenario

ISHIGAMI5 = """
id: ishigami5
title: Ishigami with two dummies
time: {step: month, horizon: 1}
actors: [{id: A, decision: {kind: doctrine}}]
variables: [{id: fired, initial: 0}]
rules:
  - id: fire
    when: "step == 0"
    probability: "(s1 + 7 * s2 ** 2 + 0.1 * x3 ** 4 * s1 + 10.75) / 28.5"
    effects: {fired: 1}
outcomes: [{id: hit, when: "fired > 0"}]
uncertainties:
  - {id: s1, distribution: {kind: beta, alpha: 0.5, beta: 0.5, low: -1, high: 1}}
  - {id: s2, distribution: {kind: beta, alpha: 0.5, beta: 0.5, low: -1, high: 1}}
  - {id: x3, distribution: {kind: uniform, low: -3.141592653589793, high: 3.141592653589793}}
  - {id: x4, distribution: {kind: uniform, low: 0, high: 1}}
  - {id: x5, distribution: {kind: normal, mean: 0, sd: 1}}
"""
KNOWN_S1 = {"s1": 0.3139, "s2": 0.4424, "x3": 0.0, "x4": 0.0, "x5": 0.0}
KNOWN_ST = {"s1": 0.5576, "s2": 0.4424, "x3": 0.2437, "x4": 0.0, "x5": 0.0}

PLANTED5 = """
id: planted5
title: A box planted in five uncertainties
time: {step: month, horizon: 1}
actors: [{id: A, decision: {kind: doctrine}}]
variables: [{id: fired, initial: 0}]
rules:
  - id: fire
    when: "step == 0 and a > 0.2 and a < 0.6 and b > 0.7 and c < 0.8"
    effects: {fired: 1}
outcomes: [{id: inside, when: "fired > 0"}]
uncertainties:
  - {id: a, distribution: {kind: uniform, low: 0, high: 1}}
  - {id: b, distribution: {kind: uniform, low: 0, high: 1}}
  - {id: c, distribution: {kind: uniform, low: 0, high: 1}}
  - {id: d, distribution: {kind: uniform, low: 0, high: 1}}
  - {id: e, distribution: {kind: triangular, low: 0, mode: 0.3, high: 1}}
"""
PLANTED_BOX = {"a": (0.2, 0.6), "b": (0.7, 1.0), "c": (0.0, 0.8)}


def timed(func: Any) -> tuple[Any, float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    value = func()
    return value, time.perf_counter() - wall, time.process_time() - cpu


def sobol_benchmark(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    path = folder / "ishigami5.yaml"
    path.write_text(ISHIGAMI5, encoding="utf-8")
    s = load_scenario(path).scenario
    n, tried = args.n, []
    while True:
        r, wall, cpu = timed(
            lambda n=n: sobol(
                s,
                n=n,
                runs_per_point=args.runs_per_point,
                seed=args.seed,
                backend=args.backend,
                threads=args.threads,
            )
        )
        rows = r.indices.to_pylist()
        widest = max(max(x["S1_conf"], x["ST_conf"]) for x in rows)
        error = max(
            max(abs(x["S1"] - KNOWN_S1[x["factor"]]), abs(x["ST"] - KNOWN_ST[x["factor"]]))
            for x in rows
        )
        step = {
            "n": n,
            "points": r.points,
            "runs": r.points * r.runs_per_point,
            "wall_s": round(wall, 2),
            "cpu_s": round(cpu, 2),
            "widest_interval": round(widest, 4),
            "largest_error": round(error, 4),
            "noise_share": round(r.noise.to_pylist()[0]["noise_share"], 4),
        }
        tried.append(step)
        print("sobol", json.dumps(step), flush=True)
        if widest < 0.05 or n >= args.max_n:
            break
        n *= 2
    return {"steps": tried, "indices": rows}


def import_prim() -> None:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import ema_workbench.analysis.prim  # noqa: F401


def prim_benchmark(folder: Path, args: argparse.Namespace) -> dict[str, Any]:
    path = folder / "planted5.yaml"
    path.write_text(PLANTED5, encoding="utf-8")
    s = load_scenario(path).scenario
    (fs, x, y), sim_wall, sim_cpu = timed(
        lambda: draws(
            s,
            "inside",
            args.prim_runs,
            seed=args.seed,
            backend=args.backend,
            threads=args.threads,
        )
    )
    names = [f.name for f in fs]
    _, import_wall, import_cpu = timed(import_prim)  # once per process: not PRIM's own time
    (box, trajectory, chosen), prim_wall, prim_cpu = timed(
        lambda: prim_box(names, x, y, None, 0.05, 0.05)
    )
    (leaves, _), cart_wall, cart_cpu = timed(lambda: cart_leaves(names, x, y, 0.05, 3, args.seed))
    limits = {r["factor"]: (r["lower"], r["upper"]) for r in box.to_pylist()}
    error = max(
        max(abs(limits[k][0] - lo), abs(limits[k][1] - hi)) for k, (lo, hi) in PLANTED_BOX.items()
    )
    out = {
        "runs": args.prim_runs,
        "hits": int(np.sum(y)),
        "simulate": {"wall_s": round(sim_wall, 2), "cpu_s": round(sim_cpu, 2)},
        "import_ema_workbench": {"wall_s": round(import_wall, 2), "cpu_s": round(import_cpu, 2)},
        "prim": {"wall_s": round(prim_wall, 2), "cpu_s": round(prim_cpu, 2)},
        "cart": {"wall_s": round(cart_wall, 2), "cpu_s": round(cart_cpu, 2)},
        "trajectory_boxes": trajectory.num_rows,
        "chosen": trajectory.slice(chosen, 1).to_pylist()[0],
        "largest_limit_error": round(error, 4),
        "limits": limits,
        "cart_densest_leaf": leaves.slice(0, 1).to_pylist()[0]["rule"],
    }
    print("prim", json.dumps(out), flush=True)
    return out


def nato_russia(args: argparse.Namespace) -> dict[str, Any]:
    s = load_scenario("nato-russia").scenario
    r, wall, cpu = timed(
        lambda: sobol(
            s,
            n=args.nr_n,
            runs_per_point=args.nr_runs_per_point,
            seed=args.seed,
            backend=args.backend,
            threads=args.threads,
        )
    )
    print(
        f"nato-russia sobol: N={r.n}, {r.points} points × {r.runs_per_point} runs, "
        f"{wall:.1f} s wall, {cpu:.1f} s CPU"
    )
    print(r.noise.to_pandas().round(4).to_string())
    print(r.indices.to_pandas().round(3).to_string())
    m, m_wall, m_cpu = timed(
        lambda: morris(
            s,
            trajectories=args.nr_trajectories,
            runs_per_point=args.nr_runs_per_point,
            seed=args.seed,
            backend=args.backend,
            threads=args.threads,
        )
    )
    print(f"nato-russia morris: {m.points} points, {m_wall:.1f} s wall, {m_cpu:.1f} s CPU")
    print(m.indices.to_pandas().round(3).to_string())
    d, d_wall, d_cpu = timed(
        lambda: discover(
            s,
            "russian_nuclear_use",
            args.nr_discover_runs,
            seed=args.seed,
            backend=args.backend,
            threads=args.threads,
        )
    )
    print(
        f"nato-russia discover russian_nuclear_use: {d.runs} runs, {d.hits} hits, "
        f"{d_wall:.1f} s wall, {d_cpu:.1f} s CPU"
    )
    print("PRIM box:", d.rule(), d.chosen_stats)
    print(d.box.to_pandas().round(3).to_string())
    print(d.leaves.to_pandas()[["rule", "coverage", "density", "mass"]].round(3).head(4))
    return {"sobol": r.to_json(), "morris": m.to_json(), "discover": d.to_json()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1024, help="first Sobol base sample")
    parser.add_argument("--max-n", type=int, default=16384)
    parser.add_argument("--runs-per-point", type=int, default=64)
    parser.add_argument("--prim-runs", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--backend", choices=BACKENDS, default="numba")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--nato-russia", action="store_true")
    parser.add_argument("--nr-n", type=int, default=64)
    parser.add_argument("--nr-runs-per-point", type=int, default=400)
    parser.add_argument("--nr-trajectories", type=int, default=20)
    parser.add_argument("--nr-discover-runs", type=int, default=100_000)
    parser.add_argument("--skip-sobol", action="store_true")
    parser.add_argument("--skip-prim", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    figures: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        if not args.skip_sobol:
            figures["sobol"] = sobol_benchmark(Path(folder), args)
        if not args.skip_prim:
            figures["prim"] = prim_benchmark(Path(folder), args)
    if args.nato_russia:
        figures["nato_russia"] = nato_russia(args)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2, default=str), encoding="utf-8")


if __name__ == "__main__":
    main()
