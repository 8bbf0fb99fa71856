"""A/B of matching the snippet's recorded calls' graphs to the drawn graph
(``call_graphs.DrawnNodes``), in turns in one process (CPU seconds, medians): "old" keys
the drawn graph and matches every call's graph twice, as ``roots_to_join`` and
``renumber_calls`` each did with a ``DrawnNodes`` of its own; "new" keys and matches once,
as ``session._trace_with_calls`` now shares one (``ids_of`` keeps each call's match).

    PYTHONPATH=. .venv/bin/python bench/drawn_nodes_ab.py [NODES CALLS ROUNDS]

(defaults 20000 20 20: a chain of NODES multiplications, a backward call on it CALLS
times, the last one drawn.)
"""

from __future__ import annotations

import gc
import statistics
import sys
import time


def main(argv: list[str]) -> int:
    nodes, calls, rounds = (int(a) for a in (argv or ["20000", "20", "20"]))
    import torch

    from gradstep.autograd.call_graphs import DrawnNodes, roots_to_join
    from gradstep.autograd.runner import run_snippet
    from gradstep.autograd.trace import trace_graph

    torch.set_num_threads(1)
    result = run_snippet(f"import torch\nw = torch.randn(8, requires_grad=True)\n"
                         f"for _ in range({calls}):\n    y = w\n"
                         f"    for _ in range({nodes}):\n        y = y * 1.0001\n"
                         f"    loss = y.sum()\n    loss.backward()\n")
    assert result.error is None, result.error
    id_of, graphs = trace_graph(result.roots).id_of, result.call_graphs

    def old() -> list:
        roots_to_join(DrawnNodes(id_of), graphs)
        drawn = DrawnNodes(id_of)
        return [drawn.ids_of(g) for g in graphs if g]

    def new() -> list:
        drawn = DrawnNodes(id_of)
        roots_to_join(drawn, graphs)
        return [drawn.ids_of(g) for g in graphs if g]

    assert old() == new()
    times: dict = {"old": [], "new": []}
    for i in range(rounds):  # who goes first changes each round
        for name, run in (("old", old), ("new", new))[::1 - 2 * (i % 2)]:
            gc.collect()
            start = time.process_time()
            run()
            times[name].append(time.process_time() - start)
    o, n = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"{len(id_of)} drawn nodes, {sum(g is not None for g in graphs)} call graphs kept; "
          f"old {o * 1e3:.2f} ms, new {n * 1e3:.2f} ms, new/old {n / o:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
