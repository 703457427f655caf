"""History scoring: the sequential Monte Carlo estimate of a record's probability against a closed
form and against counting, its invariance to how the particles are split and computed, the fit,
and the scores of published forecasts."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from score_support import DOWN, RECORD, UP, absorbed_within, day, exact, walk, write
from typer.testing import CliRunner

import redline
from redline.analysis.score import Score, replicate_seed
from redline.cli import app
from redline.stats import wilson_interval

PARTICLES = 20_000
REPLICATES = 8


@pytest.fixture(scope="module")
def walk_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write(walk(), tmp_path_factory.mktemp("walk"))


@pytest.fixture(scope="module")
def walk_score(walk_file: Path) -> Score:
    return redline.score(walk_file, particles=PARTICLES, replicates=REPLICATES, seed=3)


def _stable(sc: Score) -> dict[str, Any]:
    """The JSON form without timings."""
    data = sc.to_json()
    data.pop("seconds")
    for c in data["configurations"]:  # type: ignore[attr-defined]
        c.pop("seconds")
    return data


def test_log_likelihood_matches_the_closed_form(walk_score: Score) -> None:
    probability, _ = exact()
    x = walk_score.lenses[0]
    truth = math.log(probability)
    assert probability < 0.01  # a record counting would need many runs to see
    assert x.lo <= truth <= x.hi, (truth, x.loglik, x.lo, x.hi)
    sd = float(np.std(x.replicates, ddof=1))
    assert abs(x.loglik - truth) < 3 * sd / math.sqrt(REPLICATES)


def test_each_observation_given_the_record_before_it_matches(walk_score: Score) -> None:
    _, given = exact()
    x = walk_score.lenses[0]
    for fact, p in zip(x.facts, given, strict=True):
        assert abs(fact.p_given - p) < 0.03, (fact.id, fact.p_given, p)
    # the shares add up to the whole log-likelihood
    assert math.isclose(sum(f.log_given for f in x.facts), x.loglik, rel_tol=1e-9)


def test_counting_agrees_where_it_can(walk_score: Score) -> None:
    """Brute-force rejection: the share of unconditioned runs consistent with every
    observation, with its Wilson interval, holds the SMC estimate and the exact value."""
    probability, _ = exact()
    x = walk_score.lenses[0]
    hits = round(x.rejection_hits)
    lo, hi = wilson_interval(hits, x.rejection_runs, 0.999)
    assert hits > 50
    assert lo <= probability <= hi
    assert lo <= math.exp(x.loglik) <= hi


def test_observations_alone_match_the_chain(walk_score: Score) -> None:
    x = walk_score.lenses[0]
    alone = {f.id: f for f in x.facts}
    # no_top alone: not absorbed within 13 steps
    p = 1 - absorbed_within(13)
    lo, hi = wilson_interval(round(alone["no_top"].p_alone * PARTICLES), PARTICLES, 0.999)
    assert lo <= p <= hi


@pytest.mark.parametrize(
    "how",
    [
        {"chunk_size": 7_001, "threads": 1},
        {"chunk_size": 2_500, "threads": 3},
        {"chunk_size": 20_000, "threads": 1, "workers": 2},
    ],
    ids=["blocks", "threads", "workers"],
)
def test_same_result_however_it_is_split(walk_file: Path, how: dict[str, int]) -> None:
    one = redline.score(walk_file, particles=6_000, replicates=2, seed=5, chunk_size=6_000)
    other = redline.score(walk_file, particles=6_000, replicates=2, seed=5, **how)
    assert _stable(one) == _stable(other)


def test_the_backends_give_the_same_score(tmp_path: Path) -> None:
    path = write(walk(), tmp_path)
    kwargs: dict[str, Any] = {"particles": 150, "replicates": 2, "seed": 2}
    numpy = _stable(redline.score(path, backend="numpy", **kwargs))
    assert _stable(redline.score(path, backend="reference", **kwargs)) == {
        **numpy,
        "backend": "reference",
    }
    # the fused engine lacks the capability: the registry runs the populations on the kernel
    assert _stable(redline.score(path, backend="numba", **kwargs)) == {**numpy, "backend": "numba"}


def test_replicates_have_their_own_seeds() -> None:
    seeds = {replicate_seed(0, r) for r in range(50)} | {replicate_seed(1, r) for r in range(50)}
    assert len(seeds) == 100
    assert all(0 <= s < 2**63 for s in seeds)


def test_an_impossible_record_is_minus_infinity(tmp_path: Path) -> None:
    record = [
        *RECORD[:1],
        ("impossible", {"variable": "rung", "at": 3, "range": [3.5, 3.7]}),
    ]
    sc = redline.score(write(walk(record), tmp_path), particles=500, replicates=2)
    x = sc.lenses[0]
    assert x.loglik == -math.inf
    assert x.lost == (("impossible", 2),)
    assert x.fit is None
    assert sc.to_json()["configurations"][0]["loglik"] is None  # type: ignore[index]


def test_a_soft_range_weighs_by_distance(tmp_path: Path) -> None:
    """With a tolerance τ a run at distance d outside the range weighs exp(−½(d/τ)²): at step 0
    the rung is 1 with probability UP·(1 − DOWN), else 0; the range [1, 1] with τ = 0.5 gives
    weight 1 to rung 1 and exp(−2) to rung 0."""
    record = [("soft", {"variable": "rung", "at": 0, "range": [1, 1], "tolerance": 0.5})]
    sc = redline.score(write(walk(record), tmp_path), particles=40_000, replicates=2, seed=1)
    up = UP * (1 - DOWN)
    expected = up + (1 - up) * math.exp(-2.0)
    assert abs(math.exp(sc.lenses[0].loglik) - expected) < 0.01


def test_the_fit_moves_an_uncertainty_toward_the_record(tmp_path: Path) -> None:
    """The step up is uncertain; a record of a high rung pulls its posterior up."""
    data = walk(
        [("high_late", {"variable": "rung", "at": 8, "range": [3, 3]})],
        uncertainties=[
            {"id": "p_up", "distribution": {"kind": "uniform", "low": 0.1, "high": 0.6}}
        ],
        parameters=[{"id": "p_down", "value": 0.25, "assumption": "test"}],
    )
    sc = redline.score(write(data, tmp_path), particles=8_000, replicates=3, seed=4)
    fit = sc.lenses[0].fit
    assert fit is not None
    (p_up,) = fit.parameters
    assert p_up.name == "p_up"
    assert abs(p_up.prior_mean - 0.35) < 0.01
    assert p_up.mean > p_up.prior_mean + 0.05
    assert p_up.distinct > 100
    values = fit.lens["set"]["p_up"]["values"]
    assert values == sorted(values) and len(values) == 10
    assert all(0.1 <= v <= 0.6 for v in values)
    # what the record implies beyond it: the top is reached after step 8 more often than
    # before it (the rung was at 3 at step 8)
    (_, _, prior, after, later) = fit.outcomes[0]
    assert later == after  # the record ruled out reaching it before
    assert later > prior


def _forecast_walk() -> dict[str, Any]:
    data = walk()
    data["forecasts"] = [
        {
            "id": "early",
            "forecaster": "a test",
            "made": day(0),
            "question": "the top within 10 months",
            "outcome": "top",
            "by": day(9),
            "probability": 0.3,
            "resolved_by": "no_top",
            "evidence": ["log"],
        },
        {
            "id": "before",
            "forecaster": "another test",
            "made": "2023-10-15",
            "question": "the top within 6 months",
            "outcome": "top",
            "by": "2024-04-15",
            "range": [0.1, 0.2],
            "resolved_by": "no_top",
            "evidence": ["log"],
        },
        {
            "id": "later",
            "forecaster": "a third",
            "made": day(10),
            "question": "the event high by month 12",
            "event": "high",
            "by": day(11),
            "probability": 0.95,
            "evidence": ["log"],
        },
    ]
    return data


def test_forecasts_are_scored(tmp_path: Path) -> None:
    sc = redline.score(write(_forecast_walk(), tmp_path), particles=20_000, replicates=3, seed=2)
    early, before, later = sc.lenses[0].questions
    # made at the start: the model's probability is the chance of the top within 10 steps
    assert early.model_p is not None and early.model_lo is not None and early.model_hi is not None
    exact_p = absorbed_within(10)
    assert early.model_lo - 0.005 <= exact_p <= early.model_hi + 0.005
    assert early.resolved is False and early.model_resolved is False
    assert early.forecaster_brier == pytest.approx(0.09)
    assert early.forecaster_log == pytest.approx(math.log(0.7))
    assert early.model_brier == pytest.approx(early.model_p**2)
    assert early.model_log == pytest.approx(math.log(1 - early.model_p))
    assert not early.transposed
    # made before the scenario: transposed to six steps from the start; the range's middle
    assert before.transposed and "6 months" in before.covers
    assert before.forecaster_p == pytest.approx(0.15)
    assert before.model_p == pytest.approx(absorbed_within(6), abs=0.01)
    assert before.forecaster_brier == pytest.approx(0.15**2)
    # made at step 10, knowing the record before it (the rung at 9 was at most 2; high was seen):
    # "high by step 11" already happened in every particle consistent with the record
    assert later.model_p == pytest.approx(1.0)
    assert later.resolved is None and later.forecaster_brier is None
    table = sc.forecasts_table
    assert table.num_rows == 3
    assert table.column("forecaster_brier").to_pylist()[0] == pytest.approx(0.09)


def test_tables_and_json(walk_score: Score) -> None:
    assert walk_score.table.num_rows == 1
    assert walk_score.observations_table.num_rows == len(RECORD)
    data = walk_score.to_json()
    json.dumps(data)  # no infinities, nothing JSON cannot hold
    assert data["best"] == "no lens"


def test_lenses_get_bayes_factors(tmp_path: Path) -> None:
    data = walk(
        lenses=[
            {"id": "steady", "set": {"p_up": 0.35}, "assumption": "test"},
            {"id": "climbing", "set": {"p_up": 0.7}, "assumption": "test"},
        ]
    )
    sc = redline.score(write(data, tmp_path), particles=4_000, replicates=3, seed=1)
    assert [x.label for x in sc.lenses] == ["steady", "climbing"]
    assert sc.best().label == "steady"
    factors = {label: (bf, lo, hi) for label, _, bf, lo, hi in sc.bayes_factors()}
    assert factors["steady"][0] == 0.0
    truth = (math.log(exact()[0]) - math.log(exact(up=0.7)[0])) / math.log(10)
    bf, lo, hi = factors["climbing"]
    assert truth > 0.5
    assert lo - 0.1 <= truth <= hi + 0.1, (truth, bf, lo, hi)


def test_cli_prints_the_same_as_the_api(walk_file: Path) -> None:
    result = CliRunner().invoke(
        app, ["score", str(walk_file), "-n", "2000", "-r", "2", "--seed", "7", "--json"]
    )
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    printed.pop("seconds")
    for c in printed["configurations"]:
        c.pop("seconds")
    api = _stable(redline.score(walk_file, particles=2000, replicates=2, seed=7))
    assert printed == json.loads(json.dumps(api))
    table = CliRunner().invoke(app, ["score", str(walk_file), "-n", "500", "-r", "2"])
    assert table.exit_code == 0, table.output
    assert "log-likelihood" in table.stdout and "first_high" in table.stdout


def test_cli_errors_are_one_line(tmp_path: Path) -> None:
    plain = walk([])
    plain.pop("observations")
    path = write(plain, tmp_path)
    result = CliRunner().invoke(app, ["score", str(path)])
    assert result.exit_code == 2
    assert "has no observations" in result.stderr
    result = CliRunner().invoke(app, ["score", str(write(walk(), tmp_path)), "--particles", "0"])
    assert result.exit_code == 2
    assert "--particles must be between 1 and" in result.stderr
    assert "Traceback" not in result.output


def test_api_checks_its_arguments(walk_file: Path) -> None:
    with pytest.raises(redline.RedlineValueError, match=r"^replicates must be"):
        redline.score(walk_file, replicates=0)
    with pytest.raises(redline.RedlineTypeError, match=r"^lenses must be"):
        redline.score(walk_file, lenses="baseline")  # type: ignore[arg-type]
    with pytest.raises(redline.RedlineValueError, match=r"^lens: unknown lens"):
        redline.score(walk_file, lenses=["nope"])


def test_an_action_in_a_window(tmp_path: Path) -> None:
    """``A takes climb between [a, b]``: A climbs (a doctrine) at the end of every step the rung
    is at 3 or more, the step the walk is absorbed at the top included but not the steps after
    it; exact on the chain of (rung, climbed in the window yet)."""
    from score_support import TOP, step_matrix

    a, b = 4, 8
    record = [
        ("climbed", {"action": "climb", "actor": "A", "between": (a, b)}),
        ("after", {"variable": "rung", "at": 12, "range": [0, 2]}),
    ]
    data = walk(
        record,
        actions=[{"id": "climb", "actors": ["A"], "requires": "false", "tags": ["climb"]}],
        doctrines=[{"id": "climbs", "actor": "A", "when": "rung >= 3", "action": "climb"}],
    )
    P = step_matrix()
    v = np.zeros((TOP + 1, 2))
    v[0, 0] = 1.0
    for t in range(13):
        moved = np.zeros_like(v)
        for f in (0, 1):
            going = v[:TOP, f] @ P[:TOP]  # runs still going move (and may arrive at the top)
            for rung in range(TOP + 1):
                flag = 1 if (a <= t <= b and rung >= 3) else f
                moved[rung, flag] += going[rung]
            moved[TOP, f] += v[TOP, f]  # absorbed before: nothing happens
        v = moved
        if t == b:
            alone = v[:, 1].sum()
            v[:, 0] = 0.0
    v[3:, :] = 0.0
    joint = v.sum()
    sc = redline.score(write(data, tmp_path), particles=20_000, replicates=4, seed=8)
    x = sc.lenses[0]
    lo, hi = wilson_interval(round(x.facts[0].p_alone * 20_000), 20_000, 0.999)
    assert lo <= alone <= hi
    assert x.lo - 0.05 <= math.log(joint) <= x.hi + 0.05, (math.log(joint), x.loglik, x.lo, x.hi)
