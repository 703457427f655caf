"""Experiments given as YAML files: one that runs, and broken ones refused with FILE:LINE:
messages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from experiment_support import (
    Reference,
    assert_ok,
    assert_refused,
    assert_same_rows,
    flat,
    planned_units,
    redline,
    run_concurrently,
    wait_snapshot,
    where_point_below,
)

import redline as package
from redline.experiment.store import Store

BUILTIN = Path(package.__file__).parent / "scenarios" / "convoy-strike.yaml"

GOOD = """\
# half of the reference experiment, in larger chunks
name: from-file
scenario: scenarios/convoy.yaml   # relative to this file, not to the working directory
levers:
  nato_response: [none, consultation]
lenses: [baseline, provocation]
sample: per_run
runs: 1000
seed: 7
chunk_size: 1000
"""


def test_experiment_file_runs(tmp_path: Path, reference: Reference) -> None:
    (tmp_path / "exp" / "scenarios").mkdir(parents=True)
    shutil.copy(BUILTIN, tmp_path / "exp" / "scenarios" / "convoy.yaml")
    (tmp_path / "exp" / "experiment.yaml").write_text(GOOD)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    db = tmp_path / "store.duckdb"
    proc = redline(
        "sweep", str(tmp_path / "exp" / "experiment.yaml"), "--store", str(db), cwd=elsewhere
    )
    assert_ok(proc)
    assert "experiment 'from-file': 4 design points, 4,000 runs" in flat(proc.stdout)
    snap = wait_snapshot(db, "from-file")
    snap.assert_whole()
    assert snap.status == "done"
    assert set(snap.units) == planned_units(points=4, chunk=1000)
    record = Store(db).get("from-file")
    assert record is not None
    assert record.spec.levers == {"nato_response": ["none", "consultation"]}
    assert record.spec.chunk_size == 1000
    # the same results as the reference sweep, whatever the chunk size
    assert_same_rows(Store(db).results("from-file"), where_point_below(reference.table, 4))


BROKEN = {
    "all-three": (
        "name: broken\nscenario: convoy-strike\nruns: -1\nsample: sobol\ncolour: red\n",
        [
            (3, "runs", ["must be at least 1, got the number -1"]),
            (4, "sample", ["per_run", "lhs:K"]),
            (5, "colour", ["unknown key"]),
        ],
    ),
}


@pytest.fixture(scope="module")
def broken_runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, tuple[Path, tuple[int, str, str, float]]]:
    where = tmp_path_factory.mktemp("broken")
    files = {}
    for case, (text, _) in BROKEN.items():
        files[case] = where / f"{case}.yaml"
        files[case].write_text(text)
    results = run_concurrently(
        [
            (["sweep", str(path), "--store", str(where / f"{case}.duckdb")], where)
            for case, path in files.items()
        ]
    )
    return {case: (files[case], result) for case, result in zip(files, results, strict=True)}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_experiment_file_is_refused_with_file_and_line(
    broken_runs: dict[str, tuple[Path, tuple[int, str, str, float]]], case: str
) -> None:
    path, (rc, out, err, _) = broken_runs[case]
    assert_refused(rc, out, err)
    message = flat(err)  # rich may wrap long lines
    expected = BROKEN[case][1]
    for line_no, key, fragments in expected:
        prefix = f"{path}:{line_no}: {key}:"
        assert prefix in message, f"no {prefix!r} in:\n{err}"
        start = message.index(prefix)
        end = message.find(str(path), start + len(prefix))
        issue = message[start : end if end >= 0 else None]
        for fragment in fragments:
            assert fragment in issue, f"{fragment!r} not in {issue!r}"
    n = len(expected)
    assert re.search(rf"\b{n} problems? found", message), err
    assert not (path.parent / f"{case}.duckdb").exists(), "a refused experiment touched the store"
