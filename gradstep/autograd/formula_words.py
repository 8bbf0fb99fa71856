"""The words of the readable formulas and of the formula notes, in the language shown.

The trace JSON keeps them in English (``formula_math``'s ``about``, ``where`` and
``text``, ``formula_note``: other programs read them). The tables
(``readable_*.py``, ``formulas.py``) mark every text that has words in it with ``N_``,
so the catalogue (``gradstep/resources/locale/<code>.po``) holds it, keyed by its
English; where a text is shown (the Values panel through ``formula_step``, the hover
text, the captions) ``worded`` looks it up. A text with only mathematics in it
(``∂(x·y)/∂x = y``) is not in the catalogue and comes back as it is.

A few notes are made from a template (``TEMPLATES``: a note that names an input, a
file or Python's own error); ``worded`` recognises the template and words its parts.
Pure: no Qt, no torch.
"""

from __future__ import annotations

import re
import string

from gradstep.i18n import ENGLISH, N_, language, lazy, render, translate

# Texts made from a template: each has its placeholders filled in the English text.
RNN_INPUT = N_("∂L/∂{input}: backpropagation through time, every step of the layer at once")
NO_TABLE = N_("no formulas: {reason}")
UNREADABLE_TABLE = N_("could not read {path}: {error}")
UNREADABLE_SOURCE = N_("the source of {function}.backward cannot be read: {error}")
TEMPLATES = (RNN_INPUT, NO_TABLE, UNREADABLE_TABLE, UNREADABLE_SOURCE)


def _pattern(template: str) -> re.Pattern:
    """Return a regex that matches the English texts made from ``template``."""
    parts = []
    for literal, name, _spec, _conversion in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if name is not None:
            parts.append(f"(?P<{name}>.+?)")
    return re.compile("".join(parts), re.DOTALL)


_PATTERNS = [(template, _pattern(template)) for template in TEMPLATES]


def worded(text, lang: str | None = None):
    """Return an English formula text or note (as the tables and the trace hold it) in
    ``lang`` (now: ``language()``); a text the catalogue does not know, and anything that
    is not a text, comes back as it is."""
    if not isinstance(text, str) or not text:
        return text
    lang = lang or language()
    if lang == ENGLISH:
        return text
    found = translate(text, lang)
    if found != text:
        return found
    for template, pattern in _PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            parts = {name: worded(value, lang) for name, value in match.groupdict().items()}
            return render(lazy(template, **parts), lang)
    return text
