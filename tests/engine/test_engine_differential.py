"""Differential testing: the compiled engine equals the reference interpreter EXACTLY.

On every built-in scenario (≥ 1,000 runs each, spread over configurations that cover every lever
option and every lens), and on randomly generated valid scenarios.
"""

from __future__ import annotations

import math
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_support import (
    assert_same_chunks,
    engine_vs_reference,
    load_dict,
    program_from,
    program_of,
    runs,
    scenario_dict,
)
from hypothesis import HealthCheck, given, settings
from scenario_strategy import scenarios

import redline
from redline.engine.kernel import run_chunk
from redline.engine.reference import run_reference_chunk
from redline.scenario.loader import builtin_scenarios
from redline.scenario.model import Scenario

#: runs compared per built-in scenario, over all its configurations
RUNS_PER_SCENARIO = 1000
#: of those, how many run in the quick tier (the rest are marked slow: the reference
#: interpreter takes a tenth of a second per run of the larger scenarios)
QUICK_RUNS_PER_SCENARIO = 24


@cache
def _builtin(name: str) -> Scenario:
    return redline.load(name)


def configurations(s: Scenario) -> list[tuple[dict[str, str], str | None]]:
    """Enough configurations that every lever option and every lens (and no lens) occurs."""
    lenses: list[str | None] = [None, *(lens.id for lens in s.lenses)]
    count = max([len(lenses), *(len(lever.options) for lever in s.levers)])
    return [
        (
            {lever.id: lever.options[i % len(lever.options)].id for lever in s.levers},
            lenses[i % len(lenses)],
        )
        for i in range(count)
    ]


def run_ranges(s: Scenario) -> list[tuple[int, int, int]]:
    """Per configuration: its first run, how many runs in the quick tier, how many in all."""
    configs = configurations(s)
    per = math.ceil(RUNS_PER_SCENARIO / len(configs))
    quick = math.ceil(QUICK_RUNS_PER_SCENARIO / len(configs))
    return [(i * per, quick, per) for i in range(len(configs))]


def _cases(slow: bool) -> list[Any]:
    cases = []
    for name in sorted(builtin_scenarios()):
        s = _builtin(name)
        for (levers, lens), (start, quick, per) in zip(
            configurations(s), run_ranges(s), strict=True
        ):
            label = ",".join(f"{k}={v}" for k, v in levers.items()) + f",lens={lens}"
            first, count = (start + quick, per - quick) if slow else (start, quick)
            cases.append(pytest.param(name, levers, lens, first, count, id=f"{name}[{label}]"))
    return cases


def test_configurations_cover_every_option_and_lens() -> None:
    assert builtin_scenarios(), "no built-in scenarios"
    for name in builtin_scenarios():
        s = _builtin(name)
        configs = configurations(s)
        for lever in s.levers:
            assert {c[0][lever.id] for c in configs} == {o.id for o in lever.options}
        assert {c[1] for c in configs} == {None, *(lens.id for lens in s.lenses)}
        # the two tiers together compare at least RUNS_PER_SCENARIO distinct runs
        assert sum(per for _, _, per in run_ranges(s)) >= RUNS_PER_SCENARIO


def _compare_builtin(
    name: str, levers: dict[str, str], lens: str | None, start: int, count: int
) -> None:
    program = program_of(_builtin(name), levers, lens)
    engine_vs_reference(program, 2024, runs(count, start), f"{name} {levers} lens={lens}")


@pytest.mark.parametrize(("name", "levers", "lens", "start", "count"), _cases(slow=False))
def test_builtin_engine_equals_reference(
    name: str, levers: dict[str, str], lens: str | None, start: int, count: int
) -> None:
    _compare_builtin(name, levers, lens, start, count)


@pytest.mark.slow
@pytest.mark.parametrize(("name", "levers", "lens", "start", "count"), _cases(slow=True))
def test_builtin_engine_equals_reference_many_runs(
    name: str, levers: dict[str, str], lens: str | None, start: int, count: int
) -> None:
    _compare_builtin(name, levers, lens, start, count)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(data=scenarios())
