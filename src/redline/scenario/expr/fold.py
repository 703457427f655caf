"""Constant folding at check time: the value of an expression that reads no state.

An expression is constant when it uses only literals and names given a value (the parameters,
when validation asks), and no draws, events or choices. Arithmetic is IEEE float64 as NumPy does
it, as in the engine (``1/0`` is ``inf``, ``log(0)`` is ``-inf``), except that a constant
sub-expression whose finite operands overflow float64 (``10 ** 400``, ``exp(1000)``) is an
error: it can only be a mistake. NumPy signals the overflow, so no huge number is ever built.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from redline.scenario.expr.ast import Binary, Bool, Call, Compare, Expr, Name, Num, Unary, children
from redline.scenario.expr.errors import ExprError
from redline.scenario.expr.printer import to_source

#: a folded value: a float64 or a bool scalar, or None where the value is not known
Folded = np.float64 | np.bool_ | None

_UNARY: dict[str, Callable[[Any], Any]] = {
    "-": np.negative,
    "+": np.positive,
    "not": np.logical_not,
}
_BINARY: dict[str, Callable[[Any, Any], Any]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "%": np.mod,
    "**": np.power,
    "and": np.logical_and,
    "or": np.logical_or,
}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}
_MATH: dict[str, Callable[[Any], Any]] = {
    "abs": np.absolute,
    "exp": np.exp,
    "log": np.log,
    "sqrt": np.sqrt,
    "floor": np.floor,
    "ceil": np.ceil,
}


def fold(expr: Expr, values: Mapping[str, float] | None = None) -> float | bool | None:
    """The value of ``expr`` when it is constant given ``values`` for names, else None.

    Raise ExprError at the first constant sub-expression that overflows float64, wherever it
    is (``x + 10 ** 400`` too)."""
    with np.errstate(over="raise", divide="ignore", invalid="ignore", under="ignore"):
        value = _Folder(values or {}).visit(expr)
    if value is None:
        return None
    return bool(value) if isinstance(value, np.bool_) else float(value)


def shorten(text: str, width: int = 60) -> str:
    """``text``, cut to ``width`` characters with an ellipsis when longer."""
    return text if len(text) <= width else text[: width - 1] + "…"


def overflow_message(expr: Expr) -> str:
    """What is said of a constant sub-expression that overflows."""
    shown = shorten(to_source(expr))
    return f"constant expression overflows ({shown} is too large for a 64-bit float)"


class _Folder:
    """One fold: the known values of names."""

    def __init__(self, values: Mapping[str, float]) -> None:
        self.values = values

    def visit(self, expr: Expr) -> Folded:
        if isinstance(expr, Num):
            return np.float64(expr.value)
        if isinstance(expr, Bool):
            return np.bool_(expr.value)
        if isinstance(expr, Name):
            known = self.values.get(expr.name)
            return None if known is None else np.float64(known)
        # every child is folded, known or not, so that an overflow anywhere is found
        args = [self.visit(child) for child in children(expr)]
        if any(arg is None for arg in args):
            return None
        try:
            return self.apply(expr, args)
        except FloatingPointError:
            raise ExprError(overflow_message(expr), expr.pos) from None

    @staticmethod
    def apply(expr: Expr, args: list[Any]) -> Folded:
        if isinstance(expr, Unary):
            return _UNARY[expr.op](args[0])  # type: ignore[no-any-return]
        if isinstance(expr, Binary):
            return _BINARY[expr.op](args[0], args[1])  # type: ignore[no-any-return]
        if isinstance(expr, Compare):
            pairs = zip(expr.ops, args, args[1:], strict=False)
            return np.bool_(all(_COMPARE[op](a, b) for op, a, b in pairs))
        if isinstance(expr, Call):
            return _call(expr.func, args)
        return None


def _call(func: str, args: list[Any]) -> Folded:
    """A call of a math function or where() on known values; None for any other function."""
    if func in _MATH:
        return _MATH[func](args[0])  # type: ignore[no-any-return]
    if func in ("min", "max"):
        pick = np.minimum if func == "min" else np.maximum
        result = args[0]
        for arg in args[1:]:
            result = pick(result, arg)
        return result  # type: ignore[no-any-return]
    if func == "clip":
        return np.minimum(np.maximum(args[0], args[1]), args[2])  # type: ignore[no-any-return]
    if func == "where":
        return args[1] if args[0] else args[2]  # type: ignore[no-any-return]
    return None
