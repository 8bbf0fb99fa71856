"""What the in-process A/B scripts (``saved_ab``, ``remember_ab``, ``keys_ab``,
``pass_probe_ab``) share: an old copy of a gradstep module loaded beside this tree's, a
bench snippet's root, and the grad_fns of its graph."""

from __future__ import annotations

import importlib.util
import sys


def load_old(path: str, name: str):
    """Return the module of file ``path`` (an old tree's copy of gradstep/autograd/NAME.py),
    loaded as ``gradstep.autograd.NAME_old`` beside this tree's own."""
    spec = importlib.util.spec_from_file_location(f"gradstep.autograd.{name}_old", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (a dataclass looks its module up)
    spec.loader.exec_module(module)
    return module


def snippet_root(snippet: str, root_name: str):
    """Run the bench snippet file ``snippet``; return its variable ``root_name``."""
    namespace: dict = {}
    with open(snippet, encoding="utf-8") as f:
        exec(compile(f.read(), snippet, "exec"), namespace)  # noqa: S102 (a bench snippet)
    return namespace[root_name]


def graph_nodes(root) -> list:
    """Return the grad_fns of ``root``'s graph (an explicit stack and a seen set)."""
    nodes, seen, stack = [], set(), [root.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        nodes.append(fn)
        stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return nodes
