"""Recording overhead of a backward pass: gradstep's recorder vs a plain ``backward()``.

A 48-layer ``nn.TransformerEncoder`` (small d_model, so the pass is thousands of
cheap nodes: the worst case for per-node overhead) runs forward, then backward
either plainly or through ``record_backward`` (hooks on every node, every
gradient turned into plain data, freed buffers probed before and after). Both
are timed in the same run, interleaved, on fresh graphs; the figure is the
ratio of the medians (and of the fastest runs), in wall time and in CPU time
(process_time: on a loaded machine the CPU ratio is the steadier one). Target:
within 3x. A breakdown (CPU time) shows where the recorder's time goes, and
the same pass with two empty Python hooks on every node (installed, run,
removed) shows what hooking every node costs before any recording. The floor
line adds to that the CPU time of torch's own calls in the value summaries
(``grad_values.small_numbers``, ``stack_rows``, ``row_stats``, ``values._reduce``: the
copies, ``mean``, ``std``, ``amin``/``amax``, ``tolist``), timed inside recorded passes: the numbers gradstep
shows are torch's, so a recorder with a hook per node cannot go below it. The Python
floor line puts in place of the empty hooks ones that only ``detach()`` each gradient and
append it to a list (no bookkeeping, no check, no leaf ``.grad`` copy), plus the same
torch calls: what a recorder written in Python pays at least, so what is above it is
gradstep's own code.

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

from gradstep.autograd import grad_values, values  # noqa: E402
from gradstep.autograd.backward import record_backward  # noqa: E402
from gradstep.autograd.frame_names import graph_ids  # noqa: E402
from gradstep.autograd.leaves_and_freed import freed_node_ids, leaf_grad_tensors  # noqa: E402
from gradstep.autograd.step_hooks import StepRecorder  # noqa: E402


def build_model(layers: int, d_model: int) -> nn.Module:
    torch.manual_seed(0)
    layer = nn.TransformerEncoderLayer(d_model, nhead=4, dim_feedforward=2 * d_model,
                                       dropout=0.0, batch_first=True)
    return nn.TransformerEncoder(layer, num_layers=layers, enable_nested_tensor=False)


def forward(model: nn.Module, tokens: torch.Tensor) -> torch.Tensor:
    return model(tokens).pow(2).mean()


def _clocks() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    """Return (wall, CPU) seconds since ``start = _clocks()``."""
    wall, cpu = _clocks()
    return wall - start[0], cpu - start[1]


def time_plain(model, tokens) -> tuple[float, float]:
    loss = forward(model, tokens)
    start = _clocks()
    loss.backward()
    return _since(start)


def time_recorded(model, tokens) -> tuple[tuple[float, float], int]:
    loss = forward(model, tokens)
    id_of = graph_ids([loss])
    start = _clocks()
    record = record_backward(loss, id_of)
    elapsed = _since(start)
    assert record["error"] is None
    return elapsed, len(record["steps"])


def time_reductions(model, tokens) -> float:
    """Return the CPU seconds that torch's own calls in the value summaries take inside
    one recorded pass (``grad_values.small_numbers``, ``stack_rows``, ``row_stats``, and
    ``values._reduce`` for a gradient summarised alone)."""
    spent = [0.0]

    def timed(func):
        def run(*args):
            start = time.process_time()
            try:
                return func(*args)
            finally:
                spent[0] += time.process_time() - start
        return run

    places = [(grad_values, name) for name in ("small_numbers", "stack_rows", "row_stats")]
    places.append((values, "_reduce"))  # a gradient summarised alone (strided, long, not CPU)
    originals = [(module, name, getattr(module, name)) for module, name in places]
    for module, name, func in originals:
        setattr(module, name, timed(func))
    try:
        time_recorded(model, tokens)
    finally:
        for module, name, func in originals:
            setattr(module, name, func)
    return spent[0]


def time_empty_hooks(model, tokens) -> tuple[float, float]:
    """Return the time of a plain pass with an empty pre-hook and hook on every node,
    installed before and removed after (what any hook-per-node recorder pays)."""
    loss = forward(model, tokens)
    nodes = list(graph_ids([loss]))
    start = _clocks()
    handles = []
    for fn in nodes:
        handles.append(fn.register_prehook(_nothing))
        handles.append(fn.register_hook(_nothing))
    loss.backward()
    for handle in handles:
        handle.remove()
    return _since(start)


def _nothing(*grads) -> None:
    return None


def time_detach_hooks(model, tokens) -> tuple[float, float]:
    """Return the time of a plain pass with a pre-hook and a hook on every node that only
    ``detach()`` each gradient and append the aliases to a list (installed before, removed
    after, the list let go after): the least Python a recorder that keeps every gradient
    (without copying it) can run per node. The GC is paused, as the recorder does."""
    loss = forward(model, tokens)
    nodes = list(graph_ids([loss]))
    gc.disable()
    try:
        start = _clocks()
        held: list = []
        keep = held.append

        def pre(grad_outputs):
            keep([g if g is None else g.detach() for g in grad_outputs])

        def post(grad_inputs, grad_outputs):
            keep([g if g is None else g.detach() for g in grad_inputs])

        handles = []
        for fn in nodes:
            handles.append(fn.register_prehook(pre))
            handles.append(fn.register_hook(post))
        loss.backward()
        for handle in handles:
            handle.remove()
        del held[:]
        return _since(start)
    finally:
        gc.enable()


def breakdown(model, tokens) -> dict:
    """Return the CPU seconds spent in each part of one recorded pass (GC paused, as the recorder does)."""
    loss = forward(model, tokens)
    id_of = graph_ids([loss])
    held: dict = {}  # what the probe before finds held, for the probe after (as record_backward)
    marks = [time.process_time()]
    gc.disable()
    try:
        freed_node_ids(id_of, held)
        marks.append(time.process_time())
        recorder = StepRecorder(id_of)
        recorder.__enter__()
        marks.append(time.process_time())
        loss.backward()
        marks.append(time.process_time())
        recorder.remove()
        marks.append(time.process_time())
        recorder.extra = {"grads": leaf_grad_tensors(id_of, {})}
        recorder._to_plain_data()
        marks.append(time.process_time())
        freed_node_ids(id_of, held)
        marks.append(time.process_time())
    finally:
        gc.enable()
    names = ["probe before", "install hooks", "pass with hooks", "remove hooks",
             "values to plain data (steps + leaf grads)", "probe after"]
    return {name: b - a for name, a, b in zip(names, marks, marks[1:])}


def model_arguments(doc: str) -> argparse.ArgumentParser:
    """Return a parser described by ``doc``'s first line, with the model's options."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--d-model", type=int, default=32)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--seq", type=int, default=16)
    return parser


