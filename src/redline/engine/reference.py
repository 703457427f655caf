"""The reference interpreter: one run at a time, in plain Python — the specification.

It walks the same core program as the compiled engine, with the scalar expression evaluator and
the same random keys, and must give the same per-run summaries exactly (tests check this). It also
keeps a readable log of what happened, which is what ``redline story`` narrates.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redline.core.expr import Mode
from redline.core.primitives import libm
from redline.core.program import Decider, Effect, Expression, Program, Reaction
from redline.engine import rng
from redline.engine.deciders import (
    DecisionMaker,
    Situation,
    checked_choices,
    crossed_red_lines,
    require_makers,
    wants_history,
)
from redline.engine.equilibrium import EquilibriumError, Response, not_found, solve_logit_qre
from redline.engine.params import sample_params
from redline.engine.particles import Particles
from redline.engine.scalar import evaluate
from redline.engine.semantics import (
    HOLD,
    STAGE_DECIDE,
    STAGE_ROUND,
    STAGE_SCHEDULE,
    ChunkResult,
    EventLayout,
    Happening,
    RunResult,
    StepLog,
    event_layout,
)
from redline.engine.sites import decide_site, fire_site, perceive_site
from redline.engine.trouble import (
    TroubleCounter,
    checks,
    is_bad_probability,
    rule_column,
    scheduled_column,
    variable_column,
)


class _Run:
    """The state of one run, and the scalar environment its expressions read."""

    def __init__(
        self,
        program: Program,
        seed: int,
        run: int,
        keep_log: bool,
        makers: Mapping[str, DecisionMaker],
    ) -> None:
        require_makers(program.deciders, makers)
        self.p = program
        self.seed = seed
        self.makers = makers
        self.run = run
        self.step = 0
        drawn = sample_params(program.params, seed, np.array([run], dtype=np.int64))
        self.params = {
            k: np.float64(v[0] if isinstance(v, np.ndarray) else v) for k, v in drawn.items()
        }
        self.now: set[str] = set()
        self.ever: set[str] = set()
        self.counts: Counter[str] = Counter()
        self.choices: dict[str, str] = {}
        self.level = np.float64(0.0)
        self.peak = np.float64(0.0)
        self.x: dict[str, np.float64] = {}
        for var in program.variables:
            self.x[var.name] = self.clip(var.name, self.num(var.initial) + 0.0)
        self.beliefs: dict[str, list[np.float64]] = {}
        self.keep_log = keep_log
        self.happenings: list[Happening] = []
        #: what happened since the last decisions, for decision-makers that read it
        self.history = wants_history(makers)
        self.recent: list[Happening] = []
        #: the event record, when asked for: each event's first code (step × stride + stage)
        self.layout: EventLayout | None = None
        self.events: list[int] = []
        #: the chunk's trouble counts, when kept, and this run's position in the chunk
        self.counter: TroubleCounter | None = None
        self.position = 0

    # -- the scalar environment (what expressions see) ---------------------------------------
    @property
    def values(self) -> dict[str, Any]:
        return {
            **self.params,
            **self.x,
            "step": np.float64(self.step),
            "level": self.level,
            "peak_level": self.peak,
        }

    def uniform(self, site: int, sub: int = 0) -> np.float64:
        runs = np.array([self.run], dtype=np.int64)
        return np.float64(rng.uniform(self.seed, self.step, site, runs, sub)[0])

    def normal(self, site: int) -> np.float64:
        runs = np.array([self.run], dtype=np.int64)
        return np.float64(rng.standard_normal(self.seed, self.step, site, runs)[0])

    def choice(self, actor: str, action: str) -> bool:
        return self.choices.get(actor) == action

    def belief(self, actor: str, action: str) -> np.float64:
        decider = next(d for d in self.p.deciders if d.actor == actor)
        for k, c in enumerate(decider.candidates):
            if (c == HOLD and action == "hold") or (c != HOLD and self.p.actions[c].id == action):
                return self.beliefs[actor][k]
        return np.float64(0.0)

    def num(self, expr: Expression, mode: Mode = "sample") -> np.float64:
        return np.float64(evaluate(expr.tree, self, expr.site, mode))

    def truth(self, expr: Expression) -> bool:
        return bool(evaluate(expr.tree, self, expr.site, "sample"))

    def clip(self, name: str, value: np.float64) -> np.float64:
        var = self.p.variables[self.p.var_index(name)]
        return np.float64(np.minimum(np.maximum(value, var.lo), var.hi))

    # -- applying effects --------------------------------------------------------------------
    def perform(self, effects: list[Effect]) -> float:
        """Apply effects simultaneously; return the highest rung reached (or -1)."""
        names = self.p.var_names
        delta = {name: np.float64(0.0) for name in names}
        for effect in effects:
            for d in effect.deltas:
                delta[names[d.var]] = delta[names[d.var]] + self.num(d.expr)
        for name in names:
            self.x[name] = self.clip(name, self.x[name] + delta[name])
        reached = -1.0
        for effect in effects:
            for t in sorted(set(effect.tags)):
                tag = self.p.tags[t]
                self.now.add(tag)
                self.ever.add(tag)
                self.counts[tag] += 1
            reached = max(reached, float(effect.level))
        return reached

    def round(
        self,
        rules: tuple[Reaction, ...] | list[Reaction],
        spent: set[str],
        columns: list[int] | None = None,
        stage: int = 0,
        checked: list[int] | None = None,
    ) -> float | None:
        """One round of reactions; the highest rung reached, or None if no rule reacted.
        ``columns``: each rule's "fired" column in the event record, noted at ``stage``;
        ``checked``: each rule's NaN column among the trouble checks."""
        effects: list[Effect] = []
        for j, rule in enumerate(rules):
            if rule.id in spent or not self.truth(rule.trigger):
                continue
            probability = self.num(rule.probability)
            if checked is not None and is_bad_probability(probability):
                self.trouble(checked[j] + (0 if probability != probability else 1), probability)
            fired = bool(self.uniform(fire_site(rule)) < probability)
            effects.append(rule.fire if fired else rule.fail)
            spent.add(rule.id)
            self.note(rule.kind, rule.id, None, fired, rule.evidence)
            if columns is not None:
                self.mark(columns[j] + (0 if fired else 1), stage)
        if not effects:
            return None
        return self.perform(effects)

    def trouble(self, check: int, value: np.float64) -> None:
        """Note a check failing in this run at this step (when trouble is counted)."""
        if self.counter is not None:
            self.counter.note_one(check, self.position, self.run, self.step, float(value))

    def check_state(self) -> None:
        """Note every state variable that is NaN at the end of the step."""
        if self.counter is not None:
            for j, name in enumerate(self.p.var_names):
                if self.x[name] != self.x[name]:
                    self.trouble(variable_column(self.p, j), self.x[name])

    def mark(self, column: int, stage: int) -> None:
        """Note an event in the record (when kept) if it is its first time."""
        if self.layout is not None and self.events[column] < 0:
            self.events[column] = self.layout.code(self.step, stage)

    def note(
        self,
        kind: str,
        ident: str,
        actor: str | None,
        fired: bool,
        evidence: tuple[str, ...] = (),
        detail: str = "",
    ) -> None:
        if self.keep_log or self.history:
            happening = Happening(kind, ident, actor, fired, detail, evidence)
            if self.keep_log:
                self.happenings.append(happening)
            if self.history:
                self.recent.append(happening)

    # -- decisions ---------------------------------------------------------------------------
    def effect_value(self, effect: Effect, weights: dict[int, np.float64]) -> np.float64:
        total = np.float64(0.0)
        for d in effect.deltas:
            if d.var in weights:
                total = total + weights[d.var] * self.num(d.expr, "mean")
        return total

    def utilities(
        self, d: Decider, perceived: dict[int | str, np.float64]
    ) -> tuple[list[bool], list[np.float64]]:
        """Which candidates are available, and each one's expected one-step utility."""
        weights = {var: self.num(w) for var, w in d.weights}
        kappa = self.num(d.escalation_cost)
        sigma = self.num(d.perception_noise)
        utility = [np.float64(0.0)]
        feasible = [True]
        for k in range(1, len(d.candidates)):
            action = self.p.actions[d.candidates[k]]
            feasible.append(self.truth(action.requires))
            u = self.effect_value(action.effect, weights)
            u = u - kappa * np.float64(action.escalation)
            for c in d.crossings[k]:
                if c.red_line not in perceived:
                    cred = self.x[self.p.variables[c.credibility_var].name]
                    if sigma != 0.0:
                        if c.owner not in perceived:
                            perceived[c.owner] = self.normal(perceive_site(d.actor, c.owner))
                        cred = cred + sigma * perceived[c.owner]
                    perceived[c.red_line] = np.minimum(np.maximum(cred, 0.0), 1.0)
                if c.cost is not None:
                    cost = self.num(c.cost, "mean")
                else:
                    cost = -self.effect_value(d.responses[c.red_line], weights)
                u = u - self.num(c.when, "mean") * perceived[c.red_line] * cost
            utility.append(u)
        return feasible, utility

    def choice_weights(
        self, d: Decider, feasible: list[bool], utility: list[np.float64]
    ) -> list[np.float64]:
        """exp(λ(U − max U)) for each available candidate, 0 for the others."""
        lam = self.num(d.rationality)
        best = utility[0]
        for u, ok in zip(utility[1:], feasible[1:], strict=True):
            if ok:
                best = np.maximum(best, u)
        return [
            np.float64(libm("exp")(lam * (u - best))) if ok else np.float64(0.0)
            for u, ok in zip(utility, feasible, strict=True)
        ]

    def draw(self, d: Decider, weights: list[np.float64]) -> int:
        cumulative = []
        acc = np.float64(0.0)
        for z in weights:
            acc = acc + z
            cumulative.append(acc)
        target = self.uniform(decide_site(d.actor)) * cumulative[-1]
        return next((k for k, c in enumerate(cumulative) if c > target), len(cumulative) - 1)

    def fixed(self, d: Decider) -> int:
        return d.plan.get(self.step, 0) if d.kind == "scripted" else 0

    def consult(
        self, maker: DecisionMaker, d: Decider, perceived: dict[int | str, np.float64]
    ) -> int:
        """A plugged-in decision-maker's choice, asked with a batch of this one run."""
        feasible, utility = self.utilities(d, perceived)
        situation = Situation(
            actor=d.actor,
            step=self.step,
            runs=np.array([self.run], dtype=np.int64),
            actions=tuple("hold" if c == HOLD else self.p.actions[c].id for c in d.candidates),
            available=np.array([feasible], dtype=np.bool_),
            utility=np.array([utility], dtype=np.float64),
            state={
                k: np.array([v], dtype=np.float64) for k, v in {**self.params, **self.x}.items()
            },
            uniform=np.array([self.uniform(decide_site(d.actor))]),
            level=np.array([int(self.level)], dtype=np.int64),
            crosses=crossed_red_lines(self.p, d),
            credibility={
                self.p.rules[k].id: np.array([v], dtype=np.float64)
                for k, v in perceived.items()
                if isinstance(k, int)
            },
            recent=(tuple(self.recent),) if self.history else None,
        )
        return int(checked_choices(maker.decide(situation), situation)[0])

    def decide(self) -> list[int]:
        """Every actor's chosen candidate position (0 is hold), all on the same state; with
        interdependent utilities, at the step's logit quantal response equilibrium
        (:mod:`redline.engine.equilibrium`; plugged-in decision-makers answer first, on the
        starting beliefs: uniform for logit actors, certain for the others)."""
        deciders = self.p.deciders
        perceived: list[dict[int | str, np.float64]] = [{} for _ in deciders]
        weights: dict[int, list[np.float64]] = {}
        plugged = [i for i, d in enumerate(deciders) if d.actor in self.makers]
        logit = [i for i, d in enumerate(deciders) if d.kind == "logit" and i not in plugged]
        if self.p.strategic:
            self.beliefs = {}
            for d in deciders:
                K = len(d.candidates)
                if d.kind == "logit":
                    self.beliefs[d.actor] = [np.float64(1.0 / K)] * K
                else:
                    self.beliefs[d.actor] = [np.float64(k == self.fixed(d)) for k in range(K)]
        answered = {
            i: self.consult(self.makers[deciders[i].actor], deciders[i], perceived[i])
            for i in plugged
        }
        if self.p.strategic:
            for i, k in answered.items():
                K = len(deciders[i].candidates)
                self.beliefs[deciders[i].actor] = [np.float64(j == k) for j in range(K)]
            if logit:
                weights.update(self.equilibrium(logit, perceived))
        else:
            for i in logit:
                weights[i] = self.choice_weights(
                    deciders[i], *self.utilities(deciders[i], perceived[i])
                )
        return [
            answered[i]
            if i in answered
            else self.draw(d, weights[i])
            if d.kind == "logit"
            else self.fixed(d)
            for i, d in enumerate(deciders)
        ]

    def equilibrium(
        self, logit: list[int], perceived: list[dict[int | str, np.float64]]
    ) -> dict[int, list[np.float64]]:
        """The logit actors' choice weights at the step's quantal response equilibrium, solved
        by the kernel's solver with a batch of this one run (the others' beliefs are set)."""
        deciders = [self.p.deciders[i] for i in logit]

        def respond(beliefs: list[list[Any]]) -> Response:
            for d, belief in zip(deciders, beliefs, strict=True):
                self.beliefs[d.actor] = [np.float64(b[0]) for b in belief]
            return [
                (*self.utilities(d, perceived[i]), self.num(d.rationality))
                for i, d in zip(logit, deciders, strict=True)
            ]

        solution = solve_logit_qre(respond, [len(d.candidates) for d in deciders], 1)
        for d, belief in zip(deciders, solution.beliefs, strict=True):
            self.beliefs[d.actor] = [np.float64(b[0]) for b in belief]
        if not solution.converged[0]:
            raise EquilibriumError(not_found(self.step, self.run, [d.actor for d in deciders]))
        return {
            i: [np.float64(z[0]) for z in weights]
            for i, weights in zip(logit, solution.weights, strict=True)
        }

    # -- one step ----------------------------------------------------------------------------
    def advance(self) -> list[bool]:
        """Run one step; return which outcomes hold at its end."""
        p, t = self.p, self.step
        self.now.clear()
        self.choices = {}
        self.happenings = []
        reached = -1.0
        due = [r for r in p.schedule if r.at_step == t]
        if due:
            columns = [2 * i for i, r in enumerate(p.schedule) if r.at_step == t]
            checked = [scheduled_column(i) for i, r in enumerate(p.schedule) if r.at_step == t]
            got = self.round(due, set(), columns, STAGE_SCHEDULE, checked)
            reached = max(reached, -1.0 if got is None else got)
        new = [(p.variables[d.var].name, self.num(d.value)) for d in p.dynamics]
        for name, value in new:
            self.x[name] = value + 0.0
        for name in p.var_names:
            self.x[name] = self.clip(name, self.x[name])
        chosen = self.decide()
        self.recent = []
        if self.layout is not None:
            for i, k in enumerate(chosen):
                if k:
                    self.mark(self.layout.choices[i] + k - 1, STAGE_DECIDE)
        performed = []
        for d, k in zip(p.deciders, chosen, strict=True):
            action = "hold" if k == 0 else p.actions[d.candidates[k]].id
            self.choices[d.actor] = action
            self.note("decision", action, d.actor, True)
            if k:
                performed.append(p.actions[d.candidates[k]].effect)
        reached = max(reached, self.perform(performed))
        spent: set[str] = set()
        rule_columns = (
            None if self.layout is None else [self.layout.rule(r) for r in range(len(p.rules))]
        )
        rule_checks = [rule_column(p, r) for r in range(len(p.rules))]
        for depth in range(p.max_depth):
            got = self.round(p.rules, spent, rule_columns, STAGE_ROUND + depth, rule_checks)
            if got is None:
                break
            reached = max(reached, got)
        if reached >= 0:
            self.level = np.float64(reached)
        self.peak = max(self.peak, self.level)
        self.check_state()
        return [self.truth(o.when) for o in p.outcomes]


