"""Failures of the store's file and of outputs are messages, through the real command line.

Each case was a traceback, a hang or a store left saying ``running`` (issue 14): a damaged
store (truncated, random bytes, a block overwritten: DuckDB's ``IOException`` and ``Corrupt
database file``), a full disk (a real 2 MB tmpfs, mounted in a private mount namespace), a store
another process holds, a store on a read-only file system (listed, shown, exported and compared
all the same: reading commands open it read-only), outputs that cannot be written (checked
before simulating), and bad seeds, run indices and scheduler addresses.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from experiment_support import (
    SCRIPT,
    SPEC,
    Reference,
    assert_refused,
    env,
    flat,
    redline,
    redline_here,
)

#: a sweep that writes more than 2 MB: 8 design points × 50,000 runs of convoy-strike
BIG = ["sweep", "convoy-strike", "--name", "big", "--runs", "50000", "--yes"]


def _copy(reference: Reference, where: Path) -> Path:
    store = where / "store.duckdb"
    shutil.copy(reference.store, store)
    return store


def _damaged_message(stderr: str, store: Path) -> None:
    message = flat(stderr)
    assert f"{store.name} is not a redline store: the file is damaged or is not a DuckDB" in (
        message
    ), message
    assert "restore it from a copy, or name another file with --store" in message
    assert len(stderr.strip().splitlines()) == 1 or "\n" not in message


@pytest.mark.parametrize("how", ["truncated", "random bytes"])
def test_a_damaged_store_file_is_a_message(reference: Reference, tmp_path: Path, how: str) -> None:
    store = _copy(reference, tmp_path)
    data = store.read_bytes()
    store.write_bytes(data[:5000] if how == "truncated" else os.urandom(len(data) // 4))
    for command in (
        ["results", "list"],
        ["results", "show", "ref"],
        ["sweep", *SPEC, "--name", "x"],
    ):
        proc = redline_here(*command, "--store", str(store))
        assert_refused(proc.returncode, proc.stdout, proc.stderr)
        _damaged_message(proc.stderr, store)


@pytest.mark.slow
def test_an_overwritten_block_is_a_message_wherever_it_is(
    reference: Reference, tmp_path: Path
) -> None:
    """Each of the store's blocks overwritten in turn: every command that reads a damaged
    block says so in one line (DuckDB finds it by the block's checksum); none fails otherwise.
    The commands run in this process (about 40 of them): what they say is the check, not the
    process, which the damaged-file test above starts."""
    clean = reference.store.read_bytes()
    block, header = 262_144, 3 * 4096  # DuckDB's block size, after its file headers
    damaged_seen = 0
    for k in range((len(clean) - header) // block):
        store = tmp_path / f"block{k}.duckdb"
        data = bytearray(clean)
        start = header + k * block + 100
        data[start : start + 4000] = b"\x5a" * 4000
        store.write_bytes(bytes(data))
        out = tmp_path / f"block{k}.csv"
        for command in (["results", "list"], ["results", "export", "ref", "-o", str(out)]):
            proc = redline_here(*command, "--store", str(store))
            assert "Traceback" not in proc.stderr, (k, command, proc.stderr)
            assert proc.returncode in (0, 2), (k, command, proc.stderr)
            if proc.returncode == 2:
                _damaged_message(proc.stderr, store)
                damaged_seen += 1
    assert damaged_seen >= 2, "the blocks holding the experiments and their rows were damaged"


def _namespace_shell(script: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run ``script`` with sh in a mount namespace of its own (as root, or as a user that may
    make one): mounts in it are gone when it ends, and nothing else sees them."""
    return subprocess.run(
        ["unshare", "--mount", "--map-root-user", "sh", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
        env=env(),
    )


def _can_mount(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    proc = _namespace_shell(f"mount -t tmpfs -o size=1m tmpfs {probe}", tmp_path)
    return proc.returncode == 0


def test_a_full_disk_stops_the_sweep_with_a_message(tmp_path: Path) -> None:
    if not _can_mount(tmp_path):
        pytest.skip("cannot mount a small tmpfs here (no unshare, or no user namespaces)")
    small = tmp_path / "small"
    small.mkdir()
    store = small / "store.duckdb"
    cmd = shlex.join([str(SCRIPT), *BIG, "--store", str(store)])
    listing = shlex.join([str(SCRIPT), "results", "list", "--store", str(store)])
    proc = _namespace_shell(
        f"mount -t tmpfs -o size=2m tmpfs {small} && {{ {cmd}; echo sweep-exit=$?; {listing}; }}",
        tmp_path,
    )
    assert "sweep-exit=2" in proc.stdout, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr, proc.stderr
    message = flat(proc.stderr)
    assert f"no space left on the device of store {store}" in message, message
    assert "free some space, then run the same command again" in message
    assert "the sweep stopped with" in message
    big = next(line for line in proc.stdout.splitlines() if "│ big" in line)
    assert "stopped" in big and "running" not in big, proc.stdout


def test_a_store_on_a_read_only_disk_is_read_and_not_written(
    reference: Reference, tmp_path: Path
) -> None:
    if not _can_mount(tmp_path):
        pytest.skip("cannot mount a read-only file system here")
    disk = tmp_path / "disk"
    disk.mkdir()
    store = _copy(reference, disk)
    out = tmp_path / "out.csv"
    commands = [
        ["results", "list"],
        ["results", "show", "ref"],
        ["compare", "ref"],
        ["results", "export", "ref", "-o", str(out)],
        ["sweep", *SPEC, "--name", "more"],
    ]
    lines = " ".join(
        f"{shlex.join([str(SCRIPT), *c, '--store', str(store)])}; echo exit-{i}=$?;"
        for i, c in enumerate(commands)
    )
    proc = _namespace_shell(
        f"mount --bind {disk} {disk} && mount -o remount,bind,ro {disk} && "
        f"{{ touch {disk}/x 2>/dev/null && echo WRITABLE; {lines} }}",
        tmp_path,
    )
    assert "WRITABLE" not in proc.stdout, "the bind mount is not read-only"
    for i in range(4):
        assert f"exit-{i}=0" in proc.stdout, (commands[i], proc.stdout, proc.stderr)
    assert "wrote 8,000 rows" in proc.stdout
    assert "exit-4=2" in proc.stdout, proc.stdout
    assert "Traceback" not in proc.stderr
    message = flat(proc.stderr)
    assert f"cannot write to store {store}" in message, message
    assert "Read-only file system" in message


_HOLDER = """
import sys, time, duckdb
path, seconds = sys.argv[1], float(sys.argv[2])
while True:  # once the sweep has stored a unit, keep the store open (read-only is enough)
    try:
        con = duckdb.connect(path, read_only=True)
        if con.execute("SELECT count(*) FROM units").fetchone()[0] >= 1:
            break
        con.close()
    except duckdb.Error:
        pass
    time.sleep(0.01)
print("holding", flush=True)
time.sleep(seconds)
"""


def test_a_store_held_by_another_process_is_named_and_the_sweep_stops(tmp_path: Path) -> None:
    store = tmp_path / "store.duckdb"
    # units that take a while to compute, while the store is free for another process
    args = ["sweep", *SPEC[:1], "--runs", "20000", "--chunk-size", "2000", "--name", "held"]
    sweep = subprocess.Popen(
        [str(SCRIPT), *args, "--store", str(store), "--yes"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**env(), "REDLINE_STORE_WAIT": "1"},
    )
    deadline = time.monotonic() + 120
    while not store.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(store), "4"], cwd=tmp_path, stdout=subprocess.PIPE
    )
    try:
        _, stderr = sweep.communicate(timeout=300)
    finally:
        holder.wait(timeout=60)
    message = assert_refused(sweep.returncode, "", stderr, f"store {store} is held by another")
    assert f"(PID {holder.pid}:" in message, message
    assert "wait for that command to finish and run this one again" in message
    assert "the sweep stopped with" in message, message
    listing = redline("results", "list", "--store", str(store), cwd=tmp_path)
    row = next(line for line in listing.stdout.splitlines() if "│ held" in line)
    assert "stopped" in row and "running" not in row, listing.stdout
    again = redline(*args, "--store", str(store), "--yes", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert "resumed" in again.stdout


@pytest.mark.parametrize("value", ["soon", "-1", "1e9"])
def test_the_store_wait_variable_is_checked(tmp_path: Path, value: str) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "sweep", *SPEC, "--name", "w", "--store", str(tmp_path / "s.duckdb")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**env(), "REDLINE_STORE_WAIT": value},
        timeout=120,
    )
    assert_refused(proc.returncode, proc.stdout, proc.stderr, "REDLINE_STORE_WAIT must be")


