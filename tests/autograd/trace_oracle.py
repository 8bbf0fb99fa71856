"""An independent walk of torch's own grad_fn graph, to check traces against."""

from __future__ import annotations

import torch


def torch_graph(roots) -> tuple[list, list[tuple[int, int, int, int]]]:
    """Return ``(nodes, edges)``: grad_fn objects in breadth-first order from the roots
    and ``(source index, target index, slot, input_nr)`` for every non-None
    ``next_functions`` entry."""
    if isinstance(roots, torch.Tensor):
        roots = [roots]
    nodes: list = []
    index: dict = {}
    for root in roots:
        fn = root.grad_fn if isinstance(root, torch.Tensor) else root
        if fn not in index:
            index[fn] = len(nodes)
            nodes.append(fn)
    edges = []
    i = 0
    while i < len(nodes):
        fn = nodes[i]
        i += 1
        for slot, (nxt, input_nr) in enumerate(fn.next_functions):
            if nxt is None:
                continue
            if nxt not in index:
                index[nxt] = len(nodes)
                nodes.append(nxt)
            edges.append((index[fn], index[nxt], slot, input_nr))
    return nodes, edges


def assert_matches_torch(trace_json: dict, roots) -> list:
    """Assert the trace JSON has torch's nodes (names, kinds) and edges; return torch's nodes."""
    nodes, edges = torch_graph(roots)
    assert len(trace_json["nodes"]) == len(nodes)
    by_id = {n["id"]: n for n in trace_json["nodes"]}
    for i, fn in enumerate(nodes):
        node = by_id[f"n{i}"]
        # through the class: a custom Function's ctx may hold a `name` or `variable` of its own
        assert node["name"] == type(fn).name(fn).removeprefix("torch::autograd::")
        assert node["kind"] == ("leaf" if type(fn).__name__ == "AccumulateGrad" else "op")
    got = sorted((e["source"], e["target"], e["slot"], e["input_nr"]) for e in trace_json["edges"])
    want = sorted((f"n{s}", f"n{t}", slot, nr) for s, t, slot, nr in edges)
    assert got == want
    return nodes


def data_close(recorded, expected: torch.Tensor, tol: float = 1e-5) -> bool:
    """Return True when a recorded ``value["data"]`` equals ``expected`` (allclose)."""
    return torch.allclose(torch.tensor(recorded, dtype=torch.float64),
                          expected.detach().double(), atol=tol, rtol=tol)
