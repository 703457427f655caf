"""The expression tree of the core program, and the one error type of the expression language.

The scenario language parses expressions into these frozen nodes (whose equality ignores
positions); every backend evaluates the same nodes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, TypeAlias

#: how an expression is read: its value in one draw ("sample"), or its expectation over its
#: draws with beliefs in place of others' choices ("mean"), as logit utilities read it
Mode: TypeAlias = Literal["sample", "mean"]

#: unary operators
UNARY_OPS = frozenset({"-", "+", "not"})
#: arithmetic operators (all take and give numbers)
ARITH_OPS = frozenset({"+", "-", "*", "/", "%", "**"})
#: boolean connectives
BOOL_OPS = frozenset({"and", "or"})
#: comparison operators, usable in chains such as ``0 < x <= 1``
COMPARE_OPS = frozenset({"<", "<=", ">", ">=", "==", "!="})


@dataclass(frozen=True)
class Num:
    """A number literal (non-negative and finite when it comes from the parser)."""

    value: float
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Bool:
    """``true`` or ``false``."""

    value: bool
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Name:
    """A variable or parameter, possibly dotted (``support.USA``)."""

    name: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Str:
    """A string literal; only ever an argument of the event and choice functions."""

    value: str
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Unary:
    """``-x``, ``+x`` or ``not x``."""

    op: str
    operand: Expr
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Binary:
    """An arithmetic operation or ``and``/``or``."""

    op: str
    left: Expr
    right: Expr
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Compare:
    """A comparison chain: ``first ops[0] rest[0] ops[1] rest[1] ...``."""

    first: Expr
    ops: tuple[str, ...]
    rest: tuple[Expr, ...]
    pos: int = field(default=0, compare=False)


@dataclass(frozen=True)
class Call:
    """A call of a built-in function by its plain name."""

    func: str
    args: tuple[Expr, ...]
    pos: int = field(default=0, compare=False)


Expr: TypeAlias = Num | Bool | Name | Str | Unary | Binary | Compare | Call


def children(expr: Expr) -> tuple[Expr, ...]:
    """The direct sub-expressions of ``expr``, left to right."""
    match expr:
        case Unary(operand=operand):
            return (operand,)
        case Binary(left=left, right=right):
            return (left, right)
        case Compare(first=first, rest=rest):
            return (first, *rest)
        case Call(args=args):
            return args
        case _:
            return ()


class ExprError(Exception):
    """A bad expression: ``message`` says what is wrong, ``pos`` where (0-based offset)."""

    def __init__(self, message: str, pos: int = 0) -> None:
        super().__init__(message, pos)
        self.message = message
        self.pos = pos

    @property
    def column(self) -> int:
        """The 1-based column of ``pos``, as shown to users."""
        return self.pos + 1

    def __str__(self) -> str:
        return f"{self.message} (at column {self.column})"