def run_reference(
    program: Program,
    seed: int,
    run: int,
    keep_log: bool = False,
    makers: Mapping[str, DecisionMaker] | None = None,
    events: bool = False,
    counter: TroubleCounter | None = None,
    position: int = 0,
) -> RunResult:
    """Simulate one run to its end, exactly as the compiled engine would; ``makers`` replace
    the named actors' scenario decision-makers; ``events`` keeps the event record
    (:func:`~redline.engine.semantics.event_layout`); ``counter`` counts its numerical
    trouble (:mod:`redline.engine.trouble`) as the run at ``position`` of a chunk."""
    state = _Run(program, seed, run, keep_log, makers or {})
    state.counter, state.position = counter, position
    if events:
        state.layout = event_layout(program)
        state.events = [-1] * state.layout.size
    first = [-1] * len(program.outcomes)
    steps = program.horizon
    log: list[StepLog] = []
    levels: list[int] = []
    with np.errstate(all="ignore"):
        for t in range(program.horizon):
            state.step = t
            hits = state.advance()
            levels.append(int(state.level))
            for o, hit in enumerate(hits):
                if hit and first[o] < 0:
                    first[o] = t
            if keep_log:
                log.append(
                    StepLog(
                        t,
                        int(state.level),
                        state.happenings,
                        sorted(state.now),
                        {k: float(v) for k, v in state.x.items()},
                    )
                )
            if any(hit and o.absorbing for hit, o in zip(hits, program.outcomes, strict=True)):
                steps = t + 1
                break
    drawn = {p.name: float(state.params[p.name]) for p in program.params if p.distribution}
    return RunResult(
        run=run,
        first_hit=first,
        peak_level=int(state.peak),
        steps=steps,
        final=[float(state.x[n]) for n in program.var_names],
        params=drawn,
        levels=levels,
        log=log,
        events=state.events,
    )


