"""Before and after in one process, in turns: what ``grad_marks`` costs a leaf to note its
``.grad`` as a pass begins and to check it at its AccumulateGrad, main's weak reference of
gradstep's class (``_Mark``, which the snippet's ``weakref.getweakrefcount`` counted)
against torch's watch on the TensorImpl (``note_tensor`` / ``is_noted``, wrefs).

    env PYTHONPATH=. .venv/bin/python bench/grad_marks_ab.py [--leaves 1000] [--rounds 300]
"""

from __future__ import annotations

import argparse
import statistics
import time
import weakref

import torch

from gradstep.autograd.grad_marks import is_noted, note_tensor


class _Mark(weakref.ref):  # main's note (before wrefs)
    __slots__ = ()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leaves", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args()
    grads = [torch.zeros(4) for _ in range(args.leaves)]

    def weak():
        notes = [_Mark(g) for g in grads]
        return all(n() is g for n, g in zip(notes, grads))

    def watch():
        notes = [note_tensor(g) for g in grads]
        return all(is_noted(g, n) for n, g in zip(notes, grads))

    times: dict = {"weak reference (main)": [], "TensorImpl watch (wrefs)": []}
    for _ in range(args.rounds):
        for name, run in zip(times, (weak, watch)):
            start = time.perf_counter()
            if not run():
                raise SystemExit(f"{name}: a .grad read as changed")
            times[name].append(time.perf_counter() - start)
    for name, spent in times.items():
        print(f"{name}: {statistics.median(spent) * 1e6 / args.leaves:.2f} µs a leaf "
              f"(median of {args.rounds} rounds, {args.leaves} leaves)")


if __name__ == "__main__":
    main()
