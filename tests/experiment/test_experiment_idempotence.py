"""A finished sweep run again does nothing; the same name with another specification is refused
until the stored experiment is deleted."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.compute as pc
import pytest
from conftest import Reference
from experiment_support import (
    SPEC,
    assert_ok,
    assert_refused,
    assert_same_rows,
    flat,
    planned_units,
    redline,
    run_concurrently,
    store_state,
    wait_snapshot,
)

from redline.experiment.store import Store


@pytest.fixture
def finished(tmp_path: Path, reference: Reference) -> Path:
    """A copy of the reference store: experiment ``ref``, done."""
    db = tmp_path / "store.duckdb"
    shutil.copy(reference.store, db)
    assert not reference.store.with_name(reference.store.name + ".wal").exists()
    return db


def test_rerunning_a_finished_sweep_changes_nothing(tmp_path: Path, finished: Path) -> None:
    before = store_state(finished, "ref")
    assert before["experiment"], "the reference experiment is stored"
    proc = redline("sweep", *SPEC, "--name", "ref", "--store", str(finished), cwd=tmp_path)
    assert_ok(proc)
    assert "'ref' is already complete" in flat(proc.stdout)
    assert "nothing to do" in flat(proc.stdout)
    after = store_state(finished, "ref")
    assert after["results"] == before["results"]
    assert after["units"] == before["units"]  # unit timings and completion times
    assert after["occupancy"] == before["occupancy"]
    assert after["points"] == before["points"]
    # the experiment row: status, created, finished, seconds of simulation, ...
    (row_before,), (row_after,) = before["experiment"], after["experiment"]
    changed = {k: (v, row_after[k]) for k, v in row_before.items() if row_after[k] != v}
    assert changed == {}


def test_same_name_with_another_spec_is_refused_until_deleted(
    tmp_path: Path, finished: Path, reference: Reference
) -> None:
    before = store_state(finished, "ref")
    store = ["--name", "ref", "--store", str(finished)]
    changed = {
        "runs": ["convoy-strike", "--runs", "200", "--chunk-size", "500", "--seed", "7"],
        "seed": ["convoy-strike", "--runs", "1000", "--chunk-size", "500", "--seed", "8"],
        "lever": [*SPEC, "--lever", "nato_response=none"],
    }
    results = run_concurrently([(["sweep", *args, *store], tmp_path) for args in changed.values()])
    for rc, out, err, _ in results:
        assert_refused(
            rc,
            out,
            err,
            "'ref' already exists",
            "different specification",
            "redline results delete ref",
        )
    assert store_state(finished, "ref") == before

    assert_ok(redline("results", "delete", "ref", "--store", str(finished), cwd=tmp_path))
    assert Store(finished).experiments() == []
    proc = redline("sweep", *changed["runs"], *store, cwd=tmp_path)
    assert_ok(proc)
    assert "resumed" not in proc.stdout
    snap = wait_snapshot(finished, "ref")
    snap.assert_whole()
    assert snap.status == "done"
    assert set(snap.units) == planned_units(runs=200)
    # the same run indices give the same rows (common random numbers across run counts)
    first_runs = reference.table.filter(pc.less(reference.table.column("run"), 200))
    assert_same_rows(Store(finished).results("ref"), first_runs)
