"""input_slots against real torch: call each aten op with keyword arguments named as
in its schema, every differentiable input made by a node of its own, and check that
``next_functions[slot]`` of the op's node is the node that made the input the map
names, and that the node's ``_saved_<name>`` holds that input's values."""

from __future__ import annotations

import pytest
import torch

from gradstep.autograd.formulas import backward_entry, input_slots

pytest.importorskip("yaml")


def made(*shape, dtype=torch.float32):
    """Return a tensor made by its own CloneBackward0 node (values in [0.5, 1.5))."""
    return (torch.rand(shape, dtype=dtype) + 0.5).requires_grad_().clone()


def index(*values):
    return torch.tensor(values)


# op overload (a "#" starts a note) -> keyword arguments by schema name; tensors from made() get
# gradients, others (None, plain tensors) must leave their slot empty
CASES = {
    "add.Tensor": lambda: dict(self=made(2, 3), other=made(2, 3), alpha=2),
    "sub.Tensor": lambda: dict(self=made(2, 3), other=made(3)),
    "mul.Tensor": lambda: dict(self=made(2, 3), other=made(2, 3)),
    "div.Tensor": lambda: dict(self=made(2, 3), other=made(2, 3)),
    "rsub.Tensor": lambda: dict(self=made(3), other=made(3)),
    "pow.Tensor_Tensor": lambda: dict(self=made(3), exponent=made(3)),
    "pow.Tensor_Scalar": lambda: dict(self=made(3), exponent=3.0),
    "pow.Scalar": lambda: dict(self=2.0, exponent=made(3)),
    "atan2": lambda: dict(self=made(3), other=made(3)),
    "maximum": lambda: dict(self=made(3), other=made(3)),
    "where.self": lambda: dict(condition=index(True, False, True), self=made(3), other=made(3)),
    "lerp.Tensor": lambda: dict(self=made(3), end=made(3), weight=made(3)),
    "addcmul": lambda: dict(self=made(3), tensor1=made(3), tensor2=made(3), value=0.5),
    "addcdiv": lambda: dict(self=made(3), tensor1=made(3), tensor2=made(3)),
    "clamp.Tensor": lambda: dict(self=made(3), min=made(3) - 0.5, max=made(3) + 0.5),
    "sum.dim_IntList": lambda: dict(self=made(2, 3), dim=[1]),
    "mean.dim": lambda: dict(self=made(2, 3), dim=[0], keepdim=True),
    "prod.default": lambda: dict(self=made(4)),
    "amax": lambda: dict(self=made(2, 3), dim=[1]),
    "max.dim": lambda: dict(self=made(2, 3), dim=1),
    "logsumexp": lambda: dict(self=made(2, 3), dim=[1]),
    "var.correction": lambda: dict(self=made(2, 3), dim=[1]),
    "cumsum": lambda: dict(self=made(2, 3), dim=1),
    "cumprod": lambda: dict(self=made(2, 3), dim=1),
    "sort.default": lambda: dict(self=made(5)),
    "topk": lambda: dict(self=made(5), k=2),
    "view": lambda: dict(self=made(2, 3), size=[6]),
    "_reshape_alias": lambda: dict(self=made(2, 3), size=[3, 2], stride=[2, 1]),
    "_unsafe_view": lambda: dict(self=made(2, 3), size=[6]),
    "expand": lambda: dict(self=made(3), size=[2, 3]),
    "permute": lambda: dict(self=made(2, 3, 4), dims=[2, 0, 1]),
    "t": lambda: dict(self=made(2, 3)),
    "transpose.int": lambda: dict(self=made(2, 3), dim0=0, dim1=1),
    "select.int": lambda: dict(self=made(2, 3), dim=1, index=2),
    "slice.Tensor": lambda: dict(self=made(4, 3), dim=0, start=1, end=3),
    "unsqueeze": lambda: dict(self=made(3), dim=0),
    "squeeze.dim": lambda: dict(self=made(1, 3), dim=0),
    "diagonal": lambda: dict(self=made(3, 3)),
    "unfold": lambda: dict(self=made(6), dimension=0, size=2, step=2),
    "repeat": lambda: dict(self=made(2), repeats=[3]),
    "flip": lambda: dict(self=made(2, 3), dims=[0]),
    "roll": lambda: dict(self=made(4), shifts=[1]),
    "constant_pad_nd": lambda: dict(self=made(2, 3), pad=[1, 1]),
    "index.Tensor": lambda: dict(self=made(4, 3), indices=[index(0, 2)]),
    "index_select": lambda: dict(self=made(4, 3), dim=0, index=index(3, 1)),
    "gather": lambda: dict(self=made(2, 3), dim=1, index=index([0, 2], [1, 1])),
    "scatter_add": lambda: dict(self=made(2, 3), dim=1, index=index([0, 2], [1, 1]), src=made(2, 2)),
    "index_add": lambda: dict(self=made(4, 3), dim=0, index=index(0, 2), source=made(2, 3)),
    "index_put": lambda: dict(self=made(4), indices=[index(1, 3)], values=made(2)),
    "masked_fill.Tensor": lambda: dict(self=made(3), mask=index(True, False, True), value=made()),
    "masked_scatter": lambda: dict(self=made(3), mask=index(True, False, True), source=made(3)),
    "embedding": lambda: dict(weight=made(5, 2), indices=index(4, 0, 4)),
    "cat": lambda: dict(tensors=[made(2), made(3), made(1)], dim=0),
    "stack": lambda: dict(tensors=[made(2), made(2)], dim=1),
    "mm": lambda: dict(self=made(2, 3), mat2=made(3, 4)),
    "addmm": lambda: dict(self=made(2, 4), mat1=made(2, 3), mat2=made(3, 4), beta=0.5, alpha=2),
    "bmm": lambda: dict(self=made(2, 2, 3), mat2=made(2, 3, 4)),
    "baddbmm": lambda: dict(self=made(2, 2, 4), batch1=made(2, 2, 3), batch2=made(2, 3, 4)),
    "addmv": lambda: dict(self=made(2), mat=made(2, 3), vec=made(3)),
    "addr": lambda: dict(self=made(2, 3), vec1=made(2), vec2=made(3)),
    "dot": lambda: dict(self=made(3), tensor=made(3)),
    "mv": lambda: dict(self=made(2, 3), vec=made(3)),
    "linalg_cross": lambda: dict(self=made(2, 3), other=made(2, 3)),
    "mse_loss": lambda: dict(self=made(3), target=made(3)),
    "smooth_l1_loss": lambda: dict(self=made(3), target=made(3)),
    "huber_loss": lambda: dict(self=made(3), target=made(3)),
    "binary_cross_entropy": lambda: dict(self=made(3) / 2, target=made(3) / 2, weight=torch.rand(3)),
    "binary_cross_entropy_with_logits": lambda: dict(
        self=made(3), target=made(3) / 2, weight=torch.rand(3), pos_weight=torch.rand(3)),
    "nll_loss_forward": lambda: dict(self=made(2, 3), target=index(2, 0), weight=torch.rand(3),
                                     reduction=1, ignore_index=-100),
    "nll_loss2d_forward": lambda: dict(self=made(1, 3, 2, 2), target=index([[0, 1], [2, 0]]),
                                       weight=None, reduction=1, ignore_index=-100),
    "_softmax": lambda: dict(self=made(2, 3), dim=1, half_to_float=False),
    "_log_softmax": lambda: dict(self=made(2, 3), dim=1, half_to_float=False),
    "relu": lambda: dict(self=made(3) - 1),
    "gelu": lambda: dict(self=made(3)),
    "silu": lambda: dict(self=made(3)),
    "leaky_relu": lambda: dict(self=made(3) - 1),
    "hardtanh": lambda: dict(self=made(3)),
    "softplus": lambda: dict(self=made(3)),
    "_prelu_kernel": lambda: dict(self=made(2, 3) - 1, weight=made(1)),
    "native_layer_norm": lambda: dict(input=made(2, 3), normalized_shape=[3], weight=made(3),
                                      bias=made(3), eps=1e-5),
    "native_group_norm": lambda: dict(input=made(2, 4, 3), weight=made(4), bias=made(4), N=2, C=4,
                                      HxW=3, group=2, eps=1e-5),
    "native_batch_norm": lambda: dict(input=made(4, 3), weight=made(3), bias=made(3), running_mean=None,
                                      running_var=None, training=True, momentum=0.1, eps=1e-5),
    "convolution": lambda: dict(input=made(1, 2, 5, 5), weight=made(3, 2, 3, 3), bias=made(3),
                                stride=[1, 1], padding=[1, 1], dilation=[1, 1], transposed=False,
                                output_padding=[0, 0], groups=1),
    "convolution#no bias": lambda: dict(input=made(1, 2, 5, 5), weight=made(3, 2, 3, 3), bias=None,
                                        stride=[1, 1], padding=[0, 0], dilation=[1, 1], transposed=False,
                                        output_padding=[0, 0], groups=1),
    "native_layer_norm#no weight": lambda: dict(input=made(2, 3), normalized_shape=[3], weight=None,
                                                bias=None, eps=1e-5),
    "mul.Tensor#number": lambda: dict(self=made(3), other=torch.tensor(2.0)),
    "cat#one without grad": lambda: dict(tensors=[made(2), torch.rand(3), made(1)]),
    "max_pool2d_with_indices": lambda: dict(self=made(1, 1, 4, 4), kernel_size=[2, 2]),
    "avg_pool2d": lambda: dict(self=made(1, 1, 4, 4), kernel_size=[2, 2]),
    "_adaptive_avg_pool2d": lambda: dict(self=made(1, 1, 4, 4), output_size=[2, 2]),
    "upsample_bilinear2d": lambda: dict(self=made(1, 1, 2, 2), output_size=[4, 4], align_corners=False),
    "grid_sampler_2d": lambda: dict(input=made(1, 1, 3, 3), grid=made(1, 2, 2, 2) - 1,
                                    interpolation_mode=0, padding_mode=0, align_corners=False),
    "native_dropout": lambda: dict(input=made(4), p=0.5, train=True),
    "_scaled_dot_product_flash_attention_for_cpu": lambda: dict(
        query=made(1, 2, 3, 4), key=made(1, 2, 3, 4), value=made(1, 2, 3, 4)),
    "_to_copy": lambda: dict(self=made(3), dtype=torch.float64),
    "clone": lambda: dict(self=made(3)),
    "tril": lambda: dict(self=made(3, 3)),
    "split.Tensor": lambda: dict(self=made(4), split_size=2),
    "unbind.int": lambda: dict(self=made(2, 3)),
    "linalg_vector_norm": lambda: dict(self=made(3)),
    "_euclidean_dist": lambda: dict(x1=made(2, 3), x2=made(4, 3)),
    "polar": lambda: dict(abs=made(3), angle=made(3)),
}


