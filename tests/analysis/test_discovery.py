"""Scenario discovery through redline's own pipeline: PRIM and CART recover a box planted in a
scenario (the outcome fires exactly when 0.2 < a < 0.6 and b > 0.7; c does nothing), the
trajectory's statistics are what the draws say, a ranged parameter is discovered like an
uncertainty, an outcome without cases of interest is a clear error, and ``redline analyze
discover`` prints the box as JSON and writes its report (here, beside the other PRIM tests: EMA
Workbench takes seconds to import, once per test process)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from redline.analysis.discovery import Discovery, choose, discover, draws
from redline.cli import app
from redline.errors import RedlineValueError
from redline.scenario.loader import load_scenario
from redline.scenario.model import Scenario

DATA = Path(__file__).parent / "data"
PLANTED = {"a": (0.2, 0.6), "b": (0.7, 1.0)}
RUNS = 6_000


@pytest.fixture(scope="module")
def box() -> Scenario:
    return load_scenario(DATA / "planted-box.yaml").scenario


@pytest.fixture(scope="module")
def found(box: Scenario) -> Discovery:
    return discover(box, "inside", RUNS, seed=5)


def limits(d: Discovery) -> dict[str, dict[str, object]]:
    return {r["factor"]: r for r in d.box.to_pylist()}


def test_prim_recovers_the_planted_box(found: Discovery) -> None:
    got = limits(found)
    for name, (lo, hi) in PLANTED.items():
        assert got[name]["restricted"], name
        assert got[name]["lower"] == pytest.approx(lo, abs=0.03), name
        assert got[name]["upper"] == pytest.approx(hi, abs=0.03), name
    assert not got["c"]["restricted"]
    stats = found.chosen_stats
    assert stats["coverage"] > 0.95 and stats["density"] > 0.9
    assert stats["restricted"] == 2
    assert found.base_rate == pytest.approx(0.4 * 0.3, abs=0.01)
    assert found.findings() == []


def test_the_trajectory_counts_what_the_draws_say(box: Scenario, found: Discovery) -> None:
    """Each box's runs and hits are the draws inside its limits (recounted here), and its
    coverage, density and mass follow from them."""
    fs, x, y = draws(box, "inside", RUNS, seed=5)
    assert [f.name for f in fs] == ["a", "b", "c"] and int(y.sum()) == found.hits
    rows = limits(found)
    inside = np.ones(len(y), dtype=bool)
    for j, f in enumerate(fs):
        inside &= (x[:, j] >= rows[f.name]["lower"]) & (x[:, j] <= rows[f.name]["upper"])
    chosen = found.chosen_stats
    assert chosen["runs"] == int(inside.sum()) and chosen["hits"] == int(y[inside].sum())
    for r in found.trajectory.to_pylist():
        assert r["coverage"] == pytest.approx(r["hits"] / found.hits)
        assert r["density"] == pytest.approx(r["hits"] / r["runs"])
        assert r["mass"] == pytest.approx(r["runs"] / RUNS)
    first = found.trajectory.to_pylist()[0]
    assert first["mass"] == 1.0 and first["coverage"] == 1.0


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)), min_size=1, max_size=30),
    st.one_of(st.none(), st.floats(0.01, 1.0)),
)
def test_the_box_chosen_is_the_widest_that_dense_or_the_best_balance(
    path: list[tuple[float, float]], min_density: float | None
) -> None:
    coverage = np.array([c for c, _ in path])
    density = np.array([d for _, d in path])
    if min_density is not None and not (density >= min_density).any():
        with pytest.raises(RedlineValueError, match="no box on PRIM's trajectory is that dense"):
            choose(coverage, density, min_density)
        return
    i = choose(coverage, density, min_density)
    if min_density is None:
        f1 = 2 * coverage * density / np.maximum(coverage + density, 1e-300)
        assert f1[i] == f1.max()
    else:
        assert density[i] >= min_density
        assert coverage[i] == coverage[density >= min_density].max()


def test_min_density_one_takes_the_widest_pure_box(box: Scenario, found: Discovery) -> None:
    """On the planted box, density 1 (no run outside the outcome) is reached: the widest such
    box is chosen."""
    path = found.trajectory.to_pylist()
    pure = [r for r in path if r["density"] == 1.0]
    assert pure
    i = choose(np.array([r["coverage"] for r in path]), np.array([r["density"] for r in path]), 1.0)
    assert path[i]["coverage"] == max(r["coverage"] for r in pure)


def test_cart_finds_the_same_box(found: Discovery) -> None:
    leaf = found.leaves.to_pylist()[0]
    assert leaf["density"] > 0.99 and leaf["coverage"] > 0.99
    for name, (lo, hi) in PLANTED.items():
        assert leaf[f"lower.{name}"] == pytest.approx(lo, abs=0.01), name
        assert leaf[f"upper.{name}"] == pytest.approx(hi, abs=0.01), name
    assert leaf["lower.c"] < 0.01 and leaf["upper.c"] > 0.99
    assert "b > 0.7" in leaf["rule"] and " < a ≤ " in leaf["rule"] and "c" not in leaf["rule"]
    assert sum(r["runs"] for r in found.leaves.to_pylist()) == RUNS


def test_a_ranged_parameter_is_discovered_like_an_uncertainty(box: Scenario) -> None:
    """The gate parameter, ranged 0–1, switches the outcome off below 0.5: PRIM restricts it."""
    d = discover(box, "inside", 4_000, seed=1, params={"gate": (0.0, 1.0)})
    gate = limits(d)["gate"]
    assert gate["restricted"] and gate["lower"] == pytest.approx(0.5, abs=0.05)
    assert d.to_json()["factors"][-1] == {
        "name": "gate",
        "kind": "parameter",
        "distribution": "uniform(low=0, high=1)",
    }


def test_an_outcome_spread_evenly_is_said_to_concentrate_weakly_at_most(box: Scenario) -> None:
    """With only c as a factor (a and b drawn but not examined), the outcome is spread evenly
    over it, and the finding says so."""
    d = discover(box, "inside", 4_000, seed=2, uncertainties=["c"], mass_min=0.2)
    assert any("concentrates at most weakly" in line for line in d.findings()), d.findings()


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "160"}).invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_the_command_prints_the_box_as_json_and_writes_a_report(tmp_path: Path) -> None:
    report = tmp_path / "prim.html"
    planted = str(DATA / "planted-box.yaml")
    code, stdout, stderr = invoke(
        "analyze", "discover", planted, "--outcome", "inside", "--runs", "2000", "--json",
        "--report", str(report),
    )  # fmt: skip
    assert code == 0, stdout + stderr
    body = json.loads(stdout)
    limits = {r["factor"]: r for r in body["box"]["limits"]}
    assert limits["a"]["restricted"] and limits["b"]["restricted"]
    assert not limits["c"]["restricted"]
    assert body["box"]["coverage"] > 0.9 and body["cart"]["leaves"][0]["density"] > 0.95
    page = report.read_text(encoding="utf-8")
    assert "PRIM peeling trajectory" in page and "CART leaves" in page


def test_an_outcome_never_reached_is_a_clear_error(box: Scenario) -> None:
    with pytest.raises(RedlineValueError, match="reached in 0 of 1,000 runs"):
        discover(box, "inside", 1_000, params={"gate": (0.0, 0.4)})


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({"outcome": "outside"}, "outcome: unknown outcome 'outside'"),
        ({"min_density": 1.5}, "min_density must be in"),
        ({"mass_min": 0.0}, "mass_min must be in"),
        ({"peel_alpha": 0.7}, "peel_alpha must be in"),
        ({"cart_depth": 0}, "cart_depth must be between 1 and 10"),
        ({"runs": 0}, "runs must be between"),
    ],
)
def test_bad_arguments_say_what_is_wrong(
    box: Scenario, kwargs: dict[str, object], said: str
) -> None:
    args: dict[str, object] = {"outcome": "inside", "runs": 100, **kwargs}
    with pytest.raises(RedlineValueError, match=said):
        discover(box, **args)  # type: ignore[arg-type]
