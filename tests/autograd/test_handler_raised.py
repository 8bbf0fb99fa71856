"""A signal handler of the snippet's that raises while gradstep's own code runs: its
exception is the snippet's, as in python, never dropped by gradstep's guards against its
own failures (fidhunt5: a loop of timed trials under a 50 ms ``setitimer`` timer lost one
of six timeouts in ``values._small_cpu_record``, another in a recorded pass's setup)."""

import signal
import types

import pytest

from gradstep.autograd import calls, held_signals, hook_probes, jacobian, observe
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


def _signal_inside(monkeypatch, owner, name, signals=(signal.SIGUSR2,)):
    """Make gradstep's ``owner.name`` raise SIGUSR2 (or ``signals``, in turn) at itself the
    first time it runs once the snippet's handler is in place: the handler then runs inside
    gradstep's code (as a timer's signal may land)."""
    original = getattr(owner, name)
    fired = []

    def ringing(*args, **kwargs):
        if not fired and callable(signal.getsignal(signal.SIGUSR2)):
            fired.append(True)
            for number in signals:
                signal.raise_signal(number)  # the handler runs as this call returns
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, ringing)
    return fired


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """``python timed.py``: one run for the four cases below, which run the same file."""
    path = tmp_path_factory.mktemp("plain") / "timed.py"
    path.write_text(SNIPPET, encoding="utf-8")
    return plain_python(path, timeout=120)


@pytest.mark.parametrize("where", ["a value seen", "the handlers read",
                                   "a recorded pass's setup", "the probes put on",
                                   "the grads read after the pass"])
def test_a_signal_handlers_exception_in_gradsteps_code_reaches_the_snippet(
        monkeypatch, tmp_path, plain, where):
    path = tmp_path / "timed.py"
    path.write_text(SNIPPET, encoding="utf-8")
    assert "ran through" in plain.stdout  # (python's run has no timer going off)
    if where == "a value seen":
        fired = _signal_inside(monkeypatch, observe.Observer, "_see_tensor")
    elif where == "the handlers read":  # (held_signals: the recorded call's first step)
        fired = _signal_inside(monkeypatch, held_signals, "hold")
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
    # the call that ran through is recorded (one that raised as the handlers were read left
    # the capture busy: every later call ran unrecorded)
    assert len(result["calls"]) == 1 and result["calls"][0]["timeline"]["steps"]


# A timer's signal that comes during a backward pass, at a known point: a thread of the
# snippet's sends it once the main thread is in torch's engine (its innermost Python frame
# ``_engine_run_backward``), as a timer going off then would (a timer raced the pass: on a
# busy machine it went off before it, and ``ITIMER_VIRTUAL`` goes off at the kernel's next
# tick, 4 ms and more here, which can be after a short pass). ``over`` ends the thread when
# the pass is over without it (the test then fails: "ran through").
ALARM_IN_THE_PASS = """\
import os
import signal
import sys
import threading
import time

over = threading.Event()


def alarm_during_the_pass():
    main = threading.main_thread().ident
    while sys._current_frames()[main].f_code.co_name != "_engine_run_backward":
        if over.is_set():
            return
        time.sleep(0.0002)
    os.kill(os.getpid(), signal.SIGALRM)


"""

TIMED_PASS = ALARM_IN_THE_PASS + """\
import torch


class Timeout(Exception):
    pass


counted = []


def on_alarm(signum, frame):
    raise Timeout("time is up")


def on_prof(signum, frame):
    counted.append(signum)


signal.signal(signal.SIGALRM, on_alarm)
signal.signal(signal.SIGUSR1, on_prof)
def chain(t, n):
    for _ in range(n):
        t = t * 1.0
    return t


x = torch.ones(3, requires_grad=True)
w = torch.ones(3, requires_grad=True)
chain(x, 2).sum().backward()  # torch's engine started
x.grad = None
loss = (chain(x, 3000) * w).sum()
threading.Thread(target=alarm_during_the_pass, daemon=True).start()
try:  # the signal comes during the pass: python runs the handler after it, in torch's code
    loss.backward()
    print("ran through")
except Timeout as err:
    print("timed out:", err)
over.set()
print("x.grad", x.grad, "w.grad", w.grad)
z = (x * 3).exp()
z.register_hook(lambda g: g * 2)  # a hook of the snippet's: the handler runs in it
z.register_hook(lambda g: signal.raise_signal(signal.SIGUSR1))
z.sum().backward()
print("counted", counted, "x.grad", x.grad)
print(signal.getsignal(signal.SIGALRM) is on_alarm, signal.getsignal(signal.SIGUSR1) is on_prof)
signal.signal(signal.SIGALRM, signal.SIG_DFL)
"""


