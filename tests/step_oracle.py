"""Torch as the oracle for step state: run a snippet with plain torch and hooks written here.

``oracle_run(source)`` executes the snippet (no gradstep code involved) with its
``backward`` / ``autograd.grad`` calls wrapped: each call puts a pre-hook and a
hook on every node of its graph, and at each node's pre-hook (the moment the
engine is about to run it: K steps done) and once more when the call returns
or raises, takes a snapshot of what torch has then:

- which nodes have run, which one runs now, and which raised;
- for every node reachable from the snippet's tensors, whether reading its
  saved tensors raises torch's "already been freed" error;
- the gradients each node that ran sent per slot;
- every leaf's ``.grad``.

``expected_state(...)`` turns a snapshot into gradstep's terms (node ids of the
drawn graph, node states, freed flags, edge gradients, leaf ``.grad`` by label) and
``assert_matches(state, expected)`` compares a gradstep StepState-like dict with it.
"""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass, field

import torch

_FREED_WORDS = ("freed", "second time")


@dataclass
class OracleCall:
    api: str
    line: int
    roots: list = field(default_factory=list)  # the grad_fns differentiated
    nodes: list = field(default_factory=list)  # every node of the call's graph
    order: list = field(default_factory=list)  # nodes in the order the engine ran them
    snapshots: list = field(default_factory=list)  # one per K = 0 .. len(order)
    raised: BaseException | None = None
    returned: tuple | None = None


@dataclass
class OracleRun:
    namespace: dict
    calls: list
    error: BaseException | None


def reachable(roots) -> list:
    """Return every node reachable from ``roots`` (grad_fns), breadth first."""
    seen, queue = {}, deque()
    for fn in roots:
        if fn is not None and fn not in seen:
            seen[fn] = None
            queue.append(fn)
    while queue:
        for nxt, _ in queue.popleft().next_functions:
            if nxt is not None and nxt not in seen:
                seen[nxt] = None
                queue.append(nxt)
    return list(seen)


def saved_freed(fn) -> bool:
    """Return True when reading one of ``fn``'s saved tensors raises torch's freed error
    (a custom Function's node keeps them in ``saved_tensors``)."""
    if isinstance(fn, torch.autograd.function.BackwardCFunction):
        names = ["saved_tensors"]
    else:
        names = [name for name in dir(fn) if name.startswith("_saved_")]
    for name in names:
        try:
            getattr(fn, name)
        except RuntimeError as exc:
            if any(w in str(exc) for w in _FREED_WORDS):
                return True
    return False


def _is_leaf(fn) -> bool:
    """An AccumulateGrad node, told by its class: a custom Function's node is its ``ctx``,
    whose attributes (``variable``, ``name``, hook methods) the user's forward may set."""
    return type(fn).__name__ == "AccumulateGrad"


def _clone(t):
    return None if t is None else t.detach().clone()


