"""Why did it happen: the paths to an outcome, from the engine's event record.

Each run is simulated with the event record (the engines' ``events`` capability,
:func:`redline.engine.semantics.event_layout`): for every rule, red line, treaty clause,
doctrine and scheduled event, when it first fired and when its trigger first held without
firing; for every actor, when it first chose each action — each as a code that orders the
events of a step as the step runs them (scheduled events, decisions, then each round of the
rule cascade). The record is read chunk by chunk and folded into counters whose size depends on
the program alone, never on the number of runs.

Over the runs that reached the outcome (the *hits*), with h a run's first-hit step, an event
happened *before the hit* when it first happened in an earlier step, or in step h before the
stage of the first event there that could have caused the hit — one whose effects emit a tag,
or change a variable, that the outcome's condition reads (or reach a rung, when it reads the
ladder) — or is such a cause at that stage. (The outcome is recorded at the end of its step;
what the step did after its cause, or beside it — a doctrine answering the attack that made the
war — does not lead to it. Where no such event happened in step h, every event of the step
counts.)

- **share**: the fraction of hits in which the event happened before the hit;
- **lead**: the mean of h minus the event's first step, over those hits (in steps);
- **p_not**: the probability that the event had happened by the same step in a run that did not
  reach the outcome: Σ_t P(h = t | hit) · P(event by t | not hit), the non-hitting runs'
  record read at each hit step in proportion to the hits at that step (a non-hitting run that
  ended earlier, absorbed by another outcome, counts with what it had by its end);
  ``p_not_end`` is the same by the horizon;
- **lift**: share / p_not — how much more often the event precedes a hit than it happens by then
  without one (infinite where it never happens without a hit, undefined where every run hits);
- **on route**: a lift of at least 2 (the event precedes a hit at least twice as often as it
  happens by then without one; ``min_lift``), beyond chance: share − p_not above
  z·√(share(1−share)/n_hit + p_not(1−p_not)/n_not), z for one-sided 99.9%. Events nearly every
  run has (a routine aid package) are not on route however many runs show their small lift.
  With no run that missed the outcome there is nothing to contrast, and no event is on route.

A run's **path** is the sequence of on-route events that happened by its hit, in the order they
first happened (step, then the stage of the step, then program order), with repeats collapsed;
the derived "red line crossed" (enforced or not) is left out of paths, which say which. Paths
are counted on a uniform sample of at most ``sample`` hits (the hits whose run index hashes
lowest, so the sample does not depend on chunking or threads); with fewer hits than that, on
all of them. An outcome is a **dominant chain** when one path of at least two events explains
more than 80% of its hits: the lower end of its share's 95% interval is above 0.8.
"""

from __future__ import annotations

import dataclasses
import math
import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from statistics import NormalDist
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from redline.compile import compile_scenario, resolve
from redline.compile.ablate import mechanisms
from redline.core.expr import Call, Expr, Name, Str, children
from redline.core.patterns import match_tags
from redline.core.program import Effect, Program
from redline.engine import backends
from redline.engine.deciders import DecisionMaker
from redline.engine.semantics import ChunkResult, event_columns, event_layout
from redline.engine.simulate import DEFAULT_CHUNK, check_sizes, chunk_bounds
from redline.errors import RedlineTypeError, RedlineValueError, check_index
from redline.scenario.errors import suggest
from redline.scenario.loader import LoadedScenario, load_scenario
from redline.scenario.model import Scenario
from redline.stats import wilson_interval
from redline.tables import arrow_html, pandas_frame, percent_cell

if TYPE_CHECKING:
    import pandas

__all__ = [
    "DOMINANT",
    "SAMPLE",
    "Event",
    "EventStat",
    "Paths",
    "Progress",
    "Recorder",
    "Route",
    "catalogue",
    "causes",
    "dominant_chains",
    "stream",
    "why",
]

#: hits whose paths are counted, at most (a uniform sample of the hits beyond that)
SAMPLE = 100_000
#: one path explaining more than this share of an outcome's hits is a dominant chain
DOMINANT = 0.8
#: the one-sided confidence of "more often before a hit than without one" (on route)
ON_ROUTE_CONFIDENCE = 0.999
#: the least lift of an event on route
MIN_LIFT = 2.0
#: paths kept in a result, most frequent first
MAX_ROUTES = 200

