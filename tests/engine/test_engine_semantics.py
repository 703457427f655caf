"""Step semantics (docs/scenarios.md "One step") on tiny hand-written scenarios.

Every check runs once per registered backend (the ``backend`` fixture): each must do what the
documentation says, and the compiled ones must agree exactly with the reference interpreter.
Checks that read what happened step by step use traces, and are skipped on a backend without
them.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from engine_support import (
    backend_vs_reference,
    on_backend,
    program_from,
    program_of,
    runs,
    scenario_dict,
    sized,
    traced,
)
from scipy import stats

from redline.compile import Program
from redline.engine.semantics import ChunkResult
from redline.scenario.model import Scenario


def final(program: Program, result: ChunkResult, name: str) -> np.ndarray:
    return result.final[:, program.var_index(name)]


def actions(
    backend: str, program: Program, seed: int, n: int
) -> dict[tuple[int, int], dict[str, str]]:
    """(run, step) -> each actor's chosen action, from the backend's trace."""
    return {
        (rec["run"], rec["step"]): rec["actions"] for rec in traced(backend, program, seed, runs(n))
    }


def steps_of(backend: str, program: Program, seed: int, run: int) -> list[dict[str, Any]]:
    """One run's trace records, step by step."""
    records = traced(backend, program, seed, runs(1, start=run))
    assert [rec["step"] for rec in records] == list(range(len(records)))
    return records


def counters(names: list[str], **kw: Any) -> list[dict[str, Any]]:
    return [{"id": n, **kw} for n in names]


# -- reactions: each rule at most once a step, cascades bounded ------------------------------


def test_each_rule_reacts_at_most_once_per_step(tmp_path: Path, backend: str) -> None:
    horizon = 4
    data = scenario_dict(
        time={"step": "month", "horizon": horizon},
        variables=counters(["n_always", "n_ping", "n_first", "n_second"]),
        rules=[
            # its trigger holds in every round, but it reacts once a step
            {"id": "always", "when": "true", "effects": {"n_always": 1}},
            # triggered by two different rounds' events: still once a step
            {"id": "first", "when": "true", "effects": {"n_first": 1}, "tags": ["ping"]},
            {
                "id": "second",
                "when": 'now("rule:first")',
                "effects": {"n_second": 1},
                "tags": ["ping"],
            },
            {"id": "listener", "when": 'now("ping")', "effects": {"n_ping": 1}},
        ],
        outcomes=[
            {"id": "pinged_twice", "when": 'count("ping") >= 2'},
            {"id": "listened", "when": 'count("rule:listener") == 1'},
        ],
    )
    program = program_from(data, tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(10))
    for name in ("n_always", "n_first", "n_second", "n_ping"):
        assert np.all(final(program, result, name) == horizon), name
    # "ping" is emitted twice in step 0, the listener reacts once
    assert np.all(result.first_hit[:, 0] == 0)
    assert np.all(result.first_hit[:, 1] == 0)


def _ring(size: int, start: str) -> dict[str, Any]:
    names = [f"c{i}" for i in range(size)]
    rules = []
    for i, name in enumerate(names):
        when = f'now("rule:{names[i - 1]}")'
        if i == 0:
            when = f"({when}) or ({start})"
        rules.append({"id": name, "when": when, "effects": {f"n_{name}": 1}})
    return scenario_dict(
        time={"step": "month", "horizon": 3},
        variables=counters([f"n_{n}" for n in names]),
        schedule=[{"id": "kick", "step": 0}],
        rules=rules,
        outcomes=[{"id": "last", "when": f'now("rule:{names[-1]}")'}],
    )


def test_cascade_depth_is_bounded_at_eight_rounds(tmp_path: Path, backend: str) -> None:
    """A ring of 10 rules, each triggered by the previous: only 8 rounds happen in a step."""
    program = program_from(_ring(10, 'now("event:kick")'), tmp_path)
    assert program.max_depth == 8
    result = backend_vs_reference(backend, program, 0, runs(5))
    got = [int(final(program, result, f"n_c{i}")[0]) for i in range(10)]
    assert got == [1] * 8 + [0, 0]
    assert np.all(result.final == result.final[0])


