"""A unit's stored columns are built from the engine's NumPy arrays without ``pa.array``, and the
report reads them back without ``to_numpy`` (both import pandas): the same Arrow arrays, nulls
where asked, and the same NumPy values; neither a worker nor ``redline run`` loads pandas."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from redline.arrays import arrow_array, numpy_array

DTYPES = st.sampled_from([np.int8, np.uint8, np.int16, np.uint16, np.int32, np.int64, np.float64])


@settings(deadline=None)  # the first call starts Arrow's compute functions
@given(
    data=st.data(),
    dtype=DTYPES,
    n=st.integers(0, 70),
    stride=st.integers(1, 3),
)
def test_arrow_array_equals_pa_array(data: st.DataObject, dtype: type, n: int, stride: int) -> None:
    """Any length (bitmaps end mid-byte), any stride (a column of a 2-D array), with and
    without nulls."""
    elements = st.floats(allow_nan=False) if dtype is np.float64 else None  # NaN ≠ NaN
    values = data.draw(arrays(dtype, n * stride, elements=elements))[::stride]
    valid = data.draw(arrays(np.bool_, n))
    assert arrow_array(values).equals(pa.array(values))
    assert arrow_array(values, valid=valid).equals(pa.array(values, mask=~valid))


@settings(deadline=None)
@given(
    data=st.data(),
    dtype=DTYPES,
    sizes=st.lists(st.integers(0, 40), min_size=1, max_size=3),
    start=st.integers(0, 9),
)
def test_numpy_array_equals_to_numpy(
    data: st.DataObject, dtype: type, sizes: list[int], start: int
) -> None:
    """Chunked or not, sliced at any offset (bitmaps start mid-byte), with and without
    nulls: the values and type ``to_numpy(zero_copy_only=False)`` gives (NaN for a null)."""
    elements = st.floats(allow_nan=False) if dtype is np.float64 else None
    chunks = []
    for n in sizes:
        values = data.draw(arrays(dtype, n, elements=elements))
        valid = data.draw(arrays(np.bool_, n))
        chunks.append(arrow_array(values, valid=valid if data.draw(st.booleans()) else None))
    column = pa.chunked_array(chunks)
    for got, want in (
        (numpy_array(column), column.to_numpy()),
        (numpy_array(column.combine_chunks()), column.combine_chunks().to_numpy(False)),
        (numpy_array(column.slice(start)), column.slice(start).to_numpy()),
    ):
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)  # NaN where NaN


def test_numpy_array_refuses_what_is_not_numbers() -> None:
    with pytest.raises(TypeError):
        numpy_array(pa.chunked_array([pa.array(["a"])]))


def test_a_worker_computing_a_unit_imports_no_pandas() -> None:
    """Computing a unit and shaping its rows for the store, in a fresh process as a worker
    does, loads neither pandas nor statsmodels."""
    code = (
        "import sys\n"
        "from redline.compile import compile_scenario, resolve\n"
        "from redline.experiment.design import Unit\n"
        "from redline.experiment.executors import UnitTask, compute_unit\n"
        "from redline.experiment.job import Job\n"
        "from redline.experiment.layout import Layout\n"
        "from redline.scenario.loader import load_scenario\n"
        "s = load_scenario('convoy-strike').scenario\n"
        "job = Job.of(s, resolve(s))\n"
        "task = UnitTask(job, Unit(0, 0, 0, 50), 1, 'numpy', layout=Layout.of([job], False))\n"
        "result = compute_unit(task)\n"
        "assert result.table.num_rows == 50\n"
        "print(sorted(m for m in ('pandas', 'statsmodels') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_redline_run_imports_no_pandas(tmp_path: Path) -> None:
    """A sweep with its report, in one process (its units, their commits, reading them back,
    the summaries and the figures), as ``redline run`` does it: pandas is never loaded."""
    code = (
        "import sys\n"
        "from redline.cli import app\n"
        "app(['run', 'convoy-strike', '--runs', '200', '--chunk-size', '100', '--workers', '1',\n"
        "     '--threads', '1'], prog_name='redline', standalone_mode=False)\n"
        "print(sorted(m for m in ('pandas', 'statsmodels') if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "redline-report-convoy-strike.html").exists()
