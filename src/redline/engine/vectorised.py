"""The NumPy kernel's expression compiler: a checked tree becomes a closure over the arrays of a
chunk of runs.

Names, functions, event patterns and draw sites are all resolved at compile time, and subtrees
without names, draws, events or choices are folded to constants. :func:`closures` keeps each
program's closures, compiled on first use, for every chunk of that program.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from redline.core.expr import (
    Binary,
    Bool,
    Call,
    Compare,
    Expr,
    ExprError,
    Mode,
    Name,
    Num,
    Str,
    Unary,
)
from redline.core.patterns import match_tags
from redline.core.primitives import BINARY, COMPARE, SIGNATURES, UNARY, Primitive
from redline.core.program import Expression, Program
from redline.engine import rng
from redline.engine.arrayenv import ArrayEnv

#: what a compiled expression returns: an array with one entry per run, or a constant scalar
Value: TypeAlias = NDArray[np.float64] | NDArray[np.bool_] | np.float64 | np.bool_
_Fn: TypeAlias = Callable[[ArrayEnv], Any]
_Op: TypeAlias = Callable[..., Any]


@dataclass(frozen=True)
class Layout:
    """How the arrays of an ArrayEnv are laid out: the tag of each event column."""

    tags: tuple[str, ...]


class Compiled:
    """A compiled expression: call it with an ArrayEnv to get its value for every run."""

    __slots__ = ("_constant", "_fn", "expr", "mode")

    def __init__(self, expr: Expr, mode: Mode, fn: _Fn | None, constant: Value | None) -> None:
        self.expr = expr
        self.mode = mode
        self._fn = fn
        self._constant = constant

    @property
    def constant(self) -> Value | None:
        """The value when it does not depend on the runs, else None."""
        return self._constant

    def __call__(self, env: ArrayEnv) -> Value:
        if self._fn is None:
            assert self._constant is not None
            return self._constant
        with np.errstate(all="ignore"):
            result: Value = self._fn(env)
        return result

    def __repr__(self) -> str:
        return f"Compiled({self.expr!r}, mode={self.mode!r})"


def compile_expr(expr: Expr, layout: Layout, site_base: str, mode: Mode = "sample") -> Compiled:
    """Compile a checked expression; random call k draws at ``site_id(f"{site_base}#{k}")``."""
    if mode not in ("sample", "mean"):
        raise ValueError(f"mode must be 'sample' or 'mean', got {mode!r}")
    with np.errstate(all="ignore"):
        part = _Compiler(layout, site_base, mode).visit(expr)
    if part.fn is None:
        return Compiled(expr, mode, None, part.value)
    fn = part.fn
    if isinstance(expr, Name | Call):  # may hand back the environment's own array
        inner = fn

        def fn(env: ArrayEnv) -> Any:
            value = inner(env)
            return value.copy() if isinstance(value, np.ndarray) else value

    return Compiled(expr, mode, fn, None)


@dataclass(frozen=True)
class _Part:
    """A compiled subtree: a closure, or (fn is None) a folded constant."""

    fn: _Fn | None
    value: Any = None

    def getter(self) -> _Fn:
        if self.fn is not None:
            return self.fn
        value = self.value
        return lambda env: value


def _scalar(value: Any) -> Any:
    """NumPy scalars for 0-d results, so constants are never 0-d arrays."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return value[()]
    if isinstance(value, bool):
        return np.bool_(value)
    if isinstance(value, int | float):
        return np.float64(value)
    return value


def _lift(op: _Op, parts: Sequence[_Part]) -> _Part:
    """Apply ``op`` to the parts' values: folded now if all are constant, else at run time."""
    if all(p.fn is None for p in parts):
        return _Part(None, _scalar(op(*(p.value for p in parts))))
    getters = [p.getter() for p in parts]
    if len(getters) == 1:
        (a,) = getters
        return _Part(lambda env: op(a(env)))
    if len(getters) == 2:
        a, b = getters
        return _Part(lambda env: op(a(env), b(env)))
    if len(getters) == 3:
        a, b, c = getters
        return _Part(lambda env: op(a(env), b(env), c(env)))
    return _Part(lambda env: op(*(g(env) for g in getters)))


