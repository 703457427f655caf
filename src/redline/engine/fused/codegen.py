"""The fused engine's code generator: a core program written out as a Python module for Numba.

The module has a function per element of the program (each rule, each deliberating actor, the
dynamics, the actions' effects), small enough for Numba to compile quickly, and a run loop,
``kernel(inp, FX, out)``, that takes each run of a chunk through all its steps: ``inp`` holds
the chunk's inputs (:class:`Inputs`), ``FX`` the program's effect tables (:class:`Effects`),
``out`` the arrays it writes (:class:`Outputs`). The loop has the step semantics of
:mod:`redline.engine.reference` statement for statement.

What the generated source can contain is fixed here: the templates below and the primitives'
code templates (:mod:`redline.core.primitives`), integer indices and float literals. Names, tags
and strings from a scenario never reach it — they are resolved to indices first — so no
scenario text is ever executed. Parameter values are inputs too, so the source depends on the
program's structure alone (its ``fingerprint``).

This module imports no Numba: ``redline explain FILE --fused`` prints the source without it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray

from redline.core.expr import Binary, Bool, Call, Compare, Expr, Name, Num, Str, Unary
from redline.core.patterns import match_tags
from redline.core.primitives import BINARY, COMPARE, LIBM, SIGNATURES, UNARY, Primitive
from redline.core.program import Effect, Expression, Program, Reaction
from redline.engine import rng
from redline.engine.semantics import (
    HOLD,
    STAGE_DECIDE,
    STAGE_ROUND,
    STAGE_SCHEDULE,
    Unsupported,
    event_layout,
)
from redline.engine.sites import decide_site, fire_site, perceive_site
from redline.engine.trouble import rule_column, scheduled_column, variable_column


# -- what the kernel takes ----------------------------------------------------------------------
class Inputs(NamedTuple):
    """A chunk's inputs: its runs, their parameter values, the keyed draws' stream origins, the
    variables' bounds and the scripted actors' plans."""

    runs: NDArray[np.int64]  # (runs,)
    fixed: NDArray[np.float64]  # (params,) each parameter's value; 0 for a drawn one
    drawn: NDArray[np.float64]  # (drawn params, runs) each run's drawn values
    drawn_row: NDArray[np.int64]  # (params,) a parameter's row in ``drawn``; -1 if fixed
    origins: NDArray[np.uint64]  # (steps, slots) stream origin of every draw site of a step
    lo: NDArray[np.float64]  # (variables,)
    hi: NDArray[np.float64]  # (variables,)
    plan: NDArray[np.int64]  # (actors, steps) a scripted actor's candidate at each step


class Effects(NamedTuple):
    """The program's effects as data: effect ``e`` emits ``tags[start[e]:start[e + 1]]`` and
    reaches rung ``level[e]``; ``rule[r, 1]`` and ``rule[r, 2]`` are the effects of rule ``r``
    firing and failing (``scheduled`` likewise), ``action[a, k]`` that of actor ``a``'s
    candidate ``k``."""

    tags: NDArray[np.int64]
    start: NDArray[np.int64]
    level: NDArray[np.float64]
    rule: NDArray[np.int64]
    scheduled: NDArray[np.int64]
    action: NDArray[np.int64]


class Outputs(NamedTuple):
    """What the kernel writes: each run's summary (the fields of
    :class:`~redline.engine.semantics.ChunkResult`) and the chunk's ladder occupancy; the event
    record when it has a row per run (no rows: not asked for)."""

    first_hit: NDArray[np.int32]  # (runs, outcomes)
    peak_level: NDArray[np.int32]  # (runs,)
    steps: NDArray[np.int32]  # (runs,)
    final: NDArray[np.float64]  # (runs, variables)
    occupancy: NDArray[np.int64]  # (steps, rungs)
    events: NDArray[np.int16] | NDArray[np.int32]  # (runs or 0, event columns)
    #: per trouble check (:mod:`redline.engine.trouble`): occurrences, runs, the last run's
    #: position + 1 (to count runs), the first occurrence's run and step (-1 while none)
    trouble: NDArray[np.int64]  # (checks, 5)
    trouble_value: NDArray[np.float64]  # (checks,) the first occurrence's value
    trouble_runs: NDArray[np.int32]  # (runs,) every check's occurrences in each run


# -- the generator ------------------------------------------------------------------------------
@dataclass
class _Slots:
    """Random draw sites in the order first met: each (site, sub) is a column of the table
    of stream origins the generated code reads (``O[t, slot]``)."""

    keys: dict[tuple[int, int], int] = field(default_factory=dict)

    def __call__(self, site: int, sub: int = 0) -> int:
        return self.keys.setdefault((site, sub), len(self.keys))


def _lit(value: float) -> str:
    if math.isnan(value):
        return "np.nan"
    if math.isinf(value):
        return "np.inf" if value > 0 else "-np.inf"
    return repr(float(value))


class _Expressions:
    """Source for expressions, read in one run: mirrors :mod:`redline.engine.scalar`."""

    def __init__(self, program: Program, slots: _Slots) -> None:
        self.p = program
        self.slots = slots
        self.vars = {v.name: i for i, v in enumerate(program.variables)}
        self.params = {prm.name: i for i, prm in enumerate(program.params)}
        self.positions = {
            d.actor: (
                i,
                {
                    ("hold" if c == HOLD else program.actions[c].id): k
                    for k, c in enumerate(d.candidates)
                },
            )
            for i, d in enumerate(program.deciders)
        }

    def source(self, expr: Expression, mode: str = "sample") -> str:
        self.base, self.mean, self.calls = expr.site, mode == "mean", 0
        return self.visit(expr.tree)

    def truth(self, code: str) -> str:
        return f"(1.0 if {code} else 0.0)" if self.mean else f"({code})"

    def visit(self, e: Expr) -> str:
        if isinstance(e, Num):
            return _lit(e.value)
        if isinstance(e, Bool):
            return ("1.0" if e.value else "0.0") if self.mean else repr(bool(e.value))
        if isinstance(e, Name):
            return self.name(e.name)
        if isinstance(e, Unary):
            return self.apply(UNARY[e.op], [self.visit(e.operand)])
        if isinstance(e, Binary):
            return self.apply(BINARY[e.op], [self.visit(e.left), self.visit(e.right)])
        if isinstance(e, Compare):
            values = [self.visit(x) for x in (e.first, *e.rest)]
            links = [
                self.apply(COMPARE[op], [values[k], values[k + 1]], mean=False)
                for k, op in enumerate(e.ops)
            ]
            return self.truth(" and ".join(links))
        if isinstance(e, Call):
            return self.call(e)
        raise Unsupported(f"expression node {type(e).__name__}")

    def name(self, name: str) -> str:
        if name in self.vars:
            return f"X[{self.vars[name]}]"
        if name in self.params:
            return f"P[{self.params[name]}]"
        if name == "step":
            return "tf"
        if name == "level":
            return "level"
        if name == "peak_level":
            return "peak"
        raise Unsupported(f"name {name}")

    def call(self, e: Call) -> str:
        f = e.func
        if f in ("now", "happened", "count"):
            (arg,) = e.args
            assert isinstance(arg, Str)
            cols = match_tags(arg.value, self.p.tags)
            if f == "count":
                return f"_sum_count(C, {cols!r})" if cols else "0.0"
            if not cols:
                return "0.0" if self.mean else "False"
            if len(cols) == 1:
                code = f"N[{cols[0]}]" if f == "now" else f"(C[{cols[0]}] > 0)"
            else:
                code = f"_any_now(N, {cols!r})" if f == "now" else f"_any_count(C, {cols!r})"
            return self.truth(code)
        if f == "chose":
            if self.mean:
                raise Unsupported("beliefs about choices")
            actor, action = (a.value for a in e.args if isinstance(a, Str))
            index, positions = self.positions[actor]
            position = positions.get(action)
            return "False" if position is None else f"(CH[{index}] == {position})"
        primitive = SIGNATURES[f]
        site = 0
        if primitive.family == "random":
            site = rng.site_id(f"{self.base}#{self.calls}")
            self.calls += 1
        args = [self.visit(a) for a in e.args]
        draw = ""
        if primitive.draw == "normal" and not self.mean:
            s0, s1 = self.slots(site, 0), self.slots(site, 1)
            draw = f"_normal(O[t, {s0}], O[t, {s1}], run)"
        elif primitive.draw == "uniform" and not self.mean:
            draw = f"_uniform(O[t, {self.slots(site)}], run)"
        return self.apply(primitive, args, draw)

    def apply(
        self, primitive: Primitive, args: list[str], draw: str = "", mean: bool | None = None
    ) -> str:
        """A primitive's code template over its arguments' code (its expectation's in mean
        mode); variadic ones folded left to right."""
        expect = self.mean if mean is None else mean
        template = primitive.expect_code if expect and primitive.expect_code else primitive.code
        if template is None:
            raise Unsupported(f"function {primitive.name}")
        if primitive.variadic:
            acc = args[0]
            for arg in args[1:]:
                acc = template.format(acc, arg)
            return acc
        return template.format(*args, draw=draw)


class _Source:
    """Lines of Python source with indentation."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def __call__(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def block(self) -> _Indent:
        return _Indent(self)

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


