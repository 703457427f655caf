"""Levers and lenses: which parameter values a configuration of the scenario uses.

A lens (a worldview) sets parameters first; lever options (policy choices) are applied after it,
so an explicit policy choice wins where both touch the same parameter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field

from redline.compile.draws import draw_of
from redline.core.program import Program, RunConstant
from redline.errors import UserError
from redline.scenario.errors import suggest
from redline.scenario.model import Distribution, Scenario


@dataclass(frozen=True)
class Configuration:
    """One point of a sweep: an option for each lever and a lens (``None`` for no lens)."""

    levers: Mapping[str, str] = field(default_factory=dict)
    lens: str | None = None

    def label(self) -> str:
        parts = [f"{k}={v}" for k, v in self.levers.items()]
        if self.lens:
            parts.append(f"lens={self.lens}")
        return ", ".join(parts) or "defaults"


def resolve(
    scenario: Scenario, levers: Mapping[str, str] | None = None, lens: str | None = None
) -> Configuration:
    """Check lever and lens names and fill in each lever's default option."""
    chosen: dict[str, str] = {}
    known = {lever.id: lever for lever in scenario.levers}
    for name, option in (levers or {}).items():
        if name not in known:
            raise UserError(suggest(name, known, "lever"))
        options = [o.id for o in known[name].options]
        if option not in options:
            raise UserError(f"lever '{name}': " + suggest(option, options, "option"))
    for lever in scenario.levers:
        given = (levers or {}).get(lever.id)
        chosen[lever.id] = given or lever.default or lever.options[0].id
    if lens is not None and lens not in {x.id for x in scenario.lenses}:
        raise UserError(suggest(lens, [x.id for x in scenario.lenses], "lens"))
    return Configuration(levers=chosen, lens=lens)


def overrides(scenario: Scenario, config: Configuration) -> dict[str, float | Distribution]:
    """The parameter values a configuration sets."""
    out: dict[str, float | Distribution] = {}
    if config.lens is not None:
        lens = next(x for x in scenario.lenses if x.id == config.lens)
        out.update(lens.set)
    for lever in scenario.levers:
        option_id = config.levers.get(lever.id)
        option = next((o for o in lever.options if o.id == option_id), None)
        if option is not None:
            out.update(option.set)
    return out


def configure(program: Program, values: Mapping[str, float | Distribution]) -> Program:
    """The program with parameter values replaced: a number fixes it, a distribution draws it."""
    params = []
    for p in program.params:
        if p.name not in values:
            params.append(p)
            continue
        value = values[p.name]
        if isinstance(value, float | int):
            params.append(RunConstant(p.name, float(value)))
        else:
            params.append(RunConstant(p.name, None, draw_of(value)))
    return dataclasses.replace(program, params=tuple(params))
