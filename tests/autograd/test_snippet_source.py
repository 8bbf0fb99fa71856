"""A ``-c`` / ``-`` snippet runs as under ``python -c`` and ``python -``: its module's globals,
and no source for it anywhere the snippet looks (gradstep keeps the text apart)."""

from __future__ import annotations

import subprocess
import sys

from gradstep.autograd.formulas import custom_function_source
from gradstep.autograd.runner import run_snippet
from tests.autograd.test_formula_nodes import SNIPPET_FUNCTION

# Everything on stderr (one stream: the order is python's own in both runs)
SHOWS_SOURCE = """\
import inspect, sys, traceback, warnings
def f():
    return 1
warnings.warn("careful")
try:
    1 / 0
except ZeroDivisionError:
    traceback.print_exc()
try:
    inspect.getsource(f)
except OSError as exc:
    sys.stderr.write(f"OSError: {exc}\\n")
"""


def _plain_runs(code: str) -> dict:
    """Return what ``python -c code`` and ``python -`` reading ``code`` did, by filename."""
    return {"<string>": subprocess.run([sys.executable, "-c", code], capture_output=True,
                                       text=True, check=True),
            "<stdin>": subprocess.run([sys.executable, "-"], input=code, capture_output=True,
                                      text=True, check=True)}


def test_module_globals_of_stdin_and_c_are_pythons():
    """python - has ``__file__ == "<stdin>"`` (``Path(__file__).parent`` works) and
    ``__cached__``; python -c has no ``__file__``; both have ``BuiltinImporter`` as
    ``__loader__`` (fidelity hunt: gradstep gave neither ``__file__`` nor a loader)."""
    code = ("g = [(k, repr(v)) for k, v in globals().items()"
            " if k.startswith('__') and k not in ('__builtins__', '__annotations__')]\n")
    for filename, plain in _plain_runs(code + "print(g)\n").items():
        ns = run_snippet(code, filename=filename).namespace
        assert f"{ns['g']}\n" == plain.stdout, filename


def test_c_and_stdin_snippets_have_no_source_as_in_python():
    """python -c and python - keep no source: a warning shows no line, a traceback no code,
    ``inspect.getsource`` raises OSError (gradstep put the text in linecache: all three
    showed it; fidelity hunt 2, left, then fixed in its review)."""
    for filename, plain in _plain_runs(SHOWS_SOURCE).items():
        assert "OSError" in plain.stderr, plain.stderr
        assert run_snippet(SHOWS_SOURCE, filename=filename).output == plain.stderr, filename


def test_gradstep_still_reads_the_lines_of_a_c_snippet():
    """What gradstep itself shows from the text stays: a backward call's line, a custom
    Function's ``backward`` source."""
    result = run_snippet(SNIPPET_FUNCTION + "y.sum().backward()\n", filename="<string>")
    assert result.error is None, result.error
    assert [call["code"] for call in result.calls] == ["y.sum().backward()"]
    found = custom_function_source(type(result.namespace["y"].grad_fn))
    assert found["reason"] is None and "return grad * 2" in found["source"], found
    assert found["file"] == "<string>" and found["line"] == 7  # its decorator, as inspect says
