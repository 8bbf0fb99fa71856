"""An error as the window tells it (plain text, no widgets): the core writes its errors for
the command line too; a few words there name options the window does not have."""

from __future__ import annotations

from gradstep.ui.words import tr

WINDOW_FIXES = {
    "timeout": ("Make the loop end or the tensors smaller, then run again. Stop (Ctrl+.) "
                "ends a run that takes too long."),
}


def for_window(err: dict) -> dict:
    """Return ``err`` worded for the window, with ``short``: the one line written after the
    failing line in the editor (``RuntimeError: ...``, never ``None: ...``)."""
    out = dict(err)
    kind = out.get("kind")
    if kind in WINDOW_FIXES:
        out["fix"] = tr(WINDOW_FIXES[kind])
    fix = out.get("fix") or ""
    if "--timeout" in fix:
        out["fix"] = fix.split(", or raise")[0].rstrip(".") + "."
    if out.get("column") is None and "marked column" in (out.get("fix") or ""):
        out["fix"] = out["fix"].replace("marked column", "marked line")
    kind_word = out.get("type") if out.get("type") not in (None, "", "None") else out.get("title")
    message = out.get("message") or ""
    out["short"] = f"{kind_word}: {message}" if kind_word and message else (message or kind_word or "")
    return out


def no_graph_text(result: dict) -> str:
    """Return what the graph area says when a run built no graph to draw."""
    err = result.get("error") or {}
    if err.get("kind") in ("no_grad_fn", "stale_graph"):
        return tr("No graph to draw: {0}.\n\n{1}\n\nWhat the snippet printed is in Output.").format(
            err.get("title") or tr("nothing requires grad"), err.get("explanation") or "")
    if err.get("kind") == "nothing_to_draw":
        return tr("No graph to draw: {0}\n\n{1}").format(err.get("message") or "",
                                                        err.get("fix") or "")
    if err and err.get("line"):
        return tr("No graph: the snippet stopped at line {0} before any tensor with a grad_fn "
                  "was built. See Errors.").format(err["line"])
    if err:
        return tr("No graph: the snippet stopped before any tensor with a grad_fn was built. "
                  "See Errors.")
    return tr("No graph: the snippet made no tensor with a grad_fn.")
