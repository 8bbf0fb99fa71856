"""The picture renderer of the Python API: a short-lived child process that draws with Qt.

``gradstep.draw`` and the notebook view run in the user's own process, which must
never import Qt (a QApplication there can clash with the user's own Qt or
matplotlib backend). They start this module in a child process
(``gradstep.render_process``) and send it one job, as JSON on standard input:

``{"graph": trace JSON, "timelines": [backward timelines], "options": {"rankdir",
"engine", "collapse", "scale", "transparent"}, "pictures": [{"path", "pass", "step",
"scale"}], "language": code}`` (a picture's own ``scale``, for a PNG, overrides the job's;
``language``, the caller's ``gradstep.i18n.language()``, the words drawn: its locale's
where the job has none)

Each picture is written to its ``path`` (PNG, SVG or PDF by the suffix): the graph as
traced (``pass`` null), or the state after ``step`` steps of pass ``pass`` (0-based) —
the same drawing as ``gradstep export --pass P --step K``: ``step_state`` gives the
state, ``step_drawing`` the drawing arguments, ``drawing.export`` the picture. One
layout serves all pictures of a job. Exit status 0, or 1 with one line on stderr.
Not a subcommand of the command line: nothing a person types.
"""

from __future__ import annotations

import json
import sys


def render(job: dict) -> list[str]:
    """Write every picture of ``job``; return their paths (numbers written as the caller's
    print options say: ``options["print_options"]``)."""
    from gradstep.policies.number_text import options_of, printed_with

    with printed_with(options_of((job.get("options") or {}).get("print_options"))):
        return _render(job)


def _render(job: dict) -> list[str]:
    from gradstep.autograd.graph_json import graph_from_json
    from gradstep.autograd.step_state import PassHistory
    from gradstep.drawing.collapse import collapse_to_depth
    from gradstep.drawing.export import compute_layout, export_graph
    from gradstep.step_drawing import drawing_at

    graph = graph_from_json(job["graph"])
    history = PassHistory(graph, job.get("timelines") or [])
    options = job.get("options") or {}
    rankdir, collapse = options.get("rankdir", "TB"), options.get("collapse")
    layout = compute_layout(collapse_to_depth(graph, collapse), rankdir=rankdir,
                            engine=options.get("engine", "layered"))
    written = []
    for picture in job["pictures"]:
        state = None
        if picture.get("pass") is not None:
            state = history.state(picture["pass"], picture.get("step") or 0)
        shown, drawing = drawing_at(graph, state)
        export_graph(collapse_to_depth(shown, collapse), picture["path"], rankdir=rankdir,
                     layout=layout, scale=picture.get("scale") or options.get("scale", 2.0),
                     transparent=options.get("transparent", False), **drawing)
        written.append(picture["path"])
    return written


def main() -> None:
    """Read one job from standard input and render it (the child's entry point), in the
    job's language."""
    from gradstep import i18n

    try:
        job = json.load(sys.stdin.buffer)
        if job.get("language") in i18n.LANGUAGES:
            i18n.set_language(job["language"])
        render(job)
    except Exception as exc:  # the parent turns this line into its own error
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


if __name__ == "__main__":
    main()
