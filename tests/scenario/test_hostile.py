"""Hostile input: files built to crash, hang, exhaust or run code. Every one is refused within a
budget of work (counted in calls, not seconds) with exit status 2 and one-line messages naming
the file; nothing runs, no traceback."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from redline.scenario.errors import ScenarioError
from redline.scenario.loader import builtin_scenarios, load_scenario
from redline.scenario.yamlsource import MAX_FILE_BYTES, parse_yaml

from .support import BASE, calls_made, refusal_budget, run_cli

BASE_TEXT = BASE.read_text(encoding="utf-8")
MARKER = "PWNED_MARKER"

BOMB = b"""\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _in_base(old: str, new: str) -> Callable[[Path], bytes]:
    """The valid base with one substitution (``{marker}`` is the marker file's path)."""

    def make(tmp: Path) -> bytes:
        assert BASE_TEXT.count(old) == 1
        return BASE_TEXT.replace(old, new.replace("{marker}", str(tmp / MARKER))).encode()

    return make


def _raw(data: bytes) -> Callable[[Path], bytes]:
    return lambda _tmp: data


def _random_binary(_tmp: Path) -> bytes:
    rng = random.Random(20240101)
    return bytes(rng.randrange(256) for _ in range(4096)) + b"\x00"


#: name -> (file content from the temporary folder, a substring of the message)
CONTENT_CASES: dict[str, tuple[Callable[[Path], bytes], str]] = {
    "alias_bomb": (_raw(BOMB), "alias bomb"),
    "alias_bomb_in_scenario": (
        _in_base("title: Corpus base\n", "title: Corpus base\n" + BOMB.decode()),
        "alias bomb",
    ),
    "deep_block_nesting": (
        _raw("".join("  " * i + f"k{i}:\n" for i in range(200)).encode() + b"  " * 200 + b"x\n"),
        "nesting deeper than 64 levels",
    ),
    "deep_flow_nesting": (_raw(b"id: " + b"[" * 10_000 + b"]" * 10_000), "nesting deeper"),
    "deep_flow_mappings": (
        _raw(b"id: " + b"{a: " * 10_000 + b"1" + b"}" * 10_000),
        "nesting deeper",
    ),
    "recursive_alias": (_raw(b"id: x\nloop: &x [1, *x]\n"), "recursive alias"),
    "recursive_alias_mapping": (_raw(b"time: &t {horizon: 3, again: *t}\n"), "recursive alias"),
    "undefined_alias": (_raw(b"id: *nowhere\n"), "undefined alias"),
    "python_apply_tag": (
        _in_base("title: Corpus base", 'title: !!python/object/apply:os.system ["touch {marker}"]'),
        "not allowed",
    ),
    "python_apply_tag_mapping": (
        _in_base(
            "title: Corpus base",
            "title: !!python/object/apply:os.system {args: ['touch {marker}']}",
        ),
        "not allowed",
    ),
    "python_new_tag": (
        _in_base(
            "title: Corpus base",
            "title: !!python/object/new:pathlib.Path {args: ['{marker}']}",
        ),
        "not allowed",
    ),
    "python_name_tag": (
        _in_base("title: Corpus base", "title: !!python/name:os.system"),
        "could not determine a constructor",
    ),
    "python_tag_in_list": (
        _in_base('tags: ["flare"]', "tags: [!!python/object/apply:os.system ['touch {marker}']]"),
        "not allowed",
    ),
    "yaml_set_tag": (_in_base('tags: ["flare"]', "tags: !!set {flare}"), "not allowed"),
    "merge_key": (_raw(b"time: &t {horizon: 3}\nother: {<<: *t}\n"), "merge keys"),
    "empty_file": (_raw(b""), "file is empty"),
    "whitespace_only": (_raw(b"  \n\t\n   \n"), "file is empty"),
    "comments_only": (_raw(b"# nothing here\n# at all\n"), "no YAML document"),
    "binary_with_nul": (_random_binary, "binary file"),
    "not_utf8": (_raw("id: x\ntitle: caf\u00e9\n".encode("latin-1")), "not UTF-8"),
    "utf16": (_raw("id: x\n".encode("utf-16")), "binary file"),
    "control_character": (_raw(b"id: x\ntitle: a\x07b\n"), "U+0007 is not allowed"),
    "two_documents": (_raw(b"id: x\n---\nid: y\n"), "another document"),
    "scalar_document": (_raw(b"just a string\n"), "must be a YAML mapping"),
    "huge_file": (_raw(b"# " + b"x" * (MAX_FILE_BYTES + 10) + b"\n"), "larger than the limit"),
    "huge_expression": (
        _in_base('requires: "tension < 0.9"', f'requires: "{"1 + " * 5000}1 > 0"'),
        "at most 4000 characters",
    ),
    "bad_timestamp": (_in_base("at: 2024-06-01", "at: 2024-13-45"), "invalid value"),
    "huge_integer": (_in_base("horizon: 12}", "horizon: " + "9" * 5000 + "}"), "horizon"),
}

