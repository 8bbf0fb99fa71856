"""Local Jacobians of graph nodes against formulas and torch.autograd.functional.jacobian."""

import pytest
import torch
import torch.nn.functional as F

from gradstep.autograd.jacobian import local_jacobian, precompute, remembered, vjp_of_ones
from gradstep.autograd.trace import trace_graph

SEED_A = [0.1440, 0.5349, 0.7022]


def block(jac, slot=0, output=0):
    return next(b for b in jac["blocks"] if b["slot"] == slot and b["output"] == output)


def test_softmax_jacobian_is_p_i_times_delta_ij_minus_p_j():
    a = torch.tensor(SEED_A, requires_grad=True)
    p = F.softmax(a, dim=0)
    jac = local_jacobian(p.grad_fn)
    assert jac["status"] == "ok" and jac["name"] == "SoftmaxBackward0"
    got = torch.tensor(block(jac)["matrix"], dtype=torch.float64)
    q = p.detach().double()
    formula = torch.diag(q) - torch.outer(q, q)  # p_i (delta_ij - p_j)
    assert torch.allclose(got, formula, atol=1e-6)
    # the seed's printed rows: grad(p[1], [a]) and grad(p[2], [a])
    assert got[1].tolist() == pytest.approx([-0.0828, 0.2274, -0.1447], abs=1e-4)
    assert got[2].tolist() == pytest.approx([-0.0979, -0.1447, 0.2425], abs=1e-4)
    (row1,) = torch.autograd.grad(p[1], [a], retain_graph=True)
    assert torch.allclose(got[1], row1.double(), atol=1e-6)


def test_jacobian_frees_nothing():
    a = torch.tensor(SEED_A, requires_grad=True)
    p = F.softmax(a, dim=0)
    local_jacobian(p.grad_fn)
    p.backward(torch.ones(3))  # would fail if the Jacobian had freed the buffers
    assert a.grad is not None


@pytest.mark.parametrize(
    ("op", "y_shape"),
    [(torch.mul, (2, 3)), (torch.atan2, (2, 3)), (torch.mm, (3, 2)),
     (lambda x, y: torch.cat([x, y]).reshape(3, 4)[:, :3].sin(), (2, 3))],
)
def test_every_block_matches_torch_functional_jacobian(op, y_shape):
    torch.manual_seed(0)
    x = torch.randn(2, 3, requires_grad=True)
    y = torch.randn(*y_shape, requires_grad=True)
    out = op(x, y)
    fn = out.grad_fn
    jac = local_jacobian(fn, snippet_done=True)
    assert jac["status"] == "ok"
    if fn.name() == "SinBackward0":  # the Jacobian of this node alone: sin' on its input
        inner = out.grad_fn._saved_self.detach()
        expected = torch.diag(inner.reshape(-1).cos()).double()
        assert torch.allclose(torch.tensor(block(jac)["matrix"], dtype=torch.float64), expected, atol=1e-6)
        return
    full = torch.autograd.functional.jacobian(op, (x.detach(), y.detach()))
    for slot, expected in enumerate(full):
        expected = expected.reshape(out.numel(), -1).double()
        assert torch.allclose(torch.tensor(block(jac, slot)["matrix"], dtype=torch.float64), expected, atol=1e-5)


def test_multi_output_node_has_a_block_per_output():
    x = torch.arange(6.0).reshape(2, 3).requires_grad_()
    first, second = torch.unbind(x)
    fn = first.grad_fn
    assert fn is second.grad_fn
    jac = local_jacobian(fn, snippet_done=True)
    assert jac["outputs"] == [[3], [3]]
    for out_index in range(2):
        m = torch.tensor(block(jac, 0, out_index)["matrix"])
        expected = torch.autograd.functional.jacobian(lambda t, i=out_index: torch.unbind(t)[i], x.detach())
        assert torch.equal(m, expected.reshape(3, 6))


def test_slot_without_gradient_is_null():
    w = torch.tensor([1.0, 2.0], requires_grad=True)
    out = w * torch.tensor([3.0, 4.0])
    jac = local_jacobian(out.grad_fn)
    assert out.grad_fn.next_functions[1][0] is None
    assert block(jac, 1)["matrix"] is None
    assert block(jac, 0)["matrix"] == [[3.0, 0.0], [0.0, 4.0]]
    assert jac["inputs"][1] is None


def test_large_leaf_and_freed_nodes_answer_plainly():
    big = torch.randn(100, requires_grad=True)
    assert local_jacobian((big * 2).grad_fn)["status"] == "too_large"
    assert local_jacobian(big.sum().grad_fn)["status"] == "too_large"  # input side too big
    root = (big * 2).sum()
    assert local_jacobian(root.grad_fn.next_functions[0][0].next_functions[0][0])["status"] == "leaf"
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    y.sum().backward()
    freed = local_jacobian(y.grad_fn)
    assert freed["status"] == "freed" and "freed" in freed["reason"]


