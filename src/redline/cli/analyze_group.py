"""The ``redline analyze`` group: the analyses that answer a researcher's questions about a
scenario's runs — which assumptions matter, where dangerous futures lie, which lever is robust,
and a decision point as a game. Each analysis registers its command on ``analyze_app``."""

from __future__ import annotations

import typer

from redline.cli.app import app

analyze_app = typer.Typer(
    help="Analyse a scenario's runs: sensitivity, scenario discovery, robust levers, games.",
    no_args_is_help=True,
)
app.add_typer(analyze_app, name="analyze")
