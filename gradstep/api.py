"""gradstep's Python API: on live tensors in your own process — a script, a debugger, a notebook.

    import gradstep
    with gradstep.record():               # optional: values and module scopes of the forward
        loss = model(x).square().mean()
    graph = gradstep.trace(loss)          # a networkx.MultiDiGraph with the trace JSON's fields
    gradstep.draw(loss)                   # shows inline in Jupyter; .save("graph.svg")
    timeline = gradstep.backward(loss)    # one real pass, recorded; .grad is left as it was
    gradstep.step_through(loss)           # in a notebook: step through a pass, frame by frame
    gradstep.show(loss)                   # the window, on this graph and pass

Observe without disturbing (docs/fidelity.md): ``trace`` and ``draw`` read the graph
torch built and never run backward, a hook, or anything that could rebuild a node;
``backward`` runs one real pass, keeps the graph (as ``retain_graph=True``) and puts every
``.grad`` back as it was, unless ``accumulate=True``. Nodes and leaves are named after
the caller's variables (its globals and locals, or ``names=``) and its modules'
parameters. Values are those that can be proven after the fact: leaves, saved tensors,
the caller's own tensors, and what a ``record()`` block saw. Pictures are drawn in a
child process, so this process never loads Qt. The JSON shapes are in docs/api.md.
"""

from __future__ import annotations

import linecache
import sys
from collections.abc import Mapping

from gradstep.i18n import _
from gradstep.render_process import ViewOptions, true_or_false


def record(*, deep: bool = False):
    """Return a context manager to put around a forward pass (``with gradstep.record():``).

    While it is open, module hooks note each module's output and which module every
    op ran in; ``trace``, ``draw`` and ``backward`` then show those values and scopes.
    No Python mode is active, so torch runs exactly as without it. ``deep=True`` also
    records the output of every torch call (a ``TorchFunctionMode``, which can change
    the kernels and fast paths torch picks, as ``--deep-values`` says).
    """
    from gradstep.autograd.live import record as live_record

    return live_record(deep=true_or_false("deep", deep))


def trace(tensor, *, names: dict | None = None, recording=None):
    """Return the autograd graph of ``tensor`` (or a list of tensors) as a networkx.MultiDiGraph.

    Node and edge attributes are those of ``gradstep trace --json`` (docs/api.md); the
    graph's own attributes hold ``root``, ``device`` (and ``roots``). It holds plain data
    only: no tensor, no ``grad_fn``. ``names`` maps names to the tensors and modules to
    label nodes with (default: the caller's variables); ``recording`` is a ``record()``
    (default: the one open, else the last one closed, in this thread).
    Raises ValueError for a tensor that has no ``grad_fn``.
    """
    from gradstep.autograd.graph_json import graph_from_json

    return graph_from_json(_trace_json(tensor, _names(names), recording))


def to_json(graph) -> dict:
    """Return the trace JSON (``gradstep.schema.TraceJSON``) of a graph ``trace`` returned:
    plain, strict-JSON data (``json.dumps(..., allow_nan=False)`` takes it)."""
    from gradstep.autograd.serialize import graph_to_json
    from gradstep.autograd.values import to_jsonable

    if not _is_graph(graph):
        raise TypeError(_("to_json takes the graph gradstep.trace returned, not a {kind}: "
                          "gradstep.to_json(gradstep.trace(loss))", kind=type(graph).__name__))
    return to_jsonable(graph_to_json(graph))


