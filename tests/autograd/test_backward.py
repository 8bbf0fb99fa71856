"""Recorded backward passes against torch: step order, arriving and sent gradients, leaf grads.

Each case builds the same graph twice: one copy is recorded by gradstep, the
other runs with plain torch and the oracle's own hooks.
"""

import contextlib
import functools

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from gradstep.autograd import leaf_steps, step_hooks
from gradstep.autograd.backward import record_backward
from gradstep.autograd.step_hooks import StepRecorder
from gradstep.autograd.trace import trace_graph
from tests.autograd.backward_oracle import assert_same, assert_value, labels_for, torch_pass


def record(root, named, **kwargs):
    """Return gradstep's record of one pass from ``root`` (leaves labelled from ``named``)."""
    trace = trace_graph(root)
    return record_backward(root, trace.id_of, labels=labels_for(trace, named), **kwargs)


def check_against_torch(build, **kwargs):
    """Record ``build()``'s graph with gradstep, run a second copy with torch, compare all.

    ``build`` returns ``(root, {name: leaf})``. Returns gradstep's record.
    """
    root, named = build()
    got = record(root, named, **kwargs)
    root2, named2 = build()
    gradient = kwargs.get("gradient")
    if isinstance(gradient, str):
        gradient = torch.ones_like(root2)
    oracle = torch_pass(root2, gradient=gradient)
    assert_same(got, oracle)
    assert set(got["leaf_grads"]) == set(named2)
    for name, leaf in named2.items():
        assert_value(got["leaf_grads"][name], leaf.grad)
    return got


def seed_mse():
    x = torch.ones(1)
    w = torch.full([1], 2.0, requires_grad=True)
    return F.mse_loss(torch.ones(1), x * w), {"w": w}


def seed_mean_of_squares():
    x = torch.ones(2, 2, requires_grad=True)
    y = x + 2
    z = y**2 * 3
    return z.mean(), {"x": x}


def shared_subexpression():
    a = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    b = a * 2
    return (b * b + b + a * a).sum(), {"a": a}


def multi_output():
    torch.manual_seed(0)
    x = torch.randn(4, 3, requires_grad=True)
    first, _unused, third, fourth = torch.unbind(x)
    left, right = x.split(2, dim=1)
    return (first * third).sum() + fourth.exp().sum() + (left**2).sum() - right.sum(), {"x": x}


def in_place():
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = w * 2
    y.add_(1)
    y.exp_()  # saves its own result: later reads see the right version
    z = y.clone()
    z[0] = 0.0  # CopySlices: no gradient flows to the overwritten element
    return (z * w).sum(), {"w": w}


class Cube(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 3 * x**2


def custom_function():
    x = torch.tensor([1.0, 2.0, -0.5], requires_grad=True)
    return (Cube.apply(x) * 2).sum(), {"x": x}


def seed_004_losses():
    inputs = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    targets = torch.tensor([1.0, 2.0, 5.0])
    x = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
    shaped = torch.reshape(inputs, (1, 1, 1, 3))
    goal = torch.reshape(targets, (1, 1, 1, 3))
    total = nn.L1Loss()(shaped, goal) + nn.MSELoss()(shaped, goal)
    total = total + nn.CrossEntropyLoss()(torch.reshape(x, (1, 3)), torch.tensor([1]))
    return total, {"inputs": inputs, "x": x}


def max_with_indices():
    x = torch.tensor([[1.0, 5.0, 2.0], [7.0, -1.0, 0.5]], requires_grad=True)
    values, indices = torch.max(x, dim=1)  # indices carry no gradient
    return (values * indices.float()).sum() + x.amax(), {"x": x}


class ScaleFirst(torch.autograd.Function):
    """Two inputs, two outputs; no gradient for the second input (backward returns None)."""

    @staticmethod
    def forward(ctx, x, y):
        ctx.save_for_backward(y)
        return x * y, x + 1

    @staticmethod
    def backward(ctx, grad_product, grad_shifted):
        (y,) = ctx.saved_tensors
        return grad_product * y + grad_shifted, None


def custom_function_two_outputs():
    x = torch.tensor([1.0, -2.0], requires_grad=True)
    y = torch.tensor([3.0, 4.0], requires_grad=True)
    product, shifted = ScaleFirst.apply(x, y)
    return (product * shifted).sum(), {"x": x, "y": y}


def small_cnn():
    torch.manual_seed(1)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.MaxPool2d(2), nn.Conv2d(4, 4, 3, padding=1),
        nn.MaxPool2d(2), nn.Flatten(), nn.Linear(16, 8), nn.Linear(8, 10),
    )
    images = torch.randn(2, 3, 8, 8)
    targets = torch.tensor([3, 7])
    loss = nn.CrossEntropyLoss()(net(images), targets)
    return loss, dict(net.named_parameters())


def expanded_gradient():
    """sum() sends back its gradient expanded (strides 0): its own mean() and std() add the
    elements in another order than a contiguous copy (0.29999998 and 3e-08 here, not 0.3
    and 0), and a summary shows the gradient's own."""
    w = torch.linspace(-1, 1, 768).reshape(12, 8, 8).requires_grad_()
    return w.sum() * 0.3, {"w": w}


@pytest.mark.parametrize(
    "build",
    [seed_mse, seed_mean_of_squares, seed_004_losses, shared_subexpression, multi_output,
     max_with_indices, in_place, custom_function, custom_function_two_outputs, small_cnn,
     expanded_gradient],
)
def test_pass_matches_torch(build):
    got = check_against_torch(build)
    assert got["freed"] is True
    assert got["steps"], "a pass runs at least one node"


def test_inplace_change_of_a_saved_tensor_is_torchs_error():
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = (w * 2).relu_()
    y.mul_(w)  # ReluBackward saved y; this changes it
    got = record(y.sum(), {"w": w})
    assert got["error"]["kind"] == "inplace"
    assert "modified by an inplace operation" in got["error"]["message"]
    assert got["steps"][-1]["error"] is True
    assert w.grad is None


