"""A redline web server for tests: the real application served by uvicorn on a loopback port
in a thread of the test process, its workspace and store in a temporary folder; and the
command line's JSON for the same run, to compare with."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from typer.testing import CliRunner

from redline.cli import app as cli_app
from redline.web import Settings, create_app
from redline.web.service import Limits


@dataclass(frozen=True)
class Server:
    url: str
    workspace: Path
    store: Path

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60)


@contextmanager
def serving(folder: Path, runners: int = 2, limits: Limits | None = None) -> Iterator[Server]:
    """Serve redline on 127.0.0.1 (a free port) until the block ends; the run queue is closed
    with the server."""
    workspace = folder / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    store = folder / "store.duckdb"
    settings = Settings(
        workspace=workspace, store=store, runners=runners, limits=limits or Limits()
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(settings), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(500):  # started within 10 s, or the test fails below
        if server.started:
            break
        time.sleep(0.02)
    assert server.started, "the test server did not start"
    try:
        yield Server(f"http://127.0.0.1:{port}", workspace, store)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()


def cli_json(*args: str) -> dict[str, Any]:
    """``redline run ... --json``'s object, run in this process (the command line's code,
    without a second interpreter's start-up)."""
    result = CliRunner().invoke(cli_app, ["run", *args, "--json"])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    return payload


def configurations(payload: dict[str, Any]) -> list[dict[str, Any]]:
    """The configurations of ``redline run --json``'s object (one, or a list of them)."""
    found: list[dict[str, Any]] = payload.get("configurations", [payload])
    return found


def wait_finished(client: httpx.Client, ident: str, seconds: float = 120) -> dict[str, Any]:
    """A run's status once it has finished (polled)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status: dict[str, Any] = client.get(f"/api/runs/{ident}").json()
        if status["state"] in ("done", "stopped", "failed", "cancelled"):
            return status
        time.sleep(0.05)
    raise AssertionError(f"run {ident} did not finish in {seconds} s")
