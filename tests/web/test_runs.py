"""Runs through the server: two at once and a cancel, into the same kind of store as the
command line's. Every finished run's probabilities equal ``redline run --json``'s for the same
options and seed; a cancelled run leaves only whole units stored, marked stopped, and resumed
it ends equal to the command line's too."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from web_support import cli_json, configurations

from redline.web import Settings, create_app

SCENARIO = "convoy-strike"
RUNS, SEED, LENS = 2_000, 7, "baseline"
OPTIONS = ("none", "consultation", "uncertain", "collective")  # nato_response, in order


def _wait(client: TestClient, ident: str, until: set[str]) -> dict[str, Any]:
    for _ in range(6_000):  # 60 s at most
        status: dict[str, Any] = client.get(f"/api/runs/{ident}").json()
        if status["state"] in until:
            return status
        time.sleep(0.01)
    raise AssertionError(f"run {ident} never reached {until}")


def _run(client: TestClient, **options: Any) -> dict[str, Any]:
    body = {"kind": "builtin", "name": SCENARIO, "runs": RUNS, "seed": SEED, "lens": LENS}
    answer = client.post("/api/runs", json=body | options)
    assert answer.status_code == 202, answer.text
    started: dict[str, Any] = answer.json()
    return started


def _by_option(results: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {c["levers"]["nato_response"]: c["outcomes"] for c in results}


def test_two_runs_at_once_and_a_cancel_end_as_the_command_line(tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    settings = Settings(
        workspace=workspace, store=tmp_path / "web.duckdb", allowed_hosts=("testserver",)
    )
    expected = _by_option(
        configurations(
            cli_json(
                SCENARIO,
                "--runs",
                str(RUNS),
                "--seed",
                str(SEED),
                "--lens",
                LENS,
                "--store",
                str(tmp_path / "cli.duckdb"),
                "--workers",
                "1",
                "--threads",
                "1",
            )
        )
    )
    assert set(expected) == set(OPTIONS)
    app = create_app(settings)
    with TestClient(app) as client:
        # every option of the lever (4 units), cancelled while it computes
        every = _run(client)
        _wait(client, every["id"], {"running"})
        assert client.delete(f"/api/runs/{every['id']}").status_code == 200
        # two runs at once, and the first again while it runs
        one = _run(client, levers={"nato_response": "none"})
        other = _run(client, levers={"nato_response": "collective"})
        again = _run(client, levers={"nato_response": "none"})
        assert again["experiment"] == one["experiment"]
        stopped = _wait(client, every["id"], {"stopped", "done", "failed", "cancelled"})
        assert stopped["state"] == "stopped", stopped["message"]
        assert "units are stored" in stopped["message"]

        # nothing half-written: whole units only, the experiment marked stopped
        store = app.app.state.redline.store  # the server's (one process, one connection)
        record = store.get(every["experiment"])
        assert record is not None and record.status == "stopped"
        assert 0 < record.done_units < record.units == len(OPTIONS)
        counts = store.point_counts(every["experiment"], ["war"])
        assert len(counts) == record.done_units
        assert {tally.runs for tally in counts.values()} == {RUNS}

        for run in (one, other, again):
            finished = _wait(client, run["id"], {"done", "failed", "stopped"})
            assert finished["state"] == "done", finished["message"]
        assert (
            "0 of 1 units computed now" in client.get(f"/api/runs/{again['id']}").json()["message"]
        )  # the same experiment twice: computed once
        for run, option in ((one, "none"), (other, "collective")):
            got = client.get(f"/api/experiments/{run['experiment']}").json()["configurations"]
            assert _by_option(got) == {option: expected[option]}

        # resumed, the cancelled run ends as the command line's
        resumed = client.post(f"/api/experiments/{every['experiment']}/resume").json()
        assert _wait(client, resumed["id"], {"done", "failed", "stopped"})["state"] == "done"
        got = client.get(f"/api/experiments/{every['experiment']}").json()["configurations"]
        assert _by_option(got) == expected
