"""How a tensor's numbers are written where a learner compares them with what the snippet
printed: as torch prints them (``print_mode``: four decimals, or whole numbers with a
point), else 4 significant digits. Pure: the autograd core (formulas) and the drawing
(boxes, edges) write numbers alike.

"Four" is torch's default ``precision``: a snippet's ``torch.set_printoptions(precision=2)``
or ``sci_mode=...`` (``PRINT_OPTS`` at the end of its run, carried in the run's reply as
``print_options``) is followed within ``printed_with(options)``; outside, torch's default
options (``DEFAULT``), so the default text is the same as ever (but a number that rounds to a
whole-looking one: ``short_text``). Only text follows them:
JSON keeps every value whole.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import NamedTuple

from gradstep.policies.strict_json import INFINITY, MINUS_INFINITY, NAN

TORCH_WORDS = {NAN: "nan", INFINITY: "inf", MINUS_INFINITY: "-inf"}  # strict JSON -> print

FIXED = "fixed"  # tensor([0.1440, -0.0828]): four decimals
WHOLE = "whole"  # tensor([4., nan, 6.]): a float tensor of whole numbers, each with a point
SHORT = "short"  # 4 significant digits: no floats, or where torch prints scientific notation
SCI = "sci"  # tensor([1.5000e+00, 2.0000e-03]): the snippet's set_printoptions(sci_mode=True)


class PrintOptions(NamedTuple):
    """What of ``torch._tensor_str.PRINT_OPTS`` writes a tensor's numbers: ``precision``
    digits after the point, ``sci_mode`` True (always scientific), False (never) or None
    (torch chooses: ``print_mode``)."""

    precision: int = 4
    sci_mode: bool | None = None


DEFAULT = PrintOptions()  # torch's own: set_printoptions(profile="default")
_SHOWN: ContextVar[PrintOptions] = ContextVar("gradstep_print_options", default=DEFAULT)


def options_of(record) -> PrintOptions:
    """Return the ``PrintOptions`` of a run reply's ``print_options`` (``{"precision",
    "sci_mode"}``; absent or None: torch's default ones)."""
    if not isinstance(record, dict):
        return DEFAULT
    precision = record.get("precision", DEFAULT.precision)
    sci_mode = record.get("sci_mode")
    if type(precision) is not int or precision < 0 or sci_mode not in (None, True, False):
        return DEFAULT  # not what PRINT_OPTS holds: the default, not a guess
    return PrintOptions(precision, sci_mode)


def print_options() -> PrintOptions:
    """Return the print options numbers are written with now (``printed_with``)."""
    return _SHOWN.get()


def use_print_options(options: PrintOptions) -> None:
    """Write numbers with ``options`` from now on, in this thread (the window, when a run's
    reply comes: its views draw on that thread)."""
    _SHOWN.set(options)


@contextmanager
def printed_with(options: PrintOptions) -> Iterator[None]:
    """Within, numbers are written with ``options`` (a snippet's ``set_printoptions``)."""
    token = _SHOWN.set(options)
    try:
        yield
    finally:
        _SHOWN.reset(token)


def print_mode(numbers) -> str:
    """Return how torch's ``print`` writes one tensor's numbers (``_auto_mode``), as the
    snippet's ``sci_mode`` (``printed_with``) has it: True, SCI for floats with a non-zero
    finite one (else WHOLE, as ``tensor([0., nan])``); False, WHOLE or FIXED, never
    scientific (``tensor([0.0000, 123456.7891])``)."""
    sci_mode = _SHOWN.get().sci_mode
    if sci_mode is None:
        return _auto_mode(numbers)
    floats = [x for x in numbers if type(x) is float]
    if not floats:
        return SHORT
    finite = [x for x in floats if x and x - x == 0]
    if sci_mode:
        return SCI if finite else WHOLE
    return WHOLE if all(x.is_integer() for x in finite) else FIXED


def _auto_mode(numbers) -> str:
    """Return how torch's ``print`` writes one tensor's numbers: FIXED when not all its
    finite floats are whole and the non-zero ones are between 1e-4 and 1e4 within a factor
    1000 (torch's scientific-notation rule, with 1e4 for its 1e8 to keep boxes narrow),
    WHOLE when its floats' finite values are all whole and torch keeps them out of
    scientific notation (the largest at most 1e8 and at most 1000 times the smallest
    non-zero one: ``tensor([4., nan, 6.])``, ``tensor(0.)``), else SHORT (ints and bools,
    which print as they are, the numbers torch writes as ``1.0000e+05``, and those with a
    fraction from 1e4 on, which torch writes as ``12345.6777``: kept to 4 significant digits
    here so boxes stay narrow)."""
    low = high = 0.0
    whole = True
    for x in numbers:
        if type(x) is not float or not x or x - x != 0:  # not a float, zero, NaN or ±inf
            continue
        if x < 0:
            x = -x
        if whole and not x.is_integer():
            whole = False
        if not low or x < low:
            low = x
        if x > high:
            high = x
    if whole:  # (a float tensor of zeros, NaN and ±inf alone prints tensor([0., nan]))
        if not any(type(x) is float for x in numbers):
            return SHORT
        return WHOLE if high <= 1e8 and (not low or high / low <= 1000) else SHORT
    # high / low as torch divides (``high <= 1000 * low`` rounds apart: [0.7, 700.])
    return FIXED if low >= 1e-4 and high < 1e4 and high / low <= 1000 else SHORT


