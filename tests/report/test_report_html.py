"""The HTML report: sections, content, self-containment, escaping, figures, atomic writing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from plotly.offline import get_plotlyjs
from report_support import LABELS, OUTCOMES, QUOTES, RUNGS, STORY_QUOTE, make_data

from redline.report import html as report_html
from redline.report.html import render_report, write_report

SECTIONS = [
    "Summary",
    "Outcome probabilities",
    "Cumulative incidence over time",
    "Time on the ladder",
    "One narrated run",
    "Assumptions register",
]
HOSTILE_TITLE = '<script>alert("title")</script>'
HOSTILE_QUOTE = '<img src=x onerror=alert("quote")>'
HOSTILE_LABEL = '</script><script>alert("label")</script>'


class Page(HTMLParser):
    """Tags with their attributes, script bodies, and the visible text of a page."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[tuple[dict[str, str | None], str]] = []
        self.headings: list[str] = []
        self.text: list[str] = []
        self._script: dict[str, str | None] | None = None
        self._heading: list[str] | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self._script = dict(attrs)
            self.scripts.append((self._script, ""))
        if tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.headings.append("".join(self._heading).strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)
            return
        self.text.append(data)
        if self._heading is not None:
            self._heading.append(data)

    @property
    def visible(self) -> str:
        return " ".join(" ".join(self.text).split())

    def figures(self) -> dict[str, dict[str, Any]]:
        return {
            str(a["data-target"]): json.loads(body)
            for a, body in self.scripts
            if a.get("class") == "plotly-figure"
        }


@pytest.fixture(scope="module")
def html() -> str:
    return render_report(make_data())


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


def _squash(text: str) -> str:
    return " ".join(text.split())


def test_every_section_heading(page: Page) -> None:
    for heading in SECTIONS:
        assert heading in page.headings
    assert "Convoy strike on NATO soil" in page.headings
    toc = [a["href"] for tag, a in page.tags if tag == "a"]
    for anchor in ("#summary", "#outcomes", "#incidence", "#ladder", "#story", "#register"):
        assert anchor in toc
        assert any(a.get("id") == anchor[1:] for _, a in page.tags)


def test_header_facts(page: Page) -> None:
    text = page.visible
    for fact in (
        "convoy-strike",
        "12 months",
        "2024-01-01",
        "2024-12-01",
        "1,000",
        "20240101",
        "0.1.0",
        "2024-05-01 12:30:00",
        "Illustrative numbers for tests.",
        "A missile strike on a NATO supply convoy",
    ):
        assert fact in text, fact


def test_configurations_outcomes_and_quotes(page: Page) -> None:
    text = page.visible
    for label in LABELS:
        assert label in text
    for name in OUTCOMES.values():
        assert name in text
    for quote in QUOTES:
        assert quote in text
    assert _squash(STORY_QUOTE) in text
    assert "run 17 of invite=vilnius · lens=hawk" in text
    assert "because attack:RUS->POL" in text


def test_outcome_table_shows_intervals(page: Page) -> None:
    text = page.visible
    # configuration 0, war: 120 of 1000 runs, Wilson 95% interval 10.1%–14.2%
    assert "12.0% 10.1%–14.2%" in text
    assert "0% 0%–0.38%" in text  # nuclear never reached in configuration 0


def test_register_counts_and_support(page: Page, html: str) -> None:
    text = page.visible
    assert "6 values:" in text
    assert "4 cited" in text and "1 assumption" in text and "1 unsupported" in text
    assert "assumption: no source estimates it; a small monthly drift" in text
    assert "no source and no stated reason" in text
    assert "000.md" in text and "../shared/sources" not in text  # file name shown
    assert "credibility.decay" in text
    # a red line's four values with the same citation share one support cell
    assert text.count(QUOTES[0]) == 1


def test_no_network_references(page: Page) -> None:
    for tag, attrs in page.tags:
        for attr in ("src", "href", "data", "action", "poster"):
            value = (attrs.get(attr) or "").strip().lower()
            assert not value.startswith(("http:", "https:", "//")), (tag, attrs)
        if tag == "link":
            pytest.fail(f"external resource link: {attrs}")
        if tag == "script":
            assert "src" not in attrs
    links = [a.get("href") or "" for tag, a in page.tags if tag == "a"]
    assert links and all(link.startswith("#") for link in links)
    styles = [tag for tag, _ in page.tags if tag == "style"]
    assert len(styles) == 1


