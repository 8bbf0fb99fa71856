"""docs/internals.md is a map of the code: every file and module it names exists."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gradstep"
MAP = ROOT / "docs" / "internals.md"


def _file_exists(name: str) -> bool:
    for candidate in (ROOT / name, PACKAGE / name, ROOT / "tests" / name):
        if candidate.exists():
            return True
    return "/" not in name and any(PACKAGE.rglob(name))


def _names_exist(dotted: str) -> bool:
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attr in parts[cut:]:
            if not hasattr(obj, attr):
                return False
            obj = getattr(obj, attr)
        return True
    return False


def test_every_file_the_map_names_exists():
    text = MAP.read_text(encoding="utf-8")
    files = set(re.findall(r"(?<![\w/<>])[\w/]+\.py\b", text))  # not qt_<thing>.py
    missing = sorted(name for name in files if not _file_exists(name))
    assert files and missing == []


def test_every_module_the_map_names_exists():
    text = MAP.read_text(encoding="utf-8")
    dotted = set(re.findall(r"\bgradstep(?:\.\w+)+", text))
    missing = sorted(name for name in dotted if not _names_exist(name))
    assert dotted and missing == []
