"""A/B of ``saved.saved_items`` inside ``trace_graph``: an old copy of gradstep/autograd/saved.py
and this tree's, in turns in one process (CPU seconds, per-round new/old medians), checking
that both give the same saved lists.

    PYTHONPATH=. .venv/bin/python bench/saved_ab.py OLD_SAVED_PY SNIPPET ROOT_NAME ROUNDS

(docs/speed.md item 56: e.g. ``/tmp/base/gradstep/autograd/saved.py
bench/snippets/resnet50.py loss 30``.)
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

from ab_parts import load_old, snippet_root  # (this folder: sys.path[0])


def main(argv: list[str]) -> int:
    old_path, snippet, root_name, rounds = argv[0], argv[1], argv[2], int(argv[3])
    from gradstep.autograd import saved as new_saved
    from gradstep.autograd import trace as trace_mod

    old_saved = load_old(old_path, "saved")
    root = snippet_root(snippet, root_name)

    def run(items):
        trace_mod.saved_items = items
        gc.collect()
        start = time.process_time()
        trace = trace_mod.trace_graph([root], plain=True)
        return time.process_time() - start, [a["saved"] for a in trace.graph._node.values()]

    times: dict = {"old": [], "new": []}
    out: dict = {}
    both = [("old", old_saved.saved_items), ("new", new_saved.saved_items)]
    for r in range(rounds):
        for name, items in both if r % 2 == 0 else both[::-1]:
            seconds, out[name] = run(items)
            times[name].append(seconds)
    trace_mod.saved_items = new_saved.saved_items
    ratios = [n / o for n, o in zip(times["new"], times["old"])]
    tensors = sum(1 for saved in out["new"] for e in saved if "freed" in e)
    print(f"{len(out['new'])} nodes, {tensors} saved tensors; same saved lists: "
          f"{out['old'] == out['new']}")
    print(f"old {statistics.median(times['old']):.4f} s, new {statistics.median(times['new']):.4f} s"
          f" (medians); new/old per round {statistics.median(ratios):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
