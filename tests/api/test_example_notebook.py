"""The example notebook (examples/first-hour.ipynb) runs from top to bottom in a fresh kernel of
this interpreter and answers its questions: a comparison with both levels beside each
difference, a probability table per lens, the paths to war and a story of a run at war. It is
kept in git without outputs."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[2] / "examples" / "first-hour.ipynb"
KERNEL = "redline-tests"
LENSES = ("baseline", "wsws_000_001", "provocation_003")


def _kernel_here(root: Path) -> Path:
    """A Jupyter data folder with a kernel spec that starts this very interpreter (whatever
    'python3' means on this machine)."""
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "redline tests", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> list[Any]:
    """The notebook's code cells after a run in a temporary folder (where its store goes)."""
    where = tmp_path_factory.mktemp("first-hour")
    data = _kernel_here(where / "jupyter")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(data))
        patch.setenv("IPYTHONDIR", str(where / "ipython"))
        nb = nbformat.read(NOTEBOOK, as_version=4)
        client = NotebookClient(
            nb,
            timeout=600,
            kernel_name=KERNEL,
            resources={"metadata": {"path": str(where)}},
        )
        client.execute()
    assert (where / "first-hour.duckdb").is_file()
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def _text(cell: Any) -> str:
    """Everything a cell showed: its printed text and its results' plain and HTML forms."""
    parts = []
    for output in cell.outputs:
        assert output.output_type != "error", output
        if output.output_type == "stream":
            parts.append(output.text)
        else:
            data = output.get("data", {})
            parts.extend(str(data.get(kind, "")) for kind in ("text/plain", "text/html"))
    return "\n".join(parts)


def test_the_notebook_is_kept_without_outputs() -> None:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code and all(not cell.outputs and cell.execution_count is None for cell in code)


def test_the_notebook_answers_its_questions(executed: list[Any]) -> None:
    intro, sweep, compare, lenses, why, story = (_text(cell) for cell in executed)
    assert "lenses: baseline" in intro and "provocation_003" in intro
    assert "Experiment(name='first-hour', scenario='nato-russia', status='done', points=9" in sweep
    # the deterrence question: both levels beside each difference, for each lens
    html = executed[2].outputs[-1]["data"]["text/html"]
    for column in ("p_option", "p_baseline", "difference"):
        assert f"<th>{column}</th>" in html
    assert compare.count("collective_defence") >= 3
    for lens in LENSES:  # the comparison holds under each lens
        assert f"<td>{lens}</td>" in html
    # what each lens says: a probability table with a row per lens
    table = executed[3].outputs[-1]["data"]["text/html"]
    for lens in LENSES:
        assert f"<th>{lens}</th>" in table, table
    assert "Russian strike on a convoy on NATO soil" in lenses
    # why war happens: the paths and the events on their route
    assert "direct NATO–Russia war" in why and "most frequent paths" in why
    # the story of a run that ended at war
    assert "direct NATO–Russia war" in story.splitlines()[0]
    assert "Outcomes reached:" in story and "<table" in story
