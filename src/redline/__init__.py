"""redline: model, simulate and analyse escalation between states and alliances.

The Python API: ``load(path)``, ``simulate(scenario, runs, seed, ...)`` and ``trace(...)``;
``DecisionMaker`` and ``Situation`` to plug in a decision-maker of your own.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"
__all__ = ["DecisionMaker", "Situation", "load", "simulate", "trace"]


def __getattr__(name: str) -> Any:
    # the API pulls in NumPy, Arrow and statsmodels: import it only when asked for
    if name in __all__:
        from redline import api

        return getattr(api, name)
    raise AttributeError(f"module 'redline' has no attribute {name!r}")
