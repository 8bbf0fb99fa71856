"""The visual language of a graph picture (pure: no Qt).

Follows torchviz: ops are light-grey boxes, leaves (parameters and inputs) are
light-blue boxes showing their shape, the root is light green, saved tensors
get an orange badge. Backward states add a fill colour *and* a border style and
a glyph, so colour is never the only signal. Fills are light and text is dark,
so a node reads the same on a light or a dark background.

Sizes are estimated from the label text with a per-character width table of
DejaVu Sans (measured with Qt's QFontMetricsF at 100 px), so the pure layout
gets boxes that fit what the Qt scene later draws.
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from functools import lru_cache

from gradstep.autograd.elements import flatten
from gradstep.i18n import N_, _
from gradstep.policies.complex_text import complex_elements, complex_words, is_complex
from gradstep.policies.number_text import (
    FIXED,
    SCI,
    TORCH_WORDS,
    WHOLE,
    mode_one,
    print_mode,
    print_options,
    short_text,
    torch_printed,
)

FONT_FAMILY = "DejaVu Sans"
# an SVG names fallbacks: a viewer without DejaVu Sans takes a sans face (and a sans CJK
# face for Chinese labels) rather than its default serif
SVG_FONT_FAMILY = ("'DejaVu Sans', 'Noto Sans CJK SC', 'WenQuanYi Micro Hei', "
                   "'Microsoft YaHei', 'PingFang SC', sans-serif")
TITLE_PX = 12  # pixel size of a node's first line, in scene units
DETAIL_PX = 10  # pixel size of the other lines
LINE_HEIGHT = 1.17  # DejaVu Sans line height per pixel size (Qt: 116.4 at 100 px)
PAD_X, PAD_Y = 8.0, 5.0
GLYPH_W = 14.0  # a column on the left of the title for the state glyph
MIN_W, MIN_H = 40.0, 24.0
MAX_LINE_CHARS = 32

# Advance widths of ASCII 32..126 in DejaVu Sans at 100 px (QFontMetricsF).
_ASCII_WIDTHS = [
    32, 40, 46, 84, 64, 95, 78, 27, 39, 39, 50, 84, 32, 36, 32, 34, 64, 64, 64, 64, 64, 64, 64,
    64, 64, 64, 34, 34, 84, 84, 84, 53, 100, 68, 69, 70, 77, 63, 58, 77, 75, 29, 29, 66, 56, 86,
    75, 79, 60, 79, 69, 63, 61, 73, 68, 99, 68, 61, 68, 39, 34, 39, 84, 50, 50, 61, 63, 55, 63,
    62, 35, 63, 63, 28, 28, 58, 28, 97, 63, 61, 63, 63, 41, 52, 39, 63, 59, 82, 59, 59, 52, 64,
    34, 64, 84,
]
_ASCII_BOLD_WIDTHS = [
    35, 46, 52, 84, 70, 100, 87, 31, 46, 46, 52, 84, 38, 42, 38, 37, 70, 70, 70, 70, 70, 70, 70,
    70, 70, 70, 40, 40, 84, 84, 84, 58, 100, 77, 76, 73, 83, 68, 68, 82, 84, 37, 37, 77, 64, 100,
    84, 85, 73, 85, 77, 72, 68, 81, 77, 110, 77, 72, 72, 46, 37, 46, 84, 50, 50, 67, 72, 59, 72,
    68, 44, 72, 71, 34, 34, 66, 34, 104, 71, 69, 72, 72, 49, 60, 48, 71, 65, 92, 64, 65, 58, 71,
    37, 71, 84,
]
_OTHER_WIDTHS = {"…": 100, "·": 32, "×": 84, "✓": 84, "✗": 84, "▶": 77, "∅": 84, "→": 84}
_WIDE_DEFAULT = 100  # CJK and other wide glyphs
_NARROW_DEFAULT = 64

STATES = ("pending", "current", "done", "freed", "error")

TEXT = "#1a1a1a"
MUTED_TEXT = "#555555"
EDGE = "#7f7f7f"  # mid-grey: visible on white and on a dark background
EDGE_DONE = "#2e7d32"
EDGE_LABEL_BG = "#ffffff"
DIMMED_OPACITY = 0.4  # nodes outside the pass shown (another call's graph): their box
# colours are mixed this much into white (``dimmed_colour``), and all their words are
# MUTED_TEXT, at least 5.7:1 on any pale fill (not the whole box at 40% opacity: its words
# were 1.5:1 to 1.9:1 on a projector's white, and lost on a dark background)
SEARCH_HIGHLIGHT = "#1e88e5"
KIND_FILL = {"op": "#d3d3d3", "leaf": "#add8e6", "module": "#e3d7f7"}
ROOT_FILL = "#caff70"  # torchviz draws the output darkolivegreen1
SAVED_BADGE = "#ffa500"
FREED_BADGE = "#616161"  # white words 6.2:1, the pill 5.2:1 on a freed box's #eeeeee (a
# #e6e6e6 pill with dark words was 1.08:1 against that box: only its thin dashes showed it)
CHANGED_BADGE = "#b71c1c"  # a saved tensor changed in place since it was saved: torch refuses it
DARK_BADGES = ("device", "changed", "detached", "freed", "written", "during", "unread")
# white text; lines on a pill ("during": a saved tensor a hook changed during the pass, at a
# step no probe bounds; "unread": a saved view past version 0 of a live program, whose saved
# version is not read: on the device pill's slate, neither refused nor alive)
BADGE_ROLES = ("saved", "changed", "detached", "freed", "device", "written", "during", "unread")
# pills on CHANGED_BADGE's red: a saved tensor torch refuses ("changed", "detached"), and a
# leaf written after the pass ("written": an optimizer step; the value on its box is the
# leaf's at the end of the snippet, maybe not the one the forward used)
RED_ROLES = ("changed", "detached", "written")
DEVICE_BADGE = "#37474f"


@dataclass(frozen=True)
class StateLook:
    """How a backward state changes a node: fill, border and a glyph."""

    fill: str | None  # None keeps the kind's fill
    border: str
    border_width: float
    dash: str  # "solid", "dash" or "dot"
    glyph: str
    text: str  # a word for readers of the exported file


STATE_LOOK = {
    "pending": StateLook(None, "#404040", 1.0, "solid", "", ""),
    "current": StateLook("#ffe066", "#b26a00", 3.0, "solid", "▶", "current"),
    "done": StateLook("#b9e6c2", "#2e7d32", 2.0, "solid", "✓", "done"),
    "freed": StateLook("#eeeeee", "#757575", 1.5, "dot", "∅", "freed"),
    "error": StateLook("#ff9e9e", "#c62828", 3.0, "dash", "✗", "error"),
}


@dataclass(frozen=True)
class Line:
    """One line of a node's label: its text, pixel size and role (title, detail, saved, device)."""

    text: str
    px: int
    role: str