def test_cascade_restarts_every_step(tmp_path: Path, backend: str) -> None:
    program = program_from(_ring(10, "true"), tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(5))
    got = [int(final(program, result, f"n_c{i}")[0]) for i in range(10)]
    assert got == [3] * 8 + [0, 0]


def test_short_cycle_stops_when_every_rule_has_reacted(tmp_path: Path, backend: str) -> None:
    program = program_from(_ring(3, "true"), tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(5))
    assert [int(final(program, result, f"n_c{i}")[0]) for i in range(3)] == [3, 3, 3]


def test_short_cycle_every_rule_reacts_in_every_step(tmp_path: Path, backend: str) -> None:
    program = program_from(_ring(3, "true"), tmp_path)
    for record in steps_of(backend, program, 0, 0):
        assert Counter(record["rules"]) == Counter(["c0", "c1", "c2"])


# -- an ended run stays ended ---------------------------------------------------------------


def ending_scenario(horizon: int = 12) -> dict[str, Any]:
    return scenario_dict(
        time={"step": "month", "horizon": horizon},
        ladder="condensed",
        actors=[{"id": "A", "decision": {"kind": "logit", "lambda": 0}}],
        variables=[{"id": "clock"}, {"id": "moves"}],
        actions=[{"id": "escalate", "actors": ["A"], "effects": {"moves": 1}, "level": 4}],
        dynamics=[{"id": "tick", "variable": "clock", "value": "clock + 1"}],
        rules=[{"id": "boom", "when": "true", "probability": 0.15, "tags": ["boom"]}],
        outcomes=[
            {"id": "late", "when": "clock >= 3"},
            {"id": "end", "when": 'happened("boom")', "absorbing": True},
        ],
    )


def test_ended_run_stays_ended(tmp_path: Path, backend: str) -> None:
    horizon = 12
    program = program_from(ending_scenario(horizon), tmp_path)
    # enough ended runs for the NumPy kernel to compact its arrays, several times
    n = sized(backend, 3000, 300)
    backend_vs_reference(backend, program, 1, runs(sized(backend, 400, 30)))
    result = on_backend(backend, program, 1, runs(n))
    end = result.first_hit[:, 1]
    ended = end >= 0
    assert 0 < ended.sum() < n
    assert np.array_equal(result.steps[ended], end[ended] + 1)
    assert np.all(result.steps[~ended] == horizon)
    # the clock counts the steps the run lived, and stopped with it
    assert np.array_equal(final(program, result, "clock"), result.steps.astype(float))
    # an outcome that would hold later is not recorded after the end
    late = result.first_hit[:, 0]
    assert np.array_equal(late, np.where(result.steps >= 3, 2, -1))


def test_ended_run_is_traced_to_its_end_and_no_further(tmp_path: Path, backend: str) -> None:
    """Nothing is traced after a run's end, and the run's moves and peak match its trace."""
    program = program_from(ending_scenario(12), tmp_path)
    n = sized(backend, 3000, 300)
    result = on_backend(backend, program, 1, runs(n), trace=True)
    trace = result.trace
    assert trace is not None
    last: dict[int, int] = defaultdict(lambda: -1)
    moves: Counter[int] = Counter()
    peak: dict[int, int] = defaultdict(int)
    for rec in trace:
        last[rec["run"]] = max(last[rec["run"]], rec["step"])
        moves[rec["run"]] += rec["actions"]["A"] == "escalate"
        peak[rec["run"]] = max(peak[rec["run"]], rec["level"])
    for r in range(n):
        assert last[r] == result.steps[r] - 1
        assert moves[r] == final(program, result, "moves")[r]
        assert peak[r] == result.peak_level[r]


