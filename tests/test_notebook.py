"""docs/api_notebook.ipynb, executed headless (nbclient, a real IPython kernel): what a
notebook user sees — the drawing's SVG (and PNG) in the output of ``gradstep.draw(loss)``,
the step-through's HTML with one frame per step — and ``.grad`` left as it was.

The kernel is this test environment's Python, through a kernel spec of its own in a
temporary Jupyter path (a ``python3`` spec elsewhere on the machine may point at
another Python).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]  # a kernel start, torch, pictures

NOTEBOOK = Path(__file__).resolve().parents[1] / "docs" / "api_notebook.ipynb"
KERNEL = "gradstep-test"


@pytest.fixture
def jupyter_env(tmp_path, monkeypatch):
    """A private Jupyter setup whose only kernel runs this Python."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "gradstep test", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.setenv("MPLBACKEND", "agg")
    return tmp_path


def _outputs(cell) -> dict:
    """Return ``{mime type: data}`` of a cell's outputs (and ``stdout``)."""
    found = {}
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            found[output["name"]] = found.get(output["name"], "") + output["text"]
        if output.get("output_type") == "error":
            pytest.fail(f"{output['ename']}: {output['evalue']}")
        found.update(output.get("data", {}))
    return found


def test_the_notebook_shows_the_drawing_and_the_step_through(jupyter_env):
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(notebook, timeout=300, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(jupyter_env)}})
    client.execute()
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    drawn = _outputs(code[1])  # gradstep.draw(loss)
    svg = drawn["image/svg+xml"]
    root = ET.fromstring(svg.split("?>", 1)[-1])
    assert root.tag.endswith("svg")
    texts = "".join(root.itertext())
    assert "MeanBackward0" in texts and "0.weight" in texts  # torch's node, the model's names
    assert base64.b64decode(drawn["image/png"])[:4] == b"\x89PNG"
    # 11 steps, and the weights' .grad untouched by the recorded pass
    assert _outputs(code[2])["stdout"].strip() == "11 steps; None"
    page = _outputs(code[3])["text/html"]
    frames = re.findall(r'data-step="(\d+)"[^>]*data-svg="([^"]+)"', page)
    assert [int(step) for step, _ in frames] == list(range(12))
    assert "MeanBackward0" in gzip.decompress(base64.b64decode(frames[5][1])).decode()
    assert "<script>" in page and 'class="gs-view"><svg' in page.replace("\n", "")
    assert "image/svg+xml" in _outputs(code[4])


def test_a_step_caption_names_a_node_as_its_box_does():
    """A label that only repeats the op's name (``t`` of TBackward0, ``mul``) is not shown
    (the box hides it, and a learner would read it as a variable); the snippet's own
    names stay."""
    from gradstep.notebook import step_captions

    trace = {"nodes": [{"id": "n0", "name": "MulBackward0", "label": "loss"},
                       {"id": "n1", "name": "TBackward0", "label": "t"},
                       {"id": "n2", "name": "AddmmBackward0", "label": "addmm"}]}
    steps = [{"node": f"n{i}", "name": n["name"]} for i, n in enumerate(trace["nodes"])]
    captions = [head for head, _ in step_captions(trace, {"steps": steps})]
    assert captions == ["Step 1 of 3: ▶ MulBackward0 (loss) runs", "Step 2 of 3: ▶ TBackward0 runs",
                        "Step 3 of 3: ▶ AddmmBackward0 runs", "After step 3 of 3: the pass is done"]



def test_the_no_javascript_line_counts_one_step_as_one():
    """A one-step pass is "1 step", not "1 steps"; more are counted in the plural, in English
    and in Chinese."""
    from gradstep.i18n import using
    from gradstep.notebook import _words

    with using("en"):
        assert _words(1)["nojs"].startswith("The end of the pass (1 step). ")
        assert _words(3)["nojs"].startswith("The end of the pass (3 steps). ")
    with using("zh_CN"):
        assert _words(1)["nojs"].startswith("这一遍反向传播的结尾（共 1 步）")
