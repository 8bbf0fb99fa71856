"""torch_switches: what a run left in torch is set back before the kernel's next run."""

from __future__ import annotations

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
