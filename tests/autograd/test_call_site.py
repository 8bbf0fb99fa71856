"""Which files ``call_site`` takes for the user's own code (a helper module's backward call
is recorded at the snippet's line) and which for a library's (its calls run unrecorded)."""

import json
import os
import threading

import torch

from gradstep.autograd import call_site


def test_library_files_are_not_the_users(tmp_path):
    """The standard library, torch, gradstep, and any file in a site-packages or
    dist-packages folder (another interpreter's, a user site, a venv inside the project)
    are a library's; a file of the project's beside the snippet or in a subfolder is the
    user's; a name that is no file (``<string>``, ``<frozen runpy>``) is not."""
    for module in (threading, json, torch, call_site):
        assert not call_site._is_user_file(os.path.abspath(module.__file__)), module
    for folder in ("site-packages", "dist-packages"):
        assert not call_site._is_user_file(str(tmp_path / ".venv" / folder / "transformers" / "trainer.py"))
    assert call_site._is_user_file(str(tmp_path / "mytrain.py"))
    assert call_site._is_user_file(str(tmp_path / "utils" / "train.py"))
    assert not call_site._is_user_file("<string>")
    assert not call_site._is_user_file("<frozen runpy>")
