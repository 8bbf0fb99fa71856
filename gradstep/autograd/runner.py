"""Run a snippet under a device, recording values, names and scopes, and pick its root.

``run_snippet(source, device=..., root=..., filename=...) -> RunResult``. The
namespace holds ``torch``, ``nn`` and ``F``; what the snippet prints is kept
(capped by ``gradstep.policies.output_cap``) in ``output``, never written to the real
stdout. The root is ``root=NAME`` (several: ``"a,b"``; one held in a top-level value:
``"out.loss"``, ``"outs[0]"``, ``root_paths``), else the value of the
last expression statement, else the last tensor with a ``grad_fn`` that the
snippet assigned at top level; where the snippet made recorded backward calls, one of those
two only when a call ran on its graph, else the tensor the last call ran on that a top-level
name or path reaches (``loss``, ``out.loss``: ``_call_roots``), else one of those two all the
same (``_pick_root``). A snippet that ends with ``sys.exit()`` / ``sys.exit(0)``
ends normally there, as under ``python FILE`` (``ended_well``).
"""

from __future__ import annotations

import ast
import contextlib
import os
import sys
import warnings
from dataclasses import dataclass, field

import torch
from torch._C._autograd import _get_sequence_nr

from gradstep.autograd import (
    errors,
    jacobian,
    process_state,
    root_paths,
    saved_memory,
    snippet_depth,
    snippet_source,
    snippet_threads,
)
from gradstep.autograd.anomaly_stack import snippet_stacks
from gradstep.autograd.call_graphs import on_a_called_graph
from gradstep.autograd.calls import capture_backward_calls
from gradstep.autograd.devices import device_problem
from gradstep.autograd.exit_status import ended_well, failure_status
from gradstep.autograd.freed_by import calls_named
from gradstep.autograd.grad_marks import is_noted
from gradstep.autograd.leaf_calls import leaf_call_lines, recorded_call_lines
from gradstep.autograd.names import ScopeNames, module_names, parameter_labels
from gradstep.autograd.node_class_caches import forget_custom_classes
from gradstep.autograd.observe import Observer
from gradstep.autograd.printed_error import printed_text
from gradstep.autograd.recorder import Recorder
from gradstep.autograd.safe_reads import plain_reads
from gradstep.autograd.snippet_module import deep_recursion, main_module, running_as_main
from gradstep.autograd.snippet_rewrite import last_expression_name, rewrite
from gradstep.autograd.stop_flag import raised_by_snippet
from gradstep.autograd.trace import node_key
from gradstep.i18n import lazy, with_words
from gradstep.i18n.output_note import worded_note
from gradstep.policies.output_cap import CappedText
from gradstep.policies.script_name import script_path


@dataclass
class RunResult:
    """What running a snippet left behind (``error`` is None when it ran to the end, or to a
    ``sys.exit(0)``)."""

    source: str
    filename: str
    device: str
    namespace: dict = field(default_factory=dict)
    roots: list = field(default_factory=list)
    root_name: str | None = None
    root_chosen: bool = False  # --root NAME: draw exactly that, nothing joined to it
    # the paths (``out.loss``) of the tensors the snippet's recorded backward calls ran on,
    # held in its top-level values (``_call_roots``): roots a window may offer too
    call_root_paths: list = field(default_factory=list)
    call_graphs: list = field(default_factory=list)  # see calls.CapturedCalls.graphs
    values: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    scopes: dict = field(default_factory=dict)
    lines: dict = field(default_factory=dict)  # node_key -> snippet line (lines.LineIndex)
    calls: list = field(default_factory=list)
    output: str = ""
    observer: Observer | None = None  # what was seen while it ran (values go on seeing)
    error: dict | None = None
    exit_code: int = 0  # 0 ran, 1 the snippet failed, 2 bad usage / device unavailable,
    # 130 a KeyboardInterrupt of the snippet's ended it (exit_status.failure_status)
    nodes_made: tuple = (0, 0)  # torch's sequence counter (this thread) before and after the run


