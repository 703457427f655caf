"""Sweeps writing to one store at the same time: all succeed (they take turns with the file),
or some are refused with a clear message; the store stays whole and correct."""

from __future__ import annotations

from pathlib import Path

from experiment_support import (
    HALF,
    SPEC,
    Reference,
    assert_refused,
    assert_same_rows,
    planned_units,
    run_concurrently,
    wait_snapshot,
    where_point_below,
)

from redline.experiment.store import Store


def test_sweeps_into_one_store_at_once(tmp_path: Path, reference: Reference) -> None:
    """Two different experiments, and the second one twice over (the same name and spec: the
    two processes race for the same units, and a unit committed twice must be kept once)."""
    db = tmp_path / "shared.duckdb"
    sweeps = [
        # the whole reference experiment under another name: 8 points
        ("one", ["sweep", *SPEC, "--name", "one", "--store", str(db)], 8),
        # half of it, the reference's design points 0..3, by two processes at once
        ("two", ["sweep", *SPEC, *HALF, "--name", "two", "--store", str(db)], 4),
        ("two", ["sweep", *SPEC, *HALF, "--name", "two", "--store", str(db)], 4),
    ]
    results = run_concurrently([(args, tmp_path) for _, args, _ in sweeps])
    succeeded = {}
    for (name, _, points), (rc, out, err, _) in zip(sweeps, results, strict=True):
        if rc == 0:
            assert "Traceback" not in err, err
            assert f"experiment '{name}'" in out
            succeeded[name] = points
        else:
            assert_refused(rc, out, err, "is held by another")
    assert succeeded, f"every sweep was refused: {results}"

    store = Store(db)
    listed = {r.name: r for r in store.experiments()}  # the store opens
    for name, points in succeeded.items():
        assert listed[name].status == "done"
        snap = wait_snapshot(db, name)
        snap.assert_whole()  # among others: no (point, run) stored twice
        assert set(snap.units) == planned_units(points=points)
        expected = where_point_below(reference.table, points)
        assert_same_rows(store.results(name), expected)
        exported = tmp_path / f"{name}.parquet"
        assert store.export(name, "parquet", exported) == expected.num_rows
