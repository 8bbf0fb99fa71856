"""Run a real backward pass and return its step timeline as plain data.

``record_backward`` runs ``root.backward(...)`` (or ``torch.autograd.grad``)
once with hooks on every node and returns the DESIGN.md backward JSON.
``run_backward`` and ``inspect_node`` are what ``Session.backward`` and
``Session.inspect`` delegate to.

Keys of a pass record: ``mode, retain_graph, create_graph, steps, leaf_grads,
retained_grads, freed, freed_nodes, freed_before, error`` (plus ``returned`` and
``returned_inputs`` in grad mode). ``leaf_grads`` is each leaf's ``.grad`` as torch
leaves it after the pass (None where it has none: ``torch.autograd.grad`` never
writes ``.grad``); what ``autograd.grad`` returned is ``returned``, in input order. Each step has ``index, node, name,
grad_outputs, grad_inputs, error, freed``; an AccumulateGrad step also ``leaf,
grad_before, grad_after``. ``freed`` on a step is True when that node's saved
buffers were released after it ran (torch releases them node by node during a
pass without retain_graph); a node that saved nothing is never freed.
"""

from __future__ import annotations

import sys

import torch

from gradstep.autograd import jacobian, pass_versions, saved_memory
from gradstep.autograd.errors import explain, make_error
from gradstep.autograd.formulas import custom_function_source
from gradstep.autograd.freed_by import calls_named
from gradstep.autograd.grad_values import plain_values
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.autograd.hook_exit import hook_exit_error
from gradstep.autograd.hook_ids import own_ids
from gradstep.autograd.hook_probes import hook_probes
from gradstep.autograd.hook_raised import failed_node, written_in_the_pass
from gradstep.autograd.leaf_calls import recorded_call_lines
from gradstep.autograd.leaves_and_freed import (
    freed_node_ids,
    id_number,
    input_names,
    leaf_grad_tensors,
    leaf_tensors,
)
from gradstep.autograd.pass_join import combine_passes, explanation_of
from gradstep.autograd.safe_reads import grad_fn_of, is_plain, leaf_variable, plain_reads
from gradstep.autograd.saved import (
    raised_view,
    refusals_now,
    refusals_when_raised,
    resolve_view_versions,
    saved_items,
)
from gradstep.autograd.step_hooks import StepRecorder, gc_paused
from gradstep.autograd.stop_flag import raised_by_snippet
from gradstep.autograd.tensor_hooks import has_tensor_hooks, noted_nodes
from gradstep.autograd.unseen import unseen
from gradstep.autograd.values import compact, to_jsonable
from gradstep.i18n import _, lazy, with_words

MODES = ("backward", "grad")


def record_backward(
    root: torch.Tensor,
    id_of: dict,
    *,
    mode: str = "backward",
    inputs=None,
    retain_graph: bool = False,
    gradient=None,
    create_graph: bool = False,
    labels: dict | None = None,
    watch: dict | None = None,
    source: str = "",
    filename: str = "<snippet>",
    exit_told: bool = False,
    snippet_done: bool = False,
    retain_inputs: bool = True,
) -> dict:
    """Return the backward record of one pass from ``root`` (DESIGN.md backward JSON).

    ``root`` is a tensor or a list of them; ``id_of`` maps each grad_fn of the
    graph to its node id; ``labels`` maps node ids to labels (leaf grads are
    keyed by them); ``inputs`` are the tensors differentiated in ``grad`` mode
    (default: every leaf requiring grad); ``gradient`` is None, ``"ones"``, a
    tensor or nested numbers; ``watch`` maps names to non-leaf tensors whose
    ``.grad`` (``retain_grad()``) is reported. torch's own error is returned
    in ``error``, never raised. A hook's ``sys.exit()`` is raised again once the pass is
    recorded (the caller's program ends, as python's would), or with ``exit_told`` (a pass
    of gradstep's own on a snippet that made none) becomes the record's ``error``
    (``hook_exit``), as does, there, a KeyboardInterrupt a hook raised (not the kernel's
    stop, ``stop_flag``: that goes on up, the pass unrecorded). ``snippet_done``: no code of
    the snippet's runs any more, so the probe as the pass begins unpacks saved views too
    (``saved.refusals_now``). ``retain_inputs=False`` (the API's pass that puts ``.grad``
    back): a non-leaf input goes to torch's backward as its gradient edge (``_as_edges``).
    """
    if mode not in MODES:
        raise ValueError(_("mode must be one of {known}, not {mode}", known=MODES, mode=repr(mode)))
    with gc_paused():
        return _record_backward(root, id_of, mode=mode, inputs=inputs, retain_graph=retain_graph,
                                gradient=gradient, create_graph=create_graph, labels=labels,
                                watch=watch, source=source, filename=filename, exit_told=exit_told,
                                snippet_done=snippet_done, retain_inputs=retain_inputs)


