"""The kernel's limits: memory cap, output cap, and how to read them from the environment.

``GRADSTEP_MEMORY_LIMIT`` (e.g. ``8G``, ``1500M``, ``0`` for no cap) and
``GRADSTEP_OUTPUT_LIMIT`` (e.g. ``100K``) override the defaults; a ``Kernel``
argument overrides both.
"""

from __future__ import annotations

import os
import sys

MEMORY_ENV = "GRADSTEP_MEMORY_LIMIT"
OUTPUT_ENV = "GRADSTEP_OUTPUT_LIMIT"

GIB = 2**30
# Importing torch maps about 0.8 GiB of address space; every thread adds a stack
# and a malloc arena. Below this floor the kernel could not even start.
MEMORY_FLOOR = 2 * GIB
MEMORY_PER_CPU = 128 * 2**20
DEFAULT_OUTPUT_LIMIT = 100 * 1024

_UNITS = {"": 1, "B": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}


def parse_size(text: str) -> int:
    """Return the byte count of ``text`` like ``8G``, ``512M``, ``100K``, ``1.5GiB`` or ``123``.

    Raises ValueError with a plain message when the text is not a size.
    """
    cleaned = text.strip().upper().replace("IB", "").rstrip("B") or "0"
    unit = cleaned[-1] if cleaned[-1] in _UNITS else ""
    number = cleaned[: len(cleaned) - len(unit)].strip()
    try:
        value = float(number)
    except ValueError:
        raise ValueError(f"{text!r} is not a size; write it like 8G, 512M or 100K") from None
    if value < 0:
        raise ValueError(f"{text!r} is negative; a size must be 0 or more")
    return int(value * _UNITS[unit])


def machine_memory() -> int | None:
    """Return the machine's physical memory in bytes, or None when it cannot be read."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def memory_floor() -> int:
    """Return the smallest address-space cap the kernel can start under, in bytes."""
    return MEMORY_FLOOR + MEMORY_PER_CPU * (os.cpu_count() or 1)


def default_memory_limit() -> int:
    """Return the default cap in bytes: min(8 GiB, half the RAM), never below the floor."""
    ram = machine_memory()
    cap = 8 * GIB if ram is None else min(8 * GIB, ram // 2)
    return max(cap, memory_floor())


def resolve_memory_limit(limit: int | str | None = None) -> int:
    """Return the cap in bytes (0 = no cap) from ``limit``, else the environment, else the default.

    A non-zero cap below the floor is raised to the floor, because the kernel
    would not start under it.
    """
    if limit is None:
        size = _size_from_env(MEMORY_ENV, default_memory_limit())
    else:
        size = parse_size(limit) if isinstance(limit, str) else int(limit)
    return 0 if size == 0 else max(size, memory_floor())


def resolve_output_limit(limit: int | str | None = None) -> int:
    """Return how many bytes of a request's output are kept, from ``limit``, the environment or the default."""
    if limit is None:
        return max(1024, _size_from_env(OUTPUT_ENV, DEFAULT_OUTPUT_LIMIT))
    return max(1024, parse_size(limit) if isinstance(limit, str) else int(limit))


def _size_from_env(name: str, default: int) -> int:
    """Return the size in environment variable ``name``, or ``default`` when unset or not a size.

    A value that is not a size is reported on stderr and ignored, so a typo in
    the environment never stops gradstep from starting.
    """
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    try:
        return parse_size(text)
    except ValueError as exc:
        sys.stderr.write(f"gradstep: ignoring {name}: {exc}; using {format_size(default)}\n")
        return default


def format_size(size: int) -> str:
    """Return ``size`` bytes as a short human text like ``8.0 GiB``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"
