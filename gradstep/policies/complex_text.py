"""Complex tensors written as torch prints them (pure, no torch).

The JSON has no complex numbers: ``strict_json.plain`` writes each one as a
``[real, imag]`` pair, so a complex vector of two reads like a 2x2 real matrix. Where the
dtype is known to be complex, ``complex_elements`` reads the pairs back and
``complex_words`` writes each as ``a+bj``, the real parts and the imaginary parts each
worded as one real tensor's numbers (torch formats them apart: ``tensor([1.5000+2.j])``).
"""

from __future__ import annotations

from collections.abc import Callable


def is_complex(dtype) -> bool:
    """Return True for a complex dtype's name (``complex64``, ``torch.complex128``)."""
    return isinstance(dtype, str) and dtype.removeprefix("torch.").startswith("complex")


def complex_elements(data) -> tuple | None:
    """Return ``(nested, pairs)`` for a complex tensor's data: ``nested`` is ``data`` with
    each innermost ``[real, imag]`` pair as a tuple (one element), ``pairs`` those tuples in
    order; None when ``data`` is not pairs all through (then it is not a complex tensor's)."""
    pairs: list[tuple] = []
    nested = _read(data, pairs)
    return None if nested is None else (nested, pairs)


def _read(data, pairs: list):
    if not isinstance(data, list):
        return None
    if data and not any(isinstance(item, list) for item in data):
        if len(data) != 2:
            return None
        pair = (data[0], data[1])
        pairs.append(pair)
        return pair
    out = []
    for item in data:
        read = _read(item, pairs)
        if read is None:
            return None
        out.append(read)
    return out


def complex_words(pairs: list[tuple], words_of: Callable[[list], list[str]]) -> list[str]:
    """Return each pair as ``a+bj`` / ``a-bj``; ``words_of`` words the real parts together and
    the imaginary parts together, as for a real tensor's numbers."""
    reals = words_of([p[0] for p in pairs])
    imags = words_of([p[1] for p in pairs])
    return [re + (im if im[:1] in ("-", "+") else "+" + im) + "j" for re, im in zip(reals, imags)]
