"""What the server refuses and how: scenario text is shown as text (never markup, never a
template), files outside the workspace are neither read nor written, bodies and runs are
capped, other hosts need the token; every refusal is one line with a 4xx status."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from redline.cli import app as cli_app
from redline.scenario.loader import builtin_scenarios
from redline.web import Settings, create_app
from redline.web.service import Limits

HOSTILE = "<script>alert(1)</script> {{ 7*7 }}"


def _settings(folder: Path, **extra: object) -> Settings:
    workspace = folder / "workspace"
    workspace.mkdir(parents=True, exist_ok=True)
    values: dict[str, object] = {
        "workspace": workspace,
        "store": folder / "store.duckdb",
        "allowed_hosts": ("testserver",),
        "limits": Limits(runs=100_000, total_runs=400_000),
        "runners": 1,
    }
    values.update(extra)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = tmp_path_factory.mktemp("web-safety")
    workspace = where / "workspace"
    workspace.mkdir()
    text = builtin_scenarios()["convoy-strike"].read_text()
    title = next(line for line in text.splitlines() if line.startswith("title:"))
    (workspace / "hostile.yaml").write_text(text.replace(title, f"title: '{HOSTILE}'"))
    outside = where / "outside.yaml"
    outside.write_text("id: secret\ntitle: a secret outside the workspace\n")
    os.symlink(outside, workspace / "link.yaml")
    return where


@pytest.fixture(scope="module")
def client(folder: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(folder))) as c:
        yield c


def test_a_scenario_title_is_shown_as_text_everywhere(client: TestClient) -> None:
    for url in ("/", "/scenarios/workspace/hostile.yaml"):
        page = client.get(url)
        assert page.status_code == 200
        assert "&lt;script&gt;alert(1)&lt;/script&gt; {{ 7*7 }}" in page.text
        assert "<script>alert(1)" not in page.text
        assert "49" not in page.text.split("{{ 7*7 }}")[0][-20:]  # not evaluated as a template
    listed = client.get("/api/scenarios").json()
    assert HOSTILE in [s["title"] for s in listed]  # the API gives it as written


def test_nothing_outside_the_workspace_is_read_or_written(client: TestClient, folder: Path) -> None:
    listed = {s["name"] for s in client.get("/api/scenarios").json() if s["kind"] == "workspace"}
    assert "hostile.yaml" in listed
    assert "link.yaml" not in listed  # the link out is not listed
    read = client.get("/api/scenarios/workspace/link.yaml")
    assert read.status_code == 400
    assert "leads outside the folder" in read.json()["detail"]
    written = client.put("/api/scenarios/workspace/link.yaml", json={"text": "id: x\n"})
    assert written.status_code == 400
    assert (folder / "outside.yaml").read_text().startswith("id: secret")
    for name in ("..%2Foutside.yaml", "%2E%2E%2Foutside.yaml", "sub%2Fx.yaml", ".hidden.yaml"):
        answer = client.get(f"/api/scenarios/workspace/{name}")
        assert answer.status_code in (400, 404), name
        assert "secret" not in answer.text
    put = client.put("/api/scenarios/workspace/..%2Fescaped.yaml", json={"text": "id: x\n"})
    assert put.status_code in (400, 404)
    assert not (folder / "escaped.yaml").exists()
    checked = client.post(
        "/api/check", json={"text": "id: x\nextends: ../outside.yaml\n", "name": "a.yaml"}
    )
    assert checked.status_code == 200
    assert any("no '..'" in i["message"] for i in checked.json()["issues"])


def test_saving_writes_the_workspace_file_and_says_its_problems(
    client: TestClient, folder: Path
) -> None:
    saved = client.put("/api/scenarios/workspace/draft.yaml", json={"text": "id: draft\n"})
    assert saved.status_code == 200
    assert saved.json()["valid"] is False
    assert (folder / "workspace" / "draft.yaml").read_text() == "id: draft\n"
    again = client.put(
        "/api/scenarios/workspace/draft.yaml", json={"text": "id: other\n", "new": True}
    )
    assert again.status_code == 400
    assert "exists" in again.json()["detail"]


def test_bodies_and_runs_are_capped_with_a_message(client: TestClient) -> None:
    huge = client.post(
        "/api/check", content=b"x" * 5_000_000, headers={"content-type": "application/json"}
    )
    assert huge.status_code == 413
    assert "larger than the limit" in huge.json()["detail"]
    many = client.post(
        "/api/runs", json={"kind": "builtin", "name": "convoy-strike", "runs": 200_000}
    )
    assert many.status_code == 400
    assert many.json()["detail"] == "runs must be at most 100,000 a configuration, got 200,000"
    total = client.post(
        "/api/runs", json={"kind": "builtin", "name": "convoy-strike", "runs": 100_000}
    )
    assert total.status_code == 400
    assert "8 configurations × 100,000 runs" in total.json()["detail"]
    lever = client.post(
        "/api/runs",
        json={"kind": "builtin", "name": "convoy-strike", "levers": {"nato_respons": "none"}},
    )
    assert lever.status_code == 400
    assert "did you mean 'nato_response'" in lever.json()["detail"]


def test_other_hosts_need_the_token(folder: Path) -> None:
    loopback_only = create_app(_settings(folder, allowed_hosts=("127.0.0.1", "localhost")))
    with TestClient(loopback_only) as c:
        assert c.get("/api/scenarios").status_code == 421  # Host: testserver
        assert c.get("/api/scenarios", headers={"host": "localhost:8765"}).status_code == 200
    with TestClient(create_app(_settings(folder, token="s3cret"))) as c:
        refused = c.get("/api/scenarios")
        assert refused.status_code == 401
        assert "token" in refused.json()["detail"]
        assert c.get("/api/scenarios", headers={"authorization": "Bearer nope"}).status_code == 401
        ok = c.get("/api/scenarios", headers={"authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        first = c.get("/?token=s3cret")  # once in the browser: then the cookie carries it
        assert first.status_code == 200
        assert c.get("/experiments").status_code == 200


def test_serve_refuses_another_address_without_a_token(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli_app, ["serve", "--host", "0.0.0.0", "--workspace", str(tmp_path)]
    )
    assert result.exit_code == 2
    assert "give a --token" in result.output


def test_the_library_lists_actors_levers_and_lenses_through_extends(client: TestClient) -> None:
    listed = {s["name"]: s for s in client.get("/api/scenarios").json()}
    history = listed["nato-russia-history"]  # it extends nato-russia for its levers and lenses
    assert history["levers"] == listed["nato-russia"]["levers"] != []
    assert history["lenses"] == listed["nato-russia"]["lenses"] != []
    assert listed["convoy-strike"]["actors"] == ["RUS", "UKR", "POL", "USA"]
