"""What running snippets in the kernel process costs, against running them in-process.

    .venv/bin/python bench/bench_kernel.py [--repeat 20] [--chain 2000]

Prints, each with a ratio against a peer measured in the same run:
- a small run (the mse snippet): Kernel.run round trip vs Session.run in this process;
- a deep graph (a chain of N ops, a reply of several MB): Kernel.run vs Session.run;
- stop latency: stop() to reply for a Python loop (SIGINT) and for a native call
  that ignores SIGINT (killed), against the one-second budget;
- a 30 MB print flood: Kernel.run vs Session.run in this process.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SMALL = "x = torch.ones(1)\nw = torch.full([1], 2.0, requires_grad=True)\nloss = F.mse_loss(torch.ones(1), x * w)\n"
FLOOD = "for i in range(300_000):\n    print('x' * 99)\nw = torch.ones(1, requires_grad=True)\ny = w * 2\n"


def chain(n: int) -> str:
    return f"x = torch.ones(3, requires_grad=True)\ny = x\nfor _ in range({n}):\n    y = y * 1.0001 + 0.1\n"


def median_seconds(call, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        reply = call()
        times.append(time.perf_counter() - start)
        assert reply["ok"], reply["error"]
    return statistics.median(times)


def stop_latency(kernel, source: str) -> float:
    """Return seconds from stop() to the reply for a snippet stopped after 0.3 s."""
    stopped_at = []

    def stop():
        stopped_at.append(time.perf_counter())
        kernel.stop()

    threading.Timer(0.3, stop).start()
    reply = kernel.run(source, timeout=None)
    done = time.perf_counter()
    assert reply["error"]["kind"] == "timeout", reply["error"]
    return done - stopped_at[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--chain", type=int, default=2000)
    args = parser.parse_args()

    from gradstep.autograd.session import Session
    from gradstep.kernel.client import Kernel

    session = Session()
    with Kernel() as kernel:
        assert kernel.wait_ready(120)
        rows = []
        for label, source, repeat in (("small run", SMALL, args.repeat),
                                      (f"chain of {args.chain} ops", chain(args.chain), 3),
                                      ("30 MB print flood", FLOOD, 3)):
            inproc = median_seconds(lambda s=source: session.run(s), repeat)
            via_kernel = median_seconds(lambda s=source: kernel.run(s), repeat)
            rows.append((label, via_kernel, inproc))
        for label, ours, peer in rows:
            print(f"{label:28s} kernel {ours * 1000:8.1f} ms   in-process {peer * 1000:8.1f} ms"
                  f"   ratio {ours / peer:5.2f}x")
        loop = stop_latency(kernel, "while True:\n    pass\n")
        native = stop_latency(kernel, "n = sum(range(10**14))\n")
        print(f"{'stop a Python loop':28s} {loop * 1000:8.1f} ms   budget 1000 ms   ratio {loop:5.2f}")
        print(f"{'stop a native call (kill)':28s} {native * 1000:8.1f} ms   budget 1000 ms   ratio {native:5.2f}")


if __name__ == "__main__":
    main()