class _Watcher:
    def __init__(self, filename: str):
        self.filename = filename
        self.calls: list[OracleCall] = []
        self.busy = False

    def wrap(self, original, api: str):
        def wrapper(*args, **kwargs):
            caller = sys._getframe(1)
            if self.busy or caller.f_code.co_filename != self.filename:
                return original(*args, **kwargs)
            self.busy = True
            try:
                return self._watched(original, api, args, kwargs, caller)
            finally:
                self.busy = False
        return wrapper

    def _watched(self, original, api, args, kwargs, caller):
        if api == "Tensor.backward":
            tensors = [args[0]]
        else:
            first = args[0] if args else kwargs.get("tensors", kwargs.get("outputs"))
            tensors = [first] if isinstance(first, torch.Tensor) else list(first)
        roots = [t.grad_fn for t in tensors if t.grad_fn is not None]
        call = OracleCall(api=api, line=caller.f_lineno, roots=roots, nodes=reachable(roots))
        probe = reachable(roots + [v.grad_fn for v in caller.f_globals.values()
                                   if isinstance(v, torch.Tensor) and v.grad_fn is not None])
        sent: dict = {}
        current = [None]
        seen: dict = {}  # the nodes of the gradients the hooks saw (a create_graph pass's)

        def see(grads):
            for g in grads:
                if isinstance(g, torch.Tensor) and g.grad_fn is not None:
                    seen.setdefault(g.grad_fn)

        def snapshot(now):
            made = [fn for fn in reachable(list(seen)) if fn not in call.nodes]
            call.snapshots.append({
                "current": now, "ran": list(call.order), "sent": dict(sent),
                "freed": {fn: saved_freed(fn) for fn in probe},
                "grads": {fn: _clone(fn.variable.grad) for fn in probe if _is_leaf(fn)},
                # torch's counter now (a node numbered this or more does not exist yet), and
                # the nodes the pass built so far that its gradients lead to, with whether
                # their saved tensors are freed
                "seq": torch._C._autograd._get_sequence_nr(),
                "made": {fn: saved_freed(fn) for fn in made},
            })

        def pre(fn):
            def hook(grad_outputs):
                see(grad_outputs)
                snapshot(fn)
                call.order.append(fn)
                current[0] = fn
            return hook

        def post(fn):
            def hook(grad_inputs, grad_outputs):
                see(grad_inputs)
                flows = [nxt is not None for nxt, _ in fn.next_functions]
                sent[fn] = [_clone(g) if flows[i] else None for i, g in enumerate(grad_inputs)]
            return hook

        handles = []
        for fn in call.nodes:
            handles.append(type(fn).register_prehook(fn, pre(fn)))  # the class's: see _is_leaf
            handles.append(type(fn).register_hook(fn, post(fn)))
        self.calls.append(call)
        try:
            result = original(*args, **kwargs)
        except BaseException as exc:
            call.raised = exc
            raise
        else:
            see(result if api.endswith("grad") else ())
            call.returned = tuple(_clone(t) for t in result) if api.endswith("grad") else None
            return result
        finally:
            for handle in handles:
                handle.remove()
            snapshot(None)


def oracle_run(source: str, filename: str = "<oracle>") -> OracleRun:
    """Run ``source`` with plain torch (namespace with torch, nn, F) and watch its backward calls."""
    watcher = _Watcher(filename)
    targets = [(torch.Tensor, "backward", "Tensor.backward"),
               (torch.autograd, "backward", "torch.autograd.backward"),
               (torch.autograd, "grad", "torch.autograd.grad")]
    originals = [(owner, attr, getattr(owner, attr)) for owner, attr, _ in targets]
    namespace = {"__name__": "__main__", "torch": torch, "nn": torch.nn,
                 "F": torch.nn.functional}
    error = None
    try:
        for (owner, attr, api), (_, _, original) in zip(targets, originals):
            setattr(owner, attr, watcher.wrap(original, api))
        exec(compile(source, filename, "exec"), namespace)
    except Exception as exc:
        error = exc
    finally:
        for owner, attr, original in originals:
            setattr(owner, attr, original)
    return OracleRun(namespace=namespace, calls=watcher.calls, error=error)


def drawn_ids(run: OracleRun, trace: dict, root_name: str, joined=None) -> dict:
    """Return ``{grad_fn: node id}`` numbering the oracle's nodes as the drawn graph does:
    breadth first from the drawn root, then the roots of the calls whose graph shares an
    op node with it (checked against the trace's node names). ``joined``: the indices of
    the calls gradstep drew (None: every such call); a call whose root tensor the snippet
    let go, ``(g * g).sum().backward()``, is not (drawing it is gradstep's choice; what
    torch had at each step of the calls it drew is what is checked)."""
    root = run.namespace[root_name]
    roots = [root.grad_fn]
    drawn = set(reachable(roots))
    for i, call in enumerate(run.calls):
        if joined is not None and i not in joined:
            continue
        if any(fn in drawn and not _is_leaf(fn) for fn in call.nodes):
            roots += [fn for fn in call.roots if fn not in roots]
    ids, queue = {}, deque()
    for fn in roots:
        if fn not in ids:
            ids[fn] = f"n{len(ids)}"
            queue.append(fn)
    while queue:
        for nxt, _ in queue.popleft().next_functions:
            if nxt is not None and nxt not in ids:
                ids[nxt] = f"n{len(ids)}"
                queue.append(nxt)
    names = {n["id"]: n["name"] for n in trace["nodes"]}
    assert {i: type(fn).name(fn).split("::")[-1] for fn, i in ids.items()} == names
    return ids


