"""What the Python API's pictures cost: each is drawn in a child process (no Qt in yours).

    .venv/bin/python bench/bench_api.py            # three graph sizes, 3 repeats each

For each graph it prints the wall and CPU seconds (the child's CPU from getrusage) of:
``trace`` (in this process), ``draw(...).svg`` (SVG and PNG, one child), ``save(.pdf)``
(one child), ``step_through(...)._repr_html_()`` given a timeline (all frames, one
child), and an empty child (Python plus Qt's import and a QApplication: the floor
every picture pays) and a bare Python start. Medians of the repeats. The machine is shared: compare CPU.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

import gradstep

FLOOR = ("import os; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
         "from PySide6 import QtWidgets, QtSvg, QtGui\n"
         "import networkx, numpy\n"
         "app = QtWidgets.QApplication(['x'])\n")


def graphs() -> dict:
    torch.manual_seed(0)
    w = torch.full([1], 2.0, requires_grad=True)
    small = nn.functional.mse_loss(torch.ones(1), torch.ones(1) * w)
    cnn = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3),
                        nn.ReLU(), nn.Flatten(), nn.LazyLinear(10))
    medium = nn.functional.cross_entropy(cnn(torch.randn(2, 3, 16, 16)), torch.tensor([1, 2]))
    layer = nn.TransformerEncoderLayer(32, 4, 64, dropout=0.0, batch_first=True)
    large = nn.TransformerEncoder(layer, 4, enable_nested_tensor=False)(torch.randn(2, 5, 32))
    return {"mse (3 nodes)": small, "small CNN": medium, "4 transformer layers": large.sum()}


def measured(action) -> tuple[float, float]:
    """Return (wall s, CPU s of this process and its children) of ``action()``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    start = time.perf_counter()
    action()
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN), resource.getrusage(resource.RUSAGE_SELF)
    cpu = sum(a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before))
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="gradstep-bench-"))
    floor = [measured(lambda: subprocess.run([sys.executable, "-c", FLOOR], check=True))
             for _ in range(args.repeats)]
    bare = [measured(lambda: subprocess.run([sys.executable, "-c", "pass"], check=True))
            for _ in range(args.repeats)]
    print(f"{'a bare Python process':48s} {_median(bare)}")
    print(f"{'a Python process with Qt and a QApplication':48s} {_median(floor)}")
    for name, root in graphs().items():
        report(name, root, folder, args.repeats)


def report(name: str, root, folder: Path, repeats: int) -> None:
    """Print the rows of one graph."""
    nodes = gradstep.trace(root).number_of_nodes()
    timeline = gradstep.backward(root)
    rows = {
        "trace": lambda: gradstep.trace(root),
        "draw: SVG + PNG": lambda: gradstep.draw(root).svg,
        "save .pdf": lambda: gradstep.draw(root).save(folder / "g.pdf"),
        "step_through HTML": lambda: gradstep.step_through(root, timeline=timeline).to_html(),
    }
    print(f"\n{name}: {nodes} nodes, {len(timeline['steps'])} backward steps")
    for label, action in rows.items():
        print(f"  {label:46s} {_median([measured(action) for _ in range(repeats)])}")
    view = gradstep.step_through(root, timeline=timeline)
    html = view.to_html()
    print(f"  {'step_through frames, HTML size':46s} {len(view.frames)} frames, "
          f"{len(html) / 1e3:.0f} kB")


def _median(samples: list[tuple[float, float]]) -> str:
    wall = statistics.median(s[0] for s in samples)
    cpu = statistics.median(s[1] for s in samples)
    return f"{wall:6.2f} s wall {cpu:6.2f} s CPU"


if __name__ == "__main__":
    main()
