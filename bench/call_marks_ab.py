"""Before and after in one process, in turns: what holding each op node's metadata dict
costs a recorded call's ``CallGraph.of`` (statehunt5: ``CallGraph.marks``, which tell a
call's nodes from another thread's of the same number and name), on
``bench_backward.py``'s 48-layer transformer graph. "main" is ``CallGraph.of`` without
the marks (the class's own method, the marks dropped after), "marks" the method as it is.

    env PYTHONPATH=. .venv/bin/python bench/call_marks_ab.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backward import build_model, forward  # noqa: E402

from gradstep.autograd import calls  # noqa: E402
from gradstep.autograd.frame_names import graph_ids  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = build_model(48, 32)
    loss = forward(model, torch.randn(2, 8, 32))
    id_of = graph_ids([loss])
    marks_of = calls.mark_of

    def without():
        calls.mark_of = lambda fn: None  # (the comprehension still runs: an upper bound)
        try:
            return calls.CallGraph.of([loss], id_of, {})
        finally:
            calls.mark_of = marks_of

    def plain_keys():  # main's CallGraph.of: the keys only
        return {calls.node_key(fn): node_id for fn, node_id in id_of.items()}

    def with_marks():
        return calls.CallGraph.of([loss], id_of, {})

    runs = {"keys only (main's ids)": plain_keys, "of, marks read as None": without,
            "of, marks (statehunt5)": with_marks}
    def cpu(run) -> float:
        start = time.process_time()
        run()
        return time.process_time() - start

    rounds = [[cpu(run) for run in runs.values()] for _ in range(args.rounds)]  # in turns
    for name, spent in zip(runs, zip(*rounds)):
        print(f"{name}: {statistics.median(spent) * 1e3:.2f} ms CPU (median of {args.rounds}, "
              f"{len(id_of)} nodes)")

if __name__ == "__main__":
    main()
