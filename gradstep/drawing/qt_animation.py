"""An animated picture of a backward pass: GIF, APNG or WebP, one frame per step.

The frames come from ``gradstep.qt_step_frames.StepFrames`` (one layout, one canvas
size, the gradients on the edges, a caption naming the step); Pillow writes them.
A pass of N steps gives N + 1 frames: frame k shows the graph after k steps, with the
node about to run marked ▶ (frame 0: before anything ran; the last: the pass's end,
held longer). The caption makes every frame differ from the one before, so no encoder
merges two steps into one frame.

Pillow is imported here only, when an animation is written.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtGui

from gradstep.drawing.export import ExportError
from gradstep.i18n import lazy
from gradstep.policies.whole_file import replacing

ANIMATION_FORMATS = {".gif": "GIF", ".apng": "PNG", ".webp": "WEBP"}
DELAY_MS = 1000  # per step: time to read the formula under the graph
LAST_HOLD = 3  # the last frame (the pass's end) shows this many times longer
MAX_TOTAL_PIXELS = 250_000_000  # all frames together (they are held in memory to be written)


def is_animation(path) -> bool:
    """Return True when ``path``'s extension names an animated format."""
    return Path(path).suffix.lower() in ANIMATION_FORMATS


def write_animation(frames, path, *, delay_ms: int = DELAY_MS) -> dict:
    """Write ``frames`` (a ``StepFrames``) to ``path`` as GIF, APNG or WebP (from the
    suffix), looping forever; return ``{"path", "frames", "width", "height", "format"}``.

    Raises ExportError for an unknown format, a missing Pillow, or frames too big to hold.
    """
    path = Path(path)
    fmt = ANIMATION_FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise ExportError(lazy("{name}: an animation is .gif, .apng or .webp", name=path.name))
    if delay_ms <= 0:
        raise ExportError(lazy("a frame lasts a positive number of milliseconds, not {delay}",
                               delay=delay_ms))
    image_module = _pillow()
    width, height = frames.size
    if width * height * frames.count > MAX_TOTAL_PIXELS:
        raise ExportError(lazy(
            "{count} frames of {width}x{height} pixels are too many to animate: lower "
            "--scale, fold modules with --collapse DEPTH, or write PNGs with --frames DIR",
            count=frames.count, width=width, height=height))
    images = [_to_pillow(image_module, image, fmt) for image in frames.frames()]
    durations = [delay_ms] * (len(images) - 1) + [delay_ms * LAST_HOLD]
    options = {"save_all": True, "append_images": images[1:], "duration": durations, "loop": 0}
    if fmt == "GIF":
        options["disposal"] = 1  # each frame is a whole picture: nothing to restore
    elif fmt == "WEBP":
        options["lossless"] = True  # crisp text and lines
    with replacing(path) as into:  # whole or not at all (a full disk leaves the old file)
        images[0].save(into, format=fmt, **options)
    return {"path": str(path), "frames": len(images), "width": width, "height": height, "format": fmt}


def _pillow():
    try:
        from PIL import Image
    except ImportError as exc:
        raise ExportError(lazy("animated exports need Pillow: pip install pillow")) from exc
    return Image


def _to_pillow(image_module, image, fmt: str):
    """Return a QImage as a Pillow image (RGB for GIF, whose palette has no alpha; else RGBA)."""
    rgba = image.convertToFormat(QtGui.QImage.Format.Format_RGBA8888)
    width, height = rgba.width(), rgba.height()
    data = bytes(rgba.constBits())[: rgba.bytesPerLine() * height]
    picture = image_module.frombuffer("RGBA", (width, height), data, "raw", "RGBA",
                                      rgba.bytesPerLine(), 1)
    return picture.convert("RGB") if fmt == "GIF" else picture.copy()