def _call(op_name: str, kwargs: dict):
    base, _, overload = op_name.partition("#")[0].partition(".")
    out = getattr(getattr(torch.ops.aten, base), overload or "default")(**kwargs)
    return out[0] if isinstance(out, (tuple, list)) else out


def _needs_grad(value) -> bool:
    return isinstance(value, torch.Tensor) and value.requires_grad


@pytest.mark.parametrize("op_name", sorted(CASES))
def test_slot_map_names_the_node_that_made_each_input(op_name):
    kwargs = CASES[op_name]()
    fn = _call(op_name, kwargs).grad_fn
    entry = backward_entry(fn.name())
    assert entry is not None, fn.name()
    # the node must be the called op's own, or the keyword names would not be its arguments
    assert entry.forward.split(".")[0] == op_name.partition("#")[0].split(".")[0], (fn.name(), entry.forward)
    slots = input_slots(fn.name(), len(fn.next_functions))
    assert slots is not None
    assert set(slots) <= set(kwargs), (slots, kwargs)
    given = {name for name, value in kwargs.items()
             if _needs_grad(value) or (isinstance(value, list) and any(map(_needs_grad, value)))}
    assert given <= set(slots), f"{fn.name()} gives no slot to {given - set(slots)}"
    for name, slot in slots.items():
        value = kwargs[name]
        pairs = zip(slot, value) if isinstance(slot, list) else [(slot, value)]
        for one_slot, tensor in pairs:
            producer = fn.next_functions[one_slot][0]
            if _needs_grad(tensor):
                assert producer is tensor.grad_fn, (fn.name(), name, one_slot)
            else:
                assert producer is None, (fn.name(), name, one_slot)
        saved = getattr(fn, f"_saved_{name}", None)
        if isinstance(saved, torch.Tensor) and _needs_grad(value):
            assert torch.equal(saved, value), (fn.name(), name)