def test_a_timer_going_off_during_a_recorded_pass_lets_it_finish_as_python_does(tmp_path):
    """A timer's handler that raises, going off during a backward pass with no Python code of
    the snippet's in it: python runs it after the pass (every ``.grad`` written), gradstep ran
    it in a step hook of its own and the pass stopped there (``w.grad`` None: fidhunt5 left
    it). A handler that only counts, for a signal raised in a hook of the snippet's, runs
    there as in python."""
    plain, result = _as_python_runs_it(tmp_path / "timed_pass.py", TIMED_PASS)
    assert plain.startswith("timed out: time is up\nx.grad tensor([1., 1., 1.])")
    steps = [len(call["timeline"]["steps"]) for call in result["calls"]]
    assert steps[1] == 3000 + 4 and steps[2] > 0  # the pass ran through, recorded


HOOKED_PASS = ALARM_IN_THE_PASS + """\
import torch


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    print("handler sees its own:", signal.getsignal(signal.SIGALRM) is on_alarm)
    raise Timeout("time is up")


signal.signal(signal.SIGALRM, on_alarm)
x = torch.ones(3, requires_grad=True)
ran = []
h = x * 1.0
h.register_hook(lambda g: ran.append(signal.getsignal(signal.SIGALRM) is on_alarm) or g)
t = h
for _ in range(3000):
    t = t * 1.0
threading.Thread(target=alarm_during_the_pass, daemon=True).start()
try:  # the signal comes before the hook, the last step: python runs the handler as it starts
    t.sum().backward()
    print("ran through")
except Timeout as err:
    print("timed out:", err)
over.set()
print("hook ran", ran, "x.grad", x.grad)
signal.signal(signal.SIGALRM, signal.SIG_DFL)
"""


def test_a_timer_going_off_before_a_hook_of_the_snippets_stops_the_pass_as_python_does(tmp_path):
    """A pass with Python code of the snippet's in it (a tensor hook): python runs the
    handler as that code starts, its exception stops the pass there (the hook does not run,
    ``x.grad`` stays None). Held to the call's end (recfix3), the hook ran and the pass went
    through, ``x.grad`` written: for such a pass the snippet's handlers stay in place."""
    plain, _ = _as_python_runs_it(tmp_path / "hooked_pass.py", HOOKED_PASS)
    assert plain.endswith("timed out: time is up\nhook ran [] x.grad None\n")


def _as_python_runs_it(path, source: str):
    """Run ``source`` as ``python FILE`` and under gradstep; check the outputs are the same;
    return python's and gradstep's result."""
    path.write_text(source, encoding="utf-8")
    plain = plain_python(path, timeout=120)
    result = Session().run(source, filename=str(path))
    assert result["ok"], result["error"]
    assert result["output"] == plain.stdout + plain.stderr
    return plain.stdout, result


FAILED_SIGNALLED_PASS = ALARM_IN_THE_PASS + """\
import traceback
import torch


class Timeout(Exception):
    pass


handled = []


def on_alarm(signum, frame):
    handled.append(type(sys.exc_info()[1]).__name__)
    raise Timeout("time is up")


signal.signal(signal.SIGALRM, on_alarm)
x = torch.ones(3, requires_grad=True)
w = (torch.rand(200, 200) / 100).requires_grad_()
s = x.exp()  # ExpBackward0 keeps s: made first, it runs last, and the pass fails there
h = w
for _ in range(6):  # the pass: matrix products, tens of ms
    h = h @ w
loss = h.sum() + s.sum()
s.mul_(1)
threading.Thread(target=alarm_during_the_pass, daemon=True).start()
try:
    loss.backward()
except Timeout as err:
    torchs = err.__context__
    print("timed out:", err, "| handled then:", handled, "| context:", type(torchs).__name__)
    print("suppressed:", err.__suppress_context__, "| cause:", err.__cause__)
    print([tuple(f) for f in traceback.extract_tb(torchs.__traceback__)])
    print("".join(traceback.format_exception(torchs)))
over.set()
signal.signal(signal.SIGALRM, signal.SIG_DFL)
"""


