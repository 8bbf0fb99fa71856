"""Check that a speed change left gradstep's output byte-identical.

Runs ``python -m gradstep backward/trace FILE --json`` (plus ``--retain-graph
--passes 2``, ``--passes 2`` and ``--mode grad`` on the small files) on every seed
lesson and bench snippet, from the tree it is started in, and writes each
command's stdout to ``OUT/<name>.<variant>.json`` and its stderr plus exit code
to ``.err``. With ``--against DIR`` it then compares every file with DIR's and
lists the ones that differ (a snippet that prints an object's address differs
in ``.err`` from run to run).

Make the "before" directory from a copy of the old commit
(``git archive OLD | tar -x -C /tmp/old``, then run this script there): run
from a tree, ``python -m gradstep`` uses that tree's package, whereas the
``gradstep`` console script imports whichever checkout the venv was installed from.

    .venv/bin/python bench/same_output.py OUT [--against BEFORE] [--big]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "gradstep" / "resources" / "examples").glob("*.py"))
SNIPPETS = ["chain5000", "resnet50", "transformer48", "transformer_layer"]
BIG = ["chain100k", "dag100k"]  # minutes each; only backward
VARIANTS = {"backward": ["backward"], "trace": ["trace"],
            "retain2": ["backward", "--retain-graph", "--passes", "2"],
            "passes2": ["backward", "--passes", "2"], "grad": ["backward", "--mode", "grad"]}
SMALL_ONLY = ("retain2", "passes2", "grad")


def runs(big: bool) -> list[tuple[Path, str]]:
    """Return every (file, variant) to run."""
    files = [*LESSONS, *(ROOT / "bench" / "snippets" / f"{name}.py" for name in SNIPPETS)]
    chosen = [(f, v) for f in files for v in VARIANTS
              if v not in SMALL_ONLY or f.stem in {p.stem for p in LESSONS} | {"transformer_layer"}]
    if big:
        chosen += [(ROOT / "bench" / "snippets" / f"{name}.py", "backward") for name in BIG]
    return chosen


def dump(out: Path, big: bool) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for path, variant in runs(big):
        command = [sys.executable, "-m", "gradstep", *VARIANTS[variant][:1],
                   str(path.relative_to(ROOT)), "--json", *VARIANTS[variant][1:]]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, check=False)
        stem = f"{path.stem}.{variant}"
        (out / f"{stem}.json").write_bytes(done.stdout)
        (out / f"{stem}.err").write_bytes(done.stderr + f"rc={done.returncode}\n".encode())


def compare(out: Path, before: Path) -> int:
    """Print the files of ``out`` that differ from ``before``'s; return how many."""
    names = sorted(p.name for p in out.iterdir())
    differ = [n for n in names if not (before / n).exists()
              or (before / n).read_bytes() != (out / n).read_bytes()]
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(names)} files, {len(names) - len(differ)} identical, {len(differ)} differ")
    return len(differ)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--against", type=Path, help="a directory this script wrote before")
    parser.add_argument("--big", action="store_true", help="also the 100,000-node snippets")
    args = parser.parse_args(argv)
    dump(args.out, args.big)
    return 0 if args.against is None or compare(args.out, args.against) == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
