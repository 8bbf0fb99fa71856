"""The keywords a misspelt keyword argument may have meant, for the function Python's
message names (``tensor() got an unexpected keyword argument 'require_grad'``)."""

from __future__ import annotations

import difflib
import inspect
import sys

# the keywords of torch a beginner types most: suggested for a torch function whose own
# parameters cannot be read (a builtin such as torch.tensor or torch.zeros)
COMMON = ("requires_grad", "dtype", "device", "dim", "keepdim", "retain_graph",
          "create_graph", "grad_outputs", "gradient", "inputs", "allow_unused", "reduction",
          "bias", "in_features", "out_features", "kernel_size", "stride", "padding", "lr",
          "momentum", "weight_decay")
_HOMES = ("", "nn", "nn.functional", "optim", "autograd", "linalg", "special", "fft")


def meant_keyword(function: str, name: str) -> str | None:
    """Return the keyword ``name`` was likely meant to be, or None. Only for torch's own
    functions (the snippet's ``train()`` takes what it defines, not torch's words), from
    that function's parameters where they can be read; never ``name`` itself."""
    candidates = [k for k in _keywords_of(function) if k != name]
    near = difflib.get_close_matches(name, candidates, n=1, cutoff=0.75)
    return near[0] if near else None


def _keywords_of(function: str) -> tuple:
    torch = sys.modules.get("torch")  # a snippet that never imported torch called no torch
    if torch is None:
        return ()
    target = _torch_callable(torch, function.removesuffix(".__init__"))
    if target is None:
        return ()
    try:
        return tuple(inspect.signature(target).parameters)
    except (TypeError, ValueError):  # a builtin without a signature
        return COMMON


def _torch_callable(torch, dotted: str):
    """Return the torch function or class ``dotted`` names (``tensor``, ``Linear``,
    ``Tensor.backward``, ``relu``), found where the snippet would have reached it."""
    for home in _HOMES:
        value = torch
        for part in [*home.split("."), *dotted.split(".")]:
            if not part:
                continue
            value = getattr(value, part, None)
            if value is None:
                break
        if value is not None and value is not torch and callable(value):
            return value
    return None