#: called as chunks finish: (runs done, runs in all)
Progress = Callable[[int, int], None]

#: each kind of element, as the events' labels name it
_KIND_WORDS = {
    "red_line": "red line",
    "clause": "treaty clause",
    "doctrine": "doctrine",
    "rule": "rule",
    "schedule": "scheduled event",
}
#: a reaction firing, and failing (its trigger held, its draw did not), by kind: the event id's
#: suffix and the words
_OUTCOME_WORDS = {
    "red_line": (("enforced", "enforced"), ("not_enforced", "crossed, not enforced")),
    "clause": (("invoked", "invoked"), ("not_invoked", "triggered, not invoked")),
    "doctrine": (("applied", "applied"), ("not_applied", "triggered, not applied")),
    "rule": (("fired", "fired"), ("not_fired", "triggered, did not fire")),
    "schedule": (("happened", "happened"), ("not_happened", "due, did not happen")),
}


@dataclass(frozen=True)
class Event:
    """One mechanism event of a program, as ``why`` names it."""

    #: ``red_line:rl_convoys/enforced``, ``clause:NATO.article5/invoked``,
    #: ``decision:RUS/strike_convoy`` …
    id: str
    #: the mechanism it belongs to (``red_line:rl_convoys``; ``decision:RUS`` for a choice)
    mechanism: str
    #: red_line, clause, doctrine, rule, schedule or decision
    kind: str
    #: what happened: ``enforced``, ``crossed``, ``invoked``, ``chose strike_convoy`` …
    what: str
    #: in words: ``red line rl_convoys enforced``, ``RUS chose strike_convoy``
    label: str
    #: the element in the scenario (``red_lines.rl_convoys``, ``actions.strike_convoy``)
    path: str
    #: its columns in the engine's event record (it happened when any of them did)
    columns: tuple[int, ...]
    #: whether paths may include it (the derived "crossed" is left out: paths say which)
    in_paths: bool = True


def catalogue(program: Program) -> tuple[Event, ...]:
    """The events ``why`` reads from a program's event record: each reaction's firing and
    failing (a red line's also as "crossed", either way), and each actor's choice of each
    action; reactions that share a kind and id (a red line lowered to several) are one event."""
    paths = {m.id: m.path for m in mechanisms(program)}
    found: dict[str, Event] = {}
    crossed: dict[str, list[int]] = {}
    for column, (source, index, what) in enumerate(event_columns(program)):
        if source == "choice":
            d = program.deciders[index]
            mechanism = f"decision:{d.actor}"
            ident = f"{mechanism}/{what}"
            event = Event(
                ident,
                mechanism,
                "decision",
                f"chose {what}",
                f"{d.actor} chose {what}",
                f"actions.{what}",
                (column,),
            )
        else:
            r = (program.schedule if source == "schedule" else program.rules)[index]
            mechanism = f"{r.kind}:{r.id}"
            suffix, word = _OUTCOME_WORDS[r.kind][0 if what == "fired" else 1]
            ident = f"{mechanism}/{suffix}"
            event = Event(
                ident,
                mechanism,
                r.kind,
                word,
                f"{_KIND_WORDS[r.kind]} {r.id} {word}",
                paths.get(mechanism, f"{r.kind}.{r.id}"),
                (column,),
            )
            if r.kind == "red_line":
                crossed.setdefault(mechanism, []).append(column)
        known = found.get(event.id)
        if known is not None:
            event = dataclasses.replace(known, columns=(*known.columns, column))
        found[event.id] = event
    for mechanism, columns in crossed.items():
        name = mechanism.partition(":")[2]
        ident = f"{mechanism}/crossed"
        found[ident] = Event(
            ident,
            mechanism,
            "red_line",
            "crossed",
            f"red line {name} crossed",
            paths.get(mechanism, f"red_lines.{name}"),
            tuple(sorted(columns)),
            in_paths=False,
        )
    return tuple(found.values())


