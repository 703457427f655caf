"""What every test shares: Hypothesis never fails a test on wall-clock time.

The suite asserts no timing (speed belongs in benchmarks/); Hypothesis's default 200 ms
deadline per example is such an assertion, and fails on a loaded shared machine."""

from hypothesis import settings

settings.register_profile("redline", deadline=None)
settings.load_profile("redline")
