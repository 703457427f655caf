"""The server's threads share one store: each thread's pieces of work (a sweep's attached
claims and commits) are its own, however they interleave."""

from __future__ import annotations

import threading
from pathlib import Path

from redline.web.context import SharedStore


def test_threads_that_attach_the_store_at_once_keep_their_own_pieces_of_work(
    tmp_path: Path,
) -> None:
    """Two runs that start at the same moment each attach the file for their pieces of work
    (a run's sweep does): one thread's start must not reset the other's, which left a thread
    using a file it had not attached ("No catalog + schema named redline_store")."""
    store = SharedStore(tmp_path / "web.duckdb")
    with store.connect() as con:  # made once, as the server's first request does
        con.execute("SELECT 1")
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def sweep() -> None:
        try:
            for _ in range(40):
                start.wait()
                with store.attached():
                    for _ in range(3):
                        with store.connect() as con:
                            con.execute("SELECT count(*) FROM experiments").fetchall()
        except BaseException as exc:  # reported below, with the thread's own traceback
            failures.append(exc)
            start.abort()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
