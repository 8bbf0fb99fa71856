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
* ``profile``: ``gradstep`` with torch's reductions for its value summaries timed (one
  value's, ``values._reduce``, and many values' as rows, ``value_rows.row_stats``);
* ``reads``: ``plain`` whose walk also reads, through torch's bindings, what the
  trace reads of every node (no gradstep code);
* ``floor``: ``reads`` whose walk also builds each node's record in plain dicts (the
  trace JSON's node fields, saved items, a value summary, edges; no gradstep code):
  the "Python floor", the cheapest faithful trace Python can be (``floor_run``).

Printed: the best of ``--rounds`` x ``--repeat`` runs in CPU seconds (``time.process_time``,
with torch limited to one thread, so other load on a shared machine does not
skew the ratio) and in wall seconds, and the peak RSS growth over the
process's RSS before the first run, with gradstep/plain ratios.
Targets: time within 2x, peak memory within 1.5x. The floor lines: plain + the
reductions (``profile``), plus the reads (``reads``); what gradstep spends above
that is its own bookkeeping (dicts, networkx, names, scopes, JSON, observation). The
Python floor line: ``floor`` with its stand-ins' reductions replaced by ``profile``'s;
what gradstep spends above that is what it adds to the records themselves.
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
    values = [node["value"] for node in result["trace"]["nodes"] if node["value"] is not None]
    small = sum(1 for value in values if "data" in value)
    VALUES[:] = [len(values) - small, small]
    return len(result["trace"]["nodes"])


def deep_run(source: str) -> int:
    """Like ``gradstep_run`` with ``--deep-values``."""
    return gradstep_run(source, deep=True)


VARIANTS = {"plain": plain_run, "gradstep": gradstep_run, "deep": deep_run}
VALUES = [0, 0]  # large and small values in gradstep's trace of the snippet (--values)
REDUCED: list = []  # CPU seconds in torch's reductions of the summaries, per run (profile)
FLOOR_REDUCED: list = []  # CPU seconds in the floor walk's own reductions, per run (floor)
TIMED: list = []  # how many reductions were timed, per run (profile, floor)


def profiled_run(source: str) -> int:
    """Like ``gradstep_run``, with the CPU time of torch's own reductions for the value
    summaries counted: one value's (``values._reduce``: ``aminmax``, ``mean``, ``std`` and
    their ``tolist``) and many values' as rows (``value_rows.row_stats``: the rows' copy,
    ``amin``, ``amax``, ``mean``, each tensor's ``std``, their ``tolist``; ``own_range``: a
    zero's sign, from the tensor's ``aminmax``). The numbers gradstep shows are torch's, so
    that time is the floor of a faithful trace."""
    from gradstep.autograd import value_rows, values

    spent = [0.0, 0]

    def timed(reduce):
        def timed_reduce(*args):
            start = time.process_time()
            try:
                return reduce(*args)
            finally:
                spent[0] += time.process_time() - start
                spent[1] += 1
        return timed_reduce

    functions = [(values, "_reduce"), (value_rows, "row_stats"), (value_rows, "own_range")]
    originals = [getattr(owner, name) for owner, name in functions]
    for (owner, name), reduce in zip(functions, originals):
        setattr(owner, name, timed(reduce))
    try:
        nodes = gradstep_run(source)
    finally:
        for (owner, name), reduce in zip(functions, originals):
            setattr(owner, name, reduce)
    REDUCED.append(spent[0])
    TIMED.append(spent[1])
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
FLOOR_VALUES = [0, 0]  # large and small values in gradstep's trace of the snippet (--values)
REDUCED: list = []  # CPU seconds in the floor walk's own reductions, per run


