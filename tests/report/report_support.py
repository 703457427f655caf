"""A hand-built ReportData for the report tests: 3 configurations, 3 outcomes, 5 rungs."""

from __future__ import annotations

import datetime as dt

import numpy as np

from redline.report.data import ConfigurationReport, ReportData
from redline.report.story import StoryLine
from redline.results import OutcomeSummary
from redline.scenario.register import Citation, RegisterRow
from redline.stats import wilson_interval

RUNGS = ["Diplomatic protest", "Sanctions", "Arms deliveries", "Conventional strike", "Nuclear use"]
OUTCOMES = {
    "war": "Direct NATO–Russia war",
    "nuclear": "Nuclear use",
    "settlement": "Negotiated settlement",
}
LABELS = ["invite=no · lens=hawk", "invite=vilnius · lens=hawk", "guarantees · lens=dove"]
QUOTES = [
    "every declared red line has been crossed, sometimes within weeks",
    "a win-win provocation: if NATO does not react the alliance looks hollow",
    "Russian doctrine is to use nuclear weapons if its military faces defeat",
]
STORY_QUOTE = "000.md: “admitting Ukraine would put it under Article 5”"
HORIZON = 12


def _summary(ident: str, hits: int, runs: int, mean: float | None) -> OutcomeSummary:
    lo, hi = wilson_interval(hits, runs)
    return OutcomeSummary(ident, OUTCOMES[ident], hits, runs, hits / runs, lo, hi, mean)


def _configuration(k: int, label: str, runs: int = 1000) -> ConfigurationReport:
    rng = np.random.default_rng(k)
    hits = {"war": 120 + 80 * k, "nuclear": 5 * k, "settlement": 400 - 90 * k}
    outcomes = [_summary(i, h, runs, 6.5 if h else None) for i, h in hits.items()]
    incidence = {i: list(np.linspace(0, h / runs, HORIZON)) for i, h in hits.items()}
    occupancy = np.zeros((HORIZON, len(RUNGS)), dtype=np.int64)
    for t in range(HORIZON):
        live = runs - round(float(sum(v[t] for v in incidence.values())) * runs * 0.5)
        weights = rng.dirichlet(np.ones(len(RUNGS)) * (1 + t))
        occupancy[t] = np.floor(weights * live).astype(np.int64)
    option = label.split(" ")[0].removeprefix("invite=")
    return ConfigurationReport(
        label=label,
        levers={"invite": option},
        lens="hawk" if k < 2 else "dove",
        runs=runs,
        outcomes=outcomes,
        incidence=incidence,
        occupancy=occupancy,
    )


def make_data(
    title: str = "Convoy strike on NATO soil",
    quote_extra: str | None = None,
    label_extra: str | None = None,
    start: dt.date | None = dt.date(2024, 1, 1),
) -> ReportData:
    labels = [*LABELS[:2], label_extra or LABELS[2]]
    quotes = [*QUOTES, *([quote_extra] if quote_extra else [])]
    register = [
        RegisterRow(
            "red_lines.no_tanks",
            "credibility.initial",
            "0.8",
            (Citation("../shared/sources/000.md", quotes[0], "credibility decays"),),
            None,
        ),
        RegisterRow(
            "red_lines.no_tanks",
            "credibility.decay",
            "0.3",
            (Citation("../shared/sources/000.md", quotes[0], "credibility decays"),),
            None,
        ),
        RegisterRow(
            "doctrines.defeat_nuclear",
            "probability",
            "0.05",
            (Citation("000.md", quotes[2], None),),
            None,
        ),
        RegisterRow(
            "rules.convoy_strike",
            "probability",
            "0.1",
            tuple(Citation("003.md", q, "provocation") for q in quotes[1:2] + quotes[3:]),
            None,
        ),
        RegisterRow(
            "parameters.war_weariness",
            "value",
            "0.02",
            (),
            "no source estimates it; a small monthly drift",
        ),
        RegisterRow("parameters.mystery", "value", "7", (), None),
    ]
    story = [
        StoryLine(
            0,
            "step 0 (Jan 2024)",
            "Russia chose strike_convoy",
            "because convoy in range",
            (STORY_QUOTE,),
        ),
        StoryLine(0, "step 0 (Jan 2024)", "ladder: Conventional strike"),
        StoryLine(
            3,
            "step 3 (Apr 2024)",
            "treaty clause invoked: article_5",
            "because attack:RUS->POL",
            (f"003.md: “{quotes[1]}”",),
        ),
        StoryLine(3, "step 3", "outcome reached: Direct NATO–Russia war"),
    ]
    return ReportData(
        scenario_id="convoy-strike",
        title=title,
        description="A missile strike on a NATO supply convoy, and what follows.",
        horizon=HORIZON,
        step_unit="month",
        start=start,
        rungs=RUNGS,
        outcome_names=dict(OUTCOMES),
        configurations=[_configuration(k, label) for k, label in enumerate(labels)],
        story_label="run 17 of invite=vilnius · lens=hawk",
        story=story,
        register=register,
        seed=20240101,
        version="0.1.0",
        generated=dt.datetime(2024, 5, 1, 12, 30),
        notes=["Illustrative numbers for tests."],
    )
