"""The snippet's own backward calls drawn on the traced graph (gradstep/autograd/call_graphs.py)."""

import torch
import torch.nn.functional as F

from gradstep.autograd.session import Session

SOFTMAX = """\
a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
p = F.softmax(a, dim=0)
g1 = torch.autograd.grad(p[1], [a], retain_graph=True)
g2 = torch.autograd.grad(p[2], [a])
"""


def _names(trace):
    return {n["id"]: n["name"] for n in trace["nodes"]}


def _edges(trace):
    return {(e["source"], e["target"]) for e in trace["edges"]}


def test_calls_on_other_tensors_of_the_graph_are_drawn_and_renumbered():
    result = Session().run(SOFTMAX, filename="s.py")
    assert result["ok"], result["error"]
    trace, calls = result["trace"], result["calls"]
    names = _names(trace)
    assert sorted(names.values()) == sorted(
        ["SoftmaxBackward0", "SelectBackward0", "SelectBackward0", "AccumulateGrad"])

    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    for call, index in zip(calls, (1, 2)):
        (expected,) = torch.autograd.grad(p[index], [a], retain_graph=True)
        # every node the call names is the drawn node of the same op
        assert all(names[n["id"]] == n["name"] for n in call["nodes"])
        steps = call["timeline"]["steps"]
        assert [s["name"] for s in steps] == ["SelectBackward0", "SoftmaxBackward0"]
        select, softmax = steps[0]["node"], steps[1]["node"]
        assert (select, softmax) in _edges(trace)
        assert torch.allclose(torch.tensor(steps[1]["grad_inputs"][0]), expected, atol=1e-7)
        assert call["timeline"]["leaf_grads"] == {"a": None}  # autograd.grad leaves .grad alone
        assert torch.allclose(torch.tensor(call["timeline"]["returned"][0]), expected,
                              atol=1e-7)
    # the two calls differentiate different Select nodes of the same softmax
    assert calls[0]["timeline"]["steps"][0]["node"] != calls[1]["timeline"]["steps"][0]["node"]


def test_calls_on_unrelated_graphs_are_not_joined():
    source = """\
w = torch.ones(2, requires_grad=True)
for i in range(3):
    loss = (w * (i + 1)).sum()
    loss.backward()
"""
    result = Session().run(source, filename="loop.py")
    assert result["ok"], result["error"]
    w = torch.ones(2, requires_grad=True)
    loss = (w * 3).sum()
    # only the last iteration's graph: SumBackward0 -> MulBackward0 -> AccumulateGrad
    expected = []
    fn = loss.grad_fn
    while fn is not None:
        expected.append(fn.name().removeprefix("torch::autograd::"))
        fn = fn.next_functions[0][0] if fn.next_functions else None
    assert [n["name"] for n in result["trace"]["nodes"]] == expected
    last = result["calls"][-1]
    assert [s["node"] for s in last["timeline"]["steps"]][:2] == ["n0", "n1"]


def test_a_chosen_root_is_drawn_alone():
    result = Session().run(SOFTMAX, filename="s.py", root="p")
    assert result["ok"], result["error"]
    assert sorted(_names(result["trace"]).values()) == ["AccumulateGrad", "SoftmaxBackward0"]


VIEW = """\
a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
vals = (a * 2).view(6)
vals.sum().backward()
print(a.grad)
"""


def test_a_call_on_a_bound_view_joins_the_drawn_graph():
    # ``vals`` is a view: its node was read as torch made it, and its version has not moved
    # since, so the call's SumBackward0 joins the graph drawn from ``vals`` (rootwalk)
    result = Session().run(VIEW, filename="view.py")
    assert result["ok"], result["error"]
    names = _names(result["trace"])
    assert sorted(names.values()) == sorted(
        ["SumBackward0", "ViewBackward0", "MulBackward0", "AccumulateGrad"])
    (call,) = result["calls"]
    assert call["drawn"]
    steps = call["timeline"]["steps"]
    assert [s["name"] for s in steps] == [
        "SumBackward0", "ViewBackward0", "MulBackward0", "AccumulateGrad"]
    assert all(names[s["node"]] == s["name"] for s in steps)
    a = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    (a * 2).view(6).sum().backward()
    assert torch.equal(torch.tensor(call["timeline"]["leaf_grads"]["a"]), a.grad)
    assert result["output"] == f"{a.grad}\n"


def test_a_view_node_is_read_only_while_its_version_has_not_moved():
    from gradstep.autograd.names import Bindings

    a = torch.ones(2, 3, requires_grad=True)
    base = a * 2
    vals = base.view(6)
    fn = vals.grad_fn  # as the observer reads it, right after the view op
    bindings = Bindings()
    bindings.bind_tensor("vals", vals, fn)
    assert bindings.view_node("vals", vals) is fn
    assert bindings.view_node("vals", base.view(6)) is None  # another tensor
    other = Bindings()
    other.bind_tensor("vals", vals, None)  # its node not read when bound
    assert other.view_node("vals", vals) is None
    base.add_(1)  # a read now would build the view a new node: none is made
    assert bindings.view_node("vals", vals) is None
    assert vals._version == base._version == 1
    bindings.bind_tensor("vals", a * 3, None)
    assert bindings.view_node("vals", vals) is None


def test_a_noted_view_can_be_swapped_as_in_python():
    # the note on ``v`` is torch's watch on its TensorImpl, which makes torch refuse a
    # swap: the snippet's swap lets go of it first, as of the other notes
    source = ("x = torch.ones(4, requires_grad=True)\nv = (x * 3).view(2, 2)\n"
              "w = (x * 2).view(2, 2)\ntorch.utils.swap_tensors(v, w)\nprint(v.tolist())\n")
    namespace: dict = {"torch": torch}
    exec(source, namespace)
    result = Session().run(source, filename="swap.py")
    assert result["ok"], result["error"]
    assert result["output"] == f"{namespace['v'].tolist()}\n"
