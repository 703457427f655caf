"""The invalid-scenario corpus: every file is rejected with the issues tests/corpus/expected.yaml
lists (file, line, element path, message), by the Python API and by ``redline validate``."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from redline.scenario.errors import ScenarioError
from redline.scenario.loader import load_scenario

from .support import (
    BASE,
    INVALID,
    Case,
    WorkExceeded,
    calls_made,
    corpus_cases,
    refusal_budget,
    run_cli,
)

CASES = corpus_cases()


def _ids(case: Case) -> str:
    return case.name.removesuffix(".yaml")


def _rejected(name: str) -> ScenarioError:
    with pytest.raises(ScenarioError) as info:
        load_scenario(name)
    return info.value


def test_base_is_valid() -> None:
    loaded = load_scenario(BASE)
    s = loaded.scenario
    # the base uses every section, so that each invalid variation changes one thing
    for section in (
        "actors",
        "alliances",
        "parameters",
        "variables",
        "actions",
        "red_lines",
        "doctrines",
        "schedule",
        "dynamics",
        "rules",
        "outcomes",
        "levers",
        "uncertainties",
        "lenses",
        "evidence",
        "observations",
        "forecasts",
    ):
        assert getattr(s, section), f"base.yaml has no {section}"


def test_corpus_is_complete() -> None:
    on_disk = sorted(p.name for p in INVALID.glob("*.yaml"))
    assert on_disk == sorted(c.name for c in CASES), "expected.yaml and invalid/ differ"
    assert len(on_disk) >= 35
    assert all(c.issues for c in CASES)
    assert all(c.count >= len(c.issues) for c in CASES)


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_load_reports_expected_issues(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    error = _rejected(case.name)
    printed = [str(issue) for issue in error.issues]
    for expected in case.issues:
        assert expected.found_in(case.name, printed), (
            f"{case.name}: no issue starting {expected.prefix(case.name)!r} containing "
            f"{expected.message!r}; got:\n" + "\n".join(printed)
        )
    assert len(printed) == case.count, "\n".join(printed)
    for issue, line in zip(error.issues, printed, strict=True):
        assert "\n" not in line
        assert issue.line >= 1, line
        assert issue.file.endswith(".yaml"), line
    # the exception's text is the issues, one per line
    assert str(error).splitlines() == printed


@pytest.mark.parametrize("case", CASES, ids=_ids)
def test_cli_validate_reports_expected_issues(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    result = run_cli("validate", case.name)
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert lines[-1] == "1 of 1 file invalid"
    issues = lines[:-1]
    assert len(issues) == case.count, result.stderr
    for expected in case.issues:
        assert expected.found_in(case.name, issues), result.stderr


def test_cli_validate_reports_every_file(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    names = [c.name for c in CASES]
    result = run_cli("validate", *names)
    assert result.exit_code == 2
    assert result.stderr.splitlines()[-1] == f"{len(names)} of {len(names)} files invalid"
    lines = result.stderr.splitlines()[:-1]
    assert len(lines) == sum(c.count for c in CASES)
    for case in CASES:
        for expected in case.issues:
            assert expected.found_in(case.name, lines), (case.name, expected)


def test_every_invalid_file_is_rejected_within_a_budget_of_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A guard against pathological work, counted in calls (support.refusal_budget) so that it
    holds on a loaded machine; speed itself is for benchmarks/."""
    budget = refusal_budget()
    monkeypatch.chdir(INVALID)
    costly = {}
    for case in CASES:
        try:
            _, refused = calls_made(functools.partial(load_scenario, case.name), budget)
        except WorkExceeded:
            costly[case.name] = f"more than {budget:,} calls"
            continue
        assert isinstance(refused, ScenarioError), (case.name, refused)
    assert not costly, f"costly to reject: {costly}"


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("probability: 0.4", 'probability: "0.1 * 3 + 0.7"'),  # 1 up to rounding
        ("probability: 0.4", 'probability: "min(tension * 2, 1)"'),  # reads the state
        ("probability: 0.4", "probability: resolve"),  # an uncertainty inside [0, 1]
        ("probability: 0.4", 'probability: "resolve * 0.5"'),  # drawn: not a constant
        ("probability: 0.4", 'probability: "where(step > 3, 1, 0)"'),
        ("probability: 0.4", 'probability: "p_invoke * 1.1"'),  # 0.99 at most
        ("initial: 0.2", 'initial: "p_invoke / 2"'),
        ('value: "tension * 0.95', 'value: "tension * 0.95 + 0 * (1 / 0)'),  # IEEE, no overflow
    ],
)
def test_values_in_range_are_accepted(old: str, new: str, tmp_path: Path) -> None:
    text = BASE.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    load_scenario(path)


# --- property: mutating ids anywhere in the base gives located errors, never a crash ----------

BASE_TEXT = BASE.read_text(encoding="utf-8")
BASE_IDS = sorted(set(re.findall(r"\bid: ([A-Za-z_][\w.]*)", BASE_TEXT)))
TOKEN = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"))
    | st.sampled_from("\t:-{}[]'\"#&*!|>%@`,"),
    min_size=0,
    max_size=12,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    ident=st.sampled_from(BASE_IDS),
    replacement=TOKEN | st.sampled_from(BASE_IDS),
    which=st.integers(min_value=-1, max_value=6),
)
def test_mutated_ids_give_located_errors(
    ident: str, replacement: str, which: int, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Replace one occurrence (or all, ``which == -1``) of an id in the base with anything."""
    pattern = re.compile(rf"(?<![\w.]){re.escape(ident)}(?![\w])")
    spots = list(pattern.finditer(BASE_TEXT))
    if which == -1:
        text = pattern.sub(lambda _m: replacement, BASE_TEXT)
    else:
        m = spots[which % len(spots)]
        text = BASE_TEXT[: m.start()] + replacement + BASE_TEXT[m.end() :]
    path = Path(tmp_path_factory.mktemp("mutant")) / "mutant.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        load_scenario(path)
    except ScenarioError as exc:
        assert exc.issues
        for issue in exc.issues:
            assert issue.line >= 1, str(issue)
            assert issue.file == str(path) or issue.file.endswith("mutant.yaml"), str(issue)
            assert "\n" not in str(issue)