def test_ended_run_ends_at_the_step_of_its_absorbing_outcome(tmp_path: Path, backend: str) -> None:
    program = program_from(ending_scenario(), tmp_path)
    result = on_backend(backend, program, 1, runs(30), trace=True)
    assert result.trace is not None
    by_run: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for record in result.trace:
        by_run[record["run"]].append(record)
    for run in range(30):
        assert len(by_run[run]) == result.steps[run]
        if result.first_hit[run, 1] >= 0:
            assert result.steps[run] == result.first_hit[run, 1] + 1
            assert "boom" in by_run[run][-1]["events"]


# -- effects are simultaneous, values are clipped -------------------------------------------


def effects_scenario() -> dict[str, Any]:
    return scenario_dict(
        time={"step": "month", "horizon": 3},
        actors=[
            {"id": "A", "decision": {"kind": "scripted", "plan": [{"step": 0, "action": "a"}]}},
            {"id": "B", "decision": {"kind": "scripted", "plan": [{"step": 0, "action": "b"}]}},
        ],
        variables=[{"id": "x", "initial": 1}, {"id": "y", "initial": 10}, {"id": "s"}],
        actions=[
            # both deltas read the pre-step state; the two deltas to s are summed
            {"id": "a", "actors": ["A"], "effects": {"x": "y", "s": "x + y"}},
            {"id": "b", "actors": ["B"], "effects": {"y": "x + 1", "s": "-x"}},
        ],
        dynamics=[  # a swap at step 1, read from one state
            {"id": "dx", "variable": "x", "value": "where(step == 1, y, x)"},
            {"id": "dy", "variable": "y", "value": "where(step == 1, x, y)"},
        ],
        rules=[  # two rules of one round at step 2, both reading the state before it
            {"id": "r1", "when": "step == 2", "effects": {"x": "y"}},
            {"id": "r2", "when": "step == 2", "effects": {"y": "-x"}},
        ],
    )


def test_effects_read_the_state_before_the_phase(tmp_path: Path, backend: str) -> None:
    program = program_from(effects_scenario(), tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(4))
    assert np.all(final(program, result, "x") == 23.0)
    assert np.all(final(program, result, "y") == -1.0)


def test_effects_read_the_state_before_the_phase_step_by_step(tmp_path: Path, backend: str) -> None:
    program = program_from(effects_scenario(), tmp_path)
    state = [record["state"] for record in steps_of(backend, program, 0, 0)]
    assert (state[0]["x"], state[0]["y"], state[0]["s"]) == (11.0, 12.0, 10.0)
    assert (state[1]["x"], state[1]["y"]) == (12.0, 11.0)
    assert (state[2]["x"], state[2]["y"]) == (23.0, -1.0)


def test_values_are_clipped_after_every_phase(tmp_path: Path, backend: str) -> None:
    data = scenario_dict(
        time={"step": "month", "horizon": 1},
        actors=[
            {"id": "A", "decision": {"kind": "scripted", "plan": [{"step": 0, "action": "drop"}]}}
        ],
        parameters=[{"id": "big", "value": 5}],
        variables=[
            {"id": "x", "initial": "big", "min": 0, "max": 1},  # initial value clipped
            {"id": "w", "initial": "big", "min": 0, "max": 1},
            {"id": "z", "initial": 0, "min": -1, "max": 1},
            {"id": "y"},
            {"id": "seen_w"},
        ],
        schedule=[{"id": "push", "step": 0, "effects": {"w": 10}}],
        dynamics=[
            {"id": "dz", "variable": "z", "value": "z + 3"},  # clipped to 1 by dynamics
            {"id": "dw", "variable": "seen_w", "value": "w"},  # w clipped after the schedule
        ],
        actions=[{"id": "drop", "actors": ["A"], "effects": {"x": -5, "y": "z"}}],
        rules=[{"id": "after", "when": 'now("act:A:drop")', "effects": {"y": "x"}}],
    )
    # the validator refuses constant initial values outside the bounds; the engine still clips
    # whatever it is given (a drawn initial value may fall outside), which is what this checks
    program = program_of(Scenario.model_validate(data))
    result = backend_vs_reference(backend, program, 0, runs(4))
    assert np.all(final(program, result, "x") == 0.0)  # 1 − 5 clipped to 0
    assert np.all(final(program, result, "w") == 1.0)
    assert np.all(final(program, result, "seen_w") == 1.0)
    assert np.all(final(program, result, "z") == 1.0)
    # y = z after dynamics (1, not 3) + x after effects (0, not −4)
    assert np.all(final(program, result, "y") == 1.0)


