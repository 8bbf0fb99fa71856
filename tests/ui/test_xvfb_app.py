"""Start the real app on a real X server (Xvfb) with a seed example, run it, save a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6 import QtGui

from gradstep.examples import EXAMPLES_DIR

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.xvfb, pytest.mark.slow]


def _free_display() -> int:
    """Return a display number with no X server socket."""
    for n in range(97, 200):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            return n
    pytest.skip("no free X display number between :97 and :199")


@pytest.fixture
def xvfb():
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt install xvfb) — the real-display test needs it")
    n = _free_display()
    server = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while not Path(f"/tmp/.X11-unix/X{n}").exists():
        if server.poll() is not None or time.monotonic() > deadline:
            pytest.skip(f"Xvfb :{n} did not start")
        time.sleep(0.05)
    yield f":{n}"
    server.terminate()
    server.wait(10)


def test_real_app_runs_a_seed_and_paints(xvfb, tmp_path):
    shot = tmp_path / "app.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(DISPLAY=xvfb, GRADSTEP_SCREENSHOT=str(shot), GRADSTEP_STATE_DIR=str(tmp_path / "state"),
               PYTHONPATH=str(ROOT))
    example = EXAMPLES_DIR / "mse_backward.py"
    proc = subprocess.run([sys.executable, "-m", "gradstep", str(example), "--run"], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    image = QtGui.QImage(str(shot))
    assert not image.isNull(), "no screenshot was saved"
    assert (image.width(), image.height()) == (1280, 800)
    colours = {image.pixel(x, y) for x in range(0, 1280, 40) for y in range(0, 800, 40)}
    assert len(colours) > 5  # a painted window, not a blank frame
    keep = os.environ.get("GRADSTEP_KEEP_SCREENSHOTS")
    if keep:
        shutil.copy(shot, Path(keep) / "xvfb_app.png")