def char_width(ch: str, px: float, bold: bool = False) -> float:
    """Return the advance width of ``ch`` in DejaVu Sans (Bold) at ``px`` pixels."""
    code = ord(ch)
    if 32 <= code < 127:
        width = (_ASCII_BOLD_WIDTHS if bold else _ASCII_WIDTHS)[code - 32]
    elif ch in _OTHER_WIDTHS:
        width = _OTHER_WIDTHS[ch]
    elif code >= 0x1100 and _is_wide(code):
        width = _WIDE_DEFAULT
    else:
        width = _NARROW_DEFAULT
    return width * px / 100.0


def _is_wide(code: int) -> bool:
    """Return True for East Asian wide ranges (CJK, Hangul, fullwidth forms)."""
    return (0x1100 <= code <= 0x115F or 0x2E80 <= code <= 0xA4CF or 0xAC00 <= code <= 0xD7A3
            or 0xF900 <= code <= 0xFAFF or 0xFF00 <= code <= 0xFF60 or 0x20000 <= code)


_CHAR_WIDTHS: dict[tuple[float, bool], dict[str, float]] = {}  # (px, bold) -> {char: width}


@lru_cache(maxsize=65536)
def text_width(text: str, px: float, bold: bool = False) -> float:
    """Return the width of ``text`` in DejaVu Sans (Bold) at ``px`` pixels."""
    widths = _CHAR_WIDTHS.setdefault((px, bold), {})
    try:  # each character's width looked up, not worked out: a graph has few characters
        return sum(map(widths.__getitem__, text))
    except KeyError:
        widths.update((ch, char_width(ch, px, bold)) for ch in text if ch not in widths)
        return sum(map(widths.__getitem__, text))


