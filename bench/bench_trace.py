"""Trace cost on a 48-layer transformer: gradstep vs the same snippet run plainly.

    .venv/bin/python bench/bench_trace.py [--layers 48] [--repeat 3]

Each variant runs in its own fresh subprocess (so peak memory is that
variant's own high-water mark, read with ``resource.getrusage`` — tracemalloc
does not see torch's allocations):

* ``plain``: ``exec`` the snippet, then a bare iterative ``next_functions`` walk;
* ``gradstep``: ``Session().run(snippet)`` — the default, faithful capture (no
  Python mode: the snippet's own expressions, module outputs, saved tensors),
  names, scopes, trace into networkx and the trace JSON;
* ``deep``: the same with ``--deep-values`` (a TorchFunctionMode records every
  torch call's output; more values, but it can change which kernels torch picks);
* ``profile``: ``gradstep`` with torch's reductions for its value summaries timed;
* ``reads``: ``plain`` whose walk also reads, through torch's bindings, what the
  trace reads of every node (no gradstep code).

Printed: the best of ``--rounds`` x ``--repeat`` runs in CPU seconds (``time.process_time``,
with torch limited to one thread, so other load on a shared machine does not
skew the ratio) and in wall seconds, and the peak RSS growth over the
process's RSS before the first run, with gradstep/plain ratios.
Targets: time within 2x, peak memory within 1.5x. The floor lines: plain + the
reductions (``profile``), plus the reads (``reads``); what gradstep spends above
that is its own bookkeeping (dicts, networkx, names, scopes, JSON, observation).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SNIPPET = """
torch.manual_seed(0)
layer = nn.TransformerEncoderLayer(d_model=64, nhead=4, dim_feedforward=128, dropout=0.0)
model = nn.TransformerEncoder(layer, num_layers={layers}, enable_nested_tensor=False)
src = torch.randn(16, 4, 64)
out = model(src)
loss = out.square().mean()
"""


def peak_rss_mb() -> float:
    """Return this process's peak resident set size in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def plain_run(source: str) -> int:
    """Run the snippet as plain Python, then walk its graph bare; return the node count."""
    import torch

    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(compile(source, "<bench>", "exec"), namespace)
    root = namespace["loss"].grad_fn
    seen, stack = {root}, [root]
    while stack:
        for nxt, _ in stack.pop().next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return len(seen)


def gradstep_run(source: str, deep: bool = False) -> int:
    """Run the snippet through a Session; return the node count of its trace."""
    from gradstep.autograd.session import Session

    result = Session().run(source, deep_values=deep)
    assert result["ok"], result["error"]
    return len(result["trace"]["nodes"])


def deep_run(source: str) -> int:
    """Like ``gradstep_run`` with ``--deep-values``."""
    return gradstep_run(source, deep=True)


VARIANTS = {"plain": plain_run, "gradstep": gradstep_run, "deep": deep_run}
REDUCED: list = []  # CPU seconds in torch's reductions of the summaries, per run (profile)


def profiled_run(source: str) -> int:
    """Like ``gradstep_run``, with the CPU time of torch's own reductions for the value
    summaries (``values._reduce``: ``aminmax``, ``mean``, ``std`` and their ``tolist``) counted:
    the numbers gradstep shows are torch's, so that time is the floor of a faithful trace."""
    from gradstep.autograd import values

    reduce, spent = values._reduce, [0.0]

    def timed(t):
        start = time.process_time()
        try:
            return reduce(t)
        finally:
            spent[0] += time.process_time() - start

    values._reduce = timed
    try:
        nodes = gradstep_run(source)
    finally:
        values._reduce = reduce
    REDUCED.append(spent[0])
    return nodes


VARIANTS["profile"] = profiled_run


def reads_run(source: str) -> int:
    """``plain_run`` whose walk also reads, for every node, what gradstep's trace reads
    through torch's bindings (no gradstep code): the node's name, sequence number and
    first output's metadata, each saved tensor's ``_raw_saved_*`` slot, its data and
    hook, the saved tensor unpacked (``_saved_*``, as gradstep does for its value), the
    plain saved attributes, and a leaf's variable. What gradstep adds above this and
    the summaries' reductions is its own bookkeeping."""
    import torch

    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(compile(source, "<bench>", "exec"), namespace)
    root = namespace["loss"].grad_fn
    names_of: dict = {}
    seen, stack = {root}, [root]
    while stack:
        fn = stack.pop()
        _read_node(fn, names_of)
        for nxt, _ in fn.next_functions:
            if nxt is not None and nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return len(seen)