def test_seed_mse_numbers():
    got = check_against_torch(seed_mse)
    assert got["leaf_grads"] == {"w": [2.0]}
    first = got["steps"][0]
    assert first["name"] == "MseLossBackward0"
    assert first["grad_outputs"] == [1.0]
    assert first["grad_inputs"][0] is None  # the target needs no gradient


def test_seed_mean_of_squares_is_4_5():
    got = check_against_torch(seed_mean_of_squares)
    assert got["leaf_grads"]["x"] == [[4.5, 4.5], [4.5, 4.5]]


def test_accumulate_grad_shows_before_and_after():
    root, named = seed_mse()
    got = record(root, named)
    leaf_step = got["steps"][-1]
    assert leaf_step["name"] == "AccumulateGrad"
    assert leaf_step["leaf"] == "w"
    assert leaf_step["grad_before"] is None
    assert leaf_step["grad_after"] == named["w"].grad.tolist()


def test_grad_mode_seed_softmax_row():
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    trace = trace_graph(p[1])
    got = record_backward(p[1], trace.id_of, labels=labels_for(trace, {"a": a}),
                          mode="grad", inputs=[a], retain_graph=True)
    (expected,) = torch.autograd.grad(p[1], [a], retain_graph=True)
    assert got["returned_inputs"] == ["a"]
    assert_value(got["returned"][0], expected)
    assert got["returned"][0] == pytest.approx([-0.0828, 0.2274, -0.1447], abs=1e-4)
    assert a.grad is None  # grad mode never accumulates into .grad
    assert got["leaf_grads"] == {"a": None}  # and the record says so
    assert "AccumulateGrad" not in [s["name"] for s in got["steps"]]


def test_grad_mode_defaults_to_every_leaf():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, -1.0], requires_grad=True)
    root = (x * w).sum()
    trace = trace_graph(root)
    got = record_backward(root, trace.id_of, labels=labels_for(trace, {"x": x, "w": w}),
                          mode="grad", retain_graph=True)
    gx, gw = torch.autograd.grad(root, [x, w])
    assert got["returned_inputs"] == ["x", "w"]
    assert_value(got["returned"][0], gx)
    assert_value(got["returned"][1], gw)
    assert got["leaf_grads"] == {"x": None, "w": None}


def test_grad_mode_shows_one_result_per_input_also_for_an_input_given_twice():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    w = torch.tensor([3.0, -1.0], requires_grad=True)
    root = (x * w).sum()
    trace = trace_graph(root)
    got = record_backward(root, trace.id_of, labels=labels_for(trace, {"x": x, "w": w}),
                          mode="grad", inputs=[x, w, x], retain_graph=True)
    expected = torch.autograd.grad(root, [x, w, x], retain_graph=True)
    assert got["returned_inputs"] == ["x", "w", "x"]
    assert len(got["returned"]) == 3
    for shown, value in zip(got["returned"], expected):
        assert_value(shown, value)


def test_non_scalar_root_needs_a_gradient():
    a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
    p = F.softmax(a, dim=0)
    got = record(p, {"a": a})
    assert got["error"]["kind"] == "non_scalar"
    assert "grad can be implicitly created only for scalar outputs" in got["error"]["message"]
    assert got["error"]["fix"]
    assert got["steps"] == []
    assert got["freed"] is False


def test_non_scalar_root_with_ones_matches_torch():
    def build():
        a = torch.tensor([0.1440, 0.5349, 0.7022], requires_grad=True)
        return F.softmax(a, dim=0) * torch.tensor([1.0, 2.0, 3.0]), {"a": a}

    check_against_torch(build, gradient="ones")


def test_non_scalar_root_with_explicit_gradient():
    def build():
        x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
        return x**2, {"x": x}

    root, named = build()
    got = record(root, named, gradient=torch.tensor([1.0, 0.0, -1.0]))
    assert got["leaf_grads"]["x"] == [2.0, 0.0, -6.0]


def test_tensor_hook_and_retain_grad_are_honoured():
    def build():
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        y = x * 3
        y.register_hook(lambda g: g * 10)  # the node after y must receive 10x
        y.retain_grad()
        return (y * y).sum(), {"x": x}, y

    root, named, y = build()
    trace = trace_graph(root)
    got = record_backward(root, trace.id_of, labels=labels_for(trace, named), watch={"y": y})
    root2, named2, y2 = build()
    oracle = torch_pass(root2)
    assert_same(got, oracle)
    assert_value(got["leaf_grads"]["x"], named2["x"].grad)
    assert_value(got["retained_grads"]["y"], y2.grad)
    mul_step = next(s for s in got["steps"] if s["node"] == trace.id_of[y.grad_fn])
    assert mul_step["grad_outputs"] == [[60.0, 120.0]]  # 2*y*10, after the hook


def test_hooks_are_removed_after_the_pass_and_after_an_error():
    root, _ = seed_mse()
    trace = trace_graph(root)
    recorder = StepRecorder(trace.id_of)
    with recorder:
        root.backward(retain_graph=True)
    count = len(recorder.steps)
    root.backward(retain_graph=True)  # no hook left: nothing more is recorded
    assert len(recorder.steps) == count == 3

    failing = StepRecorder(trace.id_of)
    with pytest.raises(ZeroDivisionError), failing:
        root.backward(retain_graph=True)
        raise ZeroDivisionError
    count = len(failing.steps)
    root.backward()
    assert len(failing.steps) == count


def test_a_5000_op_chain_records_every_step_in_order():
    def build():
        x = torch.tensor([1.0], requires_grad=True)
        y = x
        for _ in range(5000):
            y = y * 1.0001
        return y.sum(), {"x": x}

    got = check_against_torch(build)
    assert len(got["steps"]) == 5002
    assert [s["node"] for s in got["steps"]] == [f"n{i}" for i in range(5002)]  # a chain


class _SendsToBoth(torch.autograd.Function):
    """Sends a gradient to both inputs, also to one that needs none."""

    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, grad):
        return grad * 2, grad * 3


