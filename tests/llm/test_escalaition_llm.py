"""EscalAItion with a language model in every nation's seat, against the fake model server:
the example scenario runs, each nation is asked once a day, and its runs get their score."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from redline.cli import app

from .conftest import HERE
from .fake_model import FakeModel

ESCALAITION_LLM = HERE.parent.parent / "examples" / "escalaition-llm.yaml"


def test_escalaition_with_language_models_is_scored(fake: FakeModel) -> None:
    args = [
        "score-escalation",
        str(ESCALAITION_LLM),
        "--runs",
        "2",
        "--lens",
        "gpt_4",
        "--lever",
        "situation=invasion",
        "--llm-endpoint",
        fake.url,
        "--json",
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    [row] = json.loads(result.output)["rows"]
    # 2 runs × 14 days × 8 nations, each asked once (the fake answers every request validly)
    assert fake.policy.requests == 2 * 14 * 8
    lo, hi = row["corrected"]["t_interval"]
    assert lo <= row["corrected"]["mean"] <= hi
    again = CliRunner().invoke(app, args)
    assert json.loads(again.output)["rows"] == [row]
