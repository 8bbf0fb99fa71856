"""Session.backward / Session.inspect (run_backward, inspect_node) on snippets, against torch."""

import json
import textwrap

import pytest
import torch
import torch.nn.functional as F

from gradstep.autograd.session import Session
from gradstep.autograd.timeline import node_states
from tests.autograd.backward_oracle import assert_same, assert_value, torch_pass

MSE = """
x = torch.ones(1)
w = torch.full([1], 2., requires_grad=True)
mse = F.mse_loss(torch.ones(1), x * w)
"""

SOFTMAX = """
a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
p = F.softmax(a, dim=0)
"""


def session_for(source, **kwargs):
    session = Session()
    result = session.run(textwrap.dedent(source), **kwargs)
    assert result["ok"], result["error"]
    return session


def mse_oracle():
    w = torch.full([1], 2.0, requires_grad=True)
    return F.mse_loss(torch.ones(1), torch.ones(1) * w), w


def test_backward_matches_torch_and_names_the_leaf():
    session = session_for(MSE)
    got = session.backward()
    root, w = mse_oracle()
    assert_same(got, torch_pass(root))
    assert got["leaf_grads"] == {"w": w.grad.tolist()}
    assert got["freed"] is True and got["error"] is None
    json.dumps(got, allow_nan=False)


def test_two_passes_without_retain_graph_stop_at_torchs_error():
    session = session_for(MSE)
    got = session.backward(passes=2)
    assert [p["steps"] for p in got["passes"]] == [3, 1]
    assert got["error"]["kind"] == "freed_buffers"
    assert [s["pass"] for s in got["steps"]] == [0, 0, 0, 1]
    assert [s["index"] for s in got["steps"]] == [0, 1, 2, 3]
    assert node_states(got, 4)["n0"] == "error"
    # the trace now says the saved tensors are freed, and inspect says so without crashing
    tensors = [i for i in session.state.trace.graph.nodes["n0"]["saved"] if "freed" in i]
    assert tensors and all(item["freed"] for item in tensors)
    info = session.inspect("n0")
    assert info["freed"] is True and info["jacobian"]["status"] == "ok"  # remembered
    assert info["jacobian"]["remembered"] is True


def test_two_retained_passes_accumulate():
    session = session_for(MSE)
    got = session.backward(passes=2, retain_graph=True)
    assert got["error"] is None
    assert [p["leaf_grads"]["w"] for p in got["passes"]] == [[2.0], [4.0]]
    leaf_steps = [s for s in got["steps"] if s["name"] == "AccumulateGrad"]
    assert [(s["grad_before"], s["grad_after"]) for s in leaf_steps] == [(None, [2.0]), ([2.0], [4.0])]
    assert session.state.namespace["w"].grad.tolist() == [4.0]


def test_grad_mode_uses_every_leaf_and_leaves_grad_alone():
    session = session_for(MSE)
    got = session.backward(mode="grad")
    root, w = mse_oracle()
    (expected,) = torch.autograd.grad(root, [w])
    assert_value(got["returned"][0], expected)
    assert session.state.namespace["w"].grad is None
    assert got["leaf_grads"] == {"w": None}


def test_non_scalar_root_error_and_gradient_ones():
    session = session_for(SOFTMAX)
    failed = session.backward()
    assert failed["error"]["kind"] == "non_scalar" and failed["error"]["fix"]
    # the root is named, not a made-up `out` (the snippet has none), with the line that made
    # it: python never ran this pass, so the fix is gradstep's options (rootcall)
    assert "drawn root `p`, which has 3 elements" in failed["error"]["explanation"]
    assert failed["error"]["line"] == 3 and failed["error"]["code"].startswith("p = F.softmax")
    assert "`p.sum().backward()`" in failed["error"]["fix"] and "`out" not in failed["error"]["fix"]
    assert "--gradient ones" in failed["error"]["fix"]
    got = session.backward(gradient="ones")
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    assert_same(got, torch_pass(p, gradient=torch.ones(3)))
    assert_value(got["leaf_grads"]["a"], a.grad)


def test_retained_non_leaf_grads_are_reported():
    session = session_for("""
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.retain_grad()
        out = (y * y).sum()
        """)
    got = session.backward()
    assert got["retained_grads"] == {"y": [6.0, 12.0]}  # d sum(y^2)/dy = 2y


def test_inspect_softmax_gives_the_seed_jacobian_and_saved_values():
    session = session_for(SOFTMAX + "q = p[1]\n", root="q")
    trace = session.state.trace
    softmax_id = next(n for n, d in trace.graph.nodes(data=True) if d["name"] == "SoftmaxBackward0")
    info = session.inspect(softmax_id)
    row = info["jacobian"]["blocks"][0]["matrix"][1]
    assert row == pytest.approx([-0.0828, 0.2274, -0.1447], abs=1e-4)
    result = next(item for item in info["saved"] if item["name"] == "result")
    p = session.state.namespace["p"]
    assert_value(result["value"]["data"], p.detach())
    assert info["vjp"]["status"] == "ok"
    leaf_id = next(n for n, d in trace.graph.nodes(data=True) if d["kind"] == "leaf")
    assert session.inspect(leaf_id)["jacobian"]["status"] == "leaf"
    assert "error" in session.inspect("n999")


def test_snippet_backward_then_inspect_shows_the_jacobian_from_before_the_pass():
    session = session_for(SOFTMAX + "q = p[1]\nq.backward()\n", root="q")
    trace = session.state.trace
    softmax_id = next(n for n, d in trace.graph.nodes(data=True) if d["name"] == "SoftmaxBackward0")
    info = session.inspect(softmax_id)
    assert info["freed"] is True
    assert info["jacobian"]["remembered"] is True
    assert info["jacobian"]["blocks"][0]["matrix"][1] == pytest.approx([-0.0828, 0.2274, -0.1447], abs=1e-4)


