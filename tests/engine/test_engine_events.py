"""The event record (the ``events`` capability): when each scheduled reaction and rule first fired
or failed, and each actor first chose each action, as step × stride + stage.

Every backend that declares the capability must give the reference interpreter's record exactly,
and the same summaries with and without it (the ``backend`` fixture runs each check on each)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_support import (
    assert_same_chunks,
    covering_runs,
    features,
    on_backend,
    program_from,
    program_of,
    runs,
    scenario_dict,
    sized,
)

import redline
from redline.engine.kernel import run_chunk
from redline.engine.reference import run_reference_chunk
from redline.engine.semantics import (
    STAGE_DECIDE,
    STAGE_ROUND,
    STAGE_SCHEDULE,
    event_columns,
    event_layout,
)


def staged_scenario() -> dict[str, Any]:
    """Every kind of event at a known step and stage: a scheduled event at step 1, a scripted
    action at step 2 and the cascade it sets off (round 0, then round 1), an absorbing outcome
    at step 3, and a rule due after the run has ended."""
    return scenario_dict(
        time={"step": "month", "horizon": 8},
        actors=[
            {
                "id": "A",
                "decision": {"kind": "scripted", "plan": [{"step": 2, "action": "push"}]},
            }
        ],
        variables=[{"id": "x"}],
        actions=[{"id": "push", "actors": ["A"], "effects": {"x": 1}, "tags": ["pushed"]}],
        schedule=[{"id": "opening", "step": 1, "tags": ["open"]}],
        rules=[
            # listed first, reacts in the second round: after "first" has fired
            {"id": "second", "when": 'now("first")', "probability": 0, "tags": ["second"]},
            {"id": "first", "when": 'now("pushed")', "tags": ["first"]},
            {"id": "late", "when": "step >= 4", "tags": ["late"]},
        ],
        outcomes=[
            {"id": "done", "when": 'happened("first") and step >= 3', "absorbing": True},
        ],
    )


def mixed_scenario() -> dict[str, Any]:
    """Random choices, rules that fire or fail, cascades and runs that end at random steps."""
    return scenario_dict(
        time={"step": "month", "horizon": 10},
        actors=[
            {"id": "A", "decision": {"kind": "logit", "lambda": 0}},
            {"id": "B", "decision": {"kind": "logit", "lambda": 0}},
        ],
        variables=[{"id": "heat"}],
        actions=[
            {"id": "poke", "actors": ["A"], "effects": {"heat": 1}, "tags": ["poke"]},
            {"id": "wait", "actors": ["A", "B"], "tags": ["wait"]},
            {"id": "shove", "actors": ["B"], "effects": {"heat": 2}, "tags": ["shove"]},
        ],
        schedule=[
            {"id": "coin", "step": 2, "probability": 0.5, "tags": ["heads"]},
            {"id": "later", "step": 6, "when": 'happened("heads")', "probability": 0.7},
        ],
        rules=[
            {"id": "answer", "when": 'now("poke")', "probability": 0.4, "tags": ["answer"]},
            {"id": "echo", "when": 'now("answer") or now("shove")', "probability": 0.5},
            {"id": "boil", "when": "heat > 6", "probability": 0.3, "tags": ["boil"]},
        ],
        outcomes=[
            {"id": "boiled", "when": 'happened("boil")', "absorbing": True},
            {"id": "hot", "when": "heat > 3"},
        ],
    )


def test_layout_names_every_column() -> None:
    program = program_of(redline.load("convoy-strike"))
    layout = event_layout(program)
    columns = event_columns(program)
    assert len(columns) == layout.size
    assert layout.stride == STAGE_ROUND + program.max_depth
    assert layout.dtype == "int16"
    for r in range(len(program.rules)):
        assert columns[layout.rule(r)] == ("rule", r, "fired")
        assert columns[layout.rule(r) + 1] == ("rule", r, "failed")
    for i, d in enumerate(program.deciders):
        for k, c in enumerate(d.candidates[1:], start=1):
            assert columns[layout.choices[i] + k - 1] == ("choice", i, program.actions[c].id)


def test_long_horizons_take_wider_codes(tmp_path: Path) -> None:
    program = program_from(scenario_dict(time={"step": "day", "horizon": 5000}), tmp_path)
    assert event_layout(program).dtype == "int32"


def test_record_at_known_steps_and_stages(tmp_path: Path, backend: str) -> None:
    program = program_from(staged_scenario(), tmp_path)
    layout = event_layout(program)
    got = on_backend(backend, program, 0, runs(4), events=True)
    assert got.events is not None and got.events.shape == (4, layout.size)
    names = {r.id: i for i, r in enumerate(program.rules)}
    expected = np.full(layout.size, -1)
    expected[layout.scheduled(0)] = layout.code(1, STAGE_SCHEDULE)
    expected[layout.choices[0]] = layout.code(2, STAGE_DECIDE)  # A's only action: push
    expected[layout.rule(names["first"])] = layout.code(2, STAGE_ROUND)
    expected[layout.rule(names["second"]) + 1] = layout.code(2, STAGE_ROUND + 1)  # failed
    # "late" would react at step 4, but the run ended at step 3
    for row in got.events:
        assert row.tolist() == expected.tolist()
    assert got.steps.tolist() == [4] * 4


@pytest.mark.parametrize("seed", [0, 7])
def test_record_equals_the_reference(tmp_path: Path, backend: str, seed: int) -> None:
    program = program_from(mixed_scenario(), tmp_path)
    ids = runs(sized(backend, 2000, 150))
    got = on_backend(backend, program, seed, ids, events=True)
    plain = on_backend(backend, program, seed, ids)
    assert plain.events is None
    assert_same_chunks(got, plain, f"{backend} with and without the record")
    expected = run_reference_chunk(program, seed, ids, events=True)
    assert_same_chunks(got, expected, backend)
    assert got.events is not None and expected.events is not None
    assert got.events.dtype == expected.events.dtype
    assert np.array_equal(got.events, expected.events)
    happened = (got.events >= 0).mean(axis=0)
    assert 0.05 < happened.mean() < 0.95  # the check is not vacuous


def test_builtin_record_equals_the_reference(backend: str) -> None:
    """On convoy-strike, the runs (of 4,000 the NumPy kernel simulates) that exercise every
    event, outcome and peak rung any of them did, then the rarest, up to 60: the backend's record
    is the reference's, event for event."""
    program = program_of(redline.load("convoy-strike"))
    candidates = runs(4000, start=1000)
    exercised = features(run_chunk(program, 3, candidates, events=True))
    ids = candidates[covering_runs(exercised, sized(backend, 60, 20))]
    got = on_backend(backend, program, 3, ids, events=True)
    expected = run_reference_chunk(program, 3, ids, events=True)
    assert_same_chunks(got, expected, backend)
    assert got.events is not None and expected.events is not None
    assert np.array_equal(got.events, expected.events)
    # every event the 4,000 runs recorded is in the record compared
    assert np.array_equal(
        (got.events >= 0).any(axis=0), exercised[:, : got.events.shape[1]].any(axis=0)
    )
