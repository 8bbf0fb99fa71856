"""Session: plain JSON-safe results, LiveState, reset, delegation to backward."""

from __future__ import annotations

import json
import os

import pytest
import torch

from gradstep.autograd.session import LiveState, Session

SOURCE = """
x = torch.ones(1)
w = torch.full([1], 2., requires_grad=True)
print("made w")
mse = F.mse_loss(torch.ones(1), x*w)
"""


def test_run_returns_plain_strict_json():
    session = Session()
    result = session.run(SOURCE, filename="mse.py")
    text = json.dumps(result, allow_nan=False)
    assert json.loads(text) == result
    assert result["ok"] and result["error"] is None and result["exit_code"] == 0
    assert result["output"] == "made w\n" and result["calls"] == []
    assert result["trace"]["nodes"][0]["name"] == "MseLossBackward0"


def test_live_state_keeps_the_tensors_and_trace():
    session = Session()
    session.run(SOURCE, filename="mse.py")
    state = session.state
    assert isinstance(state, LiveState)
    assert state.root is state.namespace["mse"] and state.root_name == "mse"
    assert state.trace.node_of["n0"] is state.root.grad_fn
    # the name its code was compiled under: the file's absolute path, as python's
    assert (state.source, state.filename, state.device) == (
        SOURCE, os.path.join(os.getcwd(), "mse.py"), "cpu")


def test_failed_run_still_shows_the_graph_it_built():
    session = Session()
    source = "w = torch.ones(2, requires_grad=True)\ny = (w * 2).sum()\ny.backward()\ny.backward()"
    result = session.run(source)
    assert not result["ok"] and result["exit_code"] == 1
    assert result["error"]["kind"] == "freed_buffers" and result["error"]["line"] == 4
    mul = session.state.trace.node_of["n1"]
    with pytest.raises(RuntimeError, match="freed"):
        _ = mul._saved_other  # torch itself: the buffer is gone
    # freed, with the shape and dtype torch had for it before the first pass freed it (the
    # wrapped number 2: a 0-d int64 tensor)
    assert result["trace"]["nodes"][1]["saved"] == [
        {"name": "other", "shape": [], "dtype": "int64", "freed": True}]
    assert session.state.namespace["w"].grad.tolist() == [2.0, 2.0]


def test_reset_forgets_everything_and_backward_needs_a_run():
    session = Session()
    session.run(SOURCE)
    session.reset()
    assert session.state is None
    with pytest.raises(RuntimeError, match="run a snippet"):
        session.backward()


def test_unavailable_device_is_exit_2():
    result = Session().run(SOURCE, device="cuda") if not torch.cuda.is_available() else None
    if result is None:
        pytest.skip("CUDA is available here")
    assert result["exit_code"] == 2 and result["error"]["kind"] == "device_unavailable"
    assert result["trace"] is None


def test_backward_and_inspect_delegate_to_the_backward_module():
    backward = pytest.importorskip("gradstep.autograd.backward")
    if not hasattr(backward, "run_backward") or not hasattr(backward, "inspect_node"):
        pytest.skip("gradstep.autograd.backward has no run_backward/inspect_node yet")
    session = Session()
    session.run(SOURCE)
    out = session.backward()
    json.dumps(out, allow_nan=False)
    assert out["leaf_grads"]["w"] == [2.0]  # d mse / d w = 2*(x*w - 1)*x = 2, by torch below
    w = torch.full([1], 2.0, requires_grad=True)
    torch.nn.functional.mse_loss(torch.ones(1), torch.ones(1) * w).backward()
    assert out["leaf_grads"]["w"] == w.grad.tolist()
    node = session.inspect("n1")
    json.dumps(node, allow_nan=False)
    assert node["name"] == "MulBackward0"


def test_a_graph_gradstep_cannot_read_is_its_own_failure_not_the_snippets(monkeypatch):
    from gradstep.autograd import session as session_module

    def unreadable(result, **options):
        raise RuntimeError("NestedTensorImpl doesn't support sizes")

    monkeypatch.setattr(session_module, "_trace_with_calls", unreadable)
    result = Session().run("import torch\nx = torch.ones(2, requires_grad=True)\n"
                           "y = (x * 2).sum()\ny\n")
    assert not result["ok"]
    error = result["error"]
    assert error["kind"] == "trace_failed" and error["line"] is None
    assert error["message"] == "RuntimeError: NestedTensorImpl doesn't support sizes"
    assert "gradstep's failure, not the snippet's" in error["explanation"]


JAGGED = """
a = torch.ones(2, 3, requires_grad=True)
b = torch.ones(1, 3, requires_grad=True)
nj = torch.nested.as_nested_tensor([a, b], layout=torch.jagged)
s = (nj * 2).values().sum()
"""


def test_a_jagged_nested_tensor_has_no_shape_and_its_pass_runs():
    # its ragged size is a SymInt: it made the JSON reply fail (and the Jacobians crash)
    session = Session()
    result = session.run(JAGGED, filename="jagged.py")
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    shapes = {n["name"]: n["shape"] for n in result["trace"]["nodes"]}
    assert shapes["MulBackward0"] is None and shapes["SumBackward0"] == []
    timeline = session.backward(retain_graph=True)
    assert json.loads(json.dumps(timeline, allow_nan=False)) == timeline
    assert timeline["error"] is None  # no steps: its gradients are a tensor subclass's


def test_a_freed_jagged_saved_tensor_has_no_shape_and_the_reply_is_json():
    """A saved jagged tensor freed by the snippet's own backward call is shown by the shape
    noted before the pass: that was ``torch.Size([2, j1, 3])``, whose SymInt made the
    kernel's reply fail ("Object of type SymInt is not JSON serializable"), so `gradstep
    backward`, `check` and `export` of a snippet drawing ``vals = nt.values()`` exited 1
    where python exits 0 (fidhunt11). It has no one shape, as the alive one has none."""
    source = JAGGED.replace("s = (nj * 2).values().sum()\n",
                            "vals = (nj * 2).values()\nvals.sum().backward()\n")
    result = Session().run(source, filename="jagged_freed.py")
    assert result["ok"], result["error"]
    assert json.loads(json.dumps(result, allow_nan=False)) == result
    node = next(n for n in result["trace"]["nodes"] if n["name"] == "NestedGetValuesBackward0")
    assert node["saved"] == [{"name": "self", "shape": None, "dtype": "float32", "freed": True}]
    a = torch.ones(2, 3, requires_grad=True)  # torch's own: that saved tensor is nested
    vals = (torch.nested.as_nested_tensor([a, a[:1]], layout=torch.jagged) * 2).values()
    assert vals.grad_fn.name() == node["name"] and vals.grad_fn._saved_self.is_nested