def run_reference_chunk(
    program: Program,
    seed: int,
    runs: NDArray[np.int64],
    *,
    trace: bool = False,
    makers: Mapping[str, DecisionMaker] | None = None,
    events: bool = False,
) -> ChunkResult:
    """The reference backend: the interpreter over a chunk, one run after another, shaped like
    the other backends' results. With ``trace``, the same records as the NumPy kernel's trace
    (one per run and step, step by step), taken from each run's log; with ``events``, the
    event record."""
    ids = np.asarray(runs, dtype=np.int64)
    counter = TroubleCounter(len(checks(program)), len(ids))
    results = [
        run_reference(
            program,
            seed,
            int(r),
            keep_log=trace,
            makers=makers,
            events=events,
            counter=counter,
            position=i,
        )
        for i, r in enumerate(ids)
    ]
    names = [p.name for p in program.params if p.distribution is not None]
    occupancy = np.zeros((program.horizon, len(program.rungs)), dtype=np.int64)
    for r in results:
        for t, level in enumerate(r.levels):
            occupancy[t, level] += 1
    n_out, n_var = len(program.outcomes), len(program.variables)
    return ChunkResult(
        runs=ids,
        first_hit=np.array([r.first_hit for r in results], dtype=np.int32).reshape(
            len(results), n_out
        ),
        peak_level=np.array([r.peak_level for r in results], dtype=np.int32),
        steps=np.array([r.steps for r in results], dtype=np.int32),
        final=np.array([r.final for r in results], dtype=np.float64).reshape(len(results), n_var),
        params={k: np.array([r.params[k] for r in results]) for k in names},
        occupancy=occupancy,
        trace=_trace_records(program, results) if trace else None,
        events=_event_record(program, results) if events else None,
        trouble=counter.trouble,
    )


