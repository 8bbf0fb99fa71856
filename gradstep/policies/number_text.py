"""How a tensor's numbers are written where a learner compares them with what the snippet
printed: as torch prints them (``print_mode``: four decimals, or whole numbers with a
point), else 4 significant digits. Pure: the autograd core (formulas) and the drawing
(boxes, edges) write numbers alike."""

from __future__ import annotations

from gradstep.policies.strict_json import INFINITY, MINUS_INFINITY, NAN

TORCH_WORDS = {NAN: "nan", INFINITY: "inf", MINUS_INFINITY: "-inf"}  # strict JSON -> print

FIXED = "fixed"  # tensor([0.1440, -0.0828]): four decimals
WHOLE = "whole"  # tensor([4., nan, 6.]): a float tensor of whole numbers, each with a point
SHORT = "short"  # 4 significant digits: no floats, or where torch prints scientific notation


def print_mode(numbers) -> str:
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
    size = x if x > 0 else -x
    if size.is_integer():  # inf is not an integer; a NaN compares false above
        return WHOLE if size <= 1e8 else SHORT
    return FIXED if 1e-4 <= size < 1e4 else SHORT


def float_text(x: float, mode: str, in_tensor: bool = False) -> str:
    """Return a float of a formula's value as text: four decimals where torch prints its
    tensor with four (``mode`` FIXED), a whole number of a tensor's numbers (``in_tensor``)
    as ``2.`` (WHOLE: ``tensor([0., 2.])``), a lone whole number as ``2.0`` (a scalar
    prints so; a 0-d tensor would print ``tensor(2.)``, which its data cannot tell apart),
    else 4 significant digits."""
    if mode == FIXED:
        return f"{x:.4f}"
    if mode == WHOLE and x - x == 0:  # up to 1e8: 50000000. (a scalar 50000000.0), not 5e+07
        return f"{x:.0f}." if in_tensor else f"{x:.1f}"
    if x.is_integer() and abs(x) < 1e6:
        return f"{x:.1f}"
    return f"{x:.4g}"


def torch_printed(numbers: list) -> list[str]:
    """Return one tensor's numbers each as torch's ``print`` writes it with its default
    options (``torch._tensor_str._Formatter``, less the padding): ints and bools as they
    are; floats in scientific notation (``1.2346e+05``) where the largest non-zero finite
    one is over 1e8 or over 1000 times the smallest, or, not all whole, the smallest is
    under 1e-4; else whole ones with a point (``4.``) and the rest with four decimals
    (``500.5000``, ``1.0000``); strict JSON's ``"NaN"`` and the infinities as ``nan``,
    ``inf``. No width to keep here: the text where every number is wanted (an edge's
    tooltip), not a box's."""
    floats = [float(TORCH_WORDS.get(x, x)) if isinstance(x, str) else x for x in numbers]
    if not any(type(x) is float for x in floats):
        return [str(x) for x in floats]
    sizes = [abs(x) for x in floats if x and x - x == 0]  # non-zero and finite
    whole = all(x.is_integer() for x in sizes)
    sci = bool(sizes) and (max(sizes) / min(sizes) > 1000.0 or max(sizes) > 1.0e8
                           or (not whole and min(sizes) < 1.0e-4))
    if sci:
        return [f"{x:.4e}" if x - x == 0 else _nonfinite(x) for x in floats]
    if whole:
        return [f"{x:.0f}." if x - x == 0 else _nonfinite(x) for x in floats]
    return [f"{x:.4f}" if x - x == 0 else _nonfinite(x) for x in floats]


def _nonfinite(x: float) -> str:
    return "nan" if x != x else ("inf" if x > 0 else "-inf")
