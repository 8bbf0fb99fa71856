"""What a ``SystemExit`` means to ``python FILE``: status 0 (the script ended well) or not."""

from __future__ import annotations


def ended_well(exc: BaseException) -> bool:
    """Return True for ``sys.exit()``, ``sys.exit(0)``, ``exit()``, ``raise SystemExit`` (code
    None or 0, ``False`` too): ``python FILE`` ends there with status 0, so a snippet that
    raised it ended normally, as if its file ended there. Any other code (a number, a
    message) is a failure (python: status 1 or more). Read as python reads it: an ``int`` by
    its value, and no code of the object's own runs (``type()``, ``int.__bool__``)."""
    if not isinstance(exc, SystemExit):
        return False
    try:
        code = exc.code  # a subclass's own property may fail: then a failure, as any error
    except Exception:
        return False
    return code is None or (issubclass(type(code), int) and not int.__bool__(code))
