"""torch's switches that outlive a snippet in the window's kernel, beside ``process_state``:
backend flags (``torch.backends.cuda.enable_flash_sdp(False)``, ``torch.backends.mkldnn.enabled
= False``, ``torch.backends.mha.set_fastpath_enabled(False)``, ...), global ``nn.Module``
hooks (``register_module_forward_hook``), default saved-tensor hooks and autocast entered
without their exit, and what dynamo compiled and counted. A fresh ``python FILE`` has none
of them: after a run that set them, the next run's CPU attention was another kernel (the
graph showed ``ToCopyBackward0`` nodes of a leftover autocast instead of
``ScaledDotProductFlashAttentionForCpuBackward0``), and the last run's hooks printed in it.
"""

from __future__ import annotations

import sys

import torch
import torch.backends.opt_einsum as opt_einsum
import torch.nn.modules.module as nn_module

try:
    import torch.backends.mha as mha
except ImportError:  # an older torch: no such switch to set back
    mha = None

# (getter, setter) in torch._C, those this torch has
_FLAGS = tuple(
    (get, set_) for get, set_ in (
        ("_get_flash_sdp_enabled", "_set_sdp_use_flash"),
        ("_get_mem_efficient_sdp_enabled", "_set_sdp_use_mem_efficient"),
        ("_get_math_sdp_enabled", "_set_sdp_use_math"),
        ("_get_cudnn_sdp_enabled", "_set_sdp_use_cudnn"),
        ("_get_overrideable_sdp_enabled", "_set_sdp_use_overrideable"),
        ("_get_fa3_sdp_enabled", "_set_sdp_use_fa3"),
        ("_get_math_sdp_allow_fp16_bf16_reduction", "_set_math_sdp_allow_fp16_bf16_reduction"),
        ("_get_mkldnn_enabled", "_set_mkldnn_enabled"),
        ("_get_mkldnn_deterministic", "_set_mkldnn_deterministic"),
        ("_get_nnpack_enabled", "_set_nnpack_enabled"),
        ("_get_cudnn_enabled", "_set_cudnn_enabled"),
        ("_get_cudnn_benchmark", "_set_cudnn_benchmark"),
        ("_get_cudnn_deterministic", "_set_cudnn_deterministic"),
        ("_get_cudnn_allow_tf32", "_set_cudnn_allow_tf32"),
        ("_get_deterministic_fill_uninitialized_memory",
         "_set_deterministic_fill_uninitialized_memory"))
    if hasattr(torch._C, get) and hasattr(torch._C, set_)
)
_HOOK_DICTS = tuple(name for name in dir(nn_module)
                    if name.startswith("_global_") and name.endswith("hooks")
                    or name in ("_global_forward_hooks_always_called",
                                "_global_forward_hooks_with_kwargs"))
# by device type since torch 2.4 (``get_autocast_dtype``); an older torch's are not set back
_AUTOCAST_DEVICES = ("cpu", "cuda") if hasattr(torch, "get_autocast_dtype") else ()
# the Python-level ones: (module, attribute)
_ATTRIBUTES = ((opt_einsum, "enabled"), (opt_einsum, "strategy"))
if mha is not None:
    _ATTRIBUTES = ((mha, "_is_fastpath_enabled"), *_ATTRIBUTES)


def note() -> tuple:
    """Return torch's switches as they are now (the kernel's, once its imports are done)."""
    flags = tuple(getattr(torch._C, get)() for get, _ in _FLAGS)
    flags += tuple(getattr(module, name, None) for module, name in _ATTRIBUTES)
    hooks = {name: set(getattr(nn_module, name)) for name in _HOOK_DICTS}
    autocast = tuple((torch.is_autocast_enabled(device), torch.get_autocast_dtype(device))
                     for device in _AUTOCAST_DEVICES)
    autocast += (torch.is_autocast_cache_enabled(),)
    return flags, hooks, nn_module._global_is_full_backward_hook, autocast


def put_back(noted: tuple) -> None:
    """Set torch's switches back to ``noted`` (each only where a run changed it)."""
    flags, hooks, full_backward, autocast = noted
    for (get, set_), value in zip(_FLAGS, flags):
        if getattr(torch._C, get)() != value:
            getattr(torch._C, set_)(value)
    for (module, name), value in zip(_ATTRIBUTES, flags[len(_FLAGS):]):
        if getattr(module, name, None) != value:
            setattr(module, name, value)
    for name, keys in hooks.items():  # a run's global module hooks (the kernel's own kept)
        table = getattr(nn_module, name)
        for key in [k for k in table if k not in keys]:
            del table[key]
    nn_module._global_is_full_backward_hook = full_backward
    while _top_saved_tensors_hooks() is not None:
        torch._C._autograd._pop_saved_tensors_default_hooks()  # saved_tensors_hooks().__enter__()
    _put_back_autocast(autocast)
    _fresh_dynamo()


def _put_back_autocast(autocast: tuple) -> None:
    """Set autocast's flags back, and its nesting (0: none entered) and weight cache where
    an ``autocast().__enter__()`` was left without its exit, even one that changed no flag
    (``enabled=False``): with its nesting left at 1, the next run's ``with autocast`` did not
    clear the cache on exit and its next block used the weight cast before an optimizer step."""
    for device, (enabled, dtype) in zip(_AUTOCAST_DEVICES, autocast):
        if torch.is_autocast_enabled(device) != enabled:
            torch.set_autocast_enabled(device, enabled)
        if torch.get_autocast_dtype(device) != dtype:
            torch.set_autocast_dtype(device, dtype)
    level = torch.autocast_increment_nesting() - 1  # no getter: the nesting before this call
    for _ in range(level + 1):
        torch.autocast_decrement_nesting()
    if level:
        torch.clear_autocast_cache()
    if torch.is_autocast_cache_enabled() != autocast[-1]:
        torch.set_autocast_cache_enabled(autocast[-1])


def _top_saved_tensors_hooks():
    """Return the innermost default saved-tensor hooks (None when there are none)."""
    top = torch._C._autograd._top_saved_tensors_default_hooks
    try:
        return top(True)  # ignore_is_tracing (torch 2.5 and later)
    except TypeError:
        return top()


def _fresh_dynamo() -> None:
    """Dynamo as in a process that compiled nothing yet, once a run compiled something: its
    code caches (``torch._dynamo.reset()``, "as if you had started a fresh process") and its
    ``counters`` (a second run of a ``torch.compile`` snippet printed
    ``{'calls_captured': 2, 'unique_graphs': 2}`` where python prints 1 and 1)."""
    dynamo = sys.modules.get("torch._dynamo")
    utils = sys.modules.get("torch._dynamo.utils")
    if dynamo is None or utils is None or not utils.counters:
        return
    utils.counters.clear()
    dynamo.reset()
