"""The scenario commands: validate, schema, scenarios, explain."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from redline.scenario.loader import builtin_scenarios, load_scenario
from redline.scenario.register import counts_line, register

from .support import BASE, BUILTIN, INVALID, VALID, corpus_cases, run_cli

BUILTINS = sorted(BUILTIN.glob("*.yaml"))
CASES = {c.name: c for c in corpus_cases()}


def _json_ready(value: Any) -> Any:
    """YAML data as JSON would carry it: dates as ISO strings."""
    if isinstance(value, dict):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_ready(v) for v in value]
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _yaml_data(path: Path) -> Any:
    return _json_ready(yaml.safe_load(path.read_text(encoding="utf-8")))


# --- validate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("target", ["convoy-strike", "scenarios/convoy-strike.yaml"])
def test_validate_builtin_passes(target: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BUILTIN.parents[2])
    result = run_cli("validate", target)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert result.stdout.startswith(f"{target}: valid — The convoy strike")


def test_validate_every_builtin_passes() -> None:
    assert BUILTINS, "no built-in scenarios"
    result = run_cli("validate", *map(str, BUILTINS))
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == len(BUILTINS)


def test_validate_several_files_reports_all(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    bad = [
        "red_line_unknown_action.yaml",
        "several_semantic_errors.yaml",
        "several_shape_errors.yaml",
        "yaml_syntax_error.yaml",
    ]
    result = run_cli("validate", "../valid/base.yaml", *bad, "convoy-strike")
    assert result.exit_code == 2
    assert result.exception is None
    valid = result.stdout.splitlines()
    assert [line.split(":")[0] for line in valid] == ["../valid/base.yaml", "convoy-strike"]
    warnings = [line for line in result.stderr.splitlines() if ": warning: " in line]
    # unsupported numbers, and quoted numbers without their reasoning; the built-in has neither
    assert [w.split(":")[0] for w in warnings] == ["../valid/base.yaml"] * 2
    lines = [line for line in result.stderr.splitlines() if line not in warnings]
    assert lines[-1] == "4 of 6 files invalid"
    assert len(lines) - 1 == sum(CASES[name].count for name in bad)
    for name in bad:
        for expected in CASES[name].issues:
            assert expected.found_in(name, lines), (name, expected)
    # issues come file by file, in the order given
    order = [next(i for i, line in enumerate(lines) if line.startswith(f"{n}:")) for n in bad]
    assert order == sorted(order)


def test_validate_long_issue_stays_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    result = run_cli("validate", "unknown_key_typo.yaml", width=60)
    first = result.stderr.splitlines()[0]
    assert first.startswith("unknown_key_typo.yaml:87: doctrines[0].probabilty: unknown key")
    assert first.endswith("action, probability")  # the whole list of allowed keys, unwrapped


def test_validate_warns_of_unsupported_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    """A valid scenario with numbers that have neither evidence nor an assumption is valid, with a
    warning that counts them and names the first few; --quiet prints nothing; exit 0 both ways."""
    monkeypatch.chdir(VALID)
    result = run_cli("validate", "base.yaml")
    assert result.exit_code == 0
    assert result.stdout.startswith("base.yaml: valid — ")
    assert "15 unsupported" in result.stdout
    warning, unreasoned = result.stderr.splitlines()
    assert warning.startswith(
        "base.yaml: warning: 15 values without support (no evidence, no assumption): "
        "actors.RED decision.lambda, actors.RED decision.weights.tension, "
    )
    assert "and 10 more; `redline explain base.yaml --full` lists the register" in warning
    # two numbers cite a quote but give no reasoning from quote to number: named, not counted
    # as unsupported
    assert unreasoned.startswith(
        "base.yaml: warning: 2 values supported by a quote without the reasoning from quote to "
        "number (no assumption on the element): parameters.p_invoke value, "
        "alliances.PACT.clauses.defence invocation; "
    )
    assert "(2 with the reasoning" not in result.stdout
    quiet = run_cli("validate", "--quiet", "base.yaml")
    assert (quiet.exit_code, quiet.stdout, quiet.stderr) == (0, "", "")


def test_validate_without_files_is_a_usage_error() -> None:
    result = run_cli("validate")
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- schema -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    result = run_cli("schema")
    assert result.exit_code == 0, result.output
    loaded: dict[str, Any] = json.loads(result.stdout)
    return loaded


@pytest.fixture(scope="module")
def validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_schema_is_draft_2020_12(schema: dict[str, Any]) -> None:
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    # the top-level keys are required unless the file extends a base that gives them
    assert schema["if"] == {"required": ["extends"]}
    assert {"id", "title", "time", "actors"} <= set(schema["else"]["required"])
    # the YAML spelling of aliased fields, not the Python one
    decision = schema["$defs"]["DecisionSpec"]["properties"]
    assert "lambda" in decision and "rationality" not in decision


@pytest.mark.parametrize("path", [*BUILTINS, BASE], ids=lambda p: p.name)
def test_valid_scenarios_satisfy_the_schema(path: Path, validator: Draft202012Validator) -> None:
    errors = [
        f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(_yaml_data(path))
    ]
    assert not errors, errors


#: corpus files with shape errors, and the data path the schema must complain about
SHAPE_ERRORS = {
    "unknown_key_typo.yaml": ["doctrines", 0],
    "wrong_type_horizon.yaml": ["time", "horizon"],
    "missing_required_key.yaml": ["dynamics", 0],
    "wrong_type_members.yaml": ["alliances", 0, "members"],
    "time_not_a_mapping.yaml": ["time"],
    "invalid_id_characters.yaml": ["outcomes", 1, "id"],
    "normal_negative_sd.yaml": ["uncertainties", 0, "distribution"],
    "unknown_distribution_kind.yaml": ["uncertainties", 0, "distribution"],
    "missing_actors.yaml": [],
    "several_shape_errors.yaml": [],
}


def _all_paths(errors: Any) -> list[list[Any]]:
    paths = []
    for error in errors:
        paths.append(list(error.absolute_path))
        paths.extend(_all_paths(error.context or []))
    return paths


@pytest.mark.parametrize("name", sorted(SHAPE_ERRORS))
def test_shape_errors_fail_the_schema(name: str, validator: Draft202012Validator) -> None:
    errors = list(validator.iter_errors(_yaml_data(INVALID / name)))
    assert errors, f"{name} satisfies the schema"
    where = SHAPE_ERRORS[name]
    assert any(p[: len(where)] == where for p in _all_paths(errors)), _all_paths(errors)


def test_variant_needs_only_what_it_changes(validator: Draft202012Validator) -> None:
    assert validator.is_valid({"extends": "convoy-strike", "title": "A variant"})
    assert not validator.is_valid({"title": "Not a variant"})
    assert not validator.is_valid({"extends": "convoy-strike", "titel": "A typo"})


@pytest.mark.parametrize(
    "name", ["red_line_unknown_action.yaml", "expr_unknown_name.yaml", "min_above_max.yaml"]
)
def test_semantic_errors_are_beyond_the_schema(name: str, validator: Draft202012Validator) -> None:
    """The schema checks shape only; references and expressions are the validator's job."""
    assert validator.is_valid(_yaml_data(INVALID / name))