@pytest.mark.parametrize(
    ("report", "fragment"),
    [
        ("{dir}/missing/report.html", "folder {dir}/missing does not exist"),
        ("{dir}", "it is a folder"),
        ("/proc/report.html", "cannot create files in /proc"),
        ("/dev/null", "it is not a regular file"),
        ("{dir}/pipe.html", "it is not a regular file"),
    ],
)
def test_a_report_that_cannot_be_written_is_refused_before_simulating(
    tmp_path: Path, report: str, fragment: str
) -> None:
    os.mkfifo(tmp_path / "pipe.html")
    store = tmp_path / "store.duckdb"
    target = report.format(dir=tmp_path)
    proc = redline_here("run", *SPEC, "--report", target, "--store", str(store))
    assert_refused(proc.returncode, proc.stdout, proc.stderr, fragment.format(dir=tmp_path))
    assert not store.exists(), "nothing was simulated nor stored"


@pytest.mark.parametrize(
    ("output", "fragment"),
    [
        ("/proc/rows.csv", "cannot create files in /proc"),
        ("{dir}/pipe.csv", "it is not a regular file"),
    ],
)
def test_an_export_that_cannot_be_written_is_refused(
    reference: Reference, tmp_path: Path, output: str, fragment: str
) -> None:
    os.mkfifo(tmp_path / "pipe.csv")
    target = output.format(dir=tmp_path)
    proc = redline_here("results", "export", "ref", "-o", target, "--store", str(reference.store))
    assert_refused(proc.returncode, proc.stdout, proc.stderr, fragment)


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["story", "convoy-strike", "--run", str(2**63)], "--run must be a non-negative"),
        (["story", "convoy-strike", "--seed", "-1"], "--seed must be a non-negative"),
        (["story", "convoy-strike", "--seed", str(2**64)], "--seed must be a non-negative"),
        (["ablate", "convoy-strike", "--seed", "-1", "-n", "10"], "--seed must be"),
        (["why", "convoy-strike", "article5", "--seed", "-1", "-n", "10"], "--seed must be"),
        (["score", "cuban-missile-crisis", "--seed", "-1", "-n", "10"], "--seed must be"),
    ],
)
def test_seeds_and_runs_out_of_range_are_argument_messages(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    proc = redline_here(*args)
    assert_refused(proc.returncode, proc.stdout, proc.stderr, fragment, "below 2**63")


@pytest.mark.parametrize("address", ["notaurl", "tcp://localhost:notaport", "tcp://"])
def test_a_scheduler_that_is_not_an_address_is_a_message(tmp_path: Path, address: str) -> None:
    pytest.importorskip("distributed")
    store = tmp_path / "store.duckdb"
    proc = redline_here(
        "sweep", *SPEC, "--name", "d", "--scheduler", address, "--store", str(store)
    )
    assert_refused(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        "--scheduler must be a Dask scheduler's address such as tcp://host:8786",
        f"got '{address}'",
    )
    assert not store.exists()
