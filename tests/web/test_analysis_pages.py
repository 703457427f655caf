"""The analyses as pages: why and ablation of a stored configuration, and the analyses of a
scenario (robust levers here), each queued in the server's analysis queue and computed by the
library function the command line calls, shown as text with the report's figures, sizes
capped."""

from __future__ import annotations

import html
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from redline.analysis.why import why
from redline.scenario.loader import load_scenario
from redline.web import Settings, create_app

LEVERS, LENS, SEED = {"nato_response": "collective"}, "provocation", 3


def test_why_and_ablation_pages_show_the_library_results(tmp_path: Path) -> None:
    (tmp_path / "ws").mkdir()
    settings = Settings(
        workspace=tmp_path / "ws", store=tmp_path / "s.duckdb", allowed_hosts=("testserver",)
    )
    with TestClient(create_app(settings)) as client:
        body = {"kind": "builtin", "name": "convoy-strike", "runs": 200, "seed": SEED}
        run = client.post("/api/runs", json=body | {"levers": LEVERS, "lens": LENS}).json()
        for _ in range(3000):
            if client.get(f"/api/runs/{run['id']}").json()["state"] == "done":
                break
            time.sleep(0.01)
        name = run["experiment"]
        page = finished(
            client, client.get(f"/experiments/{name}/why", params={"outcome": "war", "runs": 200})
        )
        expected = why(
            load_scenario("convoy-strike"), "war", runs=200, seed=SEED, levers=LEVERS, lens=LENS
        )
        top = expected.paths.column("path")[0].as_py()
        assert html.escape(top, quote=False) in page.text
        ablation = finished(
            client, client.get(f"/experiments/{name}/ablation", params={"runs": 50})
        )
        assert "<td>polish_soil</td>" in ablation.text  # the red line, switched off
        assert 'id="fig-ablation-1"' in ablation.text
        assert 'data-download="fig-ablation-1" data-format="svg"' in ablation.text
        too_many = client.get(f"/experiments/{name}/why", params={"runs": 10**6})
        assert too_many.status_code == 400
        assert "runs must be between 1 and 20,000 here, got 1,000,000" in too_many.text
        as_json = client.get(f"/api/experiments/{name}/why", params={"outcome": "war", "runs": 200})
        assert as_json.json() == expected.to_json() | {"seconds": as_json.json()["seconds"]}
        unknown = client.get(f"/experiments/{name}/why", params={"outcome": "wat"})
        assert unknown.status_code == 400
        assert "did you mean 'war'" in html.unescape(unknown.text)


def finished(client: TestClient, started: Any) -> Any:
    """The analysis page ``started`` was sent to, once the analysis is done."""
    assert started.status_code == 200, started.text
    ident = str(started.url).rsplit("/", 1)[1]
    for _ in range(6000):
        state = client.get(f"/api/analyses/{ident}").json()
        if state["state"] not in ("queued", "running"):
            break
        time.sleep(0.01)
    assert state["state"] == "done", state["message"]
    assert state["fraction"] == 1.0 and state["done"] == state["total"] > 0  # progress told
    return client.get(f"/analyses/{ident}")
