"""What every test shares: Hypothesis never fails a test on wall-clock time, and long tests
start first.

The suite asserts no timing (speed belongs in benchmarks/); Hypothesis's default 200 ms
deadline per example is such an assertion, and fails on a loaded shared machine.

Tests marked ``slow`` run before the others (each module's tests keep their order): under
pytest-xdist the workers then end on short tests, and the suite's wall time is its work divided
among the workers rather than that plus one long test that started last."""

import pytest
from hypothesis import settings

settings.register_profile("redline", deadline=None)
settings.load_profile("redline")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests marked ``slow`` first, in their collected order, then the rest."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
