"""Printer: turns a syntax tree back into source that parses to an equal tree."""

from __future__ import annotations

import math

from redline.core.expr import (
    COMPARE_OPS,
    Binary,
    Bool,
    Call,
    Compare,
    Expr,
    Name,
    Num,
    Str,
    Unary,
)
from redline.scenario.expr.lexer import KEYWORDS, NAME_RE

# precedence levels, loosest first (see the grammar in docs/expressions.md)
_OR, _AND, _NOT, _CMP, _SUM, _PRODUCT, _UNARY, _POWER, _ATOM = range(1, 10)
_BINARY_LEVEL = {
    "or": _OR,
    "and": _AND,
    "+": _SUM,
    "-": _SUM,
    "*": _PRODUCT,
    "/": _PRODUCT,
    "%": _PRODUCT,
}


def to_source(expr: Expr) -> str:
    """Source text for ``expr``; raises ValueError for trees no source can produce."""
    return _format(expr)[0]


def _wrap(expr: Expr, least: int) -> str:
    """``expr``'s source, parenthesised if it binds looser than ``least``."""
    text, level = _format(expr)
    return f"({text})" if level < least else text


def _format(expr: Expr) -> tuple[str, int]:
    """Source text and precedence level of ``expr``."""
    match expr:
        case Num(value=value):
            return _number(value), _ATOM
        case Bool(value=value):
            return ("true" if value else "false"), _ATOM
        case Name(name=name):
            if NAME_RE.fullmatch(name) is None or any(p in KEYWORDS for p in name.split(".")):
                raise ValueError(f"not a valid name: {name!r}")
            return name, _ATOM
        case Str(value=value):
            return _string(value), _ATOM
        case Unary(op="not", operand=operand):
            return f"not {_wrap(operand, _NOT)}", _NOT
        case Unary(op=op, operand=operand) if op in ("-", "+"):
            text = _wrap(operand, _UNARY)
            sep = " " if text[0] in "+-" else ""
            return f"{op}{sep}{text}", _UNARY
        case Binary(op="**", left=left, right=right):
            return f"{_wrap(left, _ATOM)} ** {_wrap(right, _UNARY)}", _POWER
        case Binary(op=op, left=left, right=right) if op in _BINARY_LEVEL:
            level = _BINARY_LEVEL[op]
            return f"{_wrap(left, level)} {op} {_wrap(right, level + 1)}", level
        case Compare(first=first, ops=ops, rest=rest):
            if not ops or len(ops) != len(rest) or not set(ops) <= COMPARE_OPS:
                raise ValueError(f"malformed comparison: {expr!r}")
            parts = [_wrap(first, _SUM)]
            for op, operand in zip(ops, rest, strict=True):
                parts.append(f"{op} {_wrap(operand, _SUM)}")
            return " ".join(parts), _CMP
        case Call(func=func, args=args):
            return f"{func}({', '.join(_wrap(arg, _OR) for arg in args)})", _ATOM
    raise ValueError(f"cannot print {expr!r}")


def _number(value: float) -> str:
    """``repr`` of a finite non-negative float (negative numbers are unary minus)."""
    if not math.isfinite(value) or math.copysign(1.0, value) < 0:
        raise ValueError(f"number literals are finite and non-negative, got {value!r}")
    value = float(value)
    if value.is_integer() and value < 1e16:
        return str(int(value))
    return repr(value)


def _string(value: str) -> str:
    """A quoted string literal (there are no escapes, so one quote kind must be absent)."""
    if "\n" in value or "\r" in value:
        raise ValueError(f"strings cannot contain line breaks: {value!r}")
    if "'" not in value:
        return f"'{value}'"
    if '"' not in value:
        return f'"{value}"'
    raise ValueError(f"a string cannot contain both kinds of quote: {value!r}")
