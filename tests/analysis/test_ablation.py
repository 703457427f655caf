"""Ablation: switching a mechanism off under common random numbers, the paired intervals, and
the flags (inert mechanisms, aliased outcomes, identical lever options, unreached outcomes)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from statistics import NormalDist

import pytest
from ablation_support import HORIZON, P_SPARK, write_sparks
from typer.testing import CliRunner

import redline
from redline.analysis.ablation import Ablation, ablate
from redline.cli import app
from redline.cli.app import err, out
from redline.errors import RedlineValueError, UserError

RUNS = 4000


@pytest.fixture(scope="module")
def sparks(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sparks(tmp_path_factory.mktemp("sparks"))


@pytest.fixture(scope="module")
def result(sparks: Path) -> Ablation:
    return ablate(sparks, runs=RUNS, seed=1)


def test_mechanisms_listed(result: Ablation) -> None:
    assert [e.mechanism.id for e in result.effects] == ["rule:spark", "rule:noise", "rule:whisper"]
    assert [e.mechanism.path for e in result.effects] == [
        "rules.spark",
        "rules.noise",
        "rules.whisper",
    ]


def test_switching_off_a_rule_has_its_exact_effect(result: Ablation) -> None:
    spark = next(e for e in result.effects if e.mechanism.id == "rule:spark")
    sparked, echo, noisy = (spark.change(o) for o in ("sparked", "echo", "noisy"))
    # the outcome the rule alone produces: gone from every run
    assert sparked.ablated_p == 0.0
    assert sparked.diff == -sparked.base_p
    assert sparked.changed_runs == round(sparked.base_p * RUNS)
    # its baseline probability is 1 − (1 − p)^H, within four standard errors
    exact = 1 - (1 - P_SPARK) ** HORIZON
    assert abs(sparked.base_p - exact) < 4 * math.sqrt(exact * (1 - exact) / RUNS)
    # the paired interval: d = −hit in every run, so mean ± z·sd/√n
    p = sparked.base_p
    half = NormalDist().inv_cdf(0.975) * math.sqrt(RUNS * p * (1 - p) / (RUNS - 1) / RUNS)
    assert sparked.lo == pytest.approx(-p - half, abs=1e-12)
    assert sparked.hi == pytest.approx(-p + half, abs=1e-12)
    assert sparked.moved and echo.moved
    # an unrelated outcome: identical run by run (common random numbers), so exactly unchanged
    assert (noisy.diff, noisy.lo, noisy.hi, noisy.changed_runs) == (0.0, 0.0, 0.0, 0)
    assert noisy.ablated_p == noisy.base_p
    assert not noisy.moved


def test_inert_mechanism_flagged(result: Ablation) -> None:
    assert [m.id for m in result.inert] == ["rule:whisper"]
    whisper = next(e for e in result.effects if e.mechanism.id == "rule:whisper")
    assert whisper.inert and whisper.changed_runs == 0


def test_aliased_outcomes_flagged(result: Ablation) -> None:
    assert result.aliased == (("sparked", "echo"),)  # not (sparked, noisy); never hit: not aliased


def test_identical_lever_options_flagged(result: Ablation) -> None:
    assert result.identical_options == (("placebo", ("one", "two")),)
    assert dict(result.levers_examined) == {"dial": ("low", "high"), "placebo": ("one", "two")}


def test_unreached_outcome_flagged(result: Ablation) -> None:
    assert result.unreached == ("never",)


def test_findings_name_elements(result: Ablation) -> None:
    found = {(f.kind, f.element) for f in result.findings()}
    assert found == {
        ("inert", "rules.whisper"),
        ("aliased", "outcomes.sparked"),
        ("identical_options", "levers.placebo"),
        ("unreached", "outcomes.never"),
    }
    assert result.dominant_chains == ()  # each outcome's path is one event: no chain


def test_table_and_json(result: Ablation) -> None:
    table = result.table
    assert table.num_rows == 3 * 4
    assert table.column_names[:6] == [
        "mechanism",
        "kind",
        "name",
        "path",
        "outcome",
        "outcome_name",
    ]
    rows = table.to_pylist()
    row = next(r for r in rows if r["mechanism"] == "rule:spark" and r["outcome"] == "sparked")
    assert row["ablated_p"] == 0.0 and row["moved"] and not row["inert"]
    data = json.loads(json.dumps(result.to_json()))
    assert data["flags"]["inert"] == ["rule:whisper"]
    assert data["flags"]["aliased"] == [["sparked", "echo"]]
    assert data["flags"]["identical_lever_options"] == [
        {"lever": "placebo", "options": ["one", "two"]}
    ]
    assert data["flags"]["dominant_chains"] == []
    assert [p["path"] for p in data["top_paths"]["sparked"]] == ["rule spark fired"]
    spark = data["mechanisms"][0]
    assert spark["changes"]["sparked"]["p"] == 0.0


def test_same_result_for_any_thread_count(sparks: Path, result: Ablation) -> None:
    one = ablate(sparks, runs=RUNS, seed=1, threads=1, lever_options=False)
    three = ablate(sparks, runs=RUNS, seed=1, threads=3, chunk_size=700, lever_options=False)
    assert one.effects == three.effects == result.effects
    assert one.identical_options == () and one.levers_examined == ()


def test_under_a_lever_option(sparks: Path) -> None:
    high = ablate(sparks, runs=2000, seed=1, levers={"dial": "high"}, lever_options=False)
    assert high.levers == {"dial": "high", "placebo": "one"}
    exact = 1 - (1 - 0.6) ** HORIZON
    assert abs(high.baseline[0] - exact) < 4 * math.sqrt(exact * (1 - exact) / 2000)


def test_progress_reported(sparks: Path) -> None:
    seen: list[tuple[int, int, str]] = []
    ablate(sparks, runs=200, progress=lambda d, t, label: seen.append((d, t, label)))
    assert [d for d, _, _ in seen] == list(range(1, 7))
    assert {t for _, t, _ in seen} == {6}  # baseline, 3 mechanisms, 2 other lever options
    assert seen[0][2] == "baseline" and seen[1][2] == "rule:spark"


def test_errors_are_messages(sparks: Path) -> None:
    with pytest.raises(UserError, match="unknown lever 'nope'"):
        ablate(sparks, runs=10, levers={"nope": "x"})
    with pytest.raises(RedlineValueError, match=r"^runs must be"):
        redline.ablate(sparks, 0)
    with pytest.raises(RedlineValueError, match=r"^levers: unknown lever") as caught:
        redline.ablate(sparks, 10, levers={"nope": "x"})
    assert caught.value.parameter == "levers"


def test_python_api(sparks: Path) -> None:
    a = redline.ablate(sparks, 500, seed=2, lever_options=False)
    assert isinstance(a, redline.Ablation)
    assert a.runs == 500 and a.seed == 2
    assert "ablate" in dir(redline)


# -- the command line ----------------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    saved = [c._width for c in (out, err)]
    try:
        out.width = err.width = 200
        r = CliRunner(env={"NO_COLOR": "1"}).invoke(app, list(args))
    finally:
        out._width, err._width = saved
    return r.exit_code, r.stdout, r.stderr


def test_cli_json_agrees_with_the_function(sparks: Path) -> None:
    code, stdout, _ = _cli("ablate", str(sparks), "--runs", "2000", "--json")
    assert code == 0
    data = json.loads(stdout)
    expected = ablate(sparks, runs=2000).to_json()
    for key in ("mechanisms", "flags", "outcomes", "levers", "runs", "seed"):
        assert data[key] == expected[key], key


def test_cli_table(sparks: Path) -> None:
    code, stdout, _ = _cli("ablate", str(sparks), "--runs", "500", "--outcome", "sparked")
    assert code == 0
    assert "ablation of 3 mechanisms" in stdout
    whisper = next(line for line in stdout.splitlines() if "whisper" in line and "│" in line)
    assert "inert (no run changed)" in whisper
    spark = next(line for line in stdout.splitlines() if " spark " in line)
    assert "−" in spark  # a fall, in percentage points
    assert "aliased outcomes: sparked = echo" in stdout
    assert "identical lever options: placebo: one = two" in stdout
    assert "dominant chains (one path explains > 80% of an outcome's runs): none" in stdout


def test_validate_deep_warns(sparks: Path) -> None:
    code, stdout, stderr = _cli("validate", str(sparks), "--deep", "--runs", "500")
    assert code == 0, stderr
    support, *lines = stderr.strip().splitlines()
    # the test scenario's numbers cite nothing: validate says so first, deep check or not
    assert "warning: 7 values without support" in support
    assert len(lines) == 4
    assert any(
        line.startswith(f"{sparks}:") and "rules.whisper: warning: inert rule" in line
        for line in lines
    )
    assert any("outcomes.sparked: warning: aliased with outcomes.echo" in line for line in lines)
    assert any("levers.placebo: warning: options one, two give identical runs" in x for x in lines)
    assert "4 warnings from the deep check" in stdout
    code, _, stderr = _cli("validate", str(sparks))
    assert code == 0 and stderr.strip() == support


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--lever", "nope=x"), "error: unknown lever 'nope'"),
        (("--lever", "dial=max"), "error: lever 'dial': unknown option 'max'"),
        (("--lens", "hawk"), "error: unknown lens 'hawk'"),
        (("--runs", "0"), "error: --runs must be between 1"),
        (("--backend", "gpu"), "error: unknown backend 'gpu'"),
        (("--outcome", "nothing"), "error: --outcome: unknown outcome 'nothing'"),
    ],
)
def test_cli_errors_are_one_line(sparks: Path, args: tuple[str, ...], message: str) -> None:
    code, _, stderr = _cli("ablate", str(sparks), "--runs", "50", *args)
    assert code == 2
    assert stderr.strip().startswith(message)
    assert len(stderr.strip().splitlines()) == 1


def test_first_hits_identical_to_simulate(sparks: Path) -> None:
    """The baseline is the configuration simulate runs: same seed, same runs, same hits."""
    results = redline.simulate(sparks, 300, seed=4)
    a = ablate(sparks, runs=300, seed=4, lever_options=False)
    hits = [x.p for x in results.summary()]
    assert tuple(hits) == a.baseline
