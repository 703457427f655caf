"""Where the tests find EscalAItion's logs: the subset shipped in tests/data, and the whole
published set ($REDLINE_ESCALAITION, else the shared folder beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SUBSET = REPO / "tests" / "data" / "escalaition"
SUBSET_LOGS = SUBSET / "actions_v3"
SUBSET_EVALS = SUBSET / "json_v6_exponential"
#: the whole published study: a folder with results/actions_v3 and evals/json_v6_exponential
FULL = Path(os.environ.get("REDLINE_ESCALAITION") or REPO.parent / "shared" / "escalaition")
FULL_LOGS = FULL / "results" / "actions_v3"
FULL_EVALS = FULL / "evals" / "json_v6_exponential"


def need_full_set() -> None:
    """Skip, saying why, where the whole published set is not here."""
    if not FULL_LOGS.is_dir() or not FULL_EVALS.is_dir():
        pytest.skip(
            f"EscalAItion's published logs are not here ({FULL}): set REDLINE_ESCALAITION to "
            "the folder holding results/actions_v3 and evals/json_v6_exponential"
        )
