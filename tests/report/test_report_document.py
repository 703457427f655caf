"""The report as a document: a summary first, contents whose anchors resolve, figures whose
legends name lenses and settings rather than every configuration, a register that wraps long
expressions and shows each quote once with its source's title, a narrated run that folds steps
where nothing new happened — and, in a real browser where one is installed, no horizontal scroll
at 1280 and 1920 pixels."""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
import subprocess
import tempfile
from html import unescape
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from report_support import make_data
from test_report_html import Page

from redline.experiment.store import Store
from redline.report.build import point_tables
from redline.report.data import ConfigurationReport, ReportData
from redline.report.html import render_report
from redline.report.story import StoryLine
from redline.results import OutcomeSummary
from redline.scenario.model import SourceRecord
from redline.scenario.register import Citation, RegisterRow
from redline.stats import wilson_interval

LENSES = {"baseline": "neutral baseline", "wsws": "WSWS: escalation driven by NATO"}
SETTINGS = [
    "defaults",
    "ukraine_membership=vilnius_invitation",
    "ukraine_membership=security_guarantees",
    "nato_response=none",
    "nato_response=consultation",
    "nuclear_doctrine=doctrine_2020",
]
OUTCOMES = {"war": "direct NATO–Russia war", "nuclear": "Russian nuclear use"}
#: hits of 2,000 runs per (lens, setting, outcome): settings 3 and 4 end the war, the rest do not
RUNS = 2000
HORIZON = 6
LONG_EXPRESSION = (
    "restraint_usa * (1 + nuclear_signal) * where(step >= 9 and step <= 16, 1 + campaign_caution,"
    " 1) * where(transactional.USA > 0.25 and transactional.USA < 0.75, 1 - trump_proof, 1) + "
    "penalty_for_a_very_long_expression_name"
)


def _hits(lens: int, setting: int, outcome: str) -> int:
    if outcome == "war":
        return 40 if setting in (3, 4) else 1500 - 300 * lens
    return 200 + 10 * setting


def _summary(ident: str, hits: int) -> OutcomeSummary:
    lo, hi = wilson_interval(hits, RUNS)
    return OutcomeSummary(ident, OUTCOMES[ident], hits, RUNS, hits / RUNS, lo, hi, 3.0)


