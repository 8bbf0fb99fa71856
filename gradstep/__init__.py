"""gradstep: step through a real PyTorch backward pass, node by node.

The package holds the whole program — ``gradstep.autograd`` (the torch-side core,
no Qt), ``gradstep.kernel`` (the child process that runs snippets),
``gradstep.drawing`` (layout and pictures), ``gradstep.ui`` (the window),
``gradstep.commands`` and ``gradstep.cli`` (the command line) — and the files it
ships (``resources/``: the example lessons, the icon, the desktop entry).

Keep this module light: the window, the command line and the kernel import it
first, so nothing here imports torch, networkx or Qt at import time; the public
functions are looked up only when asked for (``gradstep.trace`` imports
``gradstep.api`` then, as napari's ``install_lazy`` does).

The Python API, on live tensors in your own process (docs/api.md)::

    import gradstep
    graph = gradstep.trace(loss)          # networkx.MultiDiGraph
    gradstep.draw(loss)                   # inline in Jupyter; .save("graph.svg")
    timeline = gradstep.backward(loss)    # a recorded pass; .grad left as it was
    gradstep.step_through(loss)           # a notebook view to step through it
    gradstep.show(loss)                   # the window on this graph and pass
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


# The public Python API (docs/api.md), looked up when first used: name -> module holding it.
_PUBLIC = {
    "trace": "gradstep.api", "draw": "gradstep.api", "backward": "gradstep.api",
    "record": "gradstep.api", "show": "gradstep.api", "step_through": "gradstep.api",
    "to_json": "gradstep.api",
    "Drawing": "gradstep.picture", "StepThrough": "gradstep.notebook",
    "Window": "gradstep.window_data", "ViewOptions": "gradstep.render_process",
}
__all__ = ["installed_version", *_PUBLIC]


def __getattr__(name: str):
    # importlib.metadata takes ~25 ms to import: only when the version is asked for
    if name == "__version__":
        return installed_version()
    module = _PUBLIC.get(name)
    if module is not None:
        from importlib import import_module

        value = getattr(import_module(module), name)
        globals()[name] = value  # found once: later look-ups are plain attribute reads
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC, "__version__"})
