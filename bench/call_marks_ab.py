"""Before and after in one process, in turns: what statehunt5's two readings cost.

``CallGraph.of`` (default): holding each op node's metadata dict (``CallGraph.marks``,
which tell a call's nodes from another thread's of the same number and name), on
``bench_backward.py``'s 48-layer transformer graph. "keys only" is main's ``ids``, "marks
read as None" ``CallGraph.of`` with the marks not read (the comprehension still runs: an
upper bound), "marks" the method as it is.

``--create-graph``: a recorded ``autograd.grad(loss, params, create_graph=True)`` on a
12-layer transformer (``run_recorded``), without and with ``build_marks.BuildMarks`` (a
pre-hook per node reading torch's counter as each step begins), fresh graphs each round.

    env PYTHONPATH=. .venv/bin/python bench/call_marks_ab.py [--rounds 40] [--create-graph]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_backward import build_model, forward  # noqa: E402

from gradstep.autograd import calls  # noqa: E402
from gradstep.autograd.backward import run_recorded  # noqa: E402
from gradstep.autograd.build_marks import BuildMarks  # noqa: E402
from gradstep.autograd.frame_names import graph_ids  # noqa: E402


def cpu(run) -> float:
    start = time.process_time()
    run()
    return time.process_time() - start


def call_graph_runs() -> tuple[dict, int]:
    model = build_model(48, 32)
    loss = forward(model, torch.randn(2, 8, 32))
    id_of = graph_ids([loss])
    marks_of = calls.mark_of

    def without():
        calls.mark_of = lambda fn: None
        try:
            return calls.CallGraph.of([loss], id_of, {})
        finally:
            calls.mark_of = marks_of

    def plain_keys():  # main's CallGraph.of: the keys only
        return {calls.node_key(fn): node_id for fn, node_id in id_of.items()}

    def with_marks():
        return calls.CallGraph.of([loss], id_of, {})

    return ({"keys only (main's ids)": plain_keys, "of, marks read as None": without,
             "of, marks (statehunt5)": with_marks}, len(id_of))


def create_graph_runs() -> tuple[dict, int]:
    model = build_model(12, 32)
    params = list(model.parameters())
    nodes = len(graph_ids([forward(model, torch.randn(2, 8, 32))]))

    def recorded(with_marks: bool):
        def run():  # the forward is outside the time: only the recorded pass is timed
            loss = forward(model, torch.randn(2, 8, 32))
            id_of = graph_ids([loss])
            marks = BuildMarks(id_of) if with_marks else None
            call = functools.partial(torch.autograd.grad, loss, params, create_graph=True)
            start = time.process_time()
            steps, _, exc, _ = run_recorded(call, id_of, marks=marks)
            spent = time.process_time() - start
            assert exc is None and (marks is None or marks.marks(0, 10**9, len(steps)))
            return spent
        return run

    return {"create_graph pass, no marks": recorded(False),
            "create_graph pass, marks (statehunt5)": recorded(True)}, nodes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--create-graph", action="store_true",
                        help="time a recorded create_graph pass with and without BuildMarks")
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.create_graph:
        runs, nodes = create_graph_runs()
        rounds = [[run() for run in runs.values()] for _ in range(args.rounds)]  # in turns
    else:
        runs, nodes = call_graph_runs()
        rounds = [[cpu(run) for run in runs.values()] for _ in range(args.rounds)]
    for name, spent in zip(runs, zip(*rounds)):
        print(f"{name}: {statistics.median(spent) * 1e3:.2f} ms CPU (median of {args.rounds}, "
              f"{nodes} nodes)")


if __name__ == "__main__":
    main()
