"""Hostile input: rejected with ExprError (never another exception); no way to run code."""

from __future__ import annotations

import ast as pyast
import io
import re
import tokenize
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from redline.engine.vectorised import Layout, compile_expr
from redline.scenario.expr import ExprError, Symbols, Type, check_source, parse

SYMBOLS = Symbols(
    names={"a": Type.NUMBER, "x": Type.NUMBER, "y": Type.NUMBER},
    tags=("attack:RUS->POL",),
    choices=frozenset(),
)

HOSTILE = [
    "__import__('os').system('x')",
    "__import__('os')",
    "().__class__.__bases__[0].__subclasses__()",
    "a.__class__",
    "a.__class__.__mro__",
    "lambda: 1",
    "(lambda: 1)()",
    "[x for x in y]",
    "x[0]",
    "{}",
    "x if y else a",
    '"a" + "b"',
    "'a' * 3",
    'exec("1")',
    'eval("1")',
    'compile("1", "f", "exec")',
    'open("f")',
    'getattr(a, "b")',
    "globals()",
    "x.real",
    "x; y",
    "x := 1",
    "`x`",
    "x @ y",
    "x // y",
    "x << 1",
    "~x",
    "f'{x}'",
    "'\\x41'",
    "b'x'",
    "1j",
    "0x10",
    "1_000",
    "(" * 5000 + "x" + ")" * 5000,
    "not " * 5000 + "x > 1",
    "(" * 1000 + "x" + ")" * 1000,
    "-" * 2000 + "x",
    "not " * 900 + "true",
    "min(" * 1000 + "x" + ")" * 1000,
    "1" * 10_000,
    "1" * 3000 + "." + "1" * 900,
    "x + " * 25_000 + "x",
    "x\x00 > 1",
    "\x00",
    "х > 1",  # Cyrillic х
    "ｘ > 1",  # fullwidth x
    "x ＞ 1",  # fullwidth >
    "ｍin(x, 1)",
    "x\u200b > 1",  # zero-width space
    "x\u00a0> 1",  # no-break space
    "１ + 1",  # fullwidth digit
    "x > 1 аnd y > 1",  # Cyrillic а
    "x\n\x0b> 1",
    "happened('attack:*'\n)" + "\u2028",
]


@pytest.mark.parametrize("source", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_input_is_rejected_with_exprerror(source: str) -> None:
    with pytest.raises(ExprError):
        check_source(source, SYMBOLS, None)


@pytest.mark.parametrize(
    ("source", "shown"),
    [
        ("9**9**9**9", "9 ** 9 ** 9"),
        ("x ** 9 ** 9 ** 9 ** 9", "9 ** 9 ** 9"),
        ("10 ** 400", "10 ** 400"),
        ("exp(1000)", "exp(1000)"),
        ("-(1e308 * 10)", "1e+308 * 10"),
        ("where(x > 0, x, 1e308 + 1e308)", "1e+308 + 1e+308"),
        ("normal(0, 2 ** 2000)", "2 ** 2000"),
        ("min(" * 20 + "9 ** 9 ** 9 ** 9" + ", x)" * 20, "9 ** 9 ** 9"),
    ],
)
def test_huge_constants_are_rejected(source: str, shown: str) -> None:
    with pytest.raises(ExprError, match="constant expression overflows") as info:
        check_source(source, SYMBOLS, Type.NUMBER)
    assert f"({shown} is too large for a 64-bit float)" in info.value.message
    assert 0 <= info.value.pos < len(source)


def test_ieee_constants_that_do_not_overflow_are_kept() -> None:
    """Division by zero and log(0) are IEEE values as documented, not overflows."""
    for source in ("1 / 0", "log(0)", "0 / 0", "x ** 1e300", "exp(700)", "1e308 * 1"):
        check_source(source, SYMBOLS, Type.NUMBER)


def test_unchecked_huge_powers_still_compile_to_inf() -> None:
    """The compiler does not depend on the checker to survive a huge power."""
    compiled = compile_expr(parse("9**9**9**9"), Layout(()), "s", "sample")
    assert compiled.constant == np.inf
    compiled = compile_expr(parse("x ** 9 ** 9 ** 9 ** 9"), Layout(()), "s", "sample")
    env = SimpleNamespace(values={"x": np.array([2.0, 0.5, -3.0, 0.0])})
    assert list(compiled(env)) == [np.inf, 0.0, np.inf, 0.0]  # type: ignore[arg-type]


def test_catastrophic_backtracking_patterns_are_linear() -> None:
    tags = ("a" * 3000, "a" * 200 + "c", "b" * 500)
    symbols = Symbols(names={}, tags=tags)
    for pattern in ("*a" * 40 + "*b", "{a,aa}" * 8 + "*" + "a*" * 30 + "c", "*" + "{a,b}*" * 8):
        try:
            check_source(f"happened('{pattern}')", symbols, Type.BOOL)
        except ExprError as exc:
            assert "matches no event" in exc.message or "too many" in exc.message
    with pytest.raises(ExprError, match="too many alternatives"):
        parse_and_check("happened('" + "{a,b,c}" * 6 + "')", symbols)


def parse_and_check(source: str, symbols: Symbols) -> None:
    check_source(source, symbols, None)


def test_the_package_never_evaluates_or_imports_dynamically() -> None:
    src = Path(__file__).resolve().parents[2] / "src" / "redline"
    files = sorted((src / "scenario" / "expr").glob("*.py")) + sorted((src / "core").glob("*.py"))
    files += [src / "engine" / "scalar.py", src / "engine" / "vectorised.py"]
    assert len(files) >= 14
    banned = {"eval", "exec", "compile", "__import__", "getattr", "setattr", "globals", "vars"}
    call = re.compile(r"(?<![\w.])(eval|exec|compile|__import__|getattr|setattr)\s*\(")
    for path in files:
        text = path.read_text()
        assert not call.search(_code_only(text)), path
        assert "importlib" not in text, path
        for node in pyast.walk(pyast.parse(text)):
            if isinstance(node, pyast.Call) and isinstance(node.func, pyast.Name):
                assert node.func.id not in banned, (path, node.func.id)
            if isinstance(node, pyast.Import | pyast.ImportFrom):
                names = [alias.name for alias in node.names]
                module = getattr(node, "module", None) or ""
                assert "importlib" not in module and "importlib" not in names, path


def _code_only(text: str) -> str:
    """The source with comments and string literals (docstrings included) blanked out."""
    kept = []
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type not in (tokenize.COMMENT, tokenize.STRING):
            kept.append(token.string)
    return re.sub(r"\s*\.\s*", ".", " ".join(kept))


def test_the_grep_can_fail() -> None:
    call = re.compile(r"(?<![\w.])(eval|exec|compile|__import__|getattr|setattr)\s*\(")
    assert call.search(_code_only('"""doc"""\nx = eval(s)  # eval(\n'))
    assert not call.search(_code_only('"""eval(x)"""\n# exec(\n'))
    assert call.search("getattr (obj, name)")
    assert not call.search("re.compile(r'x')")
    assert not call.search("compile_expr(e)")


def test_the_largest_inputs_are_rejected() -> None:
    for source in ("(" * 100_000, "x" * 1_000_000, "1" * 1_000_000, "\x00" * 1_000_000):
        with pytest.raises(ExprError):
            parse(source)
