"""What every request of one server shares: its settings, workspace, store and run queue."""

from __future__ import annotations

from dataclasses import dataclass

from redline.experiment.store import Store
from redline.web.jobs import RunQueue
from redline.web.settings import Settings
from redline.web.workspace import Workspace


@dataclass(frozen=True)
class Context:
    settings: Settings
    workspace: Workspace
    store: Store
    queue: RunQueue

    @classmethod
    def of(cls, settings: Settings) -> Context:
        store = Store(settings.store)
        return cls(
            settings,
            Workspace(settings.workspace),
            store,
            RunQueue(store, settings.runners, settings.queue_capacity),
        )
