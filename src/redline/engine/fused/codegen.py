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
import operator
import re
from collections.abc import Iterator
from contextlib import contextmanager
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
    """A chunk's inputs: its runs, their parameter values, the keyed draws' stream origins and
    the scripted actors' plans (the variables' bounds are literals in the source)."""

    runs: NDArray[np.int64]  # (runs,)
    fixed: NDArray[np.float64]  # (params,) each parameter's value; 0 for a drawn one
    drawn: NDArray[np.float64]  # (drawn params, runs) each run's drawn values
    drawn_row: NDArray[np.int64]  # (params,) a parameter's row in ``drawn``; -1 if fixed
    origins: NDArray[np.uint64]  # (steps, slots) stream origin of every draw site of a step
    plan: NDArray[np.int64]  # (actors, steps) a scripted actor's candidate at each step


class Effects(NamedTuple):
    """The program's effects and event columns as data. Effect ``e`` sets the event-word masks
    ``mask[e]`` (tags as bits, 63 to an int64 word), adds one to the counters
    ``ctags[cstart[e]:cstart[e + 1]]`` (positions in the event array of the tags that
    ``count()`` reads) and reaches rung ``level[e]`` (the phase function that applies it has
    already added its deltas to the state variables it writes); after it, only the rules
    ``aff[astart[e]:astart[e + 1]]`` (those whose triggers read what it changes) need testing
    again in the next round. ``rule[r, 1]`` and
    ``rule[r, 2]`` are the effects of rule ``r`` firing and failing (``scheduled`` likewise),
    ``action[a, k]`` that of actor ``a``'s candidate ``k``; ``choosers`` the actors that can
    perform anything but hold, ``choice[a]`` the event-record column of ``a``'s candidate 1."""

    mask: NDArray[np.int64]  # (effects, words)
    cstart: NDArray[np.int64]
    ctags: NDArray[np.int64]
    astart: NDArray[np.int64]
    aff: NDArray[np.int64]
    level: NDArray[np.float64]
    rule: NDArray[np.int64]
    scheduled: NDArray[np.int64]
    action: NDArray[np.int64]
    #: the actors that can perform anything but hold, and each actor's event-record column
    #: of its candidate 1
    choosers: NDArray[np.int64]
    choice: NDArray[np.int64]


class Work(NamedTuple):
    """The run loop's working arrays (made by :func:`workspace`, so that the compiled code
    allocates nothing and counts no references): a run's state, parameters, event array (this
    step's event words, every step's, the actors' choices, the counters of counted tags) and
    event record, and a round's reactions. All but the record are views of two arrays, ``V``
    (floats) and ``I`` (integers), laid out as :class:`Packing` says: a phase function takes
    those two rather than seven arrays (a call passes each array as seven values)."""

    V: NDArray[np.float64]
    I: NDArray[np.int64]  # noqa: E741 (the integers, beside V)
    X: NDArray[np.float64]  # (variables,)
    P: NDArray[np.float64]  # (params,) the run's parameter values
    Q: NDArray[np.float64]  # (reactions,) their probabilities
    R: NDArray[np.int64]  # (reactions,) 1 fired, 2 failed, 0 did not react
    F: NDArray[np.int64]  # (reactions,) the reactions of a phase, in their order
    SP: NDArray[np.int64]  # (rules,) 1: reacted this step
    DT: NDArray[np.int64]  # (rules,) 1: to be tested this round
    FIRST: NDArray[np.int64]  # (outcomes,)
    E: NDArray[np.int64]
    EV: NDArray[np.int64]  # (event columns,) the run's event record


class Packing(NamedTuple):
    """Where each working array starts in ``V`` (the state, the parameters, the reactions'
    probabilities) and ``I`` (the reactions, their order, the rules' two flags, the outcomes'
    first steps, then the event array, whose size the generator learns last)."""

    p: int
    q: int
    v_size: int
    f: int
    sp: int
    dt: int
    first: int
    e: int

    @classmethod
    def of(cls, program: Program) -> Packing:
        """The layout for ``program``: the state and the reactions start their arrays."""
        rules = max(len(program.rules), 1)
        reactions = max(len(program.rules), len(program.schedule), 1)
        p = max(len(program.variables), 1)
        q = p + max(len(program.params), 1)
        f = reactions
        sp = f + reactions
        dt = sp + rules
        first = dt + rules
        return cls(p, q, q + reactions, f, sp, dt, first, first + max(len(program.outcomes), 1))


