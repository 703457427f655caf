"""The JSON API fuzzed from its own OpenAPI schema (schemathesis), with requests the schema
allows and requests it does not: whatever a script sends, no answer is a server error, and none
carries a traceback."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from redline.web import Settings, create_app
from redline.web.service import Limits

#: examples drawn for each operation (bounded: the suite has a time budget)
EXAMPLES = 5


def _app(folder: Path) -> object:
    (folder / "workspace").mkdir(parents=True, exist_ok=True)
    return create_app(
        Settings(
            workspace=folder / "workspace",
            store=folder / "store.duckdb",
            allowed_hosts=("testserver",),
            limits=Limits(runs=50, total_runs=200),  # a run the fuzzer starts stays tiny
            runners=1,
        )
    )


#: the status of every answer (the fuzzing reached valid and invalid requests)
SEEN: list[int] = []


def _no_traceback(ctx: object, response: schemathesis.Response, case: object) -> None:
    SEEN.append(response.status_code)
    text = response.content.decode("utf-8", errors="replace")
    assert "Traceback" not in text, f"a traceback in the answer: {text[:300]}"
    assert 'File "' not in text, f"a stack frame in the answer: {text[:300]}"


@pytest.fixture(scope="module")
def fuzzed_schema(tmp_path_factory: pytest.TempPathFactory) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", _app(tmp_path_factory.mktemp("fuzz")))


def test_no_request_gets_a_server_error_or_a_traceback(
    fuzzed_schema: schemathesis.BaseSchema,
) -> None:
    operations = [result.ok() for result in fuzzed_schema.get_all_operations()]
    assert len(operations) >= 15
    for operation, mode in itertools.product(operations, GenerationMode):
        if mode is GenerationMode.NEGATIVE and not (len(operation.body) or len(operation.query)):
            continue  # a free-form path parameter has no invalid value

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def answer_is_sound(case: schemathesis.Case) -> None:
            case.call_and_validate(checks=[not_a_server_error, _no_traceback])

        answer_is_sound()
    assert {200, 404, 422} <= set(SEEN), sorted(set(SEEN))  # valid, unknown and malformed asked


def test_the_schema_documents_the_operations_of_the_command_line(
    fuzzed_schema: schemathesis.BaseSchema,
) -> None:
    paths = set(fuzzed_schema.raw_schema["paths"])
    assert {
        "/api/check",
        "/api/runs",
        "/api/runs/{ident}",
        "/api/experiments",
        "/api/experiments/{name}",
        "/api/experiments/{name}/compare",
        "/api/experiments/{name}/story",
        "/api/experiments/{name}/rows.csv",
        "/api/experiments/{name}/why",
        "/api/experiments/{name}/ablation",
        "/api/scenarios",
    } <= paths
