"""The window on a graph shown from the user's program (``gradstep.show``, ``gradstep gui --data``).

The graph and the passes arrive as data (``gradstep.window_data.shown_data``) and are
shown as a run's result: the passes are stepped like a snippet's own backward calls,
with their values, saved tensors alive or freed and ``.grad`` at every step. The
tensors stay in the user's process, so what needs them — a node's local Jacobian,
Backward again, Zero grads, the gradient-norm chart — answers that it is not
available for this graph. Typing a snippet and running it starts gradstep's own kernel
as usual, and from then on the window is an ordinary one.

The window keeps its autosave and settings in a folder of its own, so showing a graph
never replaces the snippet your normal gradstep window restores.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from gradstep.ui.words import tr

NOT_LIVE = ("Not available for a graph shown from your program: its tensors stay in your "
            "process, and this window only received the graph and the recorded passes.")


def not_live_error(what: str) -> dict:
    """Return the error dict the window shows when ``what`` needs the live tensors."""
    return {"kind": "other", "type": "NotAvailable", "message": f"{what}: {NOT_LIVE}",
            "line": None, "column": None, "code": "", "title": tr("Not available here"),
            "explanation": NOT_LIVE,
            "fix": tr("Call gradstep.backward(...) or gradstep.show(...) again in your program, "
                      "or type a snippet here and run it (Ctrl+Enter).")}


class ShownDataBackend:
    """The window's backend while it shows data: answers for the graph without tensors,
    and runs snippets in a real kernel (started on the first run)."""

    def __init__(self):
        self.kernel = None

    def run(self, **kwargs) -> dict:
        if self.kernel is None:
            from gradstep.kernel.client import Kernel

            self.kernel = Kernel()
        return self.kernel.run(**kwargs)

    def backward(self, **kwargs) -> dict:
        if self.kernel is not None:
            return self.kernel.backward(**kwargs)
        return {"error": not_live_error("Backward again")}

    def inspect(self, node_id: str) -> dict:
        if self.kernel is not None:
            return self.kernel.inspect(node_id)
        return {"id": node_id, "jacobian": {"status": "unavailable", "reason": NOT_LIVE}}

    def zero_grad(self) -> dict:
        if self.kernel is not None:
            return self.kernel.zero_grad()
        return {"ok": False, "error": not_live_error("Zero grads")}

    def grad_stats(self) -> dict:
        if self.kernel is not None:
            return self.kernel.grad_stats()
        return {"error": not_live_error("Gradient norms")}

    def stop(self) -> None:
        if self.kernel is not None:
            self.kernel.stop()

    def shutdown(self) -> None:
        if self.kernel is not None:
            self.kernel.shutdown()


def use_private_state() -> Path:
    """Point the window's autosave and settings at a folder of the shown windows' own."""
    from gradstep.ui.qt_autosave import STATE_ENV

    folder = Path(tempfile.gettempdir()) / f"gradstep-shown-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    os.environ[STATE_ENV] = str(folder)
    return folder


def shown_window(data: dict):
    """Return a QtMainWindow showing ``data`` (not yet shown on screen)."""
    from gradstep.ui.qt_main_window import QtMainWindow

    use_private_state()
    window = QtMainWindow(backend_factory=ShownDataBackend)
    show_data(window, data)
    return window


def show_data(window, data: dict) -> None:
    """Show ``data``'s graph and passes in ``window`` as the result of a run."""
    origin = data.get("origin") or {}
    code = origin.get("code") or "gradstep.show()"
    nodes = [{"id": n["id"], "name": n["name"], "label": n.get("label")}
             for n in data["trace"].get("nodes", [])]
    calls = [{"index": i, "line": None, "code": code, "api": "gradstep.backward",
              "retain_graph": bool(timeline.get("retain_graph")),
              "create_graph": bool(timeline.get("create_graph")), "nodes": nodes,
              "timeline": timeline, "error": timeline.get("error"), "drawn": True}
             for i, timeline in enumerate(data.get("timelines") or [])]
    result = {"ok": True, "trace": data["trace"], "error": None, "calls": calls, "output": "",
              "root_name": data.get("title") or None, "root_candidates": [], "exit_code": 0}
    if data.get("print_options") is not None:  # the program's set_printoptions, as a run's
        result["print_options"] = data["print_options"]
    window.editor.setPlainText(_note(code, origin))
    window.editor.document().setModified(False)
    window.device_selector.setEnabled(False)
    window.device_selector.setToolTip(tr("The graph was made in your program; its device is "
                                         "shown on the nodes."))
    window.control.on_run(result)
    where = _where(origin)
    window.setWindowTitle(tr("gradstep — {0}").format(data.get("title") or "graph")
                          + (f" ({where})" if where else ""))
    window.say(lambda: tr("Shown from your program. Step through backward with Alt+Right."))


def _where(origin: dict) -> str:
    if not origin.get("file"):
        return ""
    return f"{Path(origin['file']).name}:{origin.get('line')}"


def _note(code: str, origin: dict) -> str:
    lines = [tr("# Shown from your program:"), f"#   {code}"]
    if origin.get("file"):
        lines.append("#   " + tr("{0}, line {1}").format(origin["file"], origin.get("line")))
    lines += [tr("# Its tensors stay there, so the local"),
              tr("# Jacobian, Backward again and Zero grads"),
              tr("# are not available for this graph."),
              tr("# Type a snippet here and press Ctrl+Enter"),
              tr("# to run it in gradstep's own kernel."), ""]
    return "\n".join(lines)
