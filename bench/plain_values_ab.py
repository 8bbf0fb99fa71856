"""A/B of ``grad_values.plain_values`` on the tensors of one recorded pass of
``bench_backward.py``'s 48-layer transformer (7,294 tensors, 3,263 distinct): an older tree's
``gradstep/autograd/grad_values.py`` and this tree's, in turns in one process (who goes first
alternating; CPU milliseconds, per-round medians of new/old). Twice: the whole call, then the
classification alone (each module's batch summaries stubbed out, so torch's reductions and
the summary dicts are left out). The two must give the same JSON and the same batches.

    PYTHONPATH=. .venv/bin/python bench/plain_values_ab.py OLD_TREE [ROUNDS]

(docs/speed.md item 71: ``bench/plain_values_ab.py /tmp/base 40``.)
"""

from __future__ import annotations

import json
import sys
import time

import torch
from ab_parts import load_old  # (this folder: sys.path[0])
from bench_backward import build_model, forward
from record_ab import summary


def pass_tensors() -> list:
    """Return the tensors a recorded pass hands ``plain_values`` (its largest batch)."""
    from gradstep.autograd import step_hooks
    from gradstep.autograd.backward import record_backward
    from gradstep.autograd.frame_names import graph_ids

    batches: list = []
    original = step_hooks.plain_values

    def keep(tensors):
        batches.append(list(tensors))
        return original(tensors)

    step_hooks.plain_values = keep
    try:
        model = build_model(48, 32)
        loss = forward(model, torch.randn(4, 16, 32))
        record_backward(loss, graph_ids([loss]))
    finally:
        step_hooks.plain_values = original
    return max(batches, key=len)


def turns(old, new, tensors: list, rounds: int) -> str:
    """Time ``plain_values`` of the two modules in turns; return the summary line's figures."""
    spent: dict = {old: [], new: []}
    for r in range(rounds):
        for module in (old, new) if r % 2 == 0 else (new, old):
            start = time.process_time()
            try:
                module.plain_values(tensors)
            except KeyError:  # (the classification alone: no summary to hand back)
                pass
            spent[module].append((time.process_time() - start) * 1000)
    return summary(spent[old], spent[new])


def main(argv: list[str]) -> int:
    tree, rounds = argv[0], int(argv[1]) if len(argv) > 1 else 40
    torch.set_num_threads(1)
    from gradstep.autograd import grad_values as new

    old = load_old(f"{tree}/gradstep/autograd/grad_values.py", "grad_values")
    tensors = pass_tensors()
    if json.dumps(old.plain_values(tensors)) != json.dumps(new.plain_values(tensors)):
        print("the two trees' summaries differ")
        return 1
    print(f"plain_values of {len(tensors)} tensors: {turns(old, new, tensors, rounds)}", flush=True)
    batches: dict = {old: [], new: []}
    for module in (old, new):
        module._in_batch = lambda summarise, group, plain, pairs, m=module: batches[m].append(len(group))
        try:
            module.plain_values(tensors)
        except KeyError:
            pass
    if batches[old] != batches[new]:
        print("the two trees batch the tensors differently")
        return 1
    print(f"the classification alone: {turns(old, new, tensors, rounds)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
