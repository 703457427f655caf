"""The compiled engine: all live runs of a chunk advance together as NumPy arrays.

One step (DESIGN §5): (1) scheduled events, (2) dynamics, (3) decisions, (4) effects and events,
(5) rule cascades — each rule at most once per step, at most ``max_depth`` rounds, (6) outcomes,
and absorbed runs leave the chunk. Within a phase every expression reads the state as the phase
found it and all deltas are summed before they are applied, so the order of elements never
changes a result. :mod:`redline.engine.reference` is the same semantics, one run at a time.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from redline.core.primitives import libm
from redline.core.program import Decider, Delta, Effect, Expression, Program, Reaction
from redline.engine import rng
from redline.engine.deciders import (
    DecisionMaker,
    Situation,
    as_columns,
    checked_choices,
    crossed_red_lines,
    require_makers,
    wants_history,
)
from redline.engine.equilibrium import EquilibriumError, Response, not_found, solve_logit_qre
from redline.engine.params import sample_params
from redline.engine.particles import Particles
from redline.engine.semantics import (
    HOLD,
    STAGE_DECIDE,
    STAGE_ROUND,
    STAGE_SCHEDULE,
    ChunkResult,
    Happening,
    event_layout,
)
from redline.engine.sites import decide_site, fire_site, perceive_site
from redline.engine.trouble import (
    TroubleCounter,
    checks,
    rule_column,
    scheduled_column,
    variable_column,
)
from redline.engine.vectorised import Closures, closures

F64 = NDArray[np.float64]
#: an actor's chosen candidate position per run, or one position for every run
Chosen = NDArray[np.int64] | np.int64
#: a round of reactions in fewer than one run in SPARSE is applied to those runs alone
SPARSE = 8


@dataclass
class _Env:
    """What compiled expressions read: the live runs' state, events and draws."""

    values: Mapping[str, Any]
    now: Any  # (runs, tags) bool array, or a _Rows view of one
    ever: Any
    count: Any
    draws: rng.KeyedDraws
    positions: dict[str, dict[str, int]]
    code: Closures
    choices: Mapping[str, Chosen] = field(default_factory=dict)
    beliefs: dict[str, list[F64]] = field(default_factory=dict)

    def sample(self, expr: Expression) -> Any:
        """The expression's value in every run (a scalar where it does not vary)."""
        return self.code.get(expr, "sample")(self)

    def mean(self, expr: Expression) -> Any:
        """Its expected value over its draws, with beliefs in place of others' choices."""
        return self.code.get(expr, "mean")(self)

    def choice(self, actor: str, action: str) -> NDArray[np.bool_] | np.bool_:
        chosen: NDArray[np.bool_] | np.bool_ = self.choices[actor] == self.positions[actor].get(
            action, -2
        )
        return chosen

    def belief(self, actor: str, action: str) -> F64 | float:
        position = self.positions[actor].get(action)
        return 0.0 if position is None else self.beliefs[actor][position]


@dataclass(frozen=True)
class _ChoiceTable:
    """One actor's candidates as lookup tables indexed by the chosen position: constant deltas
    per variable, deltas that need evaluating, emitted tags, and ladder levels."""

    constant: list[tuple[int, F64]]
    computed: list[tuple[int, Delta]]
    tags: list[tuple[int, tuple[int, ...]]]  # each tag and the candidates that emit it
    levels: F64

    @property
    def trivial(self) -> bool:
        """An actor with nothing to choose but hold."""
        return len(self.levels) == 1

    @classmethod
    def of(cls, program: Program, d: Decider) -> _ChoiceTable:
        K = len(d.candidates)
        effects = [Effect() if c == HOLD else program.actions[c].effect for c in d.candidates]
        constant: dict[int, F64] = {}
        computed: list[tuple[int, Delta]] = []
        tags: dict[int, list[int]] = {}
        for k, effect in enumerate(effects):
            for delta in effect.deltas:
                if isinstance(delta.expr.constant, float):
                    constant.setdefault(delta.var, np.zeros(K))[k] = delta.expr.constant
                else:
                    computed.append((k, delta))
            for tag in effect.unique_tags:
                tags.setdefault(tag, []).append(k)
        levels = np.array([float(e.level) for e in effects])
        return cls(
            list(constant.items()), computed, [(tag, tuple(ks)) for tag, ks in tags.items()], levels
        )


def count_dtype(program: Program) -> np.dtype[Any]:
    """The narrowest unsigned integer that holds any tag's count to the horizon: a tag is
    emitted at most once a step by each actor whose actions emit it and by each rule.

    Event counts are most of a chunk's memory, and the engine is bound by memory traffic."""
    emitters = [0] * len(program.tags)
    for d in program.deciders:
        emitted: set[int] = set()
        for c in d.candidates:
            if c != HOLD:
                emitted.update(program.actions[c].effect.tags)
        for tag in emitted:
            emitters[tag] += 1
    for rule in (*program.schedule, *program.rules):
        for tag in set(rule.fire.tags) | set(rule.fail.tags):
            emitters[tag] += 1
    bound = max(emitters, default=0) * program.horizon
    return next(
        np.dtype(t) for t in (np.uint8, np.uint16, np.uint32, np.uint64) if bound <= np.iinfo(t).max
    )


class _Rows:
    """Columns of a (tags, runs) event table as expressions read it, (runs, tags), for every run
    or only those at ``rows``, gathered on demand: expressions read a few tags, so only those
    are copied. ``positive`` reads a count table as whether each count is above zero."""

    def __init__(
        self, table: NDArray[Any], rows: NDArray[np.intp] | None, positive: bool = False
    ) -> None:
        self.table, self.rows, self.positive = table, rows, positive

    def __getitem__(self, key: tuple[slice, Any]) -> NDArray[Any]:
        _, columns = key
        picked = self.table[columns]
        if self.rows is not None:
            picked = picked[..., self.rows]
        return (picked > 0 if self.positive else picked).T  # type: ignore[no-any-return]


