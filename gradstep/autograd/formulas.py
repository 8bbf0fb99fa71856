"""Each backward node's local gradient as a formula: torch's own, and a readable one.

Everything here works from a node's class name (``MulBackward0``), torch's
derivatives.yaml (``gradstep.autograd.derivatives``), the readable table
(``gradstep.autograd.formula_math``) and plain data handed in (a trace node's
``saved`` list). It never calls a graph node, unpacks a saved tensor or runs
user code, and it does not import torch.

- ``input_slots(name, slot_count=None)``: forward argument -> slot in ``next_functions``.
- ``node_formula(name, saved=None, slot_count=None)``: per input, torch's expression,
  the saved values it names (with their numbers when given) and the readable form.
- ``trace_formula_fields(node)``: the ``formula``, ``formula_math`` and
  ``formula_note`` fields for a trace-JSON node (docs/formulas.md).
- ``no_formula_reason(name)``: why a node has no formula, or None.
- ``custom_function_source(node_type)``: a custom ``autograd.Function``'s ``backward`` source.
"""

from __future__ import annotations

import inspect
import re
import textwrap

from gradstep.autograd import snippet_source
from gradstep.autograd.derivatives import BackwardEntry, load_table
from gradstep.autograd.formula_math import MathFormula, matching, node_math
from gradstep.autograd.formula_values import bind_names, saved_lookup, substitute
from gradstep.autograd.formula_words import NO_TABLE, UNREADABLE_SOURCE
from gradstep.i18n import N_

_PREFIX = "torch::autograd::"

# Nodes torch writes by hand (not from derivatives.yaml), and what they do instead.
_HAND_WRITTEN = {
    "AccumulateGrad": N_("a leaf's node: it adds the arriving gradient into the leaf tensor's .grad "
                         "(nothing to differentiate, so no formula)"),
    "CopySlices": N_("an in-place op on a view: it takes the gradient of the whole base tensor, runs "
                     "the in-place op's own backward on the slice the view covers, and passes the "
                     "rest through unchanged"),
    "GraphRoot": N_("the start of a backward pass: it hands the starting gradient (ones for a scalar "
                    "loss, or the gradient you passed) to the roots"),
    "Error": N_("stands in for a gradient torch cannot compute here: backward raises when it reaches "
                "this node"),
    "DelayedError": N_("stands in for a gradient torch cannot compute here: backward raises only if a "
                       "gradient actually reaches this node"),
    "NotImplemented": N_("torch has no derivative for this op: backward raises when it reaches this node"),
    "UndefinedGrad": N_("a testing node that makes the gradient undefined"),
    "UndefinedGradBackward": N_("a testing node that passes on an undefined gradient"),
    "CopyBackwards": N_("x.copy_(src), written by hand in torch: src gets the arriving gradient "
                        "(converted to src's dtype and device), the overwritten x gets 0"),
    "SendRpcBackward": N_("torch.distributed.rpc: sends the gradient back to the worker that made "
                          "the tensor"),
}
_HAND_WRITTEN_SLOTS = {"CopyBackwards": {"self": 0, "src": 1}}
# torchgen's names for the backward nodes it derives for _foreach ops without a yaml entry
_FOREACH = re.compile(r"Foreach[A-Z]\w*Backward\d+(List|Scalar|ScalarList|Tensor)?")
_PYTHON_FUNCTIONS = {
    "BackwardHookFunctionBackward": N_("nn.Module's full backward hooks "
                                       "(torch.utils.hooks.BackwardHookFunction): the identity, "
                                       "there so the module's hooks see the gradients"),
}


def plain_name(node_name: str) -> str:
    """Return ``node_name`` without torch's ``torch::autograd::`` prefix."""
    return node_name.removeprefix(_PREFIX)


def backward_entry(node_name: str) -> BackwardEntry | None:
    """Return derivatives.yaml's entry for a node class name, or None."""
    return load_table().entry(plain_name(node_name))


