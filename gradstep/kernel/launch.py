"""How the kernel's child process is started: its command line and its environment.

The worker is started as ``python -c BOOTSTRAP ARGS`` rather than ``python -m
<package>.kernel.worker``: ``-m`` (and ``-c``) put the current folder first on
``sys.path``, so a user's own ``app/`` package (a common Flask/FastAPI layout)
would be imported instead of gradstep's. The bootstrap removes that entry
before importing anything of gradstep's, and puts the folder that holds
gradstep's own top-level package first when it is not on ``sys.path`` already
(a source checkout, an editable install). This works on every Python gradstep
supports; ``-P`` would need 3.11.

Module names come from ``__package__``, so moving the packages (``app`` under
``gradstep``) needs no change here.
"""

from __future__ import annotations

import importlib
import os
import sys
from pathlib import Path

WORKER_MODULE = f"{__package__}.worker"
TOP_PACKAGE = __name__.partition(".")[0]


def package_root() -> str:
    """Return the folder holding gradstep's top-level package (site-packages, or a source tree)."""
    top = importlib.import_module(TOP_PACKAGE)
    return str(Path(top.__file__).resolve().parents[1])


def bootstrap_code(root: str | None = None, module: str = WORKER_MODULE) -> str:
    """Return the ``-c`` code that makes gradstep's own modules win, then runs ``module.main()``
    (the worker; the Python API starts its picture renderer and the window the same way)."""
    root = package_root() if root is None else root
    return (
        "import os, sys\n"
        # without -P / PYTHONSAFEPATH, sys.path[0] is '' (the current folder)
        "if not getattr(sys.flags, 'safe_path', False):\n"
        "    del sys.path[0]\n"
        f"root = {root!r}\n"
        "if root not in {os.path.realpath(p) for p in sys.path if p}:\n"
        "    sys.path.insert(0, root)\n"
        f"import {module} as worker\n"
        "worker.main()\n"
    )


def worker_command(arguments: list[str], module: str = WORKER_MODULE) -> list[str]:
    """Return the command line that starts ``module`` (default: the worker) with ``arguments``."""
    return [sys.executable, "-c", bootstrap_code(module=module), *arguments]


ADDED_ENV = "GRADSTEP_ADDED_ENV"  # the names child_environment added, for the worker to take out


def plain_environment() -> None:
    """In the worker: take out of ``os.environ`` what ``child_environment`` added for the
    process's start, so the snippet (and what it starts) sees the user's environment."""
    for name in os.environ.pop(ADDED_ENV, "").split(","):
        if name:
            os.environ.pop(name, None)


def child_environment() -> dict[str, str]:
    """Return the worker's environment: unbuffered output, fewer malloc arenas.

    Nothing is added to PYTHONPATH: the bootstrap finds gradstep's modules, and
    the snippet (and any Python it starts) sees the user's environment unchanged.
    """
    env = dict(os.environ)
    added = {"PYTHONUNBUFFERED": "1",  # what was printed before a kill still reaches the output
             "MALLOC_ARENA_MAX": "2"}  # each arena reserves 64 MiB of the address-space cap
    # Both are read as the process starts; the worker then takes the ones the user's
    # environment did not have out of os.environ again (plain_environment).
    # A user's own value is kept; one a gradstep process started with (a window that
    # `gradstep.show()` started, which starts kernels in turn) is gradstep's, not the user's.
    inherited = env.pop(ADDED_ENV, "").split(",")
    missing = [name for name in added if not env.get(name) or name in inherited]
    env.update({name: added[name] for name in missing}, **{ADDED_ENV: ",".join(missing)})
    env.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
    return env
