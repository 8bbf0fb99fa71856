"""A hook that changes a saved tensor in place during a pass (``b.add_(1)`` in a tensor hook or
a node pre-hook): torch refuses it when the node that saved it runs. gradstep shows, from
the step that raised on, the state torch raised in (``changed_when_raised``), and the state
as the pass began before that, each compared with a plain run of the same snippet."""

from __future__ import annotations

import contextlib
import io
import re

import pytest
import torch

from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.autograd.step_state import PassHistory, drawn_calls
from gradstep.ui.tensor_text import saved_state_words

VERSIONS = re.compile(r"is at version (\d+); expected version (\d+) instead")

SNIPPET = """\
import torch
a = torch.ones(3, requires_grad=True)
b = a * 2
c = b.sin()
d = c * 3
{hook}
try:
    d.sum().backward()
except RuntimeError as exc:
    print("raised", exc)
print(a.grad, b._version)
"""
HOOKS = {
    "tensor": "def hook(g):\n    b.add_(1)\nd.register_hook(hook)",
    "node": "def hook(g):\n    b.mul_(2)\nd.grad_fn.register_prehook(hook)",
    "twice": ("def hook(g):\n    b.add_(1)\nd.register_hook(hook)\n"
              "d.grad_fn.register_prehook(hook)"),
}


def _verdict(env: dict):
    """torch's verdict on SinBackward0's saved ``b`` now (None: taken, else the versions)."""
    try:
        _ = env["c"].grad_fn._saved_self
        return None
    except RuntimeError as exc:
        found = VERSIONS.search(str(exc))
        return int(found[1]), int(found[2])


def _run_watching(source: str, before_backward) -> str:
    """Run ``source`` plainly, calling ``before_backward(env, tensor)`` as each
    ``Tensor.backward`` call begins; return what it printed."""
    env: dict = {}
    original = torch.Tensor.backward

    def backward(self, *args, **kwargs):
        before_backward(env, self)
        return original(self, *args, **kwargs)

    out = io.StringIO()
    torch.Tensor.backward = backward
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, "/x/hook.py", "exec"), env)
    finally:
        torch.Tensor.backward = original
    return out.getvalue()


def _plain(source: str) -> tuple[str, object]:
    """Run ``source`` plainly; return what it printed and torch's verdict on SinBackward0's
    saved ``b`` just before the backward call (None: taken, else the versions)."""
    seen = []
    printed = _run_watching(source, lambda env, _tensor: seen.append(_verdict(env)))
    return printed, seen[0]


def _shown(entry: dict):
    return (entry["version"], entry["saved_version"]) if entry.get("changed_in_place") else None


@pytest.mark.parametrize("how", sorted(HOOKS))
def test_a_saved_tensor_a_hook_changes_in_the_pass_shows_refused_from_the_step_torch_raised(how):
    source = SNIPPET.format(hook=HOOKS[how])
    printed, before = _plain(source)
    found = VERSIONS.search(printed)
    assert found and before is None  # torch took it as the pass began, refused it later
    result = Session().run(source, filename="/x/hook.py")
    assert result["output"] == printed
    graph = graph_from_json(result["trace"])
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    (call,) = drawn_calls(result["calls"], graph)
    index = PassHistory(graph, [call["timeline"]]).index(0)
    raised_at = index.error_step
    assert index.steps[raised_at]["node"] == sin  # torch raised in the node that saved b
    (entry,) = index.saved(sin, 0)
    assert _shown(entry) == before  # as the pass began
    # a tensor hook is probed around; a node pre-hook Python cannot see: less is shown
    assert ("changed_during" in entry) == (how == "node")
    for k in range(raised_at, index.count + 1):
        (entry,) = index.saved(sin, k)
        assert _shown(entry) == (int(found[1]), int(found[2])), k


def test_a_pass_that_raised_no_version_error_has_no_field():
    source = SNIPPET.format(hook="d.register_hook(lambda g: 1 / 0)")
    result = Session().run(source.replace("except RuntimeError", "except ZeroDivisionError"),
                           filename="/x/hook.py")
    (call,) = result["calls"]
    assert call["error"] is not None and "changed_when_raised" not in call["timeline"]


