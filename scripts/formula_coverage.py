"""Print how many backward nodes have torch's formula and a readable one.

    .venv/bin/python scripts/formula_coverage.py            # classes, lessons, a few models
    .venv/bin/python scripts/formula_coverage.py --corpus   # + every conformance case (minutes)
    .venv/bin/python scripts/formula_coverage.py --corpus hf_gpt2,tv_resnet18   # some cases

Counts: the classes of derivatives.yaml and of torch._C._functions; the nodes of
the seed lessons (gradstep/resources/examples, traced through gradstep's Session); the nodes
of a few real models (tests/autograd/formula_models.py; ResNet-18 when torchvision
imports). Also the time the first use takes to read derivatives.yaml. With ``--corpus``,
every case of tests/conformance (and the lessons as cases) runs in a fresh gradstep
kernel, as the conformance suite runs it, and every op node of its drawn graph and of
its backward calls is counted: torch's formula, a readable one, custom Functions (their
backward's source is shown), hand-written nodes that say why they have none, and
unresolved ones (none expected).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def corpus_table(names: str | None) -> None:
    """Run the conformance cases in gradstep kernels and print their formula coverage."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "conformance"))
    from case_runs import run_gradstep
    from corpus import select

    from tests.autograd.formula_models import run_coverage

    keys = ("ops", "formula", "readable", "custom", "explained", "unresolved")
    print()
    print(f"{'conformance case':32} " + " ".join(f"{k:>10}" for k in keys) + "  seconds")
    totals = dict.fromkeys(keys, 0)
    missing: set = set()
    for case in select(names):
        try:
            result, seconds = run_gradstep(case)
        except Exception as exc:  # a case that cannot run here (a missing package) is named
            print(f"{case.name:32} could not run: {exc}")
            continue
        counts = run_coverage(result)
        for key in keys:
            totals[key] += counts[key]
        missing.update(counts["missing_readable"])
        print(f"{case.name:32} " + " ".join(f"{counts[k]:>10}" for k in keys) + f"  {seconds:7.1f}")
    print(f"{'all cases':32} " + " ".join(f"{totals[k]:>10}" for k in keys))
    print(f"op classes with torch's formula but no readable one: {', '.join(sorted(missing)) or 'none'}")


def main() -> None:
    started = time.perf_counter()
    from gradstep.autograd.derivatives import load_table

    table = load_table()
    print(f"derivatives.yaml: {table.path}")
    print(f"first load: {time.perf_counter() - started:.3f} s (yaml read and indexed: {table.load_seconds:.3f} s)")
    if table.unavailable:
        print(f"no formulas: {table.unavailable}")
        return

    import torch

    from gradstep.autograd.formulas import no_formula_reason
    from tests.autograd.formula_models import MODELS, coverage, lesson_node_names

    classes = [n for n in dir(torch._C._functions) if not n.startswith("__")]
    resolved = [n for n in classes if table.entry(n) is not None]
    print(f"torch {torch.__version__}: {len(table.entries)} backward classes in derivatives.yaml, "
          f"{len(classes)} node classes in torch._C._functions")
    print(f"  resolved to a yaml entry: {len(resolved)}/{len(classes)} "
          f"(the {len(classes) - len(resolved)} others are hand-written and explained: "
          f"{all(no_formula_reason(n) for n in classes if n not in resolved)})")
    print()
    print(f"{'graph':40} {'nodes':>6} {'ops':>5} {'formula':>8} {'readable':>9}  ops without a readable formula")
    rows = {f"lesson {name}": names for name, names in lesson_node_names().items()}
    for model, build in MODELS.items():
        nodes = build()
        rows[model] = None if nodes is None else [fn.name() for fn in nodes]
    for label, names in rows.items():
        if names is None:
            print(f"{label:40} skipped (torchvision is not importable)")
            continue
        c = coverage(names)
        print(f"{label:40} {c['nodes']:6} {c['ops']:5} {c['formula']:8} {c['readable']:9}  "
              f"{', '.join(c['missing_readable'])}")


if __name__ == "__main__":
    main()
    if "--corpus" in sys.argv:
        after = sys.argv[sys.argv.index("--corpus") + 1:]
        corpus_table(after[0] if after and not after[0].startswith("-") else None)