def test_plotly_embedded_once(html: str, page: Page) -> None:
    bundle = get_plotlyjs()
    head = bundle[:400]
    assert html.count(head) == 1
    bundles = [body for attrs, body in page.scripts if not attrs and len(body) > 100_000]
    assert len(bundles) == 1
    loaders = [body for attrs, body in page.scripts if not attrs and "Plotly.newPlot" in body]
    assert len(loaders) == 1


def test_figures_are_valid_specs(page: Page) -> None:
    figs = page.figures()
    assert set(figs) == {"fig-summary", "fig-outcomes", "fig-incidence", "fig-occupancy"}
    for target in figs:
        assert any(a.get("id") == target for tag, a in page.tags if tag == "div")
    for fig in figs.values():
        assert isinstance(fig["data"], list) and isinstance(fig["layout"], dict)

    # per outcome (panel), one series of dots per lens: a row per lever setting, a colour per lens
    dots = figs["fig-outcomes"]["data"]
    assert [d["type"] for d in dots] == ["scatter"] * 6
    assert [d["name"] for d in dots[:2]] == ["hawk", "dove"]
    assert sum(1 for d in dots if d.get("showlegend", True)) == 2  # the lenses, not the configs
    titles = [a["text"] for a in figs["fig-outcomes"]["layout"]["annotations"]]
    assert titles == list(OUTCOMES.values())
    assert figs["fig-outcomes"]["layout"]["yaxis"]["ticktext"] == LABELS[::-1]
    war = dots[0]  # lens hawk, war: configuration 0 has 120 of 1000 runs
    assert war["x"][0] == pytest.approx(0.12)
    assert war["error_x"]["symmetric"] is False
    assert war["x"][0] + war["error_x"]["array"][0] == pytest.approx(0.1424, abs=1e-3)
    assert war["x"][0] - war["error_x"]["arrayminus"][0] == pytest.approx(0.1013, abs=1e-3)
    nuclear_axis = figs["fig-outcomes"]["layout"]["xaxis2"]  # its own scale: rare but legible
    assert nuclear_axis["range"][1] < 0.05 and nuclear_axis["tickformat"] == ".1~%"

    lines = figs["fig-incidence"]["data"]  # per lens (a menu picks it), a line per setting
    assert len(lines) == 3 * 3
    assert [t.get("visible", True) for t in lines] == [True] * 6 + [False] * 3
    assert sum(1 for t in lines if t.get("showlegend", True)) == 3  # a setting per lens
    menu = figs["fig-incidence"]["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in menu] == ["lens: hawk", "lens: dove"]
    assert menu[1]["args"][0]["visible"] == [False] * 6 + [True] * 3
    # a step function from 0 at the start to the incidence at the end of the last step
    assert lines[0]["x"][0] == "2024-01-01" and lines[0]["x"][-1] == "2025-01-01"
    assert len(lines[0]["y"]) == 13 and lines[0]["y"][0] == 0
    assert lines[0]["y"][-1] == pytest.approx(0.12)
    titles = [a["text"] for a in figs["fig-incidence"]["layout"]["annotations"]]
    assert titles == list(OUTCOMES.values())

    heat = figs["fig-occupancy"]  # per configuration: the "run ended" strip, then the rungs
    assert [t["type"] for t in heat["data"]] == ["heatmap"] * 6
    assert [t.get("visible", True) for t in heat["data"]] == [True, True] + [False] * 4
    assert heat["layout"]["yaxis"]["ticktext"] == ["run ended"]
    assert heat["layout"]["yaxis2"]["ticktext"] == RUNGS
    ended = np.array(heat["data"][0]["z"], dtype=float)
    rungs = np.array(heat["data"][1]["z"], dtype=float)
    assert ended.shape == (1, 12) and rungs.shape == (len(RUNGS), 12)
    total = np.nansum(rungs, axis=0) + np.nan_to_num(ended[0])
    assert np.allclose(total, 1.0, atol=1e-4)  # rungs + ended = all runs of the configuration
    buttons = heat["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in buttons] == LABELS
    assert buttons[1]["args"][0]["visible"] == [False, False, True, True, False, False]


def test_occupancy_without_ended_runs() -> None:
    data = make_data()
    full = [
        dataclasses.replace(
            c, occupancy=np.tile(np.array([c.runs, 0, 0, 0, 0], dtype=np.int64), (12, 1))
        )
        for c in data.configurations
    ]
    heat = Page(render_report(dataclasses.replace(data, configurations=full[:1]))).figures()[
        "fig-occupancy"
    ]
    assert len(heat["data"]) == 1 and "updatemenus" not in heat["layout"]
    assert heat["layout"]["yaxis"]["ticktext"] == RUNGS
    assert heat["data"][0]["z"][0] == [1.0] * 12


def test_steps_without_start_date() -> None:
    page = Page(render_report(make_data(start=None)))
    figs = page.figures()
    assert figs["fig-incidence"]["data"][0]["x"] == list(range(13))
    assert "none (steps only)" in page.visible


def test_hostile_text_is_escaped() -> None:
    data = make_data(title=HOSTILE_TITLE, quote_extra=HOSTILE_QUOTE, label_extra=HOSTILE_LABEL)
    data = dataclasses.replace(
        data,
        notes=[HOSTILE_TITLE],
        story_label=HOSTILE_LABEL,
        outcome_names={**data.outcome_names, "war": HOSTILE_QUOTE},
    )
    text = render_report(data)
    for payload in (HOSTILE_TITLE, HOSTILE_QUOTE, HOSTILE_LABEL, "<script>alert", "<img"):
        assert payload not in text
    page = Page(text)
    assert not [a for tag, a in page.tags if tag == "img"]
    # only our own scripts: bundle, four figure specs, the config, the loader
    assert len(page.scripts) == 7
    for attrs, body in page.scripts:
        if attrs.get("type") == "application/json":
            json.loads(body)  # still whole: nothing broke out of it
    # shown as text, exactly as written
    assert HOSTILE_TITLE in page.headings
    assert HOSTILE_QUOTE in page.visible
    assert HOSTILE_LABEL in page.visible
    # in figures, escaped for plotly's own markup
    figs = page.figures()
    assert figs["fig-outcomes"]["layout"]["yaxis"]["ticktext"][0] == (
        '&lt;/script&gt;&lt;script&gt;alert("label")&lt;/script&gt;'
    )
    assert "&lt;img" in figs["fig-outcomes"]["layout"]["annotations"][0]["text"]
    assert "&lt;img" in figs["fig-summary"]["layout"]["yaxis"]["ticktext"][0]


def test_write_report_is_atomic(tmp_path: Path, html: str) -> None:
    target = tmp_path / "report.html"
    assert write_report(make_data(), target) == target
    assert os.listdir(tmp_path) == ["report.html"]
    written = target.read_text(encoding="utf-8")
    assert written == html
    assert written.rstrip().endswith("</html>")


def test_write_report_failure_leaves_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "report.html"
    target.write_text("old report", encoding="utf-8")

    def broken_replace(src: str, dst: str) -> None:
        raise OSError("disk gone")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk gone"):
        write_report(make_data(), target)
    assert os.listdir(tmp_path) == ["report.html"]
    assert target.read_text(encoding="utf-8") == "old report"


def test_render_failure_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(data: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(report_html, "render_report", broken)
    with pytest.raises(RuntimeError):
        write_report(make_data(), tmp_path / "report.html")
    assert os.listdir(tmp_path) == []


def test_empty_results_still_render() -> None:
    data = dataclasses.replace(make_data(), configurations=[], story=[], register=[])
    page = Page(render_report(data))
    for heading in SECTIONS:
        assert heading in page.headings
    assert page.figures() == {}
    assert "No results to show." in page.visible
    assert "No story was recorded." in page.visible


def _last_date(start: dt.date, step_unit: str, step: int) -> dt.date | None:
    data = dataclasses.replace(make_data(start=start), step_unit=step_unit)
    dates = report_html._step_dates(data, step + 1)
    return None if dates is None else dates[-1]


def test_daily_steps_and_percent_format() -> None:
    assert _last_date(dt.date(2024, 1, 31), "month", 1) == dt.date(2024, 2, 28)
    assert _last_date(dt.date(2024, 1, 1), "daily", 10) == dt.date(2024, 1, 11)
    assert _last_date(dt.date(2024, 1, 1), "quarter", 5) == dt.date(2025, 4, 1)
    assert _last_date(dt.date(2024, 1, 1), "tick", 5) is None
    assert report_html._pct(0.0) == "0%"
    assert report_html._pct(0.1234) == "12.3%"
    assert report_html._pct(0.00012) == "0.012%"
    assert report_html._pct(float("nan")) == "—"
