"""The report's figures as plotly specs made of plain dicts — the JSON plotly.js draws — without
plotly's figure objects, which check every property as it is set (that took most of the time of
writing a report).

What plotly's objects would add is made here as they make it: a template as its JSON, the way
``update_layout(template=...)`` spells it out in the figure, and the subplot grid of
``make_subplots`` — the same axis domains (the same arithmetic, so the same numbers), anchors,
shared axes and panel titles — so a page draws exactly the figures it drew from plotly's
objects. The report's tests check what the figures say; its browser tests, that they draw.
"""

from __future__ import annotations

import functools
import json
import pkgutil
from collections.abc import Sequence
from typing import Any

__all__ = ["Subplots", "merge", "template", "to_json"]


@functools.cache
def _template_json(name: str) -> bytes:
    data = pkgutil.get_data("plotly", f"package_data/templates/{name}.json")
    if data is None:
        raise LookupError(f"plotly has no template '{name}'")
    return data


def template(name: str) -> dict[str, Any]:
    """A plotly template (``plotly_white``) as a figure's ``layout.template``: its JSON as the
    installed plotly package ships it, which is what plotly's figures embed for its name."""
    spec: dict[str, Any] = json.loads(_template_json(name))
    return spec


def to_json(spec: dict[str, Any]) -> str:
    """A spec as the JSON ``plotly.io.to_json`` writes for it, without the figure objects that
    function imports: compact, a NaN or an infinity as null, and ``<``, ``>`` and ``/`` as
    their \\u escapes (so that the text cannot end a script element it is put in)."""
    text = json.dumps(spec, separators=(",", ":"))
    if "NaN" in text or "Infinity" in text:  # perhaps a number JSON cannot write: as null
        text = json.dumps(json.loads(text, parse_constant=lambda _: None), separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("/", "\\u002f")


class Subplots:
    """A grid of x-y subplots laid out as ``plotly.subplots.make_subplots`` lays it out (cells
    numbered from the top left, each one cell wide and high): :attr:`layout` holds each cell's
    axes (``xaxis``, ``yaxis``, ``xaxis2``, …) and the panel titles (``annotations``), to be
    merged into a figure's layout; :meth:`cell` names the axes of a trace drawn in a cell."""

    def __init__(
        self,
        rows: int = 1,
        cols: int = 1,
        titles: Sequence[str] = (),
        shared_xaxes: bool = False,
        shared_yaxes: bool = False,
        horizontal_spacing: float | None = None,
        vertical_spacing: float | None = None,
        row_heights: Sequence[float] | None = None,
    ) -> None:
        across = 0.2 / cols if horizontal_spacing is None else horizontal_spacing
        if vertical_spacing is None:  # plotly's defaults: more room for panel titles
            down = (0.5 if any(titles) else 0.3) / rows
        else:
            down = vertical_spacing
        for spacing, n in ((across, cols), (down, rows)):
            if not 0 <= spacing <= 1 or (n > 1 and spacing > 1.0 / (n - 1)):
                raise ValueError(f"spacing {spacing} does not fit {n} subplots")
        widths = [(1.0 - across * (cols - 1)) / cols] * cols
        if row_heights is None:
            heights = [(1.0 - down * (rows - 1)) / rows] * rows
        else:  # given from the top; laid out, as plotly does, from the bottom
            total = float(sum(row_heights))
            heights = [(1.0 - down * (rows - 1)) * (h / total) for h in reversed(row_heights)]
        self.rows, self.cols = rows, cols
        self.layout: dict[str, Any] = {}
        self._axes: dict[tuple[int, int], tuple[str, str]] = {}
        places: list[tuple[list[float], list[float]]] = []  # each cell's domains, for titles
        for r in range(rows):
            bottom = rows - 1 - r  # the cell's row counted from the bottom
            y0 = sum(heights[:bottom]) + bottom * down + 0.0
            y_domain = [_snapped(y0), _snapped(y0 + heights[-1 - r])]
            for c in range(cols):
                x0 = sum(widths[:c]) + c * across + 0.0
                x_domain = [x0, x0 + widths[c]]
                places.append((x_domain, y_domain))
                n = len(self._axes) + 1
                suffix = str(n) if n > 1 else ""
                self._axes[(r + 1, c + 1)] = (f"xaxis{suffix}", f"yaxis{suffix}")
                self.layout[f"xaxis{suffix}"] = {"anchor": f"y{suffix}", "domain": _in(x_domain)}
                self.layout[f"yaxis{suffix}"] = {"anchor": f"x{suffix}", "domain": _in(y_domain)}
        if shared_xaxes:  # each column's axes match its bottom one, and only it is labelled
            for c in range(1, cols + 1):
                self._share([self._axes[(r, c)][0] for r in range(rows, 0, -1)])
        if shared_yaxes:  # each row's axes match its leftmost one
            for r in range(rows, 0, -1):
                self._share([self._axes[(r, c)][1] for c in range(1, cols + 1)])
        annotations = [
            {
                "y": y_domain[1],
                "xref": "paper",
                "x": sum(x_domain) / 2.0,
                "yref": "paper",
                "text": title,
                "showarrow": False,
                "font": {"size": 16},
                "xanchor": "center",
                "yanchor": "bottom",
            }
            for title, (x_domain, y_domain) in zip(titles, places, strict=False)
            if title
        ]
        if annotations:
            self.layout["annotations"] = annotations

    def _share(self, names: list[str]) -> None:
        first = names[0].replace("axis", "")
        for name in names[1:]:
            self.layout[name].update(matches=first, showticklabels=False)

    def cell(self, row: int, col: int) -> dict[str, str]:
        """The axes a trace in cell (``row``, ``col``), from 1, names: ``{"xaxis": "x2",
        "yaxis": "y2"}``."""
        x, y = self._axes[(row, col)]
        return {"xaxis": x.replace("axis", ""), "yaxis": y.replace("axis", "")}

    def update_xaxes(self, row: int | None = None, col: int | None = None, **props: Any) -> None:
        """Set ``props`` on the x axes of the cells in ``row`` and ``col`` (all where not given),
        merging into properties that are themselves dicts, as plotly's ``update_xaxes`` does."""
        self._update(0, row, col, props)

    def update_yaxes(self, row: int | None = None, col: int | None = None, **props: Any) -> None:
        """Set ``props`` on the y axes of the cells in ``row`` and ``col`` (all where not
        given)."""
        self._update(1, row, col, props)

    def _update(self, which: int, row: int | None, col: int | None, props: dict[str, Any]) -> None:
        for (r, c), names in self._axes.items():
            if (row is None or r == row) and (col is None or c == col):
                merge(self.layout[names[which]], props)


def merge(target: dict[str, Any], props: dict[str, Any]) -> dict[str, Any]:
    """``props`` set on ``target``, a dict merged into a dict already there (as plotly updates
    a figure's properties); returns ``target``."""
    for key, value in props.items():
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            merge(current, value)
        else:
            target[key] = value
    return target


def _snapped(y: float) -> float:
    """A vertical domain bound a rounding error outside [0, 1] brought back to it (as plotly
    does, before it clamps)."""
    if -0.01 < y < 0.0:
        return 0.0
    if 1.0 < y < 1.01:
        return 1.0
    return y


def _in(domain: list[float]) -> list[float]:
    """A domain clamped to [0, 1] (the titles are placed by the domain before clamping)."""
    return [max(0.0, domain[0]), min(1.0, domain[1])]
