"""A table of hostile snippets and what gradstep must answer to each.

Shared by the kernel's tests (through ``Kernel`` and through the command line)
and the GUI's tests. Each case says which error kinds are acceptable (empty =
the snippet must succeed), words the message must contain, the snippet line
the error names, the command line's exit status, and whether it needs the
timeout to end. ``GOOD`` is the snippet run after each case to show the
kernel still works.
"""

from __future__ import annotations

from dataclasses import dataclass

GOOD = "x = torch.ones(1)\nw = torch.full([1], 2.0, requires_grad=True)\nloss = F.mse_loss(torch.ones(1), x * w)\n"
# a tensor with a grad_fn, appended where a case must also give the tracer a graph
GRAPH = "\nw = torch.full([1], 2.0, requires_grad=True)\nloss = (w * 3).sum()\n"


@dataclass(frozen=True)
class Hostile:
    """One hostile snippet and the answer expected from gradstep.

    ``kinds``: acceptable error kinds (empty tuple: the run must succeed).
    ``words``: texts the error message (or, for a success, the output) must contain.
    ``line``: the snippet line the error must name (None: not checked).
    ``exit``: the command line's exit status. ``stops``: ended by the timeout.
    ``restarts``: the kernel process is replaced (crash or hard kill).
    ``never``: texts that must not appear in the output (code that must not run).
    """

    name: str
    source: str | bytes
    kinds: tuple[str, ...] = ()
    words: tuple[str, ...] = ()
    line: int | None = None
    exit: int = 1
    stops: bool = False
    restarts: bool = False
    never: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        """Return True when the snippet must run without error."""
        return not self.kinds


CASES: list[Hostile] = [
    Hostile("syntax_error", "x = torch.ones(2\ny = x * 2\n", ("syntax",), line=1),
    Hostile("indentation_error", "x = 1\n  y = 2\n", ("syntax",), line=2),
    Hostile("undefined_name", "x = torch.ones(1)\ny = undefined_thing + x\n", ("other",),
            ("undefined_thing",), line=2),
    Hostile("no_grad_fn", "x = torch.ones(2)\nx.sum().backward()\n", ("no_grad_fn",),
            ("does not require grad",), line=2),
    Hostile("stale_graph",
            "x = torch.ones(2)\ny = (x * 2).sum()\nx.requires_grad_()\ny.backward()\n",
            ("stale_graph", "no_grad_fn"), ("does not require grad",), line=4),
    Hostile("freed_buffers",
            "x = torch.ones(2, requires_grad=True)\ny = (x * x).sum()\ny.backward()\ny.backward()\n",
            ("freed_buffers",), ("second time",), line=4),
    Hostile("non_scalar", "x = torch.ones(2, requires_grad=True)\ny = x * 2\ny.backward()\n",
            ("non_scalar",), ("scalar outputs",), line=3),
    Hostile("unused_input",
            "a = torch.ones(1, requires_grad=True)\nb = torch.ones(1, requires_grad=True)\n"
            "g = torch.autograd.grad((a * 2).sum(), [a, b])\n",
            ("unused_input",), ("not have been used",), line=3),
    Hostile("inplace",
            "a = torch.ones(3, requires_grad=True)\nb = a.sigmoid()\nb.mul_(2)\nb.sum().backward()\n",
            ("inplace",), ("inplace operation",), line=4),
    Hostile("not_requiring_grad",
            "a = torch.ones(1, requires_grad=True)\nb = torch.ones(1)\n"
            "g = torch.autograd.grad((a * 2).sum(), [b])\n",
            ("not_requiring_grad",), ("does not require grad",), line=3),
    Hostile("infinite_loop", "x = 0\nwhile True:\n    x += 1\n", ("timeout",), ("timeout",),
            stops=True),
    Hostile("sleep", "import time\ntime.sleep(10**6)\n", ("timeout",), ("timeout",), line=2,
            stops=True),
    Hostile("native_matmul_loop",
            "a = torch.rand(800, 800)\nwhile True:\n    a = torch.tanh(a @ a)\n",
            ("timeout",), ("timeout",), stops=True),
    Hostile("native_call_ignoring_sigint", "n = sum(range(10**14))\n", ("timeout",),
            ("timeout",), line=1, stops=True, restarts=True),
    Hostile("sigint_ignored",
            "import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass\n",
            ("timeout",), ("timeout",), stops=True, restarts=True),
    Hostile("huge_tensor", "x = torch.empty(10**13)\n", ("memory",), ("memory",), line=1),
    Hostile("huge_bytes", "b = bytearray(10**14)\n", ("memory",), ("memory",), line=1),
    Hostile("segfault", "import ctypes\nx = 1\nctypes.string_at(0)\n", ("crash",), ("SIGSEGV",),
            line=3, restarts=True),
    Hostile("os_exit", "import os\nos._exit(3)\n", ("crash",), ("exit code 3",), restarts=True),
    Hostile("system_exit", "x = 1\nraise SystemExit(2)\n", ("other",), line=2),
    # python ends with status 0 here: the snippet ended normally, its finally block ran
    Hostile("sys_exit_zero",
            "import sys" + GRAPH + "def main():\n    try:\n        sys.exit()\n    finally:\n"
            "        print('finally ran')\nif __name__ == '__main__':\n    main()\n"
            "print('not reached')\n", words=("finally ran",), exit=0, never=("not reached",)),
    # python FILE exits 130 (128 + SIGINT) here, as a shell reports it
    Hostile("keyboard_interrupt", "x = 1\nraise KeyboardInterrupt\n", ("other",), line=2,
            exit=130),
    Hostile("deep_recursion", "def f(n):\n    return f(n + 1)\nf(0)\n", ("other",),
            ("recursion",), line=2),
    Hostile("binary_garbage", b"\x00\xff\xfe\x89PNG\r\n\x1a\n\x00\x00garbage\x00",
            ("not_text", "syntax", "other")),
    Hostile("empty_file", "", ("empty", "nothing_to_draw")),
    Hostile("reads_stdin", "x = input()\n", ("other",), ("EOF",), line=1),
    Hostile("cuda_without_cuda", "x = torch.ones(1, device='cuda')\n",
            ("device_unavailable", "other"), ("CUDA",), line=1),
    Hostile("output_flood", "for i in range(60_000):\n    print('x' * 99)\n" + GRAPH,
            words=("of output dropped",), exit=0),
    Hostile("lingering_thread",
            "import threading, time\nthreading.Thread(target=time.sleep, args=(10**6,)).start()\n"
            + GRAPH, exit=0),
    Hostile("closes_stdout_and_stderr", "import os\nos.close(1)\nos.close(2)\n" + GRAPH, exit=0),
    Hostile("nan_inf_gradients",
            "x = torch.tensor([0.0, -1.0], requires_grad=True)\ny = x.sqrt()\n"
            "z = torch.log(x)\nloss = (y + z).sum()\nloss.backward()\n", exit=0),
    Hostile("evil_pickle",
            "import os, tempfile\nclass Evil:\n    def __reduce__(self):\n"
            "        return (print, ('PWNED',))\n"
            "path = os.path.join(tempfile.mkdtemp(), 'evil.pt')\ntorch.save(Evil(), path)\n"
            "obj = torch.load(path)\n",
            ("other",), ("weights only load failed",), line=7, never=("PWNED",)),
]

BY_NAME = {case.name: case for case in CASES}