def line_height(px: float) -> float:
    """Return the height of one text line at ``px`` pixels."""
    return px * LINE_HEIGHT


def shorten(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """Return ``text`` cut to ``limit`` characters with an ellipsis when longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def format_shape(shape) -> str:
    """Return a shape as torchviz writes it: ``(2, 3)``, ``(1,)``, ``()``."""
    if shape is None:
        return ""
    if type(shape) is list and len(shape) == 1:  # most tensors of a long chain
        return "(" + str(shape[0]) + ",)"
    dims = [str(d) for d in shape]
    if len(dims) == 1:
        return f"({dims[0]},)"
    return "(" + ", ".join(dims) + ")"


def format_number(x) -> str:
    """Return a compact number: ``number_text.short_text`` (4 significant digits with
    torch's default print options; torch's own digits at a lower ``precision``); strict JSON's ``"NaN"``,
    ``"Infinity"``, ``"-Infinity"`` as torch prints them (``nan``, ``inf``, ``-inf``)."""
    if isinstance(x, str):
        return TORCH_WORDS.get(x, x)
    if isinstance(x, int):  # bool is an int: True stays "True"
        return str(x)
    try:
        x = float(x)
    except (TypeError, ValueError):
        return str(x)
    return short_text(x)


def format_small_value(value) -> str:
    """Return ``= 1.5000`` or ``= [1., 2., 3.]`` for a value dict holding a tiny tensor, else ''
    (as torch prints it: ``print_mode``)."""
    if not isinstance(value, dict) or "data" not in value:
        return ""
    data = value["data"]
    if isinstance(data, list):
        size = len(data)
        if size > 4:
            return ""
        if size == 2 and type(data[0]) is not list and is_complex(value.get("dtype")):
            # a complex scalar's [re, im] (a complex vector's pairs are lists: no text)
            return "= " + complex_words([(data[0], data[1])], as_printed)[0]
        mode = mode_one(data[0]) if size == 1 and type(data[0]) is float \
            else print_mode(data)
        words = []
        last = word = None
        fixed = mode == FIXED
        precision = print_options().precision
        for x in data:  # one per node of a 100,000-node graph: floats formatted directly
            if type(x) is float:
                if x != last or not x:  # equal non-zero floats are one double: one text
                    last, word = x, (f"{x:.{precision}f}" if fixed else _float_word(x, mode))
                words.append(word)
            elif isinstance(x, list):
                return ""
            else:
                words.append(format_number(x))
        return "= [" + ", ".join(words) + "]"
    if type(data) is float:
        return "= " + _float_word(data, mode_one(data))
    return "= " + format_number(data)


def _float_word(x: float, mode: str) -> str:
    """Return one float of a tensor as its ``print`` writes it in ``mode`` (``print_mode``),
    with the snippet's print ``precision`` (``number_text.printed_with``)."""
    precision = print_options().precision
    if mode == FIXED:
        return f"{x:.{precision}f}"
    if mode == SCI:
        return f"{x:.{precision}e}"
    if mode == WHOLE and x - x == 0:
        return f"{x:.0f}."
    return short_text(x)


EDGE_LABEL_NUMBERS = 4  # gradients with more numbers are not written on the edge
EDGE_LABEL_CHARS = 40
TOOLTIP_CHARS = 80  # torch's print breaks its lines at 80 characters (linewidth)
EDGE_LABEL_PX = 140.0  # fits between two layers of a left-to-right layout (RANK_GAP_LR)


def tensor_words(value, words_of, dtype: str | None = None, most: int | None = None):
    """Return (the nesting, the words of the elements) of a small tensor's data (a number or
    nested list); ``words_of`` words one tensor's numbers. A ``dtype`` known to be complex
    reads the data's ``[real, imag]`` pairs as ``a+bj`` (the nesting is then the pairs').
    None for None, a summary, data that are not such pairs, or more than ``most`` numbers
    (a complex element counts two)."""
    if value is None or isinstance(value, dict):
        return None
    if is_complex(dtype):
        read = complex_elements(value)
        if read is None or (most is not None and 2 * len(read[1]) > most):
            return None
        return read[0], complex_words(read[1], words_of)
    numbers = flatten(value)
    if most is not None and len(numbers) > most:
        return None
    return value, words_of(numbers)


def gradient_text(value, limit: int = EDGE_LABEL_CHARS, dtype: str | None = None) -> str:
    """Return the text written on an edge for the gradient ``value``: as torch prints it
    (``print_mode``: four decimals, or whole numbers with a point) or 4 significant digits,
    ``[a, b, c]`` for a small tensor; '' for None or a tensor of more than
    EDGE_LABEL_NUMBERS numbers. A text longer than ``limit`` characters or EDGE_LABEL_PX
    pixels ends at a whole number with ``…`` (the tooltip has them all). A ``dtype`` known
    to be complex reads the data's ``[real, imag]`` pairs as ``a+bj`` (two numbers each);
    data that are not such pairs then give ''."""
    read = tensor_words(value, as_printed, dtype, most=EDGE_LABEL_NUMBERS)
    if read is None:
        return ""
    value, words = read
    if not isinstance(value, list):
        return words[0]
    text = nested_text(value, words)
    while (len(text) > limit or text_width(text, DETAIL_PX) > EDGE_LABEL_PX) and len(words) > 1:
        words.pop()
        text = nested_text(value, words, cut=True)
    return text


def as_printed(numbers: list) -> list[str]:
    """Return one tensor's numbers as its ``print`` shows them (``print_mode``): four
    decimals or whole numbers with a point where torch prints them so, else 4 significant
    digits (the boxes, edges and panels)."""
    mode = print_mode(numbers)
    if mode == FIXED or mode == WHOLE or mode == SCI:
        return [_float_word(x, mode) if type(x) is float else format_number(x) for x in numbers]
    return [format_number(x) for x in numbers]


def nested_text(value: list, words: list[str], cut: bool = False) -> str:
    """Return ``words`` (the numbers of ``value`` in order) bracketed as ``value`` nests them,
    as torch prints a tensor's rows (a 2x2 gradient read as ``[1., 1., 1., 1.]``, a vector
    of four); ``cut``: the words are the first ones only, and ``…`` ends the row where they run
    out and the rows around it."""
    return _nest(value, words, 0, cut)[0]


def _nest(value, words: list[str], at: int, cut: bool) -> tuple[str, int, bool]:
    if not isinstance(value, list):
        return words[at], at + 1, False
    parts = []
    for item in value:
        if cut and at >= len(words):
            parts.append("…")
            return "[" + ", ".join(parts) + "]", at, True
        text, at, ended = _nest(item, words, at, cut)
        parts.append(text)
        if ended:
            return "[" + ", ".join(parts) + "]", at, True
    return "[" + ", ".join(parts) + "]", at, False


def gradient_full_text(value, dtype: str | None = None, width: int = TOOLTIP_CHARS) -> str:
    """Return every number of a small gradient (the tooltip of an edge) as torch's ``print``
    writes it (``torch_printed``: ``[500.5000, 1.0000]``, ``[1.2346e+05, 1.0000e+00]``),
    in lines of at most ``width`` characters broken after a comma (torch's ``linewidth``:
    64 numbers are not one line wider than the screen); '' for None or a summary (the
    window words one: ``tensor_text.summary_words``); a ``dtype`` known to be complex:
    each element as ``a+bj``."""
    read = tensor_words(value, torch_printed, dtype)
    if read is None:
        return ""
    value, words = read
    text = words[0] if not isinstance(value, list) else nested_text(value, words)
    if len(text) <= width:
        return text
    return "\n".join(textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False))


