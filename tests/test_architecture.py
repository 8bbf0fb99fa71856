"""What each part may load when it is imported, checked in fresh processes (two in all).

``lint-imports`` (pyproject.toml) checks the imports written in the code; this checks
what really gets loaded, imports made at run time included: the records, the policies,
the step state and the command line load neither torch nor Qt (printing JSON or drawing
a step never loads torch), the autograd core and the pure drawing modules never load
Qt, and the window never loads torch. An SVG export of the plain graph and a printed
trace leave the graph in the kernel: the command's own process loads no networkx.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
QT = ("PySide6", "pyqtgraph", "shiboken6")

NEITHER_TORCH_NOR_QT = [
    "gradstep.cli",
    "gradstep.schema.kernel",
    "gradstep.schema.findings",
    "gradstep.schema.validate",
    "gradstep.schema.markdown",
    "gradstep.policies.strict_json",
    "gradstep.policies.output_cap",
    "gradstep.policies.memory_errors",
    "gradstep.autograd.step_state",
    "gradstep.autograd.timeline",
    "gradstep.autograd.graph_json",
    "gradstep.autograd.findings",
    "gradstep.autograd.errors",
    "gradstep.autograd.formulas",
    "gradstep.autograd.formula_step",
    "gradstep.step_drawing",
    "gradstep.commands.run_and_report",
    "gradstep.commands.trace",
    "gradstep.commands.backward",
    "gradstep.commands.check",
    "gradstep.commands.export",
    "gradstep.kernel.client",
    "gradstep.kernel.worker",
    "gradstep.examples",
    "gradstep.shipped",
]

WITHOUT_QT = [
    "gradstep.autograd.session",
    "gradstep.autograd.backward",
    "gradstep.autograd.calls",
    "gradstep.autograd.grad_stats",
    "gradstep.drawing.layout",
    "gradstep.drawing.style",
    "gradstep.drawing.graph_files",
    "gradstep.drawing.collapse",
    "gradstep.drawing.metrics",
    "gradstep.drawing.samples",
    "gradstep.drawing.export",
]

WITHOUT_TORCH = ["gradstep.ui.qt_main_window", "gradstep.commands.gui", "gradstep.drawing.qt_scene"]

CHECK = textwrap.dedent("""
    import importlib, importlib.abc, json, sys

    class Forbid(importlib.abc.MetaPathFinder):
        names = set()

        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in self.names:
                raise ImportError("forbidden here: " + name)
            return None

    forbid = Forbid()
    sys.meta_path.insert(0, forbid)
    failures = {}
    for names, modules in json.loads(sys.argv[1]):
        forbid.names = set(names)
        for module in modules:
            try:
                importlib.import_module(module)
            except ImportError as exc:
                failures[module] = str(exc)
                continue
            loaded = sorted({m.split(".")[0] for m in sys.modules} & forbid.names)
            if loaded:
                failures[module] = "loaded " + ", ".join(loaded)
    print(json.dumps(failures))
""")


TORCH_FREE = ["gradstep.autograd.step_state", "gradstep.autograd.timeline", "gradstep.autograd.graph_json",
              "gradstep.step_drawing", "gradstep.commands.export", "gradstep.commands.animation",
              "gradstep.autograd.formula_step"]
def _failures(phases: list) -> dict:
    done = subprocess.run([sys.executable, "-c", CHECK, json.dumps(phases)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_records_policies_step_state_and_commands_load_neither_torch_nor_qt_and_the_core_no_qt():
    # one process: first with torch and Qt forbidden, then torch allowed (the core loads it)
    phases = [[("torch", *QT), NEITHER_TORCH_NOR_QT], [QT, WITHOUT_QT]]
    assert _failures(phases) == {}


def test_the_window_never_loads_torch():
    assert _failures([[["torch"], WITHOUT_TORCH]]) == {}


def test_every_pure_drawing_module_is_in_the_import_contracts():
    """A new module of gradstep/drawing without the qt_ prefix is pure: the import-linter
    contracts must list it (export.py, which loads Qt only for pictures, excepted)."""
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    listed = [set(c["source_modules"]) for c in contracts if c["type"] == "forbidden"
              and "gradstep.drawing.layout" in c.get("source_modules", ())]
    pure = {f"gradstep.drawing.{p.stem}" for p in (ROOT / "gradstep" / "drawing").glob("*.py")
            if not p.stem.startswith(("qt_", "__")) and p.stem != "export"}
    assert len(listed) == 2
    for modules in listed:
        assert pure <= modules, pure - modules


# ui/words.py holds only ``tr`` (Qt's translate) for the plain-text helpers around it
NAMED_WITHOUT_PREFIX = {"gradstep/ui/words.py"}


def test_qt_modules_and_only_they_are_named_qt_():
    """In gradstep/ui and gradstep/drawing a module that imports Qt at its top is a
    ``qt_<thing>.py`` and a ``qt_`` module imports Qt: the Qt boundary shows in a listing."""
    wrong = []
    for folder in ("ui", "drawing"):
        for path in sorted((ROOT / "gradstep" / folder).glob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            top = {alias.name.split(".")[0] for node in tree.body if isinstance(node, ast.Import)
                   for alias in node.names}
            top |= {(node.module or "").split(".")[0] for node in tree.body
                    if isinstance(node, ast.ImportFrom)}
            name = path.relative_to(ROOT).as_posix()
            if bool(top & set(QT)) != path.stem.startswith("qt_") and name not in NAMED_WITHOUT_PREFIX:
                wrong.append(name)
    assert wrong == []


LIGHT_COMMAND = textwrap.dedent("""
    import importlib.abc, sys

    class Forbid(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path, target=None):
            if name.split(".")[0] in ("networkx", "numpy", "torch", "PySide6"):
                raise ImportError("forbidden in the command's process: " + name)

    sys.meta_path.insert(0, Forbid())
    from gradstep.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def test_plain_exports_and_traces_are_written_by_the_kernel_not_the_command(tmp_path):
    """The kernel (its own process) writes them where the graph lives (kernel.writing)."""
    lesson = str(ROOT / "gradstep" / "resources" / "examples" / "mse_backward.py")
    for argv in (["export", lesson, "-o", str(tmp_path / "g.svg")],
                 ["export", lesson, "-o", str(tmp_path / "g.graphml"), "--collapse", "1"],
                 ["trace", lesson, "--json"]):
        done = subprocess.run([sys.executable, "-c", LIGHT_COMMAND, *argv], cwd=ROOT,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "g.svg").read_text(encoding="utf-8").lstrip().startswith("<")
    assert "<graphml" in (tmp_path / "g.graphml").read_text(encoding="utf-8")
    assert {n["label"] for n in json.loads(done.stdout)["nodes"]} >= {"w"}


COMMAND_START = ("import sys\nimport gradstep.cli, gradstep.commands.export, gradstep.kernel.client\n"
                 "print(' '.join(sorted(sys.modules)))")


def test_a_command_that_works_loads_no_error_machinery_at_its_start():
    """The command's process imports what explains a failure (``autograd.errors``, the
    records' schema, difflib's suggestions, ``shutil`` for Graphviz) only when it needs
    it: ~12 ms of every `gradstep export`'s start otherwise."""
    done = subprocess.run([sys.executable, "-c", COMMAND_START], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = set(done.stdout.split())
    assert loaded & {"gradstep.autograd.errors", "gradstep.autograd.error_context",
                     "gradstep.autograd.snippet_tree", "gradstep.autograd.snippet_scopes",
                     "gradstep.schema.kernel", "gradstep.schema.errors", "difflib", "shutil",
                     "networkx", "torch"} == set()
