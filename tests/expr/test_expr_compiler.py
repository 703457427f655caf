"""Compiler semantics: IEEE edge cases, draw sites, mean mode, folding and aliasing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from expr_support import SYMBOLS, TAGS, OneRun, make_arrays

from redline.engine import rng
from redline.engine.scalar import evaluate
from redline.engine.vectorised import Layout, compile_expr
from redline.scenario.expr import Type, check_source

LAYOUT = Layout(tags=TAGS)


@dataclass
class Env:
    """A small ArrayEnv over four runs."""

    values: dict[str, Any] = field(
        default_factory=lambda: {
            "x": np.array([0.0, -1.0, 2.0, np.nan]),
            "y": np.array([0.0, 0.0, 3.0, 1.0]),
            "support.USA": 0.25,
            "flag": np.array([True, False, True, False]),
        }
    )
    now: Any = field(default_factory=lambda: np.array([[1, 0, 0, 0]] * 4, dtype=bool))
    ever: Any = field(default_factory=lambda: np.array([[1, 1, 0, 0]] * 4, dtype=bool))
    count: Any = field(default_factory=lambda: np.array([[2, 1, 0, 0]] * 4, dtype=np.int32))
    draws: rng.KeyedDraws = field(
        default_factory=lambda: rng.KeyedDraws(seed=7, step=3, runs=np.arange(4, dtype=np.int64))
    )

    def choice(self, actor: str, action: str) -> Any:
        return np.array([actor == "USA"] * 4)

    def belief(self, actor: str, action: str) -> float:
        return 0.3


def run(source: str, mode: str = "sample", env: Env | None = None) -> Any:
    tree = check_source(source, SYMBOLS, None)
    compiled = compile_expr(tree, LAYOUT, "base", mode)  # type: ignore[arg-type]
    return compiled(env or Env())


def test_ieee_semantics_without_warnings() -> None:
    with np.errstate(all="raise"):
        assert list(run("1 / y")) == [np.inf, np.inf, 1 / 3, 1.0]
        assert np.isnan(run("y / y")[0])
        assert run("log(0)") == -np.inf
        assert np.isnan(run("0 / 0"))
        assert list(run("x < 1")) == [True, True, False, False]  # nan compares false
        assert list(run("x != x")) == [False, False, False, True]
        assert run("-7 % 3") == 2.0
        assert run("2 ** 0.5") == np.power(2.0, 0.5)
        assert run("sqrt(-1)") != run("sqrt(-1)")


def test_functions() -> None:
    assert np.array_equal(run("min(x, y, 1)"), [0.0, -1.0, 1.0, np.nan], equal_nan=True)
    assert np.array_equal(run("max(x, y, -5)"), [0.0, 0.0, 3.0, np.nan], equal_nan=True)
    assert list(run("clip(x, -0.5, 1)"))[:3] == [0.0, -0.5, 1.0]
    assert list(run("where(flag, x, y)"))[:3] == [0.0, 0.0, 2.0]
    assert list(run("abs(x) + floor(2.5) + ceil(0.1)"))[:3] == [3.0, 4.0, 5.0]
    assert run("exp(0)") == 1.0


def test_events_and_choices() -> None:
    assert list(run("happened('attack:*')")) == [True] * 4
    assert list(run("now('attack:RUS->LTU')")) == [False] * 4
    assert list(run("count('attack:*')")) == [3.0] * 4
    assert list(run("count('ceasefire')")) == [0.0] * 4
    assert list(run("chose('USA', 'sanction')")) == [True] * 4
    assert run("chose('RUS', 'hold')", "mean") == 0.3


def test_patterns_matching_no_column_are_constant() -> None:
    tree = check_source("happened('ceasefire') or count('ceasefire') > 0", SYMBOLS, Type.BOOL)
    compiled = compile_expr(tree, Layout(("attack:RUS->POL",)), "b", "sample")
    assert compiled.constant is not None and not compiled.constant


def test_draw_sites_are_numbered_depth_first_left_to_right() -> None:
    env = Env()
    got = run("uniform(2, 5) + normal(uniform(0, 1), 2) + where(bernoulli(0.5), 1, 0)", env=env)
    u0 = env.draws.uniform(rng.site_id("base#0"))
    u2 = env.draws.uniform(rng.site_id("base#2"))  # the argument of normal(), inside it
    z1 = env.draws.normal(rng.site_id("base#1"))
    b3 = env.draws.uniform(rng.site_id("base#3")) < 0.5
    want = (2 + 3 * u0) + (u2 + 2 * z1) + np.where(b3, 1.0, 0.0)
    assert np.array_equal(got, want)
    again = run("uniform(2, 5) + normal(uniform(0, 1), 2) + where(bernoulli(0.5), 1, 0)", env=env)
    assert np.array_equal(got, again)


def test_mean_mode() -> None:
    assert run("normal(3, 2) + uniform(1, 2) + 0 * x", "mean")[0] == 4.5
    assert run("bernoulli(0.25)", "mean") == 0.25
    assert list(run("flag and bernoulli(0.5)", "mean")) == [0.5, 0.0, 0.5, 0.0]
    assert list(run("flag or bernoulli(0.5)", "mean")) == [1.0, 0.5, 1.0, 0.5]
    assert run("not bernoulli(0.2)", "mean") == 0.8
    assert list(run("x > 0", "mean")) == [0.0, 0.0, 1.0, 0.0]
    assert run("where(bernoulli(0.25), 4, 8)", "mean") == 7.0
    assert list(run("chose('USA', 'sanction') and flag", "mean")) == [0.3, 0.0, 0.3, 0.0]
    assert run("true", "mean") == 1.0 and isinstance(run("true", "mean"), np.float64)
    assert list(run("happened('ceasefire') or now('attack:*')", "mean")) == [1.0] * 4


def test_constants_are_folded_to_numpy_scalars() -> None:
    tree = check_source("min(2, 3) * (1 + 1) > 3 and not false", SYMBOLS, Type.BOOL)
    compiled = compile_expr(tree, LAYOUT, "b", "sample")
    assert compiled.constant is not None
    assert isinstance(compiled.constant, np.bool_) and bool(compiled.constant)
    tree = check_source("where(true, 1, 2)", SYMBOLS, Type.NUMBER)
    assert isinstance(compile_expr(tree, LAYOUT, "b", "sample").constant, np.float64)
    tree = check_source("uniform(1, 1)", SYMBOLS, Type.NUMBER)
    assert compile_expr(tree, LAYOUT, "b", "sample").constant is None  # draws never fold
    assert compile_expr(tree, LAYOUT, "b", "mean").constant == 1.0


def test_results_never_alias_the_environment() -> None:
    env = Env()
    for source in ("x", "flag", "chose('USA', 'sanction')", "+x", "happened('attack:RUS->POL')"):
        result = run(source, env=env)
        result[...] = 0
    assert env.values["x"][2] == 2.0 and env.values["flag"][0]
    assert env.ever[0, 0]


def test_scalar_values_in_the_environment_broadcast() -> None:
    assert run("support.USA * 4") == 1.0
    assert list(run("support.USA + y")) == [0.25, 0.25, 3.25, 1.25]


@pytest.mark.parametrize("mode", ["sample", "mean"])
def test_scalar_evaluator_matches_on_a_fixed_expression(mode: str) -> None:
    source = (
        "where(happened('{attack,strike}:*') and bernoulli(0.3), exp(x) ** y, log(abs(y)))"
        " + count('*') * normal(x, 2) - clip(uniform(-1, y), 0, 1)"
    )
    tree = check_source(source, SYMBOLS, Type.NUMBER)
    arrays = make_arrays(1234)
    got = compile_expr(tree, LAYOUT, "site", mode)(arrays)  # type: ignore[arg-type]
    want = [evaluate(tree, OneRun(arrays, r), "site", mode) for r in range(20)]  # type: ignore[arg-type]
    assert np.array_equal(got, np.array(want), equal_nan=True)


def test_bad_mode_is_refused() -> None:
    tree = check_source("1", SYMBOLS, Type.NUMBER)
    with pytest.raises(ValueError):
        compile_expr(tree, LAYOUT, "b", "median")  # type: ignore[arg-type]
