"""redline's version: the one place it is written (the package root re-exports it)."""

from __future__ import annotations

__version__ = "0.1.0"