def run_snippet(source: str, *, device: str = "cpu", root: str | None = None,
                filename: str = "<snippet>", deep: bool = False,
                capture_output: bool = True) -> RunResult:
    """Run ``source`` and return its RunResult (errors as error dicts, never raised).

    By default nothing gradstep does changes what torch does (``observe``).
    ``deep=True`` also records the output of every torch call made anywhere
    (library code included) through a ``TorchFunctionMode`` — more values, but
    a mode changes which kernels and fast paths torch picks (``recorder``).
    ``capture_output`` keeps what the snippet prints in ``output`` instead of
    letting it reach the process's own stdout/stderr (the kernel captures those
    at the file-descriptor level and passes False, so buffering is Python's own).
    """
    process_state.restore()  # in a kernel: what an earlier run changed, set back
    # The code's name is the script's absolute path, as python compiles it: warnings,
    # tracebacks and inspect show it (sys.argv keeps the name as typed)
    argv_name, filename = filename, script_path(filename)
    result = RunResult(source=source, filename=filename, device=device)
    ok, reason = device_problem(device)
    if not ok:
        result.error = errors.make_error("device_unavailable", reason, source=source)
        result.exit_code = 2
        return result
    if not source.strip():  # the window's Run on an empty editor: said as the CLI says it
        result.error = errors.make_error("empty", lazy("the snippet is empty"), source=source)
        result.exit_code = 1
        return result
    try:
        # The compiler finds more (`return` outside a function, `break` outside a loop).
        # dont_inherit: not this module's `from __future__ import annotations`.
        with deep_recursion():  # the parse too: it runs ~10 frames deeper than python's own
            tree = ast.parse(source, filename)
            last_name = last_expression_name(tree)
            code = compile(rewrite(tree), filename, "exec", dont_inherit=True)
    except (SyntaxError, RecursionError, MemoryError) as exc:  # too deeply nested -> RecursionError
        if isinstance(exc, SyntaxError) and exc.filename is None:
            exc.filename = filename  # a NUL byte: the parser names no file, yet it is the snippet's
        return _failed(result, exc)
    process_state.running(code)  # in a kernel: the builtins it sets are its own
    saved_memory.forget()  # what an earlier run remembered of its nodes is not this run's
    jacobian.forget()
    forget_custom_classes()  # the last run's custom Functions, and through them its namespace
    snippet_source.remember(source, filename)
    observer = Observer()
    module = main_module(filename)
    result.namespace = namespace = module.__dict__
    output = CappedText(note=worded_note) if capture_output else None
    failure = None
    counter_before = _get_sequence_nr()
    probed = snippet_depth.probe_namespace()
    exec(snippet_depth.PROBE, probed)  # from this frame, as the snippet's exec below
    with capture_backward_calls(filename, observer) as calls:
        try:
            with _printed_to(output), snippet_environment(argv_name), running_as_main(module), \
                    device_context(device), observer.active(), \
                    (Recorder(observer).active() if deep else contextlib.nullcontext()), \
                    snippet_stacks(sys._getframe()), snippet_depth.levelled(probed):
                threads_before = snippet_threads.alive()
                try:
                    exec(code, namespace)
                except BaseException as exc:  # python waits for them after a failure too,
                    if not isinstance(exc, KeyboardInterrupt) or raised_by_snippet(exc):
                        snippet_threads.wait_for_started(threads_before)  # not after a stop
                    raise
                snippet_threads.wait_for_started(threads_before)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:  # Stop keeps the output
            failure = None if ended_well(exc) else exc
            if failure is None:
                calls.ended_by(exc)  # a hook's sys.exit(0): that call stopped, with no error
    result.nodes_made = (counter_before, _get_sequence_nr())
    process_state.ran()
    result.calls = calls.records
    result.call_graphs = calls.graphs
    result.output = output.getvalue() if output is not None else ""
    result.observer = observer
    _name_everything(result, observer)
    if failure is not None:
        _failed(result, failure)
        result.error = _as_its_call_told(result.error, result.calls)
    _pick_root(result, root, observer.last_value, last_name, observer.bindings)
    return result


def _printed_to(output):
    """Send the snippet's stdout and stderr to ``output`` (nothing changes when it is None)."""
    if output is None:
        return contextlib.nullcontext()
    stack = contextlib.ExitStack()
    stack.enter_context(contextlib.redirect_stdout(output))
    stack.enter_context(contextlib.redirect_stderr(output))
    return stack


