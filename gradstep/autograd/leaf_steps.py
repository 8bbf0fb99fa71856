"""A leaf's AccumulateGrad step in a recorded pass (``step_hooks``): what the step keeps of
its ``.grad`` after it ran, and where AccumulateGrad may change what it received in place
(a ``.grad`` sharing its memory, post-accumulate-grad hooks).
"""

from __future__ import annotations

from torch import Tensor
from torch._C import _is_torch_function_mode_enabled

from gradstep.autograd.held_grads import NOT_KEPT, _copy, _size
from gradstep.autograd.safe_reads import _PLAIN_TYPES, plain_reads, runs_dispatch_code


def _grad_after(grad, kept, count):
    """Return what a leaf's step keeps of its ``.grad`` after AccumulateGrad ran (and its
    post-accumulate-grad hooks): the tensor itself (a reference changes nothing), noted with
    its version in ``kept``. A hook that runs later in the pass and changes that ``.grad`` in
    place (another leaf's post-accumulate-grad hook that clips or zeroes every parameter's
    gradient) then drops the pass's steps, as for a gradient the hooks kept: the step showed
    the ``.grad`` as the pass left it, not as torch had it after that step. ``NOT_KEPT`` for
    a subclass's that runs dispatch code; an inference tensor (no version counter) is copied.
    So is a view (its version is its base's: where each parameter's ``.grad`` is a view of
    one flat buffer, the next leaf's AccumulateGrad adding into its own part moves it too,
    and the pass, exact, would be dropped). A copy's bytes count in ``count[0]`` (a model
    whose ``.grad``s all lie in one buffer held a second copy of them outside ``HELD_BYTES``).
    """
    if type(grad) is not Tensor:
        return NOT_KEPT if grad is not None and runs_dispatch_code(grad) else grad
    if grad._is_view():
        return _counted_copy(grad, count)
    try:
        kept((grad, grad._version))
    except RuntimeError:  # an inference tensor (a pass run under inference_mode)
        return _counted_copy(grad, count)
    return grad


def _counted_copy(grad: Tensor, count):
    """Return ``_copy(grad)``, its bytes added to ``count[0]``."""
    copy = _copy(grad)
    count[0] += _size(copy)
    return copy


def _added_into(leaf, before, grads) -> bool:
    """Return True when AccumulateGrad may itself have changed ``grads``, what it received:
    ``leaf`` (its variable, None for any other node) had a ``.grad`` before it ran
    (``before``, its copy or summary) that shares memory with one of them, so its in-place
    add into that ``.grad`` moved their version (without a ``.grad`` before, it takes the
    gradient, or a copy of it, as it is); or it had none and the leaf has
    post-accumulate-grad hooks, which AccumulateGrad runs once it took the gradient as
    ``.grad``: one that changes it in place (``p.grad.mul_(0.5)``, a clip) moved the
    gradient's version (its pre-hook summarised what it received, ``_post_hooked``). Where
    it had a ``.grad`` not sharing their memory, it adds into that one or makes a new one:
    what it received is not its ``.grad``, and its pre-hook summarised nothing."""
    if leaf is None:
        return False
    if before is None:
        return _post_hooked(leaf)
    return _shares_memory(grads, leaf.grad)


def _takes_it(grads, before, variable) -> bool:
    """Return True when the post-accumulate-grad hooks of the leaf ``variable`` may change
    ``grads`` (what its AccumulateGrad received) in place: it has such hooks, and no
    ``.grad`` (``before`` None: AccumulateGrad takes the gradient as ``.grad``) or one that
    shares their memory (it adds into that). Its pre-hook then summarises what the hooks
    hold. A leaf with another ``.grad`` is left as it is: AccumulateGrad adds into that one
    or makes a new one (review of fid15: a summary at every hooked leaf, ~0.2 ms each, made
    a pass of 24 hooked parameters 2.6 times as long)."""
    if not _post_hooked(variable):
        return False
    return before is None or _shares_memory(grads, variable.grad)


def _post_hooked(variable) -> bool:
    """Return True when the leaf ``variable`` has post-accumulate-grad hooks (read with
    torch functions disabled: a subclass's ``__torch_function__`` does not see it).

    They run inside its AccumulateGrad, after it took the gradient it received as ``.grad``
    (the very tensor, where nothing else holds it): one that changes ``.grad`` in place
    changes that gradient, which the pass's earlier steps (the node that sent it, the
    leaf's own) kept. So the pre-hook of such a leaf summarises what the hooks hold (as past
    ``HELD_BYTES``) where AccumulateGrad may take it (``_takes_it``): what torch had at those
    steps; and the change is the node's own (``_added_into``). A plain tensor or Parameter
    (its exact type) while no function mode is on is read straight: torch's getter itself
    goes to ``__torch_function__`` only for another type or under a mode
    (``check_has_torch_function``), so the read is the same one, and nothing of the
    snippet's sees it either way (docs/speed.md item 75: ~0.1–0.3 us less a leaf a pass)."""
    if type(variable) in _PLAIN_TYPES and not _is_torch_function_mode_enabled():
        return bool(variable._post_accumulate_grad_hooks)
    with plain_reads():
        return bool(variable._post_accumulate_grad_hooks)


def _shares_memory(grads, grad) -> bool:
    """Return True when a plain tensor of ``grads`` lies in the memory of ``grad`` (a leaf's
    ``.grad``), or when that cannot be read (a sparse one): an in-place add into ``grad``
    may then have changed it."""
    if type(grad) is not Tensor:
        return grad is not None
    try:
        memory = grad.untyped_storage().data_ptr()
        return any(type(g) is Tensor and g.untyped_storage().data_ptr() == memory for g in grads)
    except RuntimeError:
        return True