def input_slots(node_name: str, slot_count: int | None = None) -> dict[str, int | list[int]] | None:
    """Return ``{forward argument: slot in next_functions}`` for the inputs that get a gradient.

    ``MulBackward0`` -> ``{"self": 0, "other": 1}``. A tensor-list argument
    (``CatBackward0``'s ``tensors``) takes one slot per element, so it maps to a list
    of slots and needs ``slot_count`` (``len(node.next_functions)``) to be known;
    without it, or when a given count does not fit the entry, the answer is None. None also for
    nodes not made from derivatives.yaml (except ``CopyBackwards``). A slot whose
    ``next_functions`` entry is ``(None, 0)`` is an input that needed no gradient.
    """
    name = plain_name(node_name)
    entry = backward_entry(name)
    if entry is None:
        return dict(_HAND_WRITTEN_SLOTS[name]) if name in _HAND_WRITTEN_SLOTS else None
    lists = sum(1 for i in entry.inputs if i.is_list)
    if not lists:
        if slot_count is not None and slot_count != len(entry.inputs):
            return None  # not the node this entry describes: better no map than a wrong one
        return {i.name: index for index, i in enumerate(entry.inputs)}
    if slot_count is None:
        return None
    per_list, rest = divmod(slot_count - (len(entry.inputs) - lists), lists)
    if rest or per_list < 0:  # several lists are the same length (foreach ops) or it does not fit
        return None
    slots: dict[str, int | list[int]] = {}
    position = 0
    for item in entry.inputs:
        width = per_list if item.is_list else 1
        slots[item.name] = list(range(position, position + width)) if item.is_list else position
        position += width
    return slots


def no_formula_reason(node_name: str) -> str | None:
    """Return why a node has no derivatives.yaml formula, or None when it has one.

    Hand-written nodes (AccumulateGrad, CopySlices, GraphRoot, Error, ...) say
    what they do; a name ending in ``Backward`` with no number is taken for a
    custom ``torch.autograd.Function`` (``custom_function_source`` gives its code).
    """
    name = plain_name(node_name)
    table = load_table()
    if table.entry(name) is not None:
        return None
    if name in _HAND_WRITTEN:
        return _HAND_WRITTEN[name]
    if name in _PYTHON_FUNCTIONS:
        return _PYTHON_FUNCTIONS[name]
    if name.endswith("Backward"):
        return N_("a custom torch.autograd.Function: its backward is Python code "
                  "(shown as source where it can be read), not a formula from torch")
    if _FOREACH.fullmatch(name):
        return N_("a _foreach op on lists of tensors: torch builds its backward from the formula "
                  "of the single op (_foreach_mul from mul), item by item, and keeps no text "
                  "of its own for it")
    if table.unavailable:
        return NO_TABLE.format(reason=table.unavailable)
    return N_("not made from torch's derivatives.yaml, so torch has no formula text for it")


def node_formula(node_name: str, saved=None, *, slot_count: int | None = None) -> dict:
    """Return the local-gradient formulas of a node, as plain data.

    ``saved`` is the node's saved values as plain data: a trace node's ``saved``
    list (``[{"name": "other", "value": {...}}, ...]``) or ``{name: value}``. The
    result: ``name, available, reason, forward, signature, about, where, inputs,
    non_differentiable, outputs, output_differentiability``; each of ``inputs``
    (in slot order) is ``{input, slot, expression, evaluated, implemented,
    computed_with, gradients, names, substituted, math}`` (docs/formulas.md).
    """
    name = plain_name(node_name)
    entry = backward_entry(name)
    if entry is None:
        return {"name": name, "available": False, "reason": no_formula_reason(name), "inputs": []}
    lookup = saved_lookup(saved)
    math = node_math(name)
    slots = input_slots(name, slot_count) or {}
    inputs = []
    for item in entry.inputs:
        derivative = entry.derivative_for(item.name)
        names = bind_names(derivative.saved, lookup)
        inputs.append({
            "input": item.name,
            "slot": slots.get(item.name),
            "expression": derivative.formula,
            "evaluated": derivative.evaluated,
            "implemented": derivative.implemented,
            "computed_with": list(derivative.inputs) if len(derivative.inputs) > 1 else None,
            "gradients": list(derivative.gradients),
            "names": names,
            "substituted": substitute(derivative.formula, names),
            "math": [_math_form(f, entry, lookup) for f in _formulas_for(math, item.name, lookup)],
        })
    return {
        "name": name,
        "available": True,
        "reason": None,
        "forward": entry.forward,
        "signature": entry.schema,
        "about": math.about if math else None,
        "where": (math.where or None) if math else None,
        "inputs": inputs,
        "non_differentiable": list(entry.non_differentiable),
        "outputs": list(entry.outputs),
        "output_differentiability": list(entry.output_differentiability) or None,
    }


