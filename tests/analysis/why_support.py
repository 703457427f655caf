"""Small scenarios whose paths to an outcome are known in closed form, for the why tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import yaml

# Fused-engine kernels compiled by the tests go to a cache the test processes share, not to the
# user's cache folder.
os.environ.setdefault(
    "REDLINE_CACHE_DIR", str(Path(tempfile.gettempdir()) / f"redline-test-cache-{os.getuid()}")
)

#: two exclusive routes: a coin at step 0 (heads with probability Q) picks the route; then each
#: step the chosen route reaches the outcome with probability A (heads) or B (tails)
HORIZON = 4
Q, A, B = 0.5, 0.1, 0.3


def _doc(ident: str, **sections: Any) -> dict[str, Any]:
    return {
        "id": ident,
        "title": ident,
        "time": {"step": "month", "horizon": sections.pop("horizon", HORIZON)},
        "actors": [{"id": "X", "decision": {"kind": "doctrine"}}],
        **sections,
    }


ROUTES = _doc(
    "routes",
    parameters=[
        {"id": "q", "value": Q, "assumption": "a test value"},
        {"id": "a", "value": A, "assumption": "a test value"},
        {"id": "b", "value": B, "assumption": "a test value"},
    ],
    schedule=[{"id": "coin", "step": 0, "probability": "q", "tags": ["heads"]}],
    rules=[
        {
            "id": "via_a",
            "when": 'happened("heads") and not happened("hit") and bernoulli(a)',
            "tags": ["hit"],
        },
        {
            "id": "via_b",
            "when": 'not happened("heads") and not happened("hit") and bernoulli(b)',
            "tags": ["hit"],
        },
        # independent of everything: before many hits, but not on route
        {"id": "noise", "when": "true", "probability": 0.5, "tags": ["noise"]},
    ],
    outcomes=[{"id": "reached", "when": 'happened("hit")', "absorbing": True}],
)

#: a hint at step 0 (probability 1/2) makes an alarm at step 1 likely (0.8, else 0.2); every
#: alarm is answered by a strike at step 4, the outcome; a siren sounds at step 4 before it
#: (scheduled), an echo and a shrug in the same step after it and beside it
ALARM = _doc(
    "alarm",
    horizon=6,
    schedule=[
        {"id": "hint", "step": 0, "probability": 0.5, "tags": ["hint"]},
        {
            "id": "alarm",
            "step": 1,
            "probability": 'where(happened("hint"), 0.8, 0.2)',
            "tags": ["alarm"],
        },
        {"id": "siren", "step": 4, "when": 'happened("alarm")', "tags": ["siren"]},
    ],
    rules=[
        {"id": "strike", "when": 'happened("alarm") and step >= 4', "tags": ["hit"]},
        # the same round as the strike, but no cause of the hit
        {"id": "shrug", "when": 'happened("alarm") and step >= 4', "tags": ["shrug"]},
        # answers the strike: a round later
        {"id": "echo", "when": 'now("hit")', "tags": ["echo"]},
    ],
    outcomes=[{"id": "struck", "when": 'happened("hit")', "absorbing": True}],
)

#: a spark (probability 0.3 a step) always sets off a flame in the next round: one path
CHAIN = _doc(
    "chain",
    horizon=3,
    rules=[
        {"id": "spark", "when": "true", "probability": 0.3, "tags": ["spark"]},
        {"id": "flame", "when": 'now("spark")', "tags": ["flame"]},
    ],
    outcomes=[{"id": "burnt", "when": 'happened("flame")', "absorbing": True}],
)


def write(folder: Path, doc: dict[str, Any]) -> Path:
    path = folder / f"{doc['id']}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path
