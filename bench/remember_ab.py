"""A/B of ``saved_memory.remember`` (run before each backward call the snippet makes): an old
copy of gradstep/autograd/saved_memory.py and this tree's, in turns in one process (CPU
seconds, per-round medians), checking that both remember the same values.

    PYTHONPATH=. .venv/bin/python bench/remember_ab.py OLD_SAVED_MEMORY_PY SNIPPET ROOT_NAME ROUNDS

(docs/speed.md item 60: e.g. ``/tmp/base/gradstep/autograd/saved_memory.py
bench/snippets/resnet50.py loss 20``.)
"""

from __future__ import annotations

import gc
import importlib.util
import statistics
import sys
import time


def graph_nodes(root) -> list:
    """Return the grad_fns of ``root``'s graph (an explicit stack and a seen set)."""
    nodes, seen, stack = [], set(), [root.grad_fn]
    while stack:
        fn = stack.pop()
        if fn is None or fn in seen:
            continue
        seen.add(fn)
        nodes.append(fn)
        stack.extend(next_fn for next_fn, _ in fn.next_functions)
    return nodes


def main(argv: list[str]) -> int:
    old_path, snippet, root_name, rounds = argv[0], argv[1], argv[2], int(argv[3])
    from gradstep.autograd import saved_memory as new

    spec = importlib.util.spec_from_file_location("gradstep.autograd.saved_memory_old", old_path)
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    namespace: dict = {}
    with open(snippet, encoding="utf-8") as f:
        exec(compile(f.read(), snippet, "exec"), namespace)  # noqa: S102 (a bench snippet)
    nodes = graph_nodes(namespace[root_name])
    times: dict = {"old": [], "new": []}
    for _ in range(rounds):
        for name, module in (("old", old), ("new", new)):
            module.forget()
            gc.collect()
            start = time.process_time()
            module.remember(nodes)
            times[name].append(time.process_time() - start)
    assert old._memory == new._memory, "the values remembered differ"
    old_s, new_s = statistics.median(times["old"]), statistics.median(times["new"])
    print(f"{len(nodes)} nodes, {rounds} rounds: old {old_s * 1e3:.2f} ms, "
          f"new {new_s * 1e3:.2f} ms, new/old {new_s / old_s:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
