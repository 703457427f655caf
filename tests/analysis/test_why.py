"""Paths to an outcome (``why``): shares against a closed form on two known routes, lift and lead
on a constructed case, what counts as before the hit, the same answer on every backend, chunk
size and thread count, bounded memory, dominant chains in the ablation, and the command line."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from test_ablation_report import make_data
from typer.testing import CliRunner
from why_support import ALARM, CHAIN, HORIZON, ROUTES, A, B, Q, write

import redline
from redline.analysis.ablation import ablate
from redline.analysis.why import EventStat, Paths, Recorder, dominant_chains, why
from redline.cli import app
from redline.cli.app import err, out
from redline.compile import compile_scenario, resolve
from redline.engine import backends
from redline.errors import RedlineValueError
from redline.report.html import render_report

RUNS = 20_000


def assert_rate(hits: int, n: int, p: float, what: str) -> None:
    """The exact ``p`` lies in the 99.9% Wilson interval of ``hits`` out of ``n``."""
    from statsmodels.stats.proportion import proportion_confint  # (not at collection: pandas)

    lo, hi = proportion_confint(hits, n, alpha=0.001, method="wilson")
    assert lo <= p <= hi, f"{what}: {hits}/{n} = {hits / n:.4f}, [{lo:.4f}, {hi:.4f}] vs {p:.4f}"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("why")


@pytest.fixture(scope="module")
def routes(folder: Path) -> Paths:
    return why(write(folder, ROUTES), "reached", runs=RUNS, seed=1)


@pytest.fixture(scope="module")
def alarm(folder: Path) -> Paths:
    return why(write(folder, ALARM), "struck", runs=RUNS, seed=2)


def _stat(p: Paths, event: str) -> EventStat:
    return next(e for e in p.events if e.event.id == event)


def test_two_routes_match_the_closed_form(routes: Paths) -> None:
    """Heads (Q) → reached with probability 1 − (1 − A)^H; tails with 1 − (1 − B)^H: each
    route's share of the hits is its probability over their sum."""
    p_a = Q * (1 - (1 - A) ** HORIZON)
    p_b = (1 - Q) * (1 - (1 - B) ** HORIZON)
    assert_rate(routes.hits, RUNS, p_a + p_b, "reached")
    assert routes.sampled == routes.hits and routes.distinct == 2
    by_end = {r.events[-1]: r for r in routes.routes}
    assert set(by_end) == {"rule:via_a/fired", "rule:via_b/fired"}
    via_a, via_b = by_end["rule:via_a/fired"], by_end["rule:via_b/fired"]
    assert via_a.count + via_b.count == routes.hits
    assert_rate(via_a.count, routes.hits, p_a / (p_a + p_b), "route A's share")
    assert_rate(via_b.count, routes.hits, p_b / (p_a + p_b), "route B's share")
    # tails (the coin's draw failing) is on B's route: more likely before a hit than without one
    assert via_b.events == ("schedule:coin/not_happened", "rule:via_b/fired")
    assert via_b.text == "scheduled event coin due, did not happen → rule via_b fired"
    assert via_a.events == ("rule:via_a/fired",)
    assert via_a.lo <= via_a.share <= via_a.hi
    # the noise is before many hits, but no more than without one: not on route
    noise = _stat(routes, "rule:noise/fired")
    assert noise.share > 0.3 and not noise.on_route
    assert routes.dominant is None


def test_lift_and_lead_on_a_constructed_case(alarm: Paths) -> None:
    """Alarms (0.8 after a hint, 0.2 without) are all answered at step 4: the hint precedes
    a hit with P(hint | alarm) = 0.8, and a miss with P(hint | no alarm) = 0.2 — a lift of 4,
    four steps before."""
    assert_rate(alarm.hits, RUNS, 0.5, "struck")
    hint = _stat(alarm, "schedule:hint/happened")
    assert_rate(hint.before, alarm.hits, 0.8, "hint before a hit")
    assert hint.lead == 4.0
    assert hint.p_not is not None and hint.lift is not None
    assert_rate(round(hint.p_not * (RUNS - alarm.hits)), RUNS - alarm.hits, 0.2, "hint, missed")
    assert hint.lift == pytest.approx(hint.share / hint.p_not)
    assert 3.5 < hint.lift < 4.5 and hint.on_route
    alarmed = _stat(alarm, "schedule:alarm/happened")
    assert (alarmed.share, alarmed.lead, alarmed.p_not) == (1.0, 3.0, 0.0)
    assert alarmed.lift == math.inf and alarmed.on_route
    no_hint = _stat(alarm, "schedule:hint/not_happened")
    assert no_hint.lift is not None and no_hint.lift < 1 and not no_hint.on_route
    assert [r.text for r in alarm.routes] == [
        "scheduled event hint happened → scheduled event alarm happened → scheduled event "
        "siren happened → rule strike fired",
        "scheduled event alarm happened → scheduled event siren happened → rule strike fired",
    ]


