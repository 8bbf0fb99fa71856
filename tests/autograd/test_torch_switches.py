"""torch_switches: what a run left in torch is set back before the kernel's next run."""

from __future__ import annotations

import torch

from gradstep.autograd import torch_switches


def test_dynamo_counts_and_compiles_afresh_after_a_run_that_compiled():
    """A second run of a ``torch.compile`` snippet in the window's kernel printed dynamo's
    counters doubled (``{'calls_captured': 2, 'unique_graphs': 2}``; python: 1 and 1).
    (The kernel test of the other switches imports no dynamo: that import takes a second.)"""
    from torch._dynamo.utils import counters

    noted = torch_switches.note()
    counters["stats"]["unique_graphs"] += 1  # what a compile in the last run counted
    torch_switches.put_back(noted)
    assert not counters


def test_an_autocast_left_entered_that_changed_no_flag_is_left_too():
    """``torch.autocast("cpu", enabled=False, cache_enabled=False).__enter__()`` changes no
    enabled flag but leaves its nesting at 1 and the cache off: the next run's ``with autocast``
    did not clear its weight cache on exit, so a second block after an in-place update of the
    weight computed with the old weight ([[2.0, 2.0]]; python: [[6.0, 6.0]])."""
    noted = torch_switches.note()
    torch.autocast("cpu", enabled=False, cache_enabled=False).__enter__()
    torch_switches.put_back(noted)
    assert torch.is_autocast_cache_enabled()
    w = torch.nn.Parameter(torch.ones(2, 2))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        torch.ones(1, 2) @ w
    with torch.no_grad():
        w.mul_(3)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        after = torch.ones(1, 2) @ w
    assert after.tolist() == [[6.0, 6.0]]
