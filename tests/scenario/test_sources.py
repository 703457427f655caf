"""Sources and the register's kinds of number.

A scenario's ``sources`` section gives each source a bibliographic record, validated with
messages at their lines; evidence names a record by id (or by its file), and the title, author and
date are shown wherever its quotes are. The register says of each number whether a source states
it (the quote contains it, checked mechanically), supports it qualitatively (a quote plus the
reasoning from quote to number), whether it is an assumption, or unsupported.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import redline
from redline.scenario.errors import ScenarioError
from redline.scenario.explain import explain
from redline.scenario.loader import load_scenario
from redline.scenario.model import EvidenceItem, Scenario
from redline.scenario.register import KINDS, kind_counts, register
from redline.scenario.sources import (
    date_problem,
    find_record,
    occurs_in,
    reference,
    shown_date,
)

from .support import BASE, BUILTIN, SOURCES, run_cli

BASE_TEXT = BASE.read_text(encoding="utf-8")
MONTHS = (
    *("January", "February", "March", "April", "May", "June"),
    *("July", "August", "September", "October", "November", "December"),
)

SOURCES_BLOCK = """\
sources:
  - id: wsws_2024
    title: "NATO war summit prepares direct entry into Ukraine war"
    author: Andre Damon
    publisher: World Socialist Web Site
    date: 2024-07-10
    url: https://www.wsws.org/en/articles/2024/07/11/gzdi-j11.html
    file: summit.txt
  - id: essay
    title: "An essay"
    date: 2022-03
  - id: notes
    title: "Notes"
    file: notes.txt

evidence:
  - id: src
    source: notes.txt
    quote: "a short quote"
  - id: spend
    source: wsws_2024
    quote: "In 2023, spending grew by 8 percent. This year, it is set to grow by 18 percent."
    states: [0.08, "18%"]
  - id: by_file
    source: summit.txt
    quote: "a short quote"
  - id: public
    source: "The North Atlantic Treaty, Washington D.C., 4 April 1949, Article 5"
    quote: "an armed attack against one or more of them"
"""

PARAMETERS = """\
parameters:
  - id: growth_2023
    value: 0.08
    evidence: [spend]
  - id: growth_2024
    value: 0.18
    evidence: [spend]
  - id: eight
    value: 8
    evidence: [spend]
  - id: eu_package
    value: 0.06
    evidence: [spend]
    assumption: "a package closes 6% of the gap, scaled by the growth in spending"
  - id: bare_quote
    value: 0.5
    evidence: [by_file, public]
  - id: guess
    value: 0.3
    assumption: "no source estimates it"
  - id: nothing
    value: 0.2
"""


def _scenario(tmp_path: Path, sources: str = SOURCES_BLOCK, name: str = "s.yaml") -> Path:
    """The corpus base with a sources section, its evidence and parameters of every kind."""
    text = BASE_TEXT.replace(
        'evidence:\n  - id: src\n    source: notes.txt\n    quote: "a short quote"\n', sources
    ).replace("parameters:\n", PARAMETERS)
    assert sources in text and PARAMETERS in text
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _issues(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return [str(issue) for issue in info.value.issues]


def _line(path: Path, text: str, after: str = "") -> int:
    """The 1-based line of the first line containing ``text`` (after one containing ``after``)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and text in line) + 1


# ------------------------------------------------------------------------- the three kinds


def test_each_number_gets_its_kind(tmp_path: Path) -> None:
    s = load_scenario(_scenario(tmp_path)).scenario
    rows = {r.element: r for r in register(s) if r.element.startswith("parameters.")}
    kinds = {element.split(".", 1)[1]: row.kind for element, row in rows.items()}
    assert kinds == {
        "growth_2023": "stated",  # 0.08 is '8 percent' in the quote
        "growth_2024": "stated",  # '18%' declared, '18 percent' in the quote
        "eight": "qualitative",  # 8 is not a number the item declares it states (0.08 is)
        "eu_package": "qualitative",
        "bare_quote": "qualitative",
        "guess": "assumption",
        "nothing": "unsupported",
        "p_invoke": "qualitative",
    }
    # the reasoning from quote to number is the element's assumption, for qualitative ones only
    assert rows["parameters.eu_package"].reasoning == (
        "a package closes 6% of the gap, scaled by the growth in spending"
    )
    assert rows["parameters.bare_quote"].reasoning is None
    assert rows["parameters.guess"].reasoning is None
    # the cited kinds are still 'cited' to a reader of the old status
    assert {rows[f"parameters.{p}"].status for p in ("growth_2023", "bare_quote")} == {"cited"}


