"""gradstep's words in the person's language, for the parts that have no Qt.

One catalogue per language, ``gradstep/resources/locale/<code>.po`` (gettext's
format: every translation tool reads it), keyed by the English text, holds every
message of the pure parts: error titles, explanations and fixes, the kernel's own
failures, the command line's messages, example titles, the Diagnose findings. The
window's own words go through Qt (``tr()``, ``gradstep/resources/translations``).

- ``_("text {name}", name=...)`` translates now, into ``language()``, and fills
  the placeholders (``str.format`` names; the translation has the same ones).
- ``N_("text")`` only marks a text for the catalogue (it is translated where shown).
- ``lazy("text {name}", name=...)`` returns a message to translate later:
  ``{"msgid", "args"}``, plain data that crosses the kernel's pipe. An argument may
  itself be such a message. Error dicts keep their English ``title``,
  ``explanation``, ``fix`` (the JSON contract) and carry these messages in
  ``words``; ``localized(err)`` words them in the language shown, so the window
  can switch language without running the snippet again.

The language is the override the window sets (View › Language, remembered in its
settings), else the locale environment (``languages.system_language``).
Pure: no Qt, no torch.
"""

from __future__ import annotations

import contextvars
import functools
import os
import re
import string
from collections.abc import Iterator
from contextlib import contextmanager

from gradstep.i18n.languages import ENGLISH, LANGUAGES, UNSPACED, system_language
from gradstep.i18n.po import read_catalogue

__all__ = ["ENGLISH", "LANGUAGES", "N_", "_", "catalogue", "field_names", "language",
           "lazy", "localized", "render", "set_language", "system_language", "translate",
           "using", "with_words"]

_override: str | None = None
_temporary: contextvars.ContextVar[str | None] = contextvars.ContextVar("gradstep_language",
                                                                       default=None)


def set_language(code: str | None) -> None:
    """Use language ``code`` from now on (None: follow the locale environment again)."""
    global _override
    if code is not None and code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}; gradstep has {', '.join(LANGUAGES)}")
    _override = code


def language() -> str:
    """Return the code of the language texts are translated into now."""
    return _temporary.get() or _override or system_language()


@contextmanager
def using(code: str) -> Iterator[None]:
    """Translate into ``code`` inside the block (this thread and context only); the JSON
    a command prints is worded in English this way, whatever the locale."""
    token = _temporary.set(code)
    try:
        yield
    finally:
        _temporary.reset(token)


@functools.cache
def catalogue(code: str) -> dict[str, str]:
    """Return ``{English: translation}`` for ``code`` ({} for English or a missing file)."""
    if code == ENGLISH:
        return {}
    from gradstep.shipped import resource

    try:
        text = resource(f"locale/{code}.po").read_text(encoding="utf-8")
    except (FileNotFoundError, OSError):
        return {}
    return read_catalogue(text)


def translate(msgid: str, lang: str | None = None) -> str:
    """Return the translation of ``msgid`` into ``lang`` (now: ``language()``), or
    ``msgid`` itself when the catalogue has none."""
    return catalogue(lang or language()).get(msgid, msgid)


def field_names(text: str) -> set[str]:
    """Return the placeholder names of a ``str.format`` text (``{0}``, ``{name:.2g}``)."""
    try:
        return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError:
        return {"<unreadable>"}


# a space between two CJK characters or CJK punctuation marks
_CJK_SPACE = re.compile(r"(?<=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]) "
                        r"(?=[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef])")


_KEPT_SPACE = "\ue000"  # a private-use character: a space of a value filled in, kept as it is
_EDGE = "\ue001"  # around a value filled in: the spaces beside it are kept too
_ESCAPE = "\ue002"  # before one of these three characters that is the value's own
_MARKS = re.compile("[\ue000-\ue002]")
_MARKED = re.compile("\ue002(.)|[\ue000\ue001]", re.DOTALL)