class _RowValues(Mapping[str, Any]):
    """``env.values`` for the runs at ``rows``: each name gathered when first read."""

    def __init__(self, chunk: _Chunk, step: int, rows: NDArray[np.intp]) -> None:
        self.chunk, self.rows, self.step = chunk, rows, float(step)
        self.index = {v.name: i for i, v in enumerate(chunk.p.variables)}
        self.cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self.cache:
            c = self.chunk
            if name in self.index:
                value: Any = c.X[self.index[name], self.rows]
            elif name == "step":
                value = self.step
            elif name in ("level", "peak_level"):
                value = (c.level if name == "level" else c.peak)[self.rows]
            else:
                value = c.params[name]
                value = value[self.rows] if isinstance(value, np.ndarray) else value
            self.cache[name] = value
        return self.cache[name]

    def __iter__(self) -> Iterator[str]:
        return iter([*self.index, "step", "level", "peak_level", *self.chunk.params])

    def __len__(self) -> int:
        return len(self.index) + 3 + len(self.chunk.params)


class _RowChoices(Mapping[str, Chosen]):
    """``env.choices`` for the runs at ``rows``: each actor's gathered when first read."""

    def __init__(self, choices: Mapping[str, Chosen], rows: NDArray[np.intp]) -> None:
        self.choices, self.rows = choices, rows

    def __getitem__(self, actor: str) -> Chosen:
        chosen = self.choices[actor]
        return chosen[self.rows] if isinstance(chosen, np.ndarray) else chosen

    def __iter__(self) -> Iterator[str]:
        return iter(self.choices)

    def __len__(self) -> int:
        return len(self.choices)


def _value(expr: Expression, env: _Env, n: int) -> F64:
    return np.broadcast_to(np.asarray(env.sample(expr), dtype=np.float64), (n,))


def _truth(expr: Expression, env: _Env, n: int) -> NDArray[np.bool_]:
    return np.broadcast_to(np.asarray(env.sample(expr), dtype=np.bool_), (n,))


