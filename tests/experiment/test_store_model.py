"""Random sequences of store operations — sweep, kill, Ctrl-C, resume, delete (also in the middle
of a sweep), export — over names that differ only in ``-``, ``.`` and ``_``, checked after every
step against an in-memory model of what the store must hold.

Everything runs in this process on tiny sweeps: a "kill" stops a sweep between two units without
recording anything (as SIGKILL leaves it: status ``running``), a Ctrl-C goes through the runner
(status ``stopped``), and a deletion in the middle of a sweep is made from another ``Store`` of
the same file between two of its units. Kills and interrupts of real processes by real signals
are tested in test_experiment_resume.py, test_experiment_interrupt.py and
test_store_integrity.py.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from experiment_support import assert_same_rows, derived_scenario, read_export
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from redline.errors import UserError
from redline.experiment import runner
from redline.experiment.executors import InProcess
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import ExperimentDeleted, Store
from redline.experiment.sweep import plan, run_plan
from redline.scenario.loader import load_scenario

NAMES = ["run-1", "run.1", "run_1", "other"]

#: tiny experiments: two of one scenario with different seeds and points, one of another
#: scenario with other columns, a lens that fixes what the others draw, and the final state
VARIANTS: dict[str, dict[str, object]] = {
    "a": {
        "scenario": "convoy-strike",
        "runs": 30,
        "chunk_size": 10,
        "seed": 1,
        "levers": {"nato_response": ["none"]},
        "lenses": ["baseline"],
    },
    "b": {
        "scenario": "convoy-strike",
        "runs": 20,
        "chunk_size": 10,
        "seed": 2,
        "levers": {"nato_response": ["collective"]},
        "lenses": ["baseline", "provocation"],
    },
    "c": {
        "scenario": "derived",
        "runs": 20,
        "chunk_size": 10,
        "seed": 3,
        "levers": {"nato_response": ["none"]},
        "lenses": ["fixed_threshold", "baseline"],
        "final_state": True,
    },
}


@cache
def scenario_path(name: str) -> str:
    """A built-in scenario's file, or ``derived``: one of the tests' own, with other columns
    (:func:`experiment_support.derived_scenario`)."""
    if name == "derived":
        where = Path(tempfile.mkdtemp(prefix="store-model-scenario-"))
        atexit.register(shutil.rmtree, where, True)
        return str(derived_scenario(where))
    return str(load_scenario(name).path)


def spec_of(name: str, variant: str) -> ExperimentSpec:
    body = dict(VARIANTS[variant])
    body["scenario"] = scenario_path(str(body["scenario"]))
    return ExperimentSpec.model_validate({**body, "name": name})


@cache
def reference(variant: str) -> pa.Table:
    """Every row of a variant, from an uninterrupted sweep into a store of its own."""
    where = Path(tempfile.mkdtemp(prefix="store-model-ref-"))
    try:
        store = Store(where / "ref.duckdb")
        p = plan(spec_of("ref", variant), store)
        run_plan(p, store, InProcess(1))
        return store.results("ref")
    finally:
        shutil.rmtree(where)


def unit_count(variant: str) -> int:
    v = VARIANTS[variant]
    runs, chunk = int(str(v["runs"])), int(str(v["chunk_size"]))
    points = len(v["lenses"])  # type: ignore[arg-type]
    return points * -(-runs // chunk)


@dataclass
class Expected:
    """What the store must hold of one experiment."""

    variant: str
    units: set[int] = field(default_factory=set)
    status: str = "running"


class Kill(BaseException):
    """Stands for SIGKILL: the sweep stops between two units and records nothing."""


class StoreModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.where = Path(tempfile.mkdtemp(prefix="store-model-"))
        self.store = Store(self.where / "store.duckdb")
        self.model: dict[str, Expected] = {}

    def teardown(self) -> None:
        shutil.rmtree(self.where, ignore_errors=True)

    # -- helpers -----------------------------------------------------------------------------
    def _refused(self, name: str, variant: str) -> bool:
        """A different specification under an existing name is refused, changing nothing."""
        expected = self.model.get(name)
        if expected is None or expected.variant == variant:
            return False
        with pytest.raises(UserError, match="already exists"):
            plan(spec_of(name, variant), self.store)
        return True

    def _sweep(self, name: str, variant: str, after: Callable[[int], None] | None) -> list[int]:
        """Plan and run a sweep, calling ``after(k)`` once its k-th unit is stored; the units
        it stored, in order."""
        p = plan(spec_of(name, variant), self.store)
        self.model.setdefault(name, Expected(variant))
        stored: list[int] = []
        todo = iter(p.todo)

        def progress(runs: int) -> None:
            stored.append(next(todo).index)
            if after is not None:
                after(len(stored))

        try:
            run_plan(p, self.store, InProcess(1), progress=progress)
        finally:
            if name in self.model:
                self.model[name].units.update(stored)
        return stored

    # -- rules -------------------------------------------------------------------------------
    @rule(name=st.sampled_from(NAMES), variant=st.sampled_from(sorted(VARIANTS)))
    def sweep(self, name: str, variant: str) -> None:
        if self._refused(name, variant):
            return
        self._sweep(name, variant, None)
        expected = self.model[name]
        expected.units = set(range(unit_count(variant)))
        expected.status = "done"

    @rule(
        name=st.sampled_from(NAMES),
        variant=st.sampled_from(sorted(VARIANTS)),
        k=st.integers(1, 3),
    )
    def kill(self, name: str, variant: str, k: int) -> None:
        if self._refused(name, variant):
            return

        def after(done: int) -> None:
            if done == k:
                raise Kill

        try:
            self._sweep(name, variant, after)
        except Kill:
            self.model[name].status = "running"
            return
        self.model[name].status = "done"  # fewer than k units were left to do

    @rule(
        name=st.sampled_from(NAMES),
        variant=st.sampled_from(sorted(VARIANTS)),
        k=st.integers(1, 3),
    )
    def interrupt(self, name: str, variant: str, k: int) -> None:
        """Ctrl-C after k units, through the runner: the experiment is recorded as stopped."""
        if self._refused(name, variant):
            return
        self.model.setdefault(name, Expected(variant))
        stored: list[int] = []

        def start(p: runner.Plan, _: str) -> Callable[[int], None]:
            todo = iter(p.todo)

            def advance(runs: int) -> None:
                stored.append(next(todo).index)
                if len(stored) == k:
                    raise KeyboardInterrupt

            return advance

        try:
            runner.execute(spec_of(name, variant), self.store, {"threads": 1}, progress=start)
        except runner.Stopped as exc:
            self.model[name].units.update(stored)
            self.model[name].status = "stopped"
            assert f"{len(self.model[name].units)} of {unit_count(variant)}" in str(exc)
            return
        self.model[name].units.update(stored)
        self.model[name].status = "done"

    @rule(name=st.sampled_from(NAMES))
    def delete(self, name: str) -> None:
        if name not in self.model:
            with pytest.raises(UserError, match=r"no experiment named|no store at"):
                self.store.delete(name)
            return
        self.store.delete(name)
        del self.model[name]

    @rule(
        name=st.sampled_from(NAMES),
        variant=st.sampled_from(sorted(VARIANTS)),
        k=st.integers(1, 3),
    )
    def delete_during_sweep(self, name: str, variant: str, k: int) -> None:
        """Another command deletes the experiment after the sweep stored k units."""
        if self._refused(name, variant):
            return
        deleted = []

        def after(done: int) -> None:
            if done == k:
                Store(self.store.path).delete(name)
                deleted.append(True)

        try:
            self._sweep(name, variant, after)
        except ExperimentDeleted as exc:
            assert deleted
            assert f"'{name}' was deleted" in str(exc)
            self.model.pop(name, None)
            return
        assert not deleted, "the sweep went on after its experiment was deleted"
        self.model[name].status = "done"

    @rule(name=st.sampled_from(NAMES), fmt=st.sampled_from(["csv", "parquet"]))
    def export(self, name: str, fmt: str) -> None:
        target = self.where / f"export.{fmt}"
        expected = self.model.get(name)
        if expected is None:
            with pytest.raises(UserError, match=r"unknown experiment|no store at"):
                self.store.export(name, fmt, target)
            return
        if not expected.units:
            with pytest.raises(UserError, match="no results yet"):
                self.store.export(name, fmt, target)
            return
        count = self.store.export(name, fmt, target)
        rows = self._expected_rows(name, expected)
        assert count == rows.num_rows
        got = read_export(target)
        if fmt == "parquet":
            assert_same_rows(got, rows)
        else:  # CSV keeps values, not types
            assert got.num_rows == rows.num_rows
            assert got.column_names == rows.column_names
            assert got.column("run").to_pylist() == rows.column("run").to_pylist()

    def _expected_rows(self, name: str, expected: Expected) -> pa.Table:
        """The reference rows of the units the model says are stored."""
        table = reference(expected.variant)
        record = self.store.get(name)
        assert record is not None
        chunk = record.spec.chunk_size
        per_point = -(-record.spec.runs // chunk)
        keep = pc.is_in(
            pc.add(
                pc.multiply(table.column("point"), per_point),
                pc.divide(table.column("run"), pa.scalar(chunk, pa.int64())),
            ),
            value_set=pa.array(sorted(expected.units), pa.int64()),
        )
        return table.filter(keep)

    # -- what must hold after every step -----------------------------------------------------
    @precondition(lambda self: self.store.path.exists())
    @invariant()
    def the_store_holds_what_the_model_says(self) -> None:
        records = {r.name: r for r in self.store.experiments()}
        assert set(records) == set(self.model)
        con = duckdb.connect(str(self.store.path), read_only=True)
        try:
            for name, expected in self.model.items():
                record = records[name]
                assert record.status == expected.status, (name, record.status, expected)
                assert record.spec.seed == VARIANTS[expected.variant]["seed"]
                units = con.execute(
                    "SELECT unit FROM units WHERE experiment = ? AND fingerprint = ?",
                    [record.key, record.fingerprint],
                ).fetchall()
                assert {u for (u,) in units} == expected.units, (name, units, expected)
                assert record.done_units == len(expected.units)
            keys = dict(con.execute("SELECT key, name FROM experiments").fetchall())
            tables = {
                r[0]
                for r in con.execute(
                    "SELECT table_name FROM information_schema.tables "
                    "WHERE table_name LIKE 'results_%'"
                ).fetchall()
            }
            assert tables == {f"results_{k}" for k in keys}
            for table in ("units", "occupancy", "points"):
                stray = con.execute(
                    f"SELECT count(*) FROM {table} WHERE experiment NOT IN "
                    "(SELECT key FROM experiments)"
                ).fetchall()
                assert stray == [(0,)], table
            for key, name in keys.items():
                ((rows,),) = con.execute(f"SELECT count(*) FROM results_{key}").fetchall()
                ((runs,),) = con.execute(
                    "SELECT coalesce(sum(run_stop - run_start), 0) FROM units WHERE experiment = ?",
                    [key],
                ).fetchall()
                assert rows == runs, name
        finally:
            con.close()


StoreModel.TestCase.settings = settings(
    max_examples=12,
    stateful_step_count=10,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestStoreModel = StoreModel.TestCase