def _event_record(program: Program, results: list[RunResult]) -> NDArray[np.int16]:
    """The runs' event records as one (runs, events) array."""
    layout = event_layout(program)
    record = np.array([r.events for r in results], dtype=layout.dtype)
    return record.reshape(len(results), layout.size)


def _trace_records(program: Program, results: list[RunResult]) -> list[dict[str, Any]]:
    """Runs' logs as trace records: for each step, each run still going (in chunk order), its
    rung, every actor's action, the rules that reacted and the events of the step (in program
    order), and the state at the end of the step."""
    records: list[tuple[int, int, dict[str, Any]]] = []
    for position, r in enumerate(results):
        for entry in r.log:
            reacted = {h.id for h in entry.happenings if h.kind not in ("decision", "schedule")}
            events = set(entry.events)
            actions = {
                h.actor: h.id
                for h in entry.happenings
                if h.kind == "decision" and h.actor is not None
            }
            record = {
                "run": r.run,
                "step": entry.step,
                "level": entry.level,
                "actions": {d.actor: actions[d.actor] for d in program.deciders},
                "rules": [rule.id for rule in program.rules if rule.id in reacted],
                "events": [tag for tag in program.tags if tag in events],
                "state": entry.state,
            }
            records.append((entry.step, position, record))
    records.sort(key=lambda k: k[:2])
    return [record for _, _, record in records]


