"""Typed tables of records, as the Python API returns them: a sequence of frozen dataclass rows
that shows as a table in Jupyter (``_repr_html_``) and converts to Arrow (``to_arrow()``) and
pandas (``to_pandas()``).

A table is a :class:`~collections.abc.Sequence` of its rows, so ``for row in table``,
``table[0].p`` and ``len(table)`` work as on a list. Its Arrow schema comes from the row type's
annotations, so an empty table has the same columns as a full one. Every cell shown in HTML is
escaped: names and text from a scenario file are shown as written, never read as markup.
pandas is imported only by ``to_pandas()``.
"""

from __future__ import annotations

import dataclasses
import html
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, overload

import pyarrow as pa

if TYPE_CHECKING:
    import pandas

__all__ = [
    "HTML_ROWS",
    "RecordTable",
    "arrow_html",
    "arrow_schema",
    "html_table",
    "pandas_frame",
    "percent_cell",
]

Row = TypeVar("Row")

#: the most rows a table shows in a notebook; the rest are counted under it
HTML_ROWS = 60

_ARROW_TYPES: dict[object, pa.DataType] = {
    str: pa.string(),
    int: pa.int64(),
    float: pa.float64(),
    bool: pa.bool_(),
}


def _arrow_type(hint: object) -> pa.DataType:
    """The Arrow type of one annotated field: str, int, float, bool, their ``| None`` and
    ``tuple[str, ...]``."""
    if hint in _ARROW_TYPES:
        return _ARROW_TYPES[hint]
    origin = typing.get_origin(hint)
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if origin in (typing.Union, types.UnionType) and len(args) == 1:
        return _arrow_type(args[0])
    if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
        return pa.list_(_arrow_type(args[0]))
    raise TypeError(f"no Arrow column for a field of type {hint!r}")


def arrow_schema(row_type: type[Any]) -> pa.Schema:
    """The Arrow schema of a dataclass row type: a column per field, in order."""
    hints = typing.get_type_hints(row_type)
    return pa.schema(
        [pa.field(f.name, _arrow_type(hints[f.name])) for f in dataclasses.fields(row_type)]
    )


def percent_cell(value: object) -> str:
    """A probability as a percentage with one decimal (``12.3%``); empty for None."""
    if value is None:
        return ""
    if isinstance(value, float | int):
        return f"{value:.1%}"
    return str(value)


def _plain_cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, tuple | list):
        return "; ".join(str(v) for v in value)
    return str(value)


def html_table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    caption: str = "",
    total: int | None = None,
    numeric: Sequence[bool] | None = None,
    styles: Sequence[str] | None = None,
) -> str:
    """An HTML table of text cells, every one escaped; ``total`` rows in all, of which only
    those given are shown (a line under the table counts the rest). ``numeric`` columns are
    right-aligned; ``styles`` adds CSS to each column's cells (widths, wrapping)."""
    esc = html.escape
    align = numeric or [False] * len(header)
    extra = [f";{x}" if x else "" for x in styles or [""] * len(header)]
    parts = ['<table class="redline-table">']
    if caption:
        parts.append(f'<caption style="text-align:left">{esc(caption)}</caption>')
    parts.append(
        "<thead><tr>"
        + "".join(
            f'<th style="text-align:{"right" if n else "left"}">{esc(h)}</th>'
            for h, n in zip(header, align, strict=True)
        )
        + "</tr></thead><tbody>"
    )
    shown = 0
    for row in rows:
        shown += 1
        parts.append(
            "<tr>"
            + "".join(
                f'<td style="text-align:{"right" if n else "left"};vertical-align:top{x}">'
                f"{esc(cell)}</td>"
                for cell, n, x in zip(row, align, extra, strict=True)
            )
            + "</tr>"
        )
    parts.append("</tbody></table>")
    if total is not None and total > shown:
        rest = total - shown
        parts.append(f"<p>… {rest:,} more row{'' if rest == 1 else 's'} (to_pandas() has all)</p>")
    return "".join(parts)


def arrow_html(
    table: pa.Table,
    caption: str = "",
    formats: Mapping[str, Callable[[object], str]] | None = None,
) -> str:
    """An Arrow table as an escaped HTML table: its first :data:`HTML_ROWS` rows, each cell
    through ``formats`` (by column; default plain), the rest counted under it."""
    formats = formats or {}
    names = list(table.column_names)
    shown = table.slice(0, HTML_ROWS).to_pylist()
    cells = [formats.get(n, _plain_cell) for n in names]
    numeric = [bool(pa.types.is_integer(t) or pa.types.is_floating(t)) for t in table.schema.types]
    body = ([fmt(row[n]) for fmt, n in zip(cells, names, strict=True)] for row in shown)
    return html_table(names, body, caption=caption, total=table.num_rows, numeric=numeric)


class RecordTable(Sequence[Row], Generic[Row]):
    """An immutable table of frozen dataclass rows (``ROW``, set by each subclass) with a
    caption: a sequence of its rows that shows as an HTML table and converts to Arrow and
    pandas. ``FORMATS`` gives a cell format per column for display (default: plain; numbers
    keep their full precision in ``to_arrow()`` and ``to_pandas()``)."""

    ROW: ClassVar[type[Any]]
    FORMATS: ClassVar[Mapping[str, Callable[[object], str]]] = {}

    __slots__ = ("_rows", "caption")

    def __init__(self, rows: Iterable[Row], caption: str = "") -> None:
        self._rows: tuple[Row, ...] = tuple(rows)
        self.caption = caption

    @overload
    def __getitem__(self, index: int) -> Row: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Row]: ...
    def __getitem__(self, index: int | slice) -> Row | Sequence[Row]:
        return self._rows[index]

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecordTable):
            return type(self) is type(other) and self._rows == other._rows
        if isinstance(other, list | tuple):
            return list(self._rows) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # compared by content, like a list

    def __repr__(self) -> str:
        return f"{type(self).__name__}({len(self)} row{'' if len(self) == 1 else 's'})"

    @classmethod
    def columns(cls) -> list[str]:
        """The column names, in order: the row type's fields."""
        return [f.name for f in dataclasses.fields(cls.ROW)]

    def to_arrow(self) -> pa.Table:
        """The rows as an Arrow table, a column per field (typed even when empty)."""
        schema = arrow_schema(self.ROW)
        return pa.Table.from_pylist([_row_dict(r) for r in self._rows], schema=schema)

    def to_pandas(self) -> pandas.DataFrame:
        """The rows as a pandas DataFrame (pandas is imported now, not before)."""
        return pandas_frame(self.to_arrow())

    def _repr_html_(self) -> str:
        names = self.columns()
        shown = self._rows[:HTML_ROWS]
        formats = [self.FORMATS.get(n, _plain_cell) for n in names]
        numeric = [_is_numeric(self.ROW, n) for n in names]
        body = ([fmt(getattr(r, n)) for fmt, n in zip(formats, names, strict=True)] for r in shown)
        return html_table(names, body, caption=self.caption, total=len(self), numeric=numeric)


def _row_dict(row: object) -> dict[str, object]:
    return {f.name: getattr(row, f.name) for f in dataclasses.fields(row)}  # type: ignore[arg-type]


def _is_numeric(row_type: type[Any], name: str) -> bool:
    kind = arrow_schema(row_type).field(name).type
    return bool(pa.types.is_integer(kind) or pa.types.is_floating(kind))


def pandas_frame(table: pa.Table) -> pandas.DataFrame:
    """An Arrow table as pandas (which Arrow imports now, not before)."""
    return table.to_pandas()
