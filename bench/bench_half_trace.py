"""Trace cost of a bfloat16 chain: ``Session().run`` of N steps on a 32- and a 1000-element tensor.

    .venv/bin/python bench/bench_half_trace.py [--steps 3000] [--repeat 5]

Each step is a ``mul`` and an ``add`` on each tensor (4N op nodes): half the values are
small (32 elements: their data, min, max, and torch's own ``t.mean()`` and ``t.std()``
in bfloat16 where the trace has at most ``values.SMALL_MEANS_LIMIT`` of them), half
large (1000: summaries). Printed: the best CPU seconds (``time.process_time``, torch on
one thread) of ``--repeat`` runs. Run it in turns on two trees to compare them.
"""

from __future__ import annotations

import argparse
import time

import torch

SNIPPET = """
import torch
a = torch.randn(32, dtype=torch.bfloat16, requires_grad=True)
b = torch.randn(1000, dtype=torch.bfloat16, requires_grad=True)
x, y = a, b
for i in range({steps}):
    x = x * 1.001 + 0.5
    y = y * 1.001 + 0.5
loss = x.sum() + y.sum()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    from gradstep.autograd.session import Session

    source = SNIPPET.format(steps=args.steps)
    best = float("inf")
    for _ in range(args.repeat):
        start = time.process_time()
        Session().run(source)
        best = min(best, time.process_time() - start)
    print(f"bfloat16 chain of {args.steps} steps ({4 * args.steps} op nodes): best {best:.3f} s CPU")


if __name__ == "__main__":
    main()
