"""The report shows each lens fitted to the record, as `redline score` prints it: the
uncertainties before and given the record, and each outcome before, given and after the record."""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from score_support import report_data, walk, write

import redline
from redline.report.html import render_report


def _walk_with_an_uncertainty() -> dict[str, Any]:
    """The walk with its chance of a step up drawn per run, so the record moves it."""
    data = walk()
    data["parameters"] = [p for p in data["parameters"] if p["id"] != "p_up"]
    data["uncertainties"] = [
        {
            "id": "p_up",
            "name": "chance of a step up",
            "distribution": {"kind": "uniform", "low": 0.05, "high": 0.6},
            "assumption": "test",
        }
    ]
    return data


def test_report_shows_each_lens_fitted_to_the_record(tmp_path: Path) -> None:
    sc = redline.score(write(_walk_with_an_uncertainty(), tmp_path), particles=3000, replicates=2)
    (lens,) = sc.lenses
    assert lens.fit is not None
    (fit,) = lens.fit.parameters
    # the record (a rung of 2 at step 15 after a climb) moves the chance of a step up
    assert abs(fit.mean - fit.prior_mean) > 0.01
    page = render_report(report_data(score=sc))
    section = page.split('id="record"')[1].split("</section>")[0]
    assert "<h3>Each lens fitted to the record</h3>" in section
    assert f"<h4>{html.escape(lens.label)}</h4>" in section
    # the uncertainty with its prior and posterior means and ranges, as the CLI gives them
    row = section.split(f"<td>{fit.name}</td>")[1].split("</tr>")[0]
    assert f"{fit.prior_mean:.3g} ({fit.prior_q[0]:.3g} to {fit.prior_q[2]:.3g})" in row
    assert f"{fit.mean:.3g} ({fit.q[0]:.3g} to {fit.q[2]:.3g})" in row
    assert f'<td class="num">{fit.distinct:,}</td>' in row
    # each outcome by the horizon: before, given the record and after it
    ((_, name, prior, _, _),) = [o for o in lens.fit.outcomes if o[0] == "top"]
    row = section.split(f"<td>{name}</td>")[1].split("</tr>")[0]
    assert f"{100 * prior:.1f}%" in row or f"{100 * prior:.2g}%" in row
