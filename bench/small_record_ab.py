"""``values.summary_record`` of small 1-D CPU float tensors (a trace's per-op summary of a
small value) with two trees' gradstep, in turns in one process.

    OMP_NUM_THREADS=1 .venv/bin/python bench/small_record_ab.py OLD_TREE NEW_TREE [ROUNDS]

Each round times 20,000 summaries of each of five tensors (8 to 64 elements, a strided
view among them) with the old and the new tree (the order turns every round), in CPU
microseconds a summary; printed: the medians and the per-round new/old ratios' median,
and whether the two trees' summaries were the same. (recfix2: the storage check of
``values._small_cpu_record``.)
"""

from __future__ import annotations

import statistics
import sys
import time


def load(root: str):
    """Return ``summary_record`` of the tree at ``root`` (gradstep imported afresh from it,
    as ``trace_ab.load`` does)."""
    from trace_ab import load as load_tree  # (this script's folder is on sys.path)

    load_tree(root)
    return sys.modules["gradstep.autograd.values"].summary_record


def main(argv: list[str]) -> None:
    import torch

    torch.set_num_threads(1)
    rounds = int(argv[2]) if len(argv) > 2 else 10
    tensors = [torch.randn(8), torch.randn(32), torch.randn(64), torch.randn(128)[::2],
               torch.randn(16, dtype=torch.float64)]
    summarise = {"old": load(argv[0]), "new": load(argv[1])}
    times: dict = {"old": [], "new": []}
    same = all(summarise["old"](t) == summarise["new"](t) for t in tensors)
    n = 20_000
    for r in range(rounds):
        for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
            record = summarise[name]
            start = time.process_time()
            for t in tensors:
                for _ in range(n):
                    record(t)
            times[name].append((time.process_time() - start) / (n * len(tensors)) * 1e6)
    ratios = [a / b for a, b in zip(times["new"], times["old"])]
    print(f"median old {statistics.median(times['old']):.3f} us, new "
          f"{statistics.median(times['new']):.3f} us a summary; new/old per round: median "
          f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}); "
          f"same summaries: {same}")


if __name__ == "__main__":
    main(sys.argv[1:])