#: expressions that would run code if anything handed them to Python; ``{marker}`` is a path
CODE_INJECTIONS = [
    "__import__('os').system('touch {marker}')",
    '__import__("os").system("touch {marker}")',
    "eval(\"__import__('os').system('touch {marker}')\")",
    "exec('import os; os.system(\"touch {marker}\")')",
    "open('{marker}', 'w').write('x')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: __import__('os').system('touch {marker}')",
    "[x for x in ().__class__.__mro__]",
    'f\'{{__import__("os").system("touch {marker}")}}\'',
    "tension < 0.9; __import__('os').system('touch {marker}')",
    "tension.__class__",
    "getattr(__builtins__, 'exec')('import os')",
    "happened(\"x\") or __import__('os').system('touch {marker}') == 0",
    "compile('1', 'f', 'eval')",
    "breakpoint()",
]

#: expression fields of the base to hold the injections: (text in the base, replacement)
INJECTION_SITES = {
    "requires": ('requires: "tension < 0.9"', "requires: {expr}"),
    "when": ('when: "tension < 0.05 and step > 3"', "when: {expr}"),
    "dynamic": ('value: "tension * 0.95 + normal(0, 0.01)"', "value: {expr}"),
    "initial": ('initial: "p_invoke * 2"', "initial: {expr}"),
    "effect": ("effects: {tension: 0.1}", "effects: {{tension: {expr}}}"),
    "pattern": ("""when: 'now("attack:*")'""", "when: {expr}"),
}


