"""Scalar evaluator: a plain tree walk over ONE run, for the reference interpreter.

It shares no code with the compiler beyond the syntax tree and pattern matching, and does all
arithmetic with NumPy ufuncs on float64 scalars so its results are bit-identical to it.
"""

from __future__ import annotations

from collections.abc import Mapping, Set
from typing import Any, Literal, Protocol

import numpy as np

from redline.engine import numeric, rng
from redline.scenario.expr.ast import Binary, Bool, Call, Compare, Expr, Name, Num, Str, Unary
from redline.scenario.expr.errors import ExprError
from redline.scenario.expr.patterns import compile_pattern


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


def evaluate(
    expr: Expr, env: ScalarEnv, site_base: str, mode: Literal["sample", "mean"] = "sample"
) -> float | bool:
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

    def unary(self, op: str, a: Any) -> Any:
        if op == "-":
            return np.negative(a)
        if op == "+":
            return np.positive(a)
        if op == "not":
            return np.subtract(1.0, a) if self.mean else np.logical_not(a)
        raise ExprError(f"unknown operator '{op}'")

    def binary(self, op: str, a: Any, b: Any) -> Any:
        if op == "+":
            return np.add(a, b)
        if op == "-":
            return np.subtract(a, b)
        if op == "*":
            return np.multiply(a, b)
        if op == "/":
            return np.divide(a, b)
        if op == "%":
            return np.mod(a, b)
        if op == "**":
            return np.float64(numeric.power(a, b))
        if op == "and":
            return np.multiply(a, b) if self.mean else np.bool_(a and b)
        if op == "or":
            if self.mean:
                return np.subtract(np.add(a, b), np.multiply(a, b))
            return np.bool_(a or b)
        raise ExprError(f"unknown operator '{op}'")

    def compare(self, expr: Compare) -> Any:
        values = [self.visit(e) for e in (expr.first, *expr.rest)]
        holds = True
        for op, left, right in zip(expr.ops, values, values[1:], strict=False):
            if op == "<":
                ok = left < right
            elif op == "<=":
                ok = left <= right
            elif op == ">":
                ok = left > right
            elif op == ">=":
                ok = left >= right
            elif op == "==":
                ok = left == right
            elif op == "!=":
                ok = left != right
            else:
                raise ExprError(f"unknown operator '{op}'", expr.pos)
            holds = holds and bool(ok)
        return self.truth(holds)

    def call(self, expr: Call) -> Any:
        func = expr.func
        if func in ("happened", "now", "count"):
            return self.event(expr)
        if func == "chose":
            actor, action = (self.text(arg) for arg in expr.args)
            if self.mean:
                return np.float64(self.env.belief(actor, action))
            return np.bool_(self.env.choice(actor, action))
        site = 0
        if func in ("normal", "uniform", "bernoulli"):
            site = rng.site_id(f"{self.site_base}#{self.random_calls}")
            self.random_calls += 1
        args = [self.visit(arg) for arg in expr.args]
        if func == "min":
            result = args[0]
            for arg in args[1:]:
                result = np.minimum(result, arg)
            return result
        if func == "max":
            result = args[0]
            for arg in args[1:]:
                result = np.maximum(result, arg)
            return result
        if func == "clip":
            return np.minimum(np.maximum(args[0], args[1]), args[2])
        if func == "abs":
            return np.absolute(args[0])
        if func == "exp":
            return np.float64(numeric.exp(args[0]))
        if func == "log":
            return np.float64(numeric.log(args[0]))
        if func == "sqrt":
            return np.sqrt(args[0])
        if func == "floor":
            return np.floor(args[0])
        if func == "ceil":
            return np.ceil(args[0])
        if func == "where":
            cond, yes, no = args
            if self.mean:
                return np.add(np.multiply(cond, yes), np.multiply(np.subtract(1.0, cond), no))
            return yes if cond else no
        if func in ("normal", "uniform", "bernoulli"):
            return self.random(func, args, site)
        raise ExprError(f"unknown function '{func}'", expr.pos)

    def random(self, func: str, args: list[Any], site: int) -> Any:
        if func == "normal":
            if self.mean:
                return args[0]
            return np.add(args[0], np.multiply(args[1], np.float64(self.env.normal(site))))
        if func == "uniform":
            if self.mean:
                return np.divide(np.add(args[0], args[1]), 2.0)
            u = np.float64(self.env.uniform(site))
            return np.add(args[0], np.multiply(np.subtract(args[1], args[0]), u))
        if self.mean:
            return args[0]
        return np.less(np.float64(self.env.uniform(site)), args[0])

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
