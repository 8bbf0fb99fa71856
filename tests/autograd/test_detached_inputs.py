"""Saved inputs detached or changed in place, whatever derivatives.yaml calls them.

For each op, each of its tensor inputs (a non-leaf) is in turn detached in place
(``t.detach_()``) or changed through a detached alias (``t.detach().add_(1)``), and what
gradstep says before the pass (``saved_items``, the trace's; ``refusals_now``, the pass
probe's) is compared with what torch's own backward then does: whether it raises, its
message, and which saved slot holds the tensor (the ``SavedTensor``'s data *is* the input).
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

from gradstep.autograd.safe_reads import raw_saved_names
from gradstep.autograd.saved import refusals_now, saved_items
from gradstep.autograd.saved_inputs import saved_input_names

DETACHED = "Trying to use a saved tensor that has been detached in-place"
VERSIONS = re.compile(r"is at version (\d+); expected version (\d+) instead")


def _inputs(*shapes):
    torch.manual_seed(0)
    return [torch.randn(*s, requires_grad=True) * 1.5 for s in shapes]  # non-leaves


def _sdpa_math(q, k, v):
    with sdpa_kernel(SDPBackend.MATH):
        return F.scaled_dot_product_attention(q, k, v)


def _foreach_div(a, b):
    return torch.stack(torch._foreach_div([a], [b]))


CASES = {  # name -> (op, input shapes)
    "mm": (torch.mm, [(3, 2), (2, 4)]),
    "bmm": (torch.bmm, [(2, 3, 2), (2, 2, 4)]),
    "addmm": (torch.addmm, [(4,), (3, 2), (2, 4)]),
    "cdist": (torch.cdist, [(3, 2), (4, 2)]),
    "sdpa": (F.scaled_dot_product_attention, [(1, 2, 3, 4)] * 3),
    "sdpa_math": (_sdpa_math, [(1, 2, 3, 4)] * 3),
    "linear": (F.linear, [(3, 2), (4, 2)]),
    "conv1d": (F.conv1d, [(1, 2, 5), (3, 2, 2)]),
    "layer_norm": (lambda x, w: F.layer_norm(x, (4,), w), [(3, 4), (4,)]),
    "addcmul": (torch.addcmul, [(3,), (3,), (3,)]),
    "lerp": (torch.lerp, [(3,), (3,), (3,)]),
    "atan2": (torch.atan2, [(3,), (3,)]),
    "pow": (lambda x, y: torch.pow(x.abs() + 1, y), [(3,), (3,)]),
    "mse_loss": (F.mse_loss, [(3,), (3,)]),
    "softmax": (lambda x: F.softmax(x, -1), [(2, 3)]),
    "foreach_div": (_foreach_div, [(3,), (3,)]),
}


def _nodes(out) -> list:
    """Every node of ``out``'s graph (an explicit stack; no gradstep code)."""
    seen, stack = [], [out.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or any(fn is s for s in seen):
            continue
        seen.append(fn)
        stack.extend(f for f, _ in fn.next_functions)
    return seen


def _holding(nodes, tensor) -> set:
    """(node index, saved name) of each saved slot whose data is ``tensor`` itself."""
    found = set()
    for i, fn in enumerate(nodes):
        for attr in raw_saved_names(type(fn)):
            raw = getattr(fn, attr)
            for j, item in enumerate(raw if isinstance(raw, (list, tuple)) else [raw]):
                if item is not None and item.data is tensor:
                    name = attr.removeprefix("_raw_saved_")
                    found.add((i, f"{name}[{j}]" if isinstance(raw, (list, tuple)) else name))
    return found


def _marked(nodes, field: str) -> tuple[dict, dict]:
    """What gradstep says before the pass: the trace's saved items and the pass probe's."""
    traced = {(i, item["name"]): item for i, fn in enumerate(nodes) for item in saved_items(fn)
              if item.get(field)}
    probed = refusals_now({fn: i for i, fn in enumerate(nodes)}) or {}
    probed = {(i, name): fields for i, marks in probed.items() for name, fields in marks.items()
              if fields.get(field)}
    return traced, probed


def _torch_error(out) -> str | None:
    try:
        out.sum().backward()
    except RuntimeError as exc:
        return str(exc)
    return None


CHANGES = {"detach_": lambda t: t.detach_(), "detach().add_": lambda t: t.detach().add_(1)}


@pytest.mark.parametrize("change", CHANGES)
@pytest.mark.parametrize("case", CASES)
def test_gradstep_says_a_saved_input_is_refused_exactly_where_torchs_backward_refuses_it(case, change):
    op, shapes = CASES[case]
    for which in range(len(shapes)):
        inputs = _inputs(*shapes)
        out = op(*inputs)
        nodes = _nodes(out)
        target = inputs[which]
        holding = _holding(nodes, target)
        CHANGES[change](target)
        field = "detached_in_place" if change == "detach_" else "changed_in_place"
        traced, probed = _marked(nodes, field)
        error = _torch_error(out)
        where = f"{case}, input {which}, {change}: torch says {error!r}"
        if change == "detach_":
            refused = error is not None and DETACHED in error
            assert bool(traced) == refused, where
            if refused:  # the slot that holds the very tensor, and no other
                assert set(traced) == holding, where
        else:
            found = VERSIONS.search(error or "")
            if found and not traced and not holding:
                # a *view* of the input is saved (sdpa's math path): unpacking it to ask would
                # rebuild its stale node, so gradstep shows less (``safe_reads.unpack``)
                assert "which is output 0 of" in error, where
                continue
            assert bool(traced) == bool(found), where
            if found:
                assert set(traced) == holding, where
                versions = {(m["version"], m["saved_version"]) for m in traced.values()}
                assert versions == {(int(found[1]), int(found[2]))}, where
        assert set(probed) == set(traced), where
        for key, item in traced.items():  # the probe's fields are the trace's
            assert probed[key] == {k: v for k, v in item.items() if k in (
                "detached_in_place", "changed_in_place", "version", "saved_version")}, where


def test_the_names_the_old_list_missed_are_found_where_torch_refuses_them():
    """sdpa's ``key``, cdist's ``x1``/``x2``: a fixed list of names (``self``, ``other``,
    ``mat2``...) missed them, so gradstep showed them as torch would take them."""
    q, k, v = _inputs(*[(1, 2, 3, 4)] * 3)
    out = F.scaled_dot_product_attention(q, k, v)
    k.detach_()
    (names,) = [[i["name"] for i in saved_items(fn) if i.get("detached_in_place")]
                for fn in _nodes(out) if fn is out.grad_fn]
    assert names == ["key"]
    assert DETACHED in _torch_error(out)
    x1, x2 = _inputs((3, 2), (4, 2))
    d = torch.cdist(x1, x2)
    x1.detach_()
    assert [i["name"] for i in saved_items(d.grad_fn) if i.get("detached_in_place")] == ["x1"]
    assert DETACHED in _torch_error(d)


def test_every_saved_tensor_of_every_node_class_is_an_input_or_an_output_of_its_entry():
    """Each ``_raw_saved_<name>`` of every node class torch ships is either an input
    (``saved_input_names``) or an output named by derivatives.yaml (``result``, a return
    name): none is left unknown, so none is missed for want of a name."""
    from gradstep.autograd.derivatives import load_table

    table = load_table()
    classes = [getattr(torch._C._functions, n) for n in dir(torch._C._functions)]
    checked = 0
    for cls in classes:
        if not isinstance(cls, type) or not raw_saved_names(cls):
            continue
        entry = table.entry(cls.__name__)
        assert entry is not None, cls.__name__
        outputs = {s.name for s in entry.saved if s.is_output}
        inputs = saved_input_names(cls)
        assert not inputs & outputs, cls.__name__
        for attr in raw_saved_names(cls):
            assert attr.removeprefix("_raw_saved_") in inputs | outputs, (cls.__name__, attr)
        checked += 1
    assert checked > 300
    frexp = torch._C._functions.FrexpBackward0  # ``exponent`` is its output, pow's input
    assert "exponent" not in saved_input_names(frexp)
    assert "exponent" in saved_input_names(torch._C._functions.PowBackward1)


@pytest.mark.parametrize("table", ["missing", "raises"])
def test_without_derivatives_yaml_no_saved_input_is_claimed(monkeypatch, table):
    """A torch without derivatives.yaml (or one whose table cannot be read): no name is known
    as an input, so nothing is shown as detached in place, and nothing fails."""
    from gradstep.autograd import saved, saved_inputs
    from gradstep.autograd.derivatives import DerivativeTable

    def load():
        if table == "raises":
            raise ValueError("an odd yaml")
        return DerivativeTable(unavailable="no derivatives.yaml")

    monkeypatch.setattr(saved_inputs, "_KNOWN", {})  # both per node class, read once
    monkeypatch.setattr(saved, "_PROBED", {})
    monkeypatch.setattr(saved_inputs, "load_table", load)
    for op, shapes, which in ((F.scaled_dot_product_attention, [(1, 2, 3, 4)] * 3, 1),
                              (torch.mm, [(3, 2), (2, 4)], 1)):  # ``mat2``: the old list's
        inputs = _inputs(*shapes)
        out = op(*inputs)
        inputs[which].detach_()
        assert saved_input_names(type(out.grad_fn)) == frozenset()
        assert _marked(_nodes(out), "detached_in_place") == ({}, {})
        assert DETACHED in _torch_error(out)  # torch refuses it: gradstep shows less, not wrong