def floor_run(source: str) -> int:
    """The cheapest faithful trace Python can be (the "Python floor"): ``reads_run``'s
    walk, which also builds the record the trace JSON holds for every node, in plain
    dicts: id, name, kind, sequence number, output shape, dtype and device, the number
    of ``next_functions`` slots, the saved items (``{name, shape, dtype, freed}`` per
    saved tensor, ``{name, value}`` per plain saved attribute), a value summary
    (``{shape, dtype, device, min, max, mean, std, nan, inf}``, plus ``data`` up to 64
    elements) and an edge ``{source, target, slot, input_nr}`` per input. None of
    gradstep's own machinery: no networkx, no names, labels or scopes, no formula
    fields, no lines, no observation of the run, no JSON string.

    A bare walk cannot see an op's output tensor (gradstep records it while the snippet
    runs), so a node's summary is of a stand-in: a leaf's variable, an op's first saved
    tensor, else the snippet's ``out``; as many large (over 64 elements) and small ones
    as gradstep's trace has values (``VALUES``, from the ``gradstep`` variant's run), so
    the Python per summary is the same. The torch reductions of the stand-ins are timed
    (``FLOOR_REDUCED``) and the bench puts the profile variant's (gradstep's own values)
    in their place.
    """
    import torch

    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional}
    exec(compile(source, "<bench>", "exec"), namespace)
    reduced = [0.0, 0]
    budget = {"large": VALUES[0], "small": VALUES[1], "stand_in": namespace["out"]}
    root = namespace["loss"].grad_fn
    names_of: dict = {}
    ids, queue, records, edges = {root: "n0"}, [root], [], []
    with torch.no_grad():  # the summaries' reductions make no graph (no detach each)
        for fn in queue:  # breadth-first: the queue grows as it is read
            record = _floor_record(fn, ids[fn], names_of, reduced, torch.Tensor, budget)
            records.append(record)
            next_functions = fn.next_functions
            record["slots"] = len(next_functions)
            for slot, (nxt, input_nr) in enumerate(next_functions):
                if nxt is None:
                    continue
                target = ids.get(nxt)
                if target is None:
                    target = ids[nxt] = f"n{len(ids)}"
                    queue.append(nxt)
                edges.append({"source": record["id"], "target": target, "slot": slot,
                              "input_nr": input_nr})
    FLOOR_REDUCED.append(reduced[0])
    TIMED.append(reduced[1])
    FLOOR_RECORDS[:] = [records, edges]
    return len(records)


FLOOR_RECORDS: list = []  # the last floor run's (records, edges), to compare with the trace JSON


def _floor_record(fn, node_id: str, names_of: dict, reduced: list, tensor_type,
                  budget: dict) -> dict:
    node_type = type(fn)
    name = node_type.name(fn).removeprefix("torch::autograd::")
    if node_type.__name__ == "AccumulateGrad":
        variable = fn.variable
        return {"id": node_id, "name": name, "kind": "leaf", "seq": None,
                "shape": list(variable.shape), "dtype": _name(variable.dtype),
                "device": _device(variable.device), "value": _floor_value(variable, reduced, budget),
                "saved": []}
    seq = node_type._sequence_nr(fn)
    shape = dtype = device = None
    metadata = fn._input_metadata
    if metadata:
        meta = metadata[0]
        shape, dtype, device = list(meta.shape), _name(meta.dtype), _device(meta.device)
    names = names_of.get(node_type)
    if names is None:
        attrs = dir(node_type)
        raw = tuple(a for a in attrs if a.startswith("_raw_saved_"))
        plain = tuple(a for a in attrs if a.startswith("_saved_") and "_raw" + a not in attrs)
        names = names_of[node_type] = raw, plain
    saved, stand_in = [], None
    for attr in names[0]:
        slots = getattr(fn, attr)
        for slot in slots if isinstance(slots, (list, tuple)) else (slots,):
            if slot is not None and slot.unpack_hook is None and slot.data is not None:
                data = slot.data
                saved.append({"name": attr[11:], "shape": list(data.shape),
                              "dtype": _name(data.dtype), "freed": False})
                unpacked = getattr(fn, "_saved_" + attr[11:])
                if stand_in is None and isinstance(unpacked, tensor_type):
                    stand_in = unpacked
    for attr in names[1]:
        got = getattr(fn, attr)
        if got is not None:
            saved.append({"name": attr[7:], "value": list(got) if type(got) is tuple else got})
    value = _floor_value(budget["stand_in"] if stand_in is None else stand_in, reduced, budget)
    return {"id": node_id, "name": name, "kind": "op", "seq": seq, "shape": shape,
            "dtype": dtype, "device": device, "value": value, "saved": saved}


def _floor_value(t, reduced: list, budget: dict) -> dict | None:
    """``_floor_summary(t)`` while gradstep's trace has values of its size left, else None."""
    size = "small" if t.numel() <= 64 else "large"
    if budget[size] <= 0:
        return None
    budget[size] -= 1
    return _floor_summary(t, reduced)


def _name(dtype) -> str:
    """Return "float32" for torch.float32 (from a cache, as gradstep's ``dtype_name``)."""
    name = _NAMES.get(dtype)
    if name is None:
        name = _NAMES[dtype] = str(dtype)[6:]
    return name


