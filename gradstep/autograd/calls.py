"""Record the backward calls a snippet makes itself, then let them behave exactly as torch does.

While ``capture_backward_calls(filename)`` is active, ``torch.Tensor.backward``,
``torch.autograd.backward`` and ``torch.autograd.grad`` are wrapped. A call made
from a frame compiled from ``filename`` (the snippet), or from a helper module of the
user's that the snippet called (``call_site``), is recorded: its snippet line, the
API, ``retain_graph``/``create_graph``, and its ``timeline`` (the backward JSON
of that call's own graph: steps, leaf grads keyed by the snippet's variable
names, freed buffers, error). If torch raises, the very same exception is
raised again, so the snippet stops at that line as it would without gradstep.
Calls from anywhere else (torch itself, the recorder) go straight through.
Before the real pass, small nodes' Jacobians are computed and remembered
(``jacobian.precompute``) so they can still be shown once the pass freed them.
``Tensor.register_hook`` is wrapped too, only to note the node a hook goes onto
(``tensor_hooks.noting_hooks``: a pass over it copies each gradient).

A record: ``{"index", "line", "code", "api", "retain_graph", "create_graph",
"nodes": [{"id", "name", "label"}], "timeline", "error"}``; a ``torch.autograd.grad``
call adds ``returned`` (what it gave back, in input order; None when it raised) and
``returned_inputs`` (their labels). ``Session.run`` adds ``drawn`` (see ``call_graphs``). Only the first
``MAX_CALLS`` calls are recorded; if there were more, a last record with
``api: "skipped"``, ``skipped_calls`` (how many) and ``timeline: None`` says so
(the same once the kept records hold ``MAX_STEPS`` steps).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import sys
import threading
import types
import weakref
from collections.abc import Iterator
from dataclasses import dataclass, field

import torch
from torch._C._autograd import _get_sequence_nr
from torch.autograd.graph import GradientEdge
from torch.compiler import is_compiling
from torch.jit import _builtins as jit_builtins

from gradstep.autograd import (
    held_signals,
    jacobian,
    pass_versions,
    saved_memory,
    snippet_source,
    tensor_hooks,
)
from gradstep.autograd.backward import (
    GRAD_MOVED,
    NO_STEPS,
    grads_collector,
    pass_record,
    retained_tensors,
    run_recorded,
)
from gradstep.autograd.build_marks import BuildMarks
from gradstep.autograd.call_site import snippet_frame
from gradstep.autograd.errors import MOVED_CALL, explain
from gradstep.autograd.frame_names import frame_labels, frame_namespace, graph_ids
from gradstep.autograd.freed_by import freeing_calls, name_freeing_calls
from gradstep.autograd.handler_raised import raised_by_handler, reraise_if_handlers
from gradstep.autograd.hook_probes import hook_probes
from gradstep.autograd.hook_raised import failed_node, written_in_the_pass
from gradstep.autograd.leaves_and_freed import freed_node_ids
from gradstep.autograd.node_class_caches import PYTHON_NODE
from gradstep.autograd.node_memory import mark_of
from gradstep.autograd.own_frames import drop_own_frames, frames_out
from gradstep.autograd.safe_reads import ACCUMULATE_GRAD, grad_fn_of, is_plain
from gradstep.autograd.saved import refusals_now, refusals_when_raised
from gradstep.autograd.snippet_depth import call_levelled
from gradstep.autograd.step_hooks import gc_paused
from gradstep.autograd.swaps import Release, over, swapping, under_way
from gradstep.autograd.tensor_hooks import has_tensor_hooks, noted_nodes, noting_hooks
from gradstep.autograd.trace import node_key, node_name
from gradstep.autograd.unseen import unseen

MAX_CALLS = 50  # records kept per run; later calls run unrecorded (a training loop)
MAX_STEPS = 100_000  # steps kept over all records of a run (a big model in a loop)

_TARGETS = (
    (torch.Tensor, "backward", "Tensor.backward"),
    (torch.autograd, "backward", "torch.autograd.backward"),
    (torch.autograd, "grad", "torch.autograd.grad"),
)


@contextlib.contextmanager
def capture_backward_calls(filename: str = "<snippet>", observer=None):
    """Yield the ``CapturedCalls`` that collect one record per backward call of the snippet.

    ``observer`` (an ``observe.Observer``) reads the values its saved tensors
    prove before each recorded call frees them. The wrapped torch functions are
    restored on exit, also when the snippet failed.
    """
    calls = CapturedCalls()
    pass_versions.forget()
    tensor_hooks.forget()  # an earlier run's hooked nodes: its graph is dropped
    capture = _Capture(filename, calls, observer)
    originals = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in _TARGETS]
    builtins: list = []
    thread_start = threading.Thread.start
    swap_tensors = torch.utils.swap_tensors
    register_hook = torch.Tensor.register_hook
    run = under_way(getattr(observer, "bindings", None))
    try:
        threading.Thread.start = capture.noting_threads(thread_start)
        torch.utils.swap_tensors = swapping(swap_tensors)
        torch.Tensor.register_hook = noting_hooks(register_hook)  # hooks inside modules
        for (owner, attr, api), (_, _, original) in zip(_TARGETS, originals):
            wrapper = capture.wrap(original, api)
            builtins += _same_builtin(wrapper, original)
            setattr(owner, attr, wrapper)
            capture.wrapped.append((owner, attr, original, wrapper))
        _forget_method_tables()
        yield calls
    finally:
        capture.plain_backward.publish()
        threading.Thread.start = thread_start
        torch.utils.swap_tensors = swap_tensors
        torch.Tensor.register_hook = register_hook
        over(run)
        capture.wrapped = []  # torch's functions in place
        for owner, attr, original in originals:
            setattr(owner, attr, original)
        _forget_builtins(builtins)
        _forget_method_tables()
        if capture.skipped:
            calls.add(_skipped_record(len(calls.records), capture.skipped))


def _same_builtin(wrapper, original) -> list:
    """Let TorchScript take ``wrapper`` for the builtin op ``original`` is (``torch.autograd.grad``
    is ``aten::grad``); return what to undo with ``_forget_builtins``.

    ``torch.jit.script`` looks a called function up in its builtin table by the function
    object's id: without this it compiled the wrapper's Python source and failed ("annotated
    assignments without assigned value aren't supported") where the plain run calls the op.
    The table is built once, from ``_builtin_ops``: the wrapper goes into both (whether or
    not the table was built yet). A scripted function's call then runs the op itself,
    unrecorded, as in the plain run (``Tensor.backward`` is no builtin: nothing to do).
    """
    try:
        table = jit_builtins._builtin_table
        if table is not None:
            op = table.get(id(original))
        else:
            op = next((op for fn, op in jit_builtins._builtin_ops if fn is original), None)
        if op is None:
            return []
        entry = (wrapper, op)
        jit_builtins._builtin_ops.append(entry)
        if table is not None:
            table[id(wrapper)] = op
        return [entry]
    except Exception:  # another torch: TorchScript compiles the wrapper, as it did before
        return []


def _forget_builtins(entries: list) -> None:
    """Take the wrappers ``_same_builtin`` registered out of TorchScript's builtin table again
    (a later object with a gone wrapper's id would be taken for the op)."""
    for entry in entries:
        wrapper, op = entry
        try:
            ops = jit_builtins._builtin_ops
            for i in range(len(ops) - 1, -1, -1):
                if ops[i] is entry:
                    del ops[i]
            table = jit_builtins._builtin_table
            if table is not None and table.get(id(wrapper)) == op:
                del table[id(wrapper)]
        except Exception:
            pass


# torch's tables of ``Tensor``'s methods, each built on its first call (``functools.cache``)
# from the objects ``Tensor``'s attributes were then: one built during a run holds that run's
# wrappers, one built outside holds torch's own functions. In a later run (the window's kernel
# runs many in one process) a table of the other kind did not know ``Tensor.register_hook``
# or ``Tensor.backward``: ``torch.overrides.resolve_name(func)`` of a mode's ``func`` gave
# None where python gives "torch.Tensor.register_hook", and torch.compile broke its graph at
# ``torch.Tensor.register_hook(h, hook)`` ("Failed to set tensor attribute"; dynamo's
# ``get_tensor_method``). Each is emptied as the wrappers go in and again as torch's own come
# back, so it is rebuilt (0.1-8 ms, only where asked for) from what ``Tensor`` holds then.
_METHOD_TABLES = (
    ("torch.overrides", "get_testing_overrides"),
    ("torch.overrides", "_get_overridable_functions"),
    ("torch.overrides", "_get_tensor_methods"),
    ("torch._dynamo.trace_rules", "get_tensor_method"),  # only where dynamo is imported
)


def _forget_method_tables() -> None:
    """Empty those of ``_METHOD_TABLES`` that were built."""
    for module, name in _METHOD_TABLES:
        table = getattr(sys.modules.get(module), name, None)
        try:
            if table is not None and table.cache_info().currsize:
                table.cache_clear()
        except Exception:  # another torch: the table stays as it was
            pass


class CallGraph:
    """A recorded call's graph as ``call_graphs`` needs it once the snippet is done, holding
    nothing the plain run would have freed: holding a call's nodes kept its whole graph alive
    until the run ended, leaves' AccumulateGrad nodes with it, which torch then reused for
    later graphs (with the hooks the snippet had put on them, and the shapes the leaves had
    then: a pruned ``weight.data`` made the next backward fail), and its memory.

    ``ids`` maps each node's ``trace.node_key`` to the call's node id. ``roots`` are the
    call's root nodes that may join the drawn graph (``p[1]`` of ``p = softmax(a)``,
    ``a.sum()`` of an ``a`` the snippet holds, ``l1`` of ``l1.backward()``). A root whose
    tensor the snippet's variables hold is not held: it is that tensor's node again when
    ``roots`` is read, if the tensor lives and its node is still that root (not after
    ``l1.detach_()`` or an in-place op on ``l1``). Any other root is held only when each
    node it leads to is the node of a tensor they hold (or, for a view, of the view's
    base), and only while those tensors live. Such a root keeps alive nothing but itself.
    """

    def __init__(self, ids: dict):
        self.ids = ids
        self._held: list[list] = []
        # (finalizer on a tensor the snippet held, key of the root that was its node): the
        # root is that tensor's node as the snippet ends, if it still is (holding the root
        # kept the graph below alive past ``l1.detach_()``, which frees it in python)
        self._through: list[tuple] = []
        # {node id: {saved name: version}}: the saved views whose refusal the probe as the
        # call began could not tell (``saved.refusals_now``), told once the snippet is done
        self.view_versions: dict = {}
        self.raised_view_versions: dict = {}  # the same, probed as the call raised
        # ``(id, node_key(grad_fn))`` of each tensor the call differentiated (``l1`` of
        # ``out.l1.backward()``): the root drawn where no top-level name holds one
        # (``runner._call_roots``). Not the tensor, nor a weak reference to it: the snippet
        # would see one in ``weakref.getweakrefcount``
        self.root_keys: list = []
        # the snippet started a thread, before this call or after it: torch numbers each
        # thread's nodes from its own counter, so a key of this graph may be another
        # thread's node, drawn or not; its op nodes are then told by ``marks``
        self.threads = False
        # {node id: the op node's anomaly-metadata dict, held (None: one it cannot give,
        # ``node_memory.mark_of``)}: no other node can have that very dict while it is held,
        # so it tells this graph's nodes from another thread's of the same number and name
        # (``call_graphs.DrawnNodes.ids_of``)
        self.marks: dict = {}

    @classmethod
    def of(cls, root_tensors: list, id_of: dict, namespace: dict, bindings=None) -> CallGraph:
        """``bindings`` (``names.Bindings``): a view a top-level name holds is found by its node
        too where that is the node read as torch made it and its version has not moved since
        (``Bindings.view_node``: ``vals = (a * 2).view(6); vals.sum().backward()``); any other
        view's node is left unread."""
        graph = cls({node_key(fn): node_id for fn, node_id in id_of.items()})
        graph.marks = {node_id: mark_of(fn) for fn, node_id in id_of.items()
                       if type(fn) is not ACCUMULATE_GRAD}
        owners = None
        for tensor in root_tensors:
            root = tensor.grad_fn
            if root is None:
                continue
            graph.root_keys.append((id(tensor), node_key(root)))
            if owners is None:  # the tensors the snippet holds, by their node
                owners = {}
                for name, value in namespace.items():
                    if not is_plain(value):
                        continue
                    fn = grad_fn_of(value)
                    if fn is None and bindings is not None and value.requires_grad:
                        fn = bindings.view_node(name, value)
                    if fn is not None:
                        owners.setdefault(fn, value)
            base = tensor._base if tensor._is_view() else None
            if base is not None and base.grad_fn is not None:
                owners.setdefault(base.grad_fn, base)
            if root in owners:  # ``l1`` of ``l1.backward()``: found again through ``l1``
                graph._through.append((weakref.finalize(owners[root], Release([])),
                                       node_key(root)))
                continue
            children = [fn for fn, _ in root.next_functions if fn is not None]
            if not children or not all(fn in owners for fn in children):
                continue
            held = [root]
            for fn in children:
                weakref.finalize(owners[fn], Release(held))  # (swaps: told as gradstep's)
            graph._held.append(held)
        return graph

    @property
    def roots(self) -> list:
        """Return the root nodes still held (the tensors they lead to are alive)."""
        roots: list = []
        for held in self._held:
            roots += held[:1]  # one step: a finalizer on another thread may clear it meanwhile
        for finalizer, key in self._through:
            alive = finalizer.peek()  # (None once the tensor died, or a swap let it go)
            fn = grad_fn_of(alive[0]) if alive else None
            if fn is not None and node_key(fn) == key:
                roots.append(fn)
        return roots


@dataclass
class CapturedCalls:
    """What ``capture_backward_calls`` collected: ``records`` (plain data,
    ``schema.timeline.CallRecord``) and, side by side, ``graphs``: per record, its
    ``CallGraph`` or None (never in the JSON; used to draw the calls on the traced graph,
    see ``call_graphs``)."""

    records: list[dict] = field(default_factory=list)
    graphs: list = field(default_factory=list)

    def add(self, record: dict, graph=None, *, threads: bool = False) -> None:
        """Keep ``record`` and its graph (None: nothing to draw it on). A call that failed on
        buffers an earlier call freed has its error name that call's line (``freed_by``).
        Once the snippet started a thread (``threads``) the nodes are told apart by their
        metadata dicts, not their keys: torch numbers each thread's nodes from its own
        counter, so a node key of another thread's graph may be the same and name a call
        that freed nothing of this graph."""
        error = record.get("error")
        if error and error.get("kind") == "freed_buffers" and record.get("timeline"):
            freeing = freeing_calls(self.records, self.graphs, record["timeline"], graph,
                                    threads=threads)
            if freeing:
                record["error"] = record["timeline"]["error"] = name_freeing_calls(error, freeing)
        if graph is not None and threads:
            graph.threads = True
        self.records.append(record)
        self.graphs.append(graph)

    def thread_started(self) -> None:
        """Mark the graphs kept so far: the snippet started a thread, whose nodes may have
        their keys (a call before it freed ``(0, 'ExpBackward0')``, and a thread then built
        a drawn ``ExpBackward0`` numbered 0 too)."""
        for graph in self.graphs:
            if graph is not None:
                graph.threads = True

    def ended_by(self, exc: BaseException) -> None:
        """``exc`` (a ``sys.exit(0)``) ended the snippet, as the file's end would: the
        recorded call it was raised in (a hook's, inside the snippet's ``loss.backward()``)
        keeps no error. Only that call: one whose ``sys.exit(0)`` the snippet caught stays
        a pass that torch stopped with an error. Its steps and freed flags stay those of
        the pass torch stopped (nothing freed past where it stopped). The call is found from
        the exception's own traceback, so nothing keeps the exception alive longer than
        python does: its ``record`` frame is one the exception left, which the wrapper took
        out of the traceback (``own_frames.drop_own_frames``: python shows no frame of
        gradstep's), between two frames the traceback holds. A finished frame keeps its
        caller (``f_back``), so the frames from the lower one's caller up to the upper one
        are those taken out; where that walk does not reach the upper frame (a traceback the
        snippet put together itself) no call is taken for it."""
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            upper, frame = tb.tb_frame, tb.tb_next.tb_frame.f_back
            left = []
            while frame is not None and frame is not upper:
                if frame.f_code is _Capture.record.__code__:
                    left.append(frame.f_locals.get("record"))
                frame = frame.f_back
            for record in left if frame is upper else ():
                for kept in self.records:
                    if kept is record and kept.get("timeline") is not None:
                        kept["error"] = kept["timeline"]["error"] = None
                        kept["timeline"]["ended_snippet"] = True  # it did not finish
            tb = tb.tb_next


def _skipped_record(index: int, count: int) -> dict:
    """Return the last record of a snippet that made more backward calls than are kept."""
    return {
        "index": index, "line": None, "code": None, "api": "skipped", "skipped_calls": count,
        "retain_graph": None, "create_graph": None, "nodes": [], "timeline": None, "error": None,
        "note": f"{count} more backward calls ran as usual but were not recorded "
                f"(at most {MAX_CALLS} calls and {MAX_STEPS} steps are kept)",
    }


def _without_columns(code: types.CodeType) -> types.CodeType:
    """Return ``code`` with its instructions' column positions dropped (Python 3.11+'s location
    table, entries of kind 13: a line, no columns): moved to the snippet's line, the lambda's
    columns underlined nothing of that line in a traceback (a line of spaces under it)."""
    if sys.version_info < (3, 11):
        return code
    units, table = len(code.co_code) // 2, bytearray()
    while units:  # an entry covers up to 8 code units; line delta 0 (signed varint)
        length = min(units, 8)
        table += bytes([0x80 | (13 << 3) | (length - 1), 0])
        units -= length
    try:
        return code.replace(co_linetable=bytes(table))
    except Exception:
        return code


# The frame that calls torch's function: compiled at the snippet's call site (below)
_CALL = _without_columns(compile(f"lambda {MOVED_CALL}, args, kwargs: {MOVED_CALL}(*args, **kwargs)",
                                 "<call>", "eval").co_consts[0])


def _binds(signature, args, kwargs) -> bool:
    """Whether ``args`` and ``kwargs`` bind to ``signature``. Wrong arguments are passed on
    plainly, before anything reads them (a generator among them is not consumed), and not
    from inside an ``except``: torch's own ``TypeError`` then has no ``__context__`` of
    gradstep's (a snippet that printed it showed ``inspect``'s error "During handling of the
    above exception")."""
    try:
        signature.bind(*args, **kwargs)
    except TypeError:
        return False
    return True


def as_if_called_from(frame):
    """Return ``call(function, args, kwargs)`` whose frame has the file, line, name and globals
    of ``frame``: the frame torch's function sees above it is then the one the plain run
    has, so its ``warnings.warn(..., stacklevel=2)`` (``only_inputs``, ``grad_variables``)
    names the snippet's line, with its module's "once per location" registry, not
    gradstep's wrapper. (Its first argument is named ``MOVED_CALL``: an error is located in
    the snippet's own frame, not this one.)"""
    code = frame.f_code  # made anew at each call (~2 us): a cache would keep the snippet's
    try:                 # globals alive past its run
        moved = _CALL.replace(co_filename=code.co_filename, co_firstlineno=frame.f_lineno,
                              co_name=code.co_name)
        return types.FunctionType(moved, frame.f_globals)
    except Exception as exc:  # a frame whose code cannot be moved: gradstep's own frame, as before
        reraise_if_handlers(exc)
        return _call_plain


def _call_plain(function, args, kwargs):
    return function(*args, **kwargs)


def _runs_python(id_of: dict, copy: bool, probes) -> bool:
    """Return whether a pass over ``id_of`` runs Python code of the snippet's or torch's that
    gradstep can see: a tensor hook (``copy``, ``probes``), a custom ``Function`` or a
    module's backward hook (a Python node). The plain run would run a signal's handler in
    the first such code after the signal came, which ``held_signals`` cannot reach from
    gradstep's step hooks: the snippet's handlers stay in place for such a pass and run
    where the signal finds the pass (a step hook of gradstep's, as before recfix3), which
    stops the pass at about the node where python's would stop; holding them, a hook that
    waits for the timer waited on and a timeout let the pass run through (review of
    recfix3)."""
    return (copy or probes is not None  # (a node's class asked once: ~60 us on 3,000 nodes)
            or any(issubclass(kind, PYTHON_NODE) for kind in set(map(type, id_of))))


class _PlainTensorBackward:
    """torch's ``Tensor.backward`` as the wrapper calls it: torch's code, whose own
    ``torch.autograd.backward`` is torch's function where the wrapper stands there.

    torch's ``Tensor.backward`` calls ``torch.autograd.backward``, which, looked up in
    ``torch.autograd`` while the snippet runs, is gradstep's wrapper: two frames of
    gradstep's stood between torch's two functions, so a warning a hook gives with a
    ``stacklevel`` past torch's frames (``BackwardHook``'s "Full backward hook is firing",
    ``stacklevel=5``) named gradstep's wrapper where python names the snippet's line.
    (fidhunt5 put torch's own three functions back in their places while a call was
    recorded: a hook then read other objects there than the snippet had read before,
    ``torch.autograd.grad is g`` was False, recfix3.) The code is torch's own, with its
    file, lines and name; its globals are a dict that reads the module's own at each
    lookup (``__missing__``), but for ``torch``, which reads ``torch``'s attributes at
    each lookup, and ``torch.autograd``'s, but for a ``backward`` that is the wrapper
    (whatever else stands there, a function of the snippet's, is called as in python).
    A warning aimed at its frame is noted in that dict's ``__warningregistry__``, which
    the module takes as its own after the call (``publish``) where python made it."""

    def __init__(self, capture: _Capture):
        self.capture = capture
        self.module_globals: dict | None = None
        self.globals: dict = {}
        self.shared = None  # the module's registry, once the two share it

    def of(self, original):
        """Return ``original`` (torch's ``Tensor.backward``) with those globals."""
        try:
            module_globals = original.__globals__
            seen = _ModuleGlobals(module_globals)
            seen.update({name: module_globals[name] for name in ("__name__", "__builtins__")})
            self.shared = module_globals.get("__warningregistry__")
            if self.shared is not None:
                seen["__warningregistry__"] = self.shared
            seen["torch"] = _TorchOf(self.capture)
            function = types.FunctionType(original.__code__, seen, original.__name__,
                                          original.__defaults__, original.__closure__)
            function.__kwdefaults__ = original.__kwdefaults__
            function.__qualname__ = original.__qualname__
            function.__module__ = original.__module__
            function.__doc__ = original.__doc__
        except Exception:  # another torch: called as it is
            return original
        self.module_globals, self.globals = module_globals, seen
        return function

    def publish(self) -> None:
        """Give the module the warning registry python would have made in it."""
        noted = self.globals.get("__warningregistry__")  # (dict.get asks no __missing__)
        if noted is None or noted is self.shared:
            return
        registry = self.module_globals.setdefault("__warningregistry__", noted)
        if registry is not noted:  # made meanwhile by a call of torch's own function
            registry.update(noted)
        self.globals["__warningregistry__"] = self.shared = registry


class _ModuleGlobals(dict):
    __slots__ = ("module",)

    def __init__(self, module: dict):
        super().__init__()
        self.module = module

    def __missing__(self, name):
        return self.module[name]  # a KeyError: Python then looks in the builtins


class _TorchOf:
    """``torch`` as ``_PlainTensorBackward`` reads it."""

    __slots__ = ("autograd_of",)

    def __init__(self, capture: _Capture):
        self.autograd_of = _AutogradOf(capture)

    def __getattr__(self, name):
        return self.autograd_of if name == "autograd" else getattr(torch, name)


class _AutogradOf:
    __slots__ = ("capture",)

    def __init__(self, capture: _Capture):
        self.capture = capture

    def __getattr__(self, name):
        value = getattr(torch.autograd, name)
        if name == "backward":
            for _, _, original, wrapper in self.capture.wrapped:
                if value is wrapper:
                    return original
        return value


class _Capture:
    """Decides which calls to record and records them into ``calls``."""

    def __init__(self, filename: str, calls: CapturedCalls, observer=None):
        self.filename = filename
        self.calls = calls
        self.observer = observer
        self.busy = False  # a backward run inside a recorded one (a hook's) is not recorded
        self.skipped = 0  # calls beyond MAX_CALLS / MAX_STEPS: run as usual, counted, not recorded
        self.steps_kept = 0
        self.threads = False  # a thread was started: torch's sequence numbers are per thread
        # (owner, attribute, torch's function, its wrapper)
        self.wrapped: list[tuple] = []
        self.plain_backward = _PlainTensorBackward(self)

    def noting_threads(self, start):
        """Return ``threading.Thread.start`` that notes a thread was started, then starts it."""
        @functools.wraps(start)
        def noting(thread, *args, **kwargs):
            self.threads = True
            self.calls.thread_started()
            with frames_out:  # "threads can only be started once", as python's
                return start(thread, *args, **kwargs)
        return noting

    def wrap(self, original, api: str):
        signature = inspect.signature(original)
        traced, publish = original, None
        if api == "Tensor.backward":  # torch's code, calling torch.autograd.backward itself
            original, publish = self.plain_backward.of(original), self.plain_backward.publish

        def wrapper(*args, **kwargs):
            if is_compiling():  # torch.compile traces this: it must see torch's own call only
                return traced(*args, **kwargs)
            grad_mode = torch.is_grad_enabled()
            try:
                caller = sys._getframe(1)
                if not _binds(signature, args, kwargs):  # wrong arguments: torch's own error,
                    return _call_plain(original, args, kwargs)  # its arguments untouched
                moved = as_if_called_from(caller)
                # (the limit raised by gradstep's frames above torch's function meanwhile:
                # a hook it runs goes as deep as python's)
                call = functools.partial(call_levelled, caller, moved)
                if self.busy:
                    return call(original, args, kwargs)
                # the snippet's line, also for a call inside a helper module of its own
                site = snippet_frame(caller, self.filename)
                if site is None:
                    return call(original, args, kwargs)
                if sys.gettrace() is not None or sys.getprofile() is not None:
                    # the snippet's own trace or profile function (cProfile) would see every
                    # Python call the recording makes: shown less, the call runs unrecorded
                    return moved(original, args, kwargs)
                if len(self.calls.records) >= MAX_CALLS or self.steps_kept >= MAX_STEPS:  # keep the first ones
                    self.skipped += 1
                    return call(original, args, kwargs)
                args, kwargs = _reusable(args, kwargs)
                bound = signature.bind(*args, **kwargs)  # (they bind: iterators made tuples)
                bound.apply_defaults()
                return self.record(original, api, bound, call, site, args, kwargs)
            except BaseException as exc:  # as it passes through: shown as in the plain run
                if torch.is_grad_enabled() != grad_mode and raised_by_handler(exc):
                    # a signal handler's exception that left a ``torch.no_grad()`` of
                    # gradstep's in its ``__exit__`` (handler_raised)
                    torch._C._set_grad_enabled(grad_mode)
                drop_own_frames(exc)  # python's traceback: the snippet's line, then torch's
                raise
            finally:
                if publish is not None:
                    publish()

        # Named as torch's own function (inspect.signature follows __wrapped__)
        wrapper.__wrapped__ = traced
        wrapper.__name__ = getattr(traced, "__name__", api)
        wrapper.__qualname__ = getattr(traced, "__qualname__", wrapper.__name__)
        wrapper.__module__ = getattr(traced, "__module__", None)
        wrapper.__doc__ = getattr(traced, "__doc__", None)
        return wrapper

    def record(self, original, api: str, bound, call, caller, args, kwargs):
        """Run the call with hooks on its graph, append its record, return torch's result.

        gradstep's own bookkeeping never changes what the snippet sees: if it
        fails, the call simply runs as torch runs it, unrecorded.
        """
        self.busy = True
        held = exc = None
        try:  # (a handler's exception as the handlers are read left ``busy`` set for good)
            held = held_signals.hold()  # a timer's handler: where the plain run could run it
            if held is not None:
                held.install()
            with gc_paused():
                # gradstep's reads and computations run no tensor subclass's code, and no mode
                # or profiler of the snippet's sees them (``unseen``)
                with unseen():
                    prepared = self._prepare(api, bound.arguments, caller)
                    if prepared is not None:  # a leaf a hook writes during the call
                        pass_versions.begin(prepared[0])
                    runs_python = held is not None and prepared is not None and _runs_python(
                        prepared[0], prepared[5], prepared[6])
                if runs_python:  # the handlers run in the pass as before (see _runs_python)
                    held.release(caller)  # (a second release, in the finally, does nothing)
                    held = None
                if prepared is None:
                    return call(original, args, kwargs)
                id_of, labels, watch, freed_before, pending, copy, probes = prepared
                begin_mark = None if self.threads else _get_sequence_nr()
                mode = "grad" if api == "torch.autograd.grad" else "backward"
                inputs = _as_list(bound.arguments.get("inputs")) if mode == "grad" else None
                # which nodes of the graph a create_graph pass builds exist at each step
                marks = (BuildMarks(id_of) if begin_mark is not None
                         and bound.arguments.get("create_graph") else None)
                steps, result, exc, grads = run_recorded(
                    functools.partial(call, original, args, kwargs), id_of, labels,
                    collect=grads_collector(mode, inputs, id_of, labels, watch), copy=copy,
                    probes=probes, marks=marks)
                self.steps_kept += len(steps)
                # nodes numbered from the pass's end on are built after it (a create_graph
                # pass builds some itself); torch numbers a thread's nodes from its own
                # counter, so after another thread started a number says nothing of when
                mark = None if self.threads else _get_sequence_nr()
                with unseen():
                    # torch's state as it raised a version error (before any code of the
                    # snippet's runs again): a hook that changed a saved tensor in the pass
                    raised_views: dict = {}
                    raised = refusals_when_raised(exc, id_of, view_versions=raised_views)
                    if pending:
                        self._commit(pending, id_of, steps)
                    # what an optimizer step writes after it (or during it: in a hook)
                    pass_versions.note(id_of, mark, begin_mark)
                    try:
                        graph = CallGraph.of(_roots(api, bound.arguments), id_of,
                                             frame_namespace(caller, function_locals=False),
                                             getattr(self.observer, "bindings", None))
                        graph.view_versions = freed_before[3]
                        graph.raised_view_versions = raised_views
                        record = self._record(api, bound.arguments, caller, id_of, labels,
                                              (steps, exc, grads), freed_before, raised,
                                              probes.readings() if probes is not None else None)
                        if mark is not None:
                            record["seq_mark"] = mark
                            built = marks and marks.marks(begin_mark, mark, len(steps))
                            if built:
                                record["built_marks"] = built
                        self.calls.add(record, graph, threads=self.threads)
                    except Exception as failure:  # a record we cannot build is left out
                        reraise_if_handlers(failure)
        finally:
            self.busy = False
            if held is not None:  # a handler raising here: chained to torch's error, as python's
                held.release(caller, exc)
        if exc is not None:
            raise exc
        return result

    def _commit(self, pending: list, id_of: dict, steps: list) -> None:
        """Keep the saved-view values of the nodes this pass ran (see ``observe.commit``)."""
        finished = {step["node"] for step in steps if not step["error"]}
        ran = {fn for fn, node_id in id_of.items() if node_id in finished}
        self.observer.commit(pending, ran)

    def _prepare(self, api: str, arguments: dict, caller):
        """Return ``(id_of, labels, watch, (freed_before, held, changed_before, views), pending, copy,
        probes)`` for the call's graph, or None on failure (``held``: what the freed probe
        found held, for the probe after the pass, see ``freed_node_ids``; ``changed_before``:
        ``saved.refusals_now``; ``copy``: the hooks copy each gradient, ``tensor_hooks``;
        ``probes``: ``hook_probes``, or None).

        Small nodes' Jacobians are computed here, before the pass can free them.
        """
        try:
            id_of = graph_ids(_roots(api, arguments, edges=True))
            namespace = frame_namespace(caller, function_locals=False)
            bindings = self.observer and self.observer.bindings
            if bindings:
                bindings.settle()  # the labels this pass files its ``.grad``s under stay
            labels = frame_labels(namespace, id_of, bindings and bindings.leaf_labels)
            watch = retained_tensors(namespace, id_of)
            held: dict = {}
            views: dict = {}
            freed_before = (freed_node_ids(id_of, held), held,
                            refusals_now(id_of, view_versions=views), views)
            copy = has_tensor_hooks(id_of, [*_roots(api, arguments), *namespace.values(),
                                            *_as_list(arguments.get("inputs"))])
            probes = hook_probes(id_of, _roots(api, arguments),
                                 [*namespace.values(), *_as_list(arguments.get("inputs"))],
                                 noted_nodes())
        except Exception as exc:  # an odd graph: let torch run the call unrecorded
            reraise_if_handlers(exc)
            return None
        pending = []
        if self.observer is not None:  # values a pass without retain_graph would free
            pending = self.observer.see_saved(id_of)
        try:
            jacobian.precompute(id_of)
            saved_memory.remember(id_of)  # the numbers a node's formula shows, once freed
        except Exception as exc:  # no Jacobians or numbers is fine; the call still runs
            reraise_if_handlers(exc)
        return id_of, labels, watch, freed_before, pending, copy, probes

    def _record(self, api, arguments, caller, id_of, labels, outcome, freed_before,
                raised=None, probed=None) -> dict:
        """Return the record of one finished call; ``outcome`` is (steps, exc, plain grads),
        ``freed_before`` is ``(freed node ids, held, changed_before, view versions)`` from
        ``_prepare``."""
        steps, exc, grads = outcome
        freed_before, held, changed_before, _views = freed_before
        create_graph = bool(arguments.get("create_graph"))
        retain = arguments.get("retain_graph")
        retain_graph = create_graph if retain is None else bool(retain)
        mode = "grad" if api == "torch.autograd.grad" else "backward"
        # a hook's sys.exit(0) is torch's error here, as any (the snippet may catch it); only
        # once it ended the snippet does ``ended_by`` take it back
        error = None if exc is None else written_in_the_pass(
            self._error(exc, caller), exc, changed_before, raised, id_of, failed_node(steps))
        timeline = pass_record(mode=mode, retain_graph=retain_graph, create_graph=create_graph,
                               steps=steps, grads=grads.get("grads", {}), id_of=id_of,
                               error=error, retained=grads.get("retained", {}),
                               returned=grads.get("returned"),
                               freed_before=freed_before, held=held,
                               changed_before=changed_before, changed_when_raised=raised,
                               probed=probed,
                               no_steps=_no_steps(grads.get(NO_STEPS), arguments),
                               grad_moved=grads.get(GRAD_MOVED),
                               roots=len(_roots(api, arguments, edges=True)))
        line = caller.f_lineno
        record = {
            "index": len(self.calls.records), "line": line, "code": _code(self.filename, line),
            "api": api, "retain_graph": retain_graph, "create_graph": create_graph,
            "nodes": _nodes(id_of, labels), "timeline": timeline, "error": error,
        }
        if mode == "grad":  # what the call gave back, in input order (None: it raised)
            record["returned"] = timeline.get("returned")
            record["returned_inputs"] = timeline.get("returned_inputs")
        return record

    def _error(self, exc: BaseException, caller) -> dict:
        """Return the error dict of ``exc`` located at the snippet line that made the call."""
        source = "".join(snippet_source.getlines(self.filename))
        # The traceback starts inside gradstep; put the snippet's calling frame in front
        # while explaining, so the error names the snippet's line like torch's own would.
        inner = exc.__traceback__
        exc.__traceback__ = types.TracebackType(inner, caller, caller.f_lasti, caller.f_lineno)
        try:
            return explain(exc, source, self.filename)
        finally:
            exc.__traceback__ = inner


def _reusable(args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Return the call's arguments with each one-shot iterator (``model.parameters()``, a
    generator) as the tuple of what it yields: the recording reads the call's tensors
    before torch does, and torch itself turns such an argument into that tuple."""
    if not any(issubclass(type(a), Iterator) for a in (*args, *kwargs.values())):
        return args, kwargs
    return (tuple(tuple(a) if issubclass(type(a), Iterator) else a for a in args),
            {k: tuple(v) if issubclass(type(v), Iterator) else v for k, v in kwargs.items()})


def _roots(api: str, arguments: dict, *, edges: bool = False) -> list:
    """Return the tensors differentiated by a call (``self``, ``tensors`` or ``outputs``),
    with ``edges`` also the ``GradientEdge`` outputs (``grad(get_gradient_edge(y), x)``:
    the pass starts at the edge's node; left out, the call showed no nodes and no steps
    where torch ran them)."""
    if api == "Tensor.backward":
        return [arguments["self"]]
    key = "tensors" if api == "torch.autograd.backward" else "outputs"
    return [t for t in _as_list(arguments.get(key))
            if issubclass(type(t), torch.Tensor) or (edges and issubclass(type(t), GradientEdge))]


def _no_steps(reason: str | None, arguments: dict) -> str | None:
    """Return ``reason`` (``backward.why_no_steps``), ``batched`` where the gradients were
    vmap's batch of an ``is_grads_batched=True`` call."""
    if reason == "subclass" and arguments.get("is_grads_batched"):
        return "batched"
    return reason


def _as_list(value) -> list:
    if value is None:
        return []
    # type(), not isinstance: no proxy's __class__ runs. An edge is a tuple, yet one argument
    if issubclass(type(value), (torch.Tensor, GradientEdge)):
        return [value]
    return list(value)


def _nodes(id_of: dict, labels: dict) -> list[dict]:
    return [{"id": node_id, "name": node_name(fn), "label": labels.get(node_id)}
            for fn, node_id in id_of.items()]


def _code(filename: str, line: int) -> str | None:
    text = snippet_source.getline(filename, line)
    return text.rstrip("\n") or None
