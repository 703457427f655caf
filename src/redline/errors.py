"""Errors a user can cause outside a scenario file (options, names, sizes)."""


class UserError(Exception):
    """Bad input from a user: reported as a message and a non-zero exit, never a traceback."""
