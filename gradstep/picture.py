"""``Drawing``: the picture ``gradstep.draw`` returns. Jupyter, VS Code and Colab show it
inline (``_repr_svg_``, ``_repr_png_``); ``save(path)`` writes every export format.

A Drawing holds plain data only — the trace JSON, optionally a backward timeline and a
step — never a tensor: drawing it cannot touch the user's graph. Pictures (SVG, PNG,
PDF) are drawn by the same Qt painting as the window and ``gradstep export``, in a
child process (``render_process``), once, and kept; graph files (DOT, GraphML, JSON)
are written here, without Qt. A notebook keeps every format an object offers, so the
inline PNG beside the SVG is a small one (1 pixel per point; none past
``DISPLAY_PNG_MAX_NODES`` nodes); ``png`` and ``save`` use ``options.scale``.
Pure: no torch, no Qt.
"""

from __future__ import annotations

from numbers import Integral
from pathlib import Path

from gradstep.drawing.formats import FILE_FORMATS as FILE_SUFFIXES
from gradstep.i18n import _, language
from gradstep.policies.whole_file import replacing, write_error
from gradstep.render_process import (
    PICTURE_SUFFIXES,
    Picture,
    RenderError,
    ViewOptions,
    render_bytes,
    render_files,
)

DISPLAY_PNG_MAX_NODES = 400
DISPLAY_PNG_SCALE = 1.0
_KINDS = {"svg": (".svg", None), "png": (".png", None), "display png": (".png", DISPLAY_PNG_SCALE)}


