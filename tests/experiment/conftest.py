"""The reference sweep that many experiment tests compare against, run once per session."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pytest
from experiment_support import SPEC, assert_ok, read_export, redline


@dataclass(frozen=True)
class Reference:
    """An uninterrupted in-process sweep of :data:`SPEC` named ``ref``, and its exports made
    with ``redline results export``."""

    store: Path
    csv: Path
    parquet: Path
    table: pa.Table


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    where = tmp_path_factory.mktemp("reference")
    store = where / "reference.duckdb"
    assert_ok(redline("sweep", *SPEC, "--name", "ref", "--store", str(store), cwd=where))
    csv, parquet = where / "ref.csv", where / "ref.parquet"
    for fmt, path in (("csv", csv), ("parquet", parquet)):
        proc = redline(
            "results",
            "export",
            "ref",
            "--format",
            fmt,
            "-o",
            str(path),
            "--store",
            str(store),
            cwd=where,
        )
        assert_ok(proc)
        assert "wrote 8,000 rows" in proc.stdout
    table = read_export(parquet)
    assert table.num_rows == 8000
    assert read_export(csv).num_rows == 8000
    return Reference(store, csv, parquet, table)
