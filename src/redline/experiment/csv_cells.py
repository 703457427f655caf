"""CSV cells made safe to open in a spreadsheet: a text cell that starts with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return is read by Excel, LibreOffice and Google Sheets as a
formula (CSV or formula injection: ``=HYPERLINK(...)`` in a scenario's name would run when the
export is opened). Such a cell is written with a leading ``'``, which spreadsheets show as text
and drop; numbers are never touched (``-0.5`` in a float column stays a number).

Every CSV redline writes goes through here: ``redline results export --format csv`` (and the web
page's download of it), and the web page's outcome tables."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["FORMULA_STARTS", "guard_batch", "guard_cell"]

#: the first characters that make a spreadsheet read a cell as a formula
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = "^[=+\\-@\t\r]"


def guard_cell(text: str) -> str:
    """``text`` as a cell a spreadsheet shows as text: prefixed with ``'`` if it would be read
    as a formula, unchanged otherwise."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def guard_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """``batch`` with every text cell guarded as :func:`guard_cell` guards it; its schema and
    every other column unchanged."""
    columns = []
    for column in batch.columns:
        if _text(column.type):
            column = _guarded(column)
        elif pa.types.is_dictionary(column.type) and _text(column.type.value_type):
            column = pa.DictionaryArray.from_arrays(column.indices, _guarded(column.dictionary))
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def _text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _guarded(column: pa.Array) -> pa.Array:
    risky = pc.fill_null(pc.match_substring_regex(column, _PATTERN), False)
    quoted = pc.binary_join_element_wise(pa.scalar("'", column.type), column, "")
    return pc.if_else(risky, quoted, column)
