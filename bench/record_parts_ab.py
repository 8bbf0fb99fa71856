"""``record_ab.py`` with a timer on each part: ``record_backward`` of ``bench_backward.py``'s
48-layer transformer from an older tree's gradstep and from this tree's, in turns in one
process, each pass on a fresh graph from no ``.grad`` (CPU milliseconds, medians, and the
per-round median of new/old for the whole pass and for each part); the two records must be
the same JSON, every round.

The parts: the probes before the pass (``freed_node_ids``, ``refusals_now``), putting the
hooks on (``StepRecorder.__enter__``), the pass with them (``_kept_error``), taking them
off, the steps and values as plain data (``_to_plain_data``; in it ``plain_values``, the
version check ``_changed`` and ``_step_dicts``), and ``pass_record`` (the probe after).
A part called twice a pass (the freed probe) is summed. The timers are wrappers, the same
on both sides, so they add the same few microseconds a call to each.

    PYTHONPATH=. .venv/bin/python bench/record_parts_ab.py OLD_TREE [ROUNDS]

(docs/speed.md item 81: ``git worktree add --detach /tmp/base main``, then
``bench/record_parts_ab.py /tmp/base 30``.)
"""

from __future__ import annotations

import importlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch
from bench_backward import build_model  # (this folder: sys.path[0])
from record_ab import load_old_package, one_pass

_MODULE_PARTS = {  # module (under gradstep.autograd) -> the functions timed there
    "backward": ("freed_node_ids", "refusals_now", "_kept_error", "pass_record"),
    "step_hooks": ("plain_values", "_changed", "_step_dicts"),
}
_RECORDER_PARTS = ("__enter__", "remove", "_to_plain_data")


def _timed(function, name: str, spent: dict):
    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            spent[name] = spent.get(name, 0.0) + time.process_time() - start
    return timed


def instrument(package: str, spent: dict) -> None:
    """Put a timer on each part of ``package``'s recorder (``gradstep`` or ``gradstep_old``),
    adding its CPU seconds into ``spent``."""
    for module_name, names in _MODULE_PARTS.items():
        module = importlib.import_module(f"{package}.autograd.{module_name}")
        for name in names:
            setattr(module, name, _timed(getattr(module, name), name, spent))
    recorder = importlib.import_module(f"{package}.autograd.step_hooks").StepRecorder
    for name in _RECORDER_PARTS:
        setattr(recorder, name, _timed(getattr(recorder, name), name, spent))


def main(argv: list[str]) -> int:
    tree, rounds = argv[0], int(argv[1]) if len(argv) > 1 else 20
    torch.set_num_threads(1)
    from gradstep.autograd import backward, frame_names

    with tempfile.TemporaryDirectory() as folder:
        old = load_old_package(tree, Path(folder))
        sides = {"old": (old, {}), "new": ((backward, frame_names), {})}
        instrument("gradstep_old", sides["old"][1])
        instrument("gradstep", sides["new"][1])
        model = build_model(48, 32)
        tokens = torch.randn(4, 16, 32)
        for modules, _ in sides.values():  # warm up every path
            one_pass(*modules, model, tokens)
        times: dict = {"old": {}, "new": {}}
        for r in range(rounds):
            records = {}
            for name in ("old", "new") if r % 2 == 0 else ("new", "old"):
                modules, spent = sides[name]
                spent.clear()
                ms, records[name] = one_pass(*modules, model, tokens)
                times[name].setdefault("whole pass", []).append(ms)
                for part, seconds in spent.items():
                    times[name].setdefault(part, []).append(seconds * 1000)
            if records["old"] != records["new"]:
                print(f"round {r}: the two records differ", flush=True)
                return 1
        print(f"{rounds} rounds, records the same; CPU ms, medians (new/old: per-round median)")
        for part, old_ms in times["old"].items():
            new_ms = times["new"][part]
            ratio = statistics.median(b / a for a, b in zip(old_ms, new_ms) if a)
            print(f"  {part:15s} old {statistics.median(old_ms):7.2f}  new "
                  f"{statistics.median(new_ms):7.2f}  new/old {ratio:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
