"""Robust levers: which lever option holds up across worldviews and uncertain assumptions.

The *states of the world* are every lens × ``samples`` points of the scenario's uncertainties
(a Latin hypercube in the unit cube, the same points for every lens, each mapped through the
distribution the lens gives that uncertainty; a lens that fixes an uncertainty fixes it in all
its worlds). Every *policy* — a lever option, the other levers at their defaults or as fixed —
is simulated in every world on the same seed and run indices (common random numbers), so
policies are compared run by run. For the outcome the user names (to keep low, e.g. Russian
nuclear use) and each policy a in a group of alternatives (the options of one lever, or every
combination with ``factorial``):

- p_a,w: the outcome's probability in world w, with its 95% Wilson interval;
- the **regret** r_a,w = p_a,w − min_b p_b,w against the best policy of the group in that world,
  with a paired 95% interval (mean ± 1.96·sd/√n of the runs' differences of hit indicators
  against the best policy's; [0, 0] for the best itself);
- the **maximum regret** over worlds, its interval [max_w lo_a,w, max_w hi_a,w] (the maximum of
  the lower and of the upper ends), and the **minimax-regret** policy: the smallest maximum;
- the **satisficing share**: the fraction of worlds in which p_a,w stays below the threshold,
  with the share in which it surely does (the interval's upper end below it) and in which it
  possibly does (the lower end below it).

Every outcome's probability per policy is kept too, per world and pooled over all worlds.
"""

from __future__ import annotations

import itertools
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from redline.compile.configure import Configuration, configure, overrides, resolve
from redline.compile.draws import draw_of
from redline.compile.lower import lower
from redline.engine import backends
from redline.engine.deciders import DecisionMaker, still_asked
from redline.engine.params import transform
from redline.engine.simulate import BACKENDS, DEFAULT_CHUNK, chunk_bounds
from redline.errors import RedlineValueError, UserError
from redline.scenario.errors import suggest
from redline.scenario.loader import LoadedScenario, load_scenario
from redline.scenario.model import Distribution, Scenario

__all__ = ["MAX_SIMULATIONS", "Policy", "Robustness", "World", "robust_levers", "wilson"]

#: the most (policy, world) simulations one analysis may ask for
MAX_SIMULATIONS = 20_000
#: the most runs per (policy, world)
MAX_RUNS = 1_000_000
#: the most simulated runs one analysis keeps (each run's hit of the outcome is kept, a byte
#: each, for the paired regrets)
MAX_KEPT_RUNS = 500_000_000
Progress = Callable[[int, int, str], None]
F64 = NDArray[np.float64]


def wilson(hits: NDArray[np.int64], n: int, confidence: float = 0.95) -> tuple[F64, F64]:
    """The Wilson score interval of ``hits`` out of ``n``, elementwise."""
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = hits / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return np.maximum(centre - half, 0.0), np.minimum(centre + half, 1.0)


@dataclass(frozen=True)
class World:
    """A state of the world: a lens and the uncertainties' values."""

    index: int
    lens: str | None
    values: tuple[tuple[str, float], ...]

    @property
    def label(self) -> str:
        return f"{self.lens or 'no lens'} #{self.index}"


@dataclass(frozen=True)
class Policy:
    """A policy: the lever options it sets (every lever), the group of alternatives it is
    compared within (a lever id, or ``all`` for every combination), and its name (what it
    changes from the defaults)."""

    group: str
    levers: Mapping[str, str]
    label: str


