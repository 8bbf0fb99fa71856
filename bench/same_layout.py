"""Check that a speed change left ``layout()``'s output bit for bit the same.

Lays out many graphs with the tree it is started in and writes, per graph, the
sha256 of everything the Layout holds (positions, sizes, routes, bounds, ranks,
pickled: floats to the last bit, dicts in their order) to ``OUT`` (JSON). With
``--against BEFORE`` it then lists the graphs whose hashes differ.

Graphs: the seed lessons and the bench snippets (traced here, each laid out top
down and left to right), the 10,000-node chain and random DAG of
``gradstep.drawing.samples``, its small multi-edge and scoped graphs, 70 random
layered DAGs of many sizes and widths, and 30 random directed graphs with cycles,
parallel edges and self-loops; ``--big`` adds the 100,000-node snippets (tracing
each takes seconds; run under ``ulimit -s unlimited``: freeing a 100,000-deep
autograd chain can overflow the C stack).

Make the "before" file from a checkout of the old commit (``git worktree add``):

    .venv/bin/python bench/same_layout.py /tmp/after.json --against /tmp/before.json
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import networkx as nx  # noqa: E402

from gradstep.drawing import samples  # noqa: E402
from gradstep.drawing.layout import layout  # noqa: E402

LESSONS = sorted((ROOT / "gradstep" / "resources" / "examples").glob("*.py"))
SNIPPETS = ["chain5000", "resnet50", "transformer48", "transformer_layer"]
BIG = ["dag100k", "chain100k"]


def traced(path: Path):
    """Return the traced graph of the snippet at ``path``, None when it has none."""
    from gradstep.autograd.serialize import graph_from_json
    from gradstep.autograd.session import Session

    result = Session().run(path.read_text(encoding="utf-8"), filename=path.name)
    return graph_from_json(result["trace"]) if result.get("ok") and result.get("trace") else None


def graphs(big: bool):
    """Yield (name, graph, rankdir) of every graph to lay out."""
    files = [*LESSONS, *(ROOT / "bench" / "snippets" / f"{name}.py" for name in SNIPPETS)]
    if big:
        files += [ROOT / "bench" / "snippets" / f"{name}.py" for name in BIG]
    for path in files:
        graph = traced(path)
        if graph is not None:
            yield path.stem, graph, "TB"
            yield f"{path.stem}.LR", graph, "LR"
    yield "chain10k", samples.chain(10_000), "TB"
    yield "dag10k", samples.layered_dag(10_000), "TB"
    yield "dag10k.LR", samples.layered_dag(10_000), "LR"
    yield "multi_edge", samples.multi_edge_graph(), "TB"
    yield "scoped_blocks", samples.scoped_blocks(60), "TB"
    rng = random.Random(1234)
    for seed in range(70):
        n = rng.choice([2, 3, 10, 50, 200, 1000, 3000, 6000, 20000])
        width = rng.choice([1, 2, 5, 30, 100, 400, 1200])
        reach = rng.choice([0, 1, 6, 30])
        yield (f"layered_dag{seed}_{n}_{width}_{reach}",
               samples.layered_dag(n, width=width, seed=seed, reach=reach), "TB")
    for seed in range(30):
        n = rng.choice([1, 2, 5, 20, 100, 500, 3000])
        m = rng.randint(0, 3 * n)
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(f"v{i}" for i in range(n))
        for _ in range(m):
            graph.add_edge(f"v{rng.randrange(n)}", f"v{rng.randrange(n)}")
        yield f"digraph{seed}_{n}_{m}", graph, "TB" if seed % 3 else "LR"
    yield "empty", nx.MultiDiGraph(), "TB"


def fingerprint(lay) -> str:
    """Return the sha256 of everything ``lay`` holds, floats to the last bit."""
    held = (list(lay.positions.items()), list(lay.sizes.items()), list(lay.routes.items()),
            lay.bounds, lay.rankdir, list(lay.ranks.items()))
    return hashlib.sha256(pickle.dumps(held, protocol=5)).hexdigest()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--against", type=Path, help="a file this script wrote before")
    parser.add_argument("--big", action="store_true", help="also the 100,000-node snippets")
    args = parser.parse_args(argv)
    hashes = {name: fingerprint(layout(graph, rankdir=rankdir))
              for name, graph, rankdir in graphs(args.big)}
    args.out.write_text(json.dumps(hashes, indent=1) + "\n", encoding="utf-8")
    if args.against is None:
        print(f"{len(hashes)} layouts")
        return 0
    before = json.loads(args.against.read_text(encoding="utf-8"))
    differ = sorted(name for name in hashes.keys() | before.keys()
                    if hashes.get(name) != before.get(name))
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(hashes)} layouts, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    raise SystemExit(main())
