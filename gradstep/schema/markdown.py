"""Write docs/schema.md from the records of ``gradstep.schema`` (the page is generated, never
edited by hand; tests/test_schema.py fails when it is out of date).

    python -m gradstep.schema.markdown > docs/schema.md
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from typing import Annotated, Any, Literal, Union

from gradstep.schema import errors, findings, graph, kernel, timeline
from gradstep.schema.validate import hints, is_record, strip

SECTIONS = [
    ("Errors", errors, ["ErrorRecord", "Message"]),
    ("The trace JSON (`gradstep trace --json`, a run's `trace`)", graph,
     ["TraceJSON", "TraceNode", "TraceEdge", "SavedEntry", "TensorSummary"]),
    ("Graph files (`gradstep export -o graph.json`)", graph,
     ["GraphFileJSON", "GraphFileNode", "GraphFileEdge"]),
    ("Backward passes (`gradstep backward --json`, a call's `timeline`)", timeline,
     ["PassRecord", "Step", "PassSummary", "CallRecord", "CallNode"]),
    ("Kernel requests", kernel, ["RunRequest", "BackwardRequest", "InspectRequest", "WriteRequest", "NoArguments"]),
    ("Kernel replies", kernel,
     ["RunReply", "BackwardReply", "InspectDetails", "CustomFunction", "InspectFailure", "Jacobian", "JacobianBlock",
      "VectorJacobianProduct", "GradStatsReply", "ParamStats", "ZeroGradReply", "ResetReply", "WriteReply"]),
    ("Findings (`gradstep check --json`)", findings, ["CheckJSON", "FindingJSON", "FlowRowJSON"]),
]

HEADER = """# The JSON shapes at gradstep's seams

Generated from `gradstep/schema/` by `python -m gradstep.schema.markdown > docs/schema.md`;
do not edit by hand (`tests/test_schema.py` checks the page is up to date, and checks real
replies of every request against these records). Every message between the kernel, the core,
the window and the command line is one of these records: plain, strict JSON (NaN and the
infinities as the strings `"NaN"`, `"Infinity"`, `"-Infinity"`: `gradstep/policies/strict_json.py`).
A field marked *optional* may be absent; a type `X | None` may be `null`.

A tensor's value (*TensorValue*) is either its data (a number, or nested lists like
`tolist()`; at most 64 elements) or a [TensorSummary](#tensorsummary).

Every request's reply keeps its shape when the request fails (a stop, a crash, a kernel that
could not start, an error inside gradstep): `gradstep.schema.kernel.failure_reply(method,
error)` gives it, with `error` set. Which record answers which request:

| request | arguments | reply |
| --- | --- | --- |
"""


def render() -> str:
    """Return the whole page."""
    out = [HEADER]
    for method, request in kernel.REQUESTS.items():
        reply = kernel.REPLIES[method]
        replies = " or ".join(_link(r) for r in typing.get_args(reply)) or _link(reply)
        out.append(f"| `{method}` | {_link(request)} | {replies} |\n")
    out.append("\nError kinds (`kind`): " + ", ".join(f"`{k}`" for k in errors.ERROR_KINDS) + ".\n")
    for title, module, names in SECTIONS:
        out.append(f"\n## {title}\n")
        for name in names:
            out.append(_record(getattr(module, name)))
    return "".join(out)


def _record(record: type) -> str:
    doc = inspect.cleandoc(record.__doc__ or "")
    lines = [f"\n### {record.__name__}\n\n"]
    if doc:
        lines.append(" ".join(doc.split()) + "\n\n")
    fields = hints(record)
    if not fields:
        return "".join(lines)
    lines.append("| field | type | meaning |\n| --- | --- | --- |\n")
    for key, kind in fields.items():
        optional = "" if key in record.__required_keys__ else " *optional*"
        lines.append(f"| `{key}`{optional} | {_type(kind)} | {_meaning(kind)} |\n")
    return "".join(lines)


def _meaning(kind: Any) -> str:
    notes = []
    while typing.get_origin(kind) is Annotated:
        notes += [str(m) for m in kind.__metadata__]
        kind = kind.__origin__
    return "; ".join(notes).replace("|", "\\|")


def _type(kind: Any) -> str:
    named = {id(graph.TensorData): "TensorData", id(graph.TensorValue): "TensorValue"}
    if id(kind) in named:
        return f"*{named[id(kind)]}*"
    kind = strip(kind)
    if kind is Any:
        return "any"
    if is_record(kind):
        return _link(kind)
    origin, args = typing.get_origin(kind), typing.get_args(kind)
    if origin is Literal:
        if args == errors.ERROR_KINDS:
            return "one of the error kinds above"
        return " \\| ".join(f"`{a}`" for a in args)
    if origin in (Union, types.UnionType):
        return " \\| ".join(_type(a) for a in args)
    if origin is list:
        return f"list of {_type(args[0])}" if args else "list"
    if origin is dict:
        return f"object of {_type(args[1])}" if args else "object"
    if kind is type(None):
        return "null"
    return {str: "string", int: "integer", float: "number", bool: "boolean", dict: "object",
            list: "list"}.get(kind, getattr(kind, "__name__", str(kind)))


def _link(record: type) -> str:
    return f"[{record.__name__}](#{record.__name__.lower()})"


if __name__ == "__main__":
    sys.stdout.write(render())
