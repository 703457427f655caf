"""A self-contained HTML page for one analysis: headings, paragraphs, tables and plotly figures.

plotly.js is embedded once, so the page opens with no network; every piece of text is escaped.
The robust-levers and game analyses (:mod:`redline.report.robust_page`,
:mod:`redline.report.game_page`) build their sections from these parts.
"""

from __future__ import annotations

import contextlib
import html
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import plotly.graph_objects as go
import plotly.io as pio

__all__ = ["Block", "Section", "figure_html", "render_page", "table_html", "write_page"]

_STYLE = """
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;margin:2rem auto;
max-width:72rem;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{font-size:1.3rem;margin-top:2rem;border-bottom:1px solid #ddd}
h3{font-size:1.1rem}table{border-collapse:collapse;margin:.6rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.25rem .5rem;text-align:right;vertical-align:top}
th:first-child,td:first-child{text-align:left}th{background:#f5f5f5}
.note{color:#555;font-size:.9rem}
"""


@dataclass(frozen=True)
class Block:
    """One piece of a section: a paragraph (``text``), a table (``rows`` under ``header``) or
    a figure (``figure``)."""

    text: str | None = None
    header: Sequence[str] = ()
    rows: Sequence[Sequence[str]] = ()
    figure: go.Figure | None = None
    note: bool = False


@dataclass(frozen=True)
class Section:
    """A heading and its blocks; ``level`` 2 or 3."""

    heading: str
    blocks: Sequence[Block] = field(default_factory=tuple)
    level: int = 2


def table_html(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """An HTML table, every cell escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def figure_html(figure: go.Figure, first: bool) -> str:
    """A figure as a div; the first one on the page carries plotly.js."""
    text: str = pio.to_html(
        figure,
        include_plotlyjs=first,
        full_html=False,
        config={"displaylogo": False, "responsive": True},
    )
    return text


def render_page(title: str, intro: str, sections: Sequence[Section]) -> str:
    """The whole page as one HTML document."""
    parts = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1><p>{html.escape(intro)}</p>",
    ]
    first = True
    for s in sections:
        level = 3 if s.level == 3 else 2
        parts.append(f"<h{level}>{html.escape(s.heading)}</h{level}>")
        for b in s.blocks:
            if b.text is not None:
                cls = " class='note'" if b.note else ""
                parts.append(f"<p{cls}>{html.escape(b.text)}</p>")
            if b.header:
                parts.append(table_html(b.header, b.rows))
            if b.figure is not None:
                parts.append(figure_html(b.figure, first))
                first = False
    parts.append("</body></html>")
    return "\n".join(parts)


def write_page(text: str, path: Path) -> Path:
    """Write ``text`` to ``path`` atomically (a temporary file moved into place)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return path
