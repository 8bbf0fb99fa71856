"""Which line of the snippet made a backward call: also one made inside its own helper module.

A snippet's ``loss.backward()`` may sit in a function of a file of the user's beside it
(``from mytrain import step; step(loss)``). That call ran unrecorded: the wrapper recorded
only calls whose calling frame was compiled from the snippet's file. Its pass then freed
the graph, and the pass ``gradstep backward`` / ``check`` ran after the snippet failed on
the freed buffers ("Trying to backward through the graph a second time", exit status 1,
"Pass retain_graph=True to the FIRST backward") where ``python FILE`` ran without error.

The call is the snippet's when the frame that made it is the user's code (``is_user_file``:
the snippet's, a file in the snippet's folder or below it, or any other file that is not the
standard library's, an installed package's, torch's or gradstep's; a package installed in
editable mode, ``pip install -e``, is an installed package though its files are outside
site-packages, unless the snippet is in its project too: the user's own repository
installed that way, the script in its ``scripts/``) and
a frame of the snippet's is on the stack above it (the helper may run inside a library's
frames: ``@torch.enable_grad()`` on it). It is recorded at the line of the nearest snippet
frame. A call a library makes itself (``jacobian``, ``gradcheck``, a reentrant checkpoint,
``Thread(target=loss.backward)``'s ``run``) stays unrecorded, as before, and so does one on a
thread the snippet started (no snippet frame on that thread's stack).
"""

from __future__ import annotations

import functools
import json
import os
import sysconfig

import torch

_GRADSTEP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # gradstep/
_FOLDERS = {sysconfig.get_paths().get(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
_LIBRARY = tuple(sorted(os.path.join(os.path.realpath(folder), "") for folder in
                        _FOLDERS | {os.path.dirname(torch.__file__), _GRADSTEP}
                        if folder))
_user_file: dict[tuple[str, str], bool] = {}


def snippet_frame(frame, filename: str):
    """Return the frame of the snippet's file (``filename``) that made the call whose
    caller is ``frame``: ``frame`` itself, or, when ``frame`` is the user's code, the
    nearest snippet frame above it; None for a call a library made, or none of the
    snippet's above."""
    name = frame.f_code.co_filename
    if name != filename and not is_user_file(name, filename):
        return None
    while frame is not None and frame.f_code.co_filename != filename:
        frame = frame.f_back
    return frame


def is_user_file(name: str, snippet: str) -> bool:
    """Return True when the code of file ``name`` is the user's, not a library's, for the
    snippet compiled as ``snippet``: a file in the snippet's folder or below it (a ``<...>``
    snippet's folder is the current one, as ``python -c`` puts it first on sys.path) unless
    it is in a site-packages folder; else any file outside the standard library,
    site-packages, dist-packages, torch, gradstep and the projects of packages installed in
    editable mode that the snippet's folder is not in (the user's own repository installed
    with ``pip install -e .``, the script in its ``scripts/`` and the package in its
    ``src/``, is the user's code). A name that is no file (``<string>``, ``<frozen
    runpy>``) is not."""
    folder = os.path.dirname(snippet) if os.path.isabs(snippet) else os.getcwd()
    known = _user_file.get((name, folder))
    if known is None:
        known = _user_file[name, folder] = _users(name, folder)
    return known


def _users(name: str, folder: str) -> bool:
    if not os.path.isabs(name) or os.sep + "site-packages" + os.sep in name \
            or os.sep + "dist-packages" + os.sep in name:
        return False
    real = os.path.realpath(name)
    if real.startswith(_LIBRARY):
        return False
    home = os.path.join(os.path.realpath(folder), "")
    if real.startswith(home):
        return True  # the snippet's own modules, also inside an editable project
    # a project installed in editable mode is the user's own where the snippet is in it too
    # (``pip install -e .`` of the user's repository: the script in its ``scripts/``, the
    # package in its ``src/``), else a library's
    return all(home.startswith(project) for project in editable_projects()
               if real.startswith(project))


@functools.cache
def editable_projects() -> tuple[str, ...]:
    """Return the folders of the distributions installed in editable mode (``pip install
    -e``: ``direct_url.json`` says ``"editable": true``), each ending in a separator; read
    once per process (a package installed later is not seen)."""
    # here: only a frame outside every library folder needs them (urllib.request: ~25 ms)
    import importlib.metadata
    from urllib.parse import urlparse
    from urllib.request import url2pathname

    folders = []
    for dist in importlib.metadata.distributions():
        try:
            data = json.loads(dist.read_text("direct_url.json") or "{}")
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("dir_info"), dict):
            continue
        url = data.get("url")
        if data["dir_info"].get("editable") and isinstance(url, str) and url.startswith("file:"):
            path = url2pathname(urlparse(url).path)
            folders.append(os.path.join(os.path.realpath(path), ""))
    return tuple(folders)
