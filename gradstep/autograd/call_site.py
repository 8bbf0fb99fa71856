"""Which line of the snippet made a backward call: also one made inside its own helper module.

A snippet's ``loss.backward()`` may sit in a function of a file of the user's beside it
(``from mytrain import step; step(loss)``). That call ran unrecorded: the wrapper recorded
only calls whose calling frame was compiled from the snippet's file. Its pass then freed
the graph, and the pass ``gradstep backward`` / ``check`` ran after the snippet failed on
the freed buffers ("Trying to backward through the graph a second time", exit status 1,
"Pass retain_graph=True to the FIRST backward") where ``python FILE`` ran without error.

The call is the snippet's when the frame that made it is the user's code (``is_user_file``:
the snippet's, or a file that is not the standard library's, an installed package's, torch's
or gradstep's; a package installed in editable mode, ``pip install -e``, is the user's) and
a frame of the snippet's is on the stack above it (the helper may run inside a library's
frames: ``@torch.enable_grad()`` on it). It is recorded at the line of the nearest snippet
frame. A call a library makes itself (``jacobian``, ``gradcheck``, a reentrant checkpoint,
``Thread(target=loss.backward)``'s ``run``) stays unrecorded, as before, and so does one on a
thread the snippet started (no snippet frame on that thread's stack).
"""

from __future__ import annotations

import os
import sysconfig

import torch

_GRADSTEP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # gradstep/
_FOLDERS = {sysconfig.get_paths().get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
_LIBRARY = tuple(sorted(os.path.join(os.path.realpath(folder), "") for folder in
                        _FOLDERS | {os.path.dirname(torch.__file__), _GRADSTEP}
                        if folder))
_user_file: dict[str, bool] = {}


def snippet_frame(frame, filename: str):
    """Return the frame of the snippet's file (``filename``) that made the call whose
    caller is ``frame``: ``frame`` itself, or, when ``frame`` is the user's code, the
    nearest snippet frame above it; None for a call a library made, or none of the
    snippet's above."""
    name = frame.f_code.co_filename
    if name != filename and not is_user_file(name):
        return None
    while frame is not None and frame.f_code.co_filename != filename:
        frame = frame.f_back
    return frame


def is_user_file(name: str) -> bool:
    """Return True when the code of file ``name`` is the user's, not a library's: any file
    outside the standard library, site-packages, dist-packages, torch and gradstep. A
    package installed in editable mode (``pip install -e``) is the user's: its files are
    outside site-packages, and it is most often the user's own repository, whose helper's
    ``loss.backward()`` must be recorded as the snippet's. A name that is no file
    (``<string>``, ``<frozen runpy>``) is not."""
    known = _user_file.get(name)
    if known is None:
        known = _user_file[name] = (
            os.path.isabs(name) and not os.path.realpath(name).startswith(_LIBRARY)
            and os.sep + "site-packages" + os.sep not in name
            and os.sep + "dist-packages" + os.sep not in name)
    return known
