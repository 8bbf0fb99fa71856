"""What one snippet leaves behind in the process, set back before the next one runs.

The window's kernel runs many snippets in one process (the command line starts a fresh
kernel each time). Each of them must start as under a fresh ``python FILE``, but a run can
flip process-wide switches that outlive it: torch's default dtype and device, grad mode,
deterministic algorithms, anomaly mode, print options, matmul precision, thread count,
``warn_always``, autograd's multithreading, denormal flushing, an open forward-AD level,
backend flags, global module hooks, leftover autocast and saved-tensor hooks
(``torch_switches``), and
Python's current folder, recursion limit, environment, trace and profile functions, hooks
(``sys.unraisablehook``, ``threading.excepthook``, ...), the SIGINT handler (the kernel's
own), collector switches, umask, integer digit limit, thread switch interval, the names in
``builtins`` (a run's ``builtins.print = ...`` or ``builtins.foo = 1``) and the root logger
(``basicConfig``, ``captureWarnings``). ``keep()`` notes them once the kernel has
imported torch (what a plain run has by the time its ``import torch`` ran); ``restore()``
puts them back before each run (docs/fidelity.md says what is not).
"""

from __future__ import annotations

import builtins
import dis
import gc
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass

import torch
import torch.autograd.forward_ad as forward_ad

from gradstep.autograd import torch_switches
from gradstep.policies import gc_pause

# Python-level hooks a snippet may replace: (module, attribute)
_HOOKS = ((sys, "excepthook"), (sys, "unraisablehook"), (sys, "displayhook"),
          (sys, "breakpointhook"), (threading, "excepthook"))
# SIGINT only: the kernel's own (Stop). Other handlers carry over: a library may set one once
# per process (torch's DataLoader its SIGCHLD handler), and SIGUSR1 is faulthandler's
_SIGNALS = (signal.SIGINT,)


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
    warn_always: bool
    multithreading: bool
    tracing: tuple  # sys.gettrace(), sys.getprofile(), threading's two
    hooks: tuple  # the values of _HOOKS
    signals: dict  # signal -> its Python handler
    gc_enabled: bool
    gc_threshold: tuple
    umask: int
    int_digits: int | None
    logging_root: tuple  # handlers, level, filters, logging.disable's level
    torch_switches: tuple  # torch_switches.note()
    switch_interval: float
    builtin_names: dict  # a copy of builtins.__dict__


_kept: list = []  # the state noted by keep(), once
# the last run: its code, and sys.modules (_modules_mark) as its code started and ended
# (gradstep's own imports after it, networkx for a layout, are not the run's)
_since: dict = {"code": None, "start": None, "end": None}


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
        warn_always=torch.is_warn_always_enabled(),
        multithreading=torch._C._is_multithreading_enabled(),
        tracing=_tracing(), hooks=_hooks(), signals=_signals(),
        gc_enabled=gc.isenabled(), gc_threshold=gc.get_threshold(), umask=_umask(),
        int_digits=_int_digits(), logging_root=_logging_root(),
        torch_switches=torch_switches.note(),
        switch_interval=sys.getswitchinterval(), builtin_names=dict(vars(builtins)),
    )]
    _since.update(code=None, start=None, end=None)


def running(code) -> None:
    """Note the code object of the run about to start (in a kernel: ``restore()`` reads
    which builtins it could have changed itself), and the modules imported so far."""
    if _kept:
        _since.update(code=code, start=_modules_mark(), end=None)


def ran() -> None:
    """Note the modules imported once the run's code ended (what it imported itself)."""
    if _kept:
        _since["end"] = _modules_mark()


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
    _restore_more_of_torch(state)
    _restore_more_of_python(state)
    _restore_logging(state)


def _restore_more_of_torch(state: ProcessState) -> None:
    if torch.is_warn_always_enabled() != state.warn_always:
        torch.set_warn_always(state.warn_always)
    if torch._C._is_multithreading_enabled() != state.multithreading:
        torch._C._set_multithreading_enabled(state.multithreading)
    torch.set_flush_denormal(False)  # no getter; off in every fresh process
    while forward_ad._current_level >= 0:  # enter_dual_level() without its exit
        forward_ad.exit_dual_level()
    torch_switches.put_back(state.torch_switches)


def _restore_more_of_python(state: ProcessState) -> None:
    if _tracing() != state.tracing:
        sys.settrace(state.tracing[0])
        sys.setprofile(state.tracing[1])
        threading.settrace(state.tracing[2])
        threading.setprofile(state.tracing[3])
    for (module, name), value in zip(_HOOKS, state.hooks):
        if getattr(module, name) is not value:
            setattr(module, name, value)
    if threading.current_thread() is threading.main_thread():  # the only one that may set them
        for number, handler in state.signals.items():
            if signal.getsignal(number) is not handler:
                signal.signal(number, handler)
    if gc_pause.pauses() == 0 and gc.isenabled() != state.gc_enabled:
        (gc.enable if state.gc_enabled else gc.disable)()
    if gc.get_threshold() != state.gc_threshold:
        gc.set_threshold(*state.gc_threshold)
    os.umask(state.umask)
    if _int_digits() != state.int_digits:
        sys.set_int_max_str_digits(state.int_digits)
    if sys.getswitchinterval() != state.switch_interval:
        sys.setswitchinterval(state.switch_interval)
    _restore_builtins(state.builtin_names)
    _since.update(code=None, start=None, end=None)


