"""Plain saved values read as torch holds them."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from gradstep.autograd.saved import saved_items


def test_an_int64_that_torch_hands_out_unsigned_reads_as_torch_holds_it():
    """NllLossBackward0 saves ignore_index=-100 (int64); its binding reads 2**64 - 100."""
    x = torch.randn(2, 3, requires_grad=True)
    loss = F.cross_entropy(x, torch.tensor([0, 1]))
    assert loss.grad_fn._saved_ignore_index == 2**64 - 100  # torch's binding, as it is today
    values = {item["name"]: item.get("value") for item in saved_items(loss.grad_fn)}
    assert values["ignore_index"] == -100
    assert values["reduction"] == 1


def test_plain_saved_values_are_what_the_general_conversion_gives():
    from gradstep.autograd.saved import _plain_saved, _signed
    from gradstep.autograd.values import to_jsonable

    cases = [3, -3, 2**63, 2**64 - 100, 2**64, True, 1.5, None, [], (), [1, -2, 3], (4, 5),
             [2**64 - 1, 2], (1, True), [1, 2.0], [[1, 2], [3]], (torch.float32, 1), "mean",
             torch.tensor([1.0, 2.0])]
    for saved in cases:
        assert _plain_saved(saved) == to_jsonable(_signed(saved)), saved
        assert type(_plain_saved(saved)) is type(to_jsonable(_signed(saved))), saved