@dataclass
class _Indent:
    src: _Source

    def __enter__(self) -> None:
        self.src.depth += 1

    def __exit__(self, *_: object) -> None:
        self.src.depth -= 1


#: the arguments every generated element function takes: what expressions read
_STATE = "X, P, N, C, CH, O, t, tf, run, level, peak"


class _Generator:
    """Writes the module of one program: a function per element (each rule, each deciding
    actor, the dynamics, the outcomes), which keeps each small for Numba to compile, and the
    run loop that calls them. Tags and rungs that effects emit are data (:class:`_Effects`)."""

    def __init__(self, program: Program) -> None:
        self.p = program
        self.slots = _Slots()
        self.ex = _Expressions(program, self.slots)
        self.out = _Source()
        self.effects = _Effects()
        self.layout = event_layout(program)

    def function(self, name: str, extra: str = "") -> _Indent:
        self.out("")
        self.out("@_jit")
        self.out(f"def {name}({_STATE}{', ' + extra if extra else ''}):")
        return self.out.block()

    def generate(self) -> str:
        p, w, ex = self.p, self.out, self.ex
        w("import math")
        w("import numba")
        w("import numpy as np")
        w("from redline.engine.fused.runtime import (")
        w("    _any_count, _any_now, _emit, _max, _min, _normal, _sum_count, _trouble, _uniform")
        w(")")
        w("from redline.core.numeric import power as _power")
        w("from redline.core.primitives import libm")
        for name in LIBM:  # the C library's functions, the ufuncs every backend calls
            w(f"_{name} = libm({name!r})")
        w('_jit = numba.njit(cache=True, nogil=True, error_model="numpy")')
        with self.function("initial", "LO, HI"):
            for j, var in enumerate(p.variables):
                w(f"X[{j}] = _min(_max({ex.source(var.initial)} + 0.0, LO[{j}]), HI[{j}])")
            w("return 0")
        with self.function("dynamics", "NEW, LO, HI"):
            for k, dyn in enumerate(p.dynamics):
                w(f"NEW[{k}] = {ex.source(dyn.value)} + 0.0")
            for k, dyn in enumerate(p.dynamics):
                w(f"X[{dyn.var}] = NEW[{k}]")
            w(f"for j in range({len(p.variables)}):")
            with w.block():
                w("X[j] = _min(_max(X[j], LO[j]), HI[j])")
            w("return 0")
        for r, rule in enumerate(p.rules):
            self.rule(f"rule_{r}", rule)
        for r, rule in enumerate(p.schedule):
            self.rule(f"scheduled_{r}", rule)
        for i, d in enumerate(p.deciders):
            if d.kind == "logit" and len(d.candidates) > 1:
                with self.function(f"decide_{i}"):
                    self.logit(i)
        with self.function("perform", "D"):
            for i, d in enumerate(p.deciders):
                if not self.chooses(i):
                    continue
                for k, c in enumerate(d.candidates):
                    if c != HOLD and p.actions[c].effect.deltas:
                        w(f"if CH[{i}] == {k}:")
                        with w.block():
                            self.add_deltas(p.actions[c].effect)
            w("return 0")
        self.kernel()
        return w.text()

    def chooses(self, i: int) -> bool:
        """Whether actor ``i`` can perform anything but hold."""
        d = self.p.deciders[i]
        if len(d.candidates) < 2 or d.kind == "doctrine":
            return False
        return d.kind == "logit" or any(k != 0 for k in d.plan.values())

    def rule(self, name: str, rule: Reaction) -> None:
        """A triggered rule: whether it fires (1) or fails (2), adding its deltas to D, with its
        probability left in Q[0] for the run loop's trouble check. (Its trigger is tested in
        the run loop, so the call is made only when it holds.)"""
        w, ex = self.out, self.ex
        with self.function(name, "D, Q"):
            u = f"_uniform(O[t, {self.slots(fire_site(rule))}], run)"
            w(f"q = {ex.source(rule.probability)}")
            w("Q[0] = q")
            w(f"if {u} < q:")
            with w.block():
                self.add_deltas(rule.fire)
                w("return 1")
            self.add_deltas(rule.fail)
            w("return 2")

    def kernel(self) -> None:
        p, w = self.p, self.out
        nv, nt, no = len(p.variables), len(p.tags), len(p.outcomes)
        w("")
        w("@_jit")
        w("def kernel(inp, FX, out):")
        with w.block():
            w("runs, PF, PD, PI, O = inp.runs, inp.fixed, inp.drawn, inp.drawn_row, inp.origins")
            w("LO, HI, PLAN, OCC = inp.lo, inp.hi, inp.plan, out.occupancy")
            w(f"X = np.zeros({nv}); D = np.zeros({nv}); NEW = np.zeros({max(len(p.dynamics), 1)})")
            w(f"N = np.zeros({nt}, np.bool_); C = np.zeros({nt}, np.int64)")
            w(f"CH = np.zeros({max(len(p.deciders), 1)}, np.int64)")
            w(f"SP = np.zeros({max(len(p.rules), 1)}, np.bool_)")
            w(f"R = np.zeros({max(len(p.rules), len(p.schedule), 1)}, np.int64)")
            w(f"FIRST = np.zeros({max(no, 1)}, np.int64)")
            w("Q = np.zeros(1)")
            w("TQ, TV, TR = out.trouble, out.trouble_value, out.trouble_runs")
            w(f"EV = np.zeros({max(self.layout.size, 1)}, np.int64)")
            w("P = PF.copy()")
            w("for i in range(runs.shape[0]):")
            with w.block():
                w("run = runs[i]")
                w("for j in range(PI.shape[0]):")
                with w.block():
                    w("if PI[j] >= 0:")
                    with w.block():
                        w("P[j] = PD[PI[j], i]")
                w("t = 0; tf = 0.0; level = 0.0; peak = 0.0")
                w("X[:] = 0.0; N[:] = False; C[:] = 0; CH[:] = 0; FIRST[:] = -1; EV[:] = -1")
                w(f"initial({_STATE}, LO, HI)")
                w(f"steps = {p.horizon}")
                w(f"for t in range({p.horizon}):")
                with w.block():
                    self.step()
                w(f"for o in range({no}):")
                with w.block():
                    w("out.first_hit[i, o] = FIRST[o]")
                w("out.peak_level[i] = int(peak)")
                w("out.steps[i] = steps")
                w(f"for j in range({nv}):")
                with w.block():
                    w("out.final[i, j] = X[j]")
                w("if out.events.shape[0] > 0:")
                with w.block():
                    w(f"for j in range({self.layout.size}):")
                    with w.block():
                        w("out.events[i, j] = EV[j]")
            w("return 0")

    def step(self) -> None:
        p, w = self.p, self.out
        w("tf = float(t)")
        w("N[:] = False; CH[:] = -1")
        w("reached = -1.0")
        by_step: dict[int, list[int]] = {}
        for r, rule in enumerate(p.schedule):
            if rule.at_step is not None:
                by_step.setdefault(rule.at_step, []).append(r)
        for at, due in sorted(by_step.items()):
            w(f"if t == {at}:")
            with w.block():
                w("D[:] = 0.0")
                for r in due:
                    w(f"R[{r}] = 0")
                    w(f"if {self.ex.source(p.schedule[r].trigger)}:")
                    with w.block():
                        w(f"R[{r}] = scheduled_{r}({_STATE}, D, Q)")
                        self.check_probability(scheduled_column(r))
                w(f"if {' or '.join(f'R[{r}] > 0' for r in due)}:")
                with w.block():
                    self.apply_deltas()
                    w("got = -1.0")
                    for r in due:
                        w(f"if R[{r}] > 0:")
                        with w.block():
                            w(f"got = _max(got, _emit(FX, FX.scheduled[{r}, R[{r}]], N, C))")
                            self.note(f"{self.layout.scheduled(r) - 1} + R[{r}]", STAGE_SCHEDULE)
                    w("reached = _max(reached, got)")
        if p.dynamics:
            w(f"dynamics({_STATE}, NEW, LO, HI)")
        for i, d in enumerate(p.deciders):
            if d.kind == "logit" and len(d.candidates) > 1:
                w(f"CH[{i}] = decide_{i}({_STATE})")
            elif d.kind == "scripted":
                w(f"CH[{i}] = PLAN[{i}, t]")
            else:
                w(f"CH[{i}] = 0")
        for i, d in enumerate(p.deciders):
            if len(d.candidates) > 1 and d.kind != "doctrine":
                w(f"if CH[{i}] > 0:")
                with w.block():
                    self.note(f"{self.layout.choices[i] - 1} + CH[{i}]", STAGE_DECIDE)
        w("D[:] = 0.0")
        w(f"perform({_STATE}, D)")
        self.apply_deltas()
        w(f"for a in range({len(p.deciders)}):")
        with w.block():
            w("if CH[a] > 0:")
            with w.block():
                w("reached = _max(reached, _emit(FX, FX.action[a, CH[a]], N, C))")
        if p.rules:
            w("SP[:] = False")
            w(f"for depth in range({p.max_depth}):")
            with w.block():
                w("D[:] = 0.0; R[:] = 0")
                for r, rule in enumerate(p.rules):
                    w(f"if not SP[{r}] and {self.ex.source(rule.trigger)}:")
                    with w.block():
                        w(f"R[{r}] = rule_{r}({_STATE}, D, Q)")
                        self.check_probability(rule_column(p, r))
                w("reacted = False")
                w(f"for r in range({len(p.rules)}):")
                with w.block():
                    w("if R[r] > 0:")
                    with w.block():
                        w("SP[r] = True; reacted = True")
                w("if not reacted:")
                with w.block():
                    w("break")
                self.apply_deltas()
                w("got = -1.0")
                w(f"for r in range({len(p.rules)}):")
                with w.block():
                    w("if R[r] > 0:")
                    with w.block():
                        w("got = _max(got, _emit(FX, FX.rule[r, R[r]], N, C))")
                        self.note(
                            f"{self.layout.rule(0) - 1} + 2 * r + R[r]", f"{STAGE_ROUND} + depth"
                        )
                w("reached = _max(reached, got)")
        w("if reached >= 0.0:")
        with w.block():
            w("level = reached")
        w("peak = _max(peak, level)")
        w("lv = int(level)")
        w(f"if lv < {len(p.rungs)}:")
        with w.block():
            w("OCC[t, lv] += 1")
        if p.variables:
            w(f"for j in range({len(p.variables)}):")
            with w.block():
                w("if X[j] != X[j]:")
                with w.block():
                    w(f"_trouble(TQ, TV, TR, {variable_column(p, 0)} + j, i, run, t, X[j])")
        w("ended = False")
        for o, outcome in enumerate(p.outcomes):
            w(f"if {self.ex.source(outcome.when)}:")
            with w.block():
                w(f"if FIRST[{o}] < 0:")
                with w.block():
                    w(f"FIRST[{o}] = t")
                if outcome.absorbing:
                    w("ended = True")
        w("if ended:")
        with w.block():
            w("steps = t + 1")
            w("break")

    def check_probability(self, column: int) -> None:
        """Count the probability just used (Q[0]) if it is NaN (``column``) or outside [0, 1]
        (the next column)."""
        w = self.out
        w("if not (Q[0] >= 0.0 and Q[0] <= 1.0):")
        with w.block():
            w(f"_trouble(TQ, TV, TR, {column} + (0 if Q[0] != Q[0] else 1), i, run, t, Q[0])")

    def note(self, column: str, stage: int | str) -> None:
        """Note an event in the run's record (``EV``) if it is its first time: ``column`` and
        ``stage`` are source expressions (R[r] is 1 when a rule fired, 2 when it failed)."""
        w = self.out
        w(f"ev = {column}")
        w("if EV[ev] < 0:")
        with w.block():
            w(f"EV[ev] = t * {self.layout.stride} + {stage}")

    def logit(self, i: int) -> None:
        p, w, ex = self.p, self.out, self.ex
        d = p.deciders[i]
        weights = dict(d.weights)
        for var, expr in d.weights:
            w(f"w{var} = {ex.source(expr)}")
        w(f"kappa = {ex.source(d.escalation_cost)}")
        w(f"sigma = {ex.source(d.perception_noise)}")
        perceived: set[int | str] = set()
        for owner in sorted({c.owner for cs in d.crossings for c in cs}):
            w(f"z_{_ident(owner, p)} = 0.0")
        K = len(d.candidates)
        for k in range(1, K):
            action = p.actions[d.candidates[k]]
            w(f"ok{k} = {ex.source(action.requires)}")
            w(f"u{k} = {self.effect_value(action.effect, weights)}")
            w(f"u{k} = u{k} - kappa * {_lit(action.escalation)}")
            for c in d.crossings[k]:
                if c.red_line not in perceived:
                    w(f"cr{c.red_line} = X[{c.credibility_var}]")
                    w("if sigma != 0.0:")
                    with w.block():
                        if c.owner not in perceived:
                            s0 = self.slots(perceive_site(d.actor, c.owner), 0)
                            s1 = self.slots(perceive_site(d.actor, c.owner), 1)
                            w(f"z_{_ident(c.owner, p)} = _normal(O[t, {s0}], O[t, {s1}], run)")
                        w(f"cr{c.red_line} = cr{c.red_line} + sigma * z_{_ident(c.owner, p)}")
                    w(f"cr{c.red_line} = _min(_max(cr{c.red_line}, 0.0), 1.0)")
                    perceived.update((c.red_line, c.owner))
                if c.cost is not None:
                    cost = ex.source(c.cost, "mean")
                else:
                    cost = f"(-{self.effect_value(d.responses[c.red_line], weights)})"
                w(f"u{k} = u{k} - {ex.source(c.when, 'mean')} * cr{c.red_line} * {cost}")
        w(f"lam = {ex.source(d.rationality)}")
        w("best = 0.0")
        for k in range(1, K):
            w(f"if ok{k}:")
            with w.block():
                w(f"best = _max(best, u{k})")
        w("acc = _exp(lam * (0.0 - best))")
        for k in range(1, K):
            w(f"c{k - 1} = acc")
            w(f"if ok{k}:")
            with w.block():
                w(f"acc = acc + _exp(lam * (u{k} - best))")
        w(f"target = _uniform(O[t, {self.slots(decide_site(d.actor))}], run) * acc")
        for k in range(K - 1):
            w(f"if c{k} > target:")
            with w.block():
                w(f"return {k}")
        w(f"return {K - 1}")

    def effect_value(self, effect: Effect, weights: dict[int, Expression]) -> str:
        total = "0.0"
        for delta in effect.deltas:
            if delta.var in weights:
                total = f"({total} + w{delta.var} * {self.ex.source(delta.expr, 'mean')})"
        return total

    # -- effects -------------------------------------------------------------------------------
    def add_deltas(self, effect: Effect) -> None:
        for delta in effect.deltas:
            self.out(f"D[{delta.var}] = D[{delta.var}] + {self.ex.source(delta.expr)}")

    def apply_deltas(self) -> None:
        w = self.out
        w(f"for j in range({len(self.p.variables)}):")
        with w.block():
            w("X[j] = _min(_max(X[j] + D[j], LO[j]), HI[j])")


