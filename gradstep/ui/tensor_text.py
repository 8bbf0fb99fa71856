"""Short texts for tensors as they arrive from the session (plain data; no widgets, no
torch; the words go through Qt's ``tr``)."""

from __future__ import annotations

import html
import math

from gradstep.autograd.formula_step import flowing_inputs
from gradstep.autograd.formula_words import worded
from gradstep.drawing.style import (
    format_shape,
    gradient_text,
    nested_text,
    shorten,
    tensor_words,
)
from gradstep.policies.complex_text import is_complex
from gradstep.policies.number_text import torch_printed
from gradstep.policies.strict_json import NONFINITE_TEXT, number
from gradstep.ui.words import tr


def QT_TR_NOOP(text: str) -> str:  # noqa: N802 (Qt's name: pyside6-lupdate collects these texts)
    """Return ``text``: it is translated where shown (``gradstep.ui.words.tr``)."""
    return text


def fmt(x) -> str:
    """Return a number in at most 6 significant digits."""
    try:
        return f"{number(x):.6g}"
    except (TypeError, ValueError):
        return str(x)


def stat(x, dtype=None, mean: bool = False) -> str:
    """Return a tensor's min or max (or, ``mean``, its mean or std) as torch prints it alone:
    an int tensor's whole (``tensor(100000002)``, not 1e+08), a bool tensor's as
    ``True``/``False``, a float's as torch prints it alone (``torch_printed``: four decimals,
    ``tensor(4.1375)``; a whole number with a point, ``tensor(4.)``; ``tensor(1.7830e-11)``,
    ``tensor(12345.6777)``: the panel has room, unlike a box); ``dtype``:
    the tensor's (the summary holds the statistics as floats)."""
    kind = dtype.removeprefix("torch.") if isinstance(dtype, str) else ""
    whole = type(x) is float and x.is_integer()
    if kind.startswith(("int", "uint")) and not mean and whole:
        return str(int(x))
    if kind == "bool" and not mean and whole:
        return str(bool(x))
    if type(x) is float or (isinstance(x, str) and x in NONFINITE_TEXT):  # or JSON's NaN
        return torch_printed([x])[0]  # alone, as torch prints it: tensor(1.7830e-11)
    if isinstance(x, str):
        return x
    return fmt(x)


def flatten(data) -> list[float]:
    """Return the numbers of a nested list (or a single number) in order."""
    if isinstance(data, (list, tuple)):
        out: list[float] = []
        stack = [iter(data)]
        while stack:  # explicit stack: deep nesting must not recurse
            item = next(stack[-1], StopIteration)
            if item is StopIteration:
                stack.pop()
            elif isinstance(item, (list, tuple)):
                stack.append(iter(item))
            else:
                out.append(number(item))
        return out
    return [number(data)]


def shape_of(data) -> list[int]:
    """Return the shape of a nested list (``[]`` for a number)."""
    shape = []
    while isinstance(data, (list, tuple)):
        shape.append(len(data))
        if not data:
            break
        data = data[0]
    return shape


def as_value(x) -> dict | None:
    """Return a value summary dict for ``x``: a value dict, a nested list, a number, or None."""
    if x is None:
        return None
    if isinstance(x, dict):
        return x
    return {"shape": shape_of(x), "data": x}


SHORT_NUMBERS = 8  # a one-line text writes at most this many numbers, then "…"