def _filled(msgid: str, args: dict, lang: str) -> str:
    """Return ``msgid`` translated and filled with ``args`` (worded by ``_worded``), the
    kept spaces still marked (a message filled into another is taken through it again)."""
    text = translate(msgid, lang)
    if not args:
        return text
    args = _worded(args, lang)
    try:
        text = text.format(**args)
    except (KeyError, IndexError, ValueError):  # a broken translation: English, never a crash
        text = msgid.format(**args)
    return _CJK_SPACE.sub("", text) if lang in UNSPACED else text  # the translation's spaces


def _worded(args: dict, lang: str) -> dict:
    """Return ``args`` with each ``lazy`` message worded in ``lang``; in a language written
    without spaces, a plain value's spaces (a path ``dir/图 一.png``, the snippet's code) and
    the spaces beside it are marked to be kept where ``_filled`` takes out the spaces between
    CJK characters (it made ``图 一.png`` read ``图一.png``, a file that does not exist, and
    ``文件夹 新 目录 不存在`` read ``文件夹 新目录不存在``: where does the name end?)."""
    unspaced = lang in UNSPACED
    worded = {}
    for key, value in args.items():
        if is_message(value):
            value = _filled(value["msgid"], value.get("args") or {}, lang)
        elif unspaced and isinstance(value, (str, os.PathLike)):
            value = _MARKS.sub(lambda m: _ESCAPE + m.group(), format(value))  # its own: kept
            value = _EDGE + value.replace(" ", _KEPT_SPACE) + _EDGE
        worded[key] = value
    return worded


def _plain(text: str, lang: str) -> str:
    """Return ``text`` (``_filled``'s in ``lang``) without the marks of the values' spaces
    (only a language written without spaces has them); a value's own private-use characters,
    escaped, come back as they were."""
    if lang not in UNSPACED:
        return text
    return _MARKED.sub(lambda m: m.group(1) or (" " if m.group() == _KEPT_SPACE else ""), text)


def _(msgid: str, /, **args) -> str:
    """Return ``msgid`` translated into ``language()``, its placeholders filled with ``args``
    (an argument that is a ``lazy`` message is worded in the same language)."""
    lang = language()
    return _plain(_filled(msgid, args, lang), lang)


def N_(msgid: str) -> str:  # noqa: N802 (gettext's name for "mark only")
    """Return ``msgid`` unchanged: marks a text for the catalogue, translated where shown."""
    return msgid


def lazy(msgid: str, /, **args) -> dict:
    """Return a message to word later (``render``): ``{"msgid": msgid, "args": args}``."""
    return {"msgid": msgid, "args": args}


def is_message(value) -> bool:
    return isinstance(value, dict) and isinstance(value.get("msgid"), str)


def render(message, lang: str | None = None):
    """Return a ``lazy`` message worded in ``lang`` (now: ``language()``); anything else
    (a name, a number, torch's own words) comes back as it is."""
    if not is_message(message):
        return message
    lang = lang or language()
    return _plain(_filled(message["msgid"], message.get("args") or {}, lang), lang)


WORDED = ("message", "title", "explanation", "fix")


def with_words(err: dict, **messages) -> dict:
    """Set ``err``'s texts from ``lazy`` messages (``title=lazy(...)``, ...): each field in
    English, and the messages in ``err["words"]`` for ``localized``; plain strings are set
    as they are (and drop an older message for that field). Returns ``err``."""
    words = dict(err.get("words") or {})
    for key, value in messages.items():
        if is_message(value):
            words[key] = value
            err[key] = render(value, ENGLISH)
        else:
            words.pop(key, None)
            err[key] = value
    if words:
        err["words"] = words
    else:
        err.pop("words", None)
    return err


def localized(err: dict | None, lang: str | None = None) -> dict | None:
    """Return a copy of an error dict with its texts worded in ``lang`` (now: ``language()``).
    ``message`` stays torch's own words unless gradstep wrote it."""
    if not err or not err.get("words"):
        return err
    out = dict(err)
    for key, message in err["words"].items():
        out[key] = render(message, lang)
    return out
