"""Which failures mean "out of memory": one list of the words allocators use, for every layer.

``autograd.errors`` gives such a snippet error the kind ``memory``; the kernel's worker
(``kernel.worker.upgrade_memory_error``) rewrites it to name the kernel's memory cap; the
client (``kernel.messages.start_error``) reads a kernel that could not even start for them.
"""

from __future__ import annotations

# What torch's and the C library's allocators say (CPU: "can't allocate memory: you tried to
# allocate ..."; CUDA: "CUDA out of memory"; the OS: "Cannot allocate memory").
MESSAGE_PATTERNS: tuple[str, ...] = ("can't allocate memory", "not enough memory", "out of memory",
                                     "Cannot allocate memory", "CPU memory")
# What a process that died of it leaves in its output, besides those.
OUTPUT_PATTERNS: tuple[str, ...] = MESSAGE_PATTERNS + ("MemoryError", "std::bad_alloc")
# The part of torch's CPU message that says how much was asked for comes after this.
ALLOCATION_PREFIX = "can't allocate memory:"


def is_memory_message(text: str) -> bool:
    """Return True when an exception's message says an allocation failed."""
    return any(pattern in text for pattern in MESSAGE_PATTERNS)


def is_memory_output(text: str) -> bool:
    """Return True when a process's output says it ran out of memory."""
    return any(pattern in text for pattern in OUTPUT_PATTERNS)


def looks_like_memory(error: dict | None) -> bool:
    """Return True when an error record is really the process running out of memory."""
    if not error:
        return False
    if error.get("type") == "MemoryError" or error.get("kind") == "memory":
        return True
    return is_memory_message(str(error.get("message") or ""))


def allocation_detail(message: str) -> str:
    """Return what an allocation failure asked for: ``you tried to allocate 8 GB`` from
    torch's "can't allocate memory: you tried to allocate 8 GB. Error code 12 (...)"."""
    detail = message.split(ALLOCATION_PREFIX)[-1]
    return detail.split(". Error code")[0].strip()
