"""The fused engine's run loops compiled in a process of their own, while a sweep computes.

Numba spends most of a compile in Python (type inference, lowering): in the sweep's own process
it would hold the global lock that the sweep's threads and its bookkeeping need. A
:class:`BackgroundCompile` instead starts ``python -m redline.engine.fused.background``, hands it
the programs (pickled, on its standard input) and reads, one line each, which are compiled: a
compiled run loop is then in the disk cache (:mod:`~redline.engine.fused.cache`), whence the
sweep's processes load it in about half a second.

The process never outlives the sweep. :meth:`BackgroundCompile.stop` ends it and waits for it
(the sweep calls it however it ends); it also ends by itself when its standard input closes,
which the operating system does when the sweep's process dies, even killed. It runs in a
session of its own, so Ctrl-C at the terminal reaches the sweep alone, which then stops it.
The cache writes each file under a temporary name and renames it (the module here, Numba its
machine code), so a compile stopped half-way leaves no half-written file, and two sweeps that
compile the same module at once each write whole files.

Each compile's CPU seconds per character of its module are kept in the cache folder
(:func:`measured_seconds_per_char`): what a cold compile costs on this machine, for deciding
the next time whether one pays (:mod:`redline.engine.warmup`).
"""

from __future__ import annotations

import contextlib
import json
import os
import pickle
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from redline.core.program import Program

__all__ = ["BackgroundCompile", "measured_seconds_per_char"]

#: told, for each program by its key, ``None`` once its run loop is in the disk cache, or why
#: it is not
Done = Callable[[str, "str | None"], None]

#: the file in the cache folder that keeps the last compile's CPU seconds per character
RATE_FILE = "compile-rate.json"
#: how long :meth:`BackgroundCompile.stop` waits for the process to end when asked to
STOP_SECONDS = 2.0


class BackgroundCompile:
    """Compiles the fused run loops of ``programs`` (by key) in a process of its own, telling
    ``done`` about each as it finishes (from a thread of this process); every program not
    told about when the process ends — it failed to start, crashed or was stopped — is told
    why. ``command`` replaces the process's command line (a test's failing compiler)."""

    def __init__(
        self,
        programs: Mapping[str, Program],
        done: Done,
        command: Sequence[str] | None = None,
    ) -> None:
        self.programs = dict(programs)
        self.done = done
        self.command = list(command or [sys.executable, "-m", __name__])
        self.process: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._told: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        """Start the process and the thread that reads what it says (once)."""
        if self.process is not None or not self.programs:
            return
        try:
            self.process = subprocess.Popen(
                self.command,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                env=_environ(),
                start_new_session=True,  # Ctrl-C at the terminal is the sweep's alone
            )
        except OSError as exc:
            self._tell_rest(f"the compiling process did not start: {exc}")
            return
        self._reader = threading.Thread(
            target=self._read, args=(self.process,), name="redline-fused-compile", daemon=True
        )
        self._reader.start()

    @property
    def pid(self) -> int | None:
        """The process's id, once started."""
        return None if self.process is None else self.process.pid

    def running(self) -> bool:
        """Whether the process is still running."""
        return self.process is not None and self.process.poll() is None

    def pending(self) -> list[str]:
        """The programs not yet told about (their compile is still going on)."""
        with self._lock:
            return [key for key in self.programs if key not in self._told]

    def wait(self, timeout: float | None = None) -> None:
        """Wait until every program has been told about (or ``timeout`` seconds)."""
        if self._reader is not None:
            self._reader.join(timeout)

    def stop(self) -> None:
        """End the process (if still running), reap it and close its pipes; programs not yet
        told about are told that the compile was stopped. Safe to call more than once."""
        process = self.process
        if process is None:
            return
        if not self.pending():  # every program told about: it is ending by itself
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(STOP_SECONDS)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdin is not None:
            with contextlib.suppress(OSError):
                process.stdin.close()
        if self._reader is not None:
            self._reader.join()
        if process.stdout is not None:
            process.stdout.close()

    def _read(self, process: subprocess.Popen[bytes]) -> None:
        """Hand the process the programs (from this thread: the pipe holds less than a large
        program, and the process reads only once it has started); then tell ``done`` about each
        program it reports, and at its end about the rest."""
        assert process.stdin is not None and process.stdout is not None
        try:  # stdin stays open: its closing tells the process to end
            process.stdin.write(pickle.dumps(list(self.programs.items())))
            process.stdin.flush()
        except (OSError, ValueError):  # it ended at once, or was stopped: said below
            pass
        for line in process.stdout:
            try:
                said = json.loads(line)
                key, why = str(said["key"]), said.get("why")
            except (ValueError, KeyError, TypeError):
                continue  # not a report (something the compiler printed)
            self._tell(key, None if why is None else str(why))
        status = process.wait()
        ended = "was stopped" if status < 0 else f"ended (exit status {status})"
        self._tell_rest(f"the compiling process {ended} before it was compiled")

    def _tell(self, key: str, why: str | None) -> None:
        with self._lock:
            if key in self._told or key not in self.programs:
                return
            self._told.add(key)
        self.done(key, why)

    def _tell_rest(self, why: str) -> None:
        for key in self.programs:
            self._tell(key, why)


