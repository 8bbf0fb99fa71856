"""Which files ``call_site`` takes for the user's own code (a helper module's backward call
is recorded at the snippet's line) and which for a library's (its calls run unrecorded)."""

import json
import os
import sys
import threading

import pytest
import torch

from gradstep.autograd import call_site


def test_library_files_are_not_the_users(tmp_path):
    """The standard library, torch, gradstep, and any file in a site-packages or
    dist-packages folder (another interpreter's, a user site, a venv inside the project)
    are a library's; a file of the project's beside the snippet or in a subfolder is the
    user's; a name that is no file (``<string>``, ``<frozen runpy>``) is not."""
    for module in (threading, json, torch, call_site):
        assert not call_site.is_user_file(os.path.abspath(module.__file__)), module
    for folder in ("site-packages", "dist-packages"):
        assert not call_site.is_user_file(str(tmp_path / ".venv" / folder / "transformers" / "trainer.py"))
    assert call_site.is_user_file(str(tmp_path / "mytrain.py"))
    assert call_site.is_user_file(str(tmp_path / "utils" / "train.py"))
    assert not call_site.is_user_file("<string>")
    assert not call_site.is_user_file("<frozen runpy>")


@pytest.mark.parametrize("where", ["repo/scripts", "experiments"])
def test_the_users_own_package_installed_in_editable_mode_is_the_users(tmp_path, monkeypatch,
                                                                        where):
    """The user's repository installed with ``pip install -e .`` (its files outside
    site-packages, its ``src/`` on sys.path), the script in its ``scripts/`` folder or in a
    folder of experiments outside it: a backward call in the package's helper is the
    snippet's, recorded at the snippet's line (taken for a library's, it ran unrecorded, and
    ``gradstep backward`` then failed on the freed graph where python ran without error).
    The oracle: torch's own pass on the same loss."""
    from gradstep.autograd.runner import run_snippet

    project = tmp_path / "repo"
    (project / "src" / "mine").mkdir(parents=True)
    (project / "src" / "mine" / "__init__.py").write_text("")
    (project / "src" / "mine" / "train.py").write_text(
        "def step(loss):\n    loss.backward()\n")
    (tmp_path / where).mkdir(parents=True, exist_ok=True)
    script = tmp_path / where / "run.py"
    source = ("import torch\nfrom mine.train import step\n"
              "x = torch.tensor([1.0, 2.0], requires_grad=True)\n"
              "loss = (x * x).sum()\nstep(loss)\n")
    script.write_text(source)
    monkeypatch.syspath_prepend(str(project / "src"))
    monkeypatch.delitem(sys.modules, "mine", raising=False)
    monkeypatch.delitem(sys.modules, "mine.train", raising=False)
    _installed_editable(tmp_path, monkeypatch, project)
    assert call_site.is_user_file(str(project / "src" / "mine" / "train.py"))
    result = run_snippet(source, filename=str(script))
    assert result.error is None, result.error
    (call,) = result.calls
    assert (call["line"], call["code"]) == (5, "step(loss)")
    x = torch.tensor([1.0, 2.0], requires_grad=True)
    (x * x).sum().backward()
    assert call["timeline"]["leaf_grads"] == {"x": x.grad.tolist()}


def _installed_editable(tmp_path, monkeypatch, project):
    """Make ``project`` the folder of a distribution installed with ``pip install -e``, as
    its ``direct_url.json`` says (``"editable": true``)."""
    import importlib.metadata

    info = tmp_path / "site" / "mine-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: mine\nVersion: 1.0\n")
    (info / "direct_url.json").write_text(json.dumps(
        {"url": project.as_uri(), "dir_info": {"editable": True}}))
    monkeypatch.setattr(importlib.metadata, "distributions",
                        lambda: [importlib.metadata.PathDistribution(info)])
    monkeypatch.setattr(call_site, "_user_file", {})
