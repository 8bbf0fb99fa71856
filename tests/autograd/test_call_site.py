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
        assert not call_site.is_user_file(os.path.abspath(module.__file__),
                                         str(tmp_path / "s.py")), module
    for folder in ("site-packages", "dist-packages"):
        assert not call_site.is_user_file(str(tmp_path / ".venv" / folder / "transformers" / "trainer.py"),
                                         str(tmp_path / "s.py"))
    assert call_site.is_user_file(str(tmp_path / "mytrain.py"), str(tmp_path / "s.py"))
    assert call_site.is_user_file(str(tmp_path / "utils" / "train.py"), str(tmp_path / "s.py"))
    assert not call_site.is_user_file("<string>", str(tmp_path / "s.py"))
    assert not call_site.is_user_file("<frozen runpy>", str(tmp_path / "s.py"))


def test_a_package_installed_in_editable_mode_is_a_library(tmp_path, monkeypatch):
    """``pip install -e proj`` leaves proj's files where they are, outside site-packages:
    they were taken for the user's code (a backward call in them recorded as the snippet's,
    their frames shown). The project folder is read from the distribution's
    ``direct_url.json``; the snippet's own folder stays the user's, also inside a project."""
    import importlib.metadata

    project = tmp_path / "my project"
    info = tmp_path / "site" / "proj-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: proj\nVersion: 1.0\n")
    (info / "direct_url.json").write_text(json.dumps(
        {"url": project.as_uri(), "dir_info": {"editable": True}}))
    monkeypatch.setattr(importlib.metadata, "distributions",
                        lambda: [importlib.metadata.PathDistribution(info)])
    monkeypatch.setattr(call_site, "_user_file", {})
    call_site.editable_projects.cache_clear()
    try:
        assert call_site.editable_projects() == (os.path.join(str(project), ""),)
        module = str(project / "src" / "proj" / "train.py")
        assert not call_site.is_user_file(module, str(tmp_path / "work" / "s.py"))
        assert call_site.is_user_file(str(tmp_path / "work" / "helper.py"),
                                      str(tmp_path / "work" / "s.py"))
        # a script in the project's own folder: its modules beside it are the user's
        assert call_site.is_user_file(module, str(project / "src" / "proj" / "run.py"))
    finally:
        call_site.editable_projects.cache_clear()