def test_list_arguments_need_the_slot_count():
    assert input_slots("CatBackward0") is None
    assert input_slots("CatBackward0", 3) == {"tensors": [0, 1, 2]}
    assert input_slots("torch::autograd::AccumulateGrad") is None
    assert input_slots("NoSuchBackward0") is None
    assert input_slots("MulBackward0", 2) == {"self": 0, "other": 1}
    assert input_slots("MulBackward0", 3) is None  # a count that does not fit: no guessing


def test_in_place_ops_use_the_out_of_place_class_and_its_slots():
    for method, other in (("mul_", made(3)), ("add_", made(3)), ("div_", made(3)), ("pow_", made(3))):
        target, before = made(3), None
        before = target.grad_fn
        getattr(target, method)(other)
        fn = target.grad_fn
        assert fn.name() == method.rstrip("_").title() + "Backward0" or fn.name() == "PowBackward1"
        slots = input_slots(fn.name())
        assert fn.next_functions[slots["self"]][0] is before
        names = [n for n in slots if n != "self"]
        assert fn.next_functions[slots[names[0]]][0] is other.grad_fn


def test_copy_backwards_slots():
    """``x.copy_(src)`` is hand-written in torch (CopyBackwards), its map given by hand."""
    target, source = made(3), made(3)
    before = target.grad_fn
    target.copy_(source)
    fn = target.grad_fn
    slots = input_slots(fn.name())
    assert fn.name() == "torch::autograd::CopyBackwards"
    assert fn.next_functions[slots["self"]][0] is before
    assert fn.next_functions[slots["src"]][0] is source.grad_fn


