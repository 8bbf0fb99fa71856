"""What a snippet call's note of its leaves as it begins costs (``pass_versions.begin``: a
version read and a ``vector_norm`` per leaf, for a leaf a hook writes during the call),
beside the note after the call it was added to (``pass_versions.note``). CPU seconds,
medians of ROUNDS turns in one process.

    PYTHONPATH=. .venv/bin/python bench/pass_begin_cost.py SNIPPET ROOT_NAME ROUNDS

(docs/speed.md item 67: ``bench/snippets/transformer48.py loss 30``.)
"""

from __future__ import annotations

import statistics
import sys
import time

from ab_parts import snippet_root  # (this folder: sys.path[0])


def main(argv: list[str]) -> int:
    snippet, root_name, rounds = argv[0], argv[1], int(argv[2])
    from gradstep.autograd import pass_versions
    from gradstep.autograd.trace import trace_graph

    root = snippet_root(snippet, root_name)
    id_of = trace_graph([root], plain=True).id_of
    leaves = sum(1 for fn in id_of if hasattr(fn, "variable"))
    times: dict = {"begin": [], "note": []}
    for _ in range(rounds):
        start = time.process_time()
        pass_versions.begin(id_of)
        times["begin"].append(time.process_time() - start)
        start = time.process_time()
        pass_versions.note(id_of, 0, 0)
        times["note"].append(time.process_time() - start)
    pass_versions.forget()
    print(f"{leaves} leaves, {len(id_of)} nodes; median of {rounds}: "
          + ", ".join(f"{k} {statistics.median(v) * 1e3:.2f} ms" for k, v in times.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
