"""A small scenario whose mechanisms have known effects, for the ablation tests."""

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

#: steps in the horizon: a rule firing with probability p each step is reached in 1 − (1 − p)^H
HORIZON = 3
P_SPARK = 0.3

SPARKS: dict[str, Any] = {
    "id": "sparks",
    "title": "sparks, noise and a whisper",
    "time": {"step": "month", "horizon": HORIZON},
    "actors": [{"id": "A", "decision": {"kind": "doctrine"}}],
    "parameters": [
        {"id": "p_spark", "value": P_SPARK, "assumption": "a test value"},
        {"id": "unused", "value": 0, "assumption": "read by nothing: a placebo lever sets it"},
    ],
    "rules": [
        # fires with probability 0.3 each step; two outcomes test its event
        {"id": "spark", "when": "true", "probability": "p_spark", "tags": ["spark"]},
        # independent of the spark: its own draws
        {"id": "noise", "when": "true", "probability": 0.5, "tags": ["noise"]},
        # read by no outcome and no rule: inert
        {"id": "whisper", "when": "true", "probability": 0.5, "tags": ["whisper"]},
    ],
    "outcomes": [
        {"id": "sparked", "when": 'happened("spark")'},
        {"id": "echo", "when": 'count("spark") > 0'},
        {"id": "noisy", "when": 'happened("noise")'},
        # no rule emits this: unreached
        {"id": "never", "when": 'happened("whisper") and not happened("whisper")'},
    ],
    "levers": [
        {
            "id": "dial",
            "options": [
                {"id": "low", "set": {"p_spark": P_SPARK}},
                {"id": "high", "set": {"p_spark": 0.6}},
            ],
            "default": "low",
        },
        {
            "id": "placebo",
            "options": [{"id": "one", "set": {"unused": 1}}, {"id": "two", "set": {"unused": 2}}],
            "default": "one",
        },
    ],
}


def write_sparks(folder: Path) -> Path:
    path = folder / "sparks.yaml"
    path.write_text(yaml.safe_dump(SPARKS, sort_keys=False), encoding="utf-8")
    return path
