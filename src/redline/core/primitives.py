"""The expression language's primitives, each declared once: operators and built-in functions.

A primitive says how it is written and typed (for the checker and the messages), what it computes
(``apply``: NumPy-level, on float64 scalars or arrays alike — the scalar evaluator, the vectorised
compiler and the constant folder all call it), what its expectation is over its draws with
beliefs in place of others' choices (``expect``, for logit utilities), and the code the fused
engine writes for it (``code`` and ``expect_code``: templates over the arguments' code, ``{0}``,
``{1}``, …, and ``{draw}`` for a random primitive's draw). A function computed by the C library
(``libm``) becomes a ufunc of :mod:`redline.core.numeric`, so every backend gets the same bits.

Event and choice functions read the run's event tables and choices; each backend reads those
its own way, so for them only the signature is declared here.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

import numpy as np

from redline.core import numeric

#: how a function types its arguments: plain numbers, where's (bool, T, T), event patterns,
#: or an (actor, action) pair
Family = Literal["math", "random", "where", "event", "choice"]
#: the draw a random primitive takes as its last argument
DrawKind = Literal["uniform", "normal"]

_Fn = Callable[..., Any]


def _ufunc(name: str) -> _Fn:
    """The ufunc of C-library function ``name``, built when first called (it starts Numba)."""
    found: list[_Fn] = []

    def call(*args: Any) -> Any:
        if not found:
            found.append(libm(name) if name in LIBM else numeric.ufunc(name))
        return found[0](*args)

    return call


def libm(name: str) -> _Fn:
    """A C-library function of the expression language (``exp``, ``log`` …) as a ufunc of
    :mod:`redline.core.numeric`: the function every backend calls."""
    return numeric.ufunc(name, LIBM[name])


def _folded(op: _Fn) -> _Fn:
    """``op`` folded left to right over any number of arguments."""

    def fold(*args: Any) -> Any:
        acc = args[0]
        for arg in args[1:]:
            acc = op(acc, arg)
        return acc

    return fold


@dataclass(frozen=True)
class Primitive:
    """One operator or built-in function of the expression language."""

    name: str
    usage: str
    family: Family
    min_args: int
    max_args: int | None
    #: result type for number-argument families: "number", "bool", or "same" (where's branches)
    result: Literal["number", "bool", "same"]
    meaning: str
    #: what it computes, on float64 (and bool) scalars or arrays; a random primitive's last
    #: argument is its draw
    apply: _Fn | None = None
    #: its expectation given its arguments' expectations (None: the same as ``apply``)
    expect: _Fn | None = None
    #: the fused engine's code; ``{draw}`` stands for the draw's code
    code: str | None = None
    #: the fused engine's code in expectation (None: the same as ``code``)
    expect_code: str | None = None
    #: the scalar C-library function it is (then ``apply`` is that function as a ufunc)
    libm: Callable[[float], float] | None = None
    #: the draw a random primitive takes
    draw: DrawKind | None = None

    @property
    def variadic(self) -> bool:
        """Applied left to right over any number of arguments (min, max)."""
        return self.max_args is None

    def expectation(self) -> _Fn:
        """``expect``, or ``apply`` where a primitive is its own expectation."""
        fn = self.expect or self.apply
        assert fn is not None, self.name
        return fn


def _libm(name: str, meaning: str, fn: Callable[[float], float]) -> Primitive:
    """A one-argument function of the C library: a ufunc of :mod:`redline.core.numeric`."""
    usage, code = f"{name}(x)", f"_{name}({{0}})"
    return Primitive(name, usage, "math", 1, 1, "number", meaning, _ufunc(name), code=code, libm=fn)


def _exp(x: float) -> float:
    return math.exp(x)


def _log(x: float) -> float:
    return math.log(x) if x > 0.0 else (-math.inf if x == 0.0 else math.nan)


def _tanh(x: float) -> float:
    return math.tanh(x)


#: from this magnitude on every float64 is an integer (and floor/ceil are the identity)
_INTEGRAL = 2.0**52


def _floor(x: float) -> float:
    """IEEE floor, signed zeros kept (a Numba-compiled ``math.floor`` goes through an integer)."""
    if not abs(x) < _INTEGRAL:  # nan, inf and integral magnitudes
        return x
    return math.copysign(float(math.floor(x)), x)


def _ceil(x: float) -> float:
    """IEEE ceiling, signed zeros kept: ``ceil(-0.5)`` is ``-0.0``."""
    if not abs(x) < _INTEGRAL:
        return x
    return math.copysign(float(math.ceil(x)), x)


def _mean_where(c: Any, a: Any, b: Any) -> Any:
    return np.add(np.multiply(c, a), np.multiply(np.subtract(1.0, c), b))


def _where(c: Any, a: Any, b: Any) -> Any:
    value = np.where(c, a, b)
    return value[()] if value.ndim == 0 else value


FUNCTION_TABLE: tuple[Primitive, ...] = (
    Primitive(
        "min", "min(a, b, ...)", "math", 2, None, "number", "the smallest argument",
        _folded(np.minimum), code="_min({0}, {1})",
    ),
    Primitive(
        "max", "max(a, b, ...)", "math", 2, None, "number", "the largest argument",
        _folded(np.maximum), code="_max({0}, {1})",
    ),
    Primitive(
        "clip", "clip(x, lo, hi)", "math", 3, 3, "number", "min(max(x, lo), hi)",
        lambda x, lo, hi: np.minimum(np.maximum(x, lo), hi), code="_min(_max({0}, {1}), {2})",
    ),
    Primitive(
        "abs", "abs(x)", "math", 1, 1, "number", "absolute value", np.absolute, code="abs({0})"
    ),
    _libm("exp", "e to the power x", _exp),
    _libm("log", "natural logarithm", _log),
    _libm("tanh", "hyperbolic tangent: a smooth step from -1 to 1", _tanh),
    Primitive(
        "sqrt", "sqrt(x)", "math", 1, 1, "number", "square root", np.sqrt, code="np.sqrt({0})"
    ),
    _libm("floor", "round down", _floor),
    _libm("ceil", "round up", _ceil),
    Primitive(
        "where", "where(c, a, b)", "where", 3, 3, "same", "a where c holds, else b",
        _where, _mean_where, code="({1} if {0} else {2})",
        expect_code="({0} * {1} + (1.0 - {0}) * {2})",
    ),
    Primitive(
        "normal", "normal(mu, sigma)", "random", 2, 2, "number", "a normal draw",
        lambda mu, s, z: np.add(mu, np.multiply(s, z)), lambda mu, s: mu,
        code="({0} + {1} * {draw})", expect_code="{0}", draw="normal",
    ),
    Primitive(
        "uniform", "uniform(a, b)", "random", 2, 2, "number", "a uniform draw in [a, b)",
        lambda a, b, u: np.add(a, np.multiply(np.subtract(b, a), u)),
        lambda a, b: np.divide(np.add(a, b), 2.0),
        code="({0} + ({1} - {0}) * {draw})", expect_code="(({0} + {1}) / 2.0)", draw="uniform",
    ),
    Primitive(
        "bernoulli", "bernoulli(p)", "random", 1, 1, "bool", "true with probability p",
        lambda p, u: np.less(u, p), lambda p: p,
        code="({draw} < {0})", expect_code="{0}", draw="uniform",
    ),
    Primitive(
        "happened", 'happened("pattern")', "event", 1, 1, "bool",
        "a matching event was emitted in this run, this step or earlier",
    ),
    Primitive(
        "now", 'now("pattern")', "event", 1, 1, "bool", "a matching event was emitted this step"
    ),
    Primitive(
        "count", 'count("pattern")', "event", 1, 1, "number",
        "how many matching events were emitted in this run so far",
    ),
    Primitive(
        "chose", 'chose("ACTOR", "action")', "choice", 2, 2, "bool",
        "the actor chose that action in this step",
    ),
)  # fmt: skip


def _operator(
    name: str,
    result: Literal["number", "bool"],
    meaning: str,
    apply: _Fn,
    code: str,
    expect: _Fn | None = None,
    expect_code: str | None = None,
) -> Primitive:
    arity = 1 if "{1}" not in code else 2
    return Primitive(
        name, name, "math", arity, arity, result, meaning, apply, expect, code, expect_code
    )


def _mean_or(a: Any, b: Any) -> Any:
    return np.subtract(np.add(a, b), np.multiply(a, b))


#: unary operators
UNARY: Mapping[str, Primitive] = MappingProxyType(
    {
        "-": _operator("-", "number", "negation", np.negative, "(-{0})"),
        "+": _operator("+", "number", "identity", np.positive, "(+{0})"),
        "not": _operator(
            "not", "bool", "negation", np.logical_not, "(not {0})",
            lambda a: np.subtract(1.0, a), "(1.0 - {0})",
        ),
    }
)  # fmt: skip

#: binary operators: arithmetic and the boolean connectives
BINARY: Mapping[str, Primitive] = MappingProxyType(
    {
        "+": _operator("+", "number", "sum", np.add, "({0} + {1})"),
        "-": _operator("-", "number", "difference", np.subtract, "({0} - {1})"),
        "*": _operator("*", "number", "product", np.multiply, "({0} * {1})"),
        "/": _operator("/", "number", "quotient (IEEE: 1/0 is inf)", np.divide, "({0} / {1})"),
        "%": _operator("%", "number", "remainder", np.mod, "np.mod({0}, {1})"),
        "**": _operator("**", "number", "power", _ufunc("power"), "_power({0}, {1})"),
        "and": _operator(
            "and", "bool", "both hold", np.logical_and, "({0} and {1})",
            np.multiply, "({0} * {1})",
        ),
        "or": _operator(
            "or", "bool", "either holds", np.logical_or, "({0} or {1})",
            _mean_or, "({0} + {1} - {0} * {1})",
        ),
    }
)  # fmt: skip

#: comparison operators (chains such as ``0 < x <= 1`` hold where every link holds)
COMPARE: Mapping[str, Primitive] = MappingProxyType(
    {
        op: _operator(op, "bool", meaning, fn, f"({{0}} {op} {{1}})")
        for op, meaning, fn in (
            ("<", "less than", np.less),
            ("<=", "at most", np.less_equal),
            (">", "greater than", np.greater),
            (">=", "at least", np.greater_equal),
            ("==", "equal", np.equal),
            ("!=", "not equal", np.not_equal),
        )
    }
)

#: every built-in function by name
SIGNATURES: Mapping[str, Primitive] = MappingProxyType({p.name: p for p in FUNCTION_TABLE})

#: name -> "usage -> result: meaning", for messages and documentation
FUNCTIONS: Mapping[str, str] = MappingProxyType(
    {
        p.name: f"{p.usage} -> {'T' if p.result == 'same' else p.result}: {p.meaning}"
        for p in FUNCTION_TABLE
    }
)

#: the functions that draw random numbers
RANDOM_FUNCTIONS = frozenset(p.name for p in FUNCTION_TABLE if p.family == "random")

#: the C-library functions :mod:`redline.core.numeric` builds ufuncs of, by name
LIBM: Mapping[str, Callable[[float], float]] = MappingProxyType(
    {p.name: p.libm for p in FUNCTION_TABLE if p.libm is not None}
)
