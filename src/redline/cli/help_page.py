"""A command group's help page drawn as typer draws it — the same panels, styles and words — with
rich's panels and tables, without typer's help module, which also imports Markdown rendering and
rich's tracebacks (this page uses neither): a third of the CPU time of a ``redline --help`` start.

The page covers what redline's top-level group has: options that are plain flags (nothing to
show but their help: no default, environment variable, range, panel or requirement) and
commands with a one-line summary. :func:`draws` says whether a group is such; typer draws any other.
``tests/cli/test_help_page.py`` compares this page with typer's, styles included, so that a
typer whose look changed fails there rather than shows two looks.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.align import Align
from rich.columns import Columns
from rich.console import Console, Group, RenderableType
from rich.highlighter import RegexHighlighter
from rich.padding import Padding
from rich.panel import Panel
from rich.table import Table
from rich.text import Text
from rich.theme import Theme
from typer.core import HAS_RICH, TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer._click import Command, Context

# typer's styles and words (typer.rich_utils)
_THEME = {
    "option": "bold cyan",
    "switch": "bold green",
    "negative_option": "bold magenta",
    "negative_switch": "bold red",
    "types": "bold yellow",
    "types_sep": "dim",
    "usage": "yellow",
}
_STYLE_USAGE_COMMAND = "bold"
_STYLE_HELPTEXT = "dim"
_STYLE_TYPES = "bold yellow"
_STYLE_PANEL_BORDER = "dim"
_STYLE_COMMAND_NAME = "bold cyan"
_OPTIONS = "Options"
_COMMANDS = "Commands"


class _OptionHighlighter(RegexHighlighter):
    """typer's highlighter of options, switches, types and the usage line."""

    highlights = [  # noqa: RUF012 (rich's class attribute)
        r"(^|\W)(?P<switch>\-\w+)(?![a-zA-Z0-9])",
        r"(^|\W)(?P<option>\-\-[\w\-]+)(?![a-zA-Z0-9])",
        r"(?P<types>\<[^\>]+\>)",
        r"(?P<usage>Usage: )",
    ]


class _TypesHighlighter(RegexHighlighter):
    """typer's highlighter dimming the brackets of a type."""

    highlights = [  # noqa: RUF012 (rich's class attribute)
        r"^(?P<types_sep>(\[|<))",
        r"(?P<types_sep>\|)",
        r"(?P<types_sep>(\]|>))(\.\.\.)?$",
    ]


_highlight = _OptionHighlighter()
_highlight_types = _TypesHighlighter()


def draws(group: TyperGroup, ctx: Context) -> bool:
    """Whether :func:`print_help` draws ``group``'s page as typer would: rich help on, and
    nothing on the page but what it covers (see the module's docstring)."""
    if not HAS_RICH or group.rich_markup_mode != "rich" or group.deprecated or group.epilog:
        return False
    if ctx.auto_envvar_prefix is not None or ctx.show_default:
        return False
    return all(_plain_flag(p) for p in group.get_params(ctx) if not getattr(p, "hidden", False))


def _plain_flag(param: object) -> bool:
    """An option whose row shows its names, ``<bool>`` and its help, and nothing else."""
    return (
        isinstance(param, TyperOption)
        and param.is_bool_flag
        and not param.secondary_opts
        and not param.default
        and not param.required
        and param.envvar is None
        and getattr(param, "rich_help_panel", None) is None
        and all(opt.startswith("--") for opt in param.opts)
    )


def print_help(group: TyperGroup, ctx: Context, commands: Sequence[Command]) -> None:
    """Print ``group``'s help page listing ``commands`` (each by its name and one line)."""
    console = _console()
    console.print(Padding(_highlight(group.get_usage(ctx)), 1), style=_STYLE_USAGE_COMMAND)
    if group.help:
        console.print(Padding(Align(_help_text(group.help), pad=False), (0, 1, 1, 1)))
    options = [p for p in group.get_params(ctx) if not getattr(p, "hidden", False)]
    if options:
        table = _table(highlight=True)
        for option in options:
            assert isinstance(option, TyperOption)
            kind = Text(style=_STYLE_TYPES, overflow="fold")
            kind.append(option.display_type_rich(ctx) or "")
            table.add_row(
                _highlight(",".join(option.opts)),
                _highlight(""),
                _highlight(""),
                _highlight(""),
                _highlight_types(kind),
                Columns([_markup(_paragraphs(option.help or ""))]),
            )
        console.print(_panel(table, _OPTIONS))
    shown = [c for c in commands if not c.hidden]
    if shown:
        table = _table(highlight=False)
        width = max(len(c.name or "") for c in shown)
        table.add_column(style=_STYLE_COMMAND_NAME, no_wrap=True, width=width)
        table.add_column("Description", justify="left", no_wrap=False, ratio=10)
        for command in shown:
            line = inspect.cleandoc(command.short_help or command.help or "").split("\n\n")[0]
            table.add_row(Text(command.name or ""), _markup(line.strip()))
        console.print(_panel(table, _COMMANDS))


def _console() -> Console:
    """A console as typer's help has: its theme, colours where the terminal (or a CI's
    ``FORCE_COLOR``) has them, ``TERMINAL_WIDTH`` if set."""
    force: bool | None = None
    if os.getenv("GITHUB_ACTIONS") or os.getenv("FORCE_COLOR") or os.getenv("PY_COLORS"):
        force = True
    if os.getenv("_TYPER_FORCE_DISABLE_TERMINAL"):
        force = False
    width = os.getenv("TERMINAL_WIDTH")
    return Console(
        theme=Theme(_THEME),
        highlighter=_highlight,
        color_system="auto",
        force_terminal=force,
        width=int(width) if width else None,
    )


def _help_text(help_: str) -> RenderableType:
    """The group's help: its first paragraph on one line, the rest dimmed below it."""
    first, *rest = inspect.cleandoc(help_).partition("\f")[0].split("\n\n")
    if not first.startswith("\b"):
        first = first.replace("\n", " ")
    parts: list[RenderableType] = [_markup(first.strip())]
    if rest:
        parts += [Text(""), _markup("\n\n".join(rest), style=_STYLE_HELPTEXT)]
    return Group(*parts)


def _paragraphs(help_: str) -> str:
    """An option's help with single line breaks joined, as typer shows it."""
    return "\n".join(
        p.replace("\n", " ").strip() if not p.startswith("\b") else p.strip("\b\n") + "\n"
        for p in help_.split("\n\n")
    ).strip()


def _markup(text: str, style: str = "") -> Text:
    """``text`` read as rich markup (or as ANSI where it has escapes), highlighted."""
    text = inspect.cleandoc(text)
    if "\033[" in text:
        return _highlight(Text.from_ansi(text, style=style))
    return _highlight(Text.from_markup(text, style=style))


def _table(*, highlight: bool) -> Table:
    """A borderless table of a panel, as typer lays its options and commands out."""
    return Table(
        highlight=highlight,
        show_header=False,
        expand=True,
        box=None,
        show_lines=False,
        leading=0,
        border_style=None,
        row_styles=None,
        pad_edge=False,
        padding=(0, 1),
    )


def _panel(table: Table, title: str) -> Panel:
    return Panel(table, border_style=_STYLE_PANEL_BORDER, title=title, title_align="left")