def test_precomputed_jacobian_survives_the_pass_that_frees_the_node():
    a = torch.tensor(SEED_A, requires_grad=True)
    p = F.softmax(a, dim=0)
    root = p[1]
    trace = trace_graph(root)
    before = precompute(trace.id_of)
    softmax_id = trace.id_of[p.grad_fn]
    assert before[softmax_id]["status"] == "ok"
    root.backward()
    after = local_jacobian(p.grad_fn)
    assert after.get("remembered") is True
    assert after["blocks"] == before[softmax_id]["blocks"]
    assert remembered(p.grad_fn) is not None


def test_vjp_of_ones_is_the_column_sum():
    x = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x**2
    vjp = vjp_of_ones(y.grad_fn)
    assert vjp["grad_outputs"] == [[1.0, 1.0, 1.0]]
    (expected,) = torch.autograd.grad(y, x, torch.ones(3))
    assert vjp["grad_inputs"] == [expected.tolist()]


def test_custom_function_is_never_called_for_its_jacobian():
    """A custom Function's backward is Python code (it may print, count, or run a backward
    of its own): gradstep gives no Jacobian rather than run it."""
    runs = []

    class Square(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, grad):
            runs.append(1)
            (x,) = ctx.saved_tensors
            return 2 * x * grad

    x = torch.tensor([1.0, -3.0], requires_grad=True)
    fn = Square.apply(x).grad_fn
    for snippet_done in (False, True):
        jac = local_jacobian(fn, snippet_done=snippet_done)
        assert jac["status"] == "unsupported" and "custom autograd.Function" in jac["reason"]
        assert vjp_of_ones(fn, snippet_done=snippet_done)["status"] == "unsupported"
    assert precompute({fn: "n0"}) == {}
    assert runs == []


def test_a_node_whose_saved_tensors_are_hooked_is_never_called():
    """Calling the node would run the unpack hook (user code, checkpoint's recomputation)."""
    unpacked = []
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        y = x.sin()
    jac = local_jacobian(y.grad_fn, snippet_done=True)
    assert jac["status"] == "unsupported" and "saved_tensors_hooks" in jac["reason"]
    assert unpacked == []
    y.sum().backward()  # torch itself unpacks once
    assert unpacked == [1]


def test_a_saved_view_is_read_only_once_the_snippet_is_done():
    """Calling a node that saved a view reads the view's node, which torch rebuilds when its
    base changed in place since: not while the snippet runs."""
    x = torch.randn(2, 4, requires_grad=True)
    y = (x * 1)[:, :3].sin()
    assert local_jacobian(y.grad_fn)["status"] == "unsupported"
    assert local_jacobian(y.grad_fn, snippet_done=True)["status"] == "ok"


def test_an_exception_without_a_message_is_named_by_its_type():
    from gradstep.autograd.saved import first_line

    assert first_line(AssertionError()) == "AssertionError"
    assert first_line(RuntimeError("one\ntwo")) == "one"


