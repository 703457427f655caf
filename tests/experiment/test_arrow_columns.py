"""A unit's stored columns are built from the engine's NumPy arrays without ``pa.array`` (which
imports pandas in every worker process): the same Arrow arrays, nulls where asked."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from redline.experiment.layout import arrow_array

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
