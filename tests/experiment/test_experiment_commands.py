"""`redline run`, `redline results show` and `redline compare` on stored experiments, checked
against the reference sweep's rows and the interval functions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from experiment_support import (
    LENSES,
    OPTIONS,
    SCENARIO,
    Reference,
    assert_ok,
    assert_same_rows,
    redline,
    where_point_below,
)

from redline.analysis.compare import difference, format_difference
from redline.experiment.runner import stored_summaries
from redline.experiment.store import Store
from redline.report.build import point_tables
from redline.results import summarize
from redline.scenario.loader import load_scenario
from redline.stats import wilson_interval

OUTCOMES = ["article5", "war", "nuclear_use", "settlement"]


def _hits(table: pa.Table, point: int, outcome: str) -> tuple[int, int]:
    rows = table.filter(pc.equal(table.column("point"), point))
    return rows.num_rows - rows.column(f"first.{outcome}").null_count, rows.num_rows


def test_run_stores_the_sweep_rows_and_reports_wilson_intervals(
    tmp_path: Path, reference: Reference
) -> None:
    db, report = tmp_path / "run.duckdb", tmp_path / "report.html"
    proc = redline(
        "run",
        SCENARIO,
        "--runs",
        "1000",
        "--seed",
        "7",
        "--lever",
        "nato_response=none",
        "--lens",
        "baseline",
        "--store",
        str(db),
        "--report",
        str(report),
        "--json",
        cwd=tmp_path,
    )
    assert_ok(proc)
    payload = json.loads(proc.stdout)
    assert (payload["runs"], payload["seed"], payload["lens"]) == (1000, 7, "baseline")
    assert payload["levers"] == {"nato_response": "none"}
    for outcome in OUTCOMES:
        hits, runs = _hits(reference.table, 0, outcome)
        got = payload["outcomes"][outcome]
        assert got["p"] == pytest.approx(hits / runs, abs=1e-12)
        lo, hi = wilson_interval(hits, runs)
        assert (got["lo"], got["hi"]) == (
            pytest.approx(lo, abs=1e-12),
            pytest.approx(hi, abs=1e-12),
        )
    (record,) = Store(db).experiments()
    assert record.status == "done"
    assert record.name.startswith("run-convoy-strike-")
    # one chunk of 1000 runs here, two of 500 in the reference: the same rows
    assert_same_rows(Store(db).results(record.name), where_point_below(reference.table, 1))


def _table_rows(stdout: str) -> list[tuple[str, ...]]:
    return [
        tuple(cell.strip() for cell in line.split("│")[1:-1])
        for line in stdout.splitlines()
        if line.startswith("│")
    ]


Pair = tuple[int, int, str, str, str]  # point, its baseline point, their labels, what is held


def _expected(reference: Reference, pairs: list[Pair]) -> list[tuple[str, ...]]:
    names = {o.id: o.label for o in load_scenario(SCENARIO).scenario.outcomes}
    expected = []
    for point, base, label, base_label, held in pairs:
        for outcome in OUTCOMES:
            h1, n1 = _hits(reference.table, point, outcome)
            h2, n2 = _hits(reference.table, base, outcome)
            d = difference(names[outcome], label, h1, n1, base_label, h2, n2)
            expected.append(
                (
                    names[outcome],
                    f"{label} ({held})",
                    base_label,
                    f"{d.p_a:.1%}",  # the levels the difference is of, beside it
                    f"{d.p_b:.1%}",
                    format_difference(d),
                )
            )
    return expected


def _compared(proc: subprocess.CompletedProcess[str]) -> list[tuple[str, ...]]:
    assert_ok(proc)
    return sorted(row for row in _table_rows(proc.stdout) if row[0] != "outcome")


@pytest.mark.parametrize("by", ["lever", "lens"])
def test_compare_prints_newcombe_differences(tmp_path: Path, reference: Reference, by: str) -> None:
    proc = redline("compare", "ref", "--by", by, "--store", str(reference.store), cwd=tmp_path)
    # point = 2 · option + lens; each is compared with the first of its group, the rest held
    if by == "lens":
        pairs = [
            (2 * i + 1, 2 * i, LENSES[1], LENSES[0], f"nato_response={option}")
            for i, option in enumerate(OPTIONS)
        ]
    else:
        pairs = [
            (2 * i + j, j, OPTIONS[i], OPTIONS[0], f"lens={lens}")
            for j, lens in enumerate(LENSES)
            for i in range(1, len(OPTIONS))
        ]
    assert f"ref: by {'nato_response' if by == 'lever' else 'lens'}" in proc.stdout
    assert _compared(proc) == sorted(_expected(reference, pairs))


def test_compare_by_lever_under_one_lens(tmp_path: Path, reference: Reference) -> None:
    proc = redline(
        "compare", "ref", "--lens", "provocation", "--store", str(reference.store), cwd=tmp_path
    )
    pairs = [(2 * i + 1, 1, OPTIONS[i], OPTIONS[0], "lens=provocation") for i in range(1, 4)]
    assert "ref: by nato_response under lens provocation" in proc.stdout
    assert _compared(proc) == sorted(_expected(reference, pairs))


def test_compare_by_lens_against_a_chosen_lens(tmp_path: Path, reference: Reference) -> None:
    proc = redline(
        "compare",
        "ref",
        "--by",
        "lens",
        "--lens",
        "provocation",
        "--store",
        str(reference.store),
        cwd=tmp_path,
    )
    pairs = [
        (2 * i, 2 * i + 1, LENSES[0], LENSES[1], f"nato_response={option}")
        for i, option in enumerate(OPTIONS)
    ]
    assert _compared(proc) == sorted(_expected(reference, pairs))


def test_show_and_compare_count_in_duckdb_what_the_rows_give(reference: Reference) -> None:
    """The counts DuckDB makes give the summaries of the per-point tables, to the last bit."""
    s = load_scenario(SCENARIO).scenario
    outcomes = [(o.id, o.label) for o in s.outcomes]
    store = Store(reference.store)
    got = stored_summaries(store, "ref", outcomes)
    tables = point_tables(store, "ref")
    expected = [
        (pt["label"], pt, summarize(tables[pt["point"]], outcomes))
        for pt in store.points("ref")
        if pt["point"] in tables
    ]
    assert got == expected
    assert len(got) == 8
    assert all(x.runs == 1000 for _, _, summ in got for x in summ)
    assert any(x.mean_first_step is not None for _, _, summ in got for x in summ)
    assert any(x.mean_first_step is None for _, _, summ in got for x in summ)


def test_reading_some_columns_gives_those_of_the_full_rows(reference: Reference) -> None:
    """``columns`` gives those columns of the full rows, in that order — stored ones, the
    configuration's (made from the design point) and the parameters' (recomputed) — reading
    from the store only the stored columns they need (the report reads the stored ones)."""
    store = Store(reference.store)
    full = store.results("ref")
    record = store.get("ref")
    assert record is not None
    layout = record.layout
    stored = [c for c, _ in layout.stored()]
    lever, param = f"lever.{layout.levers[0]}", f"param.{layout.params[0]}"
    for columns in (
        stored,
        ["steps", "first.war", "run"],
        ["lens", lever],
        [param, "point"],
        full.column_names[::-1],
    ):
        assert store.results("ref", columns).equals(full.select(columns))
    assert store.results("ref", stored, params=False).equals(full.select(stored))
    assert layout.stored_for(["steps", "first.war"]) == ["first.war", "steps"]
    assert layout.stored_for(["lens"]) == ["point", "run"]
    assert layout.stored_for([param, "steps"]) == ["point", "run", "steps"]
    with pytest.raises(KeyError):
        store.results("ref", [param], params=False)  # no parameter values were asked for
