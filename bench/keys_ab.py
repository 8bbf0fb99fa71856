"""A/B of the per-node keys (docs/speed.md item 64): an old copy of
gradstep/autograd/{saved_memory,saved_shapes,trace}.py and this tree's, in turns in one
process (CPU seconds, per-round medians): ``saved_memory.remember`` (run before each
backward call) and ``trace_graph`` (plain graph) on a snippet's graph, checking that both
remember the same values and make the same nodes.

    PYTHONPATH=. .venv/bin/python bench/keys_ab.py OLD_AUTOGRAD_DIR SNIPPET ROOT_NAME ROUNDS

(e.g. ``/tmp/base/gradstep/autograd bench/snippets/transformer48.py loss 15``.)
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

from ab_parts import graph_nodes, load_old, snippet_root  # (this folder: sys.path[0])


def main(argv: list[str]) -> int:
    old_dir, snippet, root_name, rounds = argv[0], argv[1], argv[2], int(argv[3])
    from gradstep.autograd import saved_memory, trace

    old_shapes = load_old(f"{old_dir}/saved_shapes.py", "saved_shapes")
    old_memory = load_old(f"{old_dir}/saved_memory.py", "saved_memory")
    old_memory.saved_shapes = old_shapes
    old_trace = load_old(f"{old_dir}/trace.py", "trace")
    root = snippet_root(snippet, root_name)
    nodes = graph_nodes(root)
    times: dict = {key: [] for key in ("remember old", "remember new", "trace old", "trace new")}
    old_nodes = None
    for i in range(rounds):  # who goes first changes each round
        for name, module in (("old", old_memory), ("new", saved_memory))[::1 - 2 * (i % 2)]:
            module.forget()
            gc.collect()
            start = time.process_time()
            module.remember(nodes)
            times[f"remember {name}"].append(time.process_time() - start)
        for name, module in (("old", old_trace), ("new", trace))[::1 - 2 * (i % 2)]:
            gc.collect()
            start = time.process_time()
            made = module.trace_graph(root, plain=True)
            times[f"trace {name}"].append(time.process_time() - start)
            made_nodes = dict(made.graph._node)
            assert old_nodes is None or made_nodes == old_nodes, "the traced nodes differ"
            old_nodes = made_nodes
            del made, made_nodes
    assert all(old_memory.recall(fn) == saved_memory.recall(fn) for fn in nodes), \
        "the values remembered differ"
    print(f"{len(nodes)} nodes, {rounds} rounds (CPU ms, medians):")
    for what in ("remember", "trace"):
        old_s = statistics.median(times[f"{what} old"])
        new_s = statistics.median(times[f"{what} new"])
        print(f"  {what}: old {old_s * 1e3:.2f}, new {new_s * 1e3:.2f}, new/old {new_s / old_s:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
