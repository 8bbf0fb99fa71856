"""What the window calls a backward pass (plain text, no widgets): the snippet line that made it."""

from __future__ import annotations

from gradstep.ui.words import tr

MAX_CODE = 46


def call_code(code: str | None, limit: int = MAX_CODE) -> str:
    """Return a snippet line without its comment, outer ``print(...)`` and ``torch.`` before
    ``autograd``, cut at a word (the whole line is the pass's tooltip)."""
    text = (code or "").split("#", 1)[0].strip()
    if text.startswith("print(") and text.endswith(")"):
        text = text[len("print("):-1].strip()
    text = text.replace("torch.autograd.", "autograd.")
    if len(text) > limit:
        cut = text[: limit - 1]
        text = (cut[: cut.rfind(" ")] if " " in cut else cut) + "…"
    return text


def pass_title(call: dict | None, timeline: dict | None = None) -> str:
    """Return ``line 12: torch.autograd.grad(p[1], [a], retain_graph=True)`` for a snippet
    call, ``gradstep: backward() from the root`` for a pass gradstep ran."""
    if call is not None:
        code = call_code(call.get("code")) or call.get("api")
        if call.get("line") is None:  # recorded in the user's own program (gradstep.show)
            return code
        return tr("line {0}: {1}").format(call.get("line"), code)
    timeline = timeline or {}
    how = "autograd.grad" if timeline.get("mode") == "grad" else "backward()"
    retain = ", retain_graph=True" if timeline.get("retain_graph") else ""
    return tr("gradstep: {0}{1} from the root").format(how, retain)


def mode_words(timeline: dict | None) -> str:
    """Return ``autograd.grad · retain_graph=True`` for the pass being stepped."""
    if not timeline:
        return ""
    how = "autograd.grad" if timeline.get("mode") == "grad" else "backward()"
    return f"{how} · retain_graph={bool(timeline.get('retain_graph'))}"


def steps_word(count: int) -> str:
    return (tr("{0} step") if count == 1 else tr("{0} steps")).format(count)