def _record_backward(root, id_of, *, mode, inputs, retain_graph, gradient, create_graph,
                     labels, watch, source, filename, exit_told=False,
                     snippet_done=False, retain_inputs=True) -> dict:
    labels = labels or {}
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    if issubclass(type(inputs), (torch.Tensor, torch.autograd.graph.GradientEdge)):
        inputs = (inputs,)  # one input, as torch.autograd.grad and backward take it
    elif inputs is not None:
        inputs = tuple(inputs)  # any iterable, as torch takes it (read once: a generator)
    if mode == "grad" and inputs is None:
        inputs = leaf_tensors(id_of)
    grads_in = gradient_tensors(roots, gradient)

    def call():
        if mode == "grad":
            return torch.autograd.grad(
                roots, inputs, grad_outputs=grads_in,
                retain_graph=retain_graph, create_graph=create_graph,
            )
        # inputs=: only they get a gradient, as ``loss.backward(inputs=[x])`` (None: every leaf)
        torch.autograd.backward(roots, grads_in, retain_graph=retain_graph,
                                create_graph=create_graph,
                                inputs=inputs if retain_inputs else _as_edges(inputs))
        return None

    held: dict = {}  # the probe after the pass reads what this one found held
    views: dict = {}  # while the program is live: the saved views' versions as it began
    with plain_reads():  # (as the snippet's own calls' reads: ``calls.record``)
        freed_before = freed_node_ids(id_of, held)
        changed_before = refusals_now(id_of, views=snippet_done,
                                      view_versions=None if snippet_done else views)
        copy = has_tensor_hooks(id_of, [*roots, *(watch or {}).values(), *(inputs or ())])
        probes = hook_probes(id_of, roots, [*(watch or {}).values(), *(inputs or ())],
                             noted_nodes())
    steps, _result, exc, grads = run_recorded(
        call, id_of, labels, collect=grads_collector(mode, inputs, id_of, labels, watch),
        own_pass=exit_told, copy=copy, probes=probes)
    changed_when_raised = refusals_when_raised(exc, id_of, views=snippet_done)
    if changed_when_raised is not None and not snippet_done:
        _tell_raised_view(exc, steps, id_of, changed_when_raised, changed_before, views)
    if isinstance(exc, SystemExit) and not exit_told:  # the caller's program ends here
        raise exc
    target = _root_name(roots, id_of, labels)
    if exc is None:
        error = None
    elif isinstance(exc, SystemExit | KeyboardInterrupt):  # a hook's, in a pass of gradstep's
        error = hook_exit_error(exc, source, filename, target)  # own: it stopped here
    else:
        error = written_in_the_pass(explain(exc, source, filename, target=target), exc,
                                    changed_before, changed_when_raised, id_of,
                                    failed_node(steps), views=snippet_done)
    record = pass_record(
        mode=mode, retain_graph=retain_graph, create_graph=create_graph, steps=steps,
        grads=grads.get("grads", {}), id_of=id_of, error=error,
        retained=grads.get("retained", {}), freed_before=freed_before,
        returned=grads.get("returned") if mode == "grad" else None, held=held,
        changed_before=changed_before, no_steps=grads.get(NO_STEPS),
        grad_moved=grads.get(GRAD_MOVED),
        roots=len(roots), changed_when_raised=changed_when_raised,
        probed=probes.readings() if probes is not None else None,
    )
    with plain_reads():
        record["roots"] = [id_of[fn] for fn in (getattr(r, "grad_fn", None) for r in roots)
                           if fn is not None and fn in id_of]
    return record


