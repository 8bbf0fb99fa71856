"""The plain-torch oracle: what a case does, read without gradstep.

    python oracle.py CASE --root NAME --out FACTS.json [--device cpu|cuda]

Run with the case's folder as the working directory and ``PYTHONUNBUFFERED=1``
(as the conformance tests do). This process imports torch and the case's leading
imports once (``preload``), then runs the case in forked children, one per
observation level (``oracle_run.py``):

1. ``minimal``: nothing installed while the case runs (the graph from the root
   at the end, the leaves' values and ``.grad``, the output and exception).
2. ``full``: the settrace observer, saved-tensor reads and the profiler.
   Its output, exception, graph and leaf ``.grad`` must equal the minimal
   run's; otherwise it disturbed the case, and
3. ``light`` (no saved-tensor reads) is tried the same way, then ``quiet``
   (no profiler either, so no engine steps: for a case that runs its own
   profiler); if that disturbs the case too, no values or steps are reported.
4. ``mode``: the case under the ``TorchFunctionMode`` recorder (the output of
   every torch call), used only when its output, exception, graph and leaf
   ``.grad`` equal the minimal run's (a mode makes torch skip some fast paths);
   otherwise
5. ``mode_outside_modules`` (the mode off inside ``nn.Module`` calls, module
   outputs recorded by hooks) is tried the same way; if that disturbs the case
   too, node values come from the trace-function run only.

The node values of the used runs are merged (``oracle_values.merge``): a value
from either counts; where both have one and they differ, the node is left out
and the difference is listed in ``disagreements`` (an oracle bug).

FACTS.json: ``{"minimal": facts, "observed": facts or null, "observed_level",
"recorded": the mode run's facts or null, "values": {node id: {output_nr:
summary}}, "value_sources": {node id: {output_nr: [level names]}},
"disagreements": [...], "notes": [why a level was not used], "seconds": {level:
wall seconds of its child}}``; each facts dict also has ``output`` and
``seconds``. Nothing here imports gradstep.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import sys
import tempfile
import time
import traceback

os.environ.setdefault("KINETO_LOG_LEVEL", "6")  # the profiler logs to stderr otherwise

import oracle_run  # noqa: E402  (imports torch, after the environment is set)
from oracle_values import merge  # noqa: E402
from output_text import normalize  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("case")
    parser.add_argument("--root")
    parser.add_argument("--out", required=True)
    parser.add_argument("--device")
    parser.add_argument("--no-preload", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    case = os.path.abspath(args.case)
    if not args.no_preload and args.device is None and not preload(case):  # start again
        os.execv(sys.executable, [sys.executable, *sys.argv, "--no-preload"])
    result = observe_case(case, args.root, args.device)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle, allow_nan=True)
    return 0


def observe_case(case: str, root: str | None, device: str | None) -> dict:
    """Return the FACTS.json dict of ``case`` (see the module docstring)."""
    seconds: dict = {}

    def fork(level: str) -> dict:
        facts = run_forked(case, root, level, device)
        seconds[level] = facts["seconds"]
        return facts

    minimal = fork("minimal")
    notes: list = []
    result = {"minimal": minimal, "observed": None, "observed_level": None, "recorded": None,
              "values": {}, "value_sources": {}, "disagreements": [], "notes": notes,
              "seconds": seconds}
    if "oracle_error" in minimal:
        return result
    result["observed"] = first_undisturbed(("full", "light", "quiet"), fork, minimal, notes)
    result["observed_level"] = result["observed"] and result["observed"]["level"]
    if minimal["graph"] is not None:  # the values are those of its nodes: none without one
        result["recorded"] = first_undisturbed(("mode", "mode_outside_modules"), fork, minimal,
                                               notes)
        if result["recorded"] is None:
            notes.append(f"node values come from the {result['observed_level'] or 'no'} run only")
    sources = {facts["level"]: facts["values"] for facts in (result["observed"], result["recorded"])
               if facts is not None}
    result["values"], result["value_sources"], result["disagreements"] = merge(sources)
    return result


def preload(case: str) -> bool:
    """Run the case's leading imports (the import statements it starts with) here,
    before the forks: each level's child then finds those modules loaded, as the
    parent's torch, instead of importing transformers or torchvision again (~5 s of
    CPU a level for a HuggingFace case). The children's facts are the same (but their
    ``torch_calls`` count, which no longer holds the calls the imports make).

    Return False when the imports printed anything: that belongs to the case's own
    output (``main`` then starts the oracle again without preloading). An import that
    fails is left to fail in each child, where the case meets it. (Random state needs
    no check: each child inherits this process's, with or without the imports here.)"""
    with open(case, "rb") as handle:
        tree = ast.parse(handle.read())
    body = tree.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    leading = []
    for statement in body:
        if not isinstance(statement, (ast.Import, ast.ImportFrom)) or (
                isinstance(statement, ast.ImportFrom) and statement.level):
            break
        leading.append(statement)
    if not leading:
        return True
    saved_path = sys.path[0]
    sys.path[0] = os.path.dirname(case)  # where the case finds its own helper modules
    with tempfile.TemporaryDirectory(prefix="oracle-") as folder:
        output_path = os.path.join(folder, "output.txt")
        try:
            with oracle_run.output_to(output_path):
                exec(compile(ast.Module(leading, type_ignores=[]), case, "exec"),
                     {"__name__": "_preload"})
        except Exception:  # noqa: BLE001  each child meets the same failure as the case's own
            pass
        finally:
            sys.path[0] = saved_path
        return os.path.getsize(output_path) == 0


def first_undisturbed(levels, fork, minimal: dict, notes: list) -> dict | None:
    """Return the facts of the first level whose run equals the minimal one (or None),
    noting in ``notes`` why each level before it was not used."""
    for level in levels:
        facts = fork(level)
        problems = facts.get("oracle_error") or disturbance(minimal, facts)
        if not problems:
            return facts
        notes.append(f"level {level} not used: {problems}")
    return None


def disturbance(minimal: dict, facts: dict) -> str:
    """Return what differs between the minimal run and an observed one ("" when nothing)."""
    checks = (
        ("output", normalize(minimal["output"]), normalize(facts["output"])),
        ("exception", minimal["exception"], facts["exception"]),
        ("graph", minimal["graph"], facts["graph"]),
        ("leaf .grad", minimal["leaf_grads"], facts["leaf_grads"]),
    )
    return "; ".join(f"{what} differs" for what, a, b in checks if a != b)


def run_forked(case: str, root: str | None, level: str, device: str | None) -> dict:
    """Run one level in a forked child; return its facts with ``output``."""
    with tempfile.TemporaryDirectory(prefix="oracle-") as folder:
        output_path = os.path.join(folder, "output.txt")
        facts_path = os.path.join(folder, "facts.json")
        sys.stdout.flush()
        sys.stderr.flush()
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:  # the child: run, write the facts, leave without running our cleanup
            code = 0
            try:
                facts = oracle_run.run_level(case, root, level, output_path, device)
            except BaseException:
                facts, code = {"oracle_error": traceback.format_exc()}, 3
            try:
                with open(facts_path, "w", encoding="utf-8") as handle:
                    json.dump(facts, handle, allow_nan=True)
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        facts = _read_json(facts_path)
        if facts is None:
            facts = {"oracle_error": f"level {level}: the child ended without facts "
                                     f"(wait status {status})"}
        facts["output"] = _read_text(output_path)
        facts["seconds"] = round(time.monotonic() - start, 2)
        return facts


def _read_json(path: str):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except OSError:
        return ""


if __name__ == "__main__":
    sys.exit(main())
