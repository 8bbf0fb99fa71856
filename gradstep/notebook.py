"""``StepThrough``: a backward pass to step through in a notebook, as self-contained HTML.

``gradstep.step_through(loss)`` returns one; Jupyter, VS Code and Colab show its
``_repr_html_``: one picture per step (the state ``step_state`` gives, drawn as
``gradstep export --pass P --step K`` draws it) with buttons, a slider and a caption,
the export's frames' and the presentation mode's own (``drawing.step_caption``: which
step runs, the node, its formula; the end, or the step that raised), in the language
gradstep uses (``LANG``, ``gradstep.i18n``) as the view's other words are; driven by
a few lines of inline JavaScript — no kernel extension, no widget library,
and nothing runs in the kernel while you step. The frames are SVG, gzip-compressed
and base64-encoded (about a tenth of their size: Qt's SVG repeats itself), unpacked
by the browser's own ``DecompressionStream``; where JavaScript is off (a notebook
viewer, an untrusted notebook) the last frame shows as a plain SVG, with a line
saying so. Large graphs get fewer frames (``max_frames``, ``max_bytes``) and say so.

Pure: no torch, no Qt (pictures come from ``render_process``; the captions are
worded here, in the user's process, from the trace and the timeline).
"""

from __future__ import annotations

import base64
import gzip
import html
import json
import re
import uuid
from dataclasses import dataclass
from numbers import Integral
from pathlib import Path

from gradstep.drawing.step_caption import caption_lines
from gradstep.i18n import _
from gradstep.picture import check_timeline_fits
from gradstep.policies.whole_file import replacing
from gradstep.render_process import ViewOptions, render_bytes

MAX_FRAMES = 60
MAX_BYTES = 2_500_000  # the HTML of one output, frames included
# What a frame costs before it is drawn (measured on Qt's SVG: ~2.8 KB a node, ~1/9 gzipped)
FRAME_BYTES_BASE, FRAME_BYTES_PER_NODE = 2_000, 450
_EMPTY_GROUP = re.compile(rb"<g [^>]*>\s*</g>\s*")


@dataclass(frozen=True)
class Frame:
    """One picture of the pass: the state after ``step`` steps, its caption (the step and
    the node that runs), SVG, and the caption's second line (the node's formula, or
    torch's words under the step that raised; after ``svg`` so ``Frame(k, caption, svg)``
    still reads as before)."""

    step: int
    caption: str
    svg: str
    detail: str = ""


class StepThrough:
    """A backward pass over a traced graph, as frames to step through in a notebook.

    ``trace`` is the trace JSON, ``timeline`` a pass recorded on that graph
    (``gradstep.backward``). The frames are drawn when first shown and kept.
    """

    def __init__(self, trace: dict, timeline: dict, *, options: ViewOptions | None = None,
                 max_frames: int = MAX_FRAMES, max_bytes: int = MAX_BYTES, title: str = ""):
        check_timeline_fits(trace, timeline)
        if isinstance(max_frames, bool) or not isinstance(max_frames, Integral):
            raise TypeError(_("max_frames={count}: show at least one frame", count=repr(max_frames)))
        if max_frames < 1:
            raise ValueError(_("max_frames={count}: show at least one frame", count=max_frames))
        self.trace = trace
        self.timeline = timeline
        self.options = options or ViewOptions()
        self.title = title
        self.step_count = len(timeline.get("steps") or [])
        self.steps_shown = frame_steps(self.step_count, _frame_limit(trace, max_frames, max_bytes))
        self.max_bytes = max_bytes
        self._svgs: list[str] | None = None

    @property
    def frames(self) -> list[Frame]:
        """The frames: their pictures drawn in one child process on first use and kept,
        their captions worded each time in the language gradstep uses then."""
        if self._svgs is None:
            wanted = [(".svg", 0, k) for k in self.steps_shown]
            drawn = render_bytes(self.trace, wanted, timelines=[self.timeline],
                                 options=self.options)
            self._svgs = [_smaller(svg).decode("utf-8") for svg in drawn]
        captions = step_captions(self.trace, self.timeline)
        return [Frame(k, captions[k][0], svg, captions[k][1])
                for k, svg in zip(self.steps_shown, self._svgs)]

    def _repr_html_(self) -> str:
        return self.to_html()

    def to_html(self) -> str:
        """Return the HTML fragment a notebook shows (self-contained)."""
        return step_html(self.frames, self.step_count, title=self.title, max_bytes=self.max_bytes)

    def save(self, path) -> Path:
        """Write a standalone HTML page of the step-through; return the path."""
        path = Path(path)
        page = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                f"<title>{html.escape(self.title or 'gradstep')}</title></head>"
                f"<body>\n{self.to_html()}\n</body></html>\n")
        with replacing(path) as into:  # whole or not at all (a full disk leaves the old page)
            into.write_text(page, encoding="utf-8")
        return path

    def __repr__(self) -> str:
        shown = len(self.steps_shown)
        return (f"<gradstep StepThrough: {len(self.trace.get('nodes', []))} nodes, "
                f"{self.step_count} backward steps, {shown} frames>")


