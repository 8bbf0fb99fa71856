"""``Session().run`` of bench_trace's snippet with two trees' gradstep, in turns in one process.

    OMP_NUM_THREADS=1 .venv/bin/python bench/trace_ab.py OLD_TREE NEW_TREE [ROUNDS] [LAYERS]

Both trees' packages are loaded into this one process (the ``gradstep`` modules dropped
and imported again from the other tree; torch and networkx stay loaded). Each round runs
the old and the new tree three times each (the order turns every round) and keeps the
median of each three, in CPU seconds (``time.process_time``, torch on one thread, a
``gc.collect()`` before each run); printed: every round's figures, the medians and the
per-round new/old ratios' median, and whether the two trees' trace JSON were the same
(but for the nodes' ``seq``: torch's sequence numbers go on counting in one process).
(docs/speed.md item 61: the old tree is a ``git worktree add --detach`` of the base.)
"""

from __future__ import annotations

import gc
import json
import statistics
import sys
import time
from pathlib import Path


def load(root: str):
    """Return ``Session`` imported from the tree at ``root`` (every gradstep module afresh)."""
    for name in [m for m in sys.modules if m == "gradstep" or m.startswith("gradstep.")]:
        del sys.modules[name]
    sys.path.insert(0, root)
    try:
        import gradstep
        from gradstep.autograd.session import Session

        assert str(Path(gradstep.__file__).resolve()).startswith(str(Path(root).resolve()))
    finally:
        sys.path.remove(root)
    return Session


def main(argv: list[str]) -> None:
    old_root, new_root = argv[0], argv[1]
    rounds = int(argv[2]) if len(argv) > 2 else 10
    layers = int(argv[3]) if len(argv) > 3 else 48
    import networkx  # noqa: F401
    import torch

    torch.set_num_threads(1)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import bench_trace

    source = bench_trace.SNIPPET.format(layers=layers)
    sessions = {"old": load(old_root), "new": load(new_root)}
    times: dict = {"old": [], "new": []}
    texts: dict = {}
    for r in range(rounds):
        for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
            runs = []
            for _ in range(3):
                gc.collect()
                start = time.process_time()
                result = sessions[name]().run(source)
                runs.append(time.process_time() - start)
                assert result["ok"], result["error"]
            for node in result["trace"]["nodes"]:
                node.pop("seq")  # torch's sequence numbers go on counting from run to run
            texts[name] = json.dumps(result["trace"])
            times[name].append(statistics.median(runs))
    ratios = [n / o for n, o in zip(times["new"], times["old"])]
    for name in ("old", "new"):
        print(name, " ".join(f"{t:.4f}" for t in times[name]))
    print(f"median old {statistics.median(times['old']):.4f} s, new {statistics.median(times['new']):.4f} s; "
          f"new/old per round: median {statistics.median(ratios):.3f} "
          f"(min {min(ratios):.3f}, max {max(ratios):.3f}); same trace JSON: {texts['old'] == texts['new']}")


if __name__ == "__main__":
    main(sys.argv[1:])