def short(x, limit: int = 60, dtype: str | None = None, words_of=torch_printed) -> str:
    """Return a one-line text for a tensor (value dict, nested list or number): its numbers
    as the snippet's ``print`` shows them (``torch_printed``: a leaf's .grad beside the
    Output panel's, ``[1.05e+00, -2.98e-01, 2.79e-05]`` under ``precision=2``, not
    the edge's ``[1.05, -0.298, 2.79e-05]``), at most ``limit`` characters: whole numbers, then ``…`` (a
    number cut short would read as another one). A
    ``dtype`` (or the value's) known to be complex reads the data's ``[real, imag]`` pairs
    as ``a+bj``; data that are not such pairs then show as ``…``. ``words_of`` words the
    numbers otherwise (``as_printed``: a gradient as its edge and formula write it)."""
    value = as_value(x)
    if value is None:
        return "None"
    data = value.get("data")
    if data is not None:
        read = tensor_words(data, words_of, dtype or value.get("dtype"))  # ints stay ints
        if read is None:
            return "…"
        data, words = read
        if not isinstance(data, list):
            return words[0] if words else "[]"
        shown = words[:SHORT_NUMBERS]  # rows as torch prints them: [[1., 2.], [3., 4.]]
        text = nested_text(data, shown, cut=len(shown) < len(words))
        while len(text) > limit and len(shown) > 1:
            shown.pop()
            text = nested_text(data, shown, cut=True)
        return shorten(text, limit)
    return summary_words(value)


def summary_words(value: dict, dtype: str | None = None) -> str:
    """Return a tensor summary on one line, in the language shown: its shape and min, max
    and mean as torch prints each (``stat``); a ``dtype`` (or the summary's) known to be
    complex: of magnitudes (``|z|``). A summary with no mean (a small value of a trace
    past ``values.SMALL_MEANS_LIMIT``) shows min and max only. One with no finite element
    (all NaN or ±inf: the summary's range is of finite elements, so None) leaves the range
    out, as the Values panel does (``stats``): ``100: mean nan``, not ``min None``. Beside
    a NaN or an infinity the range is the finite elements' (``t.min()`` is nan there): it
    reads ``finite min``, ``finite max``."""
    shape = "×".join(str(s) for s in value.get("shape") or []) or tr("scalar")
    kind = value.get("dtype")
    if value.get("min") is None:  # no finite element (or none at all): no range to write
        if value.get("mean") is None:
            return shape
        return tr("{0}: mean {1}").format(shape, stat(value.get("mean"), kind, mean=True))
    words = (shape, stat(value.get("min"), kind), stat(value.get("max"), kind),
             stat(value.get("mean"), kind, mean=True))
    finite = _finite_range(value)
    if value.get("mean") is None:
        return (tr("{0}: finite min {1} finite max {2}") if finite
                else tr("{0}: min {1} max {2}")).format(*words[:3])
    if is_complex(dtype) or is_complex(kind):
        return (tr("{0}: |z| finite min {1} finite max {2} mean {3}") if finite
                else tr("{0}: |z| min {1} max {2} mean {3}")).format(*words)
    return (tr("{0}: finite min {1} finite max {2} mean {3}") if finite
            else tr("{0}: min {1} max {2} mean {3}")).format(*words)


def _finite_range(value: dict) -> bool:
    """Return True where a summary's min and max are its finite elements' only (it holds a
    NaN or an infinity: ``values.tensor_value``), not torch's ``t.min()`` and ``t.max()``."""
    return bool(value.get("nan") or value.get("inf"))


