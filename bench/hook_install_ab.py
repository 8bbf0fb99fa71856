"""A/B of putting a recorded pass's hooks on and taking them off: ``StepRecorder``'s
``__enter__`` (two hooks on every node) and ``remove()`` on ``bench_backward.py``'s 48-layer
transformer, from an older tree's gradstep and from this tree's, in turns in one process
(who goes first alternating), each on a fresh graph (CPU milliseconds, medians, and the
per-round median of new/old for the two parts together). No pass runs.

    PYTHONPATH=. .venv/bin/python bench/hook_install_ab.py OLD_TREE [ROUNDS]

(docs/speed.md item 79.)
"""

from __future__ import annotations

import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from bench_backward import build_model, forward  # (this folder: sys.path[0])
from record_ab import load_old_package


def on_and_off(step_hooks, frame_names, model, tokens) -> tuple[float, float]:
    """Return the CPU milliseconds of putting the hooks on a fresh graph and of taking them off."""
    loss = forward(model, tokens)
    recorder = step_hooks.StepRecorder(frame_names.graph_ids([loss]))
    start = time.process_time()
    recorder.__enter__()
    middle = time.process_time()
    recorder.remove()
    end = time.process_time()
    recorder.__exit__(None, None, None)
    return (middle - start) * 1000, (end - middle) * 1000


def main(argv: list[str]) -> int:
    tree, rounds = argv[0], int(argv[1]) if len(argv) > 1 else 30
    torch.set_num_threads(1)
    from gradstep.autograd import frame_names, step_hooks

    with tempfile.TemporaryDirectory() as folder:
        load_old_package(tree, Path(folder))
        old = (importlib.import_module("gradstep_old.autograd.step_hooks"),
               importlib.import_module("gradstep_old.autograd.frame_names"))
        new = (step_hooks, frame_names)
        model = build_model(48, 32)
        tokens = torch.randn(4, 16, 32)
        for side in (old, new):  # warm up
            on_and_off(*side, model, tokens)
        spent: dict = {"old": [], "new": []}
        for r in range(rounds):
            order = (("old", old), ("new", new)) if r % 2 == 0 else (("new", new), ("old", old))
            for name, side in order:
                spent[name].append(on_and_off(*side, model, tokens))
    ratios = [sum(b) / sum(a) for a, b in zip(spent["old"], spent["new"])]
    for name in ("old", "new"):
        install = statistics.median(on for on, _ in spent[name])
        remove = statistics.median(off for _, off in spent[name])
        print(f"{name}: install {install:.2f} ms, remove {remove:.2f} ms")
    print(f"{rounds} rounds: new/old per round {statistics.median(ratios):.3f}, new faster in "
          f"{sum(r < 1 for r in ratios)} of {rounds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