@dataclass
class _Effects:
    """Effects' emitted tags and rungs as arrays: effect e emits ``tags[start[e]:start[e+1]]``
    (each once) and reaches rung ``level[e]``."""

    tags: list[int] = field(default_factory=list)
    start: list[int] = field(default_factory=lambda: [0])
    level: list[float] = field(default_factory=list)

    def add(self, effect: Effect) -> int:
        self.tags.extend(sorted(set(effect.tags)))
        self.start.append(len(self.tags))
        self.level.append(float(effect.level))
        return len(self.level) - 1


def _ident(owner: str, program: Program) -> str:
    """A red-line owner as a source identifier: its position among the actors."""
    owners = sorted({c.owner for d in program.deciders for cs in d.crossings for c in cs})
    return str(owners.index(owner))


def tables(program: Program) -> Effects:
    """Effects as data: which effect a rule's firing (1) or failing (2), or an actor's
    candidate, applies — indices into the emitted tags and rungs (depends on the program's
    structure alone)."""
    fx = _Effects()
    rules = np.zeros((max(len(program.rules), 1), 3), dtype=np.int64)
    for r, rule in enumerate(program.rules):
        rules[r, 1], rules[r, 2] = fx.add(rule.fire), fx.add(rule.fail)
    sched = np.zeros((max(len(program.schedule), 1), 3), dtype=np.int64)
    for r, rule in enumerate(program.schedule):
        sched[r, 1], sched[r, 2] = fx.add(rule.fire), fx.add(rule.fail)
    width = max((len(d.candidates) for d in program.deciders), default=1)
    acts = np.zeros((max(len(program.deciders), 1), width), dtype=np.int64)
    for i, d in enumerate(program.deciders):
        for k, c in enumerate(d.candidates):
            if c != HOLD:
                acts[i, k] = fx.add(program.actions[c].effect)
    return Effects(
        tags=np.array(fx.tags or [0], dtype=np.int64),
        start=np.array(fx.start, dtype=np.int64),
        level=np.array(fx.level or [0.0], dtype=np.float64),
        rule=rules,
        scheduled=sched,
        action=acts,
    )


@dataclass(frozen=True)
class Generated:
    """A program's module source and the draw sites of its origin table's columns."""

    text: str
    slots: tuple[tuple[int, int], ...]


def generate(program: Program) -> Generated:
    """The module of a program (:class:`Unsupported` where it uses something this engine
    leaves to the NumPy kernel)."""
    gen = _Generator(program)
    text = gen.generate()
    return Generated(text, tuple(gen.slots.keys))


def source(program: Program) -> str:
    """The generated module of a program (``redline explain FILE --fused`` prints it)."""
    return generate(program).text
