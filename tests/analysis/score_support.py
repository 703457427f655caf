"""A Markov chain with a record whose probability has a closed form, for the score tests.

The walk: a rung on 0..TOP moves up with probability UP·(1 − DOWN) and down with DOWN·(1 − UP)
each step (clipped at 0), and the top rung absorbs (the outcome ``top`` ends the run). A rule
emits ``high`` at the end of every step the rung is at 2 or more, so "``high`` first happened
within a window" is a first-passage event. The exact probability of the record is a product of
matrices over the chain of (rung, ``high`` seen yet).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from redline.report.data import ReportData

TOP, UP, DOWN, HORIZON = 4, 0.35, 0.25, 18
START = dt.date(2024, 1, 1)


def day(step: int) -> str:
    """A date inside month-step ``step`` of the walk."""
    months = step
    return dt.date(START.year + months // 12, months % 12 + 1, 15).isoformat()


#: the record: (id, keys) — each observation's subject and timing, dates given as steps
RECORD: list[tuple[str, dict[str, Any]]] = [
    ("low_early", {"variable": "rung", "at": 2, "range": [1, 1]}),
    ("first_high", {"event": "high", "first_between": (4, 7)}),
    ("middle", {"variable": "rung", "at": 9, "range": [0, 1]}),
    ("no_top", {"outcome": "top", "not_by": 12}),
    ("late", {"variable": "rung", "at": 15, "range": [2, 2]}),
]


def walk(record: list[tuple[str, dict[str, Any]]] = RECORD, **extra: Any) -> dict[str, Any]:
    """The walk scenario with a record (dates as steps are written as days of those steps)."""
    observations = []
    for ident, keys in record:
        ob: dict[str, Any] = {"id": ident, "evidence": ["log"]}
        for key, value in keys.items():
            if key in ("at", "by", "not_by"):
                ob[key] = day(value)
            elif key in ("first_between", "between"):
                ob[key] = [day(value[0]), day(value[1])]
            else:
                ob[key] = value
        observations.append(ob)
    data: dict[str, Any] = {
        "id": "walk",
        "title": "a walk on a ladder, observed",
        "time": {"step": "month", "start": START.isoformat(), "horizon": HORIZON},
        "actors": [{"id": "A", "decision": {"kind": "doctrine"}}],
        "evidence": [{"id": "log", "source": "the test's own log", "quote": "observed"}],
        "parameters": [
            {"id": "p_up", "value": UP, "assumption": "test"},
            {"id": "p_down", "value": DOWN, "assumption": "test"},
        ],
        "variables": [{"id": "rung", "initial": 0, "min": 0, "max": TOP}],
        "dynamics": [
            {
                "id": "walk",
                "variable": "rung",
                "value": (
                    "rung + where(uniform(0, 1) < p_up, 1, 0) - where(bernoulli(p_down), 1, 0)"
                ),
            }
        ],
        "rules": [{"id": "high", "when": "rung >= 2", "tags": ["high"]}],
        "outcomes": [{"id": "top", "when": f"rung >= {TOP}", "absorbing": True}],
        "observations": observations,
    }
    data.update(extra)
    return data


def write(data: dict[str, Any], folder: Path, name: str = "walk.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path


def step_matrix(up: float = UP, down: float = DOWN) -> np.ndarray:
    """One step of the rung: the top absorbs."""
    P = np.zeros((TOP + 1, TOP + 1))
    plus, minus = up * (1 - down), down * (1 - up)
    for i in range(TOP):
        P[i, i + 1] = plus
        P[i, max(i - 1, 0)] += minus
        P[i, i] += 1 - plus - minus
    P[TOP, TOP] = 1.0
    return P


def exact(
    record: list[tuple[str, dict[str, Any]]] = RECORD, up: float = UP, down: float = DOWN
) -> tuple[float, list[float]]:
    """The record's exact probability and each observation's probability given the ones decided
    before it, on the chain of (rung, high seen): the state after each step's dynamics; the rule
    marks ``high`` at the end of every step at rung 2 or more."""
    P = step_matrix(up, down)
    checks: dict[int, list[tuple[int, Any]]] = {}
    for k, (_, keys) in enumerate(record):
        if "variable" in keys:
            checks.setdefault(keys["at"], []).append((k, ("range", *keys["range"])))
        elif "event" in keys:
            a, b = keys["first_between"]
            if a > 0:
                checks.setdefault(a - 1, []).append((k, ("seen", False)))
            checks.setdefault(b, []).append((k, ("seen", True)))
        else:
            checks.setdefault(keys["not_by"], []).append((k, ("top", False)))
    v = np.zeros((TOP + 1, 2))
    v[0, 0] = 1.0
    given = [0.0] * len(record)
    logs = [0.0] * len(record)
    rung = np.arange(TOP + 1)[:, None] * np.ones((1, 2))
    seen = np.zeros((TOP + 1, 2)) + np.array([0, 1])[None, :]
    for t in range(max(checks) + 1):
        moved = np.zeros_like(v)
        for f in (0, 1):
            out = v[:, f] @ P
            # the rule fires at the end of the step where the rung is at 2 or more
            moved[:2, f] += out[:2]
            moved[2:, 1] += out[2:]
        v = moved
        for k, check in checks.get(t, []):
            before = v.sum()
            if check[0] == "range":
                mask = (rung >= check[1]) & (rung <= check[2])
            elif check[0] == "seen":
                mask = (seen == 1) == check[1]
            else:
                mask = rung < TOP
            v = v * mask
            logs[k] += float(np.log(v.sum() / before))
    given = [float(np.exp(x)) for x in logs]
    return float(v.sum()), given


def absorbed_within(steps: int) -> float:
    """The chance that the walk reaches the top within ``steps`` steps."""
    return float(np.linalg.matrix_power(step_matrix(), steps)[0, TOP])


def report_data(**extra: Any) -> ReportData:
    """The report's data for the walk with no configurations: only what ``extra`` adds."""
    return ReportData(
        scenario_id="walk",
        title="walk",
        description="",
        horizon=HORIZON,
        step_unit="month",
        start=None,
        rungs=["calm"],
        outcome_names={"top": "top"},
        configurations=[],
        story_label="",
        story=[],
        register=[],
        seed=1,
        version="test",
        generated=dt.datetime(2026, 1, 1),
        **extra,
    )
