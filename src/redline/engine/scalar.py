"""The reference interpreter's expression evaluator: a plain tree walk over ONE run.

It takes what each operator and function computes from :mod:`redline.core.primitives`, as the
vectorised compiler does, on float64 scalars, so its results are bit-identical to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any, Protocol

import numpy as np

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
from redline.core.patterns import compile_pattern
from redline.core.primitives import BINARY, COMPARE, SIGNATURES, UNARY, Primitive
from redline.engine import rng


class ScalarEnv(Protocol):
    """The state of one run: values, emitted event tags, and its random draws."""

    @property
    def values(self) -> Mapping[str, float]: ...

    @property
    def now(self) -> Set[str]: ...

    @property
    def ever(self) -> Set[str]: ...

    @property
    def counts(self) -> Mapping[str, int]: ...

    def uniform(self, site: int, sub: int = 0) -> float: ...

    def normal(self, site: int) -> float: ...

    def choice(self, actor: str, action: str) -> bool: ...

    def belief(self, actor: str, action: str) -> float: ...


def evaluate(expr: Expr, env: ScalarEnv, site_base: str, mode: Mode = "sample") -> float | bool:
    """The value of ``expr`` in one run; random call k draws at ``f"{site_base}#{k}"``."""
    if mode not in ("sample", "mean"):
        raise ValueError(f"mode must be 'sample' or 'mean', got {mode!r}")
    with np.errstate(all="ignore"):
        value = _Walk(env, site_base, mode == "mean").visit(expr)
    if isinstance(value, np.bool_):
        return bool(value)
    return np.float64(value)


class _Walk:
    """One evaluation: the environment, the mode and the count of random calls met so far."""

    def __init__(self, env: ScalarEnv, site_base: str, mean: bool) -> None:
        self.env = env
        self.site_base = site_base
        self.mean = mean
        self.random_calls = 0

    def truth(self, value: bool | np.bool_) -> Any:
        """A bool result: np.bool_ in sample mode, 0.0/1.0 in mean mode."""
        return np.float64(1.0 if value else 0.0) if self.mean else np.bool_(value)

    def visit(self, expr: Expr) -> Any:
        if isinstance(expr, Num):
            return np.float64(expr.value)
        if isinstance(expr, Bool):
            return self.truth(expr.value)
        if isinstance(expr, Name):
            value = self.env.values[expr.name]
            if isinstance(value, bool | np.bool_):
                return self.truth(bool(value))
            return np.float64(value)
        if isinstance(expr, Unary):
            return self.unary(expr.op, self.visit(expr.operand))
        if isinstance(expr, Binary):
            return self.binary(expr.op, self.visit(expr.left), self.visit(expr.right))
        if isinstance(expr, Compare):
            return self.compare(expr)
        if isinstance(expr, Call):
            return self.call(expr)
        if isinstance(expr, Str):
            raise ExprError(f"string '{expr.value}' is not allowed here", expr.pos)
        raise ExprError(f"malformed expression node {type(expr).__name__}", expr.pos)

    def op(self, primitive: Primitive) -> Any:
        fn = primitive.expectation() if self.mean else primitive.apply
        assert fn is not None, primitive.name
        return fn

    def unary(self, op: str, a: Any) -> Any:
        if op not in UNARY:
            raise ExprError(f"unknown operator '{op}'")
        return self.op(UNARY[op])(a)

    def binary(self, op: str, a: Any, b: Any) -> Any:
        if op not in BINARY:
            raise ExprError(f"unknown operator '{op}'")
        return self.op(BINARY[op])(a, b)

    def compare(self, expr: Compare) -> Any:
        values = [self.visit(e) for e in (expr.first, *expr.rest)]
        holds = True
        for op, left, right in zip(expr.ops, values, values[1:], strict=False):
            if op not in COMPARE:
                raise ExprError(f"unknown operator '{op}'", expr.pos)
            holds = holds and bool(self.op(COMPARE[op])(left, right))
        return self.truth(holds)

    def call(self, expr: Call) -> Any:
        func = expr.func
        sig = SIGNATURES.get(func)
        if sig is None:
            raise ExprError(f"unknown function '{func}'", expr.pos)
        if sig.family == "event":
            return self.event(expr)
        if sig.family == "choice":
            actor, action = (self.text(arg) for arg in expr.args)
            if self.mean:
                return np.float64(self.env.belief(actor, action))
            return np.bool_(self.env.choice(actor, action))
        site = 0
        if sig.family == "random":
            site = rng.site_id(f"{self.site_base}#{self.random_calls}")
            self.random_calls += 1
        args = [self.visit(arg) for arg in expr.args]
        if sig.draw is not None and not self.mean:
            draw = self.env.normal(site) if sig.draw == "normal" else self.env.uniform(site)
            args.append(np.float64(draw))
        value = self.op(sig)(*args)
        if isinstance(value, bool | np.bool_):
            return np.bool_(value)
        return np.float64(value) if not isinstance(value, np.generic) else value

    @staticmethod
    def text(arg: Expr) -> str:
        if not isinstance(arg, Str):
            raise ExprError("expected text in quotes", arg.pos)
        return arg.value

    def event(self, expr: Call) -> Any:
        (arg,) = expr.args
        regex = compile_pattern(self.text(arg))
        if expr.func == "count":
            total = sum(n for tag, n in self.env.counts.items() if regex.fullmatch(tag))
            return np.float64(total)
        emitted = self.env.now if expr.func == "now" else self.env.ever
        return self.truth(any(regex.fullmatch(tag) for tag in emitted))
