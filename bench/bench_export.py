"""The whole `gradstep export SNIPPET -o out.svg` against `torchviz make_dot | dot -Tsvg`.

    .venv/bin/python bench/bench_export.py                 # the model snippets in bench/snippets
    .venv/bin/python bench/bench_export.py path/to/snippet.py --root loss --repeat 3

Work is CPU seconds (user + system) of the whole process tree (``process_tree``: the
kernel process included). The snippet's own run (`python SNIPPET`) is measured the same
way, in turn with the two tools, and subtracted from both in each round (the medians
over ``--repeat`` rounds are printed), so the ratio
compares what each tool adds on top of running the model: gradstep's added work /
torchviz + dot's added work. Targets (issue 14): ResNet-50 <= 0.5, the 5,000-op chain
<= 0.25, the 48-layer transformer <= 0.05. Peak RSS is the largest single process.

gradstep's kernel ends with ``os._exit`` (``kernel/worker.py``): it skips the
interpreter's teardown (freeing the model, the modules, torch's exit handlers), which
``python SNIPPET`` pays (~0.1-0.3 s). Subtracting ``python SNIPPET`` would count that
saving against gradstep's own work, so gradstep's added work is measured against the
snippet run the same way (``exit``: ``runpy`` then ``os._exit``); torchviz's script
tears down like ``python SNIPPET``, which stays its baseline. What the gradstep command
costs over ``python SNIPPET`` is printed too.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import tempfile
from pathlib import Path
from statistics import median

from process_tree import run_measured

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_SNIPPETS = ["transformer48.py", "resnet50.py", "chain5000.py", "transformer_layer.py"]

QUICK_EXIT = ("import os, runpy, sys; sys.argv = [{path!r}]; "
              "runpy.run_path({path!r}, run_name='__main__'); sys.stdout.flush(); os._exit(0)")

TORCHVIZ = """
import runpy, sys
sys.setrecursionlimit(1_000_000)
from torchviz import make_dot
namespace = runpy.run_path({path!r})
sys.stdout.write(make_dot(namespace[{root!r}]).source)
"""


def bench(snippet: Path, root: str, repeat: int, out: Path) -> None:
    q = shlex.quote
    script = out / "torchviz_make_dot.py"
    script.write_text(TORCHVIZ.format(path=str(snippet), root=root), encoding="utf-8")
    commands = {
        "alone": f"{q(PYTHON)} {q(str(snippet))}",
        "exit": f"{q(PYTHON)} -c {q(QUICK_EXIT.format(path=str(snippet)))}",
        "ours": f"{q(PYTHON)} -m gradstep export {q(str(snippet))} -o {q(str(out / 'ours.svg'))}",
        "peer": f"{q(PYTHON)} {q(str(script))} | dot -Tsvg -o {q(str(out / 'torchviz.svg'))}",
    }
    # The three commands take turns and each round's added work is its own difference:
    # on a shared machine the load drifts within a minute, which separate medians would
    # fold into the (small) differences.
    rounds = [{name: run_measured(command) for name, command in commands.items()}
              for _ in range(repeat)]
    alone, quick, ours, peer = (
        {key: median(r[name][key] for r in rounds) for key in rounds[0][name]} for name in commands)
    over_plain = median(r["ours"]["cpu"] - r["alone"]["cpu"] for r in rounds)
    ours_extra = max(median(r["ours"]["cpu"] - r["exit"]["cpu"] for r in rounds), 1e-3)
    peer_extra = max(median(r["peer"]["cpu"] - r["alone"]["cpu"] for r in rounds), 1e-3)
    print(f"{snippet.name:20s} snippet {alone['cpu']:5.2f}s (os._exit at its end {quick['cpu']:5.2f}s)  "
          f"gradstep {ours['cpu']:5.2f}s (wall {ours['wall']:5.2f}, peak {ours['peak_mb']:4.0f} MB)  "
          f"torchviz+dot {peer['cpu']:5.2f}s (wall {peer['wall']:5.2f})  added work: gradstep "
          f"{ours_extra:5.2f}s ({over_plain:+5.2f}s over python SNIPPET), torchviz+dot "
          f"{peer_extra:5.2f}s  ratio gradstep/peer {ours_extra / peer_extra:5.3f}x", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snippets", nargs="*", help="snippet files (default: bench/snippets models)")
    parser.add_argument("--root", default="loss", help="variable holding the root tensor")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (median kept)")
    args = parser.parse_args()
    paths = [Path(p).resolve() for p in args.snippets] or [
        ROOT / "bench" / "snippets" / name for name in DEFAULT_SNIPPETS]
    print(f"CPU seconds of the whole process tree, median of {args.repeat}; "
          "ratio = gradstep's added work / torchviz+dot's (lower is better)")
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            bench(path, args.root, args.repeat, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
