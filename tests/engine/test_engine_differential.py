"""Differential testing: the compiled engine equals the reference interpreter EXACTLY.

On every built-in scenario, over configurations that cover every lever option and every lens,
and on randomly generated valid scenarios. Built-in scenarios are loaded when a test runs (a
cached loader), never while tests are collected.

Two tiers per built-in. The quick one compares a few runs of each configuration. The slow one
is sized to what finds bugs rather than to a number of runs: the NumPy kernel simulates 10,000
runs of the scenario (cheap), and the reference interpreter (a tenth of a second per run of the
larger scenarios) re-simulates the runs that together exercise everything those 10,000 did —
each mechanism event (every rule, red line, treaty clause and scheduled reaction firing or
failing, each actor's each choice), each outcome and each peak rung — however many that takes,
then the runs with the rarest combinations of them, up to 100 runs per scenario. On nato-russia,
1,000 runs taken in order exercise 75 of the 80 such features that 10,000 runs do; 35 chosen
runs exercise all of them (escalaition, with 7 configurations, needs about 140).
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
    covering_runs,
    engine_vs_reference,
    features,
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

#: runs compared per built-in scenario in the fused engine's tier (test_engine_fused), over
#: all its configurations
RUNS_PER_SCENARIO = 1000
#: runs the reference compares per built-in scenario in the quick tier, over its configurations
QUICK_RUNS_PER_SCENARIO = 24
#: runs the kernel simulates per built-in scenario in the slow tier, whose features (mechanism
#: events, outcomes, peak rungs) the runs the reference re-simulates must all exercise
CANDIDATE_RUNS_PER_SCENARIO = 10_000
#: runs the reference re-simulates per built-in scenario in the slow tier, beyond those needed
#: to exercise every feature (which it always re-simulates, however many)
REFERENCE_RUNS_PER_SCENARIO = 100
#: the slow tier's runs start here, after those of the quick tier and the fused tier
SLOW_TIER_START = 1_000_000

BUILTINS = sorted(builtin_scenarios())  # names only: loading waits for a test to run


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


def _label(name: str, levers: dict[str, str], lens: str | None) -> str:
    return f"{name} " + ",".join(f"{k}={v}" for k, v in levers.items()) + f",lens={lens}"


def test_configurations_cover_every_option_and_lens() -> None:
    assert BUILTINS, "no built-in scenarios"
    for name in BUILTINS:
        s = _builtin(name)
        configs = configurations(s)
        for lever in s.levers:
            assert {c[0][lever.id] for c in configs} == {o.id for o in lever.options}
        assert {c[1] for c in configs} == {None, *(lens.id for lens in s.lenses)}
        assert sum(per for _, _, per in run_ranges(s)) >= RUNS_PER_SCENARIO


def test_covering_runs_exercise_everything_then_the_rarest() -> None:
    exercised = np.array(
        [
            [1, 0, 0, 0],  # common
            [1, 0, 0, 0],
            [1, 1, 0, 0],
            [1, 0, 0, 0],
            [0, 0, 1, 0],  # the only run with feature 2
            [1, 1, 0, 0],
            [0, 0, 0, 1],  # the only run with feature 3
            [1, 0, 0, 0],
        ],
        dtype=np.bool_,
    )
    cover = covering_runs(exercised, 3)
    assert exercised[cover].any(axis=0).all()  # every feature, in 3 runs
    assert set(cover) >= {4, 6}
    assert set(covering_runs(exercised, 1)) == set(cover)  # the cover, whatever the budget
    more = covering_runs(exercised, 5)
    assert set(more) >= set(cover) and len(more) == 5
    assert set(covering_runs(exercised, 100)) == set(range(8))


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_engine_equals_reference(name: str) -> None:
    """The quick tier: the first runs of every configuration."""
    s = _builtin(name)
    for (levers, lens), (start, quick, _) in zip(configurations(s), run_ranges(s), strict=True):
        program = program_of(s, levers, lens)
        engine_vs_reference(program, 2024, runs(quick, start), _label(name, levers, lens))


@pytest.mark.slow
@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_engine_equals_reference_on_runs_that_exercise_everything(name: str) -> None:
    """The slow tier: per configuration, the reference re-simulates the runs (of its share of
    10,000 the kernel simulates) that exercise every mechanism event, outcome and peak rung any
    of them did, then the rarest (:func:`covering_runs`)."""
    s = _builtin(name)
    configs = configurations(s)
    candidates = math.ceil(CANDIDATE_RUNS_PER_SCENARIO / len(configs))
    budget = math.ceil(REFERENCE_RUNS_PER_SCENARIO / len(configs))
    for i, (levers, lens) in enumerate(configs):
        program = program_of(s, levers, lens)
        ids = runs(candidates, SLOW_TIER_START + i * candidates)
        exercised = features(run_chunk(program, 2024, ids, events=True))
        chosen = ids[covering_runs(exercised, budget)]
        fast = engine_vs_reference(program, 2024, chosen, _label(name, levers, lens))
        # the runs compared exercise everything the candidates did
        assert (
            features(run_chunk(program, 2024, chosen, events=True)).any(axis=0)
            == exercised.any(axis=0)
        ).all()
        assert len(chosen) >= min(budget, candidates) and fast.first_hit.shape[0] == len(chosen)


@pytest.mark.slow
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