class _Chunk:
    """The mutable state of a chunk's live runs during one simulation."""

    def __init__(
        self,
        program: Program,
        seed: int,
        runs: NDArray[np.int64],
        trace: bool,
        makers: Mapping[str, DecisionMaker],
        *,
        events: bool = False,
    ) -> None:
        require_makers(program.deciders, makers)
        self.p = program
        self.seed = seed
        self.makers = makers
        n = len(runs)
        self.runs = runs.astype(np.int64)
        self.pos = np.arange(n)
        self.done = np.zeros(n, dtype=np.bool_)
        self.params = sample_params(program.params, seed, self.runs)
        self.lo = np.array([v.lo for v in program.variables])[:, None]
        self.hi = np.array([v.hi for v in program.variables])[:, None]
        # event tables are stored one row per tag, so emitting is a row operation; a tag has
        # happened where its count is above zero
        n_tags = len(program.tags)
        self.now = np.zeros((n_tags, n), dtype=np.bool_)
        self.count = np.zeros((n_tags, n), dtype=count_dtype(program))
        self.level = np.zeros(n)
        self.peak = np.zeros(n)
        self.choices: dict[str, Chosen] = {}
        self.positions = {
            d.actor: {
                ("hold" if c == HOLD else program.actions[c].id): k
                for k, c in enumerate(d.candidates)
            }
            for d in program.deciders
        }
        self.tables = [_ChoiceTable.of(program, d) for d in program.deciders]
        self.code = closures(program)
        self.X = np.zeros((len(program.variables), n))
        env = self.env(0)
        for i, var in enumerate(program.variables):
            self.X[i] = _value(var.initial, env, n)
        self.X = np.minimum(np.maximum(self.X + 0.0, self.lo), self.hi)
        # outputs, indexed by a run's position in the chunk, a row per outcome or variable
        self.out_first = np.full((len(program.outcomes), n), -1, dtype=np.int32)
        self.first = self.out_first.copy()
        self.out_peak = np.zeros(n, dtype=np.int32)
        self.out_steps = np.full(n, program.horizon, dtype=np.int32)
        self.out_final = np.zeros((len(program.variables), n))
        self.occupancy = np.zeros((program.horizon, len(program.rungs)), dtype=np.int64)
        self.trace: list[dict[str, Any]] | None = [] if trace else None
        # the event record, when asked for: (events, runs) codes of each event's first time
        self.layout = event_layout(program) if events else None
        self.events: NDArray[Any] | None = None
        self.out_events: NDArray[Any] | None = None
        if self.layout is not None:
            self.events = np.full((self.layout.size, n), -1, dtype=self.layout.dtype)
            self.out_events = self.events.copy()
        # numerical trouble, counted by a run's position in the chunk (not kept by particles)
        self.counter: TroubleCounter | None = TroubleCounter(len(checks(program)), n)
        # what happened since the last decisions, kept for decision-makers that read it:
        # (decider, its choices) and (reaction, fired, failed), masks over the chunk's runs
        self.history = wants_history(makers)
        self.recent: list[tuple[Decider, Chosen] | tuple[Reaction, Any, Any]] = []

    @property
    def n(self) -> int:
        return len(self.runs)

    def env(self, step: int, rows: NDArray[np.intp] | None = None) -> _Env:
        """What expressions read: every live run, or only the runs at positions ``rows``."""
        if rows is None:
            values: dict[str, Any] = dict(self.params)
            for i, var in enumerate(self.p.variables):
                values[var.name] = self.X[i]
            values.update(step=float(step), level=self.level, peak_level=self.peak)
            return _Env(
                values,
                self.now.T,
                _Rows(self.count, None, positive=True),
                self.count.T,
                rng.KeyedDraws(self.seed, step, self.runs),
                self.positions,
                self.code,
                self.choices,
            )
        return _Env(
            _RowValues(self, step, rows),
            _Rows(self.now, rows),
            _Rows(self.count, rows, positive=True),
            _Rows(self.count, rows),
            rng.KeyedDraws(self.seed, step, self.runs[rows]),
            self.positions,
            self.code,
            _RowChoices(self.choices, rows),
        )

    # -- applying effects --------------------------------------------------------------------
    def perform(
        self,
        batch: list[tuple[Effect, NDArray[np.bool_]]],
        env: _Env,
        step_level: F64,
        rows: NDArray[np.intp] | None = None,
    ) -> None:
        """Apply effects simultaneously: every delta read from the same state (``env``), then
        the events. Masks are over the runs ``env`` holds: all, or those at ``rows``."""
        size = self.n if rows is None else len(rows)
        D: dict[int, F64] = {}
        for effect, mask in batch:
            for delta in effect.deltas:
                value = np.where(mask, _value(delta.expr, env, size), 0.0)
                D[delta.var] = D[delta.var] + value if delta.var in D else 0.0 + value
        for var, added in D.items():
            if rows is None:
                np.minimum(
                    np.maximum(self.X[var] + added, self.lo[var]), self.hi[var], out=self.X[var]
                )
            else:
                self.X[var, rows] = np.minimum(
                    np.maximum(self.X[var, rows] + added, self.lo[var]), self.hi[var]
                )
        for effect, mask in batch:
            if rows is None:  # dense masks: whole-row operations
                for tag in effect.unique_tags:
                    self.now[tag] |= mask
                    self.count[tag] += mask.view(np.uint8)
                if effect.level >= 0:
                    np.maximum(
                        step_level, np.where(mask, float(effect.level), -1.0), out=step_level
                    )
                continue
            at = rows[mask]
            for tag in effect.unique_tags:
                self.now[tag, at] = True
                self.count[tag, at] += 1
            if effect.level >= 0:
                step_level[at] = np.maximum(step_level[at], float(effect.level))

    def perform_choices(self, chosen: list[Chosen], env: _Env, step_level: F64) -> None:
        """Apply every actor's chosen action: :meth:`perform` for one batch, computed through
        per-actor lookup tables indexed by the choice instead of a mask per candidate.

        A choice that is the same in every run (a doctrine's hold, a scripted plan) is a
        scalar, and costs no array work unless its action changes something."""
        D: dict[int, Any] = {}
        for table, choice in zip(self.tables, chosen, strict=True):
            if table.trivial:
                continue
            contribution: dict[int, Any] = {
                var: lut[choice] if np.ndim(choice) == 0 else np.take(lut, choice)
                for var, lut in table.constant
            }
            for k, delta in table.computed:
                mask = choice == k
                if mask.any():
                    value = np.where(mask, _value(delta.expr, env, self.n), 0.0)
                    contribution[delta.var] = contribution.get(delta.var, 0.0) + value
            for var, value in contribution.items():
                D[var] = D[var] + value if var in D else 0.0 + value
        for var, delta in D.items():
            if np.ndim(delta) == 0 and delta == 0.0:
                continue
            np.minimum(np.maximum(self.X[var] + delta, self.lo[var]), self.hi[var], out=self.X[var])
        for table, choice in zip(self.tables, chosen, strict=True):
            if table.trivial:
                continue
            if np.ndim(choice) == 0:
                for tag, ks in table.tags:
                    if choice in ks:
                        self.now[tag] = True
                        self.count[tag] += 1
                if table.levels[choice] > -1.0:
                    np.maximum(step_level, table.levels[choice], out=step_level)
                continue
            chose = {k: choice == k for _, ks in table.tags for k in ks}
            for tag, ks in table.tags:
                hit = chose[ks[0]]
                for k in ks[1:]:
                    hit = hit | chose[k]
                self.now[tag] |= hit
                self.count[tag] += hit.view(np.uint8)
            np.maximum(step_level, np.take(table.levels, choice), out=step_level)

    # -- rules -------------------------------------------------------------------------------
    def try_rules(
        self,
        rules: tuple[Reaction, ...] | list[Reaction],
        spent: NDArray[np.bool_],
        step: int,
        step_level: F64,
        rows: NDArray[np.intp] | None = None,
        changed: tuple[set[int], set[int]] | None = None,
        record: tuple[list[int], int] | None = None,
        checked: list[int] | None = None,
    ) -> tuple[NDArray[np.intp], tuple[set[int], set[int]]]:
        """One round of reactions among all runs, or only those at ``rows``: every unspent rule
        whose trigger holds fires or fails. Returns the positions of the runs that reacted and
        the variables and tags the round changed. ``record``: each rule's "fired" column in the
        event record and the stage to note its events at (when the record is kept);
        ``checked``: each rule's NaN column among the trouble checks.

        ``spent`` has a row per rule: the runs in which it has reacted this step. A run in
        which nothing reacted keeps its state, so a later round need only look at the runs
        that did react (``rows``), and only at rules whose trigger reads something the
        previous round ``changed``."""
        env = self.env(step, rows)
        runs = self.runs if rows is None else self.runs[rows]
        size = len(runs)
        batch: list[tuple[Effect, NDArray[np.bool_]]] = []
        reacted = np.zeros(size, dtype=np.bool_)
        for r, rule in enumerate(rules):
            if changed is not None and not (
                rule.watch_vars & changed[0] or rule.watch_tags & changed[1]
            ):
                continue
            done = spent[r] if rows is None else spent[r, rows]
            trig = _truth(rule.trigger, env, size) & ~done
            at = np.flatnonzero(trig)
            if not len(at):
                continue
            p = _value(rule.probability, env, size)[at]
            if checked is not None and self.counter is not None:
                ok = (p >= 0.0) & (p <= 1.0)  # false for NaN
                if not ok.all():
                    self.count_probabilities(checked[r], at, ~ok, p, rows, step)
            u = rng.uniform(self.seed, step, fire_site(rule), runs[at])
            fire = np.zeros(size, dtype=np.bool_)
            fire[at[u < p]] = True
            fail = trig & ~fire
            if self.history:
                self.remember(rule, fire, fail, rows)
            if record is not None and self.layout is not None:
                code = self.layout.code(step, record[1])
                self.note(record[0][r], fire, rows, code)
                self.note(record[0][r] + 1, fail, rows, code)
            if fire.any():
                batch.append((rule.fire, fire))
            if fail.any():
                batch.append((rule.fail, fail))
            reacted |= trig
            spent[r, at if rows is None else rows[at]] = True
        at = np.flatnonzero(reacted) if rows is None else rows[reacted]
        if batch and rows is None and len(at) * SPARSE < size:
            # few runs reacted: their effects are computed and applied on those runs alone
            self.perform([(e, m[at]) for e, m in batch], self.env(step, at), step_level, at)
        elif batch:
            self.perform(batch, env, step_level, rows)
        now_changed = (
            {d.var for e, _ in batch for d in e.deltas},
            {t for e, _ in batch for t in e.tags},
        )
        return at, now_changed

    def remember(
        self,
        rule: Reaction,
        fire: NDArray[np.bool_],
        fail: NDArray[np.bool_],
        rows: NDArray[np.intp] | None,
    ) -> None:
        """Keep a reaction for the next decisions' :attr:`Situation.recent` (masks over all
        the chunk's runs)."""
        if rows is None:
            self.recent.append((rule, fire.copy(), fail.copy()))
            return
        fired, failed = np.zeros(self.n, dtype=np.bool_), np.zeros(self.n, dtype=np.bool_)
        fired[rows], failed[rows] = fire, fail
        self.recent.append((rule, fired, failed))

    # -- numerical trouble -------------------------------------------------------------------
    def count_probabilities(
        self,
        check: int,
        at: NDArray[np.intp],
        bad: NDArray[np.bool_],
        p: F64,
        rows: NDArray[np.intp] | None,
        step: int,
    ) -> None:
        """Count the probabilities ``p`` (of the runs ``at``, over all runs or those at
        ``rows``) that are NaN or outside [0, 1] (``bad``), in live runs only."""
        assert self.counter is not None
        where = at[bad] if rows is None else rows[at[bad]]
        values = p[bad]
        live = ~self.done[where]
        where, values = where[live], values[live]
        nan = np.isnan(values)
        for column, mask in ((check, nan), (check + 1, ~nan)):
            if mask.any():
                self.counter.note(
                    column, self.pos[where[mask]], self.runs[where[mask]], step, values[mask]
                )

    def count_state(self, step: int) -> None:
        """Count the state variables that are NaN at the end of the step, in live runs."""
        assert self.counter is not None
        nan = np.isnan(self.X)
        if not nan.any():
            return
        for j in np.flatnonzero(nan.any(axis=1)):
            where = np.flatnonzero(nan[j] & ~self.done)
            if len(where):
                self.counter.note(
                    variable_column(self.p, int(j)),
                    self.pos[where],
                    self.runs[where],
                    step,
                    self.X[j, where],
                )

    # -- the event record --------------------------------------------------------------------
    def note(
        self, column: int, mask: NDArray[np.bool_], rows: NDArray[np.intp] | None, code: int
    ) -> None:
        """Note an event in the runs of ``mask`` (over all runs, or those at ``rows``) where it
        has not happened before."""
        assert self.events is not None
        at = np.flatnonzero(mask) if rows is None else rows[mask]
        if len(at):
            row = self.events[column]
            row[at[row[at] < 0]] = code

    def note_choices(self, chosen: list[Chosen], step: int) -> None:
        """Note each actor's chosen candidate (not hold) in the event record."""
        assert self.layout is not None and self.events is not None
        code = self.layout.code(step, STAGE_DECIDE)
        for base, choice in zip(self.layout.choices, chosen, strict=True):
            if np.ndim(choice) == 0:
                if choice > 0:
                    row = self.events[base + int(choice) - 1]
                    row[row < 0] = code
                continue
            at = np.flatnonzero(choice > 0)
            if len(at):
                columns = base + np.asarray(choice)[at] - 1
                now = self.events[columns, at]
                self.events[columns, at] = np.where(now < 0, code, now)

    # -- decisions ---------------------------------------------------------------------------
    def utilities(
        self, d: Decider, env: _Env, perceived: dict[int | str, Any]
    ) -> tuple[list[Any], list[Any]]:
        """Which candidates are available, and each one's expected one-step utility.

        Values stay scalars where they do not vary across runs: most utilities are constants,
        and arithmetic on them is the same IEEE arithmetic as on arrays."""
        feasible: list[Any] = [np.bool_(True)]
        utility: list[Any] = [np.float64(0.0)]
        weights = {var: _raw(w, env) for var, w in d.weights}
        kappa = _raw(d.escalation_cost, env)
        sigma = _raw(d.perception_noise, env)
        for k in range(1, len(d.candidates)):
            action = self.p.actions[d.candidates[k]]
            feasible.append(_raw(action.requires, env))
            u = _effect_value(action.effect, weights, env)
            u = u - kappa * action.escalation
            for c in d.crossings[k]:
                if c.red_line not in perceived:
                    cred = self.X[c.credibility_var]
                    if np.ndim(sigma) or sigma != 0.0:
                        if c.owner not in perceived:
                            perceived[c.owner] = env.draws.normal(perceive_site(d.actor, c.owner))
                        cred = cred + sigma * perceived[c.owner]
                    perceived[c.red_line] = np.minimum(np.maximum(cred, 0.0), 1.0)
                if c.cost is not None:
                    cost = env.mean(c.cost)
                else:
                    cost = -_effect_value(d.responses[c.red_line], weights, env)
                u = u - env.mean(c.when) * perceived[c.red_line] * cost
            utility.append(u)
        return feasible, utility

    def weights_of(
        self, d: Decider, env: _Env, feasible: list[Any], utility: list[Any]
    ) -> list[Any]:
        """Logit choice weights exp(λ(U − max U)), zero where unavailable."""
        lam = _raw(d.rationality, env)
        best = utility[0]
        for ok, u in zip(feasible[1:], utility[1:], strict=True):
            best = np.where(ok, np.maximum(best, u), best)
        return [_masked_exp(ok, lam * (u - best)) for ok, u in zip(feasible, utility, strict=True)]

    def draw(self, d: Decider, env: _Env, weights: list[F64]) -> NDArray[np.int64]:
        """The candidate whose cumulative weight first exceeds u × total."""
        cumulative: list[F64] = []
        acc = np.zeros(self.n)
        for z in weights:
            acc = acc + z
            cumulative.append(acc)
        target = env.draws.uniform(decide_site(d.actor)) * acc
        chosen = np.zeros(self.n, dtype=np.int64)
        for cum in cumulative[:-1]:
            chosen += cum <= target
        return chosen

    def fixed(self, d: Decider, step: int) -> np.int64:
        """The choice of the non-deliberating kinds, the same in every run: doctrine holds,
        scripted follows its plan."""
        return np.int64(d.plan.get(step, 0) if d.kind == "scripted" else 0)

    def consult(
        self,
        maker: DecisionMaker,
        d: Decider,
        env: _Env,
        step: int,
        perceived: dict[int | str, Any],
    ) -> NDArray[np.int64]:
        """A plugged-in decision-maker's choices, asked once for every live run of the chunk
        (finished runs hold)."""
        live = np.flatnonzero(~self.done)
        feasible, utility = self.utilities(d, env, perceived)
        names = [*self.params, *self.p.var_names]
        situation = Situation(
            actor=d.actor,
            step=step,
            runs=self.runs[live],
            actions=tuple(self.positions[d.actor]),
            available=as_columns(feasible, self.n, np.bool_)[live],
            utility=as_columns(utility, self.n, np.float64)[live],
            state={
                k: np.broadcast_to(np.asarray(env.values[k], float), (self.n,))[live] for k in names
            },
            uniform=env.draws.uniform(decide_site(d.actor))[live],
            level=self.level[live].astype(np.int64),
            crosses=crossed_red_lines(self.p, d),
            credibility={
                self.p.rules[k].id: np.broadcast_to(np.asarray(v, float), (self.n,))[live]
                for k, v in perceived.items()
                if isinstance(k, int)
            },
            recent=tuple(self.recent_of(int(i)) for i in live) if self.history else None,
        )
        chosen = np.zeros(self.n, dtype=np.int64)
        chosen[live] = checked_choices(maker.decide(situation), situation)
        return chosen

    def recent_of(self, i: int) -> tuple[Happening, ...]:
        """What happened in the run at position ``i`` since the last decisions, as the
        reference interpreter logs it."""
        told: list[Happening] = []
        for entry in self.recent:
            if len(entry) == 2:
                d, choice = entry
                k = int(choice[i] if isinstance(choice, np.ndarray) else choice)
                c = d.candidates[k]
                told.append(
                    Happening(
                        "decision", "hold" if c == HOLD else self.p.actions[c].id, d.actor, True
                    )
                )
            else:
                rule, fired, failed = entry
                if fired[i] or failed[i]:
                    told.append(
                        Happening(rule.kind, rule.id, None, bool(fired[i]), "", rule.evidence)
                    )
        return tuple(told)

    def decide(self, env: _Env, step: int) -> list[Chosen]:
        """Every actor's choice (candidate position; 0 is hold), all on the same state.

        When utilities depend on what others choose (``chose()``), logit actors play the
        step's logit quantal response equilibrium (:mod:`redline.engine.equilibrium`: the
        principal branch, traced from uniform play); plugged-in decision-makers answer first,
        on the starting beliefs (uniform for logit actors, certain for the others), and the
        others then know their choices."""
        p = self.p
        perceived: list[dict[int | str, Any]] = [{} for _ in p.deciders]
        plugged = [i for i, d in enumerate(p.deciders) if d.actor in self.makers]
        logit = [i for i, d in enumerate(p.deciders) if d.kind == "logit" and i not in plugged]
        weights: dict[int, list[F64]] = {}
        if p.strategic:
            self.start_beliefs(env, step)
        answered = {
            i: self.consult(
                self.makers[p.deciders[i].actor], p.deciders[i], env, step, perceived[i]
            )
            for i in plugged
        }
        if p.strategic:
            for i, chosen in answered.items():
                K = len(p.deciders[i].candidates)
                env.beliefs[p.deciders[i].actor] = [
                    (chosen == k).astype(np.float64) for k in range(K)
                ]
            if logit:
                weights.update(self.equilibrium(env, step, logit, perceived))
        else:
            for i in logit:
                d = p.deciders[i]
                weights[i] = self.weights_of(d, env, *self.utilities(d, env, perceived[i]))
        return [
            answered[i]
            if i in answered
            else self.draw(d, env, weights[i])
            if d.kind == "logit"
            else self.fixed(d, step)
            for i, d in enumerate(p.deciders)
        ]

    def start_beliefs(self, env: _Env, step: int) -> None:
        """Starting beliefs: uniform over a logit actor's candidates, certain for the others."""
        for d in self.p.deciders:
            K = len(d.candidates)
            if d.kind == "logit":
                belief = [np.full(self.n, 1.0 / K) for _ in range(K)]
            else:
                fixed = self.fixed(d, step)
                belief = [np.full(self.n, float(fixed == k)) for k in range(K)]
            env.beliefs[d.actor] = belief

    def equilibrium(
        self, env: _Env, step: int, logit: list[int], perceived: list[dict[int | str, Any]]
    ) -> dict[int, list[F64]]:
        """The logit actors' choice weights at the step's quantal response equilibrium, every
        run of the chunk solved at once (the others' beliefs are set); the equilibrium beliefs
        are left in ``env``. A live run without one stops the simulation."""
        deciders = [self.p.deciders[i] for i in logit]

        def respond(beliefs: list[list[F64]]) -> Response:
            for d, belief in zip(deciders, beliefs, strict=True):
                env.beliefs[d.actor] = belief
            return [
                (*self.utilities(d, env, perceived[i]), _raw(d.rationality, env))
                for i, d in zip(logit, deciders, strict=True)
            ]

        solution = solve_logit_qre(respond, [len(d.candidates) for d in deciders], self.n)
        for d, belief in zip(deciders, solution.beliefs, strict=True):
            env.beliefs[d.actor] = belief
        failed = np.flatnonzero(~solution.converged & ~self.done)
        if len(failed):
            raise EquilibriumError(
                not_found(step, int(self.runs[failed[0]]), [d.actor for d in deciders], len(failed))
            )
        return dict(zip(logit, solution.weights, strict=True))

    # -- one step ----------------------------------------------------------------------------
    def step(self, t: int) -> None:
        p = self.p
        n = self.n
        self.now[:] = False
        step_level = np.full(n, -1.0)
        # (1) scheduled events
        due = [r for r in p.schedule if r.at_step == t]
        if due:
            columns = [2 * i for i, r in enumerate(p.schedule) if r.at_step == t]
            self.try_rules(
                due,
                np.zeros((len(due), n), dtype=np.bool_),
                t,
                step_level,
                record=None if self.layout is None else (columns, STAGE_SCHEDULE),
                checked=[scheduled_column(i) for i, r in enumerate(p.schedule) if r.at_step == t],
            )
        # (2) dynamics, simultaneously
        if p.dynamics:
            env = self.env(t)
            new = [(d.var, _value(d.value, env, n)) for d in p.dynamics]
            for var, value in new:
                np.minimum(np.maximum(value + 0.0, self.lo[var]), self.hi[var], out=self.X[var])
        # (3) decisions, all on the same state
        env = self.env(t)
        chosen = self.decide(env, t)
        if self.history:
            self.recent = [(d, c) for d, c in zip(p.deciders, chosen, strict=True)]
        if self.layout is not None:
            self.note_choices(chosen, t)
        self.choices.clear()
        self.choices.update((d.actor, c) for d, c in zip(p.deciders, chosen, strict=True))
        # (4) effects of the chosen actions, and their events
        self.perform_choices(chosen, env, step_level)
        # (5) rule cascades
        spent = np.zeros((len(p.rules), n), dtype=np.bool_)
        rows: NDArray[np.intp] | None = None
        changed: tuple[set[int], set[int]] | None = None
        rule_columns = (
            None if self.layout is None else [self.layout.rule(r) for r in range(len(p.rules))]
        )
        rule_checks = [rule_column(p, r) for r in range(len(p.rules))]
        for depth in range(p.max_depth):
            record = None if rule_columns is None else (rule_columns, STAGE_ROUND + depth)
            rows, changed = self.try_rules(
                p.rules, spent, t, step_level, rows, changed, record, rule_checks
            )
            if not len(rows):
                break
        self.level = np.where(step_level >= 0, step_level, self.level)
        self.peak = np.maximum(self.peak, self.level)
        live = ~self.done
        self.occupancy[t] += np.bincount(self.level[live].astype(np.int64), minlength=len(p.rungs))[
            : len(p.rungs)
        ]
        if self.trace is not None:
            self.record(t, chosen, spent)
        if self.counter is not None:
            self.count_state(t)
        # (6) outcomes
        env = self.env(t)
        ended = np.zeros(n, dtype=np.bool_)
        for o, outcome in enumerate(p.outcomes):
            hit = _truth(outcome.when, env, n)
            self.first[o, (self.first[o] < 0) & hit] = t
            if outcome.absorbing:
                ended |= hit
        ended &= ~self.done
        if ended.any():
            self.out_steps[self.pos[ended]] = t + 1
            self.retire(ended)

    def record(self, t: int, chosen: list[Chosen], spent: NDArray[np.bool_]) -> None:
        assert self.trace is not None
        names = [v.name for v in self.p.variables]
        for i in np.flatnonzero(~self.done):
            actions = {}
            for d, choice in zip(self.p.deciders, chosen, strict=True):
                c = d.candidates[int(choice[i] if isinstance(choice, np.ndarray) else choice)]
                actions[d.actor] = "hold" if c == HOLD else self.p.actions[c].id
            self.trace.append(
                {
                    "run": int(self.runs[i]),
                    "step": t,
                    "level": int(self.level[i]),
                    "actions": actions,
                    "rules": [r.id for r, s in zip(self.p.rules, spent[:, i], strict=True) if s],
                    "events": [self.p.tags[j] for j in np.flatnonzero(self.now[:, i])],
                    "state": dict(zip(names, self.X[:, i].tolist(), strict=True)),
                }
            )

    def retire(self, ended: NDArray[np.bool_]) -> None:
        """Write the summaries of newly ended runs; drop finished runs once they are many.

        A finished run left in the arrays keeps being stepped, but its summary is already
        written and runs never read each other, so this only trades memory traffic for work."""
        ended = ended & ~self.done
        rows = np.flatnonzero(ended)
        at = self.pos[rows]
        self.out_first[:, at] = self.first[:, rows]
        self.out_peak[at] = self.peak[rows].astype(np.int32)
        self.out_final[:, at] = self.X[:, rows]
        if self.events is not None and self.out_events is not None:
            self.out_events[:, at] = self.events[:, rows]
        self.done |= ended
        if self.done.sum() * 4 < self.n:
            return
        keep = ~self.done
        self.runs, self.pos, self.done = self.runs[keep], self.pos[keep], self.done[keep]
        self.first = self.first[:, keep]
        self.X = self.X[:, keep]
        self.now, self.count = self.now[:, keep], self.count[:, keep]
        if self.events is not None:
            self.events = self.events[:, keep]
        self.level, self.peak = self.level[keep], self.peak[keep]
        self.params = {
            k: v[keep] if isinstance(v, np.ndarray) else v for k, v in self.params.items()
        }
        self.recent = [
            tuple(x[keep] if isinstance(x, np.ndarray) else x for x in entry)  # type: ignore[misc]
            for entry in self.recent
        ]