# -- populations of runs: the ``particles`` capability (redline.engine.particles) --------------


class ReferenceParticles:
    """A population of runs, one :class:`_Run` each (a
    :class:`~redline.engine.particles.Particles`): the specification the NumPy kernel's
    population must match. A run that ends is no longer advanced; its state stays as it ended
    and nothing happens in it."""

    def __init__(
        self,
        program: Program,
        members: list[_Run],
        first: list[list[int]],
        ended: list[bool],
        step: int,
    ) -> None:
        self.program = program
        self.members = members
        self.first = first
        self.ended = ended
        self._step = step

    @classmethod
    def start(cls, program: Program, seed: int, runs: NDArray[np.int64]) -> ReferenceParticles:
        members = [_Run(program, seed, int(r), False, {}) for r in np.asarray(runs)]
        first = [[-1] * len(program.outcomes) for _ in members]
        return cls(program, members, first, [False] * len(members), 0)

    @property
    def size(self) -> int:
        return len(self.members)

    @property
    def step(self) -> int:
        return self._step

    def runs(self) -> NDArray[np.int64]:
        return np.array([m.run for m in self.members], dtype=np.int64)

    def advance(self, step: int) -> None:
        outcomes = self.program.outcomes
        with np.errstate(all="ignore"):
            for t in range(self._step, min(step, self.program.horizon)):
                for i, member in enumerate(self.members):
                    member.step = t
                    if self.ended[i]:
                        member.now.clear()
                        continue
                    hits = member.advance()
                    for o, hit in enumerate(hits):
                        if hit and self.first[i][o] < 0:
                            self.first[i][o] = t
                    if any(hit and o.absorbing for hit, o in zip(hits, outcomes, strict=True)):
                        self.ended[i] = True
                self._step = t + 1

    def evaluate(self, expr: Expression) -> NDArray[np.float64]:
        with np.errstate(all="ignore"):
            return np.array([float(m.num(expr)) for m in self.members], dtype=np.float64)

    def first_hits(self) -> NDArray[np.int32]:
        return np.array(self.first, dtype=np.int32).reshape(self.size, len(self.program.outcomes))

    def drawn(self) -> dict[str, NDArray[np.float64]]:
        names = [p.name for p in self.program.params if p.distribution is not None]
        return {k: np.array([float(m.params[k]) for m in self.members]) for k in names}

    def take(self, rows: NDArray[np.intp], runs: NDArray[np.int64]) -> ReferenceParticles:
        members = []
        for row, run in zip(np.asarray(rows), np.asarray(runs), strict=True):
            original = self.members[int(row)]
            # a copy of everything the run holds; the program and the makers are shared
            twin = copy.deepcopy(
                original, {id(original.p): original.p, id(original.makers): original.makers}
            )
            twin.run = int(run)
            members.append(twin)
        first = [list(self.first[int(r)]) for r in rows]
        ended = [self.ended[int(r)] for r in rows]
        return ReferenceParticles(self.program, members, first, ended, self._step)

    def join(self, others: Sequence[Particles]) -> ReferenceParticles:
        group = [self, *others]
        if not all(isinstance(p, ReferenceParticles) and p.step == self._step for p in group):
            raise ValueError("only populations of this backend at the same step can be joined")
        members = [p for p in group if isinstance(p, ReferenceParticles)]
        return ReferenceParticles(
            self.program,
            [m for p in members for m in p.members],
            [f for p in members for f in p.first],
            [e for p in members for e in p.ended],
            self._step,
        )


def start_reference_particles(program: Program, seed: int, runs: NDArray[np.int64]) -> Particles:
    """The reference backend's population constructor: runs ``runs`` of ``program`` before
    step 0."""
    return ReferenceParticles.start(program, seed, runs)
