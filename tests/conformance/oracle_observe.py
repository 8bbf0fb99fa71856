"""Watch a running case from the outside: Python-level tracing and backward calls.

``Observer`` is a ``sys.settrace`` function. It changes no torch kernel, mode or
hook; it reads:

- **values**: every tensor bound to a local variable of a traced frame (at each
  line and at return) and every tensor a function returns, summarised when
  first seen, keyed by ``(grad_fn object, output_nr)`` together with the
  tensor's version (several sightings: the lowest version wins, it is the one
  nearest the node's creation; two different values at the same version are a
  conflict and the key is dropped). A view is read once: after its version
  changed its ``grad_fn`` may be stale, and reading a stale view's ``grad_fn``
  regenerates it, so it is left alone.
- **saved tensors**: when the case makes a backward call, the ``_saved_*``
  tensors of that call's graph are read before the engine frees them
  (``saved=True``), and those of the final graph once the case is over
  (``read_saved``). Only those torch holds without a ``saved_tensors_hooks``
  unpack hook are unpacked (``_raw_saved_*``'s ``unpack_hook`` is None):
  unpacking a hooked one would run the hook (checkpoint recomputation, user
  code). A custom Function's ``saved_tensors`` unpack together: all or none.
- **backward calls** made from the case's own lines, outside another one (``Tensor.backward``,
  ``torch.autograd.backward``, ``torch.autograd.grad``): the line, the call's
  graph numbered like ``walk_graph``, a profiler range named
  ``oracle_backward_call:<index>`` around the call (its engine steps are read
  from the profiler later), and after it the leaves' ``.grad`` (or
  ``autograd.grad``'s results).
"""

from __future__ import annotations

import os
import sys
import sysconfig
import weakref
from collections.abc import Iterator

import torch
from oracle_facts import (
    CONTAINERS,
    MARKER,
    is_a,
    items_of,
    leaf_variable,
    summarize,
    traced,
    unwatched,
    walk_graph,
)

_ORACLE_DIR = os.path.dirname(os.path.abspath(__file__))
_STDLIB = os.path.realpath(sysconfig.get_paths()["stdlib"]) + os.sep
_IMPORT = ("<frozen importlib._bootstrap>", "_find_and_load")
_ROOTS_ARGUMENT = {"Tensor.backward": "self", "torch.autograd.backward": "tensors",
                   "torch.autograd.grad": "outputs"}
# where torch's function holds an iterator argument as a tuple: the argument itself rebound
# (`outputs = tuple(outputs)`), or these locals (torch 2.x)
_CONVERTED = {"roots": ("t_tensors", "t_outputs"), "inputs": ("inputs_tuple", "t_inputs")}
_BARREN_AFTER = 3  # a function that held no tensor needing grad in 3 calls is not traced again
_BACKWARD_APIS = {
    torch.Tensor.backward.__code__: "Tensor.backward",
    torch.autograd.backward.__code__: "torch.autograd.backward",
    torch.autograd.grad.__code__: "torch.autograd.grad",
}


_RAW = "_raw_saved_"