def test_a_gradient_sent_where_no_node_waits_shows_as_none():
    a = torch.ones(3, requires_grad=True)
    root = _SendsToBoth.apply(a, torch.ones(3)).sum()
    got = record(root, {"a": a})
    step = next(s for s in got["steps"] if s["name"] == "_SendsToBothBackward")
    assert step["grad_inputs"] == [[2.0, 2.0, 2.0], None]  # torch computed [3, 3, 3]; it goes nowhere


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_grad_before_of_a_grad_that_needs_grad_is_its_value():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x ** 3).sum().backward(create_graph=True)  # x.grad = 3x^2, with a graph of its own
    before = x.grad.detach().clone()
    assert x.grad.requires_grad
    got = record((x ** 3).sum(), {"x": x}, create_graph=True)
    leaf_step = got["steps"][-1]
    assert leaf_step["grad_before"] == before.tolist() == [3.0, 12.0]
    assert leaf_step["grad_after"] == [6.0, 24.0]
    assert got["error"] is None


def test_grad_before_is_the_grad_before_accumulate_grad_adds_into_it():
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    got = record((x * 3).sum(), {"x": x})
    leaf_step = got["steps"][-1]
    assert (leaf_step["grad_before"], leaf_step["grad_after"]) == ([2.0, 2.0], [5.0, 5.0])


def test_a_leaf_labelled_none_shows_no_grad_change_and_shifts_no_value():
    a = torch.ones(3, requires_grad=True)
    b = torch.ones(3, requires_grad=True)
    loss = (a * 2 + b * 3).sum()
    trace = trace_graph(loss)
    ids = {trace.id_of[loss.grad_fn.next_functions[0][0].next_functions[i][0].next_functions[0][0]]: t
           for i, t in enumerate((a, b))}
    labels = {node_id: ("a" if t is a else None) for node_id, t in ids.items()}
    got = record_backward(loss, trace.id_of, labels=labels)
    by_name = {s["name"]: s for s in got["steps"] if s["name"] != "AccumulateGrad"}
    assert by_name["MulBackward0"]["grad_outputs"] == [[1.0, 1.0, 1.0]]
    leaves = [s for s in got["steps"] if s["name"] == "AccumulateGrad"]
    assert sorted("leaf" in s for s in leaves) == [False, True]
    assert all(s["grad_outputs"] in ([[2.0, 2.0, 2.0]], [[3.0, 3.0, 3.0]]) for s in leaves)


def _summarised_model_pass(monkeypatch, held_bytes):
    """Two recorded passes (the second adds into the leaves' ``.grad``) over a model whose
    gradients are small, large, views, transposes and sparse, with the hooks' limit at
    ``held_bytes``; returns both records."""
    monkeypatch.setattr(step_hooks, "HELD_BYTES", held_bytes)
    torch.manual_seed(0)
    embedding = nn.Embedding(50, 40, sparse=True)
    lin = nn.Linear(40, 300)
    tokens = torch.randint(0, 50, (8, 6))
    hidden = lin(embedding(tokens)).tanh()
    loss = (hidden.transpose(1, 2).reshape(8, -1)[:, ::2].pow(2).mean(1) * torch.arange(8.0)).sum()
    trace = trace_graph(loss)
    labels = labels_for(trace, {"emb": embedding.weight, "w": lin.weight, "b": lin.bias})
    first = record_backward(loss, trace.id_of, labels=labels, retain_graph=True)
    second = record_backward(loss, trace.id_of, labels=labels)
    return first, second


def test_gradients_summarised_during_the_pass_show_what_the_pass_end_shows(monkeypatch):
    """Over the hooks' limit the held gradients are summarised at once (here at every
    hook): the same numbers to the last bit as one batch at the end of the pass."""
    at_the_end = _summarised_model_pass(monkeypatch, step_hooks.HELD_BYTES)
    summarised = []
    summarise = StepRecorder._summarise_held
    monkeypatch.setattr(StepRecorder, "_summarise_held",
                        lambda self: (summarised.append(1), summarise(self)))
    at_every_hook = _summarised_model_pass(monkeypatch, 1)
    assert len(summarised) > 20
    for early, late in zip(at_every_hook, at_the_end):
        assert early["error"] is None and early["steps"]
        assert early == late


def test_a_recorded_pass_lets_its_gradients_go_past_the_limit(monkeypatch):
    """torch frees each gradient once the node that takes it ran; the hooks' references
    held all of them to the end of the pass (30 gradients of 40 MB: +1.1 GB of peak memory
    where python needs +40 MB). Past the limit they are summarised and let go."""
    from torch.multiprocessing.reductions import StorageWeakRef

    def chain():
        x = torch.zeros(100_000, requires_grad=True)  # 400 kB gradients
        refs, alive = [], []

        def note(grad):  # how many of the gradients seen so far are still in memory
            refs.append(StorageWeakRef(grad.untyped_storage()))
            alive.append(sum(not ref.expired() for ref in refs))

        y = x
        for _ in range(30):
            y = y * 1.001
            y.register_hook(note)
        return y.sum(), x, alive

    loss, _, plain_alive = chain()
    loss.backward()
    monkeypatch.setattr(step_hooks, "HELD_BYTES", 2_000_000, raising=False)  # ~2.5 steps' gradients
    loss, x, alive = chain()
    got = record(loss, {"x": x})
    assert len(got["steps"]) == 32 and got["error"] is None
    assert got["steps"][-1]["grad_after"]["mean"] == pytest.approx(1.001 ** 30, rel=1e-5)
    assert max(plain_alive) <= 2
    assert len(alive) == 30 and max(alive) <= 6  # all 30 before the limit was kept


def _steps_by_name(record: dict) -> dict:
    return {step["name"]: step for step in record["steps"]}