def test_passes_must_be_positive():
    session = session_for(MSE)
    with pytest.raises(ValueError, match="at least 1"):
        session.backward(passes=0)


def test_several_roots_go_back_together():
    session = session_for("""
        a = torch.tensor([1.0, 2.0], requires_grad=True)
        b = a * 3
        c = a.sum() * 2
        """, root="b,c")
    got = session.backward(gradient="ones")
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b, c = a * 3, a.sum() * 2
    torch.autograd.backward([b, c], [torch.ones(2), torch.ones(())])
    assert got["error"] is None
    assert_value(got["leaf_grads"]["a"], a.grad)
    assert sorted(s["name"] for s in got["steps"]) == sorted(
        ["MulBackward0", "MulBackward0", "SumBackward0", "AccumulateGrad"])


def test_meta_device_records_shapes_without_values():
    session = session_for("x = torch.randn(3, requires_grad=True)\ny = (x.exp() * 2).sum()\n",
                          device="meta")
    got = session.backward()
    assert got["error"] is None
    assert got["steps"][0]["grad_outputs"] == [{"shape": [], "dtype": "float32", "device": "meta"}]
    json.dumps(session.inspect("n1"), allow_nan=False)


def test_a_graph_the_snippet_already_freed_says_so():
    session = session_for(MSE + "mse.backward()\n")
    got = session.backward()
    assert got["error"]["kind"] == "freed_buffers"
    assert "The snippet's own backward call at line 5, run without retain_graph=True, had " \
        "already freed" in got["error"]["explanation"]


def test_a_graph_a_loop_freed_names_the_loops_line_once():
    session = session_for("w = torch.ones(2, requires_grad=True)\n"
                          "for _ in range(2):\n"
                          "    loss = (w * w).sum()\n"
                          "    loss.backward()\n")
    got = session.backward()
    assert "own backward call at line 4, run without" in got["error"]["explanation"]


BOTH_FREED = ("x = torch.tensor([1., 2.], requires_grad=True)\ne = x.exp()\nsn = x.sin()\n"
              "loss = (e * sn).sum()\ntorch.autograd.grad(e.sum(), x)\nsn.sum().backward()\nloss\n")


def test_a_graph_two_kinds_of_call_freed_names_both_with_lines():
    """An autograd.grad call (line 5) and a backward call (line 6) each freed part of loss's
    graph: gradstep's own pass names both kinds and "lines 5, 6" (it said "already ran
    backward without retain_graph (line 5, 6)"). torch's own runs: loss.backward() after
    them fails, and still does with retain_graph=True on either call alone."""
    from gradstep.i18n import localized

    head = "import torch\n"
    for source in (BOTH_FREED, BOTH_FREED.replace("x)\n", "x, retain_graph=True)\n"),
                   BOTH_FREED.replace("backward()", "backward(retain_graph=True)")):
        with pytest.raises(RuntimeError, match="backward through the graph a second time"):
            exec(compile(head + source + "loss.backward()\n", "<plain>", "exec"), {})
    got = session_for(BOTH_FREED).backward()
    assert got["error"]["kind"] == "freed_buffers"
    assert ("The snippet's own backward and autograd.grad calls at lines 5, 6, run without "
            "retain_graph=True, had already freed") in got["error"]["explanation"]
    assert "代码片段自己的第 5, 6 行的 backward 和 autograd.grad 调用没有传入" in \
        localized(got["error"], "zh_CN")["explanation"]


def test_a_graph_calls_on_graphs_of_their_own_freed_names_them_under_a_root():
    """--root loss after BOTH_FREED's calls: each call's graph (e.sum()'s, sn.sum()'s) is not
    the drawn one, but they freed loss's buffers (torch's own loss.backward() fails: the test
    above). It said "in a backward call gradstep did not record"; they were recorded.
    Python ended well, so gradstep's pass's error alone: exit status 0, as before."""
    got = session_for(BOTH_FREED, root="loss").backward()
    assert got["error"]["kind"] == "freed_buffers" and got["error"]["exit_status"] == 0
    assert ("The snippet's own backward and autograd.grad calls at lines 5, 6, run without "
            "retain_graph=True, had already freed") in got["error"]["explanation"]
    assert "did not record" not in got["error"]["explanation"]


def test_inspect_every_node_of_an_unusual_graph_before_and_after_the_pass():
    session = session_for("""
        import torch.utils.checkpoint as cp
        torch.manual_seed(0)
        net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64, 10))
        y = net(torch.randn(2, 3, 8, 8))
        z = y.clone()
        z[:, 0] = 0
        m, i = z.max(dim=1)
        o, (h, c) = nn.LSTM(4, 3)(torch.randn(5, 1, 4))
        e = nn.Embedding(10, 3)(torch.tensor([1, 2]))
        q = cp.checkpoint(lambda t: t.sin() * 2, y, use_reentrant=False)
        loss = m.sum() + o.sum() + e.sum() + q.sum()
        """)
    node_ids = list(session.state.trace.node_of)
    allowed = {"ok", "leaf", "too_large", "freed", "unsupported"}
    for node_id in node_ids:
        info = session.inspect(node_id)
        assert info["jacobian"]["status"] in allowed - {"freed"}
        json.dumps(info, allow_nan=False)
    got = session.backward()
    assert got["error"] is None and len(got["steps"]) == len(node_ids)
    for node_id in node_ids:
        info = session.inspect(node_id)
        assert info["jacobian"]["status"] in allowed
        json.dumps(info, allow_nan=False)