def _as_edges(inputs):
    """Return ``inputs`` with each non-leaf tensor that does not retain its grad as its
    gradient edge. torch's backward calls ``retain_grad()`` on such an input, for good (its
    ``.grad`` filled by this pass and every later one, and no Python call undoes it); from
    its edge torch runs the same nodes and hooks and keeps nothing."""
    if inputs is None:
        return None
    with plain_reads():
        return tuple(torch.autograd.graph.get_gradient_edge(t)
                     if issubclass(type(t), torch.Tensor) and not t.is_leaf and not t.retains_grad
                     else t for t in inputs)


def _tell_raised_view(exc, steps: list, id_of: dict, raised: dict, changed_before, views) -> None:
    """Add to ``raised`` (a live program's probe as torch raised its version error, saved
    views unprobed) the saved view torch refused in the step that raised, from its message
    (``saved.raised_view``), and to ``changed_before`` that view where its version as the
    pass began (``views``) was not its saved version already (``resolve_view_versions``)."""
    failed = failed_node(steps)
    fn = next((f for f, node_id in id_of.items() if node_id == failed), None) if failed else None
    found = raised_view(exc, fn, failed, raised)
    for node_id, names in found.items():
        raised.setdefault(node_id, {}).update(names)
    if found and changed_before is not None and views:
        resolve_view_versions(changed_before, views, lambda node_id: [
            {"name": name, **marks} for name, marks in found.get(node_id, {}).items()])


def grads_collector(mode: str, inputs, id_of: dict, labels: dict, watch: dict | None = None):
    """Return ``collect(result) -> {"grads": {label: .grad}, "retained": {name: .grad},
    "returned": {(position, input label): tensor}}`` for ``run_recorded``: every leaf's ``.grad`` as
    the pass left it, the ``.grad`` of the ``watch`` tensors (``retain_grad()``), and in
    grad mode what ``autograd.grad`` returned, by input label, in input order."""

    def collect(result) -> dict:
        out = {"grads": leaf_grad_tensors(id_of, labels),
               "retained": {name: t.grad for name, t in (watch or {}).items()}}
        if mode == "grad":
            names = input_names(inputs or [], id_of, labels)
            results = list(result) if result is not None else [None] * len(names)
            # keyed by position too: an input given twice (grad(y, [x, x])) gets two results
            out["returned"] = dict(zip(enumerate(names), results))
        return out

    return collect