def test_credibility_is_clipped_to_unit_interval(tmp_path: Path, backend: str) -> None:
    data = scenario_dict(
        time={"step": "month", "horizon": 2},
        actors=[
            {"id": "X", "decision": {"kind": "scripted", "plan": [{"step": 0, "action": "go"}]}},
            {"id": "O", "decision": {"kind": "doctrine"}},
        ],
        actions=[
            {"id": "go", "actors": ["X"], "tags": ["go"]},
            {"id": "stop", "actors": ["X"], "tags": ["stop"]},
            {"id": "resp", "actors": ["O"]},
        ],
        red_lines=[
            {
                "id": "l1",
                "owner": "O",
                "crossing": "go",
                "response": "resp",
                "enforce": 0,
                "credibility": {"initial": 0.9, "decay": 0.1, "spillover": 1.0},
            },
            {
                "id": "l2",
                "owner": "O",
                "crossing": "stop",
                "response": "resp",
                "credibility": {"initial": 0.3},
            },
        ],
    )
    program = program_from(data, tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(3))
    assert np.allclose(final(program, result, "credibility.l1"), 0.09, rtol=0, atol=1e-15)
    # the spillover (−0.81) would take l2 below 0: clipped
    assert np.all(final(program, result, "credibility.l2") == 0.0)


# -- the schedule ---------------------------------------------------------------------------


def schedule_scenario() -> dict[str, Any]:
    return scenario_dict(
        time={"step": "month", "start": "2024-01-15", "horizon": 8},
        variables=[{"id": "x"}, {"id": "y"}],
        schedule=[
            {"id": "e3", "step": 3, "effects": {"x": 1}, "tags": ["tick"]},
            {"id": "dated", "kind": "election", "at": "2024-06-20", "effects": {"y": 1}},
            {"id": "never", "step": 2, "when": "x > 0", "effects": {"y": 100}},
        ],
        outcomes=[
            {"id": "e3", "when": 'now("event:e3")'},
            {"id": "tick", "when": 'happened("tick")'},
            {"id": "dated", "when": 'now("election:dated")'},
            {"id": "never", "when": 'happened("event:never")'},
            {"id": "many", "when": 'count("tick") > 1'},
        ],
    )


def test_scheduled_events_happen_only_at_their_step(tmp_path: Path, backend: str) -> None:
    program = program_from(schedule_scenario(), tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(5))
    assert result.first_hit[0].tolist() == [3, 3, 5, -1, -1]
    assert np.all(final(program, result, "x") == 1.0)
    assert np.all(final(program, result, "y") == 1.0)


def test_scheduled_events_are_events_of_their_step_alone(tmp_path: Path, backend: str) -> None:
    program = program_from(schedule_scenario(), tmp_path)
    for record in steps_of(backend, program, 0, 0):
        assert ("event:e3" in record["events"]) == (record["step"] == 3)
        assert ("election:dated" in record["events"]) == (record["step"] == 5)