def test_a_gradient_handed_on_is_kept_once():
    """The engine hands the very tensor a node sent on to the node that takes it (and
    AddBackward sends on what it received): the hooks keep one alias of it, so both steps
    show one summary of it (the same object), not two equal ones."""
    x = torch.randn(100, requires_grad=True)  # > 64 elements: a summary
    loss = ((x * 2).exp() + 1).sum()
    steps = _steps_by_name(record_backward(loss, trace_graph(loss).id_of))
    sent = steps["ExpBackward0"]["grad_inputs"][0]
    assert isinstance(sent, dict) and sent["shape"] == [100]
    assert steps["MulBackward0"]["grad_outputs"][0] is sent
    assert steps["AddBackward0"]["grad_inputs"][0] is steps["AddBackward0"]["grad_outputs"][0]
    assert steps["MulBackward0"]["grad_outputs"][0] == {**sent}


def test_a_gradient_handed_on_is_noted_once_for_the_version_check():
    """The alias a receiver reuses is not noted in ``kept`` a second time: its first entry
    decides alone (a version only grows). One entry per distinct alias."""
    x = torch.randn(100, requires_grad=True)
    loss = ((x * 2).exp() + 1).sum()
    recorder = StepRecorder(trace_graph(loss).id_of)
    with recorder:
        loss.backward()
        aliases = [alias for alias, _ in recorder._kept]
        assert len(aliases) == len({id(a) for a in aliases})


def test_a_handed_on_gradient_changed_in_place_drops_the_steps():
    """A tensor hook between the sender's hook and the receiver's changes the very tensor
    both steps keep one alias of: the steps are not shown (they would show what was not
    sent), also now that the receiver does not note the alias again."""
    x = torch.randn(100, requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: (g.mul_(3), None)[1])
    loss = h.exp().sum()
    got = record_backward(loss, trace_graph(loss).id_of)
    assert got["steps"] == [] and got["error"] is None
    assert torch.equal(x.grad, 6 * (x * 2).exp().detach())


def test_the_hooks_ask_the_pass_filter_once_per_pass():
    """A hook call of the graph task the pass was named after is the pass's without a
    call of ``OwnPass`` (``own_pass.current_task``): one call, for the first hook."""
    x = torch.randn(3, requires_grad=True)
    loss = (x.exp() * 2).sum()
    recorder = StepRecorder(trace_graph(loss).id_of)
    calls = []
    own = recorder._own
    recorder._own = type("Counted", (type(own),), {
        "__call__": lambda self: calls.append(1) or type(own).__call__(self)})()
    with recorder:
        loss.backward()
    assert len(recorder.steps) == 4 and len(calls) == 1


def test_every_node_but_the_leaves_gets_the_same_two_hooks():
    """Where torch tells which node runs (``_current_autograd_node``), no hook is made per
    node: every node but the leaves holds the same pre-hook and hook, the leaves two others."""
    x = torch.randn(3, requires_grad=True)
    loss = (x.exp() * 2).sum()
    recorder = StepRecorder(trace_graph(loss).id_of)
    with recorder:
        hooks = recorder._hooks.hooks()
        assert len(hooks) == 8 and len(set(hooks)) == 4  # 3 nodes' two and the leaf's two
        loss.backward()
    assert [step["name"] for step in recorder.steps] == [
        "SumBackward0", "MulBackward0", "ExpBackward0", "AccumulateGrad"]


class _Fails(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, grad):
        raise ValueError("no backward here")


class _Recomputes(torch.autograd.Function):
    """Recomputes its forward in backward and runs a nested pass through it (as a reentrant
    checkpoint does)."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.sin() * 3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        with torch.enable_grad():
            again = x.detach().requires_grad_()
            torch.autograd.backward(again.sin() * 3, grad)
        return again.grad


def _mixed_passes() -> list:
    """Two records of a graph with custom Functions (one runs a nested pass in its backward)
    and leaves that hold a .grad, and one of a pass that fails in a custom Function's backward."""
    torch.manual_seed(0)
    w = torch.randn(4, 4, requires_grad=True)
    w.grad = torch.ones(4, 4)
    x = torch.randn(3, 4, requires_grad=True)
    h = x.sin()
    loss = _Recomputes.apply(_SendsToBoth.apply(h @ w, h).tanh()).pow(2).sum()
    records = [record_backward(loss, trace_graph(loss).id_of, retain_graph=True)]
    records.append(record_backward(loss, trace_graph(loss).id_of))
    failing = (_Fails.apply(x).exp() * w.sum()).sum()
    records.append(record_backward(failing, trace_graph(failing).id_of))
    return records


def test_the_shared_hooks_record_what_hooks_made_per_node_record(monkeypatch):
    """The same records from the shared hooks and from hooks made per node (a torch without
    ``_current_autograd_node``): custom Functions, a nested pass run inside a node's backward,
    leaves' .grad before and after, and the failing node's step."""
    shared = _mixed_passes()
    assert shared[2]["error"] is not None and shared[2]["steps"][-1]["error"]
    monkeypatch.setattr(step_hooks, "_current_node", None)
    assert _mixed_passes() == shared


def test_the_hooks_of_all_nodes_share_their_cells_but_the_node_id(monkeypatch):
    """Where each node gets hooks of its own (a torch without ``_current_autograd_node``),
    they are made by one ``hooks_for`` per pass: of their closure's cells only the node id
    is their own (making and freeing 5,000 hooks is then cheaper)."""
    monkeypatch.setattr(step_hooks, "_current_node", None)
    x = torch.randn(3, requires_grad=True)
    loss = (x.exp() * 2).sum()
    recorder = StepRecorder(trace_graph(loss).id_of)
    with recorder:
        pre_hooks = recorder._hooks.hooks()[::2]
        plain = [hook for hook in pre_hooks  # (not a leaf's: _leaf_pre_hook)
                 if hook.__qualname__ == "_hooks.<locals>.hooks_for.<locals>.pre_hook"]
        assert len(plain) == 3  # SumBackward0, MulBackward0, ExpBackward0
        cells = [{id(cell) for cell in hook.__closure__} for hook in plain]
        assert len(cells[0] & cells[1] & cells[2]) == len(cells[0]) - 1
        loss.backward()