def pass_record(*, mode, retain_graph, create_graph, steps, grads, id_of, error,
                retained=None, freed_before=None, returned=None, held=None,
                changed_before=None, no_steps=None, roots=1, changed_when_raised=None,
                probed=None, grad_moved=None) -> dict:
    """Return the backward JSON of a finished pass; probes which nodes are freed now
    and sets each step's ``freed`` flag. ``freed_before`` lists the nodes an earlier
    pass had already freed; ``returned`` (grad mode) maps (position, input label) to what
    ``autograd.grad`` returned; ``held`` is what the probe before the pass found held
    (``freed_node_ids``); ``changed_before`` what it found torch would refuse as changed (or
    detached) in place (``saved.refusals_now``); ``no_steps`` why its steps are not shown
    (``why_no_steps``); ``roots`` how many roots it started from (several: torch's engine
    ran a ``GraphRoot`` node of its own first, which is no node of the graph: ``graph_root``
    says so); ``changed_when_raised`` what torch would refuse as it raised its version
    error (``saved.refusals_when_raised``), and ``probed`` the versions its probes read
    around the snippet's hooks during the pass (``hook_probes``: kept with it only);
    ``grad_moved`` the leaves whose ``.grad`` the snippet's code changed in the pass
    (``grad_marks``: kept only where there is one)."""
    freed_nodes = [] if retain_graph else freed_node_ids(id_of, held)
    _mark_freed_steps(steps, freed_nodes)
    record = {
        "mode": mode, "retain_graph": retain_graph, "create_graph": create_graph,
        "steps": steps, "leaf_grads": grads, "retained_grads": retained or {},
        # (a pass that ran without an error freed its graph also when its steps were not
        # kept, see step_hooks)
        "freed": bool(steps or error is None) and not retain_graph, "freed_nodes": freed_nodes,
        "freed_before": freed_before or [], "error": error,
    }
    if changed_before is not None:
        record["changed_before"] = changed_before
    if changed_when_raised is not None:
        record["changed_when_raised"] = changed_when_raised
        record["probed"] = probed or []
    if no_steps is not None and not steps:
        record["no_steps"] = no_steps
    if roots > 1:
        record["graph_root"] = roots
    if grad_moved:
        record["grad_moved"] = list(grad_moved)
    if mode == "grad":  # a call that raised returned nothing: None, not a list of Nones
        returned = returned or {}
        record["returned"] = None if error is not None else list(returned.values())
        record["returned_inputs"] = [name for _, name in returned]
    return record


def gradient_tensors(roots: list, gradient) -> list | None:
    """Return the gradient for each root: None (torch's implicit 1 for a scalar),
    ``ones_like`` for ``"ones"``, or the given tensor(s) / nested numbers."""
    if gradient is None:
        return None
    if isinstance(gradient, str):
        if gradient != "ones":
            raise ValueError(_("gradient must be 'ones', a tensor or numbers, not {given}",
                               given=repr(gradient)))
        return [torch.ones_like(r) for r in roots]
    given = gradient if isinstance(gradient, (list, tuple)) and len(roots) > 1 else [gradient]
    return [g if isinstance(g, torch.Tensor) else torch.tensor(g, dtype=r.dtype, device=r.device)
            for g, r in zip(given, roots)]


def run_recorded(call, id_of: dict, labels: dict | None = None, collect=None,
                 own_pass: bool = False, copy: bool = False, probes=None, marks=None):
    """Run ``call()`` with hooks on every node of ``id_of``.

    Returns ``(steps, result, exc, collected)``: the recorded steps, what
    ``call`` returned, the exception it raised (None when it did not) and
    ``collect(result)`` (a dict of dicts of tensors, e.g. the leaves' grads)
    turned into plain data in the same batch as the steps. The hooks are
    removed before this returns, in every case. If the hooks cannot be
    installed, ``call`` still runs, unrecorded (no steps). In a pass of gradstep's own
    (``own_pass``) a KeyboardInterrupt the snippet's hook raised is kept as ``exc`` too;
    the kernel's stop (``stop_flag``), and any KeyboardInterrupt in the snippet's own
    calls, goes on up as python's would. ``copy``: the hooks copy each gradient at its step
    (``tensor_hooks.has_tensor_hooks``); ``probes`` (``hook_probes.HookProbes`` or None) are
    put on after the step hooks and taken off with them; so are ``marks``
    (``build_marks.BuildMarks`` or None: the counter after each step of a ``create_graph`` pass).
    """
    result, exc = None, None
    recorder = StepRecorder(id_of, labels, copy=copy)
    try:
        if compiled_autograd_on():
            raise RuntimeError("compiled autograd would trace the hooks")
        recorder.__enter__()
        if probes is not None:
            try:
                _install_probes(probes, recorder)
            except BaseException:  # a signal handler's exception (handler_raised), a stop
                recorder.abandon()
                raise
        if marks is not None:
            try:
                _install_marks(marks, recorder)
            except BaseException:
                if probes is not None:
                    probes.remove()
                recorder.abandon()
                raise
    except Exception as failed:  # a node that takes no hooks: run the pass plainly
        reraise_if_handlers(failed)
        result, exc = _kept_error(call, own_pass)
        groups = _plain_groups(collect, result)
        groups[NO_STEPS] = "unhooked"
        return [], result, exc, groups
    try:
        result, exc = _kept_error(call, own_pass)  # the kernel's stop goes on up, hooks
    finally:                                        # removed below all the same
        if probes is not None:
            probes.remove()
        if marks is not None:
            marks.remove()
        with unseen():  # no subclass's code runs, no mode or profiler of the snippet's sees it
            try:
                recorder.grad_marks.finish()
                recorder.extra = collect(result) if collect is not None else {}
            except Exception as exc:  # the grads could not be read: the steps still stand
                recorder.extra = {}
                reraise_if_handlers(exc)
            finally:  # (also under a signal handler's exception: the hooks come off)
                recorder.__exit__(None, None, None)
    extra = recorder.extra
    if recorder.grad_marks.moved:  # (names as the steps': ``_step_dicts``)
        extra = {**extra, GRAD_MOVED: [(labels or {}).get(n, n) for n in recorder.grad_marks.moved]}
    if recorder.failure is not None:  # the pass ran, its steps are not shown: say why
        extra = {**extra, NO_STEPS: why_no_steps(recorder.failure)}
    return recorder.steps, result, exc, extra


