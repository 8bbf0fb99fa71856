"""gradstep: step through a real PyTorch backward pass, node by node.

The package holds the whole program — ``gradstep.autograd`` (the torch-side core,
no Qt), ``gradstep.kernel`` (the child process that runs snippets),
``gradstep.drawing`` (layout and pictures), ``gradstep.ui`` (the window),
``gradstep.commands`` and ``gradstep.cli`` (the command line) — and the files it
ships (``resources/``: the example lessons, the icon, the desktop entry).

Keep this module light: the window, the command line and the kernel import it
first, so nothing here imports torch, networkx or Qt at import time; the public
functions are looked up only when asked for.
"""

DISTRIBUTION = "gradstep"  # the name pip knows gradstep by


def installed_version() -> str:
    """Return gradstep's version from the installed package's metadata.

    A source tree that was never installed (not even with ``pip install -e``) has
    no metadata; its version is then ``0+unknown``.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str):
    # importlib.metadata takes ~25 ms to import: only when the version is asked for
    if name == "__version__":
        return installed_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