def _column_effects(program: Program) -> list[Effect]:
    """The effect of each column of the event record (in its order: scheduled reactions' and
    rules' firing and failing, then each decider's candidates' actions)."""
    effects: list[Effect] = []
    for r in (*program.schedule, *program.rules):
        effects += [r.fire, r.fail]
    for d in program.deciders:
        effects += [program.actions[c].effect for c in d.candidates[1:]]
    return effects


def _reads(expr: Expr, program: Program) -> tuple[set[int], set[int], bool]:
    """The variables and tags an expression reads, and whether it reads the ladder."""
    names: set[int] = set()
    tags: set[int] = set()
    ladder = False
    variables = program.var_names
    stack = [expr]
    while stack:
        node = stack.pop()
        if isinstance(node, Name):
            if node.name in variables:
                names.add(variables.index(node.name))
            ladder = ladder or node.name in ("level", "peak_level")
        if isinstance(node, Call) and node.func in ("happened", "now", "count"):
            pattern = node.args[0]
            if isinstance(pattern, Str):
                tags.update(match_tags(pattern.value, program.tags))
        stack.extend(children(node))
    return names, tags, ladder


def causes(program: Program, events: tuple[Event, ...], outcome: str) -> NDArray[np.bool_]:
    """Which events could make ``outcome``'s condition hold: their effects emit a tag or
    change a variable it reads, or reach a rung when it reads the ladder."""
    test = next(o for o in program.outcomes if o.id == outcome)
    names, tags, ladder = _reads(test.when.tree, program)
    effects = _column_effects(program)
    direct = [
        bool(names & {d.var for d in e.deltas})
        or bool(tags & set(e.tags))
        or (ladder and e.level >= 0)
        for e in effects
    ]
    return np.array([any(direct[c] for c in e.columns) for e in events], dtype=np.bool_)


# -- the result ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventStat:
    """One event's place on the way to an outcome (see the module's definitions)."""

    event: Event
    #: hits in which it happened by the hit
    before: int
    share: float
    #: mean steps from its first happening to the hit; None where it never preceded a hit
    lead: float | None
    #: P(it happened by the same step | the outcome was not reached); None with no such run
    p_not: float | None
    #: P(it happened by the horizon | the outcome was not reached)
    p_not_end: float | None
    #: share / p_not (inf where p_not is 0 and share is not; None where undefined)
    lift: float | None
    on_route: bool


@dataclass(frozen=True)
class Route:
    """A path to the outcome: the on-route events of a hit, in the order they happened, and
    the share of hits (of those sampled) that took it, with its 95% Wilson interval."""

    events: tuple[str, ...]
    labels: tuple[str, ...]
    count: int
    share: float
    lo: float
    hi: float

    @property
    def text(self) -> str:
        return " → ".join(self.labels) if self.labels else "(no event on route)"


