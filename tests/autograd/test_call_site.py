"""Which files ``call_site`` takes for the user's own code (a helper module's backward call
is recorded at the snippet's line) and which for a library's (its calls run unrecorded)."""

import json
import os
import sys
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
    project = tmp_path / "my project"
    _editable(tmp_path, monkeypatch, project)
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


def _editable(tmp_path, monkeypatch, project):
    """Make ``project`` the folder of a distribution installed with ``pip install -e``."""
    import importlib.metadata

    info = tmp_path / "site" / "mine-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mine\nVersion: 1.0\n")
    (info / "direct_url.json").write_text(json.dumps(
        {"url": project.as_uri(), "dir_info": {"editable": True}}))
    monkeypatch.setattr(importlib.metadata, "distributions",
                        lambda: [importlib.metadata.PathDistribution(info)])
    monkeypatch.setattr(call_site, "_user_file", {})
    call_site.editable_projects.cache_clear()


def test_the_users_own_repository_installed_in_editable_mode_is_the_users(tmp_path,
                                                                          monkeypatch):
    """The user's repository installed with ``pip install -e .``, the script in its
    ``scripts/`` folder and the package in its ``src/``: the package's files were taken for
    a library's (not below the script's folder, in an editable project), so a backward call
    in its helper ran unrecorded, and ``gradstep backward`` then failed on the freed graph
    where python ran without error. The oracle: torch's own pass on the same loss."""
    from gradstep.autograd.runner import run_snippet

    project = tmp_path / "repo"
    (project / "src" / "mine").mkdir(parents=True)
    (project / "scripts").mkdir()
    (project / "src" / "mine" / "__init__.py").write_text("")
    (project / "src" / "mine" / "train.py").write_text(
        "def step(loss):\n    loss.backward()\n")
    script = project / "scripts" / "run.py"
    source = ("import torch\nfrom mine.train import step\n"
              "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
              "loss = (x * x).sum()\nstep(loss)\n")
    script.write_text(source)
    monkeypatch.syspath_prepend(str(project / "src"))
    monkeypatch.delitem(sys.modules, "mine", raising=False)
    monkeypatch.delitem(sys.modules, "mine.train", raising=False)
    _editable(tmp_path, monkeypatch, project)
    try:
        module = str(project / "src" / "mine" / "train.py")
        assert call_site.is_user_file(module, str(script))
        assert not call_site.is_user_file(module, str(tmp_path / "elsewhere" / "s.py"))
        result = run_snippet(source, filename=str(script))
        assert result.error is None, result.error
        (call,) = result.calls
        assert (call["line"], call["code"]) == (5, "step(loss)")
        x = torch.tensor([1.0, 2.0], requires_grad=True)
        (x * x).sum().backward()
        assert call["timeline"]["leaf_grads"] == {"x": x.grad.tolist()}
    finally:
        call_site.editable_projects.cache_clear()
