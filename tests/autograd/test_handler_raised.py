"""A signal handler of the snippet's that raises while gradstep's own code runs: its
exception is the snippet's, as in python, never dropped by gradstep's guards against its
own failures (fidhunt5: a loop of timed trials under a 50 ms ``setitimer`` timer lost one
of six timeouts in ``values._small_cpu_record``, another in a recorded pass's setup)."""

import signal
import types

import pytest

from gradstep.autograd import calls, hook_probes, jacobian, observe
from gradstep.autograd.session import Session
from tests.plain_runs import plain_python

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGUSR2"), reason="no SIGUSR2 here")

SNIPPET = """\
import gc
import signal
import torch


class Timeout(Exception):
    pass


def on_signal(signum, frame):
    raise Timeout("time is up")


x = torch.ones(3, requires_grad=True)
signal.signal(signal.SIGUSR2, on_signal)
for attempt in range(2):
    try:
        y = (x * 2).sin()
        y.register_hook(lambda g: g)  # a hook of the snippet's: its probes go on too
        loss = y.sum()
        loss.backward()
        print("attempt", attempt, "ran through")
    except Timeout as err:
        print("attempt", attempt, "timed out:", err)
print("grad mode", torch.is_grad_enabled(), "x.grad", x.grad)
print("collector on", gc.isenabled())
signal.signal(signal.SIGUSR2, signal.SIG_DFL)
loss
"""


def _signal_inside(monkeypatch, owner, name):
    """Make gradstep's ``owner.name`` raise SIGUSR2 at itself the first time it runs once the
    snippet's handler is in place: the handler then runs inside gradstep's code (as a
    timer's signal may land)."""
    original = getattr(owner, name)
    fired = []

    def ringing(*args, **kwargs):
        if not fired and callable(signal.getsignal(signal.SIGUSR2)):
            fired.append(True)
            signal.raise_signal(signal.SIGUSR2)  # the handler runs as this call returns
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, ringing)
    return fired


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """``python timed.py``: one run for the four cases below, which run the same file."""
    path = tmp_path_factory.mktemp("plain") / "timed.py"
    path.write_text(SNIPPET, encoding="utf-8")
    return plain_python(path, timeout=120)


@pytest.mark.parametrize("where", ["a value seen", "a recorded pass's setup",
                                   "the probes put on", "the grads read after the pass"])
def test_a_signal_handlers_exception_in_gradsteps_code_reaches_the_snippet(
        monkeypatch, tmp_path, plain, where):
    path = tmp_path / "timed.py"
    path.write_text(SNIPPET, encoding="utf-8")
    assert "ran through" in plain.stdout  # (python's run has no timer going off)
    if where == "a value seen":
        fired = _signal_inside(monkeypatch, observe.Observer, "_see_tensor")
    elif where == "a recorded pass's setup":
        fired = _signal_inside(monkeypatch, jacobian, "precompute")
    elif where == "the probes put on":  # the step hooks are on: they come off again, and
        fired = _signal_inside(monkeypatch, hook_probes.HookProbes, "install")  # the pause ends
    else:  # the same once the pass ran
        made, box = calls.grads_collector, types.SimpleNamespace()
        box.collect = lambda result: box.made(result)
        fired = _signal_inside(monkeypatch, box, "collect")

        def collector(*args, **kwargs):
            box.made = made(*args, **kwargs)
            return box.collect

        monkeypatch.setattr(calls, "grads_collector", collector)
    result = Session().run(SNIPPET, filename=str(path))
    assert fired, "the signal never came inside gradstep's code"
    assert result["ok"], result["error"]
    lines = result["output"].splitlines()
    assert lines[0] == "attempt 0 timed out: time is up", result["output"]  # before: dropped, "attempt 0 ran through"
    assert lines[1] == "attempt 1 ran through"
    assert lines[2].startswith("grad mode True x.grad tensor(")
    assert lines[3] == plain.stdout.splitlines()[3] == "collector on True"