def backward(tensor, *, mode: str = "backward", inputs=None, gradient=None,
             accumulate: bool = False, names: dict | None = None, recording=None) -> dict:
    """Run one recorded backward pass from ``tensor``; return its timeline
    (``gradstep.schema.kernel.BackwardReply``, as ``gradstep backward --json`` prints it).

    ``mode`` "backward" (``tensor.backward()``) or "grad" (``torch.autograd.grad`` with
    respect to ``inputs``, default every leaf); ``gradient`` for a non-scalar tensor
    (a tensor, numbers, or "ones"). The graph is kept (``retain_graph=True``), and every
    ``.grad`` — the leaves', that of each ``retain_grad()`` tensor (among ``names`` or held
    elsewhere: a list, an attribute), and,
    where a custom ``Function``'s or checkpoint's backward in the graph could run a pass
    into them, that of each leaf and module parameter among ``names`` — is put back as it
    was unless ``accumulate=True`` (then they keep the gradients this pass added, as after
    ``tensor.backward(retain_graph=True)``). It is a real pass:
    your tensor hooks and custom ``backward`` code run, as in any pass. torch's own error
    is returned in ``timeline["error"]``, not raised.
    """
    from gradstep.autograd.live import backward_tensor, trace_tensor
    from gradstep.autograd.pass_join import combine_passes
    from gradstep.autograd.values import to_jsonable

    accumulate = true_or_false("accumulate", accumulate)  # before anything is traced or run
    namespace = _names(names)
    recording = _recording(recording)
    traced = trace_tensor(tensor, namespace=namespace, recording=recording)
    record_ = backward_tensor(tensor, traced, mode=mode, inputs=inputs, gradient=gradient,
                              keep_grads=not accumulate, namespace=namespace)
    return to_jsonable(combine_passes([record_]))


def draw(tensor, *, timeline: dict | None = None, step: int | None = None,
         names: dict | None = None, recording=None, rankdir: str = "TB",
         layout: str = "layered", collapse: int | None = None, scale: float = 2.0,
         transparent: bool = False):
    """Return a ``Drawing`` of ``tensor``'s graph (or of a graph ``trace`` returned).

    Jupyter, VS Code and Colab show it inline; ``.save(path)`` writes .svg, .png, .pdf,
    .dot, .graphml or .json. With ``timeline`` (a ``backward`` result on this graph) it
    shows the state after ``step`` steps of that pass (default: the end; a step past it
    is a ValueError), as ``gradstep export --step K`` does. Drawing never runs backward.
    View options: ``rankdir`` "TB" or "LR", ``layout`` "layered" or "dot" (Graphviz),
    ``collapse`` (fold module scopes deeper than this), ``scale`` and ``transparent`` (PNG).
    """
    from gradstep.picture import Drawing

    options = ViewOptions(rankdir=rankdir, layout=layout, collapse=collapse, scale=scale,
                          transparent=transparent, print_options=_print_options())
    data = _graph_json(tensor, names, recording)
    return Drawing(data, timeline=timeline, step=step, options=options)


def step_through(tensor, *, timeline: dict | None = None, names: dict | None = None,
                 recording=None, max_frames: int = 60, rankdir: str = "TB",
                 layout: str = "layered", collapse: int | None = None):
    """Return a ``StepThrough``: a notebook view of one backward pass, step by step.

    It shows as HTML with buttons and a slider (inline JavaScript: no kernel extension)
    over one picture per step, at most ``max_frames`` (fewer on large graphs; it says
    so). ``timeline`` is a ``backward`` result; without one a pass is recorded as
    ``backward(tensor)`` records it (``.grad`` put back as it was; a non-scalar tensor
    starts from ones).
    """
    from gradstep.notebook import StepThrough

    data = _graph_json(tensor, names, recording)
    if timeline is None:
        timeline = _pass_for(tensor, names, recording)
    options = ViewOptions(rankdir=rankdir, layout=layout, collapse=collapse,
                          print_options=_print_options())
    return StepThrough(data, timeline, options=options, max_frames=max_frames,
                       title=_root_label(data))


def show(tensor, *, timeline: dict | None = None, names: dict | None = None,
         recording=None, block: bool = True):
    """Open the gradstep window on ``tensor``'s graph and a backward pass; return a ``Window``.

    The graph and the pass travel to the window (a process of its own) as data: step
    through it, look at values, saved tensors and ``.grad`` as in any run. The window
    cannot reach your tensors, so what needs them — a node's local Jacobian, Backward
    again, Zero grads — says it is not available there. ``timeline`` as for
    ``step_through`` (default: one pass recorded now, ``.grad`` left as it was).
    ``block`` waits until the window is closed (a script, a breakpoint); ``block=False``
    returns at once. Raises RuntimeError where no window can open (no display).
    """
    from gradstep.picture import check_timeline_fits
    from gradstep.window_data import open_window, shown_data

    block = true_or_false("block", block)
    data = _graph_json(tensor, names, recording)
    if timeline is None:
        timeline = _pass_for(tensor, names, recording)
    check_timeline_fits(data, timeline)
    origin = _caller_origin()
    return open_window(shown_data(data, [timeline], title=_root_label(data), origin=origin,
                                  print_options=_print_options()), block=block)


