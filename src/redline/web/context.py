"""What every request of one server shares: its settings, workspace, store, run queue and
analysis queue."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb

from redline.experiment.store import Store
from redline.web.analyses import AnalysisQueue
from redline.web.jobs import RunQueue
from redline.web.settings import Settings
from redline.web.workspace import Workspace


class SharedStore(Store):
    """The store as the server's threads share it (requests and runs at once): one connection
    at a time in this process, as DuckDB wants of one process that both reads and writes a
    file; other processes (a ``redline sweep`` beside the server) are waited for as the
    command line waits for them."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self._lock = threading.RLock()

    @contextlib.contextmanager
    def connect(
        self, must_exist: bool = False, wait: float | None = None, read_only: bool = False
    ) -> Iterator[duckdb.DuckDBPyConnection]:
        with self._lock, super().connect(must_exist, wait, read_only) as con:
            yield con


@dataclass(frozen=True)
class Context:
    settings: Settings
    workspace: Workspace
    store: Store
    queue: RunQueue
    analyses: AnalysisQueue

    @classmethod
    def of(cls, settings: Settings) -> Context:
        store = SharedStore(settings.store)
        return cls(
            settings,
            Workspace(settings.workspace),
            store,
            RunQueue(store, settings.runners, settings.queue_capacity),
            AnalysisQueue(settings.analysis_runners, settings.analysis_capacity),
        )
