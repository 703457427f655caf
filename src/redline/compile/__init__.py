"""Scenario → core program: the domain front end lowered, then a configuration applied."""

from __future__ import annotations

from redline.compile.configure import Configuration, configure, overrides, resolve
from redline.compile.lower import lower
from redline.core.program import Program
from redline.scenario.model import Scenario

__all__ = ["Configuration", "Program", "compile_scenario", "resolve"]


def compile_scenario(scenario: Scenario, config: Configuration | None = None) -> Program:
    """Compile a validated scenario for one configuration (levers and lens)."""
    program = lower(scenario)
    if config is None:
        config = resolve(scenario)
    return configure(program, overrides(scenario, config))
