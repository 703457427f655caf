"""What a notebook user meets: results, summaries, stories, experiments and comparisons show as
HTML tables (every scenario text escaped, so a name can never inject markup), convert to Arrow
and pandas with the same numbers, and come from the same library functions as the command line
(``redline story``, ``sweep``, ``compare``, the report)."""

from __future__ import annotations

import ast
import html
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import redline
from redline.cli import app
from redline.tables import html_table

SCENARIO = "convoy-strike"
BUILTIN = Path(redline.__file__).parent / "scenarios" / f"{SCENARIO}.yaml"
EVIL = "<script>alert('x')</script> & <b>co</b>"
RUNS = 200


class _Cells(HTMLParser):
    """The text of each cell and caption of an HTML table, and every tag met."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[str] = []
        self.tags: list[str] = []
        self._open = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("td", "th", "caption", "p"):
            self.cells.append("")
            self._open = True

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "caption", "p"):
            self._open = False

    def handle_data(self, data: str) -> None:
        if self._open:
            self.cells[-1] += data


def parsed(text: str) -> _Cells:
    cells = _Cells()
    cells.feed(text)
    return cells


@pytest.fixture(scope="module")
def evil(tmp_path_factory: pytest.TempPathFactory) -> redline.Scenario:
    """The convoy scenario with markup in its title, an outcome's name and a lens's name."""
    text = BUILTIN.read_text(encoding="utf-8")
    for old in ("name: Article 5 invoked", "name: neutral baseline"):
        assert old in text
        text = text.replace(old, f'name: "{EVIL}"')
    assert text.count('title: "The convoy strike') == 1
    text = text.replace('title: "The convoy strike', f'title: "{EVIL} The convoy strike', 1)
    path = tmp_path_factory.mktemp("evil") / "evil.yaml"
    path.write_text(text, encoding="utf-8")
    return redline.load(path)


@pytest.fixture(scope="module")
def results(evil: redline.Scenario) -> redline.Results:
    return redline.simulate(evil, RUNS, seed=1, levers={"nato_response": "uncertain"})


@pytest.fixture(scope="module")
def swept(tmp_path_factory: pytest.TempPathFactory) -> redline.Experiment:
    store = tmp_path_factory.mktemp("sweep") / "notebook.duckdb"
    return redline.sweep(SCENARIO, name="nb", runs=RUNS, seed=2, store=store)


def _no_markup_from_the_scenario(text: str) -> None:
    tags = set(parsed(text).tags)
    assert not tags & {"script", "b"}, tags
    assert "<script>" not in text and html.escape(EVIL) in text


def test_a_summary_is_a_typed_table_that_still_reads_as_a_list(
    results: redline.Results,
) -> None:
    summary = results.summary()
    assert isinstance(summary, redline.Summary)
    assert [x.id for x in summary] == [o for o, _ in results.outcomes]
    assert summary[0].name == EVIL and len(summary) == 4
    arrow = summary.to_arrow()
    assert arrow.schema.field("p").type == pa.float64()
    assert arrow.schema.field("hits").type == pa.int64()
    assert arrow.column("id").to_pylist() == [x.id for x in summary]
    frame = summary.to_pandas()
    assert list(frame.columns) == summary.columns()
    assert frame["p"].tolist() == [x.p for x in summary]
    hits = [RUNS - results.table.column(f"first.{x.id}").null_count for x in summary]
    assert frame["hits"].tolist() == hits
    empty = redline.Summary([])
    assert empty.to_arrow().schema == arrow.schema and empty.to_arrow().num_rows == 0


def test_results_show_their_summary_escaped(results: redline.Results) -> None:
    shown = results._repr_html_()
    _no_markup_from_the_scenario(shown)
    cells = parsed(shown).cells
    assert cells[0] == results.caption and "200 runs, seed 1" in cells[0]
    head = cells[1 : 1 + len(redline.Summary.columns())]
    assert head == ["id", "name", "hits", "runs", "p", "lo", "hi", "mean_first_step"]
    first = results.summary()[0]
    assert f"{first.p:.1%}" in cells  # probabilities shown as percentages
    assert results.to_arrow() is results.table
    assert results.to_pandas().shape == (RUNS, results.table.num_columns)


def test_a_story_is_a_table_of_happenings(evil: redline.Scenario) -> None:
    story = redline.story(evil, seed=3, run=0)
    assert isinstance(story, redline.Story)
    traced = redline.trace(evil, seed=3, run=0, lens=evil.lenses[0].id)
    assert list(story) == list(traced.story) and story.ending == traced.ending
    assert story.header[-1].startswith("lens: ")  # the first lens, as `redline story`
    frame = story.to_pandas()
    assert frame["text"].tolist() == [line.text for line in story]
    assert frame["evidence"].map(tuple).tolist() == [line.evidence for line in story]
    shown = story._repr_html_()
    _no_markup_from_the_scenario(shown)
    cells = parsed(shown).cells
    assert cells[0] == story.caption and cells[1 : 1 + len(story.header)] == list(story.header)
    assert cells[-1] == story.ending and story[0].text in cells
    assert traced._repr_html_() == traced.story._repr_html_()


def test_the_story_function_tells_what_redline_story_prints(evil: redline.Scenario) -> None:
    """`redline story --verbose` (every step in full) prints the rows of redline.story(...,
    verbose=True), in order, between the same title, header and ending."""
    story = redline.story(SCENARIO, seed=3, levers={"nato_response": "collective"}, verbose=True)
    said = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "240"}).invoke(
        app,
        ["story", SCENARIO, "--seed", "3", "--lever", "nato_response=collective", "--verbose"],
    )
    assert said.exit_code == 0, said.output
    lines = [line.strip() for line in said.output.splitlines()]
    assert lines[0] == story.caption and lines[1 : 1 + len(story.header)] == list(story.header)
    assert " ".join(story.ending.split()) in " ".join(said.output.split())  # wrapped
    text = " ".join(said.output.split())
    at = 0
    for line in story:  # each happening, in the story's order
        found = text.find(" ".join(line.text.split()), at)
        assert found >= 0, line.text
        at = found


def test_a_sweep_is_the_command_lines_experiment(swept: redline.Experiment, tmp_path: Path) -> None:
    """The CLI's sweep with the same options finds the API's experiment complete (the same
    specification), and the summary counts what the stored rows give."""
    assert swept.record.complete and swept.record.points == 8
    said = CliRunner().invoke(
        app,
        [
            *("sweep", SCENARIO, "--name", "nb", "--runs", str(RUNS), "--seed", "2"),
            *("--store", str(swept.store), "--no-report"),
        ],
    )
    assert said.exit_code == 0, said.output
    assert "already complete" in said.output
    summary = swept.summary()
    rows = swept.to_arrow()
    assert rows.num_rows == 8 * RUNS
    lenses = {x.lens for x in summary}
    assert lenses == {"baseline", "provocation"}
    for x in summary:
        mine = rows.filter(pa.compute.equal(rows.column("lens"), x.lens))
        option = x.levers.removeprefix("nato_response=")
        mine = mine.filter(pa.compute.equal(mine.column("lever.nato_response"), option))
        assert x.runs == mine.num_rows == RUNS
        assert x.hits == RUNS - mine.column(f"first.{x.outcome}").null_count
    assert summary.to_pandas().shape == (32, len(summary.columns()))
    assert "Experiment(name='nb'" in repr(swept)
    assert parsed(swept._repr_html_()).cells[0] == summary.caption


def test_compare_shows_the_levels_beside_each_difference(swept: redline.Experiment) -> None:
    by_lens = redline.compare(swept, by="lens")
    assert by_lens.axes == ("lens",) and len(by_lens) == 4 * 4
    p = {(x.levers, x.lens, x.name): x.p for x in swept.summary()}
    for d in by_lens:
        levers = d.held
        assert d.p_option == p[(levers, d.option, d.outcome)]
        assert d.p_baseline == p[(levers, d.baseline, d.outcome)]
        assert d.difference == pytest.approx(d.p_option - d.p_baseline, abs=1e-12)
        assert d.lo <= d.difference <= d.hi
    frame = by_lens.to_pandas()
    assert {"p_option", "p_baseline", "difference", "lo", "hi"} <= set(frame.columns)
    by_lever = redline.compare("nb", store=swept.store, lens="provocation")
    assert by_lever.axes == ("nato_response",) and len(by_lever.along("nato_response")) == 12
    assert {d.held for d in by_lever} == {"lens=provocation"}
    assert {d.lens for d in by_lever} == {"provocation"} and {d.lens for d in by_lens} == {None}


def test_the_command_lines_compare_prints_what_the_function_returns(
    swept: redline.Experiment,
) -> None:
    said = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "240"}).invoke(
        app, ["compare", "nb", "--by", "lens", "--store", str(swept.store)]
    )
    assert said.exit_code == 0, said.output
    rows = [
        tuple(cell.strip() for cell in line.split("│")[1:-1])
        for line in said.output.splitlines()
        if line.startswith("│")
    ]
    assert len(rows) == 16
    for row, d in zip(rows, redline.compare(swept, by="lens"), strict=True):
        assert row[:5] == (
            d.outcome,
            f"{d.option} ({d.held})",
            d.baseline,
            f"{d.p_option:.1%}",
            f"{d.p_baseline:.1%}",
        )


def test_write_report_writes_the_sweeps_report(swept: redline.Experiment, tmp_path: Path) -> None:
    path = redline.write_report(swept, path=tmp_path / "nb.html")
    assert path == tmp_path / "nb.html"
    text = path.read_text(encoding="utf-8")
    assert "<html" in text and "redline sweep" in text
    with pytest.raises(redline.UserError, match="refusing to write the report"):
        redline.write_report(swept, path=swept.store)
    with pytest.raises(redline.UserError, match="unknown experiment 'nbb'"):
        redline.write_report("nbb", path=tmp_path / "x.html", store=swept.store)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda e: redline.compare(e, by="levers"), "by must be 'lever' or 'lens'"),
        (lambda e: redline.compare(e, lens="provocatoin"), "lens: unknown lens 'provocatoin'"),
        (lambda e: redline.compare(3), "experiment must be what sweep() returned"),
        (lambda e: redline.sweep(SCENARIO, runs=10), "name is required"),
        (lambda e: redline.sweep(SCENARIO, name="x", sample="lhs"), "sample must be per_run"),
        (lambda e: redline.sweep(SCENARIO, name="x", runs=0), "runs must be between 1"),
        (lambda e: redline.story(SCENARIO, run=-1), "run must be a non-negative integer"),
        (lambda e: redline.story(SCENARIO, lens="nope"), "lens: unknown lens 'nope'"),
    ],
)
def test_bad_arguments_name_the_parameter(
    swept: redline.Experiment, call: object, message: str
) -> None:
    assert callable(call)
    with pytest.raises((ValueError, TypeError)) as caught:
        call(swept)
    assert str(caught.value).startswith(message), str(caught.value)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.lists(st.text(max_size=12), min_size=2, max_size=2), max_size=4), st.text())
def test_html_tables_show_any_text_as_written(rows: list[list[str]], caption: str) -> None:
    """Whatever the text, the table's cells read back as the text itself and it adds no tag."""
    shown = html_table(["a", "b"], rows, caption=caption)
    cells = parsed(shown)
    assert set(cells.tags) <= {"table", "caption", "thead", "tr", "th", "tbody", "td"}
    expected = ([caption] if caption else []) + ["a", "b"] + [c for row in rows for c in row]
    assert cells.cells == expected


