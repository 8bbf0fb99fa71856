"""The trace's own parts with two trees' gradstep, in turns in one process.

    OMP_NUM_THREADS=1 .venv/bin/python bench/trace_parts_ab.py OLD_TREE NEW_TREE [ROUNDS] [--chain N]

Both trees' packages are loaded into this one process (as ``trace_ab.py`` does). Printed,
each as both trees' medians in CPU milliseconds, the per-turn new/old ratios' median and
how often the new tree was faster:

* ``trace part``: ``Session().run`` of bench_trace's snippet less its own ``run_snippet``
  (the walk, ``see_saved``, the node fields, the JSON, the collection as the pause ends and
  the reply), each tree on its own run of the snippet, a ``gc.collect()`` before each, five
  runs a round (median); whether the two trees' trace JSON were the same (but for ``seq``);
* on one run's objects (the new tree's run, its values already found; the collector off):
  the walk with the node fields and the JSON (``trace_graph`` without ``see_saved``, then
  ``trace_json``), the summaries of the values the saved tensors prove and of the leaves
  (``value_rows.summaries``: torch's reductions included), and ``names.module_names``.

``--chain N``: the trace part only, of a chain of ``2N + 2`` nodes (``bench/snippets/chain100k.py``
at N iterations), one run a round.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

CHAIN = ("import torch\nx = torch.ones(3, requires_grad=True)\ny = x\nfor _ in range({n}):\n"
         "    y = y * 1.0001 + 0.001\nloss = y.sum()\n")


def load(root: str) -> dict:
    """Return the tree's gradstep modules that the parts call, with ``Session.run``'s
    ``run_snippet`` timed into ``spent[0]``."""
    import trace_ab

    trace_ab.load(root)
    names = ("trace", "session", "serialize", "value_rows", "values", "names", "safe_reads", "runner")
    modules = {name: sys.modules[f"gradstep.autograd.{name}"] for name in names}
    session, spent = modules["session"], [0.0]
    run_snippet = session.run_snippet

    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return run_snippet(*args, **kwargs)
        finally:
            spent[0] = time.process_time() - start

    session.run_snippet = timed
    modules["spent"] = spent
    return modules


def report(label: str, times: dict) -> None:
    ratios = [n / o for n, o in zip(times["new"], times["old"])]
    print(f"{label:34s} old {statistics.median(times['old']) * 1000:8.2f} ms, new "
          f"{statistics.median(times['new']) * 1000:8.2f} ms; new/old per turn: median "
          f"{statistics.median(ratios):.3f} (min {min(ratios):.3f}, max {max(ratios):.3f}), "
          f"new faster in {sum(r < 1 for r in ratios)} of {len(ratios)}")


def trace_part(trees: dict, source: str, rounds: int, runs: int) -> None:
    times: dict = {"old": [], "new": []}
    texts: dict = {}
    for r in range(rounds):
        for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
            tree, parts = trees[name], []
            for _ in range(runs):
                gc.collect()
                start = time.process_time()
                result = tree["session"].Session().run(source)
                parts.append(time.process_time() - start - tree["spent"][0])
                assert result["ok"], result["error"]
            for node in result["trace"]["nodes"]:
                node.pop("seq")  # torch's sequence numbers go on counting from run to run
            texts[name] = result["trace"]
            del result
            times[name].append(statistics.median(parts))
    report("trace part", times)
    print(f"same trace JSON: {texts['old'] == texts['new']}")


def parts_of_one_run(trees: dict, source: str, rounds: int) -> None:
    new = trees["new"]
    result = new["runner"].run_snippet(source)
    trace = new["session"]._trace_with_calls(result, json_edges=True)
    nodes = list(trace.node_of.values())
    leaf = new["safe_reads"].ACCUMULATE_GRAD
    leaves = [fn.variable for fn in nodes if type(fn) is leaf]
    slots_of, found = new["trace"]._saved_slots_of(nodes), []
    for fn in nodes:
        read = slots_of.get(fn)
        if type(fn) is not leaf and read:
            result.observer._see_saved_of(fn, True, [], read, found)
    proved = [tensor for _, _, tensor in found]

    def walk(tree):
        walked = tree["trace"].trace_graph(
            result.roots, values=result.values, labels=result.labels, scopes=result.scopes,
            lines=result.lines, snippet_done=True, json_edges=True)
        tree["serialize"].trace_json(walked, device="cpu")

    parts = {
        "walk, node fields, JSON": walk,
        "saved values' summaries": lambda tree: tree["value_rows"].summaries(
            proved, tree["values"].summary_record),
        "leaves' summaries": lambda tree: tree["value_rows"].summaries(
            leaves, tree["values"].summary_record),
        "module_names": lambda tree: tree["names"].module_names(result.namespace),
    }
    gc.disable()
    try:
        for label, part in parts.items():
            part(trees["old"])
            part(trees["new"])
            times: dict = {"old": [], "new": []}
            for r in range(rounds):
                for name in ("old", "new") if r % 2 else ("new", "old"):
                    start = time.process_time()
                    part(trees[name])
                    times[name].append(time.process_time() - start)
            report(label, times)
    finally:
        gc.enable()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old")
    parser.add_argument("new")
    parser.add_argument("rounds", type=int, nargs="?", default=16)
    parser.add_argument("--chain", type=int, default=0, help="a chain of 2N + 2 nodes instead")
    args = parser.parse_args(argv)
    import networkx  # noqa: F401
    import torch

    torch.set_num_threads(1)
    import bench_trace

    trees = {"old": load(args.old), "new": load(args.new)}
    if args.chain:
        trace_part(trees, CHAIN.format(n=args.chain), args.rounds, 1)
        return
    source = bench_trace.SNIPPET.format(layers=48)
    trace_part(trees, source, args.rounds, 5)
    parts_of_one_run(trees, source, 40)


if __name__ == "__main__":
    main(sys.argv[1:])
