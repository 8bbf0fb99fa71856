"""The names a snippet's frame gives the nodes of a backward call's graph: the graph's
node ids numbered as ``trace.trace_graph`` numbers them (``graph_ids``), the names the
frame sees (``frame_namespace``) and the node each of its tensors names
(``frame_labels``). Read by ``calls`` for the snippet's own backward calls and by the
public API for the caller's names."""

from __future__ import annotations

import inspect
import sys
from collections import Counter, deque

from torch.autograd.graph import GradientEdge

from gradstep.autograd.leaf_root import leaf_node
from gradstep.autograd.names import module_names
from gradstep.autograd.safe_reads import grad_fn_of, is_leaf_node, is_plain


def graph_ids(roots) -> dict:
    """Return ``{grad_fn: node id}`` numbered like ``trace.trace_graph`` (breadth first, ``n0`` = root).

    A root's grad_fn is read as torch itself reads it in the call that follows. A leaf
    that requires grad has its AccumulateGrad node (``leaf_root``: the one node a call on
    the leaf itself runs); other roots without a grad_fn are skipped (torch will raise its
    own error for them). A ``GradientEdge`` root (``grad(get_gradient_edge(y), x)``) is
    its node.
    """
    id_of: dict = {}
    queue: deque = deque()
    for root in roots:
        if issubclass(type(root), GradientEdge):  # torch: isinstance
            fn = root.node
        else:
            try:
                fn = getattr(root, "grad_fn", None)
            except RuntimeError:  # torch raises its own error for this root in the call
                continue
        if fn is None:
            fn = leaf_node(root)
        if fn is not None and fn not in id_of:
            id_of[fn] = f"n{len(id_of)}"
            queue.append(fn)
    while queue:
        fn = queue.popleft()
        for nxt, _ in fn.next_functions:
            if nxt is not None and nxt not in id_of:
                id_of[nxt] = f"n{len(id_of)}"
                queue.append(nxt)
    return id_of


def frame_namespace(frame, *, function_locals: bool = True) -> dict:
    """Return the names a snippet frame sees: its globals, then its locals (which win).

    ``function_locals=False``: a function's own locals are left out before Python 3.13
    (the snippet's backward calls, which gradstep records unasked). There ``f_locals``
    is the very dict the function's ``locals()`` returns, and reading it fills it anew
    from the frame: a function that held ``d = locals()`` saw names appear in ``d`` (a
    loop over it raised "dictionary changed size during iteration"), and the dict, kept
    on the frame, held every local alive until the function returned. Its tensors go
    without their variable names (docs/fidelity.md). From 3.13 ``f_locals`` is a view
    of the frame that changes and keeps nothing. (``gradstep.trace(t)`` and the other
    public calls read them: the user asked for the caller's names.)"""
    if (not function_locals and frame.f_code.co_flags & inspect.CO_OPTIMIZED
            and sys.version_info < (3, 13)):
        return dict(frame.f_globals)
    scopes = [frame.f_globals] if frame.f_locals is frame.f_globals else [frame.f_globals, frame.f_locals]
    return {name: value for scope in scopes for name, value in list(scope.items())}


def frame_labels(namespace: dict, id_of: dict, first_names: dict | None = None) -> dict:
    """Return ``{node id: name}`` for the tensors a snippet frame's ``namespace`` names.

    A leaf is named after its variable, else after its parameter name in a
    module the frame holds (``net.model1.0.weight``); an op node after the
    variable holding its output. With ``first_names`` (``names.Bindings.leaf_labels``: the
    first name the snippet bound each leaf to) a leaf is labelled as the drawn graph labels
    it, whatever names hold it now (``for p in (w, b)`` leaves ``p`` naming ``b``): by its
    first name, else its parameter name: the pass's ``.grad`` of each leaf is found by the
    graph's label (``Bindings`` makes each live leaf's first name its own: ``w``, ``w (2)``).
    A name first for two leaves would label neither (their node ids, or another name
    holding them now).
    """
    by_leaf = {id(fn.variable): node_id for fn, node_id in id_of.items() if is_leaf_node(fn)}
    labels: dict = {}
    _scopes, param_names = module_names(namespace)
    params = {by_leaf[ident]: name for ident, name in param_names.items() if ident in by_leaf}
    labels.update(params)
    for name, value in namespace.items():
        if not is_plain(value) or name.startswith("_"):
            continue
        node_id = by_leaf.get(id(value)) or id_of.get(grad_fn_of(value))
        if node_id is not None:
            labels[node_id] = name
    if first_names is None:
        return labels
    # the graph's labels (``runner``: a parameter's name, else the first name the snippet
    # bound the leaf to), whatever names hold the leaves now: two leaves whose names were
    # swapped, a loop variable (``for p in net.parameters()``) naming a parameter
    # (a copy of the items first: a snippet thread's pass reads them while the main thread
    # may bind new names, and a dict changed during the loop would drop the pass's record)
    firsts = {by_leaf[ident]: name for ident, (ref, name) in list(first_names.items())
              if ident in by_leaf and ref() is not None}
    taken = Counter(firsts.values())
    for node_id in by_leaf.values():
        first, label = firsts.get(node_id), labels.get(node_id)
        if taken[first] == 1:
            labels[node_id] = first
        elif node_id in params:
            labels[node_id] = params[node_id]
        elif label is not None and taken[label] != 0:
            # (another leaf's first name: the window would show that leaf's ``.grad`` on
            # this one; each keeps the name holding it now where no leaf was first bound to it)
            del labels[node_id]
    return labels
