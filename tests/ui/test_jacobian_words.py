"""Why a node shows no Jacobian, in the Values panel's words, against what torch says."""

from __future__ import annotations

import pytest
import torch

from gradstep.autograd.jacobian import local_jacobian
from gradstep.ui.qt_values_panel import jacobian_words


def test_a_freed_node_says_torch_freed_it_in_a_pass_without_retain_graph(qapp):
    """At step 0 the Values panel shows the node's saved tensors alive (as they were then);
    the Jacobian block said "Its saved tensors are freed" beside that, with no word of when.
    torch freed them in the pass without retain_graph=True, and says so when asked again."""
    from gradstep.ui.qt_language import apply_language

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    y = x.exp()
    node = y.grad_fn
    node(torch.ones(2))  # before the pass: torch can call it (its saved result is alive)
    y.sum().backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        node(torch.ones(2))  # torch's own refusal names the missing retain_graph=True
    jac = local_jacobian(node)
    assert jac["status"] == "freed"
    words = jacobian_words(jac)
    assert "torch freed" in words and "retain_graph=True" in words
    apply_language("zh_CN")
    words = jacobian_words(jac)
    assert "retain_graph=True" in words and "释放" in words
