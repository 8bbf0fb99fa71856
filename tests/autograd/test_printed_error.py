"""An uncaught exception's text on the command line holds all that ``python FILE`` prints of
it (``printed_error``): the exceptions it was raised from, the whole message, its notes, an
ExceptionGroup's members, with the frames of the user's code only."""

from __future__ import annotations

import subprocess
import sys
import traceback

import pytest
import torch

from gradstep.autograd.errors import format_error
from gradstep.autograd.runner import run_snippet
from gradstep.cli import main

CHAINED = """\
def load(name):
    return {}[name]

try:
    load("weights")
except KeyError as missing:
    error = RuntimeError("no weights\\nlooked in ./checkpoints")
    error.add_note("while building the model")
    raise error from missing
"""


def test_a_chained_exception_with_notes_reads_as_python_prints_it(tmp_path, capsys,
                                                                   in_process):
    """The oracle: ``python FILE``'s own stderr (no torch in the snippet: ~50 ms). gradstep
    wrote ``FILE:9: RuntimeError: no weights`` alone: the second line of the message, the
    note and the KeyError it was raised from were in the JSON's ``detail`` at most."""
    path = tmp_path / "chained.py"
    path.write_text(CHAINED)
    python = subprocess.run([sys.executable, str(path)], capture_output=True, text=True,
                            timeout=60)
    assert python.returncode == 1 and "The above exception was the direct cause" in python.stderr
    assert main(["trace", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith(python.stderr), err
    assert f"{path}:9: RuntimeError: no weights\n" in err  # gradstep's explanation follows


def _plain(source: str, filename: str) -> str:
    """torch's exception of the plain run as python writes it, from the snippet's frames."""
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    try:
        exec(compile(source, filename, "exec"), namespace)
    except Exception as exc:
        lines = traceback.format_exception(exc)
        return "".join(lines[:1] + lines[2:])  # less this test's frame (the exec above)
    raise AssertionError("the snippet did not fail")


def test_torchs_multi_line_message_is_written_whole(tmp_path):
    """torch's "received an invalid combination of arguments" lists what it expected on the
    lines after the first: they were not shown."""
    source = "x = torch.ones(2, 3, requires_grad=True)\ny = x.view('a')\n"
    path = str(tmp_path / "view.py")
    result = run_snippet(source, filename=path)
    expected = _plain(source, path)
    assert expected.count("\n") > 5  # torch's message: several lines
    assert result.error["printed"] == expected
    text = format_error(result.error, path)
    assert text.startswith(expected.rstrip("\n"))
    assert f"\n{path}:2: TypeError: view() received an invalid combination" in text


@pytest.mark.parametrize("source", [
    "x = torch.ones(2, 3, requires_grad=True)\ny = F.linear(x, torch.ones(4, 5))\n",
    "x = torch.ones(3, requires_grad=True)\ny = x.sigmoid()\ny.mul_(2)\ny.sum().backward()\n",
    "x = torch.ones(3, requires_grad=True)\ny = (x * x).sum()\ny.backward()\ny.backward()\n",
])
def test_a_one_line_message_stays_one_line_whole(tmp_path, source):
    """torch's shape mismatch, in-place version error with its hint, and second backward:
    each message is one line in this torch, written whole on gradstep's line; no traceback
    (python's would hold torch's own frames, gradstep's explanation the snippet's line)."""
    path = str(tmp_path / "one.py")
    result = run_snippet(source, filename=path)
    last = _plain(source, path).splitlines()[-1]  # python's "RuntimeError: ..." line
    assert "printed" not in result.error
    assert format_error(result.error, path).splitlines()[0].endswith(f": {last}")


@pytest.mark.skipif(sys.version_info < (3, 11), reason="ExceptionGroup is Python 3.11's")
def test_an_exception_groups_members_are_listed(tmp_path):
    source = "raise ExceptionGroup('two', [ValueError('a'), TypeError('b')])\n"
    path = str(tmp_path / "group.py")
    result = run_snippet(source, filename=path)
    assert result.error["printed"] == _plain(source, path)
    assert "| ValueError: a" in result.error["printed"]