def test_scheduled_event_probability_and_phase(tmp_path: Path, backend: str) -> None:
    """A scheduled event happens before dynamics and decisions of its step read the state."""
    data = scenario_dict(
        time={"step": "month", "horizon": 4},
        actors=[{"id": "A", "decision": {"kind": "logit", "lambda": 50, "weights": {"x": 1}}}],
        variables=[{"id": "flag"}, {"id": "x"}, {"id": "seen"}],
        schedule=[{"id": "coin", "step": 1, "probability": 0.5, "effects": {"flag": 1}}],
        dynamics=[{"id": "d", "variable": "seen", "value": "seen + flag"}],
        actions=[{"id": "use", "actors": ["A"], "requires": "flag > 0", "effects": {"x": 1}}],
    )
    program = program_from(data, tmp_path)
    n = sized(backend, 4000, 400)
    backend_vs_reference(backend, program, 2, runs(sized(backend, 200, 20)))
    result = on_backend(backend, program, 2, runs(n))
    flag = final(program, result, "flag")
    assert set(np.unique(flag)) == {0.0, 1.0}
    assert abs(flag.mean() - 0.5) < 4 * np.sqrt(0.25 / n)
    # the flag set at step 1 is seen by the dynamics of steps 1, 2, 3 and used at once
    assert np.array_equal(final(program, result, "seen"), 3 * flag)
    x = final(program, result, "x")
    assert np.all(x[flag == 0] == 0)
    assert np.all(x[flag == 1] >= 2)  # λ = 50: almost always taken at steps 1–3


# -- decision-makers ------------------------------------------------------------------------


PLAN = {1: "act1", 3: "act2", 4: "hold", 5: "act1"}


def scripted_scenario() -> dict[str, Any]:
    return scenario_dict(
        time={"step": "month", "start": "2024-01-01", "horizon": 7},
        actors=[
            {
                "id": "S",
                "decision": {
                    "kind": "scripted",
                    "plan": [
                        {"step": 1, "action": "act1"},
                        {"at": "2024-04-01", "action": "act2"},
                        {"step": 4, "action": "hold"},
                        {"step": 5, "action": "act1"},
                    ],
                },
            }
        ],
        variables=[{"id": "n1"}, {"id": "n2"}],
        actions=[
            {"id": "act1", "actors": ["S"], "effects": {"n1": 1}},
            # performed as planned, whatever its requirement
            {"id": "act2", "actors": ["S"], "requires": "false", "effects": {"n2": 1}},
        ],
    )


def test_scripted_plans_are_followed(tmp_path: Path, backend: str) -> None:
    program = program_from(scripted_scenario(), tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(20))
    assert np.all(final(program, result, "n1") == 2)
    assert np.all(final(program, result, "n2") == 1)


def test_scripted_plans_are_followed_step_by_step(tmp_path: Path, backend: str) -> None:
    program = program_from(scripted_scenario(), tmp_path)
    want = {t: PLAN.get(t, "hold") for t in range(7)}
    chosen = actions(backend, program, 0, 20)
    for r in range(20):
        assert {t: chosen[(r, t)]["S"] for t in range(7)} == want


def doctrine_scenario() -> dict[str, Any]:
    return scenario_dict(
        time={"step": "month", "horizon": 5},
        actors=[
            {"id": "D", "decision": {"kind": "doctrine", "lambda": 100, "weights": {"gain": 1}}}
        ],
        variables=[{"id": "gain"}, {"id": "by_doctrine"}],
        actions=[
            {"id": "grab", "actors": ["D"], "effects": {"gain": 10}},
            {"id": "standing", "actors": ["D"], "effects": {"by_doctrine": 1}},
        ],
        doctrines=[{"id": "rule_of_two", "actor": "D", "when": "step == 2", "action": "standing"}],
    )


def test_doctrine_kind_always_holds(tmp_path: Path, backend: str) -> None:
    program = program_from(doctrine_scenario(), tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(sized(backend, 300, 30)))
    assert np.all(final(program, result, "gain") == 0)
    # it acts only through its doctrines (which apply whatever the kind)
    assert np.all(final(program, result, "by_doctrine") == 1)


def test_doctrine_kind_holds_in_every_step(tmp_path: Path, backend: str) -> None:
    program = program_from(doctrine_scenario(), tmp_path)
    chosen = actions(backend, program, 0, sized(backend, 300, 30))
    assert all(a["D"] == "hold" for a in chosen.values())


