"""The public API as a user meets it: cheap to import, typed for a type checker (``mypy
--strict`` on a user's script sees real signatures, not ``Any``), keyword arguments after
``runs``, immutable results with one-line reprs, a traced run that tells its story, and errors
that are ``ValueError``/``TypeError`` naming the parameter (the command line names its flag)."""

from __future__ import annotations

import dataclasses
import pickle
import runpy
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import redline
from redline.cli.app import flag_message
from redline.errors import ArgumentError, RedlineTypeError, RedlineValueError, UserError

HERE = Path(__file__).parent
USAGE = HERE / "typed_usage.py"
SCENARIO = "convoy-strike"

#: misuses mypy must refuse: (line, what its message says)
MISUSE = """\
import redline
s = redline.load("convoy-strike")
redline.simulate(s, 100, 1)
redline.trace(s, 1)
results = redline.simulate(s, 100)
results.seed = 2
redline.simulate(s, "100")
redline.simulate(s, 100, backend="cuda")
"""
MISUSE_ERRORS = {
    3: "Too many positional arguments",
    4: "Too many positional arguments",
    6: "read-only",
    7: 'incompatible type "str"; expected "int"',
    8: "incompatible type",
}


@pytest.fixture(scope="module")
def scenario() -> redline.Scenario:
    return redline.load(SCENARIO)


@pytest.fixture(scope="module")
def results(scenario: redline.Scenario) -> redline.Results:
    return redline.simulate(scenario, 200, seed=1, levers={"nato_response": "none"})


@pytest.mark.slow
def test_mypy_strict_sees_the_api_typed(tmp_path: Path) -> None:
    """A user's script passes ``mypy --strict``; ``redline.simulate`` and ``redline.trace`` are
    real signatures (keyword-only after ``runs``), and misuses are caught."""
    misuse = tmp_path / "misuse.py"
    misuse.write_text(MISUSE)
    # mypy runs as the project's own check does (its configuration, its cache in the project's
    # folder): after `mypy` has checked the package, as CI does first, this check takes about
    # 2 s of CPU where a cold one takes 20 s
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--no-error-summary",
            str(USAGE),
            str(misuse),
        ],
        cwd=HERE.parent.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = proc.stdout
    said = [(Path(line.split(":")[0]).name, line) for line in out.splitlines()]
    usage_lines = [line for name, line in said if name == USAGE.name]
    assert not [line for line in usage_lines if ": error:" in line], out
    revealed = [line for line in usage_lines if "Revealed type is" in line]
    assert len(revealed) == 2, out
    simulate, trace = revealed
    assert '"def (scenario: ' in simulate and "Any" not in simulate, simulate
    assert "runs: int, *, seed: int =" in simulate, simulate
    assert simulate.endswith('-> redline.results.Results"'), simulate
    assert "*, seed: int =, run: int =" in trace, trace
    assert trace.endswith('-> redline.report.trace.Trace"'), trace
    errors: dict[int, str] = {}
    for name, line in said:
        if name == misuse.name and ": error:" in line:
            errors.setdefault(int(line.split(":")[1]), line)
    assert sorted(errors) == sorted(MISUSE_ERRORS), out
    for number, words in MISUSE_ERRORS.items():
        assert words in errors[number], (words, errors[number])
    assert proc.returncode == 1, out  # the misuses, and nothing else


def test_the_typed_script_runs(capsys: pytest.CaptureFixture[str]) -> None:
    runpy.run_path(str(USAGE), run_name="__main__")
    said = capsys.readouterr().out
    assert "Results(scenario='convoy-strike', runs=200, seed=1" in said
    assert "runs must be between 1 and 100,000,000, got 0" in said


