"""names.walk_modules / walk_parameters: what named_modules / named_parameters give,
without calling a snippet's overrides of them."""

from __future__ import annotations

import torch
from torch import nn

from gradstep.autograd.names import walk_modules, walk_parameters


def _models() -> list[nn.Module]:
    shared = nn.Linear(2, 2)

    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = shared
            self.b = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), shared)
            self.c = nn.ModuleDict({"x": nn.Conv2d(1, 1, 1), "y": nn.LayerNorm(3)})
            self.register_parameter("p", nn.Parameter(torch.ones(1)))
            self.register_parameter("none", None)
            self.tied = self.a.weight
            self.b.add_module("empty", None)

    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False)
    return [Tied(), encoder, nn.LSTM(3, 4, 2), nn.Sequential()]


def test_the_walks_give_what_torch_names_in_its_order():
    for model in _models():
        assert [(n, id(m)) for n, m in walk_modules(model)] == [(n, id(m)) for n, m in model.named_modules()]
        assert ([(n, id(p)) for n, p in walk_parameters(model)]
                == [(n, id(p)) for n, p in model.named_parameters()])


def test_the_walks_call_no_override():
    class Loud(nn.Sequential):
        def named_modules(self, *args, **kwargs):
            raise AssertionError("named_modules was called")

        def named_parameters(self, *args, **kwargs):
            raise AssertionError("named_parameters was called")

    model = Loud(nn.Linear(1, 1), Loud(nn.Linear(1, 2)))
    assert [n for n, _ in walk_modules(model)] == ["", "0", "1", "1.0"]
    assert [n for n, _ in walk_parameters(model)] == ["0.weight", "0.bias", "1.0.weight", "1.0.bias"]


def test_module_names_walk_each_module_once(monkeypatch):
    from gradstep.autograd import names

    encoder = nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False)
    loss_fn = nn.MSELoss()
    namespace = {"encoder": encoder, "loss_fn": loss_fn, "inner": encoder.layers[0]}
    walked = []
    walk = names.walk_modules

    def counted(module):
        walked.append(id(module))
        return walk(module)

    monkeypatch.setattr(names, "walk_modules", counted)
    scopes, params = names.module_names(namespace)
    assert sorted(walked) == sorted({id(encoder), id(loss_fn), id(encoder.layers[0])})
    # the one model that owns parameters reads as its own named_modules (no prefix)
    assert scopes == {id(m): n for n, m in encoder.named_modules()} | {id(loss_fn): "loss_fn"}
    assert params == {id(p): n for n, p in encoder.named_parameters()}


def test_a_scope_is_its_innermost_named_module_without_the_stack(monkeypatch):
    from gradstep.autograd.names import ScopeNames
    from gradstep.autograd.scopes import ScopeIndex

    outer, named, unnamed = nn.Sequential(), nn.Linear(1, 1), nn.ReLU()
    index = ScopeIndex()
    index.enter(outer, 0)  # outer [0, 10) > named [1, 6) > unnamed [2, 4)
    index.enter(named, 1)
    index.enter(unnamed, 2)
    index.leave(unnamed, 4)
    index.leave(named, 6)
    index.leave(outer, 10)
    monkeypatch.setattr(ScopeIndex, "stack_of", None)  # the scope reads the calls, not a stack
    scopes = ScopeNames(index, {id(outer): "model", id(named): "model.0"})
    assert [scopes.get(("op", n, "X"), "-") for n in (0, 1, 3, 5, 7, 12)] == [
        "model", "model.0", "model.0", "model.0", "model", "-"]
    assert ScopeNames(index, {}).get(("op", 3, "X")) == "ReLU"  # no name: the innermost's class


def test_the_scopes_of_many_keys_are_get_s_each_call_found_once(monkeypatch):
    from gradstep.autograd import names
    from gradstep.autograd.names import ScopeNames
    from gradstep.autograd.scopes import ScopeIndex

    outer, named, unnamed = nn.Sequential(), nn.Linear(1, 1), nn.ReLU()
    index = ScopeIndex()
    index.enter(outer, 0)  # outer [0, 10) > named [1, 6) > unnamed [2, 4); named again [11, 13)
    index.enter(named, 1)
    index.enter(unnamed, 2)
    index.leave(unnamed, 4)
    index.leave(named, 6)
    index.leave(outer, 10)
    index.enter(named, 11)
    index.leave(named, 13)
    leaf = ("leaf", id(named.weight))
    scopes = ScopeNames(index, {id(outer): "model", id(named): "model.0"}, {id(named.weight): "model.0.weight"})
    keys = [("op", n, "X") for n in range(15)] + [None, ("op", 3, "Y")]
    found = []
    monkeypatch.setattr(names, "_scope_of", lambda call, *a: found.append(call) or f"call{call}")
    many = scopes.of_keys(keys)
    assert sorted(found) == [0, 1, 2, 3]  # each call once, for its 1 to 4 nodes
    monkeypatch.undo()
    many = scopes.of_keys(keys)
    assert {key: scopes.get(key) for key in keys if key} == {
        key: many.get(key, "") for key in keys if key}
    assert many[leaf] == scopes.get(leaf) == "model.0"
    assert ScopeNames(None, {}).of_keys(keys) == {}


