"""The reference sweep that many experiment tests compare against, run once per test session:
under pytest-xdist, the first worker to need it sweeps while the others wait for it, and each
worker then works on its own copy of the files (a DuckDB store is opened by one process at a
time)."""

from __future__ import annotations

import fcntl
import shutil
from pathlib import Path

import pytest
from experiment_support import SPEC, Reference, assert_ok, read_export, redline

#: the files of the reference: its store and its exports
FILES = ("reference.duckdb", "ref.csv", "ref.parquet")


def _sweep(where: Path) -> None:
    """The reference's files, written to ``where`` by the console script."""
    store = where / FILES[0]
    assert_ok(redline("sweep", *SPEC, "--name", "ref", "--store", str(store), cwd=where))
    for fmt, name in (("csv", FILES[1]), ("parquet", FILES[2])):
        out = str(where / name)
        proc = redline(
            "results", "export", "ref", "--format", fmt, "-o", out, "--store", str(store), cwd=where
        )
        assert_ok(proc)
        assert "wrote 8,000 rows" in proc.stdout


def _swept_once(shared: Path) -> Path:
    """The folder in ``shared`` holding the reference's files, swept by whichever worker of
    this session gets there first (the others wait on a lock, then find it done)."""
    done = shared / "reference"
    with (shared / "reference.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.is_dir():
            making = shared / "reference.partial"
            shutil.rmtree(making, ignore_errors=True)
            making.mkdir()
            _sweep(making)
            making.rename(done)
    return done


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Reference:
    where = tmp_path_factory.mktemp("reference")
    if worker_id == "master":  # one process: no one to share with
        _sweep(where)
    else:  # the workers' temporary folders share a parent, this session's own
        made = _swept_once(tmp_path_factory.getbasetemp().parent)
        for name in FILES:
            shutil.copy(made / name, where / name)
    store, csv, parquet = (where / name for name in FILES)
    table = read_export(parquet)
    assert table.num_rows == 8000
    assert read_export(csv).num_rows == 8000
    return Reference(store, csv, parquet, table)
