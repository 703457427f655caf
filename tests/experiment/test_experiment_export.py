"""`redline results export` writes the format its file name says (.csv, .parquet, .pq) unless
``--format`` is given; a ``--format`` that contradicts the name, or a name that says no format
without ``--format``, is refused (tests/experiment/test_experiment_cli_errors.py)."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
from experiment_support import Reference, flat, read_export, redline_here

CASES = {
    "out.csv": [],
    "out.CSV": [],
    "out.parquet": [],
    "out.pq": [],
    "given.csv": ["--format", "csv"],
    "given.parquet": ["--format", "parquet"],
    "plain.data": ["--format", "csv"],  # a name that says nothing: --format decides
    "plain.bin": ["--format", "parquet"],
}


def test_export_writes_the_format_the_file_name_says(tmp_path: Path, reference: Reference) -> None:
    for name, given in CASES.items():
        done = redline_here(
            "results",
            "export",
            "ref",
            "-o",
            str(tmp_path / name),
            *given,
            "--store",
            str(reference.store),
        )
        rc, stdout, stderr = done.returncode, done.stdout, done.stderr
        assert rc == 0, f"{name}: exit {rc}\n{stdout}\n{stderr}"
        fmt = given[1] if given else ("csv" if name.lower().endswith(".csv") else "parquet")
        assert f"wrote 8,000 rows to {tmp_path / name} ({fmt})" in flat(stdout)
        written = tmp_path / name
        if fmt == "csv":
            assert written.read_bytes() == reference.csv.read_bytes(), name
        else:
            assert written.read_bytes()[:4] == b"PAR1", name
            assert pq.read_table(written).equals(read_export(reference.parquet)), name
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(CASES)  # no temporary files
