"""A/B of the probes a recorded pass now makes as it begins (``saved.refusals_now``, the
timeline's ``changed_before``; ``tensor_hooks.has_tensor_hooks``): ``record_backward`` with
them and with them stubbed out (the pass as before core8), in turns in one process (CPU
seconds, per-round new/old medians), checking that both give the same steps.

    PYTHONPATH=. .venv/bin/python bench/pass_probe_ab.py SNIPPET ROOT_NAME ROUNDS

(docs/speed.md item 62: e.g. ``bench/snippets/resnet50.py loss 20``.)
"""

from __future__ import annotations

import gc
import statistics
import sys
import time

from ab_parts import snippet_root  # (this folder: sys.path[0])


def main(argv: list[str]) -> int:
    snippet, root_name, rounds = argv[0], argv[1], int(argv[2])
    from gradstep.autograd import backward
    from gradstep.autograd.saved import refusals_now
    from gradstep.autograd.tensor_hooks import has_tensor_hooks
    from gradstep.autograd.trace import trace_graph

    root = snippet_root(snippet, root_name)
    id_of = trace_graph([root], plain=True).id_of
    leaves = [fn.variable for fn in id_of if hasattr(fn, "variable")]

    def run(new: bool):
        backward.refusals_now = refusals_now if new else (lambda id_of, **_: None)
        backward.has_tensor_hooks = has_tensor_hooks if new else (lambda *a: False)
        for leaf in leaves:  # each pass from no .grad: the same steps
            leaf.grad = None
        gc.collect()
        start = time.process_time()
        record = backward.record_backward(root, id_of, retain_graph=True)
        return time.process_time() - start, record

    ratios, times = [], {"old": [], "new": []}
    probe = []
    for i in range(rounds):
        order = ("old", "new") if i % 2 == 0 else ("new", "old")
        got = {}
        for kind in order:
            seconds, got[kind] = run(kind == "new")
            times[kind].append(seconds)
        assert got["old"]["steps"] == got["new"]["steps"]
        ratios.append(times["new"][-1] / times["old"][-1])
        start = time.process_time()
        refusals_now(id_of)
        has_tensor_hooks(id_of, [root])
        probe.append(time.process_time() - start)
    med = statistics.median
    print(f"{snippet}: {len(id_of)} nodes; pass old {med(times['old']):.4f} s, new "
          f"{med(times['new']):.4f} s, new/old per round (median) {med(ratios):.3f}; the "
          f"probes alone {med(probe) * 1e3:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
