"""The ``redline`` command line: one typer app, commands grouped by what they work on."""

from __future__ import annotations

from redline.cli import (
    analysis_cmds,
    analyze_group,
    escalation_cmds,
    experiment_cmds,
    exploration_cmds,
    game_cmds,
    robust_cmds,
    run_cmds,
    scenario_cmds,
    score_cmds,
    serve_cmds,
    why_cmds,
)
from redline.cli.app import app, summarise_commands

summarise_commands(app)

__all__ = [
    "analysis_cmds",
    "analyze_group",
    "app",
    "escalation_cmds",
    "experiment_cmds",
    "exploration_cmds",
    "game_cmds",
    "robust_cmds",
    "run_cmds",
    "scenario_cmds",
    "score_cmds",
    "serve_cmds",
    "why_cmds",
]
