"""Sampling plans for the uncertainties: Latin hypercube, Sobol, grid (fixed per design point and
exported as ``param.<name>``) and per-run draws (common random numbers across configurations).

convoy-strike has one uncertainty, ``nuclear_threshold`` ~ uniform(−0.9, −0.5), not replaced by
either lens."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from experiment_support import (
    SCENARIO,
    Reference,
    assert_ok,
    read_export,
    redline,
    run_concurrently,
)

from redline.analysis.compare import difference
from redline.experiment.design import sobol_note
from redline.experiment.store import Store
from redline.scenario.loader import load_scenario

LOW, HIGH = -0.9, -0.5
PARAM = "param.nuclear_threshold"
CONFIGS = [("none", "baseline"), ("collective", "baseline")]
RUNS = 40
SAMPLES = {"lhs:5": 5, "sobol:4": 4, "grid": 3}


@pytest.fixture(scope="module")
def sampled(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, pa.Table]]:
    """The three sampled sweeps (two configurations each), run at once; their Parquet
    exports."""
    where = tmp_path_factory.mktemp("sampling")
    commands = []
    for sample in SAMPLES:
        name = sample.replace(":", "")
        commands.append(
            (
                [
                    "sweep",
                    SCENARIO,
                    "--name",
                    name,
                    "--sample",
                    sample,
                    "--runs",
                    str(RUNS),
                    "--chunk-size",
                    str(RUNS),
                    "--seed",
                    "11",
                    "--lever",
                    "nato_response=none",
                    "--lever",
                    "nato_response=collective",
                    "--lens",
                    "baseline",
                    "--store",
                    str(where / f"{name}.duckdb"),
                ],
                where,
            )
        )
    out = {}
    for sample, (rc, stdout, stderr, _) in zip(SAMPLES, run_concurrently(commands), strict=True):
        assert rc == 0, f"{sample}: exit {rc}\n{stdout}\n{stderr}"
        assert "Traceback" not in stderr
        name = sample.replace(":", "")
        store = Store(where / f"{name}.duckdb")
        exported = where / f"{name}.parquet"
        store.export(name, "parquet", exported)
        out[sample] = (where / f"{name}.duckdb", read_export(exported))
    return out


def _values_by_config(db: Path, sample: str, table: pa.Table) -> dict[tuple[str, str], list[float]]:
    """Per configuration: the fixed value of each of its design points, checked against the
    stored point records and the exported rows."""
    name = sample.replace(":", "")
    points = Store(db).points(name)
    assert len(points) == len(CONFIGS) * SAMPLES[sample]
    assert table.column_names.count(PARAM) == 1
    out: dict[tuple[str, str], list[float]] = {}
    for pt in points:
        rows = table.filter(pc.equal(table.column("point"), pt["point"]))
        assert rows.num_rows == RUNS
        assert rows.column("run").to_pylist() == list(range(RUNS))
        values = set(rows.column(PARAM).to_pylist())
        assert len(values) == 1, "a fixed uncertainty is the same in every run of a point"
        (value,) = values
        assert pt["fixed"] == {"nuclear_threshold": value}
        config = (pt["levers"]["nato_response"], pt["lens"])
        assert set(rows.column("lever.nato_response").to_pylist()) == {config[0]}
        assert set(rows.column("lens").to_pylist()) == {config[1]}
        out.setdefault(config, []).append(value)
    assert sorted(out) == sorted(CONFIGS)
    return out


@pytest.mark.parametrize("sample", ["lhs:5", "sobol:4"])
def test_space_filling_designs_are_stratified(
    sampled: dict[str, tuple[Path, pa.Table]], sample: str
) -> None:
    """K points per configuration inside the support; each of K equal-probability strata holds
    exactly one point (Latin hypercube; a scrambled Sobol sequence of 2^m points in one
    dimension)."""
    db, table = sampled[sample]
    k = SAMPLES[sample]
    for config, values in _values_by_config(db, sample, table).items():
        assert len(values) == k, config
        u = (np.array(values) - LOW) / (HIGH - LOW)  # the uniform's CDF
        assert ((u > 0) & (u < 1)).all(), (config, values)
        assert sorted(np.floor(u * k).astype(int).tolist()) == list(range(k)), (config, values)


def test_grid_uses_the_10th_50th_90th_percentiles(
    sampled: dict[str, tuple[Path, pa.Table]],
) -> None:
    db, table = sampled["grid"]
    for config, values in _values_by_config(db, "grid", table).items():
        np.testing.assert_allclose(
            sorted(values), [-0.86, -0.7, -0.54], atol=1e-12, err_msg=str(config)
        )


def test_fixed_designs_are_recorded_in_the_experiment(
    sampled: dict[str, tuple[Path, pa.Table]],
) -> None:
    for sample, (db, _) in sampled.items():
        record = Store(db).get(sample.replace(":", ""))
        assert record is not None
        assert record.spec.sample == sample
        assert record.points == len(CONFIGS) * SAMPLES[sample]
        assert record.runs == record.points * RUNS
        assert record.status == "done"


def test_per_run_draws_are_common_random_numbers(reference: Reference) -> None:
    """per_run: every run draws its own value, and run i draws the same value in every
    configuration."""
    table = reference.table
    assert table.column_names.count(PARAM) == 1
    values = np.array(table.column(PARAM).to_pylist()).reshape(8, 1000)  # point × run
    runs = np.array(table.column("run").to_pylist()).reshape(8, 1000)
    assert (runs == np.arange(1000)).all()
    assert ((values > LOW) & (values < HIGH)).all()
    assert len(np.unique(values[0])) == 1000  # differ across runs
    assert (values == values[0]).all()  # identical across the 8 configurations
    # and roughly uniform: 1000 draws, each tenth of the support holds 100 ± 45
    counts = np.bincount(np.floor((values[0] - LOW) / (HIGH - LOW) * 10).astype(int), minlength=10)
    assert counts.min() > 55 and counts.max() < 145, counts
    points = Store(reference.store).points("ref")
    assert all(json.dumps(pt["fixed"]) == "{}" for pt in points)


def test_compare_pools_the_sampled_points_of_each_configuration(
    sampled: dict[str, tuple[Path, pa.Table]], tmp_path: Path
) -> None:
    """`redline compare` on a Latin hypercube sweep: one comparison per outcome, each over the
    runs of all five sampled points of both options (never one sampled point against
    another)."""
    db, table = sampled["lhs:5"]
    proc = redline("compare", "lhs5", "--store", str(db), cwd=tmp_path)
    assert_ok(proc)
    outcomes = load_scenario(SCENARIO).scenario.outcomes
    rows = [
        tuple(cell.strip() for cell in line.split("│")[1:-1])
        for line in proc.stdout.splitlines()
        if line.startswith("│")
    ]

    def hits(option: str, outcome: str) -> tuple[int, int]:
        runs = table.filter(pc.equal(table.column("lever.nato_response"), option))
        return runs.num_rows - runs.column(f"first.{outcome}").null_count, runs.num_rows

    expected = []
    for o in outcomes:
        collective, none = hits("collective", o.id), hits("none", o.id)
        d = difference(o.label, "collective", *collective, "none", *none)
        expected.append(
            (
                o.label,
                "collective (lens=baseline; pooled over 5 sampled points)",
                "none",
                f"{d.p_a:.1%}",
                f"{d.p_b:.1%}",
                f"{d.diff:+.1%} [{d.lo:+.1%}, {d.hi:+.1%}]",
            )
        )
    assert rows == expected
    assert hits("none", outcomes[0].id)[1] == 5 * RUNS


def test_sobol_with_a_number_of_points_not_a_power_of_two_is_noted_once(tmp_path: Path) -> None:
    """scipy's own warning is not shown; redline says it once, in its words."""
    proc = redline(
        "sweep",
        SCENARIO,
        "--name",
        "s5",
        "--sample",
        "sobol:5",
        "--runs",
        "10",
        "--chunk-size",
        "10",
        "--lens",
        "baseline",
        "--store",
        str(tmp_path / "s5.duckdb"),
        cwd=tmp_path,
    )
    assert_ok(proc)
    assert "Warning" not in proc.stderr
    assert "balance properties" not in proc.stderr
    text = " ".join(proc.stderr.split())
    assert text.count("note: sample sobol:5:") == 1, proc.stderr
    assert "power of 2" in text
    assert "sobol:4 or sobol:8" in text
    record = Store(tmp_path / "s5.duckdb").get("s5")
    assert record is not None
    assert record.points == 5 * 4  # four lever options under one lens


@pytest.mark.parametrize("sample", ["sobol:1", "sobol:4", "sobol:64", "lhs:5", "grid", "per_run"])
def test_no_note_for_sobol_powers_of_two_and_other_samples(sample: str) -> None:
    assert sobol_note(sample) is None