def test_counts_are_the_kinds_of_the_rows(tmp_path: Path) -> None:
    rows = register(load_scenario(_scenario(tmp_path)).scenario)
    counts = kind_counts(rows)
    assert list(counts) == list(KINDS)
    assert sum(counts.values()) == len(rows)
    for kind in KINDS:
        assert counts[kind] == sum(r.kind == kind for r in rows)
    assert counts["stated"] == 2 and counts["unsupported"] >= 1


def test_a_citation_names_its_record(tmp_path: Path) -> None:
    s = load_scenario(_scenario(tmp_path)).scenario
    rows = {r.element: r for r in register(s)}
    spend = rows["parameters.growth_2023"].citations[0]
    assert spend.record is not None and spend.record.id == "wsws_2024"
    assert spend.reference == (
        "Andre Damon, “NATO war summit prepares direct entry into Ukraine war”, "
        "World Socialist Web Site, 10 July 2024"
    )
    by_file, public = rows["parameters.bare_quote"].citations
    assert by_file.record is not None and by_file.record.id == "wsws_2024"  # by its file name
    assert public.record is None and public.reference == public.source  # free text, as written


# ------------------------------------------------------------------------- validation


def test_a_stated_number_missing_from_its_quote_is_an_error_at_its_line(tmp_path: Path) -> None:
    block = SOURCES_BLOCK.replace('states: [0.08, "18%"]', "states: [0.08, 0.8]")
    path = _scenario(tmp_path, block)
    line = _line(path, "states: [0.08, 0.8]")
    assert _issues(path) == [
        f"{path}:{line}: evidence[1].states[1]: the quote does not state 0.8: no such number "
        "(or percentage) in its text"
    ]


@pytest.mark.parametrize(
    ("states", "message"),
    [
        ("[8%]", None),  # YAML reads 8% as text: a percentage
        ('["8"]', "a stated number is a number (0.08) or a percentage ('8%'), got '8'"),
        ('["eight"]', "a stated number is a number (0.08) or a percentage ('8%'), got 'eight'"),
        ('["80%"]', "the quote does not state 80%: no such number"),
        ("[0.18]", None),
        ("[18]", None),
        ("[2023]", None),
        ("[3]", "the quote does not state 3: no such number"),
    ],
)
def test_stated_numbers_are_checked(tmp_path: Path, states: str, message: str | None) -> None:
    block = SOURCES_BLOCK.replace('states: [0.08, "18%"]', f"states: {states}")
    path = _scenario(tmp_path, block)
    if message is None:
        load_scenario(path)
        return
    issues = _issues(path)
    assert len(issues) == 1 and message in issues[0], issues
    assert issues[0].startswith(f"{path}:{_line(path, 'states:')}: evidence[1].states[0]: ")


def test_source_records_are_validated(tmp_path: Path) -> None:
    block = (
        SOURCES_BLOCK.replace("date: 2024-07-10", 'date: "2024-13-10"')
        .replace("date: 2022-03", 'date: "March 2022"')
        .replace("  - id: essay\n", "  - id: wsws_2024\n")
        .replace("url: https://", "url: www.")
        .replace("source: summit.txt", "source: sumit.txt")
        + "  - id: bad_ref\n    source: wsws_2025\n    quote: q\n"
    )
    block = block.replace('"An essay"\n', '"An essay"\n    file: summit.txt\n')
    path = _scenario(tmp_path, block)
    issues = _issues(path)
    want = [
        ('"2024-13-10"', "", "sources[0].date: '2024-13-10' is not a date on the calendar"),
        ("url: www.", "", "sources[0].url: a source's url starts with http:// or https://"),
        ("id: wsws_2024", "file: summit.txt", "sources[1].id: duplicate source id 'wsws_2024'"),
        ('"March 2022"', "", "sources[1].date: a source's date is YYYY-MM-DD, YYYY-MM or YYYY"),
        ("file: summit.txt", "An essay", "sources[1].file: file 'summit.txt' is already the file"),
        ("source: sumit.txt", "", "evidence[2].source: unknown source 'sumit.txt'; did you mean"),
        ("source: wsws_2025", "", "evidence[4].source: unknown source 'wsws_2025'; did you mean"),
    ]
    for needle, after, message in want:
        line = _line(path, needle, after)
        assert any(i.startswith(f"{path}:{line}: {message}") for i in issues), (message, issues)
    assert len(issues) == len(want), issues


