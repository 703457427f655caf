"""Switching a mechanism off: the structural change (the definition) and the switch parameter
(one structure for every ablation) give the same runs exactly, on every backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from ablation_support import write_sparks

from redline.compile import Program, compile_scenario, resolve
from redline.compile.ablate import (
    can_switch,
    find,
    mechanisms,
    switch_off,
    switchable,
    switched_off,
)
from redline.engine import backends
from redline.engine.semantics import ChunkResult
from redline.errors import UserError
from redline.scenario.loader import load_scenario


def _program(name: str | Path) -> Program:
    s = load_scenario(name).scenario
    return compile_scenario(s, resolve(s))


def _same(a: ChunkResult, b: ChunkResult) -> bool:
    return (
        all(np.array_equal(getattr(a, k), getattr(b, k)) for k in ("first_hit", "peak_level"))
        and np.array_equal(a.steps, b.steps)
        and np.array_equal(a.final, b.final, equal_nan=True)
    )


@pytest.fixture(scope="module")
def convoy() -> Program:
    return _program("convoy-strike")


def test_mechanisms_of_convoy_strike(convoy: Program) -> None:
    found = {m.id: m for m in mechanisms(convoy)}
    assert found["red_line:convoys"].path == "red_lines.convoys"
    assert found["clause:NATO.article5"].path == "alliances.NATO.article5"
    assert found["doctrine:nuclear_defeat"].path == "doctrines.nuclear_defeat"
    assert found["rule:provocation_unanswered"].path == "rules.provocation_unanswered"
    assert found["schedule:us_election_2024"].path == "schedule.us_election_2024"
    assert found["dynamic:front"].path == "dynamics.front"
    assert found["decision:RUS"].path == "actors.RUS.decision"
    assert "decision:UKR" not in found  # a doctrine actor already holds
    kinds = [m.kind for m in mechanisms(convoy)]
    assert kinds == sorted(
        kinds,
        key=["red_line", "clause", "doctrine", "rule", "schedule", "dynamic", "decision"].index,
    )


def test_switch_off_is_pure_and_renames_the_structure(convoy: Program) -> None:
    before = convoy
    off = switch_off(convoy, "red_line:convoys")
    assert convoy == before
    assert off.fingerprint not in ("", convoy.fingerprint)
    rule = next(r for r in off.rules if r.id == "convoys")
    assert rule.trigger.constant is False and rule.trigger.source == "false"
    index = [r.id for r in convoy.rules].index("convoys")
    assert not any(c.red_line == index for d in off.deciders for cs in d.crossings for c in cs)
    assert any(c.red_line == index for d in convoy.deciders for cs in d.crossings for c in cs)
    dyn = switch_off(convoy, "front")  # a name alone, when unambiguous
    assert len(dyn.dynamics) == len(convoy.dynamics) - 1
    held = switch_off(convoy, "decision:RUS")
    assert next(d for d in held.deciders if d.actor == "RUS").kind == "doctrine"


def test_unknown_mechanism_is_a_message(convoy: Program) -> None:
    with pytest.raises(UserError, match="unknown mechanism 'rule:nope'"):
        switch_off(convoy, "rule:nope")


def test_switchable_shares_one_structure(convoy: Program) -> None:
    chosen = [m for m in mechanisms(convoy) if can_switch(convoy, m)]
    sw = switchable(convoy, chosen)
    assert sw.fingerprint not in ("", convoy.fingerprint)
    assert {switched_off(sw, m).fingerprint for m in chosen} == {sw.fingerprint}
    scripted = find(convoy, "decision:USA")
    assert not can_switch(convoy, scripted)  # a plan is followed whatever requires says
    with pytest.raises(ValueError, match="cannot be switched"):
        switchable(convoy, [scripted])


@pytest.mark.parametrize("scenario", ["convoy-strike", "sparks"])
def test_switch_equals_structural_change(scenario: str, tmp_path: Path) -> None:
    program = _program(write_sparks(tmp_path) if scenario == "sparks" else scenario)
    runs = np.arange(400, dtype=np.int64)
    chosen = [m for m in mechanisms(program) if can_switch(program, m)]
    sw = switchable(program, chosen)
    base = backends.run_chunk("numpy", program, 3, runs)
    assert _same(base, backends.run_chunk("numpy", sw, 3, runs))
    for m in chosen:
        structural = backends.run_chunk("numpy", switch_off(program, m), 3, runs)
        by_switch = backends.run_chunk("numpy", switched_off(sw, m), 3, runs)
        assert _same(structural, by_switch), m.id


def test_switch_equals_structural_change_on_the_reference(tmp_path: Path) -> None:
    program = _program(write_sparks(tmp_path))
    runs = np.arange(60, dtype=np.int64)
    sw = switchable(program)
    for m in mechanisms(program):
        structural = backends.run_chunk("numpy", switch_off(program, m), 5, runs)
        assert _same(structural, backends.run_chunk("reference", switched_off(sw, m), 5, runs))


def test_switches_on_the_fused_engine(tmp_path: Path) -> None:
    program = _program(write_sparks(tmp_path))
    runs = np.arange(500, dtype=np.int64)
    sw = switchable(program)
    fused = backends.get("numba").load()  # itself: no fallback to the kernel
    for m in (None, *mechanisms(program)):
        q = switched_off(sw, m)
        assert _same(fused(q, 7, runs), backends.run_chunk("numpy", q, 7, runs))
