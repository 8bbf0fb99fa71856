"""The seed lessons shipped as runnable snippets in ``gradstep/resources/examples``
(package data, so an installed wheel has them too), in the order they teach (the
UI's Examples menu lists them like this)."""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from gradstep.i18n import N_, _
from gradstep.shipped import resource

if TYPE_CHECKING:
    from importlib.resources.abc import Traversable

EXAMPLES_DIR = resource("examples")


class Example(NamedTuple):
    """One lesson: a menu title, the snippet file and one sentence about it (in English:
    ``shown_title`` and ``shown_description`` are in the person's language)."""

    id: str
    title: str
    path: Traversable  # a pathlib.Path for any installed copy
    description: str

    def shown_title(self) -> str:
        return _(self.title)

    def shown_description(self) -> str:
        return _(self.description)


def _example(id: str, title: str, description: str) -> Example:
    return Example(id, title, EXAMPLES_DIR / f"{id}.py", description)


EXAMPLES: list[Example] = [
    _example("mse_autograd_grad", N_("MSE and its gradient (autograd.grad)"),
             N_("mse = F.mse_loss(1, x*w) with w = 2: torch.autograd.grad(mse, [w]) gives 2.")),
    _example("mse_backward", N_("MSE and its gradient (backward)"),
             N_("The same gradient with mse.backward(), read from w.grad.")),
    _example("requires_grad_error", N_("Error: w does not require grad"),
             N_("w was created without requires_grad, so mse has no graph to differentiate.")),
    _example("stale_graph_trap", N_("Error: requires_grad_() after the loss was built"),
             N_("Setting requires_grad afterwards does not change the graph mse already has.")),
    _example("stale_graph_fixed", N_("Fix: rebuild the loss after requires_grad_()"),
             N_("Computing mse again records a graph that reaches w.")),
    _example("softmax_jacobian", N_("Softmax and its Jacobian"),
             N_("Rows of dp/da with autograd.grad and retain_graph=True.")),
    _example("retain_graph_error", N_("Error: backward through the graph a second time"),
             N_("The first backward frees the saved tensors; the second one fails.")),
    _example("retain_graph_fixed", N_("Fix: retain_graph=True"),
             N_("Keeping the graph lets the second backward run; .grad accumulates.")),
    _example("losses_reduction", N_("L1, MSE and CrossEntropy losses"),
             N_("nn.L1Loss (mean and reduction='sum'), nn.MSELoss, nn.CrossEntropyLoss.")),
    _example("cifar_cnn", N_("The CIFAR-10 CNN"),
             N_("The seed's MyNet: three conv/pool blocks and two linear layers, one backward.")),
    _example("grad_fn_chain", N_("y = x + 2; z = y**2 * 3; out = z.mean()"),
             N_("Each op records its grad_fn; out.backward() gives 4.5 for every x.")),
    _example("no_grad", N_("requires_grad_() and torch.no_grad()"),
             N_("Turning gradient tracking on for a tensor, and off for a block.")),
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
