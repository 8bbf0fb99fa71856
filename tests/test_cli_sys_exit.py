"""A snippet ending with ``sys.exit(0)`` (``if __name__ == "__main__": sys.exit(main())``)
ends normally under every command, as under ``python FILE``: status 0, the graph of what it
built, no error explained; another status stays a failure that names its line.

The commands run as typed (``gradstep.cli.main``) with their session in this process (the
kernel process runs the same case in tests/kernel/hostile_cases.py).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from gradstep.cli import main

SNIPPET = """import sys
w = torch.full([2], 2.0, requires_grad=True)
loss = (w * 3).sum()

def main():
    try:
        return {status}
    finally:
        print("finally ran")

if __name__ == "__main__":
    sys.exit(main())
print("not reached")
"""


pytestmark = pytest.mark.usefixtures("in_process")  # (tests/conftest.py)


@pytest.mark.parametrize("command", [["trace", "--json"], ["backward", "--json"],
                                     ["check", "--json"], ["export", "-o", "OUT"]])
def test_sys_exit_0_ends_the_snippet_normally(capsys, tmp_path, command):
    out_file = tmp_path / "graph.json"
    argv = [str(out_file) if arg == "OUT" else arg for arg in command]
    status = main([argv[0], "-c", SNIPPET.format(status=0), *argv[1:]])
    out, err = capsys.readouterr()
    assert status == 0, err
    assert err == "finally ran\n"  # what the snippet printed, and no error explained
    data = json.loads(out_file.read_text() if command[0] == "export" else out)
    if command[0] in ("trace", "export"):
        assert [n["name"] for n in data["nodes"]] == ["SumBackward0", "MulBackward0",
                                                      "AccumulateGrad"]
    elif command[0] == "backward":
        assert data["error"] is None and data["leaf_grads"]["w"] == [3.0, 3.0]


def test_sys_exit_with_another_status_fails_and_names_its_line(capsys):
    status = main(["trace", "-c", SNIPPET.format(status=2), "--json"])
    out, err = capsys.readouterr()
    assert status == 1 and out == ""
    assert "<string>:12: SystemExit: 2" in err and "not reached" not in err


def test_a_hooks_sys_exit_0_ends_the_snippets_own_pass_there(capsys):
    # python: the hook's sys.exit(0) stops loss.backward() before w.grad is written; exit 0
    source = ("import sys\nw = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\n"
              "w.register_hook(lambda g: sys.exit(0))\nloss.backward()\nprint('not reached')\n")
    status = main(["backward", "-c", source, "--json"])
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert status == 0 and err == "", err
    assert data["from_snippet"] is True and data["error"] is None
    assert [s["name"] for s in data["steps"]] == ["SumBackward0", "MulBackward0"]
    assert data["leaf_grads"] == {"w": None}


@pytest.mark.parametrize(("code", "status"), [("0", 0), ("3", 1)])
def test_a_hooks_exit_in_gradsteps_own_pass_stops_it_names_the_hook_and_exits_plainly(
        capsys, code, status):
    # the snippet makes no backward call: python never runs the hook. gradstep's own pass
    # ran it, and its sys.exit() stopped that pass (before: exit 1, no line, no steps kept)
    source = ("import sys\nw = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\n"
              f"def hook(g):\n    sys.exit({code})\nw.register_hook(hook)\nprint('built')\n")
    assert main(["backward", "-c", source, "--json"]) == status
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert [s["name"] for s in data["steps"]] == ["SumBackward0", "MulBackward0"]
    assert data["leaf_grads"] == {"w": None}
    error = data["error"]
    assert error["type"] == "SystemExit" and error["line"] == 5 and error["exit_status"] == status
    assert "the hook at line 5 called exit()" in error["explanation"]
    assert "<string>:5: SystemExit" in err


@pytest.mark.parametrize(("code", "status"), [("0", 0), ("3", 1)])
def test_check_and_a_steps_export_exit_as_backward_does_after_a_hooks_exit(capsys, tmp_path,
                                                                           code, status):
    source = ("import sys\nw = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\n"
              f"w.register_hook(lambda g: sys.exit({code}))\n")
    assert main(["check", "-c", source, "--json"]) == status
    assert main(["export", "-c", source, "-o", str(tmp_path / "g.svg"), "--step", "1"]) == status
    assert capsys.readouterr().err.count("<string>:4: SystemExit") == 2


@pytest.mark.parametrize("command", [["trace", "--json"], ["backward", "--json"],
                                     ["check", "--json"], ["export", "-o", "OUT"]])
def test_the_snippets_own_keyboard_interrupt_exits_130_as_python_does(capsys, tmp_path, command):
    """``python FILE`` ended by ``raise KeyboardInterrupt`` exits 130 (a shell's 128 +
    SIGINT); every command did 1, as for any failure."""
    argv = [str(tmp_path / "g.svg") if arg == "OUT" else arg for arg in command]
    source = "w = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\nraise KeyboardInterrupt\n"
    assert main([argv[0], "-c", source, *argv[1:]]) == 130
    assert "<string>:3: KeyboardInterrupt" in capsys.readouterr().err


@pytest.mark.parametrize("ending", ["raise KeyboardInterrupt",
                                    "raise KeyboardInterrupt('bye') from None",
                                    "class Quit(KeyboardInterrupt):\n    pass\nraise Quit"])
def test_a_keyboard_interrupt_exits_as_python_file_does(capsys, ending):
    """Python ends itself by SIGINT (a shell's 130, ``subprocess``'s -2) for a
    ``KeyboardInterrupt`` itself only; a subclass of it ends it as any error, status 1
    (CPython compares the type). gradstep exited 130 for a subclass too."""
    source = f"x = 1\n{ending}\n"
    code = subprocess.run([sys.executable, "-c", source], capture_output=True).returncode
    python_status = 128 + signal.SIGINT if code == -signal.SIGINT else code
    assert main(["trace", "-c", source, "--json"]) == python_status
    assert "<string>:" in capsys.readouterr().err


KEYBOARD_INTERRUPT_HOOK = ("w = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\n"
                           "def hook(g):\n{body}\nw.register_hook(hook)\n")


@pytest.fixture
def in_the_kernel(monkeypatch):
    """``Stop`` as the kernel's worker has it while it runs a request, its SIGINT handler
    the one in force (the test's own put back after it)."""
    import signal

    from gradstep.autograd.stop_flag import Stop

    def handler(signum, frame):  # as the worker's _on_sigint
        raise KeyboardInterrupt

    monkeypatch.setattr(Stop, "busy", True)
    monkeypatch.setattr(Stop, "requested", False)
    monkeypatch.setattr(Stop, "handler", handler, raising=False)
    before = signal.signal(signal.SIGINT, handler)
    yield
    signal.signal(signal.SIGINT, before)


@pytest.mark.usefixtures("in_the_kernel")
def test_a_hooks_keyboard_interrupt_in_gradsteps_own_pass_keeps_its_steps_and_names_it(capsys):
    """As a hook's sys.exit(3): the pass stops there, its steps kept, the error names the
    hook's line, exit 130 as the snippet's own KeyboardInterrupt (before: no steps, "The
    snippet raised KeyboardInterrupt", no line; then exit 1).
    ``Stop.busy``: the kernel is running the request, as its worker sets it."""
    source = KEYBOARD_INTERRUPT_HOOK.format(body="    raise KeyboardInterrupt")
    assert main(["backward", "-c", source, "--json"]) == 130
    out, err = capsys.readouterr()
    data = json.loads(out)
    assert [s["name"] for s in data["steps"]] == ["SumBackward0", "MulBackward0"]
    error = data["error"]
    assert (error["type"], error["line"], error["exit_status"]) == ("KeyboardInterrupt", 4, 130)
    assert "the hook at line 4 raised KeyboardInterrupt" in error["explanation"]
    assert "<string>:4: KeyboardInterrupt" in err


@pytest.mark.parametrize("busy, requested", [(True, True), (False, False)])
def test_the_kernels_stop_in_gradsteps_own_pass_is_no_hooks_and_goes_on_up(monkeypatch, busy,
                                                                          requested):
    """The kernel's SIGINT handler notes its stop, then raises (the user's Stop, a timeout):
    that KeyboardInterrupt leaves the pass, as outside the kernel, where none can be told."""
    from gradstep.autograd.session import Session
    from gradstep.autograd.stop_flag import Stop

    monkeypatch.setattr(Stop, "busy", busy)
    monkeypatch.setattr(Stop, "requested", False)
    body = ("    from gradstep.autograd.stop_flag import Stop\n"
            f"    Stop.requested = {requested}\n    raise KeyboardInterrupt")
    session = Session()
    assert session.run(KEYBOARD_INTERRUPT_HOOK.format(body=body))["ok"]
    with pytest.raises(KeyboardInterrupt):
        session.backward()


@pytest.mark.usefixtures("in_the_kernel")
def test_a_stop_under_the_snippets_own_sigint_handler_is_not_taken_for_a_hooks_raise():
    """A snippet that set python's own SIGINT handler (it stays for gradstep's pass after
    the run): the kernel's stop (a --timeout) raised with no note, in a Function's
    time.sleep, and was shown as "the hook at line 9 raised KeyboardInterrupt", the
    timeout untold. That cannot be told from a hook's raise: it goes on up, as before."""
    from gradstep.autograd.session import Session

    session = Session()
    source = ("import signal\nsignal.signal(signal.SIGINT, signal.default_int_handler)\n"
              + KEYBOARD_INTERRUPT_HOOK.format(body="    raise KeyboardInterrupt"))
    assert session.run(source)["ok"]
    with pytest.raises(KeyboardInterrupt):
        session.backward()
