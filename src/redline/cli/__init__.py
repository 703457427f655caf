"""The ``redline`` command line: one typer app, commands grouped by what they work on.

Each command's module is imported when the command is used (:mod:`redline.cli.lazy_group`);
:mod:`redline.cli.command_index` lists them for ``redline --help``.
"""

from __future__ import annotations

from redline.cli.app import app

__all__ = ["app"]
