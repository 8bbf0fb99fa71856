"""What one snippet leaves behind in the process, set back before the next one runs.

The window's kernel runs many snippets in one process (the command line starts a fresh
kernel each time). Each of them must start as under a fresh ``python FILE``, but a run can
flip process-wide switches that outlive it: torch's default dtype and device, grad mode,
deterministic algorithms, anomaly mode, print options, matmul precision, thread count, and
Python's current folder, recursion limit and environment. ``keep()`` notes them once the
kernel has imported torch (what a plain run has by the time its ``import torch`` ran);
``restore()`` puts them back before each run (docs/fidelity.md says what is not).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ProcessState:
    dtype: torch.dtype
    device_context: bool  # torch.set_default_device(...) in force
    grad: bool
    deterministic: bool
    warn_only: bool
    anomaly: bool
    check_nan: bool
    matmul_precision: str
    print_options: dict
    threads: int
    cwd: str
    recursion_limit: int
    environ: dict


_kept: list = []  # the state noted by keep(), once


def keep() -> None:
    """Note the process's state now (the kernel, once its imports are done)."""
    _kept[:] = [ProcessState(
        dtype=torch.get_default_dtype(), device_context=_device_context() is not None,
        grad=torch.is_grad_enabled(),
        deterministic=torch.are_deterministic_algorithms_enabled(),
        warn_only=torch.is_deterministic_algorithms_warn_only_enabled(),
        anomaly=torch.is_anomaly_enabled(), check_nan=torch.is_anomaly_check_nan_enabled(),
        matmul_precision=torch.get_float32_matmul_precision(),
        print_options=_print_options(),
        threads=torch.get_num_threads(), cwd=os.getcwd(),
        recursion_limit=sys.getrecursionlimit(), environ=dict(os.environ),
    )]


def restore() -> None:
    """Put back the state ``keep()`` noted (nothing when it was never noted)."""
    if not _kept:
        return
    state = _kept[0]
    # each setter only where the run changed it: use_deterministic_algorithms, for one,
    # imports ~800 modules (1 s) the first time it is called
    if torch.get_default_dtype() != state.dtype:
        torch.set_default_dtype(state.dtype)
    if not state.device_context and _device_context() is not None:
        torch.set_default_device(None)  # (setting "cpu" would enter a TorchFunctionMode)
    if torch.is_grad_enabled() != state.grad:
        torch.set_grad_enabled(state.grad)
    if (torch.are_deterministic_algorithms_enabled(),
            torch.is_deterministic_algorithms_warn_only_enabled()) != (state.deterministic,
                                                                       state.warn_only):
        torch.use_deterministic_algorithms(state.deterministic, warn_only=state.warn_only)
    if (torch.is_anomaly_enabled(), torch.is_anomaly_check_nan_enabled()) != (state.anomaly,
                                                                               state.check_nan):
        torch.autograd.set_detect_anomaly(state.anomaly, check_nan=state.check_nan)
    if torch.get_float32_matmul_precision() != state.matmul_precision:
        torch.set_float32_matmul_precision(state.matmul_precision)
    if _print_options() != state.print_options:
        torch.set_printoptions(**state.print_options)
    if torch.get_num_threads() != state.threads:
        torch.set_num_threads(state.threads)
    try:
        if os.getcwd() != state.cwd:
            os.chdir(state.cwd)
    except OSError:  # the folder is gone: stay where the last run left the process
        pass
    if sys.getrecursionlimit() != state.recursion_limit:
        sys.setrecursionlimit(state.recursion_limit)
    if dict(os.environ) != state.environ:  # only what changed (a thread an earlier run
        for key in [k for k in os.environ if k not in state.environ]:  # left may read it)
            del os.environ[key]
        for key, value in state.environ.items():
            if os.environ.get(key) != value:
                os.environ[key] = value


def _print_options() -> dict:
    options = torch._tensor_str.PRINT_OPTS
    return {name: getattr(options, name)
            for name in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


def _device_context():
    """Return the DeviceContext ``torch.set_default_device`` entered, or None."""
    return getattr(getattr(torch, "_GLOBAL_DEVICE_CONTEXT", None), "device_context", None)