# --- scenarios --------------------------------------------------------------------------------


def test_scenarios_lists_the_builtins() -> None:
    result = run_cli("scenarios", width=400)
    assert result.exit_code == 0, result.output
    rows = [line for line in result.stdout.splitlines() if "convoy-strike" in line]
    assert len(rows) == 1
    assert "The convoy strike: a provocation on NATO soil (miniature)" in rows[0]
    for name in builtin_scenarios():
        assert name in result.stdout


# --- explain ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def explained() -> str:
    result = run_cli("explain", "convoy-strike", "--full", width=1000)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout


def test_explain_shows_every_element(explained: str) -> None:
    s = load_scenario("convoy-strike").scenario
    assert s.title in explained
    for title in (
        "Actors",
        "Alliances and treaty clauses",
        "Red lines",
        "Doctrines",
        "Levers",
        "Lenses",
        "Outcomes",
        "Assumptions register",
    ):
        assert title in explained, title
    for actor in s.actors:
        assert re.search(rf"│ {re.escape(actor.id)} +│ {re.escape(actor.label)} +│", explained)
    for alliance in s.alliances:
        assert alliance.id in explained
        for clause in alliance.clauses:
            row = next(line for line in explained.splitlines() if f"  {clause.id} " in line)
            assert clause.kind in row and clause.trigger in row and str(clause.response) in row
    for red_line in s.red_lines:
        row = next(line for line in explained.splitlines() if red_line.label in line)
        assert red_line.owner in row and red_line.crossing in row and red_line.response in row
    for doctrine in s.doctrines:
        row = next(line for line in explained.splitlines() if doctrine.label in line)
        assert doctrine.action in row and doctrine.when in row
    for lever in s.levers:
        assert lever.label in explained
        for option in lever.options:
            assert re.search(rf"│ {re.escape(option.id)} +│", explained), option.id
    for lens in s.lenses:
        assert lens.label in explained


def _quote_numbers(text: str) -> dict[str, int]:
    """The evidence list's quotes by their numbers (``  3. “…” — 2 values: …``)."""
    found = re.findall(r"^  (\d+)\. “(.*?)” — \d+ values?: ", text, flags=re.M)
    return {quote: int(n) for n, quote in found}


