"""gradstep: make PyTorch autograd visible."""

DISTRIBUTION = "gradstep"  # the name pip knows gradstep by


def installed_version() -> str:
    """Return gradstep's version from the installed package's metadata.

    A source tree that was never installed (not even with ``pip install -e``) has
    no metadata; its version is then ``0+unknown``. (``gradstep.__version__`` reads
    the same metadata; it does not import this package, so that ``python -m gradstep``
    can put its own folder first on sys.path before ``app`` is imported.)
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str):
    # looked up only when asked for: importlib.metadata takes ~25 ms to import, and every
    # gradstep process (the kernel included) imports this package
    if name == "__version__":
        return installed_version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
