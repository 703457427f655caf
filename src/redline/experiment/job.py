"""What a worker needs to compute a unit: the configured core program, picklable as it is."""

from __future__ import annotations

from dataclasses import dataclass

from redline.compile import Configuration, Program, lowered
from redline.compile.configure import configure, overrides
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
        program = configure(lowered(scenario), values)
        return cls(program, tuple(sorted(config.levers.items())), config.lens, fixed)

    @property
    def config(self) -> Configuration:
        return Configuration(dict(self.levers), self.lens)