# -- helpers ------------------------------------------------------------------------------------
_API_FRAMES = 2  # sys._getframe depth of the user's frame, from a helper a public function calls


def _names(names: dict | None, depth: int = _API_FRAMES) -> dict:
    """Return ``names``, or the variables of the user's frame that called the public function."""
    if names is not None:
        if not isinstance(names, Mapping):  # dict(["x"]) would say "update sequence element"
            raise TypeError(_("names= maps names to tensors and modules (names=dict(loss=loss)), "
                              "not a {kind}", kind=type(names).__name__))
        odd = [key for key in names if not isinstance(key, str)]
        if odd:  # a label is a name: 3 failed on "'int' object has no attribute 'startswith'"
            raise TypeError(_("names= keys are names (strings), not a {kind}: {key}",
                              kind=type(odd[0]).__name__, key=repr(odd[0])))
        return dict(names)
    from gradstep.autograd.frame_names import frame_namespace

    frame = sys._getframe(depth)
    try:
        return frame_namespace(frame)
    finally:
        del frame  # a frame kept here would keep the user's tensors alive


def _print_options() -> dict | None:
    """Return the caller's ``torch.set_printoptions`` as the pictures and the window take
    them (``{"precision", "sci_mode"}``), None where they are torch's default."""
    from gradstep.autograd.process_state import snippet_print_options
    from gradstep.policies.number_text import DEFAULT, options_of

    shown = snippet_print_options()
    return None if options_of(shown) == DEFAULT else shown


def _trace_json(tensor, namespace: dict, recording) -> dict:
    from gradstep.autograd.live import trace_tensor
    from gradstep.autograd.serialize import graph_to_json
    from gradstep.autograd.values import to_jsonable
    from gradstep.policies.number_text import options_of, printed_with

    recording = _recording(recording)
    traced = trace_tensor(tensor, namespace=namespace, recording=recording)
    with printed_with(options_of(_print_options())):  # the formulas' numbers: as print's
        return to_jsonable(graph_to_json(traced))


def _graph_json(tensor, names, recording) -> dict:
    """Return the trace JSON of a tensor (labels from the user's frame), or of a graph."""
    if _is_graph(tensor):
        return to_json(tensor)
    return _trace_json(tensor, _names(names, _API_FRAMES + 1), recording)


def _pass_for(tensor, names, recording) -> dict:
    """Return the timeline of a pass recorded for a view (step_through, show)."""
    if _is_graph(tensor):
        raise ValueError(_("a graph from gradstep.trace holds no tensors to run backward on: "
                           "pass timeline=gradstep.backward(tensor), or the tensor itself"))
    roots = tensor if isinstance(tensor, (list, tuple)) else [tensor]
    gradient = None if all(t.numel() == 1 for t in roots) else "ones"
    return backward(tensor, gradient=gradient, names=_names(names, _API_FRAMES + 1),
                    recording=recording)


def _recording(recording):
    """Return ``recording`` where it is a ``record()`` block's, the open block's
    (``current_recording``) where it is None; else raise TypeError saying so."""
    from gradstep.autograd.live import Recording, current_recording

    if recording is None:
        return current_recording()
    if not isinstance(recording, Recording):
        raise TypeError(_("recording= takes what `with gradstep.record() as r:` yields, not a "
                          "{kind}", kind=type(recording).__name__))
    return recording


def _is_graph(value) -> bool:
    return hasattr(value, "nodes") and hasattr(value, "edges") and hasattr(value, "graph")


def _root_label(data: dict) -> str:
    root = next((n for n in data.get("nodes", []) if n["id"] == data.get("root")), None)
    return (root or {}).get("label") or ""


def _caller_origin(depth: int = _API_FRAMES) -> dict:
    """Return ``{"file", "line", "code"}`` of the user's line that called the public function."""
    frame = sys._getframe(depth)
    try:
        filename, line = frame.f_code.co_filename, frame.f_lineno
    finally:
        del frame
    return {"file": filename, "line": line,
            "code": linecache.getline(filename, line).strip() or None}
