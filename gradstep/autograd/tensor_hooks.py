"""Whether a tensor hook of the snippet's may run in a pass: then the hooks copy.

A tensor hook (``y.register_hook(fn)``) runs just before ``y``'s node, on the gradient
the node that sent it handed on; a hook that changes it in place (``g.mul_(2)``) changes
the very tensor whose alias the sender's step kept, and no hook of gradstep's runs in
between. The usual hooks keep aliases and then drop the pass's steps ("a gradient was
changed in place during the pass"); the copying hooks (those made for the snippet's own
mode) copy what each step sends when it sends it, so each step shows what torch had then.

torch shows a node's tensor hooks to no Python code; the tensor's ``_backward_hooks``
(its Python dict of hooks) can be read from the tensor. So a pass is recorded by the
copying hooks where a tensor it can reach has hooks: a leaf of its graph (its
``AccumulateGrad``'s variable), a root, or a tensor the snippet's namespace names whose
node is in the graph (or that is a view: its node is not read, see ``safe_reads``).
A hooked tensor found nowhere of these (inside a module's code) is not seen: that pass
is as before. Reading ``_backward_hooks`` runs no hook and changes nothing.
"""

from __future__ import annotations

from gradstep.autograd.safe_reads import ACCUMULATE_GRAD, grad_fn_of, is_plain, plain_reads


def has_tensor_hooks(id_of: dict, tensors=()) -> bool:
    """Return True when a leaf of ``id_of`` (grad_fn -> id), or one of ``tensors`` (roots,
    the snippet's named values: anything else is skipped) in the graph, has tensor hooks.
    True where the look-up fails: the copying hooks are exact either way."""
    try:
        return _has_tensor_hooks(id_of, tensors)
    except Exception:
        return True


def _has_tensor_hooks(id_of: dict, tensors) -> bool:
    with plain_reads():
        for value in tensors:
            if not is_plain(value) or not value.requires_grad:
                continue
            if value._backward_hooks:
                if value._is_view() or grad_fn_of(value) in id_of:
                    return True
        for fn in id_of:
            if type(fn) is ACCUMULATE_GRAD:
                variable = fn.variable
                if variable is not None and variable._backward_hooks:
                    return True
    return False
