"""Shared fixtures for the expression tests: symbols, AST strategies and environments."""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st
from numpy.typing import NDArray

from redline.engine import rng
from redline.scenario.expr import (
    Binary,
    Bool,
    Call,
    Compare,
    Expr,
    Name,
    Num,
    Str,
    Symbols,
    Type,
    Unary,
)

NUM_NAMES = ("x", "y", "support.USA")
BOOL_NAMES = ("flag",)
TAGS = ("attack:RUS->POL", "attack:RUS->LTU", "strike:USA->RUS", "ceasefire")
PATTERNS = ("attack:*", "*->POL", "{attack,strike}:*", "ceasefire", "*", "strike:USA->RUS")
CHOICES = (("USA", "sanction"), ("RUS", "escalate"), ("RUS", "hold"))

SYMBOLS = Symbols(
    names={**dict.fromkeys(NUM_NAMES, Type.NUMBER), **dict.fromkeys(BOOL_NAMES, Type.BOOL)},
    tags=TAGS,
    choices=frozenset(CHOICES),
)

RUNS = 20
SPECIAL: tuple[float, ...] = (0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 2.0, 3.0, 1e-310, 1e308)
SPECIAL += (-1e308, math.inf, -math.inf, math.nan)

literals = st.one_of(
    st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.0, 10.0, 1e-3, 1e300]),
    st.floats(min_value=0.0, max_value=1e6),
    st.floats(min_value=0.0, allow_infinity=False),
).filter(lambda v: math.copysign(1.0, v) > 0)


def _call(func: str) -> Any:
    return lambda *args: Call(func, tuple(args))


@functools.cache
def numbers(depth: int) -> st.SearchStrategy[Expr]:
    """Well-typed number expressions of at most ``depth`` levels."""
    leaf = st.one_of(
        literals.map(Num),
        st.sampled_from(NUM_NAMES).map(Name),
        st.sampled_from(PATTERNS).map(lambda p: Call("count", (Str(p),))),
    )
    if depth == 0:
        return leaf
    n, b = numbers(depth - 1), bools(depth - 1)
    return st.one_of(
        leaf,
        st.builds(Unary, st.sampled_from(["-", "+"]), n),
        st.builds(Binary, st.sampled_from(["+", "-", "*", "/", "%", "**"]), n, n),
        st.builds(
            lambda f, a: Call(f, (a,)),
            st.sampled_from(["abs", "exp", "log", "sqrt", "floor", "ceil"]),
            n,
        ),
        st.builds(
            lambda f, args: Call(f, tuple(args)),
            st.sampled_from(["min", "max"]),
            st.lists(n, min_size=2, max_size=3),
        ),
        st.builds(_call("clip"), n, n, n),
        st.builds(_call("where"), b, n, n),
        st.builds(_call("normal"), n, n),
        st.builds(_call("uniform"), n, n),
    )


@functools.cache
def bools(depth: int) -> st.SearchStrategy[Expr]:
    """Well-typed bool expressions of at most ``depth`` levels."""
    leaf = st.one_of(
        st.booleans().map(Bool),
        st.sampled_from(BOOL_NAMES).map(Name),
        st.builds(
            lambda f, p: Call(f, (Str(p),)),
            st.sampled_from(["happened", "now"]),
            st.sampled_from(PATTERNS),
        ),
        st.sampled_from(CHOICES).map(lambda c: Call("chose", (Str(c[0]), Str(c[1])))),
    )
    if depth == 0:
        return leaf
    n, b = numbers(depth - 1), bools(depth - 1)
    cmp_ops = st.sampled_from(["<", "<=", ">", ">=", "==", "!="])
    chains = st.integers(1, 3).flatmap(
        lambda k: st.builds(
            lambda first, ops, rest: Compare(first, tuple(ops), tuple(rest)),
            n,
            st.lists(cmp_ops, min_size=k, max_size=k),
            st.lists(n, min_size=k, max_size=k),
        )
    )
    return st.one_of(
        leaf,
        st.builds(lambda e: Unary("not", e), b),
        st.builds(Binary, st.sampled_from(["and", "or"]), b, b),
        chains,
        st.builds(
            lambda op, left, right: Compare(left, (op,), (right,)),
            st.sampled_from(["==", "!="]),
            b,
            b,
        ),
        st.builds(_call("where"), b, b, b),
        st.builds(_call("bernoulli"), n),
    )