def availability_scenario() -> dict[str, Any]:
    return scenario_dict(
        time={"step": "month", "horizon": 6},
        actors=[{"id": "L", "decision": {"kind": "logit", "lambda": 5, "weights": {"x": 1}}}],
        variables=[{"id": "x", "min": 0}, {"id": "n_great"}, {"id": "n_late"}],
        actions=[
            {
                "id": "great",
                "actors": ["L"],
                "requires": "x < 0",
                "effects": {"x": 100, "n_great": 1},
            },
            {"id": "never", "actors": ["L"], "requires": "false", "effects": {"x": 100}},
            {
                "id": "later",
                "actors": ["L"],
                "requires": "step >= 3",
                "effects": {"x": 1, "n_late": 1},
            },
            {"id": "small", "actors": ["L"], "effects": {"x": 0.2}},
        ],
    )


def test_logit_never_chooses_an_unavailable_action(tmp_path: Path, backend: str) -> None:
    program = program_from(availability_scenario(), tmp_path)
    backend_vs_reference(backend, program, 3, runs(sized(backend, 300, 30)))
    result = on_backend(backend, program, 3, runs(sized(backend, 2000, 300)))
    assert np.all(final(program, result, "n_great") == 0)
    assert np.all(final(program, result, "n_late") <= 3)  # available from step 3 of 6


def test_logit_never_chooses_an_unavailable_action_step_by_step(
    tmp_path: Path, backend: str
) -> None:
    program = program_from(availability_scenario(), tmp_path)
    n = sized(backend, 2000, 300)
    seen: Counter[tuple[int, str]] = Counter()
    for (_, step), chosen in actions(backend, program, 3, n).items():
        seen[(step, chosen["L"])] += 1
    assert not any(action in ("great", "never") for _, action in seen)
    assert not any(action == "later" and step < 3 for step, action in seen)
    assert all(seen[(step, "later")] > n / 2 for step in (3, 4, 5))


def test_lambda_zero_is_uniform_over_available_actions(tmp_path: Path, backend: str) -> None:
    data = scenario_dict(
        time={"step": "month", "horizon": 1},
        actors=[
            {
                "id": "U",
                "decision": {
                    "kind": "logit",
                    "lambda": 0,
                    "weights": {"x": 1},
                    "escalation_cost": 3,
                },
            }
        ],
        variables=[{"id": "x"}, {"id": "pick"}],
        actions=[
            {"id": "a", "actors": ["U"], "effects": {"x": 10, "pick": 1}, "level": 5},
            {"id": "b", "actors": ["U"], "effects": {"x": -3, "pick": 2}},
            {"id": "c", "actors": ["U"], "requires": "x > 1", "effects": {"pick": 3}},
            {"id": "d", "actors": ["U"], "effects": {"x": 0.5, "pick": 4}},
        ],
    )
    program = program_from(data, tmp_path)
    n = sized(backend, 40_000, 2000)
    backend_vs_reference(backend, program, 8, runs(sized(backend, 200, 20)))
    picks = final(program, on_backend(backend, program, 8, runs(n)), "pick").astype(int)
    counts = np.bincount(picks, minlength=5)
    assert counts[3] == 0
    observed = counts[[0, 1, 2, 4]]
    assert observed.sum() == n
    assert stats.chisquare(observed).pvalue > 1e-4