def _masked_exp(ok: Any, x: Any) -> Any:
    """exp(x) where ``ok``, 0 elsewhere — computing exp only where it is needed."""
    if np.ndim(ok) == 0:
        return libm("exp")(x) if ok else np.float64(0.0)
    at = np.flatnonzero(ok)
    if len(at) == len(ok):
        return np.broadcast_to(libm("exp")(x), ok.shape)
    out = np.zeros(len(ok))
    if len(at):
        out[at] = libm("exp")(np.broadcast_to(x, ok.shape)[at])
    return out


def _raw(expr: Expression, env: _Env) -> Any:
    """An expression's value as computed: a scalar where it does not vary across runs."""
    return env.sample(expr)


def _effect_value(effect: Effect, weights: dict[int, Any], env: _Env) -> Any:
    """Σ weight × expected delta over the weighted variables an effect changes."""
    total: Any = np.float64(0.0)
    for delta in effect.deltas:
        w = weights.get(delta.var)
        if w is not None:
            total = total + w * env.mean(delta.expr)
    return total


def run_chunk(
    program: Program,
    seed: int,
    runs: NDArray[np.int64],
    trace: bool = False,
    makers: Mapping[str, DecisionMaker] | None = None,
    events: bool = False,
) -> ChunkResult:
    """Simulate the given runs to the horizon and return their summaries; ``makers`` replace
    the named actors' scenario decision-makers; ``events`` keeps the event record."""
    with np.errstate(all="ignore"):
        chunk = _Chunk(
            program, seed, np.asarray(runs, dtype=np.int64), trace, makers or {}, events=events
        )
        drawn = {k: v.copy() for k, v in chunk.params.items() if isinstance(v, np.ndarray)}
        for t in range(program.horizon):
            if chunk.done.all():
                break
            chunk.step(t)
        chunk.retire(np.ones(chunk.n, dtype=np.bool_))
    return ChunkResult(
        runs=np.asarray(runs, dtype=np.int64),
        first_hit=chunk.out_first.T,
        peak_level=chunk.out_peak,
        steps=chunk.out_steps,
        final=chunk.out_final.T,
        params=drawn,
        occupancy=chunk.occupancy,
        trace=chunk.trace,
        events=None if chunk.out_events is None else chunk.out_events.T,
        trouble=None if chunk.counter is None else chunk.counter.trouble,
    )


