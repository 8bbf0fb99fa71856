"""gradstep: step through a real PyTorch backward pass, node by node.

This package is gradstep's public face; it also carries the files gradstep
ships (``resources/``: the example lessons, the icon, the desktop entry).
The command line and the window live in ``app``.

Keep this module light: the window and the command line import it to find the
shipped files, so nothing here may import torch or Qt at import time.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("gradstep")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
