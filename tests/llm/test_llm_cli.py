"""Language-model actors from the command line: ``redline run`` asks the endpoint given (or the
environment's), keeps the answers and their cost in the store and says what it asked; the same
command again asks nothing; ``redline story`` tells a run with the model's reasons, ``redline
why`` works on the same runs; no endpoint configured is a clear refusal (exit 2)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from redline.cli import app
from redline.experiment.store import Store
from redline.llm.cache import StoreCache, experiment_usage

from .conftest import NATO_RUSSIA_LLM, TINY
from .fake_model import FakeModel


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner(env={"NO_COLOR": "1", "COLUMNS": "200", **(env or {})}).invoke(
        app, list(args)
    )
    return result.exit_code, result.output


def test_run_story_and_why_against_the_endpoint(fake: FakeModel, tmp_path: Path) -> None:
    store = str(tmp_path / "llm.duckdb")
    common = ["--store", store, "--llm-endpoint", fake.url]
    code, said = invoke(
        "run", str(TINY), "--runs", "12", "--seed", "2", *common, "--llm-price", "1,2", "--json"
    )
    assert code == 0, said
    asked = fake.policy.requests
    used = json.loads(said)["language_models"]["RED"]
    assert used["asked"] == used["decisions"] == asked and used["replayed"] == 0
    assert used["cost"] > 0
    record = Store(Path(store)).experiments()[0]
    usage = experiment_usage(Store(Path(store)), record.key)
    assert usage[0][0].asked == asked and usage[0][1] is not None and usage[0][1] > 0
    code, shown = invoke("results", "show", record.name, "--store", store)
    assert code == 0, shown
    assert f"language model fake-model (RED): {asked} requests asked, 0 answered" in shown
    # the report's narrated run is replayed from the store
    assert fake.policy.requests == asked
    # the same command again: nothing asked, the same numbers
    fake.reset()
    code, again = invoke("run", str(TINY), "--runs", "12", "--seed", "2", *common, "--json")
    assert code == 0, again
    assert fake.policy.requests == 0
    assert (
        json.loads(again)["outcomes"]
        == json.loads(
            invoke("run", str(TINY), "--runs", "12", "--seed", "2", *common, "--json")[1]
        )["outcomes"]
    )

    code, story = invoke("story", str(TINY), "--seed", "2", "--run", "1", *common)
    assert code == 0, story
    assert fake.policy.requests == 0
    assert "Redland" in story and "the policy picks " in story

    code, paths = invoke("why", str(TINY), "war", "--runs", "12", "--seed", "2", *common)
    assert code == 0, paths
    assert fake.policy.requests == 0


def test_the_endpoint_from_the_environment_and_none_at_all(fake: FakeModel, tmp_path: Path) -> None:
    store = str(tmp_path / "env.duckdb")
    code, said = invoke(
        "run",
        str(TINY),
        "--runs",
        "3",
        "--store",
        store,
        "--json",
        env={"OPENAI_BASE_URL": fake.url, "OPENAI_API_KEY": "sk-test"},
    )
    assert code == 0, said
    assert fake.policy.requests > 0
    code, said = invoke(
        "run",
        str(TINY),
        "--runs",
        "3",
        "--store",
        store,
        "--seed",
        "5",
        env={"OPENAI_BASE_URL": ""},
    )
    assert code == 2
    assert "no endpoint is configured: give one with --llm-endpoint URL" in said
    code, said = invoke(
        "run",
        str(TINY),
        "--runs",
        "3",
        "--store",
        store,
        "--llm-endpoint",
        fake.url,
        "--llm-key-env",
        "REDLINE_TEST_NO_SUCH_KEY",
    )
    assert code == 2 and "names the setting 'REDLINE_TEST_NO_SUCH_KEY', which is not set" in said
    code, said = invoke(
        "run", str(TINY), "--runs", "3", "--store", store, "--llm-endpoint", "localhost:8000"
    )
    assert code == 2 and "must be an http(s) URL" in said
    # an analysis with no endpoint configured says so before it runs
    code, said = invoke("ablate", str(TINY), "--runs", "10", "--store", store)
    assert code == 2 and "no endpoint" in said.lower(), said


def test_nato_russia_with_russia_decided_by_the_model(fake: FakeModel, tmp_path: Path) -> None:
    store = str(tmp_path / "nr.duckdb")
    code, said = invoke(
        "run",
        str(NATO_RUSSIA_LLM),
        "--runs",
        "1",
        "--lens",
        "baseline",
        "--lever",
        "ukraine_membership=no_invitation",
        "--lever",
        "nato_response=collective_defence",
        "--lever",
        "nuclear_doctrine=revision_2024",
        "--store",
        store,
        "--llm-endpoint",
        fake.url,
        "--json",
    )
    assert code == 0, said
    payload = json.loads(said)
    assert payload["runs"] == 1
    assert payload["language_models"]["RUS"]["asked"] == fake.policy.requests > 0


def test_a_sweep_stopped_by_its_endpoint_resumes_asking_only_the_rest(
    fake: FakeModel, tmp_path: Path
) -> None:
    def sweep(store: Path, *more: str) -> tuple[int, str]:
        return invoke(
            "sweep",
            str(TINY),
            "--name",
            "llm-sweep",
            "--runs",
            "4",
            "--chunk-size",
            "2",
            "--store",
            str(store),
            "--no-report",
            "--llm-endpoint",
            fake.url,
            *more,
        )

    code, said = sweep(tmp_path / "whole.duckdb")
    assert code == 0, said
    total = fake.policy.requests
    assert f"{total} requests asked" in said
    # the endpoint fails once a few answers are in: the sweep stops, the answers are kept
    fake.reset(fail=[200] * 5 + [500] * 400)
    stopped = tmp_path / "stopped.duckdb"
    code, said = sweep(stopped, "--llm-retries", "0")
    assert code == 2 and "the same command asks only the rest" in said
    kept = StoreCache(Store(stopped)).count()
    assert 5 <= kept < total
    fake.reset()
    code, said = sweep(stopped)
    assert code == 0, said
    assert fake.policy.requests == total - kept
