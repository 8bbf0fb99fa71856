"""Which language the person asked for: the locale environment, and the languages gradstep has.

The environment is read the way GNU gettext and Python's ``gettext.find`` read it:
the first of ``LANGUAGE``, ``LC_ALL``, ``LC_MESSAGES``, ``LANG`` that is set and not
empty decides; ``LANGUAGE`` may list several languages in order of preference
(``zh_CN:en``); ``C`` and ``POSIX`` mean the untranslated program (English).
Pure: no Qt, no torch.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

ENGLISH = "en"
LOCALE_VARIABLES = ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG")

# code -> the language's own name (what View › Language lists). English is the source
# language; every other code has gradstep/resources/locale/<code>.po and
# gradstep/resources/translations/gradstep_<code>.ts/.qm.
LANGUAGES = {
    ENGLISH: "English",
    "zh_CN": "简体中文",
}

# Languages written without spaces between words: a space the English order put between
# two of their characters (a phrase filled into a placeholder) is dropped when worded.
UNSPACED = {"zh_CN"}

# Locale names that mean one of LANGUAGES although they are not spelled like it.
# Traditional Chinese (zh_TW, zh_HK, zh_Hant) is deliberately absent: showing it
# Simplified characters would be a guess, so it falls through to the next choice.
ALIASES = {
    "zh": "zh_CN",
    "zh_SG": "zh_CN",
    "zh_Hans": "zh_CN",
    "zh_Hans_CN": "zh_CN",
    "zh_Hans_SG": "zh_CN",
}


def normalize(name: str) -> str:
    """Return a locale name without its encoding or modifier, region upper case:
    ``zh_cn.UTF-8`` -> ``zh_CN``, ``en_US@euro`` -> ``en_US``, ``zh-Hans`` -> ``zh_Hans``."""
    base = name.strip().split(".", 1)[0].split("@", 1)[0].replace("-", "_")
    parts = [p for p in base.split("_") if p]
    if not parts:
        return ""
    out = [parts[0].lower()]
    for part in parts[1:]:
        out.append(part.upper() if len(part) == 2 else part.capitalize())
    return "_".join(out)


def match(name: str) -> str | None:
    """Return the code in ``LANGUAGES`` that locale ``name`` asks for, or None.

    ``C``/``POSIX`` give English; an exact code or an alias gives that code; a
    language alone (``zh``, ``en``) gives the first code of that language."""
    if name.strip().split(".", 1)[0] in ("C", "POSIX"):
        return ENGLISH
    code = normalize(name)
    if not code:
        return None
    if code in LANGUAGES:
        return code
    if code in ALIASES:
        return ALIASES[code]
    if code.split("_", 1)[0] == ENGLISH:
        return ENGLISH
    return None


def requested(environ: Mapping[str, str] | None = None) -> list[str]:
    """Return the locale names the environment asks for, in order of preference."""
    environ = os.environ if environ is None else environ
    for variable in LOCALE_VARIABLES:
        value = environ.get(variable)
        if value:
            names = value.split(":") if variable == "LANGUAGE" else [value]
            return [n for n in names if n.strip()]
    return []


def system_language(environ: Mapping[str, str] | None = None) -> str:
    """Return the code of the language the environment asks for (English when gradstep
    has none of the languages it lists)."""
    for name in requested(environ):
        code = match(name)
        if code is not None:
            return code
    return ENGLISH
