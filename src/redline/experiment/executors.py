"""Where units are computed: this process, local worker processes, or a Dask cluster.

Every executor runs the same pure function on the same unit descriptions, so where a unit was
computed never changes its result. A bounded window of units is in flight at any time, which
keeps memory independent of the size of the sweep.
"""

from __future__ import annotations

import ctypes
import itertools
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    wait,
)
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from redline.engine import backends
from redline.engine.deciders import DecisionMaker
from redline.engine.simulate import Backend
from redline.engine.trouble import NumericalTrouble, TroubleRow, rows, strict_check
from redline.errors import UserError
from redline.experiment.design import Unit
from redline.experiment.job import Job
from redline.experiment.layout import Layout
from redline.results import chunk_table


@dataclass(frozen=True)
class UnitTask:
    """One unit of work, as sent to a worker."""

    job: Job
    unit: Unit
    seed: int
    backend: Backend = "numpy"
    #: plugged-in decision-makers by actor (picklable, to reach worker processes)
    makers: tuple[tuple[str, DecisionMaker], ...] = ()
    #: the experiment's stored columns: when given, the rows come back in them and nothing
    #: else (a sweep's workers send back what the store keeps, not the full rows)
    layout: Layout | None = None
    #: stop at numerical trouble (:class:`~redline.engine.trouble.NumericalTrouble`) rather
    #: than count it
    strict: bool = False


@dataclass
class UnitResult:
    unit: Unit
    table: pa.Table
    occupancy: np.ndarray
    seconds: float
    #: the checks that failed in the unit's runs (:mod:`redline.engine.trouble`)
    trouble: tuple[TroubleRow, ...] = ()


def compute_unit(task: UnitTask) -> UnitResult:
    """Simulate one unit and shape its rows for the store (a pure function of the task), with
    its numerical trouble. Strict, it raises :class:`~redline.engine.trouble.NumericalTrouble`
    at the unit's first numerical trouble instead, and nothing of the unit is stored."""
    started = time.perf_counter()
    program = task.job.program
    runs = np.arange(task.unit.start, task.unit.stop, dtype=np.int64)
    chunk = backends.run_chunk(task.backend, program, task.seed, runs, makers=dict(task.makers))
    if task.strict:
        strict_check(program, chunk.trouble, _where(task))
    trouble = () if chunk.trouble is None else tuple(rows(program, chunk.trouble))
    if task.layout is not None:
        stored = task.layout.chunk_rows(program, chunk, task.unit.point)
        seconds = time.perf_counter() - started
        return UnitResult(task.unit, stored, chunk.occupancy, seconds, trouble)
    table = chunk_table(program, task.job.config, chunk)
    for name, value in reversed(task.job.fixed):
        table = table.add_column(
            2, f"param.{name}", pa.array([value] * table.num_rows, pa.float64())
        )
    table = table.add_column(0, "point", pa.array([task.unit.point] * table.num_rows, pa.int32()))
    return UnitResult(task.unit, table, chunk.occupancy, time.perf_counter() - started, trouble)


def _where(task: UnitTask) -> str:
    """The configuration a unit ran, for a message: ``lens 'hawk', levers a=b``."""
    parts = [f"lens '{task.job.lens}'"] if task.job.lens else []
    if task.job.levers:
        parts.append("levers " + ", ".join(f"{k}={v}" for k, v in task.job.levers))
    return ", ".join(parts)


class Executor(Protocol):
    """Runs unit tasks and yields their results as they complete."""

    description: str

    def run(self, tasks: Iterable[UnitTask]) -> Iterator[UnitResult]: ...

    def close(self) -> None: ...


#: the most worker processes (or Dask workers) one may ask for; more is refused as a mistake,
#: and fewer are used where the machine's cores or memory would not hold them
MAX_WORKERS = 256


