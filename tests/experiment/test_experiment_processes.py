"""The processes a sweep starts and the resources it takes, through real processes and signals:
worker processes end with their parent, even killed with SIGKILL; workers are capped by cores
and memory; a large sweep says what it will take and asks first; two identical sweeps at once
share the units instead of each computing all."""

from __future__ import annotations

import datetime as dt
import os
import pty
import re
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from experiment_support import (
    POINTS,
    RUNS,
    SCENARIO,
    SCRIPT,
    SPEC,
    Reference,
    assert_ok,
    assert_refused,
    assert_same_rows,
    env,
    flat,
    read_export,
    redline,
    run_concurrently,
    snapshot,
    start,
    wait_snapshot,
)

from redline.compile import Program
from redline.experiment import claims
from redline.experiment.resources import (
    WorkerCap,
    bytes_per_run_in_flight,
    cap_workers,
    worker_bytes,
)
from redline.experiment.spec import ExperimentSpec
from redline.experiment.store import Store
from redline.experiment.sweep import plan
from redline.scenario.loader import load_scenario

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
        *("--runs", "200000", "--chunk-size", "2000", "--workers", "2", "--yes"),
        *("--store", str(tmp_path / "store.duckdb")),
        cwd=tmp_path,
    )
    workers: dict[int, int] = {}
    try:
        for _ in range(3000):  # the workers start once the sweep has planned
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


