"""The report's "What drives each outcome" section, from an ablation."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re

import pytest
from ablation_support import write_sparks

from redline.analysis.ablation import Ablation, ablate
from redline.report.data import ReportData
from redline.report.drivers import drivers_figure
from redline.report.html import render_report


def make_data(ablation: Ablation | None = None) -> ReportData:
    """A report with no stored results, and the ablation if given."""
    return ReportData(
        scenario_id="sparks",
        title="sparks",
        description="",
        horizon=3,
        step_unit="month",
        start=None,
        rungs=["calm", "crisis"],
        outcome_names={"sparked": "sparked"},
        configurations=[],
        story_label="",
        story=[],
        register=[],
        seed=1,
        version="test",
        generated=dt.datetime(2026, 1, 1),
        ablation=ablation,
    )


@pytest.fixture(scope="module")
def ablation(tmp_path_factory: pytest.TempPathFactory) -> Ablation:
    return ablate(write_sparks(tmp_path_factory.mktemp("sparks")), runs=1000, seed=1)


def _figure(page: str, name: str) -> dict[str, object]:
    found = re.search(rf'data-target="fig-{name}">(.*?)</script>', page, re.S)
    assert found is not None
    spec: dict[str, object] = json.loads(found.group(1))
    return spec


def test_section_with_bars_and_flags(ablation: Ablation) -> None:
    page = render_report(make_data(ablation))
    assert "<h2>What drives each outcome</h2>" in page
    assert 'href="#drivers"' in page
    spec = _figure(page, "drivers")
    bars = spec["data"]
    assert isinstance(bars, list)
    # sparked and echo move (the spark rule), noisy moves (the noise rule); the whisper never
    assert len(bars) == 3
    spark = bars[0]
    assert spark["orientation"] == "h" and spark["y"] == ["spark (rule)"]
    assert spark["x"][0] < 0 and "arrayminus" in spark["error_x"]
    section = page[page.index('<section id="drivers">') :]
    section = section[: section.index("</section>")]
    assert "rules.whisper (rule)" in section
    assert "sparked = echo" in section
    assert "placebo: one = two" in section
    assert "<th>Dominant chains</th><td>none</td>" in section
    assert "<h3>Top paths</h3>" in section
    assert "<td>rule spark fired</td>" in section  # sparked and echo: the spark alone


def test_no_section_without_an_ablation() -> None:
    page = render_report(make_data())
    assert "What drives each outcome" not in page
    assert 'data-target="fig-drivers"' not in page


def test_no_figure_when_nothing_moves(ablation: Ablation) -> None:
    still = dataclasses.replace(ablation, effects=tuple(e for e in ablation.effects if e.inert))
    assert drivers_figure(still) is None
    page = render_report(make_data(still))
    assert "No mechanism moves any outcome beyond its interval." in page