def test_a_gradient_whose_data_a_hook_set_to_its_negative_view_shows_it_negated():
    """``g.data = g._neg_view()`` keeps the memory, shape, strides and dtype and moves no
    version, but the next node takes every element negated: its step shows that, not the
    alias the sender's hook kept (the check compares the negative and conjugate bits too)."""
    torch.manual_seed(0)
    x = torch.randn(100, requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: setattr(g, "data", g._neg_view()))
    loss = h.exp().sum()
    steps = _steps_by_name(record_backward(loss, trace_graph(loss).id_of))
    sent, taken = steps["ExpBackward0"]["grad_inputs"][0], steps["MulBackward0"]["grad_outputs"][0]
    assert taken["mean"] == -sent["mean"] and taken["min"] == -sent["max"]
    assert torch.equal(x.grad, -2 * (x * 2).exp().detach())


def test_a_gradient_whose_data_a_hook_replaced_shows_the_new_data():
    """A tensor hook that sets ``g.data`` changes what the next node takes without moving
    its version: that node's step shows the new values, the sender's what it sent."""
    x = torch.randn(100, requires_grad=True)
    h = x * 2
    h.register_hook(lambda g: setattr(g, "data", torch.zeros_like(g)))  # returns None
    loss = h.exp().sum()
    steps = _steps_by_name(record_backward(loss, trace_graph(loss).id_of))
    assert steps["ExpBackward0"]["grad_inputs"][0]["max"] > 0
    received = steps["MulBackward0"]["grad_outputs"][0]
    assert received["min"] == received["max"] == 0
    assert x.grad.abs().max() == 0


def test_a_pass_under_compiled_autograd_runs_unrecorded(monkeypatch):
    """torch's compiled autograd (``torch._dynamo.compiled_autograd._enable``) compiles a
    pass with its hooks: the step hooks failed on its fake tensors and the snippet's own
    ``loss.backward()`` raised "RuntimeError when making fake tensor call" (checked by hand
    with ``_enable(torch.compile(backend="eager"))``; compiling takes seconds, so here the
    module's switch stands in). Such a pass runs as torch runs it, with no steps."""
    import sys
    import types

    from gradstep.autograd.backward import run_recorded
    from gradstep.autograd.frame_names import graph_ids

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = x.exp().sum()
    on = types.SimpleNamespace(compiled_autograd_enabled=True)
    monkeypatch.setitem(sys.modules, "torch._dynamo.compiled_autograd", on)
    steps, _, exc, _ = run_recorded(lambda: loss.backward(retain_graph=True), graph_ids([loss]))
    assert exc is None and steps == [] and torch.equal(x.grad, x.detach().exp())
    on.compiled_autograd_enabled = False
    steps, _, exc, _ = run_recorded(lambda: loss.backward(), graph_ids([loss]))
    assert exc is None and [s["name"] for s in steps] == ["SumBackward0", "ExpBackward0",
                                                          "AccumulateGrad"]


def _late_prehook_records(leaf: bool) -> list:
    """The record of a pass where a pre-hook the snippet registers during the pass (on
    ExpBackward0 from the root's pre-hook, or with ``leaf`` on the leaf's AccumulateGrad from
    ExpBackward0's) multiplies what that node receives by 10; and the leaf."""
    torch.manual_seed(0)
    x = torch.randn(3, requires_grad=True)
    a = x.exp()
    loss = (a * 3).sum()
    late = a.grad_fn.next_functions[0][0] if leaf else a.grad_fn

    def registers(g):
        late.register_prehook(lambda g: (g[0] * 10,))

    handle = (a.grad_fn if leaf else loss.grad_fn).register_prehook(registers)
    got = record_backward(loss, trace_graph(loss).id_of, retain_graph=True)
    handle.remove()
    return got, x