def _environ() -> dict[str, str]:
    """The process's environment: this one, with this very ``redline`` first on the path."""
    env = dict(os.environ)
    here = str(Path(__file__).resolve().parents[3])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (here, env.get("PYTHONPATH")) if p)
    return env


def measured_seconds_per_char() -> float | None:
    """The CPU seconds per character of its module that the last compile in this cache folder
    took (none recorded, or unreadable: ``None``)."""
    from redline.engine.fused.cache import cache_dir

    try:
        rate = float(json.loads((cache_dir() / RATE_FILE).read_text())["seconds_per_char"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return rate if rate > 0 else None


def _record_rate(seconds: float, chars: int) -> None:
    """Keep a compile's CPU seconds per character in the cache folder (written whole)."""
    from redline.engine.fused.cache import cache_dir

    folder = cache_dir()
    partial = folder / f".{RATE_FILE}.{os.getpid()}"
    try:
        partial.write_text(json.dumps({"seconds_per_char": seconds / max(chars, 1)}))
        os.replace(partial, folder / RATE_FILE)
    except OSError:  # no writable cache folder: the estimate stays what it was
        pass


def compile_program(program: Program) -> None:
    """Generate, compile and cache ``program``'s fused run loop: Numba compiles a loop at its
    first call (and then writes its machine code to the cache), so one run is simulated. Its
    CPU seconds are recorded where it was a compile (another sweep may have cached the loop
    meanwhile: then it was a load)."""
    import numpy as np

    from redline.engine.fused import run_chunk
    from redline.engine.fused.cache import on_disk
    from redline.engine.fused.codegen import generate

    cold = not on_disk(program)
    started = time.process_time()
    run_chunk(program, 0, np.zeros(1, dtype=np.int64))
    if cold:
        _record_rate(time.process_time() - started, len(generate(program).text))


def _exit_when_orphaned(fd: int) -> None:
    """End this process when the sweep closes its end of the pipe (it stopped us, or died).
    Reads the descriptor itself: a thread blocked in ``sys.stdin`` would hold its buffer's
    lock, and the interpreter aborts at exit on a lock a daemon thread holds."""
    while os.read(fd, 65536):
        pass
    os._exit(0)


def main() -> None:
    """The process: read the programs, compile each, say which are in the cache."""
    programs: list[tuple[str, Program]] = pickle.load(sys.stdin.buffer)
    threading.Thread(target=_exit_when_orphaned, args=(sys.stdin.fileno(),), daemon=True).start()
    for key, program in programs:
        why: str | None = None
        try:
            compile_program(program)
        except Exception as exc:  # the sweep stays on the NumPy kernel for it
            why = f"{type(exc).__name__}: {exc}"
        print(json.dumps({"key": key, "why": why}), flush=True)


if __name__ == "__main__":
    main()
