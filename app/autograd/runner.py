"""Run a snippet under a device, recording values, names and scopes, and pick its root.

``run_snippet(source, device=..., root=..., filename=...) -> RunResult``. The
namespace holds ``torch``, ``nn`` and ``F``; what the snippet prints is kept
(up to ``OUTPUT_LIMIT`` characters) in ``output``, never written to the real
stdout. The root is ``root=NAME`` (several: ``"a,b"``), else the value of the
last expression statement, else the last tensor with a ``grad_fn`` that the
snippet assigned at top level.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import linecache
import sys
import warnings
from dataclasses import dataclass, field

import torch

from app.autograd import errors
from app.autograd.calls import capture_backward_calls
from app.autograd.devices import device_status
from app.autograd.names import Bindings, module_names, parameter_labels, resolve_scopes
from app.autograd.recorder import Recorder
from app.autograd.rewrite import BIND, LAST, last_expression_name, rewrite

OUTPUT_LIMIT = 1_000_000


@dataclass
class RunResult:
    """What running a snippet left behind (``error`` is None when it ran to the end)."""

    source: str
    filename: str
    device: str
    namespace: dict = field(default_factory=dict)
    roots: list = field(default_factory=list)
    root_name: str | None = None
    root_chosen: bool = False  # --root NAME: draw exactly that, nothing joined to it
    call_graphs: list = field(default_factory=list)  # see calls.CallRecords.graphs
    values: dict = field(default_factory=dict)
    labels: dict = field(default_factory=dict)
    scopes: dict = field(default_factory=dict)
    calls: list = field(default_factory=list)
    output: str = ""
    error: dict | None = None
    exit_code: int = 0  # 0 ran, 1 the snippet failed, 2 bad usage / device unavailable


class BoundedText(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters written to it."""

    def __init__(self, limit: int = OUTPUT_LIMIT):
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        room = self.limit - self.size
        if room > 0:
            self.parts.append(text[:room])
            self.size += min(room, len(text))
        self.dropped += max(0, len(text) - max(room, 0))
        return len(text)

    def getvalue(self) -> str:
        tail = f"\n[... {self.dropped} more characters not kept]\n" if self.dropped else ""
        return "".join(self.parts) + tail


def run_snippet(source: str, *, device: str = "cpu", root: str | None = None,
                filename: str = "<snippet>", deep: bool = True) -> RunResult:
    """Run ``source`` and return its RunResult (errors as error dicts, never raised).

    ``deep=False`` records values only at the torch-call level (faster; nodes
    made inside one call then have no value).
    """
    result = RunResult(source=source, filename=filename, device=device)
    ok, reason = device_status(device)
    if not ok:
        result.error = errors.make_error("device_unavailable", reason, source=source)
        result.exit_code = 2
        return result
    try:
        tree = ast.parse(source, filename)
        last_name = last_expression_name(tree)
        # The compiler finds more (`return` outside a function, `break` outside a loop).
        code = compile(rewrite(tree), filename, "exec")
    except (SyntaxError, RecursionError, MemoryError) as exc:  # too deeply nested -> RecursionError
        return _failed(result, exc)
    _remember_source(source, filename)
    bindings, last_value = Bindings(), []
    result.namespace = namespace = _namespace(bindings, last_value)
    recorder = Recorder(deep=deep)
    output = BoundedText()
    failure = None
    with capture_backward_calls(filename) as calls:
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                with _snippet_warnings(), torch.device(device), recorder.active():
                    exec(code, namespace)
        except (Exception, SystemExit, KeyboardInterrupt) as exc:  # Stop keeps the output
            failure = exc
    result.calls = list(calls)
    result.call_graphs = calls.graphs
    result.output = output.getvalue()
    _name_everything(result, recorder, bindings)
    if failure is not None:
        _failed(result, failure)
    _pick_root(result, root, last_value, last_name, bindings)
    return result


