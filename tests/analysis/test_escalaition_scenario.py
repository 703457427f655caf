"""The built-in escalaition scenario: its lenses play the action distributions fitted from the
published logs (checked against a fresh fit where the logs are present), its runs' escalation
scores are read from their counters, and the language-model variant validates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from escalaition_support import FULL_LOGS, REPO, need_full_set
from typer.testing import CliRunner

import redline
from redline.analysis.escalaition.fit import (
    fit_cells,
    lens_parameters,
    rate_parameter,
    utility_parameter,
)
from redline.analysis.escalaition.logs import action_log_files, read_runs
from redline.analysis.escalaition.runs import COUNTED, run_scores
from redline.analysis.escalaition.scoring import row_points
from redline.cli import app
from redline.errors import UserError
from redline.scenario.model import Scenario

RUNS = 150


@pytest.fixture(scope="module")
def scenario() -> Scenario:
    return redline.load("escalaition")


def test_the_lenses_are_the_fit_of_the_published_logs(scenario: Scenario) -> None:
    need_full_set()
    fitted = lens_parameters(fit_cells(read_runs(action_log_files(FULL_LOGS))))
    shipped = {lens.id: dict(lens.set) for lens in scenario.lenses}
    assert shipped == fitted


def _expected_score(scenario: Scenario, lens: str, situation: str, mode: str) -> float:
    """The mean run score the lens implies: a nation-day draws action a with chance
    exp(u_a) / (1 + Σ exp(u)) (hold otherwise) and scores m × its points."""
    values = next(x for x in scenario.lenses if x.id == lens).set
    w = {a: np.exp(float(values[utility_parameter(situation, a.id)])) for a in COUNTED}  # type: ignore[arg-type]
    total = 1 + sum(w.values())
    m = float(values[rate_parameter(situation)])  # type: ignore[arg-type]
    return m * sum(w[a] / total * row_points(a.name, mode) for a in w)  # type: ignore[arg-type]


def test_runs_score_what_the_fitted_distribution_implies(scenario: Scenario) -> None:
    results = redline.simulate(
        scenario, RUNS, seed=3, lens="gpt_3_5", levers={"situation": "invasion"}, threads=1
    )
    for mode in ("compat", "names", "corrected"):
        scores = run_scores(results.table, mode)  # type: ignore[arg-type]
        expected = _expected_score(scenario, "gpt_3_5", "invasion", mode)
        se = scores.std(ddof=1) / np.sqrt(RUNS)
        assert abs(scores.mean() - expected) < 4 * se, mode
    # compat scores the occupation as 0, as their files do; names does not
    occupied = results.table["final.n_occupy_border_city"].to_numpy()
    gap = run_scores(results.table, "names") - run_scores(results.table, "compat")
    m = next(x for x in scenario.lenses if x.id == "gpt_3_5").set[rate_parameter("invasion")]
    assert gap == pytest.approx(occupied * 28 * m / (14 * 8))
    # one action a nation-day
    counted = sum(results.table[f"final.n_{a.id}"].to_numpy() for a in COUNTED)
    assert (counted <= 14 * 8).all() and counted.mean() > 14 * 8 - 0.01


def test_the_situation_lever_changes_the_play(scenario: Scenario) -> None:
    means = {
        s: _expected_score(scenario, "claude_2_0", s, "corrected")
        for s in ("neutral", "invasion", "cyberattack")
    }
    assert len({round(m, 6) for m in means.values()}) == 3


def test_scores_of_runs_that_are_not_escalaition_are_refused() -> None:
    results = redline.simulate("convoy-strike", 5, threads=1)
    with pytest.raises(UserError, match="not runs of the escalaition scenario"):
        run_scores(results.table, "compat")


def test_cli_scores_the_scenario_runs() -> None:
    runner = CliRunner()
    args = ["score-escalation", "escalaition", "--runs", "20", "--lens", "claude_1_2", "--json"]
    result = runner.invoke(app, [*args, "--lever", "situation=neutral"])
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)["rows"]
    assert row["lens"] == "claude_1_2" and row["situation"] == "neutral"
    lo, hi = row["corrected"]["t_interval"]
    assert lo <= row["corrected"]["mean"] <= hi
    result = runner.invoke(app, ["score-escalation", "convoy-strike", "--runs", "5"])
    assert result.exit_code == 2 and "not the escalaition scenario" in result.output


def test_the_language_model_variant_validates_and_asks_for_an_endpoint() -> None:
    variant = REPO / "examples" / "escalaition-llm.yaml"
    s = redline.load(variant)
    assert {a.decision.kind for a in s.actors} == {"llm"}
    assert {a.id for a in s.actions} == {a.id for a in COUNTED}
    with pytest.raises(UserError, match="endpoint"):
        redline.simulate(s, 1, threads=1)
    assert Path(variant).read_text().count("persona:") == 8
