"""The analyses on language-model actors: ``redline ablate`` (and ``redline analyze robust`` and
``game``) ask the endpoint for the runs they simulate, keep the answers in the store so the same
command again asks nothing, and give the same result; switching the model's decision off makes
its actor hold without asking."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from redline.analysis.discovery import draws
from redline.analysis.factors import factors, point_hits
from redline.analysis.score import score
from redline.compile.configure import resolve
from redline.errors import UserError
from redline.llm.cache import MemoryCache
from redline.llm.makers import language_makers
from redline.scenario.loader import load_scenario

from .conftest import HERE, TINY, endpoint
from .fake_model import FakeModel
from .test_llm_cli import invoke

LEVER = HERE / "tiny-llm-lever.yaml"


def _without_seconds(said: str) -> dict[str, object]:
    found = json.loads(said)
    found.pop("seconds", None)
    return dict(found)


def test_ablate_asks_the_model_and_replays(fake: FakeModel, tmp_path: Path) -> None:
    common = ["--store", str(tmp_path / "a.duckdb"), "--llm-endpoint", fake.url]
    args = ["ablate", str(TINY), "--runs", "4", "--no-lever-options", "--json", *common]
    code, said = invoke(*args)
    assert code == 0, said
    asked = fake.policy.requests
    a = json.loads(said)
    mechanisms = [m["id"] for m in a["mechanisms"]]
    assert "decision:RED" in mechanisms  # the model's choices are a mechanism like any other
    # the run asks the same prompts as the ablation's baseline: all of them replayed
    fake.reset()
    code, ran = invoke("run", str(TINY), "--runs", "4", "--json", *common)
    assert code == 0, ran
    assert fake.policy.requests == 0
    assert json.loads(ran)["outcomes"]["war"]["p"] == a["outcomes"]["war"]["p"]
    # the same ablation again asks nothing and says the same
    code, again = invoke(*args)
    assert code == 0 and fake.policy.requests == 0, again
    assert _without_seconds(again) == _without_seconds(said)
    assert asked > 0


def test_robust_asks_the_model_and_replays(fake: FakeModel, tmp_path: Path) -> None:
    common = ["--store", str(tmp_path / "r.duckdb"), "--llm-endpoint", fake.url]
    args = ["analyze", "robust", str(LEVER), "--runs", "4", "--samples", "1", "--json", *common]
    code, said = invoke(*args)
    assert code == 0, said
    assert fake.policy.requests > 0
    policies = {p["policy"]: p for p in json.loads(said)["groups"]["summit"]["policies"]}
    assert set(policies) == {"summit=little", "summit=much"}
    # each option's runs are the runs `redline run` makes with it: replayed, the same P(war)
    fake.reset()
    for option in ("little", "much"):
        code, ran = invoke(
            "run", str(LEVER), "--runs", "4", "--lever", f"summit={option}", "--json", *common
        )
        assert code == 0, ran
        p = policies[f"summit={option}"]["outcomes"]["war"]["p"]
        assert json.loads(ran)["outcomes"]["war"]["p"] == p
    assert fake.policy.requests == 0
    code, again = invoke(*args)
    assert code == 0 and fake.policy.requests == 0, again
    assert _without_seconds(again) == _without_seconds(said)


def test_game_with_the_model_as_a_player_replays(fake: FakeModel, tmp_path: Path) -> None:
    common = ["--store", str(tmp_path / "g.duckdb"), "--llm-endpoint", fake.url]
    args = ["analyze", "game", str(TINY), "--step", "1", "--decision", "RED=strike,own"]
    args += ["--runs", "3", "--json", *common]
    code, said = invoke(*args)
    assert code == 0, said
    assert fake.policy.requests > 0  # its own choices at the other steps, and under 'own'
    game = json.loads(said)["games"][0]
    assert [(p["id"], p["options"]) for p in game["players"]] == [("RED", ["strike", "own"])]
    assert len(game["profiles"]) == 2
    fake.reset()
    code, again = invoke(*args)
    assert code == 0 and fake.policy.requests == 0, again
    first, second = json.loads(said)["games"][0], json.loads(again)["games"][0]
    first.pop("seconds", None)
    second.pop("seconds", None)
    assert first == second


def test_discovery_draws_ask_the_model_and_replay(fake: FakeModel) -> None:
    """analyze discover's runs (PRIM itself is tested in tests/analysis): the model is asked for
    each drawn run, and the same draws again with the same cache ask nothing."""
    s = load_scenario(LEVER).scenario
    models = language_makers(s, endpoint(fake), MemoryCache())
    try:
        first = draws(s, "war", 10, params={"calm": (0.0, 0.3)}, makers=models)
        asked = fake.policy.requests
        again = draws(s, "war", 10, params={"calm": (0.0, 0.3)}, makers=models)
    finally:
        for m in models.values():
            m.close()
    assert asked > 0 and fake.policy.requests == asked
    assert np.array_equal(first[1], again[1]) and np.array_equal(first[2], again[2])
    assert len(set(first[1][:, 0].tolist())) == 10  # each run its own draw of calm


def test_sensitivity_points_ask_the_model_and_replay(fake: FakeModel) -> None:
    """analyze sensitivity's design points (the indices are tested in tests/analysis): each
    point's runs ask the model, and the same points again with the same cache ask nothing."""
    s = load_scenario(LEVER).scenario
    config = resolve(s, {}, None)
    fs = factors(s, config, {"calm": (0.0, 0.3)})
    values = np.array([[0.0], [0.15], [0.3]])
    models = language_makers(s, endpoint(fake), MemoryCache())
    try:
        first = point_hits(s, config, fs, values, ["war"], runs_per_point=3, seed=1, makers=models)
        asked = fake.policy.requests
        again = point_hits(s, config, fs, values, ["war"], runs_per_point=3, seed=1, makers=models)
    finally:
        for m in models.values():
            m.close()
    assert asked > 0 and fake.policy.requests == asked
    assert np.array_equal(first, again) and first.shape == (3, 1)


def test_score_refuses_a_language_model_and_says_why() -> None:
    with pytest.raises(UserError, match=r"actor RED .* scoring cannot run: its particle filter"):
        score(load_scenario(TINY).scenario, particles=100, replicates=2)
