"""Recursive-descent parser with explicit size and nesting limits (never a RecursionError)."""

from __future__ import annotations

import math
import re

from redline.core.expr import (
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
from redline.core.primitives import SIGNATURES
from redline.scenario.expr.lexer import Token, tokenize

#: the most characters an expression may have
MAX_CHARS = 4000
#: the most syntax-tree nodes an expression may have
MAX_NODES = 500
#: the deepest nesting: parentheses, call arguments, unary operands and exponents each add a level
MAX_DEPTH = 32

_COMPARE = ("<", "<=", ">", ">=", "==", "!=")


def parse(source: str) -> Expr:
    """Parse ``source`` into a syntax tree, or raise ExprError saying what and where."""
    if len(source) > MAX_CHARS:
        raise ExprError(
            f"expression too long ({len(source)} characters; at most {MAX_CHARS})", MAX_CHARS
        )
    if not source.strip():
        raise ExprError("empty expression", 0)
    try:
        return _Parser(tokenize(source)).parse()
    except ExprError as exc:
        hint = _unquoted_hint(source, exc.pos)
        if hint is None:
            raise
        raise ExprError(exc.message + hint, exc.pos) from None


#: a call of an event function whose argument is not in quotes: ``happened(blockade:CHN)``
_UNQUOTED = re.compile(
    r"\b(" + "|".join(n for n, s in SIGNATURES.items() if s.family == "event") + r")\s*\("
    r"\s*([^\s\"'()][^()\"']*?)\s*\)"
)


def _unquoted_hint(source: str, pos: int) -> str | None:
    """``; an event pattern is text in quotes: happened("blockade:CHN")`` where the error is
    inside an event function's argument written without quotes."""
    for match in _UNQUOTED.finditer(source):
        if match.start(2) <= pos <= match.end(2):
            func, pattern = match.group(1), match.group(2)
            return f'; an event pattern is text in quotes: {func}("{pattern}")'
    return None


def describe(token: Token) -> str:
    """How a token is named in error messages."""
    if token.kind == "end":
        return "end of expression"
    if token.kind == "num":
        return f"number '{token.text}'"
    if token.kind == "name":
        return f"name '{token.text}'"
    if token.kind == "str":
        return f"string '{token.text}'"
    return f"'{token.text}'"


class _Parser:
    """One parse: a token cursor plus the node and depth counters."""

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.index = 0
        self.nodes = 0
        self.depth = 0

    # -- cursor -------------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.index + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def at(self, kind: str, *texts: str) -> bool:
        token = self.peek()
        return token.kind == kind and (not texts or token.text in texts)

    def expect_op(self, text: str, context: str) -> Token:
        token = self.peek()
        if token.kind != "op" or token.text != text:
            raise ExprError(f"unexpected {describe(token)}; expected {context}", token.pos)
        return self.advance()

    # -- limits -------------------------------------------------------------------------------

    def node(self, node: Expr) -> Expr:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise ExprError(f"expression too large (more than {MAX_NODES} parts)", node.pos)
        return node

    def enter(self, pos: int) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ExprError(f"expression nested too deeply (more than {MAX_DEPTH} levels)", pos)

    def leave(self) -> None:
        self.depth -= 1

    # -- grammar ------------------------------------------------------------------------------

    def parse(self) -> Expr:
        expr = self.expr()
        token = self.peek()
        if token.kind != "end":
            raise ExprError(f"unexpected {describe(token)}; expected an operator", token.pos)
        return expr

    def expr(self) -> Expr:
        return self.or_expr()

    def or_expr(self) -> Expr:
        left = self.and_expr()
        while self.at("kw", "or"):
            pos = self.advance().pos
            left = self.node(Binary("or", left, self.and_expr(), pos))
        return left

    def and_expr(self) -> Expr:
        left = self.not_expr()
        while self.at("kw", "and"):
            pos = self.advance().pos
            left = self.node(Binary("and", left, self.not_expr(), pos))
        return left

    def not_expr(self) -> Expr:
        if self.at("kw", "not"):
            pos = self.advance().pos
            self.enter(pos)
            operand = self.not_expr()
            self.leave()
            return self.node(Unary("not", operand, pos))
        return self.comparison()

    def comparison(self) -> Expr:
        first = self.sum()
        ops: list[str] = []
        rest: list[Expr] = []
        pos = self.peek().pos
        while self.at("op", *_COMPARE):
            ops.append(self.advance().text)
            rest.append(self.sum())
        if not ops:
            return first
        return self.node(Compare(first, tuple(ops), tuple(rest), pos))

    def sum(self) -> Expr:
        left = self.product()
        while self.at("op", "+", "-"):
            token = self.advance()
            left = self.node(Binary(token.text, left, self.product(), token.pos))
        return left

    def product(self) -> Expr:
        left = self.unary()
        while self.at("op", "*", "/", "%"):
            token = self.advance()
            left = self.node(Binary(token.text, left, self.unary(), token.pos))
        return left

    def unary(self) -> Expr:
        if self.at("op", "-", "+"):
            token = self.advance()
            self.enter(token.pos)
            operand = self.unary()
            self.leave()
            return self.node(Unary(token.text, operand, token.pos))
        return self.power()

    def power(self) -> Expr:
        base = self.atom()
        if self.at("op", "**"):
            pos = self.advance().pos
            self.enter(pos)
            exponent = self.unary()
            self.leave()
            return self.node(Binary("**", base, exponent, pos))
        return base

    def atom(self) -> Expr:
        token = self.peek()
        if token.kind == "num":
            self.advance()
            value = float(token.text)
            if not math.isfinite(value):
                raise ExprError(f"number '{token.text}' is too large", token.pos)
            return self.node(Num(value, token.pos))
        if token.kind == "kw" and token.text in ("true", "false"):
            self.advance()
            return self.node(Bool(token.text == "true", token.pos))
        if token.kind == "name":
            self.advance()
            if self.at("op", "("):
                return self.call(token)
            return self.node(Name(token.text, token.pos))
        if token.kind == "op" and token.text == "(":
            self.advance()
            self.enter(token.pos)
            if self.at("op", ")"):
                raise ExprError("empty parentheses", token.pos)
            inner = self.expr()
            self.leave()
            self.expect_op(")", "')'")
            return inner
        if token.kind == "str":
            raise ExprError(
                f"string '{token.text}' is not allowed here: strings can only be whole "
                "arguments of happened(), now(), count() and chose()",
                token.pos,
            )
        raise ExprError(f"unexpected {describe(token)}", token.pos)

    def call(self, name: Token) -> Expr:
        if "." in name.text:
            raise ExprError(
                f"'{name.text}' cannot be called: only built-in functions such as min(...) can",
                name.pos,
            )
        self.advance()  # "("
        args: list[Expr] = []
        if not self.at("op", ")"):
            while True:
                args.append(self.argument())
                if not self.at("op", ","):
                    break
                self.advance()
        self.expect_op(")", f"',' or ')' to close {name.text}(")
        return self.node(Call(name.text, tuple(args), name.pos))

    def argument(self) -> Expr:
        token = self.peek()
        if token.kind == "str" and self.peek(1).kind == "op" and self.peek(1).text in (",", ")"):
            self.advance()
            return self.node(Str(token.text, token.pos))
        self.enter(token.pos)
        arg = self.expr()
        self.leave()
        return arg