def _device(device) -> str:
    name = _NAMES.get(device)
    if name is None:
        name = _NAMES[device] = str(device)
    return name


_NAMES: dict = {}


def _floor_summary(t, reduced: list) -> dict:
    """A value summary with torch's reductions (timed) above 64 elements, the data and
    Python's statistics of it at most 64."""
    out = {"shape": list(t.shape), "dtype": _name(t.dtype), "device": _device(t.device)}
    if t.numel() <= 64:
        data = t.tolist()
        flat = data if t.dim() == 1 else t.reshape(-1).tolist()
        n = len(flat)
        mean = sum(flat) / n if n else None
        var = sum([(x - mean) * (x - mean) for x in flat]) / (n - 1) if n > 1 else 0.0
        out.update(min=min(flat), max=max(flat), mean=mean, std=var ** 0.5, nan=0, inf=0,
                   data=data)
        return out
    import torch

    start = time.process_time()
    lo, hi = torch.aminmax(t)
    stats = torch.stack([lo, hi, t.mean(), t.std()]).tolist()
    reduced[0] += time.process_time() - start
    reduced[1] += 1
    out.update(min=stats[0], max=stats[1], mean=stats[2], std=stats[3], nan=0, inf=0)
    return out


VARIANTS["floor"] = floor_run


def child(variant: str, layers: int, repeat: int) -> dict:
    """Measure one variant in this (fresh) process; return the figures."""
    # imported before the baseline on purpose; networkx too (the trace's graph: since item
    # 44 it is loaded at the first trace, not with the session's module)
    import networkx  # noqa: F401
    import torch

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
            "reduced": REDUCED[fastest] if REDUCED else None,
            "floor_reduced": FLOOR_REDUCED[fastest] if FLOOR_REDUCED else None,
            "timed": TIMED[fastest] if TIMED else 0, "timer_s": timer_cost(),
            "values": list(VALUES)}


def timer_cost(calls: int = 20000) -> float:
    """Return the CPU seconds of one ``time.process_time()`` call in this process."""
    start = time.process_time()
    for _ in range(calls):
        time.process_time()
    return (time.process_time() - start) / calls


def measure(variant: str, layers: int, repeat: int, values: list) -> dict:
    cmd = [sys.executable, __file__, "--child", variant, "--layers", str(layers),
           "--repeat", str(repeat), "--values", ",".join(map(str, values))]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=48)
    parser.add_argument("--repeat", type=int, default=3, help="runs per process")
    parser.add_argument("--rounds", type=int, default=3, help="fresh processes per variant")
    parser.add_argument("--child", choices=tuple(VARIANTS))
    parser.add_argument("--values", default="0,0",
                        help="(child) large,small values in gradstep's trace, for the floor")
    args = parser.parse_args()
    if args.child:
        VALUES[:] = [int(n) for n in args.values.split(",")]
        sys.path.insert(0, str(ROOT))
        print(json.dumps(child(args.child, args.layers, args.repeat)))
        return
    # Variants take turns, each round in fresh processes, and the best round
    # counts: on a shared machine the load changes within a minute.
    best: dict[str, dict] = {}
    values = [0, 0]  # the gradstep variant's, handed to the floor variant
    for _ in range(args.rounds):
        for variant in VARIANTS:
            row = measure(variant, args.layers, args.repeat, values)
            if variant == "gradstep":
                values = row["values"]
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
    row, profile = best["floor"], best["profile"]
    # A timed reduction leaves about one timer call inside its time and one outside: the
    # floor's outside ones and gradstep's inside ones are no part of a trace.
    timers = row["timed"] * row["timer_s"] + profile["timed"] * profile["timer_s"]
    python_floor = row["cpu"] - row["floor_reduced"] + reduced - timers
    print(f"  Python floor: the walk that also builds each node's record in plain dicts (floor "
          f"variant: {row['cpu']:.3f} s, its stand-ins' reductions {row['floor_reduced']:.3f} s "
          f"replaced by gradstep's {reduced:.3f} s, {timers * 1000:.1f} ms of timer calls "
          f"taken off) = {python_floor:.3f} s, "
          f"{python_floor / plain['cpu']:.2f}x; gradstep above it: "
          f"{best['gradstep']['cpu'] - python_floor:.3f} s "
          f"({(best['gradstep']['cpu'] - python_floor) / plain['cpu']:.2f}x plain)")


if __name__ == "__main__":
    main()