def main(argv=None) -> int:
    parser = model_arguments(__doc__)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # a shared machine: keep both sides on one core
    model = build_model(args.layers, args.d_model)
    tokens = torch.randn(args.batch, args.seq, args.d_model)
    time_plain(model, tokens)  # warm up every path
    time_recorded(model, tokens)
    time_empty_hooks(model, tokens)
    time_detach_hooks(model, tokens)
    plain, recorded, empty, detached, reduced, steps = [], [], [], [], [], 0
    for _ in range(args.repeats):  # interleaved, so load changes hit all alike
        plain.append(time_plain(model, tokens))
        elapsed, steps = time_recorded(model, tokens)
        recorded.append(elapsed)
        empty.append(time_empty_hooks(model, tokens))
        detached.append(time_detach_hooks(model, tokens))
        reduced.append(time_reductions(model, tokens))
    parts = breakdown(model, tokens)
    print(f"model: {args.layers}-layer TransformerEncoder, d_model={args.d_model}, "
          f"input {args.batch}x{args.seq}; {steps} backward steps; {args.repeats} runs each")
    for clock, k in (("wall", 0), ("CPU", 1)):
        p, r, e = ([t[k] for t in times] for times in (plain, recorded, empty))
        print(f"{clock:>4}: plain backward() median {statistics.median(p) * 1e3:6.1f} ms "
              f"(fastest {min(p) * 1e3:.1f}); recorded median {statistics.median(r) * 1e3:6.1f} ms "
              f"(fastest {min(r) * 1e3:.1f}); empty hooks median {statistics.median(e) * 1e3:6.1f} ms")
        print(f"      ratio recorded/plain: {statistics.median(r) / statistics.median(p):.2f}x median, "
              f"{min(r) / min(p):.2f}x fastest (target <= 3x); empty hooks/plain: "
              f"{statistics.median(e) / statistics.median(p):.2f}x median")
    print("one recorded pass, by part (CPU): " + ", ".join(
        f"{name} {seconds * 1e3:.1f} ms" for name, seconds in parts.items()))
    p, r, e = (statistics.median(t[1] for t in times) for times in (plain, recorded, empty))
    torch_part = statistics.median(reduced)
    floor = e + torch_part
    print(f"floor (CPU, medians): plain backward() {p * 1e3:.1f} ms + empty hooks' extra "
          f"{(e - p) * 1e3:.1f} ms + torch's own calls in the summaries (copies, mean, std, "
          f"amin/amax, tolist) {torch_part * 1e3:.1f} ms = {floor * 1e3:.1f} ms, "
          f"floor {floor / p:.1f}x plain; the recorded pass's other {(r - floor) * 1e3:.1f} ms "
          f"({(r - floor) / p:.1f}x plain) is gradstep's own Python and holding every gradient")
    d = statistics.median(t[1] for t in detached)
    python_floor = d + torch_part
    print(f"Python floor (CPU, medians): the pass with hooks that only detach() and keep each "
          f"gradient (GC paused, as the recorder) {d * 1e3:.1f} ms + torch's own "
          f"calls in the summaries {torch_part * 1e3:.1f} ms = {python_floor * 1e3:.1f} ms, "
          f"{python_floor / p:.1f}x plain; gradstep's own code above it {(r - python_floor) * 1e3:.1f} ms "
          f"({(r - python_floor) / p:.1f}x plain)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