REUSED_AND_HOOKED = '''
import torch
from torch import nn
torch.manual_seed(0)
class Block(nn.Module):
    def __init__(self, shared):
        super().__init__()
        self.inner = nn.Sequential(nn.Linear(4, 4), nn.Tanh())
        self.shared = shared
    def forward(self, x):
        return nn.ReLU()(acts[0](self.shared(self.inner(x)))) * 2
acts = [nn.Sigmoid()]  # no name of its own: each call's scope is the block's
shared = nn.Linear(4, 4)
model = nn.Sequential(Block(shared), Block(shared))
model[1].inner.register_forward_hook(lambda m, i, o: o * 3)
model[0].register_forward_pre_hook(lambda m, i: (i[0] + 1,))
y = model(torch.ones(2, 4))
w = model[0].inner(shared(y))
loss = w.sum() + y.mean()
'''


def test_a_runs_scopes_found_once_a_call_are_get_s_for_reused_and_hooked_modules():
    """The trace's scopes (``ScopeNames.of_keys``: each module call's found once) are what
    ``ScopeNames.get`` answers node by node, for nested modules, a module called in two
    blocks and again outside any forward, hooks that compute, and an unnamed module."""
    from gradstep.autograd.session import Session
    from gradstep.autograd.trace import node_key

    session = Session()
    reply = session.run(REUSED_AND_HOOKED)
    trace, scopes = session.state.trace, session.state.scopes
    shown = {node["id"]: node["scope"] for node in reply["trace"]["nodes"]}
    assert shown == {node_id: scopes.get(node_key(fn), "") for node_id, fn in trace.node_of.items()}
    assert {"0.inner.0", "1.inner.1", "0.shared", ""} <= set(shown.values())
    by_name = {node["scope"] for node in reply["trace"]["nodes"] if node["name"] == "SigmoidBackward0"}
    assert by_name == {"0", "1"}


def test_frame_labels_reads_the_first_names_while_another_thread_binds_more():
    # a snippet thread's pass reads ``Bindings.leaf_labels`` while the main thread may bind
    # a new name: a dict changed during frame_labels' loop raised "dictionary changed size
    # during iteration" and the pass went unrecorded. Here the main thread's bind happens
    # exactly inside the loop (the first leaf's weak reference binds one when read).
    import weakref

    from gradstep.autograd.frame_names import frame_labels, graph_ids

    w = torch.ones(2, requires_grad=True)
    b = torch.ones(2, requires_grad=True)
    out = (w * 3 + b).sum()
    first_names: dict = {}
    other = torch.zeros(1)

    def w_ref():
        first_names[id(other)] = (weakref.ref(other), "other")  # the main thread binds
        return w

    first_names[id(w)] = (w_ref, "w")
    first_names[id(b)] = (weakref.ref(b), "b")
    id_of = graph_ids([out])
    labels = frame_labels({"out": out}, id_of, first_names)
    by_leaf = {fn.variable: node_id for fn, node_id in id_of.items() if hasattr(fn, "variable")}
    assert {labels[by_leaf[w]], labels[by_leaf[b]]} == {"w", "b"}
    assert labels[by_leaf[w]] == "w"


def test_a_leafs_label_is_its_first_name_unique_among_the_live_leaves():
    import gc
    import weakref

    from gradstep.autograd.names import Bindings

    bindings = Bindings()
    w1 = torch.ones(2, requires_grad=True)
    bindings.bind_tensor("w", w1, None)
    w2 = torch.ones(2, requires_grad=True)
    bindings.bind_tensor("w", w2, None)  # ``a = w; w = new leaf``: the first one lives
    bindings.bind_tensor("a", w1, None)  # a later name changes no label
    labels = bindings.labels()
    assert (labels[("leaf", id(w1))], labels[("leaf", id(w2))]) == ("w", "w (2)")
    del w1
    gc.collect()
    w3 = torch.ones(2, requires_grad=True)  # ``x = new leaf`` in a loop: the name is free again
    bindings.bind_tensor("w", w3, None)
    assert bindings.labels()[("leaf", id(w3))] == "w"
    # an entry whose tensor is gone, at the id a new tensor took: the new one is named
    gone = torch.zeros(1)
    new = torch.zeros(1)
    bindings.leaf_labels[id(new)] = (weakref.ref(gone), "old")
    del gone
    bindings.bind_tensor("v", new, None)
    assert bindings.labels()[("leaf", id(new))] == "v"
