"""The one error type of the expression language."""

from __future__ import annotations


class ExprError(Exception):
    """A bad expression: ``message`` says what is wrong, ``pos`` where (0-based offset)."""

    def __init__(self, message: str, pos: int = 0) -> None:
        super().__init__(message, pos)
        self.message = message
        self.pos = pos

    @property
    def column(self) -> int:
        """The 1-based column of ``pos``, as shown to users."""
        return self.pos + 1

    def __str__(self) -> str:
        return f"{self.message} (at column {self.column})"