def stats(x) -> str:
    """Return shape and min/max/mean/std of a tensor, one item per line. A summary's
    numbers are torch's own (a complex tensor's: of its magnitudes, ``|z| mean``) but for
    its range beside a NaN or an infinity, its finite elements' (``finite min``); of bare
    data (a small gradient) min and max are read from
    it, the mean only where it is sure (one element: itself; a NaN, or inf and -inf: nan), never a sum
    made here (``t.mean()`` adds in float32, in its own order: see docs/fidelity.md)."""
    value = as_value(x) or {}
    shape = value.get("shape")  # as the boxes write it; unknown (a jagged tensor's): ?
    lines = [tr("shape {0}").format("?" if shape is None else format_shape(list(shape)))]
    if value.get("dtype"):
        lines[0] += f"  {value['dtype']}"
    # a complex tensor's statistics are of its magnitudes (torch's t.mean() is complex):
    # written |z| mean, as the one-line summary writes them
    magnitude = "|z| " if is_complex(value.get("dtype")) else ""
    nums = flatten(value["data"]) if value.get("data") is not None and not magnitude else []
    one = _count(value.get("shape")) == 1  # x.std() of one element is nan: no std shown
    # beside a NaN or an infinity a summary's range is its finite elements' (t.min() is nan)
    finite = "finite " if _finite_range(value) else ""
    for key in ("min", "max", "mean", "std"):
        if key == "std" and one:
            continue
        if value.get(key) is not None:
            number_text = stat(value[key], value.get("dtype"), mean=key in ("mean", "std"))
            word = STAT_WORDS[finite + key] if key in ("min", "max") else STAT_WORDS[key]
            lines.append(f"{magnitude}{tr(word)} {number_text}")
        elif nums and key != "std":
            nan = any(v != v for v in nums)  # torch's min, max and mean of a NaN: nan
            if key == "mean" and len(nums) > 1 and not nan:
                if not (math.inf in nums and -math.inf in nums):
                    continue  # t.mean() adds in its own order and precision: not made here
                nan = True  # inf and -inf: nan in any order
            found = math.nan if nan else {"min": min, "max": max, "mean": sum}[key](nums)
            kind = value.get("dtype") or _kind_of(value["data"])  # a bare list's: its numbers'
            lines.append(f"{tr(STAT_WORDS[key])} {stat(found, kind, mean=key == 'mean')}")
    for key in ("nan", "inf"):
        if value.get(key):
            lines.append(f"{tr(STAT_WORDS[key])} {value[key]}")
    return "\n".join(lines)


def _kind_of(data) -> str | None:
    """Return ``"bool"`` or ``"int64"`` for data of bools or ints (its first number's type:
    a tensor's numbers are of one type), else None."""
    while isinstance(data, (list, tuple)) and data:
        data = data[0]
    return "bool" if type(data) is bool else "int64" if type(data) is int else None


def _count(shape) -> int:
    """Return the number of elements of a tensor of ``shape`` (a list; 1 for a scalar)."""
    count = 1
    for size in shape or []:
        count *= size
    return count


STAT_WORDS = {  # translated when shown (gradstep.ui.words.tr)
    "min": QT_TR_NOOP("min"), "max": QT_TR_NOOP("max"), "mean": QT_TR_NOOP("mean"),
    "std": QT_TR_NOOP("std"), "nan": QT_TR_NOOP("nan"), "inf": QT_TR_NOOP("inf"),
    # a summary's range beside a NaN or an infinity: of the finite elements, not t.min()'s
    "finite min": QT_TR_NOOP("finite min"), "finite max": QT_TR_NOOP("finite max"),
}


STATE_WORDS = {  # translated when shown (gradstep.ui.words.tr)
    "pending": QT_TR_NOOP("not run yet in this pass"),
    # pending, and no step of the pass from here on runs it (inputs=, an error stopped it)
    "not_run": QT_TR_NOOP("not run in this pass"),
    # a pass whose steps are not shown (``no_steps``: is_grads_batched=True, ...): torch ran
    # it, or not; "not run yet" said it would run later in a pass that is over
    "not_shown": QT_TR_NOOP("this pass's steps are not shown"),
    "current": QT_TR_NOOP("▶ runs next"),
    "done": QT_TR_NOOP("✓ ran (its saved tensors are kept)"),
    "done_saving_none": QT_TR_NOOP("✓ ran (it saved no tensors)"),
    "freed": QT_TR_NOOP("∅ its saved tensors are freed"),
    "error": QT_TR_NOOP("✗ torch raised here"),
}


