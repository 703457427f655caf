"""``redline --help`` is drawn without typer's help module, and looks exactly as typer draws it:
the same characters at every width, the same colours in a terminal. A page with something the
light drawing does not cover (an option with a default, say) is left to typer."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable
from typing import Any

import pytest
import typer
import typer.rich_utils
from typer.core import TyperGroup
from typer.main import get_command

from redline.cli import app, help_page


def _printed(draw: Callable[[], None]) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        draw()
    return out.getvalue()


@pytest.fixture(scope="module")
def top() -> tuple[TyperGroup, Any, list[Any]]:
    """The top-level group, a context naming it ``redline``, and every command it lists."""
    group = get_command(app)
    assert isinstance(group, TyperGroup)
    ctx = typer.Context(group, info_name="redline")
    commands = [group.get_command(ctx, name) for name in group.list_commands(ctx)]
    return group, ctx, commands


@pytest.mark.parametrize("columns", ["44", "80", "200"])
@pytest.mark.parametrize("colour", [False, True], ids=["plain", "colour"])
def test_the_page_is_typers(
    top: tuple[TyperGroup, Any, list[Any]],
    columns: str,
    colour: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group, ctx, commands = top
    monkeypatch.setenv("COLUMNS", columns)
    if colour:  # as typer's help is coloured in CI: by FORCE_COLOR, read when it was imported
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setattr(typer.rich_utils, "FORCE_TERMINAL", True)
    else:
        for name in ("FORCE_COLOR", "GITHUB_ACTIONS", "PY_COLORS"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setattr(typer.rich_utils, "FORCE_TERMINAL", None)
    assert help_page.draws(group, ctx)
    ours = _printed(lambda: help_page.print_help(group, ctx, commands))
    typers = _printed(
        lambda: typer.rich_utils.rich_format_help(obj=group, ctx=ctx, markup_mode="rich")
    )
    assert ("\033[" in ours) == colour
    assert ours == typers
    assert "Options" in ours and "Commands" in ours and "Tell one run" in ours


def _group(callback: Callable[..., None]) -> tuple[TyperGroup, Any]:
    small = typer.Typer(add_completion=False)
    small.callback()(callback)
    small.command()(lambda: None)
    group = get_command(small)
    assert isinstance(group, TyperGroup)
    return group, typer.Context(group)


def test_a_page_with_more_than_flags_is_left_to_typer() -> None:
    def flag(quiet: bool = typer.Option(False, "--quiet", help="Say less.")) -> None:
        pass

    def counted(n: int = typer.Option(3, "--n", help="How many.")) -> None:
        pass

    def short(quiet: bool = typer.Option(False, "--quiet", "-q", help="Say less.")) -> None:
        pass

    def switch(colour: bool = typer.Option(True, "--colour/--no-colour")) -> None:
        pass

    assert help_page.draws(*_group(flag))
    for callback in (counted, short, switch):
        assert not help_page.draws(*_group(callback)), callback.__name__
