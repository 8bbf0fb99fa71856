"""A node's local-gradient formulas at one step of a pass, as the window shows them.

Pure (no torch, no Qt): plain data in, plain data out. ``formulas_at`` joins what the
window knows about a node at a step — its trace attributes, its saved entries as torch
has them then (``step_state``: alive or freed), the values the kernel read
(``Session.inspect``: small saved tensors, also those a pass freed, remembered by
``saved_memory``), and the step's gradients — with ``formulas.node_formula``. Per input it
gives torch's expression, the same with the small numbers written in, the readable form
with each letter's meaning and value, and, where the readable form has a numpy twin and
every number is known, what that form gives for the gradient that arrived, next to what
torch sent (they agree: tests/autograd/test_formula_step.py checks it against torch).
The words in the readable forms and the notes are in the language shown
(``formula_words.worded``; the trace keeps them in English).
"""

from __future__ import annotations

import math

from gradstep.autograd.elements import flatten
from gradstep.autograd.formula_values import value_text
from gradstep.autograd.formula_words import worded
from gradstep.autograd.formulas import input_slots, no_formula_reason, node_formula
from gradstep.autograd.handler_raised import reraise_if_handlers
from gradstep.policies.complex_text import is_complex
from gradstep.policies.number_text import TORCH_WORDS, print_mode

SHOWN_NUMBERS = 8  # a value with more numbers is shown by its shape


def formulas_at(attrs: dict, saved: list | None = None, *, inspected: dict | None = None,
                step: dict | None = None, targets: dict | None = None,
                dtypes: dict | None = None, wired: list | None = None) -> dict:
    """Return what a node's formulas look like at a step.

    ``attrs``: the node's trace attributes (``name``, ``kind``, ``slots``,
    ``formula_note``); ``saved``: its saved entries at this step (alive or freed; None:
    the trace's); ``inspected``: ``Session.inspect``'s answer for this node (its
    ``saved`` values, ``custom_function``); ``step``: the node's step of the pass
    (``grad_outputs``, ``grad_inputs``); ``targets``: ``{slot: label of the node it
    feeds}``; ``dtypes``: ``{slot: dtype of the gradient it sends}``; ``wired``: the node's
    ``wired_slots``, which inputs count as getting a gradient where the step holds no
    ``grad_inputs`` (it raised: the caption's rule, ``flowing_inputs``). When any of these
    tensors is complex (the node's output, a saved one, a gradient sent) no number is
    written in and nothing evaluated: the JSON writes a complex number as a
    ``[real, imag]`` pair, which the real forms would read as two numbers. Returns
    ``{name, available, reason, about, where, custom, inputs}``; each
    input ``{input, slot, to, flows, implemented, expression, substituted, math,
    latex, letters, names, result}`` (``result``: ``{formula, torch, agrees}`` or None).
    """
    name = str(attrs.get("name") or "")
    entries = _merged(attrs.get("saved") if saved is None else saved, inspected)
    complex_numbers = _any_complex(attrs, entries, dtypes)
    if complex_numbers:
        entries = [_without_value(e) for e in entries]
    custom = (inspected or {}).get("custom_function")
    if custom and custom.get("reason"):
        custom = {**custom, "reason": worded(custom["reason"])}
    if attrs.get("kind") == "leaf":
        return _none(name, no_formula_reason("AccumulateGrad"), custom)
    described = node_formula(name, entries, slot_count=attrs.get("slots"))
    if not described["available"]:
        return _none(name, attrs.get("formula_note") or described["reason"], custom)
    arriving = None if complex_numbers else _first((step or {}).get("grad_outputs"))
    sent = (step or {}).get("grad_inputs")
    inputs = [_input(item, arriving, sent, targets or {}, evaluate=not complex_numbers,
                     reach=wired if sent is None else sent)
              for item in described["inputs"]]
    return {"name": name, "available": True, "reason": None, "about": worded(described["about"]),
            "where": worded(described["where"]), "custom": custom, "inputs": inputs}


def _none(name: str, reason: str | None, custom: dict | None) -> dict:
    return {"name": name, "available": False, "reason": worded(reason), "about": None, "where": None,
            "custom": custom, "inputs": []}


def _merged(entries, inspected: dict | None) -> list[dict]:
    """Return the step's saved entries with the values the kernel read added by name; the
    step decides alive or freed (a value read earlier stays true: saved tensors never change)."""
    values = {item.get("name"): item for item in (inspected or {}).get("saved") or ()
              if "value" in item}
    out = []
    for entry in entries or ():
        known = values.get(entry.get("name"))
        if known is not None and "value" not in entry:
            entry = {**known, "freed": bool(entry.get("freed")),
                     "remembered": bool(entry.get("freed") or known.get("remembered"))}
        out.append(entry)
    return out


def _any_complex(attrs: dict, entries: list[dict], dtypes: dict | None) -> bool:
    """Return True when the node's output, a saved tensor or a gradient it sends is complex."""
    named = [attrs.get("dtype"), *(e.get("dtype") for e in entries), *(dtypes or {}).values()]
    named += [e["value"].get("dtype") for e in entries if isinstance(e.get("value"), dict)]
    return any(is_complex(d) for d in named)