def test_random_scenarios_engine_equals_reference(data: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        program = program_from(data, Path(tmp))
    engine_vs_reference(program, 7, runs(50), "random scenario")
    # and with a trace requested, the engine's summaries do not change
    assert_same_chunks(run_chunk(program, 7, runs(50)), run_chunk(program, 7, runs(50), trace=True))


@settings(
    max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True
)
@given(data=scenarios(allow_strategic=True, max_horizon=5))
def test_random_strategic_scenarios_engine_equals_reference(data: dict[str, Any]) -> None:
    """Scenarios whose utilities read others' choices (equilibrium play), fewer runs: the
    reference solves the equilibrium one run at a time."""
    with tempfile.TemporaryDirectory() as tmp:
        program = program_from(data, Path(tmp))
    engine_vs_reference(program, 3, runs(6), "random strategic scenario")


def test_scenario_without_outcomes_or_variables(tmp_path: Path) -> None:
    """Both sections are optional; the reference backend must cope with empty tables too."""
    data = scenario_dict(
        actors=[{"id": "A", "decision": {"kind": "logit", "lambda": 0}}],
        actions=[{"id": "go", "actors": ["A"], "level": 2}],
        outcomes=[],
    )
    program = program_from(data, tmp_path)
    assert not program.outcomes and not program.variables
    fast = engine_vs_reference(program, 0, runs(20))
    assert fast.first_hit.shape == (20, 0)
    assert fast.final.shape == (20, 0)
    s = load_dict(data, tmp_path)
    table = redline.simulate(s, 20, backend="reference").table
    assert table.equals(redline.simulate(s, 20).table)


def test_red_line_condition_reading_choices_compiles(tmp_path: Path) -> None:
    """A red line's ``when`` may read ``chose()`` (validation accepts it): it must compile and
    run the same on both backends."""
    data = scenario_dict(
        actors=[
            {"id": "X", "decision": {"kind": "logit", "lambda": 1, "weights": {"x": 1}}},
            {"id": "O", "decision": {"kind": "logit", "lambda": 1}},
        ],
        variables=[{"id": "x"}],
        actions=[
            {"id": "go", "actors": ["X"], "tags": ["go"], "effects": {"x": 1}},
            {"id": "resp", "actors": ["O"], "effects": {"x": -2}},
        ],
        red_lines=[
            {
                "id": "l",
                "owner": "O",
                "crossing": "go",
                "response": "resp",
                "when": 'chose("O", "hold")',
                "cost": 'where(chose("O", "resp"), 1, 2)',
            }
        ],
    )
    program = program_from(data, tmp_path)
    engine_vs_reference(program, 0, runs(20))


def test_uncertainties_and_lens_distributions_agree(tmp_path: Path) -> None:
    """Every distribution kind, as an uncertainty and as a lens prior, drawn the same way by
    both backends and used in expressions."""
    dists = [
        {"kind": "uniform", "low": -1, "high": 2},
        {"kind": "normal", "mean": 0.5, "sd": 0.2},
        {"kind": "triangular", "low": 0, "mode": 0.7, "high": 1},
        {"kind": "beta", "alpha": 0.5, "beta": 2, "low": 0, "high": 3},
        {"kind": "choice", "values": [1, 2, 4]},
    ]
    data = scenario_dict(
        time={"step": "month", "horizon": 4},
        parameters=[{"id": "k", "value": 1.0}],
        variables=[{"id": "x", "initial": "u0 + u1 + u2 + u3 + u4 + k"}],
        uncertainties=[{"id": f"u{i}", "distribution": d} for i, d in enumerate(dists)],
        dynamics=[{"id": "d", "variable": "x", "value": "x * 0.5 + u1 * normal(0, 1)"}],
        lenses=[{"id": "prior", "set": {"k": dists[3], "u0": 5.0}}],
        outcomes=[{"id": "hi", "when": "x > 1"}],
    )
    s = load_dict(data, tmp_path)
    for lens in (None, "prior"):
        program = program_of(s, None, lens)
        fast = engine_vs_reference(program, 5, runs(300), f"lens {lens}")
        expected = {f"u{i}" for i in range(5)} - ({"u0"} if lens else set())
        expected |= {"k"} if lens else set()
        assert set(fast.params) == expected
        if lens:
            assert np.all(fast.final[:, 0] != 0)


def test_reference_chunk_matches_engine_on_arbitrary_run_sets() -> None:
    name = sorted(builtin_scenarios())[0]
    program = program_of(_builtin(name))
    ids = np.array([5, 3, 999_999, 0, 17], dtype=np.int64)
    assert_same_chunks(run_chunk(program, 1, ids), run_reference_chunk(program, 1, ids))
