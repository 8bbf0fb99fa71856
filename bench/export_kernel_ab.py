"""The kernel's work in a small export, from two source trees in turns, in one process each.

    .venv/bin/python bench/export_kernel_ab.py /path/to/old/tree --repeat 6 resnet50 chain5000

``export_ab.py`` subtracts two ~1.5 s process trees per round, so at high load its
differences swing by ~0.1 s, as large as a change of ~0.1 s. This times only what the
command line kernel does for ``gradstep export -o x.svg`` once torch is imported, in a
fresh process per tree and round (CPU): gradstep's imports with the collector paused and
then frozen (as ``worker.start_session``), the run that keeps its graph (the snippet's
own work included, the same in both trees) and the SVG written from it. It prints the
medians and the per-round saving, and whether the two SVGs are the same bytes. The
command's own process is not in it (time its imports apart).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE = r'''
import gc, os, sys, time
sys.path.insert(0, sys.argv[1])
T = time.process_time
import torch
start = T()
gc.disable()
import gradstep.kernel.worker
from gradstep.autograd.session import Session
session = Session(capture_output=False)
gc.freeze()
gc.enable()
from gradstep.kernel import writing
source = open(sys.argv[2], encoding="utf-8").read()
writing.after_run(session.run(source, filename=sys.argv[2], keep_graph=True), True, session)
writing.write({"path": sys.argv[3]})
print(T() - start, flush=True)
os._exit(0)
'''


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the other source tree (the 'before')")
    parser.add_argument("snippets", nargs="*", default=["resnet50", "chain5000", "transformer48"],
                        help="names in bench/snippets")
    parser.add_argument("--repeat", type=int, default=6)
    parser.add_argument("--out", default="/tmp", help="folder for the two SVGs")
    args = parser.parse_intermixed_args()
    trees = {"old": args.old, "new": str(ROOT)}
    env = {"PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1"}
    print(f"CPU ms of the kernel's work after torch's import, medians of {args.repeat} rounds")
    for name in args.snippets:
        snippet = str(ROOT / "bench" / "snippets" / f"{name}.py")
        times: dict = {label: [] for label in trees}
        for _ in range(args.repeat):
            for label, tree in trees.items():
                out = str(Path(args.out) / f"kernel_ab_{label}.svg")
                done = subprocess.run([sys.executable, "-c", ONE, tree, snippet, out],
                                      capture_output=True, text=True, env=env, check=True)
                times[label].append(float(done.stdout.split()[-1]) * 1000)
        saved = [old - new for old, new in zip(times["old"], times["new"])]
        same = all(Path(args.out, f"kernel_ab_{label}.svg").read_bytes() ==
                   Path(args.out, "kernel_ab_old.svg").read_bytes() for label in trees)
        print(f"{name:14s} old {statistics.median(times['old']):6.1f}  new "
              f"{statistics.median(times['new']):6.1f}  saved per round {statistics.median(saved):5.1f} "
              f"(from {min(saved):.1f} to {max(saved):.1f}); the same SVG: {same}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
