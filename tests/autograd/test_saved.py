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