def test_explain_register_quotes_and_assumptions(explained: str) -> None:
    lines = explained.splitlines()
    numbers = _quote_numbers(explained)
    register_at = next(i for i, line in enumerate(lines) if "Assumptions register" in line)
    register = lines[register_at:]
    # a cited row carries its kind of support and its quote's number in the evidence list,
    # where the quote is shown verbatim under its source's title (not its file hash)
    row = next(line for line in register if "parameters.strike_appeal" in line)
    assert "0.15" in row
    quote = (
        "expect a long-range missile strike to hit a convoy on NATO soil, or some equivalent "
        "action designed to provoke the west. Either way, it’s a win-win."
    )
    # the kind of support comes first: 003 argues the strike has an appeal, not its size
    assert f"assumption · quote {numbers[quote]}" in row
    at = register.index(row)
    assert "assumption (not in the quote): 003 calls the strike a 'win-win'" in register[at + 1]
    # a number a quote supports says how it follows from the quote, on the line after the quote
    at = next(i for i, line in enumerate(register) if "parameters.p_allied_strike" in line)
    assert "qualitative · quote " in register[at]
    assert "reasoning: after invocation the allies strike" in register[at + 1]
    evidence = "\n".join(lines[:register_at])
    source = evidence.index("“Why Putin wants NATO to formally join the war”, Expert Circle\n")
    assert source < evidence.index(f"  {numbers[quote]}. “{quote}”")
    assert "003_25c02ed85bea251d.txt" not in explained
    # an assumption row says so, with the reason
    row = next(line for line in register if "parameters.p_article4" in line)
    assert "assumption: allies almost always consult when a member is struck" in row
    assert re.search(
        r"Register: \d+ values: \d+ stated by a source \(the number is in the quote\), \d+ "
        r"supported by a quote \(\d+ with the reasoning from quote to number\), \d+ assumptions? "
        r"\(no source for the number\), \d+ unsupported",
        explained,
    )


def test_explain_full_says_each_quote_once(explained: str) -> None:
    """A parameter does not repeat its element's quotes: each quote is printed once, in the
    evidence list, and the register names it by number, once per element citing it (an element
    with several values too), with each value and its kind of support on a row of its own."""
    rows = register(load_scenario("convoy-strike").scenario)
    numbers = _quote_numbers(explained)
    quotes = {c.quote for r in rows for c in r.citations}
    assert set(numbers) == quotes
    for quote in quotes:
        assert explained.count(quote) == 1, quote
    lines = explained.splitlines()
    table = lines[next(i for i, t in enumerate(lines) if "Assumptions register" in t) :]
    element = next(
        r.element for r in rows if r.citations and sum(o.element == r.element for o in rows) > 1
    )
    cited = sorted(
        numbers[c.quote] for c in next(r for r in rows if r.element == element).citations
    )
    heading = rf"│ {re.escape(element)} +│ +│ quotes? {', '.join(map(str, cited))} "
    assert sum(bool(re.match(heading, t)) for t in table) == 1, element
    for row in rows:
        pattern = rf"{re.escape(row.name)} +│ {re.escape(row.value)} +│ {row.kind}"
        assert any(re.search(pattern, t) for t in table), row
    # fewer citations in the register than values with any
    cites = sum(len(re.findall(r"quotes? \d", t)) for t in table)
    assert 0 < cites < sum(len(r.citations) > 0 for r in rows)


def test_explain_summary_shows_each_quote_once_with_its_source() -> None:
    """``explain`` without --full: the sections, each quote once under its source's title,
    the register's counts — and no register; nato-russia in a few hundred lines."""
    result = run_cli("explain", "nato-russia", width=160)
    assert result.exit_code == 0, result.output
    text = result.stdout
    rows = register(load_scenario("nato-russia").scenario)
    quotes = {(c.reference, c.quote) for r in rows for c in r.citations}
    assert "Assumptions register" not in text
    assert f"Evidence: {len(quotes)} quotes from " in text
    flat = " ".join(text.split())
    for reference, quote in quotes:
        assert flat.count(f"“{' '.join(quote.split())}”") == 1, quote
        assert " ".join(reference.split()) in flat
    assert f"Register: {counts_line(rows)}" in flat
    assert "`redline explain nato-russia --full` lists every value with its support." in text
    assert len(text.splitlines()) < 500


def test_explain_invalid_file_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(INVALID)
    result = run_cli("explain", "red_line_unknown_action.yaml")
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert "red_line_unknown_action.yaml:78: red_lines[0].response: unknown action" in result.stderr