@dataclass(frozen=True)
class Robustness:
    """The result of :func:`robust_levers` (see the module).

    Arrays are indexed [policy, world] (and outcome last for ``hits``); ``regret`` holds the
    mean, lower and upper end in its last axis."""

    scenario: str
    outcome: str
    outcome_name: str
    threshold: float
    runs: int
    seed: int
    samples: int
    policies: tuple[Policy, ...]
    worlds: tuple[World, ...]
    outcomes: tuple[tuple[str, str], ...]
    hits: NDArray[np.int64]
    regret: F64
    best: NDArray[np.bool_]
    seconds: float = 0.0
    confidence: float = 0.95

    @property
    def groups(self) -> list[str]:
        return list(dict.fromkeys(p.group for p in self.policies))

    def members(self, group: str) -> list[int]:
        return [i for i, p in enumerate(self.policies) if p.group == group]

    @property
    def _o(self) -> int:
        return [o for o, _ in self.outcomes].index(self.outcome)

    @property
    def p(self) -> F64:
        """The outcome's probability per policy and world."""
        result: F64 = self.hits[:, :, self._o] / self.runs
        return result

    @property
    def p_interval(self) -> tuple[F64, F64]:
        return wilson(self.hits[:, :, self._o], self.runs, self.confidence)

    @property
    def max_regret(self) -> F64:
        """Per policy: the maximum regret over worlds, and the interval's ends (policy × 3)."""
        return np.stack(
            [
                self.regret[:, :, 0].max(axis=1),
                self.regret[:, :, 1].max(axis=1),
                self.regret[:, :, 2].max(axis=1),
            ],
            axis=1,
        )

    @property
    def minimax(self) -> dict[str, int]:
        """Per group, the policy with the smallest maximum regret (ties: the first)."""
        worst = self.max_regret[:, 0]
        return {g: min(self.members(g), key=lambda i: (worst[i], i)) for g in self.groups}

    @property
    def satisficing(self) -> F64:
        """Per policy: the share of worlds where the outcome stays below the threshold — by
        the estimate, surely (upper end below) and possibly (lower end below): policy × 3."""
        lo, hi = self.p_interval
        t = self.threshold
        return np.stack(
            [(self.p < t).mean(axis=1), (hi < t).mean(axis=1), (lo < t).mean(axis=1)], axis=1
        )

    def pooled(self, outcome: int | None = None) -> tuple[F64, F64, F64]:
        """Per policy, an outcome's probability over all worlds' runs with its Wilson
        interval (default: the analysed outcome)."""
        o = self._o if outcome is None else outcome
        hits = self.hits[:, :, o].sum(axis=1)
        n = self.runs * len(self.worlds)
        lo, hi = wilson(hits, n, self.confidence)
        return hits / n, lo, hi

    @property
    def table(self) -> pa.Table:
        """One row per policy: ``group``, ``policy``, the outcome's pooled probability ``p``
        with ``lo``–``hi``, ``max_regret`` with ``max_regret_lo``–``max_regret_hi``,
        ``minimax`` (the group's minimax-regret policy), ``satisficing`` with
        ``satisficing_surely`` and ``satisficing_possibly``."""
        p, lo, hi = self.pooled()
        worst = self.max_regret
        sat = self.satisficing
        chosen = set(self.minimax.values())
        return pa.table(
            {
                "group": [x.group for x in self.policies],
                "policy": [x.label for x in self.policies],
                "p": pa.array(p, pa.float64()),
                "lo": pa.array(lo, pa.float64()),
                "hi": pa.array(hi, pa.float64()),
                "max_regret": pa.array(worst[:, 0], pa.float64()),
                "max_regret_lo": pa.array(worst[:, 1], pa.float64()),
                "max_regret_hi": pa.array(worst[:, 2], pa.float64()),
                "minimax": [i in chosen for i in range(len(self.policies))],
                "satisficing": pa.array(sat[:, 0], pa.float64()),
                "satisficing_surely": pa.array(sat[:, 1], pa.float64()),
                "satisficing_possibly": pa.array(sat[:, 2], pa.float64()),
            }
        )

    @property
    def world_table(self) -> pa.Table:
        """One row per policy and world: ``group``, ``policy``, ``world``, ``lens``, each
        uncertainty's value (``param.<id>``), ``p`` with ``lo``–``hi``, ``regret`` with
        ``regret_lo``–``regret_hi``, ``best`` (the group's best policy in the world)."""
        lo, hi = self.p_interval
        rows = list(itertools.product(range(len(self.policies)), range(len(self.worlds))))
        columns: dict[str, object] = {
            "group": [self.policies[a].group for a, _ in rows],
            "policy": [self.policies[a].label for a, _ in rows],
            "world": pa.array([w for _, w in rows], pa.int32()),
            "lens": [self.worlds[w].lens for _, w in rows],
        }
        names = list(dict.fromkeys(k for w in self.worlds for k, _ in w.values))
        for name in names:
            columns[f"param.{name}"] = pa.array(
                [dict(self.worlds[w].values).get(name) for _, w in rows], pa.float64()
            )
        columns["p"] = pa.array([self.p[a, w] for a, w in rows], pa.float64())
        columns["lo"] = pa.array([lo[a, w] for a, w in rows], pa.float64())
        columns["hi"] = pa.array([hi[a, w] for a, w in rows], pa.float64())
        columns["regret"] = pa.array([self.regret[a, w, 0] for a, w in rows], pa.float64())
        columns["regret_lo"] = pa.array([self.regret[a, w, 1] for a, w in rows], pa.float64())
        columns["regret_hi"] = pa.array([self.regret[a, w, 2] for a, w in rows], pa.float64())
        columns["best"] = [bool(self.best[a, w]) for a, w in rows]
        return pa.table(columns)

    def to_json(self) -> dict[str, object]:
        """The ``redline analyze robust --json`` form."""
        worst = self.max_regret
        sat = self.satisficing
        lo, hi = self.p_interval
        chosen = self.minimax
        return {
            "scenario": self.scenario,
            "outcome": self.outcome,
            "threshold": self.threshold,
            "runs": self.runs,
            "seed": self.seed,
            "samples": self.samples,
            "interval": "Wilson 95% for probabilities; paired normal 95% for regrets "
            "(mean(d) ± 1.96·sd(d)/√n, d = hit(policy) − hit(best)); max regret: [max lo, max hi]",
            "worlds": [
                {"index": w.index, "lens": w.lens, "values": dict(w.values)} for w in self.worlds
            ],
            "groups": {
                g: {
                    "minimax_regret": self.policies[chosen[g]].label,
                    "policies": [
                        {
                            "policy": self.policies[a].label,
                            "levers": dict(self.policies[a].levers),
                            "outcomes": {
                                o: dict(
                                    zip(
                                        ("p", "lo", "hi"),
                                        map(float, (x[a] for x in self.pooled(k))),
                                        strict=True,
                                    )
                                )
                                for k, (o, _) in enumerate(self.outcomes)
                            },
                            "max_regret": dict(
                                zip(("mean", "lo", "hi"), map(float, worst[a]), strict=True)
                            ),
                            "satisficing": dict(
                                zip(
                                    ("share", "surely", "possibly"), map(float, sat[a]), strict=True
                                )
                            ),
                            "worlds": [
                                {
                                    "p": float(self.p[a, w]),
                                    "lo": float(lo[a, w]),
                                    "hi": float(hi[a, w]),
                                    "regret": dict(
                                        zip(
                                            ("mean", "lo", "hi"),
                                            map(float, self.regret[a, w]),
                                            strict=True,
                                        )
                                    ),
                                    "best": bool(self.best[a, w]),
                                }
                                for w in range(len(self.worlds))
                            ],
                        }
                        for a in self.members(g)
                    ],
                }
                for g in self.groups
            },
            "seconds": self.seconds,
        }


