"""``redline --help`` lists the commands from an index without importing them; the index cannot
drift from the commands the app really has: the same names, the same one-line summaries, the
modules that register them — and the help printed from the index is the help printed from every
command built. A command is imported only when used, and a mistyped one still gets its
"did you mean"."""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import pytest
import typer
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

import redline.cli
from redline.cli import app, lazy_group
from redline.cli.command_index import COMMANDS


@pytest.fixture(scope="module")
def every_command() -> dict[str, Any]:
    """Every top-level command and group the app has once every module of ``redline.cli`` is
    imported (found by listing the package, not from the index), built by typer as it builds
    a command line, by name."""
    for module in pkgutil.iter_modules(redline.cli.__path__):
        importlib.import_module(f"redline.cli.{module.name}")
    group = get_command(app)
    ctx = typer.Context(group)
    assert isinstance(group, TyperGroup)
    return {name: group.get_command(ctx, name) for name in list(group.commands)}


def _index_line(name: str, command: Any) -> str:
    """The index entry a command needs, as the failure message shows it."""
    modules = sorted({sub.callback.__module__ for sub in _leaves(command)})
    return f"({name!r}, {command.short_help or command.help!r}, {modules!r})"


def _leaves(command: Any) -> list[Any]:
    """A command, or a group's commands (recursively)."""
    if isinstance(command, TyperGroup):
        return [leaf for sub in command.commands.values() for leaf in _leaves(sub)]
    return [command]


def test_the_index_names_every_command_the_app_has(every_command: dict[str, Any]) -> None:
    indexed = [entry.name for entry in COMMANDS]
    assert len(set(indexed)) == len(indexed), f"a name is indexed twice: {indexed}"
    missing = [_index_line(n, c) for n, c in every_command.items() if n not in indexed]
    assert not missing, f"add to redline.cli.command_index: {missing}"
    gone = [n for n in indexed if n not in every_command]
    assert not gone, f"the index lists commands the app does not have: {gone}"


def test_each_indexed_line_is_the_commands_own(every_command: dict[str, Any]) -> None:
    for entry in COMMANDS:
        command = every_command[entry.name]
        assert entry.summary == (command.short_help or command.help), _index_line(
            entry.name, command
        )


def test_the_indexed_modules_register_the_command(every_command: dict[str, Any]) -> None:
    """Each command's function is defined — and so registered — in a module the index imports
    for it (a group: each of its commands)."""
    for entry in COMMANDS:
        for leaf in _leaves(every_command[entry.name]):
            assert leaf.callback.__module__ in entry.modules, _index_line(
                entry.name, every_command[entry.name]
            )


def test_every_command_answers_its_own_help(every_command: dict[str, Any]) -> None:
    """``redline NAME --help`` prints the command's usage and exits 0 for every command (a
    group's commands are built with it, as before the index)."""
    runner = CliRunner()
    for name in every_command:
        result = runner.invoke(app, [name, "--help"], env={"COLUMNS": "200"})
        assert result.exit_code == 0, (name, result.output)
        assert f"redline {name} [OPTIONS]" in result.output, result.output


_PROBE = """
import contextlib, io, json, sys
from redline.cli import app

def say(*args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            app(list(args), prog_name="redline")
        except SystemExit as stop:
            code = stop.code
    return {"code": code, "out": out.getvalue(), "err": err.getvalue()}

lazy = say("--help")
loaded = sorted(m for m in sys.modules if m.startswith("redline.cli."))
typo = say("rn")
import pkgutil, importlib, redline.cli
for module in pkgutil.iter_modules(redline.cli.__path__):
    importlib.import_module("redline.cli." + module.name)
eager = say("--help")
print(json.dumps({"lazy": lazy, "loaded": loaded, "typo": typo, "eager": eager}))
"""


@pytest.fixture(scope="module")
def fresh_start() -> dict[str, Any]:
    """What a fresh ``redline`` process says to ``--help`` (and which of the command line's
    modules it loaded for it), then to a mistyped command, then to ``--help`` again once
    every command's module is imported (typer builds every command then)."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        env={**os.environ, "COLUMNS": "120"},
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_help_from_the_index_is_the_help_of_every_command(fresh_start: dict[str, Any]) -> None:
    lazy, eager = fresh_start["lazy"], fresh_start["eager"]
    assert lazy["code"] in (0, None) and eager["code"] in (0, None), fresh_start
    for entry in COMMANDS:
        assert f" {entry.name} " in lazy["out"], entry.name
    assert lazy["out"] == eager["out"]


def test_help_imports_no_command(fresh_start: dict[str, Any]) -> None:
    """``redline --help`` loads the app, the index, the group and its page — no command's
    module."""
    assert fresh_start["loaded"] == [
        "redline.cli.app",
        "redline.cli.command_index",
        "redline.cli.help_page",
        "redline.cli.lazy_group",
    ]


def test_a_mistyped_command_is_told_the_close_names(fresh_start: dict[str, Any]) -> None:
    typo = fresh_start["typo"]
    assert typo["code"] == 2
    assert "No such command 'rn'. Did you mean 'run'?" in typo["err"]


def test_ctrl_c_while_a_command_loads_is_said(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C while a command's module is imported: the word and exit 130, as anywhere."""

    def interrupt(module: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(lazy_group, "importlib", SimpleNamespace(import_module=interrupt))
    group = type(get_command(app))(name="redline")  # nothing built yet
    with pytest.raises(SystemExit) as stop:
        group.main(["run", "--help"], prog_name="redline")
    assert stop.value.code == 130
    assert capsys.readouterr().err == "interrupted\n"
