"""A saved *view* changed in place: gradstep says what torch says, before and during a pass.

A view shares its base's version counter, so changing the base (or a sibling view) in place
makes torch refuse the view a node saved, as it refuses any saved tensor changed in place.
Each test reads torch's own verdict in a plain run (its error's versions, or none) and
compares gradstep's trace and step states with it.
"""

from __future__ import annotations

import contextlib
import io
import re

import pytest
import torch

from gradstep.autograd.graph_json import graph_from_json
from gradstep.autograd.session import Session
from gradstep.autograd.step_state import PassHistory, drawn_calls

VERSIONS = re.compile(r"is at version (\d+); expected version (\d+) instead")


def _verdict(run):
    """Return None where ``run()`` (torch unpacking a saved tensor) raises nothing, else the
    versions torch's error says."""
    try:
        run()
    except RuntimeError as exc:
        found = VERSIONS.search(str(exc))
        assert found, str(exc)
        return int(found[1]), int(found[2])
    return None


# c = v.sin() saves the view v of b; the grad calls (autograd.grad(out, e)) do not run c's
# node, so each pass begins with v as the snippet left it then
VIEW_BETWEEN_PASSES = (
    "import torch\nx = torch.ones(4, requires_grad=True)\nb = x * 2\nv = b[:3]\n"
    "c = v.sin()\ne = x.exp()\nout = c.sum() + e.sum()\n"
    "torch.autograd.grad(out, e, retain_graph=True)\n{write}\n"
    "torch.autograd.grad(out, e, retain_graph=True)\n{write}\n")
WRITES = {"base": "b.add_(1)", "sibling": "b[1:].mul_(2)", "itself": "v.mul_(2)"}


def _torch_at_each_call(source: str) -> tuple[list, tuple | None]:
    """Run ``source`` in plain torch; return SinBackward0's saved view as torch's getter
    reads it right before each ``autograd.grad`` call (None: taken, else the versions),
    and as the snippet left it."""
    seen = []
    env: dict = {}
    original = torch.autograd.grad

    def grad(*args, **kwargs):
        seen.append(_verdict(lambda: env["c"].grad_fn._saved_self))
        return original(*args, **kwargs)

    torch.autograd.grad = grad
    try:
        exec(compile(source, "/x/views.py", "exec"), env)
    finally:
        torch.autograd.grad = original
    return seen, _verdict(lambda: env["c"].grad_fn._saved_self)


def _shown(entry: dict):
    return (entry["version"], entry["saved_version"]) if entry.get("changed_in_place") else None


@pytest.mark.parametrize("how", sorted(WRITES))
def test_a_saved_view_changed_in_place_shows_at_each_pass_what_torch_said_then(how):
    """Through its base, a sibling view or itself: pass 1 began with the view taken, pass 2
    with it refused (torch's versions then), the trace shows the snippet's end."""
    source = VIEW_BETWEEN_PASSES.format(write=WRITES[how])
    at_calls, at_end = _torch_at_each_call(source)
    assert at_calls[0] is None and at_calls[1] is not None and at_end is not None  # the case
    result = Session().run(source, filename="/x/views.py", root="out")
    graph = graph_from_json(result["trace"])
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    (traced,) = graph.nodes[sin]["saved"]  # the trace: the state the snippet left
    assert _shown(traced) == at_end
    calls = drawn_calls(result["calls"], graph)
    history = PassHistory(graph, [c["timeline"] for c in calls])
    assert len(calls) == 2 and all(sin not in {s["node"] for s in c["timeline"]["steps"]}
                                   for c in calls)
    for p in (0, 1):
        for k in range(history.index(p).count + 1):
            (entry,) = history.state(p, k).saved[sin]
            assert _shown(entry) == at_calls[p], (how, p, k, entry)


