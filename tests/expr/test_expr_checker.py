"""Checker: every kind of semantic error, with a helpful message and a position."""

from __future__ import annotations

import pytest
from expr_support import SYMBOLS

from redline.scenario.expr import FUNCTIONS, ExprError, Symbols, Type, check, check_source, parse

ECON = Symbols(
    names={"balance": Type.NUMBER, "spending": Type.NUMBER, "at_war": Type.BOOL},
    tags=("attack:RUS->POL", "strike:USA->RUS", "ceasefire"),
    choices=frozenset({("USA", "sanction"), ("USA", "strike"), ("RUS", "escalate")}),
)


def error(source: str, symbols: Symbols = ECON, expect: Type | None = None) -> ExprError:
    with pytest.raises(ExprError) as info:
        check_source(source, symbols, expect)
    return info.value


def test_well_typed_expressions() -> None:
    assert check(parse("balance + 1"), ECON) is Type.NUMBER
    assert check(parse("at_war and balance > 0"), ECON) is Type.BOOL
    assert check(parse("at_war == (balance > 1)"), ECON) is Type.BOOL
    assert check(parse("where(at_war, 1, 2)"), ECON) is Type.NUMBER
    assert check(parse("where(at_war, true, at_war)"), ECON) is Type.BOOL
    assert check(parse("count('attack:*') >= 2"), ECON) is Type.BOOL
    assert check(parse("bernoulli(0.5) or chose('USA', 'strike')"), ECON) is Type.BOOL
    assert check(parse("normal(0, 1) + uniform(1, 2)"), ECON) is Type.NUMBER
    assert check_source("balance > 0", ECON, Type.BOOL) == parse("balance > 0")


def test_unknown_name_suggests_the_closest() -> None:
    e = error("balanse + 1")
    assert e.message == "unknown name 'balanse'; did you mean 'balance'?"
    assert e.column == 1
    e = error("1 + zzz")
    assert e.message == "unknown name 'zzz'; known names: at_war, balance, spending"
    assert e.column == 5
    assert "min is a function, call it as min(a, b, ...)" in error("min + 1").message


def test_unknown_function_suggests_and_lists() -> None:
    e = error("mni(1, 2)")
    assert e.message.startswith("unknown function 'mni'; did you mean 'min'?")
    assert "known functions: abs, bernoulli" in e.message
    assert "'balance' is a name, not a function" in error("balance(1)").message
    assert set(FUNCTIONS) >= {"min", "max", "clip", "where", "happened", "chose", "count"}


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("min(1)", "min() takes at least 2 arguments (min(a, b, ...)), got 1"),
        ("clip(1, 2)", "clip() takes 3 arguments (clip(x, lo, hi)), got 2"),
        ("log(1, 2)", "log() takes 1 argument (log(x)), got 2"),
        ("bernoulli()", "bernoulli() takes 1 argument (bernoulli(p)), got 0"),
        ("happened()", 'happened() takes 1 argument (happened("pattern")), got 0'),
    ],
)
def test_arity(source: str, message: str) -> None:
    assert error(source).message == message


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("balance and at_war", "'and' needs bools, got a number", 9),
        ("at_war or 1", "'or' needs bools, got a number", 8),
        ("not balance", "'not' needs a bool, got a number", 1),
        ("at_war + 1", "'+' needs numbers, got a bool", 8),
        ("-at_war", "'-' needs a number, got a bool", 1),
        ("at_war < 1", "'<' compares numbers, got a bool", 8),
        ("at_war == 1", "'==' compares two numbers or two bools, got a bool and a number", 8),
        ("0 < balance < at_war", "'<' compares numbers, got a bool", 3),
        ("bernoulli(0.5) * 3", "'*' needs numbers, got a bool", 16),
        ("log(at_war)", "argument 1 of log() must be a number, got a bool", 5),
        ("where(1, 2, 3)", "the condition of where() must be a bool, got a number", 7),
        ("where(at_war, 1, at_war)", "the two branches of where() must have the same type", 1),
    ],
)
def test_type_errors(source: str, message: str, column: int) -> None:
    e = error(source)
    assert e.message.startswith(message)
    assert e.column == column


def test_strings_and_expressions_in_the_wrong_place() -> None:
    e = error("log('x')")
    assert e.message == "argument 1 of log() must be a number, not a string"
    assert e.column == 5
    assert "must be an expression, not a string" in error("where(at_war, 'a', 1)").message
    e = error("happened(balance)")
    assert e.message == 'happened() takes text in quotes, such as happened("attack:*")'
    assert e.column == 10
    assert 'such as chose("USA", "sanction")' in error("chose(USA, 'x')").message


def test_patterns() -> None:
    # a misspelt word of a pattern: the pattern with the word the events have, which matches
    e = error("happened('atack:*')")
    assert e.message == "pattern 'atack:*' matches no event; did you mean 'attack:*'?"
    assert e.column == 10
    assert error("now('strike:USA->RSU')").message.endswith("did you mean 'strike:USA->RUS'?")
    # nothing close: the events there are
    assert error("now('zzz')").message == (
        "pattern 'zzz' matches no event; known events: attack:RUS->POL, ceasefire, strike:USA->RUS"
    )
    assert "'{' is never closed" in error("now('{attack,strike:*')").message
    assert "'}' without a matching '{'" in error("now('attack}')").message
    assert "empty event pattern" in error("count('')").message
    assert "empty alternative" in error("now('{attack,}:*')").message
    assert "no events are emitted" in error("now('x')", Symbols(names={})).message
    check_source("happened('{attack,strike}:*->*') and now('ceasefire')", ECON, Type.BOOL)


def test_choices() -> None:
    e = error("chose('USZ', 'sanction')")
    assert e.message == "chose(): unknown actor 'USZ'; did you mean 'USA'?"
    assert e.column == 7
    e = error("chose('USA', 'santion')")
    assert e.message == "chose(): USA has no action 'santion'; did you mean 'sanction'?"
    assert e.column == 14
    e = error("chose('RUS', 'nuke')")
    assert e.message == "chose(): RUS has no action 'nuke'; known actions of RUS: escalate"


def test_random_functions_can_be_forbidden() -> None:
    fixed = Symbols(names={"x": Type.NUMBER}, allow_random=False)
    e = error("x + normal(0, 1)", fixed)
    assert e.message == "normal() draws a random value, which is not allowed here"
    assert e.column == 5
    check_source("x + 1", fixed, Type.NUMBER)


def test_expected_result_type() -> None:
    assert error("balance", expect=Type.BOOL).message.startswith(
        "expected a bool condition, got a number"
    )
    assert error("at_war", expect=Type.NUMBER).message.startswith(
        "expected a number, got a bool condition"
    )


def test_shared_symbols_accept_generated_names() -> None:
    assert check(parse("support.USA > x and flag"), SYMBOLS) is Type.BOOL