def test_an_in_place_op_on_a_view_is_never_called():
    """CopySlices calls the in-place op's own node, which Python cannot see: a custom
    Function's backward (mark_dirty on a view) or a hooked saved tensor (checkpoint's
    recomputation) would run."""
    runs, unpacked = [], []

    class Double(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.mark_dirty(x)
            return x.mul_(2)

        @staticmethod
        def backward(ctx, grad):
            runs.append(1)
            return grad * 2

    a = torch.ones(3, requires_grad=True)
    b = a.clone()
    Double.apply(b[:2])
    w = torch.tensor([2.0, 3.0], requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        c = a.clone()
        c[:2].mul_(w)
    for fn in (b.grad_fn, c.grad_fn):
        assert type(fn).__name__ == "CopySlices"
        for snippet_done in (False, True):
            jac = local_jacobian(fn, snippet_done=snippet_done)
            assert jac["status"] == "unsupported" and "in-place op on a view" in jac["reason"]
            assert vjp_of_ones(fn, snippet_done=snippet_done)["status"] == "unsupported"
    assert precompute({b.grad_fn: "n0", c.grad_fn: "n1"}) == {}
    assert runs == [] and unpacked == []


def test_a_node_without_a_class_of_its_own_is_never_called():
    """torch's generic CppFunction (a _foreach op's node) shows none of its saved tensors:
    a saved_tensors_hooks unpack hook holding them would run."""
    unpacked = []
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    with torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: unpacked.append(1) or t):
        (y,) = torch._foreach_mul([x], [x])
    fn = y.grad_fn
    assert type(fn).__name__ == "CppFunction"
    for snippet_done in (False, True):
        jac = local_jacobian(fn, snippet_done=snippet_done)
        assert jac["status"] == "unsupported" and "saved_tensors_hooks" in jac["reason"]
        assert vjp_of_ones(fn, snippet_done=snippet_done)["status"] == "unsupported"
    assert precompute({fn: "n0"}) == {}
    assert unpacked == []


def test_no_node_is_called_under_deterministic_algorithms():
    """With warn_only=True a node whose op has no deterministic version (put_'s) warns
    into the snippet's output; without it, it raises."""
    import warnings

    a = torch.ones(4, requires_grad=True)
    b = a.clone()
    b.put_(torch.tensor([0, 2]), torch.tensor([5.0, 6.0]))
    fn = b.grad_fn
    torch.use_deterministic_algorithms(True, warn_only=True)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            jac = local_jacobian(fn, snippet_done=True)
            assert vjp_of_ones(fn)["status"] == "unsupported"
            assert precompute({fn: "n0"}) == {}
    finally:
        torch.use_deterministic_algorithms(False)
    assert jac["status"] == "unsupported" and "deterministic" in jac["reason"]
    assert caught == []


def test_a_nodes_warning_is_not_shown_or_used_up_when_gradstep_calls_it():
    """A node's backward that warns (here a custom Function's, called directly) warns
    nothing when gradstep calls it; torch's warn-always is on meanwhile, so a
    TORCH_WARN_ONCE inside is not used up for the snippet's own pass; and no module
    forgets a warning it showed once (``catch_warnings`` would have made them forget)."""
    import warnings

    from gradstep.autograd.jacobian import call_node

    seen = []

    class Loud(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2

        @staticmethod
        def backward(ctx, g):
            seen.append(torch.is_warn_always_enabled())
            warnings.warn("from backward", stacklevel=1)
            return g * 2

    def warn_once_here():
        warnings.warn("shown once at this line", stacklevel=1)

    y = Loud.apply(torch.ones(2, requires_grad=True))
    shown = []
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = lambda message, *args, **kwargs: shown.append(str(message))
        filters = warnings.filters
        warn_once_here()
        (grad,) = call_node(y.grad_fn, [torch.ones(2)])
        warn_once_here()
        assert warnings.filters is filters
    assert grad.tolist() == [2.0, 2.0] and seen == [True] and not torch.is_warn_always_enabled()
    assert shown == ["shown once at this line"]


def test_a_filter_or_catch_warnings_of_another_thread_outlives_gradsteps_node_call():
    """While gradstep calls a node, a snippet thread's own filter change stays after the
    call, and a ``catch_warnings`` the thread entered meanwhile does not leave gradstep's
    ignore-everything filter as the program's (``warnings.filters`` was swapped for a list
    of gradstep's: the thread's filter went with it, and its ``catch_warnings`` put that
    list back for good, every later warning unshown)."""
    import threading
    import warnings

    from gradstep.autograd.unheard import unheard

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        inside, leave = threading.Event(), threading.Event()

        def thread_filters():
            inside.wait()
            warnings.filterwarnings("error", message="the thread's")

        def thread_catches():
            with warnings.catch_warnings():
                inside.set()
                leave.wait()

        for body in (thread_filters, thread_catches):
            inside.clear()
            thread = threading.Thread(target=body)
            with unheard():
                thread.start()
                inside.set()
                inside.wait()
                if body is thread_filters:
                    thread.join()
            leave.set()
            thread.join()
        assert any(f[0] == "error" for f in warnings.filters)
        with pytest.raises(UserWarning):
            warnings.warn("the thread's filter makes this an error", UserWarning, stacklevel=1)
        with warnings.catch_warnings(record=True) as shown:
            warnings.warn("a later warning", UserWarning, stacklevel=1)
        assert len(shown) == 1


def test_an_interrupt_while_gradstep_turns_warnings_off_leaves_them_on(monkeypatch):
    """A KeyboardInterrupt (the window's Stop) inside the block's start must not leave
    gradstep's ignore-everything filter in ``warnings.filters`` for the rest of the run."""
    import warnings

    from gradstep.autograd.unheard import unheard

    def interrupted(on):
        raise KeyboardInterrupt

    with warnings.catch_warnings():
        warnings.simplefilter("default")
        before = list(warnings.filters)
        monkeypatch.setattr(torch, "set_warn_always", interrupted)
        monkeypatch.setattr(torch, "is_warn_always_enabled", lambda: False)
        with pytest.raises(KeyboardInterrupt), unheard():
            pass
        assert warnings.filters == before
