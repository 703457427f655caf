"""The engine test batteries run once per registered backend: a test that takes ``backend``
checks the backend of that name (test_engine_semantics, test_engine_oracles,
test_engine_determinism), as scikit-learn's ``check_estimator`` runs one battery against every
estimator. A check that needs a capability a backend lacks is skipped on it, saying which
(engine_support.on_backend); test_engine_backends checks that the registry then falls back."""

from __future__ import annotations

import pytest

from redline.engine.backends import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The name of a registered backend."""
    name: str = request.param
    return name
