"""The table of built-in functions: arity, argument kinds and what they return."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

#: how a function types its arguments: plain numbers, where's (bool, T, T), event patterns,
#: or an (actor, action) pair
Family = Literal["math", "random", "where", "event", "choice"]


@dataclass(frozen=True)
class Signature:
    """One built-in function."""

    name: str
    usage: str
    family: Family
    min_args: int
    max_args: int | None
    #: result type for number-argument families: "number" or "bool"
    result: Literal["number", "bool", "same"]
    meaning: str


_TABLE = (
    Signature("min", "min(a, b, ...)", "math", 2, None, "number", "the smallest argument"),
    Signature("max", "max(a, b, ...)", "math", 2, None, "number", "the largest argument"),
    Signature("clip", "clip(x, lo, hi)", "math", 3, 3, "number", "min(max(x, lo), hi)"),
    Signature("abs", "abs(x)", "math", 1, 1, "number", "absolute value"),
    Signature("exp", "exp(x)", "math", 1, 1, "number", "e to the power x"),
    Signature("log", "log(x)", "math", 1, 1, "number", "natural logarithm"),
    Signature("sqrt", "sqrt(x)", "math", 1, 1, "number", "square root"),
    Signature("floor", "floor(x)", "math", 1, 1, "number", "round down"),
    Signature("ceil", "ceil(x)", "math", 1, 1, "number", "round up"),
    Signature("where", "where(c, a, b)", "where", 3, 3, "same", "a where c holds, else b"),
    Signature("normal", "normal(mu, sigma)", "random", 2, 2, "number", "a normal draw"),
    Signature("uniform", "uniform(a, b)", "random", 2, 2, "number", "a uniform draw in [a, b)"),
    Signature("bernoulli", "bernoulli(p)", "random", 1, 1, "bool", "true with probability p"),
    Signature(
        "happened",
        'happened("pattern")',
        "event",
        1,
        1,
        "bool",
        "a matching event was emitted in this run, this step or earlier",
    ),
    Signature(
        "now", 'now("pattern")', "event", 1, 1, "bool", "a matching event was emitted this step"
    ),
    Signature(
        "count",
        'count("pattern")',
        "event",
        1,
        1,
        "number",
        "how many matching events were emitted in this run so far",
    ),
    Signature(
        "chose",
        'chose("ACTOR", "action")',
        "choice",
        2,
        2,
        "bool",
        "the actor chose that action in this step",
    ),
)

#: every built-in function by name
SIGNATURES: Mapping[str, Signature] = MappingProxyType({sig.name: sig for sig in _TABLE})

#: name -> "usage -> result: meaning", for messages and documentation
FUNCTIONS: Mapping[str, str] = MappingProxyType(
    {
        sig.name: f"{sig.usage} -> {'T' if sig.result == 'same' else sig.result}: {sig.meaning}"
        for sig in _TABLE
    }
)

#: the functions that draw random numbers
RANDOM_FUNCTIONS = frozenset(sig.name for sig in _TABLE if sig.family == "random")
