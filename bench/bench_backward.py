"""Recording overhead of a backward pass: gradstep's recorder vs a plain ``backward()``.

A 48-layer ``nn.TransformerEncoder`` (small d_model, so the pass is thousands of
cheap nodes: the worst case for per-node overhead) runs forward, then backward
either plainly or through ``record_backward`` (hooks on every node, every
gradient turned into plain data, freed buffers probed before and after). Both
are timed in the same run, interleaved, on fresh graphs; the figure is the
ratio of the medians (and of the fastest runs, less sensitive to a busy
machine). Target: within 3x. A breakdown shows where the recorder's time goes.

    .venv/bin/python bench/bench_backward.py [--layers 48] [--d-model 32] [--repeats 7]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gradstep.autograd.backward import record_backward  # noqa: E402
from gradstep.autograd.calls import graph_ids  # noqa: E402
from gradstep.autograd.leaves_and_freed import freed_node_ids, leaf_grad_tensors  # noqa: E402
from gradstep.autograd.step_hooks import StepRecorder  # noqa: E402


def build_model(layers: int, d_model: int) -> nn.Module:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=2 * d_model,
                                       dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)


def forward(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    return model(tokens).pow(2).mean()


def time_plain(model, tokens) -> float:
    loss = forward(model, tokens)
    start = time.perf_counter()
    loss.backward()
    return time.perf_counter() - start


def time_recorded(model, tokens) -> tuple[float, int]:
    loss = forward(model, tokens)
    id_of = graph_ids([loss])
    start = time.perf_counter()
    record = record_backward(loss, id_of)
    elapsed = time.perf_counter() - start
    assert record["error"] is None
    return elapsed, len(record["steps"])


def breakdown(model, tokens) -> dict:
    """Return the seconds spent in each part of one recorded pass (GC paused, as the recorder does)."""
    loss = forward(model, tokens)
    id_of = graph_ids([loss])
    marks = [time.perf_counter()]
    gc.disable()
    try:
        freed_node_ids(id_of)
        marks.append(time.perf_counter())
        recorder = StepRecorder(id_of)
        recorder.__enter__()
        marks.append(time.perf_counter())
        loss.backward()
        marks.append(time.perf_counter())
        recorder.remove()
        marks.append(time.perf_counter())
        recorder.extra = {"grads": leaf_grad_tensors(id_of, {})}
        recorder._to_plain_data()
        marks.append(time.perf_counter())
        freed_node_ids(id_of)
        marks.append(time.perf_counter())
    finally:
        gc.enable()
    names = ["probe before", "install hooks", "pass with hooks", "remove hooks",
             "values to plain data (steps + leaf grads)", "probe after"]
    return {name: b - a for name, a, b in zip(names, marks, marks[1:])}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--d-model", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # a shared machine: keep both sides on one core
    model = build_model(args.layers, args.d_model)
    tokens = torch.randn(args.batch, args.seq, args.d_model)
    time_plain(model, tokens)  # warm up both paths
    time_recorded(model, tokens)
    plain, recorded, steps = [], [], 0
    for _ in range(args.repeats):  # interleaved, so load changes hit both alike
        plain.append(time_plain(model, tokens))
        elapsed, steps = time_recorded(model, tokens)
        recorded.append(elapsed)
    parts = breakdown(model, tokens)
    p, r = statistics.median(plain), statistics.median(recorded)
    print(f"model: {args.layers}-layer TransformerEncoder, d_model={args.d_model}, "
          f"input {args.batch}x{args.seq}; {steps} backward steps")
    print(f"plain backward():   median {p * 1e3:7.1f} ms, fastest {min(plain) * 1e3:7.1f} ms "
          f"({args.repeats} runs)")
    print(f"recorded backward:  median {r * 1e3:7.1f} ms, fastest {min(recorded) * 1e3:7.1f} ms")
    print("one recorded pass, by part: " + ", ".join(
        f"{name} {seconds * 1e3:.1f} ms" for name, seconds in parts.items()))
    print(f"ratio recorded/plain: {r / p:.2f}x median, {min(recorded) / min(plain):.2f}x fastest "
          "(target <= 3x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
