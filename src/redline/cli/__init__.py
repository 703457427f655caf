"""The ``redline`` command line: one typer app, commands grouped by what they work on."""

from __future__ import annotations

from redline.cli.app import app
from redline.cli import scenario_cmds  # noqa: F401  (registers commands)

__all__ = ["app"]