def _install_probes(probes, recorder) -> None:
    """Put ``probes`` on after ``recorder``'s hooks (their steps placing each probe); where
    that fails the pass is recorded without them."""
    try:
        with own_ids():  # the snippet's own hook handles are numbered as in python
            probes.install(recorder._started)
    except Exception as exc:
        probes.remove()
        probes._readings.clear()
        reraise_if_handlers(exc)


def _install_marks(marks, recorder) -> None:
    """Put ``marks`` on after ``recorder``'s hooks and the probes; where that fails the pass
    is recorded without them."""
    try:
        with own_ids():  # the snippet's own hook handles are numbered as in python
            marks.install(recorder._started)
    except Exception as exc:
        marks.drop()
        reraise_if_handlers(exc)


NO_STEPS = "no_steps"  # the collected groups' key of why a pass's steps are not shown
# the collected groups' key of the leaves whose .grad the snippet's code changed in the pass
# (``grad_marks``): not turned into plain data, a list of labels already
GRAD_MOVED = "grad_moved"


def why_no_steps(failure: str) -> str:
    """Return the timeline's ``no_steps`` key for a recorder's ``failure`` (the pass ran,
    its steps are not shown): ``subclass`` (the gradients are tensors whose own dispatch
    code gradstep does not run: a subclass's, or vmap's batch of ``is_grads_batched=True``,
    which ``calls`` then names ``batched``), ``changed`` (a gradient changed in place during
    the pass), ``concurrent`` (another pass ran through the nodes at the same time), else
    ``unreadable``; ``unhooked`` where the hooks could not be put on (compiled autograd)."""
    if "__torch_dispatch__" in failure or "NOT_KEPT" in failure:
        return "subclass"
    if "changed in place" in failure:
        return "changed"
    if "another pass" in failure:
        return "concurrent"
    return "unreadable"


def _kept_error(call, own_pass: bool):
    """Return ``(call(), None)``, or ``(None, the error)`` for what the pass keeps: torch's
    own error (the lesson: kept, no crash), a hook's sys.exit() (the caller raises it again
    once the pass is recorded), and in gradstep's own pass a hook's KeyboardInterrupt; any
    other KeyboardInterrupt (the kernel's stop) goes on up."""
    try:
        return call(), None
    except (Exception, SystemExit) as err:
        return None, err
    except KeyboardInterrupt as err:
        if not (own_pass and raised_by_snippet(err)):
            raise
        return None, err