def test_what_counts_as_before_the_hit(alarm: Paths) -> None:
    """In the hit's step: what came before its first cause (the siren, scheduled), and the cause
    (the strike); not what stood beside it (the shrug, in the same round) nor what answered it
    (the echo, a round later)."""
    assert _stat(alarm, "schedule:siren/happened").share == 1.0
    assert _stat(alarm, "schedule:siren/happened").lead == 0.0
    assert _stat(alarm, "rule:strike/fired").share == 1.0
    assert _stat(alarm, "rule:shrug/fired").share == 0.0
    assert _stat(alarm, "rule:echo/fired").share == 0.0


def test_tables_and_json(routes: Paths) -> None:
    table = routes.table
    assert isinstance(table, pa.Table)
    assert table.column_names == [
        "event",
        "mechanism",
        "kind",
        "what",
        "label",
        "path",
        "before",
        "share",
        "lead",
        "p_not",
        "p_not_end",
        "lift",
        "on_route",
    ]
    assert table.num_rows == 8  # the coin, three rules: each fired and failed
    row = table.to_pylist()[0]
    assert row["on_route"] and row["path"] in ("rules.via_a", "rules.via_b")
    paths = routes.paths
    assert paths.column("rank").to_pylist() == [1, 2]
    assert sum(paths.column("count").to_pylist()) == routes.hits
    data = json.loads(json.dumps(routes.to_json()))
    assert data["outcome"] == {"id": "reached", "name": "reached"}
    assert data["hits"] == routes.hits and data["paths_counted_on"] == routes.hits
    assert data["events"][0]["lift"] == "inf"
    assert [p["count"] for p in data["paths"]] == paths.column("count").to_pylist()
    assert data["dominant_chain"] is None


def test_same_paths_on_every_backend_chunk_size_and_thread_count(folder: Path) -> None:
    path = write(folder, ROUTES)
    base = why(path, "reached", runs=3000, seed=5)
    for kwargs in (
        {"chunk_size": 700, "threads": 3},
        {"chunk_size": 256, "threads": 1},
        {"backend": "numba", "threads": 2},
    ):
        other = why(path, "reached", runs=3000, seed=5, **kwargs)  # type: ignore[arg-type]
        assert other.table.equals(base.table), kwargs
        assert other.paths.equals(base.paths), kwargs
    small = why(path, "reached", runs=200, seed=5)
    reference = why(path, "reached", runs=200, seed=5, backend="reference")
    assert reference.table.equals(small.table) and reference.paths.equals(small.paths)


def test_the_record_is_the_same_on_every_backend(folder: Path) -> None:
    s = redline.load(write(folder, ROUTES))
    program = compile_scenario(s, resolve(s))
    ids = np.arange(300, dtype=np.int64)
    records = {
        name: backends.run_chunk(name, program, 3, ids, events=True, fallback=False).events
        for name in backends.BACKENDS
    }
    assert records["numpy"] is not None
    for name, record in records.items():
        assert np.array_equal(record, records["numpy"]), name  # type: ignore[arg-type]


def test_memory_does_not_grow_with_runs(folder: Path) -> None:
    """The counters have the same size after 2,000 runs as after 8,000: the sample of paths is
    capped, and everything else is per event and step."""
    s = redline.load(write(folder, ROUTES))
    program = compile_scenario(s, resolve(s))
    recorder = Recorder(program, sample=100)
    sizes = []
    for start in range(0, 8000, 2000):
        ids = np.arange(start, start + 2000, dtype=np.int64)
        recorder.add(backends.run_chunk("numpy", program, 0, ids, events=True))
        sizes.append(recorder.nbytes)
    assert len(set(sizes)) == 1, sizes
    result = recorder.result(
        "reached", scenario="routes", seed=0, levers={}, lens=None, backend="numpy", step="month"
    )
    assert result.runs == 8000 and result.sampled == 100 < result.hits


def test_a_capped_sample_does_not_depend_on_chunking(folder: Path) -> None:
    path = write(folder, ROUTES)
    one = why(path, "reached", runs=4000, seed=3, sample=300, chunk_size=4000, threads=1)
    many = why(path, "reached", runs=4000, seed=3, sample=300, chunk_size=333, threads=2)
    assert one.sampled == many.sampled == 300
    assert one.paths.equals(many.paths) and one.table.equals(many.table)
    share = next(r for r in one.routes if r.events[-1] == "rule:via_a/fired").share
    exact = Q * (1 - (1 - A) ** HORIZON)
    exact /= exact + (1 - Q) * (1 - (1 - B) ** HORIZON)
    assert_rate(round(share * 300), 300, exact, "route A's share in the sample")


