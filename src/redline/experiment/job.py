"""What a worker needs to compute a unit: the configured core program, picklable as it is."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache

from redline.compile import Configuration, Program
from redline.compile.configure import configure, overrides
from redline.compile.lower import lower
from redline.scenario.model import Scenario


@dataclass(frozen=True)
class Job:
    """One configuration of a scenario: its program (pure data, sent to workers as it is) and
    the configuration it was set up for. ``fixed`` holds the parameter values set on top of the
    configuration (design points), already applied to ``program``."""

    program: Program
    levers: tuple[tuple[str, str], ...]
    lens: str | None
    fixed: tuple[tuple[str, float], ...] = ()

    @classmethod
    def of(
        cls, scenario: Scenario, config: Configuration, fixed: tuple[tuple[str, float], ...] = ()
    ) -> Job:
        values = overrides(scenario, config)
        values.update(fixed)
        program = configure(_lowered(scenario.model_dump_json(by_alias=True)), values)
        return cls(program, tuple(sorted(config.levers.items())), config.lens, fixed)

    @property
    def config(self) -> Configuration:
        return Configuration(dict(self.levers), self.lens)


@lru_cache(maxsize=8)
def _lowered(scenario_json: str) -> Program:
    """The scenario lowered once per process, shared by all its configurations."""
    return lower(Scenario.model_validate(json.loads(scenario_json)))
