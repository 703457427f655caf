"""The processes a sweep starts and the resources it takes: worker processes end with their
parent, even when it is killed with SIGKILL (through real processes and signals)."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from experiment_support import start

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads processes from /proc"
)

#: polls (a tenth of a second apart) a worker gets to end after its parent was killed; the
#: watchdog checks every half second, the kernel's parent-death signal is immediate
POLLS = 100


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(parent pid, state, start time) of a process, ``None`` if there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()
    return int(fields[1]), fields[0], int(fields[19])


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _workers(parent: int) -> dict[int, int]:
    """The worker processes of ``parent`` (children running the same command), by pid with
    their start times."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        stat = _stat(int(entry.name))
        if stat is not None and stat[0] == parent and _cmdline(int(entry.name)) == _cmdline(parent):
            found[int(entry.name)] = stat[2]
    return found


def _running(pid: int, started: int) -> bool:
    """Whether that process (not a later one with its pid) still runs: a zombie has ended."""
    stat = _stat(pid)
    return stat is not None and stat[2] == started and stat[1] != "Z"


COMMANDS = {
    "sweep": ["sweep", "nato-russia", "--name", "long"],
    "run": ["run", "nato-russia", "--json"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_workers_end_when_their_parent_is_killed(tmp_path: Path, command: str) -> None:
    """SIGKILL of ``redline sweep`` or ``redline run`` leaves no worker process behind."""
    proc = start(
        *COMMANDS[command],
        *("--runs", "200000", "--chunk-size", "2000", "--workers", "2"),
        *("--store", str(tmp_path / "store.duckdb")),
        cwd=tmp_path,
    )
    workers: dict[int, int] = {}
    try:
        for _ in range(600):  # the workers start once the sweep has planned
            workers = _workers(proc.pid)
            if len(workers) == 2 or proc.poll() is not None:
                break
            time.sleep(0.1)
        assert len(workers) == 2, f"expected 2 workers, found {workers}; {proc.communicate()}"
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        for _ in range(POLLS):
            alive = [pid for pid, started in workers.items() if _running(pid, started)]
            if not alive:
                break
            time.sleep(0.1)
        assert not alive, f"workers {alive} outlived their killed parent"
    finally:  # never leave a process behind, even when failing (first the workers: they
        # hold the parent's output pipes open)
        for pid, started in workers.items():
            if _running(pid, started):
                os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.communicate()
