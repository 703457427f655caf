"""The index of ``redline``'s commands: each one's name, the line ``redline --help`` shows for it,
and the modules whose import registers it — what the command line knows before it imports any
command (:mod:`redline.cli.lazy_group`).

A command added, renamed or redescribed is changed here too: ``tests/cli/test_command_index.py``
builds every command and fails, naming the line to write, where this index says otherwise.
"""

from __future__ import annotations

from redline.cli.lazy_group import IndexedCommand

_CLI = "redline.cli."

#: the top-level commands in the order ``redline --help`` lists them
COMMANDS: tuple[IndexedCommand, ...] = tuple(
    IndexedCommand(name, summary, tuple(_CLI + m for m in modules))
    for name, summary, modules in (
        (
            "run",
            "Simulate a scenario for every lever option and lens (unless fixed with "
            "--lever/--lens)",
            ("run_cmds",),
        ),
        ("story", "Tell one run (one configuration) as a story", ("run_cmds",)),
        (
            "ablate",
            "Switch off each mechanism (rule, treaty clause, red line, doctrine, scheduled "
            "event, dynamic; each decision-maker made to hold) one at a time on the same runs "
            "(common random numbers)",
            ("analysis_cmds",),
        ),
        (
            "score-escalation",
            "EscalAItion's escalation score per model × situation",
            ("escalation_cmds",),
        ),
        (
            "escalation-fit",
            "Fit each model's action distribution per situation from run logs and print the "
            "escalaition scenario's lenses section (one lens per model) that plays them",
            ("escalation_cmds",),
        ),
        (
            "escalation-power",
            "With what probability would a study of RUNS runs per cell tell each pair of models "
            "apart in each situation (Welch's two-sided t-test on the run scores, right sign)? "
            "Studies are simulated from each cell's fitted action distribution and by "
            "resampling their runs",
            ("escalation_cmds",),
        ),
        ("sweep", "Run an experiment", ("experiment_cmds",)),
        (
            "compare",
            "Differences in outcome probabilities between lever options (or lenses), with 95% "
            "intervals, each against the first option (or --lens), everything else held equal, "
            "beside both probabilities",
            ("experiment_cmds",),
        ),
        (
            "validate",
            "Check scenario files; list every problem (structure, names, ranges, expressions) "
            "with its file, line and element path, all in one pass, sorted by line",
            ("scenario_cmds",),
        ),
        (
            "schema",
            "Print the JSON Schema (draft 2020-12) that every valid scenario satisfies",
            ("scenario_cmds",),
        ),
        (
            "scenarios",
            "List the built-in scenarios with their titles and paths",
            ("scenario_cmds",),
        ),
        ("explain", "Summarise a scenario", ("scenario_cmds",)),
        ("ladder", "List an escalation ladder's rungs, bottom to top", ("scenario_cmds",)),
        (
            "score",
            "Score each lens against the scenario's record of observations",
            ("score_cmds",),
        ),
        ("serve", "Serve the web page", ("serve_cmds",)),
        ("why", "Why the runs that reached OUTCOME got there", ("why_cmds",)),
        (
            "analyze",
            "Analyse a scenario's runs: sensitivity, scenario discovery, robust levers, games.",
            ("analyze_group", "exploration_cmds", "game_cmds", "robust_cmds"),
        ),
        (
            "results",
            "Stored experiments: list, show, export, delete.",
            ("experiment_cmds",),
        ),
    )
)
