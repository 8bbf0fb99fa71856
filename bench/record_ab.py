"""A/B of a whole recorded pass: ``record_backward`` of ``bench_backward.py``'s 48-layer
transformer from an older tree's gradstep and from this tree's, in turns in one process (who
goes first alternating), each pass on a fresh graph from no ``.grad`` (CPU milliseconds,
per-round medians of new/old); the two records must be the same JSON, every round. With
``--zeroed`` each pass starts from zeroed ``.grad`` tensors instead (``zero_grad(set_to_none=
False)``, an optimizer loop's habit), so the checks of each leaf's ``.grad`` run too.

The older tree's ``gradstep`` package is copied into a temporary folder as ``gradstep_old``
(its imports renamed), so both load side by side.

    PYTHONPATH=. .venv/bin/python bench/record_ab.py OLD_TREE [ROUNDS] [--zeroed]

(docs/speed.md item 71: ``git worktree add --detach /tmp/base main``, then
``bench/record_ab.py /tmp/base 30``.)
"""

from __future__ import annotations

import importlib
import json
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from bench_backward import build_model, forward  # (this folder: sys.path[0])

_IMPORT = re.compile(r"\bgradstep\.([a-z_])")
_FROM = re.compile(r"^(\s*)from gradstep import", re.MULTILINE)


def load_old_package(tree: str, into: Path):
    """Copy ``tree``'s ``gradstep`` package into ``into`` as ``gradstep_old``; return the
    ``backward`` and ``frame_names`` modules of that copy."""
    copy = into / "gradstep_old"
    shutil.copytree(Path(tree) / "gradstep", copy, ignore=shutil.ignore_patterns("__pycache__"))
    for path in copy.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        path.write_text(_FROM.sub(r"\1from gradstep_old import", _IMPORT.sub(r"gradstep_old.\1", text)),
                        encoding="utf-8")
    sys.path.insert(0, str(into))
    return (importlib.import_module("gradstep_old.autograd.backward"),
            importlib.import_module("gradstep_old.autograd.frame_names"))


def one_pass(backward, frame_names, model, tokens, zeroed=False) -> tuple[float, str]:
    """Return the CPU milliseconds of one ``record_backward`` and its record as JSON."""
    if zeroed and any(p.grad is None for p in model.parameters()):
        forward(model, tokens).backward()  # every leaf gets a .grad, zeroed below
    model.zero_grad(set_to_none=not zeroed)
    loss = forward(model, tokens)
    id_of = frame_names.graph_ids([loss])
    start = time.process_time()
    record = backward.record_backward(loss, id_of)
    spent = (time.process_time() - start) * 1000
    return spent, json.dumps(record)


def main(argv: list[str]) -> int:
    zeroed = "--zeroed" in argv
    argv = [a for a in argv if a != "--zeroed"]
    tree, rounds = argv[0], int(argv[1]) if len(argv) > 1 else 20
    torch.set_num_threads(1)
    from gradstep.autograd import backward, frame_names

    with tempfile.TemporaryDirectory() as folder:
        old = load_old_package(tree, Path(folder))
        new = (backward, frame_names)
        model = build_model(48, 32)
        tokens = torch.randn(4, 16, 32)
        for side in (old, new):  # warm up every path
            one_pass(*side, model, tokens, zeroed)
        spent: dict = {"old": [], "new": []}
        for r in range(rounds):
            order = (("old", old), ("new", new)) if r % 2 == 0 else (("new", new), ("old", old))
            records = {}
            for name, side in order:
                ms, records[name] = one_pass(*side, model, tokens, zeroed)
                spent[name].append(ms)
            if records["old"] != records["new"]:
                print(f"round {r}: the two records differ", flush=True)
                return 1
        print(f"{rounds} rounds: {summary(spent['old'], spent['new'])}; records the same")
    return 0


def summary(old: list, new: list) -> str:
    """Return the medians of two sides' milliseconds, of new/old per round, and how often
    new was faster."""
    ratios = [b / a for a, b in zip(old, new)]
    return (f"old {statistics.median(old):.2f} ms, new {statistics.median(new):.2f} ms, new/old "
            f"per round {statistics.median(ratios):.3f}, new faster in {sum(r < 1 for r in ratios)} "
            f"of {len(ratios)}")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