def device_context(device: str):
    """Return the context that makes ``device`` the default one (``torch.device(device)``,
    a TorchFunctionMode), or none at all when it already is: on the CPU the snippet
    runs exactly as under plain python."""
    current = torch.get_default_device() if hasattr(torch, "get_default_device") else None
    if current is not None and torch.device(device) == current:
        return contextlib.nullcontext()
    return torch.device(device)


@contextlib.contextmanager
def snippet_environment(filename: str):
    """Run as ``python FILE`` would: the folder of the file's real path (symbolic links
    resolved) first on ``sys.path`` (``""``, the current folder whichever it is, for ``-c``
    and standard input), ``sys.argv == [FILE]`` (``["-"]`` for standard input, ``["-c"]``
    otherwise), the warning filters of a plain run (``keep_warning_filters``; shown on
    stderr, whatever the host process set); all restored afterwards."""
    is_file = not filename.startswith("<")
    folder = os.path.dirname(os.path.realpath(filename)) if is_file else ""
    saved_path, saved_argv = list(sys.path), list(sys.argv)
    sys.path.insert(0, folder)
    sys.argv = [filename if is_file else "-" if filename == "<stdin>" else "-c"]
    try:
        with warnings.catch_warnings():
            if _Kernel.warning_filters is not None:
                warnings.filters[:] = _Kernel.warning_filters
            else:
                warnings.resetwarnings()
                for action, category, module in reversed(_PYTHON_WARNING_FILTERS):
                    warnings.filterwarnings(action, category=category, module=module)
            with _pythons_own_warning_display():
                yield
    finally:
        sys.path[:] = saved_path
        sys.argv[:] = saved_argv


class _Kernel:
    """``warning_filters``: the filters a snippet starts with in a kernel (``keep_warning_filters``)."""

    warning_filters: list | None = None


def keep_warning_filters() -> None:
    """Let every snippet of this process start with the warning filters it has now.

    For the kernel, once its imports are done: its filters are then what a plain
    ``python FILE`` has by the time the snippet's ``import torch`` ran (Python's own, the
    user's ``PYTHONWARNINGS``, and those torch and numpy add as they load, such as
    ``ignore TracerWarning outside torch.jit``). Elsewhere (a test, the API's caller) the
    host's filters are its own: a snippet gets Python's defaults instead.
    """
    _Kernel.warning_filters = list(warnings.filters)


# The filters of a plain `python` (3.x, release build, no -W options).
_PYTHON_WARNING_FILTERS = (
    ("default", DeprecationWarning, "__main__"),
    ("ignore", DeprecationWarning, ""),
    ("ignore", PendingDeprecationWarning, ""),
    ("ignore", ImportWarning, ""),
    ("ignore", ResourceWarning, ""),
)


