"""Scenario → core program: the domain front end lowered, then a configuration applied."""

from __future__ import annotations

import json
from functools import lru_cache

from redline.compile.configure import Configuration, configure, overrides, resolve
from redline.compile.lower import lower
from redline.core.program import Program
from redline.scenario.model import Scenario

__all__ = ["Configuration", "Program", "compile_scenario", "lowered", "resolve"]


def compile_scenario(scenario: Scenario, config: Configuration | None = None) -> Program:
    """Compile a validated scenario for one configuration (levers and lens)."""
    program = lowered(scenario)
    if config is None:
        config = resolve(scenario)
    return configure(program, overrides(scenario, config))


def lowered(scenario: Scenario) -> Program:
    """The scenario lowered, before any configuration: once per process for each scenario (as
    its JSON says it), shared by every configuration compiled from it (programs are immutable).
    A sweep's design points, the report's summaries and its narrated run all compile one
    scenario, each lowering of which took tens of milliseconds."""
    return _lowered(scenario.model_dump_json(by_alias=True))


@lru_cache(maxsize=8)
def _lowered(scenario_json: str) -> Program:
    return lower(Scenario.model_validate(json.loads(scenario_json)))