def usable_cores() -> int:
    """The CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class InProcess:
    """Units computed in this process, ``threads`` at a time.

    The compiled backends work outside Python's global lock, so threads use several cores
    without the cost of worker processes. Units with plugged-in decision-makers (which need
    not be thread-safe) and units on a backend without the ``threads`` capability (the
    reference interpreter: pure Python) go one at a time."""

    def __init__(self, threads: int = 1) -> None:
        self.threads = threads
        self.description = "this process" + (f" ({threads} threads)" if threads > 1 else "")
        #: its units run where this process's cache of compiled modules is (``auto``)
        self.shares_cache = True
        self.pool: ThreadPoolExecutor | None = None

    def run(self, tasks: Iterable[UnitTask]) -> Iterator[UnitResult]:
        todo = iter(tasks)
        first = next(todo, None)
        if first is None:
            return iter(())
        todo = itertools.chain([first], todo)  # a sweep's tasks share backend and makers
        if self.threads == 1 or not _threadable(first):
            return map(compute_unit, todo)
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=self.threads)
        pool = self.pool

        def wait_any(pending: set[Future[UnitResult]]) -> set[Future[UnitResult]]:
            return wait(pending, return_when=FIRST_COMPLETED).done

        return _windowed(
            lambda t: pool.submit(compute_unit, t),
            wait_any,
            lambda f: f.result(),
            todo,
            self.threads,
        )

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=False, cancel_futures=True)


def _threadable(task: UnitTask) -> bool:
    """Whether the task may run on a thread alongside others."""
    if task.makers:  # a plugged-in decision-maker need not be thread-safe
        return False
    return backends.select(task.backend, task.job.program).capabilities.threads


def _windowed(
    submit: Callable[[UnitTask], Any],
    wait_any: Callable[[set[Any]], set[Any]],
    result: Callable[[Any], UnitResult],
    tasks: Iterable[UnitTask],
    window: int,
) -> Iterator[UnitResult]:
    """The tasks' results as they finish, at most ``window`` in flight. Strict, the
    :class:`~redline.engine.trouble.NumericalTrouble` raised is the earliest task's that
    raised one, whichever finished first: once one does, nothing more is started, the tasks
    before it in flight are waited for (and their results yielded), the later ones dropped."""
    todo = enumerate(tasks)
    pending: dict[Any, int] = {}  # future -> its task's place in ``tasks``

    def start_next() -> None:
        item = next(todo, None)
        if item is not None:
            pending[submit(item[1])] = item[0]

    for _ in range(window):
        start_next()
    failed: tuple[int, NumericalTrouble] | None = None
    while pending:
        done = wait_any(set(pending))
        for future in sorted(done, key=pending.__getitem__):
            place = pending.pop(future)
            if failed is not None and place > failed[0]:
                continue
            try:
                finished = result(future)
            except NumericalTrouble as exc:
                failed = (place, exc) if failed is None or place < failed[0] else failed
                continue
            if failed is None:
                start_next()
            yield finished
        if failed is not None:
            pending = {f: place for f, place in pending.items() if place < failed[0]}
    if failed is not None:
        raise failed[1]


#: how often a worker checks that the process that started it is still there
PARENT_POLL_SECONDS = 0.5
#: Linux's prctl option that sends a signal to a process when its parent dies
_PR_SET_PDEATHSIG = 1


def _exit_with_parent(parent: int) -> None:
    """Make this worker end when ``parent`` (the sweep that started it) ends, however it ends:
    killed with SIGKILL, a sweep cannot stop its workers itself, and orphaned workers would
    go on holding memory for good.

    Two guards: on Linux the kernel's parent-death signal (``prctl(PR_SET_PDEATHSIG,
    SIGKILL)``), at once; everywhere, a daemon thread that sees the worker handed to another
    parent (``os.getppid()`` changes) and exits within :data:`PARENT_POLL_SECONDS`."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the watchdog remains
            pass
    # with the fork start method ``parent`` is this worker's parent; with spawn or forkserver
    # it is the parent's parent, and either one ending ends the worker
    watched = os.getppid()

    def orphaned() -> bool:
        return os.getppid() != watched or not _alive(parent)

    if orphaned():  # the parent died before the signal was set
        os._exit(1)

    def watch() -> None:
        while not orphaned():
            time.sleep(PARENT_POLL_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="redline-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    """Whether a process of this id exists (a zombie counts: its children were already handed
    to another parent, which :func:`_exit_with_parent` sees first)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    return True


def _start_worker(parent: int) -> None:
    """A local worker's set-up: it ends with its parent (:func:`_exit_with_parent`), and leaves
    Ctrl-C to the main process (a terminal sends it to the whole process group), which stops
    handing out units and keeps those already stored."""
    _exit_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalProcesses:
    """Units computed by a pool of worker processes on this machine, which end when this
    process ends, even killed (:func:`_exit_with_parent`)."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.description = f"{workers} local worker processes"
        self.shares_cache = True
        context = multiprocessing.get_context()
        #: the workers are forked from this process when the first unit is handed out: what
        #: this process has loaded by then, they start with
        self.forks = context.get_start_method() == "fork"
        self.pool = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_start_worker,
            initargs=(os.getpid(),),
        )

    def run(self, tasks: Iterable[UnitTask]) -> Iterator[UnitResult]:
        def wait_any(pending: set[Future[UnitResult]]) -> set[Future[UnitResult]]:
            return wait(pending, return_when=FIRST_COMPLETED).done

        return _windowed(
            lambda t: self.pool.submit(compute_unit, t),
            wait_any,
            lambda f: f.result(),
            tasks,
            2 * self.workers,
        )

    def close(self) -> None:
        self.pool.shutdown(wait=False, cancel_futures=True)


#: glibc's largest adaptive mmap threshold: arrays below it come from the heap
MMAP_THRESHOLD = 32 * 1024 * 1024


def worker_environ() -> dict[str, object]:
    """Dask's environment for the worker processes it spawns, with a fixed mmap threshold.

    Dask sets ``MALLOC_TRIM_THRESHOLD_``, which turns off glibc's adaptive mmap threshold: every
    array the kernel allocates above 128 KiB is then mapped and unmapped afresh, and a chunk of
    20,000 runs takes more than twice as long (benchmarks/sweep.py). Fixing the threshold where
    the adaptive one would end up restores the speed, whatever trim setting a worker inherits."""
    import dask

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", default={}))
    return environ | {"MALLOC_MMAP_THRESHOLD_": MMAP_THRESHOLD}


class DaskCluster:
    """Units computed on a Dask distributed cluster: a scheduler address, or a LocalCluster."""

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None) -> None:
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError:
            raise UserError("Dask is not installed: pip install 'redline[dask]'") from None
        self.cluster = None
        #: a local cluster's workers read this machine's cache of compiled modules; a remote
        #: one's need not
        self.shares_cache = scheduler is None
        try:
            if scheduler is not None:
                self.client = Client(scheduler, timeout="10s")
                self.description = f"Dask cluster at {scheduler}"
            else:
                with dask.config.set({"distributed.nanny.pre-spawn-environ": worker_environ()}):
                    self.cluster = LocalCluster(
                        n_workers=local_workers,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=":0",
                    )
                self.client = Client(self.cluster)
                self.description = f"Dask LocalCluster with {local_workers} workers"
        except ValueError as exc:  # "notaurl": Dask cannot tell a host and port in it
            if scheduler is None:
                raise
            raise UserError(
                f"--scheduler must be a Dask scheduler's address such as tcp://host:8786, "
                f"got '{scheduler}' ({exc})"
            ) from None
        except (OSError, TimeoutError) as exc:
            raise UserError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        self.workers = max(len(self.client.scheduler_info().get("workers", {})), 1)

    def run(self, tasks: Iterable[UnitTask]) -> Iterator[UnitResult]:
        from distributed import wait as dask_wait

        def wait_any(pending: set[Any]) -> set[Any]:
            return set(dask_wait(list(pending), return_when="FIRST_COMPLETED").done)

        return _windowed(
            lambda t: self.client.submit(compute_unit, t, pure=False),
            wait_any,
            lambda f: f.result(),
            tasks,
            2 * self.workers,
        )

    def close(self) -> None:
        """Close the client, then a local cluster's workers, each given time to end on its own
        (:data:`WORKER_CLOSE_SECONDS`), then its scheduler. Left to ``LocalCluster.close``, a
        worker process gets 4 s, which a loaded machine's ending of a process that has run
        the engine can take: Dask then kills it and says so on stderr."""
        self.client.close()
        if self.cluster is not None:
            self.cluster.sync(_close_workers, self.cluster, WORKER_CLOSE_SECONDS)
            self.cluster.close()


#: how long a local Dask worker may take to end at the close of a sweep before it is killed
WORKER_CLOSE_SECONDS = 60.0


async def _close_workers(cluster: Any, timeout: float) -> None:
    """Close every worker (nanny) of a LocalCluster at once, each within ``timeout``."""
    import asyncio

    await asyncio.gather(*(worker.close(timeout=timeout) for worker in cluster.workers.values()))


def make_executor(
    workers: int = 1,
    dask_local: int | None = None,
    scheduler: str | None = None,
    threads: int | None = None,
) -> Executor:
    """The executor the command-line options ask for (at most one of them). In this process,
    ``threads`` chunks run at once: by default one per usable core."""
    if sum(x is not None for x in (dask_local, scheduler)) + (workers > 1) > 1:
        raise UserError("choose one of --workers, --dask-local and --scheduler")
    if threads is not None and not 1 <= threads <= 256:
        raise UserError(f"--threads must be between 1 and 256, got {threads}")
    if threads is not None and threads > 1 and (workers > 1 or dask_local or scheduler):
        raise UserError(
            "--threads is for runs in this process; leave it out with --workers, "
            "--dask-local or --scheduler"
        )
    if scheduler is not None:
        return DaskCluster(scheduler=scheduler)
    if dask_local is not None:
        if not 1 <= dask_local <= MAX_WORKERS:
            raise UserError(f"--dask-local must be between 1 and {MAX_WORKERS}, got {dask_local}")
        return DaskCluster(local_workers=dask_local)
    if not 1 <= workers <= MAX_WORKERS:
        raise UserError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    if workers > 1:
        return LocalProcesses(workers)
    return InProcess(usable_cores() if threads is None else threads)
