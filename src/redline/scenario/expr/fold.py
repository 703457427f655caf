"""Constant folding at check time: the value of an expression that reads no state.

An expression is constant when it uses only literals and names given a value (the parameters,
when validation asks), and no draws, events or choices. Each operator and function computes
what :mod:`redline.core.primitives` declares — what every backend computes — in IEEE float64
(``1/0`` is ``inf``, ``log(0)`` is ``-inf``), except that a constant sub-expression whose
finite operands overflow float64 (``10 ** 400``, ``exp(1000)``) is an error: it can only be a
mistake. NumPy signals the overflow, so no huge number is ever built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from redline.core.expr import (
    Binary,
    Bool,
    Call,
    Compare,
    Expr,
    ExprError,
    Name,
    Num,
    Unary,
    children,
)
from redline.core.primitives import BINARY, COMPARE, SIGNATURES, UNARY, Primitive
from redline.scenario.expr.printer import to_source

#: a folded value: a float64 or a bool scalar, or None where the value is not known
Folded = np.float64 | np.bool_ | None


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
        """What the operator or function computes, as every backend computes it
        (:mod:`redline.core.primitives`); None for draws, events and choices."""
        if isinstance(expr, Unary):
            return _scalar(_applied(UNARY[expr.op])(args[0]))
        if isinstance(expr, Binary):
            return _scalar(_applied(BINARY[expr.op])(args[0], args[1]))
        if isinstance(expr, Compare):
            pairs = zip(expr.ops, args, args[1:], strict=False)
            return np.bool_(all(_applied(COMPARE[op])(a, b) for op, a, b in pairs))
        if isinstance(expr, Call):
            primitive = SIGNATURES[expr.func]
            if primitive.family in ("math", "where"):
                return _scalar(_applied(primitive)(*args))
        return None


def _applied(primitive: Primitive) -> Any:
    assert primitive.apply is not None, primitive.name
    return primitive.apply


def _scalar(value: Any) -> Folded:
    """A NumPy scalar of the value (ufuncs give 0-d results for 0-d input)."""
    if isinstance(value, bool | np.bool_):
        return np.bool_(value)
    return np.float64(value)
