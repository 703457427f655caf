"""Simulation results as an Arrow table (one row per run), with the summaries users read.

Columns: ``run``; ``lever.<id>`` and ``lens`` for the configuration; ``param.<id>`` for each drawn
uncertainty; ``first.<outcome>`` (the step an outcome was first reached, null if never);
``peak_level``; ``steps`` (how long the run lasted); ``final.<variable>``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import pyarrow as pa
import pyarrow.compute as pc

from redline.compile import Configuration, Program
from redline.engine.semantics import ChunkResult
from redline.engine.trouble import TroubleRow
from redline.stats import wilson_interval
from redline.tables import RecordTable, pandas_frame, percent_cell

if TYPE_CHECKING:
    import pandas


def chunk_table(program: Program, config: Configuration, chunk: ChunkResult) -> pa.Table:
    """One chunk's runs as table rows."""
    n = len(chunk.runs)
    columns: dict[str, pa.Array] = {"run": pa.array(chunk.runs, pa.int64())}
    for lever, option in config.levers.items():
        columns[f"lever.{lever}"] = pa.array([option] * n, pa.string())
    columns["lens"] = pa.array([config.lens] * n, pa.string())
    for name, values in chunk.params.items():
        columns[f"param.{name}"] = pa.array(values, pa.float64())
    for o, outcome in enumerate(program.outcomes):
        hit = chunk.first_hit[:, o]
        columns[f"first.{outcome.id}"] = pa.array(hit, pa.int32(), mask=hit < 0)
    columns["peak_level"] = pa.array(chunk.peak_level, pa.int32())
    columns["steps"] = pa.array(chunk.steps, pa.int32())
    for v, name in enumerate(program.var_names):
        columns[f"final.{name}"] = pa.array(chunk.final[:, v], pa.float64())
    return pa.table(columns)


@dataclass(frozen=True)
class OutcomeSummary:
    """How often an outcome was reached, with a 95% Wilson interval, and when on average."""

    id: str
    name: str
    hits: int
    runs: int
    p: float
    lo: float
    hi: float
    mean_first_step: float | None


def _steps_cell(value: object) -> str:
    return "" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


class Summary(RecordTable[OutcomeSummary]):
    """Each outcome's probability with its 95% Wilson interval and mean first-hit step, a row
    per outcome (:class:`OutcomeSummary`): iterate it as a list, show it in a notebook, or
    convert it with ``to_pandas()`` / ``to_arrow()`` (probabilities as fractions, 0–1)."""

    ROW = OutcomeSummary
    FORMATS: ClassVar[Mapping[str, Callable[[object], str]]] = {
        "p": percent_cell,
        "lo": percent_cell,
        "hi": percent_cell,
        "mean_first_step": _steps_cell,
    }


def summarize(
    table: pa.Table, outcomes: Iterable[tuple[str, str]], confidence: float = 0.95
) -> list[OutcomeSummary]:
    """Probability, interval and mean first-hit step of each outcome in a results table."""
    runs = table.num_rows
    out = []
    for ident, name in outcomes:
        column = table.column(f"first.{ident}")
        hits = runs - column.null_count
        lo, hi = wilson_interval(hits, runs, confidence)
        mean = pc.mean(column).as_py() if hits else None
        out.append(
            OutcomeSummary(
                ident, name, hits, runs, hits / runs if runs else float("nan"), lo, hi, mean
            )
        )
    return out


@dataclass(frozen=True, eq=False, repr=False)
class Results:
    """Results of a simulation (immutable): the Arrow table, one row per run, and what is
    needed to read it — the configured program, the configuration and the seed."""

    table: pa.Table
    program: Program
    config: Configuration
    seed: int
    #: NaN and out-of-range probabilities and NaN state met in the runs, per element
    #: (:mod:`redline.engine.trouble`); empty when there were none
    trouble: tuple[TroubleRow, ...] = ()

    def __repr__(self) -> str:
        return (
            f"Results(scenario={self.program.scenario_id!r}, runs={self.runs}, "
            f"seed={self.seed}, levers={dict(self.config.levers)!r}, "
            f"lens={self.config.lens!r}, outcomes={len(self.program.outcomes)})"
        )

    @property
    def runs(self) -> int:
        return int(self.table.num_rows)

    @property
    def outcomes(self) -> list[tuple[str, str]]:
        return [(o.id, o.name) for o in self.program.outcomes]

    def summary(self, confidence: float = 0.95) -> Summary:
        """Each outcome's probability, its Wilson interval at ``confidence`` and its mean
        first-hit step: a :class:`Summary` table, a row per outcome."""
        return Summary(summarize(self.table, self.outcomes, confidence), self.caption)

    @property
    def caption(self) -> str:
        """What these results are of: scenario, runs, seed, levers and lens, in one line."""
        levers = ", ".join(f"{k}={v}" for k, v in self.config.levers.items()) or "no levers"
        lens = self.config.lens or "none (base values)"
        return (
            f"{self.program.scenario_id}: {self.runs:,} run{'' if self.runs == 1 else 's'}, "
            f"seed {self.seed}, levers {levers}, lens {lens}"
        )

    def to_arrow(self) -> pa.Table:
        """The per-run table (as :attr:`table`): a row per run."""
        return self.table

    def to_pandas(self) -> pandas.DataFrame:
        """The per-run table as a pandas DataFrame, a row per run (pandas is imported now)."""
        return pandas_frame(self.table)

    def _repr_html_(self) -> str:
        """In a notebook: the outcome summary as a table, under what the results are of (and
        a warning line where numerical trouble was met)."""
        warning = (
            f"<p><b>warning:</b> numerical trouble in {len(self.trouble)} element"
            f"{'' if len(self.trouble) == 1 else 's'} (see .trouble)</p>"
            if self.trouble
            else ""
        )
        return self.summary()._repr_html_() + warning

    def to_json(self) -> dict[str, object]:
        """The ``--json`` form: horizon, runs, and per outcome p, lo, hi, mean first-hit step."""
        return summary_json(
            self.program.scenario_id,
            self.program.horizon,
            self.table.num_rows,
            self.seed,
            dict(self.config.levers),
            self.config.lens,
            self.summary(),
            self.trouble,
        )


def summary_json(
    scenario: str,
    horizon: int,
    runs: int,
    seed: int,
    levers: dict[str, str],
    lens: str | None,
    summaries: Iterable[OutcomeSummary],
    trouble: Iterable[TroubleRow] = (),
) -> dict[str, object]:
    """One configuration's results as the JSON object ``redline run --json`` prints; with
    ``numerical_trouble``, a list of each NaN or out-of-range probability and NaN state
    variable met (empty when there were none)."""
    return {
        "scenario": scenario,
        "horizon": horizon,
        "runs": runs,
        "seed": seed,
        "levers": levers,
        "lens": lens,
        "outcomes": {
            x.id: {
                "name": x.name,
                "p": x.p,
                "lo": x.lo,
                "hi": x.hi,
                "mean_first_step": x.mean_first_step,
            }
            for x in summaries
        },
        "numerical_trouble": [row.to_json() for row in trouble],
    }
