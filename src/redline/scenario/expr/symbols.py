"""What the checker knows about a scenario: value types, names, events and choices."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass


class Type(enum.Enum):
    """The two value types of the language."""

    NUMBER = "number"
    BOOL = "bool"

    @property
    def article(self) -> str:
        """``a number`` / ``a bool``, for messages."""
        return f"a {self.value}"


@dataclass(frozen=True)
class Symbols:
    """Everything an expression may refer to at one place in a scenario."""

    #: variables and parameters in scope, with their types
    names: Mapping[str, Type]
    #: every event tag the scenario can ever emit
    tags: tuple[str, ...] = ()
    #: the (actor, action) pairs ``chose()`` accepts
    choices: frozenset[tuple[str, str]] = frozenset()
    #: whether normal(), uniform() and bernoulli() may be used here
    allow_random: bool = True