def _without_value(entry: dict) -> dict:
    """Return a saved entry with its numbers left out (its shape kept, as for a large one)."""
    if "value" not in entry or not isinstance(entry.get("value"), (list, dict)) and not (
            is_complex(entry.get("dtype"))):
        return entry
    out = {k: v for k, v in entry.items() if k != "value"}
    out["summary"] = {"shape": entry.get("shape")}
    return out


def gradient_flows(slot, sent) -> bool:
    """Return True when torch sends a gradient through ``slot`` (a slot, or a tensor-list
    input's list of slots) at a step whose ``grad_inputs`` are ``sent``: an input that needs
    none (its ``next_functions`` entry ``(None, 0)``, or a leaf without ``requires_grad``) gets
    None there. ``sent`` None (no step, or the step raised before torch sent anything): every
    input counts as flowing. The formula box and the step caption both ask this."""
    slots = slot if isinstance(slot, list) else [slot]
    return sent is None or any(isinstance(s, int) and s < len(sent) and sent[s] is not None
                               for s in slots)


def wired_slots(graph, node: str) -> list | None:
    """Return, per slot of ``node``'s ``next_functions``, True where it leads to a node of
    the graph and None where it is ``(None, 0)``: an input that needs no gradient, which
    torch never sends one (the trace draws an edge for every other slot). None where the
    graph does not hold the node. In ``gradient_flows``'s terms: what can ever be sent."""
    if graph is None or node not in graph:
        return None
    wired = [None] * int(graph.nodes[node].get("slots") or 0)
    for _, _, data in graph.out_edges(node, data=True):
        slot = data.get("slot")
        if isinstance(slot, int) and 0 <= slot < len(wired):
            wired[slot] = True
    return wired


def flowing_inputs(attrs: dict, step: dict | None, wired: list | None = None) -> set[str] | None:
    """Return the names of a node's inputs (``formula``'s keys) torch sends a gradient to at
    ``step`` (``gradient_flows``, each input's slot as ``node_formula`` gives it); without
    the step's gradients (no step, or the step raised), those ``wired`` can ever get one
    (``wired_slots``); None where every input counts (neither is known)."""
    sent = (step or {}).get("grad_inputs")
    if sent is None:
        sent = wired
    if sent is None:
        return None
    slots = input_slots(str(attrs.get("name") or ""), attrs.get("slots")) or {}
    return {name for name, slot in slots.items() if gradient_flows(slot, sent)}


def _input(item: dict, arriving, sent, targets: dict, evaluate: bool = True,
           reach: list | None = None) -> dict:
    """Return one input's part of ``formulas_at``: ``sent`` is torch's ``grad_inputs`` (the
    result's number), ``reach`` what decides whether a gradient flows to the input
    (``sent``, or where torch sent nothing the node's ``wired_slots``)."""
    slot = item["slot"]
    slots = slot if isinstance(slot, list) else [slot]
    flows = gradient_flows(slot, reach)
    first = item["math"][0] if item["math"] else None
    shown = {
        "input": item["input"], "slot": slot,
        "to": ", ".join(str(targets[s]) for s in slots if s in targets) or None,
        "flows": flows, "implemented": item["implemented"],
        "expression": item["expression"], "substituted": item["substituted"],
        "math": worded(first["text"]) if first else None, "latex": first["latex"] if first else None,
        "letters": _letters(first, arriving) if first else [],
        "names": [_name(text, bound) for text, bound in item["names"].items()],
        "result": None,
    }
    if (evaluate and first and first.get("numpy") and isinstance(slot, int) and sent is not None
            and flows):
        shown["result"] = _result(first, arriving, sent[slot] if slot < len(sent) else None)
    return shown


def _letters(formula: dict, arriving) -> list[dict]:
    """Return what each letter of a readable formula stands for, with its value."""
    letters = []
    for letter, source in formula["symbols"].items():
        if "gradient" in source:
            letters.append({"letter": letter, "means": "grad", "value": _text(arriving),
                            "shape": _shape(arriving) if arriving is not None else None,
                            "state": "arriving" if arriving is not None else "unknown"})
        else:
            letters.append({"letter": letter, "means": source["saved"], **_known(source)})
    return letters


def _name(text: str, bound: dict) -> dict:
    return {"text": text, "saved": bound["saved"], "exposed": bound.get("exposed", True),
            **_known(bound)}


