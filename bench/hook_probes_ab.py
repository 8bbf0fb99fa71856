"""A/B of ``hook_probes`` (recfix): ``record_backward`` with the probes around the snippet's
hooks against the same pass without them, in turns in one process (CPU time, medians).

    .venv/bin/python bench/hook_probes_ab.py [--rounds 20] [--hooks none|params]

The model is ``bench/bench_backward.py``'s 48-layer ``nn.TransformerEncoder`` (d_model 32;
2,686 nodes, 1,151 saved tensors); ``--hooks params`` puts a no-op tensor hook on every
parameter (gradient-clipping style), so the pass probes (at most ``MOST_PROBES``); ``none``
measures the look-up alone on a pass with no hook.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gradstep.autograd import backward  # noqa: E402
from gradstep.autograd.frame_names import graph_ids  # noqa: E402


def main(argv) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--hooks", choices=("none", "params"), default="params")
    args = parser.parse_args(argv)
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
    model = nn.TransformerEncoder(layer, 48, enable_nested_tensor=False)
    if args.hooks == "params":
        for p in model.parameters():
            p.register_hook(lambda g: None)
    x = torch.randn(2, 8, 32)
    probes = backward.hook_probes

    def run(on: bool):
        loss = model(x).sum()
        id_of = graph_ids([loss])
        backward.hook_probes = probes if on else (lambda *a, **k: None)
        try:
            start = time.process_time()
            record = backward.record_backward(loss, id_of)
            return time.process_time() - start, record
        finally:
            backward.hook_probes = probes

    times = {"old": [], "new": []}
    ratios = []
    for i in range(args.rounds):
        order = ("old", "new") if i % 2 == 0 else ("new", "old")
        for kind in order:
            seconds, record = run(kind == "new")
            times[kind].append(seconds)
            assert record["error"] is None and record["steps"]
        ratios.append(times["new"][-1] / times["old"][-1])
    med = statistics.median
    print(f"hooks={args.hooks}: pass without probes {med(times['old']):.4f} s, with "
          f"{med(times['new']):.4f} s, new/old per round (median) {med(ratios):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
