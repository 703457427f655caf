"""The fused engine's cache: generated modules and their machine code, on disk and in process.

A program's module is written to the cache folder under the hash of its source, where Numba
keeps the machine code it compiles for it, so each program structure is compiled once per
machine; a later process loads it (about half a second). In a process, the compiled loop of a
program structure is kept by the program's ``fingerprint`` (programs that share it differ only
in parameter values, which are inputs), so chunks after the first neither generate nor load.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numba
import numpy as np

from redline.core.program import Program
from redline.engine.fused.codegen import Effects, generate, tables
from redline.engine.semantics import Unsupported


@dataclass(frozen=True)
class Compiled:
    """A program's compiled run loop, the draw sites of its origin table's columns, the
    tables of what its effects do, and its counted tags."""

    kernel: Any
    slots: tuple[tuple[int, int], ...]
    effects: Effects
    #: the tags count() reads, in the order of their counters
    counted: tuple[int, ...]

    def prepare(self, *args: Any) -> None:
        """Make the loop's machine code ready for a call with ``args``: loaded from the cache
        folder, or compiled into it by one process at a time, so that processes that start on
        the same new module at once (a sweep's workers, the test suite's) compile it once and
        the others load what it wrote. Numba's typing is remembered while it compiles
        (:mod:`~redline.engine.fused.resolution`)."""
        if self.kernel.signatures:
            return
        from redline.engine.fused.resolution import remembered

        lock = Path(self.kernel.py_func.__code__.co_filename).with_suffix(".lock")  # by the module
        with _held(lock), remembered():
            self.kernel.compile(tuple(numba.typeof(a) for a in args))


@contextlib.contextmanager
def _held(lock: Path) -> Iterator[None]:
    """An exclusive advisory lock on the file ``lock`` (made if missing), or none where the
    system has no such locks or the file cannot be opened."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    try:
        handle = open(lock, "a")  # noqa: SIM115 - closed below, which releases the lock
    except OSError:
        yield
        return
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield
    finally:
        handle.close()


def cache_dir() -> Path:
    """Where generated kernels and Numba's machine code for them are kept between runs:
    ``REDLINE_CACHE_DIR``, else the user's cache folder."""
    given = os.environ.get("REDLINE_CACHE_DIR")
    if given:
        return Path(given)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "redline" / "fused"


#: compiled run loops by program fingerprint, or why the structure is not supported
_by_structure: dict[str, Compiled | str] = {}
#: loaded kernels by the hash of their module's source
_by_source: dict[str, Any] = {}
_lock = threading.Lock()


def compiled(program: Program) -> Compiled:
    """The program's run loop: generated, written to the cache folder under the hash of its
    source, and compiled by Numba — once per program structure, then loaded from the cache
    (parameter values are inputs, so every configuration of a scenario shares it). Kept in
    this process by the program's fingerprint. Raises :class:`Unsupported` for what the fused
    engine leaves to the NumPy kernel."""
    key = program.fingerprint
    known = _by_structure.get(key) if key else None
    if isinstance(known, str):
        raise Unsupported(known)
    if known is not None:
        return known
    try:
        generated = generate(program)
    except Unsupported as exc:
        if key:
            _by_structure[key] = str(exc)
        raise
    digest = _digest(generated.text)
    with _lock:
        kernel = _by_source.get(digest)
        if kernel is None:
            kernel = _load(generated.text, f"redline_fused_{digest}")
            _by_source[digest] = kernel
        made = Compiled(
            kernel, generated.slots, tables(program, generated.counted), generated.counted
        )
        if key:
            _by_structure[key] = made
    return made


def _digest(text: str) -> str:
    """The name of a generated module's source in the cache (with the versions that compile
    it and the sources of the runtime it calls: another Numba or NumPy, or a changed runtime
    or keyed generator, compiles it anew — Numba's cached machine code holds the runtime's
    helpers inlined)."""
    return hashlib.blake2b(
        (text + numba.__version__ + np.__version__ + _runtime_digest()).encode(), digest_size=12
    ).hexdigest()


@functools.cache
def _runtime_digest() -> str:
    """A hash of the sources the generated modules' compiled code takes in: the runtime, the
    keyed generator and its ziggurat tables."""
    engine = Path(__file__).resolve().parent.parent
    parts = [engine / "fused" / "runtime.py", engine / "rng.py", engine / "ziggurat.py"]
    return hashlib.blake2b(b"".join(p.read_bytes() for p in parts), digest_size=12).hexdigest()


def on_disk(program: Program) -> bool:
    """Whether the program's run loop has its machine code in the cache folder (written by an
    earlier compile, at the loop's first call), so that making it ready is a load, not a
    compile. False for a program the fused engine does not run."""
    try:
        text = generate(program).text
    except Unsupported:
        return False
    name = f"redline_fused_{_digest(text)}"
    folder = cache_dir()
    if not (folder / f"{name}.py").is_file():
        return False
    return any((folder / "__pycache__").glob(f"{name}.kernel-*.nbi"))


def _load(text: str, name: str) -> Any:
    """The ``kernel`` of the module ``text``, written to the cache folder as ``name``."""
    folder = cache_dir()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{name}.py"
        if not path.exists() or path.read_text() != text:
            partial = folder / f".{name}.{os.getpid()}.{threading.get_ident()}"
            partial.write_text(text)
            os.replace(partial, path)
    except OSError:  # no writable cache: compile from a private folder, for this process only
        path = Path(tempfile.mkdtemp(prefix="redline-fused-")) / f"{name}.py"
        path.write_text(text)
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # Numba finds a cached kernel's globals by module name
    spec.loader.exec_module(module)
    return module.kernel
