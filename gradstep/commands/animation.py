"""`gradstep export FILE -o pass.gif` (or .apng, .webp) and `--frames DIR`: a backward pass
step by step, every frame the same size (``gradstep.qt_step_frames``).

The pass is the one ``export.choose_pass`` picks: ``--pass P``, else the snippet's first
call on the drawn graph, else one gradstep runs. ``--delay MS`` is the time per step.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from gradstep.i18n import _


def write_animation(args, graph, chosen, scale: float) -> dict:
    """Write the animation ``args.output`` of the chosen pass, ``scale`` pixels per point;
    return what was written. Raises ExportError (bad options, no Pillow, too big)."""
    from gradstep.drawing.qt_animation import DELAY_MS
    from gradstep.drawing.qt_animation import write_animation as write
    from gradstep.qt_step_frames import StepFrames

    history, pass_index, _call = chosen
    started = time.perf_counter()
    frames = StepFrames(graph, history, pass_index, rankdir=args.rankdir, engine=args.layout,
                        collapse=args.collapse, scale=scale, caption=True)
    written = write(frames, args.output, delay_ms=getattr(args, "delay", None) or DELAY_MS)
    print(_("wrote {path}: {frames} frames ({steps} steps), {width}x{height} px, {seconds} s",
            path=written["path"], frames=written["frames"], steps=frames.count - 1,
            width=written["width"], height=written["height"],
            seconds=f"{time.perf_counter() - started:.1f}"), file=sys.stderr)
    return written


def write_frames(args, graph, chosen, folder: Path, scale: float) -> int:
    """Write ``step_000.png`` (before any step) .. ``step_N.png`` (after the last) into
    ``folder``, all the same size, ``scale`` pixels per point; return how many."""
    from gradstep.drawing.formats import unwritten
    from gradstep.policies.whole_file import replacing
    from gradstep.qt_step_frames import StepFrames

    history, pass_index, _call = chosen
    folder.mkdir(exist_ok=True)  # in a folder that exists (export's option check)
    frames = StepFrames(graph, history, pass_index, rankdir=args.rankdir, engine=args.layout,
                        collapse=args.collapse, scale=scale, transparent=args.transparent,
                        caption=False)
    width = max(3, len(str(frames.count - 1)))
    for k, image in enumerate(frames.frames()):
        path = folder / f"step_{k:0{width}d}.png"
        with replacing(path) as into:  # whole or not at all
            if not image.save(str(into), "PNG"):
                raise unwritten(path)
    print(_("wrote {count} frames to {folder} ({width}x{height} px each)", count=frames.count,
            folder=folder, width=frames.size[0], height=frames.size[1]), file=sys.stderr)
    return frames.count
