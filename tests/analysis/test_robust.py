"""Robust levers on a scenario with a known answer: in each world the outcome's probability is a
known function of the lever option and the uncertainty (flexible p = u, steady 0.3, mixed
0.3 + 0.2u), so every probability, regret, the minimax-regret option and the satisficing shares
are checked against their exact values; then the command line (JSON, report, bad input)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from redline.analysis.robust import Robustness, robust_levers
from redline.cli import app

POLICIES = Path(__file__).parent / "games" / "policies.yaml"
RUNS = 2000
THRESHOLD = 0.35


def exact(option: str, u: float) -> float:
    return {"flexible": u, "steady": 0.3, "mixed": 0.3 + 0.2 * u}[option]


def slack(p: float) -> float:
    """4.5 standard errors of a proportion p over RUNS runs (and a floor for p near 0 or 1)."""
    return 4.5 * math.sqrt(max(p * (1 - p), 1e-4) / RUNS)


@pytest.fixture(scope="module")
def robust() -> Robustness:
    return robust_levers(POLICIES, threshold=THRESHOLD, samples=6, runs=RUNS, seed=4, threads=2)


def _truth(r: Robustness) -> tuple[list[str], np.ndarray]:
    options = [p.levers["policy"] for p in r.policies]
    p = np.array([[exact(o, dict(w.values)["u"]) for w in r.worlds] for o in options])
    return options, p


def test_worlds_are_each_lens_times_the_samples(robust: Robustness) -> None:
    assert [w.lens for w in robust.worlds] == ["wide"] * 6 + ["narrow"] * 6
    wide = sorted(dict(w.values)["u"] for w in robust.worlds[:6])
    narrow = [dict(w.values)["u"] for w in robust.worlds[6:]]
    # a Latin hypercube: one point in each sixth of the range, the lens's own range for narrow
    assert [int(6 * u) for u in wide] == list(range(6))
    assert all(0.4 <= u <= 0.6 for u in narrow)
    assert robust.outcome == "harm"  # the first absorbing outcome


def test_probabilities_and_regret_match_the_exact_values(robust: Robustness) -> None:
    _, p = _truth(robust)
    lo, hi = robust.p_interval
    assert np.all(np.abs(robust.p - p) <= np.vectorize(slack)(p))
    assert np.all((lo <= robust.p) & (robust.p <= hi))
    best = p.min(axis=0)
    regret = p - best
    assert np.all(np.abs(robust.regret[:, :, 0] - regret) <= np.vectorize(slack)(regret) + 1e-12)
    # the best option in each world is the exact best (common random numbers keep the order)
    assert np.array_equal(robust.best, p == best)
    assert np.all(robust.regret[robust.best] == 0.0)
    assert np.all(robust.regret[:, :, 1] <= robust.regret[:, :, 0] + 1e-15)
    assert np.all(robust.regret[:, :, 0] <= robust.regret[:, :, 2] + 1e-15)


def test_minimax_regret_and_satisficing(robust: Robustness) -> None:
    options, p = _truth(robust)
    worst = (p - p.min(axis=0)).max(axis=1)
    assert options[int(np.argmin(worst))] == "steady"
    assert robust.policies[robust.minimax["policy"]].levers["policy"] == "steady"
    m = robust.max_regret
    assert np.all(np.abs(m[:, 0] - worst) <= 0.05)
    assert np.all((m[:, 1] <= m[:, 0]) & (m[:, 0] <= m[:, 2]))
    share, surely, possibly = robust.satisficing.T
    assert np.all((surely <= share) & (share <= possibly))
    # the estimated share agrees with the exact one in every world not within noise of the
    # threshold
    clear = np.abs(p - THRESHOLD) > np.vectorize(slack)(p)
    assert np.array_equal((robust.p < THRESHOLD)[clear], (p < THRESHOLD)[clear])
    assert share[options.index("steady")] == 1.0 == surely[options.index("steady")]
    table = robust.table.to_pylist()
    assert [row["policy"] for row in table if row["minimax"]] == ["policy=steady"]


def test_factorial_groups_every_combination() -> None:
    r = robust_levers(POLICIES, samples=2, runs=50, factorial=True, lenses=["wide"])
    assert r.groups == ["all"] and len(r.policies) == 3
    assert len(r.world_table) == 3 * 2


def _cli(*args: str) -> Any:
    return CliRunner().invoke(app, ["analyze", "robust", str(POLICIES), *args])


def test_cli_json_and_report(tmp_path: Path) -> None:
    report = tmp_path / "robust.html"
    result = _cli(
        "--runs", "200", "--samples", "3", "--threshold", "0.35", "--json", "--report", str(report)
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    group = data["groups"]["policy"]
    assert group["minimax_regret"] == "policy=steady"
    assert [p["policy"] for p in group["policies"]] == [
        "policy=flexible",
        "policy=steady",
        "policy=mixed",
    ]
    assert len(group["policies"][0]["worlds"]) == 6
    assert set(group["policies"][0]["outcomes"]) == {"harm", "calm"}
    page = report.read_text()
    assert "Regret in P(harm)" in page and "minimax regret" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--outcome", "doom"], "unknown outcome 'doom'"),
        (["--threshold", "1.5"], "threshold must be a probability between 0 and 1"),
        (["--levers", "nope"], "unknown lever 'nope'"),
        (["--levers", "policy", "--lever", "policy=steady"], "both examined and fixed"),
        (["--lens", "rosy"], "unknown lens 'rosy'"),
        (["--samples", "0"], "samples must be between 1 and 10,000"),
        (["--samples", "3000", "--runs", "100000"], "use fewer --runs or --samples"),
    ],
)
def test_cli_bad_input_is_one_clear_line(args: list[str], message: str) -> None:
    result = _cli("--runs", "5", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_python_api() -> None:
    import redline

    r = redline.robust(str(POLICIES), samples=2, runs=50, lenses=["wide"], seed=1)
    assert isinstance(r, redline.Robustness)
    assert r.table.column_names[:3] == ["group", "policy", "p"]
    with pytest.raises(TypeError, match="lenses must be a list of lens names"):
        redline.robust(str(POLICIES), lenses="wide")
    with pytest.raises(ValueError, match="threshold must be a probability"):
        redline.robust(str(POLICIES), threshold=0.0, runs=5)