@dataclass(frozen=True)
class Paths:
    """The result of :func:`why`: per event its share of hits, lead time and lift
    (:attr:`table`), and the most frequent paths to the outcome (:attr:`paths`)."""

    scenario: str
    outcome: str
    outcome_name: str
    runs: int
    seed: int
    levers: Mapping[str, str]
    lens: str | None
    backend: str
    #: the scenario's step (``month``): leads are in these
    step: str
    horizon: int
    #: runs that reached the outcome
    hits: int
    #: hits whose paths were counted (all of them, or a uniform sample of ``SAMPLE``)
    sampled: int
    #: distinct paths among those
    distinct: int
    #: every event of the program, on-route ones first, each group by share of hits
    events: tuple[EventStat, ...]
    #: the most frequent paths, most frequent first (at most ``MAX_ROUTES``)
    routes: tuple[Route, ...]
    seconds: float = 0.0

    @property
    def p(self) -> float:
        """The outcome's probability: hits / runs."""
        return self.hits / self.runs if self.runs else math.nan

    def __repr__(self) -> str:
        return (
            f"Paths(scenario={self.scenario!r}, outcome={self.outcome!r}, hits={self.hits}, "
            f"runs={self.runs}, seed={self.seed}, levers={dict(self.levers)!r}, "
            f"lens={self.lens!r}, routes={len(self.routes)})"
        )

    @property
    def caption(self) -> str:
        """What the paths are of, in one line."""
        lens = f", lens {self.lens}" if self.lens else ""
        return (
            f"{self.outcome_name}: {self.hits:,} of {self.runs:,} runs ({self.p:.1%}) of "
            f"{self.scenario}, seed {self.seed}{lens}"
        )

    def to_arrow(self) -> pa.Table:
        """The events (:attr:`table`): a row per event, its share of hits, lead and lift."""
        return self.table

    def to_pandas(self) -> pandas.DataFrame:
        """The events (:attr:`table`) as a pandas DataFrame (pandas is imported now)."""
        return pandas_frame(self.table)

    def _repr_html_(self) -> str:
        """In a notebook: the most frequent paths, then the events on route to the outcome."""
        paths = self.paths.select(["rank", "path", "count", "share", "lo", "hi"])
        events = self.table.filter(self.table.column("on_route")).select(
            ["label", "before", "share", "lead", "lift"]
        )
        shares = {"share": percent_cell, "lo": percent_cell, "hi": percent_cell}
        return arrow_html(paths, f"{self.caption}: most frequent paths", shares) + arrow_html(
            events, f"events on route to {self.outcome_name}", {"share": percent_cell}
        )

    @property
    def on_route(self) -> tuple[EventStat, ...]:
        return tuple(e for e in self.events if e.on_route)

    @property
    def dominant(self) -> Route | None:
        """The path of at least two events that explains more than 80% of the hits (the lower
        end of its share's interval above 0.8), if there is one: a dominant chain."""
        top = self.routes[0] if self.routes else None
        return top if top is not None and _dominates(top, DOMINANT) else None

    @property
    def table(self) -> pa.Table:
        """One row per event: ``event`` (id), ``mechanism``, ``kind``, ``what``, ``label``,
        ``path`` (its scenario element), ``before`` (hits it preceded), ``share`` of hits,
        ``lead`` (mean steps before the hit), ``p_not`` (by the same step without a hit),
        ``p_not_end`` (by the horizon without one), ``lift`` and ``on_route``."""
        rows = self.events
        return pa.table(
            {
                "event": pa.array([e.event.id for e in rows], pa.string()),
                "mechanism": pa.array([e.event.mechanism for e in rows], pa.string()),
                "kind": pa.array([e.event.kind for e in rows], pa.string()),
                "what": pa.array([e.event.what for e in rows], pa.string()),
                "label": pa.array([e.event.label for e in rows], pa.string()),
                "path": pa.array([e.event.path for e in rows], pa.string()),
                "before": pa.array([e.before for e in rows], pa.int64()),
                "share": pa.array([e.share for e in rows], pa.float64()),
                "lead": pa.array([e.lead for e in rows], pa.float64()),
                "p_not": pa.array([e.p_not for e in rows], pa.float64()),
                "p_not_end": pa.array([e.p_not_end for e in rows], pa.float64()),
                "lift": pa.array([e.lift for e in rows], pa.float64()),
                "on_route": pa.array([e.on_route for e in rows], pa.bool_()),
            }
        )

    @property
    def paths(self) -> pa.Table:
        """One row per path, most frequent first: ``rank``, ``path`` (in words, ``→`` between
        events), ``events`` (their ids), ``length``, ``count`` (sampled hits that took it),
        ``share`` of those hits and its 95% interval ``lo``–``hi``."""
        rows = self.routes
        return pa.table(
            {
                "rank": pa.array(range(1, len(rows) + 1), pa.int64()),
                "path": pa.array([r.text for r in rows], pa.string()),
                "events": pa.array([list(r.events) for r in rows], pa.list_(pa.string())),
                "length": pa.array([len(r.events) for r in rows], pa.int64()),
                "count": pa.array([r.count for r in rows], pa.int64()),
                "share": pa.array([r.share for r in rows], pa.float64()),
                "lo": pa.array([r.lo for r in rows], pa.float64()),
                "hi": pa.array([r.hi for r in rows], pa.float64()),
            }
        )

    def to_json(self) -> dict[str, object]:
        """The ``redline why --json`` form (a lift that is infinite is the string ``"inf"``)."""
        dominant = self.dominant
        return {
            "scenario": self.scenario,
            "outcome": {"id": self.outcome, "name": self.outcome_name},
            "runs": self.runs,
            "seed": self.seed,
            "levers": dict(self.levers),
            "lens": self.lens,
            "backend": self.backend,
            "step": self.step,
            "horizon": self.horizon,
            "hits": self.hits,
            "p": self.p,
            "paths_counted_on": self.sampled,
            "distinct_paths": self.distinct,
            "definitions": {
                "share": "hits in which the event happened by the hit step / hits",
                "lead": "mean steps from the event's first happening to the hit",
                "p_not": "P(event by the same step | not hit), weighted by the hits' steps",
                "lift": "share / p_not",
                "on_route": "lift > 1 beyond a one-sided 99.9% two-proportion z-test",
                "path": "the on-route events of a hit in the order they first happened",
            },
            "events": [
                {
                    "id": e.event.id,
                    "mechanism": e.event.mechanism,
                    "kind": e.event.kind,
                    "what": e.event.what,
                    "label": e.event.label,
                    "path": e.event.path,
                    "before": e.before,
                    "share": e.share,
                    "lead": e.lead,
                    "p_not": e.p_not,
                    "p_not_end": e.p_not_end,
                    "lift": "inf" if e.lift is not None and math.isinf(e.lift) else e.lift,
                    "on_route": e.on_route,
                }
                for e in self.events
            ],
            "paths": [
                {
                    "path": r.text,
                    "events": list(r.events),
                    "count": r.count,
                    "share": r.share,
                    "lo": r.lo,
                    "hi": r.hi,
                }
                for r in self.routes
            ],
            "dominant_chain": (
                None if dominant is None else {"path": dominant.text, "share": dominant.share}
            ),
            "seconds": self.seconds,
        }


