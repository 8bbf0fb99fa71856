"""Compare what gradstep reported with what the plain run and the oracle saw.

Each function returns a list of problems, one readable sentence each (empty:
the same). Values: shape, dtype, NaN/Inf counts and small tensors' data must
be equal; min and max to 1e-6 relative (they are elements of the tensor);
mean and std to 1e-6 relative plus what float32 accumulation can add
(``2e-7 * max|x| * log2(n)``: gradstep sums in the tensor's dtype, the oracle
in float64).
"""

from __future__ import annotations

import difflib
import math
import re

from output_text import normalize

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_LABELLED = re.compile(r"(.*) \((n\d+)\)")
MAX_LISTED = 8


def output_problems(plain: str, shown: str) -> list[str]:
    """Return the differences between the plain output and gradstep's (addresses blanked)."""
    a, b = normalize(plain), normalize(shown)
    if a == b:
        return []
    diff = difflib.unified_diff(a.splitlines(), b.splitlines(), "python CASE", "gradstep",
                                lineterm="", n=1)
    lines = list(diff)
    more = f"\n... {len(lines) - 40} more diff lines" if len(lines) > 40 else ""
    return ["printed output differs:\n" + "\n".join(lines[:40]) + more]


def exception_problems(plain: dict | None, plain_code: int | None, result: dict) -> list[str]:
    """Return the differences between the plain run's exception and gradstep's error."""
    problems = []
    error = result.get("error") if not result.get("ok") else None
    if plain is None:
        if error is not None:
            problems.append(f"plain run raised nothing; gradstep reports {error.get('kind')} "
                            f"{error.get('type')}: {error.get('message')}")
        return problems
    if error is None:
        return [f"plain run raised {plain['type']}: {_first_line(plain['message'])}; "
                "gradstep reports no error"]
    plain_type = plain["type"].rsplit(".", 1)[-1]  # gradstep gives the bare class name
    if error.get("type") != plain_type:
        problems.append(f"exception type: plain {plain['type']}, gradstep {error.get('type')}")
    shown = error.get("detail") or error.get("message") or ""
    if shown.strip() != plain["message"].strip():
        problems.append(f"exception message: plain {plain['message']!r}, gradstep {shown!r}")
    if plain_code != result.get("exit_code"):
        problems.append(f"exit status: plain {plain_code}, gradstep {result.get('exit_code')}")
    return problems


def graph_problems(expected: dict | None, trace: dict | None) -> list[str]:
    """Return the differences between the oracle's graph and gradstep's trace."""
    if expected is None or trace is None:
        if expected is None and trace is None:
            return []
        return [f"graph: torch has {'none' if expected is None else len(expected['nodes'])} "
                f"nodes, gradstep {'none' if trace is None else len(trace['nodes'])}"]
    problems = []
    names = {n["id"]: n["name"] for n in expected["nodes"]}
    shown = {n["id"]: n["name"] for n in trace["nodes"]}
    if len(names) != len(shown):
        problems.append(f"graph: torch has {len(names)} nodes, gradstep {len(shown)}")
    wrong = [f"{i}: torch {names.get(i)}, gradstep {shown.get(i)}"
             for i in sorted(set(names) | set(shown), key=_number) if names.get(i) != shown.get(i)]
    if wrong:
        problems.append(f"node names differ at {len(wrong)} ids: " + "; ".join(wrong[:MAX_LISTED]))
    kinds = [f"{n['id']}: {n.get('kind')}" for n in trace["nodes"]
             if n.get("kind") != ("leaf" if names.get(n["id"]) == "AccumulateGrad" else "op")]
    if kinds:  # a leaf is torch's AccumulateGrad node, and nothing else
        problems.append(f"node kinds differ from torch's at {len(kinds)} ids: " + "; ".join(kinds[:MAX_LISTED]))
    edges = sorted(tuple(e) for e in expected["edges"])
    shown_edges = sorted((e["source"], e["target"], e["slot"], e["input_nr"]) for e in trace["edges"])
    if edges != shown_edges:
        missing = sorted(set(edges) - set(shown_edges))
        extra = sorted(set(shown_edges) - set(edges))
        problems.append(f"edges (source, target, slot, input_nr) differ: {len(edges)} in torch, "
                        f"{len(shown_edges)} in gradstep; missing {missing[:MAX_LISTED]}, "
                        f"extra {extra[:MAX_LISTED]}")
    return problems


def ids_align(expected: dict | None, trace: dict | None) -> bool:
    """Return True when node ids name the same nodes in both graphs: the same node count
    and edges (the breadth-first numbering depends on the structure, not on the names)."""
    if expected is None or trace is None:
        return expected is None and trace is None
    edges = sorted(tuple(e) for e in expected["edges"])
    shown = sorted((e["source"], e["target"], e["slot"], e["input_nr"]) for e in trace["edges"])
    return len(expected["nodes"]) == len(trace["nodes"]) and edges == shown