class Observer:
    """The trace function and what it saw (see the module docstring)."""

    def __init__(self, case_path: str, *, saved: bool, ranges: bool = True):
        self.case_path = case_path
        self.saved_during_run = saved
        self.ranges = ranges  # a profiler range around each backward call (its steps)
        self.values: dict = {}  # (grad_fn, output_nr) -> (version, summary)
        self.conflicts: set = set()
        self.calls: list = []
        self._seen: dict = {}  # id(tensor) -> (weakref, version)
        self._open: dict = {}  # backward-call frame -> (record, profiler range)
        self._raising: set = set()  # backward-call frames an exception is leaving
        self._importing = 0  # imports in progress: nothing is traced inside them
        self._skipped: set = set()  # code objects not traced
        self._barren: dict = {}  # code object -> calls that held no tensor needing grad
        self._fruitful: set = set()  # frames that held one

    # ------------------------------------------------------------ tracing

    def start(self) -> None:
        sys.settrace(self.on_call)

    def stop(self) -> None:
        sys.settrace(None)

    def on_call(self, frame, event, arg):
        code = frame.f_code
        if self._importing or code in self._skipped:
            return None
        api = _BACKWARD_APIS.get(code)
        if api is not None:
            caller = self._case_frame(frame.f_back)
            # one made while another is open (by a TorchFunctionMode's __torch_function__
            # passing the call on, or a hook's) is part of that call, as gradstep records it
            if caller is not None and not self._open:
                with unwatched(record=True):  # the call's profiler range is recorded
                    self._begin_call(frame, api, caller.f_lineno)
                return self.on_backward_event
            return None
        if (code.co_filename, code.co_name) == _IMPORT:
            self._importing += 1
            frame.f_trace_lines = False
            return self.on_import_event
        if self._skip(code):
            self._skipped.add(code)
            return None
        return self.on_event

    def _case_frame(self, frame):
        """Return the case's frame that made a backward call whose caller is ``frame``:
        ``frame`` itself, or the case's frame above helper modules of the case's own folder
        only (``helper_train.step(loss)``); None for a call made inside any other code."""
        folder = os.path.dirname(self.case_path)
        while frame is not None:
            filename = frame.f_code.co_filename
            if filename == self.case_path:
                return frame
            if os.path.dirname(filename) != folder:
                return None
            frame = frame.f_back
        return None

    def _skip(self, code) -> bool:
        filename = code.co_filename
        if filename.startswith("<") or os.path.dirname(filename) == _ORACLE_DIR:
            return True
        if os.path.realpath(filename).startswith(_STDLIB) and "site-packages" not in filename:
            return True
        # module bodies run at import: many lines, no graph
        return code.co_name == "<module>" and filename != self.case_path

    def on_import_event(self, frame, event, arg):
        if event == "return":
            self._importing -= 1
        return self.on_import_event

    def on_event(self, frame, event, arg):
        # under torch.jit.trace a summary's torch calls would be traced into the module
        if (event == "line" or event == "return") and not traced():
            try:
                with unwatched():
                    if self.scan(frame.f_locals.values()):
                        self._fruitful.add(frame)
                    if event == "return":
                        self.scan((arg,))
                        self._returned(frame)
            except Exception:  # an observer must never break the case
                pass
        return self.on_event

    def _returned(self, frame) -> None:
        """Stop tracing a function that keeps holding no tensor that needs grad."""
        if frame in self._fruitful:
            self._fruitful.discard(frame)
            self._barren[frame.f_code] = -1_000_000  # it held one once: always traced
            return
        code = frame.f_code
        count = self._barren[code] = self._barren.get(code, 0) + 1
        if count >= _BARREN_AFTER and code.co_filename != self.case_path:
            self._skipped.add(code)

    def on_backward_event(self, frame, event, arg):
        # an exception leaving the call: 'exception' is the frame's last event before
        # 'return' (arg None); one caught inside the call is followed by a 'line'
        if event == "exception":
            self._raising.add(frame)
        elif event == "line":
            self._raising.discard(frame)
            if frame in self._open and self._open[frame][0]["_waiting"]:
                try:
                    self._read_waiting(frame)
                except Exception:
                    pass
        elif event == "return":
            raised = frame in self._raising
            self._raising.discard(frame)
            try:
                self._end_call(frame, arg, raised=raised)
            except Exception:
                pass
        return self.on_backward_event

    # ------------------------------------------------------------ values

    def scan(self, items) -> bool:
        """Observe the tensors among ``items`` (and in small containers); return True
        when one of them needs grad."""
        found = False
        for item in items:
            if is_a(item, torch.Tensor):
                found = self.observe(item) or found
            elif is_a(item, CONTAINERS) and len(inner_items := items_of(item)) <= 16:
                for inner in inner_items:
                    if is_a(inner, torch.Tensor):
                        found = self.observe(inner) or found
            elif is_a(item, dict) and dict.__len__(item) <= 32:
                for inner in list(dict.values(item)):  # never a subclass's own values()
                    if is_a(inner, torch.Tensor):
                        found = self.observe(inner) or found
        return found

    def observe(self, t: torch.Tensor) -> bool:
        """Record ``t``'s value under its node, unless that could regenerate a stale view;
        return True when ``t`` needs grad."""
        if not t.requires_grad or t.is_inference():
            return False
        version = t._version
        key = id(t)
        seen = self._seen.get(key)
        if seen is not None and seen[0]() is t:
            if seen[1] == version or t._is_view():
                return True
        self._seen[key] = (weakref.ref(t), version)
        fn = t.grad_fn
        if fn is not None:
            self.record(fn, t.output_nr, version, t)
        return True

    def record(self, fn, output_nr: int, version: int, t: torch.Tensor) -> None:
        key = (fn, output_nr)
        old = self.values.get(key)
        if old is not None and old[0] < version:
            return
        value = summarize(t)
        if old is not None and old[0] == version and old[1] != value:
            self.conflicts.add(key)
        if old is None or version < old[0]:
            self.values[key] = (version, value)

    def read_saved(self, id_of: dict) -> None:
        """Record the values of the saved tensors of a graph about to run backward (those
        held without an unpack hook)."""
        for fn in id_of:
            for raw_name in _raw_names(type(fn)):
                try:
                    raw = getattr(fn, raw_name)
                    held = raw if isinstance(raw, CONTAINERS) else (raw,)
                    if any(item is None or item.unpack_hook is not None for item in held):
                        continue
                    saved = getattr(fn, _unpacking_name(fn, raw_name))
                except Exception:  # freed, or modified in place since it was saved
                    continue
                for t in saved if isinstance(saved, CONTAINERS) else (saved,):
                    if isinstance(t, torch.Tensor) and t.grad_fn is not None:
                        self.record(t.grad_fn, t.output_nr, t._version, t)

    # ------------------------------------------------------------ backward calls

    def _begin_call(self, frame, api: str, line: int) -> None:
        args = frame.f_locals
        record = {"index": len(self.calls), "line": line, "api": api,
                  "nodes": [], "steps": None,
                  "leaf_grads": {}, "grad_results": None,
                  "_id_of": {}, "_inputs": [], "_waiting": {}}
        self.calls.append(record)
        names = {"roots": _ROOTS_ARGUMENT[api]}
        if api == "torch.autograd.grad":
            names["inputs"] = "inputs"
        for what, name in names.items():
            if isinstance(args.get(name), Iterator):  # read once torch has made it a tuple
                record["_waiting"][what] = (name, *_CONVERTED[what])
            else:
                self._read_argument(record, what, _as_list(args.get(name)))
        profiler_range = None
        if self.ranges:
            profiler_range = torch.autograd.profiler.record_function(f"{MARKER}{record['index']}")
            profiler_range.__enter__()
        self._open[frame] = (record, profiler_range)

    def _read_waiting(self, frame) -> None:
        """Read the call's iterator arguments once torch's function holds them as a tuple
        (before its engine runs): listing the iterator itself would have used it up."""
        record = self._open[frame][0]
        args = frame.f_locals
        for what, names in list(record["_waiting"].items()):
            value = next((args[n] for n in names
                          if args.get(n) is not None and not isinstance(args[n], Iterator)), None)
            if value is not None:
                del record["_waiting"][what]
                with unwatched():
                    self._read_argument(record, what, _as_list(value))

    def _read_argument(self, record: dict, what: str, tensors: list) -> None:
        """Record a call's roots (its graph, and the saved tensors of it) or its inputs."""
        if what == "inputs":
            record["_inputs"] = tensors
            return
        fns = [r.grad_fn for r in tensors if isinstance(r, torch.Tensor) and r.grad_fn is not None]
        id_of, nodes, _edges = walk_graph(fns)
        if self.saved_during_run:
            with unwatched():
                self.read_saved(id_of)
        record["nodes"] = [n["name"] for n in nodes]
        record["_id_of"] = id_of

    def _end_call(self, frame, result, *, raised: bool = False) -> None:
        record, profiler_range = self._open.pop(frame)
        if profiler_range is not None:
            with unwatched(record=True):
                profiler_range.__exit__(None, None, None)
        with unwatched():
            self._end_facts(record, result, raised)

    def _end_facts(self, record: dict, result, raised: bool) -> None:
        id_of = record.pop("_id_of")
        inputs = record.pop("_inputs")
        waiting = record.pop("_waiting")
        for fn, node_id in id_of.items():
            variable = leaf_variable(fn)
            if variable is not None:
                grad = variable.grad
                record["leaf_grads"][node_id] = None if grad is None else summarize(grad)
        if record["api"] == "torch.autograd.grad" and not raised:
            results = list(result) if isinstance(result, CONTAINERS) else [None] * len(inputs)
            if "inputs" in waiting:  # never seen as a tuple: which node each result is of is unknown
                inputs = [None] * len(results)
            record["grad_results"] = [
                {"node": _input_node(t, id_of),
                 "value": None if g is None else summarize(g)}
                for t, g in zip(inputs, results)]

    def leftover_calls(self) -> None:
        """Close the profiler ranges of calls still open (the case stopped inside one)."""
        for frame in list(self._open):
            self._end_call(frame, None, raised=True)