def test_without_a_sources_section_any_source_stays_valid(tmp_path: Path) -> None:
    """Existing scenarios name their sources by file or in words; with no records there is
    nothing to check them against, and their citations are free text."""
    s = load_scenario(BASE).scenario
    assert not s.sources
    rows = register(s)
    assert {c.source for r in rows for c in r.citations} == {"notes.txt"}
    assert all(c.record is None and c.reference == "notes.txt" for r in rows for c in r.citations)


@pytest.mark.parametrize(
    ("date", "shown", "problem"),
    [
        ("2024", "2024", None),
        ("2024-07", "July 2024", None),
        ("2024-07-10", "10 July 2024", None),
        ("2024-02-30", "2024-02-30", "not a date on the calendar"),
        ("2024-7-10", "2024-7-10", "YYYY-MM-DD, YYYY-MM or YYYY"),
        ("July 2024", "July 2024", "YYYY-MM-DD, YYYY-MM or YYYY"),
    ],
)
def test_dates(date: str, shown: str, problem: str | None) -> None:
    assert shown_date(date) == shown
    found = date_problem(date)
    assert (found is None) if problem is None else (found is not None and problem in found)


@given(st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31)))
def test_every_calendar_date_is_accepted_in_each_form(day: dt.date) -> None:
    iso = day.isoformat()
    for text in (iso, iso[:7], iso[:4]):
        assert date_problem(text) is None, text
    month = MONTHS[day.month - 1]  # named in English whatever the locale
    assert shown_date(iso) == shown_date(day) == f"{day.day} {month} {day.year}"
    assert shown_date(iso[:7]) == f"{month} {day.year}"


# ------------------------------------------------------------------------- the number check

_words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz ,;:", max_size=30)


@given(st.integers(min_value=1, max_value=999), _words, _words)
def test_a_percentage_in_a_quote_states_its_fraction(n: int, before: str, after: str) -> None:
    for written in (f"{n}%", f"{n} percent", f"{n} per cent"):
        quote = f"{before} {written} {after}"
        assert occurs_in(n / 100, quote), quote
        assert occurs_in(f"{n}%", quote), quote
        assert occurs_in(n, quote), quote


@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=0, max_value=10**6))
def test_a_number_is_stated_only_if_written(n: int, m: int) -> None:
    quote = f"it grew by {n:,} units"  # thousands separated by commas
    assert occurs_in(n, quote)
    assert occurs_in(m, quote) == (m == n)
    assert not occurs_in(f"{n}%", quote)  # a percentage only as a percentage


def test_a_number_inside_another_is_not_stated() -> None:
    quote = "they are set to grow by 18 percent in 2024"
    assert not occurs_in(0.08, quote) and not occurs_in(8, quote) and not occurs_in(0.2, quote)
    assert occurs_in(0.18, quote) and occurs_in(2024, quote)
    assert occurs_in(1.5, "a rise of 1.5 points") and not occurs_in(5, "a rise of 1.5 points")


# ------------------------------------------------------------------------- built-ins


def test_builtin_counts_are_no_longer_all_cited() -> None:
    """nato-russia: the two spending growth rates are the only numbers a source states; most
    values are supported qualitatively, and the rest are assumptions."""
    rows = register(redline.load("nato-russia"))
    stated = sorted((r.element, r.value) for r in rows if r.kind == "stated")
    assert stated == [("parameters.growth_2023", "0.08"), ("parameters.growth_2024", "0.18")]
    counts = kind_counts(rows)
    assert counts["qualitative"] < len(rows) - 2 and counts["assumption"] > 0
    assert counts["unsupported"] == 0
    # Cuba: McNamara's "99 percent" is the Havana lens's chance of US nuclear retaliation
    cuba = register(redline.load("cuban-missile-crisis"))
    in_cuba = sorted((r.element, r.name, r.value) for r in cuba if r.kind == "stated")
    assert in_cuba == [("lenses.havana_1992", "p_us_nuclear", "0.99")]


@pytest.mark.parametrize("path", sorted(BUILTIN.glob("*.yaml")), ids=lambda p: p.stem)
def test_builtin_stated_numbers_are_in_their_quotes(path: Path) -> None:
    for row in register(load_scenario(path).scenario):
        if row.kind == "stated":
            assert any(occurs_in(float(row.value), c.quote) for c in row.citations), row