def compiled_autograd_on() -> bool:
    """Return True while torch's compiled autograd is on (``compiled_autograd._enable``).

    It compiles the pass with dynamo, hooks included: the step hooks' reads of fake
    tensors failed, and the snippet's own ``loss.backward()`` raised "RuntimeError when
    making fake tensor call". Such a pass runs unrecorded. Read only where the snippet
    loaded the module (importing dynamo here would be an import the plain run lacks).
    """
    module = sys.modules.get("torch._dynamo.compiled_autograd")
    return module is not None and bool(getattr(module, "compiled_autograd_enabled", False))


def _plain_groups(collect, result) -> dict:
    """Return ``collect(result)`` with its tensors as plain data ({} when it fails)."""
    if collect is None:
        return {}
    try:
        return {name: _plain_dict(group) for name, group in collect(result).items()}
    except Exception as exc:
        reraise_if_handlers(exc)
        return {}


def leaf_grads(id_of: dict, labels: dict) -> dict:
    """Return ``{leaf label: .grad as plain data}`` for every leaf of the graph."""
    return _plain_dict(leaf_grad_tensors(id_of, labels))


def _plain_dict(tensors: dict) -> dict:
    """Return ``{key: plain data}`` for a dict of tensors (None stays None), in one batch."""
    return dict(zip(tensors, plain_values(list(tensors.values()))))


def _mark_freed_steps(steps: list[dict], freed_nodes: list[str]) -> None:
    """Set each step's ``freed`` flag: it finished and its node's buffers are now freed."""
    freed = set(freed_nodes)
    for step in steps:
        step["freed"] = not step["error"] and step["node"] in freed


# ---------------------------------------------------------------- the Session's entry points


def run_backward(state, *, mode: str = "backward", retain_graph: bool = False,
                 passes: int = 1, gradient=None) -> dict:
    """Run ``passes`` backward passes on the live state's root(s); return one timeline.

    The steps of all passes come in one list, each with its ``pass`` number
    (indices run on across passes); ``passes`` summarises each pass. It stops
    at the first pass that fails (a second pass without retain_graph raises
    torch's "backward through the graph a second time"). Small nodes'
    Jacobians are computed before the first pass, and after a pass that freed
    buffers the trace's node ``saved`` attributes are probed again.
    """
    if int(passes) < 1:
        raise ValueError(_("passes must be at least 1, not {passes}", passes=passes))
    trace = state.trace
    roots = list(state.roots) or [state.root]
    labels = {node_id: attrs.get("label") for node_id, attrs in trace.graph.nodes(data=True)}
    with plain_reads():  # (a tensor subclass's __torch_function__ sees none of these reads)
        jacobian.precompute(trace.id_of, snippet_done=True)
        saved_memory.remember(trace.id_of, snippet_done=True)  # a formula's numbers, once freed
        before = pass_versions.snapshot(trace.id_of)  # a hook's write to a leaf in these passes
    records = []
    for _pass in range(int(passes)):
        record = record_backward(
            roots, trace.id_of, mode=mode, retain_graph=retain_graph, gradient=gradient,
            labels=labels, watch=retained_tensors(state.namespace, trace.id_of),
            source=state.source, filename=state.filename,  # its code's name, from the run
            exit_told=True, snippet_done=True,
        )
        records.append(record)
        if not retain_graph:
            with plain_reads():
                refresh_saved(trace, snippet_done=True)
        if record["error"] is not None:
            break
    # buffers freed before a pass of gradstep's own that an earlier one of its own freed (a
    # second pass from the window without retain_graph) were not the snippet's to free
    freed_first = bool(records[0]["freed_before"]) and not state.own_freed
    state.own_freed = state.own_freed or any(
        set(record["freed_nodes"]) - set(record["freed_before"]) for record in records)
    timeline = combine_passes(records)
    with plain_reads():
        written = pass_versions.moved_since(before)
    if written:
        timeline["written_during"] = written
    if timeline["error"] is not None:
        timeline["error"] = _blame_snippet_calls(timeline["error"], state.calls,
                                                 freed_first=freed_first)
        timeline["error"] = _own_root_not_scalar(timeline["error"], state, roots)
    return timeline


