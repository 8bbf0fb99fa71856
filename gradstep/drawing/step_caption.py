"""The caption of one step position of a backward pass, in the language shown (pure).

Frame ``k`` of a pass is its state after ``k`` steps (``step_state``): the caption says
which step runs next and the node about to run, with its readable formula for the inputs
torch sends a gradient to (``formula_line``); at the end, that the pass is done, or which
step raised and torch's words. The exported frames (``qt_step_frames``), the window's
presentation mode and the notebook's step-through (``gradstep.notebook``) all word their
captions here, so the three say the same thing. Pure: no Qt, no torch (the notebook runs
in the user's process, which never imports Qt).
"""

from __future__ import annotations

from gradstep.autograd.formula_step import flowing_inputs, wired_slots
from gradstep.autograd.formula_words import worded
from gradstep.drawing import style
from gradstep.i18n import N_, _, localized

# why a pass that ran shows no steps (the timeline's ``no_steps``): the step bar's words
# (``ui.pass_names.NO_STEPS``, Qt's catalogue), here for the pure captions' own
NO_STEPS = {
    "batched": N_("no steps: is_grads_batched=True runs the pass on vmap's batch of "
                  "gradients, which gradstep does not read"),
    "subclass": N_("no steps: a tensor subclass's own code carries the gradients, "
                   "which gradstep does not run"),
    "changed": N_("no steps: a gradient was changed in place during the pass (a hook "
                  "or a custom Function's backward), so what the steps kept is not "
                  "what torch sent"),
    "concurrent": N_("no steps: another pass ran through these nodes at the same time"),
    "unreadable": N_("no steps: the recorded values could not be read"),
    "unhooked": N_("no steps: the pass could not be hooked (compiled autograd)"),
}


def caption_lines(graph, index, k: int) -> list[str]:
    """Return the caption of frame ``k``: which step, the node about to run, and its readable
    formula (or torch's) for its first input; at the end, that the pass is done."""
    total = index.count
    if k >= total:
        error, raised = index.error_at(k), index.raised_step(k)
        # the head in the person's language (the error's title), torch's words under it
        # as torch wrote them: in bold alone they filled a quarter of a projected screen
        title = (localized(error) or {}).get("title") if error else None
        message = (error or {}).get("message") or ""
        if raised is not None:  # the step that raised did not finish: not "after step 2 of 2"
            who = _node_words(graph, index.steps[raised - 1]["node"])
            text = (_("Step {number} of {total}: ✗ {node} raised: {message}", number=raised,
                      total=total, node=who, message=title or message) if error else
                    # a hook's sys.exit(0) there: the snippet ended, the pass keeps no error
                    _("Step {number} of {total}: ✗ {node} raised", number=raised, total=total,
                      node=who))
        elif not total and (why := index.timeline.get("no_steps")) in NO_STEPS:
            # torch ran the pass (is_grads_batched=True, ...): its steps are not shown, as
            # the Values header and the status bar say; not "No step ran"
            text = (_("The pass ran and shows no steps; torch raised: {message}",
                      message=title or message) if error else
                    _("The pass ran and shows no steps"))
            return [text, _(NO_STEPS[why])]
        elif error and not total:  # torch raised before its first node ran (a root's hook)
            text = _("No step ran: torch raised: {message}", message=title or message)
        elif error:  # every step finished; torch raised before the first or after the last
            text = _("After step {total} of {total}: torch raised: {message}", total=total,
                     message=title or message)
        elif not total and index.timeline.get("ended_snippet"):  # a root's hook's sys.exit(0):
            # the pass did not finish, nor did the snippet (it ended there)
            text = _("No step ran: the snippet ended there (exit)")
        elif not total:  # torch ran no node (autograd.grad(loss, [loss]) hands back the seed)
            text = _("No step ran: the pass is done")
        else:
            text = _("After step {total} of {total}: the pass is done", total=total)
        return [text, message if title else ""]
    node = index.steps[k]["node"]
    attrs = graph.nodes[node] if node in graph else {}
    head = _("Step {number} of {total}: ▶ {node} runs", number=k + 1, total=total,
             node=_node_words(graph, node))
    return [head, formula_line(attrs, index.steps[k], wired_slots(graph, node))]


def _node_words(graph, node: str) -> str:
    """Return a node as the caption names it: its op, and its label as on its box (a label
    that only repeats the op's name, ``t``, ``addmm``, is not shown)."""
    attrs = graph.nodes[node] if node in graph else {}
    name = str(attrs.get("name") or node)
    label = attrs.get("label")
    return name if style.is_default_label(label, name) or label == name else f"{name} ({label})"


def formula_line(attrs: dict, step: dict | None = None, wired: list | None = None) -> str:
    """Return a node's local gradient in one line: its readable formulas, else torch's
    expressions, else why it has none (the trace's ``formula*`` fields, their words in the
    language shown). With the node's ``step``, only for the inputs torch sends a gradient
    to there (``formula_step.flowing_inputs``, the formula box's rule): no ``∂L/∂β`` for a
    layer norm without bias; at a step that raised (no gradients sent), only for those
    ``wired`` to a node (``formula_step.wired_slots``)."""
    flowing = flowing_inputs(attrs, step, wired)
    readable = ((attrs.get("formula_math") or {}).get("inputs")) or {}
    formula = attrs.get("formula") or {}
    if flowing is not None:
        readable = {name: item for name, item in readable.items() if name in flowing}
        formula = {name: expr for name, expr in formula.items() if name in flowing}
    if readable:
        return "   ".join(worded(item["text"]) for item in readable.values())
    if formula:
        return "   ".join(f"{name}: {expr}" for name, expr in formula.items())
    if attrs.get("kind") == "leaf":
        return _("adds the arriving gradient into .grad")
    return worded(attrs.get("formula_note")) or ""
