"""An error as the window tells it (plain text, no widgets): the core writes its errors for
the command line too; a few words there name options the window does not have."""

from __future__ import annotations

import re

from gradstep.autograd.error_texts import SYNTAX_FIX, SYNTAX_FIX_NO_COLUMN
from gradstep.i18n import localized, render
from gradstep.ui.words import tr


def QT_TR_NOOP(text: str) -> str:  # noqa: N802 (Qt's name: pyside6-lupdate collects these texts)
    return text


WINDOW_FIXES = {
    "timeout": QT_TR_NOOP("Make the loop end or the tensors smaller, then run again. Stop "
                          "(Ctrl+.) ends a run that takes too long."),
}


# a run the kernel stopped (Stop, a timeout), or that ran out of its memory cap or crashed:
# it may well have built a graph that never came back. The kernel words these (no Python
# type); a MemoryError the snippet raised itself came back with whatever it had built.
ENDED_FROM_OUTSIDE = ("timeout", "memory", "crash")


def for_window(err: dict) -> dict:
    """Return ``err`` worded for the window, in the language in use (``gradstep.i18n``:
    torch's own message stays as torch wrote it), with ``short``: the one line written
    after the failing line in the editor (``RuntimeError: ...``, never ``None: ...``)."""
    out = dict(localized(err) or {})
    kind = out.get("kind")
    if kind in WINDOW_FIXES:  # the command line's fix names --timeout; the window has Stop
        out["fix"] = tr(WINDOW_FIXES[kind])
    fix_words = (err.get("words") or {}).get("fix") or {}
    if out.get("column") is None and fix_words.get("msgid") == SYNTAX_FIX:
        out["fix"] = render({"msgid": SYNTAX_FIX_NO_COLUMN, "args": {}})
    kind_word = out.get("type") if out.get("type") not in (None, "", "None") else out.get("title")
    message = out.get("message") or ""
    out["short"] = f"{kind_word}: {message}" if kind_word and message else (message or kind_word or "")
    return out


def no_graph_text(result: dict) -> str:
    """Return what the graph area says when a run built no graph to draw (plain text: the
    backticks that mark code in gradstep's words are left out, as the Errors panel sets
    those words in the code font)."""
    return re.sub(r"`([^`]+)`", r"\1", _no_graph_text(result))


def _after_colon(title: str) -> str:
    """Return an error's title as the rest of a sentence: its first letter small where the
    rest of its first word is small ("Nothing here requires grad" -> "nothing here ...";
    "NaN ...", "CUDA ..." and words without case as they are)."""
    word = title.split(" ", 1)[0]
    if word[:1].isupper() and word[1:].islower():
        return title[0].lower() + title[1:]
    return title


def _no_graph_text(result: dict) -> str:
    err = result.get("error") or {}
    err = localized(err) or {}
    if err.get("kind") in ("no_grad_fn", "stale_graph"):
        return tr("No graph to draw: {0}.\n\n{1}\n\nWhat the snippet printed is in Output.").format(
            _after_colon(err.get("title") or tr("nothing requires grad")),
            err.get("explanation") or "")
    if err.get("kind") == "nothing_to_draw":
        # the explanation, not the message: "No graph to draw: nothing to draw: ..." stuttered
        return tr("No graph to draw.\n\n{0}\n\n{1}").format(err.get("explanation") or "",
                                                          err.get("fix") or "")
    if err.get("kind") == "empty":  # Run on an empty editor: nothing stopped, nothing ran
        return tr("No graph: the snippet is empty. Type some PyTorch code (or open one from "
                  "Examples), then press Run.")
    if err.get("kind") == "syntax" and err.get("line"):  # never compiled: no line ran
        return tr("No graph: Python could not read line {0}, so none of the snippet ran. "
                  "See Errors.").format(err["line"])
    if err.get("kind") in ENDED_FROM_OUTSIDE and not err.get("type"):  # none came back
        if err.get("line"):
            return tr("No graph: the run was ended at line {0}, and no graph came back from "
                      "it. See Errors.").format(err["line"])
        return tr("No graph: the run was ended, and no graph came back from it. See Errors.")
    if err and err.get("line"):
        return tr("No graph: the snippet stopped at line {0} before any tensor with a grad_fn "
                  "was built. See Errors.").format(err["line"])
    if err:
        return tr("No graph: the snippet stopped before any tensor with a grad_fn was built. "
                  "See Errors.")
    return tr("No graph: the snippet made no tensor with a grad_fn.")