_IMPLICIT = "grad can be implicitly created only for"  # torch's words: "scalar", "real scalar"


def _own_root_not_scalar(error: dict, state, roots: list) -> dict:
    """Return ``error`` (torch's "grad can be implicitly created only for (real) scalar
    outputs" in a pass of gradstep's own from the drawn roots) naming the line that made the
    root and what to pass to gradstep; other errors as they are. Where the snippet made no
    backward call on this graph python never ran this pass, and torch's words about the
    snippet's ``backward()`` call pointed at no line (a complex root's: "The snippet raised
    this error at the marked line", with none marked) and asked for a change to code the
    snippet does not have (two roots: a made-up `out`)."""
    from gradstep.autograd.errors import source_line

    if not str(error.get("detail") or "").startswith(_IMPLICIT):
        return error
    nodes = state.trace.graph.nodes
    first = state.trace.id_of.get(grad_fn_of(roots[0]) if is_plain(roots[0]) else None)
    line = nodes[first].get("line") if first in nodes else None
    name = state.root_name if len(roots) == 1 and state.root_name else None
    with plain_reads():
        complex_root = any(root.is_complex() for root in roots)
        count = roots[0].numel()
    if name and not complex_root:
        said = lazy("gradstep's own backward pass starts from the drawn root `{name}`, which has "
                    "{count} elements, and torch creates the starting gradient (1.0) only for a "
                    "scalar.", name=name, count=count)
        fix = lazy("Pass --gradient ones (the pass `{name}.sum().backward()` runs), draw a scalar "
                   "with --root NAME, or call backward in the snippet (`{name}.sum().backward()`): "
                   "gradstep backward then prints that pass.", name=name)
    else:
        said = lazy("gradstep's own backward pass starts from the drawn root (or roots), and "
                    "torch creates the starting gradient (1.0) only for a real scalar: {what}.",
                    what=lazy("a complex tensor is none") if complex_root
                    else lazy("a tensor of more than one element is none"))
        fix = lazy("Pass --gradient ones (a starting gradient of ones for each root), draw one "
                   "real scalar with --root NAME, or call backward in the snippet: gradstep "
                   "backward then prints that pass.")
    if not any(call.get("drawn") for call in state.calls or ()):
        said = lazy("{text} {more}", text=said, more=lazy(
            "The snippet makes no backward call on this graph, so python never ran this pass."))
    error = {**error, "line": line, "column": None, "code": source_line(state.source, line)}
    return with_words(error, explanation=said, fix=fix)


def _root_name(roots: list, id_of: dict, labels: dict) -> str | None:
    """Return the label of the one root a pass ran from (None for several, or no label)."""
    if len(roots) != 1:
        return None
    with plain_reads():
        return labels.get(id_of.get(getattr(roots[0], "grad_fn", None)))


