"""The whole `gradstep export SNIPPET -o out.svg` against `torchviz make_dot | dot -Tsvg`.

    .venv/bin/python bench/bench_export.py                 # the model snippets in bench/snippets
    .venv/bin/python bench/bench_export.py path/to/snippet.py --root loss

Work is CPU seconds (user + system) of the whole process tree, measured with
getrusage of waited-for children: for gradstep that includes its kernel
process. The snippet's own run (`python SNIPPET`) is measured the same way and
subtracted from both, so the ratio compares what each tool adds on top of
running the model. Target: gradstep does at least 20x less work.
"""

from __future__ import annotations

import argparse
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
DEFAULT_SNIPPETS = ["transformer48.py", "resnet50.py", "transformer_layer.py"]

TORCHVIZ = """
import runpy, sys
from torchviz import make_dot
namespace = runpy.run_path({path!r})
sys.stdout.write(make_dot(namespace[{root!r}]).source)
"""


def run_measured(command: str) -> tuple[float, float]:
    """Run a shell command; return (CPU seconds of its process tree, wall seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(command, shell=True, cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {command}\n{done.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, wall


def best_of(command: str, repeat: int) -> tuple[float, float]:
    runs = [run_measured(command) for _ in range(repeat)]
    return min(r[0] for r in runs), min(r[1] for r in runs)


def bench(snippet: Path, root: str, repeat: int, out: Path) -> None:
    q = shlex.quote
    alone = best_of(f"{q(PYTHON)} {q(str(snippet))}", repeat)
    ours = best_of(f"{q(PYTHON)} -m gradstep export {q(str(snippet))} -o {q(str(out / 'ours.svg'))}",
                   repeat)
    script = out / "torchviz_make_dot.py"
    script.write_text(TORCHVIZ.format(path=str(snippet), root=root), encoding="utf-8")
    peer = best_of(f"{q(PYTHON)} {q(str(script))} | dot -Tsvg -o {q(str(out / 'torchviz.svg'))}",
                   repeat)
    ours_extra = max(ours[0] - alone[0], 1e-3)
    peer_extra = max(peer[0] - alone[0], 1e-3)
    print(f"{snippet.name:22s} snippet {alone[0]:6.2f}s  gradstep {ours[0]:6.2f}s "
          f"(wall {ours[1]:5.2f})  torchviz+dot {peer[0]:6.2f}s (wall {peer[1]:5.2f})  "
          f"added work: gradstep {ours_extra:5.2f}s, torchviz+dot {peer_extra:5.2f}s  "
          f"ratio {peer_extra / ours_extra:5.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("snippets", nargs="*", help="snippet files (default: bench/snippets models)")
    parser.add_argument("--root", default="loss", help="variable holding the root tensor")
    parser.add_argument("--repeat", type=int, default=1, help="runs per command (best kept)")
    args = parser.parse_args()
    paths = [Path(p).resolve() for p in args.snippets] or [
        ROOT / "bench" / "snippets" / name for name in DEFAULT_SNIPPETS]
    print("CPU seconds of the whole process tree; ratio = torchviz+dot added work / gradstep's")
    with tempfile.TemporaryDirectory() as tmp:
        for path in paths:
            bench(path, args.root, args.repeat, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
