"""What a recorded pass says where its steps are not all of what torch ran (core8): a pass
from several roots (torch's engine runs a GraphRoot node of its own first, no node of the
graph), checked against torch's own run. (A pass on batched gradients, ``is_grads_batched``,
says why it shows no steps: ``test_unseen``.)"""

from __future__ import annotations

import warnings

from torch.autograd.profiler_legacy import profile

from gradstep.autograd.session import Session

SEVERAL_ROOTS = ("import torch\nx = torch.tensor([1.0, 2.0], requires_grad=True)\n"
                 "a = (x * 3).sum()\nb = x.exp().sum()\ntorch.autograd.backward([a, b])\n")


def _torch_ran(source: str) -> list[str]:
    """Return the nodes torch's engine evaluated in ``source``'s backward call, in order
    (torch's legacy autograd profiler: ~30 ms, where the kineto one takes seconds to start)."""
    env: dict = {}
    lines = source.splitlines()
    exec("\n".join(lines[:-1]), env)  # noqa: S102 (the test's own snippet)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with profile() as prof:
            exec(lines[-1], env)  # noqa: S102
    prefix = "autograd::engine::evaluate_function: "
    events = sorted((e for e in prof.function_events if e.name.startswith(prefix)),
                    key=lambda e: e.time_range.start)
    return [e.name[len(prefix):].split("::")[-1] for e in events]


def test_a_pass_from_several_roots_says_torch_ran_a_graph_root_first():
    ran = _torch_ran(SEVERAL_ROOTS)
    assert ran[0] == "GraphRoot" and "GraphRoot" not in ran[1:]
    (call,) = Session().run(SEVERAL_ROOTS, filename="/x/roots.py")["calls"]
    timeline = call["timeline"]
    assert timeline["graph_root"] == 2 and "no_steps" not in timeline
    assert [s["name"] for s in timeline["steps"]] == ran[1:]  # every other node: a step


def test_a_single_root_has_no_graph_root():
    source = SEVERAL_ROOTS.replace("torch.autograd.backward([a, b])", "a.backward()")
    assert "GraphRoot" not in _torch_ran(source)
    (call,) = Session().run(source, filename="/x/root.py")["calls"]
    assert "graph_root" not in call["timeline"] and call["timeline"]["steps"]