_raw_name_cache: dict = {}


def _raw_names(node_type: type) -> tuple:
    """Return the ``_raw_saved_*`` attributes of a node class (a custom Function:
    ``_raw_saved_tensors``)."""
    names = _raw_name_cache.get(node_type)
    if names is None:
        names = _raw_name_cache[node_type] = tuple(a for a in dir(node_type) if a.startswith(_RAW))
    return names


def _unpacking_name(fn, raw_name: str) -> str:
    """``_raw_saved_x`` unpacks as ``_saved_x``; a custom Function's as ``saved_tensors``."""
    if isinstance(fn, torch.autograd.function.BackwardCFunction):
        return "saved_tensors"
    return "_saved_" + raw_name[len(_RAW):]


def _as_list(value) -> list:
    """The tensors of a backward call's argument (never an iterator: see ``_read_waiting``)."""
    if value is None:
        return []
    if isinstance(value, torch.Tensor):
        return [value]
    return list(value)


def _input_node(t, id_of: dict) -> str | None:
    """Return the call-graph id of an ``autograd.grad`` input (its leaf or its grad_fn)."""
    if not isinstance(t, torch.Tensor):
        return None
    for fn, node_id in id_of.items():
        if leaf_variable(fn) is t:
            return node_id
    return id_of.get(t.grad_fn)
