"""A finished sweep run again does nothing; the same name with another specification is refused
until the stored experiment is deleted."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pytest
from experiment_support import (
    SPEC,
    Reference,
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

from redline import __version__
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


def test_a_resume_refused_only_for_another_redline_version_says_so(
    tmp_path: Path, finished: Path
) -> None:
    """The fingerprint includes the redline version: after an upgrade, the message names the
    versions rather than claiming the specification differs."""
    con = duckdb.connect(str(finished))
    con.execute("UPDATE experiments SET version = '0.0.1', fingerprint = '0123456789abcdef'")
    con.close()
    before = store_state(finished, "ref")
    store = ["--name", "ref", "--store", str(finished)]
    same, other = run_concurrently(
        [
            (["sweep", *SPEC, *store], tmp_path),
            (["sweep", *SPEC, "--lever", "nato_response=none", *store], tmp_path),
        ]
    )
    message = assert_refused(
        same[0],
        same[1],
        same[2],
        "'ref' already exists",
        f"made by redline 0.0.1; this is redline {__version__}",
        "only by the version that made it",
        "redline results delete ref",
    )
    assert "different specification" not in message
    assert_refused(other[0], other[1], other[2], "different specification or scenario")
    assert store_state(finished, "ref") == before