# -- populations of runs: the ``particles`` capability (redline.engine.particles) --------------


class _ParticleChunk(_Chunk):
    """A chunk whose ended runs stay in its arrays (marked done) until the population compacts
    it: the population keeps a copy of each run as it ended, so stepping it further does no
    harm, and removing rows costs a copy of every array."""

    def retire(self, ended: NDArray[np.bool_]) -> None:
        self.done |= ended


#: a chunk's per-run arrays: one entry per run, and one row per variable, tag or outcome
_RUN_VECTORS = ("runs", "pos", "done", "level", "peak")
_RUN_TABLES = ("first", "X", "now", "count")


def _fresh_outputs(chunk: _Chunk, slots: int) -> None:
    """Outputs a particle chunk writes: only the step each run ended, by particle position."""
    chunk.out_steps = np.full(slots, chunk.p.horizon, dtype=np.int32)
    chunk.out_first = np.zeros((len(chunk.p.outcomes), 0), dtype=np.int32)
    chunk.out_peak = np.zeros(0, dtype=np.int32)
    chunk.out_final = np.zeros((len(chunk.p.variables), 0))
    chunk.choices = {}


def _rows_of(chunk: _ParticleChunk, rows: NDArray[np.intp], slots: int) -> _ParticleChunk:
    """A chunk of copies of the runs at ``rows`` (repeats allowed): every per-run array."""
    new = copy.copy(chunk)
    for name in _RUN_VECTORS:
        setattr(new, name, getattr(chunk, name)[rows])
    for name in _RUN_TABLES:
        setattr(new, name, getattr(chunk, name)[:, rows])
    new.params = {k: v[rows] if isinstance(v, np.ndarray) else v for k, v in chunk.params.items()}
    _fresh_outputs(new, slots)
    return new