def _module_level_imports(tree: ast.Module) -> Iterator[str]:
    """The modules a file imports when it is imported: its top-level imports, those under
    ``if TYPE_CHECKING:`` left out (functions import when they run)."""
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        for inner in ast.walk(node) if not isinstance(node, ast.FunctionDef | ast.ClassDef) else ():
            if isinstance(inner, ast.Import):
                yield from (alias.name for alias in inner.names)
            elif isinstance(inner, ast.ImportFrom) and inner.module:
                yield inner.module


def test_pandas_is_imported_only_when_asked_for() -> None:
    """No module of redline imports pandas when it is imported: to_pandas() does, when called
    (Arrow converts with the pandas it finds). A notebook user without pandas loses only
    to_pandas()."""
    package = Path(redline.__file__).parent
    importing = [
        str(path.relative_to(package))
        for path in sorted(package.rglob("*.py"))
        if any(
            name.split(".")[0] == "pandas"
            for name in _module_level_imports(ast.parse(path.read_text(encoding="utf-8")))
        )
    ]
    assert importing == []
    frame = redline.Summary([]).to_pandas()
    assert type(frame).__module__.startswith("pandas") and list(frame.columns) == [
        "id",
        "name",
        "hits",
        "runs",
        "p",
        "lo",
        "hi",
        "mean_first_step",
    ]


def test_the_analyses_have_one_line_reprs_and_show_their_tables(
    evil: redline.Scenario,
) -> None:
    """why, ablate and score results print in one line, show escaped tables in a notebook and
    convert like the rest."""
    paths = redline.why(evil, "article5", 60, seed=1)  # its name has markup
    ablation = redline.ablate(evil, 60, seed=1, lever_options=False)
    for result in (paths, ablation):
        assert "\n" not in repr(result) and len(repr(result)) < 300, repr(result)
        _no_markup_from_the_scenario(result._repr_html_())
        assert result.to_arrow().equals(result.table)
        assert result.to_pandas().shape == (result.table.num_rows, result.table.num_columns)
    assert parsed(paths._repr_html_()).cells[0] == f"{paths.caption}: most frequent paths"
    assert repr(paths).startswith("Paths(scenario='convoy-strike', outcome='article5', hits=")
    shown = parsed(ablation._repr_html_()).cells
    moved = [e for e in ablation.effects for c in e.changes if c.moved]
    assert len(shown) == 1 + 8 + 8 * len(moved)  # caption, header, the changes that moved