def workspace(program: Program, counted: tuple[int, ...], fixed: NDArray[np.float64]) -> Work:
    """Working arrays for the run loop of ``program`` (with ``counted`` tags), its parameter
    values starting as ``fixed``."""
    at = Packing.of(program)
    size = 2 * event_words(program) + len(program.deciders) + len(counted)
    V = np.zeros(at.v_size)
    V[at.p : at.q] = fixed
    I = np.zeros(at.e + size, dtype=np.int64)  # noqa: E741
    return Work(
        V=V,
        I=I,
        X=V[: at.p],
        P=V[at.p : at.q],
        Q=V[at.q :],
        R=I[: at.f],
        F=I[at.f : at.sp],
        SP=I[at.sp : at.dt],
        DT=I[at.dt : at.first],
        FIRST=I[at.first : at.e],
        E=I[at.e :],
        EV=np.zeros(max(event_layout(program).size, 1), dtype=np.int64),
    )


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


#: event tags per int64 word of the event array (the sign bit unused: masks stay positive)
WORD_BITS = 63


def event_words(program: Program) -> int:
    """How many int64 words hold a step's events (one bit per tag)."""
    return max(1, -(-len(program.tags) // WORD_BITS))


#: operators folded where both operands are literals: Python's float arithmetic is the same
#: IEEE double arithmetic the compiled loop does (no fused multiply-add, no fast-math)
_FOLD = {"+": operator.add, "-": operator.sub, "*": operator.mul}


def _number(code: str) -> float | None:
    """The value of a finite float literal the generator wrote (``0.5``, ``(-0.3)``), else
    None."""
    text = code[1:-1] if code.startswith("(") and code.endswith(")") else code
    try:
        return float(text)
    except ValueError:
        return None


def _fold(op: str, left: str, right: str) -> str | None:
    """``left op right`` as a literal where both are literals (less code to compile)."""
    a, b = _number(left), _number(right)
    if a is None or b is None or op not in _FOLD:
        return None
    return _lit(_FOLD[op](a, b))


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
        self.words = event_words(program)
        self.at = Packing.of(program)
        #: the tags ``count()`` reads, each with its counter's slot
        self.counted: dict[int, int] = {}
        #: in a function that reads state and parameters into locals once (none changes
        #: while it runs), each local's name and what loads it
        self.local: dict[str, str] | None = None
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
            operand = self.visit(e.operand)
            value = _number(operand)
            if e.op == "-" and value is not None:
                return _lit(-value)
            return self.apply(UNARY[e.op], [operand])
        if isinstance(e, Binary):
            left, right = self.visit(e.left), self.visit(e.right)
            return _fold(e.op, left, right) or self.apply(BINARY[e.op], [left, right])
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

    def var(self, j: int) -> str:
        """State variable ``j``: a local loaded once where the function holds them."""
        if self.local is None:
            return f"V[{j}]"
        self.local.setdefault(f"x{j}", f"V[{j}]")
        return f"x{j}"

    def param(self, k: int) -> str:
        """Parameter ``k``: a local loaded once where the function holds them."""
        if self.local is None:
            return f"V[{self.at.p + k}]"
        self.local.setdefault(f"p{k}", f"V[{self.at.p + k}]")
        return f"p{k}"

    def event(self, k: int) -> str:
        """Slot ``k`` of the event array (an event word or a tag's counter, which only the run
        loop changes): a local loaded once where the function holds them."""
        if self.local is None:
            return f"I[{self.at.e + k}]"
        self.local.setdefault(f"ew{k}", f"I[{self.at.e + k}]")
        return f"ew{k}"

    def name(self, name: str) -> str:
        if name in self.vars:
            return self.var(self.vars[name])
        if name in self.params:
            return self.param(self.params[name])
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
                if not cols:
                    return "0.0"
                base = 2 * self.words + len(self.p.deciders)
                slots = [base + self.counted.setdefault(c, len(self.counted)) for c in cols]
                return "(0.0" + "".join(f" + {self.event(k)}" for k in slots) + ")"
            if not cols:
                return "0.0" if self.mean else "False"
            first = 0 if f == "now" else self.words
            masks: dict[int, int] = {}
            for c in cols:
                masks[c // WORD_BITS] = masks.get(c // WORD_BITS, 0) | 1 << (c % WORD_BITS)
            tests = [f"({self.event(first + w)} & {m}) != 0" for w, m in sorted(masks.items())]
            return self.truth(f"({' or '.join(tests)})")
        if f == "chose":
            if self.mean:
                raise Unsupported("beliefs about choices")
            actor, action = (a.value for a in e.args if isinstance(a, Str))
            index, positions = self.positions[actor]
            position = positions.get(action)
            at = 2 * self.words + index
            return "False" if position is None else f"(I[{self.at.e + at}] == {position})"
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


#: the arguments every generated phase function takes: what expressions read (the state, the
#: parameters, the event array — this step's and every step's event words, the actors'
#: choices, the counters of counted tags —, the stream origins) and the step's scalars
_STATE = "V, I, O, t, tf, run, level, peak"

#: the runtime helpers every generated module imports
_HELPERS = (
    "_add_weight_if, _check_probability, _check_state, _emit, _max, _max_if, _min, "
    "_normal, _note, _scalar, _uniform"
)


class _Generator:
    """Writes the module of one program: a function per phase of a step (the scheduled events,
    the dynamics, the actors' decisions, their actions' deltas, a round of rules, the outcome
    tests) and the run loop that calls them. A phase function holds the expressions written
    out; what effects do beyond their deltas (tags, rungs, the variables they write, the
    rules to test again) is data (:class:`Effects`), which the loop's few table-driven lines
    apply — few lines and few functions keep Numba's compile short."""

    def __init__(self, program: Program) -> None:
        self.p = program
        self.slots = _Slots()
        self.ex = _Expressions(program, self.slots)
        self.out = _Source()
        self.layout = event_layout(program)
        self.words = event_words(program)
        self.at = self.ex.at
        #: each phase function's arguments (the names it uses, in the order of the list)
        self.args: dict[str, str] = {}

    @contextmanager
    def function(
        self, name: str, extra: str = "", result: str = "0", local: bool = True
    ) -> Iterator[None]:
        """A phase function returning ``result``. With ``local`` (the state does not change
        while it runs) the variables and parameters it reads are loaded into locals once, at
        its start, and deltas add up in locals applied at its end: each variable a delta
        changed is set to its value plus the sum, clipped to its bounds. Only a variable whose
        sum is not zero is touched: a stored value is within its bounds and never -0.0, so
        adding a zero (a delta of 0.0, or none) and clipping leaves it as it is, and the loop
        needs no list of the variables each effect wrote."""
        w = self.out
        w("")
        w("@_part")
        w(f"def {name}():")  # its arguments once its body is written
        start = len(w.lines)
        self.ex.local = {} if local else None
        self.deltas: dict[int, None] = {}
        with w.block():
            yield
            for v in self.deltas:
                w(f"if d{v} != 0.0:")
                with w.block():
                    x = f"x{v}" if self.ex.local and f"x{v}" in self.ex.local else f"V[{v}]"
                    w(f"V[{v}] = {self.clip(f'{x} + d{v}', v)}")
            w(f"return {result}")
        head = [f"    {k} = {code}" for k, code in (self.ex.local or {}).items()]
        head += [f"    d{v} = 0.0" for v in self.deltas]
        w.lines[start:start] = head
        self.ex.local = None
        body = "\n".join(w.lines[start:])
        names = [*_STATE.split(", "), *(extra.split(", ") if extra else ())]
        self.args[name] = ", ".join(n for n in names if re.search(rf"\b{n}\b", body))
        w.lines[start - 1] = f"def {name}({self.args[name]}):"

    def clip(self, code: str, j: int) -> str:
        """``code`` clipped to variable ``j``'s bounds, written as literals: np.maximum with
        -inf and np.minimum with inf leave every value as it is, so an infinite bound is no
        test at all."""
        var = self.p.variables[j]
        value = _number(code)
        if value is not None:  # folded as the compiled code would (NaN wins)
            for bound, pick in ((var.lo, max), (var.hi, min)):
                value = value if value != value else bound if bound != bound else pick(value, bound)
            return _lit(value)
        if var.lo != -math.inf:
            code = f"_max({code}, {_lit(var.lo)})"
        if var.hi != math.inf:
            code = f"_min({code}, {_lit(var.hi)})"
        return code

    def call(self, name: str) -> str:
        """A call of the phase function ``name`` from the run loop: it passes only the
        arguments the function reads or writes (each array is a struct of seven fields, so
        a call with every one of them costs more than what a small phase does)."""
        return f"{name}({self.args[name]})"

    def generate(self) -> str:
        p, w, ex = self.p, self.out, self.ex
        w("import numba")
        w("import numpy as np")
        w(f"from redline.engine.fused.runtime import {_HELPERS}")
        for name in (*LIBM, "power"):  # the C library's functions, as every backend calls them
            w(f"_{name} = _scalar({name!r})")
        w("# nothing allocates, so no reference is counted (_nrt=False); a phase function is")
        w("# called only from the run loop, so it needs no Python wrapper and no cache of its")
        w("# own (the loop's machine code, cached, holds it)")
        w('_jit = numba.njit(cache=True, nogil=True, error_model="numpy", _nrt=False)')
        w('_part = numba.njit(cache=False, nogil=True, error_model="numpy", _nrt=False,')
        w("                   no_cpython_wrapper=True)")
        with self.function("initial", local=False):  # each may read the last
            for j, var in enumerate(p.variables):
                code = ex.source(var.initial)
                w(f"V[{j}] = {self.clip(_fold('+', code, '0.0') or f'{code} + 0.0', j)}")
        if p.dynamics:
            with self.function("dynamics"):
                for k, dyn in enumerate(p.dynamics):
                    w(f"n{k} = {ex.source(dyn.value)} + 0.0")
                last = {dyn.var: k for k, dyn in enumerate(p.dynamics)}  # the last write wins
                for j, k in sorted(last.items()):  # clipped: only what they wrote
                    w(f"V[{j}] = {self.clip(f'n{k}', j)}")
        if any(r.at_step is not None for r in p.schedule):
            self.scheduled()
        self.decide()
        with self.function("perform"):
            for i, d in enumerate(p.deciders):
                if not self.chooses(i):
                    continue
                for k, c in enumerate(d.candidates):
                    if c != HOLD and p.actions[c].effect.deltas:
                        w(f"if {ex.event(2 * self.words + i)} == {k}:")
                        with w.block():
                            self.add_deltas(p.actions[c].effect)
        if p.rules:
            self.rules()
        first = self.at.first
        with self.function("outcomes", result="ended"):  # whether an absorbing one ended it
            w("ended = False")
            for o, outcome in enumerate(p.outcomes):
                if outcome.absorbing:
                    w(f"if {ex.source(outcome.when)}:")
                    with w.block():
                        w(f"if I[{first + o}] < 0:")
                        with w.block():
                            w(f"I[{first + o}] = t")
                        w("ended = True")
                else:  # once recorded, not tested again
                    w(f"if I[{first + o}] < 0 and {ex.source(outcome.when)}:")
                    with w.block():
                        w(f"I[{first + o}] = t")
        self.kernel()
        return w.text()

    def chooses(self, i: int) -> bool:
        return _chooses(self.p, i)

    def react(self, r: int, rule: Reaction, site: int) -> None:
        """Rule ``r`` whose trigger held: its probability into Q[r], whether it fires (R[r]
        = 1) or fails (2), its deltas added up, and ``r`` listed in F (its ``n``-th)."""
        w = self.out
        w(f"q{r} = {self.ex.source(rule.probability)}")
        w(f"V[{self.at.q + r}] = q{r}")
        w(f"if _uniform(O[t, {self.slots(site)}], run) < q{r}:")
        with w.block():
            self.add_deltas(rule.fire)
            w(f"I[{r}] = 1")
        w("else:")
        with w.block():
            self.add_deltas(rule.fail)
            w(f"I[{r}] = 2")
        w(f"I[{self.at.f} + n] = {r}")
        w("n += 1")

    def scheduled(self) -> None:
        """The scheduled events due at step t (R, Q, F and the result as for a round of
        rules)."""
        p, w = self.p, self.out
        by_step: dict[int, list[int]] = {}
        for r, rule in enumerate(p.schedule):
            if rule.at_step is not None:
                by_step.setdefault(rule.at_step, []).append(r)
        with self.function("scheduled", result="n"):
            w("n = 0")
            for at, due in sorted(by_step.items()):
                w(f"if t == {at}:")
                with w.block():
                    for r in due:
                        w(f"if {self.ex.source(p.schedule[r].trigger)}:")
                        with w.block():
                            self.react(r, p.schedule[r], fire_site(p.schedule[r]))

    def rules(self) -> None:
        """A round of rules: each unspent one whose trigger may have changed (DT: every rule
        in a step's first round, then those whose inputs the last round changed) and holds
        reacts: whether it fired (R[r] = 1) or failed (2), its probability in Q[r], its deltas
        applied at the round's end; returns how many reacted, listed in F in order."""
        p, w = self.p, self.out
        # a round after the first tests only the rules whose inputs changed: each value read
        # where a rule reads it, not all of them at the start of every round
        with self.function("round_of_rules", result="n", local=False):
            w("n = 0")
            for r, rule in enumerate(p.rules):
                test = f"I[{self.at.dt + r}] != 0 and I[{self.at.sp + r}] == 0"
                w(f"if {test} and {self.ex.source(rule.trigger)}:")
                with w.block():
                    self.react(r, rule, fire_site(rule))

    def decide(self) -> None:
        """Every actor's choice this step, in the actors' order, into the event array."""
        p, w = self.p, self.out
        with self.function("decide", "PLAN"):
            for i, d in enumerate(p.deciders):
                at = 2 * self.words + i
                if d.kind == "logit" and len(d.candidates) > 1:
                    self.logit(i, at)
                elif d.kind == "scripted":
                    w(f"I[{self.at.e + at}] = PLAN[{i}, t]")
                else:
                    w(f"I[{self.at.e + at}] = 0")

    def kernel(self) -> None:
        p, w = self.p, self.out
        nv, no, nd = len(p.variables), len(p.outcomes), len(p.deciders)
        choosers = [i for i in range(nd) if self.chooses(i)]
        w("")
        w("@_jit")
        w("def kernel(inp, FX, out, work):")
        with w.block():
            w("runs, PD, PI, O = inp.runs, inp.drawn, inp.drawn_row, inp.origins")
            w("PLAN, OCC = inp.plan, out.occupancy")
            # the tables as locals, read in the loop without a tuple's attribute lookup
            w("FM, FCS, FCT = FX.mask, FX.cstart, FX.ctags")
            w("FAS, FA, FL = FX.astart, FX.aff, FX.level")
            w("FR, FS, FAC = FX.rule, FX.scheduled, FX.action")
            w("FCH, FCC = FX.choosers, FX.choice")
            w("FH, PK, NS, FIN = out.first_hit, out.peak_level, out.steps, out.final")
            w("EVO = out.events")
            w("V, I, X, E, P = work.V, work.I, work.X, work.E, work.P")
            w("R, Q, F, SP, DT = work.R, work.Q, work.F, work.SP, work.DT")
            w("FIRST, EV = work.FIRST, work.EV")
            w("TQ, TV, TR = out.trouble, out.trouble_value, out.trouble_runs")
            w("rec = EVO.shape[0] > 0")
            w("for i in range(runs.shape[0]):")
            with w.block():
                w("run = runs[i]")
                w("for j in range(PI.shape[0]):")
                with w.block():
                    w("if PI[j] >= 0:")
                    with w.block():
                        w("P[j] = PD[PI[j], i]")
                w("t = 0; tf = 0.0; level = 0.0; peak = 0.0")
                w("X[:] = 0.0; E[:] = 0; FIRST[:] = -1; EV[:] = -1")
                w(self.call("initial"))
                w(f"steps = {p.horizon}")
                w(f"for t in range({p.horizon}):")
                with w.block():
                    self.step(choosers)
                w(f"for o in range({no}):")
                with w.block():
                    w("FH[i, o] = FIRST[o]")
                w("PK[i] = int(peak)")
                w("NS[i] = steps")
                w(f"for j in range({nv}):")
                with w.block():
                    w("FIN[i, j] = X[j]")
                w("if rec:")
                with w.block():
                    w(f"for j in range({self.layout.size}):")
                    with w.block():
                        w("EVO[i, j] = EV[j]")
            w("return 0")

    def step(self, choosers: list[int]) -> None:
        p, w, nw = self.p, self.out, self.words
        w("tf = float(t)")
        w(f"for j in range({nw}):")  # this step's events start empty, choices unmade
        with w.block():
            w("E[j] = 0")
        w(f"for j in range({2 * nw}, {2 * nw + len(p.deciders)}):")
        with w.block():
            w("E[j] = -1")
        w("reached = -1.0")
        if any(r.at_step is not None for r in p.schedule):
            w(f"n = {self.call('scheduled')}")
            w("for f in range(n):")
            with w.block():
                w("r = F[f]")
                self.check(scheduled_column(0))
                column = f"{self.layout.scheduled(0) - 1} + 2 * r + R[r]"
                self.effect("FS[r, R[r]]", column, str(STAGE_SCHEDULE))
                w("R[r] = 0")
        if p.dynamics:
            w(self.call("dynamics"))
        w(self.call("decide"))
        if choosers:
            w(self.call("perform"))
            w("for a in FCH:")
            with w.block():
                w(f"k = E[{2 * nw} + a]")
                w("if k > 0:")
                with w.block():
                    self.effect("FAC[a, k]", "FCC[a] - 1 + k", str(STAGE_DECIDE))
        if p.rules:
            w("SP[:] = 0; DT[:] = 1")
            w(f"for depth in range({p.max_depth}):")
            with w.block():
                w(f"n = {self.call('round_of_rules')}")
                w("if n == 0:")
                with w.block():
                    w("break")
                w("DT[:] = 0")
                w("for f in range(n):")
                with w.block():
                    w("r = F[f]")
                    w("SP[r] = 1")
                    self.check(rule_column(p, 0))
                    column = f"{self.layout.rule(0) - 1} + 2 * r + R[r]"
                    self.effect("FR[r, R[r]]", column, f"{STAGE_ROUND} + depth")
                    w("for j in range(FAS[e], FAS[e + 1]):")
                    with w.block():
                        w("DT[FA[j]] = 1")
                    w("R[r] = 0")
        w("if reached >= 0.0:")
        with w.block():
            w("level = reached")
        w("peak = _max(peak, level)")
        w("lv = int(level)")
        w(f"if lv < {len(p.rungs)}:")
        with w.block():
            w("OCC[t, lv] += 1")
        if p.variables:
            w(f"_check_state(X, TQ, TV, TR, {variable_column(p, 0)}, i, run, t)")
        w(f"if {self.call('outcomes')}:")
        with w.block():
            w("steps = t + 1")
            w("break")

    def check(self, column: int) -> None:
        """Count reaction r's probability (Q[r]) if it is NaN or outside [0, 1] (trouble
        checks ``column + 2 * r`` and the next)."""
        self.out(f"_check_probability(TQ, TV, TR, {column} + 2 * r, i, run, t, Q[r])")

    def effect(self, effect: str, column: str, stage: str) -> None:
        """What an effect (the source of its index) does beyond its deltas (which its phase
        function applied): emit its tags and rung, and note its event at ``column`` and
        ``stage`` (source expressions) in the record when one is kept."""
        w = self.out
        w(f"e = {effect}")
        w(f"_emit(FM, FCS, FCT, e, E, {self.words})")
        w("reached = _max(reached, FL[e])")
        w("if rec:")
        with w.block():
            w(f"_note(EV, {column}, t * {self.layout.stride} + {stage})")

    def logit(self, i: int, at: int) -> None:
        """Actor ``i``'s logit choice, into ``E[at]``; its names prefixed ``a{i}_``, each
        assigned once (fewer values for Numba to join across branches)."""
        p, w, ex = self.p, self.out, self.ex
        d = p.deciders[i]
        v = f"a{i}_"
        weights: dict[int, str] = {}  # each weight's literal, or the local that holds it
        for var, expr in d.weights:
            weights[var] = self.value(f"{v}w{var}", ex.source(expr))
        kappa = self.value(f"{v}kappa", ex.source(d.escalation_cost))
        sigma = self.value(f"{v}sigma", ex.source(d.perception_noise))
        noisy = f"{sigma} != 0.0"  # the test, or its known answer
        if _number(sigma) is not None:
            noisy = str(_number(sigma) != 0.0)
        perceived: set[int | str] = set()
        K = len(d.candidates)
        ok: dict[int, str] = {}  # each candidate's availability: known, or a local
        for k in range(1, K):
            action = p.actions[d.candidates[k]]
            ok[k] = self.value(f"{v}ok{k}", ex.source(action.requires), ("True", "False"))
            cost = (
                _fold("*", kappa, _lit(action.escalation)) or f"{kappa} * {_lit(action.escalation)}"
            )
            value = self.effect_value(action.effect, weights)
            u = _fold("-", value, cost) or f"({value} - {cost})"
            for c in d.crossings[k]:
                cr, z = f"{v}cr{c.red_line}", f"{v}z_{_ident(c.owner, p)}"
                if c.red_line not in perceived:
                    if c.owner not in perceived:
                        s0 = self.slots(perceive_site(d.actor, c.owner), 0)
                        s1 = self.slots(perceive_site(d.actor, c.owner), 1)
                        draw = f"_normal(O[t, {s0}], O[t, {s1}], run)"
                        w(
                            f"{z} = "
                            + {"True": draw, "False": "0.0"}.get(
                                noisy, f"{draw} if {noisy} else 0.0"
                            )
                        )
                    x = ex.var(c.credibility_var)
                    seen = f"({x} + {sigma} * {z}) if {noisy} else {x}"
                    if noisy in ("True", "False"):  # known: no test
                        seen = f"({x} + {sigma} * {z})" if noisy == "True" else x
                    w(f"{cr} = _min(_max({seen}, 0.0), 1.0)")
                    perceived.update((c.red_line, c.owner))
                if c.cost is not None:
                    cost = ex.source(c.cost, "mean")
                else:
                    cost = f"(-{self.effect_value(d.responses[c.red_line], weights)})"
                u = f"({u} - {ex.source(c.when, 'mean')} * {cr} * {cost})"
            w(f"{v}u{k} = {u}")
        lam = self.value(f"{v}lam", ex.source(d.rationality))
        w(f"{v}b0 = 0.0")
        for k in range(1, K):  # the best available utility (helpers: no branch here)
            w(f"{v}b{k} = _max_if({ok[k]}, {v}b{k - 1}, {v}u{k})")
        best = f"{v}b{K - 1}"
        # c_k: the weights of candidates 0..k added up
        w(f"{v}c0 = _exp({lam} * (0.0 - {best}))")
        for k in range(1, K):
            w(f"{v}c{k} = _add_weight_if({ok[k]}, {v}c{k - 1}, {lam}, {v}u{k}, {best})")
        draw = f"_uniform(O[t, {self.slots(decide_site(d.actor))}], run)"
        w(f"{v}target = {draw} * {v}c{K - 1}")
        for k in range(K - 1):
            w(f"{'if' if k == 0 else 'elif'} {v}c{k} > {v}target:")
            with w.block():
                w(f"I[{self.at.e + at}] = {k}")
        w("else:")
        with w.block():
            w(f"I[{self.at.e + at}] = {K - 1}")

    def value(self, name: str, code: str, known: tuple[str, ...] = ()) -> str:
        """A decider's number (or truth, with ``known`` its literals): its literal where it
        is one, else a local ``name`` that holds it."""
        if _number(code) is not None or code in known:
            return code
        self.out(f"{name} = {code}")
        return name

    @staticmethod
    def unless(test: str, then: str, other: str) -> str:
        """``then if test else other``, or the branch a known test takes."""
        return {"True": then, "False": other}.get(test, f"{then} if {test} else {other}")

    def effect_value(self, effect: Effect, weights: dict[int, str]) -> str:
        """What an effect's deltas are worth by the decider's ``weights`` (literals folded)."""
        total = "0.0"
        for delta in effect.deltas:
            if delta.var in weights:
                x = self.ex.source(delta.expr, "mean")
                term = _fold("*", weights[delta.var], x) or f"{weights[delta.var]} * {x}"
                total = _fold("+", total, term) or f"({total} + {term})"
        return total

    # -- effects -------------------------------------------------------------------------------
    def add_deltas(self, effect: Effect) -> None:
        """Add an effect's deltas to the locals that collect them; an expression that several
        of its deltas share (as a red line's credibility spilling over to others) is computed
        once: the same value, less code to compile."""
        codes = [self.ex.source(delta.expr) for delta in effect.deltas]
        shared: dict[str, str] = {}
        for code in codes:
            if codes.count(code) > 1 and "(" in code and code not in shared:
                shared[code] = f"s{len(shared)}"
                self.out(f"{shared[code]} = {code}")
        for delta, code in zip(effect.deltas, codes, strict=True):
            self.deltas[delta.var] = None
            self.out(f"d{delta.var} = d{delta.var} + {shared.get(code, code)}")


@dataclass
class _Effects:
    """Effects as rows of :class:`Effects`' tables."""

    words: int
    counted: dict[int, int]
    base: int  # position of the first counter in the event array
    rules: tuple[Reaction, ...]
    mask: list[list[int]] = field(default_factory=list)
    level: list[float] = field(default_factory=list)
    ctags: list[int] = field(default_factory=list)
    cstart: list[int] = field(default_factory=lambda: [0])
    aff: list[int] = field(default_factory=list)
    astart: list[int] = field(default_factory=lambda: [0])

    def add(self, effect: Effect) -> int:
        mask = [0] * self.words
        for t in effect.unique_tags:
            mask[t // WORD_BITS] |= 1 << (t % WORD_BITS)
            if t in self.counted:
                self.ctags.append(self.base + self.counted[t])
        self.mask.append(mask)
        self.cstart.append(len(self.ctags))
        written = {d.var for d in effect.deltas}
        tags = set(effect.tags)
        self.aff.extend(
            s
            for s, rule in enumerate(self.rules)
            if rule.watch_vars.intersection(written) or rule.watch_tags & tags
        )
        self.astart.append(len(self.aff))
        self.level.append(float(effect.level))
        return len(self.level) - 1


def _chooses(program: Program, i: int) -> bool:
    """Whether actor ``i`` can perform anything but hold."""
    d = program.deciders[i]
    if len(d.candidates) < 2 or d.kind == "doctrine":
        return False
    return d.kind == "logit" or any(k != 0 for k in d.plan.values())


def _ident(owner: str, program: Program) -> str:
    """A red-line owner as a source identifier: its position among the actors."""
    owners = sorted({c.owner for d in program.deciders for cs in d.crossings for c in cs})
    return str(owners.index(owner))


def tables(program: Program, counted: tuple[int, ...]) -> Effects:
    """Effects as data: which effect a rule's firing (1) or failing (2), or an actor's
    candidate, applies, and what each effect does beyond its deltas (depends on the program's
    structure alone). ``counted``: the tags ``count()`` reads, in their counters' order."""
    words = event_words(program)
    fx = _Effects(
        words,
        {t: k for k, t in enumerate(counted)},
        2 * words + len(program.deciders),
        program.rules,
    )
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
    fx.add(Effect())  # every table has a row
    choosers = [i for i in range(len(program.deciders)) if _chooses(program, i)]

    def ints(values: list[int]) -> NDArray[np.int64]:
        return np.array(values or [0], dtype=np.int64)

    return Effects(
        mask=np.array(fx.mask, dtype=np.int64),
        cstart=ints(fx.cstart),
        ctags=ints(fx.ctags),
        astart=ints(fx.astart),
        aff=ints(fx.aff),
        level=np.array(fx.level, dtype=np.float64),
        rule=rules,
        scheduled=sched,
        action=acts,
        choosers=np.array(choosers, dtype=np.int64),
        choice=ints(list(event_layout(program).choices)),
    )


@dataclass(frozen=True)
class Generated:
    """A program's module source, the draw sites of its origin table's columns and its
    counted tags."""

    text: str
    slots: tuple[tuple[int, int], ...]
    #: the tags ``count()`` reads, in the order of their counters in the event array
    counted: tuple[int, ...]


def generate(program: Program) -> Generated:
    """The module of a program (:class:`Unsupported` where it uses something this engine
    leaves to the NumPy kernel)."""
    gen = _Generator(program)
    text = gen.generate()
    return Generated(text, tuple(gen.slots.keys), tuple(gen.ex.counted))


def source(program: Program) -> str:
    """The generated module of a program (``redline explain FILE --fused`` prints it)."""
    return generate(program).text