@pytest.mark.parametrize("name", ["nato-russia", "convoy-strike"])
def test_builtin_records_match_their_texts(name: str) -> None:
    """Each record's title (and author, where given) is in the header of the text it names."""
    if not SOURCES.is_dir():
        pytest.skip(f"the source documents are not here ({SOURCES}): set REDLINE_SOURCES")
    s = redline.load(name)
    assert {r.file for r in s.sources} >= {
        "000_d548736974d81a75.txt",
        "001_8b9f03ba5201968e.txt",
        "003_25c02ed85bea251d.txt",
    }
    for record in s.sources:
        if record.file is None:  # a public record: its quotes are checked against no text here
            assert record.url or record.note or record.date, record.id
            continue
        head = "\n".join((SOURCES / record.file).read_text(encoding="utf-8").splitlines()[:8])
        assert record.title in head, record.id
        if record.author:
            assert record.author in head, record.id


def test_explain_shows_titles_not_file_hashes() -> None:
    result = run_cli("explain", "convoy-strike", width=1000)
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Sources" in text
    title = "“NATO's Vilnius summit will authorize escalation of its war against Russia”"
    # the evidence list: each source by its record, its quotes numbered under it
    assert re.search(
        rf"^Andre Damon, {re.escape(title)}, World Socialist Web Site, 10 July 2023\n  \d+\. “",
        text,
        flags=re.M,
    )
    assert not re.search(r"^00[013]_[0-9a-f]{16}\.txt", text, flags=re.M)  # not by file hash
    assert "10 July 2023" in text and "Expert Circle" in text


def test_explain_json_carries_kinds_and_records() -> None:
    result = run_cli("explain", "nato-russia", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rows = data["register"]
    assert data["counts"] == {k: sum(r["kind"] == k for r in rows) for k in KINDS}
    stated = [r for r in rows if r["kind"] == "stated"]
    assert {r["element"] for r in stated} == {"parameters.growth_2023", "parameters.growth_2024"}
    record = stated[0]["citations"][0]["record"]
    assert record["title"] == "NATO war summit prepares direct entry into Ukraine war"
    assert record["author"] == "Andre Damon" and record["date"] == "2024-07-10"
    assert {s["id"] for s in data["sources"]} >= {"wsws_vilnius_2023", "wsws_washington_2024"}
    # public records have records too now: none is named in words
    assert data["free_text_sources"] == []
    treaty = next(s for s in data["sources"] if s["id"] == "north_atlantic_treaty_art5")
    assert treaty["publisher"] == "NATO" and treaty["date"] == "1949-04-04"
    x = explain(redline.load("nato-russia"))
    assert data["counts"] == dict(x.counts)


def test_reference_leaves_out_what_a_record_lacks() -> None:
    s = redline.load("convoy-strike")
    essay = next(r for r in s.sources if r.file == "003_25c02ed85bea251d.txt")
    assert reference(essay) == "“Why Putin wants NATO to formally join the war”, Expert Circle"


def test_the_story_quotes_sources_by_their_records() -> None:
    """The compiled reactions carry the quotes the story of a run tells, under their titles."""
    from redline.compile import compile_scenario

    program = compile_scenario(redline.load("convoy-strike"))
    quotes = [q for r in (*program.rules, *program.schedule) for q in r.evidence]
    assert quotes
    essay = "“Why Putin wants NATO to formally join the war”, Expert Circle: “"
    assert any(q.startswith(essay) for q in quotes), quotes
    assert not any(re.match(r"00[013]_[0-9a-f]{16}\.txt", q) for q in quotes), quotes


def _evidence_items(s: Scenario) -> list[EvidenceItem]:
    """Every evidence item of a scenario: the top-level list, and those written inline in any
    element (observations and forecasts among them) or lever option."""
    items = list(s.evidence)
    for field in type(s).model_fields:
        value = getattr(s, field)
        if not isinstance(value, list):
            continue
        for element in value:
            refs = list(getattr(element, "evidence", []))
            for nested in (*getattr(element, "clauses", []), *getattr(element, "options", [])):
                refs += nested.evidence
            items += [ref for ref in refs if isinstance(ref, EvidenceItem)]
    return items


@pytest.mark.parametrize("path", sorted(BUILTIN.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_builtin_quote_names_a_bibliographic_record(path: Path) -> None:
    """Free-text public records became records too (title, publisher or author, date): every
    quote of a built-in, observations' and forecasts' included, names one, and is shown by it."""
    s = load_scenario(path).scenario
    items = _evidence_items(s)
    assert items, "a built-in scenario quotes no evidence"
    unnamed = sorted({i.source for i in items if find_record(s.sources, i.source) is None})
    assert not unnamed, "quotes whose source has no record:\n" + "\n".join(unnamed)
    for record in s.sources:
        assert record.publisher or record.author, record.id
    for row in register(s):
        for c in row.citations:
            assert c.record is not None and c.reference != c.source, (row.element, c.source)