_BACKWARD_SUFFIX = re.compile(r"Backward\d*$")


@lru_cache(maxsize=65536)
def is_default_label(label: str, name: str) -> bool:
    """True when ``label`` only repeats the op name (``mul`` for ``MulBackward0``)."""
    base = _BACKWARD_SUFFIX.sub("", name or "").lower()
    return not label or label.replace("_", "").lower() == base.replace("_", "")


_BREAKS = (", ", " ", ".", "_", "/")  # where a line may end, most natural first


def wrap(text: str, limit: int = MAX_LINE_CHARS, max_lines: int = 3) -> list[str]:
    """Return ``text`` broken into lines of at most ``limit`` characters, at a word: after
    ``, `` first (between saved names), then a space, ``.`` (``attn.c_attn.`` / ``weight``),
    ``_`` or ``/``. Past ``max_lines`` the last line ends with ``…``."""
    lines = _wrap(text, limit, 0)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: limit - 1] + "…"
    return lines


def _wrap(text: str, limit: int, level: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    if level >= len(_BREAKS):
        return [text[i:i + limit] for i in range(0, len(text), limit)]
    sep = _BREAKS[level]
    parts = text.split(sep)
    if len(parts) == 1:
        return _wrap(text, limit, level + 1)
    words = [p + sep for p in parts[:-1]] + [parts[-1]]
    lines, line = [], ""
    for word in words:
        if line and len(line) + len(word.rstrip()) > limit:
            lines.append(line.rstrip())
            line = ""
        if len(word.rstrip()) > limit:
            lines += _wrap(word.rstrip(), limit, level + 1)
            continue
        line += word
    if line.strip():
        lines.append(line.rstrip())
    return lines


def _lines(text: str, px: int, role: str) -> list[Line]:
    return list(_wrapped_lines(text, px, role))


@lru_cache(maxsize=65536)
def _wrapped_lines(text: str, px: int, role: str) -> tuple[Line, ...]:
    """The lines of ``text`` (op names and labels repeat over a big graph: wrap each once)."""
    return tuple(Line(part, px, role) for part in wrap(text))


def label_lines(attrs: dict) -> list[Line]:
    """Return the text lines drawn in a node: title, names, shape, small value, saved, device.

    Long names wrap at a word (a ``.`` of a parameter name, a ``, `` between saved
    names) rather than being cut. Saved tensors are one or more lines of role
    ``saved`` (alive) or ``freed``, read from ``attrs["saved"]``: give it a step's
    saved entries (``gradstep.autograd.step_state``) to draw that moment.
    """
    head, tail = lines_around_saved(attrs)
    if tail is None:  # a module box: no saved tensors, no device
        return head
    return head + saved_lines(attrs) + tail


def lines_around_saved(attrs: dict) -> tuple[list[Line], list[Line] | None]:
    """Return the lines above the saved tensors (title, names, shape, value) and those
    below them (device); a module box has only the first (the second is None)."""
    kind = attrs.get("kind", "op")
    name = str(attrs.get("name") or attrs.get("id") or "")
    label = str(attrs.get("label") or "")
    if kind == "module":
        lines = _lines(label or name, TITLE_PX, "title")
        count = attrs.get("op_count")
        if count is not None:
            words = _("{count} op", count=count) if count == 1 else _("{count} ops", count=count)
            lines.append(Line(words, DETAIL_PX, "detail"))
        return lines, None
    return lines_of_texts(kind == "leaf", name, label, format_shape(attrs.get("shape")),
                          format_small_value(attrs.get("value")), str(attrs.get("device") or ""),
                          written_text(attrs))


def written_text(attrs: dict) -> str:
    """Return the pill of a leaf written after the snippet's last recorded backward call (an
    optimizer step): ``written after the pass: v2`` (torch's ``_version`` now), or without
    the version where the write did not move it (``p.data``); ``written during the pass``
    where it was written while that call ran (a hook's step: ``during``); '' for any other
    node."""
    moved = attrs.get("written_after") if attrs.get("kind") == "leaf" else None
    if not isinstance(moved, dict):
        return ""
    version = moved.get("version")
    during = moved.get("during")  # a hook's step, in the call
    if version is None or version == moved.get("pass_version"):
        return _("written during the pass") if during else _("written after the pass")
    if during:
        return _("written during the pass: v{version}", version=version)
    return _("written after the pass: v{version}", version=version)


def lines_of_texts(is_leaf: bool, name: str, label: str, shape: str, value: str,
                   device: str, written: str = "") -> tuple[list[Line], list[Line]]:
    """Return ``lines_around_saved`` of a node that is not a module box, from its texts: its
    name, label, shape (``format_shape``), value (``format_small_value``), device and
    ``written_text``."""
    if is_leaf:
        lines = _lines(label or "leaf", TITLE_PX, "title")
    else:
        lines = _lines(name, TITLE_PX, "title")
        if not is_default_label(label, name):
            lines += _lines(label, DETAIL_PX, "detail")
    if shape:
        lines.append(Line(shorten(shape), DETAIL_PX, "detail"))
    if value:
        lines.append(value_line(value))
    tail = [Line(written, DETAIL_PX, "written")] if written else []
    if device and device != "cpu":
        tail.append(Line(device, DETAIL_PX, "device"))
    return lines, tail


def value_line(value: str) -> Line:
    """Return the line of a small value's text (``format_small_value``): the last line above
    the saved tensors, cut as ``short_value`` cuts it."""
    return Line(short_value(value), DETAIL_PX, "detail")


def short_value(text: str, limit: int = MAX_LINE_CHARS) -> str:
    """Return a small value's text, ``= [a, b, c]``, cut to ``limit`` characters with ``…``
    (``shorten``) where it is longer, but never inside a number: a cut that would end in one
    ends after the number before it (``= [0.411520, -0.750000,…``, not ``…, 6.28…``, which
    reads as another number; more digits, set_printoptions(precision=6), make it likely).
    A cut that falls at the end of a number is ``shorten``'s, as it always was."""
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    if not text.startswith("= [") or head.endswith((",", ", ")) or text[limit - 1] == ",":
        return head + "…"  # a number (or a word) ends here: as shorten cuts it
    comma = head.rfind(",")
    if comma < len("= ["):
        return head + "…"  # not one whole number fits: what fits of it, as ever
    return head[: comma + 1] + "…"


def saved_tensors(attrs: dict) -> list[dict]:
    """Return the tensors a node saved for backward (not its saved ints and sizes)."""
    return [s for s in attrs.get("saved") or []
            if isinstance(s, dict) and ("shape" in s or "freed" in s) and "value" not in s]


def saved_lines(attrs: dict) -> list[Line]:
    """Return the saved-tensor lines: ``saved: a, b`` (role ``saved``), ``changed in place:
    c`` (role ``changed``) and ``freed: d`` (role ``freed``), each wrapped at a name."""
    return saved_lines_of([(str(s.get("name", "")), saved_role(s))
                           for s in saved_tensors(attrs)])


def saved_role(entry: dict) -> str:
    """Return the pill a saved tensor is written on: ``freed`` (torch released it),
    ``changed`` (changed in place since it was saved: torch refuses it), ``detached``
    (a saved input detached in place: torch refuses it), ``during`` (a hook changed it in
    place during the pass, maybe not yet at this step: ``changed_during``), ``unread`` (a
    saved view of a live program past version 0, its saved version not read:
    ``view_version``) or ``saved``."""
    if entry.get("freed"):
        return "freed"
    if entry.get("changed_during"):
        return "during"
    if entry.get("view_version"):
        return "unread"
    if entry.get("detached_in_place"):
        return "detached"
    return "changed" if entry.get("changed_in_place") else "saved"


# the pills' words, in the language shown (``gradstep.i18n``): the window's, or the
# locale's for ``gradstep export`` (a box is sized for them: ``node_sizes``)
SAVED_WORDS = (("saved", N_("saved: {names}")), ("changed", N_("changed in place: {names}")),
               ("detached", N_("detached in place: {names}")),
               ("during", N_("changed in the pass?: {names}")),
               ("unread", N_("changed in place?: {names}")), ("freed", N_("freed: {names}")))


def saved_lines_of(entries) -> list[Line]:
    """Return ``saved_lines`` of the saved tensors ``entries``: (name, ``saved_role``) pairs."""
    lines: list[Line] = []
    if not entries:
        return lines
    for role, word in SAVED_WORDS:
        names = [name for name, state in entries if state == role]
        if names:
            lines += _lines(_(word, names=", ".join(names)), DETAIL_PX, role)
    return lines


def saved_line(attrs: dict) -> str:
    """Return ``saved: a, b``, ``freed: a, b`` or ``saved: a · freed: b`` ('' when none;
    ``changed in place: c`` as ``saved_lines``)."""
    tensors = saved_tensors(attrs)
    parts = []
    for role, word in SAVED_WORDS:
        names = [str(s.get("name", "")) for s in tensors if saved_role(s) == role]
        if names:
            parts.append(_(word, names=", ".join(names)))
    return " · ".join(parts)


def badge_pad(role: str) -> float:
    """Return the extra width a line's badge needs (saved and device lines sit on a pill)."""
    return 8.0 if role in BADGE_ROLES else 0.0


def node_fill(attrs: dict, *, is_root: bool = False, state: str = "pending") -> str:
    """Return the fill colour of a node: its state's, else root green, else its kind's."""
    look = state_look(state)
    if look.fill is not None:
        return look.fill
    if is_root:
        return ROOT_FILL
    return KIND_FILL.get(attrs.get("kind", "op"), KIND_FILL["op"])


def dimmed_colour(colour: str) -> str:
    """Return ``#rrggbb`` ``colour`` mixed ``DIMMED_OPACITY`` of it into white: how a box
    outside the pass shown is filled and bordered (opaque: the same on any background)."""
    value = int(colour.lstrip("#"), 16)
    return "#" + "".join(
        f"{round(DIMMED_OPACITY * ((value >> shift) & 255) + (1 - DIMMED_OPACITY) * 255):02x}"
        for shift in (16, 8, 0))


def state_look(state: str | None) -> StateLook:
    """Return the look of a backward state (``pending`` for unknown states)."""
    return STATE_LOOK.get(state or "pending", STATE_LOOK["pending"])


def root_ids(graph) -> set:
    """Return the root node ids of a graph: ``graph.graph['roots'/'root']``, else its sources."""
    roots = graph.graph.get("roots") or ([graph.graph["root"]] if "root" in graph.graph else [])
    roots = [r for r in roots if r in graph]
    if roots:
        return set(roots)
    return {n for n in graph.nodes if graph.in_degree(n) == 0}