# -- worker processes capped by cores and memory -------------------------------------------------
def test_workers_are_capped_by_cores_and_memory() -> None:
    """No more workers than usable cores, nor than the available memory holds; the reason is
    said; an ask within both is used as it is."""
    gb = 1024**3
    assert cap_workers(2, cores=2, per_worker=gb, available=8 * gb) == WorkerCap(2, 2, None)
    by_cores = cap_workers(256, cores=2, per_worker=gb // 4, available=64 * gb)
    assert by_cores.used == 2
    assert by_cores.note("--workers") == (
        "--workers 256: using 2 worker processes (this machine has 2 usable cores)"
    )
    by_memory = cap_workers(24, cores=32, per_worker=gb, available=5 * gb)
    assert by_memory.used == 4  # 80% of 5 GB in workers of 1 GB
    assert "each worker needs about 1.1 GB and 5.4 GB of memory is available" in str(
        by_memory.note("--workers")
    )
    assert cap_workers(8, cores=8, per_worker=gb, available=gb // 2).used == 1  # at least one


def test_a_worker_needs_more_memory_for_larger_chunks_and_scenarios() -> None:
    from redline.experiment.design import configurations
    from redline.experiment.job import Job

    def program(name: str) -> Program:
        s = load_scenario(name).scenario
        return Job.of(s, configurations(s, None, None)[0]).program

    big, small = program("nato-russia"), program(SCENARIO)
    assert worker_bytes(big, 100_000) > worker_bytes(big, 10_000) > worker_bytes(small, 10_000)
    # the engine's measured peak for nato-russia is about 1.8 kB a run: never underestimated
    assert 1_800 <= bytes_per_run_in_flight(big) <= 4_000


def test_an_over_ask_of_workers_is_capped_with_a_note(tmp_path: Path, reference: Reference) -> None:
    """``--workers 256`` on this machine: a note says what was used and why, and the sweep's
    rows are the reference's; an absurd ask is refused."""
    db = tmp_path / "store.duckdb"
    proc = redline(
        "sweep", *SPEC, "--name", "many", "--store", str(db), "--workers", "256", cwd=tmp_path
    )
    assert_ok(proc)
    cores = len(os.sched_getaffinity(0))
    note = flat(proc.stderr)
    assert f"note: --workers 256: using {min(cores, 256)} worker processes (" in note
    assert f"this machine has {cores} usable cores" in note
    assert_same_rows(Store(db).results("many"), reference.table)
    refused = redline(
        "sweep", *SPEC, "--name", "absurd", "--store", str(db), "--workers", "257", cwd=tmp_path
    )
    assert_refused(
        refused.returncode,
        refused.stdout,
        refused.stderr,
        "--workers must be between 1 and 256, got 257",
    )


# -- a large sweep asks first --------------------------------------------------------------------
#: 10^8 runs of each of the eight design points: about 10 GB of store
HUGE = [SCENARIO, "--name", "huge", "--runs", "100000000", "--seed", "1"]


def test_a_large_sweep_without_a_terminal_is_refused_with_its_estimate(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    proc = subprocess.run(
        [str(SCRIPT), "sweep", *HUGE, "--store", str(db)],
        cwd=tmp_path,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env(),
        timeout=600,
    )
    message = assert_refused(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        "a large sweep: 800,000,000 runs to simulate will add up to",
        "GB to the store",
        "pass --yes to go ahead",
        "nothing was started",
    )
    assert " and take about " in message  # the time, measured on a short chunk
    assert not db.exists()


def _wait_registered(db: Path, proc: subprocess.Popen[str]) -> None:
    """Wait until the sweep has registered its experiment (it started), bounded in polls."""
    for _ in range(3000):
        if proc.poll() is not None:
            break
        if snapshot(db, "huge") is not None:
            return
        time.sleep(0.1)
    raise AssertionError(f"the sweep did not start: {proc.communicate()}")


def test_yes_starts_a_large_sweep_without_asking(tmp_path: Path) -> None:
    db = tmp_path / "store.duckdb"
    proc = start(
        "sweep", *HUGE, "--store", str(db), "--yes", cwd=tmp_path, stdin=subprocess.DEVNULL
    )
    try:
        _wait_registered(db, proc)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=600)
    finally:
        proc.kill()
    assert proc.returncode == 130, err
    assert "stopped" in err and "Traceback" not in err
    assert "Go ahead?" not in err


def _read_until(fd: int, proc: subprocess.Popen[str], text: bytes | None) -> bytes:
    """What a terminal shows, until ``text`` appears (or, ``None``, until the process ends);
    bounded in polls."""
    seen = b""
    for _ in range(6000):
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # the process closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if text is not None and text in seen:
            break
        if not ready and proc.poll() is not None:
            break
    return seen


@pytest.mark.parametrize("answer", ["n", "y"])
def test_a_large_sweep_asks_on_a_terminal(tmp_path: Path, answer: str) -> None:
    """On a terminal the estimate is shown and the user answers: no stores nothing, yes
    starts the sweep."""
    db = tmp_path / "store.duckdb"
    main, terminal = pty.openpty()
    proc = subprocess.Popen(
        [str(SCRIPT), "sweep", *HUGE, "--store", str(db)],
        cwd=tmp_path,
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=env(),
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as start() does
    )
    os.close(terminal)
    try:
        shown = _read_until(main, proc, b"Go ahead?")
        os.write(main, f"{answer}\n".encode())
        if answer == "y":
            _wait_registered(db, proc)
            proc.send_signal(signal.SIGINT)
        shown += _read_until(main, proc, None)
        proc.wait(timeout=600)
    finally:
        proc.kill()
        os.close(main)
    screen = flat(shown.decode(errors="replace"))
    assert "800,000,000 runs to simulate will add up to" in screen
    assert "Go ahead? [y/N]" in screen
    assert "Traceback" not in screen
    if answer == "n":
        assert proc.returncode == 2, screen
        assert "not started:" in screen and "nothing was stored" in screen
        assert not db.exists()
    else:
        assert proc.returncode == 130, screen
        assert "stopped" in screen


# -- two identical sweeps at once share the units -------------------------------------------------
def _computed(out: str) -> int:
    """Units a sweep says it computed itself."""
    text = flat(out)
    shared = re.search(r"\((\d+) of (\d+) units computed here", text)
    if shared:
        return int(shared.group(1))
    if "is already complete" in text:
        return 0
    resumed = re.search(r"resumed: (\d+) units? (?:were )?already stored", text)
    return MANY_UNITS - (int(resumed.group(1)) if resumed else 0)


#: the reference experiment in units of 50 runs: 8 points × 20 units
MANY_UNITS = POINTS * RUNS // 50


@pytest.mark.slow
def test_two_identical_sweeps_at_once_compute_each_unit_once(
    tmp_path: Path, reference: Reference
) -> None:
    db = tmp_path / "shared.duckdb"
    args = [
        "sweep",
        *SPEC,
        "--chunk-size",
        "50",
        "--name",
        "twin",
        "--store",
        str(db),
        "--threads",
        "1",
    ]
    results = run_concurrently([(args, tmp_path), (args, tmp_path)])
    for rc, out, err, _ in results:
        assert rc == 0 and "Traceback" not in err, (out, err)
    computed = [_computed(out) for _, out, _, _ in results]
    assert sum(computed) == MANY_UNITS, (computed, [r[1] for r in results])
    snap = wait_snapshot(db, "twin")
    assert snap.status == "done"
    snap.assert_whole()
    exports = []
    for i in range(2):
        target = tmp_path / f"twin{i}.parquet"
        assert_ok(
            redline(
                "results", "export", "twin", "-o", str(target), "--store", str(db), cwd=tmp_path
            )
        )
        exports.append(read_export(target))
    assert_same_rows(exports[0], reference.table)
    assert exports[1].equals(exports[0])


def test_a_live_claimants_units_are_left_to_it_and_a_dead_ones_taken_over(
    tmp_path: Path,
) -> None:
    """Claims in the store: a unit claimed by a live process (here: this test's parent) is
    not taken; one claimed by a process that has ended, or by another host whose heartbeat
    is older than the lease, is."""
    spec = ExperimentSpec(
        name="c",
        scenario=str(load_scenario(SCENARIO).path),
        runs=1000,
        chunk_size=250,
        seed=1,
        levers={"nato_response": ["none"]},
        lenses=["baseline"],
    )
    store = Store(tmp_path / "store.duckdb")
    p = plan(spec, store)
    assert [u.index for u in p.units] == [0, 1, 2, 3]
    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(ended.stdout)
    parent = os.getppid()
    here = socket.gethostname()
    old = dt.datetime.now() - dt.timedelta(seconds=claims.LEASE_SECONDS + 60)
    others = [
        (0, here, parent, claims.process_started(parent), dt.datetime.now()),  # live
        (1, here, dead_pid, 12345, dt.datetime.now()),  # ended
        (2, "elsewhere", 1, 0, dt.datetime.now()),  # another host, fresh heartbeat
        (3, "elsewhere", 1, 0, old),  # another host, lease run out
    ]
    with store.connect() as con:
        con.execute(claims._TABLE)
        for unit, host, pid, started, beat in others:
            con.execute(
                "INSERT INTO claims VALUES (?, ?, ?, ?, ?, ?, ?)",
                [p.record.key, p.record.fingerprint, unit, host, pid, started, beat],
            )
        me = claims.Claimant.me()
        taken, stored = claims.claim(con, p.record, [0, 1, 2, 3], me, 10)
    assert taken == [1, 3] and stored == set()
