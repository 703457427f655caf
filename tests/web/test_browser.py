"""The web page in a real browser (Debian's chromium driven by Playwright, headless), as a
user goes through it: open a built-in, introduce a typo and see the error at its line, fix it,
run 20,000 runs with the progress bar reaching 100%, read a probability that equals the
command line's for the same seed, open the story, compare two lenses, download a CSV. And:
duplicate a built-in and create a scenario from the library, compute an analysis (robust
levers) with its progress, download its figure as PNG and SVG, delete an experiment only once
the confirmation is accepted.

Screenshots are saved in $REDLINE_SCREENSHOTS (else in the test's temporary folder) and their
paths printed, to be looked at."""

from __future__ import annotations

import csv
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_support import Server, cli_json, configurations, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no chromium on PATH (.ci/run installs Debian's chromium)"
)

SCENARIO = "convoy-strike"
LEVER = ("nato_response", "uncertain")
RUNS, SEED = 20_000, 1
#: where the typo goes (the first parameter a lever option sets), and the typo
TYPO_AT, RIGHT, WRONG = "{id: none, set: {p_article4", "p_article4", "p_artcle4"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("web-browser")) as s:
        yield s


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("REDLINE_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless chromium for the module's tests."""
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=60_000)
    with sync_playwright() as p:
        launched = p.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        yield launched
        launched.close()


def test_a_user_goes_from_a_built_in_to_a_probability_and_on(
    server: Server, shots: Path, browser: Any
) -> None:
    from playwright.sync_api import expect

    dialogs: list[str] = []
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    expect.set_options(timeout=60_000)

    # open a built-in
    page.goto(server.url + "/")
    page.screenshot(path=shots / "01-library.png")
    started = time.monotonic()
    page.locator(f".scenario[data-name='{SCENARIO}'] a.open").click()
    state = page.locator("#check-state")
    expect(state).to_have_attribute("data-valid", "yes")
    source = page.locator("#source")
    original = source.input_value()
    at = original.index(TYPO_AT) + len(TYPO_AT) - len(RIGHT)
    line = original[:at].count("\n") + 1

    def retype(old: str, new: str) -> None:
        """Select ``old`` where the typo goes and type ``new`` over it, as a user would."""
        source.evaluate(
            "(el, r) => { el.focus(); el.setSelectionRange(r[0], r[1]); }", [at, at + len(old)]
        )
        page.keyboard.insert_text(new)

    # a typo: the error at its line, with the CLI's message and suggestion
    retype(RIGHT, WRONG)
    expect(state).to_have_attribute("data-valid", "no")
    issue = page.locator(f"#issues li[data-line='{line}']")
    expect(issue).to_contain_text(WRONG)
    expect(issue).to_contain_text(f"did you mean '{RIGHT}'")
    expect(page.locator(f"#gutter span[data-line='{line}']")).to_have_class("error")
    issue.click()  # the text scrolls to the line
    page.screenshot(path=shots / "02-typo-at-its-line.png")

    # fixed: valid again, nothing marked
    retype(WRONG, RIGHT)
    expect(state).to_have_attribute("data-valid", "yes")
    assert source.input_value() == original
    expect(page.locator("#issues li")).to_have_count(0)

    # run 20,000 runs of one lever option under every lens
    page.select_option(f"select[name='lever:{LEVER[0]}']", LEVER[1])
    for field, value in (("runs", RUNS), ("seed", SEED)):
        page.locator(f"input[name={field}]").click(click_count=3)  # select what is there
        page.keyboard.type(str(value))
    page.locator(".run-form").screenshot(path=shots / "03-run-form.png")
    page.click("#run button[type=submit]")
    expect(page.locator("#percent")).to_have_text("100%")
    expect(page.locator("#state")).to_have_text("done")
    assert page.locator("#bar").get_attribute("style") == "width: 100%;"
    page.screenshot(path=shots / "04-run-done.png")

    # read a probability: the command line's for the same seed
    page.click("#results")
    cell = page.locator("#outcomes tr[data-lens='baseline'] td[data-outcome='war']")
    shown = cell.locator(".value").inner_text()
    read_after = time.monotonic() - started
    web_p = float(cell.get_attribute("data-p") or "nan")
    page.screenshot(path=shots / "05-results.png")
    expected = cli_json(
        SCENARIO,
        "--runs",
        str(RUNS),
        "--seed",
        str(SEED),
        "--lever",
        "=".join(LEVER),
        "--lens",
        "baseline",
        "--store",
        str(server.workspace.parent / "cli.duckdb"),
        "--workers",
        "1",
        "--threads",
        "1",
    )
    cli_p = configurations(expected)[0]["outcomes"]["war"]["p"]
    assert web_p == cli_p
    assert shown == f"{100 * cli_p:.2f}%"
    print(f"from opening {SCENARIO} to reading a probability: {read_after:.1f} s")

    # the story of a run
    page.click("#open-story")
    expect(page.locator("#story li").first).to_be_visible()
    expect(page.locator("#ending")).not_to_be_empty()
    page.screenshot(path=shots / "06-story.png")

    # compare the two lenses
    page.go_back()
    page.click("#compare-lenses")
    rows = page.locator("table.compare tbody tr")
    expect(rows.first).to_be_visible()
    first = rows.first.locator("td")
    assert {first.nth(1).inner_text(), first.nth(2).inner_text()} == {"provocation", "baseline"}
    assert re.fullmatch(r"[+-]\d+\.\d%", first.nth(6).inner_text())
    page.screenshot(path=shots / "07-compare-lenses.png")
    with page.expect_download() as download:  # any table of the page, as CSV
        page.locator("button.csv").first.click()
    compared = Path(download.value.path()).read_text().splitlines()
    assert compared[0].startswith("outcome,compared,baseline,held,")
    assert len(compared) == 1 + rows.count()

    # download the outcome table as CSV
    page.go_back()
    with page.expect_download() as download:
        page.click("#outcomes-csv")
    target = shots / "outcomes.csv"
    download.value.save_as(target)
    with target.open(newline="") as f:
        table = list(csv.DictReader(f))
    war = next(r for r in table if r["lens"] == "baseline" and r["outcome"] == "war")
    assert float(war["p"]) == cli_p
    assert {r["lens"] for r in table} == {"baseline", "provocation"}
    page.close()
    assert dialogs == []  # nothing on the way popped up (no script of a scenario's ran)
    print(f"screenshots: {shots}")


