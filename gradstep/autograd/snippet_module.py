"""The module a snippet runs as: what ``python FILE`` makes of a file's ``__main__``.

``main_module(filename)`` has the globals plain Python gives a script (``__file__``
made absolute as Python makes it, ``..`` kept, ``__loader__``, ``__cached__``, ``__annotations__``), plus the
``torch``, ``nn`` and ``F`` gradstep pre-loads. ``running_as_main`` makes it
``sys.modules["__main__"]`` while the snippet runs: ``pickle`` and ``torch.save`` find
the classes the snippet defines there, ``inspect.getsource`` their file, and
``dataclasses`` their annotations' names. It is put back as it was afterwards (a
user's own process, a notebook, keeps its ``__main__``).
"""

from __future__ import annotations

import builtins
import contextlib
import sys
import types
from collections.abc import Iterator
from importlib.machinery import BuiltinImporter, SourceFileLoader

import torch

from gradstep.policies.script_name import script_path

# A rewritten snippet nests twice as deep as the text (each operator inside a call), and
# the rewrite walks it recursively: a 330-term `x + x + ...` ran past Python's default
# limit of 1,000 frames, which plain python compiles (in C) up to ~1,000 terms and more.
REWRITE_RECURSION_LIMIT = 20_000


def main_module(filename: str) -> types.ModuleType:
    """Return a fresh ``__main__`` module for ``filename``: a file's, or for ``<stdin>``
    and ``<string>`` what ``python -`` and ``python -c`` give (``__file__`` is
    ``"<stdin>"`` for the first, absent for the second; ``__loader__`` is
    ``BuiltinImporter`` for both); another ``<...>`` name (the window's) has no file."""
    module = types.ModuleType("__main__")
    namespace = module.__dict__  # __name__, __doc__, __package__, __loader__, __spec__
    namespace.update({"__annotations__": {}, "__builtins__": builtins})
    if not filename.startswith("<"):
        path = script_path(filename)
        namespace.update({"__loader__": SourceFileLoader("__main__", path),
                          "__file__": path, "__cached__": None})
    elif filename in ("<stdin>", "<string>"):  # python - and python -c
        namespace["__loader__"] = BuiltinImporter
        if filename == "<stdin>":  # python - names its code: `Path(__file__).parent` works
            namespace.update({"__file__": filename, "__cached__": None})
    namespace.update({"torch": torch, "nn": torch.nn, "F": torch.nn.functional})
    return module


@contextlib.contextmanager
def running_as_main(module: types.ModuleType) -> Iterator[None]:
    """Make ``module`` ``sys.modules["__main__"]`` inside the block."""
    missing = object()
    saved = sys.modules.get("__main__", missing)
    sys.modules["__main__"] = module
    try:
        yield
    finally:
        if saved is missing:
            sys.modules.pop("__main__", None)
        else:
            sys.modules["__main__"] = saved


@contextlib.contextmanager
def deep_recursion(limit: int = REWRITE_RECURSION_LIMIT) -> Iterator[None]:
    """Raise Python's recursion limit to at least ``limit`` inside the block (gradstep's own
    walk of a snippet's syntax tree; never around the snippet's run)."""
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(max(saved, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)
