"""The real Session behind the Kernel: values, gradients and errors match torch's own."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from gradstep.kernel.client import Kernel

pytest.importorskip("gradstep.autograd.session")

SNIPPET = ("x = torch.tensor([1.0, 2.0, 3.0])\nw = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)\n"
           "loss = F.mse_loss(torch.tanh(x * w), torch.zeros(3))\n")


def torch_answer():
    """Return (loss value, w.grad, root grad_fn name) computed by torch here."""
    x = torch.tensor([1.0, 2.0, 3.0])
    w = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    loss = F.mse_loss(torch.tanh(x * w), torch.zeros(3))
    loss.backward()
    return loss.item(), w.grad.tolist(), loss.grad_fn.name()


@pytest.fixture(scope="module")
def kernel():
    with Kernel(timeout=60) as k:
        yield k


def test_run_backward_inspect_through_the_kernel_match_torch(kernel):
    value, grad, name = torch_answer()
    run = kernel.run(SNIPPET, filename="k.py")
    assert run["ok"], run["error"]
    root = next(n for n in run["trace"]["nodes"] if n["id"] == run["trace"]["root"])
    assert root["name"] == name
    assert root["value"]["data"] == pytest.approx(value)

    back = kernel.backward(retain_graph=True)
    assert back["error"] is None
    assert back["leaf_grads"]["w"] == pytest.approx(grad)

    node = kernel.inspect(run["trace"]["root"])
    assert node["name"] == name


def test_state_lives_in_the_kernel_between_requests(kernel):
    kernel.run(SNIPPET, filename="k.py")
    assert kernel.backward()["error"] is None
    again = kernel.backward()  # buffers were freed by the first pass, as torch says
    assert again["error"]["kind"] == "freed_buffers"
    assert "second time" in again["error"]["message"]


def test_each_run_starts_with_the_process_a_plain_run_has(kernel, tmp_path):
    """The window's kernel runs snippet after snippet: what one run switches process-wide
    (torch's defaults and modes, the folder, the environment) is set back for the next."""
    changes = (
        "import os, sys\n"
        "torch.set_default_dtype(torch.float64)\ntorch.set_grad_enabled(False)\n"
        "torch.use_deterministic_algorithms(True)\ntorch.autograd.set_detect_anomaly(True)\n"
        "torch.set_printoptions(precision=2)\ntorch.set_default_device('meta')\n"
        "sys.setrecursionlimit(500)\nos.environ['GRADSTEP_TEST_LEFT'] = '1'\n"
        f"os.chdir({str(tmp_path)!r})\n"
    )
    reads = (
        "import os, sys\n"
        "print(torch.get_default_dtype(), torch.is_grad_enabled(), "
        "torch.are_deterministic_algorithms_enabled(), torch.is_anomaly_enabled(), "
        "torch.tensor([1.23456]), torch.get_default_device(), sys.getrecursionlimit(), "
        "os.environ.get('GRADSTEP_TEST_LEFT'), os.getcwd())\n"
    )
    before = kernel.run(reads, filename="<snippet>")["output"]
    kernel.run(changes, filename="<snippet>")
    after = kernel.run(reads, filename="<snippet>")["output"]
    assert before.startswith("torch.float32 True False False tensor([1.2346]) cpu")
    assert after == before


def test_each_run_starts_with_pythons_hooks_signals_and_logging_as_a_plain_run_has(kernel):
    """Switches a run left behind reached the next run: its profile function (which also
    kept that run's backward calls unrecorded), hooks, signal handlers (a SIGINT handler of
    its own took the place of the kernel's Stop), a disabled collector, a second
    ``basicConfig`` or ``captureWarnings(True)`` that did nothing, an open dual level (the
    next ``dual_level()`` raised), torch's warn-always, multithreading and denormal flushing;
    a library's cached ``warning_once`` (transformers') said nothing in the next runs."""
    changes = (
        "import gc, logging, os, signal, sys, threading\n"
        "import torch.autograd.forward_ad as fwAD\n"
        "torch.set_warn_always(True)\ntorch.autograd.set_multithreading_enabled(False)\n"
        "torch.set_flush_denormal(True)\nfwAD.enter_dual_level()\n"
        "sys.setprofile(lambda *a: None)\nsys.unraisablehook = threading.excepthook = print\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "gc.disable()\ngc.set_threshold(5)\nos.umask(0o077)\nsys.set_int_max_str_digits(640)\n"
        "logging.basicConfig(format='A:%(message)s', level=logging.DEBUG)\n"
        "logging.captureWarnings(True)\n"
    )
    reads = (
        "import gc, logging, os, signal, sys, threading, warnings\n"
        "import torch.autograd.forward_ad as fwAD\n"
        "with fwAD.dual_level():\n    pass\n"
        "print(torch.is_warn_always_enabled(), torch._C._is_multithreading_enabled(),\n"
        "      bool(torch.tensor([1e-320], dtype=torch.float64) * 1), sys.getprofile(),\n"
        "      sys.unraisablehook is sys.__unraisablehook__,\n"
        "      threading.excepthook is threading.__excepthook__,\n"
        "      signal.getsignal(signal.SIGINT) is signal.SIG_IGN, gc.isenabled(),\n"
        "      gc.get_threshold(), oct(os.umask(0o022)), sys.get_int_max_str_digits())\n"
        "logging.basicConfig(format='B:%(message)s')\nlogging.captureWarnings(True)\n"
        "logging.info('not shown')\nwarnings.warn('w')\n"
        "import functools\n"  # as transformers' logger.warning_once
        "if not hasattr(logging.Logger, 'said_once'):\n"
        "    logging.Logger.said_once = functools.lru_cache(None)(logging.Logger.warning)\n"
        "logging.getLogger('lib').said_once('once per process')\n"
        "from torch.utils.data import DataLoader\n"  # sets its SIGCHLD handler once per process
        "list(DataLoader([0], num_workers=1))\n"
        "print(signal.getsignal(signal.SIGCHLD) is not signal.SIG_DFL)\n"
        "loss = (torch.ones(1, requires_grad=True) * 2).sum()\n"
    )
    before = kernel.run(reads, filename="<snippet>")
    assert before["ok"], before["error"]
    assert before["output"].startswith("False True True None True True False True (700, 10, 10) "
                                       "0o22 4300\nB:<snippet>:")
    kernel.run(changes, filename="<snippet>")
    after = kernel.run(reads, filename="<snippet>")
    assert after["ok"], after["error"]
    assert "once per process" in before["output"]
    assert after["output"] == before["output"]


def test_each_run_starts_with_torchs_backends_global_hooks_and_autocast_as_a_plain_run_has(kernel):
    """A run that turned off CPU flash attention or oneDNN, left a global module hook, or
    entered autocast or saved-tensor hooks without leaving them: the next run's attention
    was another kernel (other nodes), the old hook printed and its linear ran in bfloat16."""
    changes = (
        "torch.backends.cuda.enable_flash_sdp(False)\ntorch.backends.mkldnn.enabled = False\n"
        "torch.backends.mha.set_fastpath_enabled(False)\n"
        "torch.nn.modules.module.register_module_forward_hook(lambda *a: print('HOOK'))\n"
        "torch.nn.modules.module.register_module_full_backward_hook(lambda *a: None)\n"
        "torch.autocast('cpu', dtype=torch.float16).__enter__()\n"
        "torch.autograd.graph.saved_tensors_hooks(lambda t: t, lambda t: t).__enter__()\n"
    )
    reads = (
        "q = torch.randn(1, 2, 4, 8, requires_grad=True)\n"
        "a = F.scaled_dot_product_attention(q, q, q, is_causal=True)\n"
        "y = torch.nn.Linear(2, 2)(torch.ones(1, 2))\n"
        "print(type(a.grad_fn).__name__, torch.backends.mkldnn.enabled, y.dtype,\n"
        "      torch.backends.mha.get_fastpath_enabled(),\n"
        "      torch.is_autocast_enabled('cpu'), torch.get_autocast_dtype('cpu'),\n"
        "      torch._C._autograd._top_saved_tensors_default_hooks(True),\n"
        "      torch.nn.modules.module._global_is_full_backward_hook)\n"
        "loss = (a.sum() + y.sum())\n"
    )
    before = kernel.run(reads, filename="<snippet>")
    assert before["ok"], before["error"]
    assert before["output"].startswith("ScaledDotProductFlashAttentionForCpuBackward0 True "
                                       "torch.float32 True False torch.bfloat16 None None")
    kernel.run(changes, filename="<snippet>")
    after = kernel.run(reads, filename="<snippet>")
    assert after["ok"], after["error"]
    assert after["output"] == before["output"]


def test_crash_then_the_session_works_again(kernel):
    crash = kernel.run("import os\nos._exit(7)\n")
    assert crash["error"]["kind"] == "crash" and crash["state_lost"]
    _, grad, _ = torch_answer()
    assert kernel.run(SNIPPET)["ok"]
    assert kernel.backward()["leaf_grads"]["w"] == pytest.approx(grad)


def test_stop_keeps_what_was_printed_and_the_graph_so_far(kernel):
    source = ("print('progress')\nx = torch.ones(1, requires_grad=True)\ny = x * 2\n"
              "while True:\n    pass\n")
    reply = kernel.run(source, filename="stop.py", timeout=1)
    assert reply["error"]["kind"] == "timeout" and reply["error"]["line"] in (4, 5)
    assert reply["output"] == "progress\n"
    names = {n["name"] for n in reply["trace"]["nodes"]}
    assert torch.ones(1, requires_grad=True).mul(2).grad_fn.name() in names


@pytest.mark.parametrize("ending", ["exit()", "exit(1)"])
def test_a_run_after_exit_has_a_standard_input_as_a_fresh_python(kernel, ending):
    # the builtin exit() closes sys.stdin before it raises; the next run's input() raised
    # "ValueError: I/O operation on closed file" where a fresh python gets EOF
    reads = ("import sys\nprint(sys.stdin.closed, sys.stdin is sys.__stdin__, sys.stdin.fileno())\n"
             "try:\n    input()\nexcept EOFError:\n    print('EOF')\n")
    before = kernel.run(reads, filename="<snippet>")["output"]
    kernel.run(f"import torch\n{ending}\n", filename="<snippet>")
    after = kernel.run(reads, filename="<snippet>")["output"]
    assert before == "False True 0\nEOF\n"
    assert after == before


def test_a_run_after_reconfigure_has_the_output_streams_a_fresh_python_has(kernel):
    # a run's sys.stdout.reconfigure(write_through=False) stayed: the next run's stdout
    # came after its stderr ('c\nb\n'), with the run's errors mode
    reads = ("import sys\nprint('a', sys.stdout.write_through, sys.stdout.errors)\n"
             "sys.stderr.write('b\\n')\nprint('c')\n")
    before = kernel.run(reads, filename="<snippet>")["output"]
    kernel.run("import sys\nsys.stdout.reconfigure(write_through=False, errors='replace')\n"
               "sys.stderr.reconfigure(write_through=False)\n", filename="<snippet>")
    after = kernel.run(reads, filename="<snippet>")["output"]
    assert before.startswith("a True ") and before.endswith("\nb\nc\n")
    assert after == before


def test_a_run_after_one_that_changed_builtins_or_the_switch_interval_starts_fresh(kernel):
    # a run's builtins.print = ..., builtins.foo = 1, del builtins.input and
    # sys.setswitchinterval(0.5) reached every later run (a fresh python has none of them)
    reads = ("import builtins, sys\nprint(hasattr(builtins, 'foo'), hasattr(builtins, 'input'),"
             " sys.getswitchinterval())\n")
    before = kernel.run(reads, filename="<snippet>")["output"]
    kernel.run("import builtins, sys\nbuiltins.foo = 1\ndel builtins.input\n_p = print\n"
               "builtins.print = lambda *a, **k: _p('X', *a, **k)\nsys.setswitchinterval(0.5)\n",
               filename="<snippet>")
    after = kernel.run(reads, filename="<snippet>")["output"]
    assert before == "False True 0.005\n"
    assert after == before


def test_a_name_a_module_put_in_builtins_when_imported_is_there_in_the_next_run_too(kernel,
                                                                                   tmp_path):
    # the module stays imported, so the next run's import does not run it again: taking
    # its name out had the same snippet's second run raise NameError (PySide6's qApp),
    # where python's runs it. The snippet's own builtins.gs_own = 1 is still taken out.
    (tmp_path / "gs_puts_a_builtin.py").write_text(
        "import builtins\nbuiltins.gs_from_import = 'mod'\n", encoding="utf-8")
    source = (f"import sys, builtins\nsys.path.insert(0, {str(tmp_path)!r})\n"
              "import gs_puts_a_builtin\nbuiltins.gs_own = 1\nprint(gs_from_import)\n")
    runs = [kernel.run(source, filename="<snippet>") for _ in range(2)]
    assert [r["output"] for r in runs] == ["mod\n", "mod\n"], runs[1]["error"]
    reads = "import builtins\nprint(hasattr(builtins, 'gs_own'))\n"
    assert kernel.run(reads, filename="<snippet>")["output"] == "False\n"


def test_a_hooks_exit_in_the_windows_backward_after_the_snippets_own_pass_says_no_untruth(
        kernel):
    # the snippet ran its own loss.backward(retain_graph=True); the window's Backward ran
    # another, whose hook exit(0) explanation began "The snippet makes no backward call on
    # this graph, so under python its hooks never run": both false here
    source = ("import sys\nw = torch.ones(2, requires_grad=True)\nloss = (w * 3).sum()\n"
              "calls = []\ndef hook(g):\n    calls.append(1)\n    if len(calls) > 1:\n"
              "        sys.exit(0)\nw.register_hook(hook)\nloss.backward(retain_graph=True)\n")
    assert kernel.run(source, filename="<snippet>")["ok"]
    error = kernel.backward(retain_graph=True)["error"]
    assert error["type"] == "SystemExit" and error["line"] == 8 and error["exit_status"] == 0
    assert "no backward call" not in error["explanation"]
    assert "never run" not in error["explanation"]
    assert "gradstep ran this backward pass itself" in error["explanation"]