def _configuration(lens: int, setting: int) -> ConfigurationReport:
    lens_id, lens_name = list(LENSES.items())[lens]
    levers = dict(part.split("=") for part in SETTINGS[setting].split(", ") if "=" in part)
    outcomes = [_summary(o, _hits(lens, setting, o)) for o in OUTCOMES]
    return ConfigurationReport(
        label=f"{SETTINGS[setting]} · lens {lens_name}",
        levers=levers,
        lens=lens_id,
        runs=RUNS,
        outcomes=outcomes,
        incidence={s.id: list(np.linspace(0, s.p, HORIZON)) for s in outcomes},
        occupancy=np.full((HORIZON, 3), RUNS // 3, dtype=np.int64),
        setting=SETTINGS[setting],
        lens_name=lens_name,
    )


def _story() -> list[StoryLine]:
    """Step 0: a choice and a red line crossed; steps 1–2 the same again; step 3 the ladder
    moves; steps 4–9 the red line is crossed unenforced again each step and nothing else."""
    crossed = 'red line crossed, not enforced: "no long-range missiles" (rl_long_range)'
    lines = [
        StoryLine(0, "step 0 (Jul 2023)", 'United States chose "US aid package"', kind="decision"),
        StoryLine(0, "step 0 (Jul 2023)", crossed, "crossed by aid:long_range", kind="red_line"),
    ]
    for step, month in ((1, "Aug"), (2, "Sep")):
        when = f"step {step} ({month} 2023)"
        lines.append(StoryLine(step, when, 'United States chose "US aid package"', kind="decision"))
        lines.append(StoryLine(step, when, crossed, kind="red_line"))
    lines.append(StoryLine(3, "step 3 (Oct 2023)", "ladder: up to Sanctions", kind="ladder"))
    months = ["Nov 2023", "Dec 2023", "Jan 2024", "Feb 2024", "Mar 2024", "Apr 2024"]
    for step, month in enumerate(months, start=4):
        lines.append(StoryLine(step, f"step {step} ({month})", crossed, kind="red_line"))
    return lines


def _register() -> list[RegisterRow]:
    record = SourceRecord.model_validate(
        {
            "id": "wsws_2024",
            "title": "NATO summit in Washington prepares wider war",
            "author": "Andre Damon",
            "date": "2024-07-10",
            "file": "001.txt",
        }
    )
    quote = "the alliance announced the creation of an office inside Ukraine"
    cite = Citation("001.txt", quote, "command in Kyiv", record)
    return [
        RegisterRow("actors.USA", "decision.escalation_cost", LONG_EXPRESSION, (cite,), "why"),
        RegisterRow("actors.USA", "decision.lambda", "30.0", (cite,), "why"),
        RegisterRow("parameters.nato_command", "value", "1.0", (cite,), None),
        RegisterRow("parameters.drift", "value", "0.02", (), "a small monthly drift"),
    ]


def eighteen() -> ReportData:
    """Six lever settings under each of two lenses — twelve configurations — with a story that
    repeats itself and a register with a 214-character expression."""
    base = make_data()
    configs = [_configuration(k, j) for k in range(len(LENSES)) for j in range(len(SETTINGS))]
    return dataclasses.replace(
        base,
        outcome_names=dict(OUTCOMES),
        configurations=configs,
        horizon=HORIZON,
        rungs=["Peace", "Sanctions", "War"],
        story=_story(),
        register=_register(),
        lever_defaults={
            "ukraine_membership": "no_invitation",
            "nato_response": "collective_defence",
            "nuclear_doctrine": "revision_2024",
        },
    )


def section(html: str, ident: str) -> str:
    """The text of one section as a reader sees it: tags dropped, whitespace squashed."""
    start = html.index(f'<section id="{ident}">')
    body = html[start : html.index("</section>", start)]
    return " ".join(unescape(re.sub(r"<[^>]+>", "", body)).split())


@pytest.fixture(scope="module")
def html() -> str:
    return render_report(eighteen())


@pytest.fixture(scope="module")
def page(html: str) -> Page:
    return Page(html)


def test_every_contents_link_lands_on_a_section(page: Page) -> None:
    ids = {a["id"] for _, a in page.tags if a.get("id")}
    links = [str(a["href"]) for tag, a in page.tags if tag == "a" and a.get("href")]
    assert {"#summary", "#outcomes", "#story", "#register", "#quotes", "#contents"} <= set(links)
    for link in links:
        assert link.startswith("#") and link[1:] in ids, link


def test_the_summary_comes_first_and_says_the_headline_in_words(html: str, page: Page) -> None:
    sections = [a["id"] for tag, a in page.tags if tag == "section"]
    assert sections[0] == "summary"
    summary = section(html, "summary")
    # per lens, the defaults' outcomes, most likely first, with their intervals
    assert "Lens: neutral baseline (defaults, 2,000 runs)" in summary
    assert "direct NATO–Russia war 75.0% (73.1%–76.8%); Russian nuclear use 10.0%" in summary
    assert "Lens: WSWS: escalation driven by NATO" in summary
    assert "direct NATO–Russia war 60.0%" in summary
    # a setting that moves an outcome beyond the intervals is named with both values
    assert "nato_response=none: direct NATO–Russia war 75.0% → 2.0%" in summary
    # one that does not, says so, never calls noise an effect
    assert "ukraine_membership=vilnius_invitation: no outcome changes beyond its 95%" in summary
    assert "The lenses disagree most on direct NATO–Russia war: 60.0% under WSWS" in summary


def _legend_entries(fig: dict[str, object], visible_only: bool = False) -> list[str]:
    data = fig["data"]
    assert isinstance(data, list)
    return [
        str(t.get("name"))
        for t in data
        if t.get("showlegend", True) and (not visible_only or t.get("visible", True) is True)
    ]


def test_legends_name_lenses_and_settings_not_every_configuration(page: Page) -> None:
    figs = page.figures()
    configurations = len(LENSES) * len(SETTINGS)
    # the summary and the outcome panels: one entry (and one colour) per lens
    for name in ("fig-summary", "fig-outcomes"):
        entries = _legend_entries(figs[name])
        assert entries == list(LENSES.values()), (name, entries)
        colours = {t["marker"]["color"] for t in figs[name]["data"] if "marker" in t}
        assert len(colours) == len(LENSES)
    # the outcome panels: a row per setting, whatever the number of configurations
    assert figs["fig-outcomes"]["layout"]["yaxis"]["ticktext"] == SETTINGS[::-1]
    # incidence: the settings of the lens the menu shows
    shown = _legend_entries(figs["fig-incidence"], visible_only=True)
    assert shown == SETTINGS and len(shown) < configurations
    buttons = figs["fig-incidence"]["layout"]["updatemenus"][0]["buttons"]
    assert [b["label"] for b in buttons] == [f"lens: {name}" for name in LENSES.values()]


def _css(html: str) -> str:
    match = re.search(r"<style>(.*?)</style>", html, re.S)
    assert match
    return " ".join(match.group(1).split())


def test_the_register_wraps_long_expressions_in_a_fixed_layout(html: str, page: Page) -> None:
    css = _css(html)
    assert "table.outcomes, table.register { table-layout: fixed; }" in css
    assert re.search(r"table\.register code \{[^}]*overflow-wrap: anywhere", css)
    assert "white-space: nowrap; }" not in css.split("table.register", 1)[1].split("}", 1)[0]
    cols = [a.get("class") for tag, a in page.tags if tag == "col"]
    assert cols == ["element", "values", "support"]
    assert LONG_EXPRESSION in page.visible and len(LONG_EXPRESSION) >= 214


def test_each_quote_once_with_its_source_title_and_the_kinds_counted(html: str, page: Page) -> None:
    text = section(html, "register")
    quote = "the alliance announced the creation of an office inside Ukraine"
    assert text.count(quote) == 1  # three values cite it; it is shown once
    assert "NATO summit in Washington prepares wider war (Andre Damon, 10 July 2024)" in text
    refs = [a["href"] for tag, a in page.tags if tag == "a" and a.get("class") == "ref"]
    assert refs == ["#q1", "#q1"]  # the two groups that cite it point to it
    assert "cited by actors.USA, parameters.nato_command" in text
    assert "By kind of number: 3 qualitative 1 assumption" in text
    assert "reasoning: why" in text and "assumption: a small monthly drift" in text
    # a group's shared kind is said once, beside its badge, not on every value
    assert "decision.lambda = 30.0 cited qualitative [1]" in text


def test_the_narrated_run_folds_steps_where_nothing_new_happened(html: str) -> None:
    story = section(html, "story")
    assert "steps 1–2 (Aug 2023 – Sep 2023): nothing new in 2 steps" in story
    assert (
        "steps 4–9 (Nov 2023 – Apr 2024): nothing new in 6 steps "
        'red line crossed, not enforced: "no long-range missiles" (rl_long_range) ×6'
    ) in story
    # told in full once, at step 0 (with its reason), then only counted
    assert story.count("crossed by aid:long_range") == 1
    assert story.count("red line crossed, not enforced") == 3  # step 0, and the two folds
    assert "step 3 (Oct 2023) ladder: up to Sanctions" in story


def test_scenario_strings_in_new_places_are_escaped() -> None:
    hostile = '<img src=x onerror=alert("x")>'
    data = eighteen()
    configs = [
        dataclasses.replace(c, setting=hostile, lens_name=hostile + c.lens_name)
        for c in data.configurations
    ]
    record = SourceRecord.model_validate({"id": "s", "title": hostile})
    rows = [
        dataclasses.replace(data.register[0], citations=(Citation("f", hostile, None, record),))
    ]
    story = [StoryLine(0, "step 0", hostile, hostile, (hostile,), "decision")]
    text = render_report(
        dataclasses.replace(data, configurations=configs, register=rows, story=story)
    )
    assert "<img" not in text
    page = Page(text)
    assert not [a for tag, a in page.tags if tag == "img"]
    assert hostile in page.visible
    figs = page.figures()
    assert figs["fig-summary"]["data"][-1]["name"].startswith("&lt;img")
    assert figs["fig-outcomes"]["layout"]["yaxis"]["ticktext"][0].startswith("&lt;img")


def test_a_sweeps_design_points_are_pooled_by_lever_setting() -> None:
    """Design points that differ only in a fixed uncertainty: the summary pools their runs and
    gives the range across them."""
    data = eighteen()
    points = []
    for k, threshold in enumerate((-0.8, -0.6)):
        for c in data.configurations[: len(SETTINGS)]:
            outcomes = [
                _summary(s.id, s.hits + (100 if s.id == "nuclear" and k else 0)) for s in c.outcomes
            ]
            setting = f"{c.setting}, nuclear_threshold={threshold}".removeprefix("defaults, ")
            points.append(dataclasses.replace(c, outcomes=outcomes, setting=setting))
    html = render_report(dataclasses.replace(data, configurations=points, source="sweep"))
    summary = section(html, "summary")
    assert "(defaults, 2 design points pooled, 4,000 runs)" in summary
    # nuclear: 200 and 300 of 2,000 runs pooled = 12.5%, ranging 10.0%–15.0% across the points
    assert "Russian nuclear use 12.5% (11.5%–13.6%; 10.0%–15.0% across the design points)" in (
        summary
    )
    assert "Design point" in section(html, "outcomes")


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


_MEASURE = """<script>
window.addEventListener("load", function () { setTimeout(function () {
  var de = document.documentElement, wide = [];
  document.querySelectorAll("table, .plot, pre, blockquote").forEach(function (t) {
    var box = t.closest(".table-wrap") || t.parentElement;
    if (t.getBoundingClientRect().right > de.clientWidth + 1) { wide.push(t.className); }
    if (box && box.scrollWidth > box.clientWidth + 1) { wide.push("in " + box.className); }
  });
  var p = document.createElement("pre"); p.id = "measured";
  p.textContent = JSON.stringify({scroll: de.scrollWidth, client: de.clientWidth, wide: wide});
  document.body.appendChild(p); }, 500); });
</script>"""


@pytest.mark.skipif(
    _chromium() is None, reason="no Chromium here: the page's width is checked in a real browser"
)
@pytest.mark.parametrize("width", [1280, 1920])
def test_no_horizontal_scroll_in_a_real_browser(html: str, width: int) -> None:
    """Chromium lays the page out at the width: nothing wider than the page or its box."""
    browser = _chromium()
    assert browser is not None
    with tempfile.TemporaryDirectory() as folder:
        page = Path(folder) / "report.html"
        page.write_text(html.replace("</body>", _MEASURE + "</body>"), encoding="utf-8")
        proc = subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                f"--window-size={width},1600",
                "--virtual-time-budget=20000",
                "--dump-dom",
                page.as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    match = re.search(r'<pre id="measured">(.*?)</pre>', proc.stdout, re.S)
    assert match, proc.stderr[-2000:]
    measured = json.loads(match.group(1).replace("&quot;", '"').replace("&amp;", "&"))
    assert measured["scroll"] <= measured["client"], measured
    assert measured["wide"] == [], measured


def test_many_outcomes_turn_the_table_to_a_row_per_outcome() -> None:
    """Nine outcomes do not fit the page side by side: each lens's table has a row per outcome
    and a column per lever setting."""
    data = eighteen()
    extra = {f"o{i}": f"outcome number {i} with a long name" for i in range(7)}
    configs = [
        dataclasses.replace(
            c,
            outcomes=[
                *c.outcomes,
                *(
                    OutcomeSummary(i, name, 10, RUNS, 10 / RUNS, 0.0, 0.01, None)
                    for i, name in extra.items()
                ),
            ],
        )
        for c in data.configurations
    ]
    html = render_report(
        dataclasses.replace(
            data, configurations=configs, outcome_names={**data.outcome_names, **extra}
        )
    )
    start = html.index('<table class="outcomes turned">')
    table = html[start : html.index("</table>", start)]
    head = table[: table.index("</thead>")]
    assert ">Outcome</th>" in head and "nato_<wbr>response=<wbr>none" in head
    rows = re.findall(r"<tr><td>([^<]*)</td>", table)
    assert rows == [*OUTCOMES.values(), *extra.values()]
    assert html.count('<table class="outcomes turned">') == len(LENSES)


def test_rows_split_by_point_are_the_same_sliced_or_filtered(tmp_path: Path) -> None:
    """The report reads an experiment's rows once and slices them by design point (no copies
    where the store gives them ordered by point); unordered rows are filtered instead, with the
    same result."""
    points = [0, 0, 1, 1, 1, 3]
    ordered = pa.table({"point": points, "run": list(range(len(points)))})
    shuffled = ordered.take([4, 0, 5, 2, 1, 3])
    store = Store(tmp_path / "unused.duckdb")  # rows given: the store is not read
    sliced = point_tables(store, "x", ordered)
    filtered = point_tables(store, "x", shuffled)
    assert sorted(sliced) == sorted(filtered) == [0, 1, 3]
    for point in sliced:
        assert sorted(sliced[point].column("run").to_pylist()) == sorted(
            filtered[point].column("run").to_pylist()
        )
    assert sliced[1].column("run").to_pylist() == [2, 3, 4]
    assert not (tmp_path / "unused.duckdb").exists()
