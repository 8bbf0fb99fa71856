"""Draw pictures for the Python API in a short-lived child process, so the user's never loads Qt.

A QApplication created inside a user's notebook or script (even offscreen) can clash
with their own Qt, matplotlib backend or event loop, and it stays for the life of
their process. So ``gradstep.draw`` and the notebook view send the graph, as JSON, to
``gradstep.commands.render`` in a child process started like the kernel (``python -c``
with gradstep's own modules first: a user's folder holding a ``gradstep.py`` or an
``app/`` package cannot shadow them) and read back the files it wrote. The child
costs a Python start plus Qt's import (about 0.7 s on the 2-core development
machine; docs/api.md has the measurements), so callers render everything they need
in one job and keep the bytes.

Pure: no torch, no Qt.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

from gradstep.drawing.formats import PICTURE_FORMATS as PICTURE_SUFFIXES
from gradstep.i18n import _, language

RENDER_MODULE = "gradstep.commands.render"
RANKDIRS = ("TB", "LR")
ENGINES = ("layered", "dot")
TIMEOUT_S = 300.0


class RenderError(RuntimeError):
    """The picture could not be drawn; the message says why (the child's own words)."""


@dataclass(frozen=True)
class ViewOptions:
    """How a graph is drawn: the options of ``gradstep export`` that the API takes too.

    ``rankdir`` "TB" (root on top) or "LR"; ``layout`` "layered" (gradstep's own) or
    "dot" (Graphviz, when installed); ``collapse`` folds module scopes deeper than that
    depth into boxes; ``scale`` PNG pixels per point; ``transparent`` PNG background;
    ``print_options`` the caller's ``torch.set_printoptions`` (``{"precision",
    "sci_mode"}``; None: torch's default), which the numbers written follow.
    """

    rankdir: str = "TB"
    layout: str = "layered"
    collapse: int | None = None
    scale: float = 2.0
    transparent: bool = False
    print_options: dict | None = None

    def __post_init__(self):
        if self.rankdir not in RANKDIRS:
            raise ValueError(_("rankdir={value}: use one of {known}", value=repr(self.rankdir),
                               known=RANKDIRS))
        if self.layout not in ENGINES:
            raise ValueError(_("layout={value}: use 'layered' (built in) or 'dot' (Graphviz)",
                               value=repr(self.layout)))
        if self.collapse is not None and (isinstance(self.collapse, bool)
                                          or not isinstance(self.collapse, Integral)):
            raise TypeError(_("collapse={value}: a depth is 0 (no folding) or more",
                              value=repr(self.collapse)))
        if self.collapse is not None and self.collapse < 0:
            raise ValueError(_("collapse={value}: a depth is 0 (no folding) or more",
                               value=self.collapse))
        if isinstance(self.scale, bool) or not isinstance(self.scale, Real):
            raise TypeError(_("scale={value}: use a positive scale such as 2", value=repr(self.scale)))
        if not self.scale > 0:
            raise ValueError(_("scale={value}: use a positive scale such as 2", value=self.scale))
        object.__setattr__(self, "transparent", true_or_false("transparent", self.transparent))
        # numpy's numbers (np.int64(2), np.float32(1.5)) as Python's: they travel as JSON
        object.__setattr__(self, "scale", float(self.scale))
        if self.collapse is not None:
            object.__setattr__(self, "collapse", int(self.collapse))

    def job_options(self) -> dict:
        """Return the options as the renderer's job takes them."""
        job = {"rankdir": self.rankdir, "engine": self.layout, "collapse": self.collapse,
               "scale": self.scale, "transparent": self.transparent}
        if self.print_options is not None:
            job["print_options"] = self.print_options
        return job


def true_or_false(name: str, value) -> bool:
    """Return ``value`` where it is True or False (numpy's ``np.True_`` as Python's); else
    raise TypeError naming the argument: Python's truth would take ``accumulate="no"`` or
    ``transparent="false"`` as True, the opposite of what was written."""
    if isinstance(value, bool):
        return value
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    raise TypeError(_("{name}={value}: use True or False", name=name, value=repr(value)))


@dataclass(frozen=True)
class Picture:
    """One picture of a job: written to ``path``; the graph as traced (``pass_index`` None)
    or the state after ``step`` steps of timeline ``pass_index``."""

    path: Path
    pass_index: int | None = None
    step: int | None = None
    scale: float | None = None  # a PNG's pixels per point (None: the options')

    def as_job(self) -> dict:
        return {"path": str(self.path), "pass": self.pass_index, "step": self.step,
                "scale": self.scale}


def render_files(graph: dict, pictures: list[Picture], *, timelines=(),
                 options: ViewOptions = ViewOptions(), timeout: float = TIMEOUT_S) -> None:
    """Write ``pictures`` of the trace JSON ``graph`` in one child process, its words (pills,
    captions, the child's errors) in the caller's ``gradstep.i18n.language()``: the one set
    with ``set_language`` in this process, not the child's locale.

    Raises RenderError when the child fails (its message) or runs past ``timeout``.
    """
    for picture in pictures:
        if Path(picture.path).suffix.lower() not in PICTURE_SUFFIXES:
            raise ValueError(_("{path}: a picture is one of {known}", path=picture.path,
                               known=", ".join(PICTURE_SUFFIXES)))
    job = {"graph": graph, "timelines": list(timelines), "options": options.job_options(),
           "pictures": [p.as_job() for p in pictures], "language": language()}
    from gradstep.kernel.launch import worker_command

    try:
        done = subprocess.run(worker_command([], module=RENDER_MODULE),
                              input=json.dumps(job).encode("utf-8"), capture_output=True,
                              env=_child_environment(), timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RenderError(_("drawing took longer than {seconds} s and was stopped; fold "
                            "modules (collapse=2) to draw a smaller picture",
                            seconds=f"{timeout:.0f}")) from None
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        why = said[-1] if said else _("exit status {code}", code=done.returncode)
        raise RenderError(_("gradstep could not draw the graph: {why}", why=why))


def render_bytes(graph: dict, wanted: list[tuple], *, timelines=(),
                 options: ViewOptions = ViewOptions()) -> list[bytes]:
    """Return the bytes of each ``(suffix, pass_index, step[, scale])`` picture, drawn in
    one child."""
    with tempfile.TemporaryDirectory(prefix="gradstep-") as folder:
        pictures = [Picture(Path(folder) / f"{i}{suffix}", *rest)
                    for i, (suffix, *rest) in enumerate(wanted)]
        render_files(graph, pictures, timelines=timelines, options=options)
        return [p.path.read_bytes() for p in pictures]


def _child_environment() -> dict:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"  # the child shows no window, display or not
    return env
