"""100,000-node graphs: the whole `gradstep trace` and `gradstep export -o x.svg` commands.

    .venv/bin/python bench/bench_big.py [--repeat 3] [--peer-limit 300] [--only chain100k]

Two snippets in bench/snippets: ``chain100k.py`` (50,000 x ``y = y * 1.0001 + 0.001``,
100,002 nodes) and ``dag100k.py`` (a wide random DAG: 1,000 leaves, 50,000 x add + tanh
of two tensors picked at random). For each, the median of ``--repeat`` runs
(``process_tree``: CPU of the whole process tree, the kernel included; wall; the peak
RSS of the largest single process) of:

* ``python SNIPPET`` (the peer of the trace: the snippet run plainly);
* ``gradstep trace SNIPPET --json > /dev/null``: target <= 3x the plain run's CPU;
* ``gradstep export SNIPPET -o x.svg``: target <= 15 s wall and <= 1 GB;
  peer: ``torchviz make_dot | dot -Tsvg`` (killed after ``--peer-limit`` seconds).
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path

from bench_export import TORCHVIZ
from process_tree import median_of

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
SNIPPETS = ("chain100k", "dag100k")


def show(label: str, row: dict, peer: dict | None = None) -> str:
    if "timeout" in row:
        return f"  {label:34s} did not finish within {row['timeout']:.0f} s"
    text = (f"  {label:34s} cpu {row['cpu']:7.2f} s  wall {row['wall']:7.2f} s  "
            f"peak {row['peak_mb']:6.0f} MB")
    if peer is not None and "timeout" not in peer:
        text += f"   ratio {row['cpu'] / peer['cpu']:5.2f}x cpu, {row['wall'] / peer['wall']:5.2f}x wall"
    return text


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--peer-limit", type=float, default=300.0, metavar="SECONDS")
    parser.add_argument("--no-peer", action="store_true", help="skip torchviz + dot")
    parser.add_argument("--only", choices=SNIPPETS)
    args = parser.parse_args()
    q = shlex.quote
    print(f"median of {args.repeat} runs; CPU of the whole process tree")
    with tempfile.TemporaryDirectory() as tmp:
        for name in [args.only] if args.only else SNIPPETS:
            path = ROOT / "bench" / "snippets" / f"{name}.py"
            print(f"{name}:", flush=True)
            plain = median_of(f"{q(PYTHON)} {q(str(path))}", args.repeat)
            print(show("python SNIPPET (peer of trace)", plain), flush=True)
            trace = median_of(f"{q(PYTHON)} -m gradstep trace {q(str(path))} --json", args.repeat)
            print(show("gradstep trace --json", trace, plain) + "   (target <= 3x)", flush=True)
            svg = Path(tmp) / "ours.svg"
            export = median_of(f"{q(PYTHON)} -m gradstep export {q(str(path))} -o {q(str(svg))}",
                               args.repeat)
            print(show("gradstep export -o x.svg", export) + "   (target <= 15 s wall, <= 1 GB)",
                  flush=True)
            if args.no_peer:
                continue
            script = Path(tmp) / "torchviz_make_dot.py"
            script.write_text(TORCHVIZ.format(path=str(path), root="loss"), encoding="utf-8")
            peer = median_of(f"{q(PYTHON)} {q(str(script))} | dot -Tsvg -o {q(str(Path(tmp) / 'p.svg'))}",
                             1, limit=args.peer_limit)
            print(show("torchviz make_dot | dot -Tsvg", peer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