def test_a_pass_of_gradstep_s_own_shows_what_torch_raised_in():
    """The snippet made no call; its hook runs in gradstep's own pass, which records the
    state torch raised in, with torch's versions (the same snippet's backward, plainly)."""
    source = "import torch\na = torch.ones(3, requires_grad=True)\nb = a * 2\nc = b.sin()\n" \
             "d = c * 3\ndef hook(g):\n    b.add_(1)\nd.register_hook(hook)\nloss = d.sum()\n"
    env: dict = {}
    exec(compile(source, "/x/own.py", "exec"), env)
    try:
        env["loss"].backward()
    except RuntimeError as exc:
        found = VERSIONS.search(str(exc))
    session = Session()
    result = session.run(source, filename="/x/own.py")
    graph = graph_from_json(result["trace"])
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    timeline = session.backward()
    assert timeline["error"] is not None
    assert "self" not in (timeline.get("changed_before") or {}).get(sin, {})
    marks = timeline["changed_when_raised"][sin]["self"]
    assert (marks["version"], marks["saved_version"]) == (int(found[1]), int(found[2]))


def test_the_probe_as_torch_raised_runs_none_of_the_snippet_s_code():
    """A hook's own error (a RuntimeError subclass, or one holding an object of the
    snippet's) is not torch's version error: the probe tells so without ``str`` of it, which
    would run the snippet's ``__str__`` once more than the plain run; torch's own error is
    read from its message."""
    from gradstep.autograd.saved import refusals_when_raised

    calls = []

    class Mine(RuntimeError):
        def __str__(self):
            calls.append(1)
            return "is at version 1; expected version 0 instead"

    class Words:
        def __str__(self):
            calls.append(1)
            return "is at version 1; expected version 0 instead"

    assert refusals_when_raised(Mine(), {}) is None
    assert refusals_when_raised(RuntimeError(Words()), {}) is None
    assert calls == []
    a = torch.ones(3, requires_grad=True)
    b = a * 2
    c = b.sin()
    b.add_(1)
    try:
        c.sum().backward()
    except RuntimeError as exc:
        raised = exc
    assert refusals_when_raised(raised, {c.grad_fn: "n1"}) == {
        "n1": {"self": {"changed_in_place": True, "version": 1, "saved_version": 0}}}


CHAIN = """\
import torch
a = torch.ones(3, requires_grad=True)
w = torch.ones(3, requires_grad=True)
b = a * 2
c = b.sin()
d = c * 3
e = d.exp()
f = e * 5
loss = f.sum() + (w * 7).sum()
first = w.register_hook(lambda g: None)
{hook}
try:
    loss.backward()
except RuntimeError as exc:
    print("raised", exc)
print(a.grad, w.grad, b._version)
print(w.register_hook(lambda g: None).id - first.id)  # gradstep's probes take no handle id
"""
CHAIN_HOOKS = {  # each probed where it runs: every step shows torch's state exactly
    "tensor": "def hook(g):\n    b.add_(1)\ne.register_hook(hook)",
    "leaf_tensor": "def hook(g):\n    b.add_(1)\nw.register_hook(hook)",
    "post_accumulate": "def hook(p):\n    b.add_(1)\nw.register_post_accumulate_grad_hook(hook)",
    "two_writes": ("def hook(g):\n    b.add_(1)\ne.register_hook(hook)\n"
                   "def again(g):\n    b.mul_(2)\nd.register_hook(again)"),
}
UNSEEN = {  # a node pre-hook Python cannot see: the steps no probe bounds show less
    "node": "def hook(g):\n    b.add_(1)\ne.grad_fn.register_prehook(hook)",
}


def _torch_at_each_step(source: str, verdict=_verdict) -> tuple[str, list]:
    """Run ``source`` plainly with a pre-hook on every node of the pass, registered as the
    pass begins (after the snippet's own hooks): torch's verdict on SinBackward0's saved
    ``b`` as each node is about to run, in engine order ((name, None): taken; else the
    versions torch's error names; ``verdict(env)`` gives it)."""
    seen: list = []

    def hook_every_node(env, tensor):
        stack, nodes = [tensor.grad_fn], set()
        while stack:
            fn = stack.pop()
            if fn is None or fn in nodes:
                continue
            nodes.add(fn)
            stack += [n for n, _ in fn.next_functions]
        for fn in nodes:
            fn.register_prehook(lambda g, fn=fn: seen.append(
                (fn.name().removeprefix("torch::autograd::"), verdict(env))) and None)

    return _run_watching(source, hook_every_node), seen


def _steps_shown(source: str, printed: str, name: str = "SinBackward0"):
    result = Session().run(source, filename="/x/hook.py")
    # the snippet did what it does under python (the oracle's own hooks aside, which move
    # torch's handle counter: the last line counts the handles made during the pass)
    assert result["output"] == _run_watching(source, lambda env, tensor: None)
    assert result["output"].splitlines()[:-1] == printed.splitlines()[:-1]
    graph = graph_from_json(result["trace"])
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == name)
    (call,) = drawn_calls(result["calls"], graph)
    index = PassHistory(graph, [call["timeline"]]).index(0)
    return index, sin


