"""Fitted action distributions and the power of the 10-run design: a fitted cell's expected
score is its logs' mean score; more runs per cell tell models apart more often."""

from __future__ import annotations

import numpy as np
import pytest
from escalaition_support import SUBSET_LOGS
from typer.testing import CliRunner

from redline.analysis.escalaition.fit import HOLD, fit_cells, points_distribution
from redline.analysis.escalaition.logs import RunLog, action_log_files, read_runs
from redline.analysis.escalaition.power import power_table, simulate_fitted
from redline.analysis.escalaition.scoring import MODES, day_scores, run_score
from redline.cli import app
from redline.errors import RedlineValueError


@pytest.fixture(scope="module")
def runs() -> list[RunLog]:
    return read_runs(action_log_files(SUBSET_LOGS))


def _cell(runs: list[RunLog], model: str) -> list[RunLog]:
    return [r for r in runs if r.name.model == model]


def test_a_fitted_cell_scores_on_average_what_its_runs_scored(runs: list[RunLog]) -> None:
    for model in ("Claude-2.0", "GPT-4-Base"):
        cell = _cell(runs, model)
        for mode in MODES:
            fit = points_distribution(cell, mode)
            expected = fit.mean_score()
            observed = np.mean([run_score(day_scores(r.rows, mode)) for r in cell])
            assert expected == pytest.approx(observed)
            drawn = simulate_fitted(fit, 10, 400, np.random.default_rng(1))
            assert drawn.shape == (400, 10)
            assert abs(drawn.mean() - observed) < 4 * drawn.std() / np.sqrt(drawn.size)


def test_utilities_play_the_logged_action_shares(runs: list[RunLog]) -> None:
    for fit in fit_cells(runs):
        q = fit.shares()
        assert sum(q.values()) == pytest.approx(1)
        total = sum(fit.counts.values())
        for action, count in fit.counts.items():
            assert q[action] == count / total
        # logit choice (lambda 1) with hold at utility 0 draws each action with its share
        w = {a: np.exp(v) for a, v in fit.utilities().items()}
        for action, share in q.items():
            assert w[action] / (1 + sum(w.values())) == pytest.approx(share, abs=2 * HOLD)
        assert 1 / (1 + sum(w.values())) < 2 * HOLD


def test_more_runs_per_cell_more_power(runs: list[RunLog]) -> None:
    few = power_table(runs, mode="corrected", runs=2, studies=300, seed=1)
    many = power_table(runs, mode="corrected", runs=10, studies=300, seed=1)
    [a], [b] = few, many
    assert (a.a, a.b, a.situation) == ("Claude-2.0", "GPT-4-Base", "Cyberattack")
    assert a.difference < 0 and a.difference == pytest.approx(b.difference)
    assert a.power < b.power
    resampled = power_table(runs, method="resample", runs=10, studies=300, seed=1)
    assert 0 <= resampled[0].power <= 1 and resampled[0].studies == 300


def test_bad_arguments_say_which(runs: list[RunLog]) -> None:
    with pytest.raises(RedlineValueError, match="runs must be between 2"):
        power_table(runs, runs=1)
    with pytest.raises(RedlineValueError, match="studies must be between 1"):
        power_table(runs, studies=0)


def test_cli_power_table_and_its_errors() -> None:
    runner = CliRunner()
    result = runner.invoke(
        app, ["escalation-power", str(SUBSET_LOGS), "--studies", "200", "--mode", "corrected"]
    )
    assert result.exit_code == 0, result.output
    assert "Claude-2.0 vs GPT-4-Base" in result.output and "power (resample)" in result.output
    result = runner.invoke(app, ["escalation-power", str(SUBSET_LOGS), "--model", "GPT-5"])
    assert result.exit_code == 2 and "no runs of 'GPT-5'" in result.output
    result = runner.invoke(app, ["escalation-power", str(SUBSET_LOGS), "--mode", "loose"])
    assert result.exit_code == 2 and "--mode must be one of" in result.output
