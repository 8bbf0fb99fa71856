"""A/B of the pass-end summary (``StepRecorder._queue_summary``): ``record_backward`` of
``bench_backward.py``'s 48-layer transformer with the summary queued as the pass ends (as
while a ``torch.distributed`` process group is on) and without it (the default), in turns
in one process, who goes first alternating (CPU milliseconds, medians), checking that both
give the same steps.

    PYTHONPATH=. .venv/bin/python bench/pass_end_ab.py [ROUNDS]

(docs/speed.md item 69.)
"""

from __future__ import annotations

import statistics
import sys
import time

import torch
from bench_backward import build_model, forward, graph_ids  # (this folder: sys.path[0])


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 8
    from gradstep.autograd import step_hooks
    from gradstep.autograd.backward import record_backward

    model = build_model(48, 32)
    tokens = torch.randn(4, 16, 32)
    spent: dict = {"queued": [], "at exit": []}
    steps: dict = {}
    for r in range(rounds):
        order = ("queued", "at exit") if r % 2 else ("at exit", "queued")
        for name in order:
            step_hooks._distributed_on = (lambda: True) if name == "queued" else (lambda: False)
            model.zero_grad(set_to_none=True)  # (each pass from no .grad: the same steps)
            loss = forward(model, tokens)
            id_of = graph_ids([loss])
            start = time.process_time()
            record = record_backward(loss, id_of)
            spent[name].append((time.process_time() - start) * 1000)
            assert record["error"] is None
            steps.setdefault(name, record["steps"])
    assert steps["queued"] == steps["at exit"], "the two ways showed other steps"
    for name, values in spent.items():
        print(f"{name:8} CPU median {statistics.median(values):6.1f} ms, fastest {min(values):6.1f} ms "
              f"({len(steps[name])} steps)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