@pytest.mark.parametrize("how", sorted(CHAIN_HOOKS))
def test_each_step_before_the_raise_shows_what_torch_holds_then(how):
    """torch's verdict as each node is about to run, against gradstep's step state: before,
    the steps between the hook's write and the node torch refused showed ``b`` alive."""
    printed, torch_steps = _torch_at_each_step(CHAIN.format(hook=CHAIN_HOOKS[how]))
    assert "raised" in printed and torch_steps[0][1] is None and torch_steps[-1][1]
    index, sin = _steps_shown(CHAIN.format(hook=CHAIN_HOOKS[how]), printed)
    assert [s["name"] for s in index.steps] == [name for name, _ in torch_steps]
    for k, (_, verdict) in enumerate(torch_steps):
        (entry,) = index.saved(sin, k)
        assert "changed_during" not in entry, k
        assert _shown(entry) == verdict, k


@pytest.mark.parametrize("how", sorted(UNSEEN))
def test_a_write_no_probe_sees_shows_less_never_another_state(how):
    printed, torch_steps = _torch_at_each_step(CHAIN.format(hook=UNSEEN[how]))
    index, sin = _steps_shown(CHAIN.format(hook=UNSEEN[how]), printed)
    assert [s["name"] for s in index.steps] == [name for name, _ in torch_steps]
    less = 0
    for k, (_, verdict) in enumerate(torch_steps):
        (entry,) = index.saved(sin, k)
        if entry.get("changed_during"):  # not known: said so, with torch's saved version
            less += 1
            assert entry.get("saved_version") == torch_steps[-1][1][1] and "version" not in entry
        else:
            assert _shown(entry) == verdict, k
    assert less  # the steps before the node hook's write are bounded by no probe
    assert index.changes(0, 1).saved.get(sin) == index.saved(sin, 1)


def _detached_verdict(env: dict):
    """torch's verdict on ``c``'s node's saved input ``b`` now, as its backward unpacks it
    (without the node): "detached" where torch refuses it as detached in place, else None."""
    try:
        env["c"].grad_fn._raw_saved_self.unpack()
        return None
    except RuntimeError as exc:
        return "detached" if "detached in-place" in str(exc) else str(exc)


DETACH_HOOKS = {  # b.detach_() moves no version: no probe sees it
    "alone": "def hook(g):\n    b.detach_()\ne.register_hook(hook)",
    "beside_a_write": ("def hook(g):\n    b.detach_()\n    w2.add_(1)\ne.register_hook(hook)"),
}


@pytest.mark.parametrize("how", sorted(DETACH_HOOKS))
def test_a_saved_input_a_hook_detaches_shows_torchs_refusal_and_no_unknown_version(how):
    """A hook's ``b.detach_()`` during the pass: torch refuses SinBackward0's saved ``b`` as
    detached in place ("Trying to use a saved tensor that has been detached in-place", no
    versions). The step that raised showed it alive where torch's error was that one, and
    a step before showed "saved at version ?" where the error was another's: the state
    torch raised in is read for that error too, and a step no probe bounds says it was
    detached in the pass, with no version (torch's refusal names none)."""
    source = CHAIN.format(hook=DETACH_HOOKS[how])
    node = "SinBackward0"
    if how == "beside_a_write":  # c's node saves w2 as well: its version error raises first
        source = source.replace("c = b.sin()", "w2 = w * 1\nc = torch.hypot(b, w2)")
        node = "HypotBackward0"
    printed, seen = _torch_at_each_step(source, _detached_verdict)
    assert "raised" in printed and seen[0][1] is None and seen[-1][1] == "detached"
    index, sin = _steps_shown(source, printed, node)
    assert [s["name"] for s in index.steps] == [name for name, _ in seen]
    less = 0
    for k, (_, verdict) in enumerate(seen):
        entry = next(e for e in index.saved(sin, k) if e["name"] == "self")
        assert "saved_version" not in entry and "version" not in entry, k
        if entry.get("changed_during"):  # not known whether already here: said so
            assert entry.get("detached_in_place"), k
            assert "during this pass" in saved_state_words(entry), k  # (not "since it was saved")
            less += 1
        else:
            assert ("detached" if entry.get("detached_in_place") else None) == verdict, k
    assert less < len(seen)  # the step that raised shows torch's refusal