def frame_steps(step_count: int, limit: int) -> list[int]:
    """Return the step positions to draw: all of ``0..step_count``, or ``limit`` of them
    spread evenly (always the first and the last)."""
    positions = step_count + 1
    if positions <= limit:
        return list(range(positions))
    if limit == 1:
        return [step_count]
    return sorted({round(i * step_count / (limit - 1)) for i in range(limit)})


def _frame_limit(trace: dict, max_frames: int, max_bytes: int) -> int:
    """Return how many frames fit in ``max_bytes``, judged by the graph's size."""
    per_frame = FRAME_BYTES_BASE + FRAME_BYTES_PER_NODE * len(trace.get("nodes", []))
    return max(1, min(max_frames, max_bytes // per_frame))


def step_captions(trace: dict, timeline: dict) -> list[tuple[str, str]]:
    """Return the caption of each step position ``0..len(steps)``, as the exported frames
    and the presentation mode word it (``step_caption.caption_lines``): its two lines."""
    from gradstep.autograd.graph_json import graph_from_json
    from gradstep.autograd.step_state import PassHistory

    graph = graph_from_json(trace)
    index = PassHistory(graph, [timeline]).index(0)
    return [tuple(caption_lines(graph, index, k)) for k in range(index.count + 1)]


def _smaller(svg: bytes) -> bytes:
    """Return Qt's SVG without its empty groups (about a fifth of it; they draw nothing)."""
    return _EMPTY_GROUP.sub(b"", svg)


def _packed(svg: str) -> str:
    return base64.b64encode(gzip.compress(svg.encode("utf-8"), compresslevel=9, mtime=0)).decode()


def step_html(frames: list[Frame], step_count: int, *, title: str = "",
              max_bytes: int = MAX_BYTES) -> str:
    """Return the self-contained HTML of ``frames`` (see the module docstring)."""
    uid = "gradstep-" + uuid.uuid4().hex[:12]
    packed = [_packed(f.svg) for f in frames]
    while len(frames) > 2 and sum(map(len, packed)) + len(frames[-1].svg) > max_bytes:
        keep = frame_steps(len(frames) - 1, max(2, len(frames) // 2))  # thin out evenly
        frames, packed = [frames[i] for i in keep], [packed[i] for i in keep]
    last = frames[-1]
    note = ""
    if len(frames) < step_count + 1:
        note = _("Showing {shown} of the {positions} step positions (a large graph gets fewer "
                 "frames; gradstep.show() steps through every one).", shown=len(frames),
                 positions=step_count + 1)
    items = "\n".join(
        f'<div class="gs-frame" data-step="{f.step}" data-caption="{html.escape(f.caption)}" '
        f'data-detail="{html.escape(f.detail)}" data-svg="{p}"></div>'
        for f, p in zip(frames, packed))
    heading = f"<b>{html.escape(title)}</b> — " if title else ""
    words = {key: html.escape(text) for key, text in _words(step_count).items()}
    return _TEMPLATE.format(
        uid=uid, heading=heading, last_caption=html.escape(last.caption),
        last_detail=html.escape(last.detail), static_svg=last.svg.split("?>", 1)[-1],
        items=items, max_index=len(frames) - 1, note=html.escape(note and " " + note),
        **words,
        heading_js=_js_string(heading), play_js=_js_string(_("Play")),
        pause_js=_js_string(_("Pause")),
        unpack_js=_js_string(f"<i>{words['unpack']}</i>"),
        note_js=_js_string(f"<i>{html.escape(note)}</i>" if note else ""))


def _words(step_count: int) -> dict[str, str]:
    """Return the view's own words (buttons, notes) in the language gradstep uses."""
    return {"first": _("back to the start"), "prev": _("one step back"), "play": _("Play"),
            "next": _("one step forward"), "last": _("to the end"), "slider": _("step"),
            "nojs": (_("The end of the pass (1 step). Stepping through it needs JavaScript: "
                       "run the cell in Jupyter, VS Code or Colab.") if step_count == 1 else
                     _("The end of the pass ({count} steps). Stepping through it needs "
                       "JavaScript: run the cell in Jupyter, VS Code or Colab.", count=step_count)),
            "unpack": _("This browser cannot unpack the frames (no DecompressionStream): "
                        "the last step is shown.")}


def _js_string(text: str) -> str:
    """Return ``text`` as a JavaScript string literal that cannot end the script element."""
    return json.dumps(text).replace("</", "<\\/")


_TEMPLATE = """<div id="{uid}" class="gradstep-steps">
<style>
#{uid} {{ font-family: sans-serif; font-size: 13px; }}
#{uid} .gs-bar {{ display: none; align-items: center; gap: 6px; margin: 4px 0; flex-wrap: wrap; }}
#{uid} .gs-bar button {{ min-width: 2.4em; }}
#{uid} .gs-bar input {{ flex: 1 1 200px; }}
#{uid} .gs-detail {{ color: #666; min-height: 1.2em; }}
#{uid} .gs-view svg {{ max-width: 100%; height: auto; }}
</style>
<div class="gs-bar">
<button type="button" data-go="first" title="{first}">|&#x25C0;</button>
<button type="button" data-go="prev" title="{prev}">&#x25C0;</button>
<button type="button" data-go="play" title="{play}">{play}</button>
<button type="button" data-go="next" title="{next}">&#x25B6;</button>
<button type="button" data-go="last" title="{last}">&#x25B6;|</button>
<input type="range" min="0" max="{max_index}" value="{max_index}" aria-label="{slider}">
</div>
<div class="gs-caption">{heading}{last_caption}</div>
<div class="gs-detail">{last_detail}</div>
<div class="gs-nojs"><i>{nojs}{note}</i></div>
<div class="gs-view">{static_svg}</div>
<div class="gs-frames" style="display:none">
{items}
</div>
<script>
(function () {{
  var root = document.getElementById("{uid}");
  if (!root || root.dataset.ready) return;
  root.dataset.ready = "1";
  var frames = root.querySelectorAll(".gs-frame"), view = root.querySelector(".gs-view");
  var caption = root.querySelector(".gs-caption"), slider = root.querySelector("input");
  var detail = root.querySelector(".gs-detail");
  var heading = {heading_js}, cache = {{}}, at = frames.length - 1, timer = null, asked = 0;
  var note = root.querySelector(".gs-nojs");
  if (typeof DecompressionStream === "undefined") {{
    note.innerHTML = {unpack_js};
    return;
  }}
  note.innerHTML = {note_js};
  function unpack(i) {{
    if (!cache[i]) {{
      var bytes = Uint8Array.from(atob(frames[i].dataset.svg), function (c) {{ return c.charCodeAt(0); }});
      var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
      cache[i] = new Response(stream).text();
    }}
    return cache[i];
  }}
  function show(i) {{
    i = Math.max(0, Math.min(frames.length - 1, i));
    at = i; slider.value = i; var mine = ++asked;
    caption.innerHTML = heading + frames[i].dataset.caption.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    detail.textContent = frames[i].dataset.detail;
    unpack(i).then(function (svg) {{ if (mine === asked) view.innerHTML = svg; }});
  }}
  function stop() {{ if (timer) {{ clearInterval(timer); timer = null; play.textContent = {play_js}; }} }}
  var play = root.querySelector('[data-go="play"]');
  root.querySelector(".gs-bar").addEventListener("click", function (e) {{
    var go = e.target.dataset && e.target.dataset.go;
    if (!go) return;
    if (go === "play") {{
      if (timer) {{ stop(); return; }}
      if (at >= frames.length - 1) show(0);
      play.textContent = {pause_js};
      timer = setInterval(function () {{ if (at >= frames.length - 1) stop(); else show(at + 1); }}, 700);
      return;
    }}
    stop();
    show({{first: 0, prev: at - 1, next: at + 1, last: frames.length - 1}}[go]);
  }});
  slider.addEventListener("input", function () {{ stop(); show(parseInt(slider.value, 10)); }});
  root.querySelector(".gs-bar").style.display = "flex";
  show(0);
}})();
</script>
</div>"""