def _read_node(fn, names_of: dict) -> None:
    node_type = type(fn)  # as the trace reads them (safe_reads, trace.node_key)
    node_type.name(fn)
    if node_type.__name__ == "AccumulateGrad":
        variable = fn.variable
        variable.shape, variable.dtype, variable.device  # noqa: B018
        return
    node_type._sequence_nr(fn)
    metadata = fn._input_metadata
    if metadata:
        metadata[0].shape, metadata[0].dtype, metadata[0].device  # noqa: B018
    names = names_of.get(type(fn))
    if names is None:
        attrs = dir(type(fn))
        raw = tuple(a for a in attrs if a.startswith("_raw_saved_"))
        plain = tuple(a for a in attrs if a.startswith("_saved_") and "_raw" + a not in attrs)
        names = names_of[type(fn)] = raw, plain
    for attr in names[0]:
        slots = getattr(fn, attr)
        for slot in slots if isinstance(slots, (list, tuple)) else (slots,):
            if slot is not None and slot.unpack_hook is None and slot.data is not None:
                slot.data.shape, slot.data.dtype  # noqa: B018
                getattr(fn, attr.replace("_raw_saved_", "_saved_", 1))
    for attr in names[1]:
        getattr(fn, attr)


VARIANTS["reads"] = reads_run


def child(variant: str, layers: int, repeat: int) -> dict:
    """Measure one variant in this (fresh) process; return the figures."""
    import torch  # imported before the baseline on purpose

    import gradstep.autograd.session  # noqa: F401

    torch.set_num_threads(1)

    run = VARIANTS[variant]
    source = SNIPPET.format(layers=layers)
    before = peak_rss_mb()
    cpu, wall, nodes = [], [], 0
    for i in range(repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        nodes = run(source)
        cpu.append(time.process_time() - start_cpu)
        wall.append(time.perf_counter() - start)
        if i == 0:
            peak = peak_rss_mb()
    fastest = cpu.index(min(cpu))
    return {"variant": variant, "cpu": min(cpu), "wall": min(wall),
            "peak_growth_mb": peak - before, "peak_mb": peak, "nodes": nodes,
            "reduced": REDUCED[fastest] if REDUCED else None}


def measure(variant: str, layers: int, repeat: int) -> dict:
    cmd = [sys.executable, __file__, "--child", variant, "--layers", str(layers),
           "--repeat", str(repeat)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=3, help="runs per process")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per variant")
    parser.add_argument("--child", choices=tuple(VARIANTS))
    args = parser.parse_args()
    if args.child:
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(args.child, args.layers, args.repeat)))
        return
    # Variants take turns, each round in fresh processes, and the best round
    # counts: on a shared machine the load changes within a minute.
    best: dict[str, dict] = {}
    for _ in range(args.rounds):
        for variant in VARIANTS:
            row = measure(variant, args.layers, args.repeat)
            if variant not in best or row["cpu"] < best[variant]["cpu"]:
                best[variant] = row
    plain, rows = best["plain"], [best["gradstep"], best["deep"]]
    reduced = best["profile"]["reduced"]
    print(f"{args.layers}-layer TransformerEncoder, {rows[0]['nodes']} graph nodes "
          f"(plain walk found {plain['nodes']})")
    for row in (plain, *rows):
        print(f"  {row['variant']:9s} cpu {row['cpu']:.3f} s  wall {row['wall']:.3f} s"
              f"   peak RSS growth {row['peak_growth_mb']:.1f} MB (peak {row['peak_mb']:.0f} MB)")
    for row in rows:
        time_ratio = row["cpu"] / plain["cpu"]
        wall_ratio = row["wall"] / plain["wall"]
        mem_ratio = row["peak_growth_mb"] / max(plain["peak_growth_mb"], 1e-9)
        total_ratio = row["peak_mb"] / plain["peak_mb"]
        print(f"  {row['variant']}: time {time_ratio:.2f}x cpu, {wall_ratio:.2f}x wall "
              f"(target <= 2x); peak memory {mem_ratio:.2f}x of the growth, "
              f"{total_ratio:.2f}x of the whole process (target <= 1.5x)")
    print(f"  floor: torch's own reductions for the value summaries took {reduced:.3f} s of a "
          f"gradstep run (profile variant, {best['profile']['cpu']:.3f} s in all); plain + those "
          f"= {(plain['cpu'] + reduced) / plain['cpu']:.2f}x; the rest of gradstep's run, "
          f"{best['gradstep']['cpu'] - plain['cpu'] - reduced:.3f} s, is its own Python")
    reads = best["reads"]["cpu"] - plain["cpu"]
    floor = plain["cpu"] + reduced + reads
    print(f"  with torch's bindings: reading what the trace reads of every node took {reads:.3f} s "
          f"more than the plain walk (reads variant); plain + reductions + reads = "
          f"{floor / plain['cpu']:.2f}x; gradstep's own bookkeeping above that: "
          f"{best['gradstep']['cpu'] - floor:.3f} s ({(best['gradstep']['cpu'] - floor) / plain['cpu']:.2f}x plain)")


if __name__ == "__main__":
    main()
