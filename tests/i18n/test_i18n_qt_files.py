"""The window's Qt translations: every .ts finished, placeholders and accelerators kept, the
shipped .qm built from the .ts as it is, and the .ts holding every tr() text of the source."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from gradstep import i18n
from gradstep.shipped import resource

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CODES = [code for code in i18n.LANGUAGES if code != i18n.ENGLISH]
CJK = re.compile(r"[\u4e00-\u9fff]")
SAME_EVERYWHERE = {"NaN/Inf", "Python (*.py)", "log10 |grad| / |weight|"}  # names, not words


def ts_path(code: str) -> Path:
    return ROOT / "gradstep" / "resources" / "translations" / f"gradstep_{code}.ts"


def messages(path: Path) -> list[tuple[str, str, ET.Element]]:
    """Return (context, source, translation element) for every message of a .ts file."""
    out = []
    for context in ET.parse(path).getroot().iter("context"):
        name = context.findtext("name") or ""
        for message in context.iter("message"):
            out.append((name, message.findtext("source"), message.find("translation")))
    return out


def placeholders(text: str) -> list[str]:
    return sorted(re.findall(r"\{[^{}]*\}|%n|%\d", text))


def accelerators(text: str) -> int:
    return len(re.findall(r"(?<!&)&(?!&)", text))


@pytest.mark.parametrize("code", CODES)
def test_every_window_text_is_translated_with_its_placeholders_and_accelerator(code):
    found = messages(ts_path(code))
    assert len(found) > 250
    for context, source, translation in found:
        assert translation.get("type") is None, (context, source, translation.get("type"))
        text = translation.text or ""
        assert text.strip(), (context, source)
        assert placeholders(text) == placeholders(source), (source, text)
        assert accelerators(text) == accelerators(source), (source, text)
        assert text.count("&&") == source.count("&&"), (source, text)
        if re.search(r"[A-Za-z]{4,}", re.sub(r"[\w.]*[_(.|/][\w.()|/]*|\{[^}]*\}", "", source)) \
                and code.startswith("zh") and source not in SAME_EVERYWHERE:
            assert CJK.search(text), (source, text)


@pytest.mark.parametrize("code", CODES)
def test_the_shipped_qm_is_built_from_the_ts_as_it_is(code, tmp_path):
    lrelease = BIN / "pyside6-lrelease"
    if not lrelease.exists():
        pytest.skip("pyside6-lrelease is not installed")
    fresh = tmp_path / "fresh.qm"
    subprocess.run([str(lrelease), "-silent", str(ts_path(code)), "-qm", str(fresh)], check=True)
    shipped = resource(f"translations/gradstep_{code}.qm")
    assert shipped.read_bytes() == fresh.read_bytes(), (
        "the .qm is older than its .ts: run .venv/bin/python scripts/i18n.py release")


@pytest.mark.slow
def test_the_ts_holds_every_tr_text_of_the_source(tmp_path):
    """pyside6-lupdate run on the source now finds nothing the committed .ts lacks."""
    lupdate = BIN / "pyside6-lupdate"
    if not lupdate.exists():
        pytest.skip("pyside6-lupdate is not installed")
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from i18n import qt_sources  # scripts/i18n.py
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    for code in CODES:
        copy = tmp_path / f"{code}.ts"
        shutil.copy(ts_path(code), copy)
        subprocess.run([str(lupdate), *qt_sources(), "-no-obsolete", "-locations", "none",
                        "-ts", str(copy)], cwd=ROOT, check=True, capture_output=True)
        fresh = {(c, s) for c, s, _t in messages(copy)}
        committed = {(c, s) for c, s, _t in messages(ts_path(code))}
        assert fresh == committed, (
            f"run .venv/bin/python scripts/i18n.py update and translate: new {fresh - committed}, "
            f"gone {committed - fresh}")


def test_the_translations_ship_as_package_data():
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert '"gradstep.resources.locale" = ["*.po"]' in pyproject
    assert '"gradstep.resources.translations" = ["*.qm"]' in pyproject
    for code in CODES:
        assert resource(f"locale/{code}.po").is_file()
        assert resource(f"translations/gradstep_{code}.qm").is_file()
