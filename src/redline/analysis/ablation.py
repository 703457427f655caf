"""Ablation: what each mechanism does, measured by switching it off under common random numbers.

Every mechanism of a scenario (red line, treaty clause, doctrine, rule, scheduled event,
dynamic, decision-maker; :mod:`redline.compile.ablate`) is switched off in turn, and the runs
are simulated again on the same seed and run indices as the baseline. A run's draws are keyed by
(seed, run, step, draw site), so a run that the mechanism never touches comes out identical, and
the change in an outcome's probability is measured run by run: for run r, d_r = hit_r(without)
− hit_r(baseline) ∈ {−1, 0, 1}, and the change is mean(d) with the 95% interval
mean ± z·sd(d)/√n (a paired normal interval; sd with n − 1). A mechanism that changes no run at
all gets the interval [0, 0].

The same runs give the flags of the model's own artefacts (DESIGN §1):

- **inert** mechanisms: no outcome moves beyond its interval (switching it off changes nothing
  one can tell at this number of runs; ``changed_runs`` says whether it changed any run at all);
- **aliased** outcomes: two outcomes first reached at the same step in every run of the
  baseline, of every ablation and of every lever option examined (one of them is redundant, or
  one mechanism ties them together);
- **identical lever options**: options of a lever whose runs reach every outcome at the same
  step (the lever does nothing between them);
- **unreached** outcomes: reached in no run of any configuration examined;
- **dominant chains**: an outcome more than 80% explained by one path of at least two events
  (the paths instrument, :mod:`redline.analysis.why`, over the baseline's runs): one chain of
  mechanisms carries the answer, and what it rests on deserves a look.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from redline.analysis.why import Recorder, Route, dominant_chains
from redline.compile.ablate import (
    Mechanism,
    can_switch,
    mechanisms,
    switch_off,
    switchable,
    switched_off,
)
from redline.compile.configure import Configuration, configure, overrides, resolve
from redline.compile.lower import lower
from redline.core.program import Program
from redline.engine import backends
from redline.engine.deciders import DecisionMaker, still_asked
from redline.engine.semantics import ChunkResult
from redline.engine.simulate import DEFAULT_CHUNK, check_sizes, chunk_bounds
from redline.errors import RedlineTypeError, check_index
from redline.scenario.loader import LoadedScenario, load_scenario
from redline.scenario.model import Scenario
from redline.tables import arrow_html, pandas_frame, percent_cell

if TYPE_CHECKING:
    import pandas

__all__ = [
    "Ablation",
    "Finding",
    "MechanismEffect",
    "OutcomeChange",
    "Progress",
    "ablate",
    "document_path",
    "effects_sorted",
    "mechanism_list",
]

#: each kind of mechanism, as a sentence names it
KIND_NAMES = {
    "red_line": "red line",
    "clause": "treaty clause",
    "doctrine": "doctrine",
    "rule": "rule",
    "schedule": "scheduled event",
    "dynamic": "dynamic",
    "decision": "decision-maker",
}

#: called after each configuration is simulated: (configurations done, of how many, which)
Progress = Callable[[int, int, str], None]
#: hits per outcome whose paths the baseline counts (a uniform sample beyond that)
PATHS_SAMPLE = 20_000
#: paths kept per outcome for the report
TOP_PATHS = 3


@dataclass(frozen=True)
class OutcomeChange:
    """How switching a mechanism off changes one outcome: base and ablated probabilities, the
    paired difference with its interval, and how many runs reach it at another step (or not at
    all, or newly)."""

    outcome: str
    name: str
    base_p: float
    ablated_p: float
    diff: float
    lo: float
    hi: float
    changed_runs: int

    @property
    def moved(self) -> bool:
        """Whether the interval excludes zero: the outcome moves beyond its interval."""
        return self.lo > 0.0 or self.hi < 0.0


@dataclass(frozen=True)
class MechanismEffect:
    """One mechanism switched off: the change in each outcome, and how many runs changed (any
    outcome reached at another step)."""

    mechanism: Mechanism
    changes: tuple[OutcomeChange, ...]
    changed_runs: int

    @property
    def inert(self) -> bool:
        """No outcome moves beyond its interval."""
        return not any(c.moved for c in self.changes)

    def change(self, outcome: str) -> OutcomeChange:
        return next(c for c in self.changes if c.outcome == outcome)


@dataclass(frozen=True)
class Ablation:
    """The result of :func:`ablate`: per mechanism and outcome the change in probability with a
    paired 95% interval (:attr:`table`, :meth:`to_json`), and the flags."""

    scenario: str
    runs: int
    seed: int
    levers: Mapping[str, str]
    lens: str | None
    backend: str
    confidence: float
    #: (id, name) of each outcome, in scenario order
    outcomes: tuple[tuple[str, str], ...]
    #: each outcome's probability in the baseline
    baseline: tuple[float, ...]
    effects: tuple[MechanismEffect, ...]
    #: pairs of outcomes reached at the same step in every run of every configuration examined
    aliased: tuple[tuple[str, str], ...]
    #: per lever, groups of options that give identical runs
    identical_options: tuple[tuple[str, tuple[str, ...]], ...]
    #: outcomes no run of any configuration examined reached
    unreached: tuple[str, ...]
    #: the levers whose options were examined, each with its options
    levers_examined: tuple[tuple[str, tuple[str, ...]], ...] = ()
    seconds: float = 0.0
    #: outcomes more than 80% explained by one path of at least two events, in the baseline:
    #: (outcome, the path in words, its share of hits); ``None`` means not examined, not
    #: "none found"
    dominant_chains: tuple[tuple[str, str, float], ...] | None = None
    #: each reached outcome's most frequent paths in the baseline (``redline why``)
    top_paths: tuple[tuple[str, tuple[Route, ...]], ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def inert(self) -> tuple[Mechanism, ...]:
        """The mechanisms that move no outcome beyond its interval."""
        return tuple(e.mechanism for e in self.effects if e.inert)

    def __repr__(self) -> str:
        return (
            f"Ablation(scenario={self.scenario!r}, runs={self.runs}, seed={self.seed}, "
            f"levers={dict(self.levers)!r}, lens={self.lens!r}, mechanisms={len(self.effects)}, "
            f"inert={len(self.inert)})"
        )

    def to_arrow(self) -> pa.Table:
        """The changes (:attr:`table`): a row per mechanism and outcome."""
        return self.table

    def to_pandas(self) -> pandas.DataFrame:
        """The changes (:attr:`table`) as a pandas DataFrame (pandas is imported now)."""
        return pandas_frame(self.table)

    def _repr_html_(self) -> str:
        """In a notebook: the changes that move an outcome beyond their interval, largest
        first (:attr:`table` has every one)."""
        table = self.table
        moved = table.filter(table.column("moved"))
        order = np.argsort(-np.abs(moved.column("diff").to_numpy()), kind="stable")
        shown = moved.take(order).select(
            ["name", "kind", "outcome_name", "base_p", "ablated_p", "diff", "lo", "hi"]
        )
        cells = {k: percent_cell for k in ("base_p", "ablated_p", "diff", "lo", "hi")}
        lens = f", lens {self.lens}" if self.lens else ""
        caption = (
            f"{self.scenario}: what switching off each mechanism changes ({self.runs:,} runs "
            f"each, seed {self.seed}{lens}; {len(self.inert)} of {len(self.effects)} inert)"
        )
        return arrow_html(shown, caption, cells)

    @property
    def table(self) -> pa.Table:
        """One row per mechanism and outcome: ``mechanism`` (id), ``kind``, ``name``, ``path``,
        ``outcome``, ``outcome_name``, ``base_p``, ``ablated_p``, ``diff`` with its interval
        ``lo``–``hi``, ``moved`` (the interval excludes 0), ``changed_runs`` (runs reaching the
        outcome at another step, or only in one of the two) and ``inert`` (the mechanism moves no
        outcome)."""
        rows = [(e, c) for e in self.effects for c in e.changes]
        return pa.table(
            {
                "mechanism": pa.array([e.mechanism.id for e, _ in rows], pa.string()),
                "kind": pa.array([e.mechanism.kind for e, _ in rows], pa.string()),
                "name": pa.array([e.mechanism.name for e, _ in rows], pa.string()),
                "path": pa.array([e.mechanism.path for e, _ in rows], pa.string()),
                "outcome": pa.array([c.outcome for _, c in rows], pa.string()),
                "outcome_name": pa.array([c.name for _, c in rows], pa.string()),
                "base_p": pa.array([c.base_p for _, c in rows], pa.float64()),
                "ablated_p": pa.array([c.ablated_p for _, c in rows], pa.float64()),
                "diff": pa.array([c.diff for _, c in rows], pa.float64()),
                "lo": pa.array([c.lo for _, c in rows], pa.float64()),
                "hi": pa.array([c.hi for _, c in rows], pa.float64()),
                "moved": pa.array([c.moved for _, c in rows], pa.bool_()),
                "changed_runs": pa.array([c.changed_runs for _, c in rows], pa.int64()),
                "inert": pa.array([e.inert for e, _ in rows], pa.bool_()),
            }
        )

    def to_json(self) -> dict[str, object]:
        """The ``redline ablate --json`` form."""
        return {
            "scenario": self.scenario,
            "runs": self.runs,
            "seed": self.seed,
            "levers": dict(self.levers),
            "lens": self.lens,
            "backend": self.backend,
            "confidence": self.confidence,
            "interval": "paired normal: mean(d) ± z·sd(d)/√n, d = hit(without) − hit(baseline)",
            "outcomes": {
                ident: {"name": name, "p": p}
                for (ident, name), p in zip(self.outcomes, self.baseline, strict=True)
            },
            "mechanisms": [
                {
                    "id": e.mechanism.id,
                    "kind": e.mechanism.kind,
                    "name": e.mechanism.name,
                    "path": e.mechanism.path,
                    "inert": e.inert,
                    "changed_runs": e.changed_runs,
                    "changes": {
                        c.outcome: {
                            "p": c.ablated_p,
                            "diff": c.diff,
                            "lo": c.lo,
                            "hi": c.hi,
                            "changed_runs": c.changed_runs,
                        }
                        for c in e.changes
                    },
                }
                for e in self.effects
            ],
            "flags": {
                "inert": [m.id for m in self.inert],
                "aliased": [list(pair) for pair in self.aliased],
                "identical_lever_options": [
                    {"lever": lever, "options": list(group)}
                    for lever, group in self.identical_options
                ],
                "unreached": list(self.unreached),
                "dominant_chains": (
                    None
                    if self.dominant_chains is None
                    else [
                        {"outcome": o, "path": path, "share": share}
                        for o, path, share in self.dominant_chains
                    ]
                ),
            },
            "levers_examined": {lever: list(options) for lever, options in self.levers_examined},
            "top_paths": {
                outcome: [{"path": r.text, "share": r.share, "count": r.count} for r in routes]
                for outcome, routes in self.top_paths
            },
            "seconds": self.seconds,
        }

    def findings(self) -> list[Finding]:
        """The flags, one finding each: inert mechanisms, aliased outcome pairs, identical lever
        options, unreached outcomes, dominant chains (``redline validate --deep`` prints them as
        warnings)."""
        names = dict(self.outcomes)
        found = []
        for e in self.effects:
            if e.inert:
                how = (
                    "changes no run"
                    if e.changed_runs == 0
                    else (
                        f"changes {_runs(e.changed_runs)} but moves no outcome beyond its "
                        f"{self.confidence:.0%} interval"
                    )
                )
                found.append(
                    Finding(
                        "inert",
                        e.mechanism.path,
                        f"inert {KIND_NAMES[e.mechanism.kind]}: switching it off {how} "
                        f"({self.runs:,} runs)",
                    )
                )
        for a, b in self.aliased:
            found.append(
                Finding(
                    "aliased",
                    f"outcomes.{a}",
                    f"aliased with outcomes.{b}: '{names[a]}' and '{names[b]}' are reached at "
                    "the same step in every run of every configuration examined",
                )
            )
        for lever, group in self.identical_options:
            found.append(
                Finding(
                    "identical_options",
                    f"levers.{lever}",
                    f"options {', '.join(group)} give identical runs ({self.runs:,} runs)",
                )
            )
        for o in self.unreached:
            found.append(
                Finding(
                    "unreached",
                    f"outcomes.{o}",
                    f"'{names[o]}' is reached in no run of any configuration examined "
                    f"({self.runs:,} runs)",
                )
            )
        for o, path, share in self.dominant_chains or ():
            found.append(
                Finding(
                    "dominant_chain",
                    f"outcomes.{o}",
                    f"dominant chain: {share:.0%} of the runs that reach '{names[o]}' take one "
                    f"path: {path} ({self.runs:,} runs)",
                )
            )
        return found

    def warnings(self) -> list[str]:
        """The findings as lines: ``element.path: what``."""
        return [str(f) for f in self.findings()]


@dataclass(frozen=True)
class Finding:
    """One flag: its kind (``inert``, ``aliased``, ``identical_options``, ``unreached``,
    ``dominant_chain``), the element it is about (``red_lines.rl_aircraft``, ``outcomes.war``,
    ``levers.invite``) and what is wrong."""

    kind: str
    element: str
    message: str

    def __str__(self) -> str:
        return f"{self.element}: {self.message}"


def _runs(n: int) -> str:
    return f"{n:,} run" + ("" if n == 1 else "s")


def document_path(scenario: Scenario, element: str) -> tuple[str | int, ...]:
    """Where ``element`` (``red_lines.rl_aircraft``, ``alliances.NATO.article5``,
    ``actors.RUS.decision`` …) is in the scenario document, by list positions (its key for
    line numbers): ``("red_lines", 3)``; the section alone when the element is not found."""
    section, _, rest = element.partition(".")
    if section == "alliances":
        alliance, _, clause = rest.partition(".")
        for i, a in enumerate(scenario.alliances):
            if a.id == alliance:
                for j, c in enumerate(a.clauses):
                    if c.id == clause:
                        return ("alliances", i, "clauses", j)
                return ("alliances", i)
        return ("alliances",)
    if section == "actors":
        actor, _, tail = rest.partition(".")
        for i, x in enumerate(scenario.actors):
            if x.id == actor:
                return ("actors", i, tail) if tail else ("actors", i)
        return ("actors",)
    items = getattr(scenario, section, None)
    if isinstance(items, list):
        for i, item in enumerate(items):
            if getattr(item, "id", None) == rest:
                return (section, i)
    return (section,)


def ablate(
    scenario: Scenario | LoadedScenario | str | Path,
    *,
    runs: int,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    backend: str = "numpy",
    chunk_size: int = DEFAULT_CHUNK,
    threads: int | None = None,
    lever_options: bool = True,
    confidence: float = 0.95,
    progress: Progress | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Ablation:
    """Switch off each mechanism of ``scenario`` in turn (under the configuration ``levers`` and
    ``lens`` choose) and measure the change in each outcome's probability against the baseline,
    run by run: the same ``seed`` and run indices 0..``runs``-1 for every configuration (common
    random numbers). The interval is the paired normal one, mean(d) ± z·sd(d)/√n over the runs'
    differences d of hit indicators (ablated − baseline).

    With ``lever_options`` each other option of each lever is simulated too (the other levers as
    configured), to flag options that give identical runs. ``threads`` chunks of a configuration
    are computed at once (default: one per usable core). ``progress(done, total, label)`` is
    called as each configuration finishes. ``makers`` decide the scenario's language-model
    actors (``kind: llm``; a language model's, its answers cached, so an ablation asks only
    what its configurations change in their prompts); with them, chunks run one at a time."""
    started = time.perf_counter()
    s = _scenario(scenario)
    check_sizes(runs, chunk_size, 1, backend)
    check_index("seed", seed)
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1, got {confidence}")
    config = resolve(s, levers, lens)
    lowered = lower(s)
    mechs = mechanisms(lowered)
    by_switch = [m for m in mechs if can_switch(lowered, m)]
    sw = switchable(lowered, by_switch)
    base_program = configure(sw, overrides(s, config))
    structural = configure(lowered, overrides(s, config))

    plan: list[tuple[str, Program]] = []
    for m in mechs:
        if m in by_switch:
            plan.append((m.id, switched_off(base_program, m)))
        else:
            plan.append((m.id, switch_off(structural, m)))
    examined: list[tuple[str, tuple[str, ...]]] = []
    option_plan: list[tuple[str, str, Program]] = []
    if lever_options:
        for lever in s.levers:
            options = tuple(o.id for o in lever.options)
            if len(options) < 2:
                continue
            examined.append((lever.id, options))
            for option in options:
                if option != config.levers[lever.id]:
                    other = Configuration({**config.levers, lever.id: option}, config.lens)
                    option_plan.append((lever.id, option, configure(sw, overrides(s, other))))

    total = 1 + len(plan) + len(option_plan)
    runner = _Runner(backend, runs, seed, chunk_size, threads, makers)
    n_out = len(lowered.outcomes)
    recorder = Recorder(base_program, sample=PATHS_SAMPLE)
    try:
        base = runner.first_hits(base_program, recorder)
        done = 1
        if progress:
            progress(done, total, "baseline")
        base_hits = base >= 0
        base_p = base_hits.mean(axis=0) if runs else np.zeros(n_out)
        alias = _alias_matrix(base)
        ever: NDArray[np.bool_] = np.asarray(base_hits.any(axis=0))
        z = NormalDist().inv_cdf(0.5 + confidence / 2.0)
        effects: list[MechanismEffect] = []
        for m, (_, program) in zip(mechs, plan, strict=True):
            first = runner.first_hits(program)
            alias &= _alias_matrix(first)
            ever |= (first >= 0).any(axis=0)
            effects.append(_effect(m, lowered, base, base_hits, base_p, first, z))
            done += 1
            if progress:
                progress(done, total, m.id)
        digests: dict[str, dict[str, str]] = {}
        base_digest = _digest(base)
        for lever_id, option, program in option_plan:
            first = runner.first_hits(program)
            alias &= _alias_matrix(first)
            ever |= (first >= 0).any(axis=0)
            digests.setdefault(lever_id, {config.levers[lever_id]: base_digest})[option] = _digest(
                first
            )
            done += 1
            if progress:
                progress(done, total, f"{lever_id}={option}")
    finally:
        runner.close()

    ids = [o.id for o in lowered.outcomes]
    paths = [
        recorder.result(
            o,
            scenario=s.id,
            seed=seed,
            levers=config.levers,
            lens=config.lens,
            backend=backend,
            step=s.time.step,
        )
        for o in ids
    ]
    aliased = tuple(
        (ids[i], ids[j])
        for i in range(n_out)
        for j in range(i + 1, n_out)
        if alias[i, j] and ever[i]
    )
    identical: list[tuple[str, tuple[str, ...]]] = []
    for lever_id, options in examined:
        found = digests.get(lever_id, {})
        groups: dict[str, list[str]] = {}
        for option in options:
            if option in found:
                groups.setdefault(found[option], []).append(option)
        identical.extend((lever_id, tuple(g)) for g in groups.values() if len(g) > 1)
    return Ablation(
        scenario=s.id,
        runs=runs,
        seed=seed,
        levers=dict(config.levers),
        lens=config.lens,
        backend=backend,
        confidence=confidence,
        outcomes=tuple((o.id, o.name) for o in lowered.outcomes),
        baseline=tuple(float(p) for p in base_p),
        effects=tuple(effects),
        aliased=aliased,
        identical_options=tuple(identical),
        unreached=tuple(ids[i] for i in range(n_out) if not ever[i]),
        levers_examined=tuple(examined),
        seconds=time.perf_counter() - started,
        dominant_chains=dominant_chains(paths),
        top_paths=tuple((p.outcome, p.routes[:TOP_PATHS]) for p in paths if p.hits),
    )


# -- running -----------------------------------------------------------------------------------


class _Runner:
    """Simulates programs over the same runs, a configuration's chunks on ``threads`` threads
    (the compiled backends work outside Python's global lock), giving first-hit steps."""

    def __init__(
        self,
        backend: str,
        runs: int,
        seed: int,
        chunk_size: int,
        threads: int | None,
        makers: Mapping[str, DecisionMaker] | None = None,
    ) -> None:
        self.backend = backend
        self.seed = seed
        self.makers = dict(makers or {})
        # plugged-in makers (a language model's) are asked from this thread, a chunk at a time
        self.threads = 1 if self.makers else threads if threads is not None else _usable_cores()
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")
        # at least one chunk per thread; chunking never changes a result
        size = min(chunk_size, max(1, math.ceil(runs / self.threads)))
        self.chunks = [np.arange(a, b, dtype=np.int64) for a, b in chunk_bounds(runs, size)]
        self.pool = ThreadPoolExecutor(self.threads) if self.threads > 1 else None

    def first_hits(self, program: Program, recorder: Recorder | None = None) -> NDArray[np.int32]:
        """Each run's first-hit step of each outcome (runs × outcomes; −1: never); with a
        ``recorder``, the runs' event records are folded into it, chunk by chunk."""
        events = recorder is not None
        threaded = backends.select(self.backend, program, events=events).capabilities.threads
        # an actor whose decision is switched off holds: its model is not asked
        makers = still_asked(program.deciders, self.makers) or None

        def one(runs: NDArray[np.int64]) -> ChunkResult:
            return backends.run_chunk(
                self.backend, program, self.seed, runs, events=events, makers=makers
            )

        if self.pool is None or not threaded or len(self.chunks) == 1:
            results: Iterable[ChunkResult] = (one(c) for c in self.chunks)
        else:
            results = self.pool.map(one, self.chunks)
        parts = []
        for chunk in results:
            if recorder is not None:
                recorder.add(chunk)
            parts.append(np.asarray(chunk.first_hit, dtype=np.int32))
        return np.concatenate(parts, axis=0)

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# -- measuring ---------------------------------------------------------------------------------


def _effect(
    m: Mechanism,
    program: Program,
    base: NDArray[np.int32],
    base_hits: NDArray[np.bool_],
    base_p: NDArray[np.float64],
    first: NDArray[np.int32],
    z: float,
) -> MechanismEffect:
    n = len(base)
    hits = first >= 0
    d = hits.astype(np.int8) - base_hits.astype(np.int8)
    mean = d.mean(axis=0)
    nonzero = np.count_nonzero(d, axis=0)
    var = np.maximum((nonzero - n * mean**2) / max(n - 1, 1), 0.0)
    half = z * np.sqrt(var / n)
    differs = first != base
    changes = tuple(
        OutcomeChange(
            outcome=o.id,
            name=o.name,
            base_p=float(base_p[k]),
            ablated_p=float(hits[:, k].mean()),
            diff=float(mean[k]),
            lo=float(mean[k] - half[k]),
            hi=float(mean[k] + half[k]),
            changed_runs=int(differs[:, k].sum()),
        )
        for k, o in enumerate(program.outcomes)
    )
    return MechanismEffect(m, changes, int(differs.any(axis=1).sum()))


def _alias_matrix(first: NDArray[np.int32]) -> NDArray[np.bool_]:
    """(outcomes × outcomes): whether two outcomes' first-hit steps agree in every run."""
    k = first.shape[1]
    same = np.ones((k, k), dtype=np.bool_)
    for i in range(k):
        for j in range(i + 1, k):
            same[i, j] = same[j, i] = bool(np.array_equal(first[:, i], first[:, j]))
    return same


def _digest(first: NDArray[np.int32]) -> str:
    return hashlib.blake2b(np.ascontiguousarray(first).tobytes(), digest_size=16).hexdigest()


def _scenario(scenario: object) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, LoadedScenario):
        return scenario.scenario
    if isinstance(scenario, str | Path):
        return load_scenario(scenario).scenario
    raise RedlineTypeError(
        "scenario must be a Scenario, a scenario file path or a built-in scenario name, "
        f"got {type(scenario).__name__}",
        parameter="scenario",
    )


def mechanism_list(scenario: Scenario) -> tuple[Mechanism, ...]:
    """The mechanisms :func:`ablate` switches off, in the order it reports them."""
    return mechanisms(lower(scenario))


def effects_sorted(ablation: Ablation, outcome: str) -> list[MechanismEffect]:
    """The mechanisms by the size of their effect on ``outcome``, largest first."""
    return sorted(ablation.effects, key=lambda e: -abs(e.change(outcome).diff))