def _restore_builtins(kept: dict) -> None:
    """Set ``builtins`` back to the names ``kept``: a name a run added is taken out (a fresh
    python's next run raised no NameError where the kernel's found it), one it replaced
    (``builtins.print = ...``: every later run's print went through it) or deleted is put
    back. gradstep's own helpers (``__gradstep_see__``) come and go with each run.

    A change a module made when the run imported it stays, and ``kept`` takes it: that
    module stays imported, so the next run's ``import`` does not run it again (PySide6
    puts ``qApp`` in ``builtins``: the same snippet's second run raised NameError). A
    change counts as the module's when the run imported a module and the run's own code
    neither sets nor deletes an attribute of that name (``builtins.foo = 1`` is the
    snippet's; ``setattr(builtins, "foo", 1)`` in a run that imported a module stays)."""
    names = vars(builtins)
    if len(names) == len(kept) and all(names.get(n, _MISSING) is v for n, v in kept.items()):
        return  # (the usual case: ~10 us)
    changed = [n for n in {*names, *kept} if not n.startswith("__gradstep_")
               and names.get(n, _MISSING) is not kept.get(n, _MISSING)]
    if not changed:
        return
    start = _since["start"]  # None: no run since the last restore
    imported = start is not None and (_since["end"] or _modules_mark()) != start
    own = _names_written(_since["code"]) if imported else ()
    for name in changed:
        if imported and name not in own:  # the module's: the next runs have it too
            if name in names:
                kept[name] = names[name]
            else:
                kept.pop(name, None)
        elif name in kept:
            names[name] = kept[name]
        else:
            del names[name]


def _modules_mark() -> tuple:
    """Return how many modules ``sys.modules`` holds and the last one's name: an import
    adds its module at the end of that dict, so a later mark that differs means one was
    imported (or one taken out) in between. O(1): a copy of its keys costs ~50 us a run."""
    return len(sys.modules), next(reversed(sys.modules), None)


def _names_written(code) -> set:
    """Return the attribute names ``code`` (and the functions in it) sets or deletes: the
    builtins it may change by itself. (Not its strings: ``hasattr(builtins, "__orig_import__")``
    is no change, and taking out the one PySide6 set aborted the kernel.)"""
    found: set = set()
    todo = [code] if code is not None else []
    while todo:
        code = todo.pop()
        for instruction in dis.get_instructions(code):
            if instruction.opname in ("STORE_ATTR", "DELETE_ATTR"):
                found.add(instruction.argval)
        todo.extend(c for c in code.co_consts if hasattr(c, "co_code"))
    return found


_MISSING = object()


def _restore_logging(state: ProcessState) -> None:
    """The root logger as the kernel had it: a run's ``basicConfig`` (handlers, level) and
    ``logging.disable`` gone, ``captureWarnings`` off (a second call did nothing), and the
    "once" messages of a library's cached logger methods free to show again."""
    handlers, level, filters, disabled = state.logging_root
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.filters[:] = filters
    if root.level != level:
        root.setLevel(level)
    if logging.root.manager.disable != disabled:
        logging.disable(disabled)
    if logging._warnings_showwarning is not None:
        logging.captureWarnings(False)
    # transformers (diffusers too) puts lru_cached ``warning_once`` / ``info_once`` on Logger:
    # in a fresh process they have said nothing yet
    for value in list(vars(logging.Logger).values()):
        clear = getattr(value, "cache_clear", None)
        if clear is not None:
            clear()


def _tracing() -> tuple:
    return sys.gettrace(), sys.getprofile(), threading.gettrace(), threading.getprofile()


def _hooks() -> tuple:
    return tuple(getattr(module, name) for module, name in _HOOKS)


def _signals() -> dict:
    return {number: signal.getsignal(number) for number in _SIGNALS
            if signal.getsignal(number) is not None}  # None: set from C, not Python's to set


def _int_digits() -> int | None:
    get = getattr(sys, "get_int_max_str_digits", None)  # 3.10.7 and later
    return get() if get else None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _logging_root() -> tuple:
    root = logging.getLogger()
    return list(root.handlers), root.level, list(root.filters), logging.root.manager.disable


def snippet_print_options() -> dict:
    """Return what of torch's print options (``PRINT_OPTS``: a snippet's, read before the
    next run sets them back; the API's caller's) writes a tensor's numbers:
    ``{"precision", "sci_mode"}``."""
    options = torch._tensor_str.PRINT_OPTS
    return {"precision": options.precision, "sci_mode": options.sci_mode}


def _print_options() -> dict:
    options = torch._tensor_str.PRINT_OPTS
    return {name: getattr(options, name)
            for name in ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")}


def _device_context():
    """Return the DeviceContext ``torch.set_default_device`` entered, or None."""
    return getattr(getattr(torch, "_GLOBAL_DEVICE_CONTEXT", None), "device_context", None)
