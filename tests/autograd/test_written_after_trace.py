"""A leaf written after the snippet's last recorded backward call (an optimizer step) is
drawn with its value at the end of the snippet, which the forward did not use: the trace
says so (``written_after``), checked against the same snippet run plainly."""

from __future__ import annotations

import torch

from gradstep.autograd.serialize import graph_from_json, graph_to_json
from gradstep.autograd.session import Session

STEPPED = """\
torch.manual_seed(0)
lin = nn.Linear(2, 2)
frozen = torch.ones(2, requires_grad=True)
loss = (lin(torch.ones(1, 2)) * frozen).square().sum()
forward_bias = lin.bias.detach().clone()
versions = (lin.bias._version, lin.weight._version)
loss.backward()
with torch.no_grad():  # a plain SGD step, as torch.optim.SGD's
    lin.weight -= 10.0 * lin.weight.grad
    lin.bias -= 10.0 * lin.bias.grad
"""


def _leaves(trace: dict) -> dict:
    return {node["label"]: node for node in trace["nodes"] if node["kind"] == "leaf"}


def test_a_leaf_an_optimizer_step_wrote_says_its_value_is_not_the_pass_s():
    plain = {"torch": torch, "nn": torch.nn}
    exec(compile(STEPPED, "<plain>", "exec"), plain)
    result = Session().run(STEPPED)
    assert result["ok"], result["error"]
    leaves = _leaves(result["trace"])
    bias = leaves["bias"]
    assert bias["value"]["data"] == plain["lin"].bias.tolist()  # torch's, after the step
    assert bias["value"]["data"] != plain["forward_bias"].tolist()  # not what the forward used
    assert bias["written_after"] == {"pass_version": plain["versions"][0],
                                     "version": plain["lin"].bias._version}
    assert leaves["weight"]["written_after"]["version"] == plain["lin"].weight._version
    assert "written_after" not in leaves["frozen"]  # the step did not touch it
    # the field survives the trace JSON's round trip (the window reads it from there)
    again = graph_to_json(graph_from_json(result["trace"]))
    assert _leaves(again)["bias"]["written_after"] == bias["written_after"]
    assert "written_after" not in _leaves(again)["frozen"]


def test_no_step_after_the_pass_no_field():
    result = Session().run(STEPPED.split("with torch.no_grad()")[0])
    assert not any("written_after" in node for node in result["trace"]["nodes"])


def test_the_kernel_writes_the_field_as_json_does(tmp_path):
    """The kernel's trace writer (templates for the usual fields) writes such a leaf as the
    JSON encoder does, the field included."""
    from gradstep.kernel.trace_text import NodeTexts
    from gradstep.policies.strict_json import json_line, write_json_line
    from gradstep.schema.graph import FORMULA_FIELDS

    trace = Session().run(STEPPED)["trace"]
    path = tmp_path / "t.json"
    write_json_line(trace, path, batch=2, shared=FORMULA_FIELDS, templates=NodeTexts)
    assert path.read_bytes() == json_line(trace) and b'"written_after"' in path.read_bytes()


def test_a_forward_after_the_step_used_the_value_shown_no_field():
    """The drawn graph is a forward after the step: it used the stepped weights, the value
    shown, so nothing says the forward did not use it (the last recorded call noted the
    weights before the step, and they were written since)."""
    again = STEPPED + "loss = (lin(torch.ones(1, 2)) * frozen).square().sum()\n"
    plain = {"torch": torch, "nn": torch.nn}
    exec(compile(again, "<plain>", "exec"), plain)
    result = Session().run(again)
    assert result["ok"], result["error"]
    bias = _leaves(result["trace"])["bias"]
    assert plain["lin"].bias._version != plain["versions"][0]  # written since the call
    assert bias["value"]["data"] == plain["lin"].bias.tolist()  # what this forward used
    assert not any("written_after" in node for node in result["trace"]["nodes"])


def test_a_mode_the_snippet_left_on_does_not_see_the_norm():
    """The norm that finds a write through ``p.data`` is gradstep's read, after the
    snippet: a torch function mode the snippet entered and left on does not see it."""
    source = """\
from torch.overrides import TorchFunctionMode
seen = []
class Log(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        seen.append(getattr(func, "__name__", str(func)))
        return func(*args, **(kwargs or {}))
w = torch.ones(2, requires_grad=True)
loss = (w * 2).sum()
loss.backward()
w.data.add_(1.0)  # a write torch's counter does not count
Log().__enter__()  # left on
"""
    session = Session()
    try:
        result = session.run("import torch\n" + source)
    finally:
        from torch.overrides import _pop_mode

        while torch._C._len_torch_function_stack():
            _pop_mode()
    assert result["ok"], result["error"]
    leaf = _leaves(result["trace"])["w"]
    assert leaf["written_after"] == {"pass_version": 0, "version": 0}  # found by the norm
    seen = session.state.namespace["seen"]
    assert not {"linalg_vector_norm", "item", "detach"} & set(seen), seen


SWAPPED = """\
a = torch.tensor([1.0, 2.0], requires_grad=True)
b = torch.tensor([30.0, 40.0], requires_grad=True)
loss = (a * 2 + b * 3).sum()
loss.backward()
before = (a._version, b._version)
torch.utils.swap_tensors(a, b)  # each object now holds the other's data and version counter
with torch.no_grad():
    b.add_(1.0)  # the data the forward used as a's
"""


def test_a_swap_after_the_pass_moves_the_notes_with_the_data():
    """``torch.utils.swap_tensors(a, b)`` gives each object the other's data and version
    counter; the graph's leaves are then the other objects (``b`` holds what the forward
    used as ``a``). The call's notes stayed with the objects (review of fidhunt7): both
    leaves said they were written after the pass ({"pass_version": 0, "version": 0}, the
    norms of the other's data), and the one written (``b.add_``) was compared with the
    wrong note. Checked against the same snippet run plainly."""
    plain = {"torch": torch, "nn": torch.nn}
    exec(compile(SWAPPED, "<plain>", "exec"), plain)
    result = Session().run(SWAPPED)
    assert result["ok"], result["error"]
    leaves = _leaves(result["trace"])
    assert plain["b"].tolist() == [2.0, 3.0]  # a's data, written once since the swap
    assert leaves["b"]["value"]["data"] == plain["b"].tolist()
    assert leaves["b"]["written_after"] == {"pass_version": plain["before"][0],
                                           "version": plain["b"]._version}
    assert leaves["a"]["value"]["data"] == plain["a"].tolist()  # b's data, not written
    assert plain["a"]._version == plain["before"][1]
    assert "written_after" not in leaves["a"]
