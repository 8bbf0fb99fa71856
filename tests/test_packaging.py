"""gradstep as users get it: build the sdist and the wheel (the wheel from the sdist, as
`python -m build` does), install the wheel into a fresh virtual environment, and use it
from a folder holding packages of its own named `app` and `graphviz_views` (a common
Flask/FastAPI layout) that must not shadow gradstep's.

The fresh environment gets gradstep from the wheel (a normal, not editable install,
resolved against constraints.txt); its dependencies (torch, PySide6, ...) are those of
the environment running the tests, reached through a `.pth` line instead of copied
again (1.5 GB and a minute or more). That path is added to `sys.path` without running
its own `.pth` files, so the test environment's editable gradstep stays out of sight.
Slow; run alone with `pytest tests/test_packaging.py -rP`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import time
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

from gradstep import installed_version
from tests.test_examples import EXPECTED_ERROR, EXPECTED_OUTPUT
from tests.test_examples import ROOT as EXAMPLE_ROOTS

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[1]
SHIPPED_FOR_TESTS = ("tests", "docs", "scripts", "bench", "gradstep/resources")
SHIPPED_FILES = ("constraints.txt", "LICENSE", "README.md", "pyproject.toml", ".ci/run")
SNIPPET = "x = torch.ones(1)\nw = torch.full([1], 2., requires_grad=True)\nmse = F.mse_loss(torch.ones(1), x*w)\n"
TIMINGS: dict[str, float] = {}


def _timed(name: str, command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a build or install step without the tests' PYTHONPATH, as ``_run`` does: a
    checkout on it (a worktree's tests run with PYTHONPATH=<worktree>) holds the
    ``gradstep.egg-info`` the build writes, which pip takes for gradstep 0.1.0 already
    installed, so it skips the wheel and the fresh environment has no gradstep."""
    start = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, env=_env(), **kwargs)
    TIMINGS[name] = time.monotonic() - start
    assert done.returncode == 0, f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    """Return the folder holding the sdist and the wheel built from it."""
    out = tmp_path_factory.mktemp("dist")
    _timed("build sdist + wheel", [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
           timeout=600)
    return out


@pytest.fixture(scope="module")
def installed(dist, tmp_path_factory):
    """Return the bin folder of a fresh virtual environment with the wheel installed."""
    venv = tmp_path_factory.mktemp("venv")
    _timed("create venv", [sys.executable, "-m", "venv", "--without-pip", str(venv)], timeout=300)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "test_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    wheel = next(dist.glob("gradstep-*.whl"))
    _timed("pip install wheel", [str(venv / "bin" / "python"), "-m", "pip", "install", "-q",
                                 "--disable-pip-version-check", "-c", str(ROOT / "constraints.txt"),
                                 str(wheel)], timeout=900)
    found = _run([venv / "bin" / "python", "-c", "import gradstep.autograd, gradstep; print(gradstep.__file__)"], venv)
    assert Path(found.stdout.strip()).is_relative_to(site), found  # the wheel's copy, not ours
    yield venv / "bin"
    print("timings (s):", {name: round(seconds, 1) for name, seconds in TIMINGS.items()})
    shutil.rmtree(venv, ignore_errors=True)


@pytest.fixture(scope="module")
def user_project(tmp_path_factory) -> Path:
    """Return a folder with the user's own `app` and `graphviz_views` packages (the names
    gradstep's own packages had once) and a snippet."""
    folder = tmp_path_factory.mktemp("user_project")
    for name in ("app", "graphviz_views"):
        (folder / name).mkdir()
        (folder / name / "__init__.py").write_text("raise ImportError('the user project was imported')\n")
    (folder / "snippet.py").write_text(SNIPPET)
    return folder


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "DISPLAY")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    return env


def _run(command: list, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], cwd=cwd, env=_env(), capture_output=True,
                          text=True, timeout=timeout)


