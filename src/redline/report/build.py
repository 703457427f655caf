"""Gather a stored experiment into report data: summaries, incidence curves, ladder occupancy,
one narrated run and the assumptions register."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from redline.analysis.ablation import Ablation
from redline.analysis.incidence import outcome_incidence
from redline.analysis.score import Score
from redline.arrays import numpy_array
from redline.compile import compile_scenario
from redline.engine.deciders import DecisionMaker
from redline.experiment.design import lever_defaults, setting_label
from redline.experiment.runner import trace
from redline.experiment.store import Store
from redline.experiment.sweep import point_config
from redline.report.data import ConfigurationReport, ReportData
from redline.report.story import maker_reasons, story
from redline.results import summarize
from redline.scenario.loader import LoadedScenario
from redline.scenario.model import Scenario
from redline.scenario.register import register
from redline.version import __version__

#: how many runs of the first configuration are searched for an eventful one to narrate
STORY_SEARCH = 200


def point_tables(store: Store, name: str, table: pa.Table | None = None) -> dict[int, pa.Table]:
    """An experiment's rows split by design point: slices of the one table (no copies) where
    the rows come ordered by point, as the store gives them."""
    if table is None:
        # the stored columns alone: the report takes each configuration's levers and lens from
        # its design point (not from every row), and reads no parameter values (recomputing
        # them was most of reading the rows)
        record = store.get(name)
        stored = None if record is None else [c for c, _ in record.layout.stored()]
        table = store.results(name, stored, params=False)
    points = numpy_array(table.column("point"))
    if len(points) and bool(np.all(points[1:] >= points[:-1])):
        starts = np.flatnonzero(np.r_[True, points[1:] != points[:-1]])
        ends = np.r_[starts[1:], len(points)]
        return {int(points[a]): table.slice(a, b - a) for a, b in zip(starts, ends, strict=True)}
    out = {}
    for point in np.unique(points):
        out[int(point)] = table.filter(pc.equal(table.column("point"), int(point)))
    return out


def configuration_reports(
    store: Store,
    name: str,
    loaded: LoadedScenario | Scenario,
    tables: dict[int, pa.Table] | None = None,
) -> list[ConfigurationReport]:
    """Each stored configuration's summaries, incidence curves and ladder occupancy, grouped by
    lens."""
    s = loaded if isinstance(loaded, Scenario) else loaded.scenario
    outcomes = [(o.id, o.label) for o in s.outcomes]
    tables = point_tables(store, name) if tables is None else tables
    reports = []
    program = compile_scenario(s)
    defaults = lever_defaults(s)
    lens_names = {x.id: x.label for x in s.lenses}
    trouble = store.trouble(name)
    for point in store.points(name):
        table = tables.get(point["point"])
        if table is None:
            continue
        setting = setting_label(point["levers"], defaults, point.get("fixed", {}))
        lens_name = lens_names.get(point["lens"], point["lens"] or "")
        reports.append(
            ConfigurationReport(
                label=f"{setting} · lens {lens_name}" if point["lens"] else setting,
                setting=setting,
                lens_name=lens_name,
                levers=point["levers"],
                lens=point["lens"],
                runs=table.num_rows,
                outcomes=summarize(table, outcomes),
                incidence={
                    o: outcome_incidence(table, o, s.time.horizon).tolist() for o, _ in outcomes
                },
                occupancy=store.occupancy(name, point["point"], s.time.horizon, len(program.rungs)),
                trouble=trouble.get(point["point"], []),
            )
        )
    lenses = [x.id for x in s.lenses]
    # grouped by lens, as the command line's tables are: lever settings compare within a lens
    return sorted(reports, key=lambda r: lenses.index(r.lens) if r.lens in lenses else -1)


def narrated_run(store: Store, name: str, tables: dict[int, pa.Table] | None = None) -> int:
    """The most eventful run among the first ones of the first configuration: the highest
    peak on the ladder, the earliest on ties."""
    first = store.points(name)[0]
    tables = point_tables(store, name) if tables is None else tables
    table = tables[first["point"]].slice(0, STORY_SEARCH)
    peaks = numpy_array(table.column("peak_level"))
    index = int(np.argmax(peaks))
    return int(table.column("run")[index].as_py())


def report_data(
    store: Store,
    name: str,
    loaded: LoadedScenario | Scenario,
    ablation: Ablation | None = None,
    score: Score | None = None,
    source: str = "run",
    makers: Mapping[str, DecisionMaker] | None = None,
) -> ReportData:
    """A stored experiment's report data; with ``ablation``, "What drives each outcome" too;
    with ``score``, "How well each lens explains the record" and "Against published
    forecasts". ``loaded`` is the scenario as loaded, or as the store keeps it (what a sweep
    ran, whatever became of its file); ``source`` says which command produced the results
    ("run" or "sweep"). ``makers`` decide for the actors they name in the narrated run (a
    language model's, replayed from its answers; their reasons are told when they give them)."""
    s = loaded if isinstance(loaded, Scenario) else loaded.scenario
    with store.session(read_only=True, must_exist=True):  # the file opened once for all
        record = store.get(name)
        assert record is not None
        tables = point_tables(store, name)  # the rows read once, for every section
        run = narrated_run(store, name, tables)
        configurations = configuration_reports(store, name, loaded, tables)
        first = store.points(name)[0]
    config = point_config(first)
    traced = trace(s, record.spec.seed, run, config.levers, config.lens, makers)
    program = traced.program
    return ReportData(
        scenario_id=s.id,
        title=s.title,
        description=(s.description or "").strip(),
        horizon=s.time.horizon,
        step_unit=s.time.step,
        start=s.time.start,
        rungs=list(program.rungs),
        outcome_names={o.id: o.label for o in s.outcomes},
        configurations=configurations,
        story_label=f"run {run} of {configurations[0].label} (seed {record.spec.seed})",
        story=story(s, program, traced.result, reasons=maker_reasons(makers or {}, run)),
        register=register(s),
        seed=record.spec.seed,
        version=__version__,
        generated=dt.datetime.now().replace(microsecond=0),
        lever_defaults=lever_defaults(s),
        notes=[
            f"experiment '{name}' in {store.path}: {record.points} "
            f"configuration{'' if record.points == 1 else 's'} × "
            f"{record.spec.runs:,} runs, {record.seconds:.1f} s of simulation"
        ],
        ablation=ablation,
        score=score,
        source=source,
    )