def test_dominant_chain_flagged(folder: Path) -> None:
    path = write(folder, CHAIN)
    burnt = why(path, "burnt", runs=4000)
    assert burnt.dominant is not None
    assert burnt.dominant.text == "rule spark fired → rule flame fired"
    assert dominant_chains([burnt]) == (("burnt", burnt.dominant.text, 1.0),)
    a = ablate(path, runs=2000, lever_options=False)
    assert a.dominant_chains == (("burnt", "rule spark fired → rule flame fired", 1.0),)
    found = [f for f in a.findings() if f.kind == "dominant_chain"]
    assert [f.element for f in found] == ["outcomes.burnt"]
    assert "100% of the runs that reach 'burnt' take one path" in found[0].message
    assert a.to_json()["flags"]["dominant_chains"] == [  # type: ignore[index]
        {"outcome": "burnt", "path": "rule spark fired → rule flame fired", "share": 1.0}
    ]
    assert dict(a.top_paths)["burnt"][0].share == 1.0
    page = render_report(make_data(a))
    section = page[page.index('<section id="drivers">') :]
    assert (
        "<th>Dominant chains</th><td>burnt: rule spark fired → rule flame fired (100%)" in section
    )
    assert "<td>rule spark fired → rule flame fired</td>" in section


def test_python_api(folder: Path) -> None:
    path = write(folder, ROUTES)
    p = redline.why(path, "reached", 500, seed=2)
    assert isinstance(p, redline.Paths)
    assert p.runs == 500 and p.outcome == "reached"
    assert "why" in dir(redline)
    with pytest.raises(RedlineValueError, match=r"^outcome: unknown outcome 'reach'; did you"):
        redline.why(path, "reach", 100)
    with pytest.raises(RedlineValueError, match=r"^runs must be"):
        redline.why(path, "reached", 0)


# -- the command line ----------------------------------------------------------------------------


def _cli(*args: str) -> tuple[int, str, str]:
    saved = [c._width for c in (out, err)]
    try:
        out.width = err.width = 250
        r = CliRunner(env={"NO_COLOR": "1"}).invoke(app, list(args))
    finally:
        out._width, err._width = saved
    return r.exit_code, r.stdout, r.stderr


def test_cli_json_agrees_with_the_function(folder: Path) -> None:
    path = write(folder, ROUTES)
    code, stdout, stderr = _cli("why", str(path), "reached", "--runs", "2000", "--json")
    assert code == 0, stderr
    data = json.loads(stdout)
    expected = json.loads(json.dumps(why(path, "reached", runs=2000).to_json()))
    for key in ("events", "paths", "hits", "runs", "seed", "outcome", "dominant_chain"):
        assert data[key] == expected[key], key


def test_cli_tables(folder: Path) -> None:
    path = write(folder, ALARM)
    code, stdout, stderr = _cli("why", str(path), "struck", "--runs", "2000", "--top", "3")
    assert code == 0, stderr
    assert "why 'struck' (struck)" in stdout
    assert "events on route to it" in stdout and "most frequent paths" in stdout
    rows = [line for line in stdout.splitlines() if "│" in line and "→" not in line]
    alarmed = next(line for line in rows if "alarm happened" in line)
    assert "3.0" in alarmed and "∞" in alarmed  # three months before; never without a hit
    assert not any("hint happened" in line for line in rows)  # the fourth event on route
    assert "scheduled event alarm happened → scheduled event siren happened" in stdout
    assert "(1 more not shown; --top)" in stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("reach",), "error: unknown outcome 'reach'; did you mean 'reached'?"),
        (("reached", "--lever", "nope=x"), "error: unknown lever 'nope'"),
        (("reached", "--lens", "hawk"), "error: unknown lens 'hawk'"),
        (("reached", "--runs", "0"), "error: --runs must be between 1"),
        (("reached", "--backend", "gpu"), "error: unknown backend 'gpu'"),
    ],
)
def test_cli_errors_are_one_line(folder: Path, args: tuple[str, ...], message: str) -> None:
    code, _, stderr = _cli("why", str(write(folder, ROUTES)), *args)
    assert code == 2
    assert stderr.strip().startswith(message), stderr
    assert len(stderr.strip().splitlines()) == 1


def test_cli_scenario_defaults_to_nato_russia() -> None:
    code, _, stderr = _cli("why", "nato_rusia_war")
    assert code == 2
    assert "did you mean 'nato_russia_war'?" in stderr