def mode_one(x: float) -> str:
    """``print_mode((x,))`` for one float, quicker (a box per node of a big graph); for NaN
    and ±inf SHORT, where ``print_mode`` says WHOLE: ``float_text`` writes them alike in
    either mode (``nan``, ``inf``)."""
    sci_mode = _SHOWN.get().sci_mode
    if sci_mode is not None:
        if sci_mode:
            return SCI if x and x - x == 0 else WHOLE
        return WHOLE if x.is_integer() else FIXED  # nan, inf: written alike in either
    size = x if x > 0 else -x
    if size.is_integer():  # inf is not an integer; a NaN compares false above
        return WHOLE if size <= 1e8 else SHORT
    return FIXED if 1e-4 <= size < 1e4 else SHORT


def float_text(x: float, mode: str, in_tensor: bool = False) -> str:
    """Return a float of a formula's value as text: four decimals (the ``precision`` of
    ``printed_with``) where torch prints its tensor with four (``mode`` FIXED), in
    scientific notation with as many (SCI), a whole number of a tensor's numbers (``in_tensor``)
    as ``2.`` (WHOLE: ``tensor([0., 2.])``), a lone whole number as ``2.0`` (a scalar
    prints so; a 0-d tensor would print ``tensor(2.)``, which its data cannot tell apart),
    else ``short_text`` (4 significant digits with torch's default options)."""
    precision = _SHOWN.get().precision
    if mode == FIXED:
        return f"{x:.{precision}f}"
    if mode == SCI:
        return f"{x:.{precision}e}"
    if mode == WHOLE and x - x == 0:  # up to 1e8: 50000000. (a scalar 50000000.0), not 5e+07
        return f"{x:.0f}." if in_tensor else f"{x:.1f}"
    if x.is_integer() and abs(x) < 1e6:
        return f"{x:.1f}"
    return short_text(x)


def short_digits(precision: int) -> int:
    """Return how many significant digits ``short_text`` keeps at ``precision``: torch's own
    (its scientific notation writes ``precision + 1``: ``1.05e+00`` at 2) up to 4, the
    precision from 4 on (torch's default 4: ``1.047`` where torch writes ``1.0470e+00``, the
    boxes' and edges' text as it always was; a box stays narrow)."""
    return precision + 1 if precision < 4 else precision


def short_text(x: float) -> str:
    """Return a float in ``short_digits`` significant digits (of ``printed_with``'s
    precision), trailing zeros dropped (``0.6`` for torch's ``6.00e-01``), but never as a
    whole number when it is not one: ``1.047`` at precision 0 is torch's ``1e+00``, not
    ``1``; 0.9996 at precision 2 is ``1.00``, as torch's ``1.00e+00``; ``nan``, ``inf``."""
    digits = short_digits(_SHOWN.get().precision)
    text = f"{x:.{digits}g}"
    if x - x != 0 or x.is_integer() or "." in text or "e" in text:
        return text
    text = f"{x:#.{digits}g}"  # its zeros kept: 1.00, 12.0
    return f"{x:.{digits - 1}e}" if text.endswith(".") else text


def torch_printed(numbers: list) -> list[str]:
    """Return one tensor's numbers each as torch's ``print`` writes it with its default
    options, or those of ``printed_with`` (``torch._tensor_str._Formatter``, less the
    padding: four is the ``precision``; a ``sci_mode`` of True or False decides the
    scientific notation instead of the sizes): ints and bools as they
    are; floats in scientific notation (``1.2346e+05``) where the largest non-zero finite
    one is over 1e8 or over 1000 times the smallest, or, not all whole, the smallest is
    under 1e-4; else whole ones with a point (``4.``) and the rest with four decimals
    (``500.5000``, ``1.0000``); strict JSON's ``"NaN"`` and the infinities as ``nan``,
    ``inf``. No width to keep here: the text where every number is wanted (an edge's
    tooltip), not a box's."""
    floats = [float(TORCH_WORDS.get(x, x)) if isinstance(x, str) else x for x in numbers]
    if not any(type(x) is float for x in floats):
        return [str(x) for x in floats]
    precision, sci_mode = _SHOWN.get()
    sizes = [abs(x) for x in floats if x and x - x == 0]  # non-zero and finite
    whole = all(x.is_integer() for x in sizes)
    if not sizes:  # torch decides nothing: tensor([0., nan])
        sci = False
    elif sci_mode is not None:
        sci = sci_mode
    else:
        sci = (max(sizes) / min(sizes) > 1000.0 or max(sizes) > 1.0e8
               or (not whole and min(sizes) < 1.0e-4))
    if sci:
        return [f"{x:.{precision}e}" if x - x == 0 else _nonfinite(x) for x in floats]
    if whole:
        return [f"{x:.0f}." if x - x == 0 else _nonfinite(x) for x in floats]
    return [f"{x:.{precision}f}" if x - x == 0 else _nonfinite(x) for x in floats]


def _nonfinite(x: float) -> str:
    return "nan" if x != x else ("inf" if x > 0 else "-inf")
