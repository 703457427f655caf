"""Numba's typing of built-in operations, remembered while a generated module compiles.

Numba types every operator, item access and comparison of a function by trying the
operation's typing templates in turn (about fifteen for ``+``), and does it again when it
lowers the call: nothing is remembered between call sites. A generated module has thousands of
such calls over a handful of signatures (``float64 + float64``, ``X[27]``), so this resolution
was about a quarter of a scenario's cold compile. :func:`remembered` keeps each resolved
signature of a built-in function type by its argument types while the fused engine compiles:
the same answer Numba would compute, found once.

Only built-in function types (:class:`numba.core.types.Function`) with positional arguments are
remembered: their templates are fixed once Numba and its extensions are imported, and their
answer depends on the argument types alone. Dispatchers (the runtime's helpers) keep Numba's
own cache of compiled signatures. The patch is in place only while some thread is inside
:func:`remembered`; a failed resolution is not remembered (Numba's error is raised as before).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from numba.core import types

#: resolved signatures by (function type, typing context, argument types)
_known: dict[tuple[Any, Any, tuple[Any, ...]], Any] = {}
_lock = threading.Lock()
_inside = 0
_numba_own = types.Function.get_call_type
_own_attribute = "get_call_type" in vars(types.Function)


def _get_call_type(self: Any, context: Any, args: tuple[Any, ...], kws: dict[str, Any]) -> Any:
    if kws or type(self) is not types.Function:
        return _numba_own(self, context, args, kws)
    key = (self, context, tuple(args))
    sig = _known.get(key)
    if sig is None:
        sig = _numba_own(self, context, args, kws)
        if sig is not None:
            _known[key] = sig
    return sig


@contextmanager
def remembered() -> Iterator[None]:
    """Remember built-in function types' resolutions while inside (nested and threaded uses
    are counted: the patch comes off when the last one leaves)."""
    global _inside
    with _lock:
        if _inside == 0:
            types.Function.get_call_type = _get_call_type  # type: ignore[method-assign,assignment]
        _inside += 1
    try:
        yield
    finally:
        with _lock:
            _inside -= 1
            if _inside == 0:
                if _own_attribute:
                    types.Function.get_call_type = _numba_own  # type: ignore[method-assign]
                else:
                    del types.Function.get_call_type
