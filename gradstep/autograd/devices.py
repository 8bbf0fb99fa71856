"""Which devices a snippet can run under, and why not when it cannot."""

from __future__ import annotations

import torch

from gradstep.i18n import lazy, render

DEVICES = ("cpu", "cuda", "mps", "meta")


def device_status(name: str) -> tuple[bool, str]:
    """Return ``(available, reason)`` for a device name; ``reason`` says why not, or "" when it is."""
    ok, why = device_problem(name)
    return ok, render(why, "en") if why else ""


def device_problem(name: str) -> tuple[bool, dict | None]:
    """Return ``(available, why not)``: ``why`` is a ``gradstep.i18n.lazy`` message, or None."""
    kind = name.split(":", 1)[0]
    if kind in ("cpu", "meta"):
        return True, None
    if kind == "cuda":
        return _cuda_status(name)
    if kind == "mps":
        return _mps_status()
    return False, lazy("unknown device {name}: choose one of {devices}", name=repr(name),
                       devices=", ".join(DEVICES))


def available_devices() -> list[dict]:
    """Return ``[{"name", "available", "reason", "words"}]`` for cpu, cuda, mps and meta
    (``reason`` in English, ``words`` the same as a ``lazy`` message or None)."""
    out = []
    for name in DEVICES:
        ok, why = device_problem(name)
        out.append({"name": name, "available": ok, "reason": render(why, "en") if why else "",
                    "words": why})
    return out


def _cuda_status(name: str) -> tuple[bool, dict | None]:
    if not torch.cuda.is_available():
        if torch.version.cuda is None:
            return False, lazy("CUDA is not available: this torch build has no CUDA (it is a "
                               "CPU-only build; running on a GPU needs torch's CUDA build, "
                               "which pip installs from PyPI on Linux)")
        return False, lazy("CUDA is not available: no CUDA device found (check the driver and "
                           "CUDA_VISIBLE_DEVICES)")
    index = name.split(":", 1)[1] if ":" in name else "0"
    if index.isdigit() and int(index) >= torch.cuda.device_count():
        return False, lazy("CUDA device {index} does not exist ({count} found)", index=index,
                           count=torch.cuda.device_count())
    return True, None


def _mps_status() -> tuple[bool, dict | None]:
    mps = getattr(torch.backends, "mps", None)
    if mps is None or not mps.is_built():
        return False, lazy("MPS is not available: this torch build has no MPS support (it needs "
                           "macOS on Apple silicon)")
    if not mps.is_available():
        return False, lazy("MPS is not available: no Apple GPU found, or macOS is older than 12.3")
    return True, None
