"""redline: model, simulate and analyse escalation between states and alliances."""

__version__ = "0.1.0"
