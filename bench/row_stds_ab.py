"""A/B of the rows' stds in a recorded pass: each row's own ``std()`` (the old way:
``grad_values.serial_row_stds`` answering None) against ``row_stds.serial_row_stds``
(many short rows at once), in turns in one process (CPU seconds, per-round new/old
medians; who goes first alternates), on fresh graphs of ``bench_backward``'s model,
checking that both records are the same JSON.

    PYTHONPATH=. .venv/bin/python bench/row_stds_ab.py ROUNDS

Two lines: ``row_stats`` alone (the time inside it in one pass), and the whole
``record_backward`` (docs/speed.md item 66).
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time

import torch
from bench_backward import build_model, forward  # (this folder: sys.path[0])


def main(argv: list[str]) -> int:
    rounds = int(argv[0]) if argv else 20
    from gradstep.autograd import grad_values
    from gradstep.autograd.backward import record_backward
    from gradstep.autograd.frame_names import graph_ids
    from gradstep.autograd.row_stds import serial_row_stds

    torch.set_num_threads(1)
    model = build_model(48, 32)
    tokens = torch.randn(4, 16, 32)
    real_row_stats = grad_values.row_stats
    inside = [0.0]

    def timed_row_stats(rows):
        start = time.process_time()
        try:
            return real_row_stats(rows)
        finally:
            inside[0] += time.process_time() - start

    grad_values.row_stats = timed_row_stats
    ways = {"old": lambda rows, means: None, "new": serial_row_stds}

    def run(name):
        grad_values.serial_row_stds = ways[name]
        for p in model.parameters():
            p.grad = None
        loss = forward(model, tokens)
        id_of = graph_ids([loss])
        gc.collect()
        inside[0] = 0.0
        start = time.process_time()
        record = record_backward(loss, id_of)
        return time.process_time() - start, inside[0], record

    run("old")
    run("new")
    times: dict = {"old": [], "new": []}
    stats: dict = {"old": [], "new": []}
    ratios, stat_ratios = [], []
    for r in range(rounds):
        got = {}
        for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
            spent, in_stats, record = run(name)
            times[name].append(spent)
            stats[name].append(in_stats)
            got[name] = json.dumps(record, sort_keys=True, default=str)
        if got["old"] != got["new"]:
            print("records differ in round", r)
            return 1
        ratios.append(times["new"][-1] / times["old"][-1])
        stat_ratios.append(stats["new"][-1] / stats["old"][-1])
    for label, t, ratio in (("record_backward", times, ratios), ("row_stats", stats, stat_ratios)):
        print(f"{label}: old {statistics.median(t['old']) * 1e3:.1f} ms, "
              f"new {statistics.median(t['new']) * 1e3:.1f} ms, new/old per round "
              f"{statistics.median(ratio):.3f}, new faster in "
              f"{sum(x < 1 for x in ratio)} of {rounds}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