def _quote(text: str) -> str:
    """A YAML double-quoted scalar holding ``text`` exactly."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _assert_refused(path: Path, name: str, needle: str) -> list[str]:
    """load_scenario and ``redline validate`` both refuse ``name`` (relative to cwd), the first
    within the refusal budget of calls (support.refusal_budget)."""
    _, refused = calls_made(lambda: load_scenario(name), refusal_budget())
    assert isinstance(refused, ScenarioError), repr(refused)
    printed = [str(i) for i in refused.issues]
    assert printed
    assert any(needle in line for line in printed), printed
    for line in printed:
        assert "\n" not in line
        assert line.startswith(f"{name}:"), line

    result = run_cli("validate", name)
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[-1] == "1 of 1 file invalid"
    assert lines[:-1] == printed
    assert not (path.parent / MARKER).exists()
    return printed


@pytest.mark.parametrize("case", sorted(CONTENT_CASES))
def test_hostile_content_is_refused(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make, needle = CONTENT_CASES[case]
    path = tmp_path / f"{case}.yaml"
    path.write_bytes(make(tmp_path))
    monkeypatch.chdir(tmp_path)
    _assert_refused(path, path.name, needle)
    assert not (tmp_path / MARKER).exists()


@pytest.mark.parametrize("case", ["python_apply_tag", "python_tag_in_list"])
def test_python_tag_payload_is_live(case: str, tmp_path: Path) -> None:
    """Control for the tag cases: an unsafe loader given the same file would run the payload."""
    make, _ = CONTENT_CASES[case]
    yaml.unsafe_load(make(tmp_path))
    assert (tmp_path / MARKER).exists()


#: every injection in two fields, and the first in every field (all of them would be slow)
INJECTION_CASES = sorted(
    {(site, code) for site in ("when", "effect") for code in CODE_INJECTIONS}
    | {(site, CODE_INJECTIONS[0]) for site in INJECTION_SITES}
)


@pytest.mark.parametrize(("site", "code"), INJECTION_CASES)
def test_code_in_expressions_is_refused(
    site: str, code: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = INJECTION_SITES[site]
    expr = code.replace("{marker}", str(tmp_path / MARKER))
    text = BASE_TEXT.replace(old, new.format(expr=_quote(expr)))
    assert text != BASE_TEXT
    path = tmp_path / "inject.yaml"
    path.write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    _assert_refused(path, path.name, "")
    assert not (tmp_path / MARKER).exists()


def test_directory_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "adir.yaml").mkdir()
    monkeypatch.chdir(tmp_path)
    _assert_refused(tmp_path / "adir.yaml", "adir.yaml", "is a directory")


def test_missing_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    _assert_refused(tmp_path / "nowhere.yaml", "nowhere.yaml", "file not found")


def test_path_through_a_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "plain.yaml").write_text(BASE_TEXT)
    monkeypatch.chdir(tmp_path)
    _assert_refused(tmp_path / "plain.yaml", "plain.yaml/inner.yaml", "cannot read")


def test_endless_file_is_refused_without_reading_it_all() -> None:
    """/dev/zero never ends: it is refused as a device, not a file, before anything is read
    (memory held at most twice the limit), within the refusal budget of calls."""
    tracemalloc.start()
    try:
        _, refused = calls_made(lambda: load_scenario("/dev/zero"), refusal_budget())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert isinstance(refused, ScenarioError), repr(refused)
    assert "not a regular file" in str(refused)
    assert peak < 2 * MAX_FILE_BYTES


def test_extends_into_hostile_base_names_the_base(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bomb.yaml").write_bytes(BOMB)
    (tmp_path / "variant.yaml").write_text("extends: bomb.yaml\nid: v\ntitle: V\n")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError) as info:
        load_scenario("variant.yaml")
    assert str(info.value).startswith("bomb.yaml:"), str(info.value)
    assert "alias bomb" in str(info.value)


def test_real_process_gives_messages_not_tracebacks(tmp_path: Path) -> None:
    """The installed ``redline`` command, end to end, on a handful of hostile files at once."""
    picks = [
        "alias_bomb",
        "deep_flow_nesting",
        "python_apply_tag",
        "binary_with_nul",
        "not_utf8",
        "empty_file",
        "huge_file",
        "control_character",
    ]
    names = []
    for case in picks:
        make, _ = CONTENT_CASES[case]
        (tmp_path / f"{case}.yaml").write_bytes(make(tmp_path))
        names.append(f"{case}.yaml")
    (tmp_path / "inject.yaml").write_text(
        BASE_TEXT.replace(
            'requires: "tension < 0.9"',
            "requires: " + _quote(f"__import__('os').system('touch {tmp_path / MARKER}')"),
        )
    )
    names += ["inject.yaml", "missing.yaml"]
    exe = Path(sys.executable).parent / "redline"
    command = [str(exe)] if exe.exists() else [sys.executable, "-m", "redline.cli"]
    proc = subprocess.run(
        [*command, "validate", *names],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "COLUMNS": "80"},
    )
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    lines = proc.stderr.splitlines()
    assert lines[-1] == f"{len(names)} of {len(names)} files invalid"
    for line in lines[:-1]:
        assert any(line.startswith(f"{n}:") for n in names), line
    for name in names:
        assert any(line.startswith(f"{name}:") for line in lines), name
    assert not (tmp_path / MARKER).exists()


def test_markup_in_names_is_shown_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Scenario text that looks like console markup is printed verbatim, not interpreted (an
    unmatched closing tag used to crash ``redline explain``)."""
    text = BASE_TEXT.replace("title: Corpus base", 'title: "Corpus [/] base [bold]"').replace(
        "  - id: RED\n",
        '  - id: RED\n    name: "Red [/bold] side [link=file:///etc/passwd]x[/link]"\n',
    )
    (tmp_path / "markup.yaml").write_text(text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = run_cli("explain", "markup.yaml", width=400)
    assert result.exception is None, repr(result.exception)
    assert result.exit_code == 0, result.output
    assert "Corpus [/] base [bold]" in result.stdout
    assert "Red [/bold] side [link=file:///etc/passwd]x[/link]" in result.stdout


@pytest.mark.parametrize("name", sorted(builtin_scenarios()))
def test_a_built_in_composed_by_libyaml_is_the_same_document(name: str) -> None:
    """Built-in scenarios (shipped, so trusted) are composed by libyaml, five times faster;
    every value and every line it records equals the bounded pure-Python composer's, which
    every other file goes through."""
    raw = builtin_scenarios()[name].read_bytes()
    fast, bounded = parse_yaml(raw, name, trusted=True), parse_yaml(raw, name)
    assert fast.data == bounded.data
    assert fast.lines == bounded.lines