@pytest.mark.parametrize("lam", [0.7, 3.0])
def test_logit_three_way_choice_probabilities(tmp_path: Path, backend: str, lam: float) -> None:
    """Choice ∝ exp(λU) over hold (0) and two actions, escalation cost included."""
    data = scenario_dict(
        time={"step": "month", "horizon": 1},
        actors=[
            {
                "id": "U",
                "decision": {
                    "kind": "logit",
                    "lambda": lam,
                    "weights": {"x": 2},
                    "escalation_cost": 0.5,
                },
            }
        ],
        variables=[{"id": "x"}, {"id": "pick"}],
        actions=[
            {"id": "a", "actors": ["U"], "effects": {"x": 0.4, "pick": 1}, "escalation": 0.4},
            {"id": "b", "actors": ["U"], "effects": {"x": "normal(-0.1, 3)", "pick": 2}},
        ],
    )
    program = program_from(data, tmp_path)
    n = sized(backend, 30_000, 2000)
    picks = final(program, on_backend(backend, program, 4, runs(n)), "pick").astype(int)
    u = np.array([0.0, 2 * 0.4 - 0.5 * 0.4, 2 * -0.1])
    p = np.exp(lam * u) / np.exp(lam * u).sum()
    counts = np.bincount(picks, minlength=3)
    assert stats.chisquare(counts, p * n).pvalue > 1e-4


def test_ladder_level_and_peak(tmp_path: Path, backend: str) -> None:
    data = scenario_dict(
        time={"step": "month", "horizon": 4},
        ladder="condensed",
        variables=[{"id": "unused"}],
        actors=[
            {
                "id": "S",
                "decision": {
                    "kind": "scripted",
                    "plan": [
                        {"step": 0, "action": "high"},
                        {"step": 1, "action": "low"},
                    ],
                },
            },
            {"id": "T", "decision": {"kind": "scripted", "plan": [{"step": 1, "action": "mid"}]}},
        ],
        actions=[
            {"id": "high", "actors": ["S"], "level": 5},
            {"id": "low", "actors": ["S"], "level": 2},
            {"id": "mid", "actors": ["T"], "level": 3},
        ],
        outcomes=[
            {"id": "at4", "when": "level == 4 and peak_level == 4"},
            {"id": "down", "when": "level == 2 and peak_level == 4"},  # highest of step 1
            {"id": "stays", "when": "level == 2 and step == 3"},  # everyone held since
        ],
    )
    program = program_from(data, tmp_path)
    result = backend_vs_reference(backend, program, 0, runs(3))
    assert result.first_hit[0].tolist() == [0, 1, 3]
    assert np.all(result.peak_level == 4)


def test_red_line_deters_a_logit_actor(tmp_path: Path, backend: str) -> None:
    """The expected cost of a crossing (P(when) × credibility × cost) enters the utility."""

    def data(cred: float) -> dict[str, Any]:
        return scenario_dict(
            time={"step": "month", "horizon": 1},
            actors=[
                {"id": "X", "decision": {"kind": "logit", "lambda": 2, "weights": {"gain": 1}}},
                {"id": "O", "decision": {"kind": "doctrine"}},
            ],
            variables=[{"id": "gain"}, {"id": "n"}],
            actions=[
                {"id": "cross", "actors": ["X"], "tags": ["cross"], "effects": {"gain": 1, "n": 1}},
                {"id": "punish", "actors": ["O"], "effects": {"gain": -3}},
            ],
            red_lines=[
                {
                    "id": "rl",
                    "owner": "O",
                    "crossing": "cross",
                    "response": "punish",
                    "when": "bernoulli(0.5)",
                    "credibility": {"initial": cred},
                }
            ],
        )

    n = sized(backend, 20_000, 2000)
    for cred in (0.0, 0.4, 1.0):
        program = program_from(data(cred), tmp_path)
        backend_vs_reference(backend, program, 0, runs(sized(backend, 100, 10)))
        hits = int(final(program, on_backend(backend, program, 0, runs(n)), "n").sum())
        u = 1 - 0.5 * cred * 3  # the response's loss by X's weights is the cost
        p = 1 / (1 + np.exp(-2 * u))
        lo, hi = p - 4 * np.sqrt(p * (1 - p) / n), p + 4 * np.sqrt(p * (1 - p) / n)
        assert lo <= hits / n <= hi, f"credibility {cred}: {hits / n} vs {p}"