def test_library_analysis_figures_and_delete(server: Server, shots: Path, browser: Any) -> None:
    """Duplicate and create from the library; an analysis with its progress, then its figure
    as PNG and SVG; delete an experiment, refused until the confirmation is accepted."""
    from playwright.sync_api import expect

    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    answers: list[str | None] = []  # what the next dialogs answer (None: dismiss)
    asked: list[str] = []

    def answer(dialog: Any) -> None:
        asked.append(dialog.message)
        reply = answers.pop(0)
        dialog.dismiss() if reply is None else dialog.accept(reply)

    page.on("dialog", answer)

    # duplicate a built-in: a prompt for the name, then the copy opens in the editor
    page.goto(server.url + "/")
    answers.append("convoy-copy.yaml")
    page.locator(f".scenario[data-name='{SCENARIO}'] .duplicate").click()
    page.wait_for_url("**/scenarios/workspace/convoy-copy.yaml")
    expect(page.locator("#check-state")).to_have_attribute("data-valid", "yes")
    builtin = (Path(__file__).parents[2] / "src/redline/scenarios" / f"{SCENARIO}.yaml").read_text()
    assert (server.workspace / "convoy-copy.yaml").read_text() == builtin

    # completion: the keys of the level the cursor is at, and the scenario's names in values
    source = page.locator("#source")
    after = "      perception_noise: 0.05\n"  # the end of Russia's decision
    at = builtin.index(after) + len(after)
    source.evaluate("(el, at) => { el.focus(); el.setSelectionRange(at, at); }", at)
    page.keyboard.insert_text("      pl")  # a key of a decision
    offered = page.locator("#complete li")
    expect(offered).to_have_text(["plan"])
    page.keyboard.press("Enter")
    page.keyboard.insert_text("\n    assu")  # a key of an actor, one level up
    expect(offered).to_have_text(["assumption"])
    page.keyboard.press("Escape")
    expect(page.locator("#complete")).to_be_hidden()
    page.keyboard.insert_text(": weari")  # a value: the scenario's names
    expect(offered).to_have_text(["weariness", "weariness.RUS"])
    shown, editor = page.locator("#complete").bounding_box(), page.locator("#code").bounding_box()
    assert shown and editor and editor["y"] <= shown["y"]
    assert shown["y"] + shown["height"] <= editor["y"] + editor["height"]  # not clipped
    page.keyboard.press("ArrowDown")
    page.locator(".editor-pane").screenshot(path=shots / "09-completion.png")
    page.keyboard.press("Tab")
    assert source.input_value()[at:].startswith("      plan: \n    assu: weariness.RUS  - {id")

    # create a new scenario from a built-in with the library's form
    page.goto(server.url + "/")
    form = page.locator("#create")
    form.locator("input[name=name]").click()
    page.keyboard.type("mine.yaml")
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/scenarios/workspace/mine.yaml")
    assert (server.workspace / "mine.yaml").is_file()
    # a name taken already is refused in the form, said in one line
    page.goto(server.url + "/")
    form.locator("input[name=name]").click()
    page.keyboard.type("mine.yaml")
    form.locator("button[type=submit]").click()
    expect(form.locator(".message")).to_contain_text("mine.yaml")
    assert page.url.rstrip("/") == server.url

    # an analysis: robust levers, tiny, from the scenario's Analyses page
    page.goto(server.url + f"/scenarios/builtin/{SCENARIO}")
    page.click("#analyses")
    robust = page.locator("#form-robust")
    for field, value in (("samples", 1), ("runs", 20)):
        robust.locator(f"input[name={field}]").click(click_count=3)
        page.keyboard.type(str(value))
    robust.locator("button[type=submit]").click()
    page.wait_for_url("**/analyses/*")
    figure = page.locator(".parts .plot").first
    expect(figure.locator(".main-svg").first).to_be_visible()  # drawn once computed
    expect(page.locator("h2").first).to_be_visible()
    assert page.locator(".parts table").count() >= 1
    expect(page.locator(".parts button.csv").first).to_be_visible()
    page.screenshot(path=shots / "08-robust-analysis.png", full_page=True)
    for fmt, start in (("png", b"\x89PNG"), ("svg", b"<svg")):
        with page.expect_download() as download:
            page.locator(f"button[data-format={fmt}]").first.click()
        data = Path(download.value.path()).read_bytes()
        assert data.startswith(start) and len(data) > 1000, (fmt, data[:40])
        assert download.value.suggested_filename.endswith(f".{fmt}")

    # delete an experiment: dismissing the confirmation keeps it, accepting deletes it
    with server.client() as client:
        body = {"kind": "builtin", "name": SCENARIO, "runs": 100, "seed": 9, "lens": "baseline"}
        run = client.post("/api/runs", json=body | {"levers": dict([LEVER])}).json()
        for _ in range(3000):
            if client.get(f"/api/runs/{run['id']}").json()["state"] == "done":
                break
            time.sleep(0.02)
    page.goto(server.url + "/experiments")
    row = page.locator(f"#experiments tr[data-name='{run['experiment']}']")
    answers.append(None)
    row.locator(".delete").click()
    expect(row).to_have_count(1)
    answers.append("")
    row.locator(".delete").click()
    expect(row).to_have_count(0)
    assert asked[-2:] == [f"Delete the experiment {run['experiment']} and all its results?"] * 2
    page.close()
