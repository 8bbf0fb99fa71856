"""The files gradstep ships live in the `gradstep` package (so the wheel has them) and are
found through importlib.resources; finding them loads neither torch nor Qt."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import gradstep
from gradstep.examples import EXAMPLES, EXAMPLES_DIR
from gradstep.shipped import DESKTOP_ENTRY, ICON, resource

ROOT = Path(__file__).resolve().parents[1]


def test_the_examples_are_package_data_of_gradstep():
    package = Path(gradstep.__file__).parent
    assert EXAMPLES_DIR == package / "resources" / "examples"
    assert all(example.path.is_file() for example in EXAMPLES)


def test_finding_the_examples_imports_neither_torch_nor_qt():
    script = ("import sys\nfrom gradstep.examples import EXAMPLES, load_example\n"
              "load_example(EXAMPLES[0].id)\nfrom gradstep.shipped import resource\n"
              "resource('icons/gradstep.svg').read_bytes()\n"
              "print(sorted(m for m in ('torch', 'PySide6') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)
    assert done.stdout.strip() == "[]", done.stderr


def test_the_icon_is_an_svg_picture():
    svg = ET.fromstring(resource(ICON).read_bytes())
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.get("viewBox") == "0 0 128 128"


def test_the_desktop_entry_starts_the_window_with_the_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read_string(resource(DESKTOP_ENTRY).read_text(encoding="utf-8"))
    desktop = entry["Desktop Entry"]
    assert desktop["Exec"] == "gradstep-gui %f" and desktop["Icon"] == "gradstep"
    assert desktop["Type"] == "Application" and desktop["Terminal"] == "false"


def test_the_desktop_entry_is_valid():
    if shutil.which("desktop-file-validate") is None:
        pytest.skip("desktop-file-validate is not installed (apt install desktop-file-utils)")
    done = subprocess.run(["desktop-file-validate", str(resource(DESKTOP_ENTRY))],
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_gradstep_exposes_the_installed_version():
    from importlib.metadata import version

    assert gradstep.__version__ == version("gradstep")
