"""An experiment's columns: fixed when the experiment is created, the same for every unit.

What a run's row holds is decided once, from every design point of the experiment, not from
whichever unit happens to be stored first, so units of configurations that differ (a lens that
fixes a parameter another draws, a design point that fixes an uncertainty) all fit it.

Stored per run, compactly (DuckDB compresses each column on top of this):

- ``point`` and ``run``;
- ``first.<outcome>``: the step an outcome was first reached, NULL if never, in the smallest
  unsigned integer type that holds the horizon (``UTINYINT`` up to 255 steps);
- ``peak_level`` in the smallest unsigned integer type that holds the ladder's rungs, ``steps``
  in the horizon's type;
- ``final.<variable>`` (``DOUBLE``) only when the experiment asks for the final state: it is most
  of a row's size and no analysis of redline reads it.

Not stored, and given back when rows are read or exported:

- ``lever.<id>`` and ``lens``: the design point's configuration;
- ``param.<name>`` for every parameter that some design point draws or fixes by its design: the
  value the run used. A drawn value is recomputed from its key (seed, run, draw site) through
  the same function the engines draw it with; a fixed one (by a lens, a lever option or a
  design point) is the value that was set. So a lens that fixes a parameter that another lens
  draws shows the fixed value in that lens's rows, never NULL.

The experiment stores its scenario (as the model it was run from), so its parameters are
recomputed from what was simulated, whatever has happened to the scenario file since; a
check on the first runs of every design point refuses a redline that would draw them
differently.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from redline.arrays import arrow_array, numpy_array
from redline.compile import Configuration, Program
from redline.engine.params import sample_params
from redline.engine.semantics import ChunkResult
from redline.errors import UserError
from redline.experiment.job import Job
from redline.scenario.model import Scenario

#: DuckDB type and Arrow type of each integer width the layout uses
_INTEGERS = {
    "UTINYINT": (pa.uint8(), 255),
    "USMALLINT": (pa.uint16(), 65_535),
    "INTEGER": (pa.int32(), 2**31 - 1),
}
#: how many runs of each design point the parameter check recomputes
CHECK_RUNS = 8


def _integer_for(largest: int) -> str:
    """The smallest type of :data:`_INTEGERS` that holds 0..largest."""
    return next(name for name, (_, top) in _INTEGERS.items() if largest <= top)


@dataclass(frozen=True)
class Layout:
    """The columns of an experiment: what is stored, and what reading gives back."""

    levers: tuple[str, ...]
    params: tuple[str, ...]
    outcomes: tuple[str, ...]
    finals: tuple[str, ...]
    step_type: str
    level_type: str

    @classmethod
    def of(cls, jobs: Sequence[Job], final_state: bool = False) -> Layout:
        """The layout that every design point's rows fit."""
        if not jobs:
            raise UserError("an experiment needs at least one design point")
        program = jobs[0].program
        varying = {name for job in jobs for name, _ in job.fixed} | {
            p.name for job in jobs for p in job.program.params if p.distribution is not None
        }
        return cls(
            levers=tuple(name for name, _ in jobs[0].levers),
            params=tuple(p.name for p in program.params if p.name in varying),
            outcomes=tuple(o.id for o in program.outcomes),
            finals=tuple(program.var_names) if final_state else (),
            step_type=_integer_for(program.horizon),
            level_type=_integer_for(max(len(program.rungs), 1)),
        )

    # -- what is stored ----------------------------------------------------------------------
    def stored(self) -> list[tuple[str, str]]:
        """(column, DuckDB type) of the results table, in order."""
        return (
            [("point", "INTEGER"), ("run", "INTEGER")]
            + [(f"first.{o}", self.step_type) for o in self.outcomes]
            + [("peak_level", self.level_type), ("steps", self.step_type)]
            + [(f"final.{v}", "DOUBLE") for v in self.finals]
        )

    def create_table(self, table: str) -> str:
        columns = ", ".join(f'"{_ident(c)}" {t}' for c, t in self.stored())
        return f'CREATE TABLE "{table}" ({columns})'

    def stored_schema(self) -> pa.Schema:
        return pa.schema(
            [(c, pa.float64() if t == "DOUBLE" else _INTEGERS[t][0]) for c, t in self.stored()]
        )

    def chunk_rows(self, program: Program, chunk: ChunkResult, point: int) -> pa.Table:
        """A chunk's runs as stored rows, straight from the engine's arrays: what a worker sends
        back, nothing that is not stored (a unit of 100,000 nato-russia runs: about 2 MB, where
        the full rows of :func:`redline.results.chunk_table` take 40). Columns are found by
        name in ``program``, whatever order its configuration lists them in."""
        outcomes = {o.id: k for k, o in enumerate(program.outcomes)}
        variables = {name: k for k, name in enumerate(program.var_names)}
        columns: dict[str, pa.Array] = {"run": arrow_array(chunk.runs)}
        for name in self.outcomes:
            hit = chunk.first_hit[:, outcomes[name]]
            columns[f"first.{name}"] = arrow_array(hit, valid=hit >= 0)
        columns["peak_level"] = arrow_array(chunk.peak_level)
        columns["steps"] = arrow_array(chunk.steps)
        for name in self.finals:
            columns[f"final.{name}"] = arrow_array(chunk.final[:, variables[name]])
        return self.unit_rows(pa.Table.from_arrays(list(columns.values()), list(columns)), point)

    def unit_rows(self, rows: pa.Table, point: int) -> pa.Table:
        """A unit's rows as the engine gives them, in this layout's stored columns and types
        (a value out of its type's range is refused, never wrapped); rows already in them
        (:meth:`chunk_rows`) are taken as they are."""
        schema = self.stored_schema()
        if rows.schema.equals(schema) and _all_at(rows, point):
            return rows
        columns = []
        for field in schema:
            if field.name == "point":
                columns.append(arrow_array(np.full(rows.num_rows, point, np.int32)))
                continue
            if field.name not in rows.column_names:
                raise ValueError(f"a unit's rows lack the column {field.name}")
            columns.append(pc.cast(rows.column(field.name), field.type))
        return pa.Table.from_arrays(columns, schema=schema)

    # -- what reading gives back -------------------------------------------------------------
    def read_schema(self, params: bool = True, columns: Sequence[str] | None = None) -> pa.Schema:
        """The columns rows are read and exported with (as :func:`redline.results.chunk_table`
        makes them, after ``point``); without the ``param.*`` columns unless ``params``;
        ``columns``: only those, in that order (a column it does not have: KeyError)."""
        if columns is not None:
            full = self.read_schema(params)
            return pa.schema([full.field(c) for c in columns])
        if not params:
            return pa.schema([f for f in self.read_schema() if not f.name.startswith("param.")])
        return pa.schema(
            [("point", pa.int32()), ("run", pa.int64())]
            + [(f"lever.{lv}", pa.string()) for lv in self.levers]
            + [("lens", pa.string())]
            + [(f"param.{p}", pa.float64()) for p in self.params]
            + [(f"first.{o}", pa.int32()) for o in self.outcomes]
            + [("peak_level", pa.int32()), ("steps", pa.int32())]
            + [(f"final.{v}", pa.float64()) for v in self.finals]
        )

    def stored_for(self, columns: Sequence[str]) -> list[str]:
        """The stored columns that reading ``columns`` takes: those among them, and ``point``
        and ``run`` where a lever's, the lens's or a parameter's column is among them (they are
        made from the run's design point and number)."""
        stored = [c for c, _ in self.stored()]
        wanted = set(columns)
        if any(c not in stored for c in wanted):
            wanted |= {"point", "run"}
        return [c for c in stored if c in wanted]

    def to_json(self) -> str:
        return json.dumps(
            {
                "levers": self.levers,
                "params": self.params,
                "outcomes": self.outcomes,
                "finals": self.finals,
                "step_type": self.step_type,
                "level_type": self.level_type,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> Layout:
        data = json.loads(text)
        return cls(
            tuple(data["levers"]),
            tuple(data["params"]),
            tuple(data["outcomes"]),
            tuple(data["finals"]),
            data["step_type"],
            data["level_type"],
        )


def _all_at(rows: pa.Table, point: int) -> bool:
    """Whether every row is of design point ``point``."""
    column = rows.column("point")
    if rows.num_rows == 0:
        return True
    bounds: dict[str, int | None] = pc.min_max(column).as_py()
    return column.null_count == 0 and bounds == {"min": point, "max": point}


def _ident(name: str) -> str:
    """A column name for a double-quoted SQL identifier."""
    return name.replace('"', '""')


@dataclass(frozen=True)
class PointConfig:
    """A stored design point's configuration: its levers, lens and design-fixed values."""

    levers: Mapping[str, str]
    lens: str | None
    fixed: tuple[tuple[str, float], ...]


class Expander:
    """Turns stored rows back into full rows: the configuration's columns and the parameter
    values, recomputed."""

    def __init__(
        self,
        layout: Layout,
        scenario: Scenario,
        points: Mapping[int, PointConfig],
        seed: int,
    ) -> None:
        self.layout = layout
        self.seed = seed
        self.points = points
        self.scenario = scenario
        self._jobs: dict[int, Job] = {}
        self.schema = layout.read_schema()

    def job(self, point: int) -> Job:
        if point not in self._jobs:
            p = self.points[point]
            self._jobs[point] = Job.of(
                self.scenario, Configuration(dict(p.levers), p.lens), p.fixed
            )
        return self._jobs[point]

    def params(self, point: int, runs: np.ndarray) -> dict[str, np.ndarray]:
        """The parameter columns of ``runs`` of a design point."""
        wanted = set(self.layout.params)
        program = self.job(point).program
        values = sample_params(
            tuple(p for p in program.params if p.name in wanted),
            self.seed,
            np.asarray(runs, dtype=np.int64),
        )
        return {
            name: np.broadcast_to(np.asarray(values[name], np.float64), len(runs))
            for name in self.layout.params
        }

    def check(self) -> str:
        """A digest of the parameters of the first runs of every design point: stored when the
        experiment is created, compared when it is read."""
        digest = hashlib.sha256()
        runs = np.arange(CHECK_RUNS, dtype=np.int64)
        for point in sorted(self.points):
            for name, values in self.params(point, runs).items():
                digest.update(name.encode())
                digest.update(np.ascontiguousarray(values, dtype="<f8").tobytes())
        return digest.hexdigest()[:16]

    def expand(
        self, batch: pa.RecordBatch, params: bool = True, columns: Sequence[str] | None = None
    ) -> pa.RecordBatch:
        """Full rows of a batch of stored rows (of any design points); without the runs'
        parameter values unless ``params`` (recomputing them is most of the cost of reading);
        ``columns``: only those, in that order, of which the batch need hold only the stored
        columns :meth:`Layout.stored_for` names."""
        if columns is None:
            schema = self.schema if params else self.layout.read_schema(params=False)
        else:
            schema = self.layout.read_schema(params, columns)
        stored = {c for c, _ in self.layout.stored()}
        made = {name for name in schema.names if name not in stored}
        extra: dict[str, pa.Array] = {}
        if made:  # the configuration's and the parameters' columns, from the runs' points
            point = numpy_array(batch.column("point"))
            runs = numpy_array(batch.column("run")).astype(np.int64)
            present, which = np.unique(point, return_inverse=True)
            configs = [self.points[int(pt)] for pt in present]
            index = pa.array(which.astype(np.int32))
            for lv in self.layout.levers:
                if f"lever.{lv}" in made:
                    options = pa.array([c.levers[lv] for c in configs], pa.string())
                    extra[f"lever.{lv}"] = options.take(index)
            if "lens" in made:
                extra["lens"] = pa.array([c.lens for c in configs], pa.string()).take(index)
            drawn = [p for p in self.layout.params if f"param.{p}" in made]
            values_of = {p: np.empty(len(runs), dtype=np.float64) for p in drawn}
            for k, pt in enumerate(present if drawn else []):
                rows = which == k
                for name, values in self.params(int(pt), runs[rows]).items():
                    if name in values_of:
                        values_of[name][rows] = values
            for name in drawn:
                extra[f"param.{name}"] = pa.array(values_of[name], pa.float64())
        arrays = []
        for field in schema:
            if field.name in extra:
                arrays.append(extra[field.name])
            else:
                arrays.append(pc.cast(batch.column(field.name), field.type))
        return pa.RecordBatch.from_arrays(arrays, schema=schema)

    def expand_all(
        self,
        batches: Iterator[pa.RecordBatch],
        params: bool = True,
        columns: Sequence[str] | None = None,
    ) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            if batch.num_rows:
                yield self.expand(batch, params, columns)