class _PassesThrough(torch.overrides.TorchFunctionMode):
    """A function mode of the snippet's: the hooks copy the gradients out of its sight."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def _hooks_of_kind(monkeypatch, hooks: str):
    """Make the recorder use hooks of kind ``hooks`` and return the context its pass runs in:
    the shared hooks, those made per node, the copying ones (``watched``: the snippet's
    function mode is on) or every step summarised at its pre-hook (``HELD_BYTES`` 0)."""
    if hooks == "summarised":
        monkeypatch.setattr(step_hooks, "HELD_BYTES", 0)
    if hooks == "per node":
        monkeypatch.setattr(step_hooks, "_current_node", None)
    return _PassesThrough() if hooks == "watched" else contextlib.nullcontext()


@pytest.mark.parametrize("leaf", [False, True])
@pytest.mark.parametrize("hooks", ["shared", "per node", "watched", "summarised"])
def test_a_prehook_registered_during_the_pass_shows_what_the_node_received(monkeypatch, hooks, leaf):
    """A node pre-hook registered during the pass runs after gradstep's (pre-hooks run in
    the order they were registered): the step shows what the node received after it (its
    hook's ``grad_outputs``), as torch's ``x.grad`` (30·exp(x)) has it, not the 3s before it.
    The shared hooks, those made per node, the copying ones (the snippet's mode is on), and
    with every step summarised at its pre-hook (``HELD_BYTES`` 0)."""
    in_pass = _hooks_of_kind(monkeypatch, hooks)
    with in_pass:
        got, x = _late_prehook_records(leaf)
    steps = _steps_by_name(got)
    assert got["error"] is None
    expected = 30 * x.detach().exp()
    assert torch.allclose(x.grad, expected)
    if leaf:
        assert steps["ExpBackward0"]["grad_outputs"] == [[3.0, 3.0, 3.0]]
        assert_value(steps["AccumulateGrad"]["grad_outputs"][0], x.grad)
    else:
        assert steps["ExpBackward0"]["grad_outputs"] == [[30.0, 30.0, 30.0]]
        assert_value(steps["AccumulateGrad"]["grad_outputs"][0], expected)


def _changes_in_place(g):
    g[0].mul_(10)


@pytest.mark.parametrize("leaf", [False, True])
@pytest.mark.parametrize("hooks", ["shared", "per node", "watched", "summarised"])
def test_a_late_prehook_that_changes_the_gradient_in_place_drops_the_steps(monkeypatch, hooks, leaf):
    """A late pre-hook of the snippet's that changes the very gradient in place
    (``g[0].mul_(10)``: the node took 30s, x.grad is 30·exp(x)). Where the hooks copied it
    (the snippet's mode on) or summarised it at their pre-hook (``HELD_BYTES`` 0), the step
    showed the 3s from before the change (and with ``leaf``, AccumulateGrad 3·exp(x) where
    x.grad holds 30·exp(x)); the hooks cannot tell that change from the node's own, so the
    pass shows no steps, as where a kept alias is found changed at the end."""
    in_pass = _hooks_of_kind(monkeypatch, hooks)
    torch.manual_seed(0)
    x = torch.randn(3, requires_grad=True)
    a = x.exp()
    loss = (a * 3).sum()
    late = a.grad_fn.next_functions[0][0] if leaf else a.grad_fn
    handle = (a.grad_fn if leaf else loss.grad_fn).register_prehook(
        lambda g: late.register_prehook(_changes_in_place) and None)
    with in_pass:
        got = record_backward(loss, trace_graph(loss).id_of, retain_graph=True)
    handle.remove()
    assert torch.allclose(x.grad, 30 * x.detach().exp())
    assert got["error"] is None and got["steps"] == []


@pytest.mark.parametrize("hooks", ["shared", "per node"])
def test_a_node_that_received_what_its_pre_hook_kept_costs_one_identity_check(monkeypatch, hooks):
    """In the usual pass every node receives the very gradients its pre-hook kept: its hook
    never looks further (``_received``), also for a node with a None input, the leaves and a
    gradient handed on (AddBackward)."""
    if hooks == "per node":
        monkeypatch.setattr(step_hooks, "_current_node", None)
    torch.manual_seed(0)
    w = torch.randn(4, 4, requires_grad=True)
    x = torch.randn(3, 4, requires_grad=True)
    h = x @ w
    loss = (h.tanh() + h.unbind(0)[1]).pow(2).sum()
    recorder = StepRecorder(trace_graph(loss).id_of)
    calls = []
    monkeypatch.setattr(recorder, "_received", lambda *args, **kwargs: calls.append(args))
    with recorder:
        loss.backward()
    assert len(recorder.steps) == 8 and calls == []


def _halves_its_grad(p):
    p.grad.mul_(0.5)


def _post_hooked_leaves(earlier: bool):
    """A graph whose leaves ``w`` and ``b`` have a post-accumulate-grad hook that halves
    their ``.grad`` in place: ``b`` takes the very gradient AddBackward0 received and sent
    on (AccumulateGrad takes it as ``.grad``), ``w`` a new one from MulBackward0. With
    ``earlier``, a first pass filled their ``.grad`` (the recorded one adds into it)."""
    torch.manual_seed(0)
    w = torch.randn(3, requires_grad=True)
    b = torch.randn(3, requires_grad=True)
    c = torch.randn(3, requires_grad=True)
    for t in (w, b):
        t.register_post_accumulate_grad_hook(_halves_its_grad)
    if earlier:
        ((w * 2).exp() * c + b).sum().backward()
    return ((w * 2).exp() * c + b).sum(), {"w": w, "b": b, "c": c}


@pytest.mark.parametrize("hooks", ["shared", "per node", "watched", "summarised"])
def test_a_post_accumulate_grad_hook_that_changes_grad_in_place_keeps_the_steps(monkeypatch, hooks):
    """A leaf's post-accumulate-grad hook that changes its ``.grad`` in place (hunt 15):
    AccumulateGrad had taken the gradient it received as ``.grad``, so the hook changed
    that gradient, and the pass showed no steps ("a gradient was changed in place during
    the pass"). The steps are torch's, each with what was sent and received then."""
    in_pass = _hooks_of_kind(monkeypatch, hooks)
    for earlier in (False, True):  # a fresh .grad, then one the pass adds into
        build = functools.partial(_post_hooked_leaves, earlier)
        with in_pass:
            got = check_against_torch(build)
        assert len(got["steps"]) == 8


@pytest.mark.parametrize("hooks", ["shared", "per node", "watched", "summarised"])
def test_a_leafs_grad_changed_later_in_the_pass_is_not_shown_as_its_grad_after(monkeypatch, hooks):
    """A hook later in the pass (here ``b``'s post-accumulate-grad hook) zeroes ``a.grad``
    after ``a``'s AccumulateGrad added 5s into it (hunt 15): the step kept a reference to
    ``a.grad`` and showed ``grad_after`` [0, 0], what the pass left, where torch had [6, 6]
    after that step. Either the step shows [6, 6] (the copying hooks copy it then) or the
    pass shows no steps, as for a kept gradient changed in place."""
    in_pass = _hooks_of_kind(monkeypatch, hooks)
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    a.grad = torch.ones(2)
    b.register_post_accumulate_grad_hook(lambda p: a.grad.mul_(0))
    loss = (b * b).exp().sum() * 0 + (a * 5).sum()  # (a's branch runs first)
    with in_pass:
        got = record(loss, {"a": a, "b": b})
    assert torch.equal(a.grad, torch.zeros(2))
    shown = [s["grad_after"] for s in got["steps"] if s.get("leaf") == "a"]
    assert shown in ([], [[6.0, 6.0]])


def _flat_grad_views():
    """Leaves whose ``.grad`` are views of one flat buffer (a contiguous gradient buffer, as
    DDP's ``gradient_as_bucket_view``): a view's version is its base's."""
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    b = torch.tensor([3.0, 4.0], requires_grad=True)
    flat = torch.ones(4)
    a.grad, b.grad = flat[:2], flat[2:]
    return (a * 2).sum() + (b * 3).exp().sum(), {"a": a, "b": b}


@pytest.mark.parametrize("hooks", ["shared", "per node", "watched", "summarised"])
def test_leaves_whose_grads_are_views_of_one_buffer_keep_their_steps(monkeypatch, hooks):
    """``b``'s AccumulateGrad adds into its own part of the buffer after ``a``'s step: that
    moves the version ``a.grad`` shares with it, not its values (review of fid15: the pass,
    exact before, showed no steps once a ``.grad`` after its step was noted with its version).
    A view's ``.grad`` after the step is copied then."""
    in_pass = _hooks_of_kind(monkeypatch, hooks)
    with in_pass:
        got = check_against_torch(_flat_grad_views)
    after = {s["leaf"]: s["grad_after"] for s in got["steps"] if "leaf" in s}
    assert after == {"a": [3.0, 3.0], "b": got["leaf_grads"]["b"]}


def test_a_post_hooked_leaf_with_a_grad_summarises_nothing(monkeypatch):
    """AccumulateGrad takes the gradient it received as ``.grad`` only where there was none:
    a leaf with a ``.grad`` adds into it, so its post-accumulate-grad hooks cannot change what
    the hooks kept, and its pre-hook summarises nothing (review of fid15: a summary at every
    hooked leaf, ~0.2 ms each, made a pass of 24 hooked parameters 2.6 times as long)."""
    calls = []
    summarise = StepRecorder._summarise_held
    monkeypatch.setattr(StepRecorder, "_summarise_held",
                        lambda self: calls.append(1) or summarise(self))
    for earlier in (True, False):  # a .grad to add into; then none (the hooks summarise)
        calls.clear()
        got = check_against_torch(functools.partial(_post_hooked_leaves, earlier))
        assert len(got["steps"]) == 8 and len(calls) == (0 if earlier else 2)


def _post_hooked_shared_grad():
    """``w.grad`` is a view of ``g`` (an earlier pass took it), which the pass sends again:
    AccumulateGrad adds into ``g`` itself, then the hook halves it."""
    w = torch.zeros(4, requires_grad=True)
    g = torch.ones(2, 2)
    w.view(2, 2).backward(g)
    w.register_post_accumulate_grad_hook(_halves_its_grad)
    return w.view(2, 2), {"w": w}, g


@pytest.mark.parametrize("hooks", ["shared", "per node"])
def test_a_post_hooked_leaf_whose_grad_shares_the_gradients_memory_keeps_its_steps(monkeypatch, hooks):
    """Its pre-hook still summarises (the hook changes what was received): the leaf's
    ``.grad`` is not the one the summaries were spared for (review of fid15)."""
    in_pass = _hooks_of_kind(monkeypatch, hooks)
    root, named, g = _post_hooked_shared_grad()
    with in_pass:
        got = record(root, named, gradient=g)
    root2, _, g2 = _post_hooked_shared_grad()
    assert_same(got, torch_pass(root2, gradient=g2))
    assert len(got["steps"]) == 2


def test_copies_of_leaves_grads_count_and_go_past_the_limit(monkeypatch):
    """Each parameter's ``.grad`` a view of one flat buffer: a leaf's step copies its
    ``.grad`` after it ran. Those copies were held to the end of the pass outside
    ``HELD_BYTES`` (a second copy of every gradient); now they count, and a summary past the
    limit summarises them too and lets them go. The steps stay torch's
    (``test_leaves_whose_grads_are_views_of_one_buffer_keep_their_steps``)."""
    monkeypatch.setattr(step_hooks, "HELD_BYTES", 2_000_000, raising=False)
    size = 100_000  # 400 kB each
    flat = torch.zeros(30 * size)
    leaves = [torch.zeros(size, requires_grad=True) for _ in range(30)]
    for i, p in enumerate(leaves):
        p.grad = flat[i * size:(i + 1) * size]
    loss = sum((p * 2.0).sum() for p in leaves)
    recorder = StepRecorder(trace_graph(loss).id_of)
    held = []
    for p in leaves:
        p.register_post_accumulate_grad_hook(lambda p: held.append(
            sum(type(v) is torch.Tensor for v in recorder._grad_after.values())))
    with recorder:
        loss.backward()
    assert len(held) == 30 and max(held) <= 6  # all 29 earlier copies before
    after = [s["grad_after"] for s in recorder.steps if s["name"] == "AccumulateGrad"]
    assert len(after) == 30 and all(a["mean"] == 2.0 for a in after)
    count = [0]
    leaf_steps._grad_after(flat[:size], [].append, count)
    assert count == [size * 4]


def test_whether_a_leaf_has_post_accumulate_grad_hooks_is_read_unseen():
    """``leaf_steps._post_hooked`` reads a plain leaf straight when no function mode is on
    (docs/speed.md item 75), and through ``DisableTorchFunction`` otherwise: torch's own
    answer both ways, for a tensor, a Parameter, a Parameter subclass and a subclass with
    its own ``__torch_function__``, and a mode of the snippet's, or the subclass's
    ``__torch_function__``, sees no read."""
    class Seen(torch.overrides.TorchFunctionMode):
        def __init__(self):
            super().__init__()
            self.calls = []

        def __torch_function__(self, func, types, args=(), kwargs=None):
            self.calls.append(func)
            return func(*args, **(kwargs or {}))

    class Watched(torch.Tensor):
        calls: list = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append(func)
            return super().__torch_function__(func, types, args, kwargs or {})

    class Weight(nn.Parameter):
        pass

    leaves = []
    for hooked in (True, False):
        for leaf in (nn.Parameter(torch.ones(2)), torch.ones(2, requires_grad=True), Weight(torch.ones(2)),
                     torch.ones(2).as_subclass(Watched).requires_grad_()):
            if hooked:
                leaf.register_post_accumulate_grad_hook(lambda p: None)
            leaves.append(leaf)
    with torch._C.DisableTorchFunction():
        torch_answers = [bool(t._post_accumulate_grad_hooks) for t in leaves]
    Watched.calls.clear()
    answers = [leaf_steps._post_hooked(t) for t in leaves]
    with Seen() as mode:
        assert [leaf_steps._post_hooked(t) for t in leaves] == answers
    assert answers == torch_answers and answers.count(True) == 4
    assert mode.calls == [] and Watched.calls == []


def _doubled_in_place_by_a_tensor_hook():
    """A tensor hook that changes its gradient in place (``g.mul_(2)``): the gradient
    ExpBackward0 sent, which its step kept, is changed before MulBackward0 runs."""
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    y.register_hook(lambda g: g.mul_(2))
    return y.exp().sum(), {"x": x}


@pytest.mark.parametrize("hooks", ["shared", "per node", "watched", "summarised"])
def test_a_tensor_hook_that_changes_its_gradient_in_place_shows_torchs_steps_or_none(
        monkeypatch, hooks):
    """Where the hooks copy what each step sent (the snippet's mode on) or summarise it at
    once (``HELD_BYTES`` 0), ExpBackward0's step shows what it sent and MulBackward0's what
    it received, doubled, as torch's own hooks saw them. The shared hooks and those made per
    node keep an alias: what ExpBackward0 sent is lost once the tensor hook doubled it in
    place, so the pass shows no steps (``record_backward`` is handed only the root: the
    hooked ``y`` is not seen, see ``tensor_hooks``; a snippet's own call that names ``y``
    is recorded by the copying hooks, ``test_step_state``'s ``tensor_hook_in_place``); the leaves' ``.grad`` torch left is still shown (core7: a dropped pass showed
    none), as torch has it."""
    in_pass = _hooks_of_kind(monkeypatch, hooks)
    with in_pass:
        got = check_against_torch(_doubled_in_place_by_a_tensor_hook) if hooks in (
            "watched", "summarised") else record(*_doubled_in_place_by_a_tensor_hook())
    plain_root, plain_named = _doubled_in_place_by_a_tensor_hook()
    plain_root.backward()
    assert got["error"] is None and len(got["steps"]) == (4 if hooks in ("watched", "summarised") else 0)
    assert_value(got["leaf_grads"]["x"], plain_named["x"].grad)


def _grad_changed_by_a_later_callback():
    """As DDP's reducer: a hook on the leaf's AccumulateGrad queues a callback for the pass's
    end that changes ``.grad`` in place, the very gradient AccumulateGrad took (the reducer
    copies each bucket back into its parameter's ``.grad``)."""
    w = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    loss = (w * torch.tensor([2.0, 3.0, 4.0])).exp().sum()
    (accumulate, _), = loss.grad_fn.next_functions[0][0].next_functions[0][0].next_functions[:1]
    queue = torch.autograd.Variable._execution_engine.queue_callback
    accumulate.register_hook(lambda grad_inputs, grad_outputs: queue(lambda: w.grad.mul_(0.5)))
    return loss, {"w": w}


@pytest.mark.parametrize("hooks", ["shared", "per node", "watched", "summarised"])
def test_a_grad_changed_by_a_callback_queued_during_the_pass_keeps_the_steps(monkeypatch, hooks):
    """torch runs the callbacks queued during a pass once its last node ran, in the order they
    were queued; the pass's first hook queues the summary of what the steps kept, so one
    queued later (DDP's bucket copy into ``.grad``) changes nothing a step shows (before: the
    pass showed no steps, "a gradient was changed in place during the pass"). Only while a
    process group is on (stood in for here; conformance case ``ddp_one_process`` runs one)."""
    monkeypatch.setattr(step_hooks, "_distributed_on", lambda: True)  # (as under DDP)
    in_pass = _hooks_of_kind(monkeypatch, hooks)
    with in_pass:
        got = check_against_torch(_grad_changed_by_a_later_callback)
    assert [s["name"] for s in got["steps"]][-1] == "AccumulateGrad"
    received = got["steps"][-1]["grad_outputs"][0]
    assert got["leaf_grads"]["w"] == [g / 2 for g in received]


def test_without_a_process_group_a_pass_queues_no_callback(monkeypatch):
    """The summary at the pass's end costs a second batch; without ``torch.distributed`` on
    none is queued, and the pass is summarised at exit in one batch, as before."""
    assert not step_hooks._distributed_on()
    queued = []
    monkeypatch.setattr(step_hooks, "_queue_callback", queued.append)
    got = check_against_torch(seed_mse)
    assert got["steps"] and queued == []


@pytest.mark.parametrize("stopped", ["probes", "marks"])
def test_a_stop_while_the_extra_hooks_go_on_leaves_none_of_them_on(monkeypatch, stopped):
    """A KeyboardInterrupt (the kernel's stop, a signal handler's) raised while the probes or
    the build marks are put on, after some of their hooks went on, goes on up as python's
    would, and takes off every hook of both: none runs in the snippet's later passes."""
    from gradstep.autograd import hook_probes
    from gradstep.autograd.backward import run_recorded
    from gradstep.autograd.build_marks import BuildMarks
    from gradstep.autograd.frame_names import graph_ids

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = x.exp().sum()
    id_of = graph_ids([loss])
    ran: list = []
    probes = hook_probes.HookProbes(id_of, set(), set())
    marks = BuildMarks(id_of)

    def probes_install(started):
        probes._handles.append(loss.grad_fn.register_prehook(lambda g: ran.append("probe")))
        if stopped == "probes":
            raise KeyboardInterrupt

    real_install = marks.install

    def marks_install(started):
        real_install(started)
        raise KeyboardInterrupt

    monkeypatch.setattr(probes, "install", probes_install)
    monkeypatch.setattr(marks, "install", marks_install)
    with pytest.raises(KeyboardInterrupt):
        run_recorded(lambda: loss.backward(retain_graph=True), id_of, probes=probes,
                     marks=marks)
    loss.backward()
    assert ran == [] and marks._after == {} and not marks._handles and not probes._handles
    assert torch.equal(x.grad, x.detach().exp())
