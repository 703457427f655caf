"""Errors a user can cause outside a scenario file (options, names, sizes)."""


class UserError(Exception):
    """Bad input from a user: reported as a message and a non-zero exit, never a traceback."""


class ArgumentError(UserError):
    """A bad argument to a library function. The message starts with the Python parameter's
    name (``runs must be between 1 and 100,000,000, got 0``; ``levers: unknown lever 'x'``),
    and ``parameter`` holds that name, so the command line can say its own flag instead."""

    def __init__(self, message: str, *, parameter: str) -> None:
        super().__init__(message)
        self.parameter = parameter

    def __reduce__(self) -> tuple[object, ...]:  # picklable, for errors from worker processes
        return _rebuild, (type(self), str(self), self.parameter)


def _rebuild(kind: type[ArgumentError], message: str, parameter: str) -> ArgumentError:
    return kind(message, parameter=parameter)


class RedlineValueError(ArgumentError, ValueError):
    """An argument of the right type with a value the library cannot use."""


class RedlineTypeError(ArgumentError, TypeError):
    """An argument of the wrong type."""


#: seeds and run indices are integers from 0 up to this, exclusive (they fit a signed 64-bit
#: integer, as the engines and the store keep them)
INDEX_LIMIT = 2**63


def check_index(name: str, value: int) -> int:
    """A seed or run index ``value`` of parameter ``name``, or :class:`RedlineValueError`."""
    if not 0 <= value < INDEX_LIMIT:
        raise RedlineValueError(
            f"{name} must be a non-negative integer below 2**63, got {value}", parameter=name
        )
    return value


def is_interruption(exc: BaseException) -> bool:
    """Ctrl-C as Python raises it, or as DuckDB reports it: when it lands in a query, or in the
    Python code a query calls to read a registered object (an Arrow table's schema), which
    DuckDB reports as that object's failure naming the KeyboardInterrupt."""
    if isinstance(exc, KeyboardInterrupt):
        return True
    kind = type(exc)
    if kind.__module__.lstrip("_") == "duckdb":
        if kind.__name__ == "InterruptException":
            return True
        text = str(exc)
        if "registered as" in text and "KeyboardInterrupt" in text:
            return True
    return isinstance(exc, RuntimeError) and str(exc) == "Query interrupted"