class Drawing:
    """A picture of an autograd graph, as traced or at a step of a backward pass.

    ``trace`` is the trace JSON; ``timeline`` a backward timeline recorded on the same
    graph and ``step`` how many of its steps have run (None: all of them; past them:
    ValueError). ``svg`` and ``png`` are drawn when first asked for and kept.
    """

    def __init__(self, trace: dict, *, timeline: dict | None = None, step: int | None = None,
                 options: ViewOptions | None = None):
        if step is not None and timeline is None:
            raise ValueError(_("step= needs timeline= (a gradstep.backward(...) result): "
                               "drawing never runs backward on your tensors"))
        if timeline is not None:
            check_timeline_fits(trace, timeline)
            count = len(timeline.get("steps") or [])
            if step is not None and (isinstance(step, bool) or not isinstance(step, Integral)):
                raise TypeError(_("step={step}: a step count is a whole number, 0 (before "
                                  "backward runs) to the pass's steps", step=repr(step)))
            if step is not None and not 0 <= step:
                raise ValueError(_("step={step}: a step count is 0 or more (0 = before backward "
                                   "runs)", step=step))
            if step is not None and step > count:  # as gradstep export --step refuses it
                raise ValueError(_("step={step}: the pass has {count} steps; use 0 (before the "
                                   "first) to {count} (the end)", step=step, count=count))
            step = count if step is None else int(step)  # np.int64(2) as 2: it travels as JSON
        self.trace = trace
        self.timeline = timeline
        self.step = step
        self.options = options or ViewOptions()
        self._pictures: dict[str, bytes] = {}
        self._language = ""  # the language the kept pictures' words are in
        self._graph = None

    # -- what it shows -----------------------------------------------------------------------
    @property
    def graph(self):
        """The networkx MultiDiGraph drawn (node and edge attributes of the trace JSON)."""
        if self._graph is None:
            from gradstep.autograd.graph_json import graph_from_json

            self._graph = graph_from_json(self.trace)
        return self._graph

    @property
    def svg(self) -> str:
        """The SVG text of the picture."""
        return self._picture("svg").decode("utf-8")

    @property
    def png(self) -> bytes:
        """The PNG bytes of the picture (``options.scale`` pixels per point)."""
        return self._picture("png")

    def _repr_svg_(self) -> str:
        self._draw_for_display()
        return self.svg

    def _repr_png_(self) -> bytes | None:
        """The PNG a notebook keeps beside the SVG: 1 pixel per point, and none for a graph
        over ``DISPLAY_PNG_MAX_NODES`` nodes (megabytes of pixels; the SVG shows it)."""
        if len(self.trace.get("nodes", [])) > DISPLAY_PNG_MAX_NODES:
            return None
        try:
            self._draw_for_display()
            return self._picture("display png")
        except RenderError:  # a PNG that cannot be drawn: the SVG alone is shown
            return None

    def _draw_for_display(self) -> None:
        """A notebook asks for the SVG and the PNG in a row: draw both in one child process."""
        wanted = ["svg"]
        if len(self.trace.get("nodes", [])) <= DISPLAY_PNG_MAX_NODES:
            wanted.append("display png")
        self._forget_other_language()
        missing = [key for key in wanted if key not in self._pictures]
        if len(missing) > 1:
            try:
                self._render(missing)
            except RenderError:
                pass  # each is drawn alone when asked for, where its own error shows

    def _forget_other_language(self) -> None:
        """Forget the pictures drawn while another language was set (``set_language``): a
        picture's pills and captions are words."""
        if self._language != language():
            self._pictures.clear()
            self._language = language()

    def _picture(self, key: str) -> bytes:
        self._forget_other_language()
        if key not in self._pictures:
            self._render([key])
        return self._pictures[key]

    def _render(self, keys: list[str]) -> None:
        pass_index, step = self._pass_and_step()
        wanted = [(_KINDS[key][0], pass_index, step, _KINDS[key][1]) for key in keys]
        drawn = render_bytes(self.trace, wanted, timelines=self._timelines(),
                             options=self.options)
        self._pictures.update(zip(keys, drawn))

    def _timelines(self) -> list:
        return [self.timeline] if self.timeline is not None else []

    def _pass_and_step(self) -> tuple:
        return (0, self.step) if self.timeline is not None else (None, None)

    # -- files ------------------------------------------------------------------------------------
    def save(self, path) -> Path:
        """Write the picture or graph file named by ``path``'s suffix; return the path.

        ``.svg``, ``.png``, ``.pdf`` (drawn as ``gradstep export`` draws them), ``.dot`` /
        ``.gv`` (Graphviz source), ``.graphml``, ``.json`` (the trace JSON with positions,
        states and gradients: docs/api.md).
        """
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix in (".svg", ".png"):
            picture = self._picture(suffix[1:])  # kept: shown and saved, drawn once
            with replacing(path) as into:  # whole or not at all
                into.write_bytes(picture)
        elif suffix in PICTURE_SUFFIXES:
            failed = write_error(path)  # python's own OSError, as .png and .svg raise it: the
            if failed is not None:  # PDF writer only said it failed (the path came back unwritten)
                raise failed
            render_files(self.trace, [Picture(path.resolve(), *self._pass_and_step())],
                         timelines=self._timelines(), options=self.options)
        elif suffix in FILE_SUFFIXES:
            self._save_file(path)
        else:
            known = ", ".join(PICTURE_SUFFIXES + FILE_SUFFIXES)
            raise ValueError(_("cannot tell the format of {name}: use one of {known}",
                               name=repr(path.name), known=known))
        return path

    def _save_file(self, path: Path) -> None:
        from gradstep.policies.number_text import options_of, printed_with

        with printed_with(options_of(self.options.print_options)):  # the caller's print's
            self._write_file(path)

    def _write_file(self, path: Path) -> None:
        from gradstep.drawing.files import fold, write_graph_file
        from gradstep.step_drawing import drawing_at

        state = None
        if self.timeline is not None:
            from gradstep.autograd.step_state import PassHistory

            state = PassHistory(self.graph, [self.timeline]).state(0, self.step)
        shown, drawing = drawing_at(self.graph, state)
        shown, states = fold(shown, drawing.pop("states", None), self.options.collapse)
        drawing.pop("members", None)  # DOT, GraphML and JSON draw no faded nodes
        write_graph_file(shown, path, states=states, rankdir=self.options.rankdir,
                         engine=self.options.layout, **drawing)

    def __repr__(self) -> str:
        nodes, edges = len(self.trace.get("nodes", [])), len(self.trace.get("edges", []))
        at = ""
        if self.timeline is not None:
            at = f", after {self.step} of {len(self.timeline.get('steps') or [])} backward steps"
        return f"<gradstep Drawing: {nodes} nodes, {edges} edges{at}>"


def check_timeline_fits(trace: dict, timeline: dict) -> None:
    """Raise ValueError unless every step of ``timeline`` ran a node of ``trace`` (same id,
    same op): a timeline recorded on another graph cannot be shown on this one."""
    if not isinstance(timeline, dict) or "steps" not in timeline:  # {} drew as 0 steps run
        raise TypeError(_("timeline= takes what gradstep.backward() returned, not a {kind}",
                          kind=type(timeline).__name__))
    names = {node["id"]: node["name"] for node in trace.get("nodes", [])}
    for step in timeline.get("steps") or []:
        if names.get(step.get("node")) != step.get("name"):
            raise ValueError(_(
                "this timeline was recorded on another graph (its step {index} ran {name} as "
                "{node}, which this graph does not have): pass the timeline of "
                "gradstep.backward() on the tensor you draw", index=step.get("index"),
                name=step.get("name"), node=step.get("node")))