def _label(levers: Mapping[str, str], defaults: Mapping[str, str]) -> str:
    changed = [f"{k}={v}" for k, v in levers.items() if defaults.get(k) != v]
    return ", ".join(changed) or "defaults"


def _policies(
    s: Scenario, examine: Sequence[str], fixed: Mapping[str, str], factorial: bool
) -> list[Policy]:
    base = resolve(s, fixed).levers
    by_id = {lv.id: lv for lv in s.levers}
    out: list[Policy] = []
    if factorial:
        axes = [[o.id for o in by_id[k].options] for k in examine]
        for combo in itertools.product(*axes):
            levers = {**base, **dict(zip(examine, combo, strict=True))}
            out.append(Policy("all", levers, _label(levers, base)))
        return out
    for k in examine:
        for o in by_id[k].options:
            levers = {**base, k: o.id}
            out.append(Policy(k, levers, f"{k}={o.id}"))
    return out


def _worlds(s: Scenario, lenses: Sequence[str | None], samples: int, seed: int) -> list[World]:
    names = [u.id for u in s.uncertainties]
    if not names:
        return [World(i, lens, ()) for i, lens in enumerate(lenses)]
    from scipy.stats import qmc  # slow to import: on use

    cube = qmc.LatinHypercube(d=len(names), seed=seed).random(samples)
    out: list[World] = []
    for lens in lenses:
        lens_set = next((x.set for x in s.lenses if x.id == lens), {}) if lens else {}
        columns: list[F64] = []
        for j, u in enumerate(s.uncertainties):  # the same unit-cube point in every lens
            d: Distribution | float = lens_set.get(u.id, u.distribution)
            if isinstance(d, float | int):
                columns.append(np.full(samples, float(d)))
            else:
                columns.append(transform(draw_of(d), cube[:, j]))
        for i in range(samples):
            out.append(
                World(
                    len(out),
                    lens,
                    tuple((n, float(c[i])) for n, c in zip(names, columns, strict=True)),
                )
            )
    return out


