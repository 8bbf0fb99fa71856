"""A/B of ``pass_versions._norms`` (what ``begin`` and ``note`` take of each leaf of a recorded
snippet call): an older tree's ``gradstep/autograd/pass_versions.py`` and this tree's, in turns
in one process (who goes first alternating; CPU milliseconds, per-round medians of new/old),
on the leaves of a bench snippet's graph; the two must give the same norms, to the bit.

    PYTHONPATH=. .venv/bin/python bench/leaf_norms_ab.py OLD_TREE SNIPPET ROOT_NAME [ROUNDS]

(docs/speed.md item 71: ``bench/leaf_norms_ab.py /tmp/base bench/snippets/transformer48.py
loss 40``.)
"""

from __future__ import annotations

import sys
import time

import torch
from ab_parts import load_old, snippet_root  # (this folder: sys.path[0])
from record_ab import summary


def main(argv: list[str]) -> int:
    tree, snippet, root_name = argv[:3]
    rounds = int(argv[3]) if len(argv) > 3 else 40
    from gradstep.autograd import pass_versions as new
    from gradstep.autograd.trace import trace_graph

    old = load_old(f"{tree}/gradstep/autograd/pass_versions.py", "pass_versions")
    id_of = trace_graph([snippet_root(snippet, root_name)], plain=True).id_of
    leaves = new._versioned_leaves(id_of)
    for a, b in zip(old._norms(leaves), new._norms(leaves)):
        if (a is None) != (b is None) or (a is not None and not (
                torch.equal(a, b) or (a.isnan().all() and b.isnan().all()))):
            print("the two trees' norms differ")
            return 1
    spent: dict = {old: [], new: []}
    for r in range(rounds):
        for module in (old, new) if r % 2 == 0 else (new, old):
            start = time.process_time()
            module._norms(leaves)
            spent[module].append((time.process_time() - start) * 1000)
    print(f"{len(leaves)} leaves, _norms: {summary(spent[old], spent[new])}; the same norms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