def _blame_snippet_calls(error: dict, calls: list, *, freed_first: bool = False) -> dict:
    """Return ``error`` saying so when the snippet's own backward call already freed the graph.

    Only a call drawn on this graph can have freed its buffers (a call on a graph of its
    own, another thread's, shares no op node with it). When none did but the first pass
    found buffers freed before it ran (``freed_first``), the snippet freed them in a call
    gradstep did not record (inside a library's code, a thread's ``run``, past
    ``calls.MAX_CALLS``): python ran the
    snippet without this error, so the error is gradstep's pass's alone (``exit_status``
    0, as for a hook's ``exit(0)``)."""
    if error.get("kind") != "freed_buffers":
        return error
    freeing = [c for c in calls or []
               if c.get("drawn") and c.get("timeline") and c["timeline"].get("freed")]
    if not freeing and freed_first:  # calls on graphs of their own that freed drawn nodes
        # (--root loss after e.sum().backward(), sn.sum().backward()): recorded, not drawn
        freeing = [c for c in calls or [] if c.get("freed_drawn") and c.get("timeline")]
        error = {**error, "exit_status": 0} if freeing else error  # python ended well
    if not freeing:
        if not freed_first:
            return error
        note = lazy("The snippet had already freed these buffers in a backward call gradstep "
                    "did not record (one made inside a library's code, by a thread's run, or "
                    "past the calls it records in a long loop), "
                    "and python ran it without this error; only gradstep's own pass after it "
                    "needed them.")
        return with_words({**error, "exit_status": 0},
                          explanation=lazy("{text} {more}", text=explanation_of(error), more=note),
                          fix=lazy("To step through that pass, call backward() in the "
                                   "snippet's own code (or a function of it); to run "
                                   "gradstep's pass too, pass retain_graph=True to the "
                                   "snippet's call."))
    # "line 5" or "lines 5, 6", each kind named, as the freed-graph error of a call does
    note = lazy("The snippet's own {calls}, run without retain_graph=True, had already freed "
                "these buffers; the run's backward calls hold the passes gradstep recorded.",
                calls=calls_named(recorded_call_lines(freeing)))
    return with_words({**error}, explanation=lazy("{text} {more}", text=explanation_of(error),
                                                  more=note))


def retained_tensors(namespace: dict, id_of: dict) -> dict:
    """Return ``{name: tensor}`` for the snippet's non-leaf tensors in this graph that
    called ``retain_grad()`` (their ``.grad`` is reported after the pass)."""
    found = {}
    with plain_reads():  # (a TorchFunctionMode the snippet left on sees no ``retains_grad``)
        for name, value in (namespace or {}).items():
            if not is_plain(value) or name.startswith("_") or not value.retains_grad:
                continue
            fn = grad_fn_of(value)  # None for a view: reading its node may rebuild it
            if fn is not None and fn in id_of:
                found[name] = value
    return found


def refresh_saved(trace, *, snippet_done: bool = False) -> None:
    """Probe every node's saved tensors again and store them in the trace's node attributes
    (a pass without retain_graph frees them; the UI and exports read ``saved``)."""
    for node_id, fn in trace.node_of.items():
        trace.graph.nodes[node_id]["saved"] = saved_items(fn, snippet_done=snippet_done)


def inspect_node(state, node_id: str) -> dict:
    """Return one node's trace attributes plus ``saved`` (with values), ``freed``,
    ``jacobian`` (see ``jacobian.local_jacobian``), ``vjp`` (what the node sends on
    for all-ones gradients) and, for a leaf, its ``grad``. Plain, strict-JSON data."""
    trace = state.trace
    fn = trace.node_of.get(node_id)
    if fn is None:
        known = ", ".join(sorted(trace.node_of, key=id_number)[:5])
        message = f"no node {node_id!r} in the graph (nodes are {known}, ...)"
        return {"id": node_id, "error": make_error("other", message)}
    info = dict(trace.graph.nodes[node_id])
    info["saved"] = saved_memory.recall_into(fn, saved_items(fn, values=True, snippet_done=True))
    info["freed"] = any(item.get("freed") for item in info["saved"])
    trace.graph.nodes[node_id]["saved"] = saved_items(fn, snippet_done=True)
    info["jacobian"] = jacobian.local_jacobian(fn, snippet_done=True)
    info["vjp"] = (jacobian.vjp_of_ones(fn, snippet_done=True) if not info["freed"]
                   else {"status": "freed"})
    variable = leaf_variable(fn)
    if variable is not None:
        info["grad"] = compact(variable.grad)
    custom = custom_function_source(type(fn))  # the class is read, the node never called
    if custom is not None:
        info["custom_function"] = custom
    return to_jsonable(info)
