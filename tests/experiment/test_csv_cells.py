"""CSV cells a spreadsheet would read as formulas are written quoted (``'=...``); every other
cell, and every number, is written as it was."""

from __future__ import annotations

import csv
import io

import pyarrow as pa
import pyarrow.csv as pacsv
from hypothesis import given
from hypothesis import strategies as st

from redline.experiment.csv_cells import FORMULA_STARTS, guard_batch, guard_cell

texts = st.one_of(
    st.text(max_size=12),
    st.builds(lambda c, t: c + t, st.sampled_from(FORMULA_STARTS), st.text(max_size=12)),
)


@given(texts)
def test_a_cell_is_quoted_exactly_when_a_spreadsheet_would_read_a_formula(text: str) -> None:
    guarded = guard_cell(text)
    assert not guarded.startswith(FORMULA_STARTS)
    if text.startswith(FORMULA_STARTS):
        assert guarded == "'" + text
    else:
        assert guarded == text


@given(st.lists(st.one_of(st.none(), texts), min_size=1, max_size=8), st.booleans())
def test_a_batch_is_guarded_cell_by_cell_and_numbers_are_untouched(
    cells: list[str | None], dictionary: bool
) -> None:
    text = pa.array(cells, pa.string())
    if dictionary:
        text = text.dictionary_encode()
    numbers = pa.array([-float(i) - 0.5 for i in range(len(cells))])
    batch = pa.RecordBatch.from_arrays([text, numbers], names=["lens", "p"])
    guarded = guard_batch(batch)
    assert guarded.schema == batch.schema
    assert guarded.column(0).to_pylist() == [None if c is None else guard_cell(c) for c in cells]
    assert guarded.column(1).equals(numbers)
    # written and read back as a spreadsheet would: no cell begins a formula
    buffer = io.BytesIO()
    pacsv.write_csv(pa.Table.from_batches([guarded]), buffer)
    rows = list(csv.reader(io.StringIO(buffer.getvalue().decode())))
    assert all(not row[0].startswith(FORMULA_STARTS) for row in rows[1:])
    assert [float(row[1]) for row in rows[1:]] == numbers.to_pylist()
