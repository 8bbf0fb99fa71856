"""The live, in-process state of one snippet: run it, then backward / inspect.

Every method returns plain JSON-safe data, so the kernel can send it across a
process boundary unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from gradstep.autograd import errors
from gradstep.autograd.backward import inspect_node, run_backward
from gradstep.autograd.call_graphs import renumber_calls, resolve_call_views, roots_to_join
from gradstep.autograd.grad_stats import grad_stats
from gradstep.autograd.leaves_and_freed import leaf_tensors
from gradstep.autograd.process_state import snippet_print_options
from gradstep.autograd.root_paths import searched_name
from gradstep.autograd.runner import run_snippet
from gradstep.autograd.safe_reads import grad_fn_of, is_plain, plain_reads
from gradstep.autograd.serialize import drawn_graph
from gradstep.autograd.serialize import trace_json as trace_json_of
from gradstep.autograd.trace import Trace, trace_graph
from gradstep.autograd.values import to_jsonable
from gradstep.policies.gc_pause import paused_after_snippet
from gradstep.policies.number_text import DEFAULT, options_of, printed_with


@dataclass
class LiveState:
    """What a run left alive: the namespace, the root tensor(s) and their Trace."""

    source: str
    filename: str  # the name its code was compiled under (``script_name.script_path``)
    device: str
    namespace: dict
    root: torch.Tensor | None
    root_name: str | None
    trace: Trace | None
    roots: list = field(default_factory=list)
    values: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    scopes: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    output: str = ""
    own_freed: bool = False  # a pass of gradstep's own (``run_backward``) freed buffers


class Session:
    """Runs snippets in this process and keeps the last one's LiveState.

    ``capture_output``: keep what a snippet prints in the result's ``output``
    (in-process use); the kernel's worker turns it off and captures the
    process's stdout/stderr itself, so the snippet's streams are Python's own.
    """

    def __init__(self, *, capture_output: bool = True):
        self.state: LiveState | None = None
        self.kept_graph = None  # the last run's graph (a PlainGraph), for take_graph (keep_graph)
        self.capture_output = capture_output
        self.print_options = DEFAULT  # the last run's (set_printoptions): its texts follow them

    def run(self, source: str, *, device: str = "cpu", root: str | None = None,
            filename: str = "<snippet>", deep_values: bool = False,
            keep_records: bool = True, keep_graph: bool = False) -> dict:
        """Run ``source``; return ``{"ok", "trace", "error", "calls", "output", "exit_code",
        "root_name", "root_candidates"}``.

        ``trace`` is the trace JSON (also after a failure, when the snippet got
        far enough to build a graph), ``exit_code`` the CLI status (0, 1 or 2).
        ``deep_values`` records every torch call's output (``recorder``), which
        can change which kernels torch picks. ``keep_records=False``: a run that
        ends well forgets its records once its trace JSON is made
        (``forget_records``), for a caller that wants only the trace (the kernel
        writing the command line's file); they then go without ever being walked
        by the collector. ``keep_graph``: as ``keep_records=False``, but a run that ends
        well with a graph sends no trace JSON (``trace`` is None) and keeps the graph
        that ``graph_from_json`` would make of it for ``take_graph`` instead (the kernel,
        which writes the trace or a file from it itself: a 100,000-node graph spares
        ~1 s of JSON dicts made and read back), in a ``PlainGraph``: the same dicts, read
        by the writers as a networkx graph is, without importing networkx.
        """
        self.reset()
        result = run_snippet(source, device=device, root=root, filename=filename,
                             deep=deep_values, capture_output=self.capture_output)
        trace, trace_json, error = None, None, result.error
        shown = snippet_print_options()
        self.print_options = options_of(shown)
        # The walk and its JSON make many small objects: no collection until both are
        # made (each one's first collection walked the graph made so far). Any text made
        # with numbers writes them as the snippet's print would (its set_printoptions). No
        # tensor subclass's __torch_function__ sees the walk's reads (``plain_reads``).
        with paused_after_snippet(), printed_with(self.print_options), plain_reads():
            if result.roots:
                try:
                    # a graph only written from (keep_graph) needs no networkx: PlainGraph,
                    # a failed run's too (its trace JSON is made from it: networkx loaded
                    # after the snippet would run in what the snippet left, in a stop's grace)
                    trace = _trace_with_calls(result, plain=keep_graph, json_edges=not keep_graph)
                except Exception as exc:  # a graph gradstep cannot read: not the snippet's
                    error = error or errors.make_error(
                        "trace_failed", f"{type(exc).__name__}: {exc}", type=type(exc).__name__)
            result.call_graphs = []  # the calls' grad_fns are not kept past the trace
            self.state = LiveState(
                source=source, filename=result.filename, device=device, namespace=result.namespace,
                root=result.roots[0] if result.roots else None, root_name=result.root_name,
                trace=trace, roots=result.roots, values=result.values, labels=result.labels,
                scopes=result.scopes, calls=result.calls, output=result.output,
            )
            if trace:
                if keep_graph and error is None:
                    self.kept_graph = drawn_graph(trace, device=device)
                    self.state.trace = None  # its graph lives on in kept_graph, uncleared
                else:
                    trace_json = trace_json_of(trace, device=device)
                if (keep_graph or not keep_records) and error is None:
                    self.forget_records()
        exit_code = result.exit_code or (1 if error else 0)
        reply = {
            # (then the paths of the tensors its backward calls ran on: ``out.loss``)
            "root_candidates": root_candidates(result.namespace) + result.call_root_paths,
            "ok": error is None,
            "trace": trace_json,
            "error": to_jsonable(error),
            "calls": to_jsonable(result.calls),
            "output": result.output,
            "root_name": result.root_name,
            "exit_code": exit_code,
        }
        if self.print_options != DEFAULT:  # torch's default: no field, the reply as ever
            reply["print_options"] = shown
        return reply

    def backward(self, *, mode: str = "backward", retain_graph: bool = False,
                 passes: int = 1, gradient: Any = None) -> dict:
        """Run backward on the root; return the DESIGN backward JSON."""
        state = self._live()
        with printed_with(self.print_options):
            return run_backward(state, mode=mode, retain_graph=retain_graph,
                                passes=passes, gradient=gradient)

    def inspect(self, node_id: str) -> dict:
        """Return one node's attributes, saved tensors with values and its Jacobian when small."""
        state = self._live()
        with printed_with(self.print_options), plain_reads():  # (no subclass's code sees it)
            return inspect_node(state, node_id)

    def grad_stats(self) -> dict:
        """Return ``{"params": [...], "error": None}``: each leaf's ``.grad`` norm, its own
        norm, zero and NaN/Inf counts, read from the real tensors (``grad_stats``)."""
        state = self._live()
        with plain_reads():
            return grad_stats(state.trace)

    def zero_grad(self) -> dict:
        """Set every leaf's ``.grad`` to None (as ``optimizer.zero_grad()`` does); return
        ``{"ok": True, "leaves": n}``, so the next pass starts from no gradient."""
        leaves = leaf_tensors(self._live().trace.id_of)
        with plain_reads():  # (a subclass's __torch_function__ sees no ``__set__``)
            for leaf in leaves:
                leaf.grad = None
        return {"ok": True, "leaves": len(leaves), "error": None}

    def take_graph(self):
        """Return the graph the last run kept (``keep_graph``), and keep it no more; None
        when it kept none."""
        graph, self.kept_graph = self.kept_graph, None
        return graph

    def reset(self) -> None:
        """Forget the last run (its namespace, tensors and graph)."""
        self.state = None
        self.kept_graph = None

    def forget_records(self) -> None:
        """Forget gradstep's own records of the last run (the traced graph, its values,
        labels and scopes) and keep the snippet's variables and roots alive, so torch
        frees nothing now. For a caller that wants only the trace it was sent (the
        command line writing a file: ``kernel.writing``); later requests answer as when
        no graph was built. A 100,000-node run holds ~0.2 GB of them.
        """
        if self.state is None:
            return
        if self.state.trace is not None:
            # now, not at the next full collection: networkx's cached views make a cycle
            self.state.trace.graph.clear()
        self.state.trace, self.state.calls = None, []
        self.state.values, self.state.labels, self.state.scopes = {}, {}, {}

    def _live(self) -> LiveState:
        if self.state is None or self.state.trace is None:
            raise RuntimeError("nothing to step through: run a snippet that builds a graph first")
        return self.state


def _trace_with_calls(result, *, plain: bool = False, json_edges: bool = False) -> Trace:
    """Return the trace of the run's roots, joined with the graphs of the snippet's own
    backward calls that share nodes with it (their timelines renumbered onto it); its graph
    a ``PlainGraph`` when ``plain``, else a networkx one (``trace_graph``, which lists the
    JSON's edges as it walks with ``json_edges``)."""
    see_saved = None
    if result.observer is not None:
        def see_saved(nodes, slots_of):  # the snippet is done: saved views may be unpacked too
            result.observer.see_saved(nodes, snippet_done=True, slots_of=slots_of)

    def trace_of(roots):
        return trace_graph(roots, values=result.values, labels=result.labels,
                           scopes=result.scopes, see_saved=see_saved, lines=result.lines,
                           plain=plain, snippet_done=True, json_edges=json_edges)

    trace = trace_of(result.roots)
    if not result.root_chosen and result.call_graphs:
        extra = roots_to_join(trace.id_of, result.call_graphs)
        if extra:
            trace = trace_of(list(result.roots) + extra)
    renumber_calls(result.calls, result.call_graphs, trace.id_of)
    resolve_call_views(result.calls, result.call_graphs, trace)
    return trace


def root_candidates(namespace: dict | None) -> list[str]:
    """Return the snippet's top-level names that hold a tensor with a grad_fn, in the order
    they were first bound: the roots a window may offer to draw (``--root NAME``); ``_h`` too,
    as the default root's search reads it (``root_paths.searched_name``)."""
    names = []
    for name, value in (namespace or {}).items():
        if not searched_name(name) or not is_plain(value):
            continue
        try:
            if grad_fn_of(value) is not None:
                names.append(name)
        except RuntimeError:  # a view torch refuses to give a node: not a root
            continue
    return names
