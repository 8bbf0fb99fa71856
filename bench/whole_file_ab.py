"""Before and after in one process, in turns: what writing an export whole costs
(``policies.whole_file.replacing``: a temporary file beside it, then ``os.replace``) against
writing the file in place, as main did. The layout is computed once;
each round writes the same graph as SVG and as JSON each way (the third: whole and synced to
the disk first, what an ``fsync`` would add: not done).

    env PYTHONPATH=. .venv/bin/python bench/whole_file_ab.py [--nodes 2000] [--rounds 30]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import tempfile
import time
from pathlib import Path

from gradstep.drawing import files, samples
from gradstep.drawing.files import compute_layout, write_text_file
from gradstep.policies import whole_file


@contextlib.contextmanager
def in_place(path):  # main's way: the file itself is opened and written
    yield Path(path)


@contextlib.contextmanager
def synced(path):  # whole, and waiting for the disk before the replace (not done: its cost)
    real_replace = whole_file.os.replace

    def replace(temp, target):
        handle = os.open(temp, os.O_RDONLY)
        try:
            os.fsync(handle)
        finally:
            os.close(handle)
        real_replace(temp, target)

    whole_file.os.replace = replace
    try:
        with whole_file.replacing(path) as into:
            yield into
    finally:
        whole_file.os.replace = real_replace


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--nodes", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    graph = samples.chain(args.nodes)
    lay = compute_layout(graph)
    whole = files.replacing
    ways = {"in place (main)": in_place, "whole (temporary + replace)": whole,
            "whole, synced (fsync before the replace)": synced}
    times: dict = {name: {".svg": [], ".json": []} for name in ways}
    with tempfile.TemporaryDirectory() as folder:
        for _ in range(args.rounds):
            for name, way in ways.items():
                files.replacing = way
                for suffix in (".svg", ".json"):
                    path = Path(folder) / f"g{suffix}"
                    started = time.perf_counter()
                    write_text_file(graph, path, layout=lay)
                    times[name][suffix].append(time.perf_counter() - started)
        size = {s: (Path(folder) / f"g{s}").stat().st_size for s in (".svg", ".json")}
    files.replacing = whole
    for name, by_suffix in times.items():
        print(name, ", ".join(f"{s} ({size[s] / 1e6:.2f} MB) median {statistics.median(t) * 1e3:.2f} ms"
                              for s, t in by_suffix.items()))
    for suffix in (".svg", ".json"):
        old, new, synced_ = (statistics.median(times[n][suffix]) for n in ways)
        print(f"{suffix}: whole / in place = {new / old:.3f} (+{(new - old) * 1e3:.2f} ms); "
              f"synced {synced_ / old:.3f} (+{(synced_ - old) * 1e3:.2f} ms)")


if __name__ == "__main__":
    main()
