"""Which line of the snippet made a backward call: also one made inside its own helper module.

A snippet's ``loss.backward()`` may sit in a function of a file of the user's beside it
(``from mytrain import step; step(loss)``). That call ran unrecorded: the wrapper recorded
only calls whose calling frame was compiled from the snippet's file. Its pass then freed
the graph, and the pass ``gradstep backward`` / ``check`` ran after the snippet failed on
the freed buffers ("Trying to backward through the graph a second time", exit status 1,
"Pass retain_graph=True to the FIRST backward") where ``python FILE`` ran without error.

The call is the snippet's when the frames between the wrapper and the snippet's own frame
are all the user's code: none of them is the standard library's, an installed package's
(torch's included) or gradstep's. A call made inside a library (``jacobian``, ``gradcheck``,
a reentrant checkpoint, a thread's ``run``) stays unrecorded, as before.
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
    caller is ``frame``: ``frame`` itself, or the first snippet frame above user-code
    frames only; None when a library frame (or none of the snippet's) comes first."""
    while frame is not None:
        name = frame.f_code.co_filename
        if name == filename:
            return frame
        if not _is_user_file(name):
            return None
        frame = frame.f_back
    return None


def _is_user_file(name: str) -> bool:
    known = _user_file.get(name)
    if known is None:
        known = _user_file[name] = (
            os.path.isabs(name) and not os.path.realpath(name).startswith(_LIBRARY)
            and os.sep + "site-packages" + os.sep not in name
            and os.sep + "dist-packages" + os.sep not in name)
    return known
