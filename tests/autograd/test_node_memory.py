"""What gradstep remembers of a node before a pass frees it is that node's own, also when
another thread made a node with the same sequence number and name (torch numbers each
thread's nodes from a counter of its own, starting at 0), and nothing is left over for the
next run of the same kernel."""

from __future__ import annotations

import threading
import warnings

import torch

from gradstep.autograd import jacobian, saved_memory
from gradstep.autograd.runner import run_snippet
from gradstep.autograd.saved import saved_items
from gradstep.autograd.session import Session


def _made_in_a_new_thread(a: list, b: list, rows: int) -> torch.Tensor:
    """Return ``a * b`` (a ``(rows, len(a))`` product) made on a fresh thread: its node is
    that thread's first, number 0 (the ``repeat`` before it needs no grad)."""
    out = []

    def make():
        x = torch.tensor(a, requires_grad=True)
        out.append(x * torch.tensor(b).repeat(rows, 1))

    thread = threading.Thread(target=make)
    thread.start()
    thread.join()
    return out[0]


def _twins():
    y1 = _made_in_a_new_thread([1.0, 2.0], [3.0, 4.0], 1)
    y2 = _made_in_a_new_thread([5.0, 6.0], [7.0, 8.0], 3)
    f1, f2 = y1.grad_fn, y2.grad_fn
    assert (f1._sequence_nr(), f1.name()) == (f2._sequence_nr(), f2.name())  # the same key
    return y1, y2


def test_two_threads_nodes_keep_their_own_saved_values_and_shapes():
    saved_memory.forget()
    y1, y2 = _twins()
    f1, f2 = y1.grad_fn, y2.grad_fn
    want = {}  # torch's own getters, before the passes free them
    for fn in (f1, f2):
        want[fn] = (list(fn._saved_other.shape), fn._saved_other.tolist())
    saved_memory.remember([f1])
    saved_memory.remember([f2])
    y1.sum().backward()
    y2.sum().backward()
    for fn in (f1, f2):
        other = saved_memory.recall(fn)["other"]
        assert (other["shape"], other["data"]) == want[fn]
        item = next(i for i in saved_items(fn) if i["name"] == "other")
        assert item["freed"] and item["shape"] == want[fn][0]
    saved_memory.forget()


def test_two_threads_nodes_keep_their_own_jacobians():
    jacobian.forget()
    y1, y2 = _twins()
    f1, f2 = y1.grad_fn, y2.grad_fn
    jacobian.precompute({f1: "n0"})
    jacobian.precompute({f2: "n1"})
    want = {fn: jacobian.local_jacobian(fn)["blocks"] for fn in (f1, f2)}  # before any pass
    assert want[f1] != want[f2]
    y1.sum().backward()
    y2.sum().backward()
    for fn in (f1, f2):
        jac = jacobian.local_jacobian(fn)  # freed: the one remembered before its pass
        assert jac["remembered"] and jac["blocks"] == want[fn]
    jacobian.forget()


def test_a_new_run_starts_with_nothing_remembered():
    run_snippet("x = torch.ones(2, requires_grad=True)\n"
                "loss = (x * torch.tensor([3.0, 4.0])).sum()\n"
                "loss.backward()\n")
    assert saved_memory.remembered_nodes() > 0 and jacobian.remembered_nodes() > 0
    run_snippet("y = torch.ones(1)\n")
    assert saved_memory.remembered_nodes() == 0 and jacobian.remembered_nodes() == 0


THREADED = """import threading
out = []
def make():
    a = torch.tensor([1., 2.], requires_grad=True)
    out.append(a * 3)
t = threading.Thread(target=make); t.start(); t.join()
x = torch.tensor([5., 6.], requires_grad=True)
y = x * 7
z = y + out[0]
"""


def test_a_node_another_thread_numbered_alike_gets_no_other_nodes_value_name_or_line():
    """Run on a fresh thread (as a fresh kernel's first run), ``y = x * 7`` and the
    snippet's thread's ``a * 3`` are both MulBackward0 number 0: neither may show the
    other's value, name or line."""
    results = []
    runner = threading.Thread(target=lambda: results.append(Session().run(THREADED)))
    runner.start()
    runner.join()
    nodes = results[0]["trace"]["nodes"]
    muls = [n for n in nodes if n["name"] == "MulBackward0"]
    assert len(muls) == 2 and muls[0]["seq"] == muls[1]["seq"] == 0
    torch_values = ([35.0, 42.0], [3.0, 6.0])  # y's and out[0]'s, as torch computed them
    for node in muls:
        value = (node["value"] or {}).get("data")
        assert value is None or value == torch_values[node["id"] != muls[0]["id"]]
        assert node["label"] in ("mul", "y") and node["line"] in (None, 8)
    assert [n["label"] for n in muls].count("y") <= 1
    assert [n["line"] for n in muls].count(8) <= 1


def test_remembering_leaves_the_nodes_metadata_as_torch_shows_it_and_holds_no_parent():
    """The dict a record holds is the node's ``metadata`` as python shows it (``{}``); a
    node made by an anomaly-mode ``create_graph`` pass names its parent node there, and is
    not remembered (holding the dict would keep the parent alive)."""
    saved_memory.forget()
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * torch.tensor([3.0, 4.0])
    saved_memory.remember([y.grad_fn])
    assert y.grad_fn.metadata == {} and saved_memory.recall(y.grad_fn)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Anomaly Detection has been enabled"
        with torch.autograd.detect_anomaly(check_nan=False):
            z = (x ** 3).sum()
            (g,) = torch.autograd.grad(z, x, create_graph=True)
    assert "parent_" in g.grad_fn.metadata
    node = g.grad_fn
    saved_memory.remember([node])
    g.sum().backward()
    freed = [item for item in saved_items(node) if item.get("freed")]
    assert freed and all(item.get("shape") is None for item in freed)  # shown less
    assert saved_memory.recall(node) == {}
    saved_memory.forget()


STASHED = """import gc, weakref
x = torch.ones(3, requires_grad=True)
y = x * torch.tensor([1.0, 2.0, 3.0])
kept = torch.zeros(5)
y.grad_fn.metadata["kept"] = kept
ref = weakref.ref(kept)
del kept
y.sum().backward()
del y
gc.collect()
print(ref() is None)
"""


def test_what_the_snippet_stores_in_a_nodes_metadata_dies_with_the_node():
    """An object the snippet put in ``grad_fn.metadata`` is freed with the node, as in a
    plain run: gradstep's records must not hold the dict that holds it."""
    plain: dict = {"torch": torch}
    printed = []
    plain["print"] = printed.append
    exec(STASHED, plain)  # noqa: S102 (the plain run: torch's own answer)
    result = run_snippet(STASHED)
    assert result.output == f"{printed[0]}\n"
    assert printed == [True]
