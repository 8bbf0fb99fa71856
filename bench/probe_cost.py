"""CPU time of the probes a recorded pass makes as it begins (``saved.refusals_now``,
``tensor_hooks.has_tensor_hooks``) and of ``trace_graph``, on the bench's 48-layer
TransformerEncoder, for the gradstep tree on ``PYTHONPATH``: run it per tree, in turns.

The first ``refusals_now`` of a process is shown apart: it reads derivatives.yaml's entries
of the graph's node classes (``saved_inputs``), which ``trace_graph`` reads anyway.

    PYTHONPATH=. .venv/bin/python bench/probe_cost.py [ROUNDS]
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backward import build_model, forward  # noqa: E402

from gradstep.autograd.frame_names import graph_ids  # noqa: E402
from gradstep.autograd.saved import refusals_now  # noqa: E402
from gradstep.autograd.tensor_hooks import has_tensor_hooks  # noqa: E402
from gradstep.autograd.trace import trace_graph  # noqa: E402


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 15
    torch.manual_seed(1)
    root = forward(build_model(48, 32), torch.randn(4, 16, 32))
    id_of = graph_ids([root])
    start = time.process_time()
    refusals_now(id_of)
    first = time.process_time() - start
    trace_graph([root])  # its own first-use caches
    probe, trace = [], []
    for _ in range(rounds):
        gc.collect()
        start = time.process_time()
        for _ in range(10):
            refusals_now(id_of)
            has_tensor_hooks(id_of, [root])
        probe.append((time.process_time() - start) / 10)
        gc.collect()
        start = time.process_time()
        trace_graph([root])
        trace.append(time.process_time() - start)
    print(f"{len(id_of)} nodes: first refusals_now {first * 1e3:.1f} ms; then the probes "
          f"{statistics.median(probe) * 1e3:.2f} ms, trace_graph "
          f"{statistics.median(trace) * 1e3:.1f} ms (CPU medians of {rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
