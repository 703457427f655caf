"""The report's plain plotly specs lay figures out as plotly's own figure objects do: the same
subplot grid (domains to the last bit, anchors, shared axes, panel titles), the same template
and the same JSON text."""

from __future__ import annotations

import json
import math
from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.subplots import make_subplots

from redline.report.plotly_spec import Subplots, merge, template, to_json

GRIDS: list[dict[str, Any]] = [
    {"rows": 1, "cols": 1},
    {"rows": 1, "cols": 2, "titles": ["a", "b"]},
    {"rows": 4, "cols": 3, "titles": [f"t{i}" for i in range(11)], "shared_yaxes": True},
    {"rows": 4, "cols": 3, "titles": ["x", "", "z"], "horizontal_spacing": 0.07},
    {"rows": 3, "cols": 3, "horizontal_spacing": 0.045, "vertical_spacing": 0.14},
    {"rows": 5, "cols": 2, "titles": ["p<br>q"] * 10, "vertical_spacing": 0.1},
    {"rows": 2, "cols": 1, "shared_xaxes": True, "vertical_spacing": 0.02,
     "row_heights": [0.6 / 12, 1 - 0.6 / 12]},
    {"rows": 3, "cols": 2, "shared_xaxes": True, "shared_yaxes": True,
     "row_heights": [1, 2, 3]},
]  # fmt: skip


def _plotly(grid: dict[str, Any]) -> go.Figure:
    args = dict(grid)
    if "titles" in args:
        args["subplot_titles"] = args.pop("titles")
    return make_subplots(**args)


def _layout(fig: go.Figure) -> dict[str, Any]:
    layout: dict[str, Any] = json.loads(pio.to_json(fig))["layout"]
    layout.pop("template", None)
    return layout


@pytest.mark.parametrize("grid", GRIDS)
def test_a_grid_is_laid_out_as_make_subplots_lays_it_out(grid: dict[str, Any]) -> None:
    mine = Subplots(**grid)
    theirs = _plotly(grid)
    assert json.loads(to_json(mine.layout)) == _layout(theirs)  # floats to the last bit
    for row in range(1, grid["rows"] + 1):
        for col in range(1, grid["cols"] + 1):
            subplot = theirs.get_subplot(row, col)
            assert mine.cell(row, col) == {
                "xaxis": subplot.xaxis.plotly_name.replace("axis", ""),
                "yaxis": subplot.yaxis.plotly_name.replace("axis", ""),
            }


def test_axes_are_updated_by_row_and_column_as_plotly_updates_them() -> None:
    grid = {"rows": 3, "cols": 3, "titles": ["a", "b", "c", "d"]}
    mine, theirs = Subplots(**grid), _plotly(grid)
    for figure in (mine, theirs):
        figure.update_xaxes(nticks=4, row=2, col=3)
        figure.update_yaxes(title={"text": "share"}, col=1)
        figure.update_yaxes(title={"font": {"size": 9}}, col=1)  # merged into the title
        figure.update_xaxes(title={"text": "date"}, row=3)
        figure.update_yaxes(range=[0, 1], showgrid=False)
    assert json.loads(to_json(mine.layout)) == _layout(theirs)


def test_the_template_is_the_one_plotly_figures_embed() -> None:
    fig = go.Figure(layout={"template": "plotly_white"})
    assert template("plotly_white") == json.loads(pio.to_json(fig))["layout"]["template"]
    assert template("plotly_white") is not template("plotly_white")  # each figure its own
    with pytest.raises(OSError):
        template("no-such-template")


def test_json_text_is_plotlys() -> None:
    spec = {
        "data": [
            {
                "type": "scatter",
                "x": [0.1, math.nan, math.inf, -math.inf, None],
                "text": ["</script><b>&</b>", "a/b", "NaN", "Infinity", "é"],
            }
        ],
        "layout": merge({"xaxis": {"domain": [0.0, 1.0]}}, {"xaxis": {"title": {"text": "x"}}}),
    }
    assert to_json(spec) == pio.to_json(spec, validate=False)
    plain = {"data": [], "layout": {"title": {"text": "<b>bold</b>"}}}
    assert to_json(plain) == pio.to_json(plain, validate=False)