def test_importing_redline_is_cheap() -> None:
    """``import redline`` loads neither NumPy, Arrow, Numba nor the engine; the names come on
    first use."""
    code = textwrap.dedent(
        """
        import sys
        import redline
        heavy = ("numpy", "pyarrow", "numba", "pydantic", "duckdb", "redline.api")
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m in heavy))
        assert set(redline.__all__) <= set(dir(redline))
        print(redline.Results.__name__)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=600, check=True
    )
    assert proc.stdout.splitlines() == ["[]", "Results"], proc.stdout + proc.stderr


def test_every_public_name_is_there() -> None:
    expected = {"load", "simulate", "trace", "Results", "Scenario", "Trace", "DecisionMaker"}
    assert expected | {"Situation", "__version__"} <= set(redline.__all__)
    for name in redline.__all__:
        assert getattr(redline, name) is not None, name
    assert isinstance(redline.__version__, str)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        redline.nope  # type: ignore[attr-defined]  # noqa: B018


def test_results_have_a_one_line_repr(results: redline.Results) -> None:
    text = repr(results)
    assert text == (
        "Results(scenario='convoy-strike', runs=200, seed=1, "
        "levers={'nato_response': 'none'}, lens=None, outcomes=4)"
    )
    assert "\n" not in text and len(text) < 200
    assert results.runs == 200 == results.table.num_rows


def test_results_are_immutable(results: redline.Results) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        results.seed = 2  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        results.table = results.table.slice(0, 1)  # type: ignore[misc]


def test_summary_and_json(results: redline.Results) -> None:
    summary = results.summary()
    assert [x.id for x in summary] == [ident for ident, _ in results.outcomes]
    for x in summary:
        assert 0 <= x.lo <= x.p <= x.hi <= 1
    payload = results.to_json()
    assert payload["runs"] == 200 and payload["seed"] == 1


def test_arguments_after_runs_are_keyword_only(scenario: redline.Scenario) -> None:
    with pytest.raises(TypeError, match="positional"):
        redline.simulate(scenario, 10, 1)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="positional"):
        redline.trace(scenario, 1)  # type: ignore[call-arg]


def test_a_trace_is_the_simulated_run_with_its_story(
    scenario: redline.Scenario, results: redline.Results
) -> None:
    traced = redline.trace(scenario, seed=1, run=3, levers={"nato_response": "none"})
    assert isinstance(traced, redline.Trace)
    row = results.table.slice(3, 1).to_pylist()[0]
    assert row["run"] == traced.run.run == 3
    assert row["steps"] == traced.run.steps and row["peak_level"] == traced.run.peak_level
    assert dict(traced.config.levers) == {"nato_response": "none"} and traced.config.lens is None
    assert traced.run.log, "the step log is kept"
    assert traced.story and all(line.text for line in traced.story)
    assert traced.story is traced.story  # told once
    assert len(traced.narrate(verbose=True)) >= len(traced.story)
    text = traced.text()
    assert text.startswith("levers: NATO's answer to a strike on member soil: none (set; ")
    assert traced.ending in text
    assert repr(traced) == (
        f"Trace(scenario='convoy-strike', seed=1, run=3, levers={{'nato_response': 'none'}}, "
        f"lens=None, steps={traced.run.steps})"
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        traced.seed = 2  # type: ignore[misc]


class _NoDecide:
    pass


BAD_ARGUMENTS: dict[str, tuple[dict[str, Any], type[Exception], str]] = {
    "zero runs": ({"runs": 0}, ValueError, "runs must be between 1 and 100,000,000, got 0"),
    "too many runs": ({"runs": 10**9}, ValueError, "runs must be between 1 and 100,000,000"),
    "runs as text": ({"runs": "10"}, TypeError, "runs must be an integer, got str"),
    "runs as float": ({"runs": 10.0}, TypeError, "runs must be an integer, got float"),
    "runs as bool": ({"runs": True}, TypeError, "runs must be an integer, got bool"),
    "negative seed": ({"seed": -1}, ValueError, "seed must be a non-negative integer"),
    "huge seed": ({"seed": 2**63}, ValueError, "seed must be a non-negative integer"),
    "zero chunk": ({"chunk_size": 0}, ValueError, "chunk_size must be between 1 and 1,000,000"),
    "zero workers": ({"workers": 0}, ValueError, "workers must be between 1 and 256, got 0"),
    "zero threads": ({"threads": 0}, ValueError, "threads must be between 1 and 256, got 0"),
    "threads and workers": ({"threads": 2, "workers": 2}, ValueError, "threads is for runs"),
    "unknown backend": ({"backend": "cuda"}, ValueError, "backend must be one of numba, numpy"),
    "unknown lever": ({"levers": {"nato": "none"}}, ValueError, "levers: unknown lever 'nato'"),
    "unknown option": (
        {"levers": {"nato_response": "nonee"}},
        ValueError,
        "levers: lever 'nato_response': unknown option 'nonee'",
    ),
    "levers as list": ({"levers": ["a"]}, TypeError, "levers must be a mapping"),
    "unknown lens": ({"lens": "nope"}, ValueError, "lens: unknown lens 'nope'"),
    "lens as number": ({"lens": 1}, TypeError, "lens must be a lens name or None, got int"),
    "unknown actor": (
        {"decision_makers": {"RUZ": _NoDecide()}},
        ValueError,
        "decision_makers: unknown actor 'RUZ'; did you mean 'RUS'",
    ),
    "no decide": (
        {"decision_makers": {"RUS": _NoDecide()}},
        TypeError,
        "decision_makers['RUS']: ",
    ),
    "progress not callable": ({"progress": 1}, TypeError, "progress must be a function"),
}


@pytest.mark.parametrize(
    ("given", "kind", "message"), BAD_ARGUMENTS.values(), ids=BAD_ARGUMENTS.keys()
)
def test_bad_arguments_are_value_or_type_errors_naming_the_parameter(
    scenario: redline.Scenario, given: dict[str, Any], kind: type[Exception], message: str
) -> None:
    arguments: dict[str, Any] = {"runs": 10, **given}
    with pytest.raises(kind) as caught:
        redline.simulate(scenario, **arguments)
    error = caught.value
    assert str(error).startswith(message), str(error)
    assert isinstance(error, ArgumentError) and isinstance(error, UserError)
    assert str(error).startswith(error.parameter)
    assert error.parameter in arguments
    assert pickle.loads(pickle.dumps(error)).parameter == error.parameter


def test_bad_trace_and_load_arguments(scenario: redline.Scenario) -> None:
    with pytest.raises(ValueError, match=r"^run must be a non-negative integer"):
        redline.trace(scenario, run=-1)
    with pytest.raises(ValueError, match=r"^seed must be a non-negative integer"):
        redline.trace(scenario, seed=-1)
    with pytest.raises(ValueError, match=r"^lens: unknown lens"):
        redline.trace(scenario, lens="nope")
    with pytest.raises(TypeError, match=r"^scenario must be a Scenario"):
        redline.trace(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"^path must be a scenario file path"):
        redline.load(3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (RedlineValueError("runs must be ≥ 1, got 0", parameter="runs"), "--runs must be ≥ 1"),
        (RedlineValueError("chunk_size must be ≥ 1", parameter="chunk_size"), "--chunk-size"),
        (RedlineValueError("levers: unknown lever 'x'", parameter="levers"), "--lever: unknown"),
        (RedlineValueError("lens: unknown lens 'x'", parameter="lens"), "--lens: unknown lens"),
        (RedlineTypeError("threads must be an integer", parameter="threads"), "--threads must"),
        (RedlineValueError("run must be ≥ 0", parameter="run"), "--run must be ≥ 0"),
        (
            RedlineValueError("decision_makers: unknown actor", parameter="decision_makers"),
            "decision_makers: unknown actor",
        ),
        (UserError("--lever expects NAME=OPTION"), "--lever expects NAME=OPTION"),
    ],
)
def test_the_command_line_names_its_flags(error: UserError, said: str) -> None:
    assert flag_message(error).startswith(said)
