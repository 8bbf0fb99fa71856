"""Run one case file as ``__main__`` in this process, as ``python CASE`` would, and
gather facts about it at one observation level.

Levels (each is a fresh forked process, see ``oracle.py``):

- ``minimal``: nothing is installed while the case runs; afterwards the graph
  from the root, the leaves' values and ``.grad``.
- ``full``: the ``Observer`` (settrace, saved tensors at each backward call)
  and the profiler while the case runs, then the same as ``minimal``.
- ``light``: like ``full`` without reading saved tensors.
- ``quiet``: like ``light`` without the profiler (a case that runs its own cannot
  run under the oracle's): no engine steps.
- ``mode``: the ``Recorder`` (a ``TorchFunctionMode``, ``oracle_record``) while
  the case runs, then the same as ``minimal`` plus the values it recorded.
- ``mode_outside_modules``: the same, with the mode off inside ``nn.Module`` calls.

The case gets what ``python CASE`` gives a script: a fresh ``__main__`` module
with ``__file__`` (absolute), ``sys.argv[0]``, the case's folder first on
``sys.path`` and the source compiled from its bytes without this file's
``__future__`` flags. What it prints (fd 1 and 2, one file) is the case's output.
"""

from __future__ import annotations

import builtins
import importlib.machinery
import os
import sys
import types

import torch
from oracle_facts import MARKER, engine_steps, leaf_facts, walk_graph
from oracle_observe import Observer
from oracle_record import Recorder

LEVELS = ("minimal", "full", "light", "quiet", "mode", "mode_outside_modules")


def run_level(case_path: str, root: str | None, level: str, output_path: str,
              device: str | None = None) -> dict:
    """Run the case once at ``level``; return its facts (output written to ``output_path``)."""
    if level not in LEVELS:
        raise ValueError(f"unknown level {level!r}")
    if level.startswith("mode"):
        return _run_recorded(case_path, root, level, output_path, device)
    observer = None
    if level != "minimal":
        observer = Observer(case_path, saved=level == "full", ranges=level != "quiet")
    profiler = None
    if observer is not None and level != "quiet":
        use_device = "cuda" if device == "cuda" else None
        profiler = torch.autograd.profiler.profile(use_device=use_device)
        profiler.__enter__()
    module = _main_module(case_path)
    with output_to(output_path):
        if device is not None:
            torch.set_default_device(device)
        if observer is not None:
            observer.start()
        try:
            exception = _execute(case_path, module)
        finally:
            if observer is not None:
                observer.stop()
                observer.leftover_calls()
    if profiler is not None:
        profiler.__exit__(None, None, None)
    facts = {"level": level, "exception": exception}
    facts.update(_end_facts(module.__dict__, root, observer))
    if observer is not None:
        facts["calls"] = _calls_with_steps(observer, profiler)
    return facts


def _run_recorded(case_path: str, root: str | None, level: str, output_path: str,
                  device: str | None) -> dict:
    """The ``mode`` levels: the case runs under a ``Recorder``."""
    recorder = Recorder(outside_modules=level == "mode_outside_modules")
    module = _main_module(case_path)
    with output_to(output_path):
        if device is not None:
            torch.set_default_device(device)
        with recorder.active():
            exception = _execute(case_path, module)
    facts = {"level": level, "exception": exception, "torch_calls": recorder.calls}
    facts.update(_end_facts(module.__dict__, root, recorder))
    return facts


def _main_module(case_path: str) -> types.ModuleType:
    module = types.ModuleType("__main__")
    module.__file__ = case_path
    module.__cached__ = None
    module.__package__ = None
    module.__spec__ = None
    module.__loader__ = importlib.machinery.SourceFileLoader("__main__", case_path)
    module.__builtins__ = builtins
    sys.modules["__main__"] = module
    sys.argv = [os.path.basename(case_path)]
    sys.path[0] = os.path.dirname(case_path)
    return module


def _execute(case_path: str, module) -> dict | None:
    """Run the case; return its uncaught exception as ``{"type", "message"}``, or None."""
    with open(case_path, "rb") as handle:
        source = handle.read()
    try:
        code = compile(source, case_path, "exec", dont_inherit=True)
        exec(code, module.__dict__)
    except SystemExit as exc:
        if exc.code in (None, 0):
            return None
        return {"type": "SystemExit", "message": str(exc.code)}
    except BaseException as exc:  # the case's own failure is a fact, not ours
        return {"type": exception_type(exc), "message": str(exc)}
    return None


def exception_type(exc: BaseException) -> str:
    """Return the exception's type as a traceback prints it (``torch.AcceleratorError``)."""
    cls = type(exc)
    if cls.__module__ in ("builtins", "__main__"):
        return cls.__qualname__
    return f"{cls.__module__}.{cls.__qualname__}"


class output_to:
    """Send fd 1 and 2 (and Python's sys.stdout/stderr with them) to one file."""

    def __init__(self, path: str):
        self.path = path

    def __enter__(self):
        sys.stdout.flush()
        sys.stderr.flush()
        self.saved = (os.dup(1), os.dup(2))
        target = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(target, 1)
        os.dup2(target, 2)
        os.close(target)

    def __exit__(self, *exc):
        sys.stdout.flush()
        sys.stderr.flush()
        for fd, saved in zip((1, 2), self.saved):
            os.dup2(saved, fd)
            os.close(saved)


def _end_facts(namespace: dict, root: str | None, watcher) -> dict:
    """Return the graph from ``root`` at the end, its leaves, and the values the watcher
    (an Observer, a Recorder or None) saw for its nodes."""
    facts: dict = {"graph": None, "leaf_values": {}, "leaf_grads": {}, "values": {},
                   "conflicts": []}
    tensor = namespace.get(root) if root else None
    if not isinstance(tensor, torch.Tensor) or tensor.grad_fn is None:
        facts["root_problem"] = f"{root!r} is not a tensor with a grad_fn at the end"
        return facts
    id_of, nodes, edges = walk_graph([tensor.grad_fn])
    facts["graph"] = {"nodes": nodes, "edges": edges}
    facts["leaf_values"], facts["leaf_grads"] = leaf_facts(id_of)
    if watcher is None:
        return facts
    if isinstance(watcher, Observer):
        watcher.scan(namespace.values())
        watcher.read_saved(id_of)  # the case is over: reading now cannot change what it did
    facts["values"], facts["conflicts"] = node_values(watcher, id_of)
    return facts


def node_values(watcher, id_of: dict) -> tuple[dict, list]:
    """Return ``({node id: {output_nr: summary with version}}, [conflicts])`` of the
    values an Observer or Recorder saw for the nodes of ``id_of``."""
    values: dict = {}
    conflicts: list = []
    for (fn, output_nr), (version, value) in watcher.values.items():
        node_id = id_of.get(fn)
        if node_id is None:
            continue
        if (fn, output_nr) in watcher.conflicts:
            conflicts.append(f"{node_id} output {output_nr}")
            continue
        values.setdefault(node_id, {})[str(output_nr)] = {**value, "version": version}
    return values, conflicts


def _calls_with_steps(observer: Observer, profiler) -> list:
    if profiler is None:  # the quiet level: no steps
        return observer.calls
    events = profiler.function_events
    markers = {e.name: e for e in events if e.name.startswith(MARKER)}
    for record in observer.calls:
        marker = markers.get(f"{MARKER}{record['index']}")
        record["steps"] = None if marker is None else engine_steps(events, marker)
    return observer.calls