def steps_problems(expected_calls: list, shown_calls: list) -> list[str]:
    """Return the differences in the backward calls made and each one's engine step order."""
    shown_calls = [c for c in shown_calls if c.get("api") != "skipped"]
    problems = []
    if len(expected_calls) != len(shown_calls):
        problems.append(f"the snippet made {len(expected_calls)} backward calls "
                        f"(lines {[c['line'] for c in expected_calls]}); gradstep recorded "
                        f"{len(shown_calls)} (lines {[c.get('line') for c in shown_calls]})")
    for expected, shown in zip(expected_calls, shown_calls):
        where = f"call {expected['index']} (line {expected['line']}, {expected['api']})"
        if (shown.get("line"), shown.get("api")) != (expected["line"], expected["api"]):
            problems.append(f"{where}: gradstep recorded line {shown.get('line')}, {shown.get('api')}")
        timeline = shown.get("timeline") or {}
        steps = [s.get("name") for s in timeline.get("steps") or []]
        if expected["steps"] is None:
            problems.append(f"{where}: the profiler saw no range for this call")
        elif steps != _without_graph_root(expected["steps"]):
            problems.append(f"{where}: engine order differs " + _first_difference(expected["steps"], steps))
    return problems


def _without_graph_root(steps: list) -> list:
    """torch's steps less the ``GraphRoot`` its engine makes and runs first inside a call
    from several roots (or none): no hook can reach it, so gradstep's steps start at the
    roots' own nodes (docs/fidelity.md, "A pass from several tensors at once has no
    ``GraphRoot`` step")."""
    return steps[1:] if steps[:1] == ["GraphRoot"] else steps


def leaf_grad_problems(expected_calls: list, shown_calls: list) -> list[str]:
    """Return the differences in the leaves' ``.grad`` after each call, and in what an
    ``autograd.grad`` call returned (gradstep's ``returned``, in input order)."""
    problems = []
    shown_calls = [c for c in shown_calls if c.get("api") != "skipped"]
    for expected, shown in zip(expected_calls, shown_calls):
        where = f"call {expected['index']} (line {expected['line']})"
        names = [n.get("name") for n in shown.get("nodes") or []]
        if _leaf_ids(names) != _leaf_ids(expected["nodes"]):
            problems.append(f"{where}: the call's leaves are not where torch has them (torch "
                            f"{len(expected['nodes'])} nodes, gradstep {len(names)}); its grads "
                            "are not compared")
            continue
        timeline = shown.get("timeline") or {}
        shown_leaves = {_node_of_key(key, shown.get("nodes") or []) for key in timeline.get("leaf_grads") or {}}
        if expected["api"] != "torch.autograd.grad":  # .grad after backward: every leaf torch filled
            missing = sorted((node_id for node_id, grad in expected["leaf_grads"].items()
                              if grad is not None and node_id not in shown_leaves), key=_number)
            if missing:
                problems.append(f"{where}: torch filled the .grad of leaves {missing[:MAX_LISTED]}, "
                                "which gradstep does not show")
        for key, value in (timeline.get("leaf_grads") or {}).items():
            torch_value, found = _expected_grad(key, expected, shown)
            if not found:
                problems.append(f"{where}: gradstep shows a grad for {key!r}, which names no "
                                "leaf or input of the call (unverifiable)")
                continue
            for difference in compact_problems(torch_value, value):
                problems.append(f"{where}: grad of {key!r}: {difference}")
        problems += _returned_problems(where, expected, timeline)
    return problems


def _returned_problems(where: str, expected: dict, timeline: dict) -> list[str]:
    """Return the differences between what autograd.grad returned and gradstep's ``returned``."""
    results = expected.get("grad_results")
    shown = timeline.get("returned")
    if results is None:
        return [] if shown is None else [f"{where}: gradstep shows returned values for a call "
                                         "that is not autograd.grad"]
    if shown is None or len(shown) != len(results):
        return [f"{where}: autograd.grad returned {len(results)} gradients, gradstep shows "
                f"{'none' if shown is None else len(shown)}"]
    problems = []
    for i, (item, value) in enumerate(zip(results, shown)):
        for difference in compact_problems(item["value"], value):
            problems.append(f"{where}: returned[{i}]: {difference}")
    return problems


def value_problems(minimal: dict, op_values: dict, trace: dict | None) -> list[str]:
    """Return the nodes whose shown value differs from torch's, then (in one sentence)
    those whose value the oracle cannot check. ``op_values`` are the oracle's merged
    node values (FACTS.json ``values``)."""
    if trace is None:
        return []
    leaf_values = minimal.get("leaf_values", {})
    problems, unverifiable = [], []
    for node in trace["nodes"]:
        shown = node.get("value")
        if shown is None:
            continue
        where = f"node {node['id']} ({node['name']}, {node.get('label')})"
        if node.get("kind") == "leaf":
            expected = {"0": leaf_values[node["id"]]} if node["id"] in leaf_values else {}
        else:
            expected = op_values.get(node["id"], {})
        outputs = shown.get("outputs")
        pairs = [("0", shown)] if outputs is None else [
            (str(i), v) for i, v in enumerate(outputs) if v is not None]
        if outputs is not None and outputs[0] is None:
            pairs.append(("0", shown))  # the node's value is output 0's whatever "outputs" says
        for output_nr, value in pairs:
            if output_nr not in expected:
                unverifiable.append(f"{node['id']} {node['name']}"
                                    + ("" if output_nr == "0" else f" output {output_nr}"))
                continue
            for difference in summary_problems(expected[output_nr], value):
                problems.append(f"WRONG value: {where} output {output_nr}: {difference}")
    if unverifiable:
        listed = ", ".join(unverifiable[:30]) + (", ..." if len(unverifiable) > 30 else "")
        problems.append(f"unverifiable values shown on {len(unverifiable)} nodes (the oracle has "
                        f"no independent value for them): {listed}")
    return problems


