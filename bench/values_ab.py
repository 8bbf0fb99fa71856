"""A/B of value summaries (``values.tensor_value``, and ``summary_record`` then ``settled``
as a trace keeps them): an old copy of gradstep/autograd/values.py and this tree's, in turns
in one process (CPU seconds, per-round medians of new/old), one torch thread. Tensors
without a NaN or an infinity must give the same JSON; those with one are timed only.

    PYTHONPATH=. .venv/bin/python bench/values_ab.py OLD_VALUES_PY ROUNDS

(docs/speed.md item 63: e.g. ``/tmp/base/gradstep/autograd/values.py 15``.)
"""

from __future__ import annotations

import importlib.util
import json
import statistics
import sys
import time

import torch

import gradstep.autograd.values as new


def spoilt(t: torch.Tensor, x: float) -> torch.Tensor:
    t = t.clone()
    t.view(-1)[0] = x
    return t


def cases() -> dict:
    """Return name -> (tensors, whether the two trees must give the same output)."""
    torch.manual_seed(0)
    nan, inf = float("nan"), float("inf")
    return {
        "small 1-D float32 (record)": ([torch.randn(n) for n in range(2, 65)] * 20, True),
        "small 2-D float32": ([torch.randn(4, 8), torch.randn(2, 3), torch.randn(8, 8)] * 300, True),
        "small float16": ([torch.randn(16).half(), torch.randn(3, 5).half()] * 300, True),
        "large float32": ([torch.randn(100, 30), torch.randn(1000)] * 100, True),
        "small 1-D float32 with NaN (record)": ([spoilt(torch.randn(n), nan) for n in range(2, 65)] * 10, False),
        "small 1-D float32 with inf (record)": ([spoilt(torch.randn(n), inf) for n in range(2, 65)] * 10, False),
        "small 2-D float32 with NaN": ([spoilt(torch.randn(4, 8), nan)] * 300, False),
        "large float32 with NaN": ([spoilt(torch.randn(1000), nan)] * 100, False),
    }


def run(module, tensors: list, record: bool) -> tuple[float, list]:
    start = time.process_time()
    if record:
        out = module.settled([module.summary_record(t) for t in tensors])
    else:
        out = [module.tensor_value(t) for t in tensors]
    return time.process_time() - start, out


def main() -> None:
    torch.set_num_threads(1)
    spec = importlib.util.spec_from_file_location("values_old", sys.argv[1])
    old = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(old)
    rounds = int(sys.argv[2])
    for name, (tensors, same) in cases().items():
        record = "record" in name
        equal = json.dumps(run(old, tensors, record)[1]) == json.dumps(run(new, tensors, record)[1])
        if same and not equal:
            raise SystemExit(f"{name}: the two trees' summaries differ")
        times: dict = {old: [], new: []}
        for r in range(rounds):
            for module in (old, new) if r % 2 == 0 else (new, old):
                times[module].append(run(module, tensors, record)[0])
        ratios = [b / a for a, b in zip(times[old], times[new])]
        print(f"{name}: {len(tensors)} tensors, old {statistics.median(times[old]) * 1e3:.2f} ms, "
              f"new {statistics.median(times[new]) * 1e3:.2f} ms, new/old {statistics.median(ratios):.3f}"
              f"{'' if equal else ' (output differs: intended)'}", flush=True)


if __name__ == "__main__":
    main()