def _tracked_files() -> set[str]:
    """Return the repository's files under SHIPPED_FOR_TESTS (git's list, else the folders')."""
    if (ROOT / ".git").exists() and shutil.which("git"):
        listed = subprocess.run(["git", "ls-files", *SHIPPED_FOR_TESTS], cwd=ROOT,
                                capture_output=True, text=True, check=True).stdout.split()
        return {name for name in listed if (ROOT / name).exists()}
    return {str(path.relative_to(ROOT)) for folder in SHIPPED_FOR_TESTS
            for path in (ROOT / folder).rglob("*")
            if path.is_file() and "__pycache__" not in path.parts}


def test_the_sdist_holds_what_the_tests_need(dist):
    sdist = next(dist.glob("gradstep-*.tar.gz"))
    with tarfile.open(sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    missing = (_tracked_files() | set(SHIPPED_FILES)) - names
    assert not missing, f"not in the sdist: {sorted(missing)}"


def test_the_wheel_carries_the_resources_license_and_launchers(dist):
    wheel = next(dist.glob("gradstep-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        info = f"gradstep-{installed_version()}.dist-info"
        metadata = archive.read(f"{info}/METADATA").decode()
        entry_points = archive.read(f"{info}/entry_points.txt").decode()
    for name in ("gradstep/resources/examples/mse_backward.py", "gradstep/resources/gradstep.desktop",
                 "gradstep/resources/icons/gradstep.svg", f"{info}/licenses/LICENSE",
                 "gradstep/resources/locale/zh_CN.po",
                 "gradstep/resources/translations/gradstep_zh_CN.qm",
                 "gradstep/__main__.py", "gradstep/kernel/launch.py"):
        assert name in names
    assert not any(name.startswith(("tests/", "bench/")) for name in names)
    assert "License-Expression: MIT" in metadata
    assert "Classifier: Operating System :: POSIX" in metadata
    assert "gradstep = gradstep.cli:main" in entry_points
    assert "[gui_scripts]\ngradstep-gui = gradstep.cli:gui_main" in entry_points


def test_the_installed_commands_work_from_a_folder_with_its_own_app_package(installed, user_project):
    version = f"gradstep {installed_version()}\n"
    done = _run([installed / "gradstep", "--version"], user_project)
    assert (done.returncode, done.stdout) == (0, version), done.stderr
    done = _run([installed / "python", "-m", "gradstep", "--version"], user_project)
    assert (done.returncode, done.stdout) == (0, version), done.stderr
    assert (installed / "gradstep-gui").exists()

    done = _run([installed / "gradstep", "trace", "snippet.py", "--json"], user_project)
    assert done.returncode == 0, done.stderr
    trace = json.loads(done.stdout)
    assert [node["name"] for node in trace["nodes"]] == ["MseLossBackward0", "MulBackward0",
                                                         "AccumulateGrad"]

    done = _run([installed / "gradstep", "export", "snippet.py", "-o", "x.svg"], user_project)
    assert done.returncode == 0, done.stderr
    svg = ET.parse(user_project / "x.svg").getroot()
    text = " ".join("".join(element.itertext()) for element in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert "MseLossBackward0" in text and "w" in text.split()

    # the catalogue ships in the wheel: a Chinese locale gets the explanation in Chinese
    env = {k: v for k, v in _env().items() if k not in ("LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    done = subprocess.run([str(installed / "gradstep"), "trace", "-c", "x = 1"], cwd=user_project,
                          env={**env, "LANG": "zh_CN.UTF-8"}, capture_output=True, text=True,
                          encoding="utf-8", timeout=180)
    assert done.returncode == 1 and "没有可画的计算图" in done.stderr, done.stderr


API_SCRIPT = SNIPPET.replace("x = torch", "import json, sys\nimport torch\nimport torch.nn.functional as F\n"
                              "import gradstep\nx = torch", 1) + """
graph = gradstep.trace(mse)
timeline = gradstep.backward(mse)
drawing = gradstep.draw(mse, timeline=timeline, step=1)
drawing.save("api.svg")
drawing.save("api.json")
print(json.dumps({"module": gradstep.__file__, "trace": gradstep.to_json(graph),
                  "steps": [s["name"] for s in timeline["steps"]], "w.grad": w.grad,
                  "qt loaded": "PySide6" in sys.modules}))
"""


def test_a_script_using_the_api_runs_from_a_folder_with_its_own_app_package(installed,
                                                                           user_project):
    (user_project / "use_api.py").write_text(API_SCRIPT)
    done = _run([installed / "python", "use_api.py"], user_project, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    got = json.loads(done.stdout.strip().splitlines()[-1])
    site = installed.parent.resolve()
    assert Path(got["module"]).resolve().is_relative_to(site)  # the wheel's gradstep
    assert got["steps"] == ["MseLossBackward0", "MulBackward0", "AccumulateGrad"]
    assert got["w.grad"] is None and got["qt loaded"] is False
    cli = _run([installed / "gradstep", "trace", "snippet.py", "--json"], user_project)
    assert cli.returncode == 0, cli.stderr
    want = json.loads(cli.stdout)
    api = got["trace"]
    assert [(n["id"], n["name"], n["label"]) for n in api["nodes"]] == \
        [(n["id"], n["name"], n["label"]) for n in want["nodes"]]
    assert api["edges"] == want["edges"]
    for a, c in zip(api["nodes"], want["nodes"]):
        if a["value"] is not None and c["value"] is not None:
            assert a["value"] == c["value"]
    svg = ET.parse(user_project / "api.svg").getroot()  # drawn by the render child
    assert "MseLossBackward0" in "".join(svg.itertext())
    states = {n["label"]: n["state"] for n in json.loads((user_project / "api.json").read_text())["nodes"]}
    assert states == {"mse": "done", "mul": "current", "w": "pending"}


def _installed_examples(installed: Path, cwd: Path) -> dict[str, str]:
    """Return {id: path} of the examples as the installed package finds them."""
    done = _run([installed / "python", "-c", "import json; from gradstep.examples import EXAMPLES; "
                 "print(json.dumps({e.id: str(e.path) for e in EXAMPLES}))"], cwd)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_every_example_is_found_and_runs_through_the_installed_package(installed, user_project,
                                                                     tmp_path):
    examples = _installed_examples(installed, tmp_path)  # not from the user's folder: -c puts it first
    assert set(examples) == set(EXPECTED_OUTPUT)
    site = installed.parent.resolve()
    for path in examples.values():
        assert Path(path).resolve().is_relative_to(site) and Path(path).is_file()

    # One installed-python process runs them all through one kernel (a gradstep command per
    # example costs a torch import each; `gradstep trace` itself is the test above).
    script = (
        "import json, sys\n"
        "from gradstep.kernel.client import Kernel\n"
        "examples, roots = json.loads(sys.argv[1]), json.loads(sys.argv[2])\n"
        "out = {}\n"
        "with Kernel() as kernel:\n"
        "    for example_id, path in examples.items():\n"
        "        source = open(path, encoding='utf-8').read()\n"
        "        r = kernel.run(source, filename=path, root=roots.get(example_id))\n"
        "        out[example_id] = {'ok': r['ok'], 'nodes': len((r['trace'] or {}).get('nodes', [])),\n"
        "                           'error': r['error'], 'output': r.get('output', '')}\n"
        "print(json.dumps(out))\n")
    done = _run([installed / "python", "-c", script, json.dumps(examples), json.dumps(EXAMPLE_ROOTS)],
                tmp_path, timeout=600)  # -c puts the current folder first: not the user's
    assert done.returncode == 0, done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    for example_id, got in results.items():
        printed = " ".join(got["output"].split())  # torch pads numbers with spaces
        for line in EXPECTED_OUTPUT[example_id]:
            assert " ".join(line.split()) in printed, (example_id, got["output"][-2000:])
        if example_id in EXPECTED_ERROR:
            line, message, kind = EXPECTED_ERROR[example_id]
            assert not got["ok"] and (got["error"]["line"], got["error"]["kind"]) == (line, kind)
            assert message in got["error"]["message"], example_id
        else:
            assert got["ok"] and got["nodes"], (example_id, got["error"])