# ---------------------------------------------------------------- values


def summary_problems(expected: dict, shown: dict) -> list[str]:
    """Return how a shown summary differs from torch's (fields the oracle lacks: unverifiable)."""
    problems = []
    for key in ("shape", "dtype", "nan", "inf"):
        if key in shown and shown[key] != expected.get(key):
            problems.append(f"{key}: shown {shown[key]}, torch {expected.get(key)}")
    if "data" in shown:
        if "data" not in expected:
            problems.append("data shown, torch's data unknown (unverifiable)")
        elif not same_data(expected["data"], shown["data"]):
            problems.append(f"data: shown {_short(shown['data'])}, torch {_short(expected['data'])}")
    magnitude = max((abs(x) for x in (expected.get("min"), expected.get("max")) if x is not None),
                    default=0.0)
    count = math.prod(expected.get("shape") or [1])
    slack = 2e-7 * magnitude * max(1.0, math.log2(max(count, 1)))
    for key in ("min", "max", "mean", "std"):
        if key not in shown:
            continue
        a, b = _number_of(expected.get(key)), _number_of(shown[key])
        extra = slack if key in ("mean", "std") else 0.0
        if not _close(a, b, extra):
            problems.append(f"{key}: shown {b!r}, torch {a!r}")
    return problems


def compact_problems(expected: dict | None, shown) -> list[str]:
    """Compare a gradstep ``compact`` value (data, a summary, or None) with torch's summary."""
    if shown is None or expected is None:
        return [] if shown is expected else [f"shown {_short(shown)}, torch {_short(expected)}"]
    if isinstance(shown, dict):
        return summary_problems(expected, shown)
    if "data" not in expected:
        return ["data shown, torch's data unknown (unverifiable)"]
    if not same_data(expected["data"], shown):
        return [f"shown {_short(shown)}, torch {_short(expected['data'])}"]
    return []


def same_data(a, b) -> bool:
    """Return True when two nested lists hold the same numbers (NaN equals NaN)."""
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(same_data(x, y) for x, y in zip(a, b)))
    x, y = _number_of(a), _number_of(b)
    if isinstance(x, float) and isinstance(y, float):
        return x == y or (math.isnan(x) and math.isnan(y))
    return x == y and type(x) is type(y)


def _number_of(x):
    return _NONFINITE.get(x, x) if isinstance(x, str) else x


def _close(a, b, extra: float) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= 1e-6 * max(abs(a), abs(b)) + extra


def _expected_grad(key: str, expected: dict, shown: dict):
    """Return ``(torch's value for gradstep's leaf_grads key, found)``."""
    node_id = _node_of_key(key, shown.get("nodes") or [])
    if node_id in expected["leaf_grads"]:
        return expected["leaf_grads"][node_id], True
    return None, False


def _leaf_ids(names: list) -> list[int]:
    """Return the positions (node ids) of the AccumulateGrad nodes of a call's graph."""
    return [i for i, name in enumerate(names) if name == "AccumulateGrad"]


def _node_of_key(key: str, nodes: list) -> str | None:
    """Return the oracle's id (``n`` and the node's position in the call's own walk) of
    the node gradstep's ``leaf_grads`` key names. gradstep's ids are the call's own walk
    positions too, unless the call was drawn on the traced graph (``drawn``: its ids are
    the drawn graph's), so the key is found by gradstep's id and read back by position."""
    match = _LABELLED.fullmatch(key)
    if match:
        shown_id = match.group(2)
    else:
        ids = [n["id"] for n in nodes if n.get("label") == key]
        shown_id = ids[0] if len(ids) == 1 else key
    position = next((i for i, n in enumerate(nodes) if n["id"] == shown_id), None)
    return None if position is None else f"n{position}"


def _first_difference(expected: list, shown: list) -> str:
    at = next((i for i, (a, b) in enumerate(zip(expected, shown)) if a != b),
              min(len(expected), len(shown)))
    return (f"at step {at} of {len(expected)} (gradstep: {len(shown)} steps): torch "
            f"{expected[at:at + 4]}, gradstep {shown[at:at + 4]}")


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


def _number(node_id: str) -> int:
    return int(node_id[1:]) if node_id[1:].isdigit() else -1


def _short(value, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"