def _known(bound: dict) -> dict:
    """Return ``{value, shape, state}``: the value as text (None when unknown or too many
    numbers: then its ``shape``) and alive / freed / remembered / hidden / unknown."""
    freed = bool(bound.get("freed"))
    if "value" in bound:
        text = _text(bound["value"])
        if text is not None and bound.get("tuple") and isinstance(bound["value"], list):
            text = _tuple_text(bound["value"])  # (2,), (2.5, 3.0): a Python tuple's repr
        shape = _shape(bound["value"]) if text is None else None
        return {"value": text, "shape": shape, "state": "remembered" if freed else "alive"}
    if "summary" in bound:
        return {"value": None, "shape": bound["summary"].get("shape"),
                "state": "freed" if freed else "alive"}
    if freed:
        return {"value": None, "shape": None, "state": "freed"}
    if bound.get("exposed") is False:
        return {"value": None, "shape": None, "state": "hidden"}
    return {"value": None, "shape": bound.get("shape"), "state": "unknown"}


def _result(formula: dict, arriving, torch_sent) -> dict | None:
    """Return what the readable form gives with these numbers, beside what torch sent."""
    from gradstep.autograd.gradient_numpy import evaluate

    values = {}
    for letter, source in formula["symbols"].items():
        value = arriving if "gradient" in source else source.get("value")
        if value is None or isinstance(value, dict):
            return None  # a number is missing (freed, large, not read): nothing to evaluate
        values[letter] = _numbers(value)
    try:
        got = evaluate(formula["numpy"], values).tolist()
    except Exception as exc:  # shapes the form does not cover: show no evaluation rather than a wrong one
        reraise_if_handlers(exc)
        return None
    agrees = torch_sent is not None and _close(got, torch_sent)
    sent = _text(torch_sent)
    # Worked out here in double, the last digits can differ from torch's float32 ones where
    # the snippet's set_printoptions(precision=6) shows them, and "= x, which is what torch
    # sent" would then write a number torch did not send: where the two are that rounding
    # apart, the numbers written are torch's. Further apart (still within _close's
    # tolerance) they are the formula's own, so that no difference is hidden.
    rounding = sent is not None and _rounding_apart(got, torch_sent)
    mine = sent if rounding else _text(got)
    return {"formula": mine, "torch": sent, "shape": _shape(got), "agrees": agrees}


ROUNDING_ULPS = 8  # a formula of a few operations, each rounded once by torch


def _rounding_apart(got, sent) -> bool:
    """Return True when every number of ``got`` is within ``ROUNDING_ULPS`` units in the last
    place of torch's number in ``sent`` (a list, not a summary): float32's units where
    torch's numbers are float32 values (float16 and bfloat16 are too), else float64's."""
    import numpy as np

    if isinstance(sent, dict):
        return False
    a = np.asarray(got, dtype=float).reshape(-1)
    b = np.asarray(_numbers(sent), dtype=float).reshape(-1)
    if a.size != b.size:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        single = b.astype(np.float32)
        in_float32 = bool(np.all((single.astype(float) == b) | np.isnan(b)))
        unit = np.spacing(np.abs(single)).astype(float) if in_float32 else np.spacing(np.abs(b))
        near = (a == b) | (np.isnan(a) & np.isnan(b)) | (np.abs(a - b) <= ROUNDING_ULPS * unit)
    return bool(np.all(near))


def _close(got, sent) -> bool:
    """Return True when ``got`` is what torch sent: element by element, or for a large
    tensor (a summary) by its shape, min, max and mean."""
    import numpy as np

    a = np.asarray(got, dtype=float)
    if isinstance(sent, dict):
        if list(a.shape) != list(sent.get("shape") or []) or a.size == 0:
            return False
        stats = [_numbers(sent.get(key)) for key in ("min", "max", "mean")]
        if any(not isinstance(v, (int, float)) for v in stats):
            return False
        return bool(np.allclose([a.min(), a.max(), a.mean()], stats, rtol=1e-4, atol=1e-6))
    b = np.asarray(_numbers(sent), dtype=float)
    if a.size != b.size:
        return False
    return bool(np.allclose(a.reshape(-1), b.reshape(-1), rtol=1e-4, atol=1e-6, equal_nan=True))


def _first(grads):
    return grads[0] if grads else None


_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _numbers(value):
    """Return plain data with the JSON spellings of NaN and infinities read back."""
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    return _NONFINITE.get(value, value) if isinstance(value, str) else value


def _text(value) -> str | None:
    """Return a value as short text, or None for a large tensor (a summary, or more than
    SHOWN_NUMBERS numbers: show its shape instead)."""
    if value is None or isinstance(value, dict):
        return None
    flat = flatten(value)
    if isinstance(value, list) and len(flat) > SHOWN_NUMBERS:
        return None
    return value_text(value, print_mode(flat))


def _tuple_text(values: list) -> str:
    """Return a saved tuple (the JSON's list) as Python writes it: ``(2,)``, ``(2.5, 3.0)``,
    not as torch prints a tensor (``[2.5000, 3.0000]``)."""
    words = [TORCH_WORDS.get(v, v) if isinstance(v, str) else repr(v) for v in values]
    return "(" + ", ".join(words) + ("," if len(words) == 1 else "") + ")"


def _shape(value) -> list[int]:
    if isinstance(value, dict):
        return list(value.get("shape") or [])
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        value = value[0] if value else None
    return shape