def _short_circuit(left: _Part, right: _Part, op: _Op, stop_when: bool) -> _Part:
    """``and``/``or`` that skips its right side when the left decides every run.

    Skipping is safe: evaluation has no side effects and draws are keyed, not streamed."""
    if left.fn is None or right.fn is None:
        return _lift(op, [left, right])
    a, b = left.fn, right.fn

    def run(env: Any) -> Any:
        first = a(env)
        decided = first.all() if stop_when else not first.any()
        if decided and isinstance(first, np.ndarray):
            return first.copy()
        return op(first, b(env))

    return _Part(run)


def _as_float(value: Any) -> Any:
    """A bool (array) as 0.0/1.0 float64."""
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    return np.float64(value)


def _read(value: Any, mode: Mode) -> Any:
    """A value from ``env.values``: bool stays bool in sample mode; everything else float64."""
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            value = value[()]
        elif value.dtype == np.bool_ and mode == "sample":
            return value
        else:
            return value if value.dtype == np.float64 else value.astype(np.float64)
    if isinstance(value, bool | np.bool_):
        return np.bool_(value) if mode == "sample" else np.float64(value)
    return np.float64(value)


def _applied(primitive: Primitive) -> _Op:
    assert primitive.apply is not None, primitive.name
    return primitive.apply


def _any_column(table: NDArray[Any], columns: tuple[int, ...]) -> NDArray[np.bool_]:
    if len(columns) == 1:
        return np.array(table[:, columns[0]], dtype=np.bool_)
    result: NDArray[np.bool_] = np.any(table[:, list(columns)], axis=1)
    return result


def _sum_columns(table: NDArray[Any], columns: tuple[int, ...]) -> NDArray[np.float64]:
    if len(columns) == 1:
        return np.array(table[:, columns[0]], dtype=np.float64)
    result: NDArray[np.float64] = table[:, list(columns)].sum(axis=1, dtype=np.float64)
    return result


