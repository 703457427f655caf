"""Type checker: resolves names, functions, events and choices, and types every node."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from redline.core.expr import (
    ARITH_OPS,
    BOOL_OPS,
    Binary,
    Bool,
    Call,
    Compare,
    Expr,
    ExprError,
    Name,
    Num,
    Str,
    Unary,
)
from redline.core.patterns import close_pattern, match_tags, validate_pattern
from redline.core.primitives import SIGNATURES, Primitive
from redline.scenario.expr.fold import fold
from redline.scenario.expr.parser import parse
from redline.scenario.expr.symbols import Symbols, Type

_LISTED = 12
_STRING_ARGS = "strings can only be whole arguments of happened(), now(), count() and chose()"


class NoSuchEvent(ExprError):
    """An event pattern that matches no event the scenario can emit."""


def no_event_hint(pattern: str, tags: tuple[str, ...]) -> str:
    """``; did you mean 'attack:RED->*'?`` with a close pattern that matches, else ``; known
    events: …``."""
    close = close_pattern(pattern, tags)
    if close is not None:
        return f"; did you mean '{close}'?"
    return f"; known events: {listing(tags)}"


def check(expr: Expr, symbols: Symbols) -> Type:
    """The type of ``expr`` under ``symbols``; raise ExprError on the first problem."""
    return _Checker(symbols).visit(expr)


def check_source(source: str, symbols: Symbols, expect: Type | None = None) -> Expr:
    """Parse and check ``source``, requiring result type ``expect`` when it is given.

    A constant sub-expression that overflows float64 (``9 ** 9 ** 9 ** 9``, ``exp(1000)``) is an
    error too: it can only be a mistake."""
    expr = parse(source)
    got = check(expr, symbols)
    fold(expr)
    if expect is Type.BOOL and got is Type.NUMBER:
        raise ExprError("expected a bool condition, got a number; compare it, e.g. 'x > 0'", 0)
    if expect is Type.NUMBER and got is Type.BOOL:
        raise ExprError(
            "expected a number, got a bool condition; use where(c, 1, 0) to turn it into one", 0
        )
    return expr


def listing(items: Iterable[str]) -> str:
    """A short comma-separated listing of ``items`` (sorted, truncated)."""
    ordered = sorted(set(items))
    shown = ", ".join(ordered[:_LISTED])
    if len(ordered) > _LISTED:
        shown += f", … ({len(ordered)} in all)"
    return shown


def suggestion(word: str, known: Iterable[str], what: str) -> str:
    """``; did you mean 'x'?`` for a close match, else a listing of what is known."""
    candidates = sorted(set(known))
    close = difflib.get_close_matches(word, candidates, n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    if not candidates:
        return f"; there are no {what} here"
    return f"; known {what}: {listing(candidates)}"


class _Checker:
    """One check: the symbols and a recursive visit."""

    def __init__(self, symbols: Symbols) -> None:
        self.symbols = symbols

    def visit(self, expr: Expr) -> Type:
        match expr:
            case Num():
                return Type.NUMBER
            case Bool():
                return Type.BOOL
            case Name():
                return self.name(expr)
            case Str(pos=pos):
                raise ExprError(f"string '{expr.value}' is not allowed here: {_STRING_ARGS}", pos)
            case Unary(op="not", operand=operand, pos=pos):
                self.need(operand, Type.BOOL, pos, "'not' needs a bool")
                return Type.BOOL
            case Unary(op=op, operand=operand, pos=pos) if op in ("-", "+"):
                self.need(operand, Type.NUMBER, pos, f"'{op}' needs a number")
                return Type.NUMBER
            case Binary(op=op, left=left, right=right, pos=pos) if op in BOOL_OPS:
                self.need(left, Type.BOOL, pos, f"'{op}' needs bools")
                self.need(right, Type.BOOL, pos, f"'{op}' needs bools")
                return Type.BOOL
            case Binary(op=op, left=left, right=right, pos=pos) if op in ARITH_OPS:
                self.need(left, Type.NUMBER, pos, f"'{op}' needs numbers")
                self.need(right, Type.NUMBER, pos, f"'{op}' needs numbers")
                return Type.NUMBER
            case Compare():
                return self.compare(expr)
            case Call():
                return self.call(expr)
        raise ExprError(f"malformed expression node {type(expr).__name__}", expr.pos)

    def need(self, expr: Expr, want: Type, pos: int, what: str) -> None:
        got = self.visit(expr)
        if got is not want:
            raise ExprError(f"{what}, got {got.article}", pos)

    def name(self, expr: Name) -> Type:
        found = self.symbols.names.get(expr.name)
        if found is not None:
            return found
        message = f"unknown name '{expr.name}'"
        if expr.name in SIGNATURES:
            usage = SIGNATURES[expr.name].usage
            raise ExprError(f"{message}; {expr.name} is a function, call it as {usage}", expr.pos)
        raise ExprError(message + suggestion(expr.name, self.symbols.names, "names"), expr.pos)

    def compare(self, expr: Compare) -> Type:
        left = self.visit(expr.first)
        for op, operand in zip(expr.ops, expr.rest, strict=True):
            right = self.visit(operand)
            if op in ("==", "!="):
                if left is not right:
                    raise ExprError(
                        f"'{op}' compares two numbers or two bools, "
                        f"got {left.article} and {right.article}",
                        expr.pos,
                    )
            elif Type.BOOL in (left, right):
                raise ExprError(f"'{op}' compares numbers, got a bool", expr.pos)
            left = right
        return Type.BOOL

    def call(self, expr: Call) -> Type:
        sig = SIGNATURES.get(expr.func)
        if sig is None:
            raise ExprError(self.unknown_function(expr.func), expr.pos)
        self.arity(sig, expr)
        if sig.family == "event":
            self.pattern(expr)
        elif sig.family == "choice":
            self.choice(expr)
        elif sig.family == "where":
            return self.where(expr)
        else:
            if sig.family == "random" and not self.symbols.allow_random:
                raise ExprError(
                    f"{sig.name}() draws a random value, which is not allowed here", expr.pos
                )
            for index, arg in enumerate(expr.args, start=1):
                what = f"argument {index} of {sig.name}() must be a number"
                self.need(self.expression(arg, what), Type.NUMBER, arg.pos, what)
        return Type.BOOL if sig.result == "bool" else Type.NUMBER

    def unknown_function(self, func: str) -> str:
        known = f"known functions: {', '.join(sorted(SIGNATURES))}"
        if func in self.symbols.names:
            return f"'{func}' is a name, not a function; {known}"
        close = difflib.get_close_matches(func, sorted(SIGNATURES), n=1)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown function '{func}'{hint} ({known})"

    @staticmethod
    def arity(sig: Primitive, expr: Call) -> None:
        got = len(expr.args)
        if sig.min_args <= got and (sig.max_args is None or got <= sig.max_args):
            return
        if sig.max_args is None:
            wanted = f"at least {sig.min_args} arguments"
        else:
            wanted = f"{sig.min_args} argument{'s' if sig.min_args != 1 else ''}"
        raise ExprError(f"{sig.name}() takes {wanted} ({sig.usage}), got {got}", expr.pos)

    @staticmethod
    def expression(arg: Expr, what: str) -> Expr:
        if isinstance(arg, Str):
            raise ExprError(f"{what}, not a string", arg.pos)
        return arg

    def where(self, expr: Call) -> Type:
        cond, yes, no = (
            self.expression(arg, f"argument {i} of where() must be an expression")
            for i, arg in enumerate(expr.args, start=1)
        )
        self.need(cond, Type.BOOL, cond.pos, "the condition of where() must be a bool")
        first = self.visit(yes)
        second = self.visit(no)
        if first is not second:
            raise ExprError(
                "the two branches of where() must have the same type, "
                f"got {first.article} and {second.article}",
                expr.pos,
            )
        return first

    def strings(self, expr: Call, example: str) -> tuple[str, ...]:
        values = []
        for arg in expr.args:
            if not isinstance(arg, Str):
                raise ExprError(f"{expr.func}() takes text in quotes, such as {example}", arg.pos)
            values.append(arg.value)
        return tuple(values)

    def pattern(self, expr: Call) -> None:
        (pattern,) = self.strings(expr, f'{expr.func}("attack:*")')
        pos = expr.args[0].pos
        validate_pattern(pattern, pos)
        if match_tags(pattern, self.symbols.tags):
            return
        if not self.symbols.tags:
            raise NoSuchEvent(f"pattern '{pattern}' matches no event; no events are emitted", pos)
        hint = no_event_hint(pattern, self.symbols.tags)
        raise NoSuchEvent(f"pattern '{pattern}' matches no event{hint}", pos)

    def choice(self, expr: Call) -> None:
        actor, action = self.strings(expr, 'chose("USA", "sanction")')
        if (actor, action) in self.symbols.choices:
            return
        actors = {a for a, _ in self.symbols.choices}
        if actor not in actors:
            hint = suggestion(actor, actors, "actors")
            raise ExprError(f"chose(): unknown actor '{actor}'{hint}", expr.args[0].pos)
        actions = {b for a, b in self.symbols.choices if a == actor}
        hint = suggestion(action, actions, f"actions of {actor}")
        raise ExprError(f"chose(): {actor} has no action '{action}'{hint}", expr.args[1].pos)