def robust_levers(
    scenario: Scenario | LoadedScenario | str,
    *,
    outcome: str | None = None,
    threshold: float = 0.05,
    samples: int = 8,
    runs: int = 1000,
    seed: int = 0,
    levers: Sequence[str] | None = None,
    fixed: Mapping[str, str] | None = None,
    lenses: Sequence[str] | None = None,
    factorial: bool = False,
    backend: str = "numpy",
    threads: int | None = None,
    progress: Progress | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Robustness:
    """Every lever option of ``levers`` (default: every lever; each compared with the other
    options of its lever, or every combination with ``factorial``) in every state of the world
    (each of ``lenses`` — default every lens — × ``samples`` points of the uncertainties),
    ``runs`` runs each: probabilities, regret, minimax regret and the satisficing share for
    ``outcome`` (default: the scenario's first absorbing outcome) against ``threshold``
    (see the module). ``fixed`` sets levers that are not examined. ``makers`` decide the
    scenario's language-model actors (``kind: llm``: a language model's, its answers cached);
    with them, the simulations run one at a time in this thread."""
    started = time.perf_counter()
    if isinstance(scenario, Scenario):
        s = scenario
    elif isinstance(scenario, LoadedScenario):
        s = scenario.scenario
    else:
        s = load_scenario(scenario).scenario
    if not s.levers:
        raise UserError(f"scenario '{s.id}' has no levers: there is no policy to compare")
    if not 1 <= runs <= MAX_RUNS:
        raise RedlineValueError(
            f"runs must be between 1 and {MAX_RUNS:,}, got {runs}", parameter="runs"
        )
    if not 1 <= samples <= 10_000:
        raise RedlineValueError(
            f"samples must be between 1 and 10,000, got {samples}", parameter="samples"
        )
    if not (0.0 < threshold < 1.0):
        raise RedlineValueError(
            f"threshold must be a probability between 0 and 1 (exclusive), got {threshold}",
            parameter="threshold",
        )
    if backend not in BACKENDS:
        raise UserError(f"unknown backend '{backend}'; known: {', '.join(BACKENDS)}")
    known_outcomes = [o.id for o in s.outcomes]
    if not known_outcomes:
        raise UserError(f"scenario '{s.id}' has no outcomes")
    if outcome is None:
        outcome = next((o.id for o in s.outcomes if o.absorbing), known_outcomes[0])
    elif outcome not in known_outcomes:
        raise UserError(suggest(outcome, known_outcomes, "outcome"))
    lever_ids = [lv.id for lv in s.levers]
    examine = list(levers) if levers else [k for k in lever_ids if k not in (fixed or {})]
    for k in examine:
        if k not in lever_ids:
            raise UserError(suggest(k, lever_ids, "lever"))
        if fixed and k in fixed:
            raise UserError(f"lever '{k}' is both examined and fixed (--lever {k}=…)")
    if not examine:
        raise UserError("every lever is fixed: leave at least one to examine")
    resolve(s, fixed)  # checks the fixed levers' names and options
    lens_ids = [x.id for x in s.lenses]
    for lens in lenses or []:
        if lens not in lens_ids:
            raise UserError(suggest(lens, lens_ids, "lens"))
    chosen_lenses: list[str | None] = list(lenses) if lenses else (list(lens_ids) or [None])
    policies = _policies(s, examine, fixed or {}, factorial)
    worlds = _worlds(s, chosen_lenses, samples if s.uncertainties else 1, seed)
    # each distinct configuration is simulated once, shared by the groups that contain it
    configs = list(dict.fromkeys(tuple(sorted(p.levers.items())) for p in policies))
    total = len(configs) * len(worlds)
    if total > MAX_SIMULATIONS:
        raise UserError(
            f"{len(configs)} policies × {len(worlds)} worlds is {total:,} simulations, more "
            f"than {MAX_SIMULATIONS:,}; use fewer --samples, lenses or levers"
        )
    if total * runs > MAX_KEPT_RUNS:
        raise UserError(
            f"{total:,} simulations × {runs:,} runs is more than {MAX_KEPT_RUNS:,} runs (each "
            "run's hit is kept for the paired regrets); use fewer --runs or --samples"
        )
    lowered = lower(s)
    outcomes = tuple((o.id, o.name or o.id) for o in s.outcomes)
    o_index = known_outcomes.index(outcome)

    def simulate(task: tuple[int, int]) -> tuple[int, int, NDArray[np.int64], NDArray[np.bool_]]:
        c, w = task
        config = Configuration(dict(configs[c]), worlds[w].lens)
        values = overrides(s, config)
        values.update(dict(worlds[w].values))
        program = configure(lowered, values)
        asked = still_asked(program.deciders, makers) or None
        hit_counts = np.zeros(len(outcomes), dtype=np.int64)
        hit = np.zeros(runs, dtype=np.bool_)
        for start, stop in chunk_bounds(runs, DEFAULT_CHUNK):
            chunk = backends.run_chunk(
                backend, program, seed, np.arange(start, stop, dtype=np.int64), makers=asked
            )
            reached = chunk.first_hit >= 0
            hit_counts += reached.sum(axis=0)
            hit[start:stop] = reached[:, o_index]
        return c, w, hit_counts, hit

    counts = np.zeros((len(configs), len(worlds), len(outcomes)), dtype=np.int64)
    hits = np.zeros((len(configs), len(worlds), runs), dtype=np.bool_)
    tasks = [(c, w) for c in range(len(configs)) for w in range(len(worlds))]
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1
    # plugged-in makers (a language model's) are asked from this thread, one simulation at a time
    pool = None if makers else ThreadPoolExecutor(max(1, min(threads or cores, len(tasks))))
    try:
        done_tasks = pool.map(simulate, tasks) if pool is not None else map(simulate, tasks)
        for done, (c, w, n, h) in enumerate(done_tasks, start=1):
            counts[c, w] = n
            hits[c, w] = h
            if progress is not None:
                progress(done, total, f"{_label(dict(configs[c]), {})} · {worlds[w].label}")
    finally:
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
    at = [configs.index(tuple(sorted(p.levers.items()))) for p in policies]
    policy_counts = counts[at]
    regret = np.zeros((len(policies), len(worlds), 3))
    best = np.zeros((len(policies), len(worlds)), dtype=np.bool_)
    z = NormalDist().inv_cdf(0.975)
    groups = list(dict.fromkeys(p.group for p in policies))
    for g in groups:
        members = [i for i, p in enumerate(policies) if p.group == g]
        for w in range(len(worlds)):
            top = min(members, key=lambda i: (policy_counts[i, w, o_index], i))
            best[top, w] = True
            for a in members:
                if a == top:
                    continue
                d = hits[at[a], w].astype(np.float64) - hits[at[top], w]
                mean = float(d.mean())
                half = z * float(d.std(ddof=1)) / math.sqrt(runs) if runs > 1 else 0.0
                regret[a, w] = (mean, mean - half, mean + half)
    return Robustness(
        scenario=s.id,
        outcome=outcome,
        outcome_name=outcomes[o_index][1],
        threshold=threshold,
        runs=runs,
        seed=seed,
        samples=samples if s.uncertainties else 1,
        policies=tuple(policies),
        worlds=tuple(worlds),
        outcomes=outcomes,
        hits=policy_counts,
        regret=regret,
        best=best,
        seconds=time.perf_counter() - started,
    )