def dominant_chains(
    results: Iterable[Paths], threshold: float = DOMINANT
) -> tuple[tuple[str, str, float], ...]:
    """The outcomes more than ``threshold`` explained by one path of at least two events (the
    lower end of its share's 95% interval above ``threshold``): (outcome, the path in words, its
    share of hits) each."""
    found = []
    for paths in results:
        top = paths.routes[0] if paths.routes else None
        if top is not None and _dominates(top, threshold):
            found.append((paths.outcome, top.text, top.share))
    return tuple(found)


def _dominates(route: Route, threshold: float) -> bool:
    return len(route.events) >= 2 and route.lo > threshold


# -- folding the record ---------------------------------------------------------------------------


def _mix(runs: NDArray[np.int64]) -> NDArray[np.uint64]:
    """A bijective hash of run indices (splitmix64's finaliser): the sample of hits is those
    that hash lowest, whatever the chunking."""
    z = runs.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


class _Tally:
    """The counters of one outcome. Their size depends on the program and the sample's cap,
    never on the number of runs."""

    def __init__(
        self, causes: NDArray[np.bool_], horizon: int, stride: int, sample: int, dtype: str
    ) -> None:
        n_events = len(causes)
        self.causes = causes
        self.stride = stride
        self.runs = 0
        self.hits = 0
        self.hit_steps = np.zeros(horizon, dtype=np.int64)
        self.before = np.zeros(n_events, dtype=np.int64)
        self.lead = np.zeros(n_events, dtype=np.int64)
        self.not_at = np.zeros((n_events, horizon), dtype=np.int64)
        self.cap = sample
        self.keys = np.zeros(0, dtype=np.uint64)
        self.codes = np.zeros((0, n_events), dtype=dtype)

    @property
    def nbytes(self) -> int:
        arrays = (self.hit_steps, self.before, self.lead, self.not_at, self.keys, self.codes)
        return sum(a.nbytes for a in arrays)

    def add(
        self,
        hit_step: NDArray[np.int32],
        codes: NDArray[Any],
        steps: NDArray[Any],
        runs: NDArray[np.int64],
    ) -> None:
        """Fold in a chunk: each run's first-hit step (-1: never), its events' codes and first
        steps (-1: never)."""
        n_events, horizon = self.not_at.shape
        hit = hit_step >= 0
        self.runs += len(hit_step)
        h = hit_step[hit].astype(np.int64)
        self.hits += len(h)
        self.hit_steps += np.bincount(h, minlength=horizon)[:horizon]
        s = steps[hit]
        c = codes[hit].astype(np.int64)
        # of the hit's step: what came before the first event that could have caused the hit,
        # and the causes at its stage (the whole step where no cause happened in it)
        top = np.iinfo(np.int64).max
        cause = np.where((s == h[:, None]) & self.causes[None, :], c, top).min(axis=1)
        cut = np.where(cause == top, (h + 1) * self.stride, cause)[:, None]
        before = (c >= 0) & ((c < cut) | ((c == cut) & self.causes[None, :]))
        self.before += before.sum(axis=0)
        self.lead += np.where(before, h[:, None] - s, 0).sum(axis=0)
        missed = steps[~hit]
        happened = missed >= 0
        index = np.nonzero(happened)[1].astype(np.int64) * horizon + missed[happened]
        self.not_at += np.bincount(index, minlength=n_events * horizon).reshape(n_events, horizon)
        if not len(h) or not self.cap:
            return
        keys = _mix(runs[hit])
        if len(self.keys) >= self.cap:
            take = keys < self.keys.max()
            if not take.any():
                return
            keys, before, kept = keys[take], before[take], c[take]
        else:
            kept = c
        keys = np.concatenate([self.keys, keys])
        rows = np.concatenate([self.codes, np.where(before, kept, -1).astype(self.codes.dtype)])
        if len(keys) > self.cap:
            keep = np.argpartition(keys, self.cap - 1)[: self.cap]
            keys, rows = keys[keep], rows[keep]
        self.keys, self.codes = keys, rows