def test_a_handler_raising_after_a_failed_pass_is_chained_to_torchs_error_as_in_python(tmp_path):
    """A signal that comes during a pass that then fails: python runs its handler in the
    ``finally`` of torch's ``_engine_run_backward``, while torch's error is handled, so the
    handler's exception has that error as its context (its traceback ending there) and
    ``sys.exc_info()`` in the handler is it. gradstep ran the noted handler after the call
    with no error handled: the snippet's ``err.__context__`` was None."""
    plain, result = _as_python_runs_it(tmp_path / "failed_pass.py", FAILED_SIGNALLED_PASS)
    assert plain.startswith("timed out: time is up | handled then: ['RuntimeError'] | "
                            "context: RuntimeError"), plain
    assert "_engine_run_backward" in plain and "modified by an inplace operation" in plain
    assert [call["error"]["type"] for call in result["calls"]] == ["RuntimeError"]


TWO_SIGNALS = """\
import signal
import torch

order = []
signal.signal(signal.SIGUSR1, lambda n, f: order.append("USR1"))
signal.signal(signal.SIGUSR2, lambda n, f: order.append("USR2"))
both = {signal.SIGUSR1, signal.SIGUSR2}
signal.pthread_sigmask(signal.SIG_BLOCK, both)  # both pending at once, USR2 raised first
signal.raise_signal(signal.SIGUSR2)
signal.raise_signal(signal.SIGUSR1)
signal.pthread_sigmask(signal.SIG_UNBLOCK, both)
print("pending together:", order)
order.clear()
x = torch.ones(3, requires_grad=True)
loss = (x * 2).sin().sum()
loss.backward()
print("in the call:", order, x.grad is not None)
signal.signal(signal.SIGUSR1, signal.SIG_DFL)
signal.signal(signal.SIGUSR2, signal.SIG_DFL)
"""


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="no pthread_sigmask here")
def test_signals_noted_in_a_held_call_run_their_handlers_as_python_runs_pending_ones(
        monkeypatch, tmp_path):
    """Two signals that come while gradstep sets up a held call (a pass with no Python code
    of the snippet's: in python both come during torch's C++ and are pending at one check)
    run their handlers as python runs pending ones: lowest number first, not in the order
    they came (held_signals noted them in arrival order)."""
    path = tmp_path / "two_signals.py"
    path.write_text(TWO_SIGNALS, encoding="utf-8")
    plain = plain_python(path, timeout=120).stdout.splitlines()
    assert plain == ["pending together: ['USR1', 'USR2']", "in the call: [] True"]
    fired = _signal_inside(monkeypatch, jacobian, "precompute",
                           (signal.SIGUSR2, signal.SIGUSR1))
    result = Session().run(TWO_SIGNALS, filename=str(path))
    assert fired and result["ok"], result["error"]
    assert result["output"].splitlines() == [
        plain[0], "in the call: ['USR1', 'USR2'] True"]  # before: ['USR2', 'USR1']
    assert result["calls"][0]["timeline"]["steps"]


HANDLER_IN_A_NODE_HOOK = """\
import signal
import traceback
import torch


class Timeout(Exception):
    pass


def on_signal(signum, frame):
    raise Timeout("time is up")


signal.signal(signal.SIGUSR2, on_signal)
x = torch.ones(3, requires_grad=True)
loss = (x * 2).sin().sum()
loss.grad_fn.register_prehook(lambda g: signal.raise_signal(signal.SIGUSR2))
try:
    loss.backward()
except Timeout:
    traceback.print_exc()
signal.signal(signal.SIGUSR2, signal.SIG_DFL)
"""


def test_a_handler_run_in_a_node_hook_of_a_held_call_prints_pythons_traceback(tmp_path):
    """A node hook gradstep cannot see (the call is held) raises a signal: its handler runs
    there, through ``held_signals``' ``postponing``; the traceback the snippet prints is
    python's, hook then handler (it showed ``postponing`` and ``run_noted`` between)."""
    _, result = _as_python_runs_it(tmp_path / "node_hook.py", HANDLER_IN_A_NODE_HOOK)
    assert "in <lambda>" in result["output"] and "held_signals" not in result["output"]
    assert [call["line"] for call in result["calls"]] == [19]  # (recorded, held)
