"""A command group that imports a command's module only when the command is used.

Building the command line from every command's signature, and importing every command's module
first, was most of the time ``redline --help`` took. The group knows each command up front from
an index — its name, the one line its parent's ``--help`` shows, and the modules whose import
registers it on the typer app — and resolves a command (imports its modules and builds it from
its signature) only when it runs, when its own ``--help`` is asked for, or when a completion or a
mistyped name needs the real list. Its own ``--help`` lists every command from the index without
importing any of them: the pattern of click's documented lazy groups, with the short help known
at registration as in cyclopts' lazy commands. A test builds every command and compares the
index with them, so the two cannot drift.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import typer
from typer.core import TyperCommand, TyperGroup
from typer.main import get_command_from_info, get_command_name, get_group_from_info

from redline.cli import help_page

if TYPE_CHECKING:  # the types typer's groups are annotated with (typer vendors click)
    from typer._click import Command, Context, HelpFormatter


@dataclass(frozen=True)
class IndexedCommand:
    """One command as its parent group lists it before importing it."""

    #: the name a user types (``redline NAME``)
    name: str
    #: the one line the parent's ``--help`` shows: the command's ``short_help``
    summary: str
    #: the modules whose import registers the command (a group's: its own and its commands')
    modules: tuple[str, ...]


#: ``ctx.meta`` key set while a group prints its own help: a command it lists need not be built
_LISTING = "redline.lazy_group.listing"


class LazyGroup(TyperGroup):
    """A typer group whose commands are imported and built on first use (see the module's
    docstring). A subclass names its :attr:`index` and the typer app its commands register on
    (:meth:`source`); :meth:`prepare` is its hook for a command once built."""

    #: every command of the group, in the order its help lists them
    index: ClassVar[Sequence[IndexedCommand]] = ()

    @classmethod
    def source(cls) -> typer.Typer:
        """The typer app whose registered commands and groups the index's modules add to."""
        raise NotImplementedError

    def load(self, module: str) -> None:
        """Import ``module``, which registers commands on :meth:`source`'s app."""
        importlib.import_module(module)

    def prepare(self, command: Command) -> None:
        """What to do to a command before the group hands it out (nothing here); called each
        time, so it must be idempotent."""

    def list_commands(self, ctx: Context) -> list[str]:
        """The index's names in its order, then any other command already registered."""
        names = [entry.name for entry in self.index]
        return names + [name for name in self.commands if name not in names]

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        """The command ``cmd_name``: built already, or built now from its modules — except
        while the group prints its own help, which needs only the index's line for it."""
        command = self.commands.get(cmd_name)
        if command is not None:  # built by typer from what was registered, or by _resolve
            self.prepare(command)
            return command
        entry = next((e for e in self.index if e.name == cmd_name), None)
        if entry is None:
            return None
        if ctx.meta.get(_LISTING):
            return TyperCommand(
                name=entry.name, short_help=entry.summary, rich_markup_mode=self.rich_markup_mode
            )
        return self._resolve(entry)

    def resolve_command(
        self, ctx: Context, args: list[str]
    ) -> tuple[str | None, Command | None, list[str]]:
        """As typer's, which suggests close names for a mistyped command from the commands
        built so far: a name the index lacks builds every command first."""
        if args and not ctx.resilient_parsing and args[0] not in self.list_commands(ctx):
            self.resolve_all()
        return super().resolve_command(ctx, args)

    def format_help(self, ctx: Context, formatter: HelpFormatter) -> None:
        """The group's help as typer lays it out, listing each command from the index; drawn
        without typer's help module where the page has nothing that needs it
        (:mod:`redline.cli.help_page`)."""
        with _listing(ctx):
            if help_page.draws(self, ctx):
                names = self.list_commands(ctx)
                listed = [c for c in (self.get_command(ctx, n) for n in names) if c is not None]
                help_page.print_help(self, ctx, listed)
            else:
                super().format_help(ctx, formatter)

    def resolve_all(self) -> list[Command]:
        """Import and build every command of the index (in its order)."""
        return [self.commands.get(e.name) or self._resolve(e) for e in self.index]

    def _resolve(self, entry: IndexedCommand) -> Command:
        """Import ``entry``'s modules, build its command from what they registered, keep it."""
        for module in entry.modules:
            self.load(module)
        app = self.source()
        command: Command | None = None
        for info in app.registered_commands:
            if info.callback is not None and entry.name == (
                info.name or get_command_name(info.callback.__name__)
            ):
                command = get_command_from_info(
                    info,
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    rich_markup_mode=self.rich_markup_mode,
                )
        for group in app.registered_groups:
            if entry.name == group.name:
                command = get_group_from_info(
                    group,
                    pretty_exceptions_short=app.pretty_exceptions_short,
                    suggest_commands=self.suggest_commands,
                    rich_markup_mode=self.rich_markup_mode,
                )
        if command is None:
            raise LookupError(
                f"command {entry.name!r}: importing {', '.join(entry.modules)} registered no "
                "command of that name (the command index is out of date)"
            )
        self.prepare(command)
        self.commands[entry.name] = command
        return command


@contextmanager
def _listing(ctx: Context) -> Iterator[None]:
    """Mark ``ctx`` (and the contexts it shares ``meta`` with) as printing a command list."""
    before = ctx.meta.get(_LISTING)
    ctx.meta[_LISTING] = True
    try:
        yield
    finally:
        ctx.meta[_LISTING] = before
