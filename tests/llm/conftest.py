"""The fake model server the language-model tests ask: one per test process, on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from redline.llm import Endpoint

from .fake_model import FakeModel

HERE = Path(__file__).parent
TINY = HERE / "tiny-llm.yaml"
NATO_RUSSIA_LLM = HERE.parent.parent / "examples" / "nato-russia-llm.yaml"


@pytest.fixture(scope="session")
def server() -> Iterator[FakeModel]:
    with FakeModel() as fake:
        yield fake


@pytest.fixture
def fake(server: FakeModel) -> FakeModel:
    """The server with its counters at zero and its default policy."""
    server.reset()
    return server


def endpoint(fake: FakeModel, **options: object) -> Endpoint:
    """The fake server as an endpoint (short timeouts: the tests' answers come at once)."""
    settings: dict[str, object] = {"timeout": 10.0, "max_retries": 3}
    settings.update(options)
    return Endpoint(fake.url, **settings)  # type: ignore[arg-type]