class Recorder:
    """Folds chunk results' event records into counters for some outcomes of a program
    (:meth:`add` each chunk, then :meth:`result` per outcome); memory stays bounded by the
    program and ``sample``, whatever the number of runs."""

    def __init__(
        self,
        program: Program,
        outcomes: Sequence[str] | None = None,
        sample: int = SAMPLE,
        min_lift: float = MIN_LIFT,
    ) -> None:
        self.program = program
        self.min_lift = min_lift
        self.layout = event_layout(program)
        self.events = catalogue(program)
        ids = [o.id for o in program.outcomes]
        self.outcomes = list(outcomes) if outcomes is not None else ids
        self.index = [ids.index(o) for o in self.outcomes]
        self.tallies = {
            o: _Tally(
                causes(program, self.events, o),
                program.horizon,
                self.layout.stride,
                sample,
                self.layout.dtype,
            )
            for o in self.outcomes
        }

    @property
    def nbytes(self) -> int:
        """The counters' size in bytes (bounded: it does not grow with the runs)."""
        return sum(t.nbytes for t in self.tallies.values())

    def codes(self, record: NDArray[Any]) -> NDArray[Any]:
        """The record's columns merged into events: each event's first code (-1: never)."""
        out = np.empty((record.shape[0], len(self.events)), dtype=record.dtype)
        top = np.iinfo(record.dtype).max
        for j, e in enumerate(self.events):
            if len(e.columns) == 1:
                out[:, j] = record[:, e.columns[0]]
                continue
            part = record[:, list(e.columns)]
            first = np.where(part < 0, top, part).min(axis=1)
            out[:, j] = np.where(first == top, -1, first)
        return out

    def add(self, chunk: ChunkResult) -> None:
        if chunk.events is None:
            raise ValueError("the chunk result has no event record (run it with events=True)")
        codes = self.codes(np.asarray(chunk.events))
        steps = np.where(codes >= 0, codes // self.layout.stride, -1).astype(codes.dtype)
        for o, k in zip(self.outcomes, self.index, strict=True):
            self.tallies[o].add(chunk.first_hit[:, k], codes, steps, chunk.runs)

    def result(
        self,
        outcome: str,
        *,
        scenario: str,
        seed: int,
        levers: Mapping[str, str],
        lens: str | None,
        backend: str,
        step: str,
        seconds: float = 0.0,
    ) -> Paths:
        """The paths to ``outcome`` from what has been added."""
        t = self.tallies[outcome]
        stats = _event_stats(self.events, t, self.min_lift)
        routes, distinct = _routes(self.events, stats, t, self.layout.stride)
        name = next(o.name for o in self.program.outcomes if o.id == outcome)
        return Paths(
            scenario=scenario,
            outcome=outcome,
            outcome_name=name,
            runs=t.runs,
            seed=seed,
            levers=dict(levers),
            lens=lens,
            backend=backend,
            step=step,
            horizon=self.program.horizon,
            hits=t.hits,
            sampled=len(t.keys),
            distinct=distinct,
            events=stats,
            routes=routes,
            seconds=seconds,
        )


def _event_stats(events: tuple[Event, ...], t: _Tally, min_lift: float) -> tuple[EventStat, ...]:
    n_hit, n_not = t.hits, t.runs - t.hits
    z = NormalDist().inv_cdf(ON_ROUTE_CONFIDENCE)
    if n_not:
        by = np.cumsum(t.not_at, axis=1) / n_not  # P(event by step t | not hit)
        weights = t.hit_steps / n_hit if n_hit else np.zeros(len(t.hit_steps))
        p_not: NDArray[np.float64] | None = by @ weights
        p_end: NDArray[np.float64] | None = by[:, -1]
    else:
        p_not = p_end = None
    stats = []
    for j, e in enumerate(events):
        before = int(t.before[j])
        share = before / n_hit if n_hit else 0.0
        lead = float(t.lead[j]) / before if before else None
        # a weighted mean of probabilities: rounding can leave it a hair outside [0, 1]
        q = None if p_not is None else min(max(float(p_not[j]), 0.0), 1.0)
        lift: float | None = None
        on_route = False
        if q is not None and n_hit:
            lift = share / q if q > 0 else (math.inf if share > 0 else None)
            se = math.sqrt(share * (1 - share) / n_hit + q * (1 - q) / n_not)
            on_route = (
                lift is not None
                and lift >= min_lift
                and share > q
                and (se == 0.0 or (share - q) / se > z)
            )
        stats.append(
            EventStat(
                e,
                before,
                share,
                lead,
                q,
                None if p_end is None else float(p_end[j]),
                lift,
                on_route,
            )
        )
    stats.sort(key=lambda s: (not s.on_route, -s.share, s.event.id))
    return tuple(stats)


def _routes(
    events: tuple[Event, ...], stats: tuple[EventStat, ...], t: _Tally, stride: int
) -> tuple[tuple[Route, ...], int]:
    """The sampled hits' paths, counted: the most frequent (at most MAX_ROUTES) and how many
    distinct paths there were."""
    sampled = len(t.keys)
    if not sampled:
        return (), 0
    index = {e.id: j for j, e in enumerate(events)}
    route = sorted(index[s.event.id] for s in stats if s.on_route and s.event.in_paths)
    if not route:
        lo, hi = wilson_interval(sampled, sampled)
        return (Route((), (), sampled, 1.0, lo, hi),), 1
    codes = t.codes[:, route].astype(np.int64)
    width = len(route)
    # order each hit's events by their code, then program order; absent ones last
    keys = np.where(codes >= 0, codes * width + np.arange(width), np.iinfo(np.int64).max)
    order = np.argsort(keys, axis=1, kind="stable")
    present = np.take_along_axis(codes >= 0, order, axis=1)
    seq = np.where(present, order, -1)
    unique, counts = np.unique(seq, axis=0, return_counts=True)
    ranked = sorted(zip(counts.tolist(), unique.tolist(), strict=True), key=lambda x: -x[0])
    merged: dict[tuple[str, ...], tuple[tuple[str, ...], int]] = {}
    for count, row in ranked:
        chosen = [events[route[k]] for k in row if k >= 0]
        labels: list[str] = []
        ids: list[str] = []
        for e in chosen:  # repeats collapsed: consecutive events with the same label
            if not labels or labels[-1] != e.label:
                labels.append(e.label)
                ids.append(e.id)
        key = tuple(labels)
        known = merged.get(key)
        merged[key] = (tuple(ids), count + (known[1] if known else 0))
    top = sorted(merged.items(), key=lambda kv: (-kv[1][1], kv[0]))[:MAX_ROUTES]
    routes = []
    for labels_key, (ids_key, count) in top:
        lo, hi = wilson_interval(count, sampled)
        routes.append(Route(ids_key, labels_key, count, count / sampled, lo, hi))
    return tuple(routes), len(merged)


# -- running ----------------------------------------------------------------------------------


def stream(
    backend: str,
    program: Program,
    seed: int,
    runs: int,
    consume: Callable[[ChunkResult], None],
    *,
    chunk_size: int = DEFAULT_CHUNK,
    threads: int | None = None,
    progress: Progress | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> None:
    """Simulate runs 0..``runs``-1 with the event record, handing each chunk's result to
    ``consume`` (in this thread) as it finishes: at most two chunks per thread are in hand at
    once, so memory does not grow with the runs. ``makers`` (plugged-in decision-makers, which
    need not be thread-safe) are asked from this thread, one chunk at a time."""
    threads = threads if threads is not None else _usable_cores()
    if threads < 1:
        raise RedlineValueError(f"threads must be at least 1, got {threads}", parameter="threads")
    size = min(chunk_size, max(1, math.ceil(runs / threads)))
    bounds = chunk_bounds(runs, size)
    threaded = backends.select(backend, program, events=True).capabilities.threads
    done = 0

    def one(start: int, stop: int) -> ChunkResult:
        ids = np.arange(start, stop, dtype=np.int64)
        return backends.run_chunk(backend, program, seed, ids, makers=makers, events=True)

    def take(result: ChunkResult) -> None:
        nonlocal done
        consume(result)
        done += len(result.runs)
        if progress:
            progress(done, runs)

    if threads == 1 or not threaded or len(bounds) == 1 or makers:
        for start, stop in bounds:
            take(one(start, stop))
        return
    pool = ThreadPoolExecutor(threads)
    pending: deque[Future[ChunkResult]] = deque()
    try:
        for start, stop in bounds:
            pending.append(pool.submit(one, start, stop))
            if len(pending) >= 2 * threads:
                take(pending.popleft().result())
        while pending:
            take(pending.popleft().result())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def _usable_cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def why(
    scenario: Scenario | LoadedScenario | str | Path,
    outcome: str,
    *,
    runs: int,
    seed: int = 0,
    levers: Mapping[str, str] | None = None,
    lens: str | None = None,
    backend: str = "numpy",
    chunk_size: int = DEFAULT_CHUNK,
    threads: int | None = None,
    sample: int = SAMPLE,
    progress: Progress | None = None,
    makers: Mapping[str, DecisionMaker] | None = None,
) -> Paths:
    """The paths to ``outcome`` over ``runs`` runs of one configuration (``levers``, ``lens``):
    for every mechanism event, the share of hits it preceded, its mean lead and its lift over
    the runs that missed the outcome, and the most frequent ordered paths of on-route events
    with the share of hits each explains (definitions in this module's documentation).

    Chunks stream through counters that do not grow with the runs; ``sample`` caps the hits
    whose paths are counted. The result is the same for any chunk size, thread count or
    backend. ``progress(done, total)`` is called with runs done as chunks finish. ``makers``
    replace the named actors' decision-makers (a language model's, replayed from its cache)."""
    started = time.perf_counter()
    s = _scenario(scenario)
    check_sizes(runs, chunk_size, 1, backend)
    check_index("seed", seed)
    if not isinstance(outcome, str):
        raise RedlineTypeError(
            f"outcome must be an outcome id, got {type(outcome).__name__}", parameter="outcome"
        )
    known = [o.id for o in s.outcomes]
    if outcome not in known:
        raise RedlineValueError(
            "outcome: " + suggest(outcome, known, "outcome"), parameter="outcome"
        )
    if sample < 0:
        raise RedlineValueError(f"sample must be at least 0, got {sample}", parameter="sample")
    config = resolve(s, levers, lens)
    program = compile_scenario(s, config)
    recorder = Recorder(program, [outcome], sample)
    stream(
        backend,
        program,
        seed,
        runs,
        recorder.add,
        chunk_size=chunk_size,
        threads=threads,
        progress=progress,
        makers=makers,
    )
    return recorder.result(
        outcome,
        scenario=s.id,
        seed=seed,
        levers=config.levers,
        lens=config.lens,
        backend=backend,
        step=s.time.step,
        seconds=time.perf_counter() - started,
    )


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
