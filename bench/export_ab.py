"""Before and after in one session: gradstep's own work in ``gradstep export -o x.svg``
from two source trees, rounds taking turns.

    .venv/bin/python bench/export_ab.py /path/to/old/tree --repeat 7 resnet50 chain5000

Each round runs the snippet ended with ``os._exit`` (as the kernel ends; see
``bench_export.py``), then the export from the old tree, then from this one; each
tree's added work is its CPU seconds (whole process tree, ``process_tree``) minus the
snippet's in that round, and the medians are printed. Make the old tree with
``git worktree add /tmp/old OLD`` (with this tree's ``.venv`` linked in): run from a
tree, ``python -m gradstep`` imports that tree's package.
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
QUICK_EXIT = ("import os, runpy, sys; sys.argv = [{path!r}]; "
              "runpy.run_path({path!r}, run_name='__main__'); sys.stdout.flush(); os._exit(0)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the other source tree (the 'before')")
    parser.add_argument("snippets", nargs="*", default=["resnet50", "chain5000", "transformer48"],
                        help="names in bench/snippets")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_intermixed_args()
    q, python = shlex.quote, sys.executable
    print(f"CPU seconds, medians of {args.repeat} rounds; added = export - snippet (os._exit)")
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.snippets:
            path = str(ROOT / "bench" / "snippets" / f"{name}.py")
            commands = {"snippet": f"{q(python)} -c {q(QUICK_EXIT.format(path=path))}"}
            for label, tree in (("old", args.old), ("new", str(ROOT))):
                out = Path(tmp) / f"{label}.svg"
                commands[label] = f"cd {q(tree)} && {q(python)} -m gradstep export {q(path)} -o {q(str(out))}"
            rounds = [{k: run_measured(c)["cpu"] for k, c in commands.items()}
                      for _ in range(args.repeat)]
            added = {k: median(r[k] - r["snippet"] for r in rounds) for k in ("old", "new")}
            print(f"{name:14s} snippet {median(r['snippet'] for r in rounds):5.2f}s  "
                  f"added work: old {added['old']:5.3f}s  new {added['new']:5.3f}s  "
                  f"({added['new'] - added['old']:+.3f}s)", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