def expected_state(call: OracleCall, k: int, ids: dict, labels: dict) -> dict:
    """Return what torch had after ``k`` steps of ``call``, in drawn-graph ids.

    ``labels`` maps leaf node ids to gradstep's leaf labels. Returns
    ``{"node_states", "freed", "edge_grads", "leaf_grads", "current"}``; nodes that
    did not exist yet (built later in the snippet) are not in it.
    """
    snap = call.snapshots[min(k, len(call.snapshots) - 1)]
    ran = snap["ran"]
    errored = call.raised is not None and snap["current"] is None and ran and ran[-1] not in snap["sent"]
    states, freed = {}, {}
    for fn, is_freed in snap["freed"].items():
        if fn not in ids:
            continue
        node = ids[fn]
        freed[node] = is_freed
        if fn is snap["current"]:
            states[node] = "current"
        elif errored and fn is ran[-1]:
            states[node] = "error"
        elif fn in ran:
            states[node] = "freed" if is_freed else "done"
        else:  # not run in this pass: pending, also with buffers an earlier pass freed
            states[node] = "pending"
    edges = {}
    for fn, grads in snap["sent"].items():
        for slot, grad in enumerate(grads):
            nxt = fn.next_functions[slot][0]
            if grad is not None and fn in ids and nxt in ids:
                edges[(ids[fn], ids[nxt], slot)] = grad
    leaves = {labels[ids[fn]]: g for fn, g in snap["grads"].items() if fn in ids and ids[fn] in labels}
    current = ids.get(snap["current"]) if snap["current"] is not None else None
    return {"node_states": states, "freed": freed, "edge_grads": edges, "leaf_grads": leaves,
            "current": current}


def _same_value(plain, tensor, atol=1e-6) -> bool:
    if tensor is None or plain is None:
        return tensor is None and plain is None
    if isinstance(plain, dict):  # a summary of a big tensor: shape and statistics
        want = tensor.double()
        return (plain["shape"] == list(tensor.shape)
                and abs(plain["min"] - want.min().item()) <= atol
                and abs(plain["max"] - want.max().item()) <= atol
                and abs(plain["mean"] - want.mean().item()) <= atol)
    got = torch.tensor(_numbers(plain), dtype=torch.float64)
    return got.shape == tensor.shape and torch.allclose(got, tensor.double(), atol=atol, equal_nan=True)


def _numbers(plain):
    """Return ``plain`` with strict JSON's words for NaN and the infinities as floats."""
    if isinstance(plain, list):
        return [_numbers(p) for p in plain]
    return float(plain) if isinstance(plain, str) else plain


def assert_matches(shown: dict, expected: dict, where: str = "") -> None:
    """Assert that ``shown`` (``node_states``, ``freed`` {node: bool}, ``edge_grads``
    {(u, v, slot): plain value}, ``leaf_grads`` {label: plain value}, and ``not_known``, the
    leaves whose ``.grad`` it does not show) is what torch had."""
    for node, state in expected["node_states"].items():
        assert shown["node_states"].get(node) == state, (where, node, shown["node_states"], expected["node_states"])
    for node, freed in expected["freed"].items():
        if node in shown["freed"]:
            assert shown["freed"][node] == freed, (where, node, "freed", shown["freed"])
    assert set(shown["edge_grads"]) == set(expected["edge_grads"]), (where, shown["edge_grads"])
    for edge, grad in expected["edge_grads"].items():
        assert _same_value(shown["edge_grads"][edge], grad), (where, edge, shown["edge_grads"][edge], grad)
    for label, grad in expected["leaf_grads"].items():
        if label in shown.get("not_known", ()):  # shown as not known: gradstep says less
            continue
        assert _same_value(shown["leaf_grads"].get(label), grad), (where, label, shown["leaf_grads"], grad)


def printed(t: torch.Tensor) -> str:
    """Return a tensor's numbers as torch's ``print`` writes them, on one line and without
    ``tensor(`` and its keywords: ``[2.]``, ``[[1., 2.], [3., 4.]]``, ``[0.1440, -0.0828]``."""
    text = str(t.detach())
    text = text[len("tensor("):text.rindex(")")]
    for keyword in (", dtype=", ", device=", ", requires_grad="):
        if keyword in text:
            text = text[:text.index(keyword)]
    return " ".join(text.split()).replace("[ ", "[")
