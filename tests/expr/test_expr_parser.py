"""Parser and printer: the grammar, positions, limits and syntax-error messages."""

from __future__ import annotations

import pytest

from redline.scenario.expr import (
    MAX_CHARS,
    MAX_DEPTH,
    Binary,
    Bool,
    Call,
    Compare,
    ExprError,
    Name,
    Num,
    Str,
    Unary,
    parse,
    to_source,
)


def test_precedence_and_associativity() -> None:
    x, y, z = Name("x"), Name("y"), Name("z")
    assert parse("x + y * z") == Binary("+", x, Binary("*", y, z))
    assert parse("x - y - z") == Binary("-", Binary("-", x, y), z)
    assert parse("x ** y ** z") == Binary("**", x, Binary("**", y, z))
    assert parse("-x ** 2") == Unary("-", Binary("**", x, Num(2.0)))
    assert parse("2 ** -x") == Binary("**", Num(2.0), Unary("-", x))
    assert parse("-3") == Unary("-", Num(3.0))
    assert parse("not x < 1 and y") == Binary(
        "and", Unary("not", Compare(x, ("<",), (Num(1.0),))), y
    )
    assert parse("x or y and z") == Binary("or", x, Binary("and", y, z))
    assert parse("0 < x <= 1") == Compare(Num(0.0), ("<", "<="), (x, Num(1.0)))


def test_literals_names_and_calls() -> None:
    assert parse("True") == Bool(True) == parse("true")
    assert parse("False") == Bool(False)
    assert parse(".5") == Num(0.5)
    assert parse("1e-3") == Num(0.001)
    assert parse("3.") == Num(3.0)
    assert parse("support.USA") == Name("support.USA")
    assert parse("happened('attack:*')") == Call("happened", (Str("attack:*"),))
    assert parse('chose("USA", "sanction")') == Call("chose", (Str("USA"), Str("sanction")))
    assert parse("min(x, 1, 2)") == Call("min", (Name("x"), Num(1.0), Num(2.0)))
    assert parse("f()") == Call("f", ())


def test_positions_are_recorded_but_ignored_by_equality() -> None:
    tree = parse("  x +  min(y, 2)")
    assert isinstance(tree, Binary)
    assert (tree.pos, tree.left.pos, tree.right.pos) == (4, 2, 7)
    assert tree == Binary("+", Name("x", 99), Call("min", (Name("y"), Num(2.0))))
    assert hash(tree) == hash(parse("x+min(y,2)"))


@pytest.mark.parametrize(
    ("source", "message", "column"),
    [
        ("(x + 1))", "unexpected ')'", 8),
        ("(x + 1", "unexpected end of expression; expected ')'", 7),
        ("x + ", "unexpected end of expression", 5),
        ("x y", "unexpected name 'y'", 3),
        ("x && y", "unexpected '&'; use 'and'", 3),
        ("x = 1", "use '=='", 3),
        ("!x", "use 'not'", 1),
        ("x[0]", "subscripts are not part of the language", 2),
        ("3x", "malformed number '3x'", 1),
        ("1e999", "number '1e999' is too large", 1),
        ("'abc", "unterminated string", 1),
        ("a.b(1)", "'a.b' cannot be called", 1),
        ("x.and", "'and' is a keyword and cannot be part of a name", 3),
        ("'x' + 1", "strings can only be whole arguments", 1),
        ("min(1,)", "unexpected ')'", 7),
        ("min(1 2)", "expected ',' or ')' to close min(", 7),
        ("()", "empty parentheses", 1),
        ("", "empty expression", 1),
        ("x >", "unexpected end of expression", 4),
    ],
)
def test_syntax_errors_say_what_and_where(source: str, message: str, column: int) -> None:
    with pytest.raises(ExprError) as info:
        parse(source)
    assert message in info.value.message
    assert info.value.column == column
    assert str(info.value).endswith(f"(at column {column})")


def test_size_limits() -> None:
    with pytest.raises(ExprError, match="too long"):
        parse("x" * (MAX_CHARS + 1))
    parse("+".join(["1"] * 250))  # 499 nodes
    with pytest.raises(ExprError, match="too large"):
        parse("+".join(["1"] * 251))
    deep = "(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH
    assert parse(deep) == Name("x")
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("(" + deep + ")")
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("-" * (MAX_DEPTH + 1) + "x")
    with pytest.raises(ExprError, match="nested too deeply"):
        parse("min(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))


def test_long_digit_strings_are_floats_not_ints() -> None:
    assert parse("1" * 300) == Num(float("1" * 300))
    with pytest.raises(ExprError, match="too large"):
        parse("9" * 400)
    assert parse("0." + "0" * 3000 + "1") == Num(0.0)


def test_printer_output_is_readable() -> None:
    assert to_source(parse("(x+1)*2")) == "(x + 1) * 2"
    assert to_source(parse("(-2)**2")) == "(-2) ** 2"
    assert to_source(parse("x - (y - 1)")) == "x - (y - 1)"
    assert to_source(parse("(0 < x) == true")) == "(0 < x) == true"
    assert to_source(parse("- -x")) == "- -x"
    assert to_source(parse("0.1 + 1e300")) == "0.1 + 1e+300"
    assert to_source(parse('happened("it\'s")')) == 'happened("it\'s")'


@pytest.mark.parametrize(
    "tree",
    [Num(-1.0), Num(float("inf")), Name("not a name"), Name("and"), Str("'\"")],
)
def test_printer_rejects_trees_no_source_can_produce(tree: object) -> None:
    with pytest.raises(ValueError):
        to_source(tree)  # type: ignore[arg-type]