@contextlib.contextmanager
def _snippet_warnings():
    """Show the snippet's warnings in its output, as plain Python would, whatever
    filters the host process has (pytest turns warnings into errors)."""
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _print_warning  # restored by catch_warnings
        yield


def _print_warning(message, category, filename, lineno, file=None, line=None) -> None:
    sys.stderr.write(warnings.formatwarning(message, category, filename, lineno, line))


def _namespace(bindings: Bindings, last_value: list) -> dict:
    return {
        "__name__": "__main__", "__builtins__": builtins,
        "torch": torch, "nn": torch.nn, "F": torch.nn.functional,
        BIND: bindings.bind, LAST: last_value.append,
    }


def _remember_source(source: str, filename: str) -> None:
    """Let ``linecache`` (and so tracebacks and ``inspect``) show the snippet's lines."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def _failed(result: RunResult, exc: BaseException) -> RunResult:
    result.error = errors.explain(exc, result.source, result.filename)
    result.exit_code = 1
    return result


def _name_everything(result: RunResult, recorder: Recorder, bindings: Bindings) -> None:
    """Fill values, labels (variables first, then parameter names) and scopes."""
    try:
        scope_names, param_names = module_names(result.namespace)
    except Exception:  # a module whose named_modules() itself fails: no module names
        scope_names, param_names = {}, {}
    result.values = recorder.values
    result.labels = {**parameter_labels(param_names), **bindings.labels()}
    result.scopes = resolve_scopes(recorder.scopes, recorder.modules, scope_names, param_names)


def _pick_root(result: RunResult, root: str | None, last_value: list,
               last_name: str | None, bindings: Bindings) -> None:
    """Set ``roots`` and ``root_name``, or an error when nothing can be drawn."""
    if root:
        result.root_chosen = True
        _named_roots(result, root)
        return
    if last_value and _tensors_with_grad_fn(last_value[-1]):
        result.roots = _tensors_with_grad_fn(last_value[-1])
        result.root_name = last_name
        return
    last = bindings.last_with_grad_fn
    tensor = last[1]() if last else None
    if tensor is not None and tensor.grad_fn is not None:
        result.roots, result.root_name = [tensor], last[0]
        return
    if result.error is None:
        result.error = errors.make_error(
            "nothing_to_draw",
            "nothing to draw: the snippet made no tensor with a grad_fn "
            "(did you set requires_grad=True?)",
            source=result.source,
        )
        result.exit_code = 1


def _named_roots(result: RunResult, root: str) -> None:
    names = [n.strip() for n in root.split(",") if n.strip()]
    for name in names:
        if name not in result.namespace:
            return _usage(result, f"--root {name}: the snippet defines no variable named {name!r}")
        value = result.namespace[name]
        if not isinstance(value, torch.Tensor) or value.grad_fn is None:
            what = "is not a tensor" if not isinstance(value, torch.Tensor) else "has no grad_fn"
            return _usage(result, f"--root {name}: {name!r} {what}, so there is no graph to draw "
                                  "(did you set requires_grad=True?)")
        result.roots.append(value)
    result.root_name = ",".join(names)


def _usage(result: RunResult, message: str) -> None:
    if result.error is None:
        result.error = errors.make_error(
            "nothing_to_draw", message, source=result.source, exit_status=2,
            title="No such root",
            explanation="--root names the variable whose graph is drawn; it must hold a "
                        "tensor that has a grad_fn when the snippet ends.",
            fix="Pass the name of a tensor computed from a leaf with requires_grad=True, "
                "or leave --root out to use the last expression.",
        )
        result.exit_code = 2
    result.roots = []


def _tensors_with_grad_fn(value) -> list:
    """Return the tensors with a grad_fn in a value (a tensor, or a tuple/list of them)."""
    items = value if isinstance(value, (tuple, list)) else [value]
    return [t for t in items if isinstance(t, torch.Tensor) and t.grad_fn is not None]