def saved_state_words(entry: dict) -> str:
    """Return a saved tensor's state in words: alive, freed, detached in place, or changed in
    place with torch's two versions (``saved.saved_items``)."""
    if entry.get("freed"):
        return tr("freed")
    if entry.get("changed_during") and entry.get("detached_in_place"):  # no version moved
        return tr("detached in place during this pass by a hook or a custom Function's "
                  "backward: torch refuses it at the step that raised; whether already here "
                  "is not recorded")
    if entry.get("detached_in_place"):
        return tr("detached in place since it was saved (torch refuses it)")
    if entry.get("changed_during"):  # a hook wrote it in the pass; no probe says when
        return tr("changed in place during this pass by a hook or a custom Function's "
                  "backward (saved at version {0}): torch "
                  "refuses it at the step that raised; whether already here is not "
                  "recorded").format(entry.get("saved_version", "?"))
    if entry.get("changed_in_place"):
        return tr("changed in place: version {0}, saved at version {1}").format(
            entry.get("version"), entry.get("saved_version"))
    if entry.get("view_version"):  # a live program's saved view: its saved version unread
        return tr("a view at version {0}: torch refuses it at backward if it was saved at "
                  "another version, which only reading it tells, and reading it could make "
                  "torch rebuild the view's node").format(entry["view_version"])
    return tr("alive")


def written_words(attrs: dict) -> str:
    """Return, for a leaf written after the snippet's last recorded backward call (an
    optimizer step: the trace's ``written_after``) or during it (``during``: a hook's step),
    that the value shown is the leaf's at the end of the snippet, not the one the forward
    used; '' for any other node."""
    moved = attrs.get("written_after") if attrs.get("kind") == "leaf" else None
    if not isinstance(moved, dict):
        return ""
    version, then = moved.get("version"), moved.get("pass_version")
    if moved.get("own"):  # gradstep's own pass: the box shows the trace's value, from before
        return tr("This is the value before gradstep's backward pass, the one the forward "
                  "used: a hook wrote the leaf in place during that pass (version {0} after "
                  "it, {1} before).").format(version, then)
    if moved.get("during"):  # written while the backward call ran (a hook's optimizer step)
        if version is None or version == then:
            return tr("This is the value at the end of the snippet: it was written during the "
                      "pass (by a hook: an optimizer step?), so the forward did not use it.")
        return tr("This is the value at the end of the snippet: it was written during the pass "
                  "(by a hook: an optimizer step? version {0}, the pass began at version {1}), "
                  "so it may not be the value the forward used.").format(version, then)
    if version is None or version == then:
        return tr("This is the value at the end of the snippet: it was written after the "
                  "pass (an optimizer step?), so the forward did not use it.")
    # torch counts a write that leaves the values as they were (an optimizer step where
    # the gradient is zero): without a copy, only "may"; the norm moved when the versions
    # are equal, so the words above hold
    return tr("This is the value at the end of the snippet: it was written after the pass "
              "(an optimizer step? version {0}, the pass ran at version {1}), so it may not "
              "be the value the forward used.").format(version, then)


def node_tooltip(attrs: dict, state: str = "", saved: list | None = None,
                 grad: object = ..., wired: list | None = None) -> str:
    """Return the hover text of a node: op, label, shape, dtype, device, value, its backward
    state and its saved tensors as they are at the step shown (``saved``; else the trace's),
    and for a leaf its ``.grad`` then (``grad``, when known). ``wired``: its slots that lead
    to a node (``formula_step.wired_slots``), for ``formula_tooltip_lines``."""
    esc = html.escape
    lines = [f"<b>{esc(str(attrs.get('name', '?')))}</b>"]
    if attrs.get("label") and attrs.get("label") != attrs.get("name"):
        lines.append(tr("label: {0}").format(esc(str(attrs["label"]))))
    if attrs.get("scope"):
        lines.append(tr("module: {0}").format(esc(str(attrs["scope"]))))
    if attrs.get("kind") == "module":
        lines.append(tr("{0} ops folded (double-click to unfold)").format(attrs.get("op_count", 0)))
    else:
        shape = attrs.get("shape")  # as the box writes it: (3,), not [3]
        lines.append(tr("shape: {0}  dtype: {1}").format(
            "?" if shape is None else format_shape(list(shape)), attrs.get("dtype", "?")))
        lines.append(tr("device: {0}").format(attrs.get("device", "?")))
        value = attrs.get("value")
        lines.append(tr("value: {0}").format(esc(short(value))) if value
                     else tr("value: not captured"))
        written = written_words(attrs)
        if written:
            lines.append(esc(written))
    lines.extend(formula_tooltip_lines(attrs, wired=wired))
    entries = [e for e in (attrs.get("saved") if saved is None else saved) or []
               if isinstance(e, dict) and "freed" in e and "value" not in e]
    if state == "done" and not entries and attrs.get("kind") != "module":
        state = "done_saving_none"  # nothing to keep: "its saved tensors are kept" is not so
    if state:
        lines.append(tr("state: {0}").format(tr(STATE_WORDS.get(state, state))))
    if grad is not ...:
        lines.append(tr("{0}.grad now: {1}").format(esc(str(attrs.get("label") or "leaf")),
                                                    esc(short(grad, dtype=attrs.get("dtype")))))
    if entries:
        names = ", ".join(f"{esc(str(e['name']))} ({esc(saved_state_words(e))})"
                          for e in entries)
        lines.append(tr("saved: {0}").format(names))
    return "<br>".join(lines)


