"""Robust levers and the convoy decision as a game, on the built-in ``nato-russia``: wall time,
CPU time and simulated run-steps per second of each, and what each says.

    python benchmarks/analysis_robust_game.py                      # both, modest sizes
    python benchmarks/analysis_robust_game.py --only game --runs 4000
    python benchmarks/analysis_robust_game.py --only robust --samples 16 --robust-runs 2000

The game: at ``--step`` (12, July 2024) Russia strikes a convoy on Polish soil or not
(``strike_convoy`` / ``~strike_convoy``, not at any other step either), and NATO answers by its
declared posture, the lever ``nato_response`` (none / consultation / collective defence), valued
by the United States' weights; every lens, ``--runs`` runs per profile. Robust levers: every
option of every lever against Russian nuclear use (threshold ``--threshold``), every lens ×
``--samples`` points of the uncertainties, ``--robust-runs`` runs each. Both run ``--threads``
simulations at once (default: one per usable core).
"""

from __future__ import annotations

import argparse
import json
import os
import time

from redline.analysis.equilibria import plan_words, solve, verdicts
from redline.analysis.game import extract_game
from redline.analysis.robust import robust_levers
from redline.report.game_page import strategy_words


def bench_game(args: argparse.Namespace, horizon: int) -> dict[str, object]:
    figures: dict[str, object] = {}
    lenses = ["baseline", "wsws_000_001", "provocation_003"]
    for lens in lenses:
        started, cpu = time.perf_counter(), time.process_time()
        game = extract_game(
            "nato-russia",
            step=args.step,
            decisions={"RUS": ["strike_convoy", "~strike_convoy"]},
            lever_players={"NATO": "nato_response"},
            weights={"NATO": "USA"},
            runs=args.runs,
            seed=args.seed,
            lens=lens,
            threads=args.threads,
        )
        extracted = time.perf_counter() - started
        solution = solve(game, sequential=True)
        wall = time.perf_counter() - started
        profiles = len(game.payoffs)
        rus = game.players[0]
        strike = rus.options.index("strike_convoy")
        gains = {}
        for n, answer in enumerate(game.players[1].options):
            mean, lo, hi = game.difference(0, [strike, n], [1 - strike, n])
            gains[answer] = {"mean": mean, "lo": lo, "hi": hi}
        figures[lens] = {
            "wall_s": round(wall, 2),
            "extraction_s": round(extracted, 2),
            "cpu_s": round(time.process_time() - cpu, 2),
            "profiles": profiles,
            "runs_per_profile": args.runs,
            "run_steps_per_s": round(profiles * args.runs * horizon / extracted),
            "strike_possible": game.payoff([strike, 0]).available[0],
            "russia_gain_from_striking": gains,
            "verdicts": verdicts(game, solution),
            "nash": [strategy_words(game, e.strategies) for e in solution.nash],
            "qre": strategy_words(game, solution.qre.strategies),
            "subgame_perfect": plan_words(solution),
        }
        if not args.json:
            f = figures[lens]
            assert isinstance(f, dict)
            print(
                f"game, lens {lens}: {wall:.1f} s wall ({extracted:.1f} s extracting "
                f"{profiles} profiles × {args.runs:,} runs, {f['run_steps_per_s']:,} run-steps/s), "
                f"{f['cpu_s']} s CPU"
            )
            for answer, g in gains.items():
                print(
                    f"  Russia's gain from striking if NATO answers {answer}: "
                    f"{g['mean']:+.3f} ({g['lo']:+.3f} to {g['hi']:+.3f})"
                )
            for line in f["verdicts"]:
                print("  " + line)
            print("  Nash: " + " | ".join(f["nash"]))
            print(f"  QRE: {f['qre']}")
            print("  subgame-perfect: " + "; ".join(f["subgame_perfect"]))
    return figures


def bench_robust(args: argparse.Namespace, horizon: int) -> dict[str, object]:
    started, cpu = time.perf_counter(), time.process_time()
    r = robust_levers(
        "nato-russia",
        outcome="russian_nuclear_use",
        threshold=args.threshold,
        samples=args.samples,
        runs=args.robust_runs,
        seed=args.seed,
        backend=args.backend,
        threads=args.threads,
    )
    wall = time.perf_counter() - started
    simulations = len({tuple(sorted(p.levers.items())) for p in r.policies}) * len(r.worlds)
    worst = r.max_regret
    sat = r.satisficing
    p, lo, hi = r.pooled()
    rows = {
        pol.label: {
            "p": p[a],
            "p_lo": lo[a],
            "p_hi": hi[a],
            "max_regret": list(worst[a]),
            "satisficing": list(sat[a]),
        }
        for a, pol in enumerate(r.policies)
    }
    figures = {
        "wall_s": round(wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
        "simulations": simulations,
        "worlds": len(r.worlds),
        "runs_each": args.robust_runs,
        "run_steps_per_s": round(simulations * args.robust_runs * horizon / wall),
        "minimax_regret": {g: r.policies[i].label for g, i in r.minimax.items()},
        "policies": rows,
    }
    if not args.json:
        print(
            f"robust levers: {wall:.1f} s wall, {figures['cpu_s']} s CPU: {simulations} "
            f"simulations ({len(r.worlds)} worlds) × {args.robust_runs:,} runs, "
            f"{figures['run_steps_per_s']:,} run-steps/s (backend {args.backend})"
        )
        for label, row in rows.items():
            m = row["max_regret"]
            s = row["satisficing"]
            print(
                f"  {label:45s} P(nuclear use) {100 * row['p']:.2f}% "
                f"({100 * row['p_lo']:.2f}–{100 * row['p_hi']:.2f}), "
                f"max regret {100 * m[0]:.2f} pp ({100 * m[1]:.2f} to {100 * m[2]:.2f}), "
                f"worlds under {100 * args.threshold:g}%: {100 * s[0]:.0f}% "
                f"(surely {100 * s[1]:.0f}%, possibly {100 * s[2]:.0f}%)"
            )
        print(
            "  minimax regret: "
            + "; ".join(f"{g}: {r.policies[i].label}" for g, i in r.minimax.items())
        )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["game", "robust"], default=None)
    parser.add_argument("--step", type=int, default=12)
    parser.add_argument("--runs", type=int, default=2000, help="runs per game profile")
    parser.add_argument("--samples", type=int, default=8)
    parser.add_argument("--robust-runs", type=int, default=1000)
    parser.add_argument("--threshold", type=float, default=0.02)
    parser.add_argument("--backend", default="numpy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args()
    args.threads = args.threads or len(os.sched_getaffinity(0))
    from redline.scenario.loader import load_scenario

    horizon = load_scenario("nato-russia").scenario.time.horizon
    figures: dict[str, object] = {"threads": args.threads}
    if args.only in (None, "game"):
        figures["game"] = bench_game(args, horizon)
    if args.only in (None, "robust"):
        figures["robust"] = bench_robust(args, horizon)
    if args.json:
        print(json.dumps(figures, indent=2, default=float))


if __name__ == "__main__":
    main()
