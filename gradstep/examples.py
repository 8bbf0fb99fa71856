"""The seed lessons shipped as runnable snippets in ``gradstep/resources/examples``
(package data, so an installed wheel has them too), in the order they teach (the
UI's Examples menu lists them like this)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from gradstep.shipped import resource

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

EXAMPLES_DIR = resource("examples")


class Example(NamedTuple):
    """One lesson: a menu title, the snippet file and one sentence about it."""

    id: str
    title: str
    path: Traversable  # a pathlib.Path for any installed copy
    description: str


def _example(id: str, title: str, description: str) -> Example:
    return Example(id, title, EXAMPLES_DIR / f"{id}.py", description)


EXAMPLES: list[Example] = [
    _example("mse_autograd_grad", "MSE and its gradient (autograd.grad)",
             "mse = F.mse_loss(1, x*w) with w = 2: torch.autograd.grad(mse, [w]) gives 2."),
    _example("mse_backward", "MSE and its gradient (backward)",
             "The same gradient with mse.backward(), read from w.grad."),
    _example("requires_grad_error", "Error: w does not require grad",
             "w was created without requires_grad, so mse has no graph to differentiate."),
    _example("stale_graph_trap", "Error: requires_grad_() after the loss was built",
             "Setting requires_grad afterwards does not change the graph mse already has."),
    _example("stale_graph_fixed", "Fix: rebuild the loss after requires_grad_()",
             "Computing mse again records a graph that reaches w."),
    _example("softmax_jacobian", "Softmax and its Jacobian",
             "Rows of dp/da with autograd.grad and retain_graph=True."),
    _example("retain_graph_error", "Error: backward through the graph a second time",
             "The first backward frees the saved tensors; the second one fails."),
    _example("retain_graph_fixed", "Fix: retain_graph=True",
             "Keeping the graph lets the second backward run; .grad accumulates."),
    _example("losses_reduction", "L1, MSE and CrossEntropy losses",
             "nn.L1Loss (mean and reduction='sum'), nn.MSELoss, nn.CrossEntropyLoss."),
    _example("cifar_cnn", "The CIFAR-10 CNN",
             "The seed's MyNet: three conv/pool blocks and two linear layers, one backward."),
    _example("grad_fn_chain", "y = x + 2; z = y**2 * 3; out = z.mean()",
             "Each op records its grad_fn; out.backward() gives 4.5 for every x."),
    _example("no_grad", "requires_grad_() and torch.no_grad()",
             "Turning gradient tracking on for a tensor, and off for a block."),
]


def get_example(example_id: str) -> Example:
    """Return the example with this id; raises KeyError naming the known ids."""
    for example in EXAMPLES:
        if example.id == example_id:
            return example
    known = ", ".join(e.id for e in EXAMPLES)
    raise KeyError(f"no example {example_id!r}; known: {known}")


def load_example(example_id: str) -> str:
    """Return the source text of the example with this id."""
    return get_example(example_id).path.read_text(encoding="utf-8")  # works from a zip too