def _formulas_for(math, input_name: str, lookup: dict) -> list[MathFormula]:
    if math is None:
        return []
    plain = {key: found["value"] for key, found in lookup.items() if "value" in found}
    return matching(math, input_name, plain)


def _math_form(formula: MathFormula, entry: BackwardEntry, lookup: dict) -> dict:
    """Return one readable formula with its letters bound to saved values (or the gradient)."""
    hidden = {s.name for s in entry.saved if not s.exposed}  # kept by torch, not shown to Python
    symbols = {}
    for letter, source in formula.symbols.items():
        if source == "grad":
            symbols[letter] = {"gradient": "grad"}
            continue
        symbols[letter] = {"saved": source, **lookup.get(source, {})}
        if source in hidden:
            symbols[letter]["exposed"] = False
    return {"text": formula.text, "latex": formula.latex, "symbols": symbols,
            "numpy": formula.numpy, "when": dict(formula.when) or None}


def trace_formula_fields(node: dict) -> dict:
    """Return ``{"formula", "formula_math", "formula_note"}`` for a trace-JSON node dict.

    ``formula``: ``{input name: torch's expression}`` or None; ``formula_math``:
    ``{"about", "where", "inputs": {input name: {"text", "latex"}}}`` where a readable
    form is written, else None (of several variants, the one fitting the node's saved
    ``reduction``; when that is unknown, the first, which is the default ``mean``);
    ``formula_note``: why there is no formula, else None.
    """
    described = node_formula(node.get("name", ""), node.get("saved"))
    if not described["available"]:
        return {"formula": None, "formula_math": None, "formula_note": described["reason"]}
    formula = {i["input"]: i["expression"] for i in described["inputs"]}
    readable = {i["input"]: {"text": i["math"][0]["text"], "latex": i["math"][0]["latex"]}
                for i in described["inputs"] if i["math"]}
    formula_math = None
    if readable:
        formula_math = {"about": described["about"], "where": described["where"] or None, "inputs": readable}
    return {"formula": formula, "formula_math": formula_math, "formula_note": None}


def formula_fields_of(name: str, saved: list | None) -> dict:
    """Return ``trace_formula_fields`` for a node by class name and saved values, cached:
    the fields depend only on the class and its saved ``reduction`` (a trace has many
    nodes of one class)."""
    reduction = None
    for item in saved or ():  # a loop, not next(genexpr): ~2,000 nodes a trace ask
        if item.get("name") == "reduction":
            reduction = item.get("value")
            break
    key = (name, reduction if isinstance(reduction, (int, str)) else None)
    fields = _FIELDS.get(key)
    if fields is None:
        plain = [{"name": "reduction", "value": key[1]}] if key[1] is not None else []
        fields = _FIELDS[key] = trace_formula_fields({"name": name, "saved": plain})
    return fields


_FIELDS: dict = {}


def custom_function_source(node_type: type) -> dict | None:
    """Return the ``backward`` of the custom ``autograd.Function`` behind a node class.

    ``node_type`` is ``type(node)``; only the class is read (``_forward_cls.backward``),
    the node is never called. Returns ``{"function", "source", "file", "line", "reason"}``
    (``source`` None, with the reason, when Python cannot find the code), or None when
    ``node_type`` is not a custom Function's node.
    """
    forward_cls = getattr(node_type, "_forward_cls", None)
    if forward_cls is None:
        return None
    backward = inspect.getattr_static(forward_cls, "backward", None)
    backward = getattr(backward, "__func__", backward)  # a staticmethod object -> its function
    found = {"function": forward_cls.__qualname__, "source": None, "file": None, "line": None, "reason": None}
    try:
        with snippet_source.readable_by_inspect():  # one a -c or - snippet defines
            lines, first_line = inspect.getsourcelines(backward)
            file = inspect.getsourcefile(backward)
    except (OSError, TypeError) as exc:
        found["reason"] = UNREADABLE_SOURCE.format(function=forward_cls.__qualname__, error=exc)
        return found
    found.update(source=textwrap.dedent("".join(lines)), file=file, line=first_line)
    return found