def test_view_copy_twins_share_the_view_slots():
    x = made(2, 3)
    fn = torch.view_copy(x, [6]).grad_fn
    assert fn.name() == "ViewBackward0_copy"
    slots = input_slots(fn.name())
    assert slots == {"self": 0} and fn.next_functions[0][0] is x.grad_fn


def test_saved_inputs_are_compared_for_most_ops():
    """The value check above is no formality: most of these nodes save their inputs."""
    compared = 0
    for op_name, make in CASES.items():
        kwargs = make()
        fn = _call(op_name, kwargs).grad_fn
        for name in input_slots(fn.name(), len(fn.next_functions)):
            saved = getattr(fn, f"_saved_{name}", None)
            compared += isinstance(saved, torch.Tensor) and _needs_grad(kwargs[name])
    assert compared >= 80


def test_in_place_saved_self_is_a_copy_of_the_value_before_the_op():
    """``a.mul_(b)`` saves a clone of ``a`` taken before the op: the values the slot-0 node
    produced, though the clone's own grad_fn is a CloneBackward0 outside the graph."""
    target, other = made(3), made(3)
    before_values, before_node = target.detach().clone(), target.grad_fn
    target.mul_(other)
    fn = target.grad_fn
    slots = input_slots(fn.name())
    assert fn.next_functions[slots["self"]][0] is before_node
    assert torch.equal(fn._saved_self, before_values) and fn._saved_self.grad_fn is not before_node
    assert fn._saved_other.grad_fn is other.grad_fn


@pytest.mark.parametrize("in_place", [
    lambda t: torch.nn.functional.leaky_relu(t, inplace=True),
    lambda t: torch.nn.functional.elu(t, inplace=True),
    lambda t: torch.nn.functional.threshold(t, 0.5, 0.0, inplace=True),
    lambda t: t.t_(),
    lambda t: t.unsqueeze_(0),
    lambda t: t.acosh_(),
])
def test_in_place_ops_with_an_entry_of_their_own(in_place):
    """Some in-place ops have their own yaml entry (their formula uses the result), hence
    their own class: ``leaky_relu_`` is LeakyReluBackward1, ``t_`` is TBackward1."""
    target = made(2, 2) + 1
    before = target.grad_fn
    fn = in_place(target).grad_fn
    entry = backward_entry(fn.name())
    assert entry.forward.endswith("_") and fn.name().endswith("Backward1"), (fn.name(), entry.forward)
    assert fn.next_functions[input_slots(fn.name())["self"]][0] is before
