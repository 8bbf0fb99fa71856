"""A/B of ``saved_memory.remember`` (run before each backward call the snippet makes): an old
copy of gradstep/autograd/saved_memory.py and this tree's, in turns in one process (CPU
seconds, per-round medians), checking that both remember the same values.

    PYTHONPATH=. .venv/bin/python bench/remember_ab.py OLD_SAVED_MEMORY_PY SNIPPET ROOT_NAME ROUNDS

(docs/speed.md item 60: e.g. ``/tmp/base/gradstep/autograd/saved_memory.py
bench/snippets/resnet50.py loss 20``.)
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

from ab_parts import graph_nodes, load_old, snippet_root  # (this folder: sys.path[0])


def main(argv: list[str]) -> int:
    old_path, snippet, root_name, rounds = argv[0], argv[1], argv[2], int(argv[3])
    from gradstep.autograd import saved_memory as new

    old = load_old(old_path, "saved_memory")
    nodes = graph_nodes(snippet_root(snippet, root_name))
    times: dict = {"old": [], "new": []}
    for i in range(rounds):  # who goes first changes each round
        for name, module in (("old", old), ("new", new))[::1 - 2 * (i % 2)]:
            module.forget()
            gc.collect()
            start = time.process_time()
            module.remember(nodes)
            times[name].append(time.process_time() - start)
    assert all(old.recall(fn) == new.recall(fn) for fn in nodes), "the values remembered differ"
    old_s, new_s = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"{len(nodes)} nodes, {rounds} rounds: old {old_s * 1e3:.2f} ms, "
          f"new {new_s * 1e3:.2f} ms, new/old {new_s / old_s:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
