"""Their escalation score of redline runs of the ``escalaition`` scenario.

Each day a nation of the scenario takes one action, standing for its ``m`` actions of the day
(:mod:`.fit`); the action adds ``m ×`` its points in each scoring mode to the running totals
``points_compat``, ``points_names`` and ``points_corrected`` (in ``compat`` the occupation
scores 0, as in their files), and 1 to its counter ``n_<action>``. A run's score is then, as
theirs, the mean over its days of the day's points per nation: the total over ``days × 8``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pyarrow as pa
from numpy.typing import NDArray

from redline.analysis.escalaition.actions import ACTIONS
from redline.analysis.escalaition.scoring import NATIONS, Mode
from redline.errors import UserError

#: the actions a run of the scenario counts (messages are not modelled)
COUNTED: Final = tuple(a for a in ACTIONS if a.id != "message")


def total_variable(mode: Mode) -> str:
    """The scenario variable holding a run's running total of points in ``mode``."""
    return f"points_{mode}"


def run_scores(table: pa.Table, mode: Mode) -> NDArray[np.float64]:
    """Each run's escalation score in ``mode``, from a results table of the scenario (one step
    a day)."""
    column = f"final.{total_variable(mode)}"
    if column not in table.column_names:
        raise UserError(f"not runs of the escalaition scenario: no column {column}")
    days = np.maximum(table["steps"].to_numpy().astype(float), 1.0)
    scores: NDArray[np.float64] = table[column].to_numpy() / (days * NATIONS)
    return scores