class _Compiler:
    """One compilation: the layout, the mode and the running count of random call sites."""

    def __init__(self, layout: Layout, site_base: str, mode: Mode) -> None:
        self.layout = layout
        self.site_base = site_base
        self.mean = mode == "mean"
        self.mode: Mode = mode
        self.random_calls = 0

    def visit(self, expr: Expr) -> _Part:
        match expr:
            case Num(value=value):
                return _Part(None, np.float64(value))
            case Bool(value=value):
                return _Part(None, np.float64(value) if self.mean else np.bool_(value))
            case Name(name=name):
                mode = self.mode
                return _Part(lambda env: _read(env.values[name], mode))
            case Unary(op=op, operand=operand):
                return self.unary(op, self.visit(operand), expr.pos)
            case Binary(op=op, left=left, right=right):
                return self.binary(op, self.visit(left), self.visit(right), expr.pos)
            case Compare(first=first, ops=ops, rest=rest):
                return self.compare(ops, [self.visit(e) for e in (first, *rest)], expr.pos)
            case Call():
                return self.call(expr)
            case Str(value=value, pos=pos):
                raise ExprError(f"string '{value}' is not allowed here", pos)
        raise ExprError(f"malformed expression node {type(expr).__name__}", expr.pos)

    def op(self, primitive: Primitive) -> _Op:
        return primitive.expectation() if self.mean else _applied(primitive)

    def unary(self, op: str, operand: _Part, pos: int) -> _Part:
        if op not in UNARY:
            raise ExprError(f"unknown operator '{op}'", pos)
        return _lift(self.op(UNARY[op]), [operand])

    def binary(self, op: str, left: _Part, right: _Part, pos: int) -> _Part:
        if op not in BINARY:
            raise ExprError(f"unknown operator '{op}'", pos)
        if op in ("and", "or") and not self.mean:
            return _short_circuit(left, right, self.op(BINARY[op]), stop_when=op == "or")
        return _lift(self.op(BINARY[op]), [left, right])

    def compare(self, ops: tuple[str, ...], parts: list[_Part], pos: int) -> _Part:
        if any(op not in COMPARE for op in ops) or len(parts) != len(ops) + 1:
            raise ExprError("malformed comparison", pos)
        funcs = [_applied(COMPARE[op]) for op in ops]
        mean = self.mean

        def chain(*values: Any) -> Any:
            result = funcs[0](values[0], values[1])
            for i in range(1, len(funcs)):
                result = np.logical_and(result, funcs[i](values[i], values[i + 1]))
            return _as_float(result) if mean else result

        return _lift(chain, parts)

    def call(self, expr: Call) -> _Part:
        sig = SIGNATURES.get(expr.func)
        if sig is None:
            raise ExprError(f"unknown function '{expr.func}'", expr.pos)
        if sig.family == "event":
            return self.event(expr)
        if sig.family == "choice":
            return self.choice(expr)
        site = -1
        if sig.family == "random":
            site = rng.site_id(f"{self.site_base}#{self.random_calls}")
            self.random_calls += 1
        args = [self.visit(arg) for arg in expr.args]
        if sig.draw is not None and not self.mean:
            if sig.draw == "normal":
                draw = _Part(lambda env: env.draws.normal(site))
            else:
                draw = _Part(lambda env: env.draws.uniform(site))
            args = [*args, draw]
        return _lift(self.op(sig), args)

    def strings(self, expr: Call) -> list[str]:
        values = []
        for arg in expr.args:
            if not isinstance(arg, Str):
                raise ExprError(f"{expr.func}() takes text in quotes", arg.pos)
            values.append(arg.value)
        return values

    def event(self, expr: Call) -> _Part:
        (pattern,) = self.strings(expr)
        columns = match_tags(pattern, self.layout.tags)
        mean = self.mean
        if expr.func == "count":
            if not columns:
                return _Part(None, np.float64(0.0))
            return _Part(lambda env: _sum_columns(env.count, columns))
        if not columns:
            return _Part(None, np.float64(0.0) if mean else np.bool_(False))
        if expr.func == "now":
            fn: _Fn = lambda env: _any_column(env.now, columns)  # noqa: E731
        else:
            fn = lambda env: _any_column(env.ever, columns)  # noqa: E731
        return _Part((lambda env: _as_float(fn(env))) if mean else fn)

    def choice(self, expr: Call) -> _Part:
        actor, action = self.strings(expr)
        if self.mean:
            return _Part(lambda env: _read(env.belief(actor, action), "mean"))
        return _Part(lambda env: env.choice(actor, action))


class Closures:
    """Each expression of one program compiled once per mode, on first use."""

    def __init__(self, tags: tuple[str, ...]) -> None:
        self.layout = Layout(tags)
        self._compiled: dict[tuple[str, str, Mode], Compiled] = {}
        # by the expression object too: the lookup every evaluation makes; the object is kept
        # with its closure so that its id is never reused while the entry exists
        self._sample: dict[int, tuple[Expression, Compiled]] = {}
        self._mean: dict[int, tuple[Expression, Compiled]] = {}

    def get(self, expr: Expression, mode: Mode) -> Compiled:
        by_object = self._sample if mode == "sample" else self._mean
        found = by_object.get(id(expr))
        if found is not None:
            return found[1]
        # a compiled closure depends only on the tree (its source), the draw site and the mode
        key = (expr.site, expr.source, mode)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = compile_expr(expr.tree, self.layout, expr.site, mode)
            self._compiled[key] = compiled
        by_object[id(expr)] = (expr, compiled)
        return compiled


#: programs whose closures are kept (by fingerprint): a sweep's configurations share one
_KEPT = 8
_cache: OrderedDict[str, Closures] = OrderedDict()
_lock = threading.Lock()


def closures(program: Program) -> Closures:
    """The closures of a program's expressions, shared by every program with its fingerprint
    (they differ only in parameter values, which closures read at run time)."""
    if not program.fingerprint:
        return Closures(program.tags)
    with _lock:
        found = _cache.get(program.fingerprint)
        if found is None:
            found = _cache[program.fingerprint] = Closures(program.tags)
            if len(_cache) > _KEPT:
                _cache.popitem(last=False)
        _cache.move_to_end(program.fingerprint)
        return found
