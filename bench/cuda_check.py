"""Run the conformance corpus on a device: gradstep's in-process core against plain torch.

    python bench/cuda_check.py [--device cuda] [--cases NAME,NAME] [--timeout S]

For each case of ``tests/conformance`` (its ``cases/`` and the seed lessons):

- plain: the oracle (``tests/conformance/oracle.py --device D``) runs the case
  after ``torch.set_default_device(D)`` and reads its output, exception, graph,
  engine step order per backward call, leaf grads and node values;
- gradstep: ``gradstep.autograd.session.Session().run(source, device=D, root=...,
  filename=...)`` in a fresh process (its own import-time output, no state
  shared between cases).

One line per case: ``case  same|DIFF <what>  time``, then a summary; a case
whose imports are missing here is ``skipped (no module X)``. Needs only torch,
networkx and numpy (no Qt, no pytest). Exit status 1 when a case differs.
Runs on ``--device cpu`` too (that is how it is tested without a GPU).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CONFORMANCE = ROOT / "tests" / "conformance"
sys.path.insert(0, str(CONFORMANCE))

import compare  # noqa: E402
import procs  # noqa: E402
from corpus import Case, select  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--cases", help="comma-separated parts of case names (default: all)")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per process")
    parser.add_argument("--gradstep-one", help=argparse.SUPPRESS)  # internal: one Session run
    parser.add_argument("--root", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.gradstep_one:
        return session_run(args.gradstep_one, args.device, args.root, args.out)
    counts = {"same": 0, "DIFF": 0, "skipped": 0}
    started = time.monotonic()
    for case in select(args.cases):
        verdict, line = check_case(case, args.device, args.timeout)
        counts[verdict] += 1
        print(line, flush=True)
    print(f"summary: {counts['same']} same, {counts['DIFF']} differ, {counts['skipped']} skipped "
          f"on {args.device} in {time.monotonic() - started:.1f} s", flush=True)
    return 1 if counts["DIFF"] else 0


def check_case(case: Case, device: str, timeout: float) -> tuple[str, str]:
    """Return ``(verdict, line)`` for one case: same, DIFF or skipped."""
    missing = missing_module(case)
    if missing:
        return "skipped", f"{case.name:32s} skipped (no module {missing})"
    start = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="cuda-check-") as folder:
        plain, facts = _oracle(case, device, timeout, os.path.join(folder, "oracle.json"))
        shown, gradstep_run = _gradstep(case, device, timeout, os.path.join(folder, "session.json"))
    seconds = time.monotonic() - start
    if facts is None or shown is None:
        failed = plain if facts is None else gradstep_run
        what = "oracle failed" if facts is None else "gradstep failed"
        tail = failed.output.strip().splitlines()[-1:] or ["(no output)"]
        return "DIFF", f"{case.name:32s} DIFF {what}: {tail[0][:120]}  {seconds:.1f}s"
    differences = differences_of(facts, shown)
    if not differences:
        return "same", f"{case.name:32s} same  {seconds:.1f}s"
    summary = ", ".join(f"{what} ({first[:100]})" for what, first in differences)
    return "DIFF", f"{case.name:32s} DIFF {summary}  {seconds:.1f}s"


def missing_module(case: Case) -> str | None:
    """Return the first heavy package the case imports that is not installed, or None."""
    return next((m for m in case.needs if importlib.util.find_spec(m) is None), None)


def differences_of(facts: dict, shown: dict) -> list[tuple[str, str]]:
    """Return ``[(what, first problem)]`` between the plain facts and gradstep's run."""
    minimal, observed = facts["minimal"], facts["observed"]
    text, exception = minimal["output"], minimal["exception"]  # the oracle prints no traceback
    checks = [
        ("output", compare.output_problems(text, shown.get("output") or "")),
        ("exception", compare.exception_problems(exception, 1 if exception else 0, shown)),
        ("graph", compare.graph_problems(minimal["graph"], shown.get("trace"))),
    ]
    if observed is not None:
        calls = shown.get("calls") or []
        checks.append(("steps", compare.steps_problems(observed["calls"], calls)))
        checks.append(("leaf grads", compare.leaf_grad_problems(observed["calls"], calls)))
    if compare.ids_align(minimal["graph"], shown.get("trace")):
        checks.append(("values", compare.value_problems(minimal, facts["values"],
                                                        shown.get("trace"))))
    checks.append(("oracle", [f"oracle bug: {d}" for d in facts["disagreements"]]))
    return [(what, problems[0].replace("\n", " ")) for what, problems in checks if problems]


def _oracle(case: Case, device: str, timeout: float, out: str):
    args = [procs.python(), str(CONFORMANCE / "oracle.py"), str(case.path), "--out", out,
            "--device", device]
    if case.root:
        args += ["--root", case.root]
    finished = procs.run(args, cwd=str(case.path.parent), timeout=timeout)
    return finished, _load(out)


def _gradstep(case: Case, device: str, timeout: float, out: str):
    args = [procs.python(), str(Path(__file__).resolve()), "--gradstep-one", str(case.path),
            "--device", device, "--out", out]
    if case.root:
        args += ["--root", case.root]
    env = procs.offline_environment()
    env["PYTHONPATH"] = str(ROOT)  # gradstep's own packages (the case folder is the cwd)
    finished = procs.run(args, cwd=str(case.path.parent), timeout=timeout, env=env)
    return _load(out), finished


def session_run(path: str, device: str, root: str | None, out: str) -> int:
    """Run one case through ``Session().run`` in this process; write its dict to ``out``."""
    from gradstep.autograd.session import Session

    source = Path(path).read_text(encoding="utf-8")
    result = Session().run(source, device=device, root=root, filename=str(Path(path).resolve()))
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


def _load(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


if __name__ == "__main__":
    sys.exit(main())
