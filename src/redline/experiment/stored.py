"""A stored experiment as the Python API returns it (:func:`redline.sweep`): where it is, what
it holds, and its outcome probabilities per configuration as a table."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

import pyarrow as pa

from redline.experiment.runner import stored_summaries
from redline.experiment.store import ExperimentRecord, Store
from redline.tables import RecordTable, pandas_frame, percent_cell

if TYPE_CHECKING:
    import pandas


@dataclass(frozen=True)
class ConfigurationOutcome:
    """One outcome under one stored configuration: how many runs reached it, its probability
    with a 95% Wilson interval (fractions, 0–1) and its mean first-hit step."""

    #: the configuration as ``redline results show`` names it (what differs from the defaults)
    configuration: str
    #: every lever's option, ``name=option`` joined by ", "
    levers: str
    lens: str | None
    outcome: str
    name: str
    hits: int
    runs: int
    p: float
    lo: float
    hi: float
    mean_first_step: float | None


class ExperimentSummary(RecordTable[ConfigurationOutcome]):
    """A stored experiment's outcome probabilities, a row per configuration × outcome
    (:class:`ConfigurationOutcome`); ``to_pandas().pivot_table(...)`` lays it out as a
    configuration × outcome grid."""

    ROW = ConfigurationOutcome
    FORMATS: ClassVar[Mapping[str, Callable[[object], str]]] = {
        "p": percent_cell,
        "lo": percent_cell,
        "hi": percent_cell,
        "mean_first_step": lambda x: "" if not isinstance(x, float) else f"{x:.1f}",
    }


@dataclass(frozen=True)
class Experiment:
    """An experiment in a store (immutable): ``record`` is what the store says of it (its
    specification, status, design points, runs and seconds of simulation) when it was
    read. ``summary()`` and ``to_arrow()`` read the store each time they are called."""

    name: str
    store: Path
    record: ExperimentRecord

    def __repr__(self) -> str:
        r = self.record
        return (
            f"Experiment(name={self.name!r}, scenario={r.scenario_id!r}, status={r.status!r}, "
            f"points={r.points}, runs={r.runs}, store={str(self.store)!r})"
        )

    @classmethod
    def read(cls, store: Store, name: str) -> Experiment:
        """Experiment ``name`` of ``store`` (an unknown name is refused, with suggestions)."""
        return cls(name, store.path, store.record(name))

    def summary(self, confidence: float = 0.95) -> ExperimentSummary:
        """Each stored configuration's outcome probabilities with intervals at ``confidence``,
        counted in DuckDB (memory does not grow with the runs stored)."""
        store = Store(self.store)
        s = store.scenario(self.name)
        outcomes = [(o.id, o.label) for o in s.outcomes]
        rows = [
            ConfigurationOutcome(
                label,
                ", ".join(f"{k}={v}" for k, v in point["levers"].items()),
                point["lens"],
                x.id,
                x.name,
                x.hits,
                x.runs,
                x.p,
                x.lo,
                x.hi,
                x.mean_first_step,
            )
            for label, point, summ in stored_summaries(store, self.name, outcomes, confidence)
            for x in summ
        ]
        return ExperimentSummary(rows, f"{self.name}: outcome probabilities ({s.id})")

    def to_arrow(self) -> pa.Table:
        """Every stored run, a row each (as ``redline results export`` writes them)."""
        return Store(self.store).results(self.name)

    def to_pandas(self) -> pandas.DataFrame:
        """Every stored run as a pandas DataFrame (pandas is imported now)."""
        return pandas_frame(self.to_arrow())

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()
