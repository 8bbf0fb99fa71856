"""An error as the window tells it (pure text, no Qt): the core writes its errors for the
command line too; a few words there name options the window does not have."""

from __future__ import annotations

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
        out["fix"] = WINDOW_FIXES[kind]
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
        return ("No graph to draw: " + (err.get("title") or "nothing requires grad") + ".\n\n"
                + (err.get("explanation") or "") + "\n\nWhat the snippet printed is in Output.")
    if err.get("kind") == "nothing_to_draw":
        return ("No graph to draw: " + (err.get("message") or "") + "\n\n"
                + (err.get("fix") or ""))
    if err:
        where = f" at line {err['line']}" if err.get("line") else ""
        return (f"No graph: the snippet stopped{where} before any tensor with a grad_fn "
                "was built. See Errors.")
    return "No graph: the snippet made no tensor with a grad_fn."
