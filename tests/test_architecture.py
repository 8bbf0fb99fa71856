"""The autograd core and the pure drawing modules must not need Qt."""

import subprocess
import sys
import textwrap

import pytest

PURE_MODULES = [
    "gradstep.cli",
    "gradstep.autograd.session",
    "gradstep.autograd.backward",
    "gradstep.autograd.calls",
    "gradstep.autograd.timeline",
    "gradstep.autograd.step_state",
    "gradstep.step_drawing",
    "gradstep.autograd.formulas",
    "gradstep.commands.trace",
    "gradstep.commands.backward",
    "gradstep.commands.check",
    "gradstep.autograd.findings",
    "gradstep.autograd.grad_stats",
    "gradstep.drawing.layout",
    "gradstep.drawing.style",
    "gradstep.drawing.graph_files",
    "gradstep.drawing.collapse",
    "gradstep.drawing.metrics",
    "gradstep.drawing.samples",
    "gradstep.kernel.client",
    "gradstep.kernel.worker",
]


@pytest.mark.parametrize("module", PURE_MODULES)
def test_pure_module_imports_without_qt(module):
    pytest.importorskip(module)
    script = textwrap.dedent(
        f"""
        import importlib, importlib.abc, sys

        class NoQt(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] in ("PySide6", "pyqtgraph", "shiboken6"):
                    raise ImportError("Qt is forbidden here: " + name)
                return None

        sys.meta_path.insert(0, NoQt())
        import {module}
        for name in list(sys.modules):
            assert not name.startswith(("PySide6", "pyqtgraph")), name
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


TORCH_FREE = ["gradstep.autograd.step_state", "gradstep.autograd.timeline", "gradstep.autograd.graph_json",
              "gradstep.step_drawing", "gradstep.commands.export"]


@pytest.mark.parametrize("module", TORCH_FREE)
def test_step_state_and_drawing_need_no_torch(module):
    """The window and `gradstep export` read step state without loading torch."""
    script = textwrap.dedent(
        f"""
        import importlib.abc, sys

        class NoTorch(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path, target=None):
                if name.split(".")[0] == "torch":
                    raise ImportError("torch is not needed here: " + name)
                return None

        sys.meta_path.insert(0, NoTorch())
        import {module}
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