def formula_tooltip_lines(attrs: dict, limit: int = 4, wired: list | None = None) -> list[str]:
    """Return an op's local gradient for its hover text (HTML lines): per input the readable
    formula, else torch's expression (the trace's ``formula_math`` / ``formula``), else why
    it has none (``formula_note``); their words in the language shown (the trace keeps them
    in English). With ``wired`` (``formula_step.wired_slots``), only for the inputs torch can
    send a gradient to, as the step caption has it: none for ``x`` in ``x * w`` where ``x``
    needs no gradient (its ``next_functions`` entry is ``(None, 0)``)."""
    if attrs.get("kind") != "op":
        return []
    readable = (attrs.get("formula_math") or {}).get("inputs") or {}
    torch_text = attrs.get("formula") or {}
    if not torch_text:
        note = attrs.get("formula_note")
        return [tr("no formula: {0}").format(html.escape(shorten(str(worded(note)), 140)))] if note else []
    flowing = flowing_inputs(attrs, None, wired)
    if flowing is not None:
        torch_text = {name: text for name, text in torch_text.items() if name in flowing}
        if not torch_text:
            return []
    lines = [tr("local gradient:")]
    for name, expression in list(torch_text.items())[:limit]:
        text = worded(readable[name]["text"]) if name in readable else expression
        lines.append(f"&nbsp;&nbsp;{html.escape(name)}: {html.escape(shorten(str(text), 110))}")
    if len(torch_text) > limit:
        more = tr("… {0} more inputs").format(len(torch_text) - limit)  # not in an f-string:
        lines.append(f"&nbsp;&nbsp;{more}")  # pyside6-lupdate finds no tr() inside one
    return lines


def cut_to_fit(text: str, fits) -> str:
    """Return ``text`` where ``fits(text)``, else its longest start that ends after a number
    (a comma, or a summary's number before a space) with ``…`` and fits (``[-0.0828, 0.2274,…``: whole numbers, never ``-0.…``, which reads
    as another number); where none fits, ``…`` alone when that fits, else ''. ``fits``:
    a text -> bool (a column's width)."""
    if fits(text):
        return text
    # after a comma (a list's number), or before a space that follows a number (a summary's
    # ``min -0.1126 max 0.1181``: never a word left without its number)
    ends = [i + 1 if c == "," else i for i, c in enumerate(text)
            if c == "," or (c == " " and i and not text[i - 1].isalpha() and text[i - 1] != ":")]
    for end in reversed(ends):
        shown = text[:end] + ("…" if text[end - 1] == "," else " …")
        if fits(shown):
            return shown
    return "…" if fits("…") else ""


def edge_label(grad, dtype: str | None = None) -> str:
    """Return the text written on an edge for the gradient it carries ('' for large ones;
    ``dtype``: its target's, as ``gradient_text`` reads it)."""
    return gradient_text(grad, dtype=dtype)