VIEW_REFUSED = ("import torch\nx = torch.ones(4, requires_grad=True)\nb = x * 2\nv = b[:3]\n"
                "c = v * v\nb.add_(1)\ntry:\n    c.sum().backward()\n"
                "except RuntimeError as exc:\n    print('raised', exc)\nprint(x.grad)\n")


def _plain_output(source: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, "/x/refused.py", "exec"), {})
    return out.getvalue()


def test_a_call_torch_refuses_for_a_saved_view_shows_it_refused_from_its_first_step():
    """``c = v * v`` saved the view v twice; b.add_(1) then backward: torch raises with
    versions (1, 0). The call's every step shows both saved views refused with those
    numbers, and the snippet prints what plain python prints."""
    plain = _plain_output(VIEW_REFUSED)
    found = VERSIONS.search(plain)
    assert found and "raised" in plain
    result = Session().run(VIEW_REFUSED, filename="/x/refused.py")
    assert result["output"] == plain
    graph = graph_from_json(result["trace"])
    mul = next(n for n, a in graph.nodes(data=True) if a["name"] == "MulBackward0"
               and len([e for e in a["saved"] if "freed" in e]) == 2)
    (call,) = drawn_calls(result["calls"], graph)
    index = PassHistory(graph, [call["timeline"]]).index(0)
    for k in range(index.count + 1):
        shown = {e["name"]: _shown(e) for e in index.saved(mul, k)}
        assert shown == {"self": (int(found[1]), int(found[2])),
                         "other": (int(found[1]), int(found[2]))}, (k, shown)


def test_a_pass_of_gradstep_s_own_probes_saved_views_as_it_begins():
    """The snippet made no backward call and is done: gradstep's own pass unpacks saved
    views as it begins, and says torch's versions there (torch then raises them)."""
    source = ("import torch\nx = torch.ones(4, requires_grad=True)\nb = x * 2\nv = b[:3]\n"
              "c = v.sin()\nb[0].mul_(3)\nloss = c.sum()\n")
    env: dict = {}
    exec(compile(source, "/x/own.py", "exec"), env)
    expected = _verdict(lambda: env["loss"].backward())
    assert expected is not None
    session = Session()
    result = session.run(source, filename="/x/own.py")
    graph = graph_from_json(result["trace"])
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    timeline = session.backward()
    assert timeline["error"] is not None and VERSIONS.search(timeline["error"]["message"])
    marks = timeline["changed_before"][sin]["self"]
    assert (marks["version"], marks["saved_version"]) == expected


STALE_VIEW_LEFT_STALE = (
    "import torch\nx = torch.ones(4, requires_grad=True)\nb = x * 2\nv = b[:3]\n"
    "c = v.sin()\ne = x.exp()\nout = c.sum() + e.sum()\nb.add_(1)\n"
    "before = (x * 1).grad_fn._sequence_nr()\n"
    "torch.autograd.grad(out, e, retain_graph=True)\n"
    "print((x * 1).grad_fn._sequence_nr() - before)\n")


def test_probing_a_stale_saved_view_during_the_snippet_changes_nothing_torch_does():
    """v went stale (its base changed in place); torch rebuilds its node only when it reads
    it, and this call never runs c's node. gradstep's probe as the call begins does not read
    it either (a rebuilt node takes a sequence number, and v's retain_grad hook): torch's
    numbering, as the snippet prints it, is plain python's."""
    plain = _plain_output(STALE_VIEW_LEFT_STALE)
    result = Session().run(STALE_VIEW_LEFT_STALE, filename="/x/stale.py", root="out")
    assert result["output"] == plain
    graph = graph_from_json(result["trace"])
    (call,) = drawn_calls(result["calls"], graph)
    sin = next(n for n, a in graph.nodes(data=True) if a["name"] == "SinBackward0")
    assert sin in {n["id"] for n in call["nodes"]}  # the probe saw c's node
    (traced,) = graph.nodes[sin]["saved"]
    assert call["timeline"]["changed_before"][sin]["self"] == {
        key: traced[key] for key in ("changed_in_place", "version", "saved_version")}
