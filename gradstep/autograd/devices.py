"""Which devices a snippet can run under, and why not when it cannot."""

from __future__ import annotations

import torch

DEVICES = ("cpu", "cuda", "mps", "meta")


def device_status(name: str) -> tuple[bool, str]:
    """Return ``(available, reason)`` for a device name; ``reason`` says why not, or "" when it is."""
    kind = name.split(":", 1)[0]
    if kind in ("cpu", "meta"):
        return True, ""
    if kind == "cuda":
        return _cuda_status(name)
    if kind == "mps":
        return _mps_status()
    return False, f"unknown device {name!r}: choose one of {', '.join(DEVICES)}"


def available_devices() -> list[dict]:
    """Return ``[{"name", "available", "reason"}]`` for cpu, cuda, mps and meta."""
    out = []
    for name in DEVICES:
        ok, reason = device_status(name)
        out.append({"name": name, "available": ok, "reason": reason})
    return out


def _cuda_status(name: str) -> tuple[bool, str]:
    if not torch.cuda.is_available():
        if torch.version.cuda is None:
            return False, "CUDA is not available: this torch build has no CUDA (it is a CPU-only build)"
        return False, "CUDA is not available: no CUDA device found (check the driver and CUDA_VISIBLE_DEVICES)"
    index = name.split(":", 1)[1] if ":" in name else "0"
    if index.isdigit() and int(index) >= torch.cuda.device_count():
        return False, f"CUDA device {index} does not exist ({torch.cuda.device_count()} found)"
    return True, ""


def _mps_status() -> tuple[bool, str]:
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_built():
        return False, "MPS is not available: this torch build has no MPS support (it needs macOS on Apple silicon)"
    if not mps.is_available():
        return False, "MPS is not available: no Apple GPU found, or macOS is older than 12.3"
    return True, ""
