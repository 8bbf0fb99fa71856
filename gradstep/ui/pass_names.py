"""What the window calls a backward pass (plain text, no widgets): the snippet line that made it."""

from __future__ import annotations

from gradstep.ui.words import tr

MAX_CODE = 46


def QT_TR_NOOP(text: str) -> str:  # noqa: N802 (Qt's name: pyside6-lupdate collects these texts)
    return text


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


NO_STEPS = {  # why a pass that ran shows no steps (the timeline's ``no_steps``)
    "batched": QT_TR_NOOP("no steps: is_grads_batched=True runs the pass on vmap's batch of "
                          "gradients, which gradstep does not read"),
    "subclass": QT_TR_NOOP("no steps: a tensor subclass's own code carries the gradients, "
                           "which gradstep does not run"),
    "changed": QT_TR_NOOP("no steps: a gradient was changed in place during the pass (a hook "
                          "or a custom Function's backward), so what the steps kept is not "
                          "what torch sent"),
    "concurrent": QT_TR_NOOP("no steps: another pass ran through these nodes at the same time"),
    "unreadable": QT_TR_NOOP("no steps: the recorded values could not be read"),
    "unhooked": QT_TR_NOOP("no steps: the pass could not be hooked (compiled autograd)"),
}
GRAPH_ROOT = QT_TR_NOOP("{0} roots: torch's engine first ran a GraphRoot node of its own that "
                        "hands each root its gradient; it is no node of the graph, so it has "
                        "no step here")


def pass_note(timeline: dict | None) -> str:
    """Return why the pass shows no steps, or that it started from several roots ('' for
    neither), in the window's language."""
    timeline = timeline or {}
    if no_steps := no_steps_note(timeline):
        return no_steps
    roots = timeline.get("graph_root")
    if isinstance(roots, int) and roots > 1:
        return tr(GRAPH_ROOT).format(roots)
    return ""


def no_steps_note(timeline: dict | None) -> str:
    """Return why the pass ran but shows no steps ('no steps: is_grads_batched=True ...'), ''
    where it shows its steps, in the window's language."""
    reason = (timeline or {}).get("no_steps")
    return tr(NO_STEPS[reason]) if reason in NO_STEPS and not timeline.get("steps") else ""


def steps_word(count: int) -> str:
    return (tr("{0} step") if count == 1 else tr("{0} steps")).format(count)