@contextlib.contextmanager
def _pythons_own_warning_display():
    """Show warnings as a plain ``python`` does, whatever the host (pytest, a notebook)
    put in place: Python's own ``showwarning`` and ``formatwarning``, and a last step
    that writes the whole message, its source included (the "Enable tracemalloc" hint
    after a coroutine never awaited). Inside ``catch_warnings``, which restores the first
    and the last; ``formatwarning`` is restored here."""
    orig_show = getattr(warnings, "_showwarning_orig", None)
    orig_format = getattr(warnings, "_formatwarning_orig", None)
    format_message = getattr(warnings, "_formatwarnmsg", None)
    if orig_show is None or orig_format is None or format_message is None:  # another Python
        warnings.showwarning = _show_warning
        yield
        return
    saved_format = warnings.formatwarning
    warnings.showwarning, warnings.formatwarning = orig_show, orig_format

    def write(message) -> None:
        stream = sys.stderr if message.file is None else message.file
        if stream is not None:
            try:
                stream.write(format_message(message))
            except OSError:
                pass

    warnings._showwarnmsg_impl = write
    try:
        yield
    finally:
        warnings.formatwarning = saved_format


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Write a warning to stderr as Python's own ``warnings.showwarning`` does (where
    ``warnings`` lacks what ``_pythons_own_warning_display`` uses)."""
    stream = sys.stderr if file is None else file
    if stream is None:
        return
    try:
        stream.write(warnings.formatwarning(message, category, filename, lineno, line))
    except OSError:
        pass


def _failed(result: RunResult, exc: BaseException) -> RunResult:
    result.error = errors.explain(exc, result.source, result.filename)
    printed = printed_text(exc, result.filename)  # what python FILE prints beyond one line
    if printed:
        result.error["printed"] = printed
    result.exit_code = failure_status(exc)  # 130: the snippet's own KeyboardInterrupt
    return result


def _as_its_call_told(error: dict, calls: list) -> dict:
    """Return the snippet's error with the words of its last backward call's error, where
    that call raised it (the same kind, line and message) and its record names more (the
    line of the call that freed the buffers, ``calls.CapturedCalls.add``; a saved tensor
    changed during the pass, ``hook_raised.written_in_the_pass``)."""
    last = next((c["error"] for c in reversed(calls) if c.get("error")), None)
    if (last is None or last.get("kind") not in ("freed_buffers", "inplace")
            or error.get("kind") != last["kind"] or (last.get("line"), last.get("detail")) != (error.get("line"), error.get("detail"))):
        return error
    words = last.get("words") or {}
    return with_words({**error}, **{key: words[key] for key in ("explanation", "fix") if key in words})


def _name_everything(result: RunResult, observer: Observer) -> None:
    """Fill values, labels (variables first, then parameter names), scopes and lines."""
    try:
        scope_names, param_names = module_names(result.namespace)
    except Exception:  # a module whose named_modules() itself fails: no module names
        scope_names, param_names = {}, {}
    result.values = observer.values
    result.labels = {**parameter_labels(param_names), **observer.bindings.labels()}
    result.scopes = ScopeNames(observer.scopes, scope_names, param_names)
    result.lines = observer.lines


def _earlier_root(namespace: dict, earlier: list) -> tuple[list, str] | None:
    """Return ``([tensor], name)`` for the latest of ``earlier`` (``Bindings.take_earlier_roots``)
    whose name still holds that very tensor (torch's watch on it: not a new one at a dead
    one's id) and which has a node, or None."""
    for name, note in earlier:
        tensor = dict.get(namespace, name)
        if _is_tensor(tensor) and is_noted(tensor, note) and _root_grad_fn(tensor) is not None:
            return [tensor], name
    return None


def _pick_root(result: RunResult, root: str | None, last_value: list,
               last_name: str | None, bindings) -> None:
    """Set ``roots`` and ``root_name``, or an error when nothing can be drawn.

    ``--root`` wins. Else, where the snippet made no recorded backward call on a tensor
    with a grad_fn, the last expression's tensors, else the last tensor with a grad_fn bound
    at top level. Where it made such calls, the first of those two that one of the calls ran
    on (its root, or a graph sharing an op node with it: ``call_graphs.on_a_called_graph``),
    else the tensors of the last call that a top-level name or a path holds
    (``_call_roots``), else the first of the two all the same (the calls' tensors are gone:
    a loss local to a function)."""
    drawn, earlier = _call_roots(result), bindings.take_earlier_roots()
    if root:
        result.root_chosen = True
        _named_roots(result, root)
        _label_paths(result, [n.strip() for n in root.split(",") if n.strip()])
        return
    defaults = []
    if last_value and _tensors_with_grad_fn(last_value[-1]):
        defaults.append((_tensors_with_grad_fn(last_value[-1]), last_name))
    last = bindings.last_with_grad_fn
    tensor = last[1]() if last else None
    if tensor is not None and _root_grad_fn(tensor) is not None:
        defaults.append(([tensor], last[0]))
    else:  # none, or a view with no node (a leaf): the last op or view bound before it
        earlier = _earlier_root(result.namespace, earlier)
        if earlier:
            defaults.append(earlier)
    graphs = [graph for graph in result.call_graphs if graph is not None and graph.root_keys]
    for tensors, name in defaults:
        fns = [_root_grad_fn(t) for t in tensors]
        if not graphs or on_a_called_graph(
                fns, {(id(t), node_key(fn)) for t, fn in zip(tensors, fns)}, graphs):
            result.roots, result.root_name = tensors, name
            return
    if drawn:  # ``out.loss.backward()``: what --root out.loss draws, exactly
        result.roots = [tensor for tensor, _ in drawn]
        result.root_name = ",".join(path for _, path in drawn)
        named = all(root_paths.parse(path)[1] == [] for _, path in drawn)
        result.root_chosen = not named  # (a name: as the default draws a variable)
        _label_paths(result, [path for _, path in drawn])
        return
    if defaults:  # the calls' tensors are gone (a function's locals): as with no call
        result.roots, result.root_name = defaults[0]
        return
    if result.error is None:
        result.error = _nothing_to_draw(result)
        result.exit_code = 1


def _label_paths(result: RunResult, names: list) -> None:
    """Label each root named by a path (``out.loss``) with it, as a top-level ``loss`` labels
    its node ``loss``, where no variable's name labels that node already."""
    if len(result.roots) != len(names):  # (a --root that found no tensor: none drawn)
        return
    for tensor, name in zip(result.roots, names):
        path = root_paths.parse(name)
        fn = _root_grad_fn(tensor)
        if path and path[1] and fn is not None:
            result.labels.setdefault(node_key(fn), name)


def _call_roots(result: RunResult) -> list:
    """Fill ``call_root_paths`` and return ``[(tensor, name or path)]`` for the last recorded
    backward call whose root tensors a top-level name (``loss`` of ``loss.backward()``) or a
    path from a top-level value reaches (that very object, its ``id`` and its ``grad_fn`` as
    the call recorded them: ``CallGraph.root_keys``) (``out.loss`` of ``out = model(x,
    labels=y); out.loss.backward()``), read as ``--root PATH`` reads it (``root_paths``); []
    when none does. ``call_root_paths`` holds the paths only: a name is a candidate by its
    name already (``session.root_candidates``)."""
    calls = [list(graph.root_keys) for graph in result.call_graphs if graph is not None]
    keys = {key for call in calls for key in call}
    if not keys:
        return []

    def wanted(value) -> bool:  # that very tensor, its graph as the call ran on it
        fn = _root_grad_fn(value) if _is_tensor(value) else None
        return fn is not None and (id(value), node_key(fn)) in keys

    named = {}  # a top-level name holds the tensor itself: the first bound
    ids = {key[0] for key in keys}
    for name, value in dict.items(result.namespace):
        if root_paths.searched_name(name) and id(value) in ids and wanted(value):
            named.setdefault((id(value), node_key(_root_grad_fn(value))), (value, name))
    found = {(i, node_key(_root_grad_fn(t))): (t, path) for i, (path, t) in
             root_paths.paths_to(result.namespace, ids - {key[0] for key in named},
                                 wanted).items()}
    for call in calls:
        for key in call:
            if key in found and found[key][1] not in result.call_root_paths:
                result.call_root_paths.append(found[key][1])
    found.update(named)
    for call in reversed(calls):
        drawn = {key: found[key] for key in call if key in found}
        if drawn:
            return list(drawn.values())
    return []


def _nothing_to_draw(result: RunResult) -> dict:
    """Return the error for a run that left no tensor with a grad_fn to draw: where torch's
    node counter moved, the snippet did make a graph (inside a function, say ``main()``, whose
    locals are gone once it returns, or held in a list): say so, and name the line whose
    code made its last node."""
    before, after = result.nodes_made
    leaf_lines = leaf_call_lines(result.calls)
    if leaf_lines:
        error = errors.make_error(
            "nothing_to_draw",
            lazy("the snippet's {calls} ran on leaves themselves, and it left no tensor with a "
                 "grad_fn", calls=calls_named(leaf_lines)),
            source=result.source)
        return with_words(
            error,
            explanation=lazy(
                "A backward call on a leaf itself has no graph of ops to draw: x.backward(g) "
                "runs one node, the leaf's AccumulateGrad, which adds g into x.grad; "
                "torch.autograd.grad(x, x, g) runs none and hands g back. gradstep backward "
                "prints those calls."),
            fix=lazy("Compute something from the leaf (y = x * 2) and call backward on it to "
                     "see a graph; gradstep backward FILE shows the leaf's own step."))
    if after <= before:
        return _no_node_made(result)
    line = result.lines.line_of(after - 1) if result.lines is not None else None
    passes_at = recorded_call_lines(result.calls)  # (a training loop inside main())
    # not "gone": a top-level list, dict or object may still hold the tensor (losses[0])
    error = errors.make_error(
        "nothing_to_draw",
        lazy("the snippet made a graph, but neither its last expression nor a top-level "
             "variable is a tensor with a grad_fn"),
        source=result.source, line=line)
    return with_words(
        error,
        explanation=lazy(
            "The code run at line {line} made autograd nodes, but gradstep draws from the "
            "snippet's last expression or a top-level variable, and none of them is a tensor "
            "with a grad_fn. The tensors may be gone (a function's local variables, the loss "
            "inside main() with `sys.exit(main())`, are freed when it returns) or held where "
            "gradstep does not look (in a list, a dict or an object's attribute).", line=line)
        if line else lazy(
            "The snippet made autograd nodes, but gradstep draws from its last expression or "
            "a top-level variable, and none of them is a tensor with a grad_fn. The tensors "
            "may be gone (a function's local variables, the loss inside main() with "
            "`sys.exit(main())`, are freed when it returns) or held where gradstep does not "
            "look (in a list, a dict or an object's attribute)."),
        fix=lazy("Bind the tensor to draw at top level: return it from the function "
                 "(`loss = main()`), or make it the snippet's last expression; then pass "
                 "--root NAME or let gradstep pick it. A tensor held in a top-level object, "
                 "dict, list or tuple is named by its path: --root out.loss.") if not passes_at else
        lazy("Bind the tensor to draw at top level: return it from the function "
             "(`loss = main()`), or make it the snippet's last expression; then pass "
             "--root NAME or let gradstep pick it. A tensor held in a top-level object, "
             "dict, list or tuple is named by its path: --root out.loss (with no --root, "
             "gradstep draws the tensor a backward call ran on where such a path reaches it; "
             "it reads through no property, __getattr__ or other container). gradstep "
             "recorded the passes of the snippet's {calls}: gradstep backward FILE prints "
             "their steps.", calls=calls_named(passes_at)))


def _no_node_made(result: RunResult) -> dict:
    """Return the error for a run that made no autograd node at all, naming the line that
    made the tensor the snippet bound last and the leaf to change (``where_no_graph``)."""
    from gradstep.autograd.no_graph_lines import where_no_graph

    # the title says "Nothing to draw" and the fix asks "Did you set requires_grad=True?":
    # the message says neither again (walk 5)
    message = lazy("the snippet made no tensor with a grad_fn")
    with plain_reads():
        found = where_no_graph(result.namespace, result.source)
    if found is None:
        return errors.make_error("nothing_to_draw", message, source=result.source)
    error = errors.make_error("nothing_to_draw", message, source=result.source,
                              line=found["line"])
    made = {"line": found["line"], "name": found["name"], "leaf": found["leaf"],
            "leaf_line": found["leaf_line"]}
    if found["grad_leaf"] and found["leaf"] == found["name"]:  # the leaf itself, no op after
        return with_words(
            error,
            explanation=lazy(
                "Line {line} made `{name}`, a leaf that requires grad: a graph starts at a "
                "leaf, but no operation used `{name}` after it, so autograd recorded none.",
                **made),
            fix=lazy("Compute something from `{name}` (`y = {name} * 2`, a loss), then run "
                     "again.", **made))
    if found["grad_leaf"]:  # a leaf requires grad, yet nothing was recorded from it
        return with_words(
            error,
            explanation=lazy(
                "Line {line} made `{name}`, a tensor with no grad_fn. `{leaf}` (line "
                "{leaf_line}) requires grad, yet autograd recorded no operation: `{name}` was "
                "computed without it, or where autograd records nothing (inside `with "
                "torch.no_grad():` or `torch.inference_mode()`, or from `.detach()` or "
                "`.data`).", **made),
            fix=lazy("Compute `{name}` from `{leaf}` itself, outside `torch.no_grad()` and "
                     "`torch.inference_mode()`, then run again.", **made))
    if found["leaf"] is None:  # only integer (or bool) tensors: none of them can require grad
        return with_words(
            error,
            explanation=lazy(
                "Line {line} made `{name}`, a tensor with no grad_fn: the snippet's tensors "
                "hold integers, and only floating-point tensors can require grad.", **made),
            fix=lazy("Create a leaf of floats that requires grad (`torch.tensor([1., 2.], "
                     "requires_grad=True)`) and compute `{name}` from it.", **made))
    return with_words(
        error,
        explanation=lazy(
            # what gradstep read (the variables' tensors), not what it cannot know (the
            # tensors `{name}` came from: a leaf made and dropped under no_grad, a .detach())
            "Line {line} made `{name}`, a tensor with no grad_fn, and no variable of the "
            "snippet holds a tensor that requires grad: autograd records an operation only on "
            "tensors computed from one that does, outside `torch.no_grad()` and without "
            "`.detach()`.", **made),
        fix=lazy("Create `{leaf}` (line {leaf_line}) as a leaf that requires grad (for "
                 "example `torch.ones(3, requires_grad=True)`), or call "
                 "`{leaf}.requires_grad_()` before computing from it; then run again.", **made))


def _named_roots(result: RunResult, root: str) -> None:
    names = [n.strip() for n in root.split(",") if n.strip()]
    for name in names:
        path = root_paths.parse(name)  # a bare name, or one with .attr / [key] steps
        if path is None:
            return _usage(result, lazy(
                "--root {name}: not a variable's name, nor a path into one of .attribute and "
                "[key] steps with a string or integer key; write it as out.loss, outs[0] or "
                "d[\"loss\"]", name=name))
        if path[0] not in result.namespace:
            return _usage(result, lazy("--root {name}: the snippet defines no variable named "
                                       "{quoted}", name=name, quoted=repr(path[0])))
        value, reached = root_paths.follow(result.namespace[path[0]], path[1])
        if value is root_paths.MISSING:
            return _usage(result, lazy(
                "--root {name}: gradstep finds no {step} in {held} (it reads an object's own "
                "attributes, not properties, and the items of a dict, a list or a tuple)",
                name=name, step=root_paths.text("", path[1][reached:reached + 1]),
                held=root_paths.text(path[0], path[1][:reached])))
        if not _is_tensor(value) or _root_grad_fn(value) is None:
            message = (lazy("--root {name}: {quoted} is not a tensor, so there is no graph to "
                            "draw (did you set requires_grad=True?)", name=name, quoted=repr(name))
                       if not _is_tensor(value) else
                       lazy("--root {name}: {quoted} has no grad_fn, so there is no graph to "
                            "draw (did you set requires_grad=True?)", name=name, quoted=repr(name)))
            return _usage(result, message)
        result.roots.append(value)
    result.root_name = ",".join(names)


def _usage(result: RunResult, message: dict) -> None:
    if result.error is None:
        result.error = errors.make_error(
            "nothing_to_draw", message, source=result.source, exit_status=2,
            title=lazy("No such root"),
            explanation=lazy("--root names the variable whose graph is drawn, or the path to "
                             "it in a variable (out.loss); it must hold a tensor that has a "
                             "grad_fn when the snippet ends."),
            fix=lazy("Pass the name (or the path: out.loss) of a tensor computed from a leaf "
                     "with requires_grad=True, or leave --root out to use the last "
                     "expression."),
        )
        result.exit_code = 2
    result.roots = []


def _tensors_with_grad_fn(value) -> list:
    """Return the tensors with a grad_fn in a value (a tensor, or a tuple/list of them).

    These are the roots the user asked to draw, so their grad_fn is read even for a
    view (as printing them would); a view torch refuses to give a node is no root.
    """
    kind = type(value)  # type() and the base classes' own iteration: no code of a proxy's
    items = (tuple.__iter__(value) if issubclass(kind, tuple) else   # (its __class__, its
             list.__iter__(value) if issubclass(kind, list) else [value])  # __iter__) runs
    return [t for t in items if _is_tensor(t) and _root_grad_fn(t) is not None]


def _is_tensor(value) -> bool:
    """Return True for a tensor, told by ``type()``: ``isinstance`` reads ``__class__``, which a
    proxy object answers with its own code (it would run after the snippet ended)."""
    return issubclass(type(value), torch.Tensor)


def _root_grad_fn(t: torch.Tensor):
    try:
        with plain_reads():  # a subclass's __torch_function__ would see (and print) the read
            return t.grad_fn
    except RuntimeError:  # a view made in no_grad whose base changed in place since
        return None