def _joined(chunks: Sequence[_ParticleChunk], slots: int) -> _ParticleChunk:
    """The runs of several chunks of one program in one chunk, in order."""
    new = copy.copy(chunks[0])
    for name in _RUN_VECTORS:
        setattr(new, name, np.concatenate([getattr(c, name) for c in chunks]))
    for name in _RUN_TABLES:
        setattr(new, name, np.concatenate([getattr(c, name) for c in chunks], axis=1))
    new.params = {
        k: np.concatenate([c.params[k] for c in chunks]) if isinstance(v, np.ndarray) else v
        for k, v in chunks[0].params.items()
    }
    _fresh_outputs(new, slots)
    return new


@dataclass
class _Ended:
    """Runs that ended, as they ended (never stepped again); ``fresh``: they ended in the last
    step done, so their events of that step are still "now"."""

    chunk: _ParticleChunk
    fresh: bool


class KernelParticles:
    """A population of runs on the NumPy kernel (:class:`redline.engine.particles.Particles`).

    The runs still going advance together as one chunk (``live``). When a run ends, a copy of
    it as it ended joins ``ended`` (never stepped); the original stays in ``live`` marked done
    until a quarter of ``live`` is done and it is compacted. Each chunk's ``pos`` is its runs'
    particle positions. Memory: one chunk's arrays for the population — per particle 8 bytes
    per variable, 1–2 per event tag (a flag and a count), 4 per outcome — and a copy while
    resampling."""

    def __init__(
        self,
        program: Program,
        live: _ParticleChunk,
        ended: list[_Ended],
        size: int,
        step: int,
    ) -> None:
        self.program = program
        self.live = live
        self.ended = ended
        self._size = size
        self._step = step

    @classmethod
    def start(cls, program: Program, seed: int, runs: NDArray[np.int64]) -> KernelParticles:
        ids = np.asarray(runs, dtype=np.int64)
        with np.errstate(all="ignore"):
            live = _ParticleChunk(program, seed, ids, False, {})
        live.counter = None  # a population's runs are copied and dropped: trouble is not kept
        _fresh_outputs(live, len(ids))
        return cls(program, live, [], len(ids), 0)

    @property
    def size(self) -> int:
        return self._size

    @property
    def step(self) -> int:
        return self._step

    def _parts(self) -> list[tuple[_ParticleChunk, NDArray[np.intp] | None]]:
        """Every chunk holding particles, with the rows that are particles (None: all)."""
        parts: list[tuple[_ParticleChunk, NDArray[np.intp] | None]] = []
        if self.live.n:
            going = None if not self.live.done.any() else np.flatnonzero(~self.live.done)
            if going is None or len(going):
                parts.append((self.live, going))
        parts.extend((e.chunk, None) for e in self.ended if e.chunk.n)
        return parts

    def runs(self) -> NDArray[np.int64]:
        out = np.zeros(self._size, dtype=np.int64)
        for c, rows in self._parts():
            at = slice(None) if rows is None else rows
            out[c.pos[at]] = c.runs[at]
        return out

    def advance(self, step: int) -> None:
        with np.errstate(all="ignore"):
            for t in range(self._step, min(step, self.program.horizon)):
                for e in self.ended:
                    if e.fresh:  # nothing happens in a run after it ended
                        e.chunk.now[:] = False
                        e.fresh = False
                live = self.live
                if live.n and not live.done.all():
                    before = live.done.copy()
                    live.step(t)
                    newly = np.flatnonzero(live.done & ~before)
                    if len(newly):
                        self.ended.append(_Ended(_rows_of(live, newly, self._size), True))
                    if live.done.sum() * 4 >= live.n:
                        self.live = _rows_of(live, np.flatnonzero(~live.done), self._size)
                self._step = t + 1

    def evaluate(self, expr: Expression) -> NDArray[np.float64]:
        out = np.zeros(self._size)
        with np.errstate(all="ignore"):
            for c, rows in self._parts():
                n = c.n if rows is None else len(rows)
                at = slice(None) if rows is None else rows
                out[c.pos[at]] = _value(expr, c.env(self._step - 1, rows), n)
        return out

    def first_hits(self) -> NDArray[np.int32]:
        out = np.full((self._size, len(self.program.outcomes)), -1, dtype=np.int32)
        for c, rows in self._parts():
            at = slice(None) if rows is None else rows
            out[c.pos[at]] = c.first[:, at].T
        return out

    def drawn(self) -> dict[str, NDArray[np.float64]]:
        names = [k for k, v in self.live.params.items() if isinstance(v, np.ndarray)]
        out = {k: np.zeros(self._size) for k in names}
        for c, rows in self._parts():
            at = slice(None) if rows is None else rows
            for k in names:
                out[k][c.pos[at]] = np.asarray(c.params[k])[at]
        return out

    def take(self, rows: NDArray[np.intp], runs: NDArray[np.int64]) -> KernelParticles:
        rows = np.asarray(rows, dtype=np.intp)
        ids = np.asarray(runs, dtype=np.int64)
        n = len(rows)
        taken: list[tuple[_ParticleChunk, bool]] = []
        sources = [(self.live, False)] if self.live.n else []
        sources += [(e.chunk, e.fresh) for e in self.ended if e.chunk.n]
        for c, fresh in sources:
            where = np.full(self._size, -1, dtype=np.intp)
            mine = np.arange(c.n) if c is not self.live else np.flatnonzero(~c.done)
            where[c.pos[mine]] = mine
            found = where[rows]
            picked = np.flatnonzero(found >= 0)
            if c is not self.live and not len(picked):
                continue
            part = _rows_of(c, found[picked], n)
            part.pos = picked.astype(part.pos.dtype)
            part.runs = ids[picked]
            taken.append((part, fresh))
        if sources and sources[0][0] is self.live:
            live = taken[0][0]
            ended = [_Ended(c, fresh) for c, fresh in taken[1:]]
        else:
            live = _rows_of(self.live, np.zeros(0, dtype=np.intp), n)
            ended = [_Ended(c, fresh) for c, fresh in taken]
        return KernelParticles(self.program, live, ended, n, self._step)

    def join(self, others: Sequence[Particles]) -> KernelParticles:
        group = [self, *others]
        if not all(isinstance(p, KernelParticles) and p.step == self._step for p in group):
            raise ValueError("only populations of this backend at the same step can be joined")
        members = [p for p in group if isinstance(p, KernelParticles)]
        size = sum(p.size for p in members)
        lives: list[_ParticleChunk] = []
        ended: list[_Ended] = []
        offset = 0
        for p in members:
            going = np.flatnonzero(~p.live.done)
            live = _rows_of(p.live, going, size)
            live.pos = live.pos + offset
            lives.append(live)
            for e in p.ended:
                shifted = copy.copy(e.chunk)
                shifted.pos = e.chunk.pos + offset
                shifted.now = e.chunk.now.copy()  # cleared in place once the step is over
                ended.append(_Ended(shifted, e.fresh))
            offset += p.size
        return KernelParticles(self.program, _joined(lives, size), ended, size, self._step)


def start_particles(program: Program, seed: int, runs: NDArray[np.int64]) -> Particles:
    """The NumPy kernel's population constructor: runs ``runs`` of ``program`` before step 0."""
    return KernelParticles.start(program, seed, runs)