def typed_exprs(depth: int) -> st.SearchStrategy[tuple[Expr, Type]]:
    """A well-typed expression together with its type."""
    return st.one_of(
        numbers(depth).map(lambda e: (e, Type.NUMBER)),
        bools(depth).map(lambda e: (e, Type.BOOL)),
    )


@dataclass
class Arrays:
    """An ArrayEnv over RUNS runs."""

    values: dict[str, Any]
    now: NDArray[np.bool_]
    ever: NDArray[np.bool_]
    count: NDArray[Any]
    draws: rng.KeyedDraws
    chosen: dict[tuple[str, str], NDArray[np.bool_]]
    beliefs: dict[tuple[str, str], NDArray[np.float64]]

    def choice(self, actor: str, action: str) -> NDArray[np.bool_]:
        return self.chosen[(actor, action)]

    def belief(self, actor: str, action: str) -> NDArray[np.float64]:
        return self.beliefs[(actor, action)]


@dataclass
class OneRun:
    """A ScalarEnv for run ``r`` of an Arrays, drawing through the same keyed generator."""

    arrays: Arrays
    r: int

    @property
    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, column in self.arrays.values.items():
            item = column[self.r]
            out[name] = bool(item) if column.dtype == np.bool_ else float(item)
        return out

    @property
    def now(self) -> set[str]:
        return {tag for j, tag in enumerate(TAGS) if self.arrays.now[self.r, j]}

    @property
    def ever(self) -> set[str]:
        return {tag for j, tag in enumerate(TAGS) if self.arrays.ever[self.r, j]}

    @property
    def counts(self) -> dict[str, int]:
        return {tag: int(self.arrays.count[self.r, j]) for j, tag in enumerate(TAGS)}

    def _run(self) -> NDArray[np.int64]:
        return self.arrays.draws.runs[self.r : self.r + 1]

    def uniform(self, site: int, sub: int = 0) -> float:
        draws = self.arrays.draws
        return float(rng.uniform(draws.seed, draws.step, site, self._run(), sub)[0])

    def normal(self, site: int) -> float:
        draws = self.arrays.draws
        return float(rng.standard_normal(draws.seed, draws.step, site, self._run())[0])

    def choice(self, actor: str, action: str) -> bool:
        return bool(self.arrays.chosen[(actor, action)][self.r])

    def belief(self, actor: str, action: str) -> float:
        return float(self.arrays.beliefs[(actor, action)][self.r])


def make_arrays(seed: int, count_dtype: type[np.generic] = np.int32) -> Arrays:
    """Random but reproducible arrays, rich in zeros, signed zeros, infinities and NaNs."""
    gen = np.random.default_rng(seed)

    def column() -> NDArray[np.float64]:
        special = gen.choice(np.array(SPECIAL), RUNS)
        plain = gen.normal(0.0, 3.0, RUNS).round(gen.integers(0, 3))
        return np.where(gen.random(RUNS) < 0.4, special, plain)

    values: dict[str, Any] = {name: column() for name in NUM_NAMES}
    values["flag"] = gen.random(RUNS) < 0.5
    ever = gen.random((RUNS, len(TAGS))) < 0.5
    now = ever & (gen.random((RUNS, len(TAGS))) < 0.5)
    count = (ever * gen.integers(1, 4, (RUNS, len(TAGS)))).astype(count_dtype)
    start = int(gen.integers(0, 1000))
    draws = rng.KeyedDraws(
        seed=int(gen.integers(0, 2**32)),
        step=int(gen.integers(-1, 50)),
        runs=np.arange(start, start + RUNS, dtype=np.int64),
    )
    chosen = {pair: gen.random(RUNS) < 0.5 for pair in CHOICES}
    beliefs = {pair: gen.random(RUNS) for pair in CHOICES}
    return Arrays(values, now, ever, count, draws, chosen, beliefs)
